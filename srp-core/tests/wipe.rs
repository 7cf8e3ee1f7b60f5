//! Secret temporaries are wiped before their memory is freed (issue 10): enrolment, the server's
//! and the client's side of a handshake run under an allocator that searches every freed heap
//! block for the secrets of that handshake, in every form the core computes them (big-endian
//! bytes, limbs, Montgomery form).
//!
//! What this cannot see: copies on the stack (the SHA-1 states of x, covered by the unit tests
//! of `srp_core::secret_hash`), and scratch space inside crypto-bigint's multiplications, which
//! holds intermediate values rather than these (docs/design.md).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use srp_core::{
    GroupId, PRIVATE_KEY_LEN, Salt, Server, Username, Verifier, client_exchange_with_private_key,
    compute_u_bytes, compute_x,
};
use srp_test_support::alloc::{Tracking, Watch};

#[global_allocator]
static ALLOC: Tracking = Tracking;

const PASSWORD: &[u8] = b"wipe-test password: correct horse battery staple";

fn limb_bytes(value: &BoxedUint) -> Vec<u8> {
    value.as_words().iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The Montgomery form of a big-endian value in the group, as crypto-bigint holds it in memory.
fn montgomery(id: GroupId, value: &[u8]) -> Vec<u8> {
    let group = id.group();
    let n = BoxedUint::from_be_slice_vartime(group.n_bytes());
    let params = BoxedMontyParams::new_vartime(Odd::new(n).expect("N is odd"));
    let value = BoxedUint::from_be_slice(value, id.bits()).expect("value fits");
    limb_bytes(BoxedMontyForm::new(value, &params).as_montgomery())
}

#[test]
fn secret_temporaries_are_wiped() {
    for id in [GroupId::G1024, GroupId::G2048] {
        let group = id.group();
        let bits = id.bits();
        let username = Username::new(b"alice").expect("username");
        let salt = Salt::new(&[0x5c; 20]).expect("salt");
        let (a, b) = ([0x11; PRIVATE_KEY_LEN], [0x22; PRIVATE_KEY_LEN]);

        // The values of this handshake, computed first (their own temporaries are not watched).
        let verifier = Verifier::compute(group, &username, PASSWORD, &salt);
        let v = verifier.to_bytes().to_vec();
        let b_pub = Server::with_private_key(&verifier, &b).expect("server").public_key().to_vec();
        let client =
            client_exchange_with_private_key(group, &username, PASSWORD, &salt, &b_pub, &a)
                .expect("client");
        let a_pub = client.public_key.to_vec();
        let s = client.premaster.as_bytes().to_vec();
        drop(client);
        let x = compute_x(&username, PASSWORD, &salt);
        let u = compute_u_bytes(group, &a_pub, &b_pub).expect("u");
        let u_x = BoxedUint::from_be_slice(&u, 384)
            .expect("u fits")
            .wrapping_mul(BoxedUint::from_be_slice(&x[..], 384).expect("x fits"));
        let markers = vec![
            ("the password".to_owned(), PASSWORD.to_vec()),
            ("x".to_owned(), x.to_vec()),
            ("v in Montgomery form".to_owned(), montgomery(id, &v)),
            ("S in Montgomery form".to_owned(), montgomery(id, &s)),
            ("u*x".to_owned(), limb_bytes(&u_x)),
        ];

        let watch = Watch::start(markers);
        let verifier = Verifier::compute(group, &username, PASSWORD, &salt);
        let server = Server::with_private_key(&verifier, &b).expect("server");
        let client =
            client_exchange_with_private_key(group, &username, PASSWORD, &salt, &b_pub, &a)
                .expect("client");
        let server_premaster = server.premaster(&client.public_key).expect("server premaster");
        assert_eq!(server_premaster.as_bytes(), client.premaster.as_bytes(), "{bits}: agree");
        drop((verifier, client, server_premaster));
        let found = watch.finish();
        assert!(found.is_empty(), "{bits} bits: freed without being wiped: {found:?}");
    }
}

/// The check can fail: a copy dropped without wiping is found, a wiped one is not.
#[test]
fn the_watch_finds_an_unwiped_copy() {
    let secret = b"a secret that is dropped without being wiped".to_vec();
    let watch = Watch::start(vec![("the secret".to_owned(), secret.clone())]);
    drop(std::hint::black_box(secret.clone()));
    drop(zeroize::Zeroizing::new(std::hint::black_box(secret.clone())));
    assert_eq!(watch.finish(), ["the secret"]);

    let watch = Watch::start(vec![("the secret".to_owned(), secret.clone())]);
    drop(zeroize::Zeroizing::new(std::hint::black_box(secret.clone())));
    assert!(watch.finish().is_empty(), "a wiped copy is not reported");
}
