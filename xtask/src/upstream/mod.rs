//! One abstraction for an upstream tree that carries a TLS-SRP patch series (NSS and BoringSSL
//! now; lighttpd, Firefox and Chromium next). xtask/README.md tells how to add one.
//!
//! An upstream implements [`Upstream`]: its name, its pinned [`Source`] (files with size and
//! sha256, and the [`Provider`] they come from: a Debian source package through apt, a crate
//! through cargo, a URL), its patch [`Series`] folder, its build for each of its flavors, its
//! tests and its test peer. The drivers here do the rest, the same for every upstream:
//! - [`fetch`]: download each pinned file into the cache's `downloads/`, verified before use;
//! - [`check`]: the series checker (entries exist, none unused or listed twice, DEP-3 and house
//!   format, all apply with zero fuzz on a scratch copy) and the upstream's own tree checks;
//! - [`build`]: the keyed output of a flavor (see [`crate::cache`]): reused when its key
//!   exists; otherwise the patched tree in `<cache>/<name>/work/tree` is brought up to date
//!   (only files whose contents change are rewritten, so the build is incremental), the core
//!   is built ([`crate::core`]) unless the flavor leaves it out ([`Buildable::links_core`]) and
//!   the upstream's [`Buildable::build`] builds and exports;
//! - [`test`] and [`peer`]: the upstream's tests and test peer on that output.

mod debian;
pub mod format;
mod series;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use xshell::{Shell, cmd};

pub use debian::DebianSource;
pub use series::{Series, parse as parse_series};

use crate::core::Core;
use crate::progress::{Progress, Unit};

/// One pinned file: what it is and how to recognise it.
#[derive(Clone, Copy, Debug)]
pub struct Pin {
    /// The upstream's short name (`nss`, `boringssl`), for messages.
    pub name: &'static str,
    /// Upstream version, for messages.
    pub version: &'static str,
    /// File name under the cache's `downloads/`.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the file, lowercase hex.
    pub sha256: &'static str,
}

/// Where pinned files come from. A provider only downloads; the driver verifies.
pub trait Provider {
    /// Says where the file comes from, for progress lines and errors.
    fn describe(&self) -> String;
    /// Downloads the file of `pin` to `dest` (which does not exist yet).
    fn fetch(&self, sh: &Shell, pin: &Pin, dest: &Path) -> anyhow::Result<()>;
}

/// One file of a source and where its contents go in the tree.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile {
    pub pin: Pin,
    /// Leading path components dropped when unpacking (`tar --strip-components`; members
    /// with fewer components are left out).
    pub strip_components: u32,
    /// The members to unpack, as tar names them (a folder brings what is under it, such as
    /// `firefox-140.12.0/security/nss`); empty: all of them.
    pub members: &'static [&'static str],
}

/// The pinned source of an upstream tree: its files, unpacked in order into one tree (an
/// orig tarball, then for a Debian package its `.debian.tar`, which holds `debian/`), and the
/// provider they come from.
pub struct Source {
    pub files: Vec<SourceFile>,
    pub provider: Box<dyn Provider>,
}

/// An upstream tree with a TLS-SRP series: where it comes from and how its patched tree is
/// made and checked. What every upstream has, also one that is not built here (Firefox).
pub trait Upstream {
    /// Short name: the cache folder (`<cache>/<name>/`) and the name in messages.
    fn name(&self) -> &'static str;
    /// The folder of the patch series, relative to the project root (`nss-patches`).
    fn series_dir(&self) -> &'static str;
    /// Where in the unpacked tree the patches apply (`nss` for NSS's tarball); `""`: the top.
    fn series_subdir(&self) -> &'static str {
        ""
    }
    /// A folder inside [`Self::series_dir`] with the series' delta for this upstream's version
    /// (see `Series::with_delta`), when the series is refreshed for another version; `None`: the
    /// series applies as it is.
    fn series_delta(&self) -> Option<&'static str> {
        None
    }
    /// The pinned source and its provider.
    fn source(&self, sh: &Shell) -> anyhow::Result<Source>;
    /// Series of other upstreams that this tree carries, applied in order before its own
    /// series, each in its own subfolder ([`Series::applied_in`]): Firefox's `security/nss`
    /// gets NSS's series with its 3.112 delta. Part of the tree's stamp and of the checker.
    fn prior_series(&self, _sh: &Shell) -> anyhow::Result<Vec<Series>> {
        Ok(Vec::new())
    }
    /// Runs on a freshly unpacked tree before the series is applied: a Debian source package
    /// that needs Debian's own patches applies `debian/patches` here (`quilt push -a` with
    /// `QUILT_PATCHES=debian/patches`). Part of the tree's stamp through the series only, so
    /// change the series (or the pin) when this changes.
    fn after_unpack(&self, _sh: &Shell, _tree: &Path) -> anyhow::Result<()> {
        Ok(())
    }
    /// Runs on the staged tree after the series: puts in what the series' build files use
    /// but the pinned source lacks (Chromium: the core's crates and the crates.io crates the
    /// series adds to `third_party/rust`), and checks that they fit. Everything it puts in
    /// must be decided by [`Self::after_series_inputs`].
    fn after_series(&self, _sh: &Shell, _tree: &Path) -> anyhow::Result<()> {
        Ok(())
    }
    /// What decides [`Self::after_series`]'s additions (pins, the core's sources digest): part
    /// of the tree's stamp, so a change to them makes a new tree.
    fn after_series_inputs(&self, _sh: &Shell) -> anyhow::Result<String> {
        Ok(String::new())
    }
    /// Checks of the patched tree beyond "the series applies" (an API version, say, or the
    /// upstream's formatters on the files the series touches, [`Series::touched_files`]).
    fn check_tree(&self, _sh: &Shell, _tree: &Path, _series: &Series) -> anyhow::Result<()> {
        Ok(())
    }
    /// Paths inside the tree, relative to it, that are build outputs: kept when the tree is
    /// brought up to date.
    fn tree_outputs(&self) -> &'static [&'static str] {
        &[]
    }
}

/// An upstream that is built here into keyed outputs, tested, and gives a test peer (NSS,
/// BoringSSL, lighttpd).
pub trait Buildable: Upstream {
    /// The builds it has (debug, optimised, with sanitizers ...).
    type Flavor: Copy;

    /// Debian packages the build needs (installed when missing).
    fn build_packages(&self) -> &'static [&'static str];
    /// Outputs of other upstreams this one builds against (lighttpd on the patched BoringSSL):
    /// built first, their keys go into this output's key. `build` may call it again to find
    /// them (they are cached by then).
    fn depends_on(&self, _sh: &Shell, _flavor: Self::Flavor) -> anyhow::Result<Vec<Built>> {
        Ok(Vec::new())
    }
    /// Everything besides the source, the series and the core that decides `flavor`'s outputs
    /// (flags, targets, configuration), as text: part of the output's key.
    fn flavor_key(&self, flavor: Self::Flavor) -> String;
    /// Whether `flavor` links the core (a flavor without it builds the upstream with TLS-SRP
    /// left out: the core is then neither built nor part of the output's key).
    fn links_core(&self, _flavor: Self::Flavor) -> bool {
        true
    }
    /// Builds `flavor` from the patched tree in `work` (with the core linked in, `None` for a
    /// flavor that does not link it) and copies what later steps use (libraries, headers,
    /// programs, test data) into `out`, a fresh folder that becomes the keyed output.
    fn build(
        &self,
        sh: &Shell,
        flavor: Self::Flavor,
        work: &Work,
        core: Option<&Core>,
        out: &Path,
    ) -> anyhow::Result<()>;
    /// Runs the upstream's own tests (with the TLS-SRP ones) on `flavor`'s built output.
    fn test(&self, sh: &Shell, flavor: Self::Flavor, built: &Built) -> anyhow::Result<()>;
    /// How to build the upstream's test peer against a built output.
    fn peer(&self, flavor: Self::Flavor, built: &Built, core: &Core) -> crate::peers::Recipe;
}

/// Where an upstream builds: `<cache>/<name>/work/`, with the patched tree in `tree/`. Build
/// folders of its own go next to the tree (or inside it, listed in
/// [`Upstream::tree_outputs`]). Only one run at a time works here (`work.lock`).
pub struct Work {
    pub dir: PathBuf,
    pub tree: PathBuf,
}

/// A finished, keyed build output: `<cache>/<name>/out/<key>/`.
#[derive(Clone, Debug)]
pub struct Built {
    pub dir: PathBuf,
    pub key: String,
}

/// `<cache>/<name>`.
fn base(upstream: &impl Upstream) -> anyhow::Result<PathBuf> {
    Ok(crate::cache::dir()?.join(upstream.name()))
}

/// The series of `upstream`, from the project's folder.
pub fn series(sh: &Shell, upstream: &impl Upstream) -> anyhow::Result<Series> {
    let dir = sh.current_dir().join(upstream.series_dir());
    let mut series = Series::load(&dir)?.applied_in(upstream.series_subdir());
    if let Some(delta) = upstream.series_delta() {
        series = series.with_delta(&dir.join(delta))?;
    }
    Ok(series)
}

/// The series of `upstream` and the prior series its tree carries ([`Upstream::prior_series`]),
/// each loaded once and its files checked ([`Series::check_files`]), for everything that
/// stages the tree.
fn checked_series(sh: &Shell, upstream: &impl Upstream) -> anyhow::Result<(Series, Vec<Series>)> {
    let series = series(sh, upstream)?;
    series.check_files()?;
    let prior = upstream.prior_series(sh)?;
    for s in &prior {
        s.check_files()?;
    }
    Ok((series, prior))
}

/// Downloads every pinned file of `source` that is not in the cache yet; returns their paths.
pub fn fetch(sh: &Shell, source: &Source) -> anyhow::Result<Vec<PathBuf>> {
    source.files.iter().map(|f| fetch_file(sh, &f.pin, source.provider.as_ref())).collect()
}

/// Returns the verified file of `pin` in `<cache>/downloads/`, fetching it through `provider`
/// when it is missing or does not match the pin.
pub fn fetch_file(sh: &Shell, pin: &Pin, provider: &dyn Provider) -> anyhow::Result<PathBuf> {
    let downloads = crate::cache::dir()?.join("downloads");
    fs::create_dir_all(&downloads).with_context(|| format!("creating {}", downloads.display()))?;
    let _lock = crate::cache::lock(&downloads.join(format!("{}.lock", pin.file)))?;
    let path = downloads.join(pin.file);
    if path.exists() {
        match verify(sh, pin, &path) {
            Ok(()) => {
                eprintln!("{} {}: {} verified (cached)", pin.name, pin.version, pin.file);
                return Ok(path);
            }
            Err(e) => {
                eprintln!("discarding the cached file: {e:#}");
                fs::remove_file(&path)?;
            }
        }
    }
    crate::step(&format!(
        "fetching {} {} ({}, {} bytes) from {}",
        pin.name,
        pin.version,
        pin.file,
        pin.size,
        provider.describe()
    ));
    let partial = downloads.join(format!("{}.partial", pin.file));
    crate::cache::remove(&partial)?;
    provider
        .fetch(sh, pin, &partial)
        .with_context(|| format!("fetching {} from {}", pin.file, provider.describe()))?;
    if let Err(e) = verify(sh, pin, &partial) {
        fs::remove_file(&partial)?;
        return Err(
            e.context(format!("the file from {} does not match the pin", provider.describe()))
        );
    }
    fs::rename(&partial, &path)?;
    eprintln!("{} {}: {} verified", pin.name, pin.version, pin.file);
    Ok(path)
}

/// Checks size and sha256 of `path` against the pin; the error names both values.
pub fn verify(sh: &Shell, pin: &Pin, path: &Path) -> anyhow::Result<()> {
    let size = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    ensure!(
        size == pin.size,
        "{}: size mismatch: expected {} bytes, found {size} bytes",
        path.display(),
        pin.size
    );
    let actual = crate::cache::sha256_file(sh, path)?;
    ensure!(
        actual == pin.sha256,
        "{}: sha256 mismatch: expected {}, found {actual}",
        path.display(),
        pin.sha256
    );
    Ok(())
}

/// The series checker: the series' files in order (see [`Series::check_files`]), then the
/// whole series applied with zero fuzz to a fresh unpacked tree, then the upstream's own tree
/// checks. The scratch tree is a temporary folder in `<cache>/<name>/`, removed afterwards.
pub fn check(sh: &Shell, upstream: &impl Upstream) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, &["patch"])?;
    let (series, prior) = checked_series(sh, upstream)?;
    let source = upstream.source(sh)?;
    let files = fetch(sh, &source)?;
    // In the upstream's own cache folder (`chromium/boringssl`'s is inside Chromium's).
    let base = base(upstream)?;
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let scratch = tempfile::Builder::new().prefix("check-").tempdir_in(&base)?;
    stage(sh, upstream, &source, &files, &prior, &series, scratch.path())?;
    upstream.check_tree(sh, scratch.path(), &series)?;
    for s in &prior {
        println!(
            "{}",
            s.checked_summary(&format!("{} in {}", s.dir.display(), s.subdir.display()))
        );
    }
    println!("{}", series.checked_summary(upstream.series_dir()));
    Ok(())
}

/// The key of `flavor`'s output: the pins, the series and the prior series the tree carries,
/// the core (if it links one) and the flavor's settings. Without prior series the key is what
/// it was before they existed, so that existing outputs stay valid.
fn output_key<U: Buildable>(
    sh: &Shell,
    upstream: &U,
    flavor: U::Flavor,
    source: &Source,
    (series, prior): (&Series, &[Series]),
    core: Option<&Core>,
) -> anyhow::Result<String> {
    let pins: Vec<String> =
        source.files.iter().map(|f| format!("{} {}", f.pin.file, f.pin.sha256)).collect();
    let series_sha256 = crate::cache::sha256_bytes(sh, &series.contents()?)?;
    let inputs: Vec<String> =
        upstream.depends_on(sh, flavor)?.into_iter().map(|built| built.key).collect();
    let mut parts = vec![
        upstream.name().to_owned(),
        pins.join(" "),
        format!("series {series_sha256}"),
        format!("core {}", core.map_or("none", |c| c.key.as_str())),
        format!("inputs {}", inputs.join(" ")),
        upstream.flavor_key(flavor),
    ];
    for s in prior {
        let sha256 = crate::cache::sha256_bytes(sh, &s.contents()?)?;
        parts.push(format!("prior {} {sha256}", s.subdir.display()));
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    crate::cache::key(sh, &parts)
}

/// The keyed output of `flavor`: reused when it exists, built otherwise (see the module
/// documentation). Seconds when nothing changed.
pub fn build<U: Buildable>(sh: &Shell, upstream: &U, flavor: U::Flavor) -> anyhow::Result<Built> {
    let (series, prior) = checked_series(sh, upstream)?;
    let source = upstream.source(sh)?;
    let core = if upstream.links_core(flavor) { Some(crate::core::build(sh)?) } else { None };
    let key = output_key(sh, upstream, flavor, &source, (&series, &prior), core.as_ref())?;
    let base = base(upstream)?;
    let dir = base.join("out").join(&key);
    if dir.exists() {
        eprintln!(
            "{}: reusing the build {} (same source, series, core, flags)",
            upstream.name(),
            dir.display()
        );
        return Ok(Built { dir, key });
    }
    crate::deps::ensure_debian_packages(sh, upstream.build_packages())?;
    crate::deps::ensure_debian_packages(sh, &["patch"])?;
    let _lock = crate::cache::lock(&base.join("work.lock"))?;
    let dir = crate::cache::keyed(&dir, |out| {
        let work = prepare_work(sh, upstream, &source, &prior, &series)?;
        upstream.check_tree(sh, &work.tree, &series)?;
        upstream.build(sh, flavor, &work, core.as_ref(), out)
    })?;
    eprintln!("{}: build output {}", upstream.name(), dir.display());
    Ok(Built { dir, key })
}

/// The patched tree of `upstream` in `<cache>/<name>/work/tree`, brought up to date (fetched,
/// unpacked, the series applied; see [`prepare`]), for an upstream that works in its tree
/// without keyed outputs (Firefox's configure). The lock on the work folder is held until the
/// returned [`crate::cache::Lock`] is dropped.
pub fn work_tree(
    sh: &Shell,
    upstream: &impl Upstream,
) -> anyhow::Result<(Work, crate::cache::Lock)> {
    let (series, prior) = checked_series(sh, upstream)?;
    let source = upstream.source(sh)?;
    crate::deps::ensure_debian_packages(sh, &["patch"])?;
    let lock = crate::cache::lock(&base(upstream)?.join("work.lock"))?;
    Ok((prepare_work(sh, upstream, &source, &prior, &series)?, lock))
}

/// Fetches the source and brings the work tree up to date; the caller holds `work.lock`.
fn prepare_work(
    sh: &Shell,
    upstream: &impl Upstream,
    source: &Source,
    prior: &[Series],
    series: &Series,
) -> anyhow::Result<Work> {
    let files = fetch(sh, source)?;
    let base = base(upstream)?;
    let work = Work { dir: base.join("work"), tree: base.join("work/tree") };
    prepare(sh, upstream, source, &files, prior, series, &work)?;
    Ok(work)
}

/// Builds `flavor` (when its key is new) and runs the upstream's tests on it.
pub fn test<U: Buildable>(sh: &Shell, upstream: &U, flavor: U::Flavor) -> anyhow::Result<()> {
    let built = build(sh, upstream, flavor)?;
    crate::step(&format!("testing {} build {}", upstream.name(), built.key));
    upstream.test(sh, flavor, &built)
}

/// The test peer of `flavor`, built against that output (each only when its key is new).
pub fn peer<U: Buildable>(sh: &Shell, upstream: &U, flavor: U::Flavor) -> anyhow::Result<PathBuf> {
    let built = build(sh, upstream, flavor)?;
    let core = crate::core::build(sh)?;
    crate::peers::build(sh, &upstream.peer(flavor, &built, &core))
}

/// Brings `work.tree` to the pinned source with the series applied. Reuses it when its stamp
/// says it was made from the same files and series; otherwise prepares the new tree in a
/// staging folder and copies only the files that differ into the tree, so unchanged files keep
/// their mtimes and the build recompiles only what the patches touch. Paths in `keep` (build
/// outputs inside the tree) survive.
fn prepare(
    sh: &Shell,
    upstream: &impl Upstream,
    source: &Source,
    files: &[PathBuf],
    prior: &[Series],
    series: &Series,
    work: &Work,
) -> anyhow::Result<()> {
    let keep = upstream.tree_outputs();
    let stamp_path = work.dir.join("tree.stamp");
    let mut stamp = String::new();
    for f in &source.files {
        stamp += &format!("file {} sha256 {}\n", f.pin.file, f.pin.sha256);
        if !f.members.is_empty() {
            stamp += &format!("members {}\n", f.members.join(" "));
        }
    }
    for prior in prior {
        stamp += &format!(
            "series in {} sha256 {}\n",
            prior.subdir.display(),
            crate::cache::sha256_bytes(sh, &prior.contents()?)?
        );
    }
    stamp += &format!("series sha256 {}\n", crate::cache::sha256_bytes(sh, &series.contents()?)?);
    stamp += &upstream.after_series_inputs(sh)?;
    if work.tree.exists() && fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        eprintln!("reusing {} (same source, same series)", work.tree.display());
        return Ok(());
    }
    let staging = work.dir.join("staging");
    crate::cache::remove(&staging)?;
    fs::create_dir_all(&staging)?;
    stage(sh, upstream, source, files, prior, series, &staging)?;
    // The stamp goes first: an interrupted update must not look finished.
    crate::cache::remove(&stamp_path)?;
    if !work.tree.exists() {
        // A first tree: the staged one as it is (Firefox's is 3.6 GB; nothing to compare).
        fs::rename(&staging, &work.tree).with_context(|| {
            format!("renaming {} to {}", staging.display(), work.tree.display())
        })?;
        fs::write(&stamp_path, stamp)?;
        return Ok(());
    }
    crate::step(&format!(
        "updating {} from the staged tree (changed files only)",
        work.tree.display()
    ));
    let copied = sync_tree(&staging, &work.tree, keep)?;
    eprintln!("{copied} files updated");
    fs::remove_dir_all(&staging)?;
    fs::write(&stamp_path, stamp)?;
    Ok(())
}

/// Unpacks the source's files into `staging` (an empty folder) and applies the prior series,
/// then the series: also the "all apply" part of the series checker.
fn stage(
    sh: &Shell,
    upstream: &impl Upstream,
    source: &Source,
    files: &[PathBuf],
    prior: &[Series],
    series: &Series,
    staging: &Path,
) -> anyhow::Result<()> {
    for (file, path) in source.files.iter().zip(files) {
        crate::step(&format!("unpacking {} into {}", path.display(), staging.display()));
        unpack(path, staging, file)?;
    }
    upstream.after_unpack(sh, staging)?;
    for prior in prior {
        crate::step(&format!(
            "applying {} patches from {} in {}",
            prior.patches.len(),
            prior.dir.display(),
            prior.subdir.display()
        ));
        prior.apply(sh, staging)?;
    }
    crate::step(&format!(
        "applying {} patches from {}",
        series.patches.len(),
        series.dir.display()
    ));
    series.apply(sh, staging)?;
    upstream.after_series(sh, staging)
}

/// Unpacks the tarball `path` into `dest` (only `file.members` when it names some, dropping
/// `file.strip_components` leading path components), with progress: the share of the compressed file read so far. The compression
/// is told by the file's first bytes (a `.crate` is a gzipped tarball); xz decompresses with
/// two threads (`xz -T2`, the machine's limit), then tar only unpacks.
fn unpack(path: &Path, dest: &Path, file: &SourceFile) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};

    let mut input = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let total = input.metadata()?.len();
    let mut buf = vec![0u8; 1 << 20];
    let mut first = 0;
    while first < 6 {
        match input.read(&mut buf[first..])? {
            0 => break,
            n => first += n,
        }
    }
    let decompress: Option<&[&str]> = match &buf[..first.min(6)] {
        [0xfd, b'7', b'z', b'X', b'Z', 0] => Some(&["xz", "-T2", "-dc"]),
        [0x1f, 0x8b, ..] => Some(&["gzip", "-dc"]),
        [b'B', b'Z', b'h', ..] => Some(&["bzip2", "-dc"]),
        _ => None,
    };
    let mut decoder = match decompress {
        Some(args) => Some(
            Command::new(args[0])
                .args(&args[1..])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting {}", args[0]))?,
        ),
        None => None,
    };
    let tar_input = match &mut decoder {
        Some(child) => Stdio::from(child.stdout.take().context("no decompressor output")?),
        None => Stdio::piped(),
    };
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .arg(format!("--strip-components={}", file.strip_components))
        .args(file.members)
        .stdin(tar_input)
        .spawn()
        .context("starting tar")?;
    let mut sink = match &mut decoder {
        Some(child) => child.stdin.take(),
        None => tar.stdin.take(),
    }
    .context("no pipe to the unpacker")?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut progress = Progress::new(format!("unpacking {name}"), Some(total), Unit::Bytes);
    // A write fails when the unpacker stopped early; its exit status then tells why.
    let mut fed = sink.write_all(&buf[..first]);
    progress.set(first as u64);
    while fed.is_ok() {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        fed = sink.write_all(&buf[..n]);
        progress.add(n as u64);
    }
    drop(sink);
    let decoded = match decoder {
        Some(mut child) => Some(child.wait()?),
        None => None,
    };
    let unpacked = tar.wait()?;
    ensure!(
        decoded.is_none_or(|s| s.success()) && unpacked.success(),
        "unpacking {} failed: {}tar {unpacked}",
        path.display(),
        decoded
            .map(|s| format!("{} {s}, ", decompress.map_or("decompressor", |a| a[0])))
            .unwrap_or_default()
    );
    fed.with_context(|| format!("unpacking {}", path.display()))?;
    progress.finish();
    Ok(())
}

/// Makes `dst` hold the files of `src`, copying only files whose contents differ and deleting
/// files `src` lacks (except under `keep`). Returns the number of files written.
fn sync_tree(src: &Path, dst: &Path, keep: &[&str]) -> anyhow::Result<usize> {
    let mut written = 0;
    let mut wanted = std::collections::HashSet::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry?;
        if entry.file_type().is_dir() {
            continue;
        }
        let from = entry.path();
        let rel = from.strip_prefix(src)?.to_owned();
        let to = dst.join(&rel);
        wanted.insert(rel);
        if entry.file_type().is_symlink() {
            let target = fs::read_link(from)?;
            if fs::read_link(&to).ok().as_ref() != Some(&target) {
                crate::cache::remove(&to)?;
                fs::create_dir_all(to.parent().context("no parent")?)?;
                std::os::unix::fs::symlink(&target, &to)?;
                written += 1;
            }
            continue;
        }
        let len = entry.metadata()?.len();
        let same = fs::symlink_metadata(&to).is_ok_and(|m| m.is_file() && m.len() == len)
            && fs::read(&to)? == fs::read(from)?;
        if !same {
            crate::cache::remove(&to)?;
            crate::cache::copy(from, &to)?;
            written += 1;
        }
    }
    if dst.exists() {
        let mut walk = walkdir::WalkDir::new(dst).into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry?;
            let rel = entry.path().strip_prefix(dst)?;
            if keep.iter().any(|k| rel == Path::new(k)) {
                if entry.file_type().is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
            if !entry.file_type().is_dir() && !wanted.contains(rel) {
                fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(written)
}

/// A file downloaded from a URL (upstream's release tarball, for machines with open internet).
pub struct Url {
    pub url: &'static str,
}

impl Provider for Url {
    fn describe(&self) -> String {
        self.url.to_owned()
    }

    fn fetch(&self, sh: &Shell, _pin: &Pin, dest: &Path) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, &["curl"])?;
        let url = self.url;
        cmd!(sh, "curl --fail --location --retry 3 --progress-bar --output {dest} {url}").run()?;
        Ok(())
    }
}

/// A `.crate` file from the registry, downloaded with cargo's own machinery: a throwaway
/// package that depends on exactly the pinned version, `cargo fetch` into a private
/// CARGO_HOME, then the `.crate` file cargo stored (cargo has checked it against the registry
/// index's checksum).
pub struct Crate {
    pub name: &'static str,
    pub version: &'static str,
}

impl Provider for Crate {
    fn describe(&self) -> String {
        format!("the registry through `cargo fetch` ({} ={})", self.name, self.version)
    }

    fn fetch(&self, sh: &Shell, _pin: &Pin, dest: &Path) -> anyhow::Result<()> {
        let dir = tempfile::Builder::new()
            .prefix("cargo-fetch-")
            .tempdir_in(dest.parent().context("no parent")?)?;
        let manifest = dir.path().join("Cargo.toml");
        let (name, version) = (self.name, self.version);
        sh.write_file(
            &manifest,
            format!(
                "# Written by `cargo xtask`: makes cargo download and verify the pinned crate.\n\
                 [package]\nname = \"upstream-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                 publish = false\n[lib]\npath = \"lib.rs\"\n[dependencies]\n\
                 {name} = \"={version}\"\n[workspace]\n"
            ),
        )?;
        sh.write_file(dir.path().join("lib.rs"), "")?;
        let cargo_home = dir.path().join("cargo-home");
        {
            let _home = sh.push_env("CARGO_HOME", &cargo_home);
            cmd!(sh, "cargo fetch --quiet --manifest-path {manifest}").run()?;
        }
        let file = format!("{name}-{version}.crate");
        let registry_cache = cargo_home.join("registry/cache");
        let crate_file = fs::read_dir(&registry_cache)
            .with_context(|| format!("reading {}", registry_cache.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path().join(&file)))
            .find(|path| path.is_file())
            .with_context(|| {
                format!("cargo fetch left no {file} under {}", registry_cache.display())
            })?;
        fs::copy(&crate_file, dest).with_context(|| format!("copying {}", crate_file.display()))?;
        Ok(())
    }
}

/// For a file already in `downloads/` (made by another step, such as `git archive`): nothing
/// to download; the pin still decides.
pub struct Prefetched;

impl Provider for Prefetched {
    fn describe(&self) -> String {
        "a file made earlier in this run".to_owned()
    }

    fn fetch(&self, _sh: &Shell, pin: &Pin, _dest: &Path) -> anyhow::Result<()> {
        anyhow::bail!("{} is not in the cache's downloads", pin.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream whose only real parts are the ones `stage` uses.
    struct Fake;

    impl Upstream for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn series_dir(&self) -> &'static str {
            "fake-patches"
        }
        fn source(&self, _sh: &Shell) -> anyhow::Result<Source> {
            unreachable!("the test passes its source")
        }
        fn after_unpack(&self, _sh: &Shell, tree: &Path) -> anyhow::Result<()> {
            ensure!(tree.join("debian/rules").exists(), "both tarballs are unpacked first");
            Ok(fs::write(tree.join("after-unpack"), "ran")?)
        }
    }

    /// A Debian source package: the orig tarball (top folder `pkg-1.0/`, stripped) and the
    /// debian tarball (`debian/` at the top) unpack into one tree, then the series applies.
    #[test]
    fn an_orig_and_a_debian_tarball_make_one_tree_before_the_series() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let sh = Shell::new().unwrap();
        for (path, text) in [
            ("orig/pkg-1.0/src/a.c", "one\n"),
            ("deb/debian/rules", "#!/usr/bin/make -f\n"),
            ("patches/series", "change-a.patch\n"),
            (
                "patches/change-a.patch",
                "Description: change a\nAuthor: t\nForwarded: no\nLast-Update: 2026-12-02\n\n\
                 --- a/src/a.c\n+++ b/src/a.c\n@@ -1 +1 @@\n-one\n+two\n",
            ),
        ] {
            fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            fs::write(dir.join(path), text).unwrap();
        }
        let (orig, deb) = (dir.join("pkg_1.0.orig.tar.gz"), dir.join("pkg_1.0-1.debian.tar.xz"));
        let (orig_dir, deb_dir) = (dir.join("orig"), dir.join("deb"));
        cmd!(sh, "tar -czf {orig} -C {orig_dir} pkg-1.0").run().unwrap();
        cmd!(sh, "tar -cJf {deb} -C {deb_dir} debian").run().unwrap();
        let pin = |file| Pin { name: "pkg", version: "1.0", file, size: 0, sha256: "" };
        let source = Source {
            files: vec![
                SourceFile { pin: pin("pkg_1.0.orig.tar.gz"), strip_components: 1, members: &[] },
                SourceFile {
                    pin: pin("pkg_1.0-1.debian.tar.xz"),
                    strip_components: 0,
                    members: &[],
                },
            ],
            provider: Box::new(Prefetched),
        };
        let series = Series::load(&dir.join("patches")).unwrap();
        series.check_files().unwrap();
        let tree = dir.join("tree");
        fs::create_dir_all(&tree).unwrap();
        stage(&sh, &Fake, &source, &[orig, deb], &[], &series, &tree).unwrap();
        assert_eq!(fs::read_to_string(tree.join("src/a.c")).unwrap(), "two\n");
        assert!(tree.join("debian/rules").exists());
        assert_eq!(fs::read_to_string(tree.join("after-unpack")).unwrap(), "ran");
    }

    /// An upstream that carries another upstream's series in a subfolder (Firefox's
    /// `security/nss`).
    struct Carrier {
        prior: PathBuf,
    }

    impl Upstream for Carrier {
        fn name(&self) -> &'static str {
            "carrier"
        }
        fn series_dir(&self) -> &'static str {
            "carrier-patches"
        }
        fn source(&self, _sh: &Shell) -> anyhow::Result<Source> {
            unreachable!("the test passes its source")
        }
        fn prior_series(&self, _sh: &Shell) -> anyhow::Result<Vec<Series>> {
            Ok(vec![Series::load(&self.prior)?.applied_in("vendor/lib")])
        }
    }

    /// The prior series applies in its subfolder first; the tree's own series then sees (and
    /// may change) what it left.
    #[test]
    fn a_prior_series_applies_in_its_subfolder_before_the_series() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let sh = Shell::new().unwrap();
        let patch = |file: &str, old: &str, new: &str| {
            format!(
                "Description: change {file}\nAuthor: t\nForwarded: no\nLast-Update: 2026-12-03\n\n\
                 --- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-{old}\n+{new}\n"
            )
        };
        for (path, text) in [
            ("orig/app-1.0/vendor/lib/api.h", "old api\n".to_owned()),
            ("lib-patches/series", "api.patch\n".to_owned()),
            ("lib-patches/api.patch", patch("api.h", "old api", "new api")),
            ("app-patches/series", "use.patch\n".to_owned()),
            ("app-patches/use.patch", patch("vendor/lib/api.h", "new api", "used api")),
        ] {
            fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            fs::write(dir.join(path), text).unwrap();
        }
        let (orig, orig_dir) = (dir.join("app-1.0.tar.gz"), dir.join("orig"));
        cmd!(sh, "tar -czf {orig} -C {orig_dir} app-1.0").run().unwrap();
        let pin = Pin { name: "app", version: "1.0", file: "app-1.0.tar.gz", size: 0, sha256: "" };
        let source = Source {
            files: vec![SourceFile { pin, strip_components: 1, members: &[] }],
            provider: Box::new(Prefetched),
        };
        let upstream = Carrier { prior: dir.join("lib-patches") };
        let series = Series::load(&dir.join("app-patches")).unwrap();
        let tree = dir.join("tree");
        fs::create_dir_all(&tree).unwrap();
        let prior = upstream.prior_series(&sh).unwrap();
        stage(&sh, &upstream, &source, &[orig], &prior, &series, &tree).unwrap();
        assert_eq!(fs::read_to_string(tree.join("vendor/lib/api.h")).unwrap(), "used api\n");
    }

    /// `members` unpacks one folder of a tarball (Firefox's `security/nss`), `strip_components`
    /// dropping the folders above it.
    #[test]
    fn members_unpack_only_the_named_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let sh = Shell::new().unwrap();
        for path in ["src/app-1.0/security/nss/lib/ssl/ssl.h", "src/app-1.0/browser/app.js"] {
            fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            fs::write(dir.join(path), path).unwrap();
        }
        let (tarball, src) = (dir.join("app-1.0.tar.xz"), dir.join("src"));
        cmd!(sh, "tar -cJf {tarball} -C {src} app-1.0").run().unwrap();
        let pin = Pin { name: "app", version: "1.0", file: "app-1.0.tar.xz", size: 0, sha256: "" };
        let file = SourceFile { pin, strip_components: 2, members: &["app-1.0/security/nss"] };
        let tree = dir.join("tree");
        fs::create_dir_all(&tree).unwrap();
        unpack(&tarball, &tree, &file).unwrap();
        assert!(tree.join("nss/lib/ssl/ssl.h").is_file());
        assert!(!tree.join("browser").exists() && !tree.join("app.js").exists());
        assert_eq!(fs::read_dir(&tree).unwrap().count(), 1, "only nss/");
    }

    #[test]
    fn sync_tree_rewrites_only_what_changed_and_keeps_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        for (path, text) in [("a.c", "same"), ("lib/b.c", "new"), ("lib/c.c", "added")] {
            fs::create_dir_all(src.join(path).parent().unwrap()).unwrap();
            fs::write(src.join(path), text).unwrap();
        }
        for (path, text) in
            [("a.c", "same"), ("lib/b.c", "old"), ("gone.c", "x"), ("out/o.o", "obj")]
        {
            fs::create_dir_all(dst.join(path).parent().unwrap()).unwrap();
            fs::write(dst.join(path), text).unwrap();
        }
        let written = sync_tree(&src, &dst, &["out"]).unwrap();
        assert_eq!(written, 2, "b.c changed and c.c is new; a.c is left alone");
        assert_eq!(fs::read_to_string(dst.join("lib/b.c")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dst.join("lib/c.c")).unwrap(), "added");
        assert!(!dst.join("gone.c").exists(), "a file the source lacks goes");
        assert!(dst.join("out/o.o").exists(), "build outputs stay");
    }
}
