//! `cargo xtask`: the project's build and test automation.
//!
//! Run `cargo xtask --help` for the commands. One module per command; shared parts: `cache`
//! (the build cache outside the clone), `core` (the srp-ffi static library and its link
//! recipe), `upstream` (pinned sources, patch series, keyed builds: one trait that NSS and
//! BoringSSL, lighttpd, Firefox and Chromium implement), `peers` (the test peers), `gtest` (googletest reports), `deps`
//! (Debian packages). xtask/README.md tells how to add an upstream tree.

mod bench;
mod boringssl;
mod bridge;
mod cache;
mod chromium;
mod codegen;
mod core;
mod ctgrind;
mod demo;
mod deps;
mod device;
mod firefox;
mod gtest;
mod interop;
mod lighttpd;
mod nss;
mod peers;
mod progress;
mod test;
mod upstream;
mod vendor;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use xshell::Shell;

#[derive(Parser)]
#[command(about = "tls-srp build and test automation", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks: `bench core` times the SRP math against OpenSSL's.
    Bench(bench::Bench),
    /// BoringSSL with TLS-SRP: fetch, check, apply, build, test.
    Boringssl(boringssl::Command),
    /// srp-bridge, the local bridge to devices over TLS-SRP: build, test, install.
    Bridge(bridge::Command),
    /// Chromium 150 with Debian's patches and the chromium-ui series: fetch, check, configure.
    Chromium(chromium::Command),
    /// Regenerate srp-ffi/include/srp_ffi.h with the pinned cbindgen.
    Codegen(codegen::Codegen),
    /// The main job: a verifier file made with srp-verifier, and key exchanges from it.
    Demo(demo::Demo),
    /// Run client and server under valgrind memcheck with secrets marked undefined.
    Ctgrind(ctgrind::Ctgrind),
    /// The demo device: a router's admin pages behind lighttpd with TLS-SRP, on loopback.
    Device(device::Device),
    /// Firefox ESR 140.12 with the gecko-ui series: fetch, check, frontend-test.
    Firefox(firefox::Command),
    /// TLS-SRP handshakes: patched NSS and BoringSSL against each other, OpenSSL and GnuTLS.
    Interop(interop::Interop),
    /// lighttpd with TLS-SRP: fetch the pinned source, check the patch series, build, test.
    Lighttpd(lighttpd::Command),
    /// NSS with TLS-SRP: fetch the pinned source, check the patch series, build.
    Nss(nss::Command),
    /// Run every test: header drift, cargo tests, constant-time check, NSS ssl_gtest,
    /// BoringSSL ssl_test, interop.
    Test(test::Test),
    /// Print the path of a test peer (srp-peer-boringssl, -openssl, -nss), building it if needed.
    Which(peers::Which),
    /// (Internal) run a server and a client in the current network namespace, for `interop`.
    #[command(hide = true)]
    NetnsLaunch(interop::NetnsLaunch),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let sh = Shell::new()?;
    sh.change_dir(project_root()?);
    match cli.command {
        Command::Bench(cmd) => cmd.run(&sh),
        Command::Boringssl(cmd) => cmd.run(&sh),
        Command::Bridge(cmd) => cmd.run(&sh),
        Command::Chromium(cmd) => cmd.run(&sh),
        Command::Codegen(cmd) => cmd.run(&sh),
        Command::Ctgrind(cmd) => cmd.run(&sh),
        Command::Demo(cmd) => cmd.run(&sh),
        Command::Device(cmd) => cmd.run(&sh),
        Command::Firefox(cmd) => cmd.run(&sh),
        Command::Interop(cmd) => cmd.run(&sh),
        Command::Lighttpd(cmd) => cmd.run(&sh),
        Command::Nss(cmd) => cmd.run(&sh),
        Command::Test(cmd) => cmd.run(&sh),
        Command::Which(cmd) => cmd.run(&sh),
        Command::NetnsLaunch(cmd) => cmd.run(),
    }
}

/// The workspace root: the parent of this crate's directory.
pub fn project_root() -> anyhow::Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .with_context(|| format!("{} has no parent directory", manifest_dir.display()))
}

/// Every RFC 5054 group, by its size in bits.
pub const GROUPS: [u32; 7] = [1024, 1536, 2048, 3072, 4096, 6144, 8192];

/// Prints a step heading, so long runs show what they are doing.
pub fn step(what: &str) {
    eprintln!("==> {what}");
}

/// The CPU's model name, for reports that record the machine.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("model name\t: ").map(str::to_owned)))
        .unwrap_or_else(|| "unknown CPU".into())
}
