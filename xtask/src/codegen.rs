//! `cargo xtask codegen [--check]`: generates srp-ffi/include/srp_ffi.h with the pinned
//! cbindgen. CI runs `--check`, which fails when the committed header is out of date.

use std::path::Path;

use anyhow::{Context, bail};
use xshell::Shell;

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
        crate::step("generating the C header with cbindgen");
        let crate_dir = sh.current_dir().join("srp-ffi");
        let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
            .map_err(|e| anyhow::anyhow!("reading srp-ffi/cbindgen.toml: {e}"))?;
        let bindings = cbindgen::Builder::new()
            .with_crate(&crate_dir)
            .with_config(config)
            .generate()
            .context("cbindgen could not generate the header from srp-ffi")?;
        let mut generated = Vec::new();
        bindings.write(&mut generated);
        let generated = String::from_utf8(generated).context("cbindgen wrote non-UTF-8")?;
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

fn check(path: &Path, generated: &str) -> anyhow::Result<()> {
    let committed =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if committed != generated {
        bail!(
            "{HEADER} is out of date with srp-ffi/src/ffi.rs: run `cargo xtask codegen` and commit \
             the result"
        );
    }
    eprintln!("{HEADER} is up to date");
    Ok(())
}
