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
//!
//! `cargo xtask bench handshake [--count N] [--write]`: whole TLS-SRP handshakes over loopback.
//! The same client (`srp-peer-openssl`, OpenSSL 3.0 libssl) makes N handshakes (0xC01D) against
//! each server: OpenSSL libssl's SRP server, the patched BoringSSL and the patched NSS (their
//! test peers), in the 2048- and 3072-bit groups, and the server's CPU time (user + system, from
//! bash's `times`) is divided by N. `--write` replaces the handshake block of
//! docs/performance.md.

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
        let (json, wall, backend, write) = match self.what {
            What::Core { json, wall, backend, write } => (json, wall, backend, write),
            What::Handshake { count, write } => return handshake(sh, count, write),
        };
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

/// Rounds per server and group in `bench handshake`; the table shows each server's best round.
const HANDSHAKE_ROUNDS: u32 = 5;

/// The groups `bench handshake` measures.
const HANDSHAKE_GROUPS: [u32; 2] = [2048, 3072];

/// `bench handshake`: see the module documentation.
fn handshake(sh: &Shell, count: u32, write: bool) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    anyhow::ensure!(count > 0, "--count must be at least 1");
    let client = crate::boringssl::openssl_peer(sh)?;
    let servers = [
        ("openssl", crate::boringssl::openssl_peer(sh)?),
        ("boringssl", crate::boringssl::peer(sh)?),
        ("nss", crate::nss::peer(sh)?),
    ];
    let dir = crate::upstream::cache_dir(sh).join("bench-handshake");
    sh.create_dir(&dir)?;
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
        "CPU: {cpu}; {count} handshakes per row, client `srp-peer-openssl` (OpenSSL 3.0 libssl), \
         suite 0xC01D; server CPU time (user + system) per handshake, the best of \
         {HANDSHAKE_ROUNDS} interleaved rounds.\n\n\
         | group | server | CPU per handshake µs | ratio to OpenSSL |\n|---:|---|---:|---:|\n"
    );
    for bits in HANDSHAKE_GROUPS {
        // Interleaved rounds, the minimum per server: what other work on the machine adds
        // (cache and core contention) falls on every server alike and is filtered out.
        let mut best = vec![f64::INFINITY; servers.len()];
        for round in 1..=HANDSHAKE_ROUNDS {
            for ((name, server), best) in servers.iter().zip(&mut best) {
                crate::step(&format!(
                    "round {round}/{HANDSHAKE_ROUNDS}: {count} handshakes, {bits}-bit group, {name} server"
                ));
                let micros = server_cpu_per_handshake(sh, server, &client, &vfile, bits, count)?;
                *best = best.min(micros);
            }
        }
        for ((name, _), micros) in servers.iter().zip(&best) {
            writeln!(table, "| {bits} | {name} | {micros:.0} | {:.2}x |", micros / best[0])?;
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

/// Runs `server` for `count` connections under bash and returns its CPU time per handshake in
/// µs, as bash's `times` reports it for its child once the server has exited.
fn server_cpu_per_handshake(
    sh: &Shell,
    server: &std::path::Path,
    client: &std::path::Path,
    vfile: &std::path::Path,
    bits: u32,
    count: u32,
) -> anyhow::Result<f64> {
    use anyhow::Context;
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let n = count.to_string();
    // `times` prints the shell's own times, then its children's: the server's.
    let mut child = Command::new("timeout")
        .args(["900", "bash", "-c", "\"$@\"; times", "bash"])
        .arg(server)
        .args(["server", "--listen", "127.0.0.1:0", "--verifiers"])
        .arg(vfile)
        .args(["--count", &n])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = std::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let first = lines.next().context("the server printed nothing")??;
    let addr = first
        .strip_prefix("listening ")
        .with_context(|| format!("expected `listening HOST:PORT`, found {first:?}"))?
        .to_owned();
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let (user, password) = (format!("u{bits}"), format!("pw{bits}"));
    let out = cmd!(
        sh,
        "timeout 900 {client} client --connect {addr} --user {user} --password {password}
         --cipher 0xC01D --count {n}"
    )
    .quiet()
    .read()?;
    let ok = out.lines().filter(|l| l.starts_with("ok ")).count();
    child.wait()?;
    let log = log.join().map_err(|_| anyhow::anyhow!("log reader panicked"))?;
    anyhow::ensure!(ok == count as usize, "{ok} of {count} handshakes succeeded: {out}");
    let times = log.last().context("no `times` output")?;
    let seconds = |field: &str| -> Option<f64> {
        let (minutes, rest) = field.split_once('m')?;
        Some(minutes.parse::<f64>().ok()? * 60.0 + rest.strip_suffix('s')?.parse::<f64>().ok()?)
    };
    let fields: Vec<&str> = times.split_whitespace().collect();
    let (Some(user_s), Some(system_s)) =
        (fields.first().and_then(|f| seconds(f)), fields.get(1).and_then(|f| seconds(f)))
    else {
        anyhow::bail!("cannot read bash's `times` line {times:?}");
    };
    Ok((user_s + system_s) * 1e6 / f64::from(count))
}
