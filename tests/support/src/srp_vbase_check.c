/*
 * Checks a password against an OpenSSL srpvfile the way an OpenSSL TLS server loads it:
 * SRP_VBASE_init (I lines, group ids), SRP_VBASE_get1_by_user, then the verifier recomputed
 * from the loaded salt, g and N. Built and run by srp-ffi/tests/vfile_*.rs.
 *
 * usage: srp_vbase_check FILE USER PASSWORD
 * exit:  0 the password matches, 1 it does not, 2 no such user, 3 any other error.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <openssl/bn.h>
#include <openssl/srp.h>

int main(int argc, char **argv)
{
    SRP_VBASE *vb;
    SRP_user_pwd *user;
    BIGNUM *salt, *v = NULL;
    int rc;

    if (argc != 4) {
        fprintf(stderr, "usage: %s FILE USER PASSWORD\n", argv[0]);
        return 3;
    }
    vb = SRP_VBASE_new(NULL);
    if (vb == NULL || SRP_VBASE_init(vb, argv[1]) != SRP_NO_ERROR) {
        fprintf(stderr, "SRP_VBASE_init failed for %s\n", argv[1]);
        return 3;
    }
    user = SRP_VBASE_get1_by_user(vb, argv[2]);
    if (user == NULL) {
        fprintf(stderr, "no user %s\n", argv[2]);
        return 2;
    }
    salt = BN_dup(user->s);
    if (salt == NULL
        || !SRP_create_verifier_BN(argv[2], argv[3], &salt, &v, user->N, user->g)) {
        fprintf(stderr, "SRP_create_verifier_BN failed\n");
        return 3;
    }
    rc = BN_cmp(v, user->v) == 0 ? 0 : 1;
    fprintf(stderr, "%s: %d-bit group, %s\n", argv[2], BN_num_bits(user->N),
            rc == 0 ? "password matches" : "password does not match");
    BN_free(salt);
    BN_free(v);
    SRP_user_pwd_free(user);
    SRP_VBASE_free(vb);
    return rc;
}
