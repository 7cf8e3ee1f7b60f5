//! Debian packages the commands need, installed when missing (the project's machines are Debian
//! and run these commands as root; elsewhere the error says what to install).

use anyhow::bail;
use xshell::{Shell, cmd};

/// What `cargo xtask test` needs: valgrind for the constant-time check, OpenSSL's libcrypto
/// (headers and library) and `openssl srp` for the cross-check and verifier files, GnuTLS's
/// `srptool` for verifier files, a C compiler for the C program test, binutils' `objdump` for the
/// constant-time check's native trace of the AVX-512 code.
pub const TEST_PACKAGES: &[&str] =
    &["valgrind", "libssl-dev", "openssl", "gnutls-bin", "gcc", "binutils"];

/// Installs the packages of `packages` that are not installed yet.
pub fn ensure_debian_packages(sh: &Shell, packages: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !is_installed(sh, p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let uid = cmd!(sh, "id -u").quiet().read().unwrap_or_default();
    if uid.trim() != "0" {
        bail!(
            "missing Debian packages: {list}; install them with `sudo apt-get install {list}`",
            list = missing.join(" ")
        );
    }
    crate::step(&format!("installing Debian packages: {}", missing.join(" ")));
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update -qq").run()?;
    cmd!(sh, "apt-get install -y -qq --no-install-recommends {missing...}").run()?;
    Ok(())
}

fn is_installed(sh: &Shell, package: &str) -> bool {
    let format = "-f=${Status}";
    cmd!(sh, "dpkg-query -W {format} {package}")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok_and(|status| status.ends_with("install ok installed"))
}
