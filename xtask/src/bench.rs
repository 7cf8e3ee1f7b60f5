//! `cargo xtask bench core [--json] [--wall] [--backend NAME] [--write]`: the SRP math of one handshake, per
//! group (2048, 3072, 4096) and side, in this core (`srp-ffi`), OpenSSL's `SRP_Calc_*`
//! (`openssl-srp`) and OpenSSL's `BN_mod_exp_mont_consttime` (`openssl-consttime`), measured in
//! one run with ratios to `openssl-srp`.
//!
//! It runs `srp-ffi/benches/srp.rs` (`cargo bench -p srp-ffi --bench srp -- --core`), which
//! checks that every implementation computes the same values before timing them, and times the
//! thread's CPU time (`--wall` for wall-clock time) in interleaved rounds. `--json` prints one
//! JSON object per line: `{"group": 2048, "side": "server", "impl": "srp-ffi", "median_ns": ...}`.
//! `--backend portable` forces srp-ffi's portable exponentiation backend (default: the one the
//! CPU selects, `adx` with BMI2 and ADX); the header line names the backend either way.
//! `--write` also replaces the results block of docs/performance.md.

use xshell::{Shell, cmd};

#[derive(clap::Args)]
pub struct Bench {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// One handshake's SRP math per group and side: srp-ffi vs OpenSSL SRP_Calc_* vs OpenSSL
    /// BN_mod_exp_mont_consttime.
    Core {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Wall-clock time instead of the thread's CPU time.
        #[arg(long)]
        wall: bool,
        /// srp-ffi's exponentiation backend (`portable`, `adx`) instead of the CPU's choice.
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Also write the table into docs/performance.md.
        #[arg(long)]
        write: bool,
    },
}

impl Bench {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let What::Core { json, wall, backend, write } = self.what;
        let mut args = vec!["--core"];
        if let Some(backend) = &backend {
            args.extend(["--backend", backend.as_str()]);
        }
        if json {
            args.push("--json");
        }
        if wall {
            args.push("--wall");
        }
        if write {
            args.extend(["--write", "docs/performance.md"]);
        }
        crate::step("building and running srp-ffi/benches/srp.rs (about a minute per group)");
        cmd!(sh, "cargo bench --quiet --package srp-ffi --bench srp -- {args...}").run()?;
        Ok(())
    }
}
