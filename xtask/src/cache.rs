//! The build cache, outside the clone and shared by every clone of the project on the machine.
//!
//! Where: `$TLS_SRP_CACHE` when set, else `$XDG_CACHE_HOME/tls-srp`, else `~/.cache/tls-srp`.
//! What:
//! - `downloads/<file>`: pinned files, verified against their sha256 before every use;
//! - `core/out/<key>/`: the srp-ffi static library, keyed by its sources ([`crate::core`]);
//! - `<upstream>/work/`: one patched tree per upstream and its build directories, updated in
//!   place (only changed files rewritten, so builds are incremental) under `<upstream>/work.lock`;
//! - `<upstream>/out/<key>/`: what a finished build exports (libraries, headers, test programs),
//!   keyed by the pin's sha256, the series contents, the core's key and the flavor's flags;
//!   written under a temporary name and renamed, never changed afterwards;
//! - `peers/<key>/`: the test peers, keyed by their sources, the library build and the flags.
//!
//! A key that exists is reused at once; a new key is built (incrementally, in the work
//! directory). Concurrent runs from different clones take the work directory's lock in turn and
//! never write into a keyed directory that another run may be reading.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{Shell, cmd};

/// The cache root (created when missing).
pub fn dir() -> anyhow::Result<PathBuf> {
    let dir = root_from(
        std::env::var_os("TLS_SRP_CACHE"),
        std::env::var_os("XDG_CACHE_HOME"),
        std::env::var_os("HOME"),
    )?;
    fs::create_dir_all(&dir).with_context(|| format!("creating the cache {}", dir.display()))?;
    Ok(dir)
}

/// The cache root from the environment: `TLS_SRP_CACHE`, `XDG_CACHE_HOME/tls-srp`,
/// `HOME/.cache/tls-srp`, the first one set (and not empty).
fn root_from(
    over: Option<std::ffi::OsString>,
    xdg: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> anyhow::Result<PathBuf> {
    let set = |v: Option<std::ffi::OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(over) {
        return Ok(dir);
    }
    if let Some(xdg) = set(xdg) {
        return Ok(xdg.join("tls-srp"));
    }
    let home = set(home).context("neither TLS_SRP_CACHE, XDG_CACHE_HOME nor HOME is set")?;
    Ok(home.join(".cache/tls-srp"))
}

/// An exclusive lock on a file, held until dropped.
pub struct Lock(#[allow(dead_code)] fs::File);

/// Takes the lock file `path` (created when missing), saying so when another run holds it.
pub fn lock(path: &Path) -> anyhow::Result<Lock> {
    fs::create_dir_all(path.parent().context("a lock file needs a parent directory")?)?;
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!("waiting for another run that holds {}", path.display());
        file.lock().with_context(|| format!("locking {}", path.display()))?;
    }
    Ok(Lock(file))
}

/// A key from the parts that determine an output: the first 16 hex digits of their sha256.
pub fn key(sh: &Shell, parts: &[&str]) -> anyhow::Result<String> {
    let mut text = String::new();
    for part in parts {
        text.push_str(part);
        text.push('\n');
    }
    Ok(sha256_bytes(sh, text.as_bytes())?[..16].to_owned())
}

/// A keyed output directory: returns `dir` when it exists; otherwise runs `fill` on a fresh
/// temporary directory next to it and renames that to `dir` (so a keyed directory is either
/// absent or complete). The caller holds the lock that serialises builds of this kind.
pub fn keyed(
    dir: &Path,
    fill: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        return Ok(dir.to_owned());
    }
    let name = dir.file_name().context("a keyed directory needs a name")?.to_string_lossy();
    let tmp = dir.with_file_name(format!("{name}.tmp-{}", std::process::id()));
    remove(&tmp)?;
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    match fill(&tmp) {
        Ok(()) => {
            fs::rename(&tmp, dir)
                .with_context(|| format!("renaming {} to {}", tmp.display(), dir.display()))?;
            Ok(dir.to_owned())
        }
        Err(e) => {
            remove(&tmp)?;
            Err(e)
        }
    }
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

/// sha256 over the relative paths and contents of `paths` (files, or folders walked in a
/// fixed order), skipping anything under a `target` folder.
pub fn sha256_files(sh: &Shell, base: &Path, paths: &[PathBuf]) -> anyhow::Result<String> {
    let mut all = Vec::new();
    for path in paths {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.with_context(|| format!("walking {}", path.display()))?;
            if entry.file_type().is_file()
                && !entry.path().components().any(|c| c.as_os_str() == "target")
            {
                files.push(entry.into_path());
            }
        }
        for file in files {
            let rel = file.strip_prefix(base).unwrap_or(&file);
            all.extend_from_slice(format!("\n=== {}\n", rel.display()).as_bytes());
            all.extend(fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
        }
    }
    sha256_bytes(sh, &all)
}

fn first_word(out: &str) -> anyhow::Result<String> {
    out.split_whitespace().next().map(str::to_owned).context("sha256sum printed nothing")
}

/// Removes a file, symlink or folder tree; nothing when it does not exist.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            fs::remove_dir_all(path).with_context(|| format!("removing {}", path.display()))?
        }
        Ok(_) => fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?,
        Err(_) => {}
    }
    Ok(())
}

/// Copies `from` (a file) to `to`, creating `to`'s folder, keeping the permissions.
pub fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to.parent().context("no parent")?)?;
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Copies the folder `from` into `to` recursively, following symlinks (so the copy holds
/// files, whatever the build linked).
pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(true) {
        let entry = entry.with_context(|| format!("walking {}", from.display()))?;
        let dest = to.join(entry.path().strip_prefix(from)?);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest)?;
        } else {
            copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_root_prefers_the_override_then_xdg_then_home() {
        let s = |v: &str| Some(std::ffi::OsString::from(v));
        assert_eq!(root_from(s("/c"), s("/x"), s("/h")).unwrap(), PathBuf::from("/c"));
        assert_eq!(root_from(None, s("/x"), s("/h")).unwrap(), PathBuf::from("/x/tls-srp"));
        assert_eq!(root_from(s(""), s(""), s("/h")).unwrap(), PathBuf::from("/h/.cache/tls-srp"));
        assert!(root_from(None, None, None).is_err(), "no variable set: an error, not a guess");
    }

    #[test]
    fn keyed_directories_appear_complete_or_not_at_all() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k1");
        let failed = keyed(&dir, |d| {
            fs::write(d.join("half"), "x")?;
            anyhow::bail!("build failed")
        });
        assert!(failed.is_err());
        assert!(!dir.exists(), "a failed fill leaves no keyed directory");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "and no temporary one");
        keyed(&dir, |d| Ok(fs::write(d.join("out"), "1")?)).unwrap();
        keyed(&dir, |_| panic!("an existing key is reused, not rebuilt")).unwrap();
        assert_eq!(fs::read_to_string(dir.join("out")).unwrap(), "1");
    }
}
