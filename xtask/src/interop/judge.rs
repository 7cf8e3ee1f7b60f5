//! Judging a case: both sides' output against the case's exact expectation.

use std::fmt::Write as _;

use super::cases::{Case, Impl, Kind, alert, expected_error, user};

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
