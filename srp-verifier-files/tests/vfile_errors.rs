//! One test per malformed-input error: each names the file, the line and the problem, and
//! hostile input never panics.

use std::path::Path;

use srp_core::{Group, GroupId, Salt, Username, Verifier, VerifierRecord};
use srp_verifier_files::{
    B64Error, Error, ErrorKind, Field, Format, MAX_FILE_LEN, MAX_LINE_LEN, VerifierDb, b64,
};

fn user(name: &str) -> Username {
    Username::new(name.as_bytes()).expect("valid test username")
}

fn record(bits: u32, name: &str) -> VerifierRecord {
    VerifierRecord::generate(Group::by_bits(bits).expect("group"), &user(name), b"pw")
        .expect("generate")
}

/// A valid OpenSSL user line.
fn v_line(name: &str, id: &str) -> String {
    let r = record(2048, name);
    format!(
        "V\t{}\t{}\t{name}\t{id}\t\n",
        b64::encode_openssl(&r.verifier.to_bytes()),
        b64::encode_openssl(r.salt.as_bytes())
    )
}

/// A valid GnuTLS user line (index 3 = 2048 bits in the standard conf).
fn t_line(name: &str) -> String {
    let r = record(2048, name);
    format!(
        "{name}:{}:{}:3\n",
        b64::encode_gnutls(&r.verifier.to_bytes()),
        b64::encode_gnutls(r.salt.as_bytes())
    )
}

fn standard_conf() -> Vec<u8> {
    VerifierDb::new(Format::GnuTls).conf_bytes().expect("conf")
}

fn openssl_err(text: &str) -> Error {
    VerifierDb::parse_openssl(Path::new("srpvfile"), text.as_bytes()).expect_err("rejected")
}

fn gnutls_err(text: &str) -> Error {
    VerifierDb::parse_gnutls(
        Path::new("tpasswd"),
        text.as_bytes(),
        Path::new("tpasswd.conf"),
        &standard_conf(),
    )
    .expect_err("rejected")
}

fn conf_err(conf: &str) -> Error {
    VerifierDb::parse_gnutls_conf(Path::new("tpasswd.conf"), conf.as_bytes()).expect_err("rejected")
}

/// Replaces field `i` of the last line.
fn with_field(line: &str, sep: char, i: usize, value: &str) -> String {
    let body = line.trim_end_matches('\n');
    let mut fields: Vec<&str> = body.split(sep).collect();
    fields[i] = value;
    format!("{}\n", fields.join(&sep.to_string()))
}

#[test]
fn display_names_file_line_and_problem() {
    let text = format!("{}{}", t_line("a"), with_field(&t_line("b"), ':', 1, "ab!d"));
    let err = gnutls_err(&text);
    assert_eq!(err.path(), Some(Path::new("tpasswd")));
    assert_eq!(err.line(), Some(2));
    assert_eq!(
        err.to_string(),
        "tpasswd:2: verifier is not valid base64: character '!' at position 2 is not in the alphabet 0-9A-Za-z./"
    );
}

#[test]
fn openssl_bad_base64_verifier() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 1, "abc="));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Base64 {
                field: Field::Verifier,
                problem: B64Error::InvalidChar { byte: b'=', position: 3 }
            }
        ),
        "{err}"
    );
    assert_eq!(err.line(), Some(1));
}

#[test]
fn openssl_base64_length_one_mod_four() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 2, "12345"));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Base64 { field: Field::Salt, problem: B64Error::BadLength(5) }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("salt is not valid base64: its length 5 is 1 modulo 4"),
        "{err}"
    );
}

#[test]
fn openssl_base64_dropped_bits() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 2, "zz"));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Base64 { field: Field::Salt, problem: B64Error::DroppedBits }
        ),
        "{err}"
    );
}

#[test]
fn openssl_empty_salt_field() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 2, ""));
    assert!(
        matches!(err.kind(), ErrorKind::Base64 { field: Field::Salt, problem: B64Error::Empty }),
        "{err}"
    );
}

#[test]
fn openssl_zero_salt() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 2, "0000"));
    assert!(matches!(err.kind(), ErrorKind::SaltLength(0)), "{err}");
    assert!(err.to_string().ends_with("salt is empty (its value is 0)"), "{err}");
}

#[test]
fn openssl_salt_too_long() {
    let err =
        openssl_err(&with_field(&v_line("a", "2048"), '\t', 2, &b64::encode_openssl(&[1; 256])));
    assert!(matches!(err.kind(), ErrorKind::SaltLength(256)), "{err}");
}

#[test]
fn openssl_wrong_field_count() {
    let line = v_line("a", "2048");
    let err = openssl_err(&format!("{}\tx\n", line.strip_suffix('\n').expect("newline")));
    assert!(matches!(err.kind(), ErrorKind::FieldCount { expected: 6, found: 7 }), "{err}");
    let err = openssl_err("V\tabc\n");
    assert!(matches!(err.kind(), ErrorKind::FieldCount { expected: 6, found: 2 }), "{err}");
    let err = openssl_err(&format!("{line}\n"));
    assert!(
        matches!(err.kind(), ErrorKind::FieldCount { expected: 6, found: 1 }),
        "empty line: {err}"
    );
    assert_eq!(err.line(), Some(2));
}

#[test]
fn openssl_unknown_line_type() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 0, "v"));
    assert!(matches!(err.kind(), ErrorKind::UnknownLineType(t) if t == "v"), "{err}");
    assert!(err.to_string().contains("expected \"V\""), "{err}");
}

#[test]
fn openssl_unknown_group_id() {
    let err = openssl_err(&v_line("a", "2047"));
    assert!(matches!(err.kind(), ErrorKind::UnknownGroup { id, .. } if id == "2047"), "{err}");
    assert!(err.to_string().contains("built-in id: 1024"), "{err}");
}

#[test]
fn openssl_group_defined_too_late() {
    let g = GroupId::G2048.group();
    let i_line = format!(
        "I\t{}\t{}\tlate\t\t\n",
        b64::encode_openssl(g.n_bytes()),
        b64::encode_openssl(g.g_bytes())
    );
    let err = openssl_err(&format!("{}{i_line}", v_line("a", "late")));
    assert!(err.to_string().contains("its I line 2 comes later"), "{err}");
    // In the right order it is fine.
    VerifierDb::parse_openssl(
        Path::new("f"),
        format!("{i_line}{}", v_line("a", "late")).as_bytes(),
    )
    .expect("accepted");
}

#[test]
fn openssl_unknown_custom_group() {
    // A 2048-bit N that is not RFC 5054's (one bit changed).
    let mut n = GroupId::G2048.group().n_bytes().to_vec();
    n[100] ^= 1;
    let err = openssl_err(&format!("I\t{}\t02\tmine\t\t\n", b64::encode_openssl(&n)));
    assert!(
        matches!(err.kind(), ErrorKind::NotRfc5054Group { id, bits: 2048 } if id == "mine"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "srpvfile:1: group \"mine\" (N of 2048 bits) is not one of the RFC 5054 groups; only those are accepted"
    );
    // Right N, wrong g.
    let g = GroupId::G2048.group();
    let err = openssl_err(&format!("I\t{}\t05\tmine\t\t\n", b64::encode_openssl(g.n_bytes())));
    assert!(matches!(err.kind(), ErrorKind::NotRfc5054Group { .. }), "{err}");
}

#[test]
fn openssl_group_id_conflict_and_duplicate() {
    let g = GroupId::G4096.group();
    let line = format!(
        "I\t{}\t{}\t2048\t\t\n",
        b64::encode_openssl(g.n_bytes()),
        b64::encode_openssl(g.g_bytes())
    );
    let err = openssl_err(&line);
    assert!(matches!(err.kind(), ErrorKind::GroupIdConflict { bits: 4096, .. }), "{err}");
    let line = line.replace("\t2048\t", "\tx\t");
    let err = openssl_err(&format!("{line}{line}"));
    assert!(matches!(err.kind(), ErrorKind::DuplicateGroup { first_line: 1, .. }), "{err}");
    let err = openssl_err(&line.replace("\tx\t", "\t\t"));
    assert!(matches!(err.kind(), ErrorKind::EmptyGroupId), "{err}");
}

#[test]
fn openssl_verifier_not_below_n() {
    let n = GroupId::G2048.group().n_bytes();
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 1, &b64::encode_openssl(n)));
    assert!(matches!(err.kind(), ErrorKind::VerifierOutOfRange { bits: 2048 }), "{err}");
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 1, "00"));
    assert!(matches!(err.kind(), ErrorKind::VerifierOutOfRange { .. }), "zero: {err}");
}

#[test]
fn openssl_empty_user() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 3, ""));
    assert!(matches!(err.kind(), ErrorKind::EmptyUsername), "{err}");
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 3, &"u".repeat(256)));
    assert!(matches!(err.kind(), ErrorKind::UsernameTooLong), "{err}");
}

#[test]
fn openssl_duplicate_user() {
    let err = openssl_err(&format!(
        "{}{}{}",
        v_line("a", "2048"),
        v_line("b", "2048"),
        v_line("a", "3072")
    ));
    assert!(
        matches!(err.kind(), ErrorKind::DuplicateUser { user, first_line: 1 } if user == "a"),
        "{err}"
    );
    assert_eq!(err.line(), Some(3));
}

#[test]
fn openssl_missing_final_newline() {
    let text = v_line("a", "2048");
    let err = openssl_err(text.strip_suffix('\n').expect("newline"));
    assert!(matches!(err.kind(), ErrorKind::MissingNewline), "{err}");
}

#[test]
fn openssl_nul_byte() {
    let err = openssl_err(&with_field(&v_line("a", "2048"), '\t', 5, "in\0fo"));
    assert!(matches!(err.kind(), ErrorKind::NulByte), "{err}");
}

#[test]
fn openssl_comments_and_escaped_tabs() {
    let r = record(2048, "a\tb");
    let text = format!(
        "# comment\nV\t{}\t{}\ta\\\tb\t2048\tinfo\\\twith tab\n",
        b64::encode_openssl(&r.verifier.to_bytes()),
        b64::encode_openssl(r.salt.as_bytes())
    );
    let db = VerifierDb::parse_openssl(Path::new("f"), text.as_bytes()).expect("accepted");
    let entry = db.entry(&user("a\tb")).expect("tab in the name");
    assert_eq!(entry.info(), b"info\twith tab");
    assert_eq!(entry.line(), Some(2));
    assert_eq!(db.to_bytes().as_slice(), text.trim_start_matches("# comment\n").as_bytes());
}

#[test]
fn gnutls_bad_base64() {
    let err = gnutls_err(&with_field(&t_line("a"), ':', 1, "abc def"));
    assert!(matches!(err.kind(), ErrorKind::Base64 { field: Field::Verifier, .. }), "{err}");
    let err = gnutls_err(&with_field(&t_line("a"), ':', 2, ""));
    assert!(
        matches!(err.kind(), ErrorKind::Base64 { field: Field::Salt, problem: B64Error::Empty }),
        "{err}"
    );
}

#[test]
fn gnutls_wrong_field_count() {
    let err = gnutls_err("a:b:c\n");
    assert!(matches!(err.kind(), ErrorKind::FieldCount { expected: 4, found: 3 }), "{err}");
    let err = gnutls_err(&format!("x:{}", t_line("a")));
    assert!(
        matches!(err.kind(), ErrorKind::FieldCount { expected: 4, found: 5 }),
        "colon in name: {err}"
    );
}

#[test]
fn gnutls_unknown_index() {
    let err = gnutls_err(&with_field(&t_line("a"), ':', 3, "6"));
    assert!(matches!(err.kind(), ErrorKind::UnknownGroup { id, .. } if id == "6"), "{err}");
    assert!(err.to_string().contains("the group file has no line with this index"), "{err}");
}

#[test]
fn gnutls_bad_index() {
    for bad in ["0", "03", "-3", "3x", "", "99999999999"] {
        let err = gnutls_err(&with_field(&t_line("a"), ':', 3, bad));
        assert!(matches!(err.kind(), ErrorKind::BadIndex(found) if found == bad), "{bad}: {err}");
    }
}

#[test]
fn gnutls_verifier_not_below_n() {
    let n = GroupId::G2048.group().n_bytes();
    let err = gnutls_err(&with_field(&t_line("a"), ':', 1, &b64::encode_gnutls(n)));
    assert!(matches!(err.kind(), ErrorKind::VerifierOutOfRange { bits: 2048 }), "{err}");
}

#[test]
fn gnutls_empty_and_duplicate_user() {
    let err = gnutls_err(&with_field(&t_line("a"), ':', 0, ""));
    assert!(matches!(err.kind(), ErrorKind::EmptyUsername), "{err}");
    let err = gnutls_err(&format!("{}\n{}", t_line("a"), t_line("a")));
    assert!(matches!(err.kind(), ErrorKind::DuplicateUser { first_line: 1, .. }), "{err}");
    assert_eq!(err.line(), Some(3), "empty lines count");
}

#[test]
fn gnutls_carriage_return() {
    let err = gnutls_err(&t_line("a").replace('\n', "\r\n"));
    assert!(matches!(err.kind(), ErrorKind::CarriageReturn), "{err}");
}

#[test]
fn gnutls_salt_too_long() {
    let err = gnutls_err(&with_field(&t_line("a"), ':', 2, &b64::encode_gnutls(&[1; 256])));
    assert!(matches!(err.kind(), ErrorKind::SaltLength(256)), "{err}");
}

#[test]
fn gnutls_conf_errors() {
    let g = GroupId::G2048.group();
    let good =
        format!("3:{}:{}\n", b64::encode_gnutls(g.n_bytes()), b64::encode_gnutls(g.g_bytes()));
    let err = conf_err(&format!("{good}{good}"));
    assert!(matches!(err.kind(), ErrorKind::DuplicateGroup { first_line: 1, .. }), "{err}");
    assert_eq!(err.path(), Some(Path::new("tpasswd.conf")));
    let err = conf_err(&good.replace(":2\n", ":5\n"));
    assert!(matches!(err.kind(), ErrorKind::NotRfc5054Group { bits: 2048, .. }), "{err}");
    let err = conf_err(&good.replace(":2\n", ":\n"));
    assert!(matches!(err.kind(), ErrorKind::Base64 { field: Field::Generator, .. }), "{err}");
    let err = conf_err(&good.replace("3:", "3:x:"));
    assert!(matches!(err.kind(), ErrorKind::FieldCount { expected: 3, found: 4 }), "{err}");
    let err = conf_err(&good.replacen('3', "three", 1));
    assert!(matches!(err.kind(), ErrorKind::BadIndex(_)), "{err}");
    let err = conf_err(&good.replacen(':', ":=", 1));
    assert!(matches!(err.kind(), ErrorKind::Base64 { field: Field::Modulus, .. }), "{err}");
}

#[test]
fn unknown_format() {
    let dir = std::env::temp_dir().join(format!("vfile-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("empty");
    std::fs::write(&file, b"").expect("write");
    let err = VerifierDb::load(&file, None, None).expect_err("empty file");
    assert!(matches!(err.kind(), ErrorKind::UnknownFormat), "{err}");
    std::fs::write(&file, b"hello world\n").expect("write");
    let err = VerifierDb::load(&file, None, None).expect_err("not a verifier file");
    assert!(matches!(err.kind(), ErrorKind::UnknownFormat), "{err}");
    // A GnuTLS file without its group file names the group file.
    std::fs::write(&file, t_line("a")).expect("write");
    let err = VerifierDb::load(&file, None, None).expect_err("no conf");
    assert!(matches!(err.kind(), ErrorKind::Io(_)), "{err}");
    assert!(err.to_string().contains("empty.conf"), "{err}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn add_rules() {
    let mut db = VerifierDb::new(Format::OpenSsl);
    db.add(user("a"), record(2048, "a")).expect("add");
    let err = db.add(user("a"), record(2048, "a")).expect_err("exists");
    assert!(matches!(err.kind(), ErrorKind::UserExists(u) if u == "a"), "{err}");
    assert!(db.insert(user("a"), record(3072, "a")).expect("replace").is_some());
    assert!(db.remove(&user("a")).is_some());
    assert!(db.remove(&user("a")).is_none());

    // OpenSSL drops a salt's leading zero bytes: such a record is refused, not silently broken.
    let salt = Salt::new(&[0, 1, 2, 3]).expect("salt");
    let group = GroupId::G2048.group();
    let zero =
        VerifierRecord { verifier: Verifier::compute(group, &user("z"), b"pw", &salt), salt };
    let err = db.add(user("z"), zero.clone()).expect_err("unrepresentable");
    assert!(matches!(err.kind(), ErrorKind::Unrepresentable { .. }), "{err}");
    assert!(err.to_string().contains("salt starts with a zero byte"), "{err}");
    let err = db.add(user("back\\"), record(2048, "back\\")).expect_err("trailing backslash");
    assert!(matches!(err.kind(), ErrorKind::Unrepresentable { .. }), "{err}");
    let mut gnutls = VerifierDb::new(Format::GnuTls);
    gnutls.add(user("z"), zero).expect("GnuTLS keeps salt bytes");
    let err = gnutls.add(user("a:b"), record(2048, "a:b")).expect_err("colon");
    assert!(err.to_string().contains("holds a colon"), "{err}");
    let err = gnutls.convert(Format::OpenSsl).expect_err("zero salt cannot move to OpenSSL");
    assert!(err.to_string().contains("\"z\" cannot be stored"), "{err}");
}

/// Mutated and truncated files give errors, never panics.
#[test]
fn hostile_input_never_panics() {
    let openssl = format!("{}{}", v_line("a", "2048"), v_line("b", "1024"));
    let gnutls = format!("{}{}", t_line("a"), t_line("b"));
    let conf = standard_conf();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let interesting = b"\t\n:\\0./Az=\0\r#VRI";
    for round in 0..3000 {
        for (which, base) in [(0, openssl.as_bytes()), (1, gnutls.as_bytes()), (2, &conf[..])] {
            let mut bytes = base.to_vec();
            for _ in 0..1 + round % 4 {
                let pos = (next() as usize) % bytes.len();
                match next() % 4 {
                    0 => bytes[pos] = interesting[(next() as usize) % interesting.len()],
                    1 => bytes[pos] = next() as u8,
                    2 => bytes.truncate(pos),
                    _ => bytes.insert(pos, interesting[(next() as usize) % interesting.len()]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = Format::detect(&bytes);
            let _ = match which {
                0 => VerifierDb::parse_openssl(Path::new("f"), &bytes).map(|db| db.to_bytes()),
                1 => VerifierDb::parse_gnutls(Path::new("f"), &bytes, Path::new("c"), &conf)
                    .map(|db| db.to_bytes()),
                _ => VerifierDb::parse_gnutls_conf(Path::new("c"), &bytes).map(|db| db.to_bytes()),
            };
            let _ = b64::decode_openssl(&bytes);
            let _ = b64::decode_gnutls(&bytes);
        }
    }
}

/// A verifier file is read whole into memory: anything over 64 MiB is refused before it is read,
/// naming the file (issue 10). A sparse file makes the test cheap.
#[test]
fn oversized_file_is_refused_before_it_is_read() {
    let dir = srp_test_support::temp_dir!("oversized");
    let big = dir.join("srpvfile");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(MAX_FILE_LEN + 1).expect("a sparse 64 MiB + 1 file");
    drop(file);
    let err = VerifierDb::load(&big, Some(Format::OpenSsl), None).expect_err("too large");
    assert!(matches!(err.kind(), ErrorKind::FileTooLarge { limit: MAX_FILE_LEN }), "{err}");
    assert_eq!(err.path(), Some(big.as_path()));
    let text = err.to_string();
    assert!(text.contains("srpvfile: file is larger than 64 MiB"), "{text}");

    // The same for a GnuTLS group file.
    let tpasswd = dir.join("tpasswd");
    std::fs::write(&tpasswd, t_line("a")).expect("write");
    let conf = dir.join("tpasswd.conf");
    let file = std::fs::File::create(&conf).expect("create");
    file.set_len(MAX_FILE_LEN + 1).expect("a sparse 64 MiB + 1 file");
    drop(file);
    let err = VerifierDb::load(&tpasswd, Some(Format::GnuTls), None).expect_err("too large");
    assert!(matches!(err.kind(), ErrorKind::FileTooLarge { .. }), "{err}");
    assert_eq!(err.path(), Some(conf.as_path()));

    // Exactly at the limit is read (and then rejected for what it holds: one long line).
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(MAX_FILE_LEN).expect("a sparse 64 MiB file");
    drop(file);
    let err = VerifierDb::load(&big, Some(Format::OpenSsl), None).expect_err("one long line");
    assert!(matches!(err.kind(), ErrorKind::LineTooLong { .. }), "{err}");
}

/// No valid line comes near 64 KiB (the longest, an 8192-bit `I` line, has about 1,400 bytes):
/// a longer line is refused with its number instead of being split and decoded.
#[test]
fn overlong_line_is_refused() {
    let long_info = "i".repeat(70_000);
    let openssl =
        format!("{}{}", v_line("a", "2048"), with_field(&v_line("b", "2048"), '\t', 5, &long_info));
    let err = openssl_err(&openssl);
    assert!(matches!(err.kind(), ErrorKind::LineTooLong { limit: MAX_LINE_LEN }), "{err}");
    assert!(err.to_string().contains("srpvfile:2: line is longer than 64 KiB"), "{err}");
    // Up to the limit is fine (OpenSSL's info field is free-form).
    let info = "i".repeat(MAX_LINE_LEN - v_line("b", "2048").len());
    let openssl = with_field(&v_line("b", "2048"), '\t', 5, &info);
    assert!(openssl.len() - 1 <= MAX_LINE_LEN);
    VerifierDb::parse_openssl(Path::new("srpvfile"), openssl.as_bytes())
        .expect("a long info field");
    let gnutls = format!("{}{}", t_line("a"), "b".repeat(70_000) + &t_line("c"));
    let err = gnutls_err(&gnutls);
    assert!(err.to_string().contains("tpasswd:2: line is longer than 64 KiB"), "{err}");
}
