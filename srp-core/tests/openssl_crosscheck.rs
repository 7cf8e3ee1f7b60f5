//! Cross-check against OpenSSL libcrypto's own SRP functions (the ones libssl's TLS-SRP uses):
//! x, v, A, B, u and the premaster secret S, for random inputs in all seven RFC 5054 groups, and
//! the checks of public values.
//!
//! What is compared, and how OpenSSL encodes it:
//! - x: `SRP_Calc_x`, 20 bytes. OpenSSL takes the salt as a BIGNUM, so it hashes the salt
//!   *without its leading zero bytes*; RFC 5054 section 2.4 hashes the salt as sent. Both agree
//!   exactly when the salt's first byte is not zero, which is why this core generates salts
//!   with a non-zero first byte ([`srp_core::DEFAULT_SALT_LEN`]). A salt with a leading zero that
//!   another server sends makes an OpenSSL client compute a different x, and the handshake
//!   fails. The exchange checks below therefore use salts without leading zeros; the difference
//!   itself has its own tests.
//! - v: `SRP_create_verifier_BN` with the given salt, minimal big-endian.
//! - A, B: `SRP_Calc_A`, `SRP_Calc_B`, minimal big-endian (as both send them).
//! - u: `SRP_Calc_u`, 20 bytes.
//! - S: `SRP_Calc_client_key` and `SRP_Calc_server_key`; libssl's premaster secret is
//!   `BN_bn2bin(S)`, without leading zero bytes, as this core's.
//!
//! One value in 256 has a leading zero byte, so each group runs many random handshakes, and in
//! every group the inputs for an A, a B and an S with a leading zero byte are also searched with
//! OpenSSL (fast even here) and then checked against this core. The random inputs come from a
//! seed printed by each test; `SRP_CROSSCHECK_SEED=<hex>` replays a run.

use hex_literal::hex;
use srp_core::{
    Alert, Error, Group, GroupId, PRIVATE_KEY_LEN, Salt, Server, Username, Verifier,
    client_exchange_with_private_key, compute_u_bytes, compute_x,
};
use srp_test_support::openssl::{self, Bn, DefaultGroup};

// ---------------------------------------------------------------------------------------------
// Random inputs

/// SplitMix64: small, seedable, good enough for test inputs.
struct Rng(u64);

impl Rng {
    /// The run's seed: `SRP_CROSSCHECK_SEED` (hex) or fresh from the OS.
    fn seed() -> u64 {
        match std::env::var("SRP_CROSSCHECK_SEED") {
            Ok(text) => u64::from_str_radix(text.trim_start_matches("0x"), 16)
                .expect("SRP_CROSSCHECK_SEED is a hex number"),
            Err(_) => {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).expect("OS random numbers");
                u64::from_le_bytes(bytes)
            }
        }
    }

    /// A generator for one test: the run's seed mixed with the test's name, so each test
    /// replays on its own.
    fn for_test(name: &str) -> (Rng, u64) {
        let seed = Self::seed();
        eprintln!("{name}: seed {seed:#x} (replay with SRP_CROSSCHECK_SEED={seed:x})");
        let mut rng = Rng(seed);
        for byte in name.bytes() {
            rng.0 ^= u64::from(byte);
            rng.next_u64();
        }
        (rng, seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `range` (inclusive).
    fn in_range(&mut self, range: std::ops::RangeInclusive<usize>) -> usize {
        let span = (range.end() - range.start() + 1) as u64;
        range.start() + (self.next_u64() % span) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// Bytes without NUL (OpenSSL takes username and password as C strings).
    fn non_nul_bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next_u64() % 255) as u8 + 1).collect()
    }

    fn private_key(&mut self) -> [u8; PRIVATE_KEY_LEN] {
        self.bytes(PRIVATE_KEY_LEN).try_into().expect("32 bytes")
    }
}

/// One handshake's inputs.
#[derive(Clone)]
struct Inputs {
    user: Vec<u8>,
    pass: Vec<u8>,
    /// First byte never zero (see the module documentation).
    salt: Vec<u8>,
    a: [u8; PRIVATE_KEY_LEN],
    b: [u8; PRIVATE_KEY_LEN],
}

impl Inputs {
    fn random(rng: &mut Rng) -> Inputs {
        let user_len = rng.in_range(1..=64);
        let pass_len = rng.in_range(0..=64);
        // Various salt lengths: short, the usual 16/20/32, up to the TLS maximum of 255.
        let salt_len = match rng.in_range(0..=3) {
            0 => rng.in_range(1..=8),
            1 => [16, 20, 32][rng.in_range(0..=2)],
            2 => rng.in_range(9..=64),
            _ => rng.in_range(65..=255),
        };
        let mut salt = rng.bytes(salt_len);
        salt[0] = salt[0].max(1);
        Inputs {
            user: rng.non_nul_bytes(user_len),
            pass: rng.non_nul_bytes(pass_len),
            salt,
            a: rng.private_key(),
            b: rng.private_key(),
        }
    }
}

/// Which values of one handshake had a leading zero byte (were shorter than N).
#[derive(Default, Debug, Clone, Copy)]
struct Short {
    a_pub: bool,
    b_pub: bool,
    premaster: bool,
}

/// Runs one handshake in this core (client and server) and in OpenSSL, and asserts that every
/// value agrees.
fn crosscheck(bits: u32, inputs: &Inputs, label: &str) -> Short {
    let group = Group::by_bits(bits).expect("an RFC 5054 group");
    let ossl = DefaultGroup::get(bits);
    let n_len = group.n_len();
    let Inputs { user, pass, salt, a, b } = inputs;

    // This core.
    let username = Username::new(user).expect("valid username");
    let salt_value = Salt::new(salt).expect("valid salt");
    let x = compute_x(&username, pass, &salt_value);
    let verifier = Verifier::compute(group, &username, pass, &salt_value);
    let server = Server::with_private_key(&verifier, b).expect("server");
    let b_pub = server.public_key().to_vec();
    let client = client_exchange_with_private_key(group, &username, pass, &salt_value, &b_pub, a)
        .unwrap_or_else(|e| panic!("client exchange for group {bits}, {label}: {e}"));
    let a_pub = client.public_key.to_vec();
    let u = compute_u_bytes(group, &a_pub, &b_pub).expect("u");
    let server_premaster = server
        .premaster(&a_pub)
        .unwrap_or_else(|e| panic!("server premaster for group {bits}, {label}: {e}"));

    // OpenSSL, as libssl calls it.
    let o_x = openssl::calc_x(salt, user, pass);
    let o_v = openssl::create_verifier(ossl, user, pass, salt);
    let (o_a, o_b) = (Bn::from_bytes(a), Bn::from_bytes(b));
    let o_a_pub = openssl::calc_a(ossl, &o_a);
    let o_b_pub = openssl::calc_b(ossl, &o_b, &o_v);
    let o_u = openssl::calc_u(ossl, &o_a_pub, &o_b_pub).expect("SRP_Calc_u");
    let o_client_s = openssl::calc_client_key(ossl, &o_b_pub, &o_x, &o_a, &o_u);
    let o_server_s = openssl::calc_server_key(ossl, &o_a_pub, &o_v, &o_u, &o_b);

    assert_eq!(x.to_vec(), o_x.to_bytes_padded(20), "x for group {bits}, {label}");
    assert_eq!(*verifier.to_bytes(), o_v.to_bytes(), "v for group {bits}, {label}");
    assert_eq!(a_pub, o_a_pub.to_bytes(), "A for group {bits}, {label}");
    assert_eq!(b_pub, o_b_pub.to_bytes(), "B for group {bits}, {label}");
    assert_eq!(u.to_vec(), o_u.to_bytes_padded(20), "u for group {bits}, {label}");
    assert_eq!(
        o_client_s.to_bytes(),
        o_server_s.to_bytes(),
        "OpenSSL's own client and server S for group {bits}, {label}"
    );
    assert_eq!(
        client.premaster.as_bytes(),
        o_client_s.to_bytes(),
        "client S (premaster) for group {bits}, {label}"
    );
    assert_eq!(
        server_premaster.as_bytes(),
        o_server_s.to_bytes(),
        "server S (premaster) for group {bits}, {label}"
    );
    Short {
        a_pub: a_pub.len() < n_len,
        b_pub: b_pub.len() < n_len,
        premaster: server_premaster.as_bytes().len() < n_len,
    }
}

// ---------------------------------------------------------------------------------------------
// Groups

#[test]
fn openssl_builtin_groups_are_ours() {
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let ossl = DefaultGroup::get(bits);
        assert_eq!(group.n_bytes(), ossl.n_bytes(), "N for group {bits}");
        assert_eq!(group.g_bytes(), ossl.g_bytes(), "g for group {bits}");
        assert_eq!(
            group.k_bytes().to_vec(),
            openssl::calc_k(ossl).to_bytes_padded(20),
            "k = SHA1(N | PAD(g)) for group {bits}"
        );
        let (n, g) = (Bn::from_bytes(group.n_bytes()), Bn::from_bytes(group.g_bytes()));
        assert_eq!(
            openssl::known_gn_id(&g, &n),
            Some(bits.to_string()),
            "SRP_check_known_gN_param knows our (g, N) for group {bits}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// x and the salt's leading zero bytes

#[test]
fn x_and_v_match_openssl_for_salts_without_leading_zero() {
    let (mut rng, seed) = Rng::for_test("x_and_v_match_openssl_for_salts_without_leading_zero");
    let ossl = DefaultGroup::get(1024);
    for i in 0..300 {
        let inputs = Inputs::random(&mut rng);
        let label = format!("iteration {i}, seed {seed:#x}");
        let username = Username::new(&inputs.user).expect("valid username");
        let salt = Salt::new(&inputs.salt).expect("valid salt");
        assert_eq!(
            compute_x(&username, &inputs.pass, &salt).to_vec(),
            openssl::calc_x(&inputs.salt, &inputs.user, &inputs.pass).to_bytes_padded(20),
            "x, {label}"
        );
        if i % 10 == 0 {
            let ours = Verifier::compute(GroupId::G1024.group(), &username, &inputs.pass, &salt);
            let theirs = openssl::create_verifier(ossl, &inputs.user, &inputs.pass, &inputs.salt);
            assert_eq!(*ours.to_bytes(), theirs.to_bytes(), "v in group 1024, {label}");
        }
    }
}

/// RFC 5054 Appendix B: I = "alice", P = "password123", s = BEB25379 D1A8581E B5A72767 3A2441EE.
const RFC_SALT: [u8; 16] = hex!("BEB25379 D1A8581E B5A72767 3A2441EE");
const RFC_X: [u8; 20] = hex!("94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124");

#[test]
fn openssl_drops_the_salts_leading_zeros_from_x() {
    let alice = Username::new(b"alice").expect("valid username");
    let rfc_salt = RFC_SALT.to_vec();
    // The Appendix B salt as sent, and the same salt with a zero byte in front.
    let zero_salt = [&[0u8][..], &rfc_salt].concat();
    let ours_rfc = compute_x(&alice, b"password123", &Salt::new(&rfc_salt).expect("salt"));
    let ours_zero = compute_x(&alice, b"password123", &Salt::new(&zero_salt).expect("salt"));
    let theirs_zero = openssl::calc_x(&zero_salt, b"alice", b"password123").to_bytes_padded(20);

    assert_eq!(ours_rfc.to_vec(), RFC_X, "our x for the Appendix B salt");
    assert_eq!(theirs_zero, RFC_X, "OpenSSL's x for 00 | salt is the x for the salt");
    assert_ne!(ours_zero.to_vec(), RFC_X, "our x for 00 | salt hashes the zero byte");
}

#[test]
fn x_differs_from_openssl_exactly_when_the_salt_has_leading_zeros() {
    let (mut rng, seed) =
        Rng::for_test("x_differs_from_openssl_exactly_when_the_salt_has_leading_zeros");
    let group = GroupId::G1024.group();
    let ossl = DefaultGroup::get(1024);
    for i in 0..200 {
        let mut inputs = Inputs::random(&mut rng);
        let zeros = rng.in_range(1..=3);
        inputs.salt = [vec![0u8; zeros], inputs.salt].concat();
        inputs.salt.truncate(255);
        let stripped = &inputs.salt[zeros..];
        let label = format!("{zeros} leading zero bytes, iteration {i}, seed {seed:#x}");

        let username = Username::new(&inputs.user).expect("valid username");
        let salt_as_sent = Salt::new(&inputs.salt).expect("valid salt");
        let salt_stripped = Salt::new(stripped).expect("valid salt");
        let ours_as_sent = compute_x(&username, &inputs.pass, &salt_as_sent);
        let ours_stripped = compute_x(&username, &inputs.pass, &salt_stripped);
        let theirs = openssl::calc_x(&inputs.salt, &inputs.user, &inputs.pass).to_bytes_padded(20);

        assert_ne!(ours_as_sent.to_vec(), theirs, "x differs (RFC 5054 hashes the zeros), {label}");
        assert_eq!(
            ours_stripped.to_vec(),
            theirs,
            "OpenSSL's x is x of the stripped salt, {label}"
        );
        if i % 20 == 0 {
            let theirs_v = openssl::create_verifier(ossl, &inputs.user, &inputs.pass, &inputs.salt);
            let ours_as_sent = Verifier::compute(group, &username, &inputs.pass, &salt_as_sent);
            let ours_stripped = Verifier::compute(group, &username, &inputs.pass, &salt_stripped);
            assert_ne!(*ours_as_sent.to_bytes(), theirs_v.to_bytes(), "v differs, {label}");
            assert_eq!(*ours_stripped.to_bytes(), theirs_v.to_bytes(), "v of stripped, {label}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handshakes

/// How many random handshakes each group runs (debug builds: the large groups are slow).
fn iterations(bits: u32) -> usize {
    match bits {
        1024 => 256,
        1536 | 2048 => 64,
        3072 => 16,
        4096 => 8,
        6144 => 4,
        _ => 2,
    }
}

/// Random handshakes in one group; in the 1024-bit group they go on until an A, a B and a
/// premaster secret with a leading zero byte have each been seen. Then, in every group, inputs
/// that give such values are searched with OpenSSL and checked.
fn exchange_matches_openssl(bits: u32) {
    let name = format!("exchange_matches_openssl_{bits}");
    let (mut rng, seed) = Rng::for_test(&name);
    let mut seen = [0usize; 3];
    let mut i = 0;
    loop {
        let inputs = Inputs::random(&mut rng);
        let short = crosscheck(bits, &inputs, &format!("iteration {i}, seed {seed:#x}"));
        seen[0] += usize::from(short.a_pub);
        seen[1] += usize::from(short.b_pub);
        seen[2] += usize::from(short.premaster);
        i += 1;
        let seen_all = seen.iter().all(|&n| n > 0);
        if i >= iterations(bits) && (bits != 1024 || seen_all || i >= 8192) {
            break;
        }
    }
    eprintln!(
        "group {bits}: {i} random handshakes; leading zero byte in A {}, B {}, S {} times",
        seen[0], seen[1], seen[2]
    );
    if bits == 1024 {
        assert!(
            seen.iter().all(|&n| n > 0),
            "in {i} random handshakes an A, a B and an S with a leading zero byte each showed \
             up (A {}, B {}, S {}), seed {seed:#x}",
            seen[0],
            seen[1],
            seen[2]
        );
    }

    // Forced cases: OpenSSL finds inputs whose A, B or S has a leading zero byte.
    let forced = [
        ("A", force_short_a_pub(bits, &mut rng)),
        ("B", force_short_b_pub(bits, &mut rng)),
        ("S", force_short_premaster(bits, &mut rng)),
    ];
    for (what, inputs) in forced {
        let short = crosscheck(bits, &inputs, &format!("forced short {what}, seed {seed:#x}"));
        let hit = match what {
            "A" => short.a_pub,
            "B" => short.b_pub,
            _ => short.premaster,
        };
        assert!(hit, "our {what} has a leading zero byte in group {bits}, seed {seed:#x}");
    }
}

/// Tries for each forced case: a miss has probability 255/256, so missing 8192 times in a row
/// has probability below 1e-13.
const FORCE_TRIES: usize = 8192;

fn force_short_a_pub(bits: u32, rng: &mut Rng) -> Inputs {
    let ossl = DefaultGroup::get(bits);
    let n_len = (bits / 8) as usize;
    let mut inputs = Inputs::random(rng);
    for _ in 0..FORCE_TRIES {
        inputs.a = rng.private_key();
        if openssl::calc_a(ossl, &Bn::from_bytes(&inputs.a)).num_bytes() < n_len {
            return inputs;
        }
    }
    panic!("no A with a leading zero byte in {FORCE_TRIES} tries in group {bits}");
}

fn force_short_b_pub(bits: u32, rng: &mut Rng) -> Inputs {
    let ossl = DefaultGroup::get(bits);
    let n_len = (bits / 8) as usize;
    let mut inputs = Inputs::random(rng);
    let v = openssl::create_verifier(ossl, &inputs.user, &inputs.pass, &inputs.salt);
    for _ in 0..FORCE_TRIES {
        inputs.b = rng.private_key();
        if openssl::calc_b(ossl, &Bn::from_bytes(&inputs.b), &v).num_bytes() < n_len {
            return inputs;
        }
    }
    panic!("no B with a leading zero byte in {FORCE_TRIES} tries in group {bits}");
}

fn force_short_premaster(bits: u32, rng: &mut Rng) -> Inputs {
    let ossl = DefaultGroup::get(bits);
    let n_len = (bits / 8) as usize;
    let mut inputs = Inputs::random(rng);
    let v = openssl::create_verifier(ossl, &inputs.user, &inputs.pass, &inputs.salt);
    let a_pub = openssl::calc_a(ossl, &Bn::from_bytes(&inputs.a));
    for _ in 0..FORCE_TRIES {
        inputs.b = rng.private_key();
        let b = Bn::from_bytes(&inputs.b);
        let b_pub = openssl::calc_b(ossl, &b, &v);
        let u = openssl::calc_u(ossl, &a_pub, &b_pub).expect("SRP_Calc_u");
        if openssl::calc_server_key(ossl, &a_pub, &v, &u, &b).num_bytes() < n_len {
            return inputs;
        }
    }
    panic!("no S with a leading zero byte in {FORCE_TRIES} tries in group {bits}");
}

#[test]
fn exchange_matches_openssl_1024() {
    exchange_matches_openssl(1024);
}

#[test]
fn exchange_matches_openssl_1536() {
    exchange_matches_openssl(1536);
}

#[test]
fn exchange_matches_openssl_2048() {
    exchange_matches_openssl(2048);
}

#[test]
fn exchange_matches_openssl_3072() {
    exchange_matches_openssl(3072);
}

#[test]
fn exchange_matches_openssl_4096() {
    exchange_matches_openssl(4096);
}

#[test]
fn exchange_matches_openssl_6144() {
    exchange_matches_openssl(6144);
}

#[test]
fn exchange_matches_openssl_8192() {
    exchange_matches_openssl(8192);
}

// ---------------------------------------------------------------------------------------------
// Public value checks

/// A public value (A or B) as it may arrive, with this core's verdict and OpenSSL's
/// `SRP_Verify_A_mod_N` / `SRP_Verify_B_mod_N` verdict.
///
/// OpenSSL's functions check only `value % N != 0`; libssl adds `value < N` itself
/// (`srp_verify_server_param` for B, `tls_process_cke_srp` for A). This core does both in one
/// place, and also refuses an encoding longer than N even when its value is small.
struct Case {
    what: &'static str,
    bytes: Vec<u8>,
    ours: Result<(), Error>,
    openssl_mod_n_ok: bool,
    /// Whether the value is below N (`SRP_Calc_u` refuses A or B otherwise).
    below_n: bool,
}

fn public_value_cases(group: &Group) -> Vec<Case> {
    let n_len = group.n_len();
    let n = Bn::from_bytes(group.n_bytes());
    let one = Bn::from_bytes(&[1]);
    let n_plus_1 = openssl::add(&n, &one);
    let two_n = openssl::add(&n, &n);
    let two_n_plus_1 = openssl::add(&two_n, &one);
    let mut n_minus_1 = group.n_bytes().to_vec();
    // Every N is odd: N - 1 only clears the last bit.
    *n_minus_1.last_mut().expect("N is not empty") &= 0xfe;
    let padded = |value: &[u8], len: usize| [vec![0u8; len - value.len()], value.to_vec()].concat();

    use Error::*;
    let case = |what, bytes, ours, openssl_mod_n_ok, below_n| Case {
        what,
        bytes,
        ours,
        openssl_mod_n_ok,
        below_n,
    };
    vec![
        // what, encoding, our verdict, OpenSSL's A % N != 0, whether the value is below N
        case("empty", vec![], Err(PublicValueZeroModN), false, true),
        case("0", vec![0], Err(PublicValueZeroModN), false, true),
        case("0 padded to |N|", vec![0; n_len], Err(PublicValueZeroModN), false, true),
        case("1", vec![1], Ok(()), true, true),
        case("1 padded to |N|", padded(&[1], n_len), Ok(()), true, true),
        case("N - 1", n_minus_1, Ok(()), true, true),
        case("N", n.to_bytes(), Err(PublicValueZeroModN), false, false),
        case("N + 1", n_plus_1.to_bytes(), Err(PublicValueOutOfRange), true, false),
        case("2N", two_n.to_bytes(), Err(ValueTooLong), false, false),
        case("2N + 1", two_n_plus_1.to_bytes(), Err(ValueTooLong), true, false),
        case(
            "N padded to |N| + 1",
            padded(group.n_bytes(), n_len + 1),
            Err(ValueTooLong),
            false,
            false,
        ),
        case("1 padded to |N| + 1", padded(&[1], n_len + 1), Err(ValueTooLong), true, true),
    ]
}

#[test]
fn public_value_checks_vs_openssl_verify_mod_n() {
    let username = Username::new(b"alice").expect("valid username");
    let salt = Salt::new(b"\x01salt").expect("valid salt");
    for id in GroupId::ALL {
        let bits = id.bits();
        let group = id.group();
        let ossl = DefaultGroup::get(bits);
        let verifier = Verifier::compute(group, &username, b"password", &salt);
        // Each A goes to a server of its own (a server answers one A), all with the same b.
        let new_server =
            || Server::with_private_key(&verifier, &[7; PRIVATE_KEY_LEN]).expect("server");
        let server = new_server();
        let good_a = client_exchange_with_private_key(
            group,
            &username,
            b"password",
            &salt,
            server.public_key(),
            &[9; PRIVATE_KEY_LEN],
        )
        .expect("client")
        .public_key;

        for case in public_value_cases(group) {
            let label = format!("{} in group {bits}", case.what);
            let value = Bn::from_bytes(&case.bytes);
            assert_eq!(
                openssl::verify_a_mod_n(ossl, &value),
                case.openssl_mod_n_ok,
                "SRP_Verify_A_mod_N for A = {label}"
            );
            assert_eq!(
                openssl::verify_b_mod_n(ossl, &value),
                case.openssl_mod_n_ok,
                "SRP_Verify_B_mod_N for B = {label}"
            );
            // This core is never laxer than OpenSSL's mod-N check.
            if case.ours.is_ok() {
                assert!(case.openssl_mod_n_ok, "OpenSSL accepts what we accept: {label}");
            }

            let as_a = new_server().premaster(&case.bytes).map(drop);
            assert_eq!(as_a, case.ours, "server's check of A = {label}");
            let as_b = client_exchange_with_private_key(
                group,
                &username,
                b"password",
                &salt,
                &case.bytes,
                &[9; PRIVATE_KEY_LEN],
            )
            .map(drop);
            assert_eq!(as_b, case.ours, "client's check of B = {label}");
            let u_as_a = compute_u_bytes(group, &case.bytes, server.public_key()).map(drop);
            assert_eq!(u_as_a, case.ours, "compute_u_bytes with A = {label}");
            let u_as_b = compute_u_bytes(group, &good_a, &case.bytes).map(drop);
            assert_eq!(u_as_b, case.ours, "compute_u_bytes with B = {label}");
            if let Err(error) = case.ours {
                assert_eq!(error.alert(), Alert::IllegalParameter, "alert for {label}");
            }

            // SRP_Calc_u has its own check: it refuses A or B that is not below N.
            let o_b_pub = Bn::from_bytes(server.public_key());
            assert_eq!(
                openssl::calc_u(ossl, &value, &o_b_pub).is_some(),
                case.below_n,
                "SRP_Calc_u accepts A = {label} exactly when it is below N"
            );
        }
    }
}
