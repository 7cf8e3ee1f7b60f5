//! `cargo xtask interop`: TLS-SRP handshakes over loopback between the patched NSS and
//! BoringSSL and independent implementations (OpenSSL 3.0 libssl, GnuTLS 3.7), in both
//! directions, with every case asserting its exact outcome. `--write` puts the table of what ran
//! into `docs/interop.md`; `cargo xtask test` runs it that way.
//!
//! The programs: the test peers `srp-peer-nss`, `srp-peer-boringssl` and `srp-peer-openssl` (one
//! command-line contract, see `tests/README.md`), `gnutls-cli`, and `gnutls-serv`. `gnutls-serv`
//! listens on every interface, so it and its client run inside a private network namespace
//! (`unshare -n`) whose only interface is loopback. Everything else talks over 127.0.0.1.
//!
//! Verifier files come from the real tools: `openssl srp` (one user per RFC 5054 group) and
//! GnuTLS's `srptool`. The OpenSSL file serves the peer servers; the GnuTLS pair serves
//! `gnutls-serv` and, through the peers' GnuTLS loader, one case per peer server.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use xshell::{Shell, cmd};

use crate::upstream;

#[derive(clap::Args)]
pub struct Interop {
    /// Handshakes per successful case in the 2048-bit group (larger groups run fewer).
    #[arg(long, default_value_t = 100)]
    count: u32,
    /// The patched libraries to test (each against itself, the other and the independent
    /// implementations).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Lib::Nss, Lib::Boringssl])]
    libs: Vec<Lib>,
    /// Use the AddressSanitizer + UndefinedBehaviorSanitizer builds of the patched libraries.
    #[arg(long)]
    sanitize: bool,
    /// Write the table of results to docs/interop.md (with --sanitize:
    /// docs/interop-sanitized.md).
    #[arg(long)]
    write: bool,
}

/// The patched libraries under test.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Lib {
    Nss,
    Boringssl,
}

impl Lib {
    /// The name `--libs` takes.
    fn name(self) -> &'static str {
        match self {
            Lib::Nss => "nss",
            Lib::Boringssl => "boringssl",
        }
    }

    fn implementation(self) -> Impl {
        match self {
            Lib::Nss => Impl::Nss,
            Lib::Boringssl => Impl::Boringssl,
        }
    }

    /// The library's test peer, built (with ASan and UBSan when `sanitize`) when missing.
    fn peer(self, sh: &Shell, sanitize: bool) -> anyhow::Result<PathBuf> {
        match (self, sanitize) {
            (Lib::Nss, false) => crate::nss::peer(sh),
            (Lib::Nss, true) => crate::nss::sanitized_peer(sh),
            (Lib::Boringssl, false) => crate::boringssl::peer(sh),
            (Lib::Boringssl, true) => crate::boringssl::sanitized_peer(sh),
        }
    }
}

/// An implementation taking part in a pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Nss,
    Boringssl,
    Openssl,
    Gnutls,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Nss => "NSS",
            Impl::Boringssl => "BoringSSL",
            Impl::Openssl => "OpenSSL",
            Impl::Gnutls => "GnuTLS",
        }
    }

    /// The RFC 5054 groups the implementation can use, as a client and as a server with the
    /// verifier files made here. GnuTLS knows no 6144-bit group, and `srptool --create-conf`
    /// writes no 1024-bit one for `gnutls-serv`.
    fn groups(self, server: bool) -> &'static [u32] {
        match (self, server) {
            (Impl::Gnutls, false) => &[1024, 1536, 2048, 3072, 4096, 8192],
            (Impl::Gnutls, true) => &[1536, 2048, 3072, 4096, 8192],
            _ => &GROUPS,
        }
    }

    /// Whether unknown users get a fake record (RFC 5054 section 2.5.1.3) rather than
    /// `unknown_psk_identity`. The OpenSSL peer uses OpenSSL's plain `SRP_VBASE` lookup.
    fn fakes_users(self) -> bool {
        self != Impl::Openssl
    }
}

/// Every RFC 5054 group.
const GROUPS: [u32; 7] = [1024, 1536, 2048, 3072, 4096, 6144, 8192];

/// The `srptool --create-conf` index of each group it writes.
const GNUTLS_INDEX: [(u32, u32); 5] = [(1536, 2), (2048, 3), (3072, 4), (4096, 5), (8192, 7)];

fn user(bits: u32) -> String {
    format!("srp{bits}")
}

fn password(bits: u32) -> String {
    format!("password-{bits}")
}

/// What a case is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ok,
    WrongPassword,
    UnknownUser,
    MissingUsername,
    /// The server's group is below the client's floor (2048 bits by default).
    ClientFloor,
    /// The server's own record is below the server's floor.
    ServerFloor,
}

struct Case {
    name: String,
    kind: Kind,
    /// Client credentials; `None` offers SRP without a username.
    creds: Option<(String, String)>,
    cipher: &'static str,
    group: u32,
    client_min_group: Option<u32>,
    server_min_group: Option<u32>,
    /// The server gets an RSA certificate (needed for 0xC01E and 0xC021).
    rsa: bool,
    /// The server reads the GnuTLS verifier file instead of the OpenSSL one.
    gnutls_file: bool,
    handshakes: u32,
}

/// A result row.
struct Row {
    client: Impl,
    server: Impl,
    case: String,
    handshakes: u32,
    expected: String,
    passed: bool,
    detail: String,
}

/// Files every case shares.
struct Files {
    dir: PathBuf,
    vfile: PathBuf,
    tpasswd: PathBuf,
    tconf: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// The programs, by implementation.
struct Peers {
    nss: Option<PathBuf>,
    boringssl: Option<PathBuf>,
    openssl: PathBuf,
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

impl Interop {
    /// The run `cargo xtask test` makes: `count` handshakes per success case, both libraries.
    pub fn new(count: u32, sanitize: bool) -> Self {
        Interop { count, libs: vec![Lib::Nss, Lib::Boringssl], sanitize, write: true }
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        crate::deps::ensure_debian_packages(sh, INTEROP_PACKAGES)?;
        let has = |lib| self.libs.contains(&lib);
        let peers = Peers {
            nss: has(Lib::Nss).then(|| Lib::Nss.peer(sh, self.sanitize)).transpose()?,
            boringssl: has(Lib::Boringssl)
                .then(|| Lib::Boringssl.peer(sh, self.sanitize))
                .transpose()?,
            openssl: crate::boringssl::openssl_peer(sh)?,
        };
        let files = make_files(sh)?;

        let tested: Vec<Impl> = self.libs.iter().map(|&lib| lib.implementation()).collect();
        ensure!(!tested.is_empty(), "--libs names no library");
        let all = [Impl::Nss, Impl::Boringssl, Impl::Openssl, Impl::Gnutls];
        let mut pairs = Vec::new();
        for client in all {
            for server in all {
                let client_ok =
                    tested.contains(&client) || !matches!(client, Impl::Nss | Impl::Boringssl);
                let server_ok =
                    tested.contains(&server) || !matches!(server, Impl::Nss | Impl::Boringssl);
                if client_ok && server_ok && (tested.contains(&client) || tested.contains(&server))
                {
                    pairs.push((client, server));
                }
            }
        }

        let mut rows = Vec::new();
        for (client, server) in pairs {
            let cases = cases(client, server, self.count);
            let handshakes: u32 = cases.iter().map(|c| c.handshakes).sum();
            crate::step(&format!(
                "{} client -> {} server: {} cases, {handshakes} handshakes",
                client.name(),
                server.name(),
                cases.len()
            ));
            for case in cases {
                // A case that cannot even run (a server that does not start) fails as a row, so
                // the report shows every case.
                let row =
                    run_case(sh, &peers, &files, client, server, &case).unwrap_or_else(|e| Row {
                        client,
                        server,
                        case: case.name.clone(),
                        handshakes: case.handshakes,
                        expected: String::new(),
                        passed: false,
                        detail: format!("{e:#}"),
                    });
                if !row.passed {
                    eprintln!(
                        "FAILED: {} -> {}: {}: {}",
                        client.name(),
                        server.name(),
                        row.case,
                        row.detail
                    );
                }
                rows.push(row);
            }
        }

        let failed = rows.iter().filter(|r| !r.passed).count();
        let handshakes: u32 = rows.iter().map(|r| r.handshakes).sum();
        let report = report(sh, &rows, &self, started.elapsed().as_secs())?;
        if self.write {
            let path = if self.sanitize { "docs/interop-sanitized.md" } else { "docs/interop.md" };
            sh.write_file(path, &report)?;
            eprintln!("wrote {path}");
        } else {
            println!("{report}");
        }
        println!(
            "interop: {} cases passed, {failed} failed ({handshakes} handshakes, {:.0?})",
            rows.len() - failed,
            started.elapsed()
        );
        ensure!(failed == 0, "{failed} interop cases failed (see the FAILED lines above)");
        Ok(())
    }
}

/// What the interop run needs from Debian besides the peers' own build packages.
const INTEROP_PACKAGES: &[&str] = &["openssl", "gnutls-bin", "iproute2", "util-linux"];

/// Verifier files made with `openssl srp` and `srptool`, and an RSA certificate for the SRP-RSA
/// suites, in a fresh directory.
fn make_files(sh: &Shell) -> anyhow::Result<Files> {
    let dir = upstream::cache_dir(sh).join("interop");
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    sh.create_dir(&dir)?;
    crate::step("making verifier files with `openssl srp` and `srptool`, and an RSA certificate");
    let files = Files {
        vfile: dir.join("srpvfile"),
        tpasswd: dir.join("tpasswd"),
        tconf: dir.join("tpasswd.conf"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
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

/// The cases for one pair.
fn cases(client: Impl, server: Impl, n: u32) -> Vec<Case> {
    let base = |name: String, kind, bits: u32| Case {
        name,
        kind,
        creds: Some((user(bits), password(bits))),
        cipher: "0xC01D",
        group: bits,
        client_min_group: None,
        server_min_group: None,
        rsa: false,
        gnutls_file: server == Impl::Gnutls,
        handshakes: 1,
    };
    let mut cases = Vec::new();
    // Every group both sides know, with the first SRP-SHA suite. Groups below 2048 bits need
    // both floors lowered.
    for &bits in client.groups(false) {
        if !server.groups(true).contains(&bits) {
            continue;
        }
        let mut case = base(format!("{bits}-bit group, 0xC01D"), Kind::Ok, bits);
        case.handshakes = match bits {
            0..=2048 => n,
            2049..=4096 => n.div_ceil(2),
            _ => n.div_ceil(10),
        };
        if bits < 2048 {
            case.name += " (both floors at 1024)";
            case.client_min_group = Some(1024);
            case.server_min_group = Some(1024);
        }
        cases.push(case);
    }
    // Every suite in the 2048-bit group. The SRP-RSA suites need a server certificate; the test
    // clients do not verify it (SRP authenticates the server; `gnutls-cli --insecure`).
    for (cipher, handshakes) in
        [("0xC020", n), ("0xC01E", n.div_ceil(2)), ("0xC021", n.div_ceil(2))]
    {
        let mut case = base(format!("2048-bit group, {cipher}"), Kind::Ok, 2048);
        case.cipher = cipher;
        case.rsa = cipher != "0xC020";
        case.handshakes = handshakes;
        cases.push(case);
    }
    // The peer servers read GnuTLS's tpasswd files too.
    if matches!(server, Impl::Nss | Impl::Boringssl) {
        let mut case = base("2048-bit group, GnuTLS verifier file".into(), Kind::Ok, 2048);
        case.gnutls_file = true;
        case.handshakes = n.div_ceil(10);
        cases.push(case);
    }
    let mut wrong = base("wrong password".into(), Kind::WrongPassword, 2048);
    wrong.creds = Some((user(2048), "not-the-password".into()));
    cases.push(wrong);
    let mut unknown = base("unknown user".into(), Kind::UnknownUser, 2048);
    unknown.creds = Some(("mallory".into(), "guess".into()));
    // A server that fakes unknown users draws each fake record's group from the groups of its
    // file's real users, the 1024- and 1536-bit ones among them (a group the server's floor
    // refuses is refused for a fake user as for a real one). With both floors at 1024 bits every
    // draw carries on to the wrong-password outcome, whatever the server's random seed.
    if server.fakes_users() {
        unknown.name += " (both floors at 1024)";
        unknown.client_min_group = Some(1024);
        unknown.server_min_group = Some(1024);
    }
    cases.push(unknown);
    // Only the patched clients can offer SRP without a username: OpenSSL and GnuTLS clients
    // drop the SRP suites when they have no credentials.
    if matches!(client, Impl::Nss | Impl::Boringssl) {
        let mut missing = base("missing username".into(), Kind::MissingUsername, 2048);
        missing.creds = None;
        cases.push(missing);
    }
    // The server offers the 1536-bit group; the client's floor is 2048 bits (the patched
    // clients' default; the OpenSSL peer gets `--min-group 2048`, as OpenSSL's default is 1024).
    if client != Impl::Gnutls {
        let mut floor =
            base("1536-bit group below the client's floor".into(), Kind::ClientFloor, 1536);
        floor.server_min_group = Some(1024);
        if client == Impl::Openssl {
            floor.client_min_group = Some(2048);
        }
        cases.push(floor);
    }
    // The server's own record is in a group below the server's floor (default 2048 bits).
    if matches!(server, Impl::Nss | Impl::Boringssl) {
        let mut floor =
            base("1536-bit record below the server's floor".into(), Kind::ServerFloor, 1536);
        floor.client_min_group = Some(1024);
        cases.push(floor);
    }
    cases
}

/// The alert that ends a failing handshake (sent by the server, except for the client's floor).
fn alert(server: Impl, kind: Kind) -> &'static str {
    match kind {
        Kind::Ok => unreachable!("a successful case has no alert"),
        Kind::WrongPassword => "bad_record_mac",
        Kind::UnknownUser if server.fakes_users() => "bad_record_mac",
        Kind::UnknownUser | Kind::MissingUsername => "unknown_psk_identity",
        Kind::ClientFloor | Kind::ServerFloor => "insufficient_security",
    }
}

/// The exact line a failing client prints, or for GnuTLS a text its output must contain.
fn expected_error(client: Impl, server: Impl, kind: Kind) -> String {
    let alert = alert(server, kind);
    let name = match (client, alert) {
        (Impl::Nss, "bad_record_mac") => "SSL_ERROR_SRP_BAD_PASSWORD",
        (Impl::Nss, "unknown_psk_identity") => "SSL_ERROR_SRP_CREDENTIALS_REQUIRED",
        (Impl::Nss, _) if kind == Kind::ClientFloor => "SSL_ERROR_SRP_GROUP_TOO_SMALL",
        (Impl::Nss, _) => "SSL_ERROR_INSUFFICIENT_SECURITY_ALERT",
        (Impl::Boringssl, "bad_record_mac") => "SRP_WRONG_PASSWORD",
        (Impl::Boringssl, "unknown_psk_identity") if kind == Kind::MissingUsername => {
            "SRP_CREDENTIALS_REQUIRED"
        }
        (Impl::Boringssl, "unknown_psk_identity") => "SRP_UNKNOWN_USER",
        (Impl::Boringssl, _) if kind == Kind::ClientFloor => "SRP_GROUP_TOO_SMALL",
        (Impl::Boringssl, _) => "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        (Impl::Openssl, "bad_record_mac") => "sslv3 alert bad record mac",
        (Impl::Openssl, "unknown_psk_identity") => "tlsv1 alert unknown psk identity",
        (Impl::Openssl, _) if kind == Kind::ClientFloor => "insufficient security",
        (Impl::Openssl, _) => "tlsv1 alert insufficient security",
        (Impl::Gnutls, "bad_record_mac") => return "Received alert [20]".into(),
        (Impl::Gnutls, "unknown_psk_identity") => return "Received alert [115]".into(),
        (Impl::Gnutls, _) => return "Received alert [71]".into(),
    };
    format!("error: {name} alert={alert}")
}

/// Runs one case: the server (a peer, or `gnutls-serv` in a private network namespace), then the
/// client, and judges both sides' output.
fn run_case(
    sh: &Shell,
    peers: &Peers,
    files: &Files,
    client: Impl,
    server: Impl,
    case: &Case,
) -> anyhow::Result<Row> {
    let client_args = client_args(client, server, case);
    let (client_out, client_ok, server_log) = if server == Impl::Gnutls {
        run_with_gnutls_serv(sh, peers, files, client, case, &client_args)?
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
fn server_connections(client: Impl, case: &Case) -> u32 {
    if case.kind == Kind::Ok || client == Impl::Gnutls { case.handshakes } else { 1 }
}

/// The client's arguments (after `client --connect ADDR` for the peers; before the host for
/// `gnutls-cli`).
fn client_args(client: Impl, server: Impl, case: &Case) -> Vec<String> {
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
    // gnutls-serv answers with an HTML status page of its own: only the peers say `srp-user: U`.
    if case.kind == Kind::Ok && server != Impl::Gnutls {
        args.extend(["--get".into(), "/".into()]);
    }
    args
}

/// Runs `gnutls-serv` and the client inside a private network namespace.
fn run_with_gnutls_serv(
    sh: &Shell,
    peers: &Peers,
    files: &Files,
    client: Impl,
    case: &Case,
    client_args: &[String],
) -> anyhow::Result<(String, bool, Option<Vec<String>>)> {
    ensure!(client != Impl::Gnutls, "GnuTLS against itself is not a pair we test");
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let args: Vec<String> = client_args.iter().map(|a| quote(a)).collect();
    let priority = if case.rsa { "NORMAL:-KX-ALL:+SRP-RSA" } else { "NORMAL:-KX-ALL:+SRP" };
    let cert = if case.rsa {
        format!(
            "--x509certfile {} --x509keyfile {}",
            quote(&files.cert.display().to_string()),
            quote(&files.key.display().to_string())
        )
    } else {
        String::new()
    };
    let script = format!(
        "set -u\n\
         ip link set lo up\n\
         gnutls-serv --port 5556 --srppasswd {tpasswd} --srppasswdconf {tconf} {cert} \\\n  \
           --priority '{priority}' > {log} 2>&1 &\n\
         for i in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/5556) 2>/dev/null && break; sleep 0.1; done\n\
         timeout 600 {client} client --connect 127.0.0.1:5556 {args}\n\
         status=$?\n\
         kill %1\n\
         exit $status\n",
        tpasswd = quote(&files.tpasswd.display().to_string()),
        tconf = quote(&files.tconf.display().to_string()),
        log = quote(&files.dir.join("gnutls-serv.log").display().to_string()),
        client = quote(&peers.path(client).display().to_string()),
        args = args.join(" "),
    );
    let path = files.dir.join("gnutls-serv.sh");
    sh.write_file(&path, script)?;
    let out = Command::new("timeout").args(["900", "unshare", "-n", "bash"]).arg(&path).output()?;
    if !out.status.success() && out.stdout.is_empty() {
        bail!("the gnutls-serv script printed nothing: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success(), None))
}

/// Compares both sides' output with the case's exact expectation.
fn judge(
    client: Impl,
    server: Impl,
    case: &Case,
    out: &str,
    client_ok: bool,
    server_log: Option<&[String]>,
) -> Row {
    let n = case.handshakes;
    let accepted = format!("accepted user={} cipher={}", user(case.group), case.cipher);
    let (expected, mut passed, mut detail) = if case.kind == Kind::Ok {
        if client == Impl::Gnutls {
            let completed = out.matches("Handshake was completed").count();
            let expected = format!("{n} × `Handshake was completed`");
            (expected, client_ok && completed == n as usize, format!("{completed}/{n} completed"))
        } else {
            let line = format!(
                "ok version=TLS1.2 cipher={} group={} user={}",
                case.cipher,
                case.group,
                user(case.group)
            );
            let good = out.lines().filter(|l| *l == line).count();
            let answers =
                out.lines().filter(|l| *l == format!("srp-user: {}", user(case.group))).count();
            let mut expected = format!("{n} × `{line}`");
            let mut passed = client_ok && good == n as usize;
            if server != Impl::Gnutls {
                expected += &format!(", {n} × `srp-user: {}`", user(case.group));
                passed &= answers == n as usize;
            }
            let last = out.lines().rev().find(|l| !l.starts_with("srp-user: ")).unwrap_or("");
            (expected, passed, format!("{good}/{n} ok lines, {answers} answers; last: {last:?}"))
        }
    } else {
        let want = expected_error(client, server, case.kind);
        if client == Impl::Gnutls {
            let found = out.contains(&want) && !out.contains("Handshake was completed");
            let alerts: Vec<&str> = out.lines().filter(|l| l.contains("alert")).collect();
            (
                format!("handshake fails: `{want}`"),
                !client_ok && found,
                format!("client: {alerts:?}"),
            )
        } else {
            let last = out.lines().last().unwrap_or("");
            (format!("`{want}`"), !client_ok && last == want, format!("client: {last:?}"))
        }
    };
    if let Some(log) = server_log {
        let want = if case.kind == Kind::Ok {
            accepted
        } else {
            format!("rejected alert={}", alert(server, case.kind))
        };
        let want_count = if case.kind == Kind::Ok { n as usize } else { 1 };
        let found = log.iter().filter(|l| **l == want).count();
        passed &= found == want_count && log.len() == want_count;
        write!(
            detail,
            "; server: {found}/{want_count} `{want}` in {:?}",
            log.iter().take(3).collect::<Vec<_>>()
        )
        .ok();
    }
    Row {
        client,
        server,
        case: case.name.clone(),
        handshakes: if case.kind == Kind::Ok { n } else { 1 },
        expected,
        passed,
        detail,
    }
}

/// The Markdown report for docs/interop.md.
fn report(sh: &Shell, rows: &[Row], run: &Interop, seconds: u64) -> anyhow::Result<String> {
    let date = cmd!(sh, "date -u +%Y-%m-%d").quiet().read()?;
    let openssl = cmd!(sh, "openssl version").quiet().read()?;
    let gnutls = cmd!(sh, "gnutls-cli --version").quiet().read()?;
    let gnutls = gnutls.lines().next().unwrap_or_default().to_owned();
    let cpu = crate::cpu_model();
    let failed = rows.iter().filter(|r| !r.passed).count();
    let handshakes: u32 = rows.iter().map(|r| r.handshakes).sum();
    let libs: Vec<&str> = run.libs.iter().map(|lib| lib.name()).collect();
    let libs = libs.join(",");
    let mut s = String::new();
    writeln!(s, "# TLS-SRP interop\n")?;
    writeln!(
        s,
        "Generated by `cargo xtask interop --write{}` on {date}, on \
         {cpu}, in {seconds} s: **{} cases passed, {failed} failed, {handshakes} handshakes**.{}\n",
        if run.sanitize {
            format!(" --sanitize --libs {libs} --count {}", run.count)
        } else {
            " (which `cargo xtask test` runs)".to_owned()
        },
        rows.len() - failed,
        if run.sanitize {
            " The patched libraries and their peers are built with AddressSanitizer and \
             UndefinedBehaviorSanitizer (a finding aborts the peer, so its case fails)."
        } else {
            ""
        },
    )?;
    writeln!(
        s,
        "- Patched: NSS 3.110 + `nss-patches/` (`srp-peer-nss`), BoringSSL API version 44 + \
         `boringssl-patches/` (`srp-peer-boringssl`); both link the `srp-ffi` core.\n\
         - Independent: {openssl} libssl (`srp-peer-openssl`: the BoringSSL peer's source built \
         against Debian's libssl), {gnutls} (`gnutls-cli`, `gnutls-serv`).\n\
         - Every connection is on 127.0.0.1. `gnutls-serv` listens on every interface, so it and \
         its client run in a private network namespace (`unshare -n`).\n\
         - Verifier files are made by `openssl srp` (one user `srpBITS` per RFC 5054 group) and \
         `srptool` (GnuTLS, groups 1536 to 4096; index 1, which GnuTLS uses for fake users, is the \
         2048-bit group; `srptool` 3.7.9 aborts with a buffer overflow on the 8192-bit group, so \
         that GnuTLS record is written by our `srp-verifier`). Servers use the OpenSSL file unless \
         a case says otherwise.\n\
         - Each case asserts the exact outcome: for successes every handshake's \
         `ok version=… cipher=… group=… user=…` line, the server's answer `srp-user: U` and the \
         server's `accepted user=… cipher=…` log line; for failures the client's exact \
         `error: NAME alert=ALERT` line (for `gnutls-cli`, the alert it received) and the \
         server's `rejected alert=…` line.\n\
         - Unknown users: the patched servers and `gnutls-serv` answer with a fake record \
         (RFC 5054 section 2.5.1.3), so the client sees the same error as for a wrong password; \
         the OpenSSL peer server uses OpenSSL's plain lookup and answers `unknown_psk_identity`.\n\
         - Not applicable: OpenSSL and GnuTLS clients do not offer SRP without a username \
         (no missing-username case), `gnutls-cli` has no settable floor, GnuTLS has no 6144-bit \
         group and `srptool` writes no 1024-bit one.\n"
    )?;
    writeln!(s, "| client | server | case | handshakes | expected | result |")?;
    writeln!(s, "|---|---|---|---:|---|---|")?;
    for r in rows {
        let result = if r.passed { "pass".to_owned() } else { format!("**FAIL**: {}", r.detail) };
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.client.name(),
            r.server.name(),
            r.case,
            r.handshakes,
            r.expected.replace('|', "\\|"),
            result.replace('|', "\\|")
        )?;
    }
    Ok(s)
}
