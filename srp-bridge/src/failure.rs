//! Which failure to reach a device becomes which [`State`]: the user can act on device
//! unreachable, not TLS-SRP, wrong password and group below the floor, so each is its own
//! state; a protocol violation only a faulty or hostile device commits is another.
//!
//! The input is what BoringSSL's error queue says (the reason names of the patched library,
//! `SRP_WRONG_PASSWORD` and friends, and upstream's) and the I/O error, if any. Kept apart from
//! the TLS code so it is tested without BoringSSL.

use std::io::ErrorKind;

use crate::control::State;

/// A failed connection attempt, as the TLS code saw it.
#[derive(Debug)]
pub enum Failure {
    /// TCP did not connect (or did not within the time allowed).
    Connect(ErrorKind),
    /// The TLS handshake failed: BoringSSL's reason names, oldest first, and the I/O error.
    Handshake { reasons: Vec<String>, io: Option<ErrorKind> },
    /// The handshake completed without SRP (`SSL_is_srp_authenticated` is zero): cannot happen
    /// with `SSL_set_srp_required`, checked anyway.
    NotSrpAuthenticated,
    /// The handshake did not finish in time.
    HandshakeTimeout,
    /// The credentials cannot be given to BoringSSL (a NUL byte, a username over 255 bytes).
    BadCredentials,
}

/// Reasons that say the device is not speaking TLS-SRP to us.
const NOT_SRP: &[&str] = &[
    "WRONG_VERSION_NUMBER",
    "UNSUPPORTED_PROTOCOL",
    "NO_SHARED_CIPHER",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY",
    "HTTP_REQUEST",
    "WRONG_CIPHER_RETURNED",
    "UNKNOWN_CIPHER_RETURNED",
    "SRP_CREDENTIALS_REQUIRED",
];

/// Reasons that only a device breaking the protocol causes.
const HOSTILE: &[&str] = &[
    "SRP_BAD_PUBLIC_VALUE",
    "SRP_UNKNOWN_GROUP",
    "DECODE_ERROR",
    "UNEXPECTED_MESSAGE",
    "BAD_SRP_A_LENGTH",
    "EXCESSIVE_MESSAGE_SIZE",
];

impl Failure {
    /// The state and a sentence for people.
    pub fn classify(&self) -> (State, String) {
        match self {
            Failure::Connect(kind) => {
                (State::Unreachable, format!("could not connect to the device: {kind}"))
            }
            Failure::HandshakeTimeout => (
                State::Unreachable,
                "the device accepted the connection but did not finish the handshake in time"
                    .into(),
            ),
            Failure::NotSrpAuthenticated => {
                (State::NotTlsSrp, "the device completed a handshake without TLS-SRP".into())
            }
            Failure::BadCredentials => (
                State::Failed,
                "the username or password cannot be used (a NUL byte, or a username of more \
                 than 255 bytes)"
                    .into(),
            ),
            Failure::Handshake { reasons, io } => classify_handshake(reasons, *io),
        }
    }
}

fn classify_handshake(reasons: &[String], io: Option<ErrorKind>) -> (State, String) {
    let has = |name: &str| reasons.iter().any(|r| r == name);
    let list = if reasons.is_empty() { "no TLS error".to_owned() } else { reasons.join(", ") };
    if has("SRP_WRONG_PASSWORD") || has("SRP_UNKNOWN_USER") {
        return (
            State::WrongPassword,
            format!("the device rejected the username or password ({list})"),
        );
    }
    if has("SRP_GROUP_TOO_SMALL") {
        return (
            State::GroupTooSmall,
            format!(
                "the device's SRP group is smaller than the 2048 bits the bridge accepts ({list})"
            ),
        );
    }
    if has("TLSV1_ALERT_INSUFFICIENT_SECURITY") {
        return (
            State::Failed,
            format!(
                "the device refused the login: its own verifier is below its minimum group \
                 ({list})"
            ),
        );
    }
    if let Some(r) = reasons.iter().find(|r| HOSTILE.contains(&r.as_str())) {
        return (State::HostileDevice, format!("the device broke the TLS-SRP protocol ({r})"));
    }
    if reasons.iter().any(|r| NOT_SRP.contains(&r.as_str())) {
        return (State::NotTlsSrp, format!("the device does not speak TLS-SRP here ({list})"));
    }
    match io {
        // Closed or reset during the handshake with no alert: what a server that does not
        // want SRP (or TLS) does, and what a device that goes away does.
        Some(ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
            (State::NotTlsSrp, "the device closed the connection during the handshake".into())
        }
        None if reasons.is_empty() => {
            (State::NotTlsSrp, "the device closed the connection during the handshake".into())
        }
        Some(kind) => {
            (State::Unreachable, format!("the connection failed during the handshake: {kind}"))
        }
        None => (State::Failed, format!("the handshake failed ({list})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(reasons: &[&str]) -> State {
        Failure::Handshake { reasons: reasons.iter().map(|r| r.to_string()).collect(), io: None }
            .classify()
            .0
    }

    #[test]
    fn each_actionable_failure_has_its_own_state() {
        assert_eq!(Failure::Connect(ErrorKind::ConnectionRefused).classify().0, State::Unreachable);
        assert_eq!(Failure::Connect(ErrorKind::TimedOut).classify().0, State::Unreachable);
        assert_eq!(hs(&["SRP_WRONG_PASSWORD", "SSLV3_ALERT_BAD_RECORD_MAC"]), State::WrongPassword);
        assert_eq!(hs(&["SRP_UNKNOWN_USER"]), State::WrongPassword);
        assert_eq!(hs(&["SRP_GROUP_TOO_SMALL"]), State::GroupTooSmall);
        assert_eq!(hs(&["WRONG_VERSION_NUMBER"]), State::NotTlsSrp, "plain HTTP");
        assert_eq!(hs(&["SSLV3_ALERT_HANDSHAKE_FAILURE"]), State::NotTlsSrp, "no SRP suite");
        assert_eq!(hs(&["TLSV1_ALERT_PROTOCOL_VERSION"]), State::NotTlsSrp, "TLS 1.3 only");
        assert_eq!(hs(&["SRP_BAD_PUBLIC_VALUE"]), State::HostileDevice, "B = 0");
        assert_eq!(hs(&["SRP_UNKNOWN_GROUP"]), State::HostileDevice);
        assert_eq!(hs(&["TLSV1_ALERT_INSUFFICIENT_SECURITY"]), State::Failed);
        assert_eq!(hs(&["SOMETHING_NEW"]), State::Failed);
        assert_eq!(Failure::NotSrpAuthenticated.classify().0, State::NotTlsSrp);
    }

    #[test]
    fn the_srp_reason_wins_over_the_alert_that_follows_it() {
        // The patched library queues the SRP error before the alert's own.
        assert_eq!(hs(&["SRP_BAD_PUBLIC_VALUE", "DECODE_ERROR"]), State::HostileDevice);
        assert_eq!(
            hs(&["SRP_GROUP_TOO_SMALL", "SSLV3_ALERT_HANDSHAKE_FAILURE"]),
            State::GroupTooSmall
        );
    }

    #[test]
    fn a_closed_connection_during_the_handshake_is_not_tls_srp() {
        let f = |io| Failure::Handshake { reasons: vec![], io }.classify().0;
        assert_eq!(f(Some(ErrorKind::UnexpectedEof)), State::NotTlsSrp);
        assert_eq!(f(Some(ErrorKind::ConnectionReset)), State::NotTlsSrp);
        assert_eq!(f(None), State::NotTlsSrp);
        assert_eq!(f(Some(ErrorKind::TimedOut)), State::Unreachable);
    }
}
