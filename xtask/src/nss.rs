//! `cargo xtask nss <fetch|check|build|test>`: NSS 3.110 with the TLS-SRP patch series, as an
//! [`Upstream`] (the shared fetch, check, tree, cache and peer steps are in `upstream`).
//!
//! - `fetch`: the pinned NSS tarball into the cache's `downloads/`, verified (size and sha256).
//! - `check`: the series checker: every entry exists and is listed once, no patch file is
//!   unused, every patch is in the house format and the whole series applies with zero fuzz.
//! - `build`: the keyed build output (see `crate::cache`), made when missing: the patched tree
//!   in `<cache>/nss/work/tree/` is brought up to date (only files the series changes are
//!   rewritten, so ninja rebuilds only those), gyp runs when its inputs changed, then ninja
//!   builds what the tests use: the libraries, `ssl_gtest`, `tstclnt`, `selfserv`, `certutil`.
//!   The libraries, headers, programs and ssl_gtest's certificate database go to
//!   `<cache>/nss/out/<key>/`; the test peer to `<cache>/peers/<key>/`.
//!   `--sanitize`: the ASan+UBSan libraries (their own ninja directory and dist in
//!   `work/sanitized/`, from the same patched sources) and the peer built against them.
//!   `--opt`: the optimised libraries in `work/release/` (gyp bakes the dist directory into the
//!   ninja files of both configurations, so the two cannot share one output tree) and
//!   `srp-peer-nss-release` against them, for benchmarks.
//!   `--no-core`: the debug build and its tests without the core (`work/nocore/`): gyp gets no
//!   `srp_ffi_*` variables, so the series builds NSS with TLS-SRP left out
//!   (`NSS_DISABLE_TLS_SRP`); its key holds no core, and the core is not built.
//! - `test`: `build`, then `ssl_gtest` on the SRP tests and the existing tests the series
//!   touches, with a certificate database made as `tests/ssl_gtests/ssl_gtests.sh` makes it.
//!   `--no-core`: the same on the build without the core, where the SRP tests are the ones
//!   that check TLS-SRP is absent (`TlsSrpDisabledTest`).
//!
//! `--firefox` (each command): NSS 3.112.5 as Firefox ESR 140.12 vendors it, `security/nss`
//! taken from the pinned Firefox tarball (only that folder is unpacked), with the series and
//! its delta `nss-patches/3.112/` (the patches whose context differs there, refreshed for it);
//! its own cache folder (`<cache>/nss-3.112/`) and test peer (`srp-peer-nss-3.112`). Not part
//! of `cargo xtask test`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::core::Core;
use crate::upstream::{
    self, Buildable, Built, DebianSource, Pin, Source, SourceFile, Upstream, Url, Work,
};

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

/// What building NSS with gyp needs from Debian (NSPR comes from Debian: the tarball has none).
const BUILD_PACKAGES: &[&str] = &[
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

/// NSS as an upstream tree: which `release`, and for 3.110 where the tarball comes from
/// (`from`) when it is not cached.
#[derive(Clone, Copy, Default)]
pub struct Nss {
    pub from: Origin,
    pub release: Release,
}

/// The NSS releases the series is built on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Release {
    /// NSS 3.110 from its release tarball: what the series is refreshed for, and what the
    /// other commands (interop, demo, benchmarks) use.
    #[default]
    V3_110,
    /// NSS 3.112.5 from the pinned Firefox ESR 140.12 tarball (`security/nss`), with the
    /// series' delta `nss-patches/3.112/`.
    Firefox,
}

impl Nss {
    /// NSS 3.112.5 as Firefox ESR 140.12 vendors it.
    pub const FIREFOX: Nss = Nss { from: Origin::Debian, release: Release::Firefox };

    /// The NSS of `--firefox`.
    pub fn of(firefox: bool) -> Nss {
        if firefox { Nss::FIREFOX } else { Nss::default() }
    }
}

#[derive(Clone, Copy, Default, clap::ValueEnum)]
pub enum Origin {
    /// The Debian source package `nss` (trixie), through apt.
    #[default]
    Debian,
    /// Upstream's release tarball (needs open internet).
    Upstream,
}

/// The NSS builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The debug build with what the tests run (what build.sh makes by default).
    Debug,
    /// The optimised libraries, for benchmarks.
    Release,
    /// The debug libraries with AddressSanitizer and UBSan.
    Sanitized,
    /// The debug build with what the tests run, without the core: TLS-SRP left out.
    NoCore,
}

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: NssCommand,
}

#[derive(clap::Subcommand)]
enum NssCommand {
    /// Download the pinned NSS tarball into the cache's downloads/ and verify it.
    Fetch(FromArg),
    /// Check nss-patches/series (with --firefox: and its delta 3.112/): entries exist, none
    /// unused or twice, house format, all apply.
    Check(FirefoxArg),
    /// Fetch, patch and build NSS with the srp-ffi core linked into libssl3.
    Build(Build),
    /// Build, then run ssl_gtest on the SRP tests and the existing tests the series touches.
    Test(TestArgs),
}

#[derive(clap::Args)]
struct FirefoxArg {
    /// NSS 3.112.5 from the pinned Firefox ESR tarball's security/nss, with the series' delta
    /// nss-patches/3.112/, in the cache's nss-3.112/.
    #[arg(long)]
    firefox: bool,
}

#[derive(clap::Args)]
struct TestArgs {
    #[command(flatten)]
    release: FirefoxArg,
    /// The build without the srp-ffi core (TLS-SRP left out), in the cache's work/nocore/.
    #[arg(long)]
    no_core: bool,
    /// With --no-core: only its SRP tests (TlsSrpDisabledTest), a check in seconds.
    #[arg(long, requires = "no_core")]
    srp_only: bool,
}

#[derive(clap::Args)]
struct FromArg {
    /// Where the tarball comes from (NSS 3.110; --firefox takes Firefox's).
    #[arg(long, value_enum, default_value = "debian", conflicts_with = "firefox")]
    from: Origin,
    #[command(flatten)]
    release: FirefoxArg,
}

#[derive(clap::Args)]
struct Build {
    /// Where the tarball comes from when it is not cached yet (NSS 3.110; --firefox takes
    /// Firefox's).
    #[arg(long, value_enum, default_value = "debian", conflicts_with = "firefox")]
    from: Origin,
    #[command(flatten)]
    release: FirefoxArg,
    /// The optimised libraries (in the cache's work/release/) and a release test peer, instead
    /// of the debug build.
    #[arg(long)]
    opt: bool,
    /// The ASan+UBSan libraries (in the cache's work/sanitized/) and the test peer.
    #[arg(long)]
    sanitize: bool,
    /// The debug build without the srp-ffi core (TLS-SRP left out: NSS_DISABLE_TLS_SRP), in
    /// the cache's work/nocore/; no test peer.
    #[arg(long)]
    no_core: bool,
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            NssCommand::Fetch(f) => {
                let nss = Nss { from: f.from, ..Nss::of(f.release.firefox) };
                upstream::fetch(sh, &nss.source(sh)?).map(drop)
            }
            NssCommand::Check(release) => upstream::check(sh, &Nss::of(release.firefox)),
            NssCommand::Build(build) => build.run(sh),
            NssCommand::Test(args) => {
                let nss = Nss::of(args.release.firefox);
                if args.srp_only {
                    test_no_core_srp_only(sh, &nss)
                } else if args.no_core {
                    upstream::test(sh, &nss, Flavor::NoCore)
                } else {
                    test_with_core(sh, &nss)
                }
            }
        }
    }
}

impl Build {
    fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        anyhow::ensure!(
            [self.opt, self.sanitize, self.no_core].iter().filter(|&&f| f).count() <= 1,
            "--opt, --sanitize and --no-core are separate builds: give one at most"
        );
        let flavor = if self.sanitize {
            Flavor::Sanitized
        } else if self.opt {
            Flavor::Release
        } else if self.no_core {
            Flavor::NoCore
        } else {
            Flavor::Debug
        };
        let nss = Nss { from: self.from, ..Nss::of(self.release.firefox) };
        let built = upstream::build(sh, &nss, flavor)?;
        if flavor == Flavor::NoCore {
            eprintln!(
                "NSS without the core built in {:.0?}: {}/lib (libssl3.so without TLS-SRP), {}/bin",
                started.elapsed(),
                built.dir.display(),
                built.dir.display()
            );
            return Ok(());
        }
        let peer = upstream::peer(sh, &nss, flavor)?;
        eprintln!("test peer: {}", peer.display());
        eprintln!(
            "NSS built in {:.0?}: {}/lib (libssl3.so with the srp-ffi core), {}/bin",
            started.elapsed(),
            built.dir.display(),
            built.dir.display()
        );
        Ok(())
    }
}

/// `cargo xtask test`'s NSS step: the debug build with its tests, and `ssl_gtest`.
pub fn test(sh: &Shell) -> anyhow::Result<()> {
    test_with_core(sh, &Nss::default())
}

/// The debug build of `nss` with its tests, `ssl_gtest`, and its test peer.
fn test_with_core(sh: &Shell, nss: &Nss) -> anyhow::Result<()> {
    upstream::test(sh, nss, Flavor::Debug)?;
    upstream::peer(sh, nss, Flavor::Debug).map(drop)
}

/// `cargo xtask nss test --no-core`, also `cargo xtask test`'s: the debug build with TLS-SRP
/// left out, and `ssl_gtest` on the same filter as with the core (TLS-SRP absent, the rest
/// unchanged).
pub fn test_no_core(sh: &Shell) -> anyhow::Result<()> {
    upstream::test(sh, &Nss::default(), Flavor::NoCore)
}

/// `cargo xtask nss test --no-core --srp-only`: that build, and only its SRP tests
/// ([`GTEST_FILTER_NO_CORE_SRP`]): under a second once it is cached.
fn test_no_core_srp_only(sh: &Shell, nss: &Nss) -> anyhow::Result<()> {
    let built = upstream::build(sh, nss, Flavor::NoCore)?;
    crate::step(&format!("testing nss build {} (without the core)", built.key));
    run_ssl_gtest(sh, &built, true, GTEST_FILTER_NO_CORE_SRP)
}

/// The ninja targets for the libraries and their public headers (what the peer links).
const LIB_TARGETS: &[&str] = &["nss_libs", "nss_exports"];

/// The libraries plus what the tests run: `ssl_gtest`, the `tstclnt`/`selfserv` pair and
/// `certutil` (it makes ssl_gtest's certificate database). Not the other gtests: they take
/// most of a full build's 15 minutes and test nothing the series touches.
const TEST_TARGETS: &[&str] =
    &["nss_libs", "nss_exports", "ssl_gtest", "tstclnt", "selfserv", "certutil"];

impl Flavor {
    /// gyp's `--generator-output` (ninja files go to `<out_root>/out/<config>`) and the dist
    /// folder (headers in `public/`, libraries in `<config>/lib`). The debug build sits where
    /// build.sh puts it (`tree/nss/out`, `tree/dist`); the others next to the tree, so they
    /// never replace the debug build's files.
    fn dirs(self, work: &Work) -> (PathBuf, PathBuf) {
        match self {
            Flavor::Debug => (work.tree.join("nss"), work.tree.join("dist")),
            Flavor::Release => (work.dir.join("release"), work.dir.join("release/dist")),
            Flavor::Sanitized => (work.dir.join("sanitized"), work.dir.join("sanitized/dist")),
            Flavor::NoCore => (work.dir.join("nocore"), work.dir.join("nocore/dist")),
        }
    }

    fn config(self) -> &'static str {
        if self == Flavor::Release { "Release" } else { "Debug" }
    }

    fn targets(self) -> &'static [&'static str] {
        match self {
            Flavor::Debug | Flavor::NoCore => TEST_TARGETS,
            Flavor::Release | Flavor::Sanitized => LIB_TARGETS,
        }
    }
}

impl Upstream for Nss {
    fn name(&self) -> &'static str {
        match self.release {
            Release::V3_110 => "nss",
            Release::Firefox => "nss-3.112",
        }
    }

    fn series_dir(&self) -> &'static str {
        "nss-patches"
    }

    fn series_delta(&self) -> Option<&'static str> {
        match self.release {
            Release::V3_110 => None,
            Release::Firefox => Some("3.112"),
        }
    }

    /// The tree holds `nss/`; the patches read `a/lib/ssl/...` as upstream's repository does.
    fn series_subdir(&self) -> &'static str {
        "nss"
    }

    fn source(&self, sh: &Shell) -> anyhow::Result<Source> {
        if self.release == Release::Firefox {
            return crate::firefox::nss_source(sh);
        }
        Ok(match self.from {
            Origin::Debian => Source {
                files: vec![SourceFile {
                    pin: PIN,
                    strip_components: STRIP_COMPONENTS,
                    members: &[],
                }],
                provider: Box::new(DebianSource {
                    package: "nss",
                    version: "2:3.110-",
                    any_revision: true,
                    suite: "trixie",
                }),
            },
            Origin::Upstream => Source {
                files: vec![SourceFile {
                    pin: UPSTREAM_PIN,
                    strip_components: STRIP_COMPONENTS,
                    members: &[],
                }],
                provider: Box::new(Url { url: UPSTREAM_URL }),
            },
        })
    }

    fn tree_outputs(&self) -> &'static [&'static str] {
        &["dist", "nss/out"]
    }
}

impl Buildable for Nss {
    type Flavor = Flavor;

    fn build_packages(&self) -> &'static [&'static str] {
        BUILD_PACKAGES
    }

    fn flavor_key(&self, flavor: Flavor) -> String {
        format!(
            "{flavor:?} gyp ninja {} targets {}",
            self.gyp_settings_key(flavor),
            flavor.targets().join(" ")
        )
    }

    fn links_core(&self, flavor: Flavor) -> bool {
        flavor != Flavor::NoCore
    }

    fn build(
        &self,
        sh: &Shell,
        flavor: Flavor,
        work: &Work,
        core: Option<&Core>,
        out: &Path,
    ) -> anyhow::Result<()> {
        let (out_root, dist_root) = flavor.dirs(work);
        let nss_dir = work.tree.join("nss");
        let _path = sh.push_env("PATH", python_path(work)?);
        let dist = dist_root.join(flavor.config());
        let mut gyp_args = vec![
            "-f".to_owned(),
            "ninja".to_owned(),
            format!("--depth={}", nss_dir.display()),
            // `.` for the debug build, as build.sh passes it.
            if out_root == nss_dir {
                "--generator-output=.".to_owned()
            } else {
                format!("--generator-output={}", out_root.display())
            },
            // What build.sh passes for `--system-nspr --system-sqlite` on x86-64, so a tree
            // built by build.sh is reused as it is.
            "-Dnspr_include_dir=/usr/include/nspr/".to_owned(),
            "-Dnspr_lib_dir=".to_owned(),
            "-Duse_system_sqlite=1".to_owned(),
            format!("-Dtarget_arch={}", host_arch(sh, &nss_dir)?),
            "-Denable_sslkeylogfile=1".to_owned(),
            format!("-Dnss_dist_dir={}", dist_root.display()),
            format!("-Dnss_dist_obj_dir={}", dist.display()),
        ];
        // Without the core's variables the series leaves TLS-SRP out.
        if let Some(core) = core {
            gyp_args.extend(srp_ffi_gyp_args(work, core)?);
        }
        if flavor == Flavor::Sanitized {
            let _dir = sh.push_dir(&nss_dir);
            let asan = cmd!(sh, "python3 coreconf/sanitizers.py asan").quiet().read()?;
            let ubsan =
                cmd!(sh, "python3 coreconf/sanitizers.py ubsan undefined").quiet().read()?;
            gyp_args.push("-Dno_zdefs=1".to_owned());
            gyp_args.push(format!("-Dsanitizer_flags={} {}", asan.trim(), ubsan.trim()));
        }
        gyp_args.push(nss_dir.join("nss.gyp").display().to_string());
        let ninja_dir = out_root.join("out").join(flavor.config());
        run_gyp_if_needed(sh, &out_root, &ninja_dir, &nss_dir, &gyp_args)?;

        let targets = flavor.targets();
        crate::step(&format!(
            "ninja -C {} {} (the first build takes about 10 min on 2 cores)",
            ninja_dir.display(),
            targets.join(" ")
        ));
        let jobs = jobs().to_string();
        cmd!(sh, "ninja -C {ninja_dir} -j {jobs} {targets...}").run().context("ninja failed")?;
        check_core_linked(sh, &dist.join("lib/libssl3.so"), core.is_some())?;

        crate::step(&format!("exporting the libraries, headers and programs to {}", out.display()));
        crate::cache::copy_dir(&dist.join("lib"), &out.join("lib"))?;
        crate::cache::copy_dir(&dist_root.join("public"), &out.join("public"))?;
        if flavor.targets() == TEST_TARGETS {
            // ssl_gtest, tstclnt, selfserv, certutil and the tools gyp builds with them.
            crate::cache::copy_dir(&dist.join("bin"), &out.join("bin"))?;

            make_gtest_db(sh, out)?;
        }
        Ok(())
    }

    fn test(&self, sh: &Shell, flavor: Flavor, built: &Built) -> anyhow::Result<()> {
        run_ssl_gtest(sh, built, flavor == Flavor::NoCore, GTEST_FILTER)
    }

    fn peer(&self, flavor: Flavor, built: &Built, core: &Core) -> crate::peers::Recipe {
        let _ = core;
        let include = built.dir.join("public/nss").display().to_string();
        let lib = built.dir.join("lib").display().to_string();
        let firefox = self.release == Release::Firefox;
        let (name, flags): (&'static str, &[&str]) = match flavor {
            Flavor::Debug if firefox => ("srp-peer-nss-3.112", &[]),
            Flavor::Debug => ("srp-peer-nss", &[]),
            // Links, but every SRP call fails: nothing uses it.
            Flavor::NoCore if firefox => ("srp-peer-nss-3.112-nocore", &[]),
            Flavor::NoCore => ("srp-peer-nss-nocore", &[]),
            Flavor::Release if firefox => ("srp-peer-nss-3.112-release", &["-O2"]),
            Flavor::Release => ("srp-peer-nss-release", &["-O2"]),
            Flavor::Sanitized => (
                if firefox { "srp-peer-nss-3.112-sanitized" } else { "srp-peer-nss-sanitized" },
                &[
                    "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=undefined",
                    "-fno-omit-frame-pointer",
                ],
            ),
        };
        let mut command =
            crate::peers::args(&["gcc", "-std=gnu99", "-O1", "-g", "-Wall", "-Wextra", "-Werror"]);
        command.extend(crate::peers::args(flags));
        command.extend([
            format!("-I{include}"),
            "-I/usr/include/nspr".to_owned(),
            "-o".to_owned(),
            format!("{{out}}/{name}"),
            "{root}/tests/peers/srp-peer-nss.c".to_owned(),
            format!("-L{lib}"),
            // DT_RPATH, not DT_RUNPATH: it also applies to the libraries libssl3 loads
            // (libnssutil3), which would otherwise come from the system NSS.
            format!("-Wl,--disable-new-dtags,-rpath,{lib}"),
        ]);
        command.extend(crate::peers::args(&[
            "-lssl3",
            "-lsmime3",
            "-lnss3",
            "-lnssutil3",
            "-lplc4",
            "-lplds4",
            "-lnspr4",
        ]));
        crate::peers::Recipe {
            name,
            sources: vec!["tests/peers/srp-peer-nss.c", "tests/peers/peer-cli.h"],
            extra_key: String::new(),
            commands: vec![command],
        }
    }
}

impl Nss {
    /// What decides gyp's settings besides paths: the configuration and the sanitizers.
    fn gyp_settings_key(&self, flavor: Flavor) -> &'static str {
        match flavor {
            Flavor::Debug => "Debug system-nspr system-sqlite sslkeylogfile",
            Flavor::Release => "Release system-nspr system-sqlite sslkeylogfile",
            Flavor::Sanitized => {
                "Debug asan ubsan no_zdefs system-nspr system-sqlite sslkeylogfile"
            }
            Flavor::NoCore => "Debug system-nspr system-sqlite sslkeylogfile no-srp-ffi",
        }
    }
}

/// gyp's arguments for the core (`build-link-srp-ffi-core.patch`): its include folder and
/// archive as `-D` strings, and the system libraries it needs as the list variable
/// `srp_ffi_system_libs`, which `-D` cannot set, in a `.gypi` file given with `-I`. Together
/// the core's one link recipe ([`Core::link_args`]), each argument a list element: nothing
/// is split by a shell. The core's folder is keyed by its contents: a new core is a new path
/// (and a new `.gypi` name), so gyp writes new link lines and ninja relinks what links it.
fn srp_ffi_gyp_args(work: &Work, core: &Core) -> anyhow::Result<Vec<String>> {
    let gypi = work.dir.join(format!("srp-ffi-{}.gypi", core.key));
    // A JSON list of strings is also a Python literal, which is what gyp reads.
    let text = format!(
        "# Written by `cargo xtask nss build`: the srp-ffi core's system libraries.\n\
         {{'variables': {{'srp_ffi_system_libs': {}}}}}\n",
        serde_json::to_string(&core.native_libs)?
    );
    if std::fs::read_to_string(&gypi).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&gypi, text).with_context(|| format!("writing {}", gypi.display()))?;
    }
    Ok(vec![
        format!("-Dsrp_ffi_include_dir={}", core.include_dir.display()),
        format!("-Dsrp_ffi_lib={}", core.archive.display()),
        format!("-I{}", gypi.display()),
    ])
}

/// Runs gyp when its ninja files are missing, its arguments changed or a `.gyp`/`.gypi` file
/// is newer than them (gyp's ninja files do not regenerate themselves).
fn run_gyp_if_needed(
    sh: &Shell,
    out_root: &Path,
    ninja_dir: &Path,
    nss_dir: &Path,
    gyp_args: &[String],
) -> anyhow::Result<()> {
    let build_ninja = ninja_dir.join("build.ninja");
    let stamp = out_root.join("out/xtask-gyp-args");
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
    let mut walk = walkdir::WalkDir::new(dir).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type().is_dir() {
            // `out/`: gyp's own output.
            if path.file_name().is_some_and(|n| n == "out") {
                walk.skip_current_dir();
            }
        } else if path.extension().is_some_and(|e| e == "gyp" || e == "gypi")
            && modified(path).is_none_or(|m| than.is_none_or(|t| m > t))
        {
            return Ok(Some(path.to_owned()));
        }
    }
    Ok(None)
}

/// gyp runs `python` for every .gyp file (coreconf/check_cc.py, werror.py): through a
/// version-manager shim that costs seconds each and turns gyp into a 10-minute step.
/// Debian's python3, under the name `python`, first on PATH.
fn python_path(work: &Work) -> anyhow::Result<std::ffi::OsString> {
    let python_dir = work.dir.join("python-bin");
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

/// Reports how much of the core libssl3.so holds (the linker takes only what NSS calls) and
/// fails if any of it is exported (ssl.def must export only NSS's own API); a build without
/// the core (`with_core` false) fails if any of it is there.
fn check_core_linked(sh: &Shell, libssl: &Path, with_core: bool) -> anyhow::Result<()> {
    let symbols = cmd!(sh, "nm {libssl}").quiet().read()?;
    let linked = symbols.lines().filter(|l| l.contains(" t srp_") || l.contains(" T srp_")).count();
    if !with_core {
        anyhow::ensure!(
            linked == 0,
            "{} was built without the core but holds {linked} srp-ffi functions",
            libssl.display()
        );
        eprintln!("{}: no srp-ffi function linked in (TLS-SRP left out)", libssl.display());
        return Ok(());
    }
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

/// The suite of `tls_srp_disabled_unittest.cc`, compiled only without the core: the SRP API
/// fails with `SSL_ERROR_FEATURE_DISABLED`, no SRP suite or `srp` extension is used.
const SRP_DISABLED_SUITE: &str = "TlsSrpDisabledTest.";

/// `nss test --no-core --srp-only`'s filter: the SRP tests of the build without the core
/// (`TlsSrpDisabledTest`, under a second), for a quick check; `nss test --no-core` (and
/// `cargo xtask test`) run the whole [`GTEST_FILTER`].
const GTEST_FILTER_NO_CORE_SRP: &str = "*Srp*";

/// Runs the built ssl_gtest on `filter` with the certificate database of the build,
/// reads its JSON report and fails if any test failed or none ran. With the core, the SRP
/// tests must include no [`SRP_DISABLED_SUITE`] test; without it (`no_core`), they must be
/// [`SRP_DISABLED_SUITE`]'s only, and some.
fn run_ssl_gtest(sh: &Shell, built: &Built, no_core: bool, filter: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = built.dir.join("gtest-db");
    let lib = built.dir.join("lib");
    crate::step(&format!("ssl_gtest --gtest_filter={filter}"));
    let ssl_gtest = built.dir.join("bin/ssl_gtest");
    let filter = format!("--gtest_filter={filter}");
    let _lib = sh.push_env("LD_LIBRARY_PATH", &lib);
    let scratch = tempfile::tempdir()?;
    let report = scratch.path().join("ssl_gtest.json");
    let output = format!("--gtest_output=json:{}", report.display());
    // --gtest_brief prints failures as they happen and the totals at the end.
    // The exit status is not needed: a crash leaves no report, a failure is listed in it.
    cmd!(sh, "{ssl_gtest} -d {db} {filter} --gtest_brief=1 {output}").ignore_status().run()?;
    let rerun = format!(
        "run {} -d {} --gtest_filter=<test> with LD_LIBRARY_PATH={} to see one",
        ssl_gtest.display(),
        db.display(),
        lib.display()
    );
    let summary = crate::gtest::Summary::read(&report).with_context(|| rerun.clone())?;
    anyhow::ensure!(summary.total() > 0, "ssl_gtest ran no test; {rerun}");
    anyhow::ensure!(
        summary.failed.is_empty(),
        "ssl_gtest: {} of {} tests failed: {}; {rerun}",
        summary.failed.len(),
        summary.total(),
        summary.failed.join(", ")
    );
    let srp = summary.ran.iter().filter(|t| t.contains("Srp")).count();
    let disabled = summary.ran.iter().filter(|t| t.starts_with(SRP_DISABLED_SUITE)).count();
    if no_core {
        anyhow::ensure!(
            disabled > 0 && disabled == srp,
            "ssl_gtest without the core: {srp} SRP tests ran, {disabled} of them \
             {SRP_DISABLED_SUITE}*: expected only those, and some"
        );
    } else {
        anyhow::ensure!(
            disabled == 0,
            "ssl_gtest with the core ran {disabled} {SRP_DISABLED_SUITE}* tests: the build \
             left TLS-SRP out"
        );
    }
    eprintln!(
        "ssl_gtest: {} tests passed ({srp} of them TLS-SRP), {} skipped by ssl_gtest itself, in {:.0?}",
        summary.passed,
        summary.skipped,
        started.elapsed()
    );
    Ok(())
}

/// ssl_gtest's certificate database in `<out>/gtest-db/`, made with the built certutil while
/// the build output is written.
fn make_gtest_db(sh: &Shell, out: &Path) -> anyhow::Result<()> {
    let db = out.join("gtest-db");
    crate::step(&format!("making ssl_gtest's certificate database in {}", db.display()));
    std::fs::create_dir_all(&db)?;
    let certutil = out.join("bin/certutil");
    let _lib = sh.push_env("LD_LIBRARY_PATH", out.join("lib"));
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
    Ok(())
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
