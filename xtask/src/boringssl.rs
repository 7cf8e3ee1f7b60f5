//! `cargo xtask boringssl <fetch|check|build|test>`: BoringSSL with the TLS-SRP patch series,
//! as an [`Upstream`] (the shared fetch, check, tree, cache and peer steps are in `upstream`).
//!
//! - `fetch`: the pinned source into the cache's `downloads/`, verified. By default the crate
//!   `boring-sys` 5.4.0 from the registry, which vendors BoringSSL under `deps/boringssl`: cargo
//!   downloads it into a private CARGO_HOME (and checks the registry checksum), then the shared
//!   `upstream` module checks size and sha256 against the pin. `--from git` takes upstream's
//!   repository at a pinned commit instead (machines with open internet).
//! - `check`: the series checker (entries exist, none unused or twice, house format, all apply
//!   with zero fuzz) and the API version of the patched tree.
//! - `build`: the keyed build output (see `crate::cache`), made when missing: the patched tree
//!   in `<cache>/boringssl/work/tree/` is brought up to date (only changed files rewritten),
//!   then CMake/Ninja in `work/build/` with the core linked into `ssl` as an IMPORTED static
//!   target; Ninja reuses everything that did not change. `libssl.a`, `libcrypto.a`,
//!   `ssl_test` and the headers go to `<cache>/boringssl/out/<key>/`. `--sanitize` builds with
//!   AddressSanitizer and UBSan (gcc) in `work/build-sanitize/`. `--no-core` builds without
//!   the core (`ssl crypto bssl ssl_test`, in `work/build-nocore/`): the series then leaves
//!   TLS-SRP out (`BORINGSSL_NO_TLS_SRP`), which the build checks before it keeps the output.
//! - `test`: build, then run `ssl_test` (optionally filtered; the sanitized build, or the one
//!   without the core).
//!
//! `--chromium` (each command): BoringSSL as Chromium 150 vendors it (upstream revision
//! 3a9254f16eda7a4c5d2260039ff23456a0a34de4, `BORINGSSL_API_VERSION` 41),
//! `third_party/boringssl/src` taken from the pinned Chromium tarball (only that folder is
//! unpacked), with the series and its delta `boringssl-patches/chromium-150/` (every patch
//! refreshed for that revision, with the renames of its older internal API), in the cache's
//! `chromium/boringssl/`. Chromium's tarball leaves out test data, among it the one source
//! file of a test tool CMake declares (`pki/testdata/verify_unittest/generate_mldsa_certs.cc`):
//! the tree gets an empty stand-in so CMake can generate; that tool is never built.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

use crate::core::Core;
use crate::upstream::{
    self, Buildable, Built, Crate, Pin, Prefetched, Series, Source, SourceFile, Upstream, Work,
};

/// The crate that vendors BoringSSL (upstream main, `BORINGSSL_API_VERSION` 44), pinned by the
/// size and sha256 of its `.crate` file as the registry serves it.
const PIN: Pin = Pin {
    name: "boringssl",
    version: "boring-sys 5.4.0",
    file: "boring-sys-5.4.0.crate",
    size: 5_765_568,
    sha256: "4986392770df40d11d0d6294b0dd8399570f4a6e76d6953c7a34f7dd1defbd76",
};
const CRATE_NAME: &str = "boring-sys";
const CRATE_VERSION: &str = "5.4.0";

/// `boring-sys-5.4.0/deps/boringssl/` is dropped: the tree is BoringSSL's top directory. The
/// crate's own files (build script, bindings) sit less deep and are not unpacked.
const STRIP_COMPONENTS: u32 = 3;

/// `BORINGSSL_API_VERSION` in `include/openssl/base.h` of the pinned source.
const API_VERSION: u32 = 44;

/// `BORINGSSL_API_VERSION` of the BoringSSL Chromium 150 vendors.
const CHROMIUM_API_VERSION: u32 = 41;

/// The source of a test tool that Chromium's tarball leaves out with BoringSSL's test data
/// but BoringSSL's CMakeLists.txt declares (with `BUILD_TESTING`); the build never builds it.
const CHROMIUM_MISSING_TOOL: &str = "pki/testdata/verify_unittest/generate_mldsa_certs.cc";

/// For machines with open internet: upstream's repository. The commit is the one the crate
/// vendors: `deps/boringssl` is a git submodule of cloudflare/boring, and the crate's
/// `.cargo_vcs_info.json` names the boring commit it was packaged from, so the submodule
/// pointer there is the pin (`--commit` overrides it). A git commit id pins the content itself;
/// when the crate is cached too, every file it ships is compared with the checkout.
const UPSTREAM_GIT: &str = "https://boringssl.googlesource.com/boringssl";
const BORING_GIT: &str = "https://github.com/cloudflare/boring";
const BORING_COMMIT: &str = "309bf35b9eb97fc21040915a5f4a886941965c47";

/// The Ninja targets of the release build: the libraries and `ssl_test`.
const TARGETS: &[&str] = &["ssl", "crypto", "ssl_test"];

/// The Ninja targets of the build without the core: also `bssl`, whose options are checked.
const NO_CORE_TARGETS: &[&str] = &["ssl", "crypto", "bssl", "ssl_test"];

/// The `ssl_test` tests that exist only without the core (patch 0019): no SRP cipher suite,
/// rule, ClientHello offer or session field.
const NO_CORE_TESTS: &[&str] = &[
    "NoTLSSRPTest.CipherSuites",
    "NoTLSSRPTest.ClientHello",
    "NoTLSSRPTest.SessionWithSRPUsername",
];

/// Compiler flags of the sanitized build (gcc: BoringSSL's own `ASAN`/`UBSAN` options want
/// clang), also used for the sanitized peer. UBSan findings abort, so a test cannot pass over them.
const SANITIZE_FLAGS: &str =
    "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1";

/// Debian packages the build needs (no Go, no Perl: `gen/` holds the generated files).
const BUILD_PACKAGES: &[&str] = &["cmake", "ninja-build", "g++", "patch"];

/// BoringSSL as an upstream tree; `from` (and `commit` for git) says where the source comes
/// from when it is not cached.
#[derive(Clone, Default)]
pub struct Boringssl {
    pub from: Origin,
    pub commit: Option<String>,
    /// BoringSSL as Chromium 150 vendors it, from the pinned Chromium tarball (`from` and
    /// `commit` do not apply).
    pub chromium: bool,
}

impl Boringssl {
    /// BoringSSL at Chromium 150's revision, with the series' delta `chromium-150/`.
    pub const CHROMIUM: Boringssl = Boringssl { from: Origin::Crate, commit: None, chromium: true };

    /// The BoringSSL of `--chromium`, or the default one.
    fn of(chromium: bool) -> Boringssl {
        if chromium { Boringssl::CHROMIUM } else { Boringssl::default() }
    }
}

#[derive(Clone, Copy, Default, clap::ValueEnum)]
pub enum Origin {
    /// The crate boring-sys 5.4.0 from the registry, through cargo.
    #[default]
    Crate,
    /// Upstream's git repository at the pinned commit (needs open internet).
    Git,
}

/// Which build: Release as shipped, with sanitizers for finding memory errors, or without
/// the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Release,
    /// AddressSanitizer and UBSan, asserts on, `-O1`.
    Sanitized,
    /// Release without `SRP_FFI_LIBRARY` and `SRP_FFI_INCLUDE_DIR`: BoringSSL without TLS-SRP.
    NoCore,
}

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: BoringsslCommand,
}

#[derive(clap::Subcommand)]
enum BoringsslCommand {
    /// Fetch the pinned source into the cache's downloads/ and verify it.
    Fetch(Fetch),
    /// Check boringssl-patches/series (with --chromium: and its delta chromium-150/): entries
    /// exist, none unused or twice, house format, all apply.
    Check(ChromiumArg),
    /// Fetch, patch and build (ssl crypto ssl_test) with the srp-ffi core linked into ssl.
    Build(BuildArgs),
    /// Build, then run ssl_test.
    Test(TestArgs),
}

#[derive(clap::Args)]
struct ChromiumArg {
    /// BoringSSL as Chromium 150 vendors it (third_party/boringssl/src of the pinned Chromium
    /// tarball), with the series' delta chromium-150/.
    #[arg(long)]
    chromium: bool,
}

#[derive(clap::Args)]
struct Fetch {
    /// Where the source comes from (--chromium takes Chromium's tarball).
    #[arg(long, value_enum, default_value = "crate", conflicts_with = "chromium")]
    from: Origin,
    /// With `--from git`: the BoringSSL commit (default: the one boring-sys 5.4.0 vendors).
    #[arg(long)]
    commit: Option<String>,
    #[command(flatten)]
    release: ChromiumArg,
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Build with AddressSanitizer and UBSan (in the cache's work/build-sanitize).
    #[arg(long)]
    sanitize: bool,
    /// Build without the srp-ffi core, so without TLS-SRP (ssl crypto bssl ssl_test, in the
    /// cache's work/build-nocore); no test peer.
    #[arg(long, conflicts_with = "sanitize")]
    no_core: bool,
    #[command(flatten)]
    release: ChromiumArg,
}

#[derive(clap::Args)]
struct TestArgs {
    /// A gtest filter for ssl_test, e.g. `*SRP*`.
    #[arg(long)]
    filter: Option<String>,
    /// Run the ssl_test of the sanitized build (AddressSanitizer, UBSan).
    #[arg(long)]
    sanitize: bool,
    /// Run the ssl_test of the build without the core (no TLS-SRP tests; its own three).
    #[arg(long, conflicts_with = "sanitize")]
    no_core: bool,
    #[command(flatten)]
    release: ChromiumArg,
}

impl Flavor {
    fn from_flags(sanitize: bool, no_core: bool) -> Self {
        match (sanitize, no_core) {
            (true, _) => Flavor::Sanitized,
            (false, true) => Flavor::NoCore,
            (false, false) => Flavor::Release,
        }
    }

    fn targets(self) -> &'static [&'static str] {
        match self {
            Flavor::Release | Flavor::Sanitized => TARGETS,
            Flavor::NoCore => NO_CORE_TARGETS,
        }
    }

    /// The CMake/Ninja build directory, outside the tree so a new series never touches it.
    fn build_dir(self, work: &Work) -> PathBuf {
        work.dir.join(match self {
            Flavor::Release => "build",
            Flavor::Sanitized => "build-sanitize",
            Flavor::NoCore => "build-nocore",
        })
    }

    /// CMake cache entries, as `NAME=VALUE` (passed as `-D`, and compared with CMakeCache.txt).
    fn cmake_settings(self) -> Vec<String> {
        let mut settings = Vec::new();
        match self {
            // gcc 12 warns (an error under -Werror) about array bounds in ssl_test.cc.
            Flavor::Release | Flavor::NoCore => {
                settings.push("CMAKE_BUILD_TYPE=Release".to_owned());
                settings.push("CMAKE_CXX_FLAGS=-Wno-error=array-bounds".to_owned());
            }
            // BoringSSL's RelWithAsserts is its Release flags without -DNDEBUG.
            Flavor::Sanitized => {
                settings.push("CMAKE_BUILD_TYPE=RelWithAsserts".to_owned());
                for lang in ["C", "CXX"] {
                    settings.push(format!("CMAKE_{lang}_FLAGS_RELEASE=-O1"));
                }
                settings.push(format!("CMAKE_C_FLAGS={SANITIZE_FLAGS}"));
                settings.push(format!("CMAKE_CXX_FLAGS={SANITIZE_FLAGS} -Wno-error=array-bounds"));
                settings.push(format!("CMAKE_EXE_LINKER_FLAGS={SANITIZE_FLAGS}"));
            }
        }
        settings
    }
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            BoringsslCommand::Fetch(fetch) => {
                let boringssl = Boringssl {
                    from: fetch.from,
                    commit: fetch.commit,
                    chromium: fetch.release.chromium,
                };
                upstream::fetch(sh, &boringssl.source(sh)?).map(drop)
            }
            BoringsslCommand::Check(release) => {
                upstream::check(sh, &Boringssl::of(release.chromium))
            }
            BoringsslCommand::Build(build) => {
                let flavor = Flavor::from_flags(build.sanitize, build.no_core);
                let boringssl = Boringssl::of(build.release.chromium);
                upstream::build(sh, &boringssl, flavor)?;
                // The peer is a TLS-SRP program: there is none without the core.
                if flavor != Flavor::NoCore {
                    let peer = upstream::peer(sh, &boringssl, flavor)?;
                    eprintln!("test peer: {}", peer.display());
                }
                Ok(())
            }
            BoringsslCommand::Test(test) => {
                let flavor = Flavor::from_flags(test.sanitize, test.no_core);
                let built = upstream::build(sh, &Boringssl::of(test.release.chromium), flavor)?;
                run_ssl_test(sh, &built, test.filter.as_deref())
            }
        }
    }
}

/// `cargo xtask test`'s BoringSSL step: builds the release output (seconds when cached, about
/// 9 minutes from scratch on 2 cores) and runs all of `ssl_test`, BoringSSL's own tests and
/// the TLS-SRP ones. Prints a summary; fails on any failure.
pub fn test(sh: &Shell) -> anyhow::Result<()> {
    upstream::test(sh, &Boringssl::default(), Flavor::Release)
}

/// `cargo xtask test`'s step for BoringSSL at Chromium 150's revision with the series' delta
/// (`boringssl test --chromium`): builds it (seconds when cached, about 12 minutes from an
/// empty cache on 2 cores: the Chromium tarball, its BoringSSL unpacked, the build) and runs
/// all of its `ssl_test`.
pub fn test_chromium(sh: &Shell) -> anyhow::Result<()> {
    upstream::test(sh, &Boringssl::CHROMIUM, Flavor::Release)
}

/// `cargo xtask test`'s step for BoringSSL without the core: builds it (seconds when cached,
/// about 6 minutes from scratch on 2 cores, more when shared), checks it has no TLS-SRP and
/// runs its `ssl_test`.
pub fn test_no_core(sh: &Shell) -> anyhow::Result<()> {
    upstream::test(sh, &Boringssl::default(), Flavor::NoCore)
}

impl Upstream for Boringssl {
    /// `chromium/boringssl` for Chromium's: its cache folder sits in Chromium's.
    fn name(&self) -> &'static str {
        if self.chromium { "chromium/boringssl" } else { "boringssl" }
    }

    fn series_dir(&self) -> &'static str {
        "boringssl-patches"
    }

    fn series_delta(&self) -> Option<&'static str> {
        self.chromium.then_some("chromium-150")
    }

    /// Chromium's BoringSSL: Debian's patches to it, as the Chromium tree has them, and the
    /// stand-in for the test tool source its tarball leaves out.
    fn after_unpack(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        if !self.chromium {
            return Ok(());
        }
        let path = tree.join(CHROMIUM_MISSING_TOOL);
        ensure!(!path.exists(), "expected Chromium's tarball to leave out {CHROMIUM_MISSING_TOOL}");
        fs::create_dir_all(path.parent().context("no parent")?)?;
        fs::write(
            &path,
            "// Written by `cargo xtask boringssl --chromium`: Chromium's tarball leaves out\n\
             // BoringSSL's test data, this tool's source among it. Never built.\n",
        )?;
        crate::chromium::apply_debian_boringssl_patches(sh, tree)
    }

    fn source(&self, sh: &Shell) -> anyhow::Result<Source> {
        if self.chromium {
            return Ok(crate::chromium::boringssl_source());
        }
        match self.from {
            Origin::Crate => Ok(Source {
                files: vec![SourceFile {
                    pin: PIN,
                    strip_components: STRIP_COMPONENTS,
                    members: &[],
                }],
                provider: Box::new(Crate { name: CRATE_NAME, version: CRATE_VERSION }),
            }),
            Origin::Git => {
                let pin = fetch_git(sh, self.commit.clone())?;
                Ok(Source {
                    files: vec![SourceFile { pin, strip_components: 1, members: &[] }],
                    provider: Box::new(Prefetched),
                })
            }
        }
    }

    fn check_tree(&self, _sh: &Shell, tree: &Path, _series: &Series) -> anyhow::Result<()> {
        let base_h = tree.join("include/openssl/base.h");
        let text =
            fs::read_to_string(&base_h).with_context(|| format!("reading {}", base_h.display()))?;
        let found = text
            .lines()
            .find_map(|line| line.strip_prefix("#define BORINGSSL_API_VERSION "))
            .map(str::trim);
        let expected = if self.chromium { CHROMIUM_API_VERSION } else { API_VERSION };
        ensure!(
            found == Some(expected.to_string().as_str()),
            "expected BORINGSSL_API_VERSION {expected} in {}, found {found:?}",
            base_h.display()
        );
        Ok(())
    }
}

impl Buildable for Boringssl {
    type Flavor = Flavor;

    fn build_packages(&self) -> &'static [&'static str] {
        BUILD_PACKAGES
    }

    fn flavor_key(&self, flavor: Flavor) -> String {
        format!(
            "{flavor:?} cmake {} targets {}",
            flavor.cmake_settings().join(" "),
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
        let build = flavor.build_dir(work);
        let mut settings = flavor.cmake_settings();
        // The core's folder is keyed by its contents: a new core is a new path, a new setting,
        // and Ninja relinks what links it. Without the core both are set empty.
        let (library, include_dir) = core.map_or_else(Default::default, |core| {
            (core.archive.display().to_string(), core.include_dir.display().to_string())
        });
        settings.push(format!("SRP_FFI_LIBRARY={library}"));
        settings.push(format!("SRP_FFI_INCLUDE_DIR={include_dir}"));
        // Configured already with these settings? CMakeCache.txt holds `NAME:TYPE=VALUE` lines.
        let cache = fs::read_to_string(build.join("CMakeCache.txt")).unwrap_or_default();
        let configured = build.join("build.ninja").exists()
            && settings.iter().all(|setting| {
                let (name, value) = setting.split_once('=').unwrap_or((setting, ""));
                cache.lines().any(|l| {
                    l.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .and_then(|rest| rest.split_once('='))
                        .is_some_and(|(_, v)| v == value)
                })
            });
        if !configured {
            crate::step(&format!("configuring BoringSSL in {} (CMake, Ninja)", build.display()));
            sh.create_dir(&build)?;
            let defines: Vec<String> = settings.iter().map(|s| format!("-D{s}")).collect();
            let tree = &work.tree;
            cmd!(sh, "cmake -S {tree} -B {build} -G Ninja {defines...}").run()?;
        }
        let targets = flavor.targets();
        crate::step(&format!(
            "ninja {} (from scratch about 9 minutes on 2 idle cores, more when shared; \
             afterwards seconds)",
            targets.join(" ")
        ));
        let started = Instant::now();
        cmd!(sh, "ninja -C {build} {targets...}").run()?;
        eprintln!("ninja finished in {:.0?}", started.elapsed());
        let mut files = vec!["libssl.a", "libcrypto.a", "ssl_test"];
        if flavor == Flavor::NoCore {
            check_no_srp(sh, &build, &work.tree.join("include"))?;
            files.push("bssl");
        }
        for file in files {
            crate::cache::copy(&build.join(file), &out.join(file))?;
        }
        crate::cache::copy_dir(&work.tree.join("include"), &out.join("include"))
    }

    fn test(&self, sh: &Shell, _flavor: Flavor, built: &Built) -> anyhow::Result<()> {
        run_ssl_test(sh, built, None)
    }

    fn peer(&self, flavor: Flavor, built: &Built, core: &Core) -> crate::peers::Recipe {
        let sanitize = flavor == Flavor::Sanitized;
        let name = match (self.chromium, sanitize) {
            (false, false) => "srp-peer-boringssl",
            (false, true) => "srp-peer-boringssl-sanitized",
            (true, false) => "srp-peer-boringssl-chromium",
            (true, true) => "srp-peer-boringssl-chromium-sanitized",
        };
        let sanitizer_flags: Vec<String> = if sanitize {
            SANITIZE_FLAGS.split_whitespace().map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        let object = format!("{{out}}/{name}.o");
        let mut compile = crate::peers::args(&[
            "gcc",
            "-std=c11",
            "-D_POSIX_C_SOURCE=200809L",
            "-O2",
            "-Wall",
            "-Werror",
        ]);
        compile.extend(sanitizer_flags.iter().cloned());
        compile.extend([
            format!("-I{}", built.dir.join("include").display()),
            format!("-I{}", core.include_dir.display()),
            "-c".to_owned(),
            "{root}/tests/peers/srp-peer-boringssl.c".to_owned(),
            "-o".to_owned(),
            object.clone(),
        ]);
        // libssl is C++ (g++ links its runtime); then the core with its system libraries.
        let mut link = vec!["g++".to_owned()];
        link.extend(sanitizer_flags);
        link.push(object);
        link.push(built.dir.join("libssl.a").display().to_string());
        link.push(built.dir.join("libcrypto.a").display().to_string());
        link.extend(core.link_args());
        link.extend(["-o".to_owned(), format!("{{out}}/{name}")]);
        crate::peers::Recipe {
            name,
            sources: vec!["tests/peers/srp-peer-boringssl.c", "tests/peers/peer-cli.h"],
            extra_key: String::new(),
            commands: vec![compile, link],
        }
    }
}

/// Runs `ssl_test` of a built output: quietly, then a one-line summary from its JSON report,
/// or on failure its output and the failed tests. A whole run (no filter) must also hold
/// either the TLS-SRP tests or the tests of the build without the core ([`srp_tests`]).
fn run_ssl_test(sh: &Shell, built: &Built, filter: Option<&str>) -> anyhow::Result<()> {
    let ssl_test = built.dir.join("ssl_test");
    let filter_arg = filter.map(|f| format!("--gtest_filter={f}"));
    crate::step(&format!("running {} {}", ssl_test.display(), filter_arg.as_deref().unwrap_or("")));
    let scratch = tempfile::tempdir()?;
    let report = scratch.path().join("ssl_test.json");
    let output_arg = format!("--gtest_output=json:{}", report.display());
    // The tests log expected failures ("Server error: SSL") on stderr: kept for a failure report.
    let started = Instant::now();
    let output = cmd!(sh, "{ssl_test} --gtest_brief=1 {output_arg} {filter_arg...}")
        .quiet()
        .ignore_status()
        .output()?;
    let summary = crate::gtest::Summary::read(&report);
    match summary {
        Ok(summary)
            if output.status.success() && summary.failed.is_empty() && summary.total() > 0 =>
        {
            let srp = match filter {
                None => srp_tests(&summary.ran)?,
                Some(_) => format!(
                    "{} of them TLS-SRP",
                    summary.ran.iter().filter(|t| t.starts_with("SRPTest.")).count()
                ),
            };
            println!(
                "ssl_test: all {} tests passed ({srp}) in {:.1?}",
                summary.total(),
                started.elapsed()
            );
            Ok(())
        }
        summary => {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            println!("{}", String::from_utf8_lossy(&output.stdout));
            bail!(
                "ssl_test: expected every test to pass, found {} ({})",
                match summary {
                    Ok(s) => format!(
                        "{} of {} failed: {}",
                        s.failed.len(),
                        s.total(),
                        s.failed.join(", ")
                    ),
                    Err(e) => format!("no report: {e:#}"),
                },
                output.status,
            )
        }
    }
}

/// What the tests of a whole `ssl_test` run say about TLS-SRP: a build with the core runs the
/// `SRPTest` tests and none of [`NO_CORE_TESTS`], a build without it all of those and no
/// `SRPTest`. Anything else (SRP tests in a build without the core, none at all) is an error.
fn srp_tests(ran: &[String]) -> anyhow::Result<String> {
    let srp = ran.iter().filter(|t| t.starts_with("SRPTest.")).count();
    let no_core: Vec<&str> =
        NO_CORE_TESTS.iter().copied().filter(|t| ran.iter().any(|r| r == t)).collect();
    match (srp, no_core.len()) {
        (1.., 0) => Ok(format!("{srp} of them TLS-SRP")),
        (0, n) if n == NO_CORE_TESTS.len() => {
            Ok(format!("none of them TLS-SRP, {n} of them checking that TLS-SRP is left out"))
        }
        _ => bail!(
            "ssl_test: expected either TLS-SRP tests (SRPTest.*, a build with the core) or all of \
             {} (a build without it), found {srp} TLS-SRP tests and {no_core:?}",
            NO_CORE_TESTS.join(", ")
        ),
    }
}

/// Checks a build without the core for TLS-SRP before its output is kept: `ssl.h`, compiled
/// as CMake compiles the code that links `ssl` (with `BORINGSSL_NO_TLS_SRP`), declares none of
/// its SRP functions and leaves `BORINGSSL_HAS_TLS_SRP` undefined, and `bssl client` and
/// `bssl server` list their options without an SRP one.
fn check_no_srp(sh: &Shell, build: &Path, include: &Path) -> anyhow::Result<()> {
    crate::step("checking that the build without the core has no TLS-SRP");
    let ssl_h = include.join("openssl/ssl.h");
    let functions = srp_functions(&fs::read_to_string(&ssl_h)?);
    ensure!(
        functions.len() >= 20,
        "expected the TLS-SRP functions in {}, found {functions:?}",
        ssl_h.display()
    );
    // A C file that fails to compile if the header declares one of them (a variable of the
    // same name is "redeclared as a different kind of symbol") or defines the macro.
    let scratch = tempfile::tempdir()?;
    let probe = scratch.path().join("no_srp.c");
    let mut text = "#include <openssl/ssl.h>\n#if defined(BORINGSSL_HAS_TLS_SRP)\n\
                    #error BORINGSSL_HAS_TLS_SRP is defined\n#endif\n"
        .to_owned();
    for function in &functions {
        text += &format!("int {function};\n");
    }
    fs::write(&probe, text)?;
    cmd!(sh, "gcc -std=c11 -fsyntax-only -DBORINGSSL_NO_TLS_SRP -I{include} {probe}")
        .run()
        .context("expected ssl.h with BORINGSSL_NO_TLS_SRP to declare no TLS-SRP function")?;
    let bssl = build.join("bssl");
    for (command, option) in [("client", "-connect"), ("server", "-accept")] {
        // `-h` is no option: bssl says so and lists the options it has, failing.
        let out = cmd!(sh, "{bssl} {command} -h").quiet().ignore_status().output()?;
        let usage = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        ensure!(
            usage.contains(option) && !usage.to_lowercase().contains("srp"),
            "expected `bssl {command} -h` to list {option} and no SRP option, found:\n{usage}"
        );
    }
    eprintln!(
        "no TLS-SRP: ssl.h declares none of its {} SRP functions, bssl client and server have \
         no SRP option",
        functions.len()
    );
    Ok(())
}

/// The functions `ssl.h` declares with `srp` in their names (`OPENSSL_EXPORT ... name(`).
fn srp_functions(ssl_h: &str) -> Vec<String> {
    ssl_h
        .split("OPENSSL_EXPORT")
        .skip(1)
        .filter_map(|decl| decl.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next())
        .filter(|name| name.contains("srp"))
        .map(str::to_owned)
        .collect()
}

/// The git origin: a tarball of upstream at the pinned commit (`git archive`) in the cache's
/// `downloads/`, pinned by the commit id. When the crate is cached, every file it ships must
/// match the checkout.
fn fetch_git(sh: &Shell, commit: Option<String>) -> anyhow::Result<Pin> {
    let cache = crate::cache::dir()?;
    let base = cache.join("boringssl/git");
    let _lock = crate::cache::lock(&cache.join("boringssl/git.lock"))?;
    let commit = match commit {
        Some(commit) => commit,
        None => {
            crate::step(&format!(
                "reading the deps/boringssl submodule of {BORING_GIT} at {BORING_COMMIT}"
            ));
            let boring = base.join("boring.git");
            if !boring.exists() {
                cmd!(sh, "git clone --bare --filter=blob:none {BORING_GIT} {boring}").run()?;
            }
            let entry =
                cmd!(sh, "git -C {boring} ls-tree {BORING_COMMIT} boring-sys/deps/boringssl")
                    .read()?;
            entry
                .split_whitespace()
                .nth(2)
                .with_context(|| {
                    format!("expected a submodule entry from `git ls-tree`, found {entry:?}")
                })?
                .to_owned()
        }
    };
    ensure!(
        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "expected a full 40-digit commit id, found {commit:?}"
    );
    crate::step(&format!("fetching {UPSTREAM_GIT} at {commit}"));
    let repo = base.join("upstream.git");
    if !repo.exists() {
        cmd!(sh, "git clone --bare {UPSTREAM_GIT} {repo}").run()?;
    }
    let downloads = cache.join("downloads");
    sh.create_dir(&downloads)?;
    let file = downloads.join(format!("boringssl-{commit}.tar"));
    cmd!(sh, "git -C {repo} archive --format=tar --prefix=boringssl/ --output={file} {commit}")
        .run()?;
    let crate_file = downloads.join(PIN.file);
    if upstream::verify(sh, &PIN, &crate_file).is_ok() {
        crate::step("comparing the checkout with the files the crate ships");
        let scratch = tempfile::tempdir_in(&cache)?;
        let (a, b) = (scratch.path().join("crate"), scratch.path().join("git"));
        sh.create_dir(&a)?;
        sh.create_dir(&b)?;
        let strip = format!("--strip-components={STRIP_COMPONENTS}");
        cmd!(sh, "tar -xf {crate_file} -C {a} {strip}").run()?;
        cmd!(sh, "tar -xf {file} -C {b} --strip-components=1").run()?;
        // `diff -r` lists files only in the checkout as "Only in": those are allowed.
        let out = cmd!(sh, "diff -rq {a} {b}").quiet().ignore_status().read()?;
        let differing: Vec<&str> =
            out.lines().filter(|l| !l.starts_with(&format!("Only in {}", b.display()))).collect();
        ensure!(
            differing.is_empty(),
            "the git checkout differs from {}:\n{}",
            PIN.file,
            differing.join("\n")
        );
    }
    let sha256 = crate::cache::sha256_file(sh, &file)?;
    let size = fs::metadata(&file)?.len();
    // The commit id is the pin here; the archive's own hash only keys the tree and the build.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    Ok(Pin {
        name: "boringssl",
        version: leak(format!("git {commit}")),
        file: leak(format!("boringssl-{commit}.tar")),
        size,
        sha256: leak(sha256),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_build_has_either_the_srp_tests_or_those_without_the_core() {
        let with_core = names(&["SSLTest.CipherRules", "SRPTest.Basic", "SRPTest.WrongPassword"]);
        assert_eq!(srp_tests(&with_core).unwrap(), "2 of them TLS-SRP");
        let mut without = names(&["SSLTest.CipherRules"]);
        without.extend(names(NO_CORE_TESTS));
        assert!(srp_tests(&without).unwrap().starts_with("none of them TLS-SRP"));
        let mut both = with_core.clone();
        both.extend(names(NO_CORE_TESTS));
        assert!(srp_tests(&both).is_err(), "SRP tests in a build without the core");
        assert!(srp_tests(&names(&["SSLTest.CipherRules"])).is_err(), "neither");
        assert!(
            srp_tests(&names(&["SSLTest.CipherRules", NO_CORE_TESTS[0]])).is_err(),
            "only some of the tests without the core"
        );
    }

    #[test]
    fn srp_functions_are_read_from_the_declarations() {
        let ssl_h = "OPENSSL_EXPORT int SSL_CTX_set_srp_username(SSL_CTX *ctx,\n\
                     const char *name);\n\
                     OPENSSL_EXPORT const char *SSL_SESSION_get0_srp_username(\n\
                     const SSL_SESSION *session);\n\
                     OPENSSL_EXPORT int SSL_set_srp_server_param_pw(SSL *ssl, int (*cb)(void));\n\
                     OPENSSL_EXPORT int SSL_CTX_set_psk_identity_hint(SSL_CTX *ctx);\n";
        assert_eq!(
            srp_functions(ssl_h),
            [
                "SSL_CTX_set_srp_username",
                "SSL_SESSION_get0_srp_username",
                "SSL_set_srp_server_param_pw"
            ]
        );
    }
}
