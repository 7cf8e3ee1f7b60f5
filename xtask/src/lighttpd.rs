//! `cargo xtask lighttpd <fetch|check|build|test>`: lighttpd 1.4.79 with the TLS-SRP series in
//! `lighttpd-patches/` (issue 13), on the patched BoringSSL, as an [`Upstream`] (the shared
//! fetch, check, tree and cache steps are in `upstream`).
//!
//! - `fetch`: the pinned Debian source (`lighttpd` 1.4.79-2, trixie; its orig tarball is
//!   upstream's release) into the cache's `downloads/`, verified.
//! - `check`: the series checker (entries exist, none unused or twice, house format, all apply
//!   with zero fuzz).
//! - `build`: the BoringSSL release output first ([`Upstream::depends_on`]: its key joins
//!   lighttpd's), then lighttpd's static build (`-DBUILD_STATIC=ON`: the modules inside the
//!   binary, because a shared `mod_openssl.so` would need BoringSSL built as position-independent
//!   code) with `-DWITH_OPENSSL_SRP=ON`, in the cache's `lighttpd/work/build`; the output holds
//!   the `lighttpd` binary.
//! - `test`: `device/tests/test_lighttpd.py` (against the BoringSSL peer, `srp-peer-openssl`,
//!   `srp-peer-nss`, curl 7.88 and gnutls-cli, clients only, on loopback) and `device/tests/test_device.py` (the
//!   demo device in the four arrangements).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use xshell::{Shell, cmd};

use crate::boringssl::{Boringssl, Flavor as BoringFlavor};
use crate::core::Core;
use crate::nss::{Flavor as NssFlavor, Nss};
use crate::upstream::{
    self, Buildable, Built, DebianSource, Pin, Source, SourceFile, Upstream, Work,
};

const PIN: Pin = Pin {
    name: "lighttpd",
    version: "1.4.79",
    file: "lighttpd_1.4.79.orig.tar.xz",
    size: 865_428,
    sha256: "3b29a625b3ad88702d1fea4f5f42bb7d87488f2e4efc977d7f185329ca6084bd",
};

/// `lighttpd-1.4.79/` is dropped: the tree is lighttpd's top directory.
const STRIP_COMPONENTS: u32 = 1;

/// Debian packages the build needs (no PCRE2: the configurations use no regular expressions).
const BUILD_PACKAGES: &[&str] = &["cmake", "ninja-build", "gcc", "g++", "xz-utils"];

/// What the tests need besides the build: the clients and the test drivers' interpreter.
const TEST_PACKAGES: &[&str] = &["curl", "gnutls-bin", "openssl", "python3"];

/// The modules inside the static binary (`plugin-static.h` of a static build).
const MODULES: &[&str] = &[
    "mod_openssl",
    "mod_access",
    "mod_accesslog",
    "mod_alias",
    "mod_auth",
    "mod_authn_file",
    "mod_cgi",
    "mod_fastcgi",
    "mod_scgi",
    "mod_proxy",
    "mod_redirect",
    "mod_rewrite",
    "mod_setenv",
    "mod_dirlisting",
    "mod_indexfile",
    "mod_staticfile",
    "mod_status",
    "mod_h2",
];

/// CMake settings that do not name a path (those come from the dependencies' keyed outputs).
const CMAKE_SETTINGS: &[&str] = &[
    "CMAKE_BUILD_TYPE=RelWithDebInfo",
    "BUILD_STATIC=ON",
    "WITH_OPENSSL=ON",
    "WITH_OPENSSL_SRP=ON",
    "WITH_PCRE2=OFF",
    "WITH_ZLIB=OFF",
    "WITH_BZIP=OFF",
];

/// lighttpd as an upstream tree.
#[derive(Clone, Copy, Default)]
pub struct Lighttpd;

/// One build: static, optimised with debug information.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    Release,
}

#[derive(clap::Args)]
pub struct Command {
    #[command(subcommand)]
    command: LighttpdCommand,
}

#[derive(clap::Subcommand)]
enum LighttpdCommand {
    /// Fetch the pinned source into the cache's downloads/ and verify it.
    Fetch,
    /// Check lighttpd-patches/series: entries exist, none unused or twice, house format, all apply.
    Check,
    /// Fetch, patch and build lighttpd (static, TLS-SRP) against the patched BoringSSL; prints
    /// the binary's path.
    Build,
    /// Build, then run device/tests/ (lighttpd against curl, gnutls-cli and the peers; the demo
    /// device in the four arrangements).
    Test(TestArgs),
}

#[derive(clap::Args)]
struct TestArgs {
    /// Handshakes per success case for the peers.
    #[arg(long, default_value_t = 20)]
    count: u32,
}

impl Command {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.command {
            LighttpdCommand::Fetch => upstream::fetch(sh, &Lighttpd.source(sh)?).map(drop),
            LighttpdCommand::Check => upstream::check(sh, &Lighttpd),
            LighttpdCommand::Build => {
                println!("{}", binary(sh)?.display());
                Ok(())
            }
            LighttpdCommand::Test(args) => test(sh, args.count),
        }
    }
}

/// Builds (when its key is new) and returns the `lighttpd` binary.
pub fn binary(sh: &Shell) -> anyhow::Result<PathBuf> {
    Ok(upstream::build(sh, &Lighttpd, Flavor::Release)?.dir.join("lighttpd"))
}

/// `srp-verifier`, built (release) and returned.
pub fn srp_verifier(sh: &Shell) -> anyhow::Result<PathBuf> {
    cmd!(sh, "cargo build --quiet --release --locked -p srp-verifier").run()?;
    Ok(sh.current_dir().join("target/release/srp-verifier"))
}

/// `cargo xtask test`'s lighttpd step, and `cargo xtask lighttpd test`.
pub fn test(sh: &Shell, count: u32) -> anyhow::Result<()> {
    let built = upstream::build(sh, &Lighttpd, Flavor::Release)?;
    run_tests(sh, &built, count)
}

fn run_tests(sh: &Shell, built: &Built, count: u32) -> anyhow::Result<()> {
    crate::deps::ensure_debian_packages(sh, TEST_PACKAGES)?;
    let lighttpd = built.dir.join("lighttpd");
    let boringssl = upstream::peer(sh, &Boringssl::default(), BoringFlavor::Release)?;
    let openssl = crate::peers::openssl(sh)?;
    let nss = upstream::peer(sh, &Nss::default(), NssFlavor::Debug)?;
    let verifier = srp_verifier(sh)?;
    let driver = sh.current_dir().join("device/tests/test_lighttpd.py");
    let count = count.to_string();
    crate::step("device/tests/test_lighttpd.py: lighttpd with TLS-SRP against real clients");
    cmd!(
        sh,
        "python3 {driver} --lighttpd {lighttpd} --srp-verifier {verifier}
         --peer-boringssl {boringssl} --peer-openssl {openssl} --peer-nss {nss}
         --count {count}"
    )
    .run()?;
    let device = sh.current_dir().join("device/tests/test_device.py");
    crate::step("device/tests/test_device.py: the demo device in the four arrangements");
    cmd!(
        sh,
        "python3 {device} --lighttpd {lighttpd} --srp-verifier {verifier}
         --peer-boringssl {boringssl}"
    )
    .run()?;
    Ok(())
}

impl Upstream for Lighttpd {
    fn name(&self) -> &'static str {
        "lighttpd"
    }

    fn series_dir(&self) -> &'static str {
        "lighttpd-patches"
    }

    fn source(&self, _sh: &Shell) -> anyhow::Result<Source> {
        Ok(Source {
            files: vec![SourceFile { pin: PIN, strip_components: STRIP_COMPONENTS, members: &[] }],
            // The orig tarball is the same in every Debian revision of 1.4.79.
            provider: Box::new(DebianSource {
                package: "lighttpd",
                version: "1.4.79-",
                any_revision: true,
                suite: "trixie",
            }),
        })
    }
}

impl Buildable for Lighttpd {
    type Flavor = Flavor;

    fn build_packages(&self) -> &'static [&'static str] {
        BUILD_PACKAGES
    }

    fn depends_on(&self, sh: &Shell, _flavor: Flavor) -> anyhow::Result<Vec<Built>> {
        Ok(vec![upstream::build(sh, &Boringssl::default(), BoringFlavor::Release)?])
    }

    fn flavor_key(&self, flavor: Flavor) -> String {
        format!("{flavor:?} cmake {} modules {}", CMAKE_SETTINGS.join(" "), MODULES.join(" "))
    }

    fn build(
        &self,
        sh: &Shell,
        flavor: Flavor,
        work: &Work,
        core: Option<&Core>,
        out: &Path,
    ) -> anyhow::Result<()> {
        let Flavor::Release = flavor;
        let core = core.context("lighttpd links the core")?;
        let boringssl = upstream::build(sh, &Boringssl::default(), BoringFlavor::Release)?;
        let bssl = &boringssl.dir;
        let build = work.dir.join("build");
        let include = work.dir.join("static-include");
        fs::create_dir_all(&include)?;
        let plugins: String = MODULES.iter().map(|m| format!("PLUGIN_INIT({m})\n")).collect();
        if fs::read_to_string(include.join("plugin-static.h")).ok() != Some(plugins.clone()) {
            fs::write(include.join("plugin-static.h"), &plugins)?;
        }
        let mut settings: Vec<String> = CMAKE_SETTINGS.iter().map(|s| s.to_string()).collect();
        settings.extend([
            format!("OPENSSL_INCLUDE_DIR={}", bssl.join("include").display()),
            format!("OPENSSL_SSL_LIBRARY={}", bssl.join("libssl.a").display()),
            format!("OPENSSL_CRYPTO_LIBRARY={}", bssl.join("libcrypto.a").display()),
            format!("SRP_FFI_INCLUDE_DIR={}", core.include_dir.display()),
            format!("SRP_FFI_LIBRARY={}", core.archive.display()),
            // BoringSSL's headers before the system's OpenSSL ones (lighttpd adds no include
            // directory for OpenSSL), and plugin-static.h (searched after src/, which has none).
            format!("CMAKE_C_FLAGS=-I{} -I{}", bssl.join("include").display(), include.display()),
            // mod_openssl links `ssl crypto` by name: BoringSSL's static libraries first.
            format!("CMAKE_EXE_LINKER_FLAGS=-L{}", bssl.display()),
            // BoringSSL is C++; the core's system libraries come last.
            format!("CMAKE_C_STANDARD_LIBRARIES=-lstdc++ {}", core.native_libs.join(" ")),
        ]);
        let stamp = work.dir.join("build.configured-with");
        let wanted = settings.join("\n");
        if !build.join("build.ninja").exists()
            || fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str())
        {
            crate::step(&format!("configuring lighttpd in {} (CMake, Ninja)", build.display()));
            let tree = &work.tree;
            let defines: Vec<String> = settings.iter().map(|s| format!("-D{s}")).collect();
            cmd!(sh, "cmake -S {tree} -B {build} -G Ninja -Wno-dev {defines...}")
                .quiet()
                .ignore_stdout()
                .run()?;
            fs::write(&stamp, &wanted)?;
        }
        crate::step("ninja lighttpd (about a minute from scratch)");
        cmd!(sh, "ninja -C {build} lighttpd").quiet().run()?;
        let binary = build.join("build/lighttpd");
        ensure!(binary.exists(), "the build made no {}", binary.display());
        crate::cache::copy(&binary, &out.join("lighttpd"))
    }

    fn test(&self, sh: &Shell, _flavor: Flavor, built: &Built) -> anyhow::Result<()> {
        run_tests(sh, built, 20)
    }

    /// lighttpd is the server the peers talk to: its "peer" is the binary itself, copied.
    fn peer(&self, _flavor: Flavor, built: &Built, _core: &Core) -> crate::peers::Recipe {
        crate::peers::Recipe {
            name: "lighttpd",
            sources: vec![],
            extra_key: built.key.clone(),
            commands: vec![vec![
                "cp".to_owned(),
                built.dir.join("lighttpd").display().to_string(),
                "{out}/lighttpd".to_owned(),
            ]],
        }
    }
}
