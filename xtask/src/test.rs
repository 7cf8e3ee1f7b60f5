//! `cargo xtask test`: the README's test command. Installs the Debian packages it needs, then
//! runs, in order:
//! 1. the header drift check (`cargo xtask codegen --check`);
//! 2. every cargo test in the workspace: known answers, properties, the OpenSSL cross-check,
//!    verifier files made by the real `openssl srp` and `srptool`, the C program, the CLI;
//! 3. the constant-time check under valgrind (`cargo xtask ctgrind`);
//! 4. NSS 3.110 with the TLS-SRP series, built from the pinned source, and its `ssl_gtest`
//!    tests for the new code (`cargo xtask nss test`); then the same series built without the
//!    core (TLS-SRP left out) and the same `ssl_gtest` filter, whose SRP tests check that
//!    TLS-SRP is absent (`cargo xtask nss test --no-core`: about 2.5 min once built, a second
//!    NSS debug build when not);
//! 5. BoringSSL with the TLS-SRP series, built from the pinned source, and its whole `ssl_test`
//!    (`cargo xtask boringssl test`); then the same series built without the core, checked for
//!    having no TLS-SRP, and its `ssl_test` (`cargo xtask boringssl test --no-core`: about 6
//!    minutes from scratch, seconds when cached);
//! 6. interop over loopback: the patched NSS and BoringSSL against each other, OpenSSL 3.0 libssl
//!    and GnuTLS, in both directions, every group and suite, hundreds of handshakes per pair and
//!    every failure case, writing `docs/interop.md` (`cargo xtask interop --write`);
//! 7. BoringSSL as Chromium 150 vendors it (its tarball's `third_party/boringssl/src`), with
//!    the series and its delta `boringssl-patches/chromium-150/`: all of its `ssl_test`
//!    (`cargo xtask boringssl test --chromium`), then interop of that BoringSSL against itself,
//!    OpenSSL and GnuTLS (`cargo xtask interop --boringssl-chromium --libs boringssl`; about
//!    1.5 minutes once built, 12 from an empty cache);
//! 8. lighttpd 1.4.79 with the TLS-SRP series, built from the pinned source on the BoringSSL
//!    of step 5, against the peers (NSS's of step 4), curl and gnutls-cli, and the demo device
//!    in its four arrangements (`cargo xtask lighttpd test`: about 2 minutes once BoringSSL and
//!    NSS are built);
//! 9. srp-bridge linked to the BoringSSL of step 5, its unit tests and
//!    `srp-bridge/tests/test_bridge.py` against the demo device, gnutls-serv and hostile
//!    servers (`cargo xtask bridge test`);
//! 10. the extension in Debian's firefox-esr and chromium under Xvfb, with the bridge the
//!     browsers start over native messaging, against the demo device and gnutls-serv
//!     (`cargo xtask bridge browser-test`, about 1.5 minutes once installed; its screenshots
//!     go to the cache's `screenshots/extension/`, not into the clone).
//!
//! Every step runs even when an earlier one failed, so one run shows every failure.

use xshell::{Shell, cmd};

#[derive(clap::Args)]
pub struct Test {}

impl Test {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, crate::deps::TEST_PACKAGES)?;
        let mut failed = Vec::new();
        let mut check = |name: &str, result: anyhow::Result<()>| {
            if let Err(e) = result {
                eprintln!("FAILED: {name}: {e:#}");
                failed.push(name.to_owned());
            }
        };
        check("header drift", crate::codegen::Codegen::check_only().run(sh));
        crate::step("cargo test --workspace");
        check(
            "cargo test",
            cmd!(sh, "cargo test --workspace --locked --no-fail-fast").run().map_err(Into::into),
        );
        check("ctgrind", crate::ctgrind::Ctgrind::all_groups().run(sh));
        check("nss test", crate::nss::test(sh));
        check("nss test without the core", crate::nss::test_no_core(sh));
        check("boringssl test", crate::boringssl::test(sh));
        check("boringssl test --no-core", crate::boringssl::test_no_core(sh));
        check("interop", crate::interop::Interop::new(100, false).run(sh));
        check("boringssl test --chromium", crate::boringssl::test_chromium(sh));
        check(
            "interop --boringssl-chromium",
            crate::interop::Interop::boringssl_chromium(100).run(sh),
        );
        check("lighttpd test", crate::lighttpd::test(sh, 20));
        check("bridge test", crate::bridge::test(sh));
        check(
            "bridge browser-test",
            crate::cache::dir().and_then(|cache| {
                let out = cache.join("screenshots").join("extension");
                crate::bridge::browser_test(sh, "firefox,chromium", &out)
            }),
        );
        anyhow::ensure!(failed.is_empty(), "failed: {}", failed.join(", "));
        eprintln!("all tests passed");
        Ok(())
    }
}
