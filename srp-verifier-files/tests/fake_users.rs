//! Fake users (RFC 5054 section 2.5.1.3) and the server's lookup (issue 10): an unknown
//! username must look like a real one from the wire (group, salt length, a salt that stays the
//! same across restarts with the same seed) and take the same work to look up.
//!
//! Timing itself is measured, not asserted (`benches/lookup.rs`, docs/performance.md); what is
//! asserted here is the distribution of groups and salt lengths, the stability of the salts, and
//! a deterministic stand-in for equal work: the same allocations, in number and size, for a real
//! and an unknown user whose records have the same shape.

use std::collections::BTreeMap;
use std::path::Path;

use srp_core::{Error, GroupId, Salt, Username, Verifier, VerifierRecord};
use srp_test_support::alloc::{Count, Tracking};
use srp_verifier_files::{FakeUsers, Format, VerifierDb};

#[global_allocator]
static ALLOC: Tracking = Tracking;

const SEED: [u8; 32] = [0x5a; 32];

fn user(name: &str) -> Username {
    Username::new(name.as_bytes()).expect("valid username")
}

/// A record with a fixed verifier (any value in [1, N) will do: nobody logs in here).
fn record(bits: u32, salt_len: usize, tag: u8) -> VerifierRecord {
    let group = GroupId::from_bits(bits).expect("RFC 5054 size").group();
    VerifierRecord {
        salt: Salt::new(&vec![tag | 1; salt_len]).expect("salt"),
        verifier: Verifier::from_bytes(group, &[tag, 0x17, 0x29]).expect("verifier"),
    }
}

/// An OpenSSL file with `count` users `prefix-i` for each (bits, salt length, count), read back
/// as a server reads it.
fn file(users: &[(u32, usize, usize)]) -> VerifierDb {
    let mut db = VerifierDb::new(Format::OpenSsl);
    for (k, &(bits, salt_len, count)) in users.iter().enumerate() {
        for i in 0..count {
            let name = user(&format!("user-{bits}-{salt_len}-{i}"));
            db.add(name, record(bits, salt_len, k as u8 + 2)).expect("add");
        }
    }
    VerifierDb::parse_openssl(Path::new("srpvfile"), &db.to_bytes()).expect("parse")
}

fn shape(record: &VerifierRecord) -> (u32, usize) {
    (record.group().bits(), record.salt.as_bytes().len())
}

/// The (group, salt length) of `probes` unknown usernames' records, counted.
fn probe(db: &VerifierDb, fake: &FakeUsers, probes: usize) -> BTreeMap<(u32, usize), usize> {
    let mut seen = BTreeMap::new();
    for i in 0..probes {
        let record = db.lookup(&user(&format!("nobody-{i}")), Some(fake)).expect("fake record");
        *seen.entry(shape(&record)).or_insert(0) += 1;
    }
    seen
}

#[test]
fn fake_users_follow_the_files_mix_of_groups_and_salt_lengths() {
    // 60% 2048/20, 30% 3072/16, 10% 1024/20 (below the default floor: the libraries refuse such
    // records, real or fake, with insufficient_security).
    let db = file(&[(2048, 20, 60), (3072, 16, 30), (1024, 20, 10)]);
    let fake = db.fake_users(&SEED).expect("fake users");
    let probes = 3000;
    let seen = probe(&db, &fake, probes);
    for (pair, share) in [((2048, 20), 0.6), ((3072, 16), 0.3), ((1024, 20), 0.1)] {
        let expected = share * probes as f64;
        let sigma = (probes as f64 * share * (1.0 - share)).sqrt();
        let count = seen.get(&pair).copied().unwrap_or(0) as f64;
        assert!(
            (count - expected).abs() < 5.0 * sigma,
            "{pair:?}: {count} of {probes} unknown users, expected {expected} ± {}; all: {seen:?}",
            5.0 * sigma
        );
    }
    assert_eq!(seen.values().sum::<usize>(), probes, "only the file's pairs: {seen:?}");
}

#[test]
fn a_file_with_one_group_and_salt_length_gives_exactly_that() {
    let db = file(&[(4096, 24, 5)]);
    let fake = db.fake_users(&SEED).expect("fake users");
    assert_eq!(probe(&db, &fake, 200), BTreeMap::from([((4096, 24), 200)]));
}

#[test]
fn an_empty_file_gives_3072_bit_groups_and_20_byte_salts() {
    let db = file(&[]);
    let fake = db.fake_users(&SEED).expect("fake users");
    assert_eq!(probe(&db, &fake, 50), BTreeMap::from([((3072, 20), 50)]));
}

#[test]
fn fake_records_are_stable_for_a_seed_and_differ_between_seeds() {
    let text = file(&[(2048, 20, 3), (3072, 16, 2)]).to_bytes();
    let load = || VerifierDb::parse_openssl(Path::new("srpvfile"), &text).expect("parse");
    let (first, second) = (load(), load());
    let fake_first = first.fake_users(&SEED).expect("fake users");
    let fake_second = second.fake_users(&SEED).expect("fake users");
    let other_seed = first.fake_users(&[0xa5; 32]).expect("fake users");
    let mut differ = 0;
    for i in 0..50 {
        let name = user(&format!("nobody-{i}"));
        let a = first.lookup(&name, Some(&fake_first)).expect("fake");
        let b = second.lookup(&name, Some(&fake_second)).expect("fake");
        assert_eq!(shape(&a), shape(&b), "{name:?}: same group and salt length");
        assert_eq!(a.salt, b.salt, "{name:?}: same salt after a restart");
        assert!(a.verifier.ct_eq(&b.verifier), "{name:?}: same verifier after a restart");
        let c = first.lookup(&name, Some(&other_seed)).expect("fake");
        differ += usize::from(a.salt.as_bytes()[1..] != c.salt.as_bytes()[1..]);
    }
    assert_eq!(differ, 50, "another seed gives other salts");

    // Callback mode: one (group, salt length) the application chose.
    let group = GroupId::G2048.group();
    let a = FakeUsers::new(&SEED, group, 20).expect("fake users");
    let b = FakeUsers::new(&SEED, group, 20).expect("fake users");
    let c = FakeUsers::new(&[0xa5; 32], group, 20).expect("fake users");
    let name = user("mallory");
    assert_eq!(a.record(&name).salt, b.record(&name).salt, "same seed, same salt");
    assert_ne!(a.record(&name).salt, c.record(&name).salt, "other seed, other salt");
}

/// The salt is HMAC-SHA1(seed, "salt" | I) as RFC 5054 section 2.5.1.3 suggests, continued
/// with HMAC-SHA1(seed, "salt" | counter | I) for longer salts, first byte never 0: the same
/// derivation as before issue 10, so fake users keep their salts across the upgrade.
#[test]
fn fake_salts_are_the_rfc_derivation() {
    use hmac::{Hmac, Mac};
    let hmac = |parts: &[&[u8]]| {
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&SEED).expect("any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    };
    let name = user("mallory");
    let fake = FakeUsers::new(&SEED, GroupId::G3072.group(), 32).expect("fake users");
    let mut expected = hmac(&[b"salt", b"mallory"]);
    expected.extend(hmac(&[b"salt", &1u32.to_be_bytes(), b"mallory"]));
    expected.truncate(32);
    expected[0] |= u8::from(expected[0] == 0);
    assert_eq!(fake.record(&name).salt.as_bytes(), &expected[..]);
}

/// The allocations of `lookup`, a deterministic measure of its work.
fn lookup_allocations(db: &VerifierDb, fake: &FakeUsers, name: &Username) -> (u64, u64) {
    // Once before counting, so that one-time work (the index, the groups) is not counted.
    let _ = db.lookup(name, Some(fake));
    let count = Count::start();
    let record = db.lookup(name, Some(fake)).expect("record");
    let seen = count.finish();
    drop(record);
    (seen.count, seen.bytes)
}

#[test]
fn lookup_does_the_same_work_for_real_and_unknown_users() {
    // One group and salt length: every record has the same shape.
    let db = file(&[(2048, 20, 100)]);
    let fake = db.fake_users(&SEED).expect("fake users");
    let real = lookup_allocations(&db, &fake, &user("user-2048-20-42"));
    let unknown = lookup_allocations(&db, &fake, &user("user-2048-20-x2"));
    assert_eq!(real, unknown, "allocations (count, bytes) for a real and an unknown user");

    // A mix: a real user and an unknown one whose fake record has the same shape.
    let db = file(&[(2048, 20, 50), (3072, 16, 50)]);
    let fake = db.fake_users(&SEED).expect("fake users");
    let unknown = (0..)
        .map(|i| user(&format!("nobody-{i:04}")))
        .find(|name| shape(&db.lookup(name, Some(&fake)).expect("fake")) == (3072, 16))
        .expect("some unknown user gets the 3072-bit group");
    let real = lookup_allocations(&db, &fake, &user("user-3072-16-7"));
    let unknown = lookup_allocations(&db, &fake, &unknown);
    assert_eq!(real, unknown, "allocations for a real and an unknown 3072-bit user");
}

#[test]
fn lookup_keeps_its_documented_semantics() {
    let db = file(&[(2048, 20, 3)]);
    let revoked = db
        .to_bytes()
        .iter()
        .copied()
        .collect::<Vec<u8>>()
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let mut line = line.to_vec();
            if i == 1 {
                line[0] = b'R';
            }
            line.push(b'\n');
            line
        })
        .collect::<Vec<_>>()
        .concat();
    let db = VerifierDb::parse_openssl(Path::new("srpvfile"), &revoked).expect("parse");
    let fake = db.fake_users(&SEED).expect("fake users");

    let name = user("user-2048-20-0");
    let stored = db.get(&name).expect("a real user");
    for fake in [None, Some(&fake)] {
        let found = db.lookup(&name, fake).expect("the file's record");
        assert_eq!(found.salt, stored.salt, "the file's salt");
        assert!(found.verifier.ct_eq(&stored.verifier), "the file's verifier");
    }
    // A revoked user is not loaded: it is unknown, fake or unknown_psk_identity.
    let gone = user("user-2048-20-1");
    let with_fake = db.lookup(&gone, Some(&fake)).expect("a fake record");
    assert_eq!(with_fake.salt, fake.record(&gone).salt, "the fake salt for a revoked user");
    assert_eq!(db.lookup(&gone, None).map(drop), Err(Error::UnknownUser));
    assert_eq!(db.lookup(&user("nobody"), None).map(drop), Err(Error::UnknownUser));
}

#[test]
fn every_user_is_found_and_no_other() {
    let db = file(&[(2048, 20, 1500), (3072, 16, 500)]);
    for (bits, salt_len, count) in [(2048, 20, 1500), (3072, 16, 500)] {
        for i in 0..count {
            let name = user(&format!("user-{bits}-{salt_len}-{i}"));
            let found = db.lookup(&name, None).expect("a real user");
            assert_eq!(found.salt, db.get(&name).expect("in the file").salt, "{name:?}");
        }
    }
    for i in 0..2000 {
        let name = user(&format!("user-2048-20-{}", 1500 + i));
        assert_eq!(db.lookup(&name, None).map(drop), Err(Error::UnknownUser), "{name:?}");
    }
    // A change to the users rebuilds the table.
    let mut db = db;
    let name = user("user-2048-20-3");
    db.remove(&name).expect("removed");
    assert_eq!(db.lookup(&name, None).map(drop), Err(Error::UnknownUser));
    db.add(name.clone(), record(4096, 32, 9)).expect("added back");
    assert_eq!(shape(&db.lookup(&name, None).expect("found again")), (4096, 32));
}

/// Callback mode: the application found the record (or not), and `choose` equalises the rest.
#[test]
fn choose_copies_the_real_record_and_does_the_same_work_either_way() {
    let fake = FakeUsers::new(&SEED, GroupId::G2048.group(), 20).expect("fake users");
    let real = record(2048, 20, 7);
    let name = user("alice");
    let chosen = fake.choose(&name, Some(&real));
    assert_eq!(chosen.salt, real.salt, "the real salt");
    assert!(chosen.verifier.ct_eq(&real.verifier), "the real verifier");
    let unknown = fake.choose(&name, None);
    assert_eq!(unknown.salt, fake.record(&name).salt, "the fake record");

    let allocations = |real: Option<&VerifierRecord>| {
        let _ = fake.choose(&name, real);
        let count = Count::start();
        let record = fake.choose(&name, real);
        let seen = count.finish();
        drop(record);
        (seen.count, seen.bytes)
    };
    assert_eq!(allocations(Some(&real)), allocations(None), "allocations (count, bytes)");
}

#[test]
fn weighted_lists_are_normalised() {
    let g = |bits| GroupId::from_bits(bits).expect("group").group();
    let shapes = |fake: &FakeUsers| -> Vec<(u32, usize, u64)> {
        fake.shapes().map(|(group, salt_len, weight)| (group.bits(), salt_len, weight)).collect()
    };
    let fake = FakeUsers::weighted(
        &SEED,
        &[(g(4096), 20, 2), (g(2048), 20, 1), (g(4096), 20, 3), (g(1024), 16, 0)],
    )
    .expect("fake users");
    assert_eq!(shapes(&fake), [(2048, 20, 1), (4096, 20, 5)], "sorted, summed, zeros dropped");
    let fake = FakeUsers::weighted(&SEED, &[]).expect("fake users");
    assert_eq!(shapes(&fake), [(3072, 20, 1)], "nothing listed: the default");
    assert_eq!(
        FakeUsers::weighted(&SEED, &[(g(2048), 0, 1)]).map(drop),
        Err(Error::InvalidSaltLength)
    );
    assert_eq!(
        FakeUsers::weighted(&SEED, &[(g(2048), 256, 1)]).map(drop),
        Err(Error::InvalidSaltLength)
    );
    assert_eq!(
        FakeUsers::weighted(&[1; 15], &[(g(2048), 20, 1)]).map(drop),
        Err(Error::SeedTooShort)
    );
}
