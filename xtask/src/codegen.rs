//! `cargo xtask codegen [--check]`: generates srp-ffi/include/srp_ffi.h with the pinned
//! cbindgen. `--check` (run by `cargo xtask test`, and by this module's test, so that plain
//! `cargo test --workspace` catches drift too) fails when the committed header is out of date.
//!
//! srp-ffi generates part of its C face with `macro_rules!` (the `srp_result` table, the handle
//! types), which cbindgen cannot see in the source. So the generator first expands srp-ffi's
//! macros with rustc (`cargo rustc -- -Zunpretty=expanded`, what cbindgen's own `[parse.expand]`
//! runs) and hands cbindgen the expanded source. `-Zunpretty` is unstable: on a stable toolchain
//! rustc accepts it only with `RUSTC_BOOTSTRAP=1`, which cbindgen 0.29.4 neither sets nor asks
//! for (its expansion inherits the environment), so the expansion is run here, with the variable
//! set for that one command only (as cargo-expand does) and in a target directory of its own
//! (`target/codegen`), so that neither the variable nor the check profile touches other builds.
//! rustc's expansion of the same source is the same every time, so the header is deterministic.

use std::path::Path;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

/// The header's path, relative to the project root.
pub const HEADER: &str = "srp-ffi/include/srp_ffi.h";

#[derive(clap::Args)]
pub struct Codegen {
    /// Fail if the committed header differs from what would be generated, instead of writing.
    #[arg(long)]
    check: bool,
}

impl Codegen {
    /// The drift check, as CI runs it.
    pub fn check_only() -> Self {
        Self { check: true }
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::step("generating the C header with cbindgen (after expanding srp-ffi's macros)");
        let generated = generate(sh)?;
        let path = sh.current_dir().join(HEADER);
        if self.check {
            check(&path, &generated)
        } else {
            sh.write_file(&path, generated)?;
            eprintln!("wrote {HEADER}");
            Ok(())
        }
    }
}

/// The header as cbindgen generates it from srp-ffi, `sh` being in the project root.
pub fn generate(sh: &Shell) -> anyhow::Result<String> {
    let root = sh.current_dir();
    let crate_dir = root.join("srp-ffi");
    let target_dir = root.join("target/codegen");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let expanded = cmd!(
        sh,
        "{cargo} rustc --quiet --lib --package srp-ffi --profile=check --target-dir {target_dir}
            -- -Zunpretty=expanded"
    )
    .env("RUSTC_BOOTSTRAP", "1")
    .read()
    .context("expanding srp-ffi's macros (cargo rustc -- -Zunpretty=expanded)")?;
    let expanded_path = target_dir.join("srp_ffi_expanded.rs");
    sh.write_file(&expanded_path, expanded)?;

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| anyhow::anyhow!("reading srp-ffi/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_src(&expanded_path)
        .with_config(config)
        .generate()
        .with_context(|| {
            format!("cbindgen could not generate the header from {}", expanded_path.display())
        })?;
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    String::from_utf8(generated).context("cbindgen wrote non-UTF-8")
}

fn check(path: &Path, generated: &str) -> anyhow::Result<()> {
    let committed =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        bail!(
            "{HEADER} is out of date with srp-ffi/src/ (first difference at line {}): run \
             `cargo xtask codegen` and commit the result",
            line + 1
        );
    }
    eprintln!("{HEADER} is up to date");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask codegen --check` as a test, so that `cargo test --workspace` fails when the
    /// committed header is not what srp-ffi's sources generate.
    #[test]
    fn header_is_up_to_date() {
        let sh = Shell::new().expect("a shell");
        sh.change_dir(crate::project_root().expect("the project root"));
        if let Err(error) = Codegen::check_only().run(&sh) {
            panic!("{error:#}");
        }
    }
}
