//! The TLS-SRP core in the Chromium tree (issue 12): what the series' build files name but the
//! pinned source lacks, put in after the series ([`Upstream::after_series`]).
//!
//! - The crates.io crates the series adds to `third_party/rust` (its
//!   `chromium_crates_io/Cargo.toml` and `Cargo.lock`, the `BUILD.gn` and `README.chromium`
//!   files `gnrt gen` and `gnrt vendor` made): all of the core's registry crates, each pinned
//!   by its `.crate` file ([`CRATES`], in `vendor.rs`), fetched through cargo into the cache's `downloads/`, verified, and unpacked
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
use std::path::Path;

use anyhow::{Context, ensure};
use xshell::Shell;

use crate::upstream::Pin;
use crate::vendor::{self, CRATES, Checksums, package_version, registry_packages};

/// Chromium's vendored crates, relative to the tree.
pub const CRATES_IO: &str = "third_party/rust/chromium_crates_io";
/// The core's GN targets and vendored crates, relative to the tree.
pub const TLS_SRP: &str = "third_party/tls_srp";

/// What decides [`put_in`]'s additions, for the tree's stamp: the pins and the core's files.
pub fn inputs(sh: &Shell) -> anyhow::Result<String> {
    vendor::inputs(sh, &CRATES.iter().collect::<Vec<_>>())
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
    let pins: Vec<_> = CRATES.iter().collect();
    let folder = |pin: &Pin| vendor_dir(pin.name, pin.version);
    vendor::put_crates(sh, &pins, &vendor, folder, Checksums::Empty)?;
    let root = sh.current_dir();
    crate::core::vendor_into(&root, &tree.join(TLS_SRP).join("src"))?;

    let lock = fs::read_to_string(tree.join(CRATES_IO).join("Cargo.lock"))
        .context("reading the patched chromium_crates_io/Cargo.lock")?;
    let missing = unvendored(&lock, &vendor)?;
    ensure!(
        missing.is_empty(),
        "the patched {CRATES_IO}/Cargo.lock names crates that are not vendored (pin them in \
         xtask/src/vendor.rs, or add gnrt's placeholder to the series):\n  {}",
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
        let series = crate::upstream::Series::load(&root.join("chromium-ui")).unwrap();
        let build_gn = series.added_lines("third_party/tls_srp/BUILD.gn").unwrap();
        assert!(!build_gn.is_empty(), "no patch in chromium-ui/ adds third_party/tls_srp/BUILD.gn");
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
