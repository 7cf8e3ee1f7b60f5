//! The srp-ffi core as the C libraries link it, built once per run and cached by its sources:
//! one place for `cargo build --release -p srp-ffi`, the archive, the header and the one link
//! recipe (the archive, then the system libraries Rust's std needs, as `rustc --print
//! native-static-libs` names them). NSS, BoringSSL and the test peers all link this.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{Shell, cmd};

/// The crates whose sources go into `libsrp_ffi.a`, relative to the project root.
const SOURCES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "srp-core/Cargo.toml",
    "srp-core/src",
    "srp-verifier-files/Cargo.toml",
    "srp-verifier-files/src",
    "srp-ffi/Cargo.toml",
    "srp-ffi/src",
    "srp-ffi/include",
];

/// The core's crates as a browser vendors them (Chromium's `third_party/tls_srp/src/`), in
/// dependency order, and what of each goes in: the manifest, the build script, the sources
/// and srp-ffi's C header; tests, examples and benchmarks stay out. The licence texts go
/// beside them ([`LICENSES`]).
pub const CRATES: &[&str] = &["srp-core", "srp-verifier-files", "srp-ffi"];
const CRATE_PARTS: &[&str] = &["Cargo.toml", "README.md", "build.rs", "src", "include"];
/// The project's licence texts (the crates are `MIT OR Apache-2.0`), relative to the root.
pub const LICENSES: &[&str] = &["LICENSE-APACHE", "LICENSE-MIT"];

/// The files [`vendor_into`] copies, relative to the project root, sorted: what decides a
/// vendored copy.
pub fn vendored_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for krate in CRATES {
        for part in CRATE_PARTS {
            let path = root.join(krate).join(part);
            if !path.exists() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&path) {
                let entry = entry.with_context(|| format!("walking {}", path.display()))?;
                if entry.file_type().is_file() {
                    files.push(entry.path().strip_prefix(root)?.to_owned());
                }
            }
        }
    }
    files.extend(LICENSES.iter().map(PathBuf::from));
    files.sort();
    Ok(files)
}

/// Copies the core's crates and licence texts from the project root `root` into `dest` (one
/// folder per crate), as a browser tree vendors them.
pub fn vendor_into(root: &Path, dest: &Path) -> anyhow::Result<()> {
    for file in vendored_files(root)? {
        crate::cache::copy(&root.join(&file), &dest.join(&file))?;
    }
    Ok(())
}

/// A built core: `<cache>/core/out/<key>/`, never changed once written.
#[derive(Clone, Debug)]
pub struct Core {
    /// What determined it: the sources' and the toolchain's sha256 (16 hex digits).
    pub key: String,
    /// `libsrp_ffi.a`.
    pub archive: PathBuf,
    /// The folder holding `srp_ffi.h`.
    pub include_dir: PathBuf,
    /// The system libraries the archive needs (`-lgcc_s -lutil ...`): every link with `-z defs`
    /// needs them after the archive.
    pub native_libs: Vec<String>,
}

impl Core {
    /// The link recipe: the archive, then its system libraries.
    pub fn link_args(&self) -> Vec<String> {
        let mut args = vec![self.archive.display().to_string()];
        args.extend(self.native_libs.iter().cloned());
        args
    }
}

/// Builds the core when its key is not cached yet (`cargo build --release --locked -p srp-ffi`
/// in the cache's own target directory, so a long `cargo test` holding the workspace's target
/// lock does not block it) and returns it. Seconds when cached.
pub fn build(sh: &Shell) -> anyhow::Result<Core> {
    let root = sh.current_dir();
    let cache = crate::cache::dir()?.join("core");
    let rustc = cmd!(sh, "rustc -vV").quiet().read().context("asking rustc for its version")?;
    let sources: Vec<PathBuf> = SOURCES.iter().map(|s| root.join(s)).collect();
    let digest = crate::cache::sha256_files(sh, &root, &sources)?;
    let key = crate::cache::key(sh, &["srp-ffi release staticlib", &digest, &rustc])?;
    let out = cache.join("out").join(&key);
    if !out.exists() {
        let _lock = crate::cache::lock(&cache.join("lock"))?;
        crate::cache::keyed(&out, |tmp| {
            crate::step(&format!("cargo build --release -p srp-ffi (the core, key {key})"));
            let target_dir = cache.join("target");
            cmd!(sh, "cargo build --quiet --release --locked -p srp-ffi --target-dir {target_dir}")
                .run()?;
            let archive = target_dir.join("release/libsrp_ffi.a");
            anyhow::ensure!(archive.exists(), "cargo did not produce {}", archive.display());
            crate::cache::copy(&archive, &tmp.join("libsrp_ffi.a"))?;
            crate::cache::copy(&root.join(crate::codegen::HEADER), &tmp.join("include/srp_ffi.h"))?;
            let libs = native_static_libs(sh, tmp)?;
            std::fs::write(tmp.join("native-static-libs"), libs.join(" "))?;
            Ok(())
        })?;
    }
    let libs = std::fs::read_to_string(out.join("native-static-libs"))
        .with_context(|| format!("reading {}/native-static-libs", out.display()))?;
    Ok(Core {
        archive: out.join("libsrp_ffi.a"),
        include_dir: out.join("include"),
        native_libs: libs.split_whitespace().map(str::to_owned).collect(),
        key,
    })
}

/// The system libraries a Rust staticlib needs, asked from rustc with an empty crate (srp-ffi
/// adds no native libraries of its own: getrandom uses libc, which std already needs).
fn native_static_libs(sh: &Shell, scratch: &Path) -> anyhow::Result<Vec<String>> {
    let out = scratch.join("libprobe.a");
    let output = cmd!(
        sh,
        "rustc --crate-type staticlib --crate-name probe --edition 2021 --print native-static-libs -o {out} -"
    )
    .quiet()
    .stdin("")
    .output()?;
    std::fs::remove_file(&out).ok();
    parse_native_static_libs(&String::from_utf8_lossy(&output.stderr))
}

/// The list from rustc's `note: native-static-libs: -lgcc_s -lutil ...` line.
fn parse_native_static_libs(stderr: &str) -> anyhow::Result<Vec<String>> {
    let line = stderr
        .lines()
        .find_map(|l| l.split("native-static-libs: ").nth(1))
        .with_context(|| format!("rustc --print native-static-libs printed no list:\n{stderr}"))?;
    Ok(line.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_static_libs_are_read_from_rustcs_note() {
        let stderr = "note: Link against the following native artifacts when linking against \
                      this static library.\nnote: native-static-libs: -lgcc_s -lutil -lrt \
                      -lpthread -lm -ldl -lc\n";
        assert_eq!(
            parse_native_static_libs(stderr).unwrap(),
            ["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"]
        );
        assert!(parse_native_static_libs("error: something else\n").is_err());
    }
}
