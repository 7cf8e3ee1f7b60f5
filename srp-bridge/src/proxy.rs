//! The bridge: the HTTP server the browser talks to, the device table, and the control
//! requests from the extension.
//!
//! Per device (`host:port`) the bridge holds, in memory only, what a successful login left:
//! the credentials (the password wiped when dropped), a TLS connector with the last session,
//! and idle HTTP/1.1 connections to reuse. Logout, a failed login, a wrong password found
//! while forwarding and the end of the process drop all of it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::address::Device;
use crate::control::{self, BridgeInfo, DeviceStatus, Reply, State};
use crate::failure::Failure;
use crate::policy::{self, RequestFacts};
use crate::tls::{Credentials, DeviceTls};

/// The largest request body forwarded (bodies are read whole, so a request can be retried on
/// a fresh connection when a reused one turns out closed). Firmware uploads above it fail.
pub const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;
/// Devices the table holds (every name a navigation asked for gets an entry).
const MAX_DEVICES: usize = 256;
/// Idle connections kept per device.
const MAX_IDLE: usize = 8;
/// How long the device may take to start answering a request.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);

type Body = BoxBody<Bytes, hyper::Error>;

/// A device the user logged in to.
struct Login {
    creds: Credentials,
    tls: DeviceTls,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

#[derive(Default)]
struct Slot {
    status: Option<DeviceStatus>,
    login: Option<Arc<Login>>,
    /// A `needs-login` event was sent since the last login or logout.
    asked: bool,
}

/// Where the bridge sends messages for the extension (native messaging's standard output).
pub type Events = Arc<dyn Fn(Reply) + Send + Sync>;

pub struct Bridge {
    port: u16,
    listen: String,
    token: String,
    devices: Mutex<BTreeMap<Device, Slot>>,
    events: Events,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent data here (plain inserts and removes).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn status_of(device: &Device, port: u16, state: State) -> DeviceStatus {
    DeviceStatus {
        device: device.to_string(),
        url: device.bridge_url(port),
        state,
        user: None,
        group_bits: None,
        message: None,
    }
}

impl Bridge {
    /// Binds the listener (loopback only) and makes the run's token.
    pub async fn bind(
        listen: SocketAddr,
        events: Events,
    ) -> std::io::Result<(Arc<Bridge>, TcpListener)> {
        if !listen.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("srp-bridge listens on loopback only, not {listen}"),
            ));
        }
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let bridge = Bridge {
            port: local.port(),
            listen: local.to_string(),
            token,
            devices: Mutex::new(BTreeMap::new()),
            events,
        };
        Ok((Arc::new(bridge), listener))
    }

    /// The port the bridge listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn info(&self) -> BridgeInfo {
        BridgeInfo {
            listen: self.listen.clone(),
            token: self.token.clone(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    fn send(&self, reply: Reply) {
        (self.events)(reply);
    }

    fn status(&self, device: &Device) -> DeviceStatus {
        lock(&self.devices)
            .get(device)
            .and_then(|s| s.status.clone())
            .unwrap_or_else(|| status_of(device, self.port, State::LoggedOut))
    }

    fn set_status(&self, device: &Device, status: DeviceStatus, login: Option<Option<Arc<Login>>>) {
        let mut devices = lock(&self.devices);
        let slot = devices.entry(device.clone()).or_default();
        slot.status = Some(status);
        if let Some(login) = login {
            slot.login = login;
            slot.asked = false;
        }
    }

    /// Answers one control message.
    pub async fn control(self: &Arc<Self>, request: control::Request) -> Reply {
        let id = request.id().cloned();
        match request {
            control::Request::Status { device: None, .. } => {
                let devices =
                    lock(&self.devices).values().filter_map(|s| s.status.clone()).collect();
                Reply::Status { id, bridge: self.info(), devices }
            }
            control::Request::Status { device: Some(text), .. } => match text.parse::<Device>() {
                Ok(device) => {
                    Reply::Status { id, bridge: self.info(), devices: vec![self.status(&device)] }
                }
                Err(e) => bad_device(id, e),
            },
            control::Request::Logout { device: text, .. } => match text.parse::<Device>() {
                Ok(device) => {
                    let old = lock(&self.devices).get_mut(&device).and_then(|s| s.login.take());
                    if let Some(login) = old {
                        login.tls.forget_sessions();
                        lock(&login.idle).clear();
                        eprintln!("srp-bridge: logged out of {device}");
                    }
                    let status = status_of(&device, self.port, State::LoggedOut);
                    self.set_status(&device, status.clone(), Some(None));
                    Reply::Logout { id, device: status }
                }
                Err(e) => bad_device(id, e),
            },
            control::Request::Login { device: text, user, password, .. } => {
                let device = match text.parse::<Device>() {
                    Ok(device) => device,
                    Err(e) => return bad_device(id, e),
                };
                let status = self.login(&device, user, password.0).await;
                Reply::Login { id, device: status }
            }
        }
    }

    async fn login(
        self: &Arc<Self>,
        device: &Device,
        user: String,
        password: Zeroizing<String>,
    ) -> DeviceStatus {
        // Whatever was there is replaced: a new login starts from nothing.
        if let Some(old) = lock(&self.devices).get_mut(device).and_then(|s| s.login.take()) {
            old.tls.forget_sessions();
        }
        let tls = match DeviceTls::new() {
            Ok(tls) => tls,
            Err(e) => {
                let mut status = status_of(device, self.port, State::Failed);
                status.message = Some(format!("could not set up TLS: {e}"));
                self.set_status(device, status.clone(), Some(None));
                return status;
            }
        };
        let login = Arc::new(Login {
            creds: Credentials { user: user.clone(), password },
            tls,
            idle: Mutex::new(Vec::new()),
        });
        let mut status = status_of(device, self.port, State::LoggedIn);
        status.user = Some(user.clone());
        match login.tls.connect(device, &login.creds).await {
            Ok(connected) => {
                status.group_bits = Some(connected.group_bits);
                if let Ok(sender) = http1(connected.stream).await {
                    lock(&login.idle).push(sender);
                }
                eprintln!(
                    "srp-bridge: logged in to {device} as {user} ({}-bit group)",
                    connected.group_bits
                );
                self.set_status(device, status.clone(), Some(Some(login)));
            }
            Err(failure) => {
                let (state, message) = failure.classify();
                eprintln!("srp-bridge: login to {device} as {user} failed: {message}");
                status.state = state;
                status.message = Some(message);
                // The credentials are dropped (and wiped) with `login`.
                self.set_status(device, status.clone(), Some(None));
            }
        }
        status
    }

    /// Serves the browser until the process ends.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("srp-bridge: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if !peer.ip().is_loopback() {
                continue;
            }
            let bridge = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let bridge = bridge.clone();
                    async move { Ok::<_, Infallible>(bridge.handle(req).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                // A browser that goes away is not an error worth a log line.
                conn.await.ok();
            });
        }
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let text = |name: HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
        let facts = RequestFacts {
            method: req.method().as_str(),
            absolute_uri: req.uri().authority().is_some(),
            host: text(header::HOST),
            token: req.headers().get(policy::TOKEN_HEADER).and_then(|v| v.to_str().ok()),
            sec_fetch_site: req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()),
            sec_fetch_mode: req.headers().get("sec-fetch-mode").and_then(|v| v.to_str().ok()),
            origin: text(header::ORIGIN),
        };
        let device = match policy::admit(&facts, self.port, &self.token) {
            Ok(device) => device,
            Err(refusal) => return page(refusal.status(), "Refused", &refusal.message()),
        };
        let login = {
            let mut devices = lock(&self.devices);
            if !devices.contains_key(&device) && devices.len() >= MAX_DEVICES {
                return page(
                    503,
                    "Too many devices",
                    "srp-bridge keeps at most 256 devices; restart the browser",
                );
            }
            let slot = devices.entry(device.clone()).or_default();
            match &slot.login {
                Some(login) => Some(login.clone()),
                None => {
                    let first = !slot.asked;
                    slot.asked = true;
                    let status = slot
                        .status
                        .clone()
                        .unwrap_or_else(|| status_of(&device, self.port, State::LoggedOut));
                    slot.status = Some(status.clone());
                    drop(devices);
                    if first {
                        self.send(Reply::NeedsLogin { device: status });
                    }
                    None
                }
            }
        };
        let Some(login) = login else {
            return page(
                401,
                "Log in to this device",
                &format!(
                    "srp-bridge has no login for {device}. Log in with the TLS-SRP extension, then reload."
                ),
            );
        };
        match self.forward(&device, &login, req).await {
            Ok(response) => response,
            Err(response) => response,
        }
    }

    async fn forward(
        &self,
        device: &Device,
        login: &Arc<Login>,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, Response<Body>> {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Err(page(
                    413,
                    "Request too large or broken",
                    "the request body could not be read whole (at most 64 MiB)",
                ));
            }
        };
        let mut headers = parts.headers.clone();
        strip_hop_by_hop(&mut headers);
        headers.remove(policy::TOKEN_HEADER);
        headers.remove(header::HOST);
        for name in [header::ORIGIN, header::REFERER] {
            if let Some(v) = headers.get(&name) {
                let moved = v.to_str().ok().and_then(|v| policy::to_device(v, device, self.port));
                match moved.and_then(|m| HeaderValue::from_str(&m).ok()) {
                    Some(new) => headers.insert(name, new),
                    None => headers.remove(name),
                };
            }
        }
        let host = HeaderValue::from_str(&device.http_host())
            .map_err(|_| page(500, "Error", "bad device host"))?;
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
        let build = || {
            let mut r = Request::builder().method(parts.method.clone()).uri(path.as_str());
            if let Some(h) = r.headers_mut() {
                h.clone_from(&headers);
                h.insert(header::HOST, host.clone());
            }
            r.body(Full::new(body.clone()))
        };

        // A reused connection the device closed meanwhile fails before any response: then the
        // request is sent once more on a new connection.
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let (mut sender, reused) = match take_idle(login) {
                Some(sender) => (sender, true),
                None => (self.open(device, login).await?, false),
            };
            let request = build()
                .map_err(|_| page(400, "Bad request", "the request could not be rebuilt"))?;
            match tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(request)).await {
                Ok(Ok(response)) => {
                    give_back(login, sender);
                    break response;
                }
                Ok(Err(e))
                    if reused
                        && attempt == 1
                        && (e.is_canceled() || e.is_incomplete_message() || e.is_closed()) =>
                {
                    continue;
                }
                Ok(Err(e)) => {
                    eprintln!("srp-bridge: {device}: the request failed: {e}");
                    return Err(page(
                        502,
                        "The device went away",
                        &format!("{device} closed the connection before answering ({e})"),
                    ));
                }
                Err(_) => {
                    return Err(page(
                        504,
                        "The device did not answer",
                        &format!("{device} did not answer in time"),
                    ));
                }
            }
        };
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        if let Some(v) = parts.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            let moved = policy::to_browser(v, device, self.port);
            if let Ok(new) = HeaderValue::from_str(&moved) {
                parts.headers.insert(header::LOCATION, new);
            }
        }
        Ok(Response::from_parts(parts, body.boxed()))
    }

    /// A new TLS-SRP connection for the login; a failure updates the device's state (a wrong
    /// password also forgets the credentials) and becomes the page the browser gets.
    async fn open(
        &self,
        device: &Device,
        login: &Arc<Login>,
    ) -> Result<SendRequest<Full<Bytes>>, Response<Body>> {
        match login.tls.connect(device, &login.creds).await {
            Ok(connected) => {
                if connected.resumed {
                    eprintln!("srp-bridge: {device}: new connection (resumed)");
                } else {
                    eprintln!(
                        "srp-bridge: {device}: new connection (full handshake, {}-bit group)",
                        connected.group_bits
                    );
                }
                http1(connected.stream).await.map_err(|e| {
                    page(502, "The device went away", &format!("HTTP with {device} failed: {e}"))
                })
            }
            Err(failure) => Err(self.failed(device, login, &failure)),
        }
    }

    fn failed(&self, device: &Device, login: &Arc<Login>, failure: &Failure) -> Response<Body> {
        let (state, message) = failure.classify();
        eprintln!("srp-bridge: {device}: {message}");
        let mut status = status_of(device, self.port, state);
        status.user = Some(login.creds.user.clone());
        status.message = Some(message.clone());
        // Credentials the device rejected, or that must not be offered to it again, go; for a
        // device that is away or answers oddly for now they stay, and the next request retries.
        let forget =
            matches!(state, State::WrongPassword | State::GroupTooSmall | State::HostileDevice);
        {
            let mut devices = lock(&self.devices);
            let slot = devices.entry(device.clone()).or_default();
            // Only if this login is still the current one (not replaced meanwhile).
            if slot.login.as_ref().is_some_and(|l| Arc::ptr_eq(l, login)) {
                if forget {
                    slot.login = None;
                    slot.asked = false;
                    login.tls.forget_sessions();
                }
                slot.status = Some(status.clone());
            }
        }
        self.send(Reply::DeviceState { device: status });
        // Without its login the device's pages need a new one: 401, as for a device never
        // logged in to, so the extension shows its login page (with this state) in the tab.
        if forget {
            return page(
                401,
                "Log in to this device again",
                &format!("{message}. Log in with the TLS-SRP extension, then reload."),
            );
        }
        let code = match state {
            State::Unreachable => 504,
            _ => 502,
        };
        page(code, "Could not reach the device over TLS-SRP", &message)
    }
}

fn bad_device(id: Option<serde_json::Value>, e: crate::address::AddressError) -> Reply {
    Reply::Error { id, error: "bad-device", message: e.to_string() }
}

fn take_idle(login: &Login) -> Option<SendRequest<Full<Bytes>>> {
    let mut idle = lock(&login.idle);
    while let Some(sender) = idle.pop() {
        if sender.is_ready() {
            return Some(sender);
        }
    }
    None
}

/// Puts the connection back in the pool once it can take a request again (when the response
/// body has been read to the end); a connection that closes meanwhile is dropped.
fn give_back(login: &Arc<Login>, mut sender: SendRequest<Full<Bytes>>) {
    let login = Arc::downgrade(login);
    tokio::spawn(async move {
        if sender.ready().await.is_ok() {
            if let Some(login) = login.upgrade() {
                let mut idle = lock(&login.idle);
                if idle.len() < MAX_IDLE {
                    idle.push(sender);
                }
            }
        }
    });
}

async fn http1(
    stream: tokio_boring::SslStream<tokio::net::TcpStream>,
) -> Result<SendRequest<Full<Bytes>>, hyper::Error> {
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        conn.await.ok();
    });
    Ok(sender)
}

/// Removes the headers that belong to one connection (RFC 9110, section 7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
    ] {
        headers.remove(name);
    }
}

/// One of the bridge's own pages: plain text, never cached.
fn page(status: u16, title: &str, text: &str) -> Response<Body> {
    let body = format!("srp-bridge: {title}\n\n{text}\n");
    let mut response =
        Response::new(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-srp-bridge", HeaderValue::from_static("page"));
    response
}
