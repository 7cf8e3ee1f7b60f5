//! `cargo xtask chromium <fetch|check|configure>`: Chromium 150 (Debian's `chromium`
//! 150.0.7871.100-1~deb12u1) with Debian's patches and the series in `chromium-ui/` (issue 12),
//! as an [`Upstream`] (the shared fetch, check, tree and cache steps are in `upstream`).
//! Chromium is not built here (a full build takes days on two cores), so it is no
//! [`upstream::Buildable`].
//!
//! - `fetch`: the pinned Debian source (the orig tarball and Debian's packaging, through a
//!   bookworm `deb-src` entry derived from the machine's own) into the cache's `downloads/`,
//!   verified, then unpacked (`xz -T2`, with progress), Debian's patches applied (`quilt push
//!   -a`) and then the series, into `<cache>/chromium/work/tree`. A tree made from the same
//!   files and series is reused (its stamp holds their checksums).
//! - `check`: the series checker on a fresh scratch tree (entries exist, none unused or twice,
//!   DEP-3 and house format, all apply with zero fuzz and zero offset after Debian's patches).
//! - `configure`: Debian's build dependencies (`apt-get build-dep` on the tree's
//!   `debian/control`, when `dpkg-checkbuilddeps` finds some missing), Debian's configure steps
//!   (`debian/rules override_dh_auto_configure`: bindgen, Node, rollup, esbuild and gperf put
//!   where the build looks for them, system libraries unbundled), then `gn gen` with the
//!   arguments `debian/rules` passes (read from it with make) and the two this Rust needs,
//!   into `<cache>/chromium/work/out`. No download: clang-19, lld-19, `rustc-web` and the
//!   system `gn` (`generate-ninja`).
//!
//! BoringSSL at Chromium's revision (`third_party/boringssl/src`) is built and tested on its
//! own with `cargo xtask boringssl build|test --chromium` ([`boringssl_source`]).

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, ensure};
use xshell::{Shell, cmd};

use crate::upstream::{self, DebianSource, Pin, Source, SourceFile, Upstream, Work};

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

/// What reading `debian/rules` and running its configure steps need before the build
/// dependencies are known: make, dpkg-dev (`dpkg-architecture`, `dpkg-checkbuilddeps`), quilt.
const TOOL_PACKAGES: &[&str] = &["make", "dpkg-dev", "quilt", "xz-utils"];

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
                configure(sh, &work)
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
/// BoringSSL's top folder (`cargo xtask boringssl ... --chromium`). Debian's patches for
/// amd64 leave it alone.
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

/// The gn arguments of Debian's build: the `defines` variable of `debian/rules`, evaluated by
/// make as Debian's build evaluates it (architecture, clang and rustc versions), then
/// [`EXTRA_GN_ARGS`].
fn gn_args(sh: &Shell, tree: &Path) -> anyhow::Result<String> {
    let _dir = sh.push_dir(tree);
    let print = "print-tls-srp-gn-args: ; @echo '$(defines)'";
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
    Ok(format!("{} {}", defines.trim(), EXTRA_GN_ARGS.join(" ")))
}

/// Debian's build dependencies, installed when `dpkg-checkbuilddeps` finds some missing
/// (`apt-get build-dep` on the tree, from apt's configured sources).
fn ensure_build_deps(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(tree);
    let check = cmd!(sh, "dpkg-checkbuilddeps").quiet().ignore_status().output()?;
    if check.status.success() {
        return Ok(());
    }
    let unmet = String::from_utf8_lossy(&check.stderr).trim().to_owned();
    crate::step(&format!("installing Debian's build dependencies of chromium: {unmet}"));
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get build-dep -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 ./")
        .run()?;
    Ok(())
}

/// Debian's configure steps (once per tree: `<work>/configure.stamp` holds the tree's stamp),
/// then `gn gen` into `<work>/out` with Debian's arguments (`args.gn` rewritten only when they
/// change, so gn and ninja keep what they have).
fn configure(sh: &Shell, work: &Work) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, TOOL_PACKAGES)?;
    let tree = &work.tree;
    ensure_build_deps(sh, tree)?;
    let tree_stamp = fs::read_to_string(work.dir.join("tree.stamp")).unwrap_or_default();
    let configure_stamp = work.dir.join("configure.stamp");
    if fs::read_to_string(&configure_stamp).ok().as_deref() != Some(tree_stamp.as_str()) {
        crate::step(
            "debian/rules override_dh_auto_configure (bindgen, node, rollup, esbuild, gperf; unbundling)",
        );
        let started = Instant::now();
        let _dir = sh.push_dir(tree);
        cmd!(sh, "make -f debian/rules override_dh_auto_configure").quiet().run()?;
        fs::write(&configure_stamp, &tree_stamp)?;
        eprintln!("Debian's configure steps in {:.0?}", started.elapsed());
    }
    let args = gn_args(sh, tree)?;
    let out = work.dir.join("out");
    crate::step(&format!("gn gen {} --args={args}", out.display()));
    let started = Instant::now();
    let _dir = sh.push_dir(tree);
    cmd!(sh, "gn gen {out} --args={args}").run()?;
    eprintln!("gn gen in {:.0?}", started.elapsed());
    Ok(())
}
