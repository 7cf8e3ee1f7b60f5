//! Runs the built `srp-verifier` for every subcommand and exit status, and checks its files
//! with the real `openssl srp`, `SRP_VBASE` and `srptool` (and theirs with `check`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use srp_test_support::temp_dir;
use srp_test_support::tools::{
    Verdict, openssl_add, openssl_verify, require_tool, srptool_add, srptool_create_conf,
    srptool_verify, vbase_verify,
};

/// Runs `srp-verifier ARGS` with `stdin` as standard input.
fn srp_verifier(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_srp-verifier"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run srp-verifier");
    // The program may exit before it reads its input.
    let _ = child.stdin.take().expect("piped").write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait for srp-verifier")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing the output when it differs.
fn expect(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout {:?}, stderr {:?}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test path")
}

fn add(file: &Path, user: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec!["add", "--file", p(file), "--user", user, "--password-stdin"];
    args.extend_from_slice(extra);
    srp_verifier(&args, &format!("{password}\n"))
}

fn check(file: &Path, user: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--file", p(file), "--user", user, "--password-stdin"];
    args.extend_from_slice(extra);
    srp_verifier(&args, &format!("{password}\n"))
}

#[test]
fn openssl_lifecycle_and_interop() {
    let dir = temp_dir!("cli-openssl");
    let file = dir.join("srpvfile");
    // A new file needs --format.
    let out = add(&file, "alice", "pw-alice", &[]);
    expect(&out, 2);
    assert!(stderr(&out).contains("pass --format openssl or --format gnutls"), "{}", stderr(&out));
    assert!(!file.exists());

    expect(&add(&file, "alice", "pw-alice", &["--format", "openssl"]), 0);
    expect(&add(&file, "bob", "pw-bob", &["--group", "2048"]), 0);
    expect(&add(&file, "carol", "pw-carol", &["--group", "8192"]), 0);
    let out = add(&file, "weak", "pw-weak", &["--group", "1024"]);
    expect(&out, 0);
    assert!(stderr(&out).contains("warning: the 1024-bit group is weak"), "{}", stderr(&out));

    // Errors: existing user, unknown group size, format mismatch.
    let out = add(&file, "alice", "other", &[]);
    expect(&out, 2);
    assert!(
        stderr(&out).contains("already exists") && stderr(&out).contains("remove it first"),
        "{}",
        stderr(&out)
    );
    let out = add(&file, "dave", "pw", &["--group", "1000"]);
    expect(&out, 2);
    assert!(stderr(&out).contains("no RFC 5054 group has 1000 bits"), "{}", stderr(&out));
    let out = add(&file, "dave", "pw", &["--format", "gnutls"]);
    expect(&out, 2);
    assert!(stderr(&out).contains("is in openssl format, but --format gnutls"), "{}", stderr(&out));
    let out = add(&file, "dave", "", &[]);
    expect(&out, 2);
    assert!(stderr(&out).contains("the password is empty"), "{}", stderr(&out));

    // check: 0 right, 1 wrong or unknown.
    expect(&check(&file, "alice", "pw-alice", &[]), 0);
    expect(&check(&file, "alice", "pw-bob", &[]), 1);
    let out = check(&file, "nobody", "pw", &[]);
    expect(&out, 1);
    assert!(stderr(&out).contains("is not in"), "{}", stderr(&out));

    // list
    let out = srp_verifier(&["list", "--file", p(&file)], "");
    expect(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "alice\t3072\nbob\t2048\ncarol\t8192\nweak\t1024\n"
    );

    // The real tools accept the file.
    for (user, pw) in [("alice", "pw-alice"), ("bob", "pw-bob"), ("carol", "pw-carol")] {
        assert_eq!(openssl_verify(&file, user, pw), Verdict::Matches, "{user}");
        assert_eq!(openssl_verify(&file, user, "wrong"), Verdict::DoesNotMatch, "{user}");
        assert_eq!(vbase_verify(&file, user, pw), Some(Verdict::Matches), "{user}");
    }
    // And we accept theirs.
    openssl_add(&file, "4096", "tool-user", "pw-tool");
    expect(&check(&file, "tool-user", "pw-tool", &[]), 0);
    expect(&check(&file, "tool-user", "pw-toolx", &[]), 1);

    // remove
    expect(&srp_verifier(&["remove", "--file", p(&file), "--user", "bob"], ""), 0);
    expect(&check(&file, "bob", "pw-bob", &[]), 1);
    let out = srp_verifier(&["remove", "--file", p(&file), "--user", "bob"], "");
    expect(&out, 2);
    assert!(stderr(&out).contains("user \"bob\" is not in"), "{}", stderr(&out));
    assert_eq!(vbase_verify(&file, "bob", "pw-bob"), None);
    assert_eq!(vbase_verify(&file, "alice", "pw-alice"), Some(Verdict::Matches));
}

#[test]
fn gnutls_lifecycle_and_interop() {
    let dir = temp_dir!("cli-gnutls");
    let file = dir.join("tpasswd");
    let conf = dir.join("tpasswd.conf");
    expect(&add(&file, "alice", "pw-alice", &["--format", "gnutls"]), 0);
    assert!(conf.exists(), "the group file is FILE.conf");
    expect(&add(&file, "bob", "pw-bob", &["--group", "1024"]), 0);
    expect(&add(&file, "carol", "pw-carol", &["--group", "4096"]), 0);
    for (user, pw) in [("alice", "pw-alice"), ("bob", "pw-bob"), ("carol", "pw-carol")] {
        assert_eq!(srptool_verify(&file, &conf, user, pw), Verdict::Matches, "{user}");
        assert_eq!(srptool_verify(&file, &conf, user, "wrong"), Verdict::DoesNotMatch, "{user}");
        expect(&check(&file, user, pw, &[]), 0);
        expect(&check(&file, user, "wrong", &[]), 1);
    }
    srptool_add(&file, &conf, 3, "tool-user", "pw-tool");
    expect(&check(&file, "tool-user", "pw-tool", &[]), 0);
    expect(&check(&file, "tool-user", "pw-tool2", &[]), 1);
    expect(&srp_verifier(&["remove", "--file", p(&file), "--user", "alice"], ""), 0);
    let out = srp_verifier(&["list", "--file", p(&file)], "");
    expect(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bob\t1024\ncarol\t4096\ntool-user\t2048\n");

    // A group file elsewhere (--conf), made by srptool.
    let other = dir.join("users");
    let other_conf = dir.join("groups.conf");
    srptool_create_conf(&other_conf);
    let c = p(&other_conf);
    expect(
        &add(&other, "dave", "pw-dave", &["--format", "gnutls", "--conf", c, "--group", "2048"]),
        0,
    );
    assert!(!dir.join("users.conf").exists());
    assert_eq!(srptool_verify(&other, &other_conf, "dave", "pw-dave"), Verdict::Matches);
    expect(&check(&other, "dave", "pw-dave", &["--conf", c]), 0);
    // Without --conf the group file users.conf is missing: an error naming it.
    let out = check(&other, "dave", "pw-dave", &[]);
    expect(&out, 2);
    assert!(stderr(&out).contains("users.conf"), "{}", stderr(&out));
}

#[test]
fn convert_both_ways() {
    let dir = temp_dir!("cli-convert");
    let openssl_file = dir.join("srpvfile");
    std::fs::write(&openssl_file, b"").expect("create");
    for (user, bits) in [("o1", "1024"), ("o2", "2048"), ("o3", "3072"), ("o4", "4096")] {
        openssl_add(&openssl_file, bits, user, &format!("pw-{user}"));
    }
    let tpasswd = dir.join("tpasswd");
    let out = srp_verifier(
        &["convert", "--from", p(&openssl_file), "--to", p(&tpasswd), "--format", "gnutls"],
        "",
    );
    expect(&out, 0);
    let conf = dir.join("tpasswd.conf");
    for user in ["o1", "o2", "o3", "o4"] {
        assert_eq!(
            srptool_verify(&tpasswd, &conf, user, &format!("pw-{user}")),
            Verdict::Matches,
            "{user}"
        );
    }
    // The target must not exist.
    let out = srp_verifier(
        &["convert", "--from", p(&openssl_file), "--to", p(&tpasswd), "--format", "gnutls"],
        "",
    );
    expect(&out, 2);
    assert!(stderr(&out).contains("exists; remove it first"), "{}", stderr(&out));

    // GnuTLS to OpenSSL. (A srptool salt starting with a zero byte, one user in 256, cannot
    // move to OpenSSL; draw again then.)
    loop {
        srptool_add(&tpasswd, &conf, 4, "g1", "pw-g1");
        let db = srp_verifier_files::VerifierDb::load(&tpasswd, None, None).expect("read");
        let g1 = srp_core::Username::new(b"g1").expect("name");
        if db.get(&g1).expect("g1").salt.as_bytes()[0] != 0 {
            break;
        }
    }
    let back = dir.join("back");
    expect(
        &srp_verifier(
            &["convert", "--from", p(&tpasswd), "--to", p(&back), "--format", "openssl"],
            "",
        ),
        0,
    );
    for user in ["o1", "o2", "o3", "o4", "g1"] {
        assert_eq!(openssl_verify(&back, user, &format!("pw-{user}")), Verdict::Matches, "{user}");
        expect(&check(&back, user, &format!("pw-{user}"), &[]), 0);
    }
}

#[test]
fn malformed_files_exit_2_naming_file_and_line() {
    let dir = temp_dir!("cli-bad");
    let file = dir.join("tpasswd");
    expect(&add(&file, "alice", "pw", &["--format", "gnutls", "--group", "2048"]), 0);
    let good = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, format!("{good}bob:ab!c:xyz:3\n")).expect("write");
    for args in [
        vec!["check", "--file", p(&file), "--user", "alice", "--password-stdin"],
        vec!["list", "--file", p(&file)],
        vec!["remove", "--file", p(&file), "--user", "alice"],
        vec!["add", "--file", p(&file), "--user", "x", "--password-stdin"],
    ] {
        let out = srp_verifier(&args, "pw\n");
        expect(&out, 2);
        let expected = format!("{}:2: verifier is not valid base64", file.display());
        assert!(stderr(&out).contains(&expected), "{args:?}: {}", stderr(&out));
    }
    let out = srp_verifier(&["list", "--file", p(&dir.join("missing"))], "");
    expect(&out, 2);
    assert!(stderr(&out).contains("missing"), "{}", stderr(&out));
    // Usage errors are exit status 2 too.
    expect(&srp_verifier(&["check", "--file", p(&file)], ""), 2);
    expect(&srp_verifier(&["frobnicate"], ""), 2);
}

/// Without --password-stdin the password comes from the terminal; with none, a clear error.
#[test]
fn no_terminal_is_a_clear_error() {
    let dir = temp_dir!("cli-tty");
    let file = dir.join("srpvfile");
    let setsid = require_tool("setsid", "util-linux");
    let out = Command::new(setsid)
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_srp-verifier"))
        .args(["add", "--file", p(&file), "--user", "u", "--format", "openssl"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    expect(&out, 2);
    assert!(
        stderr(&out).contains("cannot read the password from the terminal"),
        "{}",
        stderr(&out)
    );
    assert!(!file.exists());
}

/// `--password-stdin` takes the first line without its line end (LF or CR LF), also without a
/// final newline; an over-long or non-UTF-8 line is an error. (The line is read unbuffered into
/// a fixed buffer that is wiped; that part is not observable from here.)
#[test]
fn password_from_standard_input() {
    let dir = temp_dir!("cli-stdin");
    let file = dir.join("srpvfile");
    let args = ["--file", p(&file), "--user", "alice", "--password-stdin"];
    let run = |command: &str, input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_srp-verifier"))
            .arg(command)
            .args(args)
            .args(if command == "add" { &["--format", "openssl"][..] } else { &[] })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run srp-verifier");
        let _ = child.stdin.take().expect("piped").write_all(input);
        child.wait_with_output().expect("wait for srp-verifier")
    };
    expect(&run("add", b"pw-alice\r\nsecond line\n"), 0);
    expect(&run("check", b"pw-alice\n"), 0);
    expect(&run("check", b"pw-alice"), 0);
    expect(&run("check", b"pw-alice\r\n"), 0);
    expect(&run("check", b"pw-alic\n"), 1);
    let out = run("check", &[b'x'; 5000]);
    expect(&out, 2);
    assert!(stderr(&out).contains("longer than 4096 bytes"), "{}", stderr(&out));
    let out = run("check", b"\xff\xfe\n");
    expect(&out, 2);
    assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
    expect(&run("check", b"\n"), 2);
}
