//! `cargo xtask firefox <fetch|check|frontend-test|configure|compile-check>`: Firefox ESR
//! 140.12 with the front-end half of the TLS-SRP series in `gecko-ui/` (issue 11), as an
//! [`Upstream`] (the shared fetch, check, tree and cache steps are in `upstream`). Firefox is
//! not built here (hours on two cores), so it is no [`upstream::Buildable`]: the front end runs
//! in Debian's binary.
//!
//! - `fetch`: the pinned Debian source (`firefox-esr` 140.12.0esr-1~deb12u1, bookworm, through
//!   a `deb-src` entry derived from the machine's own) into the cache's `downloads/`, verified,
//!   then unpacked (`xz -T2`) with the series applied into `<cache>/firefox/work/tree`.
//! - `check`: the series checker (entries exist, none unused or twice, DEP-3 and house format,
//!   all apply with zero fuzz and zero offset to a fresh tree), then Firefox's formatters on
//!   the files the series leaves: prettier (the version Firefox's `package.json` pins, from
//!   npm, with its `.prettierrc.js` and `.prettierignore`: JavaScript, HTML, XHTML) and
//!   clang-format 19 (with its `.clang-format` and `.clang-format-ignore`) on C and C++; both
//!   must report zero diffs.
//! - `frontend-test`: `gecko-ui/tests/frontend/run.py` in the installed pinned `firefox-esr`
//!   under Xvfb, screenshots to `docs/screenshots/firefox/`.
//! - `configure`: `mach configure` offline with Debian's toolchain, objects in
//!   `<cache>/firefox/work/obj`.
//! - `compile-check`: the tiers up to pre-compile (the series' IDL becomes C++ headers), then
//!   every object of every directory the series touches (`<dir>/target-objects`), with a
//!   summary. Compiling is not linking: what no object of those directories uses is not
//!   checked, and a full build is out of reach here.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

mod rust;

use crate::progress::Unit;
use crate::upstream::format::{CLANG_FORMAT, CXX, diff_against, with_endings};
use crate::upstream::{self, DebianSource, Pin, Series, Source, SourceFile, Upstream, Work};

/// The orig tarball of Debian's `firefox-esr` 140.12.0esr-1~deb12u1 (Mozilla's source release,
/// top directory `firefox-140.12.0/`). It vendors NSS 3.112.5 in `security/nss`.
const PIN: Pin = Pin {
    name: "firefox",
    version: "140.12.0esr",
    file: "firefox-esr_140.12.0esr.orig.tar.xz",
    size: 682_717_088,
    sha256: "5c72347381233dcc97cbd02c0324116258769d8b9b0f869fd0c6f1d59519ce2a",
};

/// The Debian version of the source and of the binary the front-end test runs in.
pub(crate) const DEBIAN_VERSION: &str = "140.12.0esr-1~deb12u1";

/// The tarball's top directory is dropped: the tree is Firefox's source root.
const STRIP_COMPONENTS: u32 = 1;

/// The NSS Firefox vendors (3.112.5), as the tarball names it: what `cargo xtask nss --firefox`
/// unpacks, as `nss/` (the layout of NSS's own release tarballs).
const NSS_MEMBERS: &[&str] = &["firefox-140.12.0/security/nss"];

/// Where the tree vendors NSS: NSS's series (`nss-patches/`, with its 3.112 delta) applies
/// here, before `gecko-ui/`, so that PSM sees the TLS-SRP API.
const NSS_DIR: &str = "security/nss";

/// The object that registers the classes of every `components.conf` (generated in the export
/// tier): compile-check builds it when the series touches one.
const STATIC_COMPONENTS: &str = "xpcom/components/StaticComponents.o";

/// Where Debian installs the application (the front-end test copies it).
const FIREFOX_DIR: &str = "/usr/lib/firefox-esr";

/// The test driver's PyPI dependency, pinned (installed in a virtual environment in the cache).
const MARIONETTE_DRIVER: &str = "marionette_driver==3.7.1";

/// What `mach configure` needs from Debian to run offline (no bootstrap): clang 19 and lld,
/// libclang for bindgen, Rust from `rustc-web` and `cargo-web`, cbindgen 0.27.0 (the 0.29.4
/// security update writes a header that does not compile), NASM (dav1d), Node (present as
/// `nodejs`), the GTK, X11, D-Bus, PulseAudio, ALSA and DRM headers, zip, unzip and m4.
const CONFIGURE_PACKAGES: &[&str] = &[
    "clang-19",
    "lld-19",
    "libclang-19-dev",
    "rustc-web",
    "cargo-web",
    "cbindgen-web=0.27.0-1~deb12u1",
    "nasm",
    "nodejs",
    "python3",
    "libgtk-3-dev",
    "libx11-xcb-dev",
    "libxt-dev",
    "libdbus-1-dev",
    "libpulse-dev",
    "libasound2-dev",
    "libdrm-dev",
    "zip",
    "unzip",
    "m4",
];

/// The configure options: nothing downloaded (Debian's toolchain instead of Mozilla's), and
/// no WebAssembly sandbox (it needs a wasi sysroot that Debian's clang 19 lacks).
const CONFIGURE_OPTIONS: &[&str] = &["--disable-bootstrap", "--without-wasm-sandboxed-libraries"];

/// The toolchain, by path: Debian's `rustc-web` and `cargo-web` install `/usr/bin/rustc` and
/// `/usr/bin/cargo`, which a rustup installation earlier in `PATH` would shadow.
const TOOLCHAIN: &[(&str, &str)] = &[
    ("CC", "/usr/bin/clang-19"),
    ("CXX", "/usr/bin/clang++-19"),
    ("RUSTC", "/usr/bin/rustc"),
    ("CARGO", "/usr/bin/cargo"),
    ("CBINDGEN", "/usr/bin/cbindgen"),
    ("NODEJS", "/usr/bin/node"),
    ("NASM", "/usr/bin/nasm"),
];

/// Where the front-end test writes its screenshots, relative to the project root.
const SCREENSHOTS: &str = "docs/screenshots/firefox";

/// File name endings clang-format checks (`_format_include_extensions` of Firefox's
/// `python/mozbuild/mozbuild/code_analysis/mach_commands.py`).
/// The files of `argv[2..]` that Firefox's `.clang-format-ignore` (`argv[1]`) does not ignore,
/// one a line. Its lines are Python regular expressions matched at the start of the path, as
/// `mach clang-format` (`_generate_path_list`) and `mach lint` read them; clang-format's own
/// reading of the file (glob patterns) would ignore other files.
const CLANG_FORMAT_IGNORE: &str = r##"
import re, sys
with open(sys.argv[1]) as f:
    lines = [l.rstrip() for l in f if not l.startswith("#") and l.strip()]
ignored = re.compile("(%s)" % "|".join(r"^[\./]*" + l for l in lines))
print("\n".join(p for p in sys.argv[2:] if not ignored.match(p)))
"##;

/// Firefox ESR as an upstream tree.
#[derive(Clone, Copy, Default)]
pub struct Firefox;

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: FirefoxCommand,
}

#[derive(clap::Subcommand)]
enum FirefoxCommand {
    /// Fetch the pinned source (verified) and unpack it, with gecko-ui/ applied, into the
    /// cache's firefox/work/tree.
    Fetch,
    /// Check gecko-ui/series: entries exist, none unused or twice, DEP-3 and house format, all
    /// apply with zero fuzz and offset; prettier and clang-format report zero diffs.
    Check,
    /// Run gecko-ui/tests/frontend/run.py in the pinned firefox-esr (installed when missing)
    /// under Xvfb; screenshots to docs/screenshots/firefox/.
    FrontendTest,
    /// `mach configure` offline with Debian's toolchain (installed when missing), objects in
    /// the cache's firefox/work/obj.
    Configure,
    /// Configure when needed, build the tiers up to pre-compile (the series' IDL becomes C++
    /// headers), then compile every object of every directory the series touches (make -k);
    /// prints each object with its result and fails on any error.
    CompileCheck,
    /// Configure when needed, then `mach build` and `mach package` in the cache's
    /// firefox/work/obj: the patched browser, hours on 2 cores. A compiler cache is used when
    /// configured (see gecko-ui/README.md): TLS_SRP_FIREFOX_CCACHE=sccache or ccache,
    /// TLS_SRP_FIREFOX_ICECC=1 (icecc behind ccache).
    Build(BuildArgs),
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Parallel jobs (mach's -j); mach's default (the machine's cores) when absent.
    #[arg(long, short)]
    jobs: Option<u32>,
    /// Build only, without `mach package`.
    #[arg(long)]
    no_package: bool,
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            FirefoxCommand::Fetch => {
                let (work, _lock) = upstream::work_tree(sh, &Firefox)?;
                println!("{}", work.tree.display());
                Ok(())
            }
            FirefoxCommand::Check => upstream::check(sh, &Firefox),
            FirefoxCommand::FrontendTest => frontend_test(sh),
            FirefoxCommand::Configure => {
                let (work, _lock) = upstream::work_tree(sh, &Firefox)?;
                configure(sh, &work)
            }
            FirefoxCommand::CompileCheck => compile_check(sh),
            FirefoxCommand::Build(args) => build(sh, &args),
        }
    }
}

impl Upstream for Firefox {
    fn name(&self) -> &'static str {
        "firefox"
    }

    fn series_dir(&self) -> &'static str {
        "gecko-ui"
    }

    fn source(&self, _sh: &Shell) -> anyhow::Result<Source> {
        Ok(Source {
            files: vec![SourceFile { pin: PIN, strip_components: STRIP_COMPONENTS, members: &[] }],
            // Exactly this version: security updates replace ESR releases, and the old source
            // leaves the archive within weeks (the error then names what is on offer).
            provider: Box::new(DebianSource {
                package: "firefox-esr",
                version: DEBIAN_VERSION,
                any_revision: false,
                suite: "bookworm",
            }),
        })
    }

    /// NSS's series (with the delta for 3.112.5, the NSS this tree vendors) in `security/nss`.
    /// Firefox's build of it (gyp read into moz.build) passes no `srp_ffi_*` variables, so
    /// NSS builds without the core: `NSS_DISABLE_TLS_SRP`, the SRP API present and failing
    /// with `SSL_ERROR_FEATURE_DISABLED`.
    fn prior_series(&self, sh: &Shell) -> anyhow::Result<Vec<Series>> {
        Ok(vec![upstream::series(sh, &crate::nss::Nss::FIREFOX)?.applied_in(NSS_DIR)])
    }

    /// The crates.io crates the series adds to `Cargo.lock` into `third_party/rust`, the core
    /// into `third_party/tls_srp` ([`rust::put_in`]).
    fn after_series(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        rust::put_in(sh, tree)
    }

    fn after_series_inputs(&self, sh: &Shell) -> anyhow::Result<String> {
        rust::inputs(sh)
    }

    /// Firefox's formatters on the files the series leaves: zero diffs.
    fn check_tree(&self, sh: &Shell, tree: &Path, series: &Series) -> anyhow::Result<()> {
        let touched = series.touched_files()?;
        let cxx = with_endings(&touched, CXX);
        let mut problems = Vec::new();
        if let Err(e) = check_prettier(sh, tree, &touched) {
            problems.push(format!("{e:#}"));
        }
        if cxx.is_empty() {
            println!("clang-format: the series touches no C or C++");
        } else if let Err(e) = check_clang_format(sh, tree, &cxx) {
            problems.push(format!("{e:#}"));
        }
        ensure!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    }
}

/// The source of the NSS that the pinned Firefox vendors: its `security/nss` folder only, from
/// the same pinned tarball and provider, unpacked as `nss/` (`cargo xtask nss --firefox`).
pub fn nss_source(sh: &Shell) -> anyhow::Result<Source> {
    let mut source = Firefox.source(sh)?;
    for file in &mut source.files {
        file.strip_components = 2;
        file.members = NSS_MEMBERS;
    }
    Ok(source)
}

/// prettier, in the version the tree's `package.json` pins, with the tree's `.prettierrc.js`
/// and `.prettierignore`, on each of `files` (relative to `tree`) that `.prettierignore` leaves
/// in (it ignores every file, then lets in what Firefox formats with prettier: JavaScript,
/// JSON, HTML, XHTML ...; not CSS, which stylelint checks): none may differ. A file whose
/// parser prettier cannot tell from its name (`.sjs`) is JavaScript, as `mach lint` (ESLint's
/// prettier plugin) formats it.
fn check_prettier(sh: &Shell, tree: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    let version = prettier_version(&tree.join("package.json"))?;
    let prettier = install_prettier(sh, &version)?;
    let _dir = sh.push_dir(tree);
    let (config, ignore) = (".prettierrc.js", ".prettierignore");
    let (mut checked, mut diffs) = (Vec::new(), Vec::new());
    for file in files {
        let info =
            cmd!(sh, "{prettier} --ignore-path {ignore} --file-info {file}").quiet().read()?;
        let info: serde_json::Value =
            serde_json::from_str(&info).context("reading prettier --file-info")?;
        if info["ignored"] == serde_json::Value::Bool(true) {
            continue;
        }
        let parser = info["inferredParser"].as_str().unwrap_or("babel");
        let formatted = cmd!(
            sh,
            "{prettier} --config {config} --ignore-path {ignore} --parser {parser} {file}"
        )
        .quiet()
        .ignore_stderr()
        .output()?;
        ensure!(
            formatted.status.success(),
            "prettier cannot format {} ({})",
            file.display(),
            formatted.status
        );
        if let Some(diff) = diff_against(sh, tree, file.as_ref(), &formatted.stdout)? {
            diffs.push(diff);
        }
        checked.push(file.display().to_string());
    }
    ensure!(
        diffs.is_empty(),
        "prettier {version} (Firefox's config) would change {} file(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    println!(
        "prettier {version}: zero diffs in the {} of {} touched files .prettierignore leaves in: {}",
        checked.len(),
        files.len(),
        checked.join(" ")
    );
    Ok(())
}

/// The prettier version the tree's `package.json` pins (an exact version: a range would not
/// say which formatting is right).
fn prettier_version(package_json: &Path) -> anyhow::Result<String> {
    let text = fs::read_to_string(package_json)
        .with_context(|| format!("reading {}", package_json.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", package_json.display()))?;
    let version = ["devDependencies", "dependencies"]
        .iter()
        .find_map(|section| json[section]["prettier"].as_str())
        .with_context(|| format!("{} pins no prettier", package_json.display()))?;
    ensure!(
        !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "expected an exact prettier version in {}, found {version:?}",
        package_json.display()
    );
    Ok(version.to_owned())
}

/// prettier `version` from npm, in the cache's `tools/prettier-<version>/` (installed once,
/// with npm's own integrity check); returns the program.
pub(crate) fn install_prettier(sh: &Shell, version: &str) -> anyhow::Result<PathBuf> {
    let program = crate::deps::npm_package(sh, "prettier", version, None)?.join(".bin/prettier");
    let found = cmd!(sh, "{program} --version").quiet().read()?;
    ensure!(found.trim() == version, "expected prettier {version}, found {found}");
    Ok(program)
}

/// clang-format with the tree's `.clang-format` on `files` (relative to `tree`) that its
/// `.clang-format-ignore` leaves in: none may differ.
fn check_clang_format(sh: &Shell, tree: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &[CLANG_FORMAT, "python3"])?;
    let _dir = sh.push_dir(tree);
    let kept = cmd!(sh, "python3 -c {CLANG_FORMAT_IGNORE} .clang-format-ignore {files...}")
        .quiet()
        .read()?;
    let kept: Vec<&str> = kept.lines().filter(|l| !l.is_empty()).collect();
    for file in files {
        if !kept.contains(&file.to_string_lossy().as_ref()) {
            println!("clang-format: {} is in .clang-format-ignore", file.display());
        }
    }
    let mut diffs = Vec::new();
    for file in &kept {
        // From standard input, so that only Firefox's reading of the ignore file counts; the
        // style comes from the .clang-format above the file's path.
        let source = fs::read(tree.join(file)).with_context(|| format!("reading {file}"))?;
        let formatted = cmd!(sh, "{CLANG_FORMAT} --style=file --assume-filename={file}")
            .quiet()
            .stdin(&source)
            .output()?;
        ensure!(
            formatted.status.success(),
            "{CLANG_FORMAT} cannot format {file} ({})",
            formatted.status
        );
        if let Some(diff) = diff_against(sh, tree, file.as_ref(), &formatted.stdout)? {
            diffs.push(diff);
        }
    }
    ensure!(
        diffs.is_empty(),
        "{CLANG_FORMAT} (Firefox's .clang-format) would change {} file(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    println!("{CLANG_FORMAT}: {} C/C++ files, zero diffs", kept.len());
    Ok(())
}

/// `cargo xtask firefox frontend-test`: the pinned Debian binary (installed when missing, so
/// the test never runs in another version), Xvfb, ImageMagick, marionette_driver (pinned, in a
/// virtual environment in the cache), then `run.py`.
fn frontend_test(sh: &Shell) -> anyhow::Result<()> {
    let firefox = format!("firefox-esr={DEBIAN_VERSION}");
    crate::deps::ensure_debian_packages(
        sh,
        &[&firefox, "xvfb", "imagemagick", "openssl", "patch", "python3"],
    )?;
    let python = marionette_python(sh)?;
    let run = sh.current_dir().join("gecko-ui/tests/frontend/run.py");
    let out = sh.current_dir().join(SCREENSHOTS);
    crate::step(&format!(
        "gecko-ui/tests/frontend/run.py in {FIREFOX_DIR} ({firefox}), screenshots to {SCREENSHOTS}"
    ));
    let started = std::time::Instant::now();
    cmd!(sh, "{python} {run} --firefox-dir {FIREFOX_DIR} --out {out}").run()?;
    eprintln!("frontend test passed in {:.0?}", started.elapsed());
    Ok(())
}

/// A Python with the pinned marionette_driver: a virtual environment in the cache's
/// `tools/`, made once from the machine's `python3` (so nothing is installed system-wide).
pub(crate) fn marionette_python(sh: &Shell) -> anyhow::Result<PathBuf> {
    let name = MARIONETTE_DRIVER.replace("==", "-");
    let tools = crate::cache::dir()?.join("tools");
    let dir = tools.join(format!("python-{name}"));
    if !dir.exists() {
        let _lock = crate::cache::lock(&tools.join(format!("python-{name}.lock")))?;
        crate::cache::keyed(&dir, |tmp| {
            crate::step(&format!(
                "installing {MARIONETTE_DRIVER} from PyPI into {}",
                dir.display()
            ));
            if cmd!(sh, "python3 -m venv {tmp}").quiet().run().is_err() {
                bail!("python3 cannot make a virtual environment: install python3-venv");
            }
            let pip = tmp.join("bin/python");
            cmd!(
                sh,
                "{pip} -m pip install --quiet --disable-pip-version-check {MARIONETTE_DRIVER}"
            )
            .run()?;
            Ok(())
        })?;
    }
    // The environment's interpreter finds its packages next to itself, wherever it was made.
    let python = dir.join("bin/python");
    let check = "import marionette_driver";
    cmd!(sh, "{python} -c {check}")
        .quiet()
        .run()
        .with_context(|| format!("{} has no marionette_driver", dir.display()))?;
    Ok(python)
}

/// The object folder (outside the tree, so updating the tree never touches it), the mozconfig
/// and mach's state folder (instead of `~/.mozbuild`), all in the work folder.
struct Mach {
    tree: PathBuf,
    obj: PathBuf,
    env: Vec<(String, String)>,
}

impl Mach {
    fn new(work: &Work) -> anyhow::Result<Self> {
        let obj = work.dir.join("obj");
        let mozconfig = work.dir.join("mozconfig");
        let mut text = "# Written by `cargo xtask firefox configure`.\n".to_owned();
        for option in CONFIGURE_OPTIONS {
            text += &format!("ac_add_options {option}\n");
        }
        text += &format!("mk_add_options MOZ_OBJDIR={}\n", obj.display());
        text += &CompilerCache::from_env()?.mozconfig();
        if fs::read_to_string(&mozconfig).ok().as_deref() != Some(text.as_str()) {
            fs::write(&mozconfig, text)?;
        }
        let mut env: Vec<(String, String)> =
            TOOLCHAIN.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.extend([
            ("MOZCONFIG".to_owned(), mozconfig.display().to_string()),
            ("MOZBUILD_STATE_PATH".to_owned(), work.dir.join("mozbuild").display().to_string()),
            // mach's Python packages from the tree only (as Debian's build does): no downloads.
            ("MACH_BUILD_PYTHON_NATIVE_PACKAGE_SOURCE".to_owned(), "none".to_owned()),
            ("MACH_NO_TERMINAL_FOOTER".to_owned(), "1".to_owned()),
        ]);
        Ok(Self { tree: work.tree.clone(), obj, env })
    }

    /// Runs `./mach <args>` in the tree with the toolchain's environment.
    fn run(&self, sh: &Shell, args: &[&str]) -> anyhow::Result<()> {
        let _dir = sh.push_dir(&self.tree);
        cmd!(sh, "python3 mach {args...}").envs(self.env.iter().cloned()).run()?;
        Ok(())
    }
}

/// The compiler cache every command that configures uses, from the environment (mach
/// reconfigures when the mozconfig changes):
/// - `TLS_SRP_FIREFOX_CCACHE=sccache` or `ccache`: `--with-ccache=<program>`, which caches C,
///   C++ and (sccache) Rust;
/// - `TLS_SRP_FIREFOX_ICECC=1`: icecc behind ccache (`CCACHE_PREFIX=icecc`, as Firefox's
///   `cxx_is_icecream` recognises it), with ccache unless another cache is named; give `build`
///   a `-j` that the icecream cluster can take.
#[derive(Debug, Default, PartialEq)]
struct CompilerCache {
    ccache: Option<String>,
    icecc: bool,
}

impl CompilerCache {
    fn from_env() -> anyhow::Result<Self> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::from_values(read("TLS_SRP_FIREFOX_CCACHE"), read("TLS_SRP_FIREFOX_ICECC"))
    }

    fn from_values(ccache: Option<String>, icecc: Option<String>) -> anyhow::Result<Self> {
        if let Some(program) = &ccache {
            ensure!(
                matches!(program.as_str(), "sccache" | "ccache"),
                "TLS_SRP_FIREFOX_CCACHE={program}: sccache or ccache"
            );
        }
        let icecc = match icecc.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => bail!("TLS_SRP_FIREFOX_ICECC={other}: 1 or 0"),
        };
        ensure!(
            !(icecc && ccache.as_deref() == Some("sccache")),
            "TLS_SRP_FIREFOX_ICECC=1 runs icecc behind ccache, not sccache"
        );
        let ccache = if icecc { Some("ccache".to_owned()) } else { ccache };
        Ok(Self { ccache, icecc })
    }

    /// The mozconfig lines.
    fn mozconfig(&self) -> String {
        let mut text = String::new();
        if let Some(program) = &self.ccache {
            text += &format!("ac_add_options --with-ccache={program}\n");
        }
        if self.icecc {
            text += "export CCACHE_PREFIX=icecc\n";
        }
        text
    }

    /// The Debian packages it needs.
    fn packages(&self) -> Vec<&str> {
        let mut packages: Vec<&str> = self.ccache.as_deref().into_iter().collect();
        if self.icecc {
            packages.push("icecc");
        }
        packages
    }
}

/// `build`: the packages of the compiler cache (when one is configured), `configure` when the
/// output folder has none, then `mach build` and `mach package`; where the result is at the end.
fn build(sh: &Shell, args: &BuildArgs) -> anyhow::Result<()> {
    let cache = CompilerCache::from_env()?;
    crate::deps::ensure_debian_packages(sh, &cache.packages())?;
    let (work, _lock) = upstream::work_tree(sh, &Firefox)?;
    let mach = Mach::new(&work)?;
    if !mach.obj.join("config.status").exists() {
        configure(sh, &work)?;
    }
    let jobs: Vec<String> = args.jobs.map(|j| format!("-j{j}")).into_iter().collect();
    let mut build_args = vec!["build"];
    build_args.extend(jobs.iter().map(String::as_str));
    let started = std::time::Instant::now();
    crate::step("mach build (the whole browser: hours on 2 cores)");
    mach.run(sh, &build_args)?;
    eprintln!("mach build in {:.0?}", started.elapsed());
    if !args.no_package {
        crate::step("mach package");
        mach.run(sh, &["package"])?;
    }
    println!(
        "built in {:.0?}: run {}{}",
        started.elapsed(),
        mach.obj.join("dist/bin/firefox").display(),
        if args.no_package {
            String::new()
        } else {
            format!("; the package is in {}", mach.obj.join("dist").display())
        }
    );
    Ok(())
}

/// `mach configure` offline in the patched tree; about a minute.
fn configure(sh: &Shell, work: &Work) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, CONFIGURE_PACKAGES)?;
    let mach = Mach::new(work)?;
    crate::step(&format!(
        "mach configure {} (objects in {})",
        CONFIGURE_OPTIONS.join(" "),
        mach.obj.display()
    ));
    let started = std::time::Instant::now();
    mach.run(sh, &["configure"])?;
    eprintln!("configured in {:.0?}", started.elapsed());
    Ok(())
}

/// The tiers up to pre-compile (generated headers and sources), then `make -k target-objects`
/// in every directory the series touches that has objects, with a summary line per object
/// (`ok` or `FAILED`); fails when any object did not compile.
fn compile_check(sh: &Shell) -> anyhow::Result<()> {
    let series = upstream::series(sh, &Firefox)?;
    let (work, _lock) = upstream::work_tree(sh, &Firefox)?;
    let mach = Mach::new(&work)?;
    if !mach.obj.join("config.status").exists() {
        configure(sh, &work)?;
    }
    // export: generated headers (the series' IDL among them); pre-compile: files the objects
    // include that are generated later (security/manager/ssl's xpcshell.inc).
    crate::step("mach build pre-export export pre-compile (generated headers and sources)");
    let started = std::time::Instant::now();
    mach.run(sh, &["build", "-j2", "pre-export", "export", "pre-compile"])?;
    eprintln!("pre-export, export and pre-compile tiers in {:.0?}", started.elapsed());
    // NSS's series first (security/nss/lib/ssl: libssl without the core), then gecko-ui's.
    let mut touched = Vec::new();
    for prior in Firefox.prior_series(sh)? {
        touched.extend(prior.touched_files()?.into_iter().map(|f| prior.subdir.join(f)));
    }
    touched.extend(series.touched_files()?);
    // A components.conf registers its classes in the generated StaticComponents.cpp of
    // xpcom/components, which includes their headers and calls their constructors.
    let registers = touched.iter().any(|f| f.file_name() == Some("components.conf".as_ref()));
    let mut dirs: Vec<PathBuf> = Vec::new();
    for file in touched {
        let dir = file.parent().unwrap_or(Path::new("")).to_owned();
        for dir in build_dirs(&mach.obj, &dir) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    let mut summary = Vec::new();
    let mut failed = Vec::new();
    for dir in &dirs {
        let objdir = mach.obj.join(dir);
        let objects = objects(sh, &mach, &objdir)?;
        if objects.is_empty() {
            summary.push(format!("{}: no objects", dir.display()));
            continue;
        }
        let started = std::time::Instant::now();
        let built = || objects.iter().filter(|o| objdir.join(o).exists()).count() as u64;
        crate::step(&format!(
            "make -k target-objects in {} ({} objects)",
            dir.display(),
            objects.len()
        ));
        let what = format!("compiling {}", dir.display());
        // `make -k` directly (the tiers above brought the build files up to date): every object
        // is tried, and make names each target that failed.
        let output =
            crate::progress::watch(&what, Some(objects.len() as u64), Unit::Items, built, || {
                cmd!(sh, "make -C {objdir} -k -j2 -s target-objects")
                    .envs(mach.env.iter().cloned())
                    .ignore_status()
                    .quiet()
                    .output()
            })?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprint!("{}{stderr}", String::from_utf8_lossy(&output.stdout));
        let failed_targets = failed_make_targets(&stderr);
        for object in &objects {
            let ok = objdir.join(object).exists()
                && (output.status.success() || !failed_targets.contains(object));
            summary.push(format!(
                "{} {}/{object}",
                if ok { "ok    " } else { "FAILED" },
                dir.display()
            ));
            if !ok {
                failed.push(format!("{}/{object}", dir.display()));
            }
        }
        if !output.status.success() {
            let others: Vec<&String> =
                failed_targets.iter().filter(|t| !objects.contains(t)).collect();
            summary
                .push(format!("FAILED {}: make failed (other targets: {others:?})", dir.display()));
            failed.push(dir.display().to_string());
        }
        summary.push(format!(
            "       {}: {} objects ({:.0?})",
            dir.display(),
            objects.len(),
            started.elapsed()
        ));
    }
    if work.tree.join(rust::SRP_FFI_STATIC).exists() {
        let started = std::time::Instant::now();
        let core = nss_with_core(sh, &mach)?;
        summary.push(format!(
            "security/srp_ffi: the core built (cargo) and linked into libssl3.so, which exports \
             {} symbols, none of the core's or Rust's; {} of the core's functions inside ({:.0?})",
            core.exported,
            core.local_core_functions,
            started.elapsed()
        ));
    }
    if registers {
        let target = STATIC_COMPONENTS;
        let started = std::time::Instant::now();
        crate::step(&format!("mach build {target} (the series' components.conf)"));
        mach.run(sh, &["build", "-j2", target])?;
        summary.push(format!("{target}: compiled ({:.0?})", started.elapsed()));
    }
    println!(
        "compile-check of the directories the series touch (NSS's in security/nss, gecko-ui's):\n  {}",
        summary.join("\n  ")
    );
    ensure!(failed.is_empty(), "did not compile: {}", failed.join(", "));
    Ok(())
}

/// The targets GNU make names as failed in its messages (`make[1]: *** [rules.mk:660:
/// Unified_cpp_x0.o] Error 1`, `*** No rule to make target 'x.h', needed by ...`).
fn failed_make_targets(stderr: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in stderr.lines() {
        let Some((_, rest)) = line.split_once("*** ") else { continue };
        let target = if let Some(inner) = rest.strip_prefix('[') {
            inner.split_once(']').map(|(t, _)| t.rsplit(": ").next().unwrap_or(t))
        } else {
            rest.strip_prefix("No rule to make target '")
                .and_then(|t| t.split_once('\''))
                .map(|(t, _)| t)
        };
        if let Some(target) = target {
            targets.push(target.to_owned());
        }
    }
    targets
}

/// The NSS libraries Firefox's build links: `libssl3.so` with the core in it, and what it and
/// a program using it load (NSPR, libnss3, libnssutil3, the softoken and freebl).
const NSS_TARGETS: &[&str] = &[
    "security/nss/lib/ssl/ssl_ssl3/target",
    "security/nss/lib/softoken/softoken_softokn3/target",
    "security/nss/lib/freebl/freebl_freeblpriv3/target",
    "security/nss/lib/freebl/freebl_freebl3/target",
];

/// What [`nss_with_core`] built and found.
struct NssWithCore {
    /// `dist/bin`, where the libraries are.
    lib_dir: PathBuf,
    /// How many symbols `libssl3.so` exports.
    exported: usize,
    /// How many of the core's C functions (`srp_*`) are in `libssl3.so`, all local.
    local_core_functions: usize,
}

/// Builds the core as Firefox does (`mach build security/srp_ffi`: cargo, offline, from
/// `third_party/rust` and `third_party/tls_srp`), then the NSS libraries of [`NSS_TARGETS`] with
/// the tree's `make` rules and their dependencies (with `-o` for the Rust library, which the
/// build otherwise orders after every other Rust library, gkrust included: hours). Then checks
/// `libssl3.so`: the core's functions are in it, and neither they nor Rust's are exported.
fn nss_with_core(sh: &Shell, mach: &Mach) -> anyhow::Result<NssWithCore> {
    crate::step("mach build security/srp_ffi (the core, with cargo)");
    mach.run(sh, &["build", "-j2", "security/srp_ffi"])?;
    crate::step("make the NSS libraries (libssl3.so links the core)");
    let obj = &mach.obj;
    cmd!(sh, "make -C {obj} -j2 -s -o security/srp_ffi/target-objects {NSS_TARGETS...}")
        .envs(mach.env.iter().cloned())
        .run()?;
    let lib_dir = obj.join("dist/bin");
    let libssl = lib_dir.join("libssl3.so");
    let exported = cmd!(sh, "nm -D --defined-only {libssl}").quiet().read()?;
    let leaked: Vec<&str> = exported
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|name| {
            // The core's C functions, Rust's mangled names (legacy and v0) and its runtime.
            ["srp_", "_ZN", "_R", "rust_", "__rust"].iter().any(|p| name.starts_with(p))
        })
        .collect();
    ensure!(leaked.is_empty(), "libssl3.so exports the core's or Rust's symbols: {leaked:?}");
    let all = cmd!(sh, "nm {libssl}").quiet().read()?;
    let local_core_functions = all
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("t"))
        .filter(|l| l.split_whitespace().nth(2).is_some_and(|n| n.starts_with("srp_")))
        .count();
    ensure!(local_core_functions > 0, "libssl3.so has none of the core's functions (srp_*)");
    Ok(NssWithCore { lib_dir, exported: exported.lines().count(), local_core_functions })
}

/// `tests/peers/srp-peer-nss.c` built against the NSS of Firefox's own build (the tree's
/// libraries and headers, [`nss_with_core`]), for `cargo xtask interop --nss-firefox-build`:
/// the core as the series links it into Firefox's libssl3, against OpenSSL and GnuTLS. Builds
/// what is missing: the tree, `mach configure`, the export tiers (about 10 minutes the first
/// time), the core and NSS (about 10 more).
pub fn nss_peer(sh: &Shell) -> anyhow::Result<PathBuf> {
    let (work, _lock) = upstream::work_tree(sh, &Firefox)?;
    ensure!(
        work.tree.join(rust::SRP_FFI_STATIC).exists(),
        "gecko-ui's series does not build the core ({} is not in the tree)",
        rust::SRP_FFI_STATIC
    );
    let mach = Mach::new(&work)?;
    if !mach.obj.join("config.status").exists() {
        configure(sh, &work)?;
    }
    crate::step("mach build pre-export export (NSS's public headers)");
    mach.run(sh, &["build", "-j2", "pre-export", "export"])?;
    let nss = nss_with_core(sh, &mach)?;
    let root = sh.current_dir();
    let source = root.join("tests/peers/srp-peer-nss.c");
    let include = mach.obj.join("dist/include/nss");
    let lib = &nss.lib_dir;
    let peer = work.dir.join("srp-peer-nss-firefox-build");
    // NSPR's headers from Debian (4.35): the tree's dist/include/nspr lacks obsolete/; the
    // program runs with the tree's NSPR (4.36), which keeps the ABI.
    cmd!(
        sh,
        "gcc -std=gnu99 -O1 -g -Wall -Wextra -Werror -I{include} -I/usr/include/nspr -o {peer}
         {source} -L{lib} -Wl,--disable-new-dtags,-rpath,{lib} -lssl3 -lnss3 -lnssutil3 -lplc4
         -lplds4 -lnspr4"
    )
    .run()?;
    Ok(peer)
}

/// The object directories that build the sources of `dir` (relative to the tree): `dir`
/// itself for a moz.build directory; for a directory of gyp targets (NSS's `lib/ssl` becomes
/// `lib/ssl/ssl_ssl`, `lib/ssl/ssl_ssl3` ...), each target's directory. A directory that is
/// not built (NSS's gtests and `cmd/` in Firefox) gives itself, which has no objects.
fn build_dirs(obj: &Path, dir: &Path) -> Vec<PathBuf> {
    if obj.join(dir).join("Makefile").exists() {
        return vec![dir.to_owned()];
    }
    let mut targets: Vec<PathBuf> = fs::read_dir(obj.join(dir))
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Makefile").exists())
        .map(|entry| dir.join(entry.file_name()))
        .collect();
    targets.sort();
    if targets.is_empty() { vec![dir.to_owned()] } else { targets }
}

/// The objects (`OBJS`, relative to the object directory) that `objdir`'s Makefile builds;
/// none when the directory has no Makefile (no C, C++ or Rust sources).
fn objects(sh: &Shell, mach: &Mach, objdir: &Path) -> anyhow::Result<Vec<String>> {
    if !objdir.join("Makefile").exists() {
        return Ok(Vec::new());
    }
    let out = cmd!(sh, "make -s -C {objdir} echo-variable-OBJS")
        .envs(mach.env.iter().cloned())
        .quiet()
        .read()?;
    Ok(out.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_targets_are_read_from_makes_messages() {
        let stderr = "In file included from x.cpp:1:\n\
            make[1]: *** [/t/config/rules.mk:660: Unified_cpp_http0.o] Error 1\n\
            gmake: *** [/t/config/rules.mk:660: Unified_cpp_http3.o] Error 1\n\
            make: *** No rule to make target 'gen.h', needed by 'a.o'.  Stop.\n\
            make: *** Waiting for unfinished jobs....\n";
        assert_eq!(
            failed_make_targets(stderr),
            ["Unified_cpp_http0.o", "Unified_cpp_http3.o", "gen.h"]
        );
    }

    #[test]
    fn compiler_caches_become_mozconfig_lines() {
        let none = CompilerCache::from_values(None, None).unwrap();
        assert_eq!(none.mozconfig(), "");
        assert!(none.packages().is_empty());
        let sccache = CompilerCache::from_values(Some("sccache".into()), None).unwrap();
        assert_eq!(sccache.mozconfig(), "ac_add_options --with-ccache=sccache\n");
        assert_eq!(sccache.packages(), ["sccache"]);
        let icecc = CompilerCache::from_values(None, Some("1".into())).unwrap();
        assert_eq!(
            icecc.mozconfig(),
            "ac_add_options --with-ccache=ccache\nexport CCACHE_PREFIX=icecc\n"
        );
        assert_eq!(icecc.packages(), ["ccache", "icecc"]);
        assert!(CompilerCache::from_values(Some("distcc".into()), None).is_err());
        assert!(CompilerCache::from_values(Some("sccache".into()), Some("1".into())).is_err());
        assert!(CompilerCache::from_values(None, Some("yes".into())).is_err());
    }
}
