/*
 * peer-cli.h: the command line and output contract the interop test peers share
 * (tests/README.md, "Peer programs"): srp-peer-nss.c and srp-peer-boringssl.c (also built
 * against OpenSSL 3.0's libssl as srp-peer-openssl) include it and keep only their library's
 * code (sockets, handshakes, error names, how alerts are observed).
 *
 *   PEER client --connect HOST:PORT [--user U --password P] [--cipher 0xC01D,...]
 *               [--min-group BITS] [--max-version 1.2|1.3] [--count N] [--resume]
 *               [--get PATH]
 *   PEER server --listen HOST:PORT --verifiers FILE [--cert PEM --key PEM]
 *               [--cipher ...] [--min-group BITS] [--max-version 1.2|1.3]
 *               [--fake-user-seed FILE] [--count N] [--cpu-log FILE]
 *
 * Here: parsing and checking that command line, the TLS alert and version names, the exact
 * output lines (`ok ...`, `error: NAME alert=...`, `listening HOST:PORT`, `accepted ...`,
 * `rejected alert=...`) and the HTTP/1.0 exchange (`GET PATH`, the body `srp-user: U`). A
 * usage error exits with status 2.
 *
 * Header-only, with static functions, rather than a peer-cli.c: each peer stays one gcc command
 * on one source file (the NSS peer is compiled and linked in one step, with -std=gnu99; the
 * BoringSSL and OpenSSL builds with -std=c11 and their own flags, sanitizers included), and the
 * quoted #include finds this file next to the source without -I, so the build only has to count
 * it among each peer's inputs; a peer-cli.o would have to be compiled once per flag set and
 * linked into every peer. Every function here is used by both peers, so none is unused
 * (-Wunused-function) in either.
 *
 * The including file defines PEER_NAME (the program name in messages) first. The code is
 * C99 with POSIX strtok_r and strdup (-std=gnu99, or c11 with _POSIX_C_SOURCE).
 */

#ifndef PEER_CLI_H
#define PEER_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PEER_NAME
#error "define PEER_NAME before including peer-cli.h"
#endif

#define PEER_MAX_CIPHERS 8

/* Without --cipher a client offers these, in this order; a server enables them too, or, where
 * the library enables SRP suites itself (the BoringSSL and OpenSSL servers), keeps its own list
 * (`ciphers_given` says which). */
static const uint16_t kPeerDefaultCiphers[] = {0xC01D, 0xC020, 0xC01E, 0xC021};

struct peer_options {
  const char *mode; /* "client" or "server" (checked) */
  const char *connect; /* client: HOST:PORT */
  const char *listen; /* server: HOST:PORT, port 0 picks a free one */
  const char *user; /* client: NULL offers SRP without credentials */
  const char *password; /* client: given with --user, and only then */
  const char *verifiers; /* server: an OpenSSL srpvfile or a GnuTLS tpasswd */
  const char *cert, *key; /* both or neither */
  const char *get; /* client: the path of a request after each handshake, or NULL */
  uint16_t ciphers[PEER_MAX_CIPHERS];
  unsigned cipher_count;
  int ciphers_given; /* whether --cipher was given (else ciphers are the defaults) */
  unsigned min_group; /* 0: the library's default floor */
  long count; /* handshakes (client) or connections (server), at least 1 */
  int count_given; /* without --count a server serves until it is killed */
  const char *cpu_log; /* server: append each connection's CPU time to this file, or NULL */
  /* 0x0303 (TLS 1.2, the default) or 0x0304. With 0x0304 a client offers what a browser with
   * TLS-SRP offers: TLS 1.3 and 1.2, the library's default cipher suites and the SRP ones (or
   * those of --cipher); a server also enables TLS 1.3, as one with a certificate would. */
  unsigned max_version;
  int resume; /* client: every handshake after the first offers the previous session */
  const char *fake_user_seed; /* server: file whose bytes seed the fake users, or NULL */
};

static void peer_usage(void) {
  /* The options line up under the first one whatever PEER_NAME's length. */
  int indent = (int)strlen("usage: " PEER_NAME " client ");
  fprintf(stderr,
          "usage: %s client --connect HOST:PORT --user U --password P\n"
          "%*s[--cipher 0xC01D,...] [--min-group BITS] [--max-version 1.2|1.3]\n"
          "%*s[--count N] [--resume] [--get PATH]\n"
          "       %s server --listen HOST:PORT --verifiers FILE [--cert PEM --key PEM]\n"
          "%*s[--cipher ...] [--min-group BITS] [--max-version 1.2|1.3]\n"
          "%*s[--fake-user-seed FILE] [--count N] [--cpu-log FILE]\n",
          PEER_NAME, indent, "", indent, "", PEER_NAME, indent, "", indent, "");
  exit(2);
}

/* "0xC01D,0xC020" (hexadecimal, 0x optional) -> o->ciphers; exits on a bad or extra value.
 * Whether the library knows a suite is the peer's business. */
static void peer_parse_ciphers(struct peer_options *o, const char *list) {
  char *copy = strdup(list);
  char *save = NULL;
  o->cipher_count = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    char *end;
    unsigned long v = strtoul(tok, &end, 16);
    if (*end != '\0' || v > 0xffff || o->cipher_count == PEER_MAX_CIPHERS) {
      fprintf(stderr, "%s: bad --cipher value %s\n", PEER_NAME, tok);
      exit(2);
    }
    o->ciphers[o->cipher_count++] = (uint16_t)v;
  }
  free(copy);
  o->ciphers_given = 1;
}

/* A decimal number in [min, max] for option `name`; exits with status 2 on anything else
 * (trailing garbage included). */
static long peer_parse_number(const char *name, const char *text, long min, long max) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "%s: bad %s value %s\n", PEER_NAME, name, text);
    exit(2);
  }
  return v;
}

/* Parses and checks the command line (every option but --resume takes a value); exits with the
 * usage on a mistake. */
static void peer_parse_args(int argc, char **argv, struct peer_options *o) {
  memset(o, 0, sizeof(*o));
  o->count = 1;
  if (argc < 2) {
    peer_usage();
  }
  o->mode = argv[1];
  o->max_version = 0x0303;
  for (int i = 2; i < argc; i += 2) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--resume")) {
      /* The one option without a value. */
      o->resume = 1;
      i--;
      continue;
    }
    if (v == NULL) {
      peer_usage();
    }
    if (!strcmp(a, "--connect")) {
      o->connect = v;
    } else if (!strcmp(a, "--listen")) {
      o->listen = v;
    } else if (!strcmp(a, "--user")) {
      o->user = v;
    } else if (!strcmp(a, "--password")) {
      o->password = v;
    } else if (!strcmp(a, "--verifiers")) {
      o->verifiers = v;
    } else if (!strcmp(a, "--get")) {
      o->get = v;
    } else if (!strcmp(a, "--cipher")) {
      peer_parse_ciphers(o, v);
    } else if (!strcmp(a, "--min-group")) {
      o->min_group = (unsigned)peer_parse_number(a, v, 1, 65536);
    } else if (!strcmp(a, "--max-version")) {
      if (!strcmp(v, "1.2")) {
        o->max_version = 0x0303;
      } else if (!strcmp(v, "1.3")) {
        o->max_version = 0x0304;
      } else {
        peer_usage();
      }
    } else if (!strcmp(a, "--fake-user-seed")) {
      o->fake_user_seed = v;
    } else if (!strcmp(a, "--count")) {
      o->count = peer_parse_number(a, v, 1, 1000000);
      o->count_given = 1;
    } else if (!strcmp(a, "--cpu-log")) {
      o->cpu_log = v;
    } else if (!strcmp(a, "--cert")) {
      o->cert = v;
    } else if (!strcmp(a, "--key")) {
      o->key = v;
    } else {
      peer_usage();
    }
  }
  if (o->count < 1 || !o->cert != !o->key) {
    peer_usage();
  }
  if (!strcmp(o->mode, "client")) {
    if (o->connect == NULL || !o->user != !o->password || o->cpu_log != NULL ||
        o->fake_user_seed != NULL) {
      peer_usage();
    }
  } else if (!strcmp(o->mode, "server")) {
    if (o->listen == NULL || o->verifiers == NULL || o->resume || o->get != NULL) {
      peer_usage();
    }
  } else {
    peer_usage();
  }
  if (!o->ciphers_given) {
    memcpy(o->ciphers, kPeerDefaultCiphers, sizeof(kPeerDefaultCiphers));
    o->cipher_count = sizeof(kPeerDefaultCiphers) / sizeof(kPeerDefaultCiphers[0]);
  }
}

/* The process's CPU time (user + system, all threads) in nanoseconds. */
static uint64_t peer_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
    perror("clock_gettime");
    exit(1);
  }
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether a server has connections left to serve after `served`. The server loop calls it
 * before each connection and once after the last, so with --cpu-log it also appends the CPU
 * time of the connection just served (accept, handshake, request, close; in nanoseconds, one
 * line each) to that file: `cargo xtask bench handshake` reads it. Start-up and the file's own
 * writes fall outside every connection's time. */
static int peer_serve_more(const struct peer_options *o, long served) {
  static uint64_t mark;
  if (o->cpu_log != NULL) {
    uint64_t now = peer_cpu_ns();
    if (served > 0) {
      FILE *f = fopen(o->cpu_log, "a");
      if (f == NULL || fprintf(f, "%llu\n", (unsigned long long)(now - mark)) < 0 ||
          fclose(f) != 0) {
        perror(o->cpu_log);
        exit(1);
      }
    }
    mark = peer_cpu_ns();
  }
  return !o->count_given || served < o->count;
}

/* Exits with status 2 on an address the peer cannot use. */
static void peer_bad_address(const char *text) {
  fprintf(stderr, "%s: bad address %s\n", PEER_NAME, text);
  exit(2);
}

/* "HOST:PORT" or "[V6HOST]:PORT" -> host (without brackets) and port; exits when the host does
 * not fit in `size` or there is no port. */
static void peer_split_addr(const char *text, char *host, size_t size, uint16_t *port) {
  const char *colon = strrchr(text, ':');
  size_t len;
  if (colon == NULL || (len = (size_t)(colon - text)) >= size) {
    peer_bad_address(text);
  }
  memcpy(host, text, len);
  host[len] = '\0';
  if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
    memmove(host, host + 1, len - 2);
    host[len - 2] = '\0';
  }
  *port = (uint16_t)atoi(colon + 1);
}

/* The last alert of a connection, as the peer's library reports them; -1 for none. */
struct peer_alerts {
  int received;
  int sent;
};

#define PEER_NO_ALERTS \
  { -1, -1 }

static const char *peer_alert_name(int desc) {
  switch (desc) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 115: return "unknown_psk_identity";
    default: return "unknown";
  }
}

/* The alert an output line names: the one received if any, else the one sent, else "none". */
static const char *peer_last_alert(const struct peer_alerts *a) {
  if (a->received >= 0) {
    return peer_alert_name(a->received);
  }
  if (a->sent >= 0) {
    return peer_alert_name(a->sent);
  }
  return "none";
}

/* A wire version (0x0301...) as the `ok` line names it. */
static const char *peer_version_name(unsigned version) {
  switch (version) {
    case 0x0301: return "TLS1.0";
    case 0x0302: return "TLS1.1";
    case 0x0303: return "TLS1.2";
    case 0x0304: return "TLS1.3";
    default: return "unknown";
  }
}

/* The output lines; each is flushed at once, as the runner reads them while the peer runs. */

/* `resumed`: -1 when the client was not asked to resume (the line ends with the user), else
 * whether this handshake resumed the previous session (` resumed=yes` or ` resumed=no`). On a
 * resumed handshake `group_bits` is the group of the full handshake that made the session. */
static void peer_print_ok(unsigned version, unsigned cipher, unsigned group_bits,
                          const char *user, int resumed) {
  printf("ok version=%s cipher=0x%04X group=%u user=%s%s\n", peer_version_name(version), cipher,
         group_bits, user, resumed < 0 ? "" : resumed ? " resumed=yes" : " resumed=no");
  fflush(stdout);
}

/* Reads the fake-user seed file named by --fake-user-seed into buf (the whole file: 16 to `size`
 * bytes); returns its length. Exits with status 2 when it cannot. */
static size_t peer_read_seed(const char *path, unsigned char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  n = fread(buf, 1, size, f);
  if (ferror(f) || n < 16 || fgetc(f) != EOF) {
    fprintf(stderr, "%s: %s: a fake-user seed file holds 16 to %zu bytes\n", PEER_NAME, path,
            size);
    exit(2);
  }
  fclose(f);
  return n;
}

/* `name`: the library's name for the error, NULL when it has none. */
static void peer_print_error(const char *name, const char *alert) {
  printf("error: %s alert=%s\n", name != NULL ? name : "UNKNOWN_ERROR", alert);
  fflush(stdout);
}

static void peer_print_listening(const char *host, unsigned port) {
  printf("listening %s:%u\n", host, port);
  fflush(stdout);
}

static void peer_print_accepted(const char *user, unsigned cipher) {
  printf("accepted user=%s cipher=0x%04X\n", user, cipher);
  fflush(stdout);
}

static void peer_print_rejected(const char *alert) {
  printf("rejected alert=%s\n", alert);
  fflush(stdout);
}

/* The client's request for `path` into buf; returns its length. */
static int peer_http_request(char *buf, size_t size, const char *path) {
  int n = snprintf(buf, size, "GET %s HTTP/1.0\r\n\r\n", path);
  return n < 0 ? 0 : (size_t)n < size ? n : (int)size - 1;
}

/* The server's answer to a request from `user` into buf; returns its length. */
static int peer_http_response(char *buf, size_t size, const char *user) {
  int body = snprintf(NULL, 0, "srp-user: %s\n", user);
  int n = snprintf(buf, size,
                   "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                   "srp-user: %s\n",
                   body, user);
  return n < 0 ? 0 : (size_t)n < size ? n : (int)size - 1;
}

/* Prints the body of the (NUL-terminated) response the client read: what follows the blank line,
 * or all of it without one. */
static void peer_print_body(const char *response) {
  const char *body = strstr(response, "\r\n\r\n");
  fputs(body != NULL ? body + 4 : response, stdout);
  fflush(stdout);
}

#endif /* PEER_CLI_H */
