//! Builds the static library and a C program that uses it through `include/srp_ffi.h` alone,
//! then runs the program: a full client/server exchange in three groups and every bad-input
//! case of the C face.

use std::path::{Path, PathBuf};
use std::process::Command;

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
fn compile_c_program(name: &str, archive: &Path, native_libs: &[String], out_dir: &Path) -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .opt_level(1)
        .host("x86_64-unknown-linux-gnu")
        .target("x86_64-unknown-linux-gnu")
        .flags(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .get_compiler();
    let exe = out_dir.join(name);
    let status = compiler
        .to_command()
        .arg("-I")
        .arg(manifest_dir.join("include"))
        .arg(manifest_dir.join("tests/c").join(format!("{name}.c")))
        .arg(archive)
        .args(native_libs)
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("running the C compiler");
    assert!(status.success(), "compiling tests/c/{name}.c failed");
    exe
}

#[test]
fn c_program_runs_exchange_and_bad_inputs_through_the_header() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (archive, native_libs) = build_static_library(&tmp.join("c-api"));
    let exe = compile_c_program("exchange", &archive, &native_libs, tmp);
    let output = Command::new(&exe).output().expect("running the C program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "C program failed:\n{stdout}{stderr}");
    assert!(stdout.contains(" checks, 0 failed"), "unexpected output:\n{stdout}");
}
