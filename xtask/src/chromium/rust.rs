//! The TLS-SRP core in the Chromium tree (issue 12): what the series' build files name but the
//! pinned source lacks, put in after the series ([`Upstream::after_series`]).
//!
//! - The crates.io crates the series adds to `third_party/rust` (its
//!   `chromium_crates_io/Cargo.toml` and `Cargo.lock`, the `BUILD.gn` and `README.chromium`
//!   files `gnrt gen` and `gnrt vendor` made): each pinned here by its `.crate` file
//!   ([`CRATES`]), fetched through cargo into the cache's `downloads/`, verified, and unpacked
//!   into `chromium_crates_io/vendor/<name>-v<epoch>/` as `gnrt vendor` does it (the crate's
//!   files as published, and an empty `.cargo-checksum.json`). Chromium commits these folders;
//!   the series does not carry upstream sources, so xtask puts them in.
//! - The core's crates (srp-core, srp-verifier-files, srp-ffi) and the licence texts, from this
//!   checkout into `third_party/tls_srp/src/`, which the series' `third_party/tls_srp/BUILD.gn`
//!   builds ([`crate::core::vendor_into`]).
//!
//! Then two checks that fail loudly instead of leaving a tree that fails to build later: every
//! registry package of the patched `Cargo.lock` has its vendored folder with that version, and
//! `third_party/tls_srp/BUILD.gn` lists exactly the core's Rust sources.
//!
//! [`Upstream::after_series`]: crate::upstream::Upstream::after_series

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use xshell::Shell;

use crate::upstream::{self, Crate, Pin};

/// Chromium's vendored crates, relative to the tree.
pub const CRATES_IO: &str = "third_party/rust/chromium_crates_io";
/// The core's GN targets and vendored crates, relative to the tree.
pub const TLS_SRP: &str = "third_party/tls_srp";

/// A `.crate` file pinned by name, version, size and sha256 (the checksum the registry's
/// index gives and this workspace's `Cargo.lock` records).
macro_rules! krate {
    ($name:literal, $version:literal, $size:literal, $sha256:literal) => {
        Pin {
            name: $name,
            version: $version,
            file: concat!($name, "-", $version, ".crate"),
            size: $size,
            sha256: $sha256,
        }
    };
}

/// The crates the series adds to Chromium 150's `chromium_crates_io/Cargo.lock` that are built
/// (the placeholders `gnrt vendor` wrote for the optional ones, `base16ct` and `serdect`, are
/// in the series): the core's dependencies that Chromium did not vendor yet. The same
/// versions as this workspace's `Cargo.lock`.
pub const CRATES: &[Pin] = &[
    krate!(
        "block-buffer",
        "0.10.4",
        10_538,
        "3078c7629b62d3f0439517fa394996acacc5cbc91c5a20d8c658e77abd503a71"
    ),
    krate!(
        "cmov",
        "0.5.4",
        27_367,
        "0c9ea0ac24bc397ab3c98583a3c9ba74fa56b09a4449bbe172b9b1ddb016027a"
    ),
    krate!(
        "cpubits",
        "0.1.1",
        10_261,
        "15b85f9c39137c3a891689859392b1bd49812121d0d61c9caf00d46ed5ce06ae"
    ),
    krate!(
        "cpufeatures",
        "0.2.17",
        13_466,
        "59ed5838eebb26a2bb2e58f6d5b5316989ae9d08bab10e0e6d103e656d1b0280"
    ),
    krate!(
        "crypto-bigint",
        "0.7.11",
        315_022,
        "914c195c4d7fbc5ed7f88d14cbf85914d5c664967658d43404b263913a477e82"
    ),
    krate!(
        "crypto-common",
        "0.1.7",
        9_619,
        "78c8292055d1c1df0cce5d180393dc8cce0abec0a7102adb6c7b1eef6016d60a"
    ),
    krate!(
        "ctutils",
        "0.4.8",
        37_135,
        "261af4dc7a06ea8a527a8717d8cbba3417530d6ea14e1edb3de6b67806be474f"
    ),
    krate!(
        "digest",
        "0.10.7",
        19_557,
        "9ed9a281f7bc9b7576e61468ba615a66a5c8cfdff42420a70aa82701a3b1e292"
    ),
    krate!(
        "generic-array",
        "0.14.7",
        15_950,
        "85649ca51fd72272d7821adaf274ad91c288277713d9c18820d8499a7ff69e9a"
    ),
    krate!(
        "hex-literal",
        "1.1.0",
        8_777,
        "e712f64ec3850b98572bffac52e2c6f282b29fe6c5fa6d42334b30be438d95c1"
    ),
    krate!(
        "sha1",
        "0.10.7",
        14_582,
        "a978451301f4db1d02937a4ab3ccce137717b81826e79b7d49ffe3244a13c3b8"
    ),
    krate!(
        "typenum",
        "1.20.1",
        105_479,
        "b6f5e870be6c3b371b77fe0ee0bafb859fa4964b4404c27de1d380043c4dda20"
    ),
    krate!(
        "zeroize",
        "1.9.2",
        30_529,
        "85ccff8a4805aba1eaa4cd4afcd49f7557dd2cf5fd79ffc37f8959466effc5aa"
    ),
    krate!(
        "zeroize_derive",
        "1.5.0",
        12_034,
        "3c50655cbb0fe3fc43170059e702f1ce5e19b84cec58dc87b037a09935c2f328"
    ),
];

/// What decides [`put_in`]'s additions, for the tree's stamp: the pins and the core's files.
pub fn inputs(sh: &Shell) -> anyhow::Result<String> {
    let root = sh.current_dir();
    let mut text = String::new();
    for pin in CRATES {
        text += &format!("vendored crate {} sha256 {}\n", pin.file, pin.sha256);
    }
    let files: Vec<PathBuf> =
        crate::core::vendored_files(&root)?.iter().map(|f| root.join(f)).collect();
    text += &format!("core sha256 {}\n", crate::cache::sha256_files(sh, &root, &files)?);
    Ok(text)
}

/// Puts the pinned crates and the core's crates into the patched tree `tree`, then checks that
/// the tree's `Cargo.lock` and `third_party/tls_srp/BUILD.gn` fit them. A tree whose series
/// does not add the core (no `third_party/tls_srp/BUILD.gn`) is left as it is.
pub fn put_in(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    let build_gn = tree.join(TLS_SRP).join("BUILD.gn");
    if !build_gn.exists() {
        return Ok(());
    }
    crate::step(&format!(
        "vendoring {} crates into {CRATES_IO}/vendor and the core into {TLS_SRP}/src",
        CRATES.len()
    ));
    let vendor = tree.join(CRATES_IO).join("vendor");
    for pin in CRATES {
        let provider = Crate { name: pin.name, version: pin.version };
        let file = upstream::fetch_file(sh, pin, &provider)?;
        let dest = vendor.join(vendor_dir(pin.name, pin.version)?);
        ensure!(!dest.exists(), "{} is already in the tree: drop its pin", dest.display());
        unpack_crate(sh, &file, pin, &dest)?;
    }
    let root = sh.current_dir();
    crate::core::vendor_into(&root, &tree.join(TLS_SRP).join("src"))?;

    let lock = fs::read_to_string(tree.join(CRATES_IO).join("Cargo.lock"))
        .context("reading the patched chromium_crates_io/Cargo.lock")?;
    let missing = unvendored(&lock, &vendor)?;
    ensure!(
        missing.is_empty(),
        "the patched {CRATES_IO}/Cargo.lock names crates that are not vendored (pin them in \
         xtask/src/chromium/rust.rs, or add gnrt's placeholder to the series):\n  {}",
        missing.join("\n  ")
    );
    let build = fs::read_to_string(&build_gn)?;
    let mut drift = sources_drift(&build, &root)?;
    drift.extend(version_drift(&build, &root)?);
    ensure!(
        drift.is_empty(),
        "{TLS_SRP}/BUILD.gn does not fit the core as it is:\n  {}",
        drift.join("\n  ")
    );
    Ok(())
}

/// `<name>-v<epoch>`, the folder `gnrt vendor` gives a crate: the epoch is the major version
/// (`v1`), else the minor (`v0_7`), else the patch (`v0_0_3`), as gnrt's `Epoch` has it.
pub fn vendor_dir(name: &str, version: &str) -> anyhow::Result<String> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<u64> = core
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{name}: version {version} is not semver"))?;
    let [major, minor, patch] = numbers[..] else {
        anyhow::bail!("{name}: version {version} is not semver");
    };
    let epoch = if major > 0 {
        format!("v{major}")
    } else if minor > 0 {
        format!("v0_{minor}")
    } else {
        format!("v0_0_{patch}")
    };
    Ok(format!("{name}-{epoch}"))
}

/// Unpacks the `.crate` file (a gzipped tarball whose top folder is `<name>-<version>/`) into
/// `dest`, and writes the empty `.cargo-checksum.json` that Chromium's vendored crates have
/// (cargo wants the file for a directory source; gnrt writes it without checksums).
fn unpack_crate(sh: &Shell, file: &Path, pin: &Pin, dest: &Path) -> anyhow::Result<()> {
    let parent = dest.parent().context("no parent")?;
    let tmp = tempfile::Builder::new().prefix("tmp-xtask-vendor").tempdir_in(parent)?;
    let dir = tmp.path();
    xshell::cmd!(sh, "tar -xzf {file} -C {dir}").quiet().run()?;
    let top = dir.join(format!("{}-{}", pin.name, pin.version));
    ensure!(top.is_dir(), "{} has no top folder {}", pin.file, top.display());
    fs::rename(&top, dest)
        .with_context(|| format!("moving {} to {}", top.display(), dest.display()))?;
    fs::write(dest.join(".cargo-checksum.json"), "{\"files\":{}}\n")?;
    Ok(())
}

/// The registry packages of a `Cargo.lock` (`name version` each) whose vendored folder in
/// `vendor` is missing or holds another version (its `Cargo.toml`'s `version`).
fn unvendored(lock: &str, vendor: &Path) -> anyhow::Result<Vec<String>> {
    let mut missing = Vec::new();
    for (name, version) in registry_packages(lock)? {
        let manifest = vendor.join(vendor_dir(&name, &version)?).join("Cargo.toml");
        let found = fs::read_to_string(&manifest).ok().and_then(|m| package_version(&m));
        if found.as_deref() != Some(version.as_str()) {
            missing.push(match found {
                Some(other) => format!("{name} {version} (vendored: {other})"),
                None => format!("{name} {version}"),
            });
        }
    }
    Ok(missing)
}

/// The `[[package]]` entries of a `Cargo.lock`, each as `(name, version, source, checksum)`
/// (`source` and `checksum` empty when absent).
fn lock_packages(lock: &str) -> anyhow::Result<Vec<[String; 4]>> {
    let lock: toml::Table = lock.parse().context("Cargo.lock is not TOML")?;
    let packages = lock.get("package").and_then(toml::Value::as_array).cloned().unwrap_or_default();
    let field = |p: &toml::Value, key: &str| {
        p.get(key).and_then(toml::Value::as_str).unwrap_or_default().to_owned()
    };
    Ok(packages
        .iter()
        .map(|p| [field(p, "name"), field(p, "version"), field(p, "source"), field(p, "checksum")])
        .collect())
}

/// `(name, version)` of each package of a `Cargo.lock` that comes from a registry.
fn registry_packages(lock: &str) -> anyhow::Result<Vec<(String, String)>> {
    Ok(lock_packages(lock)?
        .into_iter()
        .filter(|[_, _, source, _]| source.starts_with("registry+"))
        .map(|[name, version, _, _]| (name, version))
        .collect())
}

/// The `version` of a manifest's `[package]` table.
fn package_version(manifest: &str) -> Option<String> {
    let manifest: toml::Table = manifest.parse().ok()?;
    Some(manifest.get("package")?.get("version")?.as_str()?.to_owned())
}

/// What differs between the Rust sources `third_party/tls_srp/BUILD.gn` lists (its `"src/..."`
/// strings ending in `.rs`) and the core's `.rs` files in the checkout at `root`: a line per
/// file, saying which side lacks it.
pub fn sources_drift(build_gn: &str, root: &Path) -> anyhow::Result<Vec<String>> {
    let listed: std::collections::BTreeSet<String> = build_gn
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("src/") && s.ends_with(".rs"))
        .map(|s| s["src/".len()..].to_owned())
        .collect();
    let present: std::collections::BTreeSet<String> = crate::core::vendored_files(root)?
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs") && !f.ends_with("build.rs"))
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let mut drift = Vec::new();
    for file in present.difference(&listed) {
        drift.push(format!("{file}: in the core, not in BUILD.gn"));
    }
    for file in listed.difference(&present) {
        drift.push(format!("{file}: in BUILD.gn, not in the core"));
    }
    Ok(drift)
}

/// srp-ffi's `srp_version()` reads `CARGO_PKG_NAME` and `CARGO_PKG_VERSION`, which
/// `third_party/tls_srp/BUILD.gn` sets in `rustenv` (Cargo is not there to): a line when its
/// version is not srp-ffi's `Cargo.toml` version.
pub fn version_drift(build_gn: &str, root: &Path) -> anyhow::Result<Vec<String>> {
    let manifest = fs::read_to_string(root.join("srp-ffi/Cargo.toml"))?;
    let version = package_version(&manifest).context("srp-ffi/Cargo.toml has no version")?;
    let expected = format!("\"CARGO_PKG_VERSION={version}\"");
    Ok(if build_gn.contains(&expected) {
        Vec::new()
    } else {
        vec![format!("srp-ffi's rustenv lacks {expected} (srp-ffi/Cargo.toml)")]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_folders_are_named_by_gnrts_epochs() {
        assert_eq!(vendor_dir("zeroize", "1.9.2").unwrap(), "zeroize-v1");
        assert_eq!(vendor_dir("crypto-bigint", "0.7.11").unwrap(), "crypto-bigint-v0_7");
        assert_eq!(vendor_dir("tiny", "0.0.3").unwrap(), "tiny-v0_0_3");
        assert_eq!(vendor_dir("pre", "2.0.0-rc.1").unwrap(), "pre-v2");
        assert!(vendor_dir("bad", "1.2").is_err());
    }

    /// Each pin is a crate of this workspace's `Cargo.lock`, with its checksum: Chromium builds
    /// the versions the core is tested with.
    #[test]
    fn pins_match_the_workspace_lock() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let lock = lock_packages(&fs::read_to_string(root.join("Cargo.lock")).unwrap()).unwrap();
        for pin in CRATES {
            let [.., checksum] = lock
                .iter()
                .find(|[name, version, ..]| name == pin.name && version == pin.version)
                .unwrap_or_else(|| panic!("{} {} is not in Cargo.lock", pin.name, pin.version));
            assert_eq!(checksum, pin.sha256, "{}: the pinned sha256 is not Cargo.lock's", pin.file);
        }
    }

    #[test]
    fn unvendored_registry_packages_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let vendor = tmp.path();
        fs::create_dir_all(vendor.join("a-v1")).unwrap();
        fs::write(vendor.join("a-v1/Cargo.toml"), "[package]\nname = \"a\"\nversion = \"1.2.0\"\n")
            .unwrap();
        fs::create_dir_all(vendor.join("b-v0_3")).unwrap();
        fs::write(
            vendor.join("b-v0_3/Cargo.toml"),
            "# placeholder\n\n[package]\nname = \"b\"\nversion = \"0.3.1\"\n\n[features]\n",
        )
        .unwrap();
        let lock = "version = 4\n\n[[package]]\nname = \"chromium\"\nversion = \"0.1.0\"\n\
                    dependencies = [\n \"a\",\n]\n\n[[package]]\nname = \"a\"\nversion = \"1.2.0\"\n\
                    source = \"registry+https://example.invalid/index\"\n\n[[package]]\n\
                    name = \"b\"\nversion = \"0.3.2\"\nsource = \"registry+x\"\n\n[[package]]\n\
                    name = \"c\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\n";
        assert_eq!(unvendored(lock, vendor).unwrap(), ["b 0.3.2 (vendored: 0.3.1)", "c 2.0.0"]);
    }

    /// The series' `third_party/tls_srp/BUILD.gn` lists the core's sources as they are in this
    /// checkout, and srp-ffi's version: a source file added to or removed from the core, or a
    /// new version, without the series fails here, in `cargo test`, before a Chromium build
    /// would.
    #[test]
    fn the_series_lists_the_cores_sources() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let series = root.join("chromium-ui");
        let mut build_gn = None;
        for entry in fs::read_dir(&series).unwrap() {
            let text = fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            if let Some(start) = text.find("+++ b/third_party/tls_srp/BUILD.gn\n") {
                let added: String = text[start..]
                    .lines()
                    .skip(2)
                    .take_while(|l| !l.starts_with("--- "))
                    .filter_map(|l| l.strip_prefix('+'))
                    .map(|l| format!("{l}\n"))
                    .collect();
                build_gn = Some(added);
            }
        }
        let build_gn =
            build_gn.expect("no patch in chromium-ui/ adds third_party/tls_srp/BUILD.gn");
        assert_eq!(sources_drift(&build_gn, root).unwrap(), Vec::<String>::new());
        assert_eq!(version_drift(&build_gn, root).unwrap(), Vec::<String>::new());
        let other = build_gn.replace("CARGO_PKG_VERSION=", "CARGO_PKG_VERSION=9");
        assert_eq!(version_drift(&other, root).unwrap().len(), 1);
        let fewer = build_gn.replace("    \"src/srp-core/src/ct.rs\",\n", "");
        assert_eq!(
            sources_drift(&fewer, root).unwrap(),
            ["srp-core/src/ct.rs: in the core, not in BUILD.gn"]
        );
    }
}
