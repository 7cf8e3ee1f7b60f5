//! `cargo xtask chromium <fetch|check|configure|compile-check|build>`: Chromium 150 (Debian's
//! `chromium` 150.0.7871.100-1~deb12u1) with Debian's patches and the series in `chromium-ui/`
//! (issue 12), as an [`Upstream`] (the shared fetch, check, tree and cache steps are in
//! `upstream`). It is no [`upstream::Buildable`]: a full build takes days on two cores, so
//! `build` is a command of its own, which no test runs.
//!
//! - `fetch`: the pinned Debian source (the orig tarball and Debian's packaging, through a
//!   bookworm `deb-src` entry derived from the machine's own) into the cache's `downloads/`,
//!   verified, then unpacked (`xz -T2`, with progress), Debian's patches applied (`quilt push
//!   -a`) and then the series, into `<cache>/chromium/work/tree`. A tree made from the same
//!   files and series is reused (its stamp holds their checksums).
//! - `check`: the series checker on a fresh scratch tree (entries exist, none unused or twice,
//!   DEP-3 and house format, all apply with zero fuzz and zero offset after Debian's patches).
//! - `configure`: Debian's build dependencies ([`build_packages`], installed when missing),
//!   Debian's configure steps (those of `debian/rules override_dh_auto_configure` a net build
//!   needs: bindgen, Node, esbuild and gperf put where the build looks for them, system
//!   libraries unbundled), then `gn gen` with the arguments `debian/rules` passes (read from it
//!   with make) and the two this Rust needs, into `<cache>/chromium/work/out`. Nothing is
//!   downloaded besides Debian packages: clang-19, lld-19, `rustc-web` and the system `gn`
//!   (`generate-ninja`).
//! - `compile-check`: the objects of the C and C++ sources the series touches (`gn outputs`),
//!   built with Ninja in `<work>/out`, each listed with its result. Compiling is not linking;
//!   headers are checked through the objects that include them.
//! - `build`: `configure`, then `ninja chrome` (or other targets) in `<work>/out`, with the
//!   build accelerators the environment configures ([`Accelerators`]).
//!
//! BoringSSL at Chromium's revision (`third_party/boringssl/src`) is built and tested on its
//! own with `cargo xtask boringssl build|test --chromium` ([`boringssl_source`]).

mod net_tests;
mod ninja;
mod rust;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

use crate::upstream::format::{CLANG_FORMAT, CXX, diff_against, with_endings};
use crate::upstream::{self, DebianSource, Pin, Series, Source, SourceFile, Upstream, Work};

/// The orig tarball of Debian's `chromium` 150.0.7871.100-1~deb12u1 (Chromium's source
/// release, top folder `chromium-150.0.7871.100/`).
const ORIG: Pin = Pin {
    name: "chromium",
    version: "150.0.7871.100",
    file: "chromium_150.0.7871.100.orig.tar.xz",
    size: 941_208_512,
    sha256: "2d39244586a0e28242ea082777dbfa877e9d374e62bf9f2d86a92b0a142118cd",
};

/// Debian's packaging of that version (`debian/`: rules, control, patches).
const DEBIAN: Pin = Pin {
    name: "chromium",
    version: "150.0.7871.100-1~deb12u1",
    file: "chromium_150.0.7871.100-1~deb12u1.debian.tar.xz",
    size: 8_623_800,
    sha256: "d9641a650e66d8106038ea40869b1fce681a1a4721b288fc941234f34b73f1a7",
};

/// The Debian version of the source.
const DEBIAN_VERSION: &str = "150.0.7871.100-1~deb12u1";

/// Where Chromium vendors BoringSSL, relative to the tree: the BoringSSL series applies here.
const BORINGSSL_DIR: &str = "third_party/boringssl/src";

/// [`BORINGSSL_DIR`] as the start of a path below the tarball's top folder.
const BORINGSSL_IN_TREE: &str = "third_party/boringssl/src/";

/// The orig tarball's top folder is dropped: the tree is Chromium's source root.
const STRIP_COMPONENTS: u32 = 1;

/// BoringSSL in the tarball: upstream revision 3a9254f16eda7a4c5d2260039ff23456a0a34de4
/// (`DEPS`, `third_party/boringssl/README.chromium`), unpacked alone as BoringSSL's top folder.
const BORINGSSL_MEMBERS: &[&str] = &["chromium-150.0.7871.100/third_party/boringssl/src"];
const BORINGSSL_STRIP_COMPONENTS: u32 = 4;

/// gn arguments besides Debian's: Debian's `trixie/adler1.patch` expects a Rust std that
/// ships `adler`; this machine's `rustc-web` ships `adler2`.
const EXTRA_GN_ARGS: &[&str] =
    &[r#"removed_rust_stdlib_libs=["adler"]"#, r#"added_rust_stdlib_libs=["adler2"]"#];

/// Rollup at the version of bookworm's `rollup` package (3.15.0-1+deb12u1), with npm's
/// integrity of its tarball: `configure` puts it where Debian's build puts that package's
/// files. The package itself is left out (see [`LEFT_OUT_PACKAGES`]): its Node modules
/// conflict with a Node from elsewhere. WebUI bundles (`lit`, content's resources) and
/// DevTools need it.
const ROLLUP: (&str, &str) = (
    "3.15.0",
    "sha512-F9hrCAhnp5/zx/7HYmftvsNBkMfLfk/dXUh73hPSM2E3CRgap65orDNJbLetoiUFwSAk6iHPLvBrZ5iHYvzqsg==",
);

/// Rollup's terser plugin at the version of bookworm's `node-rollup-plugin-terser`
/// (7.0.2+~5.0.1-8), with npm's integrity of its tarball. DevTools' inspector overlay bundle
/// names it (`rollup --plugin terser`), and Debian's build finds that package beside its
/// rollup; `configure` puts it beside rollup in the tree, with the packages npm installed
/// for it. Left out as a package for the same reason as rollup.
const ROLLUP_PLUGIN_TERSER: (&str, &str) = (
    "7.0.2",
    "sha512-w3iIaU4OxcF52UUXiZNsNeuXIMDvFrr+ZXK6bFZ0Q60qyVfq4uLptoS4bbq3paG3x216eQllFZX7zt6TIImguQ==",
);

/// What `configure` installs besides the pinned `debian/control`'s `Build-Depends`
/// ([`build_packages`]): make and dpkg-dev read `debian/rules`, quilt applied Debian's patches.
const TOOL_PACKAGES: &[&str] = &["make", "dpkg-dev", "quilt", "xz-utils"];

/// `Build-Depends` of the pinned `debian/control` that `configure` leaves out, each for a
/// reason: `rollup` and `node-rollup-plugin-terser`, whose Debian Node modules conflict with a
/// Node from elsewhere (this machine's 20.x), and `nodejs` itself: the build runs the machine's
/// `node`, and the same rollup comes from npm ([`ROLLUP`]; the terser plugin is not used by the
/// build's own bundling scripts); `libstd-rust-dev
/// (>= 1.84)`, which `rustc-web`'s `libstd-rust-web-dev` provides (naming it would install
/// bookworm's own 1.63). Entries for a build profile (`<cross>`) are left out too.
const LEFT_OUT_PACKAGES: &[&str] =
    &["rollup", "node-rollup-plugin-terser", "nodejs", "libstd-rust-dev"];

/// The Debian packages `configure` needs: [`TOOL_PACKAGES`], then the first alternative of
/// each `Build-Depends` entry of `control` (the pinned `debian/control`), without its
/// architecture qualifier and version, except [`LEFT_OUT_PACKAGES`] and entries restricted to
/// a build profile.
fn build_packages(control: &str) -> anyhow::Result<Vec<String>> {
    let field = control
        .lines()
        .skip_while(|l| !l.starts_with("Build-Depends:"))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with([' ', '\t']))
        .map(|(_, l)| l.trim_start_matches("Build-Depends:"))
        .collect::<Vec<_>>()
        .join(" ");
    ensure!(!field.trim().is_empty(), "debian/control has no Build-Depends");
    let mut packages: Vec<String> = TOOL_PACKAGES.iter().map(|p| (*p).to_owned()).collect();
    for entry in field.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry.contains('<') {
            continue;
        }
        let first = entry.split('|').next().unwrap_or_default().trim();
        let name = first.split([' ', '(', '[']).next().unwrap_or_default();
        let name = name.split(':').next().unwrap_or_default();
        if !name.is_empty()
            && !LEFT_OUT_PACKAGES.contains(&name)
            && !packages.iter().any(|p| p == name)
        {
            packages.push(name.to_owned());
        }
    }
    Ok(packages)
}

/// Chromium as an upstream tree.
#[derive(Clone, Copy, Default)]
pub struct Chromium;

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: ChromiumCommand,
}

#[derive(clap::Subcommand)]
enum ChromiumCommand {
    /// Fetch the pinned Debian source (verified) and unpack it, with Debian's patches and then
    /// chromium-ui/ applied, into the cache's chromium/work/tree.
    Fetch,
    /// Check chromium-ui/series: entries exist, none unused or twice, DEP-3 and house format,
    /// all apply with zero fuzz and offset after Debian's patches.
    Check,
    /// Debian's build dependencies (installed when missing) and configure steps, then `gn gen`
    /// with Debian's arguments into the cache's chromium/work/out.
    Configure,
    /// Configure when needed, then compile the objects of every C and C++ file the series
    /// touches (`gn outputs`), listing each with its result; fails on any error. The first
    /// object of a directory needs its host tools first (about 50 minutes on 2 cores for net/).
    CompileCheck(CompileCheckArgs),
    /// Build and run the series' //net unit tests (and the SSL socket tests around them) in a
    /// partial test binary: the series' test objects, all of //net, its test support and QUIC,
    /// with stubs that abort naming each symbol left out (SQL stores, WebSockets...). Not
    /// net_unittests, which cannot be built here; see chromium-ui/README.md.
    NetTests(NetTestsArgs),
    /// Configure, then build the patched browser (`ninja chrome`) or other targets in the
    /// cache's chromium/work/out: many hours on a workstation, days on 2 cores. ccache (or
    /// another compiler wrapper), Siso and remote execution are used when configured (see
    /// chromium-ui/README.md): TLS_SRP_CHROMIUM_CC_WRAPPER, TLS_SRP_CHROMIUM_SISO=1,
    /// TLS_SRP_CHROMIUM_REMOTEEXEC=1.
    Build(BuildArgs),
}

#[derive(clap::Args)]
struct BuildArgs {
    /// The Ninja targets to build.
    #[arg(default_value = "chrome")]
    targets: Vec<String>,
    /// Parallel jobs (Ninja's -j); Ninja's default when absent.
    #[arg(long, short)]
    jobs: Option<u32>,
}

#[derive(clap::Args)]
struct NetTestsArgs {
    /// The tests to run (googletest's --gtest_filter).
    #[arg(long, default_value = net_tests::DEFAULT_FILTER)]
    filter: String,
}

#[derive(clap::Args)]
struct CompileCheckArgs {
    /// Also compile the objects of this source, relative to the tree (repeatable): files the
    /// series will touch, or the one whose object builds a directory's host tools
    /// (`net/socket/ssl_client_socket_impl.cc`).
    #[arg(long)]
    file: Vec<String>,
    /// Compile only these of the sources (repeatable): a file relative to the tree, or a folder
    /// ending in `/` for every source under it (`--only net/`); the core's Rust targets are
    /// `third_party/tls_srp/`. For checking a change to a few patches on a machine without the
    /// objects of the rest: each folder's first object needs its host tools first.
    #[arg(long)]
    only: Vec<String>,
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            ChromiumCommand::Fetch => {
                let (work, _lock) = upstream::work_tree(sh, &Chromium)?;
                println!("{}", work.tree.display());
                Ok(())
            }
            ChromiumCommand::Check => upstream::check(sh, &Chromium),
            ChromiumCommand::Configure => {
                let (work, _lock) = upstream::work_tree(sh, &Chromium)?;
                configure(sh, &work, &Accelerators::from_env()?).map(drop)
            }
            ChromiumCommand::CompileCheck(args) => compile_check(sh, &args.file, &args.only),
            ChromiumCommand::Build(args) => build(sh, &args),
            ChromiumCommand::NetTests(args) => {
                let (work, _lock) = upstream::work_tree(sh, &Chromium)?;
                let env = configured(sh, &work)?;
                net_tests::run(sh, &work.tree, &work.dir.join("out"), &env, &args.filter)
            }
        }
    }
}

/// Where the Debian files come from: exactly the pinned version (security updates replace
/// Chromium releases within weeks; the error then names what is on offer).
fn provider() -> DebianSource {
    DebianSource {
        package: "chromium",
        version: DEBIAN_VERSION,
        any_revision: false,
        suite: "bookworm",
    }
}

impl Upstream for Chromium {
    fn name(&self) -> &'static str {
        "chromium"
    }

    fn series_dir(&self) -> &'static str {
        "chromium-ui"
    }

    fn source(&self, _sh: &Shell) -> anyhow::Result<Source> {
        Ok(Source {
            files: vec![
                SourceFile { pin: ORIG, strip_components: STRIP_COMPONENTS, members: &[] },
                SourceFile { pin: DEBIAN, strip_components: 0, members: &[] },
            ],
            provider: Box::new(provider()),
        })
    }

    /// BoringSSL's series with its Chromium 150 delta (`boringssl-patches/chromium-150/`) in
    /// `third_party/boringssl/src`, so that `//net` builds against the TLS-SRP API; the same
    /// patches `cargo xtask boringssl test --chromium` builds and tests on their own.
    fn prior_series(&self, sh: &Shell) -> anyhow::Result<Vec<Series>> {
        Ok(vec![
            upstream::series(sh, &crate::boringssl::Boringssl::CHROMIUM)?.applied_in(BORINGSSL_DIR),
        ])
    }

    /// The core's crates and the crates.io crates the series adds to `third_party/rust`
    /// ([`rust::put_in`]).
    fn after_series(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        rust::put_in(sh, tree)
    }

    fn after_series_inputs(&self, sh: &Shell) -> anyhow::Result<String> {
        rust::inputs(sh)
    }

    /// Chromium's formatters, as its presubmit runs them: `clang-format` on the lines the
    /// series changes in C and C++ files (`git cl format` formats changed lines only, so
    /// upstream lines formatted by an older clang-format stay as they are), `gn format` on
    /// whole build files (the presubmit checks them whole). Zero diffs.
    fn check_tree(&self, sh: &Shell, tree: &Path, series: &Series) -> anyhow::Result<()> {
        let touched = series.touched_files()?;
        let cxx = with_endings(&touched, CXX);
        let gn = with_endings(&touched, &[".gn", ".gni"]);
        let mut problems = Vec::new();
        if cxx.is_empty() {
            println!("clang-format: the series touches no C or C++");
        } else if let Err(e) = check_clang_format_lines(sh, tree, series, &cxx) {
            problems.push(format!("{e:#}"));
        }
        if gn.is_empty() {
            println!("gn format: the series touches no build file");
        } else if let Err(e) = check_gn_format(sh, tree, &gn) {
            problems.push(format!("{e:#}"));
        }
        ensure!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    }

    /// Debian's patches (`debian/patches/series`), as Debian's build applies them.
    fn after_unpack(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, &["quilt"])?;
        let series = fs::read_to_string(tree.join("debian/patches/series"))
            .context("reading debian/patches/series")?;
        let count = upstream::parse_series(&series)?.len();
        crate::step(&format!("applying Debian's {count} patches (quilt push -a)"));
        let started = Instant::now();
        let _dir = sh.push_dir(tree);
        let output = cmd!(sh, "quilt --quiltrc=- push -a")
            .env("QUILT_PATCHES", "debian/patches")
            .quiet()
            .ignore_status()
            .output()?;
        ensure!(
            output.status.success(),
            "quilt push -a (Debian's patches) failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("Debian's patches applied in {:.0?}", started.elapsed());
        Ok(())
    }
}

/// The source of the BoringSSL that the pinned Chromium vendors: its
/// `third_party/boringssl/src` only, from the same pinned tarball and provider, unpacked as
/// BoringSSL's top folder (`cargo xtask boringssl ... --chromium`). Debian's patches that
/// touch it come on top ([`apply_debian_boringssl_patches`]), so that the series is proven on
/// the BoringSSL that the Chromium tree carries.
pub fn boringssl_source() -> Source {
    Source {
        files: vec![SourceFile {
            pin: ORIG,
            strip_components: BORINGSSL_STRIP_COMPONENTS,
            members: BORINGSSL_MEMBERS,
        }],
        provider: Box::new(provider()),
    }
}

/// What Debian's patches (`quilt push -a` applies every one in `debian/patches/series`, those
/// for other architectures too: PPC64's add lines to BoringSSL's generated source lists) do to
/// `third_party/boringssl/src`, done to a standalone BoringSSL `tree` unpacked from the same
/// tarball: each patch that touches it, in Debian's order, reduced to its BoringSSL files.
pub fn apply_debian_boringssl_patches(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    let debian = upstream::fetch_file(sh, &DEBIAN, &provider())?;
    let tmp = tempfile::tempdir().context("creating a temporary folder")?;
    let dir = tmp.path();
    cmd!(sh, "tar -xJf {debian} -C {dir} debian/patches").quiet().run()?;
    let patches = dir.join("debian/patches");
    let series = fs::read_to_string(patches.join("series")).context("reading Debian's series")?;
    let mut applied = Vec::new();
    for name in upstream::parse_series(&series)? {
        let text = fs::read_to_string(patches.join(&name))
            .with_context(|| format!("reading Debian's {name}"))?;
        let sections = boringssl_sections(&text);
        if sections.is_empty() {
            continue;
        }
        let strip = format!("-p{BORINGSSL_STRIP_COMPONENTS}");
        let output = cmd!(
            sh,
            "patch {strip} --forward --batch --no-backup-if-mismatch --reject-file=- --directory {tree}"
        )
        .stdin(sections.as_bytes())
        .quiet()
        .ignore_status()
        .output()?;
        ensure!(
            output.status.success(),
            "Debian's {name} does not apply to BoringSSL:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        applied.push(name);
    }
    eprintln!("Debian's patches to BoringSSL applied: {}", applied.join(", "));
    Ok(())
}

/// The file sections of a Debian patch (paths `chromium-<version>/...`) whose new path lies in
/// `third_party/boringssl/src/`, in order; empty when there is none. Hunks are read by their
/// line counts, so a removed line that starts with `-- ` is not taken for a file header.
fn boringssl_sections(patch: &str) -> String {
    let lines: Vec<&str> = patch.split_inclusive('\n').collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < lines.len() {
        let header =
            lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "));
        if !header {
            i += 1;
            continue;
        }
        let path = lines[i + 1][4..].split(['\t', '\n']).next().unwrap_or("");
        let inside = path.split_once('/').is_some_and(|(_, p)| p.starts_with(BORINGSSL_IN_TREE));
        let start = i;
        i += 2;
        // The hunks: `@@ -a,b +c,d @@` then b old and d new lines (context counts for both).
        while let Some((mut old, mut new)) = lines.get(i).and_then(|l| hunk_counts(l)) {
            i += 1;
            while (old > 0 || new > 0) && i < lines.len() {
                match lines[i].as_bytes().first() {
                    Some(b'-') => old = old.saturating_sub(1),
                    Some(b'+') => new = new.saturating_sub(1),
                    Some(b'\\') => {}
                    _ => {
                        old = old.saturating_sub(1);
                        new = new.saturating_sub(1);
                    }
                }
                i += 1;
            }
            // "\ No newline at end of file" after the last line of a hunk.
            while lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                i += 1;
            }
        }
        if inside {
            kept.extend(lines[start..i].iter().copied());
        }
    }
    kept
}

/// The old and new line counts of a hunk header (`@@ -a,b +c,d @@`; a missing count is 1).
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let count = |r: &str| match r.split_once(',') {
        Some((_, n)) => n.parse().ok(),
        None => Some(1),
    };
    Some((count(old)?, count(new)?))
}

/// Its script that formats the changed lines of a diff only (`git cl format` does the same).
const CLANG_FORMAT_DIFF: &str = "clang-format-diff-19";

/// Chromium's style, as its top `.clang-format` sets it (the orig tarball leaves that file
/// out): clang-format's built-in Chromium style with C++11 `>>`, braces always, a newline at
/// the end, and includes regrouped into C system, C++ standard library and other headers.
const CHROMIUM_STYLE: &str = "{BasedOnStyle: Chromium, Standard: Cpp11, InsertBraces: true, \
     InsertNewlineAtEOF: true, IncludeBlocks: Regroup, IncludeCategories: [\
     {Regex: '^<.*\\.h>', Priority: 3}, {Regex: '^<.*', Priority: 4}, {Regex: '.*', Priority: 5}]}";

/// clang-format on the lines the series adds or changes in `files`: the files as they were
/// before the series (the series undone, in reverse, on a copy of the files it touches) are
/// compared with the tree's, and `clang-format-diff` formats the changed lines only.
fn check_clang_format_lines(
    sh: &Shell,
    tree: &Path,
    series: &Series,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &[CLANG_FORMAT, "python3", "patch", "diffutils"])?;
    let before = tempfile::tempdir().context("creating a temporary folder")?;
    for file in series.touched_files()? {
        let path = tree.join(&file);
        if path.exists() {
            let copy = before.path().join(&file);
            fs::create_dir_all(copy.parent().context("a file without a folder")?)?;
            fs::copy(&path, &copy).with_context(|| format!("copying {}", path.display()))?;
        }
    }
    let dir = before.path();
    for name in series.patches.iter().rev() {
        let patch = series.path(name);
        cmd!(sh, "patch -R -p1 --fuzz=0 --batch --silent --no-backup-if-mismatch --reject-file=- --directory {dir} --input {patch}")
            .quiet()
            .run()
            .with_context(|| format!("undoing {name} to find the lines the series changed"))?;
    }
    let _dir = sh.push_dir(tree);
    let mut diffs = Vec::new();
    for file in files {
        let old = before.path().join(file);
        let old = if old.exists() { old } else { "/dev/null".into() };
        let (a, b) = (format!("a/{}", file.display()), format!("b/{}", file.display()));
        let changed = cmd!(sh, "diff -U0 --label {a} --label {b} {old} {file}")
            .quiet()
            .ignore_status()
            .read()?;
        let style = format!("-style={CHROMIUM_STYLE}");
        // Exit 1 with the diff when it would change something.
        let output = cmd!(sh, "{CLANG_FORMAT_DIFF} -p1 -binary {CLANG_FORMAT} {style}")
            .quiet()
            .stdin(changed.as_bytes())
            .ignore_status()
            .output()?;
        let formatted = String::from_utf8_lossy(&output.stdout).into_owned();
        ensure!(
            matches!(output.status.code(), Some(0 | 1)) && output.stderr.is_empty(),
            "{CLANG_FORMAT_DIFF} on {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        if !formatted.trim().is_empty() {
            diffs.push(formatted);
        }
    }
    ensure!(
        diffs.is_empty(),
        "{CLANG_FORMAT} (Chromium's style) would change the series' lines in {} file(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    println!("{CLANG_FORMAT}: the series' lines in {} C/C++ files, zero diffs", files.len());
    Ok(())
}

/// `gn format` on each whole build file: zero diffs.
fn check_gn_format(sh: &Shell, tree: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &["generate-ninja", "diffutils"])?;
    let mut unformatted = Vec::new();
    for file in files {
        let source = fs::read(tree.join(file))?;
        let output =
            cmd!(sh, "gn format --stdin").quiet().stdin(&source).ignore_status().output()?;
        ensure!(
            output.status.success(),
            "gn format {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(diff) = diff_against(sh, tree, file, &output.stdout)? {
            unformatted.push(diff);
        }
    }
    ensure!(
        unformatted.is_empty(),
        "gn format would change {} build file(s):\n{}",
        unformatted.len(),
        unformatted.join("\n")
    );
    println!("gn format: {} build files, zero diffs", files.len());
    Ok(())
}

/// The gn arguments of Debian's build: the `defines` variable of `debian/rules`, evaluated by
/// make as Debian's build evaluates it (architecture, clang and rustc versions), then
/// [`EXTRA_GN_ARGS`] and those of the configured [`Accelerators`].
fn gn_args(sh: &Shell, tree: &Path, accelerators: &Accelerators) -> anyhow::Result<String> {
    let _dir = sh.push_dir(tree);
    // The shell of make's recipe reads `defines` as debian/rules' `--args="$(defines)"` does.
    let print = r#"print-tls-srp-gn-args: ; @printf '%s\n' "$(defines)""#;
    let defines = cmd!(
        sh,
        "make -s --no-print-directory -f debian/rules --eval {print} print-tls-srp-gn-args"
    )
    .quiet()
    .read()
    .context("reading the gn arguments (`defines`) from debian/rules")?;
    ensure!(
        defines.contains("is_official_build=true") && defines.contains("custom_toolchain="),
        "expected Debian's gn arguments from debian/rules, found {defines:?}"
    );
    let mut args = format!("{} {}", defines.trim(), EXTRA_GN_ARGS.join(" "));
    for arg in accelerators.gn_args() {
        args.push(' ');
        args.push_str(&arg);
    }
    Ok(args)
}

/// The build accelerators a user configured in the environment, which `configure` turns into
/// gn arguments and `build` into its build tool: a compiler wrapper such as ccache
/// (`TLS_SRP_CHROMIUM_CC_WRAPPER`, gn's `cc_wrapper`), Siso instead of Ninja
/// (`TLS_SRP_CHROMIUM_SISO=1`, `use_siso`) and remote execution (`TLS_SRP_CHROMIUM_REMOTEEXEC=1`,
/// `use_remoteexec`: Siso's, or reclient's with Ninja). None is set by default, and changing
/// them changes every compile command, so the output folder is rebuilt.
#[derive(Debug, Default, PartialEq)]
struct Accelerators {
    cc_wrapper: Option<String>,
    siso: bool,
    remoteexec: bool,
}

impl Accelerators {
    fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let flag = |name: &str| -> anyhow::Result<bool> {
            match var(name).as_deref() {
                None | Some("" | "0") => Ok(false),
                Some("1") => Ok(true),
                Some(other) => anyhow::bail!("{name}={other:?}: expected 1 or 0"),
            }
        };
        let cc_wrapper = var("TLS_SRP_CHROMIUM_CC_WRAPPER").filter(|w| !w.is_empty());
        if let Some(wrapper) = &cc_wrapper {
            ensure!(
                !wrapper.contains(['"', '\\', '$']),
                "TLS_SRP_CHROMIUM_CC_WRAPPER={wrapper:?}: a command such as ccache, without \
                 quotes, backslashes or dollar signs"
            );
        }
        let accelerators = Accelerators {
            cc_wrapper,
            siso: flag("TLS_SRP_CHROMIUM_SISO")?,
            remoteexec: flag("TLS_SRP_CHROMIUM_REMOTEEXEC")?,
        };
        // Chromium's build/toolchain/cc_wrapper.gni asserts the same.
        ensure!(
            !(accelerators.remoteexec && accelerators.cc_wrapper.is_some()),
            "TLS_SRP_CHROMIUM_REMOTEEXEC and TLS_SRP_CHROMIUM_CC_WRAPPER exclude each other"
        );
        Ok(accelerators)
    }

    fn gn_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(wrapper) = &self.cc_wrapper {
            args.push(format!("cc_wrapper=\"{wrapper}\""));
        }
        if self.siso {
            args.push("use_siso=true".to_owned());
        }
        if self.remoteexec {
            args.push("use_remoteexec=true".to_owned());
        }
        args
    }
}

/// `build`: `configure` (gn gen keeps the output folder when the arguments are the same), then
/// the targets with Ninja, or with `siso ninja` when Siso is configured. A compiler wrapper
/// that is a Debian package (ccache, sccache) is installed when missing; Siso and reclient come
/// with depot_tools, which is not installed here.
fn build(sh: &Shell, args: &BuildArgs) -> anyhow::Result<()> {
    let accelerators = Accelerators::from_env()?;
    let (work, _lock) = upstream::work_tree(sh, &Chromium)?;
    if let Some(wrapper) = &accelerators.cc_wrapper {
        let program = wrapper.split_whitespace().next().unwrap_or_default();
        if matches!(program, "ccache" | "sccache") {
            crate::deps::ensure_debian_packages(sh, &[program])?;
        }
    }
    let env = configure(sh, &work, &accelerators)?;
    let out = work.dir.join("out");
    let jobs: Vec<String> = args.jobs.map(|j| format!("-j{j}")).into_iter().collect();
    let targets = &args.targets;
    let tool = if accelerators.siso { "siso ninja" } else { "ninja" };
    crate::step(&format!("{tool} -C {} {} {}", out.display(), jobs.join(" "), targets.join(" ")));
    let started = Instant::now();
    let _dir = sh.push_dir(&work.tree);
    if accelerators.siso {
        cmd!(sh, "siso ninja -C {out} {jobs...} {targets...}")
            .envs(env)
            .run()
            .context("siso ninja (TLS_SRP_CHROMIUM_SISO=1): siso comes with depot_tools")?;
    } else {
        cmd!(sh, "ninja -C {out} {jobs...} {targets...}").envs(env).run()?;
    }
    println!(
        "built {} in {:.0?} in {}{}",
        targets.join(", "),
        started.elapsed(),
        out.display(),
        if targets.iter().any(|t| t == "chrome") {
            format!("; run {}", out.join("chrome").display())
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The toolchain's environment in Debian's build, which gn's unbundle toolchain
/// (`build/toolchain/linux/unbundle`) reads at `gn gen`: what `debian/rules` exports (`CC`,
/// `CXX`, `AR`, `NM`, `CXXFLAGS`, `LDFLAGS`), and `CFLAGS` and `CPPFLAGS` from
/// `dpkg-buildflags`, as debhelper sets them.
fn toolchain_env(sh: &Shell, tree: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let _dir = sh.push_dir(tree);
    let print = r#"print-tls-srp-env: ; @printf '%s\n' "CC=$$CC" "CXX=$$CXX" "AR=$$AR" "NM=$$NM" "CXXFLAGS=$$CXXFLAGS" "LDFLAGS=$$LDFLAGS" "CFLAGS=$$(dpkg-buildflags --get CFLAGS)" "CPPFLAGS=$$(dpkg-buildflags --get CPPFLAGS)""#;
    let text =
        cmd!(sh, "make -s --no-print-directory -f debian/rules --eval {print} print-tls-srp-env")
            .quiet()
            .read()
            .context("reading the toolchain's environment from debian/rules")?;
    let env: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect();
    ensure!(
        env.iter().any(|(k, v)| k == "CXX" && v.starts_with("clang++")),
        "expected Debian's toolchain (CXX=clang++-N) from debian/rules, found {env:?}"
    );
    Ok(env)
}

/// The steps of `debian/rules override_dh_auto_configure` a net build needs, in its order:
/// `set_up_bindgen` (Debian's bindgen 0.66.1 from `debian/bindgen/`), the machine's Node where
/// the build looks for it, rollup and its terser plugin (bookworm's versions, from npm:
/// [`ROLLUP`], [`ROLLUP_PLUGIN_TERSER`]) where Debian's build finds its packages, esbuild for
/// DevTools (the program and its Node package), gperf where Blink's build looks for it, and
/// `debian/scripts/unbundle` (the system libraries' gn files).
fn debian_configure_steps(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    let rollup = crate::deps::npm_package(sh, "rollup", ROLLUP.0, Some(ROLLUP.1))?.join("rollup");
    let _dir = sh.push_dir(tree);
    cmd!(sh, "make -s -f debian/rules set_up_bindgen").quiet().ignore_stdout().run()?;
    // Debian's build copies its rollup package into the tree, and links DevTools' `rollup3`
    // to it (debian/rules, debian/patches/system/rollup.patch).
    let node_modules = tree.join("third_party/node/node_modules/rollup");
    // `cp -a` and `cp -p` below keep the files' times: Ninja reruns every action that has them
    // as inputs (node is one of most WebUI steps') when the tree is brought up to date.
    copy_folder(sh, &rollup, &node_modules)?;
    let rollup3 = tree.join("third_party/devtools-frontend/src/node_modules/rollup3");
    if rollup3.symlink_metadata().is_ok() {
        fs::remove_file(&rollup3)?;
    }
    std::os::unix::fs::symlink(&node_modules, &rollup3)
        .with_context(|| format!("linking {}", rollup3.display()))?;
    let terser = crate::deps::npm_package(
        sh,
        "rollup-plugin-terser",
        ROLLUP_PLUGIN_TERSER.0,
        Some(ROLLUP_PLUGIN_TERSER.1),
    )?;
    let plugin = tree.join("third_party/node/node_modules/rollup-plugin-terser");
    copy_folder(sh, &terser.join("rollup-plugin-terser"), &plugin)?;
    // The packages it needs, in its own node_modules, where Node looks first.
    let own = plugin.join("node_modules");
    fs::create_dir_all(&own)?;
    for entry in fs::read_dir(&terser)? {
        let path = entry?.path();
        let name = path.file_name().context("no file name")?.to_string_lossy().into_owned();
        if name != "rollup-plugin-terser" && !name.starts_with('.') {
            cmd!(sh, "cp -a {path} {own}/").quiet().run()?;
        }
    }
    // DevTools' bundler script imports the `esbuild` package: Debian's build copies its own.
    let multiarch =
        cmd!(sh, "dpkg-architecture -qDEB_BUILD_MULTIARCH").quiet().read().context("multiarch")?;
    let esbuild = format!("/usr/lib/{}/nodejs/esbuild", multiarch.trim());
    let devtools_modules = tree.join("third_party/devtools-frontend/src/node_modules");
    copy_folder(sh, Path::new(&esbuild), &devtools_modules.join("esbuild"))?;
    let node = cmd!(sh, "which node").quiet().read().context("no node")?;
    for (dir, program) in [
        ("third_party/node/linux/node-linux-x64/bin", node.trim()),
        ("third_party/devtools-frontend/src/third_party/esbuild", "/usr/bin/esbuild"),
        ("third_party/gperf/cipd/bin", "/usr/bin/gperf"),
    ] {
        let name = Path::new(program).file_name().context("no file name")?;
        fs::create_dir_all(tree.join(dir))?;
        let to = tree.join(dir).join(name);
        // Copied beside, then renamed over: a running build may be executing the old copy
        // (`cp` onto it fails with "Text file busy").
        let copy = tree.join(dir).join(format!(".{}.tls-srp-new", name.to_string_lossy()));
        cmd!(sh, "cp -p {program} {copy}").quiet().run()?;
        fs::rename(&copy, &to).with_context(|| format!("replacing {}", to.display()))?;
    }
    cmd!(sh, "./debian/scripts/unbundle").quiet().ignore_stdout().run()?;
    Ok(())
}

/// Replaces the folder `to` with a copy of `from` (`cp -a`: with the files' times).
fn copy_folder(sh: &Shell, from: &Path, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        fs::remove_dir_all(to).with_context(|| format!("removing {}", to.display()))?;
    }
    cmd!(sh, "cp -a {from} {to}").quiet().run()?;
    Ok(())
}

/// Whether Debian's configure steps ran on the tree as it is (`configure.stamp` holds the tree's
/// stamp then): a tree brought up to date for a new series has lost what they wrote.
fn configure_steps_done(work: &Work) -> bool {
    let stamp = |name| fs::read_to_string(work.dir.join(name)).ok();
    stamp("tree.stamp").is_some() && stamp("tree.stamp") == stamp("configure.stamp")
}

/// [`configure`] when `<work>/out` has no `build.ninja` or the tree was brought up to date
/// since; the toolchain's environment either way.
fn configured(sh: &Shell, work: &Work) -> anyhow::Result<Vec<(String, String)>> {
    if !work.dir.join("out/build.ninja").exists() || !configure_steps_done(work) {
        configure(sh, work, &Accelerators::from_env()?)
    } else {
        toolchain_env(sh, &work.tree)
    }
}

/// Debian's configure steps (once per tree: `<work>/configure.stamp` holds the tree's stamp),
/// then `gn gen` into `<work>/out` with Debian's arguments, skipped when the arguments and the
/// toolchain's environment are those of the last run (`out/tls-srp-gn-gen`): Ninja then
/// regenerates its files itself when a build file changed. Returns the toolchain's environment
/// ([`toolchain_env`]), which Ninja needs too: it reruns gn when a build file changed.
fn configure(
    sh: &Shell,
    work: &Work,
    accelerators: &Accelerators,
) -> anyhow::Result<Vec<(String, String)>> {
    let tree = &work.tree;
    let control =
        fs::read_to_string(tree.join("debian/control")).context("reading debian/control")?;
    let packages = build_packages(&control)?;
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    crate::deps::ensure_debian_packages(sh, &packages)?;
    if !configure_steps_done(work) {
        crate::step("Debian's configure steps (bindgen, node, esbuild, gperf; unbundling)");
        let started = Instant::now();
        debian_configure_steps(sh, tree)?;
        let tree_stamp = fs::read_to_string(work.dir.join("tree.stamp")).unwrap_or_default();
        fs::write(work.dir.join("configure.stamp"), tree_stamp)?;
        eprintln!("Debian's configure steps in {:.0?}", started.elapsed());
    }
    let args = gn_args(sh, tree, accelerators)?;
    let env = toolchain_env(sh, tree)?;
    let out = work.dir.join("out");
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    // `gn gen` rewrites args.gn, which makes Ninja run gn once more (about two minutes) before
    // its first step; with the same arguments and environment, Ninja's own regeneration (from
    // build.ninja.d, when a build file changed) is all that is needed.
    let key = out.join("tls-srp-gn-gen");
    let wanted = format!("{}\n{args}\n", shown.join(" "));
    if out.join("build.ninja").exists() && fs::read_to_string(&key).ok() == Some(wanted.clone()) {
        println!("gn gen: the arguments and environment of {} are unchanged", out.display());
        return Ok(env);
    }
    crate::step(&format!("{} gn gen {} --args={args}", shown.join(" "), out.display()));
    let started = Instant::now();
    let _dir = sh.push_dir(tree);
    cmd!(sh, "gn gen {out} --args={args}").envs(env.clone()).run()?;
    fs::write(&key, wanted)?;
    eprintln!("gn gen in {:.0?}", started.elapsed());
    Ok(env)
}

/// File name endings of the sources whose objects `compile-check` builds (headers are
/// compiled through the objects that include them).
const SOURCES: &[&str] = &[".cc", ".c", ".cpp", ".mm"];

/// The core's Rust targets (`third_party/tls_srp/BUILD.gn`), in dependency order, each
/// with its crate's rlib (named after the crate, not the target), listed by `compile-check`.
const RUST_TARGETS: &[(&str, &str)] = &[
    ("//third_party/tls_srp:srp_core", "libsrp_core.rlib"),
    ("//third_party/tls_srp:srp_verifier_files", "libsrp_verifier_files.rlib"),
    ("//third_party/tls_srp:srp_ffi_rs", "libsrp_ffi.rlib"),
];

/// `compile-check`: the objects of the series' C and C++ sources, built with Ninja in
/// `<work>/out` (configured first when it has no `build.ninja`), with Ninja's progress; then
/// each object listed with whether Ninja has it up to date.
fn compile_check(sh: &Shell, extra: &[String], only: &[String]) -> anyhow::Result<()> {
    let series = upstream::series(sh, &Chromium)?;
    let (work, _lock) = upstream::work_tree(sh, &Chromium)?;
    let out = work.dir.join("out");
    // gn reads the toolchain from the environment, also when Ninja reruns it.
    let env = configured(sh, &work)?;
    // The series' sources, and those BoringSSL's series (with its delta) changes in
    // third_party/boringssl/src.
    // BoringSSL's own tools and tests (`tool/`, the CMake-only test programs) have no object
    // in Chromium's build: those are listed, not failed.
    let mut touched = series.touched_files()?;
    let mut prior_files = Vec::new();
    for prior in Chromium.prior_series(sh)? {
        prior_files.extend(prior.touched_files()?.iter().map(|f| prior.subdir.join(f)));
    }
    let prior_files: Vec<String> =
        prior_files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    touched.extend(prior_files.iter().map(PathBuf::from));
    let mut sources: Vec<String> = touched
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|f| SOURCES.iter().any(|e| f.ends_with(e)))
        .collect();
    for file in extra {
        ensure!(work.tree.join(file).is_file(), "--file {file}: no such file in the tree");
        if !sources.contains(file) {
            sources.push(file.clone());
        }
    }
    // The core's Rust targets, when the series adds them: building the last builds the
    // others and the vendored crates they use.
    let rust_build_file = Path::new(rust::TLS_SRP).join("BUILD.gn");
    let rust: Vec<(&str, &str)> = if work.tree.join(&rust_build_file).exists()
        && selected(only, &rust_build_file.to_string_lossy())
    {
        RUST_TARGETS.to_vec()
    } else {
        Vec::new()
    };
    for entry in only {
        ensure!(
            sources.iter().any(|s| names(entry, s))
                || (!rust.is_empty() && names(entry, &rust_build_file.to_string_lossy())),
            "--only {entry}: no source of the series or --file, and no Rust target, is there"
        );
    }
    sources.retain(|s| selected(only, s));
    if sources.is_empty() && rust.is_empty() {
        println!(
            "compile-check: chromium-ui touches {} files, none of them a C or C++ source or a \
             Rust target: nothing to compile",
            touched.len()
        );
        return Ok(());
    }
    // `gn outputs` fails on a file no target builds: BoringSSL's files that Chromium does not
    // build are told by the Ninja files of BoringSSL's build file.
    let (mut sources, not_built): (Vec<String>, Vec<String>) = {
        // `third_party/boringssl`, whose BUILD.gn builds `third_party/boringssl/src`.
        let gn_dir = Path::new(BORINGSSL_DIR).parent().context("no parent")?;
        let ninja = ninja_text(&out.join("obj").join(gn_dir))?;
        sources.into_iter().partition(|f| !prior_files.contains(f) || ninja_builds(&ninja, f))
    };
    let _dir = sh.push_dir(&work.tree);
    // One `gn outputs` for all of them (each run loads every build file: a minute or two);
    // an object is its source's when their file stems match. A source of another platform
    // (`android/...`) has no target here: gn names it, and the run is repeated without it.
    let mut other_platforms = Vec::new();
    let outputs = loop {
        let mut labels: Vec<String> = sources.iter().map(|s| format!("//{s}")).collect();
        labels.extend(rust.iter().map(|(label, _)| (*label).to_owned()));
        let output = cmd!(sh, "gn outputs {out} {labels...}")
            .envs(env.clone())
            .quiet()
            .ignore_status()
            .output()
            .context("running gn outputs")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            break stdout;
        }
        let messages = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        match unreferenced_file(&messages).filter(|file| sources.contains(file)) {
            Some(file) => {
                sources.retain(|s| *s != file);
                other_platforms.push(file);
            }
            None => bail!("gn outputs failed:\n{messages}"),
        }
    };
    let stem = |p: &str| Path::new(p).file_stem().map(|s| s.to_string_lossy().into_owned());
    let mut objects: Vec<(String, String)> = Vec::new();
    for source in &sources {
        let found: Vec<&str> =
            outputs.lines().filter(|l| l.ends_with(".o") && stem(l) == stem(source)).collect();
        ensure!(!found.is_empty(), "{source}: no object in this configuration (gn outputs)");
        objects.extend(found.iter().map(|o| (source.clone(), o.to_string())));
    }
    for (label, rlib) in &rust {
        let found = outputs
            .lines()
            .find(|l| l.ends_with(&format!("/{rlib}")))
            .with_context(|| format!("{label}: no {rlib} in this configuration (gn outputs)"))?;
        objects.push(((*label).to_owned(), found.to_owned()));
    }
    let targets: Vec<&str> = objects.iter().map(|(_, o)| o.as_str()).collect();
    crate::step(&format!(
        "ninja -k 0 {} objects of {} sources and {} Rust targets (the first object of a \
         directory builds its host tools first: about 50 minutes on 2 cores for net/)",
        targets.len() - rust.len(),
        sources.len(),
        rust.len()
    ));
    let started = Instant::now();
    // Ninja refuses a whole run when one target needs a file that is missing, and the Debian
    // tarball lacks test data that Chromium's test targets need: those objects are set apart
    // (read from the Ninja files, once Ninja has brought them up to date), the generated
    // headers of their dependencies that Ninja can build are built with the rest, and they are
    // compiled with their own commands.
    cmd!(sh, "ninja -C {out} build.ninja").envs(env.clone()).quiet().ignore_stdout().run()?;
    let graph = ninja::Graph::load(&out)?;
    let needs = graph.blocked(&out, &targets);
    let blocked: Vec<(&str, &str)> = targets
        .iter()
        .zip(&needs)
        .filter_map(|(target, needs)| match needs {
            ninja::Needs::Missing(file) => Some((*target, file.as_str())),
            ninja::Needs::Nothing => None,
        })
        .collect();
    let buildable: Vec<&str> = targets
        .iter()
        .zip(&needs)
        .filter(|(_, needs)| **needs == ninja::Needs::Nothing)
        .map(|(target, _)| *target)
        .collect();
    let mut to_build: Vec<String> = buildable.iter().map(|t| (*t).to_owned()).collect();
    for (target, missing) in &blocked {
        let dependencies = graph.buildable_dependencies(&out, target);
        println!(
            "{target}: Ninja cannot build it ({missing} is not in the tree); building the {} \
             generated headers of its dependencies Ninja can build, then compiling it with its \
             own command",
            dependencies.len()
        );
        to_build.extend(dependencies);
    }
    to_build.sort();
    to_build.dedup();
    drop(graph);
    let built = cmd!(sh, "ninja -C {out} -k 0 {to_build...}").envs(env.clone()).run();
    let mut compiled_alone = Vec::new();
    if !blocked.is_empty() {
        let to_compile: Vec<&str> = blocked.iter().map(|(target, _)| *target).collect();
        let commands = cmd!(sh, "ninja -C {out} -t commands -s {to_compile...}")
            .envs(env.clone())
            .quiet()
            .read()?;
        let _out_dir = sh.push_dir(&out);
        for (target, missing) in &blocked {
            let command = commands.lines().find(|line| {
                line.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| w == ["-o", target])
            });
            let ok = match command {
                Some(command) => {
                    crate::step(&format!("compiling {target} with its own command"));
                    // Ninja makes an output's folder before it runs a command; the folders of
                    // targets it never built are not there yet.
                    let folder = out.join(target);
                    fs::create_dir_all(folder.parent().context("an object without a folder")?)?;
                    cmd!(sh, "sh -c {command}").envs(env.clone()).run().is_ok()
                }
                None => false,
            };
            compiled_alone.push((*target, *missing, ok));
        }
    }
    // What Ninja would still build (one dry run for all: each run loads every Ninja file).
    let dry =
        cmd!(sh, "ninja -C {out} -n {buildable...}").envs(env).quiet().ignore_status().read()?;
    let pending = pending_outputs(&dry);
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for (source, object) in &objects {
        let (ok, how) = match compiled_alone.iter().find(|(target, ..)| target == object) {
            Some((_, missing, ok)) => {
                (*ok, format!("; with its own command: Ninja lacks {missing}"))
            }
            None => (!pending.contains(object.as_str()), String::new()),
        };
        summary.push(format!("{} {source} ({object}{how})", if ok { "ok    " } else { "FAILED" }));
        if !ok {
            failed.push(source.clone());
        }
    }
    for source in &not_built {
        summary.push(format!("-      {source} (BoringSSL's series; not in Chromium's build)"));
    }
    for source in &other_platforms {
        summary.push(format!("-      {source} (no target builds it on this platform)"));
    }
    println!(
        "compile-check of the sources and Rust targets chromium-ui (with BoringSSL's series) \
         touches and --file names{} ({:.0?}):\n  {}",
        if only.is_empty() { String::new() } else { format!(", only {}", only.join(" ")) },
        started.elapsed(),
        summary.join("\n  ")
    );
    ensure!(
        failed.is_empty() && built.is_ok(),
        "{} sources or targets did not compile",
        failed.len()
    );
    Ok(())
}

/// Whether `--only` (`only`) selects `file`: it names the file, or a folder (ending in `/`)
/// the file is in; everything when it is empty.
fn selected(only: &[String], file: &str) -> bool {
    only.is_empty() || only.iter().any(|o| names(o, file))
}

/// Whether the `--only` entry `entry` names `file`, or a folder (ending in `/`) it is in.
fn names(entry: &str, file: &str) -> bool {
    entry == file || (entry.ends_with('/') && file.starts_with(entry))
}

/// The file of gn's "No targets reference the file '//<file>'." error, relative to the tree.
fn unreferenced_file(gn_output: &str) -> Option<String> {
    let (_, rest) = gn_output.split_once("No targets reference the file '//")?;
    let (file, _) = rest.split_once('\'')?;
    Some(file.to_owned())
}

/// The outputs a dry run (`ninja -n`) would build: each of its `[n/m] RULE output...` lines
/// names them after the rule (Chromium's descriptions: `CXX obj/x.o`, `RUST obj/x.rlib ...`).
fn pending_outputs(dry_run: &str) -> std::collections::HashSet<&str> {
    dry_run
        .lines()
        .filter_map(|line| line.strip_prefix('[')?.split_once("] "))
        .flat_map(|(_, description)| description.split_whitespace().skip(1))
        .collect()
}

/// The text of every Ninja file under `dir` (`<out>/obj/<a build file's folder>`), for
/// [`ninja_builds`]; empty when `dir` does not exist.
fn ninja_text(dir: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if !dir.exists() {
        return Ok(text);
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
        if entry.path().extension().is_some_and(|e| e == "ninja") {
            text += &fs::read_to_string(entry.path())?;
            text.push('\n');
        }
    }
    Ok(text)
}

/// Whether a build statement of `ninja` (see [`ninja_text`]) has `file` (relative to the
/// tree) as an input: Ninja names it relative to the output folder (`../tree/<file>`).
fn ninja_builds(ninja: &str, file: &str) -> bool {
    let needle = format!("/{file}");
    ninja.match_indices(&needle).any(|(at, _)| {
        let after = ninja[at + needle.len()..].chars().next();
        matches!(after, None | Some(' ' | '\n'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selects_files_and_folders() {
        let only = |o: &[&str]| o.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(selected(&[], "net/socket/ssl_client_socket.cc"));
        let net = only(&["net/"]);
        assert!(selected(&net, "net/socket/ssl_client_socket.cc"));
        assert!(!selected(&net, "services/network/network_context.cc"));
        // A folder without its `/` is a file name, and names no file under it.
        assert!(!selected(&only(&["net"]), "net/socket/ssl_client_socket.cc"));
        let file = only(&["net/socket/ssl_client_socket.cc"]);
        assert!(selected(&file, "net/socket/ssl_client_socket.cc"));
        assert!(!selected(&file, "net/socket/ssl_client_socket_impl.cc"));
        assert!(selected(&only(&["third_party/tls_srp/"]), "third_party/tls_srp/BUILD.gn"));
    }

    #[test]
    fn gn_names_a_file_no_target_builds() {
        let error = "WARNING: ...\nERROR No targets reference the file \
                     '//components/page_info/android/connection_info_view_android.cc'.\n";
        assert_eq!(
            unreferenced_file(error).as_deref(),
            Some("components/page_info/android/connection_info_view_android.cc")
        );
        assert_eq!(unreferenced_file("ERROR at //BUILD.gn:1:1: Unresolved dependency"), None);
    }

    #[test]
    fn a_dry_run_names_the_outputs_still_to_build() {
        let dry = "ninja: Entering directory `out'\n\
                   [1/3] CXX obj/net/net/a.o\n\
                   [2/3] RUST obj/x/libx.rlib obj/x/libx.rmeta obj/x/x.rsp.rust\n\
                   [3/3] STAMP obj/net/net.stamp\n";
        let pending = pending_outputs(dry);
        assert!(pending.contains("obj/net/net/a.o"));
        assert!(pending.contains("obj/x/libx.rlib"));
        assert!(!pending.contains("obj/net/net/b.o"));
        assert!(!pending.contains("CXX"));
        assert!(
            pending_outputs("ninja: Entering directory `out'\nninja: no work to do.\n").is_empty()
        );
    }

    #[test]
    fn ninja_inputs_are_found_by_their_whole_path() {
        let ninja = "build obj/x/a.o: cxx ../tree/third_party/x/src/ssl/a.cc || obj/x/s.stamp\n\
                     build obj/x/bb.o: cxx ../tree/third_party/x/src/ssl/bb.cc\n";
        assert!(ninja_builds(ninja, "third_party/x/src/ssl/a.cc"));
        assert!(ninja_builds(ninja, "third_party/x/src/ssl/bb.cc"));
        assert!(!ninja_builds(ninja, "third_party/x/src/ssl/b.cc"));
        assert!(!ninja_builds(ninja, "third_party/x/src/tool/a.cc"));
        assert!(!ninja_builds(ninja, "x/src/ssl/a.c"));
    }

    /// A one-patch series in `dir` whose patch turns `old` into `new` in `file` (`old` empty:
    /// a new file), applied to `tree`.
    fn series_changing(dir: &Path, tree: &Path, file: &str, old: &str, new: &str) -> Series {
        let sh = Shell::new().unwrap();
        fs::create_dir_all(dir).unwrap();
        let path = tree.join(file);
        let before = dir.join("before");
        fs::write(&before, old).unwrap();
        fs::write(&path, new).unwrap();
        let (a, b) = if old.is_empty() {
            ("/dev/null".to_owned(), format!("b/{file}"))
        } else {
            (format!("a/{file}"), format!("b/{file}"))
        };
        let old_path = if old.is_empty() { "/dev/null".into() } else { before };
        let diff = cmd!(sh, "diff -u --label {a} --label {b} {old_path} {path}")
            .ignore_status()
            .read()
            .unwrap();
        let header = "Description: Test\n A test patch.\nAuthor: t\nForwarded: no\n\
                      Last-Update: 2026-12-03\n---\n";
        fs::write(dir.join("0001-test.patch"), format!("{header}{diff}\n")).unwrap();
        fs::write(dir.join("series"), "0001-test.patch\n").unwrap();
        Series::load(dir).unwrap()
    }

    /// Only the lines the series changes are held to Chromium's style: an upstream line that
    /// clang-format would change is left alone, a changed one is not.
    #[test]
    fn clang_format_checks_the_lines_the_series_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        let tree = tmp.path().join("tree");
        fs::create_dir_all(tree.join("net")).unwrap();
        let upstream = "int  upstream_spacing;\n\nint f() {\n  return 1;\n}\n";
        let good = format!("{upstream}\nint g() {{\n  return 2;\n}}\n");
        let series = series_changing(&tmp.path().join("s1"), &tree, "net/a.cc", upstream, &good);
        let files = [PathBuf::from("net/a.cc")];
        check_clang_format_lines(&sh, &tree, &series, &files).unwrap();

        let bad = format!("{upstream}\nint g() {{ if (f()) return  2; return 3; }}\n");
        let series = series_changing(&tmp.path().join("s2"), &tree, "net/a.cc", upstream, &bad);
        let err = check_clang_format_lines(&sh, &tree, &series, &files).unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains("net/a.cc") && err.contains("+  if (f()) {"), "{err}");
        assert!(!err.contains("-int  upstream_spacing"), "upstream lines are left alone: {err}");

        let series = series_changing(&tmp.path().join("s3"), &tree, "net/new.h", "", "int  h;\n");
        let files = [PathBuf::from("net/new.h")];
        let err = check_clang_format_lines(&sh, &tree, &series, &files).unwrap_err();
        assert!(format!("{err:#}").contains("+int h;"), "a new file is checked whole: {err:#}");
    }

    /// `gn format` finds a build file it would change, and passes a formatted one.
    #[test]
    fn gn_format_checks_build_files() {
        let tmp = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        fs::write(tmp.path().join("BUILD.gn"), "group(\"a\") {\n  deps = [ \":b\" ]\n}\n").unwrap();
        check_gn_format(&sh, tmp.path(), &[PathBuf::from("BUILD.gn")]).unwrap();
        fs::write(tmp.path().join("BUILD.gn"), "group(\"a\") {\ndeps = [\":b\"]\n}\n").unwrap();
        let err = check_gn_format(&sh, tmp.path(), &[PathBuf::from("BUILD.gn")]).unwrap_err();
        assert!(format!("{err:#}").contains("+  deps = [ \":b\" ]"), "{err:#}");
    }

    /// Only the BoringSSL files of a Debian patch are kept, whole; a removed line that reads
    /// like a file header (`--- `) inside a hunk does not start a section.
    #[test]
    fn debian_patches_are_reduced_to_their_boringssl_files() {
        let ssl = "--- chromium-1/third_party/boringssl/src/ssl/a.cc\n\
                   +++ chromium-1/third_party/boringssl/src/ssl/a.cc\n\
                   @@ -1,3 +1,3 @@\n\
                   \x20keep\n\
                   --- x\n\
                   +++ y\n\
                   \x20keep\n";
        let other = "--- chromium-1/third_party/boringssl/BUILD.gn\n\
                     +++ chromium-1/third_party/boringssl/BUILD.gn\n\
                     @@ -1 +1,2 @@\n\
                     \x20a\n\
                     +b\n";
        let new_file = "--- /dev/null\n\
                        +++ chromium-1/third_party/boringssl/src/gen/new.S\n\
                        @@ -0,0 +1 @@\n\
                        +x\n\
                        \\ No newline at end of file\n";
        let patch = format!("Description: two files\n---\n{other}{ssl}{other}{new_file}");
        assert_eq!(boringssl_sections(&patch), format!("{ssl}{new_file}"));
        assert_eq!(boringssl_sections(other), "");
        assert_eq!(hunk_counts("@@ -3,0 +4 @@ fn"), Some((0, 1)));
    }

    /// The gn arguments and the toolchain come from `debian/rules` as its shell lines read
    /// them (`\"` becomes `"`), with the two adler arguments added.
    #[test]
    fn build_packages_come_from_debian_control() {
        let control = "Source: chromium\nBuild-Depends:\n debhelper (>= 11),\n llvm-19:native,\n \
                       rustc-web:any (>= 1.84),\n libstd-rust-dev (>= 1.84),\n nodejs:any,\n \
                       rollup,\n libgtk-3-dev | libgtk2.0-dev,\n make,\n \
                       cross-exe-wrapper <cross>,\nBuild-Conflicts:\n bindgen-0.56,\n";
        assert_eq!(
            build_packages(control).unwrap(),
            [
                "make",
                "dpkg-dev",
                "quilt",
                "xz-utils",
                "debhelper",
                "llvm-19",
                "rustc-web",
                "libgtk-3-dev"
            ]
        );
        assert!(build_packages("Source: x\n").is_err());
    }

    #[test]
    fn accelerators_come_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let none = Accelerators::from_vars(vars(&[])).unwrap();
        assert_eq!(none, Accelerators::default());
        assert!(none.gn_args().is_empty());
        let all = Accelerators::from_vars(vars(&[
            ("TLS_SRP_CHROMIUM_CC_WRAPPER", "ccache"),
            ("TLS_SRP_CHROMIUM_SISO", "1"),
        ]))
        .unwrap();
        assert_eq!(all.gn_args(), ["cc_wrapper=\"ccache\"", "use_siso=true"]);
        let remote = Accelerators::from_vars(vars(&[
            ("TLS_SRP_CHROMIUM_SISO", "1"),
            ("TLS_SRP_CHROMIUM_REMOTEEXEC", "1"),
        ]))
        .unwrap();
        assert_eq!(remote.gn_args(), ["use_siso=true", "use_remoteexec=true"]);
        assert!(Accelerators::from_vars(vars(&[("TLS_SRP_CHROMIUM_SISO", "yes")])).is_err());
        assert!(Accelerators::from_vars(vars(&[("TLS_SRP_CHROMIUM_CC_WRAPPER", "a\"b")])).is_err());
        assert!(
            Accelerators::from_vars(vars(&[
                ("TLS_SRP_CHROMIUM_CC_WRAPPER", "ccache"),
                ("TLS_SRP_CHROMIUM_REMOTEEXEC", "1"),
            ]))
            .is_err()
        );
    }

    #[test]
    fn gn_args_and_toolchain_come_from_debian_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        fs::create_dir_all(tmp.path().join("debian")).unwrap();
        fs::write(
            tmp.path().join("debian/rules"),
            "export CC=clang-19\nexport CXX=clang++-19\nexport CXXFLAGS:=-O2 -stdlib=libc++\n\
             defines:=clang_use_chrome_plugins=false\n\
             defines+=rust_sysroot_absolute=\\\"/usr\\\" \\\n\
             \tcustom_toolchain=\\\"//build/toolchain/linux/unbundle:default\\\"\n\
             defines+=is_official_build=true\n%:\n\tdh $@\n",
        )
        .unwrap();
        let args = gn_args(&sh, tmp.path(), &Accelerators::default()).unwrap();
        assert_eq!(
            args,
            "clang_use_chrome_plugins=false rust_sysroot_absolute=\"/usr\" \
             custom_toolchain=\"//build/toolchain/linux/unbundle:default\" \
             is_official_build=true removed_rust_stdlib_libs=[\"adler\"] \
             added_rust_stdlib_libs=[\"adler2\"]"
        );
        let env = toolchain_env(&sh, tmp.path()).unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CC"), Some("clang-19"));
        assert_eq!(get("CXX"), Some("clang++-19"));
        assert_eq!(get("CXXFLAGS"), Some("-O2 -stdlib=libc++"));
        // From dpkg-buildflags (dpkg-dev), empty where it is not installed.
        assert!(get("CPPFLAGS").is_some() && get("CFLAGS").is_some(), "{env:?}");
    }
}
