//! `cargo xtask demo`: the README's main job. Builds the release binaries, makes a verifier
//! file with `srp-verifier` as a device maker would, and runs the SRP part of a TLS-SRP
//! handshake from it: the right password, a wrong one, and an unknown user.

use xshell::{Shell, cmd};

const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "router-admin-password";

#[derive(clap::Args)]
pub struct Demo {}

impl Demo {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::step("building srp-verifier and the exchange example (release)");
        cmd!(sh, "cargo build --quiet --release --package srp-verifier --bin srp-verifier --package srp-ffi --example exchange")
            .run()?;
        let root = sh.current_dir();
        let dir = root.join(".cache/demo");
        sh.create_dir(&dir)?;
        let file = dir.join("srpvfile");
        if file.exists() {
            sh.remove_path(&file)?;
        }

        crate::step("making a verifier file (OpenSSL srpvfile format, 3072-bit group)");
        let tool = root.join("target/release/srp-verifier");
        cmd!(
            sh,
            "{tool} add --file {file} --user {DEMO_USER} --group 3072 --format openssl --password-stdin"
        )
        .stdin(format!("{DEMO_PASSWORD}\n"))
        .run()?;
        cmd!(sh, "{tool} list --file {file}").run()?;

        crate::step("running server and client from the verifier file");
        let exchange = root.join("target/release/examples/exchange");
        cmd!(sh, "{exchange} {file} {DEMO_USER} {DEMO_PASSWORD}").run()?;
        Ok(())
    }
}
