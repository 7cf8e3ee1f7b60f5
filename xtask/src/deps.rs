//! Debian packages the commands need, installed when missing (the project's machines are Debian
//! and run these commands as root; elsewhere the error says what to install).

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

/// What `cargo xtask test` needs: valgrind for the constant-time check, OpenSSL's libcrypto
/// (headers and library) and `openssl srp` for the cross-check and verifier files, GnuTLS's
/// `srptool` for verifier files, a C compiler for the C program test, binutils' `objdump` for the
/// constant-time check's native trace of the AVX-512 code, and Chromium's formatters
/// (`clang-format-19`, `gn` from `generate-ninja`) with `patch` and Python for the tests of the
/// Chromium series checker.
pub const TEST_PACKAGES: &[&str] = &[
    "valgrind",
    "libssl-dev",
    "openssl",
    "gnutls-bin",
    "gcc",
    "binutils",
    // xtask's own tests of the Chromium series checker: Chromium's formatters; and of
    // reading `debian/rules` (make, dpkg-buildflags).
    "clang-format-19",
    "generate-ninja",
    "patch",
    "python3",
    "make",
    "dpkg-dev",
];

/// Installs the packages of `packages` that are not installed yet. A package may name its
/// exact version (`firefox-esr=140.12.0esr-1~deb12u1`): another installed version counts as
/// missing, and apt installs the pinned one (also when that is older: `--allow-downgrades`).
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
    cmd!(sh, "apt-get install -y -qq --no-install-recommends --allow-downgrades {missing...}")
        .run()?;
    Ok(())
}

fn is_installed(sh: &Shell, package: &str) -> bool {
    let (name, version) = match package.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (package, None),
    };
    let format = "-f=${Status}\n${Version}";
    cmd!(sh, "dpkg-query -W {format} {name}")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok_and(|out| installed(&out, version))
}

/// Whether `dpkg-query`'s status and version lines say installed (in `version`, when given).
fn installed(out: &str, version: Option<&str>) -> bool {
    let mut lines = out.lines();
    let status_ok = lines.next().is_some_and(|s| s.ends_with("install ok installed"));
    status_ok && version.is_none_or(|v| lines.next() == Some(v))
}

/// The npm package `name` at exactly `version`, installed once into the cache's
/// `tools/<name>-<version>/` (never into a checkout) with npm, which checks what it downloads
/// against the registry's integrity; returns that folder's `node_modules`. With `integrity`
/// (npm's `sha512-...` of the package's tarball, as `npm view <name>@<version> dist.integrity`
/// prints it), the lockfile npm wrote must record exactly that, so a registry that served
/// another file under the same version fails.
pub(crate) fn npm_package(
    sh: &Shell,
    name: &str,
    version: &str,
    integrity: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let tools = crate::cache::dir()?.join("tools");
    let dir = tools.join(format!("{name}-{version}"));
    if !dir.exists() {
        if cmd!(sh, "npm --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
            ensure_debian_packages(sh, &["npm"])?;
        }
        let _lock = crate::cache::lock(&tools.join(format!("{name}-{version}.lock")))?;
        crate::cache::keyed(&dir, |tmp| {
            crate::step(&format!("installing {name} {version} from npm"));
            let spec = format!("{name}@{version}");
            cmd!(sh, "npm install --prefix {tmp} --no-audit --no-fund --save-exact {spec}")
                .quiet()
                .run()?;
            Ok(())
        })?;
    }
    let node_modules = dir.join("node_modules");
    let manifest = node_modules.join(name).join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    ensure!(
        json["version"].as_str() == Some(version),
        "expected {name} {version} in {}, found {}",
        dir.display(),
        json["version"]
    );
    if let Some(integrity) = integrity {
        let lockfile = dir.join("package-lock.json");
        let text = std::fs::read_to_string(&lockfile)
            .with_context(|| format!("reading {}", lockfile.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        let found = &json["packages"][format!("node_modules/{name}")]["integrity"];
        ensure!(
            found.as_str() == Some(integrity),
            "{name} {version}: npm installed a package with integrity {found}, not the pinned \
             {integrity} ({}); remove that folder to fetch it again",
            dir.display()
        );
    }
    Ok(node_modules)
}

#[cfg(test)]
mod tests {
    use super::installed;

    #[test]
    fn a_pinned_version_counts_only_when_it_is_the_installed_one() {
        let out = "install ok installed\n153.8.0esr-1~deb12u1";
        assert!(installed(out, None));
        assert!(installed(out, Some("153.8.0esr-1~deb12u1")));
        assert!(!installed(out, Some("140.12.0esr-1~deb12u1")), "a newer one is not the pin");
        assert!(!installed("deinstall ok config-files\n140.12.0esr-1~deb12u1", None));
    }
}
