//! Device addresses (`host:port`) and the `*.localhost` names that stand for them.
//!
//! A device `H:P` is reached at `http://H.P.localhost:<bridge port>/`. Browsers resolve every
//! `*.localhost` name to loopback and treat `http://*.localhost` as a secure context, without a
//! certificate; each device gets its own origin (cookies, storage, permissions). The port label
//! is always there, so the name is unambiguous: a DNS name's last label is never all digits
//! (the URL standard parses such a host as an IPv4 address), an IPv4 address is four numeric
//! labels before the port, and an IPv6 address, which has colons, is one label `ipv6-...` with
//! each `:` written `-` (`[fe80::1]:443` is `ipv6-fe80--1.443.localhost`). IPv6 zones
//! (`%eth0`) cannot be written in a host name and are not supported.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The port a device address without one gets (HTTPS's).
pub const DEFAULT_PORT: u16 = 443;

const SUFFIX: &str = ".localhost";
const IPV6_PREFIX: &str = "ipv6-";

/// A device's host: an address or a DNS name (lowercase ASCII, checked label by label).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name(String),
}

/// A device: where the bridge connects with TLS-SRP.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    pub host: Host,
    pub port: u16,
}

/// Why a text is not a device address or a bridge name.
#[derive(Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Not `host:port`, `host` or `[v6]:port`.
    Malformed,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// The host is not an IP address or a valid DNS name.
    BadHost,
    /// A `localhost` name as a device: the bridge does not forward to itself.
    Loopback,
    /// Not a name under `.localhost`, or one without the port label.
    NotBridgeName,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressError::Malformed => "expected HOST:PORT, HOST or [IPv6]:PORT",
            AddressError::BadPort => "the port must be a number from 1 to 65535",
            AddressError::BadHost => "the host must be an IP address or a DNS name",
            AddressError::Loopback => "a name under localhost cannot be a device",
            AddressError::NotBridgeName => {
                "expected a name HOST.PORT.localhost (the bridge's name for a device)"
            }
        })
    }
}

impl std::error::Error for AddressError {}

fn parse_port(text: &str) -> Result<u16, AddressError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::BadPort);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(AddressError::BadPort),
        Ok(port) => Ok(port),
    }
}

/// A DNS name: labels of letters, digits and hyphens, 1 to 63 bytes, not starting or ending
/// with a hyphen; 253 bytes in all; the last label not all digits. Lowercased.
fn parse_name(text: &str) -> Result<String, AddressError> {
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return Err(AddressError::BadHost);
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(AddressError::BadHost);
        }
    }
    // Checked non-empty above.
    let last = labels[labels.len() - 1];
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::BadHost);
    }
    if last == "localhost" {
        return Err(AddressError::Loopback);
    }
    Ok(name)
}

impl FromStr for Device {
    type Err = AddressError;

    /// `host:port`, `host` (port 443), `[v6]:port`, `[v6]`.
    fn from_str(text: &str) -> Result<Self, AddressError> {
        if let Some(rest) = text.strip_prefix('[') {
            let (v6, after) = rest.split_once(']').ok_or(AddressError::Malformed)?;
            let host = Ipv6Addr::from_str(v6).map_err(|_| AddressError::BadHost)?;
            let port = match after {
                "" => DEFAULT_PORT,
                _ => parse_port(after.strip_prefix(':').ok_or(AddressError::Malformed)?)?,
            };
            return Ok(Device { host: Host::V6(host), port });
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, parse_port(port)?),
            None => (text, DEFAULT_PORT),
        };
        if host.contains(':') {
            // An IPv6 address without brackets: its last group would read as a port.
            return Err(AddressError::Malformed);
        }
        let host = match Ipv4Addr::from_str(host) {
            Ok(v4) => Host::V4(v4),
            Err(_) => Host::Name(parse_name(host)?),
        };
        Ok(Device { host, port })
    }
}

impl fmt::Display for Device {
    /// The canonical `host:port` (`[v6]:port`): how the control messages name a device.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::V4(a) => write!(f, "{a}:{}", self.port),
            Host::V6(a) => write!(f, "[{a}]:{}", self.port),
            Host::Name(n) => write!(f, "{n}:{}", self.port),
        }
    }
}

impl Device {
    /// The host as TCP connects to it (no brackets).
    pub fn connect_host(&self) -> String {
        match &self.host {
            Host::V4(a) => a.to_string(),
            Host::V6(a) => a.to_string(),
            Host::Name(n) => n.clone(),
        }
    }

    /// The name to send in SNI: DNS names only (RFC 6066 forbids addresses).
    pub fn sni(&self) -> Option<&str> {
        match &self.host {
            Host::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The HTTP `Host` header the device expects: `host` for 443, `host:port` otherwise.
    pub fn http_host(&self) -> String {
        let host = match &self.host {
            Host::V6(a) => format!("[{a}]"),
            _ => self.connect_host(),
        };
        if self.port == DEFAULT_PORT { host } else { format!("{host}:{}", self.port) }
    }

    /// The origin the device has for itself (`https://host[:port]`), to which the bridge
    /// rewrites `Origin` and `Referer` and from which it rewrites `Location`.
    pub fn https_origin(&self) -> String {
        format!("https://{}", self.http_host())
    }

    /// The bridge's name for this device: `H.P.localhost`.
    pub fn bridge_name(&self) -> String {
        let host = match &self.host {
            Host::V4(a) => a.to_string(),
            Host::V6(a) => format!("{IPV6_PREFIX}{}", a.to_string().replace(':', "-")),
            Host::Name(n) => n.clone(),
        };
        format!("{host}.{}{SUFFIX}", self.port)
    }

    /// The URL the browser loads for this device, given the bridge's port.
    pub fn bridge_url(&self, bridge_port: u16) -> String {
        format!("http://{}:{bridge_port}/", self.bridge_name())
    }

    /// The device a bridge name stands for: the inverse of [`Device::bridge_name`]. Takes the
    /// host of a `Host` header (without the bridge's port), case-insensitively, with or
    /// without a final dot.
    pub fn from_bridge_name(name: &str) -> Result<Device, AddressError> {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        let rest = name.strip_suffix(SUFFIX).ok_or(AddressError::NotBridgeName)?;
        let (host, port) = rest.rsplit_once('.').ok_or(AddressError::NotBridgeName)?;
        let port = parse_port(port).map_err(|_| AddressError::NotBridgeName)?;
        let host = if let Some(v6) = host.strip_prefix(IPV6_PREFIX) {
            let v6 =
                Ipv6Addr::from_str(&v6.replace('-', ":")).map_err(|_| AddressError::BadHost)?;
            Host::V6(v6)
        } else if let Ok(v4) = Ipv4Addr::from_str(host) {
            Host::V4(v4)
        } else {
            Host::Name(parse_name(host)?)
        };
        Ok(Device { host, port })
    }
}

/// Splits a `Host` header into host and port (`[v6]:p` too).
pub fn split_host_header(value: &str) -> Option<(&str, Option<u16>)> {
    if value.starts_with('[') {
        let end = value.find(']')?;
        let port = match &value[end + 1..] {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((&value[..=end], port));
    }
    match value.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((value, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(text: &str) -> Device {
        text.parse().unwrap()
    }

    #[test]
    fn device_addresses_parse_and_print_canonically() {
        assert_eq!(dev("192.168.1.1:443").to_string(), "192.168.1.1:443");
        assert_eq!(dev("192.168.1.1").to_string(), "192.168.1.1:443", "default port");
        assert_eq!(dev("Router.LAN:8443").to_string(), "router.lan:8443", "lowercased");
        assert_eq!(dev("router.lan.:8443").to_string(), "router.lan:8443", "final dot");
        assert_eq!(dev("[fe80::1]:8443").to_string(), "[fe80::1]:8443");
        assert_eq!(dev("[::1]").to_string(), "[::1]:443");
    }

    #[test]
    fn bad_device_addresses_are_refused_with_the_reason() {
        let err = |t: &str| t.parse::<Device>().unwrap_err();
        assert_eq!(err("router:0"), AddressError::BadPort);
        assert_eq!(err("router:65536"), AddressError::BadPort);
        assert_eq!(err("router:+80"), AddressError::BadPort);
        assert_eq!(err("router:"), AddressError::BadPort);
        assert_eq!(err("fe80::1"), AddressError::Malformed, "IPv6 needs brackets");
        assert_eq!(err("fe80::1:443"), AddressError::Malformed);
        assert_eq!(err("[fe80::1]443"), AddressError::Malformed);
        assert_eq!(err("[nonsense]:443"), AddressError::BadHost);
        assert_eq!(err("bad_name:443"), AddressError::BadHost);
        assert_eq!(err("-bad.lan:443"), AddressError::BadHost);
        assert_eq!(err("a..b:443"), AddressError::BadHost);
        assert_eq!(err(":443"), AddressError::BadHost);
        assert_eq!(err("1.2.3.999:443"), AddressError::BadHost, "numeric last label");
        assert_eq!(err("évil.lan:443"), AddressError::BadHost, "IDNs come as A-labels");
        assert_eq!(err(&format!("{}.lan:443", "a".repeat(64))), AddressError::BadHost);
        assert_eq!(err("localhost:443"), AddressError::Loopback);
        assert_eq!(err("x.443.localhost:7425"), AddressError::Loopback);
    }

    #[test]
    fn bridge_names_round_trip_for_every_kind_of_host() {
        for (text, name) in [
            ("192.168.1.1:443", "192.168.1.1.443.localhost"),
            ("10.0.0.1:8443", "10.0.0.1.8443.localhost"),
            ("router.lan:443", "router.lan.443.localhost"),
            ("xn--rter-goa.lan:443", "xn--rter-goa.lan.443.localhost"),
            ("[fe80::1]:443", "ipv6-fe80--1.443.localhost"),
            ("[::1]:8443", "ipv6---1.8443.localhost"),
            ("[2001:db8::a:b]:1", "ipv6-2001-db8--a-b.1.localhost"),
        ] {
            let d = dev(text);
            assert_eq!(d.bridge_name(), name, "name of {text}");
            assert_eq!(Device::from_bridge_name(name), Ok(d.clone()), "device of {name}");
            let upper = name.to_ascii_uppercase() + ".";
            assert_eq!(Device::from_bridge_name(&upper), Ok(d), "{upper}: case, final dot");
        }
        assert_eq!(dev("10.0.0.1:8443").bridge_url(7425), "http://10.0.0.1.8443.localhost:7425/");
    }

    #[test]
    fn names_that_are_not_bridge_names_are_refused() {
        let err = |t: &str| Device::from_bridge_name(t).unwrap_err();
        assert_eq!(err("localhost"), AddressError::NotBridgeName);
        assert_eq!(err("example.com"), AddressError::NotBridgeName);
        assert_eq!(err("router.localhost"), AddressError::NotBridgeName, "no port label");
        assert_eq!(err("router.0.localhost"), AddressError::NotBridgeName, "port 0");
        assert_eq!(err("router.99999.localhost"), AddressError::NotBridgeName);
        assert_eq!(err("443.localhost"), AddressError::NotBridgeName, "no host");
        assert_eq!(err("ipv6-zz.443.localhost"), AddressError::BadHost);
        assert_eq!(err("a.localhost.443.localhost"), AddressError::Loopback);
        assert_eq!(err("bad_name.443.localhost"), AddressError::BadHost);
        assert_eq!(err("localhost.evil.com"), AddressError::NotBridgeName);
    }

    #[test]
    fn device_side_names_and_origins() {
        assert_eq!(dev("router.lan:443").http_host(), "router.lan");
        assert_eq!(dev("router.lan:8443").https_origin(), "https://router.lan:8443");
        assert_eq!(dev("[::1]:443").http_host(), "[::1]");
        assert_eq!(dev("router.lan:443").sni(), Some("router.lan"));
        assert_eq!(dev("192.168.1.1:443").sni(), None, "no SNI for addresses");
        assert_eq!(dev("[::1]:443").connect_host(), "::1");
    }

    #[test]
    fn host_headers_split_into_host_and_port() {
        assert_eq!(
            split_host_header("a.443.localhost:7425"),
            Some(("a.443.localhost", Some(7425)))
        );
        assert_eq!(split_host_header("a.443.localhost"), Some(("a.443.localhost", None)));
        assert_eq!(split_host_header("[::1]:80"), Some(("[::1]", Some(80))));
        assert_eq!(split_host_header("a:b"), None);
        assert_eq!(split_host_header("[::1]x"), None);
    }
}
