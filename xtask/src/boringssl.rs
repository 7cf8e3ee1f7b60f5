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
//! - `test`: build, then run `ssl_test` (optionally filtered).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
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
    /// Interop over loopback: BoringSSL against itself, OpenSSL 3.0 libssl and GnuTLS.
    Interop(Interop),
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
    /// Only these Ninja targets (default: ssl crypto bssl ssl_test).
    #[arg(long = "target")]
    targets: Vec<String>,
}

#[derive(clap::Args)]
struct TestArgs {
    /// A gtest filter for ssl_test, e.g. `*SRP*`.
    #[arg(long)]
    filter: Option<String>,
}

impl Boringssl {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            BoringsslCommand::Fetch(fetch) => fetch.run(sh).map(drop),
            BoringsslCommand::Check => check(sh),
            BoringsslCommand::Build(build) => build.run(sh),
            BoringsslCommand::Interop(interop) => interop.run(sh),
            BoringsslCommand::Test(test) => {
                Build { targets: Vec::new() }.run(sh)?;
                let ssl_test = build_dir(sh).join("ssl_test");
                crate::step("running ssl_test");
                let filter = test.filter.map(|f| format!("--gtest_filter={f}"));
                cmd!(sh, "{ssl_test} {filter...}").run()?;
                Ok(())
            }
        }
    }
}

/// The CMake/Ninja build directory, outside the tree so a new series never touches it.
pub fn build_dir(sh: &Shell) -> PathBuf {
    upstream::cache_dir(sh).join("boringssl/build")
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

        let build = build_dir(sh);
        let srp_lib = format!("-DSRP_FFI_LIBRARY={}", core.display());
        let srp_include = format!("-DSRP_FFI_INCLUDE_DIR={}", include.display());
        let cache = fs::read_to_string(build.join("CMakeCache.txt")).unwrap_or_default();
        let configured = build.join("build.ninja").exists()
            && cache.lines().any(|l| l == format!("SRP_FFI_LIBRARY:FILEPATH={}", core.display()));
        if !configured {
            crate::step("configuring BoringSSL (CMake, Ninja, Release)");
            sh.create_dir(&build)?;
            cmd!(
                sh,
                "cmake -S {tree} -B {build} -G Ninja -DCMAKE_BUILD_TYPE=Release
                 -DCMAKE_CXX_FLAGS=-Wno-error=array-bounds {srp_lib} {srp_include}"
            )
            .run()?;
        }
        let targets: Vec<String> = if self.targets.is_empty() {
            TARGETS.iter().map(|t| t.to_string()).collect()
        } else {
            self.targets
        };
        crate::step(&format!(
            "ninja {} (a first build takes 15-25 minutes on 2 shared cores; afterwards seconds)",
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
    Build { targets: vec!["ssl".into(), "crypto".into()] }.run(sh)?;
    let root = sh.current_dir();
    let source = root.join("tests/peers/srp-peer-boringssl.c");
    let build = build_dir(sh);
    let inputs = [
        source.clone(),
        build.join("libssl.a"),
        build.join("libcrypto.a"),
        root.join("target/release/libsrp_ffi.a"),
    ];
    let out_dir = upstream::cache_dir(sh).join("boringssl/peer");
    let binary = out_dir.join("srp-peer-boringssl");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_input = inputs.iter().filter_map(|p| modified(p)).max();
    if modified(&binary).is_some_and(|built| Some(built) >= newest_input) {
        return Ok(binary);
    }
    crate::step("building srp-peer-boringssl");
    sh.create_dir(&out_dir)?;
    let include = upstream::cache_dir(sh).join("boringssl/tree/include");
    let srp_include = root.join("srp-ffi/include");
    let object = out_dir.join("srp-peer-boringssl.o");
    cmd!(sh, "gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Werror -I{include} -I{srp_include} -c {source} -o {object}")
        .run()?;
    let [_, libssl, libcrypto, core] = inputs;
    // libssl is C++ (g++ links its runtime); the Rust core needs pthread, dl and m.
    cmd!(sh, "g++ {object} {libssl} {libcrypto} {core} -lpthread -ldl -lm -o {binary}").run()?;
    Ok(binary)
}

/// Builds (when missing or older than its source) and returns `srp-peer-openssl`: the same peer
/// source built against the system's OpenSSL 3.0 libssl and its SRP API.
pub fn openssl_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    crate::deps::ensure_debian_packages(sh, &["gcc", "libssl-dev"])?;
    let source = sh.current_dir().join("tests/peers/srp-peer-boringssl.c");
    let out_dir = upstream::cache_dir(sh).join("peers");
    let binary = out_dir.join("srp-peer-openssl");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&binary).is_some_and(|built| Some(built) >= modified(&source)) {
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

#[derive(clap::Args)]
struct Interop {
    /// Handshakes per successful case (each group, suite and pair).
    #[arg(long, default_value_t = 100)]
    count: u32,
}

/// A user in the interop verifier files: name, password, group bits, GnuTLS tpasswd.conf index.
const USERS: [(&str, &str, u32, u32); 4] = [
    ("alice", "alice-password", 2048, 3),
    ("bob", "bob-password", 3072, 4),
    ("carol", "carol-password", 4096, 5),
    // Below the default floor of 2048 bits.
    ("dave", "dave-password", 1536, 2),
];

/// What a client run must print.
enum Expect {
    /// `count` lines `ok version=TLS1.2 cipher=... group=BITS user=...`.
    Ok { group: u32 },
    /// One line `error: <name> alert=<alert>`; the name is checked for BoringSSL clients only.
    Err { name: &'static str, alert: &'static str },
}

struct Outcome {
    pair: String,
    case: String,
    passed: bool,
    detail: String,
}

impl Interop {
    fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(
            sh,
            &["openssl", "gnutls-bin", "iproute2", "util-linux"],
        )?;
        let boring = peer(sh)?;
        let openssl = openssl_peer(sh)?;
        let dir = upstream::cache_dir(sh).join("boringssl/interop");
        if dir.exists() {
            sh.remove_path(&dir)?;
        }
        sh.create_dir(&dir)?;
        crate::step("making verifier files with `openssl srp` and `srptool`");
        let vfile = dir.join("srpvfile");
        let tpasswd = dir.join("tpasswd");
        let tconf = dir.join("tpasswd.conf");
        sh.write_file(&vfile, "")?;
        sh.write_file(&tpasswd, "")?;
        cmd!(sh, "srptool --create-conf {tconf}").quiet().ignore_stdout().run()?;
        for (user, password, bits, index) in USERS {
            let pass = format!("pass:{password}");
            let gn = bits.to_string();
            cmd!(sh, "openssl srp -srpvfile {vfile} -add -gn {gn} -passout {pass} {user}")
                .quiet()
                .ignore_stderr()
                .run()?;
            let index = index.to_string();
            cmd!(sh, "srptool --passwd {tpasswd} --passwd-conf {tconf} -i {index} -u {user}")
                .stdin(format!("{password}\n"))
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()?;
        }

        let n = self.count;
        let mut outcomes = Vec::new();
        let peers = [("boringssl", &boring), ("openssl", &openssl)];
        for (server_name, server) in peers {
            for (client_name, client) in peers {
                let pair = format!("{client_name} -> {server_name}");
                crate::step(&format!("{pair} ({n} handshakes per group and suite)"));
                let fake_users = server_name == "boringssl";
                for (case, args, expect, runs) in cases(n, fake_users, client_name == "boringssl") {
                    let out = run_case(server, &vfile, client, &args, runs)?;
                    outcomes.push(judge(
                        &pair,
                        &case,
                        &out,
                        &expect,
                        n,
                        client_name == "boringssl",
                    ));
                }
            }
        }
        crate::step("gnutls-cli -> boringssl");
        outcomes.extend(gnutls_client_cases(&boring, &tpasswd)?);
        crate::step("boringssl -> gnutls-serv (private network namespace)");
        outcomes.extend(gnutls_server_cases(sh, &boring, &dir, n)?);

        let failed = outcomes.iter().filter(|o| !o.passed).count();
        println!("| pair | case | result |\n|---|---|---|");
        for o in &outcomes {
            println!("| {} | {} | {} |", o.pair, o.case, if o.passed { "pass" } else { &o.detail });
        }
        println!("interop: {} passed, {failed} failed", outcomes.len() - failed);
        ensure!(failed == 0, "{failed} interop cases failed");
        Ok(())
    }
}

/// The cases for one pair: name, client arguments, expectation, connections the server takes.
fn cases(n: u32, fake_users: bool, boring_client: bool) -> Vec<(String, Vec<String>, Expect, u32)> {
    let mut cases = Vec::new();
    let args = |user: &str, password: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> =
            ["--user", user, "--password", password].iter().map(|s| s.to_string()).collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    for (user, password, bits, _) in &USERS[..3] {
        for cipher in ["0xC01D", "0xC020"] {
            let count = n.to_string();
            cases.push((
                format!("{bits}-bit group, {cipher}"),
                args(user, password, &["--cipher", cipher, "--count", &count]),
                Expect::Ok { group: *bits },
                n,
            ));
        }
    }
    cases.push((
        "wrong password".into(),
        args("alice", "wrong", &[]),
        Expect::Err { name: "SRP_WRONG_PASSWORD", alert: "bad_record_mac" },
        1,
    ));
    cases.push((
        "unknown user".into(),
        args("mallory", "x", &[]),
        if fake_users {
            Expect::Err { name: "SRP_WRONG_PASSWORD", alert: "bad_record_mac" }
        } else {
            Expect::Err { name: "SRP_UNKNOWN_USER", alert: "unknown_psk_identity" }
        },
        1,
    ));
    if boring_client {
        cases.push((
            "missing username".into(),
            Vec::new(),
            Expect::Err { name: "SRP_CREDENTIALS_REQUIRED", alert: "unknown_psk_identity" },
            1,
        ));
        cases.push((
            "1536-bit group below the floor".into(),
            args("dave", "dave-password", &[]),
            Expect::Err { name: "SRP_GROUP_TOO_SMALL", alert: "insufficient_security" },
            1,
        ));
    }
    cases
}

/// Runs a server peer for `runs` connections and a client peer against it; returns the
/// client's output and exit status.
fn run_case(
    server: &Path,
    vfile: &Path,
    client: &Path,
    args: &[String],
    runs: u32,
) -> anyhow::Result<(String, bool)> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new("timeout")
        .arg("300")
        .arg(server)
        .args(["server", "--listen", "127.0.0.1:0", "--verifiers"])
        .arg(vfile)
        .args(["--count", &runs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", server.display()))?;
    let stdout = child.stdout.take().context("no server stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let first = lines.next().context("the server printed nothing")??;
    let addr = first
        .strip_prefix("listening ")
        .with_context(|| format!("expected `listening HOST:PORT`, found {first:?}"))?
        .to_owned();
    // Drain the server's log lines so it never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());
    let out = Command::new("timeout")
        .arg("300")
        .arg(client)
        .args(["client", "--connect", &addr])
        .args(args)
        .output()?;
    let _ = child.wait();
    let _ = drain.join();
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success()))
}

fn judge(
    pair: &str,
    case: &str,
    (stdout, success): &(String, bool),
    expect: &Expect,
    n: u32,
    boring_client: bool,
) -> Outcome {
    let lines: Vec<&str> = stdout.lines().collect();
    let (passed, detail) = match expect {
        Expect::Ok { group } => {
            let group = format!(" group={group} ");
            let good = lines
                .iter()
                .filter(|l| l.starts_with("ok version=TLS1.2 cipher=0xC0") && l.contains(&group))
                .count();
            (
                *success && good == n as usize,
                format!("{good}/{n} handshakes ok: {:?}", lines.last()),
            )
        }
        Expect::Err { name, alert } => {
            let want_alert = format!(" alert={alert}");
            let ok = !*success
                && lines.last().is_some_and(|l| {
                    l.ends_with(&want_alert)
                        && (!boring_client || l == &format!("error: {name}{want_alert}"))
                });
            (ok, format!("expected error {name} alert={alert}, found {:?}", lines.last()))
        }
    };
    Outcome { pair: pair.into(), case: case.into(), passed, detail }
}

/// gnutls-cli (one handshake per run) against the BoringSSL server peer, which reads the
/// GnuTLS tpasswd file.
fn gnutls_client_cases(boring: &Path, tpasswd: &Path) -> anyhow::Result<Vec<Outcome>> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    const RUNS: u32 = 20;
    let cases: [(&str, &str, &str, bool); 3] = [
        ("alice, 2048-bit group", "alice", "alice-password", true),
        ("bob, 3072-bit group", "bob", "bob-password", true),
        ("wrong password", "alice", "wrong", false),
    ];
    let mut outcomes = Vec::new();
    for (case, user, password, want_ok) in cases {
        let runs = if want_ok { RUNS } else { 1 };
        let mut server = Command::new("timeout")
            .arg("300")
            .arg(boring)
            .args(["server", "--listen", "127.0.0.1:0", "--verifiers"])
            .arg(tpasswd)
            .args(["--count", &runs.to_string()])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut lines = std::io::BufReader::new(server.stdout.take().context("no stdout")?).lines();
        let first = lines.next().context("the server printed nothing")??;
        let port = first.rsplit(':').next().unwrap_or_default().to_owned();
        let mut good = 0;
        let mut last = String::new();
        for _ in 0..runs {
            let out = Command::new("timeout")
                .args(["60", "gnutls-cli", "--port", &port, "--srpusername", user, "--srppasswd"])
                .arg(password)
                .args(["--priority", "NORMAL:-KX-ALL:+SRP", "127.0.0.1"])
                .stdin(Stdio::null())
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            let handshake_ok = text.contains("Handshake was completed");
            if handshake_ok == want_ok && (want_ok || text.contains("Received alert [20]")) {
                good += 1;
            }
            last = text
                .lines()
                .filter(|l| l.contains("alert") || l.contains("Handshake"))
                .collect::<Vec<_>>()
                .join(" / ");
        }
        let log: Vec<String> = lines.map_while(Result::ok).collect();
        let _ = server.wait();
        let server_ok = if want_ok {
            log.iter().filter(|l| l.starts_with(&format!("accepted user={user} "))).count()
                == runs as usize
        } else {
            log.iter().any(|l| l == "rejected alert=bad_record_mac")
        };
        outcomes.push(Outcome {
            pair: "gnutls-cli -> boringssl".into(),
            case: case.into(),
            passed: good == runs && server_ok,
            detail: format!("{good}/{runs} as expected; client: {last}; server: {log:?}"),
        });
    }
    Ok(outcomes)
}

/// The BoringSSL client peer against gnutls-serv. gnutls-serv listens on all interfaces, so
/// both run in a private network namespace (`unshare -n`) with only a loopback interface.
fn gnutls_server_cases(
    sh: &Shell,
    boring: &Path,
    dir: &Path,
    n: u32,
) -> anyhow::Result<Vec<Outcome>> {
    let script = dir.join("gnutls-serv.sh");
    let boring = boring.display();
    sh.write_file(
        &script,
        format!(
            "set -u\ncd {dir}\nip link set lo up\n\
             gnutls-serv --port 5556 --srppasswd tpasswd --srppasswdconf tpasswd.conf \\\n  \
             --priority 'NORMAL:-KX-ALL:+SRP:+SRP-RSA' > gnutls-serv.log 2>&1 &\n\
             for i in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/5556) 2>/dev/null && break; sleep 0.1; done\n\
             c() {{ echo \"== $1\"; shift; timeout 300 {boring} client --connect 127.0.0.1:5556 \"$@\"; echo \"== exit $?\"; }}\n\
             c alice --user alice --password alice-password --count {n}\n\
             c bob --user bob --password bob-password --count {n} --cipher 0xC020\n\
             c carol --user carol --password carol-password --count {n}\n\
             c wrong --user alice --password wrong\n\
             c missing\n\
             c floor --user dave --password dave-password\n\
             kill %1\n",
            dir = dir.display()
        ),
    )?;
    let out = cmd!(sh, "timeout 900 unshare -n bash {script}").quiet().ignore_status().read()?;
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("== ").filter(|l| !l.starts_with("exit")) {
            sections.push((name.to_owned(), Vec::new()));
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push(line.to_owned());
        }
    }
    let expect = |name: &str| -> (Expect, &'static str) {
        match name {
            "alice" => (Expect::Ok { group: 2048 }, "2048-bit group, 0xC01D"),
            "bob" => (Expect::Ok { group: 3072 }, "3072-bit group, 0xC020"),
            "carol" => (Expect::Ok { group: 4096 }, "4096-bit group, 0xC01D"),
            "wrong" => (
                Expect::Err { name: "SRP_WRONG_PASSWORD", alert: "bad_record_mac" },
                "wrong password",
            ),
            "missing" => (
                Expect::Err { name: "SRP_CREDENTIALS_REQUIRED", alert: "unknown_psk_identity" },
                "missing username",
            ),
            _ => (
                Expect::Err { name: "SRP_GROUP_TOO_SMALL", alert: "insufficient_security" },
                "1536-bit group below the floor",
            ),
        }
    };
    let mut outcomes = Vec::new();
    for (name, lines) in sections {
        let success = lines.last().is_some_and(|l| l == "== exit 0");
        let text: String =
            lines.iter().filter(|l| !l.starts_with("== exit")).map(|l| format!("{l}\n")).collect();
        let (expect, case) = expect(&name);
        outcomes.push(judge("boringssl -> gnutls-serv", case, &(text, success), &expect, n, true));
    }
    ensure!(
        outcomes.len() == 6,
        "the gnutls-serv script ran {} of 6 cases:\n{out}",
        outcomes.len()
    );
    Ok(outcomes)
}
