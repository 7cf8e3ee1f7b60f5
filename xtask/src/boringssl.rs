//! `cargo xtask boringssl <fetch|check|build|test>`: BoringSSL with the TLS-SRP patch series.
//!
//! - `fetch`: the pinned source into `.cache/downloads/`, verified. By default the crate
//!   `boring-sys` 5.4.0 from the registry, which vendors BoringSSL under `deps/boringssl`: cargo
//!   downloads it into a private CARGO_HOME (and checks the registry checksum), then the shared
//!   `upstream` module checks size and sha256 against the pin. `--from git` takes upstream's
//!   repository at a pinned commit instead (machines with open internet).
//! - `check`: the series checker (entries exist, none unused or twice, house format, all apply
//!   with zero fuzz).
//! - `build`: fetch, patch into `.cache/boringssl/tree/` (only changed files rewritten), build
//!   the srp-ffi static library, then CMake/Ninja in `.cache/boringssl/build/` with the core
//!   linked into `ssl` as an IMPORTED static target. Ninja reuses everything that did not change.
//!   `--sanitize` builds with AddressSanitizer and UBSan (gcc) into `.cache/boringssl/build-sanitize/`.
//! - `test`: build, then run `ssl_test` (optionally filtered, optionally the sanitized build).
//!
//! For other commands: [`test`] (all of `ssl_test`, for `cargo xtask test`), [`peer`],
//! [`sanitized_peer`] and [`openssl_peer`] (the interop peers).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

use crate::upstream::{self, Pin, Provider, Series};

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

/// For machines with open internet: upstream's repository. The commit is the one the crate
/// vendors: `deps/boringssl` is a git submodule of cloudflare/boring, and the crate's
/// `.cargo_vcs_info.json` names the boring commit it was packaged from, so the submodule
/// pointer there is the pin (`--commit` overrides it). A git commit id pins the content itself;
/// when the crate is cached too, every file it ships is compared with the checkout.
const UPSTREAM_GIT: &str = "https://boringssl.googlesource.com/boringssl";
const BORING_GIT: &str = "https://github.com/cloudflare/boring";
const BORING_COMMIT: &str = "309bf35b9eb97fc21040915a5f4a886941965c47";

/// The Ninja targets `build` makes by default.
const TARGETS: [&str; 4] = ["ssl", "crypto", "bssl", "ssl_test"];

/// The Ninja targets `build --sanitize` makes by default: what `ssl_test` and the sanitized
/// peer need.
const SANITIZED_TARGETS: [&str; 3] = ["ssl", "crypto", "ssl_test"];

/// Compiler flags of the sanitized build (gcc: BoringSSL's own `ASAN`/`UBSAN` options want
/// clang), also used for the sanitized peer. UBSan findings abort, so a test cannot pass over them.
const SANITIZE_FLAGS: &str =
    "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1";

/// Debian packages the build needs (no Go, no Perl: `gen/` holds the generated files).
const BUILD_PACKAGES: &[&str] = &["cmake", "ninja-build", "g++", "patch"];

#[derive(clap::Args)]
pub struct Boringssl {
    #[command(subcommand)]
    command: BoringsslCommand,
}

#[derive(clap::Subcommand)]
enum BoringsslCommand {
    /// Fetch the pinned source into .cache/downloads and verify it.
    Fetch(Fetch),
    /// Check boringssl-patches/series: entries exist, none unused or twice, house format, all apply.
    Check,
    /// Fetch, patch and build (ssl crypto bssl ssl_test) with the srp-ffi core linked into ssl.
    Build(Build),
    /// Build, then run ssl_test.
    Test(TestArgs),
}

#[derive(clap::Args)]
struct Fetch {
    /// Where the source comes from.
    #[arg(long, value_enum, default_value = "crate")]
    from: Origin,
    /// With `--from git`: the BoringSSL commit (default: the one boring-sys 5.4.0 vendors).
    #[arg(long)]
    commit: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Origin {
    /// The crate boring-sys 5.4.0 from the registry, through cargo.
    Crate,
    /// Upstream's git repository at the pinned commit (needs open internet).
    Git,
}

#[derive(clap::Args)]
struct Build {
    /// Only these Ninja targets (default: ssl crypto bssl ssl_test; with --sanitize: ssl crypto
    /// ssl_test).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Build with AddressSanitizer and UBSan into .cache/boringssl/build-sanitize.
    #[arg(long)]
    sanitize: bool,
}

#[derive(clap::Args)]
struct TestArgs {
    /// A gtest filter for ssl_test, e.g. `*SRP*`.
    #[arg(long)]
    filter: Option<String>,
    /// Run the ssl_test of the sanitized build (AddressSanitizer, UBSan).
    #[arg(long)]
    sanitize: bool,
}

/// Which build: Release as shipped, or with sanitizers for finding memory errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Release,
    /// AddressSanitizer and UBSan, asserts on, `-O1`.
    Sanitized,
}

impl Flavor {
    fn from_flag(sanitize: bool) -> Self {
        if sanitize { Flavor::Sanitized } else { Flavor::Release }
    }

    /// The CMake/Ninja build directory, outside the tree so a new series never touches it.
    fn build_dir(self, sh: &Shell) -> PathBuf {
        let name = match self {
            Flavor::Release => "build",
            Flavor::Sanitized => "build-sanitize",
        };
        upstream::cache_dir(sh).join("boringssl").join(name)
    }

    /// CMake cache entries, as `NAME=VALUE` (passed as `-D`, and compared with CMakeCache.txt).
    fn cmake_settings(self) -> Vec<String> {
        let mut settings = Vec::new();
        match self {
            // gcc 12 warns (an error under -Werror) about array bounds in ssl_test.cc.
            Flavor::Release => {
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

    fn default_targets(self) -> &'static [&'static str] {
        match self {
            Flavor::Release => &TARGETS,
            Flavor::Sanitized => &SANITIZED_TARGETS,
        }
    }
}

impl Boringssl {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            BoringsslCommand::Fetch(fetch) => fetch.run(sh).map(drop),
            BoringsslCommand::Check => check(sh),
            BoringsslCommand::Build(build) => build.run(sh),
            BoringsslCommand::Test(test) => {
                let flavor = Flavor::from_flag(test.sanitize);
                Build { targets: vec!["ssl_test".into()], sanitize: test.sanitize }.run(sh)?;
                run_ssl_test(sh, flavor, test.filter.as_deref())
            }
        }
    }
}

/// `cargo xtask test`'s BoringSSL step: builds `ssl_test` (and the `ssl` and `crypto` it links;
/// seconds when up to date, about 9 minutes from scratch on 2 cores) and runs all of it,
/// BoringSSL's own tests and the TLS-SRP ones. Prints a summary; fails on any failure.
pub fn test(sh: &Shell) -> anyhow::Result<()> {
    Build { targets: vec!["ssl_test".into()], sanitize: false }.run(sh)?;
    run_ssl_test(sh, Flavor::Release, None)
}

/// Runs `ssl_test` of `flavor`'s build: quietly, then a one-line summary, or on failure its
/// output and the failed tests.
fn run_ssl_test(sh: &Shell, flavor: Flavor, filter: Option<&str>) -> anyhow::Result<()> {
    let ssl_test = flavor.build_dir(sh).join("ssl_test");
    let filter_arg = filter.map(|f| format!("--gtest_filter={f}"));
    crate::step(&format!("running {} {}", ssl_test.display(), filter_arg.as_deref().unwrap_or("")));
    // The tests log expected failures ("Server error: SSL") on stderr: kept for a failure report.
    let started = Instant::now();
    let output =
        cmd!(sh, "{ssl_test} --gtest_brief=1 {filter_arg...}").quiet().ignore_status().output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ran = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[==========] "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok());
    let failed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[  FAILED  ] "))
        .filter(|l| !l.contains(" listed below:") && !l.contains(" ms)"))
        .collect();
    match ran {
        Some(ran) if output.status.success() && failed.is_empty() && ran > 0 => {
            let srp = cmd!(sh, "{ssl_test} --gtest_list_tests --gtest_filter=SRPTest.*")
                .quiet()
                .read()?
                .lines()
                .filter(|l| l.starts_with("  "))
                .count();
            println!(
                "ssl_test: all {ran} tests passed ({srp} of them TLS-SRP) in {:.1?}",
                started.elapsed()
            );
            Ok(())
        }
        _ => {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            println!("{stdout}");
            bail!(
                "ssl_test: expected every test to pass, found {} ({}); failed: {}",
                match ran {
                    Some(ran) => format!("{} of {ran} failed", failed.len()),
                    None => "no summary: it crashed".to_owned(),
                },
                output.status,
                if failed.is_empty() { "-".to_owned() } else { failed.join(", ") }
            )
        }
    }
}

/// The series, from `boringssl-patches/`.
fn series(sh: &Shell) -> anyhow::Result<Series> {
    Series::load(&sh.current_dir().join("boringssl-patches"))
}

/// A source to unpack: the file, the pin it was verified against and how deep the tree sits.
struct Source {
    pin: Pin,
    file: PathBuf,
    strip_components: u32,
}

impl Fetch {
    fn run(self, sh: &Shell) -> anyhow::Result<Source> {
        match self.from {
            Origin::Crate => {
                let file = upstream::fetch(sh, &PIN, &CargoRegistry)?;
                Ok(Source { pin: PIN, file, strip_components: STRIP_COMPONENTS })
            }
            Origin::Git => fetch_git(sh, self.commit),
        }
    }
}

/// Downloads a crate with cargo's own machinery: a throwaway package that depends on exactly
/// the pinned version, `cargo fetch` into a private CARGO_HOME, then the `.crate` file cargo
/// stored (cargo has checked it against the registry index's checksum).
struct CargoRegistry;

impl Provider for CargoRegistry {
    fn describe(&self) -> String {
        format!("the registry through `cargo fetch` ({CRATE_NAME} ={CRATE_VERSION})")
    }

    fn fetch(&self, sh: &Shell, _pin: &Pin, dest: &Path) -> anyhow::Result<()> {
        let dir = upstream::cache_dir(sh).join("boringssl/cargo-fetch");
        let manifest = dir.join("Cargo.toml");
        sh.write_file(
            &manifest,
            format!(
                "# Written by `cargo xtask boringssl fetch`: makes cargo download and verify the\n\
                 # pinned crate. Never built.\n\
                 [package]\nname = \"boringssl-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                 publish = false\n[lib]\npath = \"lib.rs\"\n[dependencies]\n\
                 {CRATE_NAME} = \"={CRATE_VERSION}\"\n[workspace]\n"
            ),
        )?;
        sh.write_file(dir.join("lib.rs"), "")?;
        let cargo_home = dir.join("cargo-home");
        {
            let _home = sh.push_env("CARGO_HOME", &cargo_home);
            cmd!(sh, "cargo fetch --quiet --manifest-path {manifest}").run()?;
        }
        let name = format!("{CRATE_NAME}-{CRATE_VERSION}.crate");
        let registry_cache = cargo_home.join("registry/cache");
        let crate_file = fs::read_dir(&registry_cache)
            .with_context(|| format!("reading {}", registry_cache.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path().join(&name)))
            .find(|path| path.is_file())
            .with_context(|| {
                format!("cargo fetch left no {name} under {}", registry_cache.display())
            })?;
        fs::copy(&crate_file, dest).with_context(|| format!("copying {}", crate_file.display()))?;
        Ok(())
    }
}

/// The git origin: a tarball of upstream at the pinned commit (`git archive`), pinned by the
/// commit id. When the crate is cached, every file it ships must match the checkout.
fn fetch_git(sh: &Shell, commit: Option<String>) -> anyhow::Result<Source> {
    let base = upstream::cache_dir(sh).join("boringssl");
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
    let downloads = upstream::cache_dir(sh).join("downloads");
    sh.create_dir(&downloads)?;
    let file = downloads.join(format!("boringssl-{commit}.tar"));
    cmd!(sh, "git -C {repo} archive --format=tar --prefix=boringssl/ --output={file} {commit}")
        .run()?;
    let crate_file = downloads.join(PIN.file);
    if upstream::verify(sh, &PIN, &crate_file).is_ok() {
        crate::step("comparing the checkout with the files the crate ships");
        let scratch = base.join("compare");
        let (a, b) = (scratch.join("crate"), scratch.join("git"));
        for dir in [&a, &b] {
            if dir.exists() {
                sh.remove_path(dir)?;
            }
            sh.create_dir(dir)?;
        }
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
        sh.remove_path(&scratch)?;
    }
    let sha256 = upstream::sha256_file(sh, &file)?;
    let size = fs::metadata(&file)?.len();
    // The commit id is the pin here; the archive's own hash only keys the prepared tree.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let pin = Pin {
        name: "boringssl",
        version: leak(format!("git {commit}")),
        file: leak(format!("boringssl-{commit}.tar")),
        size,
        sha256: leak(sha256),
    };
    Ok(Source { pin, file, strip_components: 1 })
}

fn check_api_version(tree: &Path) -> anyhow::Result<()> {
    let base_h = tree.join("include/openssl/base.h");
    let text =
        fs::read_to_string(&base_h).with_context(|| format!("reading {}", base_h.display()))?;
    let found = text
        .lines()
        .find_map(|line| line.strip_prefix("#define BORINGSSL_API_VERSION "))
        .map(str::trim);
    ensure!(
        found == Some(API_VERSION.to_string().as_str()),
        "expected BORINGSSL_API_VERSION {API_VERSION} in {}, found {found:?}",
        base_h.display()
    );
    Ok(())
}

fn check(sh: &Shell) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &["patch"])?;
    let series = series(sh)?;
    series.check_files()?;
    let source = Fetch { from: Origin::Crate, commit: None }.run(sh)?;
    let scratch = upstream::cache_dir(sh).join("boringssl/check");
    upstream::stage(sh, &source.file, source.strip_components, &series, &scratch)?;
    check_api_version(&scratch)?;
    fs::remove_dir_all(&scratch)?;
    println!(
        "boringssl-patches: {} patches, all listed once, all apply with zero fuzz",
        series.patches.len()
    );
    Ok(())
}

impl Build {
    fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, BUILD_PACKAGES)?;
        let source = Fetch { from: Origin::Crate, commit: None }.run(sh)?;
        let tree = upstream::prepare(
            sh,
            &source.pin,
            &source.file,
            source.strip_components,
            &series(sh)?,
            &[],
        )?;
        check_api_version(&tree)?;

        crate::step("building the SRP core (cargo build --release -p srp-ffi)");
        cmd!(sh, "cargo build --quiet --release --locked -p srp-ffi").run()?;
        let core = sh.current_dir().join("target/release/libsrp_ffi.a");
        let include = sh.current_dir().join("srp-ffi/include");

        let flavor = Flavor::from_flag(self.sanitize);
        let build = flavor.build_dir(sh);
        let mut settings = flavor.cmake_settings();
        settings.push(format!("SRP_FFI_LIBRARY={}", core.display()));
        settings.push(format!("SRP_FFI_INCLUDE_DIR={}", include.display()));
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
            cmd!(sh, "cmake -S {tree} -B {build} -G Ninja {defines...}").run()?;
        }
        let targets: Vec<String> = if self.targets.is_empty() {
            flavor.default_targets().iter().map(|t| t.to_string()).collect()
        } else {
            self.targets
        };
        crate::step(&format!(
            "ninja {} (from scratch about 9 minutes on 2 idle cores, more when shared; \
             afterwards seconds)",
            targets.join(" ")
        ));
        let started = Instant::now();
        cmd!(sh, "ninja -C {build} {targets...}").run()?;
        eprintln!("ninja finished in {:.0?}; outputs in {}", started.elapsed(), build.display());
        Ok(())
    }
}

/// Builds (when missing or older than its inputs) and returns `srp-peer-boringssl`, the test
/// peer on the patched library's public API (`tests/peers/srp-peer-boringssl.c`).
pub fn peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    boringssl_peer(sh, Flavor::Release)
}

/// Builds (when missing or older than its inputs) and returns `srp-peer-boringssl-sanitized`:
/// the same peer and the patched library built with AddressSanitizer and UBSan
/// (`.cache/boringssl/build-sanitize/`; about 15 minutes from scratch on 2 cores for the
/// libraries, and gcc takes 25 more for `ssl_test.cc` alone under the sanitizers). A finding
/// makes the peer print the report on stderr and exit non-zero.
pub fn sanitized_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    boringssl_peer(sh, Flavor::Sanitized)
}

fn boringssl_peer(sh: &Shell, flavor: Flavor) -> anyhow::Result<PathBuf> {
    let sanitize = flavor == Flavor::Sanitized;
    Build { targets: vec!["ssl".into(), "crypto".into()], sanitize }.run(sh)?;
    let root = sh.current_dir();
    let source = root.join("tests/peers/srp-peer-boringssl.c");
    let build = flavor.build_dir(sh);
    let inputs = [
        source.clone(),
        root.join("tests/peers/peer-cli.h"),
        build.join("libssl.a"),
        build.join("libcrypto.a"),
        root.join("target/release/libsrp_ffi.a"),
    ];
    let out_dir = upstream::cache_dir(sh).join("boringssl/peer");
    let binary =
        out_dir.join(if sanitize { "srp-peer-boringssl-sanitized" } else { "srp-peer-boringssl" });
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_input = inputs.iter().filter_map(|p| modified(p)).max();
    if modified(&binary).is_some_and(|built| Some(built) >= newest_input) {
        return Ok(binary);
    }
    crate::step(&format!("building {}", binary.display()));
    sh.create_dir(&out_dir)?;
    let include = upstream::cache_dir(sh).join("boringssl/tree/include");
    let srp_include = root.join("srp-ffi/include");
    let object = binary.with_extension("o");
    let sanitizer_flags: Vec<&str> =
        if sanitize { SANITIZE_FLAGS.split_whitespace().collect() } else { Vec::new() };
    let sanitizer_flags = &sanitizer_flags;
    cmd!(sh, "gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Werror {sanitizer_flags...} -I{include} -I{srp_include} -c {source} -o {object}")
        .run()?;
    let [_, _, libssl, libcrypto, core] = inputs;
    // libssl is C++ (g++ links its runtime); the Rust core needs pthread, dl and m.
    cmd!(sh, "g++ {sanitizer_flags...} {object} {libssl} {libcrypto} {core} -lpthread -ldl -lm -o {binary}")
        .run()?;
    Ok(binary)
}

/// Builds (when missing or older than its sources) and returns `srp-peer-openssl`: the same
/// peer source built against the system's OpenSSL 3.0 libssl and its SRP API.
pub fn openssl_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    crate::deps::ensure_debian_packages(sh, &["gcc", "libssl-dev"])?;
    let source = sh.current_dir().join("tests/peers/srp-peer-boringssl.c");
    let header = sh.current_dir().join("tests/peers/peer-cli.h");
    let out_dir = upstream::cache_dir(sh).join("peers");
    let binary = out_dir.join("srp-peer-openssl");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_input = modified(&source).max(modified(&header));
    if modified(&binary).is_some_and(|built| Some(built) >= newest_input) {
        return Ok(binary);
    }
    crate::step("building srp-peer-openssl");
    sh.create_dir(&out_dir)?;
    // OpenSSL 3.0 deprecates its SRP API but still ships it.
    cmd!(
        sh,
        "gcc -std=c11 -D_POSIX_C_SOURCE=200809L -DOPENSSL_API_COMPAT=30000
         -Wno-deprecated-declarations -O2 -Wall -Werror {source} -lssl -lcrypto -o {binary}"
    )
    .run()?;
    Ok(binary)
}
