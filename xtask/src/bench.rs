//! `cargo xtask bench core [--json] [--wall] [--backend NAME] [--write]`: the SRP math of one handshake, per
//! group (2048, 3072, 4096, 6144, 8192) and side, in this core (`srp-ffi`), OpenSSL's `SRP_Calc_*`
//! (`openssl-srp`) and OpenSSL's `BN_mod_exp_mont_consttime` (`openssl-consttime`), measured in
//! one run with ratios to `openssl-srp`.
//!
//! It runs `srp-core/benches/srp.rs` (`cargo bench -p srp-core --bench srp -- --core`), which
//! checks that every implementation computes the same values before timing them, and times the
//! thread's CPU time (`--wall` for wall-clock time) in interleaved rounds. `--json` prints one
//! JSON object per line: `{"group": 2048, "side": "server", "impl": "srp-ffi", "backend": "ifma",
//! "openssl_masked": false, "median_ns": ..., "ratio_median": ...}`.
//! srp-ffi runs on every exponentiation backend this CPU supports (`portable`, `adx`, `ifma`),
//! each a row of its own in the same interleaved rounds; `--backend NAME` measures one only.
//! Then a second process runs the `portable` backend against OpenSSL with its assembly paths
//! masked (`OPENSSL_ia32cap`, rows `openssl-srp-masked`, `"openssl_masked": true`): the proxy for
//! an ARM device (`--no-masked` skips it).
//! `--write` also replaces the results block of docs/performance.md.
//!
//! `cargo xtask bench handshake [--count N] [--write]`: whole TLS-SRP handshakes over loopback.
//! The same client (`srp-peer-openssl`, OpenSSL 3.0 libssl) makes N handshakes (0xC01D) against
//! each server: OpenSSL libssl's SRP server, the patched BoringSSL and the patched NSS (their
//! test peers, all optimised builds: NSS from `nss build --opt`), in the 2048- and 3072-bit
//! groups, in interleaved rounds. Each server logs its CPU time (user + system) per connection
//! (`--cpu-log`, the peer contract in tests/README.md); the table shows the median and the 10th
//! and 90th percentiles. `--write` replaces the handshake block of docs/performance.md.

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
        /// Only this srp-ffi exponentiation backend (`portable`, `adx`, `ifma`) instead of
        /// every one the CPU supports.
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Skip the second run against OpenSSL with its assembly masked.
        #[arg(long)]
        no_masked: bool,
        /// Also write the table into docs/performance.md.
        #[arg(long)]
        write: bool,
    },
    /// Whole TLS-SRP handshakes: server CPU time per handshake, OpenSSL libssl vs the patched
    /// BoringSSL and NSS, same client.
    Handshake {
        /// Handshakes per server, group and round.
        #[arg(long, default_value_t = 100)]
        count: u32,
        /// Also write the table into docs/performance.md.
        #[arg(long)]
        write: bool,
    },
}

impl Bench {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let (json, wall, backend, no_masked, write) = match self.what {
            What::Core { json, wall, backend, no_masked, write } => {
                (json, wall, backend, no_masked, write)
            }
            What::Handshake { count, write } => return handshake(sh, count, write),
        };
        let mut args = vec!["--core"];
        if let Some(backend) = &backend {
            args.extend(["--backend", backend.as_str()]);
        }
        if !no_masked {
            args.push("--with-masked");
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
        crate::step(
            "building and running srp-core/benches/srp.rs (about half a minute per group and run)",
        );
        cmd!(sh, "cargo bench --quiet --package srp-core --bench srp -- {args...}").run()?;
        Ok(())
    }
}

/// Rounds per server and group in `bench handshake`, interleaved: what the host and other work
/// add comes and goes in bursts, and falls on every server alike.
const HANDSHAKE_ROUNDS: u32 = 5;

/// The groups `bench handshake` measures.
const HANDSHAKE_GROUPS: [u32; 2] = [2048, 3072];

/// `bench handshake`: see the module documentation.
fn handshake(sh: &Shell, count: u32, write: bool) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    anyhow::ensure!(count > 0, "--count must be at least 1");
    let client = crate::peers::openssl(sh)?;
    let servers = [
        ("openssl", crate::peers::openssl(sh)?),
        ("boringssl", crate::peers::by_name(sh, "srp-peer-boringssl")?),
        ("nss", crate::peers::by_name(sh, "srp-peer-nss-release")?),
    ];
    let scratch = tempfile::Builder::new().prefix("tls-srp-bench-").tempdir()?;
    let dir = scratch.path();
    let vfile = dir.join("srpvfile");
    sh.write_file(&vfile, "")?;
    for bits in HANDSHAKE_GROUPS {
        let (user, pass, gn) = (format!("u{bits}"), format!("pass:pw{bits}"), bits.to_string());
        cmd!(sh, "openssl srp -srpvfile {vfile} -add -gn {gn} -passout {pass} {user}")
            .quiet()
            .ignore_stderr()
            .run()?;
    }
    let cpu = crate::cpu_model();
    let mut table = format!(
        "CPU: {cpu}; client `srp-peer-openssl` (OpenSSL 3.0 libssl), suite 0xC01D; the server's \
         CPU time (user + system) per connection, as the server measures it (`--cpu-log`), \
         {} connections per server and group ({HANDSHAKE_ROUNDS} interleaved rounds of \
         {count}).\n\n\
         | group | server | median µs | ratio to OpenSSL | 10th percentile µs | 90th percentile µs |\n\
         |---:|---|---:|---:|---:|---:|\n",
        HANDSHAKE_ROUNDS * count
    );
    for bits in HANDSHAKE_GROUPS {
        let mut samples = vec![Vec::new(); servers.len()];
        for round in 1..=HANDSHAKE_ROUNDS {
            for ((name, server), samples) in servers.iter().zip(&mut samples) {
                crate::step(&format!(
                    "round {round}/{HANDSHAKE_ROUNDS}: {count} handshakes, {bits}-bit group, {name} server"
                ));
                let log = dir.join("cpu-log");
                samples.extend(server_cpu_per_connection(
                    sh, server, &client, &vfile, &log, bits, count,
                )?);
            }
        }
        let percentile = |s: &[f64], p: usize| s[(s.len() - 1) * p / 100];
        for samples in &mut samples {
            samples.sort_by(f64::total_cmp);
        }
        let base = percentile(&samples[0], 50);
        for ((name, _), samples) in servers.iter().zip(&samples) {
            let median = percentile(samples, 50);
            writeln!(
                table,
                "| {bits} | {name} | {median:.0} | {:.2}x | {:.0} | {:.0} |",
                median / base,
                percentile(samples, 10),
                percentile(samples, 90)
            )?;
        }
    }
    println!("{table}");
    if write {
        let path = "docs/performance.md";
        let doc = sh.read_file(path)?;
        let (begin, end) = ("<!-- handshake-results:begin -->", "<!-- handshake-results:end -->");
        let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
            anyhow::bail!("{path} has no {begin} ... {end} block");
        };
        let doc = format!("{}{begin}\n{table}{}", &doc[..a], &doc[b..]);
        sh.write_file(path, doc)?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

/// Runs `server` for `count` connections with `--cpu-log` and returns its CPU time for each
/// connection in µs.
fn server_cpu_per_connection(
    sh: &Shell,
    server: &std::path::Path,
    client: &std::path::Path,
    vfile: &std::path::Path,
    log: &std::path::Path,
    bits: u32,
    count: u32,
) -> anyhow::Result<Vec<f64>> {
    use anyhow::Context;
    let n = count.to_string();
    let _ = std::fs::remove_file(log);
    let args: Vec<String> = vec![
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--verifiers".into(),
        vfile.display().to_string(),
        "--count".into(),
        n.clone(),
        "--cpu-log".into(),
        log.display().to_string(),
    ];
    let running = crate::interop::PeerServer::start(server, &args)?;
    let addr = running.addr.clone();
    let (user, password) = (format!("u{bits}"), format!("pw{bits}"));
    let out = cmd!(
        sh,
        "timeout 900 {client} client --connect {addr} --user {user} --password {password}
         --cipher 0xC01D --count {n}"
    )
    .quiet()
    .ignore_status()
    .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    let server_log = running.finish(out.status.success())?;
    let accepted = server_log.iter().filter(|l| l.starts_with("accepted ")).count();
    anyhow::ensure!(
        ok == count as usize && out.status.success() && accepted == server_log.len(),
        "{ok} of {count} handshakes succeeded: {stdout}; server: {server_log:?}"
    );
    let text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    let samples = text
        .lines()
        .map(|l| l.parse::<f64>().map(|ns| ns / 1e3))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} holds a line that is not a number", log.display()))?;
    anyhow::ensure!(
        samples.len() == count as usize,
        "{} has {} lines for {count} connections",
        log.display(),
        samples.len()
    );
    Ok(samples)
}
