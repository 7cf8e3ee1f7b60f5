//! `cargo xtask nss <fetch|check|build>`: NSS 3.110 with the TLS-SRP patch series.
//!
//! - `fetch`: the pinned NSS tarball into `.cache/downloads/`, verified (size and sha256).
//! - `check`: the series checker: every entry exists and is listed once, no patch file is
//!   unused, every patch is in the house format and the whole series applies with zero fuzz.
//! - `build`: fetch, unpack and patch into `.cache/nss/tree/` (reused while the tarball and the
//!   series are unchanged; only files the series changes are rewritten, so ninja rebuilds only
//!   those), build the srp-ffi static library, then NSS with gyp/ninja, the core linked into
//!   libssl3. Output: `.cache/nss/tree/dist/{Debug,Release}/{lib,bin}`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::upstream::{self, DebianSource, Pin, Provider, Series, Url};

/// NSS 3.110 as Debian ships it: Debian's orig tarball is upstream's release tarball (top
/// directory `nss-3.110/`, holding `nss/` only, no NSPR).
const PIN: Pin = Pin {
    name: "nss",
    version: "3.110",
    file: "nss_3.110.orig.tar.gz",
    size: 76_616_684,
    sha256: "9cd610c40422a07771b9b45166be2d052ea2f00b605a7928129e1f2071b3ae27",
};

/// The same release from upstream, for machines with open internet. Debian's orig tarball is
/// upstream's file renamed (no repack: same top directory, `.hg_archival.txt` present), so the
/// size and sha256 are the same; only the name and origin differ.
const UPSTREAM_PIN: Pin = Pin { file: "nss-3.110.tar.gz", ..PIN };
const UPSTREAM_URL: &str =
    "https://ftp.mozilla.org/pub/security/nss/releases/NSS_3_110_RTM/src/nss-3.110.tar.gz";

/// The tarball's top directory (`nss-3.110/`) is dropped: the tree holds `nss/` and, once
/// built, `dist/` next to it, as NSS's build.sh expects.
const STRIP_COMPONENTS: u32 = 1;

/// Build outputs inside the tree, kept when the series changes.
const BUILD_OUTPUTS: &[&str] = &["dist", "nss/out"];

/// What building NSS with gyp needs from Debian (NSPR comes from Debian: the tarball has none).
pub const BUILD_PACKAGES: &[&str] = &[
    "gyp",
    "ninja-build",
    "python3",
    "gcc",
    "g++",
    "libnspr4-dev",
    "libsqlite3-dev",
    "zlib1g-dev",
    "patch",
];

#[derive(clap::Args)]
pub struct Nss {
    #[command(subcommand)]
    command: NssCommand,
}

#[derive(clap::Subcommand)]
enum NssCommand {
    /// Download the pinned NSS tarball into .cache/downloads and verify it.
    Fetch(Fetch),
    /// Check nss-patches/series: entries exist, none unused or twice, house format, all apply.
    Check,
    /// Fetch, patch and build NSS with the srp-ffi core linked into libssl3.
    Build(Build),
}

#[derive(clap::Args)]
struct Fetch {
    /// Where the tarball comes from.
    #[arg(long, value_enum, default_value = "debian")]
    from: Origin,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Origin {
    /// The Debian source package `nss` (trixie), through apt.
    Debian,
    /// Upstream's release tarball (needs open internet).
    Upstream,
}

#[derive(clap::Args)]
struct Build {
    /// Where the tarball comes from when it is not cached yet.
    #[arg(long, value_enum, default_value = "debian")]
    from: Origin,
    /// Optimised build (out/Release) instead of the debug build (out/Debug).
    #[arg(long)]
    opt: bool,
    /// Build without the gtests (and so without tstclnt and selfserv): much faster.
    #[arg(long)]
    no_tests: bool,
}

impl Nss {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            NssCommand::Fetch(fetch) => fetch.from.fetch(sh).map(drop),
            NssCommand::Check => check(sh),
            NssCommand::Build(build) => build.run(sh),
        }
    }
}

impl Origin {
    fn fetch(self, sh: &Shell) -> anyhow::Result<PathBuf> {
        match self {
            Origin::Debian => {
                let debian =
                    DebianSource { package: "nss", version_prefix: "2:3.110-", suite: "trixie" };
                upstream::fetch(sh, &PIN, &debian)
            }
            Origin::Upstream => {
                let url: &dyn Provider = &Url { url: UPSTREAM_URL };
                upstream::fetch(sh, &UPSTREAM_PIN, url)
            }
        }
    }
}

/// The series, from `nss-patches/`.
fn series(sh: &Shell) -> anyhow::Result<Series> {
    Ok(Series::load(&sh.current_dir().join("nss-patches"))?.applied_in("nss"))
}

fn check(sh: &Shell) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &["patch"])?;
    let series = series(sh)?;
    series.check_files()?;
    let tarball = Origin::Debian.fetch(sh)?;
    let scratch = upstream::cache_dir(sh).join("nss/check");
    upstream::stage(sh, &tarball, STRIP_COMPONENTS, &series, &scratch)?;
    std::fs::remove_dir_all(&scratch)?;
    println!(
        "nss-patches: {} patches, all listed once, all apply with zero fuzz",
        series.patches.len()
    );
    Ok(())
}

impl Build {
    fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        crate::deps::ensure_debian_packages(sh, BUILD_PACKAGES)?;
        let tarball = self.from.fetch(sh)?;
        let tree =
            upstream::prepare(sh, &PIN, &tarball, STRIP_COMPONENTS, &series(sh)?, BUILD_OUTPUTS)?;

        let core = build_core(sh)?;
        crate::step(
            "building NSS with gyp/ninja (the first build takes 15 min or more on 2 cores)",
        );
        let nss_dir = tree.join("nss");
        let _dir = sh.push_dir(&nss_dir);
        // gyp runs `python` for every .gyp file (coreconf/check_cc.py, werror.py): through a
        // version-manager shim that costs seconds each and turns gyp into a 10-minute step.
        // Debian's python3, under the name `python`, first on PATH.
        let python_dir = upstream::cache_dir(sh).join("nss/python-bin");
        std::fs::create_dir_all(&python_dir)?;
        let python = python_dir.join("python");
        if std::fs::symlink_metadata(&python).is_err() {
            std::os::unix::fs::symlink("/usr/bin/python3", &python)?;
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![python_dir];
        paths.extend(std::env::split_paths(&path));
        let _path = sh.push_env("PATH", std::env::join_paths(paths)?);
        let mut args =
            vec!["--system-nspr".to_owned(), "--system-sqlite".to_owned(), "-j".to_owned()];
        args.push(jobs().to_string());
        if self.opt {
            args.push("--opt".to_owned());
        }
        if self.no_tests {
            args.push("--disable-tests".to_owned());
        }
        args.push(format!("-Dsrp_ffi_include_dir={}", core.include_dir.display()));
        args.push(format!("-Dsrp_ffi_libs={}", core.libs.join(" ")));
        cmd!(sh, "./build.sh {args...}").run().context("NSS's build.sh failed")?;

        let dist = tree.join("dist").join(if self.opt { "Release" } else { "Debug" });
        check_core_linked(sh, &dist.join("lib/libssl3.so"))?;
        drop(_dir);
        if !self.opt {
            eprintln!("test peer: {}", peer(sh)?.display());
        }
        eprintln!(
            "NSS built in {:.0?}: {}/lib (libssl3.so with the srp-ffi core), {}/bin",
            started.elapsed(),
            dist.display(),
            dist.display()
        );
        Ok(())
    }
}

/// Where `nss build` puts the test peer.
fn peer_path(sh: &Shell) -> PathBuf {
    upstream::cache_dir(sh).join("nss/bin/srp-peer-nss")
}

/// Compiles tests/peers/srp-peer-nss.c against the patched NSS in `dist`, with an rpath so it
/// runs without environment variables.
fn build_peer(sh: &Shell, dist_root: &Path, dist: &Path) -> anyhow::Result<PathBuf> {
    crate::step("compiling tests/peers/srp-peer-nss.c against the patched NSS");
    let out = peer_path(sh);
    std::fs::create_dir_all(out.parent().context("no parent")?)?;
    let include = dist_root.join("public/nss");
    let lib = dist.join("lib");
    // DT_RPATH, not DT_RUNPATH: it also applies to the libraries libssl3 loads (libnssutil3),
    // which would otherwise come from the system NSS.
    let rpath = format!("-Wl,--disable-new-dtags,-rpath,{}", lib.display());
    cmd!(
        sh,
        "gcc -std=gnu99 -O1 -g -Wall -Wextra -Werror -I{include} -I/usr/include/nspr
            -o {out} tests/peers/srp-peer-nss.c -L{lib} {rpath}
            -lssl3 -lsmime3 -lnss3 -lnssutil3 -lplc4 -lplds4 -lnspr4"
    )
    .run()?;
    Ok(out)
}

/// The absolute path of `srp-peer-nss` (for `cargo xtask which srp-peer-nss`), compiling it
/// when it is missing or older than its source. NSS itself must be built (`cargo xtask nss
/// build`, debug build).
pub fn peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    let dist_root = upstream::cache_dir(sh).join("nss/tree/dist");
    let dist = dist_root.join("Debug");
    anyhow::ensure!(
        dist.join("lib/libssl3.so").exists(),
        "NSS is not built yet ({} is missing): run `cargo xtask nss build`",
        dist.join("lib/libssl3.so").display()
    );
    let out = peer_path(sh);
    let source = sh.current_dir().join("tests/peers/srp-peer-nss.c");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let inputs = [modified(&source), modified(&dist.join("lib/libssl3.so"))];
    let stale = match modified(&out) {
        Some(built) => inputs.iter().any(|t| t.is_none_or(|t| t > built)),
        None => true,
    };
    if stale {
        build_peer(sh, &dist_root, &dist)?;
    }
    Ok(out)
}

/// The srp-ffi static library and how to link it.
struct Core {
    include_dir: PathBuf,
    /// The archive, then the system libraries Rust's std needs (`rustc --print
    /// native-static-libs`): libssl3 links with `-z defs`.
    libs: Vec<String>,
}

fn build_core(sh: &Shell) -> anyhow::Result<Core> {
    crate::step("cargo build --release -p srp-ffi (the static library linked into libssl3)");
    // A target directory of its own: a long `cargo test` elsewhere in the workspace holds the
    // shared one's lock, and libssl3 links exactly the archive this step built.
    let target_dir = upstream::cache_dir(sh).join("nss/srp-ffi-target");
    cmd!(sh, "cargo build --release --locked -p srp-ffi --target-dir {target_dir}").run()?;
    let root = sh.current_dir();
    let archive = target_dir.join("release/libsrp_ffi.a");
    anyhow::ensure!(archive.exists(), "cargo did not produce {}", archive.display());
    let mut libs = vec![archive.display().to_string()];
    libs.extend(native_static_libs(sh)?);
    Ok(Core { include_dir: root.join("srp-ffi/include"), libs })
}

/// The system libraries a Rust staticlib needs, asked from rustc with an empty crate (srp-ffi
/// adds no native libraries of its own: getrandom uses libc, which std already needs).
fn native_static_libs(sh: &Shell) -> anyhow::Result<Vec<String>> {
    let dir = upstream::cache_dir(sh).join("rust-native-libs");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("libprobe.a");
    let output = cmd!(
        sh,
        "rustc --crate-type staticlib --crate-name probe --edition 2021 --print native-static-libs -o {out} -"
    )
    .quiet()
    .stdin("")
    .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.split("native-static-libs: ").nth(1))
        .with_context(|| format!("rustc --print native-static-libs printed no list:\n{stderr}"))?;
    Ok(line.split_whitespace().map(str::to_owned).collect())
}

/// Reports how much of the core libssl3.so holds (the linker takes only what NSS calls) and
/// fails if any of it is exported (ssl.def must export only NSS's own API).
fn check_core_linked(sh: &Shell, libssl: &Path) -> anyhow::Result<()> {
    let symbols = cmd!(sh, "nm {libssl}").quiet().read()?;
    let linked = symbols.lines().filter(|l| l.contains(" t srp_") || l.contains(" T srp_")).count();
    let exported = cmd!(sh, "nm -D --defined-only {libssl}").quiet().read()?;
    anyhow::ensure!(
        !exported.lines().any(|l| l.contains(" srp_")),
        "{} exports srp-ffi symbols: ssl.def must keep them local",
        libssl.display()
    );
    eprintln!("{}: {linked} srp-ffi functions linked in, none exported", libssl.display());
    Ok(())
}

/// Parallel build jobs: the machine's cores.
fn jobs() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}
