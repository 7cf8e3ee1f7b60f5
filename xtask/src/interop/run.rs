//! Running a case: the shared files (verifier files from the real tools, a certificate), the
//! peer servers, the clients, and `gnutls-serv` in a private network namespace. Programs run
//! without a shell.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

use super::cases::{
    Case, GNUTLS_INDEX, GROUPS, Impl, Kind, UTF8_PASSWORD_NFC, UTF8_USER, password, user,
};
use super::judge::{Row, judge};

/// Files every case shares.
pub struct Files {
    /// A temporary folder, removed when the run ends.
    pub dir: tempfile::TempDir,
    pub vfile: PathBuf,
    pub tpasswd: PathBuf,
    pub tconf: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The programs, by implementation.
pub struct Peers {
    pub nss: Option<PathBuf>,
    pub boringssl: Option<PathBuf>,
    pub openssl: PathBuf,
}

impl Peers {
    fn path(&self, which: Impl) -> &Path {
        match which {
            Impl::Nss => self.nss.as_deref().expect("NSS peer built"),
            Impl::Boringssl => self.boringssl.as_deref().expect("BoringSSL peer built"),
            Impl::Openssl => &self.openssl,
            Impl::Gnutls => unreachable!("GnuTLS has no peer program"),
        }
    }
}

/// What the interop run needs from Debian besides the peers' own build packages.
pub const INTEROP_PACKAGES: &[&str] = &["openssl", "gnutls-bin", "iproute2", "util-linux"];

/// Verifier files made with `openssl srp` and `srptool`, and an RSA certificate for the SRP-RSA
/// suites, in a fresh directory.
pub fn make_files(sh: &Shell) -> anyhow::Result<Files> {
    let dir = tempfile::Builder::new().prefix("tls-srp-interop-").tempdir()?;
    let path = dir.path();
    crate::step("making verifier files with `openssl srp` and `srptool`, and an RSA certificate");
    let files = Files {
        vfile: path.join("srpvfile"),
        tpasswd: path.join("tpasswd"),
        tconf: path.join("tpasswd.conf"),
        cert: path.join("cert.pem"),
        key: path.join("key.pem"),
        dir,
    };
    let Files { vfile, tpasswd, tconf, cert, key, .. } = &files;
    sh.write_file(vfile, "")?;
    for bits in GROUPS {
        let (user, pass, gn) = (user(bits), format!("pass:{}", password(bits)), bits.to_string());
        cmd!(sh, "openssl srp -srpvfile {vfile} -add -gn {gn} -passout {pass} {user}")
            .quiet()
            .ignore_stderr()
            .run()?;
    }
    // The non-ASCII user, in the 2048-bit group, from the NFC password's bytes.
    let pass = format!("pass:{UTF8_PASSWORD_NFC}");
    cmd!(sh, "openssl srp -srpvfile {vfile} -add -gn 2048 -passout {pass} {UTF8_USER}")
        .quiet()
        .ignore_stderr()
        .run()?;
    cmd!(sh, "srptool --create-conf {tconf}").quiet().ignore_stdout().run()?;
    // GnuTLS derives fake records for unknown users from the group at index 1, which
    // `srptool --create-conf` does not write: without it `gnutls-serv` answers an unknown user
    // with internal_error. Index 1 gets the 2048-bit group.
    let conf = sh.read_file(tconf)?;
    let line = conf
        .lines()
        .find(|l| l.starts_with("3:"))
        .context("srptool wrote no index 3 (2048-bit group)")?;
    sh.write_file(tconf, format!("1:{}\n{conf}", &line[2..]))?;
    sh.write_file(tpasswd, "")?;
    for (bits, index) in GNUTLS_INDEX {
        let (user, index, group) = (user(bits), index.to_string(), bits.to_string());
        if bits == 8192 {
            // srptool 3.7.9 overflows a buffer on the 8192-bit group (glibc aborts it): this
            // record comes from our `srp-verifier`, into the same srptool-made files.
            cmd!(
                sh,
                "cargo run --quiet --release --locked -p srp-verifier -- add --file {tpasswd}
                 --conf {tconf} --format gnutls --user {user} --group {group} --password-stdin"
            )
            .stdin(format!("{}\n", password(bits)))
            .quiet()
            .run()?;
            continue;
        }
        cmd!(sh, "srptool --passwd {tpasswd} --passwd-conf {tconf} -i {index} -u {user}")
            .stdin(format!("{}\n", password(bits)))
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()?;
    }
    cmd!(sh, "srptool --passwd {tpasswd} --passwd-conf {tconf} -i 3 -u {UTF8_USER}")
        .stdin(format!("{UTF8_PASSWORD_NFC}\n"))
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()?;
    cmd!(
        sh,
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2
         -keyout {key} -out {cert}"
    )
    .quiet()
    .ignore_stderr()
    .run()?;
    Ok(files)
}

/// Runs one case: the server (a peer, or `gnutls-serv` in a private network namespace), then the
/// client, and judges both sides' output.
pub fn run_case(
    peers: &Peers,
    files: &Files,
    client: Impl,
    server: Impl,
    case: &Case,
) -> anyhow::Result<Row> {
    let client_args = client_args(client, server, case);
    let (client_out, client_ok, server_log) = if server == Impl::Gnutls {
        run_with_gnutls_serv(peers, files, client, case, &client_args)?
    } else {
        let vfile = if case.gnutls_file { &files.tpasswd } else { &files.vfile };
        let mut args: Vec<String> = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--verifiers".into(),
            vfile.display().to_string(),
            "--count".into(),
            server_connections(client, case).to_string(),
        ];
        if case.rsa {
            args.extend(["--cert".into(), files.cert.display().to_string()]);
            args.extend(["--key".into(), files.key.display().to_string()]);
        }
        if let Some(bits) = case.server_min_group {
            args.extend(["--min-group".into(), bits.to_string()]);
        }
        if case.tls13 && matches!(server, Impl::Nss | Impl::Boringssl) {
            args.extend(["--max-version".into(), "1.3".into()]);
        }
        let server = PeerServer::start(peers.path(server), &args)?;
        let addr = server.addr.clone();
        let (out, ok) = if client == Impl::Gnutls {
            let port = addr.rsplit(':').next().unwrap_or_default();
            let mut all = String::new();
            let mut ok = true;
            for _ in 0..case.handshakes {
                let mut command = Command::new("timeout");
                command.arg("60").arg("gnutls-cli").args(["--port", port]);
                command.args(&client_args).arg("127.0.0.1").stdin(Stdio::null());
                let out = command.output()?;
                ok &= out.status.success();
                all += &String::from_utf8_lossy(&out.stdout);
                all += &String::from_utf8_lossy(&out.stderr);
                all += "\n== end\n";
            }
            (all, ok)
        } else {
            let out = Command::new("timeout")
                .arg("600")
                .arg(peers.path(client))
                .args(["client", "--connect", &addr])
                .args(&client_args)
                .output()?;
            (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success())
        };
        let log = server.finish(ok)?;
        (out, ok, Some(log))
    };
    Ok(judge(client, server, case, &client_out, client_ok, server_log.as_deref()))
}

/// A peer program in server mode, its `listening HOST:PORT` line read.
pub struct PeerServer {
    child: std::process::Child,
    pub addr: String,
    log: std::thread::JoinHandle<Vec<String>>,
}

impl PeerServer {
    /// Starts `path server ARGS...` (under `timeout`, so it never outlives its case by much)
    /// and waits for its `listening` line.
    pub fn start(path: &Path, args: &[String]) -> anyhow::Result<Self> {
        let mut child = Command::new("timeout")
            .arg("600")
            .arg(path)
            .arg("server")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let stdout = child.stdout.take().context("no server stdout")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().context("the server printed nothing")??;
        let addr = first
            .strip_prefix("listening ")
            .with_context(|| format!("expected `listening HOST:PORT`, found {first:?}"))?
            .to_owned();
        // Read the server's log as it comes, so it never blocks on a full pipe.
        let log = std::thread::spawn(move || lines.map_while(Result::ok).collect());
        Ok(PeerServer { child, addr, log })
    }

    /// Waits for the server to exit (it was given `--count`) and returns its log lines. After a
    /// failed client it may still wait for connections that never come: it gets half a second,
    /// then it is killed. A server that exits on its own with a failure status (a sanitizer's
    /// report at exit, such as a leak; `timeout` ending a hung server) gets a last log line
    /// `exited with STATUS`, which no expected log has.
    pub fn finish(mut self, client_ok: bool) -> anyhow::Result<Vec<String>> {
        let mut killed = false;
        if !client_ok && self.child.try_wait()?.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if self.child.try_wait()?.is_none() {
                self.child.kill()?;
                killed = true;
            }
        }
        let status = self.child.wait()?;
        let mut log = self.log.join().map_err(|_| anyhow::anyhow!("server log reader panicked"))?;
        if !killed && !status.success() {
            log.push(format!("exited with {status}"));
        }
        Ok(log)
    }
}

/// How many connections the server waits for: one per handshake, one for a failing case.
pub fn server_connections(client: Impl, case: &Case) -> u32 {
    if case.kind == Kind::Ok || client == Impl::Gnutls { case.handshakes } else { 1 }
}

/// The client's arguments (after `client --connect ADDR` for the peers; before the host for
/// `gnutls-cli`).
pub fn client_args(client: Impl, server: Impl, case: &Case) -> Vec<String> {
    let mut args = Vec::new();
    if client == Impl::Gnutls {
        let (user, password) = case.creds.clone().expect("gnutls-cli cases have credentials");
        let cipher = match case.cipher {
            "0xC01D" | "0xC01E" => "AES-128-CBC",
            _ => "AES-256-CBC",
        };
        let kx = if case.rsa { "SRP-RSA" } else { "SRP" };
        args.extend(["--srpusername".into(), user, "--srppasswd".into(), password]);
        args.push("--priority".into());
        args.push(format!("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+{kx}:-CIPHER-ALL:+{cipher}"));
        if case.rsa {
            args.push("--insecure".into());
        }
        return args;
    }
    if let Some((user, password)) = &case.creds {
        args.extend(["--user".into(), user.clone(), "--password".into(), password.clone()]);
    }
    args.extend(["--cipher".into(), case.cipher.into()]);
    if let Some(bits) = case.client_min_group {
        args.extend(["--min-group".into(), bits.to_string()]);
    }
    if case.kind == Kind::Ok {
        args.extend(["--count".into(), case.handshakes.to_string()]);
    }
    if case.tls13 {
        args.extend(["--max-version".into(), "1.3".into()]);
    }
    if case.resume {
        args.push("--resume".into());
    }
    // gnutls-serv answers with an HTML status page of its own: only the peers say `srp-user: U`.
    if case.kind == Kind::Ok && server != Impl::Gnutls {
        args.extend(["--get".into(), "/".into()]);
    }
    args
}

/// The port `gnutls-serv` listens on inside its network namespace (no other program is there).
const GNUTLS_SERV_PORT: &str = "5556";

/// Runs `gnutls-serv` and the client inside a private network namespace: `unshare -n` runs
/// this program's hidden `netns-launch` command (see [`NetnsLaunch`]) with both command lines
/// as arguments, so nothing is quoted for a shell.
fn run_with_gnutls_serv(
    peers: &Peers,
    files: &Files,
    client: Impl,
    case: &Case,
    client_args: &[String],
) -> anyhow::Result<(String, bool, Option<Vec<String>>)> {
    ensure!(client != Impl::Gnutls, "GnuTLS against itself is not a pair we test");
    let path = |p: &Path| p.display().to_string();
    let priority = if case.rsa { "NORMAL:-KX-ALL:+SRP-RSA" } else { "NORMAL:-KX-ALL:+SRP" };
    let mut server: Vec<String> = vec![
        "gnutls-serv".into(),
        "--port".into(),
        GNUTLS_SERV_PORT.into(),
        "--srppasswd".into(),
        path(&files.tpasswd),
        "--srppasswdconf".into(),
        path(&files.tconf),
    ];
    if case.rsa {
        server.extend(["--x509certfile".into(), path(&files.cert)]);
        server.extend(["--x509keyfile".into(), path(&files.key)]);
    }
    server.extend(["--priority".into(), priority.into()]);
    let mut client_argv: Vec<String> = vec![
        "timeout".into(),
        "600".into(),
        path(peers.path(client)),
        "client".into(),
        "--connect".into(),
        format!("127.0.0.1:{GNUTLS_SERV_PORT}"),
    ];
    client_argv.extend(client_args.iter().cloned());
    let xtask = std::env::current_exe().context("finding the xtask program")?;
    let out = Command::new("timeout")
        .args(["900", "unshare", "-n", "--"])
        .arg(xtask)
        .args(["netns-launch", "--port", GNUTLS_SERV_PORT, "--server-log"])
        .arg(files.dir.path().join("gnutls-serv.log"))
        .arg("--")
        .args(&server)
        .arg(THEN)
        .args(&client_argv)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() && out.stdout.is_empty() {
        bail!("the gnutls-serv launcher printed nothing: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success(), None))
}

/// Separates the server's command line from the client's in `netns-launch`'s arguments.
const THEN: &str = "--then";

/// `cargo xtask netns-launch --port P --server-log FILE -- SERVER... --then CLIENT...` (hidden;
/// the interop run starts it under `unshare -n`): brings up loopback in the fresh network
/// namespace, starts the server with its output in FILE, waits (up to 10 s) until it accepts
/// connections on 127.0.0.1:P, runs the client with this program's stdout and stderr, stops
/// the server and exits with the client's status.
#[derive(clap::Args)]
pub struct NetnsLaunch {
    #[arg(long)]
    port: u16,
    #[arg(long)]
    server_log: PathBuf,
    /// The server's command line, `--then`, the client's.
    #[arg(last = true, required = true)]
    argv: Vec<String>,
}

impl NetnsLaunch {
    pub fn run(self) -> anyhow::Result<()> {
        let (server, client) = split_launch_argv(&self.argv)?;
        let up = Command::new("ip").args(["link", "set", "lo", "up"]).status()?;
        ensure!(up.success(), "`ip link set lo up` failed ({up})");
        let log = std::fs::File::create(&self.server_log)
            .with_context(|| format!("creating {}", self.server_log.display()))?;
        let mut server_child = Command::new(&server[0])
            .args(&server[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", server[0]))?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let status = Command::new(&client[0]).args(&client[1..]).stdin(Stdio::null()).status();
        server_child.kill().ok();
        server_child.wait().ok();
        let status = status.with_context(|| format!("starting {}", client[0]))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// The server's and the client's command lines from `netns-launch`'s arguments.
fn split_launch_argv(argv: &[String]) -> anyhow::Result<(&[String], &[String])> {
    let at = argv
        .iter()
        .position(|a| a == THEN)
        .with_context(|| format!("expected SERVER... {THEN} CLIENT..., found {argv:?}"))?;
    let (server, client) = (&argv[..at], &argv[at + 1..]);
    ensure!(
        !server.is_empty() && !client.is_empty(),
        "expected SERVER... {THEN} CLIENT..., found {argv:?}"
    );
    Ok((server, client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_arguments_split_at_then() {
        let argv: Vec<String> = [
            "gnutls-serv",
            "--priority",
            "NORMAL:+SRP",
            "--then",
            "peer",
            "client",
            "--user",
            "it's",
        ]
        .map(String::from)
        .to_vec();
        let (server, client) = split_launch_argv(&argv).unwrap();
        assert_eq!(server, ["gnutls-serv", "--priority", "NORMAL:+SRP"]);
        assert_eq!(
            client,
            ["peer", "client", "--user", "it's"],
            "no quoting: a quote stays a quote"
        );
        assert!(split_launch_argv(&argv[..3]).is_err(), "no client");
        assert!(split_launch_argv(&argv[3..]).is_err(), "no server");
    }
}
