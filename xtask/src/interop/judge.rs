//! Judging a case: both sides' output against the case's exact expectation.

use std::fmt::Write as _;

use super::cases::{Case, Impl, Kind, alert, expected_error};

/// A result row.
pub struct Row {
    pub client: Impl,
    pub server: Impl,
    pub case: String,
    pub handshakes: u32,
    pub expected: String,
    pub passed: bool,
    pub detail: String,
}

/// Compares both sides' output with the case's exact expectation.
pub fn judge(
    client: Impl,
    server: Impl,
    case: &Case,
    out: &str,
    client_ok: bool,
    server_log: Option<&[String]>,
) -> Row {
    let n = case.handshakes;
    let user = case.user();
    let accepted = format!("accepted user={user} cipher={}", case.cipher);
    let (expected, mut passed, mut detail) = if case.kind == Kind::Ok {
        if client == Impl::Gnutls {
            let completed = out.matches("Handshake was completed").count();
            let expected = format!("{n} × `Handshake was completed`");
            (expected, client_ok && completed == n as usize, format!("{completed}/{n} completed"))
        } else {
            let line = format!(
                "ok version=TLS1.2 cipher={} group={} user={user}",
                case.cipher, case.group
            );
            // With `--resume` the first handshake is a full one and every later one resumes.
            let want = |i: u32| match (case.resume, i) {
                (false, _) => line.clone(),
                (true, 0) => format!("{line} resumed=no"),
                (true, _) => format!("{line} resumed=yes"),
            };
            let oks: Vec<&str> = out.lines().filter(|l| l.starts_with("ok ")).collect();
            let good = (0..n).zip(&oks).filter(|(i, l)| want(*i) == **l).count();
            let line = want(n.saturating_sub(1));
            let answers = out.lines().filter(|l| *l == format!("srp-user: {user}")).count();
            let mut expected = if case.resume {
                format!("`{}`, then {} × `{line}`", want(0), n - 1)
            } else {
                format!("{n} × `{line}`")
            };
            let mut passed = client_ok && good == n as usize && oks.len() == n as usize;
            if server != Impl::Gnutls {
                expected += &format!(", {n} × `srp-user: {user}`");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interop::cases::cases;

    fn case(client: Impl, server: Impl, name: &str) -> Case {
        cases(client, server, 4).into_iter().find(|c| c.name == name).expect("the case exists")
    }

    #[test]
    fn a_success_needs_every_handshake_and_answer_on_both_sides() {
        let case = case(Impl::Nss, Impl::Boringssl, "2048-bit group, 0xC020");
        let ok = "ok version=TLS1.2 cipher=0xC020 group=2048 user=srp2048\nsrp-user: srp2048\n";
        let log: Vec<String> = vec!["accepted user=srp2048 cipher=0xC020".into(); 4];
        let row = judge(Impl::Nss, Impl::Boringssl, &case, &ok.repeat(4), true, Some(&log));
        assert!(row.passed, "{}", row.detail);
        assert_eq!(row.handshakes, 4);
        let short = judge(Impl::Nss, Impl::Boringssl, &case, &ok.repeat(3), true, Some(&log));
        assert!(!short.passed, "3 of 4 handshakes is a failure");
        let log3 = &log[..3];
        let quiet = judge(Impl::Nss, Impl::Boringssl, &case, &ok.repeat(4), true, Some(log3));
        assert!(!quiet.passed, "the server must log every handshake");
        let status = judge(Impl::Nss, Impl::Boringssl, &case, &ok.repeat(4), false, Some(&log));
        assert!(!status.passed, "a failing exit status fails the case");
    }

    #[test]
    fn a_resumption_needs_a_full_handshake_then_resumed_ones() {
        let case = case(Impl::Boringssl, Impl::Openssl, "resumption, 2048-bit group, 0xC01D");
        let line = "ok version=TLS1.2 cipher=0xC01D group=2048 user=srp2048";
        let answer = "srp-user: srp2048\n";
        let out = |flags: [&str; 3]| -> String {
            flags.iter().map(|f| format!("{line} resumed={f}\n{answer}")).collect()
        };
        let log: Vec<String> = vec!["accepted user=srp2048 cipher=0xC01D".into(); 3];
        let judged = |o: &str| judge(Impl::Boringssl, Impl::Openssl, &case, o, true, Some(&log));
        let row = judged(&out(["no", "yes", "yes"]));
        assert!(row.passed, "{}", row.detail);
        assert!(!judged(&out(["no", "no", "no"])).passed, "no resumption is a failure");
        assert!(!judged(&out(["yes", "yes", "yes"])).passed, "the first handshake is a full one");
        let plain = format!("{line}\n{answer}").repeat(3);
        assert!(!judged(&plain).passed, "a client that does not say is a failure");
    }

    #[test]
    fn a_failure_needs_the_exact_error_and_alert() {
        let case = case(Impl::Boringssl, Impl::Nss, "wrong password");
        let log = vec!["rejected alert=bad_record_mac".to_owned()];
        let out = "error: SRP_WRONG_PASSWORD alert=bad_record_mac\n";
        let row = judge(Impl::Boringssl, Impl::Nss, &case, out, false, Some(&log));
        assert!(row.passed, "{}", row.detail);
        assert_eq!(row.expected, "`error: SRP_WRONG_PASSWORD alert=bad_record_mac`");
        let other = "error: SRP_UNKNOWN_USER alert=unknown_psk_identity\n";
        assert!(!judge(Impl::Boringssl, Impl::Nss, &case, other, false, Some(&log)).passed);
        assert!(!judge(Impl::Boringssl, Impl::Nss, &case, out, true, Some(&log)).passed);
        let accepted = vec!["accepted user=srp2048 cipher=0xC01D".to_owned()];
        assert!(!judge(Impl::Boringssl, Impl::Nss, &case, out, false, Some(&accepted)).passed);
    }

    #[test]
    fn gnutls_cli_output_is_read_by_its_alert_number() {
        // GnuTLS against OpenSSL runs only the non-ASCII cases: an unknown user as the OpenSSL
        // peer server answers it (`unknown_psk_identity`, no fake user).
        let mut case = case(Impl::Gnutls, Impl::Nss, "wrong password");
        case.kind = Kind::UnknownUser;
        let out = "*** Fatal error: A TLS fatal alert has been received.\n\
                   *** Received alert [115]: Unknown PSK identity\n";
        let log = vec!["rejected alert=unknown_psk_identity".to_owned()];
        assert!(judge(Impl::Gnutls, Impl::Openssl, &case, out, false, Some(&log)).passed);
        let completed = format!("{out}- Handshake was completed\n");
        assert!(!judge(Impl::Gnutls, Impl::Openssl, &case, &completed, false, Some(&log)).passed);
    }

    #[test]
    fn an_nfd_password_logs_in_only_from_a_client_that_normalizes() {
        use crate::interop::cases::{UTF8_PASSWORD_NFC, UTF8_PASSWORD_NFD, UTF8_USER};
        let all = [Impl::Nss, Impl::Boringssl, Impl::Openssl, Impl::Gnutls];
        for client in all {
            for server in all.into_iter().filter(|&s| s != client || client.patched()) {
                let nfc =
                    case(client, server, "non-ASCII username and password (NFC), 2048-bit group");
                let nfd = case(client, server, "non-ASCII password in NFD, verifier from NFC");
                assert_eq!(nfc.kind, Kind::Ok);
                assert_eq!(nfc.creds, Some((UTF8_USER.into(), UTF8_PASSWORD_NFC.into())));
                assert_eq!(nfd.creds, Some((UTF8_USER.into(), UTF8_PASSWORD_NFD.into())));
                let want = if client == Impl::Gnutls { Kind::Ok } else { Kind::WrongPassword };
                assert_eq!(nfd.kind, want, "{client:?} -> {server:?}");
            }
        }
        assert_ne!(UTF8_PASSWORD_NFC, UTF8_PASSWORD_NFD, "NFC and NFD differ in bytes");
        assert_eq!(cases(Impl::Openssl, Impl::Gnutls, 4).len(), 2, "only the non-ASCII cases");
    }

    #[test]
    fn a_non_ascii_user_is_judged_by_its_own_name() {
        let case =
            case(Impl::Nss, Impl::Openssl, "non-ASCII username and password (NFC), 2048-bit group");
        let ok =
            "ok version=TLS1.2 cipher=0xC01D group=2048 user=j\u{fc}rgen\nsrp-user: j\u{fc}rgen\n";
        let log: Vec<String> = vec!["accepted user=j\u{fc}rgen cipher=0xC01D".into(); 3];
        let row = judge(Impl::Nss, Impl::Openssl, &case, &ok.repeat(3), true, Some(&log));
        assert!(row.passed, "{}", row.detail);
        let ascii = ok.replace("j\u{fc}rgen", "srp2048");
        let row = judge(Impl::Nss, Impl::Openssl, &case, &ascii.repeat(3), true, Some(&log));
        assert!(!row.passed, "another user's login is a failure");
        // The name in NFD is other bytes, so another user.
        let nfd = ok.replace("j\u{fc}rgen", "ju\u{308}rgen");
        let row = judge(Impl::Nss, Impl::Openssl, &case, &nfd.repeat(3), true, Some(&log));
        assert!(!row.passed, "a username is compared as bytes");
    }
}
