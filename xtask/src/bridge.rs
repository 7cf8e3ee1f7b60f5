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
//! - `install --chromium-extension-id ID`: builds (release) and writes the native-messaging
//!   host manifests for Chromium, Google Chrome and Firefox for this user.

use std::path::PathBuf;

use xshell::{Shell, cmd};

use crate::boringssl::{Boringssl, Flavor};
use crate::upstream;

/// `boring-sys` generates its bindings with bindgen, which loads libclang.
const BUILD_PACKAGES: &[&str] = &["libclang-dev"];
/// The test's devices and its network namespace.
const TEST_PACKAGES: &[&str] =
    &["gnutls-bin", "openssl", "python3", "iproute2", "util-linux", "coreutils"];

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
    /// Build (release) and install the native-messaging host manifests for this user.
    Install {
        /// The Chromium extension id allowed to talk to the bridge (repeatable).
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
            BridgeCommand::Install { chromium, firefox } => {
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
