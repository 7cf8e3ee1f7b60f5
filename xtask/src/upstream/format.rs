//! What the upstreams' formatter checks share (`firefox check`, `chromium check`): the
//! clang-format both trees are checked with, which files are C and C++, and the diff from a
//! file to its formatted version.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{Shell, cmd};

/// The clang-format of the checks: Debian's clang 19, the major of both trees' toolchains.
pub const CLANG_FORMAT: &str = "clang-format-19";

/// The files both trees format with clang-format.
pub const CXX: &[&str] = &[".c", ".cc", ".cpp", ".h", ".m", ".mm"];

/// The files of `files` whose names end with one of `endings`.
pub fn with_endings(files: &[PathBuf], endings: &[&str]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| endings.iter().any(|e| f.to_string_lossy().ends_with(e)))
        .cloned()
        .collect()
}

/// `None` when `tree/file` holds exactly `formatted`; otherwise the unified diff from the
/// file to the formatter's version (`a/` and `b/` paths, as in the series).
pub fn diff_against(
    sh: &Shell,
    tree: &Path,
    file: &Path,
    formatted: &[u8],
) -> anyhow::Result<Option<String>> {
    let path = tree.join(file);
    let current = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if current == formatted {
        return Ok(None);
    }
    let (old, new) = (format!("a/{}", file.display()), format!("b/{}", file.display()));
    let diff = cmd!(sh, "diff -u --label {old} --label {new} {path} -")
        .quiet()
        .stdin(formatted)
        .ignore_status()
        .read()?;
    Ok(Some(diff))
}
