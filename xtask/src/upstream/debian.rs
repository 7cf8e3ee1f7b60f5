//! The Debian provider: files of a Debian source package through `apt-get source
//! --download-only` (NSS, lighttpd, Firefox ESR; Chromium next). A new machine has only
//! `deb` entries, so a `deb-src` entry for the suite needed is derived from the machine's own
//! entries in `/etc/apt/sources.list.d/*.sources` (same URIs, keyring and components; the
//! release codename replaced), so no mirror is written into the code.

use anyhow::{Context, bail};
use std::fs;
use std::path::{Path, PathBuf};
use xshell::{Shell, cmd};

use super::{Pin, Provider};
use crate::progress::Unit;

/// Files of a Debian source package: the `.orig.tar.*` (which never changes within an upstream
/// release) and, for trees that need Debian's own patches, the `.debian.tar.*`.
pub struct DebianSource {
    /// Source package name (`nss`, `firefox-esr`).
    pub package: &'static str,
    /// The version: exactly (`140.12.0esr-1~deb12u1`), or with [`Self::any_revision`] every
    /// version starting with it (`2:3.110-`: any Debian revision of the release).
    pub version: &'static str,
    /// Whether any version starting with `version` will do (the newest is taken).
    pub any_revision: bool,
    /// The Debian suite whose sources to use (`trixie`, `bookworm`).
    pub suite: &'static str,
}

impl Provider for DebianSource {
    fn describe(&self) -> String {
        let star = if self.any_revision { "*" } else { "" };
        format!(
            "the Debian source package {}={}{star} ({})",
            self.package, self.version, self.suite
        )
    }

    fn fetch(&self, sh: &Shell, pin: &Pin, dest: &Path) -> anyhow::Result<()> {
        crate::deps::ensure_debian_packages(sh, &["apt"])?;
        ensure_deb_src(sh, self.suite)?;
        let version = self.pick_version(sh, pin, true)?;
        let workdir = dest.with_extension("apt");
        crate::cache::remove(&workdir)?;
        fs::create_dir_all(&workdir)?;
        let spec = format!("{}={version}", self.package);
        eprintln!("apt-get source --download-only {spec}");
        // The archive may carry the orig tarball without the matching .dsc and .debian.tar
        // (they move with every security update), so apt's exit status is not the verdict:
        // the pinned file is, and the caller verifies it.
        // apt shows no progress without a terminal: the pinned file's size is watched instead.
        let what = format!("downloading {}", pin.file);
        let output = crate::progress::watch(
            &what,
            Some(pin.size),
            Unit::Bytes,
            || downloaded(&workdir, pin.file),
            || {
                let _dir = sh.push_dir(&workdir);
                cmd!(sh, "apt-get source --download-only {spec}").quiet().ignore_status().output()
            },
        )?;
        let got = workdir.join(pin.file);
        if !got.exists() {
            bail!(
                "apt-get source {spec} did not produce the pinned {} (sha256 {}): is it gone \
                 from the archive?\n{}{}",
                pin.file,
                pin.sha256,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::rename(&got, dest)?;
        // The package's other files (the .debian.tar of a tree that needs it) go next to `dest`
        // under their own names, where the next pin finds them; they are verified before use.
        let downloads = dest.parent().context("no parent")?;
        for entry in fs::read_dir(&workdir)? {
            let path = entry?.path();
            let target = downloads.join(path.file_name().context("no file name")?);
            if path.is_file() && !target.exists() {
                fs::rename(&path, &target)?;
            }
        }
        fs::remove_dir_all(&workdir)?;
        Ok(())
    }
}

/// The bytes of `file` under `dir` so far (apt writes it in `partial/` first).
fn downloaded(dir: &Path, file: &str) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() == file)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0)
}

impl DebianSource {
    /// The version to fetch: the pinned one, or the newest revision on offer. With `update`,
    /// runs `apt-get update` once when none matches (stale lists).
    fn pick_version(&self, sh: &Shell, pin: &Pin, update: bool) -> anyhow::Result<String> {
        let package = self.package;
        let listing = cmd!(sh, "apt-cache showsrc {package}")
            .quiet()
            .ignore_stderr()
            .ignore_status()
            .read()?;
        let offered = source_versions(&listing);
        let matching: Vec<&String> = offered.iter().filter(|v| self.matches(v)).collect();
        match matching.iter().max_by(|a, b| debian_version_cmp(sh, a, b)) {
            Some(v) => Ok(v.to_string()),
            None if update => {
                crate::step("apt-get update (no matching source version in the lists)");
                cmd!(sh, "apt-get update -qq").run()?;
                self.pick_version(sh, pin, false)
            }
            None => bail!("{}", self.gone(pin, &offered)),
        }
    }

    fn matches(&self, version: &str) -> bool {
        if self.any_revision { version.starts_with(self.version) } else { version == self.version }
    }

    /// The message for a pin the archive no longer offers: the pin, and what is on offer.
    fn gone(&self, pin: &Pin, offered: &[String]) -> String {
        format!(
            "the pin {} {} ({}, sha256 {}) is gone: apt's sources (with {}'s deb-src) offer no \
             version {}{} of {}; on offer: {}. Pin a version on offer (file name, size and \
             sha256 from its .dsc)",
            pin.name,
            pin.version,
            pin.file,
            pin.sha256,
            self.suite,
            self.version,
            if self.any_revision { "*" } else { "" },
            self.package,
            if offered.is_empty() { "none".to_owned() } else { offered.join(", ") }
        )
    }
}

/// The versions in `apt-cache showsrc` output, in order, without repeats.
fn source_versions(listing: &str) -> Vec<String> {
    let mut versions: Vec<String> = Vec::new();
    for v in listing.lines().filter_map(|l| l.strip_prefix("Version: ")) {
        if !versions.iter().any(|known| known == v.trim()) {
            versions.push(v.trim().to_owned());
        }
    }
    versions
}

fn debian_version_cmp(sh: &Shell, a: &str, b: &str) -> std::cmp::Ordering {
    let greater = cmd!(sh, "dpkg --compare-versions {a} gt {b}").quiet().run().is_ok();
    if greater {
        std::cmp::Ordering::Greater
    } else if a == b {
        std::cmp::Ordering::Equal
    } else {
        std::cmp::Ordering::Less
    }
}

/// The file holding the `deb-src` entries this module adds.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/tls-srp-deb-src.sources";

/// Makes sure apt has `deb-src` entries for `suite`, its `-updates` and its `-security` suites
/// (derived by [`derive_deb_src`]), then `apt-get update`. Says what it writes.
fn ensure_deb_src(sh: &Shell, suite: &str) -> anyhow::Result<()> {
    let (format, filter) = ("$(CODENAME)", "Identifier: Sources");
    let existing = cmd!(sh, "apt-get indextargets --format {format} {filter}")
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    if existing.lines().any(|l| l.trim() == suite) {
        return Ok(());
    }
    let release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let codename = release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_owned())
        .context("/etc/os-release names no VERSION_CODENAME")?;
    let dir = Path::new("/etc/apt/sources.list.d");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sources") && p != Path::new(DEB_SRC_FILE))
        .collect();
    files.sort();
    let mut stanzas = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file)?;
        stanzas.extend(deb_src_stanzas(&text, &codename, suite));
    }
    if stanzas.is_empty() {
        bail!(
            "no Debian `deb` entry for {codename} in /etc/apt/sources.list.d/*.sources to derive a \
             `deb-src` entry for {suite} from; add one (Types: deb-src, Suites: {suite}) by hand"
        );
    }
    // Entries for other suites written before stay: one file serves every suite asked for.
    let mut kept = fs::read_to_string(DEB_SRC_FILE).unwrap_or_default();
    stanzas.retain(|s| !kept.contains(s.as_str()));
    crate::step(&format!(
        "adding deb-src entries for {suite} to {DEB_SRC_FILE}, then apt-get update"
    ));
    if kept.is_empty() {
        kept = "# Added by `cargo xtask` (tls-srp): Debian sources derived from this machine's \
                entries.\n# Only source packages: binary installs are unaffected.\n"
            .to_owned();
    }
    let text = format!("{}\n\n{}\n", kept.trim_end(), stanzas.join("\n\n"));
    fs::write(DEB_SRC_FILE, text)
        .with_context(|| format!("writing {DEB_SRC_FILE} (needs root)"))?;
    cmd!(sh, "apt-get update -qq").run()?;
    Ok(())
}

/// Every `deb-src` stanza for `suite` derived from the deb822 file `text`.
fn deb_src_stanzas(text: &str, codename: &str, suite: &str) -> Vec<String> {
    text.split("\n\n").filter_map(|stanza| derive_deb_src(stanza, codename, suite)).collect()
}

/// Turns one deb822 stanza with `Types: deb` and suites of `codename` into a `deb-src` stanza
/// for `suite`. Other stanzas (disabled, other releases, source-only) give `None`.
fn derive_deb_src(stanza: &str, codename: &str, suite: &str) -> Option<String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in stanza.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            // A continuation line (multi-line Signed-By key): keep it with its field.
            let last = fields.last_mut()?;
            last.1.push('\n');
            last.1.push_str(line);
            continue;
        }
        let (key, value) = line.split_once(':')?;
        fields.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    let get = |k: &str| fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    if !get("Types")?.split_whitespace().any(|t| t == "deb") {
        return None;
    }
    if get("Enabled").is_some_and(|v| v == "no") {
        return None;
    }
    let suites: Vec<String> = get("Suites")?
        .split_whitespace()
        .filter(|s| *s == codename || s.starts_with(&format!("{codename}-")))
        .map(|s| format!("{suite}{}", &s[codename.len()..]))
        .collect();
    if suites.is_empty() {
        return None;
    }
    let mut out = format!("Types: deb-src\nURIs: {}\nSuites: {}\n", get("URIs")?, suites.join(" "));
    for (key, value) in &fields {
        if !["Types", "URIs", "Suites"].iter().any(|k| key.eq_ignore_ascii_case(k)) {
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
    Some(out.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of a new machine's /etc/apt/sources.list.d/debian.sources (hosts replaced).
    const DEBIAN_SOURCES: &str = "Types: deb\n\
        # a comment about a snapshot\n\
        URIs: http://mirror.invalid/debian\n\
        Suites: bookworm bookworm-updates\n\
        Components: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\
        \n\
        Types: deb\n\
        URIs: http://mirror.invalid/debian-security\n\
        Suites: bookworm-security\n\
        Components: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";

    #[test]
    fn deb_src_entries_follow_the_machines_deb_entries() {
        let stanzas = deb_src_stanzas(DEBIAN_SOURCES, "bookworm", "trixie");
        assert_eq!(
            stanzas,
            [
                "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: trixie trixie-updates\n\
                 Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg",
                "Types: deb-src\nURIs: http://mirror.invalid/debian-security\nSuites: \
                 trixie-security\nComponents: main\n\
                 Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
            ]
        );
        // The machine's own release, for the browsers' bookworm sources.
        let same = deb_src_stanzas(DEBIAN_SOURCES, "bookworm", "bookworm");
        assert!(same[0].contains("Suites: bookworm bookworm-updates"), "{same:?}");
    }

    #[test]
    fn deb_src_skips_disabled_source_only_and_other_releases() {
        let disabled =
            DEBIAN_SOURCES.replace("Components: main\n", "Components: main\nEnabled: no\n");
        assert!(deb_src_stanzas(&disabled, "bookworm", "trixie").is_empty());
        let sources_only = DEBIAN_SOURCES.replace("Types: deb\n", "Types: deb-src\n");
        assert!(deb_src_stanzas(&sources_only, "bookworm", "trixie").is_empty());
        assert!(deb_src_stanzas(DEBIAN_SOURCES, "bullseye", "trixie").is_empty());
        let both = DEBIAN_SOURCES.replace("Types: deb\n", "Types: deb deb-src\n");
        assert_eq!(deb_src_stanzas(&both, "bookworm", "trixie").len(), 2);
    }

    #[test]
    fn deb_src_keeps_multi_line_keys() {
        let inline = "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n\
                      Components: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n \
                      abc\n -----END PGP PUBLIC KEY BLOCK-----\n";
        let stanza = derive_deb_src(inline, "bookworm", "trixie").unwrap();
        assert!(stanza.ends_with("Signed-By: \n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----"), "{stanza}");
    }

    #[test]
    fn a_vanished_pin_names_itself_and_what_is_on_offer() {
        let listing = "Package: firefox-esr\nVersion: 153.8.0esr-1~deb12u1\n\nPackage: firefox-esr\n\
                       Version: 140.13.0esr-1~deb12u1\n\nPackage: firefox-esr\nVersion: \
                       153.8.0esr-1~deb12u1\n";
        let offered = source_versions(listing);
        assert_eq!(offered, ["153.8.0esr-1~deb12u1", "140.13.0esr-1~deb12u1"]);
        let source = DebianSource {
            package: "firefox-esr",
            version: "140.12.0esr-1~deb12u1",
            any_revision: false,
            suite: "bookworm",
        };
        assert!(!offered.iter().any(|v| source.matches(v)), "an exact pin matches nothing else");
        let pin = Pin {
            name: "firefox",
            version: "140.12.0esr",
            file: "firefox-esr_140.12.0esr.orig.tar.xz",
            size: 682_717_088,
            sha256: "5c72347381233dcc97cbd02c0324116258769d8b9b0f869fd0c6f1d59519ce2a",
        };
        let message = source.gone(&pin, &offered);
        for part in [
            "firefox-esr_140.12.0esr.orig.tar.xz",
            "5c72347381233dcc",
            "140.12.0esr-1~deb12u1",
            "153.8.0esr-1~deb12u1, 140.13.0esr-1~deb12u1",
        ] {
            assert!(message.contains(part), "{part:?} missing from {message}");
        }
        let nss = DebianSource {
            package: "nss",
            version: "2:3.110-",
            any_revision: true,
            suite: "trixie",
        };
        assert!(nss.matches("2:3.110-1+deb13u5") && !nss.matches("2:3.111-1"));
    }
}
