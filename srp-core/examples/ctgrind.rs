//! The constant-time harness: `cargo xtask ctgrind` runs it under valgrind memcheck, built with
//! the `ct-validation` feature so that the password, x, v, a, b, the fake-user seed and
//! everything derived from them are marked undefined. Memcheck then reports every branch and
//! memory index that depends on a secret; the run must report none.
//!
//! Per group: enrolment, a handshake with the right and a wrong password, a fake user's
//! handshake, a password check, stored verifiers read from bytes that are secret from the start
//! (what `srp_verifier_record_new` does for every handshake in NSS's callback mode), and a
//! server's lookups of a real and an unknown user in a verifier file with two groups and in
//! callback mode, each followed by a handshake.
//!
//! `ctgrind leaky` instead runs a deliberately variable-time exponentiation on a secret, which
//! memcheck must report: it shows that the check can fail.
//!
//! `exchange` runs on the backend named by `--backend` (default: the one the CPU selects),
//! forced without asking CPUID: valgrind's emulated CPU hides ADX (and AVX-512) from CPUID, so
//! detection alone would only ever check the portable backend; valgrind 3.19 does execute MULX,
//! ADCX and ADOX. `ctgrind backends` (run natively, not under valgrind) lists the backends this
//! CPU supports, for `cargo xtask ctgrind` to check each.
//!
//! Usage: `ctgrind exchange [--backend NAME] BITS...`, `ctgrind backends` or `ctgrind leaky`.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use srp_core::backend::Backend;
use srp_core::{
    Group, GroupId, Salt, Server, Username, Verifier, VerifierRecord, client_exchange, compute_x,
    ct,
};
use std::path::Path;

use srp_verifier_files::{FakeUsers, Format, VerifierDb};

fn main() {
    const { assert!(ct::ENABLED, "build the harness with --features ct-validation") };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("exchange") => {
            let mut rest = &args[1..];
            let mut backend = srp_core::backend::backend();
            let mut how = "detected";
            if rest.first().map(String::as_str) == Some("--backend") {
                let name = rest.get(1).expect("--backend NAME");
                backend = Backend::ALL
                    .into_iter()
                    .find(|b| b.name() == name)
                    .unwrap_or_else(|| panic!("unknown backend {name:?}"));
                rest = &rest[2..];
                how = "forced";
            }
            // The xtask reads this line to report which exponentiation backend the run covered.
            eprintln!(
                "srp-ffi backend: {} ({how}; CPUID here reports it as {})",
                backend.name(),
                if backend.is_supported() { "supported" } else { "unsupported" },
            );
            let run = || {
                assert_eq!(srp_core::backend::backend(), backend);
                for bits in rest {
                    let bits: u32 = bits.parse().expect("group size in bits");
                    exchange(Group::by_bits(bits).expect("an RFC 5054 group size"));
                }
            };
            #[allow(unsafe_code)]
            // SAFETY: `cargo xtask ctgrind` asks for a backend only if the host CPU supports it
            // (`ctgrind backends`), and valgrind executes its instructions (MULX, ADCX, ADOX for
            // `adx`); an unsupported instruction would stop the run with SIGILL, not pass.
            unsafe {
                srp_core::backend::with_backend_unchecked(backend, run)
            };
        }
        Some("backends") => {
            for backend in Backend::supported() {
                println!("{}", backend.name());
            }
        }
        Some("leaky") => leaky(),
        _ => {
            eprintln!(
                "usage: ctgrind exchange [--backend NAME] BITS... | ctgrind backends | ctgrind leaky"
            );
            std::process::exit(2);
        }
    }
}

/// Enrolment, one full handshake with the right password, one with a wrong password, a fake
/// user's handshake and a password check, all with secrets marked.
fn exchange(group: &'static Group) {
    let user = Username::new(b"alice").expect("valid username");
    let password = b"correct horse battery staple".to_vec();
    let record = VerifierRecord::generate(group, &user, &password).expect("enrolment");

    for (attempt, expect_match) in [(password.clone(), true), (b"wrong".to_vec(), false)] {
        let server = Server::new(&record.verifier).expect("server start");
        let client = client_exchange(group, &user, &attempt, &record.salt, server.public_key())
            .expect("client");
        let server_premaster = server.premaster(&client.public_key).expect("server premaster");
        // Comparing premaster secrets is the harness's business, not the core's: declassify.
        ct::declassify(client.premaster.as_bytes());
        ct::declassify(server_premaster.as_bytes());
        assert_eq!(client.premaster.as_bytes() == server_premaster.as_bytes(), expect_match);
    }

    let fake = FakeUsers::new(&[0x5a; 32], group, 16).expect("fake users");
    let fake_record = fake.record(&Username::new(b"mallory").expect("valid username"));
    let server = Server::new(&fake_record.verifier).expect("server for a fake user");
    let client = client_exchange(group, &user, &password, &fake_record.salt, server.public_key())
        .expect("client against a fake user");
    server.premaster(&client.public_key).expect("fake user's premaster");

    assert!(record.check_password(&user, &password));
    stored_verifiers(group);
    lookups(group, &user, &password, &record);
    println!(
        "ctgrind: {} bits: exchange, wrong password, fake user, password check, stored verifiers, \
         lookups",
        group.bits()
    );
}

/// A server's lookups in a verifier file (`srp_verifier_file_lookup`) and in callback mode
/// (`srp_fake_users_choose`), for a user in the file and an unknown one, each followed by the
/// server's side of a handshake. The file's verifiers, the lookup table's tags and the seed are
/// secret; the table's answer is declassified only to copy the record.
fn lookups(group: &'static Group, user: &Username, password: &[u8], record: &VerifierRecord) {
    let mut db = VerifierDb::new(Format::OpenSsl);
    db.add(user.clone(), record.clone()).expect("alice");
    let other = if group.bits() == 2048 { GroupId::G3072 } else { GroupId::G2048 }.group();
    for i in 0..5 {
        let name = Username::new(format!("user{i}").as_bytes()).expect("valid username");
        let salt = Salt::new(&[0x11 + i; 16]).expect("salt");
        let verifier = Verifier::from_bytes(other, &[0x42, i + 1]).expect("verifier");
        db.add(name, VerifierRecord { salt, verifier }).expect("add");
    }
    // Written out and read back as a file: its bytes come from the disk as plain data, and the
    // parser marks each verifier secret once it has split it from its line.
    let text = db.to_bytes();
    ct::declassify(&text);
    let db = VerifierDb::parse_openssl(Path::new("srpvfile"), &text).expect("parse");
    let fake = db.fake_users(&[0x5a; 32]).expect("fake users");
    let mallory = Username::new(b"mallory").expect("valid username");
    for (name, expect_match) in [(user, true), (&mallory, false)] {
        for found in [db.lookup(name, Some(&fake)), Ok(fake.choose(name, db.get(name)))] {
            let found = found.expect("a record, real or fake");
            let admitted = found.group();
            let server = Server::new(&found.verifier).expect("server");
            let client =
                client_exchange(admitted, user, password, &found.salt, server.public_key())
                    .expect("client");
            let server_premaster = server.premaster(&client.public_key).expect("premaster");
            ct::declassify(client.premaster.as_bytes());
            ct::declassify(server_premaster.as_bytes());
            assert_eq!(client.premaster.as_bytes() == server_premaster.as_bytes(), expect_match);
        }
    }
}

/// What `srp_verifier_record_new` does for NSS on every handshake in callback mode: a verifier
/// the application stored, as big-endian bytes (secret from the first byte), checked for the
/// range [1, N) and made into a record. Also with leading zero bytes and with the bytes of a
/// value that is out of range, where only the verdict may be public.
fn stored_verifiers(group: &'static Group) {
    // Any value in [1, N) is a verifier; this one starts below N's top byte.
    let v: Vec<u8> = (0..group.n_len()).map(|i| (i * 37 + 11) as u8 & 0x7f).collect();
    let mut padded = vec![0u8; 3];
    padded.extend_from_slice(&v);
    let n = group.n_bytes().to_vec();
    for (bytes, valid) in [(v.clone(), true), (padded, true), (n, false), (vec![0; 5], false)] {
        ct::secret(&bytes);
        let parsed = Verifier::from_bytes(group, &bytes);
        assert_eq!(parsed.is_ok(), valid);
        if let Ok(parsed) = parsed {
            // Written back as a verifier file stores it (its length is public there).
            assert_eq!(parsed.to_bytes().len(), v.len());
            let server = Server::new(&parsed).expect("server from a stored verifier");
            let _ = server.public_key();
        }
    }
}

/// A square-and-multiply exponentiation that branches on the secret exponent's bits: the
/// classic timing leak. Memcheck must report it.
fn leaky() {
    let group = GroupId::G2048.group();
    let salt = Salt::new(&[1; 16]).expect("valid salt");
    let x = compute_x(&Username::new(b"alice").expect("valid username"), b"secret", &salt);
    let modulus = BoxedUint::from_be_slice_vartime(group.n_bytes());
    let params = BoxedMontyParams::new_vartime(crypto_bigint::Odd::new(modulus).expect("odd N"));
    let base = BoxedMontyForm::new(BoxedUint::from_be_slice_truncated(&[2], 2048), &params);
    let mut result = BoxedMontyForm::one(&params);
    for byte in x.iter() {
        for bit in (0..8).rev() {
            result = result.square();
            if (byte >> bit) & 1 == 1 {
                result = result.mul(&base);
            }
        }
    }
    let out = result.retrieve().to_be_bytes();
    ct::declassify(&out);
    println!("ctgrind: leaky exponentiation done ({} bytes)", out.len());
}
