//! `cargo xtask bridge <build|test|install>`: `srp-bridge` (issue 14), the local bridge from
//! the browser to devices over TLS-SRP. It links the patched BoringSSL through the `boring`
//! crate: this module builds BoringSSL first (`cargo xtask boringssl build`'s keyed output)
//! and hands it to boring-sys (`BORING_BSSL_PATH`, `BORING_BSSL_INCLUDE_PATH`), then builds the
//! crate with its `tls` feature. The workspace's plain `cargo test` builds only the crate's pure
//! parts, so it needs no BoringSSL.
//!
//! - `build [--release]`: the program; prints its path.
//! - `test`: the crate's unit tests, then `srp-bridge/tests/test_bridge.py` in a private
//!   network namespace (`unshare -n`): the demo device, gnutls-serv, failure and hostile
//!   servers, malformed native messages, the host manifests.
//! - `install [--chromium-extension-id ID]`: builds (release) and writes the native-messaging
//!   host manifests for Chromium, Google Chrome and Firefox for this user, allowing the
//!   extension in `srp-bridge/extension/` (its Chromium id comes from its manifest's `key`).
//! - `browser-test`: the extension in Debian's firefox-esr (Marionette) and chromium
//!   (Playwright) under Xvfb, `srp-bridge/extension/tests/browser_test.py` in a private
//!   network namespace; screenshots to `docs/screenshots/extension/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::boringssl::{Boringssl, Flavor};
use crate::upstream;

/// `boring-sys` generates its bindings with bindgen, which loads libclang.
const BUILD_PACKAGES: &[&str] = &["libclang-dev"];
/// The test's devices and its network namespace.
const TEST_PACKAGES: &[&str] =
    &["gnutls-bin", "openssl", "python3", "iproute2", "util-linux", "coreutils"];

/// The extension, relative to the project root.
const EXTENSION: &str = "srp-bridge/extension";
/// What the browser test needs from Debian besides the browsers: the display, the screenshots,
/// Node for Playwright (npm only when missing: some nodejs builds bring their own), and the bridge test's devices and namespace.
const BROWSER_TEST_PACKAGES: &[&str] = &[
    "chromium",
    "xvfb",
    "imagemagick",
    "nodejs",
    "gnutls-bin",
    "python3",
    "iproute2",
    "util-linux",
];
/// Where the browser test writes its screenshots, relative to the project root.
const SCREENSHOTS: &str = "docs/screenshots/extension";

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: BridgeCommand,
}

#[derive(clap::Subcommand)]
enum BridgeCommand {
    /// Build BoringSSL with TLS-SRP, then srp-bridge against it; print the program's path.
    Build {
        /// An optimised build (target/release).
        #[arg(long)]
        release: bool,
    },
    /// Unit tests, then srp-bridge/tests/test_bridge.py against real and hostile devices.
    Test,
    /// The extension in Debian's firefox-esr and chromium under Xvfb, against the demo device
    /// and gnutls-serv; screenshots to docs/screenshots/extension/.
    BrowserTest {
        /// Only these browsers (comma-separated: firefox, chromium).
        #[arg(long, default_value = "firefox,chromium")]
        browsers: String,
        /// Where the screenshots go (default: docs/screenshots/extension/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Build (release) and install the native-messaging host manifests for this user.
    Install {
        /// The Chromium extension id allowed to talk to the bridge (repeatable; default: the
        /// id of srp-bridge/extension, from its manifest's key).
        #[arg(long = "chromium-extension-id")]
        chromium: Vec<String>,
        /// The Firefox add-on id (default: the TLS-SRP extension's).
        #[arg(long = "firefox-extension-id")]
        firefox: Vec<String>,
    },
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            BridgeCommand::Build { release } => {
                let program = build(sh, release)?;
                println!("{}", program.display());
                Ok(())
            }
            BridgeCommand::Test => test(sh),
            BridgeCommand::BrowserTest { browsers, out } => {
                let out = out.unwrap_or_else(|| sh.current_dir().join(SCREENSHOTS));
                browser_test(sh, &browsers, &out)
            }
            BridgeCommand::Install { mut chromium, firefox } => {
                if chromium.is_empty() {
                    chromium.push(extension_id(sh, &sh.current_dir().join(EXTENSION))?);
                }
                let program = build(sh, true)?;
                let mut args: Vec<String> = Vec::new();
                for id in chromium {
                    args.extend(["--chromium-extension-id".into(), id]);
                }
                for id in firefox {
                    args.extend(["--firefox-extension-id".into(), id]);
                }
                cmd!(sh, "{program} install {args...}").run()?;
                Ok(())
            }
        }
    }
}

/// Builds the patched BoringSSL (reused when its key is unchanged) and returns boring-sys's
/// variables for it, so the cargo commands given them link the patched library.
fn boringssl_env(sh: &Shell) -> anyhow::Result<[(&'static str, PathBuf); 2]> {
    crate::deps::ensure_debian_packages(sh, BUILD_PACKAGES)?;
    let built = upstream::build(sh, &Boringssl::default(), Flavor::Release)?;
    Ok([
        ("BORING_BSSL_PATH", built.dir.clone()),
        ("BORING_BSSL_INCLUDE_PATH", built.dir.join("include")),
    ])
}

/// Builds srp-bridge with TLS and returns the program.
pub fn build(sh: &Shell, release: bool) -> anyhow::Result<PathBuf> {
    let env = boringssl_env(sh)?;
    crate::step("cargo build -p srp-bridge --features tls (linked to the patched BoringSSL)");
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    cmd!(sh, "cargo build --locked -p srp-bridge --features tls {profile...}").envs(env).run()?;
    let dir = if release { "release" } else { "debug" };
    Ok(sh.current_dir().join("target").join(dir).join("srp-bridge"))
}

/// `cargo xtask bridge test` (and the last step of `cargo xtask test`): the unit tests (with
/// the TLS code compiled in), then the program against devices.
pub fn test(sh: &Shell) -> anyhow::Result<()> {
    let program = build(sh, false)?;
    crate::step("cargo test -p srp-bridge --features tls");
    let env = boringssl_env(sh)?;
    cmd!(sh, "cargo test --quiet --locked -p srp-bridge --features tls").envs(env).run()?;
    crate::deps::ensure_debian_packages(sh, TEST_PACKAGES)?;
    let lighttpd = crate::lighttpd::binary(sh)?;
    let verifier = crate::lighttpd::srp_verifier(sh)?;
    let driver = sh.current_dir().join("srp-bridge/tests/test_bridge.py");
    crate::step("srp-bridge/tests/test_bridge.py in a private network namespace");
    cmd!(
        sh,
        "timeout 900 unshare -n -- python3 {driver} --netns --bridge {program}
         --lighttpd {lighttpd} --srp-verifier {verifier}"
    )
    .run()?;
    Ok(())
}

/// Chromium's id of the unpacked extension in `dir`: the first 32 hex digits of the sha256 of
/// its manifest's `key` (the public key, base64 DER), written with the letters `a` to `p`.
pub fn extension_id(sh: &Shell, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("manifest.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)?;
    let Some(key) = manifest["key"].as_str() else {
        bail!("{} has no \"key\": Chromium would derive the id from the folder", path.display());
    };
    // coreutils decode and hash, as elsewhere in xtask: no base64 or hashing crate.
    let der = cmd!(sh, "base64 --decode").quiet().stdin(key).output()?.stdout;
    let digest = crate::cache::sha256_bytes(sh, &der)?;
    Ok(digest[..32].chars().map(|c| char::from(b'a' + c.to_digit(16).unwrap_or(0) as u8)).collect())
}

/// `cargo xtask bridge browser-test`: the pinned firefox-esr and Debian's chromium (installed
/// when missing), marionette_driver and playwright-core (pinned, in the cache), the bridge,
/// lighttpd and srp-verifier; then the extension's address tests (node) and
/// `browser_test.py` under `unshare -n`, screenshots to `out`.
pub fn browser_test(sh: &Shell, browsers: &str, out: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let firefox = format!("firefox-esr={}", crate::firefox::DEBIAN_VERSION);
    let mut packages = vec![firefox.as_str()];
    packages.extend(BROWSER_TEST_PACKAGES);
    crate::deps::ensure_debian_packages(sh, &packages)?;
    let extension = sh.current_dir().join(EXTENSION);
    let package_json = extension.join("tests/package.json");
    check_format(sh, &extension, &package_json)?;
    crate::step("node --test srp-bridge/extension/tests/addresses.test.js");
    let unit = extension.join("tests/addresses.test.js");
    cmd!(sh, "node --test {unit}").run()?;
    let python = crate::firefox::marionette_python(sh)?;
    let node_modules = playwright(sh, &package_json)?;
    let program = build(sh, false)?;
    let lighttpd = crate::lighttpd::binary(sh)?;
    let verifier = crate::lighttpd::srp_verifier(sh)?;
    let driver = extension.join("tests/browser_test.py");
    crate::step(&format!(
        "srp-bridge/extension/tests/browser_test.py ({browsers}) in a private network namespace, screenshots to {}",
        out.display()
    ));
    let tested = std::time::Instant::now();
    cmd!(
        sh,
        "timeout 1500 unshare -n -- {python} {driver} --netns --bridge {program}
         --lighttpd {lighttpd} --srp-verifier {verifier} --out {out}
         --node-modules {node_modules} --browsers {browsers}"
    )
    .run()?;
    eprintln!(
        "browser test passed: {:.0?} in the browsers, {:.0?} in all",
        tested.elapsed(),
        started.elapsed()
    );
    Ok(())
}

/// The version of `package` that `package.json` pins (in `dependencies` or `devDependencies`).
fn pinned(package_json: &Path, package: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(package_json)
        .with_context(|| format!("reading {}", package_json.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)?;
    ["dependencies", "devDependencies"]
        .iter()
        .find_map(|k| manifest[k][package].as_str())
        .map(str::to_owned)
        .with_context(|| format!("{} pins no {package}", package_json.display()))
}

/// prettier (pinned in `package.json`, with the extension's `.prettierrc.json`) over the
/// extension's JavaScript, HTML, CSS and JSON: zero diffs.
fn check_format(sh: &Shell, extension: &Path, package_json: &Path) -> anyhow::Result<()> {
    let version = pinned(package_json, "prettier")?;
    let prettier = crate::firefox::install_prettier(sh, &version)?;
    crate::step(&format!("prettier {version} --check srp-bridge/extension"));
    let _dir = sh.push_dir(extension);
    let files = [
        "*.js",
        "*.html",
        "*.css",
        "*.json",
        "_locales/en/*.json",
        "tests/*.js",
        "tests/*.mjs",
        "tests/*.json",
    ];
    if cmd!(sh, "{prettier} --check {files...}").run().is_err() {
        bail!(
            "prettier {version} would reformat the files above: run it with --write in {EXTENSION}"
        );
    }
    Ok(())
}

/// The `node_modules` holding the playwright-core that `package.json` pins: installed once
/// into the cache's `tools/` (never into the clone).
fn playwright(sh: &Shell, package_json: &Path) -> anyhow::Result<PathBuf> {
    let version = pinned(package_json, "playwright-core")?;
    crate::deps::npm_package(sh, "playwright-core", &version, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id `bridge install` allows is the one Chromium gives the unpacked extension (the
    /// browser test checks that Chromium loads it under that id, computed in Python).
    #[test]
    fn extension_id_from_the_manifest_key() {
        let sh = Shell::new().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let id = extension_id(&sh, &root.join(EXTENSION)).unwrap();
        assert_eq!(id, "ljlaeaioligclibfccffadoamjidlhbh");
    }

    #[test]
    fn pinned_versions_are_exact() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let package_json = root.join(EXTENSION).join("tests/package.json");
        for package in ["playwright-core", "prettier"] {
            let version = pinned(&package_json, package).unwrap();
            assert!(
                version.split('.').count() == 3
                    && version.bytes().all(|b| b == b'.' || b.is_ascii_digit()),
                "{package} {version}: an exact version"
            );
        }
    }
}
