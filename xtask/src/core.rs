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

/// Copies the core as [`vendor_into`] does, each crate's manifest made to stand alone
/// ([`standalone_manifest`]): for a browser that builds the crates with cargo inside its own
/// workspace (Firefox), where this workspace's manifest is not.
pub fn vendor_standalone_into(root: &Path, dest: &Path) -> anyhow::Result<()> {
    vendor_into(root, dest)?;
    let workspace: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))?
        .parse()
        .context("the workspace's Cargo.toml is not TOML")?;
    let package = workspace
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(toml::Value::as_table)
        .context("the workspace's Cargo.toml has no [workspace.package]")?;
    for krate in CRATES {
        let manifest = dest.join(krate).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)?;
        let standalone =
            standalone_manifest(&text, package).with_context(|| format!("{krate}/Cargo.toml"))?;
        std::fs::write(&manifest, standalone)?;
    }
    Ok(())
}

/// A crate manifest of this workspace made to stand alone, comments kept: `key.workspace =
/// true` takes the value of `[workspace.package]` (`package`), and what is for this
/// workspace's own tests goes (the tables `[dev-dependencies]`, `[[bench]]`, `[[example]]`,
/// `[[test]]` and `[[bin]]`, whose sources are not vendored). Fails on anything else
/// inherited from the workspace.
pub fn standalone_manifest(manifest: &str, package: &toml::Table) -> anyhow::Result<String> {
    const LEFT_OUT: &[&str] = &["dev-dependencies", "bench", "example", "test", "bin"];
    let mut out = String::new();
    let mut left_out = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[\"") {
            let name = trimmed.trim_matches(|c| c == '[' || c == ']');
            left_out = LEFT_OUT.contains(&name);
        }
        if left_out {
            continue;
        }
        if let Some((key, rest)) = trimmed.split_once(".workspace") {
            anyhow::ensure!(
                rest.trim_start().trim_start_matches('=').trim() == "true" && !key.contains('='),
                "cannot make `{trimmed}` stand alone"
            );
            let value = package
                .get(key)
                .and_then(toml::Value::as_str)
                .with_context(|| format!("`{key}` is not a string of [workspace.package]"))?;
            // A JSON string is a TOML basic string.
            out += &format!("{key} = {}\n", serde_json::Value::from(value));
            continue;
        }
        anyhow::ensure!(
            !trimmed.contains("workspace = true"),
            "cannot make `{trimmed}` stand alone"
        );
        out += line;
        out += "\n";
    }
    Ok(format!("{}\n", out.trim_end()))
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
    fn manifests_stand_alone() {
        let package: toml::Table =
            "edition = \"2024\"\nlicense = \"MIT OR Apache-2.0\"\n".parse().unwrap();
        let manifest = "[package]\nname = \"x\"\nedition.workspace = true\n\
                        license.workspace = true\n\n[dependencies]\n# Why.\na = \"1\"\n\n\
                        [[example]]\nname = \"e\"\n\n[dev-dependencies]\nb = { path = \"../b\" }\n\n\
                        [features]\nf = []\n\n[[bench]]\nname = \"b\"\nharness = false\n";
        assert_eq!(
            standalone_manifest(manifest, &package).unwrap(),
            "[package]\nname = \"x\"\nedition = \"2024\"\nlicense = \"MIT OR Apache-2.0\"\n\n\
             [dependencies]\n# Why.\na = \"1\"\n\n[features]\nf = []\n"
        );
        assert!(standalone_manifest("[package]\nreadme.workspace = true\n", &package).is_err());
        assert!(
            standalone_manifest("[dependencies]\na = { workspace = true }\n", &package).is_err()
        );
    }

    /// The core's own manifests stand alone (what `cargo xtask firefox` vendors).
    #[test]
    fn the_cores_manifests_stand_alone() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        vendor_standalone_into(root, tmp.path()).unwrap();
        for krate in CRATES {
            let text = std::fs::read_to_string(tmp.path().join(krate).join("Cargo.toml")).unwrap();
            let manifest: toml::Table = text.parse().unwrap();
            assert!(!text.contains("workspace"), "{krate}: {text}");
            assert!(manifest.get("dev-dependencies").is_none(), "{krate}");
            assert_eq!(manifest["package"]["edition"].as_str(), Some("2024"), "{krate}");
        }
    }

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
