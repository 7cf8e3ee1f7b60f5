/*
 * srp-peer-nss: a TLS-SRP client and server on the patched NSS's public API, for the interop
 * tests (contract: issue 3, "A peer program for tests").
 *
 *   srp-peer-nss client --connect 127.0.0.1:PORT --user U --password P [--cipher 0xC01D,...]
 *                       [--min-group BITS] [--count N] [--get PATH]
 *   srp-peer-nss server --listen 127.0.0.1:PORT --verifiers FILE [--cert PEM --key PEM]
 *                       [--cipher ...] [--min-group BITS] [--count N]
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

#define MAX_CIPHERS 8

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

static const PRUint16 kDefaultCiphers[] = {
    TLS_SRP_SHA_WITH_AES_128_CBC_SHA, TLS_SRP_SHA_WITH_AES_256_CBC_SHA,
    TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA, TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA
};

struct options {
    const char *mode;
    const char *addr;
    const char *user;
    const char *password;
    const char *verifiers;
    const char *cert;
    const char *key;
    const char *get;
    PRUint16 ciphers[MAX_CIPHERS];
    unsigned int cipherCount;
    PRUint32 minGroup;
    long count;
    PRBool countGiven;
};

/* The last alert sent and received on the current connection. */
struct alerts {
    int received;
    int sent;
};

static void
usage(void)
{
    fprintf(stderr,
            "usage: srp-peer-nss client --connect HOST:PORT --user U --password P\n"
            "                           [--cipher 0xC01D,...] [--min-group BITS] [--count N] [--get PATH]\n"
            "       srp-peer-nss server --listen HOST:PORT --verifiers FILE [--cert PEM --key PEM]\n"
            "                           [--cipher ...] [--min-group BITS] [--count N]\n");
    exit(2);
}

static const char *
alert_name(int desc)
{
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

static void
on_alert_received(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    if (alert->level == 2 /* fatal */ || alert->description != 0) {
        ((struct alerts *)arg)->received = alert->description;
    }
}

static void
on_alert_sent(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    if (alert->level == 2 /* fatal */ || alert->description != 0) {
        ((struct alerts *)arg)->sent = alert->description;
    }
}

static const char *
last_alert(const struct alerts *a)
{
    if (a->received >= 0) {
        return alert_name(a->received);
    }
    if (a->sent >= 0) {
        return alert_name(a->sent);
    }
    return "none";
}

static const char *
version_name(PRUint16 v)
{
    switch (v) {
        case SSL_LIBRARY_VERSION_TLS_1_0: return "TLS1.0";
        case SSL_LIBRARY_VERSION_TLS_1_1: return "TLS1.1";
        case SSL_LIBRARY_VERSION_TLS_1_2: return "TLS1.2";
        case SSL_LIBRARY_VERSION_TLS_1_3: return "TLS1.3";
        default: return "unknown";
    }
}

static void
parse_ciphers(struct options *o, const char *list)
{
    char *copy = strdup(list);
    char *save = NULL;
    char *tok;
    o->cipherCount = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        unsigned long v = strtoul(tok, &end, 0);
        if (*end || v > 0xffff || o->cipherCount == MAX_CIPHERS) {
            fprintf(stderr, "srp-peer-nss: bad --cipher value %s\n", tok);
            exit(2);
        }
        o->ciphers[o->cipherCount++] = (PRUint16)v;
    }
    free(copy);
}

static void
parse_args(int argc, char **argv, struct options *o)
{
    int i;
    memset(o, 0, sizeof(*o));
    o->count = 1;
    if (argc < 2) {
        usage();
    }
    o->mode = argv[1];
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        }
        if (!strcmp(a, "--connect") || !strcmp(a, "--listen")) {
            o->addr = v;
        } else if (!strcmp(a, "--user")) {
            o->user = v;
        } else if (!strcmp(a, "--password")) {
            o->password = v;
        } else if (!strcmp(a, "--verifiers")) {
            o->verifiers = v;
        } else if (!strcmp(a, "--get")) {
            o->get = v;
        } else if (!strcmp(a, "--cipher")) {
            parse_ciphers(o, v);
        } else if (!strcmp(a, "--min-group")) {
            o->minGroup = (PRUint32)strtoul(v, NULL, 10);
        } else if (!strcmp(a, "--count")) {
            o->count = strtol(v, NULL, 10);
            o->countGiven = PR_TRUE;
        } else if (!strcmp(a, "--cert")) {
            o->cert = v;
        } else if (!strcmp(a, "--key")) {
            o->key = v;
        } else {
            usage();
        }
        i++;
    }
    if (!o->addr || o->count < 1 || !o->cert != !o->key) {
        usage();
    }
    if (o->cipherCount == 0) {
        memcpy(o->ciphers, kDefaultCiphers, sizeof(kDefaultCiphers));
        o->cipherCount = PR_ARRAY_SIZE(kDefaultCiphers);
    }
}

static void
parse_addr(const char *text, PRNetAddr *addr)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    size_t len;
    if (!colon || (len = (size_t)(colon - text)) >= sizeof(host)) {
        fprintf(stderr, "srp-peer-nss: bad address %s\n", text);
        exit(2);
    }
    memcpy(host, text, len);
    host[len] = 0;
    if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
        memmove(host, host + 1, len - 2);
        host[len - 2] = 0;
    }
    if (PR_StringToNetAddr(host, addr) != PR_SUCCESS) {
        fprintf(stderr, "srp-peer-nss: bad address %s\n", text);
        exit(2);
    }
    if (addr->raw.family == PR_AF_INET6) {
        addr->ipv6.port = PR_htons((PRUint16)atoi(colon + 1));
    } else {
        addr->inet.port = PR_htons((PRUint16)atoi(colon + 1));
    }
}

/* Common SSL socket setup: TLS 1.0-1.2, only the chosen SRP suites, no session cache (every
 * connection does a full SRP handshake). */
static PRFileDesc *
setup_ssl(PRFileDesc *tcp, const struct options *o, PRBool server, struct alerts *alerts)
{
    SSLVersionRange range = { SSL_LIBRARY_VERSION_TLS_1_0, SSL_LIBRARY_VERSION_TLS_1_2 };
    PRFileDesc *ssl = SSL_ImportFD(NULL, tcp);
    unsigned int i;
    if (!ssl) {
        return NULL;
    }
    if (SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) != SECSuccess ||
        SSL_OptionSet(ssl, SSL_NO_CACHE, PR_TRUE) != SECSuccess ||
        SSL_OptionSet(ssl, server ? SSL_HANDSHAKE_AS_SERVER : SSL_HANDSHAKE_AS_CLIENT,
                      PR_TRUE) != SECSuccess ||
        SSL_VersionRangeSet(ssl, &range) != SECSuccess) {
        return NULL;
    }
    for (i = 0; i < SSL_NumImplementedCiphers; i++) {
        SSL_CipherPrefSet(ssl, SSL_ImplementedCiphers[i], PR_FALSE);
    }
    for (i = 0; i < o->cipherCount; i++) {
        if (SSL_CipherPrefSet(ssl, o->ciphers[i], PR_TRUE) != SECSuccess) {
            return NULL;
        }
    }
    if (o->minGroup && SSL_SetSrpMinGroupBits(ssl, o->minGroup) != SECSuccess) {
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
fail(const struct alerts *alerts)
{
    PRErrorCode err = PR_GetError();
    const char *name = PR_ErrorToName(err);
    printf("error: %s alert=%s\n", name ? name : "UNKNOWN_ERROR", last_alert(alerts));
    fflush(stdout);
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
run_client(const struct options *o)
{
    PRNetAddr addr;
    long n;
    if (!o->user != !o->password) {
        usage();
    }
    parse_addr(o->addr, &addr);
    for (n = 0; n < o->count; n++) {
        struct alerts alerts = { -1, -1 };
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
            printf("error: NOT_SRP_AUTHENTICATED alert=none\n");
            PR_Close(ssl);
            return 1;
        }
        printf("ok version=%s cipher=0x%04X group=%u user=%s\n", version_name(info.protocolVersion),
               info.cipherSuite, srp.groupBits, srp.user);
        fflush(stdout);
        if (o->get) {
            char request[1024];
            char buf[4096];
            char *response = NULL;
            size_t len = 0;
            PRInt32 got;
            char *body;
            snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\n\r\n", o->get);
            if (write_all(ssl, request, (PRInt32)strlen(request)) != 0) {
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
                body = strstr(response, "\r\n\r\n");
                fputs(body ? body + 4 : response, stdout);
                free(response);
            }
            fflush(stdout);
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
config_server_cert(PRFileDesc *model, const struct options *o)
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
run_server(const struct options *o)
{
    PRNetAddr addr;
    PRNetAddr bound;
    PRFileDesc *listener;
    PRFileDesc *model;
    struct alerts modelAlerts = { -1, -1 };
    char host[64];
    long served = 0;
    if (!o->verifiers) {
        usage();
    }
    parse_addr(o->addr, &addr);
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
    if (!model || SSL_SetSrpServerVerifierFile(model, o->verifiers) != SECSuccess ||
        (o->cert && config_server_cert(model, o) != SECSuccess)) {
        return fail(&modelAlerts);
    }
    PR_NetAddrToString(&bound, host, sizeof(host));
    printf("listening %s:%u\n", host, PR_ntohs(PR_NetAddrInetPort(&bound)));
    fflush(stdout);

    while (!o->countGiven || served < o->count) {
        struct alerts alerts = { -1, -1 };
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
            printf("rejected alert=none\n");
            fflush(stdout);
            PR_Close(ssl ? ssl : conn);
            continue;
        }
        if (SSL_ForceHandshake(ssl) != SECSuccess ||
            SSL_GetChannelInfo(ssl, &info, sizeof(info)) != SECSuccess ||
            SSL_GetSrpChannelInfo(ssl, &srp, sizeof(srp)) != SECSuccess || !srp.authenticated) {
            printf("rejected alert=%s\n", last_alert(&alerts));
            fflush(stdout);
            PR_Close(ssl);
            continue;
        }
        printf("accepted user=%s cipher=0x%04X\n", srp.user, info.cipherSuite);
        fflush(stdout);
        if (read_request(ssl) == 0) {
            char response[512];
            int body = snprintf(NULL, 0, "srp-user: %s\n", srp.user);
            snprintf(response, sizeof(response),
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                     "srp-user: %s\n",
                     body, srp.user);
            write_all(ssl, response, (PRInt32)strlen(response));
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
    struct options o;
    int rc;
    parse_args(argc, argv, &o);
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
    if (!strcmp(o.mode, "client")) {
        rc = run_client(&o);
    } else if (!strcmp(o.mode, "server")) {
        rc = run_server(&o);
    } else {
        usage();
        rc = 2;
    }
    if (!strcmp(o.mode, "server")) {
        SSL_ShutdownServerSessionIDCache();
    }
    NSS_Shutdown();
    return rc;
}
