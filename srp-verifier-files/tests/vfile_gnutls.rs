//! GnuTLS `tpasswd` files made by the real `srptool`, read here; files written here, checked by
//! `srptool --verify`.

use srp_core::{Group, GroupId, Salt, Username, Verifier, VerifierRecord};
use srp_test_support::temp_dir;
use srp_test_support::tools::{
    Verdict, password, srptool_add, srptool_create_conf, srptool_verify,
};
use srp_verifier_files::{Format, VerifierDb, b64, default_conf_path};

fn user(name: &str) -> Username {
    Username::new(name.as_bytes()).expect("valid test username")
}

fn check_users(db: &VerifierDb, users: &[(String, String, u32)]) {
    for (name, pw, bits) in users {
        let record = db.get(&user(name)).unwrap_or_else(|| panic!("user {name} is missing"));
        assert_eq!(record.group().bits(), *bits, "group of {name}");
        assert!(record.check_password(&user(name), pw.as_bytes()), "right password of {name}");
        assert!(!record.check_password(&user(name), b"wrong password"), "wrong password of {name}");
    }
}

fn conf_line(index: u32, group: &Group) -> String {
    format!(
        "{index}:{}:{}\n",
        b64::encode_gnutls(group.n_bytes()),
        b64::encode_gnutls(group.g_bytes())
    )
}

/// `srptool --create-conf` plus two lines of our own: index 1 for the 1024-bit group (which
/// GnuTLS 3.7 no longer writes) and index 42 for the 2048-bit group again.
fn make_conf(path: &std::path::Path) {
    srptool_create_conf(path);
    let mut conf = std::fs::read_to_string(path).expect("read conf");
    conf.push_str(&conf_line(1, GroupId::G1024.group()));
    conf.push_str(&conf_line(42, GroupId::G2048.group()));
    std::fs::write(path, conf).expect("write conf");
}

/// Our empty GnuTLS database has exactly the group file `srptool --create-conf` writes.
#[test]
fn gnutls_conf_matches_srptool() {
    let dir = temp_dir!("gnutls-conf");
    let conf = dir.join("tpasswd.conf");
    srptool_create_conf(&conf);
    let tool = std::fs::read(&conf).expect("read");
    assert_eq!(VerifierDb::new(Format::GnuTls).conf_bytes().expect("conf"), tool);
    let db = VerifierDb::parse_gnutls_conf(&conf, &tool).expect("parse");
    let ids: Vec<(&str, u32)> = db.groups().iter().map(|d| (d.id(), d.group().bits())).collect();
    assert_eq!(ids, [("2", 1536), ("3", 2048), ("4", 3072), ("5", 4096), ("7", 8192)]);
}

#[test]
fn srptool_made_files_in_every_group() {
    let dir = temp_dir!("gnutls-groups");
    let file = dir.join("tpasswd");
    let conf = default_conf_path(&file);
    make_conf(&conf);
    std::fs::write(&file, b"").expect("create");
    // srptool aborts (buffer overflow) for the 6144- and 8192-bit groups.
    let mut users = Vec::new();
    let mut i = 0;
    for (index, bits, count) in
        [(1, 1024, 40), (2, 1536, 30), (3, 2048, 40), (4, 3072, 15), (5, 4096, 8), (42, 2048, 8)]
    {
        for _ in 0..count {
            let name = format!("user{i}");
            let pw = password(&name, i);
            srptool_add(&file, &conf, index, &name, &pw);
            users.push((name, pw, bits));
            i += 1;
        }
    }
    let tool = std::fs::read(&file).expect("read");
    let db = VerifierDb::load(&file, None, None).expect("our reader accepts srptool's file");
    assert_eq!(db.format(), Format::GnuTls);
    assert_eq!(db.len(), users.len());
    check_users(&db, &users);
    assert!(
        db.entries().iter().all(|e| e.record().salt.as_bytes().len() == 16),
        "srptool salts are 16 bytes"
    );
    // Converted back, every value comes out as srptool wrote it.
    assert_eq!(*db.to_bytes(), tool, "tpasswd written back identically");
    assert_eq!(db.conf_bytes().expect("conf"), std::fs::read(&conf).expect("read conf"));
    let index42 = db.entries().iter().filter(|e| e.group_id() == "42").count();
    assert_eq!(index42, 8);
}

/// Adds `srptool` users until both a salt with a leading zero byte and a verifier shorter than
/// N have appeared (each about one user in 200).
#[test]
fn srptool_leading_zeros() {
    let dir = temp_dir!("gnutls-zeros");
    let conf = dir.join("tpasswd.conf");
    make_conf(&conf);
    let n_len = GroupId::G1024.group().n_len();
    let (mut zero_salt, mut short_verifier) = (None, None);
    let mut users = Vec::new();
    'hunt: for batch in 0..60 {
        let file = dir.join(&format!("batch{batch}"));
        std::fs::write(&file, b"").expect("create");
        let mut batch_users = Vec::new();
        for j in 0..50 {
            let name = format!("z{batch}-{j}");
            let pw = password(&name, j);
            srptool_add(&file, &conf, 1, &name, &pw);
            batch_users.push((name, pw, 1024));
        }
        let db = VerifierDb::load(&file, None, Some(&conf)).expect("read");
        check_users(&db, &batch_users);
        assert_eq!(*db.to_bytes(), std::fs::read(&file).expect("read"), "written back identically");
        for entry in db.entries() {
            let name = String::from_utf8(entry.username().as_bytes().to_vec()).expect("ASCII");
            if entry.record().salt.as_bytes()[0] == 0 && zero_salt.is_none() {
                zero_salt = Some((file.clone(), name.clone()));
            }
            if entry.record().verifier.to_bytes().len() < n_len && short_verifier.is_none() {
                short_verifier = Some((file.clone(), name));
            }
        }
        users.extend(batch_users);
        if zero_salt.is_some() && short_verifier.is_some() {
            break 'hunt;
        }
    }
    let (salt_file, salt_user) = zero_salt.expect("a salt with a leading zero byte in 3000 users");
    let (v_file, v_user) = short_verifier.expect("a verifier shorter than N in 3000 users");
    eprintln!("hunted through {} users", users.len());
    for (file, name) in [(&salt_file, &salt_user), (&v_file, &v_user)] {
        let pw = &users.iter().find(|u| &u.0 == name).expect("known").1;
        let mut db = VerifierDb::load(file, None, Some(&conf)).expect("read");
        let ours = dir.join("ours");
        db.save(&ours, None).expect("save");
        let ours_conf = default_conf_path(&ours);
        assert_eq!(srptool_verify(&ours, &ours_conf, name, pw), Verdict::Matches, "{name}");
        assert_eq!(srptool_verify(&ours, &ours_conf, name, "wrong"), Verdict::DoesNotMatch);
    }
    // The leading zero byte survives: GnuTLS keeps salts as bytes.
    let db = VerifierDb::load(&salt_file, None, Some(&conf)).expect("read");
    let salt = &db.get(&user(&salt_user)).expect("user").salt;
    assert_eq!((salt.as_bytes().len(), salt.as_bytes()[0]), (16, 0));
}

/// Files we write pass `srptool --verify`, including salts GnuTLS's own encoder would mangle.
#[test]
fn srptool_checks_our_files() {
    let dir = temp_dir!("gnutls-ours");
    let file = dir.join("tpasswd");
    let conf = default_conf_path(&file);
    let mut db = VerifierDb::new(Format::GnuTls);
    let mut users = Vec::new();
    // srptool --verify cannot encode verifiers of the 6144- and 8192-bit groups (1024-byte
    // buffer); their files are checked by the round trip below.
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
    // Salts of many lengths, with and without leading zero bytes; [0, x < 0x40] of 2 bytes mod 3
    // is the case GnuTLS's encoder loses.
    let salts: Vec<Vec<u8>> = vec![
        vec![0],
        vec![7],
        vec![0, 0x3f],
        vec![0, 0x40],
        vec![0, 0, 1],
        vec![0, 0, 0, 0, 5],
        [vec![0], vec![0xab; 15]].concat(),
        [vec![0, 0x01], vec![0xcd; 18]].concat(),
        [vec![0, 0xff], vec![0x11; 18]].concat(),
        vec![0x80; 17],
        vec![0; 32],
        (0..=254u8).collect(),
        vec![0x5a; 255],
    ];
    for (k, bytes) in salts.iter().enumerate() {
        let name = format!("salt{k}-{}", bytes.len());
        let pw = password(&name, k);
        let salt = Salt::new(bytes).expect("salt");
        let group = Group::by_bits(2048).expect("group");
        let verifier = Verifier::compute(group, &user(&name), pw.as_bytes(), &salt);
        db.add(user(&name), VerifierRecord { salt, verifier }).expect("add");
        users.push((name, pw, 2048));
    }
    db.save(&file, None).expect("save");

    for (name, pw, bits) in &users {
        if *bits > 4096 {
            continue;
        }
        assert_eq!(srptool_verify(&file, &conf, name, pw), Verdict::Matches, "{name}");
        assert_eq!(srptool_verify(&file, &conf, name, "wrong password"), Verdict::DoesNotMatch);
    }
    let back = VerifierDb::load(&file, None, None).expect("read back");
    check_users(&back, &users);
    for (k, bytes) in salts.iter().enumerate() {
        let name = format!("salt{k}-{}", bytes.len());
        assert_eq!(back.get(&user(&name)).expect("user").salt.as_bytes(), bytes.as_slice());
    }

    // srptool adds to our file (replacing one of our users in place) and we read its result.
    srptool_add(&file, &conf, 3, "ours2-0", "replaced-pw");
    srptool_add(&file, &conf, 4, "added-by-srptool", "srptool-pw");
    let back = VerifierDb::load(&file, None, None).expect("read back");
    for (name, pw, bits) in
        [("ours2-0", "replaced-pw", 2048), ("added-by-srptool", "srptool-pw", 3072)]
    {
        check_users(&back, &[(name.to_owned(), pw.to_owned(), bits)]);
    }
    assert_eq!(back.entries()[8].username(), &user("ours2-0"), "replaced in place");
}

/// A group our database needs that the conf lacks gets GnuTLS's conventional index.
#[test]
fn gnutls_new_groups_get_conventional_indexes() {
    let mut db = VerifierDb::new(Format::GnuTls);
    for (name, bits) in [("a", 1024), ("b", 6144), ("c", 2048)] {
        let record =
            VerifierRecord::generate(Group::by_bits(bits).expect("group"), &user(name), b"pw")
                .expect("generate");
        db.add(user(name), record).expect("add");
    }
    let ids: Vec<&str> = db.entries().iter().map(|e| e.group_id()).collect();
    assert_eq!(ids, ["1", "6", "3"]);
    let conf = String::from_utf8(db.conf_bytes().expect("conf")).expect("ASCII");
    let indexes: Vec<&str> = conf.lines().map(|l| l.split(':').next().expect("index")).collect();
    assert_eq!(indexes, ["2", "3", "4", "5", "7", "1", "6"]);
}
