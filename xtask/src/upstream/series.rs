//! A quilt patch series and its checker: the `series` file, the DEP-3 and house-format lint of
//! every patch, and applying the series with zero fuzz ("all apply"). A series may carry a
//! [`Delta`] for a second version of its upstream: copies of the few patches whose context
//! differs there, refreshed for it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

/// A quilt patch series: the `series` file and the patches next to it.
pub struct Series {
    pub dir: PathBuf,
    pub patches: Vec<String>,
    /// Where in the unpacked tree the patches apply (`nss` for a tarball holding `nss/`, so the
    /// patches read `a/lib/ssl/...` as upstream's repository does); empty for the top.
    pub subdir: PathBuf,
    /// The delta for the version this series is applied to, when it is not the version the
    /// series is refreshed for.
    pub delta: Option<Delta>,
}

/// A series' delta for a second upstream version (`nss-patches/3.112/` for the NSS that
/// Firefox vendors): a folder with its own `series` file naming the patches it replaces, in the
/// main series' order, each a copy of the main series' patch refreshed for that version. The
/// other patches apply to that version as they are, with zero fuzz; only their line numbers may
/// differ (an offset), which is what refreshing them would change.
pub struct Delta {
    pub dir: PathBuf,
    pub patches: Vec<String>,
    /// The delta's `renames` file, when it has one: what the series' added code is called in
    /// that version (see [`Rename`]).
    pub renames: Vec<Rename>,
    /// The delta's `extra-files`, when it has one: files of the other version that the series'
    /// own upstream source does not carry (BoringSSL's `gen/sources.gni`, which its crate leaves
    /// out), which the delta's copies change besides the series' files, one path a line.
    pub extra_files: Vec<String>,
}

/// One line of a delta's `renames` file, `FROM => TO` or `PATCH[,PATCH...]: FROM => TO`: in
/// that version the series' added code says TO where the series says FROM (an internal type
/// upstream renamed later, say). FROM is matched where it does not run on into an identifier
/// (so `impl` is not found in `ctx_impl`); `\n` in TO starts a new line, and a line a rename
/// leaves blank is dropped. Renames apply in the file's order, to every line of the patches
/// named (all without a name). The delta's copies are the series' patches with these renames
/// (and upstream's text): [`delta_drift`] applies them before it compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rename {
    pub patches: Vec<String>,
    pub from: String,
    pub to: String,
}

impl Rename {
    /// Reads a `renames` file: `#` lines and blank lines are comments.
    pub fn parse(text: &str) -> anyhow::Result<Vec<Rename>> {
        let mut renames = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (patches, rule) = match line.split_once(": ") {
                Some((names, rule))
                    if !names.contains(' ') && names.split(',').all(|p| p.ends_with(".patch")) =>
                {
                    (names.split(',').map(str::to_owned).collect(), rule)
                }
                _ => (Vec::new(), line),
            };
            let (from, to) = match rule.strip_suffix(" =>") {
                Some(from) => (from, ""),
                None => rule.split_once(" => ").with_context(|| {
                    format!("line {}: expected `FROM => TO`, found {line:?}", n + 1)
                })?,
            };
            anyhow::ensure!(!from.is_empty(), "line {}: nothing to rename", n + 1);
            renames.push(Rename { patches, from: from.to_owned(), to: to.replace("\\n", "\n") });
        }
        Ok(renames)
    }

    /// `line` of the patch `patch` with every rename that applies to it: the lines it becomes
    /// (none when a rename left it blank).
    pub fn apply(renames: &[Rename], patch: &str, line: &str) -> Vec<String> {
        let mut text = line.to_owned();
        for rename in
            renames.iter().filter(|r| r.patches.is_empty() || r.patches.iter().any(|p| p == patch))
        {
            text = rename.replace_in(&text);
        }
        if text != line && text.trim().is_empty() {
            return Vec::new();
        }
        text.split('\n').map(str::to_owned).collect()
    }

    /// `text` with FROM replaced by TO where FROM does not run on into an identifier.
    fn replace_in(&self, text: &str) -> String {
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let (starts_ident, ends_ident) =
            (ident(self.from.chars().next()), ident(self.from.chars().last()));
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(&self.from) {
            let end = at + self.from.len();
            let before = rest[..at].chars().last();
            let after = rest[end..].chars().next();
            out.push_str(&rest[..at]);
            if (starts_ident && ident(before)) || (ends_ident && ident(after)) {
                out.push_str(&self.from);
            } else {
                out.push_str(&self.to);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

impl Series {
    /// The series checker's account of this series once it applied, under `name`: how many
    /// patches, and how many came from the delta (which apply at zero offset; the others may
    /// apply at an offset there, never with fuzz).
    pub fn checked_summary(&self, name: &str) -> String {
        let applied = match &self.delta {
            None => "all apply with zero fuzz and zero offset".to_owned(),
            Some(delta) => format!(
                "all apply with zero fuzz ({} from the delta {}, at zero offset)",
                delta.patches.len(),
                delta.dir.display()
            ),
        };
        format!(
            "{name}: {} patches, all listed once, all in the house format, {applied}",
            self.patches.len()
        )
    }

    /// Reads `<dir>/series`. A missing `series` file is an empty series.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("series");
        let patches = parse(&read_if_present(&path)?)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Self { dir: dir.to_owned(), patches, subdir: PathBuf::new(), delta: None })
    }

    /// The same series with the delta in `dir` (its `series` names the patches it replaces):
    /// what applies to the delta's upstream version.
    pub fn with_delta(self, dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("series");
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let patches = parse(&text).with_context(|| format!("reading {}", path.display()))?;
        let renames_path = dir.join("renames");
        let renames = Rename::parse(&read_if_present(&renames_path)?)
            .with_context(|| format!("reading {}", renames_path.display()))?;
        let extra_files = read_if_present(&dir.join("extra-files"))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        Ok(Self {
            delta: Some(Delta { dir: dir.to_owned(), patches, renames, extra_files }),
            ..self
        })
    }

    /// Where the patch `name` is read from: the delta's copy when it has one.
    pub fn path(&self, name: &str) -> PathBuf {
        match &self.delta {
            Some(delta) if delta.patches.iter().any(|p| p == name) => delta.dir.join(name),
            _ => self.dir.join(name),
        }
    }

    /// Whether the patch `name` was refreshed for the tree it applies to (every patch without a
    /// delta; with one, the delta's patches only).
    fn refreshed_for_tree(&self, name: &str) -> bool {
        self.delta.as_ref().is_none_or(|d| d.patches.iter().any(|p| p == name))
    }

    /// The same series, applied in `subdir` of the tree.
    pub fn applied_in(self, subdir: &str) -> Self {
        Self { subdir: PathBuf::from(subdir), ..self }
    }

    /// The series checker, without applying: every entry exists and is listed once, every patch
    /// file in the directory is listed, and every patch is in the house format (DEP-3 header,
    /// `a/` `b/` prefixes, no timestamps, no `index` lines). With a delta, the same for the
    /// delta's folder, whose patches must each replace one of the series. Subfolders with a
    /// `series` file of their own (deltas) are the business of the series that uses them.
    pub fn check_files(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for name in &self.patches {
            if !seen.insert(name.as_str()) {
                problems.push(format!("{name}: listed twice in series"));
            }
            let path = self.path(name);
            match fs::read_to_string(&path) {
                Ok(text) => {
                    problems.extend(lint_patch(&text).into_iter().map(|p| format!("{name}: {p}")))
                }
                Err(e) => problems.push(format!("{}: cannot be read: {e}", path.display())),
            }
        }
        problems.extend(unlisted(&self.dir, &seen)?);
        if let Some(delta) = &self.delta {
            let mut replaced = std::collections::HashSet::new();
            for name in &delta.patches {
                if !replaced.insert(name.as_str()) {
                    problems
                        .push(format!("{name}: listed twice in {}/series", delta.dir.display()));
                }
                if !seen.contains(name.as_str()) {
                    problems.push(format!(
                        "{name}: in {}/series but not in the series it is a delta of",
                        delta.dir.display()
                    ));
                }
            }
            let order: Vec<&String> =
                self.patches.iter().filter(|p| replaced.contains(p.as_str())).collect();
            if order.len() == delta.patches.len()
                && order.iter().zip(&delta.patches).any(|(a, b)| *a != b)
            {
                problems.push(format!(
                    "{}/series: not in the order of the series it is a delta of",
                    delta.dir.display()
                ));
            }
            problems.extend(unlisted(&delta.dir, &replaced)?);
            for name in delta.patches.iter().filter(|n| seen.contains(n.as_str())) {
                let (Ok(main), Ok(copy)) = (
                    fs::read_to_string(self.dir.join(name)),
                    fs::read_to_string(delta.dir.join(name)),
                ) else {
                    continue;
                };
                problems.extend(
                    delta_drift(&main, &copy, &delta.renames, &delta.extra_files, name)
                        .into_iter()
                        .map(|p| format!("{name}: {p}")),
                );
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
        if let Some(delta) = &self.delta {
            all.extend_from_slice(b"\n=== delta series\n");
            all.extend(fs::read(delta.dir.join("series")).unwrap_or_default());
        }
        for name in &self.patches {
            all.extend_from_slice(format!("\n=== {name}\n").as_bytes());
            all.extend(fs::read(self.path(name)).with_context(|| format!("reading {name}"))?);
        }
        Ok(all)
    }

    /// The files the series leaves in the tree (created or changed), relative to the tree's
    /// [`Self::subdir`], in the order they first appear, each once: what the upstream's
    /// formatters check.
    pub fn touched_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = Vec::new();
        for name in &self.patches {
            let text =
                fs::read_to_string(self.path(name)).with_context(|| format!("reading {name}"))?;
            for file in new_paths(&text) {
                if !files.contains(&file) {
                    files.push(file);
                }
            }
        }
        Ok(files)
    }

    /// The lines the series' patches add to `path` (relative to [`Self::subdir`]), in series
    /// order, each ending in a newline: the whole file, for a file the series creates. For the
    /// tests that hold a series against this checkout (the core's sources and versions).
    #[cfg(test)]
    pub fn added_lines(&self, path: &str) -> anyhow::Result<String> {
        let name = format!("b/{path}");
        let mut text = String::new();
        for patch in &self.patches {
            let diff =
                fs::read_to_string(self.path(patch)).with_context(|| format!("reading {patch}"))?;
            for file in Diff::parse(&diff).files {
                if file.name.split('\t').next() == Some(name.as_str()) {
                    for (_, line) in file.hunks.iter().flat_map(|h| &h.added) {
                        text += line;
                        text.push('\n');
                    }
                }
            }
        }
        Ok(text)
    }

    /// Applies every patch to `tree` in order, `-p1` with zero fuzz and zero offset; stops at
    /// the first that does not apply exactly and shows patch's output. With a delta, the
    /// patches it does not replace (refreshed for the other version) may apply at an offset:
    /// each such hunk is listed.
    pub fn apply(&self, sh: &Shell, tree: &Path) -> anyhow::Result<()> {
        let tree = tree.join(&self.subdir);
        for (i, name) in self.patches.iter().enumerate() {
            let patch = self.path(name);
            let from_delta = if self.delta.is_some() && self.refreshed_for_tree(name) {
                " (from the delta)"
            } else {
                ""
            };
            eprintln!("applying [{}/{}] {name}{from_delta}", i + 1, self.patches.len());
            let output = cmd!(
                sh,
                "patch -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch --reject-file=- --directory {tree} --input {patch}"
            )
            .quiet()
            .ignore_status()
            .output()?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                bail!(
                    "{name} does not apply with zero fuzz:\n{stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            // patch applies a hunk found a few lines away and says so: refresh the patch.
            let moved: Vec<&str> = stdout.lines().filter(|l| l.contains("(offset ")).collect();
            if !moved.is_empty() {
                if !self.refreshed_for_tree(name) {
                    eprintln!("  at an offset (zero fuzz): {} of its hunks", moved.len());
                    continue;
                }
                bail!("{name} applies only at an offset (refresh it):\n{}", moved.join("\n"));
            }
        }
        Ok(())
    }
}

/// The patch files under `dir` (not under a subfolder with a `series` file of its own) that
/// `listed` lacks, as problems.
fn unlisted(dir: &Path, listed: &std::collections::HashSet<&str>) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    if !dir.exists() {
        return Ok(problems);
    }
    let mut walk = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry?;
        if entry.depth() > 0 && entry.file_type().is_dir() && entry.path().join("series").exists() {
            walk.skip_current_dir();
            continue;
        }
        let rel = entry.path().strip_prefix(dir)?.to_string_lossy().into_owned();
        let is_patch = rel.ends_with(".patch") || rel.ends_with(".diff");
        if entry.file_type().is_file() && is_patch && !listed.contains(rel.as_str()) {
            problems.push(format!("{}: not listed in series (unused)", entry.path().display()));
        }
    }
    Ok(problems)
}

/// How a delta's copy of a patch (`copy`) differs from the series' patch (`main`) beyond what
/// the other upstream version explains, as problems (empty when it is only that). The copy must
/// have the same header and change the same files in the same order. Context lines and the
/// `@@` lines are upstream's text and may differ, also in number (a hunk at the end of a file
/// in one version and not in the other). A file whose removed lines differ (upstream changed a
/// line the patch changes, or the file is generated and written anew for the other version,
/// such as BoringSSL's `err_data.cc` and `obj_dat.h`) may differ in its added lines; in every
/// other file the copy's added lines must be the patch's, hunk by hunk (as one hunk when the
/// two split the file into different numbers of hunks). So a change to a patch of the series
/// that its copy lacks is found. The delta's `renames` (see [`Rename`]) apply to the removed
/// and added lines of `main` (the patch `name`) first. The copy's changes to the delta's
/// `extra` files (files the series' upstream source does not carry) are its own.
pub fn delta_drift(
    main: &str,
    copy: &str,
    renames: &[Rename],
    extra: &[String],
    name: &str,
) -> Vec<String> {
    let (mut main, mut copy) = (Diff::parse(main), Diff::parse(copy));
    copy.files.retain(|f| !extra.iter().any(|e| f.name.strip_prefix("b/") == Some(e)));
    for hunk in main.files.iter_mut().flat_map(|f| f.hunks.iter_mut()) {
        for lines in [&mut hunk.removed, &mut hunk.added] {
            *lines = lines
                .iter()
                .flat_map(|(n, l)| {
                    Rename::apply(renames, name, l).into_iter().map(move |r| (*n, r))
                })
                .collect();
        }
    }
    let mut problems = Vec::new();
    if main.header != copy.header {
        problems.push("the DEP-3 header differs from the series' patch".to_owned());
    }
    let names = |d: &Diff| d.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    if names(&main) != names(&copy) {
        problems.push(format!(
            "changes the files {:?}, the series' patch {:?}: refresh the copy from it",
            names(&copy),
            names(&main)
        ));
        return problems;
    }
    let texts = |lines: &[(usize, String)]| lines.iter().map(|l| l.1.clone()).collect::<Vec<_>>();
    for (a, b) in main.files.iter().zip(&copy.files) {
        let (all_a, all_b) = (Hunk::join(&a.hunks), Hunk::join(&b.hunks));
        if texts(&all_a.removed) != texts(&all_b.removed) {
            continue;
        }
        let pairs: Vec<(Hunk, Hunk)> = if a.hunks.len() == b.hunks.len() {
            a.hunks.iter().cloned().zip(b.hunks.iter().cloned()).collect()
        } else {
            vec![(all_a, all_b)]
        };
        for (x, y) in pairs.into_iter().filter(|(x, y)| texts(&x.added) != texts(&y.added)) {
            let line = y
                .added
                .iter()
                .zip(x.added.iter().map(Some).chain(std::iter::repeat(None)))
                .find(|(c, m)| m.is_none_or(|m| m.1 != c.1))
                .map_or(y.first, |(c, _)| c.0);
            problems.push(format!(
                "line {line} ({}): the added lines differ from the series' patch where \
                 upstream's removed lines do not",
                a.name
            ));
        }
    }
    problems
}

/// A patch read for [`delta_drift`]: its header and, per file, the removed and added lines of
/// each hunk (with their line numbers in the patch).
struct Diff {
    header: Vec<String>,
    files: Vec<FileDiff>,
}

struct FileDiff {
    name: String,
    hunks: Vec<Hunk>,
}

#[derive(Clone, Default)]
struct Hunk {
    /// The line number of the `@@` line.
    first: usize,
    removed: Vec<(usize, String)>,
    added: Vec<(usize, String)>,
}

impl Hunk {
    /// All hunks of a file as one.
    fn join(hunks: &[Hunk]) -> Hunk {
        let mut all = Hunk { first: hunks.first().map_or(0, |h| h.first), ..Hunk::default() };
        for h in hunks {
            all.removed.extend(h.removed.iter().cloned());
            all.added.extend(h.added.iter().cloned());
        }
        all
    }
}

impl Diff {
    fn parse(text: &str) -> Diff {
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.iter().position(|l| l.starts_with("--- ")).unwrap_or(lines.len());
        let mut diff = Diff {
            header: lines[..start].iter().map(|l| l.to_string()).collect(),
            files: Vec::new(),
        };
        for (i, line) in lines.iter().enumerate().skip(start) {
            let n = i + 1;
            if line.starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ ")) {
                diff.files.push(FileDiff { name: lines[i + 1][4..].to_owned(), hunks: Vec::new() });
                continue;
            }
            if line.starts_with("+++ ") && i > 0 && lines[i - 1].starts_with("--- ") {
                continue;
            }
            let Some(file) = diff.files.last_mut() else { continue };
            if line.starts_with("@@") {
                file.hunks.push(Hunk { first: n, ..Hunk::default() });
                continue;
            }
            let Some(hunk) = file.hunks.last_mut() else { continue };
            if let Some(rest) = line.strip_prefix('-') {
                hunk.removed.push((n, rest.to_owned()));
            } else if let Some(rest) = line.strip_prefix('+') {
                hunk.added.push((n, rest.to_owned()));
            }
        }
        diff
    }
}

/// The text of the file at `path`, empty when there is none (an optional file of a series
/// folder: `series`, a delta's `renames` and `extra-files`).
fn read_if_present(path: &Path) -> anyhow::Result<String> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The patch names of a quilt `series` file: one per line, `#` comments and blank lines
/// ignored. Patch options (`-p0`, ...) are refused: every patch is `-p1`.
pub fn parse(text: &str) -> anyhow::Result<Vec<String>> {
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
                "line {}: `{option}`: patch options are not supported (every patch is -p1)",
                n + 1
            );
        }
        patches.push(name.to_owned());
    }
    Ok(patches)
}

/// The `+++ b/<path>` paths of a patch (files it creates or changes; not deleted ones).
fn new_paths(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .map(|p| PathBuf::from(p.split('\t').next().unwrap_or(p)))
        .collect()
}

/// House-format problems of one patch (empty when it is fine): the DEP-3 fields
/// `Description`, `Author` (or `From`), `Forwarded` and `Last-Update` before the first diff,
/// and in the diff `a/` `b/` prefixes without timestamps or `index` lines.
pub fn lint_patch(text: &str) -> Vec<String> {
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
    let diff_start = |l: &str| l.starts_with("--- ") || l.starts_with("diff ");
    for (n, line) in text.lines().enumerate().skip_while(|(_, l)| !diff_start(l)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Description: Link the core\n\
        Author: tls-srp\n\
        Forwarded: no\n\
        Last-Update: 2026-12-02\n\
        \n\
        --- a/lib/ssl/ssl.gyp\n\
        +++ b/lib/ssl/ssl.gyp\n\
        @@ -1,1 +1,1 @@\n\
        -old\n\
        +new\n";

    #[test]
    fn series_lists_patches_without_comments_or_blank_lines() {
        let text = "# TLS-SRP for NSS\n\na.patch\n  b.patch  # the second\n\n#c.patch\n";
        assert_eq!(parse(text).unwrap(), ["a.patch", "b.patch"]);
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn touched_files_are_the_new_paths_once_each() {
        let tmp = tempfile::tempdir().unwrap();
        let two = GOOD.replace("+new\n", "+new\n--- /dev/null\n+++ b/lib/ssl/new.c\n@@ -0,0 +1 @@\n+x\n--- a/old.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n");
        fs::write(tmp.path().join("series"), "one.patch\ntwo.patch\n").unwrap();
        fs::write(tmp.path().join("one.patch"), GOOD).unwrap();
        fs::write(tmp.path().join("two.patch"), two).unwrap();
        let series = Series::load(tmp.path()).unwrap();
        assert_eq!(
            series.touched_files().unwrap(),
            [PathBuf::from("lib/ssl/ssl.gyp"), PathBuf::from("lib/ssl/new.c")],
            "in order, once each, without the deleted file"
        );
    }

    #[test]
    fn a_patch_that_applies_only_at_an_offset_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        let (dir, tree) = (tmp.path().join("patches"), tmp.path().join("tree"));
        fs::create_dir_all(tree.join("lib/ssl")).unwrap();
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("series"), "one.patch\n").unwrap();
        fs::write(dir.join("one.patch"), GOOD).unwrap();
        let series = Series::load(&dir).unwrap();
        fs::write(tree.join("lib/ssl/ssl.gyp"), "old\n").unwrap();
        series.apply(&sh, &tree).unwrap();
        assert_eq!(fs::read_to_string(tree.join("lib/ssl/ssl.gyp")).unwrap(), "new\n");
        fs::write(tree.join("lib/ssl/ssl.gyp"), "added\nold\n").unwrap();
        let error = series.apply(&sh, &tree).unwrap_err().to_string();
        assert!(error.contains("offset 1 line"), "{error}");
    }

    /// A delta replaces the patches its `series` names; the others may apply at an offset to
    /// the delta's version, the delta's own may not; the main series' checker leaves the
    /// delta's folder to the series that uses it.
    #[test]
    fn a_delta_replaces_its_patches_and_allows_offsets_only_for_the_others() {
        let tmp = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        let (dir, tree) = (tmp.path().join("patches"), tmp.path().join("tree"));
        let delta = dir.join("2.0");
        fs::create_dir_all(tree.join("lib/ssl")).unwrap();
        fs::create_dir_all(&delta).unwrap();
        let other = GOOD.replace("ssl.gyp", "other.c");
        let one = GOOD.replace("@@ -1,1 +1,1 @@\n", "@@ -1,2 +1,2 @@\n ctx\n");
        fs::write(dir.join("series"), "one.patch\ntwo.patch\n").unwrap();
        fs::write(dir.join("one.patch"), &one).unwrap();
        fs::write(dir.join("two.patch"), &other).unwrap();
        fs::write(delta.join("series"), "# refreshed for 2.0\none.patch\n").unwrap();
        fs::write(delta.join("one.patch"), one.replace(" ctx\n", " ctx 2.0\n")).unwrap();
        let main = Series::load(&dir).unwrap();
        main.check_files().unwrap();
        let series = Series::load(&dir).unwrap().with_delta(&delta).unwrap();
        series.check_files().unwrap();
        assert_eq!(series.path("one.patch"), delta.join("one.patch"));
        assert_eq!(series.path("two.patch"), dir.join("two.patch"));
        // Version 2.0: one.patch's context changed, two.patch's file moved down a line.
        fs::write(tree.join("lib/ssl/ssl.gyp"), "ctx 2.0\nold\n").unwrap();
        fs::write(tree.join("lib/ssl/other.c"), "added\nold\n").unwrap();
        series.apply(&sh, &tree).unwrap();
        assert_eq!(fs::read_to_string(tree.join("lib/ssl/ssl.gyp")).unwrap(), "ctx 2.0\nnew\n");
        assert_eq!(fs::read_to_string(tree.join("lib/ssl/other.c")).unwrap(), "added\nnew\n");
        // The delta's own patch at an offset is refused.
        fs::write(tree.join("lib/ssl/ssl.gyp"), "added\nctx 2.0\nold\n").unwrap();
        fs::write(tree.join("lib/ssl/other.c"), "old\n").unwrap();
        let error = series.apply(&sh, &tree).unwrap_err().to_string();
        assert!(error.contains("one.patch applies only at an offset"), "{error}");
        // A delta patch that replaces nothing, or is unlisted, is a problem.
        fs::write(delta.join("series"), "three.patch\n").unwrap();
        fs::write(delta.join("three.patch"), GOOD).unwrap();
        let error = Series::load(&dir)
            .unwrap()
            .with_delta(&delta)
            .unwrap()
            .check_files()
            .unwrap_err()
            .to_string();
        assert!(error.contains("three.patch: in"), "{error}");
        assert!(error.contains("one.patch: not listed in series (unused)"), "{error}");
    }

    fn drift(main: &str, copy: &str) -> Vec<String> {
        delta_drift(main, copy, &[], &[], "p.patch")
    }

    /// A copy may change the delta's extra files (which the series' source does not carry)
    /// besides the series' files; any other file of its own is drift.
    #[test]
    fn a_delta_copy_may_change_its_extra_files_too() {
        let main = "D\n---\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n";
        let extra = "--- a/gen/sources.gni\n+++ b/gen/sources.gni\n@@ -1 +1,2 @@\n x\n+y\n";
        let copy = format!("{main}{extra}");
        let files = ["gen/sources.gni".to_owned()];
        assert_eq!(delta_drift(main, &copy, &[], &files, "p.patch"), Vec::<String>::new());
        let problems = delta_drift(main, &copy, &[], &[], "p.patch");
        assert!(problems.len() == 1 && problems[0].contains("changes the files"), "{problems:?}");
    }

    /// Renames: at identifier boundaries, scoped to patches, dropping lines left blank, `\n`
    /// making new lines; the checker applies them to the series' patch before comparing.
    #[test]
    fn renames_say_what_the_added_code_is_called_in_the_other_version() {
        let renames = Rename::parse(
            "# comment\n\
             Impl *impl = FromOpaque(ssl); =>\n\
             impl => ssl\n\
             b.patch,c.patch: Session => SSL_SESSION\n\
             CBS x; => CBS x;\\n    CBS_init(&x);\n",
        )
        .unwrap();
        assert_eq!(renames.len(), 4);
        assert_eq!(renames[2].patches, ["b.patch", "c.patch"]);
        let apply = |patch, line| Rename::apply(&renames, patch, line);
        assert_eq!(apply("a.patch", "  Impl *impl = FromOpaque(ssl);"), Vec::<String>::new());
        assert_eq!(
            apply("a.patch", "  if (impl->x && ctx_impl) {"),
            ["  if (ssl->x && ctx_impl) {"]
        );
        assert_eq!(apply("a.patch", ""), [""], "a blank line stays");
        assert_eq!(apply("a.patch", "const Session *s;"), ["const Session *s;"]);
        assert_eq!(apply("b.patch", "const Session *s;"), ["const SSL_SESSION *s;"]);
        assert_eq!(apply("a.patch", "  CBS x;"), ["  CBS x;", "    CBS_init(&x);"]);
        assert!(Rename::parse("no arrow\n").is_err());
        let main = GOOD.replace("+new\n", "+new impl\n");
        let copy = GOOD.replace("+new\n", "+new ssl\n");
        assert_eq!(delta_drift(&main, &copy, &renames, &[], "a.patch"), Vec::<String>::new());
        assert_eq!(delta_drift(&main, &copy, &[], &[], "a.patch").len(), 1, "without the renames");
    }

    /// A delta's copy may differ from the patch where upstream differs (line numbers, context,
    /// also how much of it, a changed line changed the same way, a generated file written
    /// anew), not in what the patch adds.
    #[test]
    fn delta_drift_finds_changes_the_copy_lacks() {
        let main = GOOD.replace("@@ -1,1 +1,1 @@\n", "@@ -1,2 +1,2 @@ f()\n ctx\n");
        assert_eq!(drift(&main, &main), Vec::<String>::new());
        let upstream = main.replace("@@ -1,2 +1,2 @@ f()", "@@ -9,2 +9,2 @@ g()");
        let upstream = upstream.replace(" ctx\n", " other ctx\n");
        assert_eq!(drift(&main, &upstream), Vec::<String>::new(), "numbers, context");
        let more_context = upstream.replace("+new\n", "+new\n trailing ctx\n");
        assert_eq!(drift(&main, &more_context), Vec::<String>::new(), "more context");
        let changed = upstream.replace("-old\n+new\n", "-old -q\n+new -q\n");
        assert_eq!(drift(&main, &changed), Vec::<String>::new(), "a line upstream changed");
        let drifted = main.replace("+new\n", "+newer\n");
        assert_eq!(
            drift(&main, &drifted),
            ["line 11 (b/lib/ssl/ssl.gyp): the added lines differ from the series' patch where \
                 upstream's removed lines do not"]
        );
        let longer = main.replace("+new\n", "+new\n+more\n");
        assert!(drift(&main, &longer)[0].starts_with("line 12 "), "{longer}");
        let header = main.replace("Last-Update: 2026-12-02", "Last-Update: 2026-12-03");
        assert_eq!(drift(&main, &header), ["the DEP-3 header differs from the series' patch"]);
        let other_file = main.replace("ssl.gyp", "other.gyp");
        assert!(drift(&main, &other_file)[0].contains("changes the files"));
        // Two hunks in one version, one in the other: the file is compared as a whole.
        let two = format!("{main}@@ -20,1 +20,1 @@\n-old2\n+new2\n");
        let merged = main.replace("+new\n", "+new\n ctx\n-old2\n+new2\n");
        assert_eq!(drift(&two, &merged), Vec::<String>::new(), "hunks merged");
        let merged_drifted = merged.replace("+new2", "+newer2");
        assert_eq!(drift(&two, &merged_drifted).len(), 1, "{merged_drifted}");
        // A generated file written anew: its removed lines differ, so may its added ones.
        let regenerated = main.replace("-old\n+new\n", "-0x1\n-0x2\n+0x3\n");
        let regenerated = format!("{regenerated}@@ -30,1 +30,1 @@\n-0x4\n+0x5\n");
        assert_eq!(drift(&main, &regenerated), Vec::<String>::new(), "regenerated");
        // A file whose removed lines differ somewhere may differ in any of its hunks' added
        // lines; the others are still checked.
        let two_files = format!("{two}--- a/b.c\n+++ b/b.c\n@@ -1,1 +1,1 @@\n-x\n+y\n");
        let changed_files = two_files
            .replace("-old\n", "-old -q\n")
            .replace("+new2\n", "+new2\n+gap\n")
            .replace("+y\n", "+z\n");
        let problems = drift(&two_files, &changed_files);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("(b/b.c)"), "{problems:?}");
    }

    #[test]
    fn series_refuses_patch_options() {
        let error = parse("a.patch\nb.patch -p0\n").unwrap_err().to_string();
        assert!(error.contains("line 2") && error.contains("-p0"), "{error}");
    }

    #[test]
    fn a_patch_in_the_house_format_has_no_problems() {
        assert_eq!(lint_patch(GOOD), Vec::<String>::new());
    }

    #[test]
    fn dep3_lint_names_each_missing_field() {
        for field in ["Description:", "Forwarded:", "Last-Update:"] {
            let text: String =
                GOOD.lines().filter(|l| !l.starts_with(field)).map(|l| format!("{l}\n")).collect();
            assert_eq!(lint_patch(&text), [format!("DEP-3 header lacks `{field}`")]);
        }
        let from = GOOD.replace("Author:", "From:");
        assert_eq!(lint_patch(&from), Vec::<String>::new(), "From: stands for Author:");
        let no_author = GOOD.replace("Author: tls-srp\n", "");
        assert_eq!(lint_patch(&no_author), ["DEP-3 header lacks `Author:` (or `From:`)"]);
        // A field mentioned in the diff does not count for the header.
        let late = no_author.replace("+new\n", "+new\n--- a/x\n+++ b/x\n+Author: someone\n");
        assert!(lint_patch(&late).iter().any(|p| p.contains("Author")));
    }

    #[test]
    fn lint_finds_diff_format_problems() {
        let text = GOOD
            .replace("--- a/lib/ssl/ssl.gyp", "diff --git a/lib/ssl/ssl.gyp b/lib/ssl/ssl.gyp\nindex 123..456 100644\n--- lib/ssl/ssl.gyp\t2026-01-01")
            .replace("+++ b/lib/ssl/ssl.gyp", "+++ b/lib/ssl/ssl.gyp\t2026-01-01");
        let problems = lint_patch(&text);
        assert_eq!(
            problems,
            [
                "line 7: `index` line (refresh with --no-index)",
                "line 8: timestamp (refresh with --no-timestamps)",
                "line 8: old path lacks the `a/` prefix",
                "line 9: timestamp (refresh with --no-timestamps)",
            ]
        );
        let header_only = "Description: x\nAuthor: y\nForwarded: no\nLast-Update: 2026-12-02\n";
        assert_eq!(lint_patch(header_only), ["contains no diff"]);
        let new_file = GOOD.replace("--- a/lib/ssl/ssl.gyp", "--- /dev/null");
        assert_eq!(lint_patch(&new_file), Vec::<String>::new());
    }
}

/// The project's deltas are in step with their series (what `check` says before it applies
/// anything), so a change to a patch that its delta copy lacks fails `cargo test`.
#[cfg(test)]
mod project_deltas {
    use super::*;

    #[test]
    fn every_delta_follows_its_series() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for (series, delta) in [("nss-patches", "3.112"), ("boringssl-patches", "chromium-150")] {
            let dir = root.join(series);
            let series = Series::load(&dir).unwrap().with_delta(&dir.join(delta)).unwrap();
            series.check_files().unwrap();
        }
    }
}
