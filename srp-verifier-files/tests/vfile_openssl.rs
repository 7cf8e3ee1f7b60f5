//! OpenSSL `srpvfile`s made by the real `openssl srp`, read here; files written here, checked by
//! `openssl srp` and by libcrypto's `SRP_VBASE` (how an OpenSSL server loads them).

use std::path::Path;

use srp_core::{Group, GroupId, Salt, Username, Verifier, VerifierRecord};
use srp_test_support::temp_dir;
use srp_test_support::tools::{Verdict, openssl_add, openssl_verify, password, vbase_verify};
use srp_verifier_files::{ErrorKind, Format, VerifierDb, b64};

fn user(name: &str) -> Username {
    Username::new(name.as_bytes()).expect("valid test username")
}

/// Every user of the file has the expected group, and its record accepts the right password
/// and rejects a wrong one.
fn check_users(db: &VerifierDb, users: &[(String, String, u32)]) {
    for (name, pw, bits) in users {
        let record = db.get(&user(name)).unwrap_or_else(|| panic!("user {name} is missing"));
        assert_eq!(record.group().bits(), *bits, "group of {name}");
        assert!(record.check_password(&user(name), pw.as_bytes()), "right password of {name}");
        assert!(!record.check_password(&user(name), b"wrong password"), "wrong password of {name}");
    }
}

/// Compares our serialisation with the tool's file: identical except where OpenSSL wrote a
/// salt with a leading zero byte, which it drops itself when it loads the file (we store the
/// salt as OpenSSL uses it). Returns how many lines had such a salt.
fn compare_with_tool(ours: &[u8], tool: &[u8]) -> usize {
    let ours: Vec<&[u8]> = ours.split(|&b| b == b'\n').collect();
    let tool: Vec<&[u8]> = tool.split(|&b| b == b'\n').collect();
    assert_eq!(ours.len(), tool.len(), "line count");
    let mut zero_salts = 0;
    for (i, (a, b)) in ours.iter().zip(&tool).enumerate() {
        if a == b {
            continue;
        }
        let fa: Vec<&[u8]> = a.split(|&c| c == b'\t').collect();
        let fb: Vec<&[u8]> = b.split(|&c| c == b'\t').collect();
        assert_eq!((fa[0], fa[1], &fa[3..]), (fb[0], fb[1], &fb[3..]), "line {}", i + 1);
        let tool_salt = b64::decode_openssl(fb[2]).expect("tool salt decodes");
        let our_salt = b64::decode_openssl(fa[2]).expect("our salt decodes");
        assert_eq!(tool_salt[0], 0, "line {}: salts differ without a leading zero", i + 1);
        let first = tool_salt.iter().position(|&b| b != 0).expect("salt is not zero");
        assert_eq!(our_salt, &tool_salt[first..], "line {}", i + 1);
        zero_salts += 1;
    }
    zero_salts
}

#[test]
fn openssl_made_files_in_every_group() {
    let dir = temp_dir!("openssl-groups");
    let file = dir.join("srpvfile");
    std::fs::write(&file, b"").expect("create the file");
    let mut users = Vec::new();
    let mut i = 0;
    for (bits, count) in
        [(1024, 45), (1536, 25), (2048, 45), (3072, 20), (4096, 12), (6144, 8), (8192, 8)]
    {
        for _ in 0..count {
            let name = format!("user{i}");
            let pw = password(&name, i);
            openssl_add(&file, &bits.to_string(), &name, &pw);
            users.push((name, pw, bits));
            i += 1;
        }
    }
    let tool_bytes = std::fs::read(&file).expect("read the file");
    let db = VerifierDb::load(&file, None, None).expect("our reader accepts openssl's file");
    assert_eq!(db.format(), Format::OpenSsl);
    assert_eq!(db.len(), users.len());
    check_users(&db, &users);

    // Salts: `openssl srp` draws 20 random bytes; as OpenSSL loads them (an integer), one in 256
    // is shorter.
    for entry in db.entries() {
        let len = entry.record().salt.as_bytes().len();
        assert!((17..=20).contains(&len), "salt of {} bytes", len);
    }
    let zero_salts = compare_with_tool(&db.to_bytes(), &tool_bytes);
    eprintln!("{} users; {zero_salts} salts with a leading zero byte", users.len());
}

/// Adds `openssl srp` users in the 1024-bit group until both a salt with a leading zero byte
/// and a verifier shorter than N have appeared (each about one user in 250).
#[test]
fn openssl_leading_zeros() {
    let dir = temp_dir!("openssl-zeros");
    let n_len = GroupId::G1024.group().n_len();
    let (mut zero_salt, mut short_verifier) = (None, None);
    let mut users = Vec::new();
    'hunt: for batch in 0..60 {
        let file = dir.join(&format!("batch{batch}"));
        std::fs::write(&file, b"").expect("create the file");
        for j in 0..50 {
            let name = format!("z{batch}-{j}");
            let pw = password(&name, j);
            openssl_add(&file, "1024", &name, &pw);
            users.push((name, pw, 1024));
        }
        let text = std::fs::read(&file).expect("read the file");
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
            let name = String::from_utf8(fields[3].to_vec()).expect("ASCII name");
            let salt = b64::decode_openssl(fields[2]).expect("salt");
            let verifier = b64::decode_openssl(fields[1]).expect("verifier");
            if salt[0] == 0 && zero_salt.is_none() {
                zero_salt = Some((file.clone(), name.clone()));
            }
            if verifier.len() < n_len && short_verifier.is_none() {
                short_verifier = Some((file.clone(), name.clone()));
            }
        }
        let db = VerifierDb::load(&file, None, None).expect("our reader accepts the file");
        let batch_users: Vec<_> =
            users.iter().filter(|u| u.0.starts_with(&format!("z{batch}-"))).cloned().collect();
        check_users(&db, &batch_users);
        if zero_salt.is_some() && short_verifier.is_some() {
            break 'hunt;
        }
    }
    let (salt_file, salt_user) = zero_salt.expect("a salt with a leading zero byte in 3000 users");
    let (v_file, v_user) = short_verifier.expect("a verifier shorter than N in 3000 users");
    eprintln!("hunted through {} users", users.len());

    for (file, name) in [(&salt_file, &salt_user), (&v_file, &v_user)] {
        let pw = &users.iter().find(|u| &u.0 == name).expect("known user").1;
        // OpenSSL itself accepts its file ...
        assert_eq!(vbase_verify(file, name, pw), Some(Verdict::Matches));
        // ... and the file as we write it back.
        let mut db = VerifierDb::load(file, None, None).expect("read");
        let ours = file.with_extension("ours");
        db.save(&ours, None).expect("save");
        assert_eq!(vbase_verify(&ours, name, pw), Some(Verdict::Matches), "{name}");
        assert_eq!(openssl_verify(&ours, name, pw), Verdict::Matches, "{name}");
        assert_eq!(openssl_verify(&ours, name, "wrong password"), Verdict::DoesNotMatch);
    }
    let db = VerifierDb::load(&salt_file, None, None).expect("read");
    let salt = &db.get(&user(&salt_user)).expect("user").salt;
    assert!(salt.as_bytes().len() < 20 && salt.as_bytes()[0] != 0, "stored as OpenSSL uses it");
}

/// Files we write, in every group, with unusual salt lengths, infos and names, pass
/// `openssl srp` (string comparison of the verifier) and `SRP_VBASE` (as a server loads them).
#[test]
fn openssl_checks_our_files() {
    let dir = temp_dir!("openssl-ours");
    let file = dir.join("srpvfile");
    let mut db = VerifierDb::new(Format::OpenSsl);
    let mut users = Vec::new();
    for (i, id) in GroupId::ALL.into_iter().enumerate() {
        for j in 0..4 {
            let name = format!("ours{i}-{j}");
            let pw = password(&name, i + j);
            let record = VerifierRecord::generate(id.group(), &user(&name), pw.as_bytes())
                .expect("generate");
            db.add(user(&name), record).expect("add");
            users.push((name, pw, id.bits()));
        }
    }
    // Salts of many lengths (first byte non-zero: OpenSSL keeps salts as integers).
    for (k, len) in [1usize, 2, 3, 4, 5, 16, 19, 21, 32, 64, 128, 255].into_iter().enumerate() {
        let name = format!("salt{len}");
        let pw = password(&name, k);
        let mut bytes: Vec<u8> = (0..len).map(|b| (b * 37 + k) as u8).collect();
        bytes[0] = 1 + k as u8;
        let salt = Salt::new(&bytes).expect("salt");
        let group = Group::by_bits(2048).expect("group");
        let verifier = Verifier::compute(group, &user(&name), pw.as_bytes(), &salt);
        db.add(user(&name), VerifierRecord { salt, verifier }).expect("add");
        users.push((name, pw, 2048));
    }
    // A name with a tab (written as backslash-tab) and one with spaces.
    for (k, name) in ["tab\there", "with spaces"].into_iter().enumerate() {
        let pw = password(name, k);
        let record = VerifierRecord::generate(GroupId::G2048.group(), &user(name), pw.as_bytes())
            .expect("generate");
        db.add(user(name), record).expect("add");
        users.push((name.to_owned(), pw, 2048));
    }
    db.save(&file, None).expect("save");
    assert_eq!(std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777, 0o600);

    for (name, pw, _) in &users {
        assert_eq!(vbase_verify(&file, name, pw), Some(Verdict::Matches), "SRP_VBASE, {name}");
        assert_eq!(vbase_verify(&file, name, "wrong password"), Some(Verdict::DoesNotMatch));
        assert_eq!(openssl_verify(&file, name, pw), Verdict::Matches, "openssl srp, {name}");
        assert_eq!(openssl_verify(&file, name, "wrong password"), Verdict::DoesNotMatch);
    }
    assert_eq!(vbase_verify(&file, "nobody", "x"), None);

    // `openssl srp` adds to our file, and we read its result.
    openssl_add(&file, "2048", "added-by-openssl", "pw-openssl");
    users.push(("added-by-openssl".to_owned(), "pw-openssl".to_owned(), 2048));
    let back = VerifierDb::load(&file, None, None).expect("read back");
    check_users(&back, &users);
}

use std::os::unix::fs::PermissionsExt;

fn i_line(id: &str, group: &Group) -> String {
    format!(
        "I\t{}\t{}\t{id}\t\t\n",
        b64::encode_openssl(group.n_bytes()),
        b64::encode_openssl(group.g_bytes())
    )
}

fn v_line(name: &str, pw: &str, group: &'static Group, id: &str) -> String {
    let record = VerifierRecord::generate(group, &user(name), pw.as_bytes()).expect("generate");
    format!(
        "V\t{}\t{}\t{name}\t{id}\t\n",
        b64::encode_openssl(&record.verifier.to_bytes()),
        b64::encode_openssl(record.salt.as_bytes())
    )
}

/// Groups defined by `I` lines: read here and by `SRP_VBASE`; written back unchanged.
#[test]
fn openssl_custom_index_lines() {
    let dir = temp_dir!("openssl-index");
    let file = dir.join("srpvfile");
    let g2048 = Group::by_bits(2048).expect("group");
    let g4096 = Group::by_bits(4096).expect("group");
    let text = [
        i_line("site-default", g2048),
        i_line("strong", g4096),
        v_line("anna", "pw-anna", g2048, "site-default"),
        v_line("bert", "pw-bert", g4096, "strong"),
        v_line("cora", "pw-cora", g2048, "2048"),
    ]
    .concat();
    std::fs::write(&file, &text).expect("write");
    let db = VerifierDb::load(&file, None, None).expect("read");
    assert_eq!(db.groups().len(), 2);
    assert_eq!(db.groups()[1].id(), "strong");
    assert_eq!(db.groups()[1].group().bits(), 4096);
    check_users(
        &db,
        &[
            ("anna".into(), "pw-anna".into(), 2048),
            ("bert".into(), "pw-bert".into(), 4096),
            ("cora".into(), "pw-cora".into(), 2048),
        ],
    );
    assert_eq!(db.to_bytes().as_slice(), text.as_bytes(), "written back unchanged");
    for (name, pw) in [("anna", "pw-anna"), ("bert", "pw-bert"), ("cora", "pw-cora")] {
        assert_eq!(vbase_verify(&file, name, pw), Some(Verdict::Matches), "{name}");
        assert_eq!(vbase_verify(&file, name, "wrong password"), Some(Verdict::DoesNotMatch));
    }

    // `openssl srp -add -gn strong` writes the group id "*", which OpenSSL cannot load.
    openssl_add(&file, "strong", "dora", "pw-dora");
    assert_eq!(vbase_verify(&file, "dora", "pw-dora"), None, "OpenSSL skips the user");
    let err = VerifierDb::load(&file, None, None).expect_err("\"*\" is rejected");
    assert!(matches!(err.kind(), ErrorKind::UnknownGroup { id, .. } if id == "*"), "{err}");
    assert_eq!(err.line(), Some(6));
    assert!(err.to_string().contains("openssl srp -add -gn"), "{err}");
}

#[test]
fn openssl_revoked_users() {
    let dir = temp_dir!("openssl-revoked");
    let file = dir.join("srpvfile");
    std::fs::write(&file, b"").expect("create");
    openssl_add(&file, "2048", "keep", "pw-keep");
    openssl_add(&file, "2048", "gone", "pw-gone");
    let openssl = srp_test_support::tools::require_tool("openssl", "openssl");
    let status = std::process::Command::new(openssl)
        .args(["srp", "-srpvfile"])
        .arg(&file)
        .args(["-delete", "gone"])
        .output()
        .expect("run openssl srp -delete");
    assert!(status.status.success());
    assert!(std::fs::read(&file).expect("read").starts_with(b"V\t"));
    let mut db = VerifierDb::load(&file, None, None).expect("read");
    assert!(db.get(&user("gone")).is_none(), "revoked users are not looked up");
    assert!(db.entry(&user("gone")).expect("but kept").is_revoked());
    assert_eq!(db.usernames().collect::<Vec<_>>(), vec![&user("keep")]);
    // Written back as an R line, which OpenSSL still skips.
    let ours = dir.join("ours");
    db.save(&ours, None).expect("save");
    assert_eq!(vbase_verify(&ours, "gone", "pw-gone"), None);
    assert_eq!(vbase_verify(&ours, "keep", "pw-keep"), Some(Verdict::Matches));
    // Adding the name again replaces the revoked entry.
    let record = VerifierRecord::generate(GroupId::G3072.group(), &user("gone"), b"new-pw")
        .expect("generate");
    db.add(user("gone"), record).expect("replaces the revoked entry");
    db.save(&ours, None).expect("save");
    assert_eq!(vbase_verify(&ours, "gone", "new-pw"), Some(Verdict::Matches));
    assert_eq!(openssl_verify(&ours, "gone", "new-pw"), Verdict::Matches);
}

#[test]
fn openssl_file_path_in_errors() {
    let err =
        VerifierDb::load(Path::new("/nonexistent/srpvfile"), None, None).expect_err("missing");
    assert!(err.to_string().starts_with("/nonexistent/srpvfile: "), "{err}");
}
