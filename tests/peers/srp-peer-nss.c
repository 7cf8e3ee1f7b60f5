/*
 * srp-peer-nss: a TLS-SRP client and server on the patched NSS's public API, for the interop
 * tests (contract: issue 3, "A peer program for tests").
 *
 *   srp-peer-nss client --connect 127.0.0.1:PORT --user U --password P [--cipher 0xC01D,...]
 *                       [--min-group BITS] [--max-version 1.2|1.3] [--count N] [--resume]
 *                       [--get PATH]
 *   srp-peer-nss server --listen 127.0.0.1:PORT --verifiers FILE [--cert PEM --key PEM]
 *                       [--cipher ...] [--min-group BITS] [--max-version 1.2|1.3]
 *                       [--fake-user-seed FILE] [--count N] [--cpu-log FILE]
 *
 * Client: one line per successful handshake,
 *   ok version=TLS1.2 cipher=0xC01D group=2048 user=U
 * then, with --get, the response body. On failure: exit 1 and
 *   error: <NSS error name> alert=<TLS alert name or none>
 * Server: `listening 127.0.0.1:PORT` once ready, then per connection
 *   accepted user=U cipher=0x...   or   rejected alert=...
 * answering each request with `HTTP/1.0 200 OK` and body `srp-user: U`.
 *
 * Without --user the client offers SRP without credentials (the browser's first attempt; a
 * server that wants a username makes it fail with SSL_ERROR_SRP_CREDENTIALS_REQUIRED).
 *
 * --cert/--key: a PEM certificate and its PEM PKCS#8 RSA key (`openssl req -x509 -newkey
 * rsa:2048 -nodes ...`), loaded without a database; they enable the SRP-RSA suites (0xC01E,
 * 0xC021) on the server. The client accepts any server certificate without CA verification:
 * this is a test peer, and SRP authenticates both sides by the password.
 *
 * The command line, the output lines and the alert names are shared with srp-peer-boringssl
 * (peer-cli.h); this file holds what is NSS's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "nspr.h"
#include "nss.h"
#include "nssb64.h"
#include "pk11pub.h"
#include "ssl.h"
#include "sslerr.h"
#include "sslexp.h"
#include "sslproto.h"

#define PEER_NAME "srp-peer-nss"
#include "peer-cli.h"

#ifdef __SANITIZE_ADDRESS__
/* The sanitized build (xtask nss::sanitized_peer): NSS poisons freed arena memory for ASan, but
 * Debian's NSPR, which clears those arenas (PL_ClearArenaPool), is not instrumented, so its
 * memset of poisoned memory would be reported. Ignore NSS's manual poisoning only. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "allow_user_poisoning=0";
}
#endif

static void
on_alert_received(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    if (alert->level == 2 /* fatal */ || alert->description != 0) {
        ((struct peer_alerts *)arg)->received = alert->description;
    }
}

static void
on_alert_sent(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    if (alert->level == 2 /* fatal */ || alert->description != 0) {
        ((struct peer_alerts *)arg)->sent = alert->description;
    }
}

/* A HOST:PORT argument as an NSPR address. */
static void
parse_addr(const char *text, PRNetAddr *addr)
{
    char host[256];
    PRUint16 port;
    peer_split_addr(text, host, sizeof(host), &port);
    if (PR_StringToNetAddr(host, addr) != PR_SUCCESS) {
        peer_bad_address(text);
    }
    if (addr->raw.family == PR_AF_INET6) {
        addr->ipv6.port = PR_htons(port);
    } else {
        addr->inet.port = PR_htons(port);
    }
}

/* Common SSL socket setup. --max-version 1.2 (the default): TLS 1.0-1.2 and only the chosen
 * SRP suites. --max-version 1.3: what a browser with TLS-SRP offers, TLS 1.2 and 1.3 (a server:
 * 1.0 to 1.3) with NSS's default suites plus the chosen SRP ones. A client caches sessions (and
 * takes session tickets) only with --resume, otherwise every connection does a full SRP
 * handshake. A server always issues session tickets; NSS resumes SRP sessions from tickets only,
 * and only on the SRP-RSA suites (it wraps a ticket's master secret with the certificate's key),
 * so on 0xC01D/0xC020 every connection to it is a full handshake. */
static PRFileDesc *
setup_ssl(PRFileDesc *tcp, const struct peer_options *o, PRBool server,
          struct peer_alerts *alerts)
{
    PRBool tls13 = o->max_version >= 0x0304;
    SSLVersionRange range = { server || !tls13 ? SSL_LIBRARY_VERSION_TLS_1_0
                                               : SSL_LIBRARY_VERSION_TLS_1_2,
                              tls13 ? SSL_LIBRARY_VERSION_TLS_1_3
                                    : SSL_LIBRARY_VERSION_TLS_1_2 };
    PRFileDesc *ssl = SSL_ImportFD(NULL, tcp);
    unsigned int i;
    if (!ssl) {
        return NULL;
    }
    if (SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) != SECSuccess ||
        SSL_OptionSet(ssl, SSL_NO_CACHE, !server && !o->resume) != SECSuccess ||
        ((server || o->resume) &&
         SSL_OptionSet(ssl, SSL_ENABLE_SESSION_TICKETS, PR_TRUE) != SECSuccess) ||
        SSL_OptionSet(ssl, server ? SSL_HANDSHAKE_AS_SERVER : SSL_HANDSHAKE_AS_CLIENT,
                      PR_TRUE) != SECSuccess ||
        SSL_VersionRangeSet(ssl, &range) != SECSuccess) {
        return NULL;
    }
    for (i = 0; !tls13 && i < SSL_NumImplementedCiphers; i++) {
        SSL_CipherPrefSet(ssl, SSL_ImplementedCiphers[i], PR_FALSE);
    }
    for (i = 0; i < o->cipher_count; i++) {
        if (SSL_CipherPrefSet(ssl, o->ciphers[i], PR_TRUE) != SECSuccess) {
            return NULL;
        }
    }
    if (o->min_group && SSL_SetSrpMinGroupBits(ssl, o->min_group) != SECSuccess) {
        return NULL;
    }
    if (SSL_AlertReceivedCallback(ssl, on_alert_received, alerts) != SECSuccess ||
        SSL_AlertSentCallback(ssl, on_alert_sent, alerts) != SECSuccess) {
        return NULL;
    }
    return ssl;
}

/* The SRP-RSA suites authenticate the server twice: by the password and by a certificate. The
 * peer relies on the password; certificate checks are the application's business. */
static SECStatus
accept_any_cert(void *arg, PRFileDesc *fd, PRBool checkSig, PRBool isServer)
{
    (void)arg;
    (void)fd;
    (void)checkSig;
    (void)isServer;
    return SECSuccess;
}

static int
fail(const struct peer_alerts *alerts)
{
    PRErrorCode err = PR_GetError();
    const char *name = PR_ErrorToName(err);
    peer_print_error(name, peer_last_alert(alerts));
    return 1;
}

static int
write_all(PRFileDesc *fd, const char *data, PRInt32 len)
{
    while (len > 0) {
        PRInt32 n = PR_Write(fd, data, len);
        if (n <= 0) {
            return -1;
        }
        data += n;
        len -= n;
    }
    return 0;
}

static int
run_client(const struct peer_options *o)
{
    PRNetAddr addr;
    long n;
    parse_addr(o->connect, &addr);
    for (n = 0; n < o->count; n++) {
        struct peer_alerts alerts = PEER_NO_ALERTS;
        SSLChannelInfo info;
        SSLSrpChannelInfo srp;
        PRFileDesc *tcp = PR_OpenTCPSocket(addr.raw.family);
        PRFileDesc *ssl;
        if (!tcp) {
            return fail(&alerts);
        }
        ssl = setup_ssl(tcp, o, PR_FALSE, &alerts);
        if (!ssl) {
            PR_Close(tcp);
            return fail(&alerts);
        }
        if (SSL_SetSrpClientCredentials(ssl, (const PRUint8 *)o->user,
                                        o->user ? (unsigned int)strlen(o->user) : 0,
                                        (const PRUint8 *)o->password,
                                        o->password ? (unsigned int)strlen(o->password) : 0) !=
                SECSuccess ||
            SSL_AuthCertificateHook(ssl, accept_any_cert, NULL) != SECSuccess ||
            SSL_SetURL(ssl, "localhost") != SECSuccess ||
            PR_Connect(ssl, &addr, PR_SecondsToInterval(10)) != PR_SUCCESS ||
            SSL_ForceHandshake(ssl) != SECSuccess ||
            SSL_GetChannelInfo(ssl, &info, sizeof(info)) != SECSuccess ||
            SSL_GetSrpChannelInfo(ssl, &srp, sizeof(srp)) != SECSuccess) {
            int rc = fail(&alerts);
            PR_Close(ssl);
            return rc;
        }
        if (!srp.authenticated) {
            peer_print_error("NOT_SRP_AUTHENTICATED", "none");
            PR_Close(ssl);
            return 1;
        }
        peer_print_ok(info.protocolVersion, info.cipherSuite, srp.groupBits, srp.user,
                      o->resume ? (int)info.resumed : -1);
        if (o->get) {
            char request[1024];
            char buf[4096];
            char *response = NULL;
            size_t len = 0;
            PRInt32 got;
            int requestLen = peer_http_request(request, sizeof(request), o->get);
            if (write_all(ssl, request, requestLen) != 0) {
                int rc = fail(&alerts);
                PR_Close(ssl);
                return rc;
            }
            while ((got = PR_Read(ssl, buf, sizeof(buf))) > 0 && len < (1 << 20)) {
                response = realloc(response, len + (size_t)got + 1);
                memcpy(response + len, buf, (size_t)got);
                len += (size_t)got;
            }
            if (response) {
                response[len] = 0;
                peer_print_body(response);
                free(response);
            }
        }
        PR_Close(ssl);
    }
    return 0;
}

/* The DER contents of the first PEM block labelled `label` in `path`; exits on failure. */
static SECItem *
read_pem(const char *path, const char *label)
{
    char begin[64];
    char end[64];
    char *text = NULL;
    size_t len = 0;
    char buf[4096];
    size_t got;
    char *start;
    char *stop;
    SECItem *der;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "srp-peer-nss: cannot open %s\n", path);
        exit(2);
    }
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        text = realloc(text, len + got + 1);
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(end, sizeof(end), "-----END %s-----", label);
    if (!text || (text[len] = 0, !(start = strstr(text, begin))) ||
        !(stop = strstr(start, end))) {
        fprintf(stderr, "srp-peer-nss: %s holds no %s\n", path, begin);
        exit(2);
    }
    start += strlen(begin);
    *stop = 0;
    der = NSSBase64_DecodeBuffer(NULL, NULL, start, (unsigned int)strlen(start));
    free(text);
    if (!der) {
        fprintf(stderr, "srp-peer-nss: bad base64 in %s\n", path);
        exit(2);
    }
    return der;
}

/* Configures the model socket with the RSA certificate and key from PEM files (no database:
 * a temporary certificate and a session key object in the internal slot). */
static SECStatus
config_server_cert(PRFileDesc *model, const struct peer_options *o)
{
    SECItem *certDer = read_pem(o->cert, "CERTIFICATE");
    SECItem *keyDer = read_pem(o->key, "PRIVATE KEY");
    CERTCertificate *cert;
    SECKEYPrivateKey *key = NULL;
    PK11SlotInfo *slot;
    SECStatus rv = SECFailure;

    cert = CERT_NewTempCertificate(CERT_GetDefaultCertDB(), certDer, NULL, PR_FALSE, PR_TRUE);
    slot = PK11_GetInternalSlot();
    if (cert && slot &&
        PK11_ImportDERPrivateKeyInfoAndReturnKey(slot, keyDer, NULL, NULL, PR_FALSE, PR_TRUE,
                                                 KU_ALL, &key, NULL) == SECSuccess) {
        rv = SSL_ConfigServerCert(model, cert, key, NULL, 0);
    }
    if (slot) {
        PK11_FreeSlot(slot);
    }
    if (key) {
        SECKEY_DestroyPrivateKey(key);
    }
    if (cert) {
        CERT_DestroyCertificate(cert);
    }
    SECITEM_FreeItem(certDer, PR_TRUE);
    SECITEM_ZfreeItem(keyDer, PR_TRUE);
    return rv;
}

/* Reads the request head (up to the blank line) of an HTTP/1.0 request. */
static int
read_request(PRFileDesc *fd)
{
    char buf[4096];
    size_t len = 0;
    while (len < sizeof(buf) - 1) {
        PRInt32 got = PR_Recv(fd, buf + len, (PRInt32)(sizeof(buf) - 1 - len), 0,
                              PR_SecondsToInterval(10));
        if (got <= 0) {
            return -1;
        }
        len += (size_t)got;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) {
            return 0;
        }
    }
    return -1;
}

static int
run_server(const struct peer_options *o)
{
    PRNetAddr addr;
    PRNetAddr bound;
    PRFileDesc *listener;
    PRFileDesc *model;
    struct peer_alerts modelAlerts = PEER_NO_ALERTS;
    char host[64];
    long served = 0;
    parse_addr(o->listen, &addr);
    listener = PR_OpenTCPSocket(addr.raw.family);
    if (!listener) {
        return fail(&modelAlerts);
    }
    {
        PRSocketOptionData opt;
        opt.option = PR_SockOpt_Reuseaddr;
        opt.value.reuse_addr = PR_TRUE;
        PR_SetSocketOption(listener, &opt);
    }
    if (PR_Bind(listener, &addr) != PR_SUCCESS || PR_Listen(listener, 16) != PR_SUCCESS ||
        PR_GetSockName(listener, &bound) != PR_SUCCESS) {
        return fail(&modelAlerts);
    }
    /* The model socket holds the SRP configuration (the verifier file is loaded once). */
    model = PR_OpenTCPSocket(addr.raw.family);
    if (!model) {
        return fail(&modelAlerts);
    }
    model = setup_ssl(model, o, PR_TRUE, &modelAlerts);
    if (model && o->fake_user_seed) {
        unsigned char seed[256];
        size_t seedLen = peer_read_seed(o->fake_user_seed, seed, sizeof(seed));
        if (SSL_SetSrpFakeUserSeed(model, seed, (unsigned int)seedLen) != SECSuccess) {
            return fail(&modelAlerts);
        }
    }
    if (!model || SSL_SetSrpServerVerifierFile(model, o->verifiers) != SECSuccess ||
        (o->cert && config_server_cert(model, o) != SECSuccess)) {
        return fail(&modelAlerts);
    }
    PR_NetAddrToString(&bound, host, sizeof(host));
    peer_print_listening(host, PR_ntohs(PR_NetAddrInetPort(&bound)));

    while (peer_serve_more(o, served)) {
        struct peer_alerts alerts = PEER_NO_ALERTS;
        SSLChannelInfo info;
        SSLSrpChannelInfo srp;
        PRNetAddr peer;
        PRFileDesc *conn = PR_Accept(listener, &peer, PR_INTERVAL_NO_TIMEOUT);
        PRFileDesc *ssl;
        if (!conn) {
            return fail(&alerts);
        }
        served++;
        ssl = SSL_ImportFD(model, conn);
        if (!ssl || SSL_AlertReceivedCallback(ssl, on_alert_received, &alerts) != SECSuccess ||
            SSL_AlertSentCallback(ssl, on_alert_sent, &alerts) != SECSuccess ||
            SSL_ResetHandshake(ssl, PR_TRUE) != SECSuccess) {
            peer_print_rejected("none");
            PR_Close(ssl ? ssl : conn);
            continue;
        }
        if (SSL_ForceHandshake(ssl) != SECSuccess ||
            SSL_GetChannelInfo(ssl, &info, sizeof(info)) != SECSuccess ||
            SSL_GetSrpChannelInfo(ssl, &srp, sizeof(srp)) != SECSuccess || !srp.authenticated) {
            peer_print_rejected(peer_last_alert(&alerts));
            PR_Close(ssl);
            continue;
        }
        peer_print_accepted(srp.user, info.cipherSuite);
        if (read_request(ssl) == 0) {
            char response[1024];
            int responseLen = peer_http_response(response, sizeof(response), srp.user);
            write_all(ssl, response, responseLen);
        }
        PR_Close(ssl);
    }
    PR_Close(model);
    PR_Close(listener);
    return 0;
}

int
main(int argc, char **argv)
{
    struct peer_options o;
    int rc;
    peer_parse_args(argc, argv, &o);
    if (NSS_NoDB_Init(NULL) != SECSuccess || NSS_SetDomesticPolicy() != SECSuccess) {
        fprintf(stderr, "srp-peer-nss: NSS initialisation failed: %s\n",
                PR_ErrorToName(PR_GetError()));
        return 2;
    }
    if (!strcmp(o.mode, "server") &&
        SSL_ConfigServerSessionIDCache(16, 0, 0, NULL) != SECSuccess) {
        fprintf(stderr, "srp-peer-nss: session cache: %s\n", PR_ErrorToName(PR_GetError()));
        return 2;
    }
    /* peer_parse_args accepts only these two modes. */
    if (!strcmp(o.mode, "client")) {
        rc = run_client(&o);
    } else {
        rc = run_server(&o);
    }
    if (!strcmp(o.mode, "server")) {
        SSL_ShutdownServerSessionIDCache();
    }
    NSS_Shutdown();
    return rc;
}
