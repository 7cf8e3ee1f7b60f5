//! Pinned upstream sources, shared by the NSS and BoringSSL commands: fetch a tarball through a
//! pluggable provider, verify its size and sha256 before anything reads it, unpack it, apply a
//! quilt patch series with zero fuzz, and reuse the result while nothing changed.
//!
//! Everything lives under `<root>/.cache/` (ignored by git):
//! - `.cache/downloads/<file>`: verified tarballs, shared by all sources;
//! - `.cache/<name>/tree/`: the unpacked, patched tree that builds run in, with `tree.stamp`
//!   recording the tarball's sha256 and the hash of the series it was patched with.
//!
//! When the series changes, the new tree is prepared in `.cache/<name>/staging/` and only the
//! files whose contents differ are copied into `tree/`, so unchanged files keep their mtimes and
//! an incremental build recompiles only what the patches touch.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

/// One pinned upstream release file: what it is and how to recognise it.
#[derive(Clone, Copy, Debug)]
pub struct Pin {
    /// Short name, also the cache directory (`nss`, `boringssl`).
    pub name: &'static str,
    /// Upstream version, for messages.
    pub version: &'static str,
    /// File name under `.cache/downloads/`.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the file, lowercase hex.
    pub sha256: &'static str,
}

/// Where a pinned file comes from. A provider only downloads; the caller verifies.
pub trait Provider {
    /// Says where the file comes from, for progress lines and errors.
    fn describe(&self) -> String;
    /// Downloads the file of `pin` to `dest` (which does not exist yet).
    fn fetch(&self, sh: &Shell, pin: &Pin, dest: &Path) -> anyhow::Result<()>;
}

/// A file from a Debian source package, via `apt-get source --download-only`, typically the
/// `.orig.tar.gz` (which never changes within an upstream release). Adds a `deb-src` entry for
/// `suite`, derived from the machine's own `deb` entries, when apt has none.
pub struct DebianSource {
    /// Source package name (`nss`).
    pub package: &'static str,
    /// Accepted versions start with this (`2:3.110-`): any Debian revision of the release.
    pub version_prefix: &'static str,
    /// The Debian suite whose sources to use (`trixie`).
    pub suite: &'static str,
}

/// A file downloaded from a URL (upstream's release tarball, for machines with open internet).
pub struct Url {
    pub url: &'static str,
}

/// `<root>/.cache`.
pub fn cache_dir(sh: &Shell) -> PathBuf {
    sh.current_dir().join(".cache")
}

/// Returns the verified tarball of `pin` in `.cache/downloads/`, fetching it through `provider`
/// when it is missing or does not match the pin.
pub fn fetch(sh: &Shell, pin: &Pin, provider: &dyn Provider) -> anyhow::Result<PathBuf> {
    let downloads = cache_dir(sh).join("downloads");
    fs::create_dir_all(&downloads).with_context(|| format!("creating {}", downloads.display()))?;
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
    remove_if_exists(&partial)?;
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
    let actual = sha256_file(sh, path)?;
    ensure!(
        actual == pin.sha256,
        "{}: sha256 mismatch: expected {}, found {actual}",
        path.display(),
        pin.sha256
    );
    Ok(())
}

/// sha256 of a file, lowercase hex (coreutils `sha256sum`, so xtask needs no hashing crate).
pub fn sha256_file(sh: &Shell, path: &Path) -> anyhow::Result<String> {
    let out = cmd!(sh, "sha256sum --binary {path}").quiet().read()?;
    first_word(&out)
}

/// sha256 of bytes, lowercase hex.
pub fn sha256_bytes(sh: &Shell, data: &[u8]) -> anyhow::Result<String> {
    let out = cmd!(sh, "sha256sum --binary -").quiet().stdin(data).read()?;
    first_word(&out)
}

fn first_word(out: &str) -> anyhow::Result<String> {
    out.split_whitespace().next().map(str::to_owned).context("sha256sum printed nothing")
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path)?,
        Ok(_) => fs::remove_file(path)?,
        Err(_) => {}
    }
    Ok(())
}

impl Provider for DebianSource {
    fn describe(&self) -> String {
        format!(
            "the Debian source package {} {}* ({})",
            self.package, self.version_prefix, self.suite
        )
    }

    fn fetch(&self, sh: &Shell, pin: &Pin, dest: &Path) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, &["apt"])?;
        ensure_deb_src(sh, self.suite)?;
        let version = self.pick_version(sh, true)?;
        let workdir = dest.with_extension("apt");
        remove_if_exists(&workdir)?;
        fs::create_dir_all(&workdir)?;
        let package = self.package;
        let spec = format!("{package}={version}");
        eprintln!("apt-get source --download-only {spec}");
        // The archive may carry the orig tarball without the matching .dsc and .debian.tar
        // (they move with every security update), so apt's exit status is not the verdict:
        // the pinned file is, and `verify` checks it.
        let output = {
            let _dir = sh.push_dir(&workdir);
            cmd!(sh, "apt-get source --download-only {spec}").quiet().ignore_status().output()?
        };
        let got = workdir.join(pin.file);
        if !got.exists() {
            bail!(
                "apt-get source did not produce {} (is the pin gone from the archive? apt offers \
                 {package} {version}):\n{}{}",
                pin.file,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::rename(&got, dest)?;
        fs::remove_dir_all(&workdir)?;
        Ok(())
    }
}

impl DebianSource {
    /// The newest version of the package in the apt sources that starts with `version_prefix`.
    /// With `update`, runs `apt-get update` once when none matches (stale lists).
    fn pick_version(&self, sh: &Shell, update: bool) -> anyhow::Result<String> {
        let package = self.package;
        let listing = cmd!(sh, "apt-cache showsrc {package}")
            .quiet()
            .ignore_stderr()
            .ignore_status()
            .read()?;
        let versions: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.strip_prefix("Version: "))
            .filter(|v| v.starts_with(self.version_prefix))
            .collect();
        match versions.iter().max_by(|a, b| debian_version_cmp(sh, a, b)) {
            Some(v) => Ok(v.to_string()),
            None if update => {
                crate::step("apt-get update (no matching source version in the lists)");
                cmd!(sh, "apt-get update -qq").run()?;
                self.pick_version(sh, false)
            }
            None => bail!(
                "the Debian archive offers no source version of {package} starting with {} in {}: \
                 the pin is gone (apt-cache showsrc {package} lists: {})",
                self.version_prefix,
                self.suite,
                listing
                    .lines()
                    .filter_map(|l| l.strip_prefix("Version: "))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn debian_version_cmp(sh: &Shell, a: &str, b: &str) -> std::cmp::Ordering {
    let greater = cmd!(sh, "dpkg --compare-versions {a} gt {b}").quiet().run().is_ok();
    if greater {
        std::cmp::Ordering::Greater
    } else if a == b {
        std::cmp::Ordering::Equal
    } else {
        std::cmp::Ordering::Less
    }
}

/// The file holding the `deb-src` entries this module adds.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/tls-srp-deb-src.sources";

/// Makes sure apt has `deb-src` entries for `suite`, its `-updates` and its `-security` suites.
/// They are derived from the machine's own `deb` entries in deb822 files (same URIs, keyring and
/// components; the machine's release codename replaced by `suite`), so no mirror is hard-coded.
fn ensure_deb_src(sh: &Shell, suite: &str) -> anyhow::Result<()> {
    let (format, filter) = ("$(CODENAME)", "Identifier: Sources");
    let existing = cmd!(sh, "apt-get indextargets --format {format} {filter}")
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    if existing.lines().any(|l| l.trim() == suite) {
        return Ok(());
    }
    let release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let codename = release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_owned())
        .context("/etc/os-release names no VERSION_CODENAME")?;
    let mut stanzas = Vec::new();
    let dir = Path::new("/etc/apt/sources.list.d");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sources") && p != Path::new(DEB_SRC_FILE))
        .collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file)?;
        for stanza in text.split("\n\n") {
            if let Some(derived) = derive_deb_src(stanza, &codename, suite) {
                stanzas.push(derived);
            }
        }
    }
    if stanzas.is_empty() {
        bail!(
            "no Debian `deb` entry for {codename} in /etc/apt/sources.list.d/*.sources to derive a \
             `deb-src` entry for {suite} from; add one (Types: deb-src, Suites: {suite}) by hand"
        );
    }
    crate::step(&format!(
        "adding deb-src entries for {suite} to {DEB_SRC_FILE}, then apt-get update"
    ));
    let text = format!(
        "# Added by `cargo xtask` (tls-srp): Debian sources for {suite}, derived from this\n\
         # machine's {codename} entries. Only source packages: binary installs are unaffected.\n\n{}",
        stanzas.join("\n\n")
    );
    fs::write(DEB_SRC_FILE, text)
        .with_context(|| format!("writing {DEB_SRC_FILE} (needs root)"))?;
    cmd!(sh, "apt-get update -qq").run()?;
    Ok(())
}

/// Turns one deb822 stanza with `Types: deb` and suites of `codename` into a `deb-src` stanza
/// for `suite`. Other stanzas give `None`.
fn derive_deb_src(stanza: &str, codename: &str, suite: &str) -> Option<String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in stanza.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            // A continuation line (multi-line Signed-By key): keep it with its field.
            let last = fields.last_mut()?;
            last.1.push('\n');
            last.1.push_str(line);
            continue;
        }
        let (key, value) = line.split_once(':')?;
        fields.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    let get = |k: &str| fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    if !get("Types")?.split_whitespace().any(|t| t == "deb") {
        return None;
    }
    if get("Enabled").is_some_and(|v| v == "no") {
        return None;
    }
    let suites: Vec<String> = get("Suites")?
        .split_whitespace()
        .filter(|s| *s == codename || s.starts_with(&format!("{codename}-")))
        .map(|s| format!("{suite}{}", &s[codename.len()..]))
        .collect();
    if suites.is_empty() {
        return None;
    }
    let mut out = format!("Types: deb-src\nURIs: {}\nSuites: {}\n", get("URIs")?, suites.join(" "));
    for (key, value) in &fields {
        if !["Types", "URIs", "Suites"].iter().any(|k| key.eq_ignore_ascii_case(k)) {
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
    Some(out.trim_end().to_owned())
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

/// A quilt patch series: the `series` file and the patches next to it.
pub struct Series {
    pub dir: PathBuf,
    pub patches: Vec<String>,
    /// Where in the unpacked tree the patches apply (`nss` for a tarball holding `nss/`, so the
    /// patches read `a/lib/ssl/...` as upstream's repository does); empty for the top.
    pub subdir: PathBuf,
}

impl Series {
    /// Reads `<dir>/series`: one patch per line, `#` comments and blank lines ignored. A missing
    /// `series` file is an empty series.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("series");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut patches = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let name = words.next().unwrap_or_default();
            if let Some(option) = words.next() {
                bail!(
                    "{}:{}: `{option}`: patch options are not supported (every patch is -p1)",
                    path.display(),
                    n + 1
                );
            }
            patches.push(name.to_owned());
        }
        Ok(Self { dir: dir.to_owned(), patches, subdir: PathBuf::new() })
    }

    /// The same series, applied in `subdir` of the tree.
    pub fn applied_in(self, subdir: &str) -> Self {
        Self { subdir: PathBuf::from(subdir), ..self }
    }

    /// The series checker, without applying: every entry exists and is listed once, every patch
    /// file in the directory is listed, and every patch is in the house format (DEP-3 header,
    /// `a/` `b/` prefixes, no timestamps, no `index` lines).
    pub fn check_files(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for name in &self.patches {
            if !seen.insert(name.as_str()) {
                problems.push(format!("{name}: listed twice in series"));
            }
            let path = self.dir.join(name);
            match fs::read_to_string(&path) {
                Ok(text) => {
                    problems.extend(lint_patch(&text).into_iter().map(|p| format!("{name}: {p}")))
                }
                Err(e) => {
                    problems.push(format!("{name}: listed in series but cannot be read: {e}"))
                }
            }
        }
        for entry in walk_files(&self.dir)? {
            let rel = entry.strip_prefix(&self.dir)?.to_string_lossy().into_owned();
            let is_patch = rel.ends_with(".patch") || rel.ends_with(".diff");
            if is_patch && !seen.contains(rel.as_str()) {
                problems.push(format!("{rel}: not listed in series (unused)"));
            }
        }
        if !problems.is_empty() {
            bail!("{}/series has problems:\n  {}", self.dir.display(), problems.join("\n  "));
        }
        Ok(())
    }

    /// The bytes that decide the patched tree: the series and every patch, in order.
    pub fn contents(&self) -> anyhow::Result<Vec<u8>> {
        let mut all = fs::read(self.dir.join("series")).unwrap_or_default();
        for name in &self.patches {
            all.extend_from_slice(format!("\n=== {name}\n").as_bytes());
            all.extend(fs::read(self.dir.join(name)).with_context(|| format!("reading {name}"))?);
        }
        Ok(all)
    }

    /// Applies every patch to `tree` in order, `-p1` with zero fuzz; stops at the first that
    /// does not apply exactly and shows patch's output.
    pub fn apply(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        let tree = tree.join(&self.subdir);
        for (i, name) in self.patches.iter().enumerate() {
            eprintln!("applying [{}/{}] {name}", i + 1, self.patches.len());
            let patch = self.dir.join(name);
            let output = cmd!(
                sh,
                "patch -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch --reject-file=- --directory {tree} --input {patch}"
            )
            .quiet()
            .ignore_status()
            .output()?;
            if !output.status.success() {
                bail!(
                    "{name} does not apply with zero fuzz:\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
        Ok(())
    }
}

/// House-format problems of one patch (empty when it is fine).
fn lint_patch(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let header_end = text.find("\n--- ").map_or(text.len(), |i| i + 1);
    let header = &text[..header_end];
    for field in ["Description:", "Forwarded:", "Last-Update:"] {
        if !header.lines().any(|l| l.starts_with(field)) {
            problems.push(format!("DEP-3 header lacks `{field}`"));
        }
    }
    if !header.lines().any(|l| l.starts_with("Author:") || l.starts_with("From:")) {
        problems.push("DEP-3 header lacks `Author:` (or `From:`)".to_owned());
    }
    if header_end == text.len() {
        problems.push("contains no diff".to_owned());
    }
    for (n, line) in text.lines().enumerate().skip_while(|(_, l)| !l.starts_with("--- ")) {
        let n = n + 1;
        if line.starts_with("index ") {
            problems.push(format!("line {n}: `index` line (refresh with --no-index)"));
        } else if let Some(path) = line.strip_prefix("--- ") {
            if path.contains('\t') {
                problems.push(format!("line {n}: timestamp (refresh with --no-timestamps)"));
            }
            if !(path.starts_with("a/") || path == "/dev/null") {
                problems.push(format!("line {n}: old path lacks the `a/` prefix"));
            }
        } else if let Some(path) = line.strip_prefix("+++ ") {
            if path.contains('\t') {
                problems.push(format!("line {n}: timestamp (refresh with --no-timestamps)"));
            }
            if !(path.starts_with("b/") || path == "/dev/null") {
                problems.push(format!("line {n}: new path lacks the `b/` prefix"));
            }
        }
    }
    problems
}

/// Unpacks `tarball` (dropping `strip_components` leading path components), applies `series`
/// and returns the tree, `.cache/<name>/tree`. Reuses the existing tree when the tarball's sha256 and the series are
/// what it was made from; otherwise prepares the new tree in a staging directory and copies only
/// the files that differ into the tree. Paths in `keep` (relative to the tree: build outputs)
/// survive.
pub fn prepare(
    sh: &Shell,
    pin: &Pin,
    tarball: &Path,
    strip_components: u32,
    series: &Series,
    keep: &[&str],
) -> anyhow::Result<PathBuf> {
    series.check_files()?;
    let base = cache_dir(sh).join(pin.name);
    let dir = base.join("tree");
    let stamp_path = base.join("tree.stamp");
    let stamp = format!(
        "tarball {} sha256 {}\nseries {} sha256 {}\n",
        pin.file,
        pin.sha256,
        series.dir.display(),
        sha256_bytes(sh, &series.contents()?)?
    );
    if dir.exists() && fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        eprintln!("{}: reusing {} (same tarball, same series)", pin.name, dir.display());
        return Ok(dir);
    }
    let staging = base.join("staging");
    stage(sh, tarball, strip_components, series, &staging)?;
    crate::step(&format!("updating {} from the staged tree (changed files only)", dir.display()));
    // The stamp goes first: an interrupted update must not look finished.
    remove_if_exists(&stamp_path)?;
    let copied = sync_tree(&staging, &dir, keep)?;
    eprintln!("{copied} files updated");
    fs::remove_dir_all(&staging)?;
    fs::write(&stamp_path, stamp)?;
    Ok(dir)
}

/// Unpacks into a fresh `staging` and applies the series: also the "all apply" part of the
/// series checker.
pub fn stage(
    sh: &Shell,
    tarball: &Path,
    strip_components: u32,
    series: &Series,
    staging: &Path,
) -> anyhow::Result<()> {
    remove_if_exists(staging)?;
    fs::create_dir_all(staging)?;
    crate::step(&format!("unpacking {} into {}", tarball.display(), staging.display()));
    let strip = format!("--strip-components={strip_components}");
    cmd!(sh, "tar -xf {tarball} -C {staging} {strip}").run()?;
    crate::step(&format!(
        "applying {} patches from {}",
        series.patches.len(),
        series.dir.display()
    ));
    series.apply(sh, staging)
}

/// Makes `dst` hold the files of `src`, copying only files whose contents differ and deleting
/// files `src` lacks (except under `keep`). Returns the number of files written.
fn sync_tree(src: &Path, dst: &Path, keep: &[&str]) -> anyhow::Result<usize> {
    let mut written = 0;
    let src_files = walk_files(src)?;
    let mut wanted = std::collections::HashSet::new();
    for from in &src_files {
        let rel = from.strip_prefix(src)?.to_owned();
        let to = dst.join(&rel);
        wanted.insert(rel);
        let meta = fs::symlink_metadata(from)?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(from)?;
            if fs::read_link(&to).ok().as_ref() != Some(&target) {
                remove_if_exists(&to)?;
                fs::create_dir_all(to.parent().context("no parent")?)?;
                std::os::unix::fs::symlink(&target, &to)?;
                written += 1;
            }
            continue;
        }
        let same = fs::symlink_metadata(&to).is_ok_and(|m| m.is_file() && m.len() == meta.len())
            && fs::read(&to)? == fs::read(from)?;
        if !same {
            remove_if_exists(&to)?;
            fs::create_dir_all(to.parent().context("no parent")?)?;
            fs::copy(from, &to).with_context(|| format!("copying to {}", to.display()))?;
            written += 1;
        }
    }
    if dst.exists() {
        for path in walk_files_except(dst, dst, keep)? {
            let rel = path.strip_prefix(dst)?;
            if !wanted.contains(rel) {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(written)
}

/// Every file and symlink under `dir`, recursively.
fn walk_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    walk_files_except(dir, dir, &[])
}

fn walk_files_except(root: &Path, dir: &Path, keep: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            let rel = path.strip_prefix(root)?;
            if keep.iter().any(|k| rel == Path::new(k)) {
                continue;
            }
            if fs::symlink_metadata(&path)?.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}
