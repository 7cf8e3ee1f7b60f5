//! `cargo xtask which <program>`: prints the absolute path of a test peer, building it first
//! when needed, so tests and scripts can run it without environment variables.

use anyhow::bail;
use xshell::Shell;

#[derive(clap::Args)]
pub struct Which {
    /// `srp-peer-boringssl`, `srp-peer-openssl` or `srp-peer-nss`.
    program: String,
}

impl Which {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let path = match self.program.as_str() {
            "srp-peer-boringssl" => crate::boringssl::peer(sh)?,
            "srp-peer-openssl" => crate::boringssl::openssl_peer(sh)?,
            "srp-peer-nss" => crate::nss::peer(sh)?,
            other => bail!(
                "expected srp-peer-boringssl, srp-peer-openssl or srp-peer-nss, found {other:?}"
            ),
        };
        println!("{}", path.display());
        Ok(())
    }
}
