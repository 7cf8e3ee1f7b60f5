//! Registry crates as browser trees vendor them: the pinned `.crate` files of the core's
//! dependencies ([`CRATES`]), unpacked the way each browser's vendoring tool does it, and
//! what `Cargo.lock` files say. Chromium (`chromium::rust`) and Firefox (`firefox::rust`)
//! each decide where the crates go and which of them they need.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, ensure};
use xshell::Shell;

use crate::upstream::{Crate, Pin};

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

/// The registry crates the core builds with (its dependencies and theirs), at the versions of
/// this workspace's `Cargo.lock`: what a browser tree that lacks them gets. Chromium 150
/// lacks all of them (`chromium::rust`), Firefox 140 five (`firefox::rust::CRATES`).
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

/// The pin of the crate `name` in [`CRATES`].
pub fn pin(name: &str) -> anyhow::Result<&'static Pin> {
    CRATES
        .iter()
        .find(|pin| pin.name == name)
        .with_context(|| format!("no pin for the crate {name}"))
}

/// What decides a browser tree's additions after its series, for the tree's stamp: the pins of
/// the crates it vendors and the core's files (as [`crate::core::vendored_files`] lists them).
pub fn inputs(sh: &Shell, pins: &[&Pin]) -> anyhow::Result<String> {
    let root = sh.current_dir();
    let mut text: String = pins
        .iter()
        .map(|pin| format!("vendored crate {} sha256 {}\n", pin.file, pin.sha256))
        .collect();
    let files: Vec<_> = crate::core::vendored_files(&root)?.iter().map(|f| root.join(f)).collect();
    text += &format!("core sha256 {}\n", crate::cache::sha256_files(sh, &root, &files)?);
    Ok(text)
}

/// Fetches each of `pins` through cargo into the cache's `downloads/` (verified) and unpacks it
/// into `vendor/<folder(pin)>` with `checksums`. A folder that is already there is an error:
/// the tree has that crate, so its pin is not needed.
pub fn put_crates(
    sh: &Shell,
    pins: &[&Pin],
    vendor: &Path,
    folder: impl Fn(&Pin) -> anyhow::Result<String>,
    checksums: Checksums,
) -> anyhow::Result<()> {
    for pin in pins {
        let provider = Crate { name: pin.name, version: pin.version };
        let file = crate::upstream::fetch_file(sh, pin, &provider)?;
        let dest = vendor.join(folder(pin)?);
        ensure!(!dest.exists(), "{} is already in the tree: drop its pin", dest.display());
        unpack_crate(sh, &file, pin, &dest, checksums)?;
    }
    Ok(())
}

/// The `.cargo-checksum.json` a vendored crate gets.
#[derive(Clone, Copy, Debug)]
pub enum Checksums {
    /// `{"files":{}}`, as Chromium's `gnrt vendor` writes it: cargo wants the file for a
    /// directory source, and checks nothing then.
    Empty,
    /// Every file's sha256 and the `.crate` file's, as `cargo vendor` writes it (Firefox's
    /// `mach vendor rust`): cargo checks them when it builds from the directory.
    Files,
}

/// Unpacks the `.crate` file of `pin` (a gzipped tarball whose top folder is
/// `<name>-<version>/`) into `dest`, with its `.cargo-checksum.json`.
fn unpack_crate(
    sh: &Shell,
    file: &Path,
    pin: &Pin,
    dest: &Path,
    checksums: Checksums,
) -> anyhow::Result<()> {
    let parent = dest.parent().context("no parent")?;
    let tmp = tempfile::Builder::new().prefix("tmp-xtask-vendor").tempdir_in(parent)?;
    let dir = tmp.path();
    xshell::cmd!(sh, "tar -xzf {file} -C {dir}").quiet().run()?;
    let top = dir.join(format!("{}-{}", pin.name, pin.version));
    ensure!(top.is_dir(), "{} has no top folder {}", pin.file, top.display());
    let json = match checksums {
        Checksums::Empty => "{\"files\":{}}\n".to_owned(),
        Checksums::Files => checksum_json(sh, &top, pin.sha256)?,
    };
    fs::rename(&top, dest)
        .with_context(|| format!("moving {} to {}", top.display(), dest.display()))?;
    fs::write(dest.join(".cargo-checksum.json"), json)?;
    Ok(())
}

/// `cargo vendor`'s `.cargo-checksum.json` for the unpacked crate in `dir`: the sha256 of
/// every file by its path (`/`-separated, sorted), and `package`, the `.crate` file's.
fn checksum_json(sh: &Shell, dir: &Path, package: &str) -> anyhow::Result<String> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
        if entry.file_type().is_file() {
            let name = entry.path().strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            files.insert(name, crate::cache::sha256_file(sh, entry.path())?);
        }
    }
    Ok(serde_json::json!({ "files": files, "package": package }).to_string())
}

/// The `[[package]]` entries of a `Cargo.lock`, each as `(name, version, source, checksum)`
/// (`source` and `checksum` empty when absent).
pub fn lock_packages(lock: &str) -> anyhow::Result<Vec<[String; 4]>> {
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
pub fn registry_packages(lock: &str) -> anyhow::Result<Vec<(String, String)>> {
    Ok(lock_packages(lock)?
        .into_iter()
        .filter(|[_, _, source, _]| source.starts_with("registry+"))
        .map(|[name, version, _, _]| (name, version))
        .collect())
}

/// The `version` of a manifest's `[package]` table.
pub fn package_version(manifest: &str) -> Option<String> {
    let manifest: toml::Table = manifest.parse().ok()?;
    Some(manifest.get("package")?.get("version")?.as_str()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pin is a crate of this workspace's `Cargo.lock`, with its checksum: browsers build
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
    fn checksums_are_cargo_vendors() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("src")).unwrap();
        fs::write(tmp.path().join("src/lib.rs"), "").unwrap();
        fs::write(tmp.path().join("Cargo.toml"), "x").unwrap();
        let json = checksum_json(&Shell::new().unwrap(), tmp.path(), "ab").unwrap();
        assert_eq!(
            json,
            "{\"files\":{\"Cargo.toml\":\"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\",\
             \"src/lib.rs\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},\
             \"package\":\"ab\"}"
        );
    }
}
