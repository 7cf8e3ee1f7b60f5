//! Connections to devices over TLS-SRP with the patched BoringSSL.
//!
//! Everything but SRP goes through `boring` and `tokio-boring`. The only hand-written unsafe
//! code is [`srp`]: the TLS-SRP calls `boring` does not wrap (declared by boring-sys from the
//! patched headers) and the one `boring` call that is unsafe by design, offering a saved
//! session.
//!
//! Each login gets its own [`SslConnector`]: TLS 1.2 only, the TLS-SRP suites without a
//! certificate (`aSRP`: nothing to verify, the password authenticates the device), and
//! `SSL_set_srp_required` on every connection, so a device without SRP cannot answer with a
//! certificate instead. The floor is the library's default, 2048 bits. The last session is
//! kept and offered by the next connection (TLS 1.2 session ticket resumption: no SRP
//! arithmetic on either side).

use std::ffi::CString;
use std::sync::Mutex;
use std::time::Duration;

use boring::ssl::{SslConnector, SslMethod, SslSession, SslVerifyMode, SslVersion};
use tokio::net::TcpStream;
use tokio_boring::SslStream;
use zeroize::Zeroizing;

use crate::address::Device;
use crate::failure::Failure;

/// How long TCP may take to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the TLS-SRP handshake may take once connected (an 8192-bit group takes a while on
/// a small device).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A username and password, the password wiped when dropped.
pub struct Credentials {
    pub user: String,
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// One login's TLS state: the connector and the session to resume.
pub struct DeviceTls {
    connector: SslConnector,
    session: Mutex<Option<SslSession>>,
}

/// What a completed handshake reports.
pub struct Connected {
    pub stream: SslStream<TcpStream>,
    /// The group of the full handshake this session comes from.
    pub group_bits: u32,
    pub resumed: bool,
}

mod srp {
    //! The TLS-SRP calls (`SSL_set_srp_*` and friends, patch 0004 and 0015 of
    //! boringssl-patches) on a `boring` connection, and offering a session.

    use std::ffi::CStr;

    use boring::ssl::{SslContextRef, SslRef, SslSessionRef};
    use foreign_types::ForeignTypeRef;

    /// Gives the connection its username and password and requires SRP. BoringSSL copies both
    /// strings (and wipes its copies when the connection is freed or
    /// `SSL_clear_srp_credentials` runs).
    pub fn set_credentials(ssl: &mut SslRef, user: &CStr, password: &CStr) -> bool {
        // SAFETY: `ssl` is a live SSL; the strings are NUL-terminated and only read during the
        // calls.
        unsafe {
            boring_sys::SSL_set_srp_username(ssl.as_ptr(), user.as_ptr()) == 1
                && boring_sys::SSL_set_srp_password(ssl.as_ptr(), password.as_ptr()) == 1
                && boring_sys::SSL_set_srp_required(ssl.as_ptr(), 1) == 1
        }
    }

    /// Whether the completed handshake authenticated the device with SRP.
    pub fn is_authenticated(ssl: &SslRef) -> bool {
        // SAFETY: `ssl` is a live SSL.
        unsafe { boring_sys::SSL_is_srp_authenticated(ssl.as_ptr()) == 1 }
    }

    /// The SRP group, in bits, of the session's full handshake.
    pub fn group_bits(ssl: &SslRef) -> u32 {
        // SAFETY: `ssl` is a live SSL.
        unsafe { boring_sys::SSL_get_srp_group_bits(ssl.as_ptr()) }
    }

    /// Wipes the connection's copy of the credentials once the handshake is done.
    pub fn clear_credentials(ssl: &mut SslRef) {
        // SAFETY: `ssl` is a live SSL.
        unsafe { boring_sys::SSL_clear_srp_credentials(ssl.as_ptr()) }
    }

    /// Drops every SRP session from the context's internal cache (logout).
    pub fn flush_sessions(ctx: &SslContextRef) {
        // SAFETY: `ctx` is a live SSL_CTX; NULL means every user.
        unsafe { boring_sys::SSL_CTX_flush_srp_sessions(ctx.as_ptr(), std::ptr::null()) }
    }

    /// Offers a saved session. `boring` marks this unsafe because the session must come from
    /// a context compatible with the connection's: it does, every session offered here came
    /// from a connection of the same connector.
    pub fn offer_session(ssl: &mut SslRef, session: &SslSessionRef) -> bool {
        // SAFETY: see above.
        unsafe { ssl.set_session(session).is_ok() }
    }
}

impl DeviceTls {
    pub fn new() -> Result<DeviceTls, boring::error::ErrorStack> {
        let mut builder = SslConnector::builder(SslMethod::tls())?;
        builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        builder.set_max_proto_version(Some(SslVersion::TLS1_2))?;
        builder.set_cipher_list("aSRP")?;
        // No certificate is involved: SRP authenticates the device.
        builder.set_verify(SslVerifyMode::NONE);
        Ok(DeviceTls { connector: builder.build(), session: Mutex::new(None) })
    }

    /// Connects to the device and completes a TLS-SRP handshake with `creds`.
    pub async fn connect(
        &self,
        device: &Device,
        creds: &Credentials,
    ) -> Result<Connected, Failure> {
        let user = CString::new(creds.user.as_bytes()).map_err(|_| Failure::BadCredentials)?;
        let password = Zeroizing::new(creds.password.as_bytes().to_vec());
        if password.contains(&0) || creds.user.is_empty() || creds.user.len() > 255 {
            return Err(Failure::BadCredentials);
        }
        let mut cpassword = Zeroizing::new(Vec::with_capacity(password.len() + 1));
        cpassword.extend_from_slice(&password);
        cpassword.push(0);
        let cpassword =
            std::ffi::CStr::from_bytes_with_nul(&cpassword).map_err(|_| Failure::BadCredentials)?;

        let addr = (device.connect_host(), device.port);
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Err(_) => return Err(Failure::Connect(std::io::ErrorKind::TimedOut)),
            Ok(Err(e)) => return Err(Failure::Connect(e.kind())),
            Ok(Ok(tcp)) => tcp,
        };
        tcp.set_nodelay(true).ok();

        let mut config = self
            .connector
            .configure()
            .map_err(|e| Failure::Handshake { reasons: reasons(&e), io: None })?;
        config.set_verify_hostname(false);
        config.set_use_server_name_indication(device.sni().is_some());
        if !srp::set_credentials(&mut config, &user, cpassword) {
            return Err(Failure::BadCredentials);
        }
        let offered = self.session.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(session) = &offered {
            srp::offer_session(&mut config, session);
        }
        let domain = device.sni().unwrap_or("");
        let handshake = tokio_boring::connect(config, domain, tcp);
        let mut stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Err(_) => return Err(Failure::HandshakeTimeout),
            Ok(Err(e)) => return Err(handshake_failure(&e)),
            Ok(Ok(stream)) => stream,
        };
        if !srp::is_authenticated(stream.ssl()) {
            return Err(Failure::NotSrpAuthenticated);
        }
        let group_bits = srp::group_bits(stream.ssl());
        let resumed = stream.ssl().session_reused();
        if let Some(session) = stream.ssl().session() {
            *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.to_owned());
        }
        srp::clear_credentials(stream.ssl_mut());
        Ok(Connected { stream, group_bits, resumed })
    }

    /// Forgets the saved session and flushes the context's SRP sessions (logout).
    pub fn forget_sessions(&self) {
        self.session.lock().unwrap_or_else(|p| p.into_inner()).take();
        srp::flush_sessions(self.connector.context());
    }
}

/// The reason names of an error stack, oldest first.
fn reasons(stack: &boring::error::ErrorStack) -> Vec<String> {
    stack.errors().iter().filter_map(|e| e.reason().map(str::to_owned)).collect()
}

fn handshake_failure(e: &tokio_boring::HandshakeError<TcpStream>) -> Failure {
    use std::error::Error as _;
    let mut reasons_found = Vec::new();
    let mut io = e.as_io_error().map(|e| e.kind());
    let mut source = e.source();
    // The chain holds the same error stack more than once (the SSL error and its source):
    // the first one found is the one.
    while let Some(s) = source {
        if let Some(ssl) = s.downcast_ref::<boring::ssl::Error>() {
            if io.is_none() {
                io = ssl.io_error().map(|e| e.kind());
            }
            if let Some(stack) = ssl.ssl_error() {
                reasons_found = reasons(stack);
                break;
            }
        } else if let Some(stack) = s.downcast_ref::<boring::error::ErrorStack>() {
            reasons_found = reasons(stack);
            break;
        }
        source = s.source();
    }
    // A clean close during the handshake has neither an error stack nor an I/O error.
    if reasons_found.is_empty() && io.is_none() && e.code() == Some(boring::ssl::ErrorCode::SYSCALL)
    {
        io = Some(std::io::ErrorKind::UnexpectedEof);
    }
    Failure::Handshake { reasons: reasons_found, io }
}
