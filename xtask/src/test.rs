//! `cargo xtask test`: the README's test command. Installs the Debian packages it needs, then
//! runs, in order:
//! 1. the header drift check (`cargo xtask codegen --check`);
//! 2. every cargo test in the workspace: known answers, properties, the OpenSSL cross-check,
//!    verifier files made by the real `openssl srp` and `srptool`, the C program, the CLI;
//! 3. the constant-time check under valgrind (`cargo xtask ctgrind`).

use xshell::{Shell, cmd};

#[derive(clap::Args)]
pub struct Test {}

impl Test {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, crate::deps::TEST_PACKAGES)?;
        crate::codegen::Codegen::check_only().run(sh)?;
        crate::step("cargo test --workspace");
        cmd!(sh, "cargo test --workspace --locked --no-fail-fast").run()?;
        crate::ctgrind::Ctgrind::all_groups().run(sh)?;
        eprintln!("all tests passed");
        Ok(())
    }
}
