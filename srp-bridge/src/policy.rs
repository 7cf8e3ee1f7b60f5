//! Which browser requests the bridge forwards.
//!
//! The bridge is not a proxy: it answers only requests for its own names
//! (`H.P.localhost:<its port>`, see [`crate::address`]) and refuses everything else, so it
//! cannot be used to reach anything but the devices the user logged in to, and no plain-HTTP
//! request leaves the machine through it. For its own names it also refuses:
//! - requests without the run's token (header `srp-bridge-token`, which the extension adds):
//!   other programs and other users of the machine share the loopback interface;
//! - requests another site caused (`Sec-Fetch-Site` other than `same-origin` or `none`, or an
//!   `Origin` that is not the device's own bridge origin), except top-level navigations with
//!   GET or HEAD, so a link to the device still opens it: otherwise any web page could post
//!   forms to the device with the user's login (cross-site request forgery).

use crate::address::{self, AddressError, Device};

/// The request header that carries the token.
pub const TOKEN_HEADER: &str = "srp-bridge-token";

/// Why a request is refused, with the HTTP status the bridge answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A proxy request (absolute URI) or a `CONNECT`: the bridge is not a proxy. 405.
    NotAProxy,
    /// No `Host`, or a host that is not one of the bridge's names, or another port. 421.
    NotOurName(String),
    /// The token is missing or wrong. 403.
    NoToken,
    /// Another site caused the request. 403.
    CrossSite,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotAProxy => 405,
            Refusal::NotOurName(_) => 421,
            Refusal::NoToken | Refusal::CrossSite => 403,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::NotAProxy => "srp-bridge is not a proxy: it forwards only its own names, \
                 http://HOST.PORT.localhost:PORT/"
                .into(),
            Refusal::NotOurName(why) => format!("not one of srp-bridge's names: {why}"),
            Refusal::NoToken => {
                "this request did not come through the srp-bridge extension (no token)".into()
            }
            Refusal::CrossSite => {
                "another site tried to send this request to the device: refused".into()
            }
        }
    }
}

/// What the bridge knows of a request when deciding (header values as text; absent = None).
pub struct RequestFacts<'a> {
    pub method: &'a str,
    /// True when the request target was in absolute form (`GET http://x/ HTTP/1.1`).
    pub absolute_uri: bool,
    pub host: Option<&'a str>,
    pub token: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub sec_fetch_mode: Option<&'a str>,
    pub origin: Option<&'a str>,
}

/// Decides: the device to forward to, or why not. `bridge_port` is the port the bridge
/// listens on, `token` the run's token.
pub fn admit(facts: &RequestFacts<'_>, bridge_port: u16, token: &str) -> Result<Device, Refusal> {
    if facts.absolute_uri || facts.method.eq_ignore_ascii_case("CONNECT") {
        return Err(Refusal::NotAProxy);
    }
    let host = facts.host.ok_or_else(|| Refusal::NotOurName("no Host header".into()))?;
    let (name, port) = address::split_host_header(host)
        .ok_or_else(|| Refusal::NotOurName("a malformed Host header".into()))?;
    if port.unwrap_or(80) != bridge_port {
        return Err(Refusal::NotOurName(format!("not the bridge's port {bridge_port}")));
    }
    let device = Device::from_bridge_name(name)
        .map_err(|e: AddressError| Refusal::NotOurName(e.to_string()))?;
    if !facts.token.is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes())) {
        return Err(Refusal::NoToken);
    }
    let own_origin = bridge_origin(&device, bridge_port);
    let navigation = facts.sec_fetch_mode == Some("navigate")
        && (facts.method == "GET" || facts.method == "HEAD");
    let site_ok = match facts.sec_fetch_site {
        None | Some("same-origin") | Some("none") => true,
        Some(_) => navigation,
    };
    let origin_ok = match facts.origin {
        None => true,
        Some(o) => o.eq_ignore_ascii_case(&own_origin) || navigation,
    };
    if !site_ok || !origin_ok {
        return Err(Refusal::CrossSite);
    }
    Ok(device)
}

/// The bridge's origin for a device: `http://H.P.localhost:BRIDGEPORT`.
pub fn bridge_origin(device: &Device, bridge_port: u16) -> String {
    format!("http://{}:{bridge_port}", device.bridge_name())
}

/// What follows `prefix` in `value` when `value` is that origin or a URL on it.
fn after_origin<'a>(value: &'a str, origin: &str) -> Option<&'a str> {
    let head = value.get(..origin.len())?;
    let rest = &value[origin.len()..];
    let boundary = rest.is_empty() || rest.starts_with(['/', '?', '#']);
    (head.eq_ignore_ascii_case(origin) && boundary).then_some(rest)
}

/// An `Origin` or `Referer` the browser sent, as the device gets it: on the bridge origin it
/// becomes the same on the device's `https://` origin; anything else is dropped (`None`), so
/// the device never learns other sites' URLs through the bridge.
pub fn to_device(value: &str, device: &Device, bridge_port: u16) -> Option<String> {
    let rest = after_origin(value, &bridge_origin(device, bridge_port))?;
    Some(format!("{}{rest}", device.https_origin()))
}

/// A `Location` the device sent, as the browser gets it: on the device's own `https://`
/// origin (with or without the default port written out) it moves to the bridge origin;
/// anything else (relative, or another host) is left as it is.
pub fn to_browser(value: &str, device: &Device, bridge_port: u16) -> String {
    let explicit = match &device.host {
        crate::address::Host::V6(a) => format!("https://[{a}]:{}", device.port),
        _ => format!("https://{}:{}", device.connect_host(), device.port),
    };
    for origin in [device.https_origin(), explicit] {
        if let Some(rest) = after_origin(value, &origin) {
            return format!("{}{rest}", bridge_origin(device, bridge_port));
        }
    }
    value.to_owned()
}

/// Compares without an early exit, so the token cannot be guessed byte by byte from timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "t0k3n";
    const PORT: u16 = 7425;

    fn facts<'a>(method: &'a str, host: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts {
            method,
            absolute_uri: false,
            host,
            token: Some(TOKEN),
            sec_fetch_site: None,
            sec_fetch_mode: None,
            origin: None,
        }
    }

    const HOST: Option<&str> = Some("192.168.1.1.443.localhost:7425");

    #[test]
    fn a_request_for_a_bridge_name_with_the_token_is_forwarded_to_its_device() {
        let d = admit(&facts("GET", HOST), PORT, TOKEN).unwrap();
        assert_eq!(d.to_string(), "192.168.1.1:443");
        let same = RequestFacts {
            sec_fetch_site: Some("same-origin"),
            origin: Some("http://192.168.1.1.443.localhost:7425"),
            ..facts("POST", HOST)
        };
        assert!(admit(&same, PORT, TOKEN).is_ok(), "a form on the device's own page");
    }

    #[test]
    fn proxy_requests_and_other_hosts_are_refused() {
        let proxy = RequestFacts { absolute_uri: true, ..facts("GET", Some("example.com")) };
        assert_eq!(admit(&proxy, PORT, TOKEN), Err(Refusal::NotAProxy));
        assert_eq!(admit(&facts("CONNECT", HOST), PORT, TOKEN), Err(Refusal::NotAProxy));
        for host in [
            None,
            Some("example.com"),
            Some("localhost:7425"),
            Some("x.localhost:7425"),
            Some("192.168.1.1.443.localhost:7426"),
            Some("192.168.1.1.443.localhost"),
            Some("127.0.0.1:7425"),
            Some("a.443.localhost:x"),
        ] {
            let r = admit(&facts("GET", host), PORT, TOKEN);
            assert!(matches!(r, Err(Refusal::NotOurName(_))), "{host:?}: {r:?}");
            assert_eq!(r.unwrap_err().status(), 421);
        }
    }

    #[test]
    fn requests_without_the_right_token_are_refused() {
        for token in [None, Some(""), Some("t0k3"), Some("t0k3m"), Some("t0k3n ")] {
            let f = RequestFacts { token, ..facts("GET", HOST) };
            assert_eq!(admit(&f, PORT, TOKEN), Err(Refusal::NoToken), "{token:?}");
        }
    }

    #[test]
    fn origin_and_referer_move_to_the_device_and_others_are_dropped() {
        let d: Device = "192.168.1.1:443".parse().unwrap();
        let own = "http://192.168.1.1.443.localhost:7425";
        assert_eq!(to_device(own, &d, PORT).as_deref(), Some("https://192.168.1.1"));
        assert_eq!(
            to_device(&format!("{own}/a?b#c"), &d, PORT).as_deref(),
            Some("https://192.168.1.1/a?b#c")
        );
        assert_eq!(
            to_device("HTTP://192.168.1.1.443.LOCALHOST:7425/x", &d, PORT).as_deref(),
            Some("https://192.168.1.1/x")
        );
        assert_eq!(to_device(&format!("{own}0/x"), &d, PORT), None, "another port");
        assert_eq!(to_device(&format!("{own}.evil/x"), &d, PORT), None);
        assert_eq!(to_device("https://evil.example/", &d, PORT), None);
        assert_eq!(
            to_device("http://10.0.0.1.443.localhost:7425/", &d, PORT),
            None,
            "other device"
        );
        assert_eq!(to_device("null", &d, PORT), None);
    }

    #[test]
    fn locations_on_the_device_move_to_the_bridge_and_others_stay() {
        let d: Device = "192.168.1.1:443".parse().unwrap();
        let own = "http://192.168.1.1.443.localhost:7425";
        assert_eq!(to_browser("https://192.168.1.1/login", &d, PORT), format!("{own}/login"));
        assert_eq!(to_browser("https://192.168.1.1:443/", &d, PORT), format!("{own}/"));
        assert_eq!(to_browser("https://192.168.1.1", &d, PORT), own);
        assert_eq!(to_browser("/", &d, PORT), "/");
        assert_eq!(to_browser("https://192.168.1.10/", &d, PORT), "https://192.168.1.10/");
        assert_eq!(to_browser("https://example.com/", &d, PORT), "https://example.com/");
        let v6: Device = "[fe80::1]:8443".parse().unwrap();
        assert_eq!(
            to_browser("https://[fe80::1]:8443/x", &v6, PORT),
            "http://ipv6-fe80--1.8443.localhost:7425/x"
        );
    }

    #[test]
    fn cross_site_requests_are_refused_but_links_still_open_the_device() {
        let post = RequestFacts {
            sec_fetch_site: Some("cross-site"),
            sec_fetch_mode: Some("navigate"),
            origin: Some("https://evil.example"),
            ..facts("POST", HOST)
        };
        assert_eq!(admit(&post, PORT, TOKEN), Err(Refusal::CrossSite), "form post from a site");
        let fetch = RequestFacts {
            sec_fetch_site: Some("same-site"),
            sec_fetch_mode: Some("no-cors"),
            ..facts("GET", HOST)
        };
        assert_eq!(admit(&fetch, PORT, TOKEN), Err(Refusal::CrossSite), "another device's page");
        let origin_only = RequestFacts { origin: Some("null"), ..facts("POST", HOST) };
        assert_eq!(admit(&origin_only, PORT, TOKEN), Err(Refusal::CrossSite));
        let link = RequestFacts {
            sec_fetch_site: Some("cross-site"),
            sec_fetch_mode: Some("navigate"),
            ..facts("GET", HOST)
        };
        assert!(admit(&link, PORT, TOKEN).is_ok(), "a link from elsewhere opens the device");
        let typed = RequestFacts { sec_fetch_site: Some("none"), ..facts("GET", HOST) };
        assert!(admit(&typed, PORT, TOKEN).is_ok(), "typed in the address bar");
    }
}
