//! `cargo xtask demo`: the README's main job. Builds what is missing (the core, `srp-verifier`,
//! NSS and BoringSSL with the TLS-SRP series, their test peers), makes a verifier file with
//! `srp-verifier` as a device maker would, then runs real TLS-SRP connections on 127.0.0.1:
//! a patched NSS server with a patched BoringSSL client, and the other way round. Each prints the
//! negotiated version, cipher suite, group and authenticated user, and the server's answer.
//! A wrong password and an unknown user show what a failed login looks like.

use xshell::{Shell, cmd};

use crate::interop::PeerServer;

const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "router-admin-password";

#[derive(clap::Args)]
pub struct Demo {}

impl Demo {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::step("building srp-verifier (release)");
        cmd!(
            sh,
            "cargo build --quiet --release --locked --package srp-verifier --bin srp-verifier"
        )
        .run()?;
        let root = sh.current_dir();
        let scratch = tempfile::Builder::new().prefix("tls-srp-demo-").tempdir()?;
        let file = scratch.path().join("srpvfile");

        crate::step("making a verifier file (OpenSSL srpvfile format, 3072-bit group)");
        let tool = root.join("target/release/srp-verifier");
        cmd!(
            sh,
            "{tool} add --file {file} --user {DEMO_USER} --group 3072 --format openssl --password-stdin"
        )
        .stdin(format!("{DEMO_PASSWORD}\n"))
        .run()?;
        cmd!(sh, "{tool} list --file {file}").run()?;

        crate::step(
            "building NSS and BoringSSL with TLS-SRP and their peers (first time: minutes)",
        );
        let nss = crate::peers::by_name(sh, "srp-peer-nss")?;
        let boringssl = crate::peers::by_name(sh, "srp-peer-boringssl")?;

        let file = file.display().to_string();
        let pairs =
            [("NSS", &nss, "BoringSSL", &boringssl), ("BoringSSL", &boringssl, "NSS", &nss)];
        for (server_name, server, client_name, client) in pairs {
            for (what, password) in
                [("the right password", DEMO_PASSWORD), ("a wrong password", "not-the-password")]
            {
                crate::step(&format!(
                    "{server_name} server, {client_name} client, user {DEMO_USER}, {what}"
                ));
                let args: Vec<String> =
                    ["--listen", "127.0.0.1:0", "--verifiers", &file, "--count", "1"]
                        .map(String::from)
                        .to_vec();
                let running = PeerServer::start(server, &args)?;
                println!("server: listening {}", running.addr);
                let addr = running.addr.clone();
                let out = cmd!(
                    sh,
                    "timeout 60 {client} client --connect {addr} --user {DEMO_USER}
                     --password {password} --get /"
                )
                .quiet()
                .ignore_status()
                .output()?;
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    println!("client: {line}");
                }
                for line in running.finish(out.status.success())? {
                    println!("server: {line}");
                }
                let right = password == DEMO_PASSWORD;
                anyhow::ensure!(
                    out.status.success() == right,
                    "the {client_name} client {} with {what}",
                    if right { "failed" } else { "succeeded" }
                );
            }
        }
        eprintln!("demo finished: NSS and BoringSSL authenticated each other with TLS-SRP");
        Ok(())
    }
}
