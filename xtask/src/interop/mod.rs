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
//! GnuTLS's `srptool`, both with a user whose name and password are not ASCII. The OpenSSL file
//! serves the peer servers; the GnuTLS pair serves `gnutls-serv` and, through the peers' GnuTLS
//! loader, one case per peer server.

//!
//! The module's parts: `cases` (who takes part and what each pair runs), `run` (files,
//! servers, clients, the network namespace), `judge` (each case's exact expectation) and
//! `report` (docs/interop.md).

mod cases;
mod judge;
mod report;
mod run;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::ensure;
use xshell::Shell;

use crate::boringssl::{Boringssl, Flavor as BoringFlavor};
use crate::nss::{Flavor as NssFlavor, Nss};
use cases::{Impl, cases};
use judge::Row;
use run::{INTEROP_PACKAGES, Peers, make_files, run_case};

pub use run::{NetnsLaunch, PeerServer};

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
    /// The NSS under test is NSS 3.112.5 from the pinned Firefox ESR tarball with the series
    /// and its delta (`cargo xtask nss build --firefox`, peer `srp-peer-nss-3.112`), not 3.110.
    /// The table is printed, not written.
    #[arg(long, conflicts_with = "write")]
    nss_firefox: bool,
    /// The NSS under test is the one Firefox's own build makes from the pinned tree with
    /// gecko-ui's series: libssl3.so with the core linked in through moz.build (`cargo xtask
    /// firefox` builds what is missing; peer `srp-peer-nss-firefox-build`). The table is
    /// printed, not written.
    #[arg(long, conflicts_with_all = ["write", "nss_firefox", "sanitize"])]
    nss_firefox_build: bool,
    /// The BoringSSL under test is BoringSSL at Chromium 150's revision with the series and its
    /// delta (`cargo xtask boringssl build --chromium`, peer `srp-peer-boringssl-chromium`),
    /// not boring-sys 5.4.0's. The table is printed, not written.
    #[arg(long, conflicts_with = "write")]
    boringssl_chromium: bool,
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

    /// The library's test peer, built (with ASan and UBSan when `sanitize`; for NSS, against
    /// the NSS of Firefox ESR when `browser`; for BoringSSL, against Chromium's BoringSSL
    /// when `browser`) when missing.
    fn peer(
        self,
        sh: &Shell,
        sanitize: bool,
        browser: bool,
        firefox_build: bool,
    ) -> anyhow::Result<PathBuf> {
        if self == Lib::Nss && firefox_build {
            return crate::firefox::nss_peer(sh);
        }
        if self == Lib::Nss && browser {
            let flavor = if sanitize { NssFlavor::Sanitized } else { NssFlavor::Debug };
            return crate::upstream::peer(sh, &Nss::FIREFOX, flavor);
        }
        if self == Lib::Boringssl && browser {
            let flavor = if sanitize { BoringFlavor::Sanitized } else { BoringFlavor::Release };
            return crate::upstream::peer(sh, &Boringssl::CHROMIUM, flavor);
        }
        match (self, sanitize) {
            (Lib::Nss, false) => crate::peers::by_name(sh, "srp-peer-nss"),
            (Lib::Nss, true) => crate::peers::by_name(sh, "srp-peer-nss-sanitized"),
            (Lib::Boringssl, false) => crate::peers::by_name(sh, "srp-peer-boringssl"),
            (Lib::Boringssl, true) => crate::peers::by_name(sh, "srp-peer-boringssl-sanitized"),
        }
    }
}

impl Interop {
    /// The run `cargo xtask test` makes: `count` handshakes per success case, both libraries.
    pub fn new(count: u32, sanitize: bool) -> Self {
        Interop {
            count,
            libs: vec![Lib::Nss, Lib::Boringssl],
            sanitize,
            write: true,
            nss_firefox: false,
            nss_firefox_build: false,
            boringssl_chromium: false,
        }
    }

    /// `cargo xtask test`'s run for BoringSSL at Chromium's revision (`interop
    /// --boringssl-chromium --libs boringssl`): against itself, OpenSSL and GnuTLS, both
    /// directions; the report is printed, docs/interop.md is left alone.
    pub fn boringssl_chromium(count: u32) -> Self {
        Interop {
            count,
            libs: vec![Lib::Boringssl],
            sanitize: false,
            write: false,
            nss_firefox: false,
            nss_firefox_build: false,
            boringssl_chromium: true,
        }
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        crate::deps::ensure_debian_packages(sh, INTEROP_PACKAGES)?;
        let has = |lib| self.libs.contains(&lib);
        let peers = Peers {
            nss: has(Lib::Nss)
                .then(|| Lib::Nss.peer(sh, self.sanitize, self.nss_firefox, self.nss_firefox_build))
                .transpose()?,
            boringssl: has(Lib::Boringssl)
                .then(|| Lib::Boringssl.peer(sh, self.sanitize, self.boringssl_chromium, false))
                .transpose()?,
            openssl: crate::peers::openssl(sh)?,
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
                // OpenSSL and GnuTLS against each other run only the non-ASCII cases (see
                // `cases`); GnuTLS against itself is not a pair we test.
                let independent = !client.patched() && !server.patched() && client != server;
                if client_ok
                    && server_ok
                    && (tested.contains(&client) || tested.contains(&server) || independent)
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
                let row = run_case(&peers, &files, client, server, &case).unwrap_or_else(|e| Row {
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
        let report = report::report(sh, &rows, &self, started.elapsed().as_secs())?;
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
