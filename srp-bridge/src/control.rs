//! The control messages between the extension and the bridge (JSON over native messaging).
//!
//! From the extension (`"type"` tells which; `"id"`, any JSON value, is echoed in the reply):
//! - `{"type":"login","device":"192.168.1.1:443","user":"admin","password":"..."}`: the bridge
//!   connects with these credentials; on success it keeps them in memory for the device and
//!   answers `logged-in`, otherwise it forgets them and answers the state that says why.
//! - `{"type":"logout","device":"..."}`: forgets the device's credentials, sessions and
//!   connections; the next request for it asks for a login again.
//! - `{"type":"status"}` (every device the bridge knows) or with `"device"` (that one).
//!
//! From the bridge: a reply of the same `type` (`status` for all three, with the bridge's
//! address, the token and the devices), `error` for a message it could not understand, and
//! unsolicited `needs-login` (a page asked for a device without credentials) and
//! `device-state` (a device's state changed while forwarding, e.g. the password was changed on
//! the device).
//!
//! Passwords are read into [`Password`], which is wiped when dropped and never printed; error
//! replies never quote the message they answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

/// A password: wiped from memory when dropped, `Debug` without the contents.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Password(pub Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A message from the extension.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    Login {
        #[serde(default)]
        id: Option<Value>,
        device: String,
        user: String,
        password: Password,
    },
    Logout {
        #[serde(default)]
        id: Option<Value>,
        device: String,
    },
    Status {
        #[serde(default)]
        id: Option<Value>,
        #[serde(default)]
        device: Option<String>,
    },
}

impl Request {
    pub fn id(&self) -> Option<&Value> {
        match self {
            Request::Login { id, .. } | Request::Logout { id, .. } | Request::Status { id, .. } => {
                id.as_ref()
            }
        }
    }
}

/// Why a message was not understood. The reply names the kind and where, never the contents:
/// a broken login message may hold a password anywhere.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    pub what: String,
    pub id: Option<Value>,
}

/// Parses one message. On error, the `id` is recovered when the message is at least a JSON
/// object with one, so the extension can match the error to its request.
pub fn parse_request(bytes: &[u8]) -> Result<Request, Malformed> {
    match serde_json::from_slice::<Request>(bytes) {
        Ok(request) => Ok(request),
        Err(e) => {
            let id = serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .filter(|id| id.is_number() || (id.as_str().is_some_and(|s| s.len() <= 64)));
            let kind = match e.classify() {
                serde_json::error::Category::Io => "unreadable",
                serde_json::error::Category::Syntax => "not JSON",
                serde_json::error::Category::Data => {
                    "not a login, logout or status message with the fields it needs"
                }
                serde_json::error::Category::Eof => "incomplete JSON",
            };
            Err(Malformed { what: format!("{kind} (at column {})", e.column()), id })
        }
    }
}

/// What the user can act on for one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// No credentials: log in.
    LoggedOut,
    /// Credentials accepted by the device (a TLS-SRP handshake completed with them).
    LoggedIn,
    /// No TCP connection (refused, no route, timed out): check the address, the network.
    Unreachable,
    /// The device answered, but not with TLS-SRP (plain HTTP, TLS with certificates only, or it
    /// closed the connection during the handshake): check the port.
    NotTlsSrp,
    /// The device rejected the password (or the username): log in again.
    WrongPassword,
    /// The device's SRP group is smaller than the bridge accepts (2048 bits): the device's
    /// verifier must be remade with a larger group.
    GroupTooSmall,
    /// The device broke the protocol in a way only a faulty or hostile device does (a public
    /// value of zero, a group that is not an RFC 5054 group, a malformed message).
    HostileDevice,
    /// Anything else: the message says what.
    Failed,
}

/// One device as the extension sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    /// `host:port`, canonical.
    pub device: String,
    /// Where the browser reaches it through the bridge.
    pub url: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The SRP group of the last full handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_bits: Option<u32>,
    /// What happened, for people (never holds a password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The bridge itself, in status replies.
#[derive(Clone, Debug, Serialize)]
pub struct BridgeInfo {
    /// `127.0.0.1:PORT`: where the bridge listens.
    pub listen: String,
    /// The value of the `srp-bridge-token` request header the bridge requires (the extension
    /// adds it to the requests it routes to the bridge), new each time the bridge starts.
    pub token: String,
    pub version: &'static str,
}

/// A message to the extension.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Reply {
    Status {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
        bridge: BridgeInfo,
        devices: Vec<DeviceStatus>,
    },
    Login {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
        device: DeviceStatus,
    },
    Logout {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
        device: DeviceStatus,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
        /// `malformed-message`, `bad-device`, `message-too-large`.
        error: &'static str,
        message: String,
    },
    NeedsLogin {
        device: DeviceStatus,
    },
    DeviceState {
        device: DeviceStatus,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_parses_and_its_debug_form_hides_the_password() {
        let r = parse_request(
            br#"{"type":"login","id":7,"device":"192.168.1.1:443","user":"admin","password":"hunter2"}"#,
        )
        .unwrap();
        let debug = format!("{r:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        match r {
            Request::Login { id, device, user, password } => {
                assert_eq!(id, Some(Value::from(7)));
                assert_eq!(device, "192.168.1.1:443");
                assert_eq!(user, "admin");
                assert_eq!(password.0.as_str(), "hunter2");
            }
            other => panic!("expected a login, found {other:?}"),
        }
    }

    #[test]
    fn logout_and_status_parse_with_and_without_id_and_device() {
        assert!(matches!(
            parse_request(br#"{"type":"logout","device":"r:1"}"#),
            Ok(Request::Logout { id: None, .. })
        ));
        assert!(matches!(
            parse_request(br#"{"type":"status"}"#),
            Ok(Request::Status { id: None, device: None })
        ));
        assert!(matches!(
            parse_request(br#"{"type":"status","id":"a","device":"r:1","extra":1}"#),
            Ok(Request::Status { id: Some(_), device: Some(_) })
        ));
    }

    #[test]
    fn malformed_messages_say_what_kind_without_quoting_them() {
        for (bytes, kind) in [
            (&b""[..], "incomplete JSON"),
            (b"{", "incomplete JSON"),
            (b"\xff\xfe", "not JSON"),
            (b"[]", "not a login"),
            (b"null", "not a login"),
            (br#"{"type":"hunter2"}"#, "not a login"),
            (br#"{"type":"login","device":"d","user":"u"}"#, "not a login"),
            (br#"{"type":"login","device":"d","user":"u","password":5}"#, "not a login"),
            (
                br#"{"type":"login","device":"d","user":"hunter2","password":"hunter2","x":}"#,
                "not JSON",
            ),
            (br#"{"device":"hunter2"}"#, "not a login"),
        ] {
            let err = parse_request(bytes).unwrap_err();
            assert!(err.what.starts_with(kind), "{bytes:?}: {}", err.what);
            assert!(!err.what.contains("hunter2"), "{bytes:?} quoted: {}", err.what);
        }
    }

    #[test]
    fn a_malformed_message_keeps_a_short_id_only() {
        let err = parse_request(br#"{"type":"login","id":3}"#).unwrap_err();
        assert_eq!(err.id, Some(Value::from(3)));
        let err = parse_request(br#"{"type":"bogus","id":"abc"}"#).unwrap_err();
        assert_eq!(err.id, Some(Value::from("abc")));
        let long = format!(r#"{{"type":"x","id":"{}"}}"#, "p".repeat(65));
        assert_eq!(parse_request(long.as_bytes()).unwrap_err().id, None, "long ids are dropped");
        let obj = br#"{"type":"x","id":{"password":"hunter2"}}"#;
        assert_eq!(parse_request(obj).unwrap_err().id, None, "only numbers and short strings");
    }

    #[test]
    fn replies_serialize_with_kebab_case_types_and_states() {
        let status = DeviceStatus {
            device: "192.168.1.1:443".into(),
            url: "http://192.168.1.1.443.localhost:7425/".into(),
            state: State::WrongPassword,
            user: Some("admin".into()),
            group_bits: None,
            message: None,
        };
        let json =
            serde_json::to_value(Reply::Login { id: Some(1.into()), device: status }).unwrap();
        assert_eq!(json["type"], "login");
        assert_eq!(json["id"], 1);
        assert_eq!(json["device"]["state"], "wrong-password");
        assert!(json["device"].get("group_bits").is_none(), "absent, not null");
        let json = serde_json::to_value(Reply::NeedsLogin {
            device: DeviceStatus { state: State::NotTlsSrp, ..json_status() },
        })
        .unwrap();
        assert_eq!(json["type"], "needs-login");
        assert_eq!(json["device"]["state"], "not-tls-srp");
    }

    fn json_status() -> DeviceStatus {
        DeviceStatus {
            device: "d:1".into(),
            url: "u".into(),
            state: State::LoggedOut,
            user: None,
            group_bits: None,
            message: None,
        }
    }
}
