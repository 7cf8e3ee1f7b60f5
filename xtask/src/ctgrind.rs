//! `cargo xtask ctgrind`: the constant-time check.
//!
//! Builds `srp-core/examples/ctgrind.rs` with the `ct-validation` feature (secrets marked
//! undefined for valgrind memcheck, public results declassified) and the `ct-planted` feature
//! (negative controls, off unless the harness switches one on) in the `ctgrind` profile
//! (release code generation with line tables), then:
//! - asks the harness (natively) which exponentiation backends this CPU supports, then runs
//!   client and server in every group on each of them under memcheck, forcing the backend
//!   (valgrind hides ADX from CPUID but executes MULX/ADCX/ADOX), and fails on any report.
//!   Valgrind cannot execute AVX-512: the `ifma` backend's kernel runs under memcheck as
//!   `ifma-emulated` (the same generic kernel over a scalar emulation of its vector
//!   instructions: same control flow, same memory accesses);
//! - checks the real `ifma` machine code natively (`ctgrind trace`, when the CPU has AVX-512
//!   IFMA): every instruction of the exponentiation single-stepped under ptrace, with the
//!   address of every memory operand, must be the same for different secrets;
//! - negative controls, each of which must be caught: a deliberately variable-time
//!   exponentiation in the harness (memcheck), and leaks planted in the core's own arithmetic
//!   (`ct-planted`): a secret branch and a secret-indexed load in the IFMA kernel (memcheck on
//!   `ifma-emulated`; the trace on `ifma`) and a secret-indexed load in the table selection all
//!   backends share (memcheck on `adx` or `portable`; the trace on `ifma`).

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
        // objdump: the trace check decodes the harness's memory operands with it.
        crate::deps::ensure_debian_packages(sh, &["valgrind", "binutils"])?;
        cmd!(sh, "valgrind --version")
            .quiet()
            .ignore_stdout()
            .run()
            .context("valgrind is not installed (Debian package `valgrind`)")?;
        crate::step("building the constant-time harness (ctgrind profile, ct-validation)");
        cmd!(
            sh,
            "cargo build --quiet --profile ctgrind --package srp-core --example ctgrind --features ct-validation,ct-planted"
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
            "backends supported by this CPU: {}; each but `ifma` runs under memcheck, forced by \
             the harness (`--backend`): valgrind's CPUID hides ADX and AVX-512, so detection \
             would pick `portable`, but valgrind 3.19 executes MULX, ADCX and ADOX, so `adx` runs \
             its real code (an instruction valgrind could not execute would stop the run, not \
             pass it). Valgrind cannot execute AVX-512: `ifma-emulated` is the IFMA kernel over \
             an emulation of its instructions, and `ifma`'s machine code is traced natively",
            backends.join(", ")
        );
        let mut passed = 0;
        let mut failed = 0;
        let mut tally = |ok: bool, what: &str| {
            if ok {
                passed += 1;
                eprintln!("ok: {what}");
            } else {
                failed += 1;
                eprintln!("FAILED: {what}");
            }
        };
        let memchecked: Vec<&str> = backends.iter().copied().filter(|&b| b != "ifma").collect();
        for backend in &memchecked {
            for group in &groups {
                crate::step(&format!(
                    "memcheck: client and server, {group}-bit group, `{backend}` backend"
                ));
                let errors = memcheck(sh, &harness, &["exchange", "--backend", backend, group])?;
                tally(
                    errors == 0,
                    &format!(
                        "memcheck: {errors} secret-dependent branches or indices in the \
                         {group}-bit group (`{backend}`)"
                    ),
                );
            }
        }
        let traced = backends.contains(&"ifma");
        if traced {
            crate::step(&format!(
                "trace: the `ifma` machine code single-stepped natively, groups {}",
                groups.join(", ")
            ));
            let mut args = vec!["trace", "--backend", "ifma"];
            args.extend(groups.iter().map(String::as_str));
            tally(trace(sh, &harness, &args)?, "trace: identical for every secret (`ifma`)");
        }
        eprintln!(
            "covered backends: {} under memcheck{}",
            memchecked.join(", "),
            if traced { "; ifma by the native trace" } else { "; ifma not on this CPU" }
        );

        crate::step("memcheck: a deliberately variable-time exponentiation must be reported");
        let errors = memcheck(sh, &harness, &["leaky"])?;
        tally(errors > 0, &format!("memcheck reported the variable-time path ({errors} errors)"));

        // The leaks planted in the core's own arithmetic, in the smallest group.
        let plants: [(&str, &str); 3] = [
            ("branch", "ifma-emulated"),
            ("load", "ifma-emulated"),
            ("select-load", if memchecked.contains(&"adx") { "adx" } else { "portable" }),
        ];
        for (plant, backend) in plants {
            crate::step(&format!(
                "memcheck: the planted {plant} leak (`{backend}`) must be reported"
            ));
            let errors = memcheck(
                sh,
                &harness,
                &["exchange", "--plant", plant, "--backend", backend, "2048"],
            )?;
            tally(
                errors > 0,
                &format!(
                    "memcheck reported the planted {plant} leak on `{backend}` ({errors} errors)"
                ),
            );
            if traced {
                crate::step(&format!("trace: the planted {plant} leak (`ifma`) must differ"));
                let same =
                    trace(sh, &harness, &["trace", "--plant", plant, "--backend", "ifma", "2048"])?;
                tally(!same, &format!("the trace caught the planted {plant} leak on `ifma`"));
            }
        }

        println!("ctgrind: {passed} passed, {failed} failed");
        if failed > 0 {
            bail!("the constant-time check failed");
        }
        Ok(())
    }
}

/// Runs the harness's native trace check; true when every trace was identical.
fn trace(sh: &Shell, harness: &std::path::Path, args: &[&str]) -> anyhow::Result<bool> {
    let output = cmd!(sh, "{harness} {args...}").quiet().ignore_status().output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let identical = stdout.lines().any(|l| l == "trace: identical");
    let different = stdout.lines().any(|l| l.starts_with("trace: DIFFERENT"));
    match (output.status.code(), identical, different) {
        (Some(0), true, false) => Ok(true),
        (Some(1), false, true) => {
            if !args.contains(&"--plant") {
                eprintln!("{stdout}");
            }
            Ok(false)
        }
        _ => bail!("the trace check did not finish ({}):\n{stdout}\n{stderr}", output.status),
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
        let wanted = args[args.iter().position(|&a| a == "--backend").map_or(2, |i| i + 1)];
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
    if errors > 0 && args[0] != "leaky" && !args.contains(&"--plant") {
        eprintln!("{stderr}");
    }
    Ok(errors)
}
