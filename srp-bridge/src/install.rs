//! Native-messaging host manifests for Chromium and Firefox, per user (Linux paths).
//!
//! The browser starts the host named in the manifest when the extension connects, and lets
//! only the extensions listed there connect: `allowed_origins` (`chrome-extension://ID/`) in
//! Chromium's, `allowed_extensions` (the add-on id) in Firefox's.

use std::path::{Path, PathBuf};

use serde_json::json;

/// The host's name, as the extension's `connectNative` names it.
pub const HOST_NAME: &str = "tls_srp.bridge";

/// The Firefox add-on id of the TLS-SRP extension.
pub const FIREFOX_EXTENSION_ID: &str = "srp-bridge@tls-srp.invalid";

const DESCRIPTION: &str = "TLS-SRP bridge: reaches devices over TLS-SRP for the browser";

/// Where each browser looks for a user's host manifests, relative to the home directory.
pub const CHROMIUM_DIRS: &[&str] =
    &[".config/chromium/NativeMessagingHosts", ".config/google-chrome/NativeMessagingHosts"];
pub const FIREFOX_DIRS: &[&str] = &[".mozilla/native-messaging-hosts"];

/// A Chromium extension id: 32 letters `a` to `p`.
pub fn valid_chromium_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

pub fn chromium_manifest(program: &Path, extension_ids: &[String]) -> serde_json::Value {
    let origins: Vec<String> =
        extension_ids.iter().map(|id| format!("chrome-extension://{id}/")).collect();
    json!({
        "name": HOST_NAME,
        "description": DESCRIPTION,
        "path": program,
        "type": "stdio",
        "allowed_origins": origins,
    })
}

pub fn firefox_manifest(program: &Path, extension_ids: &[String]) -> serde_json::Value {
    json!({
        "name": HOST_NAME,
        "description": DESCRIPTION,
        "path": program,
        "type": "stdio",
        "allowed_extensions": extension_ids,
    })
}

/// Every manifest to write: (file, contents).
pub fn manifests(
    home: &Path,
    program: &Path,
    chromium_ids: &[String],
    firefox_ids: &[String],
) -> Vec<(PathBuf, serde_json::Value)> {
    let file = format!("{HOST_NAME}.json");
    let mut out = Vec::new();
    if !chromium_ids.is_empty() {
        for dir in CHROMIUM_DIRS {
            out.push((home.join(dir).join(&file), chromium_manifest(program, chromium_ids)));
        }
    }
    if !firefox_ids.is_empty() {
        for dir in FIREFOX_DIRS {
            out.push((home.join(dir).join(&file), firefox_manifest(program, firefox_ids)));
        }
    }
    out
}

/// How the browser started the program: Chromium passes the caller's origin
/// (`chrome-extension://ID/`), Firefox the manifest's path and the add-on id.
pub fn started_by_browser(args: &[String]) -> bool {
    args.first().is_some_and(|a| a.starts_with("chrome-extension://") || a.ends_with(".json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_name_the_host_the_program_and_the_allowed_extensions() {
        let ids = vec!["abcdefghijklmnopabcdefghijklmnop".to_owned()];
        let ff = vec![FIREFOX_EXTENSION_ID.to_owned()];
        let all = manifests(Path::new("/home/u"), Path::new("/opt/srp-bridge"), &ids, &ff);
        let paths: Vec<String> = all.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "/home/u/.config/chromium/NativeMessagingHosts/tls_srp.bridge.json",
                "/home/u/.config/google-chrome/NativeMessagingHosts/tls_srp.bridge.json",
                "/home/u/.mozilla/native-messaging-hosts/tls_srp.bridge.json",
            ]
        );
        let chromium = &all[0].1;
        assert_eq!(chromium["name"], HOST_NAME);
        assert_eq!(chromium["type"], "stdio");
        assert_eq!(chromium["path"], "/opt/srp-bridge");
        assert_eq!(
            chromium["allowed_origins"][0],
            "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
        );
        assert!(chromium.get("allowed_extensions").is_none());
        let firefox = &all[2].1;
        assert_eq!(firefox["allowed_extensions"][0], FIREFOX_EXTENSION_ID);
        assert!(firefox.get("allowed_origins").is_none());
        assert_eq!(manifests(Path::new("/h"), Path::new("/p"), &[], &ff).len(), 1, "Firefox only");
    }

    #[test]
    fn chromium_ids_are_checked_and_browser_starts_recognised() {
        assert!(valid_chromium_id("abcdefghijklmnopabcdefghijklmnop"));
        assert!(!valid_chromium_id("abcdefghijklmnopabcdefghijklmnoq"), "q is not a-p");
        assert!(!valid_chromium_id("abc"));
        assert!(started_by_browser(&["chrome-extension://abc/".into()]));
        assert!(started_by_browser(&[
            "/home/u/.mozilla/native-messaging-hosts/tls_srp.bridge.json".into(),
            "id@x".into()
        ]));
        assert!(!started_by_browser(&["install".into()]));
        assert!(!started_by_browser(&[]));
    }
}
