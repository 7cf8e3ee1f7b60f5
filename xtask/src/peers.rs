//! The test peers (`tests/peers/`, one command-line contract, see tests/README.md): how each is
//! built, one cache for all of them, and `cargo xtask which <peer>`.
//!
//! - `srp-peer-nss`: tests/peers/srp-peer-nss.c against the patched NSS (`-sanitized`: the
//!   ASan+UBSan build; `-release`: the optimised build, for benchmarks); `srp-peer-nss-3.112`:
//!   the same against NSS 3.112.5 from Firefox ESR (`cargo xtask nss build --firefox`);
//! - `srp-peer-boringssl`: tests/peers/srp-peer-boringssl.c against the patched BoringSSL
//!   and the core (`-sanitized`: the ASan+UBSan build);
//! - `srp-peer-openssl`: the same BoringSSL peer source against the system's OpenSSL 3.0 libssl.
//!
//! A peer is kept in `<cache>/peers/<key>/<name>`, the key made of its sources, its compile
//! commands (which name the library build's keyed folder, the core and the flags) and, for the
//! OpenSSL peer, the installed libssl-dev version.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::boringssl::{Boringssl, Flavor as BoringFlavor};
use crate::nss::{Flavor as NssFlavor, Nss};

/// How to build one peer.
pub struct Recipe {
    /// The program's name (`srp-peer-nss`).
    pub name: &'static str,
    /// The files it is compiled from, relative to the project root (part of the key).
    pub sources: Vec<&'static str>,
    /// Anything else that decides the binary and is not in the commands (a system library's
    /// version).
    pub extra_key: String,
    /// The commands, run in order without a shell. `{out}` in an argument stands for the output
    /// folder, `{root}` for the project root.
    pub commands: Vec<Vec<String>>,
}

/// Every peer `which` knows, with what builds it.
pub const PEERS: &[&str] = &[
    "srp-peer-nss",
    "srp-peer-nss-sanitized",
    "srp-peer-nss-release",
    "srp-peer-nss-3.112",
    "srp-peer-boringssl",
    "srp-peer-boringssl-sanitized",
    "srp-peer-boringssl-chromium",
    "srp-peer-openssl",
];

/// Builds (when its key is new) and returns the peer `name`, one of [`PEERS`].
pub fn by_name(sh: &Shell, name: &str) -> anyhow::Result<PathBuf> {
    use crate::upstream::peer;
    match name {
        "srp-peer-nss" => peer(sh, &Nss::default(), NssFlavor::Debug),
        "srp-peer-nss-sanitized" => peer(sh, &Nss::default(), NssFlavor::Sanitized),
        "srp-peer-nss-release" => peer(sh, &Nss::default(), NssFlavor::Release),
        "srp-peer-nss-3.112" => peer(sh, &Nss::FIREFOX, NssFlavor::Debug),
        "srp-peer-boringssl" => peer(sh, &Boringssl::default(), BoringFlavor::Release),
        "srp-peer-boringssl-sanitized" => peer(sh, &Boringssl::default(), BoringFlavor::Sanitized),
        "srp-peer-boringssl-chromium" => peer(sh, &Boringssl::CHROMIUM, BoringFlavor::Release),
        "srp-peer-openssl" => openssl(sh),
        other => bail!("expected one of {}, found {other:?}", PEERS.join(", ")),
    }
}

/// `srp-peer-openssl`: the BoringSSL peer's source against the system's OpenSSL 3.0 libssl and
/// its (deprecated, still shipped) SRP API.
pub fn openssl(sh: &Shell) -> anyhow::Result<PathBuf> {
    crate::deps::ensure_debian_packages(sh, &["gcc", "libssl-dev"])?;
    let format = "-f=${Version}";
    let version = cmd!(sh, "dpkg-query -W {format} libssl-dev").quiet().read()?;
    let recipe = Recipe {
        name: "srp-peer-openssl",
        sources: vec!["tests/peers/srp-peer-boringssl.c", "tests/peers/peer-cli.h"],
        extra_key: format!("libssl-dev {version}"),
        commands: vec![args(&[
            "gcc",
            "-std=c11",
            "-D_POSIX_C_SOURCE=200809L",
            "-DOPENSSL_API_COMPAT=30000",
            "-Wno-deprecated-declarations",
            "-O2",
            "-Wall",
            "-Werror",
            "{root}/tests/peers/srp-peer-boringssl.c",
            "-lssl",
            "-lcrypto",
            "-o",
            "{out}/srp-peer-openssl",
        ])],
    };
    build(sh, &recipe)
}

/// `&str`s to an argument list.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Builds `recipe` into `<cache>/peers/<key>/` unless that exists; returns the binary.
pub fn build(sh: &Shell, recipe: &Recipe) -> anyhow::Result<PathBuf> {
    let root = sh.current_dir();
    let sources: Vec<PathBuf> = recipe.sources.iter().map(|s| root.join(s)).collect();
    let digest = crate::cache::sha256_files(sh, &root, &sources)?;
    let commands: Vec<String> = recipe.commands.iter().map(|c| c.join(" ")).collect();
    let key =
        crate::cache::key(sh, &[recipe.name, &digest, &recipe.extra_key, &commands.join("\n")])?;
    let peers = crate::cache::dir()?.join("peers");
    let dir = peers.join(&key);
    let binary = dir.join(recipe.name);
    if binary.exists() {
        return Ok(binary);
    }
    let _lock = crate::cache::lock(&peers.join("lock"))?;
    crate::cache::keyed(&dir, |out| {
        crate::step(&format!("building {} (key {key})", recipe.name));
        for command in &recipe.commands {
            let argv: Vec<String> = command.iter().map(|a| expand(a, &root, out)).collect();
            let (program, rest) = argv.split_first().context("an empty command")?;
            cmd!(sh, "{program} {rest...}").run()?;
        }
        anyhow::ensure!(out.join(recipe.name).exists(), "the commands made no {}", recipe.name);
        Ok(())
    })?;
    Ok(binary)
}

fn expand(arg: &str, root: &Path, out: &Path) -> String {
    arg.replace("{root}", &root.display().to_string()).replace("{out}", &out.display().to_string())
}

/// `cargo xtask which <program>`: prints the absolute path of a test peer, building it first
/// when needed, so tests and scripts can run it without environment variables.
#[derive(clap::Args)]
pub struct Which {
    /// `srp-peer-nss`, `srp-peer-boringssl`, `srp-peer-openssl` (and the `-sanitized` and
    /// `-release` builds of the first two), `srp-peer-nss-3.112` (on NSS 3.112.5 from Firefox).
    program: String,
}

impl Which {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        println!("{}", by_name(sh, &self.program)?.display());
        Ok(())
    }
}
