//! Properties of the public API: client and server agree in every RFC 5054 group for random
//! credentials, salts and private keys; a wrong password gives a different premaster secret;
//! and every check of a public value or a group rejects with its specific error and alert.
//!
//! Case counts are small for the large groups so that the file runs in seconds in the debug
//! profile (an 8192-bit handshake takes about half a second there).

use proptest::collection::vec;
use proptest::prelude::*;
use srp_core::{
    Alert, DEFAULT_MIN_BITS, Error, Group, GroupId, PRIVATE_KEY_LEN, Salt, Server, Username,
    Verifier, client_exchange, client_exchange_with_private_key, compute_u_bytes,
};

// ---------------------------------------------------------------------------------------------
// Random handshakes

/// A username: 1 to 64 bytes, no NUL.
fn username() -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 1..=64)
}

/// A password: any bytes, possibly empty.
fn password() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=64)
}

/// A salt of 1 to 64 bytes; one in four starts with zero bytes, which RFC 5054 hashes as sent.
fn salt() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 1..=64),
        1 => (1usize..=3, vec(any::<u8>(), 0..=32))
            .prop_map(|(zeros, rest)| [vec![0u8; zeros], rest].concat()),
    ]
}

fn private_key() -> impl Strategy<Value = [u8; PRIVATE_KEY_LEN]> {
    any::<[u8; PRIVATE_KEY_LEN]>()
}

fn config(cases: u32) -> ProptestConfig {
    // Shrinking re-runs whole handshakes: keep it short for the large groups.
    ProptestConfig { cases, max_shrink_iters: 64, ..ProptestConfig::default() }
}

/// One handshake with given keys: both sides must derive the same premaster secret, and the
/// public values and the secret must be minimal encodings no longer than N.
fn client_and_server_agree(
    id: GroupId,
    user: &[u8],
    password: &[u8],
    salt: &[u8],
    a: &[u8],
    b: &[u8],
) -> Result<(), TestCaseError> {
    let bits = id.bits();
    let group = id.group();
    let n_len = group.n_len();
    let username = Username::new(user).expect("valid username");
    let salt = Salt::new(salt).expect("valid salt");

    let verifier = Verifier::compute(group, &username, password, &salt);
    // A verifier survives storage: reloaded, it gives the same B.
    let reloaded = Verifier::from_bytes(group, &verifier.to_bytes()).expect("stored verifier");
    prop_assert!(reloaded.ct_eq(&verifier), "verifier round trip in group {}", bits);

    let server = Server::with_private_key(&verifier, b).expect("server");
    let server_again = Server::with_private_key(&reloaded, b).expect("server");
    prop_assert_eq!(server.public_key(), server_again.public_key(), "B in group {}", bits);
    let b_pub = server.public_key().to_vec();

    let client = client_exchange_with_private_key(group, &username, password, &salt, &b_pub, a)
        .expect("client exchange");
    let server_premaster = server.premaster(&client.public_key).expect("server premaster");

    prop_assert_eq!(
        client.premaster.as_bytes(),
        server_premaster.as_bytes(),
        "client and server premaster in group {}",
        bits
    );
    for (what, value) in [
        ("A", &client.public_key[..]),
        ("B", &b_pub[..]),
        ("premaster", server_premaster.as_bytes()),
    ] {
        prop_assert!(value.len() <= n_len, "{} no longer than N in group {}", what, bits);
        prop_assert!(value.first() != Some(&0), "{} minimal in group {}", what, bits);
    }
    Ok(())
}

macro_rules! agreement_tests {
    ($($name:ident: $id:expr, $cases:expr;)*) => {$(
        proptest! {
            #![proptest_config(config($cases))]
            #[test]
            fn $name(
                user in username(),
                password in password(),
                salt in salt(),
                a in private_key(),
                b in private_key(),
            ) {
                client_and_server_agree($id, &user, &password, &salt, &a, &b)?;
            }
        }
    )*};
}

agreement_tests! {
    client_and_server_agree_1024: GroupId::G1024, 32;
    client_and_server_agree_1536: GroupId::G1536, 16;
    client_and_server_agree_2048: GroupId::G2048, 12;
    client_and_server_agree_3072: GroupId::G3072, 6;
    client_and_server_agree_4096: GroupId::G4096, 4;
    client_and_server_agree_6144: GroupId::G6144, 2;
    client_and_server_agree_8192: GroupId::G8192, 2;
}

proptest! {
    #![proptest_config(config(8))]

    /// The same with the random private keys of `Server::new` and `client_exchange`.
    #[test]
    fn random_keys_agree(
        id in prop::sample::select(&[GroupId::G1024, GroupId::G2048][..]),
        user in username(),
        password in password(),
        salt in salt(),
    ) {
        let group = id.group();
        let username = Username::new(&user).expect("valid username");
        let salt = Salt::new(&salt).expect("valid salt");
        let verifier = Verifier::compute(group, &username, &password, &salt);
        let server = Server::new(&verifier).expect("server");
        let client = client_exchange(group, &username, &password, &salt, server.public_key())
            .expect("client exchange");
        let server_premaster = server.premaster(&client.public_key).expect("server premaster");
        prop_assert_eq!(client.premaster.as_bytes(), server_premaster.as_bytes(), "premaster");
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// A client with the wrong password (or the wrong username) computes a different premaster
    /// secret than the server, so the Finished messages fail (`bad_record_mac`).
    #[test]
    fn wrong_credentials_give_a_different_premaster(
        id in prop::sample::select(&[GroupId::G1024, GroupId::G1536, GroupId::G2048][..]),
        user in username(),
        other_user in username(),
        password in password(),
        wrong_password in password(),
        salt in salt(),
        a in private_key(),
        b in private_key(),
    ) {
        prop_assume!(password != wrong_password && user != other_user);
        let bits = id.bits();
        let group = id.group();
        let username = Username::new(&user).expect("valid username");
        let salt = Salt::new(&salt).expect("valid salt");
        let verifier = Verifier::compute(group, &username, &password, &salt);
        // A server answers one handshake: one per client, with the same b.
        let server = || Server::with_private_key(&verifier, &b).expect("server");
        let b_pub = server().public_key().to_vec();

        let wrong = client_exchange_with_private_key(
            group, &username, &wrong_password, &salt, &b_pub, &a,
        ).expect("client exchange");
        let server_premaster = server().premaster(&wrong.public_key).expect("server premaster");
        prop_assert_ne!(
            wrong.premaster.as_bytes(), server_premaster.as_bytes(),
            "premaster with a wrong password in group {}", bits
        );

        let other = Username::new(&other_user).expect("valid username");
        let wrong = client_exchange_with_private_key(
            group, &other, &password, &salt, &b_pub, &a,
        ).expect("client exchange");
        let server_premaster = server().premaster(&wrong.public_key).expect("server premaster");
        prop_assert_ne!(
            wrong.premaster.as_bytes(), server_premaster.as_bytes(),
            "premaster with a wrong username in group {}", bits
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Public values (A on the server, B on the client)

/// `value` + `small`, big-endian, one byte longer than `value` if it carries out.
fn add_small(value: &[u8], small: u8) -> Vec<u8> {
    let mut out = value.to_vec();
    let mut carry = u16::from(small);
    for byte in out.iter_mut().rev() {
        let sum = u16::from(*byte) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    if carry > 0 {
        out.insert(0, carry as u8);
    }
    out
}

/// 2 * `value`, big-endian (one byte longer: every N has its top bit set).
fn double(value: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; value.len() + 1];
    for (i, &byte) in value.iter().enumerate() {
        out[i] |= byte >> 7;
        out[i + 1] = byte << 1;
    }
    out
}

/// Public values that must be rejected, with the error each must give.
fn bad_public_values(group: &Group) -> Vec<(&'static str, Vec<u8>, Error)> {
    let n = group.n_bytes();
    let n_len = group.n_len();
    let mut longer = vec![0u8; n_len + 1];
    longer[0] = 1;
    vec![
        ("0 (empty)", vec![], Error::PublicValueZeroModN),
        ("0 (one byte)", vec![0], Error::PublicValueZeroModN),
        ("0 (padded to |N|)", vec![0; n_len], Error::PublicValueZeroModN),
        ("N", n.to_vec(), Error::PublicValueZeroModN),
        ("N + 1", add_small(n, 1), Error::PublicValueOutOfRange),
        ("2^bits - 1", vec![0xff; n_len], Error::PublicValueOutOfRange),
        ("2N", double(n), Error::ValueTooLong),
        ("2^(8 |N|), longer than N", longer, Error::ValueTooLong),
        ("N with a leading zero byte", [&[0u8][..], n].concat(), Error::ValueTooLong),
        ("1 padded to |N| + 1 bytes", add_small(&vec![0u8; n_len + 1], 1), Error::ValueTooLong),
    ]
}

/// alice's credentials in group `id` and a maker of servers for her (each takes one A), all
/// with the same b.
fn fixture(id: GroupId) -> (Username, Salt, impl Fn() -> Server) {
    let username = Username::new(b"alice").expect("valid username");
    let salt = Salt::new(b"salt").expect("valid salt");
    let verifier = Verifier::compute(id.group(), &username, b"password", &salt);
    let server =
        move || Server::with_private_key(&verifier, &[0x42; PRIVATE_KEY_LEN]).expect("server");
    (username, salt, server)
}

#[test]
fn client_rejects_bad_b() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let (username, salt, _) = fixture(id);
        for (what, b_pub, expected) in bad_public_values(id.group()) {
            let result = client_exchange_with_private_key(
                id.group(),
                &username,
                b"password",
                &salt,
                &b_pub,
                &[0x24; PRIVATE_KEY_LEN],
            );
            let error = result.map(drop).expect_err("a bad B is rejected");
            assert_eq!(error, expected, "client's error for B = {what} in group {bits}");
            assert_eq!(error.alert(), Alert::IllegalParameter, "alert for B = {what}, {bits}");
        }
    }
}

/// B = k*v mod N: what a malicious server that knows the verifier sends to make the client's
/// base B - k*g^x zero, and so S = 0 whatever a and u are.
fn b_forcing_zero_premaster(id: GroupId, verifier: &Verifier) -> Vec<u8> {
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, Odd};
    let group = id.group();
    let n = BoxedUint::from_be_slice_vartime(group.n_bytes());
    let params = BoxedMontyParams::new_vartime(Odd::new(n).expect("N is odd"));
    let to_monty = |bytes: &[u8]| {
        BoxedMontyForm::new(BoxedUint::from_be_slice_truncated(bytes, id.bits()), &params)
    };
    let k_v = to_monty(&group.k_bytes()).mul(&to_monty(&verifier.to_bytes())).retrieve();
    let bytes = k_v.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).expect("k*v is not 0 mod a prime N");
    bytes[first..].to_vec()
}

#[test]
fn client_rejects_b_that_forces_a_zero_premaster() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let (username, salt, _) = fixture(id);
        let verifier = Verifier::compute(id.group(), &username, b"password", &salt);
        let b_pub = b_forcing_zero_premaster(id, &verifier);
        let result = client_exchange_with_private_key(
            id.group(),
            &username,
            b"password",
            &salt,
            &b_pub,
            &[0x24; PRIVATE_KEY_LEN],
        );
        let error = result.map(drop).expect_err("B = k*v is rejected");
        assert_eq!(error, Error::ZeroSharedSecret, "client's error for B = k*v in group {bits}");
        assert_eq!(error.alert(), Alert::IllegalParameter, "alert for B = k*v in group {bits}");
    }
}

#[test]
fn server_rejects_bad_a() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let (_, _, server) = fixture(id);
        for (what, a_pub, expected) in bad_public_values(id.group()) {
            let error = server().premaster(&a_pub).map(drop).expect_err("a bad A is rejected");
            assert_eq!(error, expected, "server's error for A = {what} in group {bits}");
            assert_eq!(error.alert(), Alert::IllegalParameter, "alert for A = {what}, {bits}");
        }
    }
}

#[test]
fn compute_u_bytes_rejects_bad_public_values() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let (username, salt, server) = fixture(id);
        let server = server();
        let client = client_exchange_with_private_key(
            group,
            &username,
            b"password",
            &salt,
            server.public_key(),
            &[0x24; PRIVATE_KEY_LEN],
        )
        .expect("client exchange");
        assert!(compute_u_bytes(group, &client.public_key, server.public_key()).is_ok(), "u");
        for (what, value, expected) in bad_public_values(group) {
            let as_a = compute_u_bytes(group, &value, server.public_key());
            assert_eq!(as_a, Err(expected), "u with A = {what} in group {bits}");
            let as_b = compute_u_bytes(group, &client.public_key, &value);
            assert_eq!(as_b, Err(expected), "u with B = {what} in group {bits}");
        }
    }
}

#[test]
fn edge_public_values_just_inside_the_range_are_accepted() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let (_, _, server) = fixture(id);
        let mut n_minus_1 = id.group().n_bytes().to_vec();
        // Every N is odd: N - 1 only clears the last bit.
        *n_minus_1.last_mut().expect("N is not empty") &= 0xfe;
        let mut one_padded = vec![0u8; id.group().n_len()];
        *one_padded.last_mut().expect("N is not empty") = 1;
        for (what, a_pub) in [("1", vec![1]), ("1 padded to |N|", one_padded), ("N - 1", n_minus_1)]
        {
            let accepted = server().premaster(&a_pub).is_ok();
            assert!(accepted, "server accepts A = {what} in group {bits}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Groups from the network (Group::from_params)

fn id_of(result: Result<&'static Group, Error>) -> Result<GroupId, Error> {
    result.map(Group::id)
}

#[test]
fn every_known_group_is_admitted() {
    for id in GroupId::ALL {
        let group = id.group();
        assert_eq!(
            id_of(Group::from_params(group.n_bytes(), group.g_bytes(), 1024)),
            Ok(id),
            "group {} with floor 1024",
            id.bits()
        );
    }
}

/// The exact-match rule compares every bit of N: an older NSS TLS-SRP patch compared with
/// `if (PORT_Strcmp(...))` and so admitted every group but the known ones. Here every known
/// group is admitted (above) and N with any single bit flipped is not.
#[test]
fn n_with_any_bit_flipped_is_an_unknown_group() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let mut n = group.n_bytes().to_vec();
        for bit in 0..n.len() * 8 {
            n[bit / 8] ^= 0x80 >> (bit % 8);
            let error = Group::from_params(&n, group.g_bytes(), 1024)
                .map(drop)
                .expect_err("a modified N is rejected");
            assert_eq!(error, Error::UnknownGroup, "group {bits} with bit {bit} of N flipped");
            assert_eq!(error.alert(), Alert::InsufficientSecurity, "alert, bit {bit}, {bits}");
            n[bit / 8] ^= 0x80 >> (bit % 8);
        }
        assert_eq!(n, group.n_bytes(), "N restored");
    }
}

#[test]
fn n_truncated_or_extended_is_an_unknown_group() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let n = group.n_bytes();
        let g = group.g_bytes();
        let cases: [(&str, Vec<u8>); 5] = [
            ("empty N", vec![]),
            ("N without its last byte", n[..n.len() - 1].to_vec()),
            ("N without its first byte", n[1..].to_vec()),
            ("N with a trailing zero byte (256 N)", [n, &[0u8][..]].concat()),
            ("N + 2", add_small(n, 2)),
        ];
        for (what, n) in cases {
            let error = Group::from_params(&n, g, 1024).map(drop).expect_err("rejected");
            assert_eq!(error, Error::UnknownGroup, "{what} in group {bits}");
            assert_eq!(error.alert(), Alert::InsufficientSecurity, "alert for {what}, {bits}");
        }
    }
}

#[test]
fn wrong_generator_is_an_unknown_group() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let g = id.generator();
        let mut wrong: Vec<Vec<u8>> = [0u8, 1, 2, 3, 4, 5, 7, 19, 255]
            .into_iter()
            .filter(|&other| other != g)
            .map(|other| vec![other])
            .collect();
        wrong.extend([
            vec![],
            vec![g, 0],
            vec![1, g],
            // g + N is g modulo N, but not the group's g.
            add_small(group.n_bytes(), g),
        ]);
        for wrong_g in wrong {
            let error =
                Group::from_params(group.n_bytes(), &wrong_g, 1024).map(drop).expect_err("wrong g");
            assert_eq!(error, Error::UnknownGroup, "group {bits} with g = {wrong_g:02x?}");
            assert_eq!(error.alert(), Alert::InsufficientSecurity, "alert, g = {wrong_g:02x?}");
        }
    }
}

#[test]
fn n_and_g_of_different_groups_are_an_unknown_group() {
    for n_id in GroupId::ALL {
        for g_id in GroupId::ALL {
            if n_id.generator() == g_id.generator() {
                continue;
            }
            let result =
                Group::from_params(n_id.group().n_bytes(), g_id.group().g_bytes(), 1024).map(drop);
            assert_eq!(
                result,
                Err(Error::UnknownGroup),
                "N of group {} with g = {}",
                n_id.bits(),
                g_id.generator()
            );
        }
    }
}

#[test]
fn leading_zero_bytes_of_n_and_g_are_ignored() {
    for id in GroupId::ALL {
        let group = id.group();
        for zeros in [1, 2, 7] {
            let n = [vec![0u8; zeros], group.n_bytes().to_vec()].concat();
            let g = [vec![0u8; zeros], group.g_bytes().to_vec()].concat();
            let label = format!("group {} with {zeros} leading zero bytes", id.bits());
            assert_eq!(id_of(Group::from_params(&n, group.g_bytes(), 1024)), Ok(id), "N, {label}");
            assert_eq!(id_of(Group::from_params(group.n_bytes(), &g, 1024)), Ok(id), "g, {label}");
            assert_eq!(id_of(Group::from_params(&n, &g, 1024)), Ok(id), "N and g, {label}");
        }
        // The same length as N: ServerKeyExchange may carry g padded to |N|.
        let mut padded_g = vec![0u8; group.n_len()];
        *padded_g.last_mut().expect("N is not empty") = id.generator();
        assert_eq!(
            id_of(Group::from_params(group.n_bytes(), &padded_g, 1024)),
            Ok(id),
            "group {} with g padded to |N|",
            id.bits()
        );
    }
}

#[test]
fn groups_below_the_floor_are_too_small() {
    for (min_bits, expect_ok) in [
        (0, 1024),
        (1024, 1024),
        (DEFAULT_MIN_BITS, 2048),
        (3000, 3072),
        (4096, 4096),
        (8192, 8192),
        (8193, u32::MAX),
    ] {
        for id in GroupId::ALL {
            let group = id.group();
            let bits = id.bits();
            let result = id_of(Group::from_params(group.n_bytes(), group.g_bytes(), min_bits));
            if bits >= expect_ok {
                assert_eq!(result, Ok(id), "group {bits} with floor {min_bits}");
            } else {
                let error = result.expect_err("below the floor");
                assert_eq!(
                    error,
                    Error::GroupTooSmall { bits, min_bits },
                    "group {bits} with floor {min_bits}"
                );
                assert_eq!(error.alert(), Alert::InsufficientSecurity, "alert, {bits}/{min_bits}");
            }
        }
    }
    // The default floor: the 1024- and 1536-bit groups of RFC 5054 are refused.
    let g1024 = GroupId::G1024.group();
    assert_eq!(
        id_of(Group::from_params(g1024.n_bytes(), g1024.g_bytes(), DEFAULT_MIN_BITS)),
        Err(Error::GroupTooSmall { bits: 1024, min_bits: 2048 }),
        "the 1024-bit group with the default floor"
    );
}
