//! `cargo xtask device`: the demo device (issue 13), a home router's admin interface behind
//! lighttpd with TLS-SRP, on loopback. Builds lighttpd (`cargo xtask lighttpd build`) and
//! `srp-verifier`, then runs `device/run_device.py` in the foreground until interrupted. It
//! prints `device https=ADDR:PORT http=ADDR:PORT` once ready, then the first user and how to
//! reach the device; `GET /whoami` over TLS-SRP answers `srp-user: U`.
//!
//! `cargo xtask device --screenshots` runs `device/tests/screenshots.py` instead: the device's
//! pages in Firefox ESR under Xvfb, checked, saved to `docs/screenshots/device/`.

use std::path::PathBuf;

use xshell::{Shell, cmd};

/// What `--screenshots` needs besides Python: the browser, a virtual display, ImageMagick's
/// `import` for whole-screen captures, curl 7.88 (bookworm's, with TLS-SRP) for the pages behind
/// the login.
const SCREENSHOT_PACKAGES: &[&str] = &["firefox-esr", "xvfb", "imagemagick", "curl"];

#[derive(clap::Args)]
pub struct Device {
    /// How port 80 and TLS-SRP fit together (docs/device.md): 1 plain HTTP + TLS-SRP, 2 with
    /// the `TLS-SRP: port=N` header and a risk page, 3 as 2 plus certificate TLS, 4 one TLS
    /// port with certificate and TLS-SRP, the admin program checking AUTH_TYPE.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    arrangement: u8,
    /// A verifier file (OpenSSL srpvfile or GnuTLS tpasswd) instead of a new first user.
    #[arg(long)]
    verifiers: Option<PathBuf>,
    /// Where TLS-SRP listens (default: a free port on 127.0.0.1).
    #[arg(long, value_name = "ADDR:PORT")]
    https: Option<String>,
    /// Where plain HTTP listens (default: a free port on 127.0.0.1).
    #[arg(long, value_name = "ADDR:PORT")]
    http: Option<String>,
    /// Where certificate TLS listens in arrangement 3 (default: a free port on 127.0.0.1).
    #[arg(long, value_name = "ADDR:PORT")]
    cert_https: Option<String>,
    /// The fake-user seed (16 or more secret bytes; default: a new random one).
    #[arg(long)]
    fake_user_seed: Option<PathBuf>,
    /// The device's state directory (default: a new temporary one).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Instead of running the device: load its pages in Firefox ESR under Xvfb (arrangements 2
    /// and 4; the pages behind TLS-SRP fetched by curl over TLS-SRP), check them and save
    /// screenshots to docs/screenshots/device/. Needs the PyPI package marionette_driver.
    #[arg(long, exclusive = true)]
    screenshots: bool,
}

impl Device {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, &["python3", "openssl"])?;
        let lighttpd = crate::lighttpd::binary(sh)?;
        let verifier = crate::lighttpd::srp_verifier(sh)?;
        if self.screenshots {
            crate::deps::ensure_debian_packages(sh, SCREENSHOT_PACKAGES)?;
            let script = sh.current_dir().join("device/tests/screenshots.py");
            crate::step("device/tests/screenshots.py: the device's pages in Firefox ESR");
            cmd!(sh, "python3 {script} --lighttpd {lighttpd} --srp-verifier {verifier}").run()?;
            return Ok(());
        }
        let script = sh.current_dir().join("device/run_device.py");
        let mut args: Vec<String> = vec!["--arrangement".into(), self.arrangement.to_string()];
        let mut opt = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(name.into());
                args.push(value);
            }
        };
        let path = |p: Option<PathBuf>| p.map(|p| p.display().to_string());
        opt("--verifiers", path(self.verifiers));
        opt("--https", self.https);
        opt("--http", self.http);
        opt("--cert-https", self.cert_https);
        opt("--fake-user-seed", path(self.fake_user_seed));
        opt("--state", path(self.state));
        crate::step("starting the demo device (interrupt to stop)");
        cmd!(sh, "python3 {script} --lighttpd {lighttpd} --srp-verifier {verifier} {args...}")
            .run()?;
        Ok(())
    }
}
