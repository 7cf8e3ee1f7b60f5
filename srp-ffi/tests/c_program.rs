//! Builds the static library and a C program that uses it through `include/srp_ffi.h` alone,
//! then runs the program: a full client/server exchange in three groups and every bad-input
//! case of the C face, including verifier files made by the real `openssl srp` and `srptool`.

use std::path::{Path, PathBuf};
use std::process::Command;

use srp_test_support::tools as vfile_support;

/// The credentials exchange.c uses for verifier files.
const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

/// Makes the verifier files the C program reads: one by `openssl srp` (3072-bit group), one by
/// `srptool` (index 3: 2048 bits), and an OpenSSL file whose line 2 is malformed.
fn make_verifier_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("creating the verifier file directory");
    let openssl = dir.join("srpvfile");
    let gnutls = dir.join("tpasswd");
    let conf = dir.join("tpasswd.conf");
    let bad = dir.join("bad-srpvfile");
    for path in [&openssl, &gnutls, &conf] {
        let _ = std::fs::remove_file(path);
    }
    std::fs::write(&openssl, "").expect("creating the OpenSSL verifier file");
    vfile_support::openssl_add(&openssl, "3072", USER, PASSWORD);
    vfile_support::srptool_create_conf(&conf);
    vfile_support::srptool_add(&gnutls, &conf, 3, USER, PASSWORD);
    let mut text = std::fs::read_to_string(&openssl).expect("reading the OpenSSL verifier file");
    text.push_str("V\tnot base64!\tsalt\tbob\t3072\t\n");
    std::fs::write(&bad, text).expect("writing the malformed verifier file");
    vec![openssl, gnutls, bad]
}

/// Builds `libsrp_ffi.a` in a target directory of its own, returning the archive and the
/// native libraries rustc says a C program must link with it.
fn build_static_library(target_dir: &Path) -> (PathBuf, Vec<String>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["rustc", "--quiet", "--package", "srp-ffi", "--lib", "--target-dir"])
        .arg(target_dir)
        .args(["--", "--print", "native-static-libs"])
        .output()
        .expect("running cargo to build the static library");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo rustc failed:\n{stderr}");
    let native_libs = stderr
        .lines()
        .find_map(|line| line.strip_prefix("note: native-static-libs: "))
        .unwrap_or_else(|| panic!("rustc printed no native-static-libs line:\n{stderr}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    (target_dir.join("debug/libsrp_ffi.a"), native_libs)
}

/// Compiles and links `tests/c/<name>.c` against the archive; returns the executable's path.
fn compile_c_program(
    name: &str,
    archive: &Path,
    native_libs: &[String],
    out_dir: &Path,
) -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .opt_level(1)
        .host("x86_64-unknown-linux-gnu")
        .target("x86_64-unknown-linux-gnu")
        .flags(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .get_compiler();
    let exe = out_dir.join(name);
    let output = compiler
        .to_command()
        .arg("-I")
        .arg(manifest_dir.join("include"))
        .arg(manifest_dir.join("tests/c").join(format!("{name}.c")))
        .arg(archive)
        .args(native_libs)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("running the C compiler");
    assert!(
        output.status.success(),
        "compiling tests/c/{name}.c failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

#[test]
fn c_program_runs_exchange_and_bad_inputs_through_the_header() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (archive, native_libs) = build_static_library(&tmp.join("c-api"));
    let exe = compile_c_program("exchange", &archive, &native_libs, tmp);
    let files = make_verifier_files(&tmp.join("c-api-files"));
    let output = Command::new(&exe).args(&files).output().expect("running the C program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "C program failed:\n{stdout}{stderr}");
    assert!(stdout.contains(" checks, 0 failed"), "unexpected output:\n{stdout}");
    assert!(stdout.contains("malformed file: "), "the verifier file checks did not run:\n{stdout}");
}
