//! `cargo xtask nss <fetch|check|build|test>`: NSS 3.110 with the TLS-SRP patch series.
//!
//! - `fetch`: the pinned NSS tarball into `.cache/downloads/`, verified (size and sha256).
//! - `check`: the series checker: every entry exists and is listed once, no patch file is
//!   unused, every patch is in the house format and the whole series applies with zero fuzz.
//! - `build`: fetch, unpack and patch into `.cache/nss/tree/` (reused while the tarball and the
//!   series are unchanged; only files the series changes are rewritten, so ninja rebuilds only
//!   those), build the srp-ffi static library, run gyp (only when its inputs changed), then
//!   ninja for what the tests use: the libraries, `ssl_gtest`, `tstclnt`, `selfserv`,
//!   `certutil`, and the test peer. Output: `.cache/nss/tree/dist/Debug/{lib,bin}`.
//!   `--sanitize`: an ASan+UBSan build of the libraries in `.cache/nss/sanitized/` (its own
//!   ninja directory and dist, from the same patched sources) and the peer built against it.
//!   `--opt`: the optimised build in `.cache/nss/release/` (its own ninja directory and dist:
//!   gyp bakes the dist directory into the ninja files of both configurations, so the two
//!   cannot share one output tree) and `srp-peer-nss-release` against it, for benchmarks.
//! - `test`: `build`, then `ssl_gtest` on the SRP tests and the existing tests the series
//!   touches, with a certificate database made as `tests/ssl_gtests/ssl_gtests.sh` makes it.

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
    /// Build, then run ssl_gtest on the SRP tests and the existing tests the series touches.
    Test,
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
    /// The optimised build in .cache/nss/release/ (libraries, the programs and a release
    /// test peer) instead of the debug build.
    #[arg(long)]
    opt: bool,
    /// Build only the libraries (and the test peer), not ssl_gtest, tstclnt and selfserv.
    #[arg(long)]
    no_tests: bool,
    /// The ASan+UBSan build in .cache/nss/sanitized/ (libraries and the test peer).
    #[arg(long)]
    sanitize: bool,
}

impl Nss {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            NssCommand::Fetch(fetch) => fetch.from.fetch(sh).map(drop),
            NssCommand::Check => check(sh),
            NssCommand::Build(build) => build.run(sh),
            NssCommand::Test => test(sh),
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
        let flavor = if self.sanitize {
            anyhow::ensure!(!self.opt, "--sanitize builds the debug configuration only");
            Flavor::sanitized(sh)
        } else {
            Flavor::normal(sh, self.opt)
        };
        let targets = if self.no_tests || self.sanitize { LIB_TARGETS } else { TEST_TARGETS };
        let dist = build(sh, &flavor, self.from, targets)?;
        let peer = if self.sanitize {
            sanitized_peer(sh)?
        } else if self.opt {
            release_peer(sh)?
        } else {
            peer(sh)?
        };
        eprintln!("test peer: {}", peer.display());
        eprintln!(
            "NSS built in {:.0?}: {}/lib (libssl3.so with the srp-ffi core), {}/bin",
            started.elapsed(),
            dist.display(),
            dist.display()
        );
        Ok(())
    }
}

/// The ninja targets for the libraries and their public headers (what the peer links).
const LIB_TARGETS: &[&str] = &["nss_libs", "nss_exports"];

/// The libraries plus what the tests run: `ssl_gtest`, the `tstclnt`/`selfserv` pair and
/// `certutil` (it makes ssl_gtest's certificate database). Not the other gtests: they take
/// most of a full build's 15 minutes and test nothing the series touches.
const TEST_TARGETS: &[&str] =
    &["nss_libs", "nss_exports", "ssl_gtest", "tstclnt", "selfserv", "certutil"];

/// One NSS build from the patched tree: where gyp writes its ninja files and where the
/// libraries and programs go.
struct Flavor {
    /// gyp's `--generator-output`: ninja files go to `<out_root>/out/<config>`.
    out_root: PathBuf,
    /// `dist/` (headers in `public/`, libraries in `<config>/lib`).
    dist_root: PathBuf,
    /// `Debug` or `Release`.
    config: &'static str,
    /// Compiler flags for ASan and UBSan (as build.sh's `--asan --ubsan=undefined` sets them).
    sanitize: bool,
}

impl Flavor {
    /// The normal build, where build.sh would put it: `tree/nss/out`, `tree/dist`; with `opt`
    /// the optimised build, next to the tree (see the module documentation).
    fn normal(sh: &Shell, opt: bool) -> Self {
        if opt {
            let root = upstream::cache_dir(sh).join("nss/release");
            return Self {
                out_root: root.clone(),
                dist_root: root.join("dist"),
                config: "Release",
                sanitize: false,
            };
        }
        let tree = upstream::cache_dir(sh).join("nss/tree");
        Self {
            out_root: tree.join("nss"),
            dist_root: tree.join("dist"),
            config: "Debug",
            sanitize: false,
        }
    }

    /// The ASan+UBSan build, next to the tree so it never replaces the normal build's files.
    fn sanitized(sh: &Shell) -> Self {
        let root = upstream::cache_dir(sh).join("nss/sanitized");
        Self {
            out_root: root.clone(),
            dist_root: root.join("dist"),
            config: "Debug",
            sanitize: true,
        }
    }

    fn dist(&self) -> PathBuf {
        self.dist_root.join(self.config)
    }

    fn ninja_dir(&self) -> PathBuf {
        self.out_root.join("out").join(self.config)
    }
}

/// Fetches, patches and builds `targets` of `flavor` incrementally; returns its
/// `dist/<config>`. Every step is skipped or a no-op when its inputs are unchanged, so an
/// up-to-date build takes seconds.
fn build(sh: &Shell, flavor: &Flavor, from: Origin, targets: &[&str]) -> anyhow::Result<PathBuf> {
    crate::deps::ensure_debian_packages(sh, BUILD_PACKAGES)?;
    let _lock = lock(sh)?;
    let tarball = from.fetch(sh)?;
    let tree =
        upstream::prepare(sh, &PIN, &tarball, STRIP_COMPONENTS, &series(sh)?, BUILD_OUTPUTS)?;
    let core = build_core(sh)?;
    let nss_dir = tree.join("nss");
    let _path = sh.push_env("PATH", python_path(sh)?);

    let mut gyp_args = vec![
        "-f".to_owned(),
        "ninja".to_owned(),
        format!("--depth={}", nss_dir.display()),
        // `.` for the normal build, as build.sh passes it.
        if flavor.out_root == nss_dir {
            "--generator-output=.".to_owned()
        } else {
            format!("--generator-output={}", flavor.out_root.display())
        },
        // What build.sh passes for `--system-nspr --system-sqlite` on x86-64, so a tree built
        // by build.sh is reused as it is.
        "-Dnspr_include_dir=/usr/include/nspr/".to_owned(),
        "-Dnspr_lib_dir=".to_owned(),
        "-Duse_system_sqlite=1".to_owned(),
        format!("-Dtarget_arch={}", host_arch(sh, &nss_dir)?),
        "-Denable_sslkeylogfile=1".to_owned(),
        format!("-Dnss_dist_dir={}", flavor.dist_root.display()),
        format!("-Dnss_dist_obj_dir={}", flavor.dist().display()),
        format!("-Dsrp_ffi_include_dir={}", core.include_dir.display()),
        format!("-Dsrp_ffi_libs={}", core.libs.join(" ")),
    ];
    if flavor.sanitize {
        let _dir = sh.push_dir(&nss_dir);
        let asan = cmd!(sh, "python3 coreconf/sanitizers.py asan").quiet().read()?;
        let ubsan = cmd!(sh, "python3 coreconf/sanitizers.py ubsan undefined").quiet().read()?;
        gyp_args.push("-Dno_zdefs=1".to_owned());
        gyp_args.push(format!("-Dsanitizer_flags={} {}", asan.trim(), ubsan.trim()));
    }
    gyp_args.push(nss_dir.join("nss.gyp").display().to_string());
    run_gyp_if_needed(sh, flavor, &nss_dir, &gyp_args)?;

    let ninja_dir = flavor.ninja_dir();
    let core_stamp = relink_if_core_changed(sh, &ninja_dir, &core.archive)?;
    crate::step(&format!(
        "ninja -C {} {} (the first build takes about 10 min on 2 cores)",
        ninja_dir.display(),
        targets.join(" ")
    ));
    let jobs = jobs().to_string();
    cmd!(sh, "ninja -C {ninja_dir} -j {jobs} {targets...}").run().context("ninja failed")?;
    core_stamp.commit()?;

    let dist = flavor.dist();
    check_core_linked(sh, &dist.join("lib/libssl3.so"))?;
    Ok(dist)
}

/// The sha256 of the core archive the last successful ninja run linked, kept in the ninja
/// directory; [`CoreStamp::commit`] records it once ninja has succeeded.
struct CoreStamp {
    path: PathBuf,
    digest: String,
}

impl CoreStamp {
    fn commit(self) -> anyhow::Result<()> {
        std::fs::write(&self.path, self.digest)?;
        Ok(())
    }
}

/// gyp hands the core archive to the linker as a library flag, so ninja does not know that
/// libssl3.so, ssl_gtest and the other programs depend on it and would keep linking the old
/// core after a change to srp-ffi. When the archive's sha256 differs from the one the last
/// build linked, `libssl.a` (NSS's ssl static library, an input of every link that gets the
/// core) is made newer than those outputs, so ninja relinks them and nothing else.
fn relink_if_core_changed(
    sh: &Shell,
    ninja_dir: &Path,
    archive: &Path,
) -> anyhow::Result<CoreStamp> {
    let path = ninja_dir.join("xtask-core-sha256");
    let digest = upstream::sha256_file(sh, archive)?;
    let ssl_lib = ninja_dir.join("libssl.a");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(digest.as_str()) && ssl_lib.exists() {
        crate::step("the srp-ffi core changed since the last build: relinking what links it");
        std::fs::File::options()
            .write(true)
            .open(&ssl_lib)?
            .set_modified(std::time::SystemTime::now())?;
    }
    Ok(CoreStamp { path, digest })
}

/// Holds `.cache/nss/build.lock` until dropped: the tree, gyp and ninja serve one build at a
/// time (an interop run may ask for the peer while `nss test` builds).
fn lock(sh: &Shell) -> anyhow::Result<std::fs::File> {
    let path = upstream::cache_dir(sh).join("nss/build.lock");
    std::fs::create_dir_all(path.parent().context("no parent")?)?;
    let file = std::fs::File::create(&path)?;
    if file.try_lock().is_err() {
        eprintln!("waiting for another NSS build to finish ({})", path.display());
        file.lock()?;
    }
    Ok(file)
}

/// Runs gyp when its ninja files are missing, its arguments changed or a `.gyp`/`.gypi` file
/// is newer than them (gyp's ninja files do not regenerate themselves).
fn run_gyp_if_needed(
    sh: &Shell,
    flavor: &Flavor,
    nss_dir: &Path,
    gyp_args: &[String],
) -> anyhow::Result<()> {
    let build_ninja = flavor.ninja_dir().join("build.ninja");
    let stamp = flavor.out_root.join("out/xtask-gyp-args");
    let wanted = gyp_args.join("\n");
    let generated = modified(&build_ninja);
    let reason = if generated.is_none() {
        Some("no ninja files yet".to_owned())
    } else if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        Some("gyp arguments changed".to_owned())
    } else {
        newer_gyp_file(nss_dir, generated)?.map(|p| format!("{} changed", p.display()))
    };
    let Some(reason) = reason else {
        return Ok(());
    };
    crate::step(&format!("gyp -f ninja ({reason}; about a minute)"));
    let _ = std::fs::remove_file(&stamp);
    let _dir = sh.push_dir(nss_dir);
    cmd!(sh, "gyp {gyp_args...}").run().context("gyp failed")?;
    std::fs::create_dir_all(stamp.parent().context("no parent")?)?;
    std::fs::write(&stamp, wanted)?;
    Ok(())
}

/// The first `.gyp` or `.gypi` file under `dir` modified after `than`.
fn newer_gyp_file(
    dir: &Path,
    than: Option<std::time::SystemTime>,
) -> anyhow::Result<Option<PathBuf>> {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                // `out/`: gyp's own output.
                if path.file_name().is_some_and(|n| n != "out") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "gyp" || e == "gypi")
                && modified(&path).is_none_or(|m| than.is_none_or(|t| m > t))
            {
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

/// gyp runs `python` for every .gyp file (coreconf/check_cc.py, werror.py): through a
/// version-manager shim that costs seconds each and turns gyp into a 10-minute step.
/// Debian's python3, under the name `python`, first on PATH.
fn python_path(sh: &Shell) -> anyhow::Result<std::ffi::OsString> {
    let python_dir = upstream::cache_dir(sh).join("nss/python-bin");
    std::fs::create_dir_all(&python_dir)?;
    let python = python_dir.join("python");
    if std::fs::symlink_metadata(&python).is_err() {
        std::os::unix::fs::symlink("/usr/bin/python3", &python)?;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![python_dir];
    paths.extend(std::env::split_paths(&path));
    Ok(std::env::join_paths(paths)?)
}

/// gyp's `target_arch` as build.sh detects it.
fn host_arch(sh: &Shell, nss_dir: &Path) -> anyhow::Result<String> {
    let script = nss_dir.join("coreconf/detect_host_arch.py");
    Ok(cmd!(sh, "python3 {script}").quiet().read()?.trim().to_owned())
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Where `nss build` puts the test peers.
fn peer_path(sh: &Shell, name: &str) -> PathBuf {
    upstream::cache_dir(sh).join("nss/bin").join(name)
}

/// Compiles tests/peers/srp-peer-nss.c against the patched NSS in `dist`, with an rpath so it
/// runs without environment variables, when it is missing or older than its sources
/// (srp-peer-nss.c, peer-cli.h) or libssl3.
fn build_peer(
    sh: &Shell,
    flavor: &Flavor,
    name: &str,
    extra_flags: &[&str],
) -> anyhow::Result<PathBuf> {
    let dist = flavor.dist();
    let out = peer_path(sh, name);
    let source = sh.current_dir().join("tests/peers/srp-peer-nss.c");
    let header = sh.current_dir().join("tests/peers/peer-cli.h");
    let libssl = dist.join("lib/libssl3.so");
    let stale = match modified(&out) {
        Some(built) => [modified(&source), modified(&header), modified(&libssl)]
            .iter()
            .any(|t| t.is_none_or(|t| t > built)),
        None => true,
    };
    if !stale {
        return Ok(out);
    }
    let _lock = lock(sh)?;
    crate::step(&format!("compiling tests/peers/srp-peer-nss.c into {name}"));
    std::fs::create_dir_all(out.parent().context("no parent")?)?;
    let include = flavor.dist_root.join("public/nss");
    let lib = dist.join("lib");
    // DT_RPATH, not DT_RUNPATH: it also applies to the libraries libssl3 loads (libnssutil3),
    // which would otherwise come from the system NSS.
    let rpath = format!("-Wl,--disable-new-dtags,-rpath,{}", lib.display());
    cmd!(
        sh,
        "gcc -std=gnu99 -O1 -g -Wall -Wextra -Werror {extra_flags...} -I{include}
            -I/usr/include/nspr -o {out} {source} -L{lib} {rpath}
            -lssl3 -lsmime3 -lnss3 -lnssutil3 -lplc4 -lplds4 -lnspr4"
    )
    .run()?;
    Ok(out)
}

/// The absolute path of `srp-peer-nss` (for `cargo xtask which srp-peer-nss`). Builds the
/// patched NSS libraries first (incremental: seconds when they are up to date), then compiles
/// the peer when it is missing or stale.
pub fn peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    let flavor = Flavor::normal(sh, false);
    build(sh, &flavor, Origin::Debian, LIB_TARGETS)?;
    build_peer(sh, &flavor, "srp-peer-nss", &[])
}

/// `srp-peer-nss-release`: the peer compiled with `-O2` against the optimised NSS build in
/// `.cache/nss/release/` (built or updated first), for `cargo xtask bench handshake`.
pub fn release_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    let flavor = Flavor::normal(sh, true);
    build(sh, &flavor, Origin::Debian, LIB_TARGETS)?;
    build_peer(sh, &flavor, "srp-peer-nss-release", &["-O2"])
}

/// `srp-peer-nss-sanitized`: the peer compiled with `-fsanitize=address,undefined` against
/// the ASan+UBSan NSS build in `.cache/nss/sanitized/` (built or updated first). A sanitizer
/// finding aborts the peer with a report on stderr and a non-zero exit.
pub fn sanitized_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    let flavor = Flavor::sanitized(sh);
    build(sh, &flavor, Origin::Debian, LIB_TARGETS)?;
    build_peer(
        sh,
        &flavor,
        "srp-peer-nss-sanitized",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer",
        ],
    )
}

/// The srp-ffi static library and how to link it.
struct Core {
    include_dir: PathBuf,
    /// The archive itself (also the first of `libs`).
    archive: PathBuf,
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
    Ok(Core { include_dir: root.join("srp-ffi/include"), archive, libs })
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

/// ssl_gtest's filter: the SRP tests, then the existing tests of what the series touches: the
/// cipher-suite tables and info, the extension list (`ssl_srp_xtn`), session caching and
/// resumption (SRP sessions are not cached), Certificate and ServerKeyExchange handling (auth
/// and key-exchange tests) and alert mapping: about 10,000 of ssl_gtest's 16,000 tests.
const GTEST_FILTER: &str = "*Srp*:*CipherSuite*:*Extension*:*Resum*:*Session*:*Auth*:*Alert*:*KeyExch*:*StaticRsa*:*Dhe*:-*BiggestRsa*";

/// The certificates tests/ssl_gtests/ssl_gtests.sh makes (name, key type, usages), as
/// tests/common/certsetup.sh's `make_cert` makes them; without `rsa8192`, whose key takes
/// minutes to generate in a debug build (the filter leaves out `*BiggestRsa*`, which uses it).
const GTEST_CERTS: &[(&str, &str, &[&str])] = &[
    ("client", "rsa", &["sign"]),
    ("rsa", "rsa", &["sign", "kex"]),
    ("rsa2048", "rsa2048", &["sign", "kex"]),
    ("rsa_sign", "rsa", &["sign"]),
    ("rsa_pss", "rsapss", &["sign"]),
    ("rsa_pss384", "rsapss384", &["sign"]),
    ("rsa_pss512", "rsapss512", &["sign"]),
    ("rsa_pss_noparam", "rsapss_noparam", &["sign"]),
    ("rsa_decrypt", "rsa", &["kex"]),
    ("ecdsa256", "p256", &["sign"]),
    ("ecdsa384", "p384", &["sign"]),
    ("ecdsa521", "p521", &["sign"]),
    ("ecdh_ecdsa", "p256", &["kex"]),
    ("rsa_ca", "rsa_ca", &["ca"]),
    ("rsa_chain", "rsa_chain", &["sign"]),
    ("rsa_pss_ca", "rsapss_ca", &["ca"]),
    ("rsa_pss_chain", "rsapss_chain", &["sign"]),
    ("rsa_ca_rsa_pss_chain", "rsa_ca_rsapss_chain", &["sign"]),
    ("ecdh_rsa", "ecdh_rsa", &["kex"]),
    ("dsa", "dsa", &["sign"]),
    ("delegator_ecdsa256", "delegator_p256", &["sign"]),
    ("delegator_rsae2048", "delegator_rsae2048", &["sign"]),
    ("delegator_rsa_pss2048", "delegator_rsa_pss2048", &["sign"]),
];

/// `cargo xtask nss test`: builds NSS (incremental), makes ssl_gtest's certificate database
/// once, runs ssl_gtest on [`GTEST_FILTER`] and fails if any test fails.
pub fn test(sh: &Shell) -> anyhow::Result<()> {
    let started = Instant::now();
    let flavor = Flavor::normal(sh, false);
    let dist = build(sh, &flavor, Origin::Debian, TEST_TARGETS)?;
    peer(sh)?;
    let db = gtest_db(sh, &dist)?;
    crate::step(&format!("ssl_gtest --gtest_filter={GTEST_FILTER}"));
    let ssl_gtest = dist.join("bin/ssl_gtest");
    let filter = format!("--gtest_filter={GTEST_FILTER}");
    let _lib = sh.push_env("LD_LIBRARY_PATH", dist.join("lib"));
    let report = upstream::cache_dir(sh).join("nss/ssl_gtest-report.xml");
    let _ = std::fs::remove_file(&report);
    let output = format!("--gtest_output=xml:{}", report.display());
    // --gtest_brief prints failures as they happen and the totals at the end.
    // The exit status is not needed: a crash leaves no report, a failure is counted in it.
    cmd!(sh, "{ssl_gtest} -d {db} {filter} --gtest_brief=1 {output}").ignore_status().run()?;
    let xml = std::fs::read_to_string(&report).unwrap_or_default();
    let count = |attribute: &str| {
        let root = &xml[xml.find("<testsuites ")?..];
        let value = root.split(&format!(" {attribute}=\"")).nth(1)?;
        value.split('"').next()?.parse::<usize>().ok()
    };
    let total = count("tests").unwrap_or(0);
    let failed = count("failures").unwrap_or(0) + count("errors").unwrap_or(0);
    // GTEST_SKIP() tests (e.g. cipher suites the build leaves out) are neither passed nor
    // failed; the root element does not count them, their test cases say so.
    let skipped = xml.matches("result=\"skipped\"").count();
    let passed = total.saturating_sub(failed + skipped + count("disabled").unwrap_or(0));
    let rerun = format!(
        "run {} -d {} --gtest_filter=<test> with LD_LIBRARY_PATH={} to see one",
        ssl_gtest.display(),
        db.display(),
        dist.join("lib").display()
    );
    anyhow::ensure!(
        total > 0,
        "ssl_gtest wrote no report {} (it crashed?); {rerun}",
        report.display()
    );
    anyhow::ensure!(failed == 0, "ssl_gtest: {failed} of {total} tests failed; {rerun}");
    eprintln!(
        "ssl_gtest: {passed} tests passed, {skipped} skipped by ssl_gtest itself, in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

/// ssl_gtest's certificate database in `.cache/nss/gtest-db/`, made once with the built
/// certutil (a `complete` file marks a finished one).
fn gtest_db(sh: &Shell, dist: &Path) -> anyhow::Result<PathBuf> {
    let db = upstream::cache_dir(sh).join("nss/gtest-db");
    if db.join("complete").exists() {
        return Ok(db);
    }
    crate::step(&format!("making ssl_gtest's certificate database in {}", db.display()));
    if db.exists() {
        std::fs::remove_dir_all(&db)?;
    }
    std::fs::create_dir_all(&db)?;
    let certutil = dist.join("bin/certutil");
    let _lib = sh.push_env("LD_LIBRARY_PATH", dist.join("lib"));
    let _dir = sh.push_dir(&db);
    cmd!(sh, "{certutil} -N -d . --empty-password").quiet().run()?;
    let noise = db.join("noise");
    let mut bytes = vec![0u8; 2048];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    std::fs::write(&noise, bytes)?;
    std::fs::write(db.join("empty.txt"), "")?;
    for (serial, (name, kind, usages)) in GTEST_CERTS.iter().enumerate() {
        eprintln!("certificate {name} ({kind})");
        make_cert(sh, &certutil, serial + 1, name, kind, usages)?;
    }
    std::fs::write(db.join("complete"), "")?;
    Ok(db)
}

/// One certificate, as certsetup.sh's `make_cert NAME TYPE USAGES...` makes it: self-signed
/// (or signed by the CA its type names), key usages from `usages` through certutil's prompts.
fn make_cert(
    sh: &Shell,
    certutil: &Path,
    serial: usize,
    name: &str,
    kind: &str,
    usages: &[&str],
) -> anyhow::Result<()> {
    let delegation = "1.3.6.1.4.1.44363.44:not-critical:empty.txt";
    let mut trust = ",,";
    let mut sign: Vec<&str> = vec!["-x"];
    let mut hash: Vec<&str> = vec!["-Z", "SHA256"];
    let (key, args): (&str, Vec<&str>) = match kind {
        "dsa" => ("dsa", vec!["-g", "1024"]),
        "rsa" => ("rsa", vec!["-g", "1024"]),
        "rsa2048" => ("rsa", vec!["-g", "2048"]),
        "rsapss" => ("rsa", vec!["-g", "1024", "--pss"]),
        "rsapss384" => {
            hash = vec!["-Z", "SHA384"];
            ("rsa", vec!["-g", "1024", "--pss"])
        }
        "rsapss512" => {
            hash = vec!["-Z", "SHA512"];
            ("rsa", vec!["-g", "2048", "--pss"])
        }
        "rsapss_noparam" => {
            hash = vec![];
            ("rsa", vec!["-g", "2048", "--pss"])
        }
        "p256" => ("ec", vec!["-q", "nistp256"]),
        "p384" => ("ec", vec!["-q", "secp384r1"]),
        "p521" => ("ec", vec!["-q", "secp521r1"]),
        "rsa_ca" => {
            trust = "CT,CT,CT";
            ("rsa", vec!["-g", "1024"])
        }
        "rsapss_ca" => {
            trust = "CT,CT,CT";
            ("rsa", vec!["-g", "1024", "--pss"])
        }
        "rsa_chain" => {
            sign = vec!["-c", "rsa_ca"];
            ("rsa", vec!["-g", "1024"])
        }
        "rsapss_chain" => {
            sign = vec!["-c", "rsa_pss_ca"];
            ("rsa", vec!["-g", "1024"])
        }
        "rsa_ca_rsapss_chain" => {
            sign = vec!["-c", "rsa_ca"];
            ("rsa", vec!["-g", "1024", "--pss-sign"])
        }
        "ecdh_rsa" => {
            sign = vec!["-c", "rsa_ca"];
            ("ec", vec!["-q", "nistp256"])
        }
        "delegator_p256" => ("ec", vec!["-q", "nistp256", "--extGeneric", delegation]),
        "delegator_rsae2048" => ("rsa", vec!["-g", "2048", "--extGeneric", delegation]),
        "delegator_rsa_pss2048" => ("rsa", vec!["-g", "2048", "--pss", "--extGeneric", delegation]),
        other => anyhow::bail!("unknown certificate type {other}"),
    };
    // certsetup.sh's `certscript`: key usages (0 sign, 2 key exchange, 5 and 6 CA), then the
    // answers to the basic-constraints and authority-key-id prompts.
    let mut script = String::new();
    let mut ca = "n";
    for usage in usages {
        match *usage {
            "sign" => script.push_str("0\n"),
            "kex" => script.push_str("2\n"),
            "ca" => {
                script.push_str("5\n6\n");
                ca = "y";
            }
            other => anyhow::bail!("unknown usage {other}"),
        }
    }
    script.push_str(&format!("9\nn\n{ca}\n\nn\n"));
    let subject = format!("CN={name}");
    let serial = serial.to_string();
    cmd!(
        sh,
        "{certutil} -S -z noise -d . -n {name} -s {subject} -t {trust} {sign...} -m {serial}
            -w -2 -v 120 -k {key} {args...} {hash...} -1 -2"
    )
    .stdin(script)
    .quiet()
    .ignore_stdout()
    .run()
    .with_context(|| format!("certutil could not make the {name} certificate"))?;
    Ok(())
}
