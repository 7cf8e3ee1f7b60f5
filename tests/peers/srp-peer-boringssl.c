/*
 * srp-peer-boringssl: a TLS-SRP client and server on the patched BoringSSL's public API, for
 * the interop tests. Same command line and output as srp-peer-nss (issue 3, "A peer program for
 * tests"):
 *
 *   srp-peer-boringssl client --connect HOST:PORT --user U --password P [--cipher 0xC01D,...]
 *                             [--min-group BITS] [--max-version 1.2|1.3] [--count N]
 *                             [--resume] [--get PATH]
 *     one line per handshake: `ok version=TLS1.2 cipher=0xC01D group=2048 user=U` (with
 *     --resume, ` resumed=yes|no` after it: every handshake after the first offers the previous
 *     session); with --get, sends `GET PATH HTTP/1.0` and prints the response body. On failure:
 *     exit 1 after `error: <library error name> alert=<TLS alert name or none>`. With
 *     --max-version 1.3 the client offers what a browser would: TLS 1.3 and 1.2, the library's
 *     default cipher suites and the SRP ones (or those of --cipher).
 *
 *   srp-peer-boringssl server --listen HOST:PORT --verifiers FILE [--cert PEM --key PEM]
 *                             [--cipher ...] [--min-group BITS] [--max-version 1.2|1.3]
 *                             [--fake-user-seed FILE] [--count N] [--cpu-log FILE]
 *     FILE is an OpenSSL srpvfile or a GnuTLS tpasswd file (its tpasswd.conf is FILE.conf; the
 *     OpenSSL build also tries tpasswd.conf next to it). The BoringSSL server hands the file to
 *     the library (SSL_CTX_set_srp_verifier_file), whose fake users follow the file's groups and
 *     salt lengths, derived from the --fake-user-seed file's bytes (16 to 256; a random seed
 *     without it). Prints `listening HOST:PORT` when ready (port 0 picks one), then per
 *     connection `accepted user=U cipher=0x....` or `rejected alert=...`; answers a request
 *     with `HTTP/1.0 200 OK` and the body `srp-user: U`. Exits after N connections with --count.
 *
 * --cert/--key give the server an RSA certificate, which enables the SRP-SHA-RSA suites (0xC01E,
 * 0xC021). Clients do not verify it (no CA, no name check): SRP itself authenticates the server,
 * as only a server that holds the user's verifier can complete the handshake.
 *
 * --min-group is the smallest SRP group accepted: a client rejects a smaller server group
 * (`error: SRP_GROUP_TOO_SMALL alert=insufficient_security`), a server refuses to use a smaller
 * verifier and sends insufficient_security. The BoringSSL default is 2048 on both sides.
 *
 * Only loopback addresses are used by the tests; every loop is bounded by --count.
 *
 * The same source also builds against OpenSSL 3.0's libssl (without OPENSSL_IS_BORINGSSL) as
 * srp-peer-openssl, the OpenSSL side of the interop tests, on libssl's own SRP API (Debian's
 * `openssl s_server -srpvfile` crashes), with the verifier file read here and a username
 * callback. OpenSSL has no fake users (--fake-user-seed: exit 2) and cannot offer SRP without
 * a username; its error names are OpenSSL's reason strings. OpenSSL's client floor defaults to
 * 1024 bits, and its server has none: the peer applies --min-group in its username callback.
 *
 * The command line, the output lines and the alert names are shared with srp-peer-nss
 * (peer-cli.h); this file holds what is BoringSSL's and OpenSSL's.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#if !defined(OPENSSL_IS_BORINGSSL)
#include <openssl/srp.h>
#endif

#if defined(OPENSSL_IS_BORINGSSL)
#define PEER_NAME "srp-peer-boringssl"
#else
#define PEER_NAME "srp-peer-openssl"
#endif
#include "peer-cli.h"

#if !defined(OPENSSL_IS_BORINGSSL)
#define MAX_USERS 4096

struct user {
  char *name;
  BIGNUM *n, *g, *salt, *verifier;
};

static struct user users[MAX_USERS];
static size_t num_users;
#endif

#if !defined(OPENSSL_IS_BORINGSSL)
/* The server's --min-group; the OpenSSL build checks it in the username callback. */
static unsigned server_min_group;
#endif
/* The fatal alerts of the current connection (the info callback has no argument to carry
 * them). */
static struct peer_alerts connection_alerts = PEER_NO_ALERTS;

static void info_callback(const SSL *ssl, int where, int ret) {
  (void)ssl;
  if ((where & SSL_CB_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
    if (where & SSL_CB_READ) {
      connection_alerts.received = ret & 0xff;
    } else {
      connection_alerts.sent = ret & 0xff;
    }
  }
}

/* The first error on the queue: the SRP-specific one when there is one (NULL for none). */
static const char *error_name(void) {
  uint32_t err = ERR_peek_error();
  return err == 0 ? NULL : ERR_reason_error_string(err);
}

/* A HOST:PORT argument as an IPv4 address (the tests use 127.0.0.1). */
static void parse_addr(const char *text, struct sockaddr_in *out) {
  char host[256];
  uint16_t port;
  peer_split_addr(text, host, sizeof(host), &port);
  memset(out, 0, sizeof(*out));
  out->sin_family = AF_INET;
  out->sin_port = htons(port);
  if (inet_pton(AF_INET, host, &out->sin_addr) != 1) {
    peer_bad_address(text);
  }
}

/* The suites of --cipher (or the defaults) by the names both libraries know: 0xC01D,0xC020 ->
 * "SRP-AES-128-CBC-SHA:SRP-AES-256-CBC-SHA". */
static int set_ciphers(SSL_CTX *ctx, const struct peer_options *o) {
  static const struct {
    unsigned id;
    const char *name;
  } kSuites[] = {
      {0xC01D, "SRP-AES-128-CBC-SHA"},
      {0xC01E, "SRP-RSA-AES-128-CBC-SHA"},
      {0xC020, "SRP-AES-256-CBC-SHA"},
      {0xC021, "SRP-RSA-AES-256-CBC-SHA"},
  };
  char rule[1024] = "";
  for (unsigned c = 0; c < o->cipher_count; c++) {
    size_t i;
    for (i = 0; i < sizeof(kSuites) / sizeof(kSuites[0]) && kSuites[i].id != o->ciphers[c]; i++) {
    }
    if (i == sizeof(kSuites) / sizeof(kSuites[0])) {
      fprintf(stderr, "not a TLS-SRP cipher suite: 0x%04X\n", o->ciphers[c]);
      return 0;
    }
    if (rule[0] != '\0') {
      strncat(rule, ":", sizeof(rule) - strlen(rule) - 1);
    }
    strncat(rule, kSuites[i].name, sizeof(rule) - strlen(rule) - 1);
  }
#if defined(OPENSSL_IS_BORINGSSL)
  if (!SSL_CTX_set_strict_cipher_list(ctx, rule)) {
#else
  if (!SSL_CTX_set_cipher_list(ctx, rule)) {
#endif
    fprintf(stderr, "invalid --cipher %s\n", rule);
    return 0;
  }
  return 1;
}

#if !defined(OPENSSL_IS_BORINGSSL)
/* Verifier files: numbers in the base64 alphabet 0-9A-Za-z./, read as big-endian base-64
 * integers (so OpenSSL's byte padding and GnuTLS's stripped zero digits read the same). */
static BIGNUM *from_b64(const char *s, size_t len) {
  static const char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz./";
  BIGNUM *bn = BN_new();
  if (bn == NULL || len == 0) {
    BN_free(bn);
    return NULL;
  }
  BN_zero(bn);
  for (size_t i = 0; i < len; i++) {
    const char *p = memchr(kAlphabet, s[i], 64);
    if (p == NULL || !BN_lshift(bn, bn, 6) || !BN_add_word(bn, (BN_ULONG)(p - kAlphabet))) {
      BN_free(bn);
      return NULL;
    }
  }
  return bn;
}

static int group_by_bits(unsigned bits, BIGNUM **n, BIGNUM **g);

static char *split(char **line, char sep) {
  char *start = *line, *end;
  if (start == NULL) {
    return NULL;
  }
  end = strchr(start, sep);
  if (end != NULL) {
    *end = '\0';
    *line = end + 1;
  } else {
    *line = NULL;
  }
  return start;
}

struct conf_entry {
  char index[32];
  BIGNUM *n, *g;
};

/* Frees what a half-read entry holds, so the slot can take the next one. */
static void clear_user(struct user *u) {
  BN_free(u->n);
  BN_free(u->g);
  BN_free(u->salt);
  BN_free(u->verifier);
  memset(u, 0, sizeof(*u));
}

static void free_conf(struct conf_entry *conf, size_t num_conf) {
  for (size_t i = 0; i < num_conf; i++) {
    BN_free(conf[i].n);
    BN_free(conf[i].g);
  }
}

static int load_verifiers(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return 0;
  }
  char line[8192];
  struct conf_entry conf[16];
  size_t num_conf = 0;
  int gnutls_conf_loaded = 0;
  while (fgets(line, sizeof(line), f) != NULL && num_users < MAX_USERS) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#') {
      continue;
    }
    struct user *u = &users[num_users];
    if (strchr(line, '\t') != NULL) {
      /* OpenSSL: V <verifier> <salt> <user> <gN id> <info> (I lines define groups). */
      char *rest = line;
      char *type = split(&rest, '\t');
      if (strcmp(type, "V") != 0) {
        continue; /* I lines (custom groups) and revoked (R) users are not supported. */
      }
      char *v = split(&rest, '\t'), *s = split(&rest, '\t'), *name = split(&rest, '\t');
      char *gid = split(&rest, '\t');
      if (v == NULL || s == NULL || name == NULL || gid == NULL) {
        continue;
      }
      u->verifier = from_b64(v, strlen(v));
      u->salt = from_b64(s, strlen(s));
      if (!group_by_bits((unsigned)atoi(gid), &u->n, &u->g) || u->verifier == NULL ||
          u->salt == NULL) {
        fprintf(stderr, "%s: cannot read the entry of %s\n", path, name);
        clear_user(u);
        continue;
      }
      u->name = strdup(name);
      num_users++;
    } else {
      /* GnuTLS tpasswd: user:verifier:salt:index, groups in tpasswd.conf (index:N:g). */
      if (!gnutls_conf_loaded) {
        char conf_path[4096];
        snprintf(conf_path, sizeof(conf_path), "%s.conf", path);
        FILE *cf = fopen(conf_path, "r");
        if (cf == NULL) {
          const char *slash = strrchr(path, '/');
          int dir_len = slash == NULL ? 0 : (int)(slash - path + 1);
          snprintf(conf_path, sizeof(conf_path), "%.*stpasswd.conf", dir_len, path);
          cf = fopen(conf_path, "r");
        }
        if (cf == NULL) {
          fprintf(stderr, "%s: no tpasswd.conf (tried %s.conf and tpasswd.conf next to it)\n",
                  path, path);
          fclose(f);
          return 0;
        }
        char cline[8192];
        while (fgets(cline, sizeof(cline), cf) != NULL && num_conf < 16) {
          cline[strcspn(cline, "\r\n")] = '\0';
          char *rest = cline;
          char *index = split(&rest, ':'), *n = split(&rest, ':'), *g = split(&rest, ':');
          if (index == NULL || n == NULL || g == NULL) {
            continue;
          }
          snprintf(conf[num_conf].index, sizeof(conf[num_conf].index), "%.31s", index);
          conf[num_conf].n = from_b64(n, strlen(n));
          conf[num_conf].g = from_b64(g, strlen(g));
          num_conf++;
        }
        fclose(cf);
        gnutls_conf_loaded = 1;
      }
      char *rest = line;
      char *name = split(&rest, ':'), *v = split(&rest, ':'), *s = split(&rest, ':');
      char *index = split(&rest, ':');
      if (name == NULL || v == NULL || s == NULL || index == NULL) {
        continue;
      }
      size_t i;
      for (i = 0; i < num_conf && strcmp(conf[i].index, index) != 0; i++) {
      }
      if (i == num_conf) {
        fprintf(stderr, "%s: no group %s for %s\n", path, index, name);
        continue;
      }
      u->verifier = from_b64(v, strlen(v));
      u->salt = from_b64(s, strlen(s));
      u->n = BN_dup(conf[i].n);
      u->g = BN_dup(conf[i].g);
      if (u->verifier == NULL || u->salt == NULL || u->n == NULL || u->g == NULL) {
        clear_user(u);
        continue;
      }
      u->name = strdup(name);
      num_users++;
    }
  }
  fclose(f);
  free_conf(conf, num_conf);
  if (num_users == 0) {
    fprintf(stderr, "%s: no verifiers\n", path);
    return 0;
  }
  return 1;
}

/* N and g of the RFC 5054 group of `bits` bits. */
static int group_by_bits(unsigned bits, BIGNUM **n, BIGNUM **g) {
  char id[16];
  snprintf(id, sizeof(id), "%u", bits);
  SRP_gN *gn = SRP_get_default_gN(id);
  if (gn == NULL || BN_num_bits(gn->N) != (int)bits) {
    return 0;
  }
  *n = BN_dup(gn->N);
  *g = BN_dup(gn->g);
  return *n != NULL && *g != NULL;
}
#endif

/* The size of the SRP group of the connection. */
static unsigned connection_group_bits(SSL *ssl) {
#if defined(OPENSSL_IS_BORINGSSL)
  return SSL_get_srp_group_bits(ssl);
#else
  BIGNUM *n = SSL_get_srp_N(ssl);
  return n == NULL ? 0 : (unsigned)BN_num_bits(n);
#endif
}

#if !defined(OPENSSL_IS_BORINGSSL)
/* The OpenSSL server's verifier source. */
static int username_callback(SSL *ssl, int *out_alert, void *arg) {
  (void)arg;
  const char *name = SSL_get_srp_username(ssl);
  for (size_t i = 0; name != NULL && i < num_users; i++) {
    if (strcmp(users[i].name, name) == 0) {
      if ((unsigned)BN_num_bits(users[i].n) < server_min_group) {
        *out_alert = SSL_AD_INSUFFICIENT_SECURITY;
        return SSL3_AL_FATAL;
      }
      if (SSL_set_srp_server_param(ssl, users[i].n, users[i].g, users[i].salt,
                                   users[i].verifier, NULL) < 0) {
        *out_alert = SSL_AD_INTERNAL_ERROR;
        return SSL3_AL_FATAL;
      }
      return 0;
    }
  }
  /* Unknown user: OpenSSL sends unknown_psk_identity. */
  *out_alert = SSL_AD_UNKNOWN_PSK_IDENTITY;
  return SSL3_AL_FATAL;
}
#endif

static int run_server(const struct peer_options *o) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_max_proto_version(ctx, (uint16_t)o->max_version);
  SSL_CTX_set_info_callback(ctx, info_callback);
#if defined(OPENSSL_IS_BORINGSSL)
  if (o->fake_user_seed != NULL) {
    unsigned char seed[256];
    size_t seed_len = peer_read_seed(o->fake_user_seed, seed, sizeof(seed));
    if (!SSL_CTX_set_srp_fake_user_seed(ctx, seed, seed_len)) {
      fprintf(stderr, "%s: invalid --fake-user-seed\n", PEER_NAME);
      return 2;
    }
  }
  /* The library reads the file, and its fake users follow the file's groups and salts. */
  if (!SSL_CTX_set_srp_verifier_file(ctx, o->verifiers)) {
    uint32_t err = ERR_peek_error();
    const char *data = NULL;
    int flags = 0;
    ERR_peek_error_line_data(NULL, NULL, &data, &flags);
    fprintf(stderr, "%s: %s: %s\n", PEER_NAME, ERR_reason_error_string(err),
            data != NULL && (flags & ERR_FLAG_STRING) ? data : o->verifiers);
    return 1;
  }
#else
  if (o->fake_user_seed != NULL) {
    unsigned char seed[256];
    (void)peer_read_seed(o->fake_user_seed, seed, sizeof(seed));
    fprintf(stderr, "%s: OpenSSL has no fake users (--fake-user-seed)\n", PEER_NAME);
    return 2;
  }
  if (!load_verifiers(o->verifiers)) {
    return 1;
  }
  SSL_CTX_set_srp_username_callback(ctx, username_callback);
  server_min_group = o->min_group;
#endif
  if (o->min_group > 0 && !SSL_CTX_set_srp_strength(ctx, (int)o->min_group)) {
    fprintf(stderr, "invalid --min-group\n");
    return 2;
  }
  /* Without --cipher the server keeps the library's default list. */
  if (o->ciphers_given && !set_ciphers(ctx, o)) {
    return 1;
  }
  if (o->cert != NULL && (!SSL_CTX_use_certificate_chain_file(ctx, o->cert) ||
                          !SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM))) {
    fprintf(stderr, "cannot load %s / %s\n", o->cert, o->key);
    return 1;
  }
  struct sockaddr_in addr;
  parse_addr(o->listen, &addr);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 64) != 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof(addr);
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
  peer_print_listening(host, ntohs(addr.sin_port));

  for (long served = 0; peer_serve_more(o, served); served++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      perror("accept");
      return 1;
    }
    connection_alerts.received = connection_alerts.sent = -1;
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      peer_print_rejected(peer_last_alert(&connection_alerts));
    } else {
      const char *user = SSL_get_srp_username(ssl);
      peer_print_accepted(user != NULL ? user : "(none)",
                          SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl)));
      /* Answer one request, if the client sends one. */
      char request[4096];
      int n = SSL_read(ssl, request, sizeof(request) - 1);
      if (n > 0) {
        char response[1024];
        int response_len =
            peer_http_response(response, sizeof(response), user != NULL ? user : "");
        SSL_write(ssl, response, response_len);
      }
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
  }
  SSL_CTX_free(ctx);
  return 0;
}

static int run_client(const struct peer_options *o) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_max_proto_version(ctx, (uint16_t)o->max_version);
  SSL_CTX_set_info_callback(ctx, info_callback);
  /* A server certificate (SRP-SHA-RSA suites) is not verified: SRP authenticates the server. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  if (o->user != NULL) {
    if (!SSL_CTX_set_srp_username(ctx, (char *)o->user) ||
        !SSL_CTX_set_srp_password(ctx, (char *)o->password)) {
      peer_print_error(error_name(), "none");
      return 1;
    }
  } else {
#if defined(OPENSSL_IS_BORINGSSL)
    SSL_CTX_set_srp_offer_without_credentials(ctx, 1);
#else
    fprintf(stderr, "OpenSSL cannot offer SRP without a username\n");
    return 2;
#endif
  }
  if (o->min_group > 0 && !SSL_CTX_set_srp_strength(ctx, (int)o->min_group)) {
    fprintf(stderr, "invalid --min-group\n");
    return 2;
  }
  if (o->max_version >= 0x0304 && !o->ciphers_given) {
    /* What a browser with TLS-SRP offers: the library's default suites and the SRP ones
     * (BoringSSL's default list has them; OpenSSL's leaves them out). */
#if !defined(OPENSSL_IS_BORINGSSL)
    if (!SSL_CTX_set_cipher_list(ctx, "DEFAULT:SRP")) {
      return 2;
    }
#endif
  } else if (!set_ciphers(ctx, o)) {
    /* The SRP suites only (without --cipher, all four), as the other peers do. */
    return 2;
  }
  struct sockaddr_in addr;
  parse_addr(o->connect, &addr);
  /* With --resume, the session of the previous handshake, and the group of the full handshake
   * that made it. */
  SSL_SESSION *session = NULL;
  unsigned session_group_bits = 0;
  for (long i = 0; i < o->count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
      peer_print_error("CONNECT_FAILED", "none");
      return 1;
    }
    connection_alerts.received = connection_alerts.sent = -1;
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (session != NULL) {
      SSL_set_session(ssl, session);
    }
    if (SSL_connect(ssl) != 1) {
      peer_print_error(error_name(), peer_last_alert(&connection_alerts));
      return 1;
    }
    const char *srp_user = SSL_get_srp_username(ssl);
    int resumed = -1;
    unsigned group_bits = connection_group_bits(ssl);
    if (o->resume) {
      resumed = SSL_session_reused(ssl) ? 1 : 0;
      if (resumed) {
        group_bits = session_group_bits;
      } else {
        session_group_bits = group_bits;
      }
    }
    peer_print_ok((unsigned)SSL_version(ssl),
                  SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl)), group_bits,
                  srp_user != NULL ? srp_user : "(none)", resumed);
    if (o->get != NULL) {
      char request[1024];
      int n = peer_http_request(request, sizeof(request), o->get);
      SSL_write(ssl, request, n);
      char response[8192];
      size_t total = 0;
      while (total < sizeof(response) - 1) {
        int r = SSL_read(ssl, response + total, (int)(sizeof(response) - 1 - total));
        if (r <= 0) {
          break;
        }
        total += (size_t)r;
      }
      response[total] = '\0';
      peer_print_body(response);
    }
    if (o->resume) {
      SSL_SESSION_free(session);
      session = SSL_get1_session(ssl);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
  }
  SSL_SESSION_free(session);
  SSL_CTX_free(ctx);
  return 0;
}

int main(int argc, char **argv) {
  struct peer_options o;
  /* Exits with the usage on a mistake, and accepts only these two modes. */
  peer_parse_args(argc, argv, &o);
  return strcmp(o.mode, "client") == 0 ? run_client(&o) : run_server(&o);
}
