//! The TLS-SRP core in the Firefox tree (issue 11): what the series' Cargo files name but the
//! pinned source lacks, put in after the series ([`Upstream::after_series`]).
//!
//! - The crates.io crates the series adds to Firefox's `Cargo.lock` ([`CRATES`]), each pinned
//!   by its `.crate` file (`vendor::CRATES`), fetched through cargo into the cache's
//!   `downloads/`, verified, and unpacked into `third_party/rust/<name>/` as `cargo vendor`
//!   (which `mach vendor rust` runs) leaves them: the crate's files as published and a
//!   `.cargo-checksum.json` with the sha256 of each file and of the `.crate` file, which cargo
//!   checks when it builds. Mozilla commits these folders; the series does not carry upstream
//!   sources, so xtask puts them in.
//! - The core's crates (srp-core, srp-verifier-files, srp-ffi) and the licence texts, from this
//!   checkout into `third_party/tls_srp/`, each manifest made to stand alone (Firefox's
//!   workspace excludes the folder, as it does other crates used only as dependencies), which
//!   the series' `security/srp_ffi` crate builds into the static library NSS's libssl links.
//!
//! Then a check that fails loudly instead of leaving a tree cargo refuses later: every registry
//! package of the patched `Cargo.lock` has its vendored folder with that version, and the
//! lock's versions of the core's crates are the checkout's.
//!
//! [`Upstream::after_series`]: crate::upstream::Upstream::after_series

use std::fs;
use std::path::Path;

use anyhow::{Context, ensure};
use xshell::Shell;

use crate::upstream::Pin;
use crate::vendor::{self, Checksums, lock_packages, package_version};

/// Firefox's vendored crates, relative to the tree.
pub const VENDOR: &str = "third_party/rust";
/// The core's crates, relative to the tree.
pub const TLS_SRP: &str = "third_party/tls_srp";
/// The series' crate that makes the core a Firefox `RustLibrary`: its presence says the series
/// builds the core.
pub const SRP_FFI_STATIC: &str = "security/srp_ffi/Cargo.toml";

/// The registry crates the series adds to Firefox 140's `Cargo.lock`: crypto-bigint and what it
/// pulls in, and hex-literal. The core's other dependencies are in the tree already, at versions
/// the core accepts (getrandom 0.3.3, sha1 0.10.5, subtle 2.5.0, zeroize 1.8.1, autocfg 1.1.0);
/// `serdect`, which crypto-bigint names only weakly, is an empty crate in the series
/// (`build/rust/serdect`), as Firefox does for crates it never builds.
pub const CRATES: &[&str] = &["cmov", "cpubits", "crypto-bigint", "ctutils", "hex-literal"];

fn pins() -> anyhow::Result<Vec<&'static Pin>> {
    CRATES.iter().map(|name| vendor::pin(name)).collect()
}

/// What decides [`put_in`]'s additions, for the tree's stamp: the pins and the core's files.
pub fn inputs(sh: &Shell) -> anyhow::Result<String> {
    vendor::inputs(sh, &pins()?)
}

/// Puts the pinned crates and the core's crates into the patched tree `tree`, then checks that
/// the tree's `Cargo.lock` fits them. A tree whose series does not build the core (no
/// [`SRP_FFI_STATIC`]) is left as it is.
pub fn put_in(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    if !tree.join(SRP_FFI_STATIC).exists() {
        return Ok(());
    }
    crate::step(&format!(
        "vendoring {} crates into {VENDOR} and the core into {TLS_SRP}",
        CRATES.len()
    ));
    let vendor = tree.join(VENDOR);
    let folder = |pin: &Pin| Ok(pin.name.to_owned());
    vendor::put_crates(sh, &pins()?, &vendor, folder, Checksums::Files)?;
    let root = sh.current_dir();
    crate::core::vendor_standalone_into(&root, &tree.join(TLS_SRP))?;

    let lock = fs::read_to_string(tree.join("Cargo.lock"))
        .context("reading the patched tree's Cargo.lock")?;
    let mut problems = unvendored(&lock, &vendor)?;
    problems.extend(core_drift(&lock, &root)?);
    ensure!(
        problems.is_empty(),
        "the patched Cargo.lock does not fit what is vendored (pin a crate in \
         xtask/src/vendor.rs and name it in xtask/src/firefox/rust.rs, or refresh the lock in \
         the series):\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}

/// The registry packages of a `Cargo.lock` (`name version` each) without a vendored folder of
/// that version in `vendor`: `cargo vendor` names a crate's folder `<name>`, and when the lock
/// has more than one version of it, the others `<name>-<version>`.
fn unvendored(lock: &str, vendor: &Path) -> anyhow::Result<Vec<String>> {
    let mut missing = Vec::new();
    for [name, version, source, _] in lock_packages(lock)? {
        if !source.starts_with("registry+") && !source.starts_with("git+") {
            continue;
        }
        let found = [name.clone(), format!("{name}-{version}")].iter().any(|dir| {
            fs::read_to_string(vendor.join(dir).join("Cargo.toml"))
                .ok()
                .and_then(|m| package_version(&m))
                .is_some_and(|v| v == version)
        });
        if !found {
            missing.push(format!("{name} {version}: not in {VENDOR}"));
        }
    }
    Ok(missing)
}

/// The core's crates whose version in the `Cargo.lock` is not the checkout's (`root`).
fn core_drift(lock: &str, root: &Path) -> anyhow::Result<Vec<String>> {
    let packages = lock_packages(lock)?;
    let mut drift = Vec::new();
    for krate in crate::core::CRATES {
        let manifest = fs::read_to_string(root.join(krate).join("Cargo.toml"))?;
        let version = package_version(&manifest).with_context(|| format!("{krate}: no version"))?;
        let locked: Vec<&String> =
            packages.iter().filter(|[name, ..]| name == krate).map(|[_, v, ..]| v).collect();
        if locked != [&version] {
            drift.push(format!("{krate}: the lock has {locked:?}, the core is {version}"));
        }
    }
    Ok(drift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crate_is_pinned() {
        assert_eq!(pins().unwrap().len(), CRATES.len());
    }

    #[test]
    fn unvendored_packages_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let vendor = tmp.path();
        for (dir, version) in [("a", "1.2.0"), ("b", "0.3.1"), ("b-0.2.0", "0.2.0")] {
            fs::create_dir_all(vendor.join(dir)).unwrap();
            fs::write(
                vendor.join(dir).join("Cargo.toml"),
                format!("[package]\nname = \"x\"\nversion = \"{version}\"\n"),
            )
            .unwrap();
        }
        let lock = "version = 3\n\n[[package]]\nname = \"gkrust\"\nversion = \"0.1.0\"\n\n\
                    [[package]]\nname = \"a\"\nversion = \"1.2.0\"\nsource = \"registry+x\"\n\n\
                    [[package]]\nname = \"b\"\nversion = \"0.2.0\"\nsource = \"registry+x\"\n\n\
                    [[package]]\nname = \"b\"\nversion = \"0.3.1\"\nsource = \"registry+x\"\n\n\
                    [[package]]\nname = \"c\"\nversion = \"2.0.0\"\nsource = \"git+x\"\n\n\
                    [[package]]\nname = \"a\"\nversion = \"1.3.0\"\nsource = \"registry+x\"\n";
        assert_eq!(
            unvendored(lock, vendor).unwrap(),
            ["c 2.0.0: not in third_party/rust", "a 1.3.0: not in third_party/rust"]
        );
    }

    /// The series' `Cargo.lock` hunks name the core's crates at the checkout's versions.
    #[test]
    fn the_series_locks_the_cores_versions() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let series = crate::upstream::Series::load(&root.join("gecko-ui")).unwrap();
        let lock = series.added_lines("Cargo.lock").unwrap();
        assert!(lock.contains("name = \"srp-ffi-static\""), "no patch in gecko-ui/ locks the core");
        assert_eq!(core_drift(&lock, root).unwrap(), Vec::<String>::new());
        let other =
            lock.replace("name = \"srp-core\"\nversion = \"", "name = \"srp-core\"\nversion = \"9");
        assert_eq!(core_drift(&other, root).unwrap().len(), 1);
    }
}
