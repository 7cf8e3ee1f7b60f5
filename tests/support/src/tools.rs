//! The real tools the verifier-file tests compare with: `openssl srp`, `srptool`, and a small C
//! program on libcrypto's `SRP_VBASE` (built here with the system C compiler), plus temporary
//! directories.
//!
//! A missing tool makes the test fail with a message naming the Debian package: these tests
//! never skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh [`TempDir`] under the calling test crate's `CARGO_TARGET_TMPDIR` (which Cargo sets
/// only when it compiles an integration test or benchmark, so it is read in the caller).
#[macro_export]
macro_rules! temp_dir {
    ($name:expr) => {
        $crate::tools::TempDir::new_in(::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")), $name)
    };
}

/// A directory under Cargo's per-target temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory `vfile-NAME-PID-N` in `base` (see [`temp_dir!`]).
    pub fn new_in(base: &Path, name: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("vfile-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the test directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Finds a program on PATH, or fails the test saying which package provides it.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH: install the Debian package `{package}` \
                 (the vfile interop tests run the real tools and never skip)"
            )
        })
}

fn run(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // A tool that exits without reading its input (e.g. `srptool --create-conf`, or one that
    // fails early) closes the pipe first: that is no error here; its exit status and output
    // are checked by the caller.
    match child.stdin.take().expect("stdin is piped").write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        result => result.expect("write stdin"),
    }
    child.wait_with_output().expect("wait for the tool")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}, stdout {:?}, stderr {:?}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `openssl srp -srpvfile FILE -add -gn GN -passout pass:PASSWORD USER` (FILE must exist).
pub fn openssl_add(file: &Path, gn: &str, user: &str, password: &str) {
    let openssl = require_tool("openssl", "openssl");
    let output = run(
        Command::new(openssl)
            .args(["srp", "-srpvfile"])
            .arg(file)
            .args(["-add", "-gn", gn, "-passout"])
            .arg(format!("pass:{password}"))
            .arg(user),
        b"",
    );
    assert!(output.status.success(), "openssl srp -add {user}: {}", describe(&output));
}

/// What a tool said about a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Matches,
    DoesNotMatch,
}

/// Checks a password with `openssl srp -modify` (which verifies the old password before it
/// replaces it) on a copy of the file. `openssl srp` has no `-verify` option; `-modify` exits
/// 0 after "Password ... ok" and 1 after "Invalid password". It cannot check users of `I`-line
/// groups (it looks the group up in the user's own row).
pub fn openssl_verify(file: &Path, user: &str, password: &str) -> Verdict {
    let openssl = require_tool("openssl", "openssl");
    let copy = file.with_extension("verify-copy");
    std::fs::copy(file, &copy).expect("copy the srpvfile");
    let output = run(
        Command::new(openssl)
            .args(["srp", "-srpvfile"])
            .arg(&copy)
            .args(["-modify", "-passin"])
            .arg(format!("pass:{password}"))
            .arg("-passout")
            .arg(format!("pass:{password}"))
            .arg(user),
        b"",
    );
    for suffix in ["", ".attr", ".old", ".attr.old"] {
        let mut name = copy.clone().into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Verdict::Matches,
        Some(1) if stderr.contains("Invalid password") => Verdict::DoesNotMatch,
        _ => panic!("openssl srp -modify {user}: {}", describe(&output)),
    }
}

/// Builds (once) the C program that checks a password through libcrypto's `SRP_VBASE`.
fn vbase_checker() -> &'static Path {
    static CHECKER: OnceLock<PathBuf> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let cc = require_tool("cc", "gcc");
        // Next to the test executable: inside the target directory, wherever that is.
        let exe = std::env::current_exe().expect("the test executable's path");
        let dir = exe.parent().expect("the test executable is in a directory");
        let source = dir.join(format!("srp_vbase_check-{}.c", std::process::id()));
        std::fs::write(&source, include_str!("srp_vbase_check.c")).expect("write the C source");
        let binary = dir.join(format!("srp_vbase_check-{}", std::process::id()));
        let output = run(
            Command::new(cc).arg("-Wall").arg("-o").arg(&binary).arg(&source).arg("-lcrypto"),
            b"",
        );
        assert!(
            output.status.success(),
            "building {} failed (needs the Debian package `libssl-dev`): {}",
            source.display(),
            describe(&output)
        );
        binary
    })
}

/// Checks a password as an OpenSSL server loads the file (`SRP_VBASE_init`); `None` when
/// OpenSSL has no such user.
pub fn vbase_verify(file: &Path, user: &str, password: &str) -> Option<Verdict> {
    let output = run(Command::new(vbase_checker()).arg(file).arg(user).arg(password), b"");
    match output.status.code() {
        Some(0) => Some(Verdict::Matches),
        Some(1) => Some(Verdict::DoesNotMatch),
        Some(2) => None,
        _ => panic!("SRP_VBASE check of {user}: {}", describe(&output)),
    }
}

/// `srptool` reads the password with getpass(), which prefers the controlling terminal:
/// `setsid` runs it without one, so it reads standard input.
fn srptool(args: &[&std::ffi::OsStr], password: &str) -> Output {
    let setsid = require_tool("setsid", "util-linux");
    let srptool = require_tool("srptool", "gnutls-bin");
    run(Command::new(setsid).arg("-w").arg(srptool).args(args), format!("{password}\n").as_bytes())
}

/// `srptool --create-conf CONF`.
pub fn srptool_create_conf(conf: &Path) {
    let output = srptool(&["--create-conf".as_ref(), conf.as_os_str()], "");
    assert!(output.status.success(), "srptool --create-conf: {}", describe(&output));
}

/// `srptool --passwd FILE --passwd-conf CONF --username USER --index INDEX`.
pub fn srptool_add(file: &Path, conf: &Path, index: u32, user: &str, password: &str) {
    let index = index.to_string();
    let output = srptool(
        &[
            "--passwd".as_ref(),
            file.as_os_str(),
            "--passwd-conf".as_ref(),
            conf.as_os_str(),
            "--username".as_ref(),
            user.as_ref(),
            "--index".as_ref(),
            index.as_ref(),
        ],
        password,
    );
    assert!(output.status.success(), "srptool add {user}: {}", describe(&output));
}

/// `srptool --verify`: exit 0 and "Password verified", or exit 255 and "does NOT match".
pub fn srptool_verify(file: &Path, conf: &Path, user: &str, password: &str) -> Verdict {
    let output = srptool(
        &[
            "--passwd".as_ref(),
            file.as_os_str(),
            "--passwd-conf".as_ref(),
            conf.as_os_str(),
            "--username".as_ref(),
            user.as_ref(),
            "--verify".as_ref(),
        ],
        password,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() && stderr.contains("Password verified") {
        Verdict::Matches
    } else if stderr.contains("Password does NOT match") {
        Verdict::DoesNotMatch
    } else {
        panic!("srptool --verify {user}: {}", describe(&output))
    }
}

/// A password for test user `i`: varied lengths, at least 4 characters (`openssl srp` asks for
/// 4 to 1023).
pub fn password(user: &str, i: usize) -> String {
    format!("pw{i}-{}{user}", "x".repeat(i % 7))
}
