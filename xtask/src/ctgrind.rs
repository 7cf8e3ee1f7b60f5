//! `cargo xtask ctgrind`: the constant-time check.
//!
//! Builds `srp-core/examples/ctgrind.rs` with the `ct-validation` feature (secrets marked
//! undefined for valgrind memcheck, public results declassified) in the `ctgrind` profile
//! (release code generation with line tables), then:
//! - asks the harness (natively) which exponentiation backends this CPU supports, then runs
//!   client and server in every group on each of them under memcheck, forcing the backend
//!   (valgrind hides ADX from CPUID but executes MULX/ADCX/ADOX), and fails on any report;
//! - runs a deliberately variable-time exponentiation and fails unless memcheck reports it,
//!   proving the check can fail.

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

#[derive(clap::Args)]
pub struct Ctgrind {
    /// Group sizes to check (default: all seven).
    #[arg(long = "group", value_name = "BITS")]
    groups: Vec<u32>,
}

impl Ctgrind {
    /// The check over every group.
    pub fn all_groups() -> Self {
        Self { groups: Vec::new() }
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        cmd!(sh, "valgrind --version")
            .quiet()
            .ignore_stdout()
            .run()
            .context("valgrind is not installed (Debian package `valgrind`)")?;
        crate::step("building the constant-time harness (ctgrind profile, ct-validation)");
        cmd!(
            sh,
            "cargo build --quiet --profile ctgrind --package srp-core --example ctgrind --features ct-validation"
        )
        .run()?;
        let harness = sh.current_dir().join("target/ctgrind/examples/ctgrind");
        let groups: Vec<String> = if self.groups.is_empty() {
            crate::GROUPS.iter().map(u32::to_string).collect()
        } else {
            self.groups.iter().map(u32::to_string).collect()
        };

        // The backends the host CPU supports, asked natively: under valgrind CPUID hides ADX.
        let listed = cmd!(sh, "{harness} backends").read()?;
        let backends: Vec<&str> = listed.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if !backends.contains(&"portable") {
            bail!("the harness did not list the portable backend: {listed:?}");
        }
        eprintln!(
            "backends supported by this CPU: {}; each runs under memcheck, forced by the harness \
             (`--backend`): valgrind's CPUID hides ADX and AVX-512, so detection would pick \
             `portable`, but valgrind 3.19 executes MULX, ADCX and ADOX, so `adx` runs its real \
             code (an instruction valgrind could not execute would stop the run, not pass it)",
            backends.join(", ")
        );
        let mut passed = 0;
        let mut failed = 0;
        for backend in &backends {
            for group in &groups {
                crate::step(&format!(
                    "memcheck: client and server, {group}-bit group, `{backend}` backend"
                ));
                let errors = memcheck(sh, &harness, &["exchange", "--backend", backend, group])?;
                if errors == 0 {
                    passed += 1;
                    eprintln!(
                        "ok: no secret-dependent branch or index in the {group}-bit group \
                         (`{backend}`)"
                    );
                } else {
                    failed += 1;
                    eprintln!(
                        "FAILED: memcheck reported {errors} errors in the {group}-bit group \
                         (`{backend}`)"
                    );
                }
            }
        }
        eprintln!("covered backends: {} (each forced, under memcheck)", backends.join(", "));

        crate::step("memcheck: a deliberately variable-time exponentiation must be reported");
        let errors = memcheck(sh, &harness, &["leaky"])?;
        if errors > 0 {
            passed += 1;
            eprintln!("ok: memcheck reported the variable-time path ({errors} errors)");
        } else {
            failed += 1;
            eprintln!("FAILED: memcheck did not report the variable-time path: the check is blind");
        }

        println!("ctgrind: {passed} passed, {failed} failed");
        if failed > 0 {
            bail!("the constant-time check failed");
        }
        Ok(())
    }
}

/// Runs the harness under memcheck and returns the number of errors it reported.
fn memcheck(sh: &Shell, harness: &std::path::Path, args: &[&str]) -> anyhow::Result<u64> {
    let output = cmd!(
        sh,
        "valgrind --tool=memcheck --error-exitcode=0 --num-callers=30 {harness} {args...}"
    )
    .quiet()
    .ignore_status()
    .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("the harness failed under valgrind ({}):\n{stderr}", output.status);
    }
    let summary = stderr
        .lines()
        .find_map(|line| line.split("ERROR SUMMARY: ").nth(1))
        .with_context(|| format!("valgrind printed no ERROR SUMMARY:\n{stderr}"))?;
    if args[0] == "exchange" {
        let wanted = args[2];
        let backend = stderr
            .lines()
            .find_map(|line| line.strip_prefix("srp-ffi backend: "))
            .context("the harness did not report its backend")?;
        if backend.split_whitespace().next() != Some(wanted) {
            bail!("expected the harness to run the `{wanted}` backend, found `{backend}`");
        }
    }
    let errors: u64 = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("cannot read the error count in {summary:?}"))?;
    if errors > 0 && args[0] != "leaky" {
        eprintln!("{stderr}");
    }
    Ok(errors)
}
