//! Conversions between the formats, checked by the other format's real tool, and atomic saves.

use std::os::unix::fs::PermissionsExt;

use srp_core::Username;
use srp_test_support::temp_dir;
use srp_test_support::tools::{
    Verdict, openssl_add, openssl_verify, password, srptool_add, srptool_create_conf,
    srptool_verify, vbase_verify,
};
use srp_verifier_files::{ErrorKind, Format, VerifierDb, default_conf_path};

fn user(name: &str) -> Username {
    Username::new(name.as_bytes()).expect("valid test username")
}

/// `openssl srp` users become a `tpasswd` that `srptool --verify` accepts.
#[test]
fn openssl_to_gnutls() {
    let dir = temp_dir!("convert-o2g");
    let source = dir.join("srpvfile");
    std::fs::write(&source, b"").expect("create");
    let mut users = Vec::new();
    for (i, bits) in [1024, 1536, 2048, 3072, 4096].into_iter().cycle().take(30).enumerate() {
        let name = format!("o{i}");
        let pw = password(&name, i);
        openssl_add(&source, &bits.to_string(), &name, &pw);
        users.push((name, pw));
    }
    let db = VerifierDb::load(&source, None, None).expect("read");
    let mut converted = db.convert(Format::GnuTls).expect("convert");
    let target = dir.join("tpasswd");
    converted.save(&target, None).expect("save");
    let conf = default_conf_path(&target);
    for (name, pw) in &users {
        assert_eq!(srptool_verify(&target, &conf, name, pw), Verdict::Matches, "{name}");
        assert_eq!(srptool_verify(&target, &conf, name, "wrong password"), Verdict::DoesNotMatch);
    }
    // And back: the same values as OpenSSL wrote them.
    let back = VerifierDb::load(&target, None, None)
        .expect("read")
        .convert(Format::OpenSsl)
        .expect("convert back");
    for (name, _) in &users {
        let (a, b) = (db.get(&user(name)).expect("user"), back.get(&user(name)).expect("user"));
        assert_eq!(a.salt, b.salt);
        assert!(a.verifier.ct_eq(&b.verifier));
    }
}

/// `srptool` users become an `srpvfile` that `openssl srp` and `SRP_VBASE` accept; a user whose
/// salt starts with a zero byte is refused by name.
#[test]
fn gnutls_to_openssl() {
    let dir = temp_dir!("convert-g2o");
    let source = dir.join("tpasswd");
    let conf = default_conf_path(&source);
    srptool_create_conf(&conf);
    std::fs::write(&source, b"").expect("create");
    let mut users = Vec::new();
    for (i, index) in [2, 3, 4, 5].into_iter().cycle().take(24).enumerate() {
        let name = format!("g{i}");
        let pw = password(&name, i);
        srptool_add(&source, &conf, index, &name, &pw);
        users.push((name, pw));
    }
    let mut db = VerifierDb::load(&source, None, None).expect("read");
    // Drop users whose srptool salt happens to start with a zero byte (1 in 256); tested below.
    users.retain(|(name, _)| {
        let zero = db.get(&user(name)).expect("user").salt.as_bytes()[0] == 0;
        if zero {
            db.remove(&user(name));
        }
        !zero
    });
    let mut converted = db.convert(Format::OpenSsl).expect("convert");
    let target = dir.join("srpvfile");
    converted.save(&target, None).expect("save");
    for (name, pw) in &users {
        assert_eq!(openssl_verify(&target, name, pw), Verdict::Matches, "{name}");
        assert_eq!(vbase_verify(&target, name, pw), Some(Verdict::Matches), "{name}");
        assert_eq!(vbase_verify(&target, name, "wrong password"), Some(Verdict::DoesNotMatch));
    }

    // A GnuTLS salt with a leading zero byte (as srptool writes one user in 256) cannot move
    // to OpenSSL, which would drop that byte.
    let group = srp_core::GroupId::G2048.group();
    let salt = srp_core::Salt::new(&[0; 16]).expect("salt");
    let verifier = srp_core::Verifier::compute(group, &user("zed"), b"pw", &salt);
    let line =
        format!("zed:{}:0:3\n", srp_verifier_files::b64::encode_gnutls(&verifier.to_bytes()));
    let db = VerifierDb::parse_gnutls(
        &source,
        line.as_bytes(),
        &conf,
        &std::fs::read(&conf).expect("conf"),
    )
    .expect("parse");
    assert_eq!(db.entries()[0].record().salt.as_bytes(), [0]);
    let err = db.convert(Format::OpenSsl).expect_err("refused");
    assert!(
        matches!(err.kind(), ErrorKind::Unrepresentable { user, .. } if user == "zed"),
        "{err}"
    );
}

/// Saving replaces the file atomically: the old permissions stay, no temporary file is left,
/// a symbolic link keeps pointing at the (replaced) file.
#[test]
fn atomic_save() {
    let dir = temp_dir!("atomic");
    let real = dir.join("real");
    std::fs::write(&real, b"").expect("create");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.join("link");
    std::os::unix::fs::symlink("real", &link).expect("symlink");
    let mut db = VerifierDb::new(Format::OpenSsl);
    let record =
        srp_core::VerifierRecord::generate(srp_core::GroupId::G2048.group(), &user("a"), b"pw")
            .expect("generate");
    db.add(user("a"), record).expect("add");
    db.save(&link, None).expect("save through the link");
    assert!(std::fs::symlink_metadata(&link).expect("stat").file_type().is_symlink());
    assert_eq!(std::fs::read(&real).expect("read"), *db.to_bytes());
    assert_eq!(std::fs::metadata(&real).expect("stat").permissions().mode() & 0o7777, 0o640);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    // A directory that does not exist: an error naming the file, nothing written.
    let err = db.save(&dir.join("missing/dir/file"), None).expect_err("no directory");
    assert!(err.to_string().contains("missing/dir/file"), "{err}");
}
