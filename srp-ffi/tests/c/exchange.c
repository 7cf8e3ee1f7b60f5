/*
 * A full TLS-SRP key exchange and the bad-input cases, through srp_ffi.h alone.
 * Run by srp-ffi/tests/c_program.rs; exits 0 when every check passes.
 *
 * Usage: exchange [VERIFIER_FILE... MALFORMED_FILE]: each VERIFIER_FILE holds the user "alice"
 * with the password below; MALFORMED_FILE has an error on its line 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srp_ffi.h"

static int checks;
static int failures;

#define CHECK(cond)                                                                \
    do {                                                                           \
        checks++;                                                                  \
        if (!(cond)) {                                                             \
            failures++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

#define EXPECT(call, expected)                                                       \
    do {                                                                             \
        srp_result got_ = (call);                                                    \
        checks++;                                                                    \
        if (got_ != (expected)) {                                                    \
            failures++;                                                              \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, \
                    #call, srp_result_name(got_), srp_result_name(expected));        \
        }                                                                            \
    } while (0)

static const uint8_t USER[] = "alice";
static const uint8_t PASSWORD[] = "correct horse battery staple";

/* One handshake's SRP part with the server holding `record` and the client using `password`.
 * Returns 1 when both sides derived the same premaster secret. */
static int
exchange_with_record(const srp_verifier_record *record, const uint8_t *password,
                     size_t password_len)
{
    srp_server *server = NULL;
    const uint8_t *n, *g, *salt;
    size_t n_len, g_len, salt_len, b_len = 0, a_len = 0, client_pms_len = 0, server_pms_len = 1;
    uint8_t b_pub[SRP_MAX_N_LEN], a_pub[SRP_MAX_N_LEN];
    uint8_t client_pms[SRP_MAX_N_LEN], server_pms[SRP_MAX_N_LEN];
    const srp_group *client_group = NULL;
    int same;

    /* ServerKeyExchange: N, g, s, B. */
    EXPECT(srp_server_new(record, &server), SRP_RESULT_OK);
    EXPECT(srp_group_n(srp_verifier_record_group(record), &n, &n_len), SRP_RESULT_OK);
    EXPECT(srp_group_g(srp_verifier_record_group(record), &g, &g_len), SRP_RESULT_OK);
    EXPECT(srp_verifier_record_salt(record, &salt, &salt_len), SRP_RESULT_OK);
    EXPECT(srp_server_public_key(server, b_pub, sizeof(b_pub), &b_len), SRP_RESULT_OK);

    /* Client: admit the group, then A and the premaster secret from one message. */
    EXPECT(srp_group_from_params(n, n_len, g, g_len, SRP_DEFAULT_MIN_BITS, &client_group),
           SRP_RESULT_OK);
    CHECK(client_group == srp_verifier_record_group(record));
    EXPECT(srp_client_exchange(client_group, USER, sizeof(USER) - 1, password, password_len,
                               salt, salt_len, b_pub, b_len, a_pub, sizeof(a_pub), &a_len,
                               client_pms, sizeof(client_pms), &client_pms_len),
           SRP_RESULT_OK);

    /* Server: ClientKeyExchange. */
    EXPECT(srp_server_premaster(server, a_pub, a_len, server_pms, sizeof(server_pms),
                                &server_pms_len),
           SRP_RESULT_OK);
    same = client_pms_len == server_pms_len &&
           memcmp(client_pms, server_pms, client_pms_len) == 0;
    /* One premaster secret per server: b is used up. */
    EXPECT(srp_server_premaster(server, a_pub, a_len, server_pms, sizeof(server_pms),
                                &server_pms_len),
           SRP_RESULT_SERVER_ALREADY_USED);
    CHECK(srp_result_alert(SRP_RESULT_SERVER_ALREADY_USED) == 80);
    srp_server_free(server);
    return same;
}

/* Enrolment in `bits`, then one handshake with `password`. */
static int
handshake(uint32_t bits, const uint8_t *password, size_t password_len)
{
    const srp_group *group = NULL;
    srp_verifier_record *record = NULL;
    int same;

    EXPECT(srp_group_get(bits, &group), SRP_RESULT_OK);
    CHECK(srp_group_bits(group) == bits);
    EXPECT(srp_verifier_record_generate(group, USER, sizeof(USER) - 1, PASSWORD,
                                        sizeof(PASSWORD) - 1, &record),
           SRP_RESULT_OK);
    same = exchange_with_record(record, password, password_len);
    srp_verifier_record_free(record);
    return same;
}

/* A verifier file made by `openssl srp` or `srptool` that holds "alice" with PASSWORD. */
static void
verifier_file(const char *path)
{
    srp_verifier_file *file = NULL;
    srp_fake_users *fake = NULL;
    srp_verifier_record *record = NULL;
    const uint8_t seed[32] = { 42 };
    char message[512] = "";

    EXPECT(srp_verifier_file_load(path, message, sizeof(message), &file), SRP_RESULT_OK);
    if (file == NULL) {
        fprintf(stderr, "%s\n", message);
        return;
    }
    EXPECT(srp_verifier_file_fake_users(file, seed, sizeof(seed), &fake), SRP_RESULT_OK);

    EXPECT(srp_verifier_file_lookup(file, USER, sizeof(USER) - 1, fake, &record), SRP_RESULT_OK);
    CHECK(exchange_with_record(record, PASSWORD, sizeof(PASSWORD) - 1));
    CHECK(!exchange_with_record(record, (const uint8_t *)"wrong", 5));
    srp_verifier_record_free(record);

    /* An unknown user gets a fake record: the exchange runs and the secrets differ. */
    record = NULL;
    EXPECT(srp_verifier_file_lookup(file, (const uint8_t *)"mallory", 7, fake, &record),
           SRP_RESULT_OK);
    CHECK(record != NULL && !exchange_with_record(record, PASSWORD, sizeof(PASSWORD) - 1));
    srp_verifier_record_free(record);

    /* Without fake users, an unknown user is unknown_psk_identity. */
    record = NULL;
    EXPECT(srp_verifier_file_lookup(file, (const uint8_t *)"mallory", 7, NULL, &record),
           SRP_RESULT_UNKNOWN_USER);
    CHECK(record == NULL);
    CHECK(srp_result_alert(SRP_RESULT_UNKNOWN_USER) == 115);

    srp_fake_users_free(fake);
    srp_verifier_file_free(file);
}

/* A malformed verifier file: the error names the file and the line. */
static void
bad_verifier_file(const char *path)
{
    srp_verifier_file *file = NULL;
    char message[512] = "";

    EXPECT(srp_verifier_file_load(path, message, sizeof(message), &file),
           SRP_RESULT_VERIFIER_FILE_INVALID);
    CHECK(file == NULL);
    CHECK(strstr(message, path) != NULL);
    CHECK(strstr(message, ":2:") != NULL);
    printf("malformed file: %s\n", message);
    EXPECT(srp_verifier_file_load("/nonexistent/srpvfile", message, sizeof(message), &file),
           SRP_RESULT_VERIFIER_FILE_IO);
    EXPECT(srp_verifier_file_load(NULL, message, sizeof(message), &file),
           SRP_RESULT_NULL_PARAMETER);
    srp_verifier_file_free(NULL);
}

static void
bad_inputs(void)
{
    const srp_group *group = NULL, *g2048 = NULL, *g1024 = NULL, *unused = (const srp_group *)0;
    const uint8_t *n, *g;
    size_t n_len, g_len, len = 12345, pms_len = 12345;
    uint8_t buf[SRP_MAX_N_LEN], pms[SRP_MAX_N_LEN], zero = 0, long_value[SRP_MAX_N_LEN + 1];
    uint8_t changed_n[SRP_MAX_N_LEN], long_user[256];
    uint8_t salt[16] = { 1 };
    srp_verifier_record *record = NULL;
    srp_server *server = NULL;
    srp_fake_users *fake = NULL;
    uint8_t seed[32] = { 7 };

    /* Groups: unknown sizes, NULL outputs, floor, exact match. */
    EXPECT(srp_group_get(1000, &group), SRP_RESULT_UNKNOWN_GROUP);
    CHECK(group == NULL);
    EXPECT(srp_group_get(2048, NULL), SRP_RESULT_NULL_PARAMETER);
    EXPECT(srp_group_get(2048, &g2048), SRP_RESULT_OK);
    EXPECT(srp_group_get(1024, &g1024), SRP_RESULT_OK);
    EXPECT(srp_group_n(g1024, &n, &n_len), SRP_RESULT_OK);
    EXPECT(srp_group_g(g1024, &g, &g_len), SRP_RESULT_OK);
    EXPECT(srp_group_from_params(n, n_len, g, g_len, SRP_DEFAULT_MIN_BITS, &unused),
           SRP_RESULT_GROUP_TOO_SMALL);
    CHECK(srp_result_alert(SRP_RESULT_GROUP_TOO_SMALL) == 71);
    EXPECT(srp_group_from_params(n, n_len, g, g_len, 1024, &unused), SRP_RESULT_OK);
    memcpy(changed_n, n, n_len);
    changed_n[n_len / 2] ^= 0x10;
    EXPECT(srp_group_from_params(changed_n, n_len, g, g_len, 0, &unused),
           SRP_RESULT_UNKNOWN_GROUP);
    {
        uint8_t g5 = 5;
        EXPECT(srp_group_from_params(n, n_len, &g5, 1, 0, &unused), SRP_RESULT_UNKNOWN_GROUP);
    }
    CHECK(srp_result_alert(SRP_RESULT_UNKNOWN_GROUP) == 71);
    EXPECT(srp_group_from_params(NULL, 10, g, g_len, 0, &unused), SRP_RESULT_NULL_PARAMETER);
    CHECK(srp_group_bits(NULL) == 0);

    /* Client: B = 0, B = N, B longer than N. */
    EXPECT(srp_group_n(g2048, &n, &n_len), SRP_RESULT_OK);
    EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, sizeof(salt), &zero, 1, buf,
                               sizeof(buf), &len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N);
    EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, sizeof(salt), n, n_len, buf,
                               sizeof(buf), &len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N);
    CHECK(srp_result_alert(SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N) == 47);
    memset(long_value, 0xff, sizeof(long_value));
    EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, sizeof(salt), long_value,
                               n_len + 1, buf, sizeof(buf), &len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_VALUE_TOO_LONG);
    EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, sizeof(salt), long_value,
                               n_len, buf, sizeof(buf), &len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE);
    /* Outputs are written only on success. */
    CHECK(len == 12345 && pms_len == 12345);

    /* Usernames and salts. */
    memset(long_user, 'a', sizeof(long_user));
    EXPECT(srp_username_check(USER, 0), SRP_RESULT_EMPTY_USERNAME);
    EXPECT(srp_username_check(long_user, 256), SRP_RESULT_USERNAME_TOO_LONG);
    EXPECT(srp_username_check(long_user, 255), SRP_RESULT_OK);
    EXPECT(srp_username_check((const uint8_t *)"a\0b", 3), SRP_RESULT_USERNAME_CONTAINS_NUL);
    CHECK(srp_result_alert(SRP_RESULT_EMPTY_USERNAME) == 50);
    {
        uint8_t b_one = 1;
        EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, 0, &b_one, 1, buf,
                                   sizeof(buf), &len, pms, sizeof(pms), &pms_len),
               SRP_RESULT_INVALID_SALT_LENGTH);
        EXPECT(srp_client_exchange(g2048, USER, 5, PASSWORD, 8, salt, sizeof(salt), &b_one, 1,
                                   buf, 10, &len, pms, sizeof(pms), &pms_len),
               SRP_RESULT_BUFFER_TOO_SMALL);
    }

    /* Records: the verifier must be in [1, N). */
    EXPECT(srp_verifier_record_new(g2048, salt, sizeof(salt), &zero, 1, &record),
           SRP_RESULT_INVALID_VERIFIER);
    EXPECT(srp_verifier_record_new(g2048, salt, sizeof(salt), n, n_len, &record),
           SRP_RESULT_INVALID_VERIFIER);
    CHECK(record == NULL);

    /* Server: A = 0, A = N. */
    EXPECT(srp_verifier_record_generate(g2048, USER, 5, PASSWORD, 8, &record), SRP_RESULT_OK);
    EXPECT(srp_server_new(record, &server), SRP_RESULT_OK);
    EXPECT(srp_server_premaster(server, &zero, 1, pms, sizeof(pms), &pms_len),
           SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N);
    EXPECT(srp_server_premaster(server, n, n_len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N);
    EXPECT(srp_server_premaster(NULL, n, n_len, pms, sizeof(pms), &pms_len),
           SRP_RESULT_NULL_PARAMETER);
    /* A buffer shorter than N is refused before the server is used. */
    EXPECT(srp_server_premaster(server, &zero, 1, pms, 255, &pms_len),
           SRP_RESULT_BUFFER_TOO_SMALL);
    srp_server_free(server);
    srp_verifier_record_free(record);

    /* Fake users: stable salts, refused short seeds. */
    EXPECT(srp_fake_users_new(seed, 8, g2048, 16, &fake), SRP_RESULT_SEED_TOO_SHORT);
    EXPECT(srp_fake_users_new(seed, sizeof(seed), g2048, 16, &fake), SRP_RESULT_OK);
    {
        srp_verifier_record *r1 = NULL, *r2 = NULL;
        const uint8_t *s1, *s2;
        size_t l1, l2;
        EXPECT(srp_fake_users_record(fake, USER, 5, &r1), SRP_RESULT_OK);
        EXPECT(srp_fake_users_record(fake, USER, 5, &r2), SRP_RESULT_OK);
        EXPECT(srp_verifier_record_salt(r1, &s1, &l1), SRP_RESULT_OK);
        EXPECT(srp_verifier_record_salt(r2, &s2, &l2), SRP_RESULT_OK);
        CHECK(l1 == 16 && l2 == 16 && memcmp(s1, s2, l1) == 0);
        CHECK(srp_verifier_record_group(r1) == g2048);
        srp_verifier_record_free(r2);

        /* Callback mode: choose copies the application's record, or answers with the fake
         * one, after the same derivation. */
        r2 = NULL;
        EXPECT(srp_fake_users_choose(fake, USER, 5, NULL, &r2), SRP_RESULT_OK);
        EXPECT(srp_verifier_record_salt(r2, &s2, &l2), SRP_RESULT_OK);
        CHECK(l2 == 16 && memcmp(s1, s2, l1) == 0);
        srp_verifier_record_free(r2);
        EXPECT(srp_verifier_record_generate(g2048, USER, 5, PASSWORD, 8, &record),
               SRP_RESULT_OK);
        r2 = NULL;
        EXPECT(srp_fake_users_choose(fake, USER, 5, record, &r2), SRP_RESULT_OK);
        EXPECT(srp_verifier_record_salt(r2, &s2, &l2), SRP_RESULT_OK);
        EXPECT(srp_verifier_record_salt(record, &s1, &l1), SRP_RESULT_OK);
        CHECK(l2 == l1 && memcmp(s1, s2, l1) == 0 && r2 != record);
        srp_verifier_record_free(r2);
        EXPECT(srp_fake_users_choose(fake, USER, 0, record, &r2), SRP_RESULT_EMPTY_USERNAME);
        EXPECT(srp_fake_users_choose(NULL, USER, 5, record, &r2), SRP_RESULT_NULL_PARAMETER);
        srp_verifier_record_free(record);
        record = NULL;
        srp_verifier_record_free(r1);
    }
    srp_fake_users_free(fake);

    /* Names and alerts of results. */
    CHECK(strcmp(srp_result_name(SRP_RESULT_ZERO_SCRAMBLER), "SRP_RESULT_ZERO_SCRAMBLER") == 0);
    CHECK(strcmp(srp_result_name(42), "SRP_RESULT_UNKNOWN") == 0);
    CHECK(srp_result_alert(SRP_RESULT_UNKNOWN_USER) == 115);
    CHECK(srp_result_alert(SRP_RESULT_OK) == 0);

    /* Freeing NULL does nothing. */
    srp_server_free(NULL);
    srp_verifier_record_free(NULL);
    srp_fake_users_free(NULL);
}

int
main(int argc, char **argv)
{
    static const uint32_t groups[] = { 2048, 3072, 4096 };
    size_t i;
    int round;

    printf("%s\n", srp_version());
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        for (round = 0; round < 3; round++) {
            CHECK(handshake(groups[i], PASSWORD, sizeof(PASSWORD) - 1));
        }
        /* A wrong password gives a different premaster secret: Finished fails. */
        CHECK(!handshake(groups[i], (const uint8_t *)"wrong", 5));
    }
    bad_inputs();
    /* Arguments: verifier files made by the real tools, then a malformed one. */
    for (round = 1; round + 1 < argc; round++) {
        verifier_file(argv[round]);
    }
    if (argc > 1) {
        bad_verifier_file(argv[argc - 1]);
    }
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
