//! The interop cases: who takes part (the implementations, the groups each knows), what each
//! pair runs (`cases`), and the exact outcome each failing case must show (`alert`,
//! `expected_error`). Add a case in `cases`; `judge` and `report` need no change for a case
//! of an existing kind.

/// An implementation taking part in a pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Impl {
    Nss,
    Boringssl,
    Openssl,
    Gnutls,
}

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Impl::Nss => "NSS",
            Impl::Boringssl => "BoringSSL",
            Impl::Openssl => "OpenSSL",
            Impl::Gnutls => "GnuTLS",
        }
    }

    /// Whether this is one of the libraries this project patches.
    pub fn patched(self) -> bool {
        matches!(self, Impl::Nss | Impl::Boringssl)
    }

    /// The RFC 5054 groups the implementation can use, as a client and as a server with the
    /// verifier files made here. GnuTLS knows no 6144-bit group, and `srptool --create-conf`
    /// writes no 1024-bit one for `gnutls-serv`.
    pub fn groups(self, server: bool) -> &'static [u32] {
        match (self, server) {
            (Impl::Gnutls, false) => &[1024, 1536, 2048, 3072, 4096, 8192],
            (Impl::Gnutls, true) => &[1536, 2048, 3072, 4096, 8192],
            _ => &GROUPS,
        }
    }

    /// Whether unknown users get a fake record (RFC 5054 section 2.5.1.3) rather than
    /// `unknown_psk_identity`. The OpenSSL peer uses OpenSSL's plain `SRP_VBASE` lookup.
    pub fn fakes_users(self) -> bool {
        self != Impl::Openssl
    }
}

/// Every RFC 5054 group.
pub use crate::GROUPS;

/// The `srptool --create-conf` index of each group it writes.
pub const GNUTLS_INDEX: [(u32, u32); 5] = [(1536, 2), (2048, 3), (3072, 4), (4096, 5), (8192, 7)];

pub fn user(bits: u32) -> String {
    format!("srp{bits}")
}

pub fn password(bits: u32) -> String {
    format!("password-{bits}")
}

/// A user with a non-ASCII name and password, in the 2048-bit group of both verifier files.
/// Both are UTF-8 in NFC: the verifiers are made from these bytes by `openssl srp` (which uses
/// them as given) and `srptool` (which normalizes them to NFC, leaving them unchanged).
pub const UTF8_USER: &str = "j\u{fc}rgen";
/// "pässwörd-ÅΩ" in NFC: ä, ö and Å are single code points, which NFD decomposes.
pub const UTF8_PASSWORD_NFC: &str = "p\u{e4}ssw\u{f6}rd-\u{c5}\u{3a9}";
/// The same password in NFD (a base letter and a combining mark for ä, ö and Å), as a system that
/// decomposes its input might send it: 18 bytes instead of 15.
pub const UTF8_PASSWORD_NFD: &str = "pa\u{308}sswo\u{308}rd-A\u{30a}\u{3a9}";

/// Whether a client prepares the password it is given (RFC 8265 OpaqueString: NFC, non-ASCII
/// spaces mapped to U+0020) before it computes x. GnuTLS does (`_gnutls_calc_srp_x`, which calls
/// `gnutls_utf8_password_normalize` and falls back to the bytes as given for input that is not
/// UTF-8 or holds characters OpaqueString refuses); OpenSSL and the patched libraries use the
/// bytes as given.
pub fn normalizes_passwords(client: Impl) -> bool {
    client == Impl::Gnutls
}

/// What a case is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Ok,
    WrongPassword,
    UnknownUser,
    MissingUsername,
    /// The server's group is below the client's floor (2048 bits by default).
    ClientFloor,
    /// The server's own record is below the server's floor.
    ServerFloor,
}

pub struct Case {
    pub name: String,
    pub kind: Kind,
    /// Client credentials; `None` offers SRP without a username.
    pub creds: Option<(String, String)>,
    pub cipher: &'static str,
    pub group: u32,
    pub client_min_group: Option<u32>,
    pub server_min_group: Option<u32>,
    /// The server gets an RSA certificate (needed for 0xC01E and 0xC021).
    pub rsa: bool,
    /// The server reads the GnuTLS verifier file instead of the OpenSSL one.
    pub gnutls_file: bool,
    pub handshakes: u32,
    /// A browser-like client: TLS 1.3 and 1.2 enabled (`--max-version 1.3`); a patched server
    /// gets TLS 1.3 enabled too. SRP is TLS 1.2 only, so the handshake must still end in TLS 1.2
    /// SRP with the outcome of the plain case.
    pub tls13: bool,
    /// The client offers the previous session on every handshake after the first (`--resume`):
    /// the first `ok` line says `resumed=no`, every later one `resumed=yes`.
    pub resume: bool,
}

impl Case {
    /// The username the client sends (for a case without credentials, that of its group).
    pub fn user(&self) -> String {
        self.creds.as_ref().map_or_else(|| user(self.group), |(name, _)| name.clone())
    }
}

/// The cases for one pair.
pub fn cases(client: Impl, server: Impl, n: u32) -> Vec<Case> {
    let base = |name: String, kind, bits: u32| Case {
        name,
        kind,
        creds: Some((user(bits), password(bits))),
        cipher: "0xC01D",
        group: bits,
        client_min_group: None,
        server_min_group: None,
        rsa: false,
        gnutls_file: server == Impl::Gnutls,
        handshakes: 1,
        tls13: false,
        resume: false,
    };
    // Non-ASCII credentials: a user with a non-ASCII name and password (NFC, as PRECIS's
    // OpaqueString prepares a password) logs in everywhere. The same password in NFD logs in
    // only from a client that normalizes it (GnuTLS); the others hash other bytes and get the
    // wrong-password outcome. OpenSSL and GnuTLS run these cases against each other too: they
    // are the pairs that decide what interoperates.
    let mut utf8 = Vec::new();
    let mut nfc =
        base("non-ASCII username and password (NFC), 2048-bit group".into(), Kind::Ok, 2048);
    nfc.creds = Some((UTF8_USER.into(), UTF8_PASSWORD_NFC.into()));
    nfc.handshakes = n.min(3);
    utf8.push(nfc);
    let nfd_kind = if normalizes_passwords(client) { Kind::Ok } else { Kind::WrongPassword };
    let mut nfd = base("non-ASCII password in NFD, verifier from NFC".into(), nfd_kind, 2048);
    nfd.creds = Some((UTF8_USER.into(), UTF8_PASSWORD_NFD.into()));
    nfd.handshakes = if nfd_kind == Kind::Ok { n.min(3) } else { 1 };
    utf8.push(nfd);
    if !client.patched() && !server.patched() {
        return utf8;
    }
    let mut cases = Vec::new();
    // Every group both sides know, with the first SRP-SHA suite. Groups below 2048 bits need
    // both floors lowered.
    for &bits in client.groups(false) {
        if !server.groups(true).contains(&bits) {
            continue;
        }
        let mut case = base(format!("{bits}-bit group, 0xC01D"), Kind::Ok, bits);
        case.handshakes = match bits {
            0..=2048 => n,
            2049..=4096 => n.div_ceil(2),
            _ => n.div_ceil(10),
        };
        if bits < 2048 {
            case.name += " (both floors at 1024)";
            case.client_min_group = Some(1024);
            case.server_min_group = Some(1024);
        }
        cases.push(case);
    }
    // Every suite in the 2048-bit group. The SRP-RSA suites need a server certificate; the test
    // clients do not verify it (SRP authenticates the server; `gnutls-cli --insecure`).
    for (cipher, handshakes) in
        [("0xC020", n), ("0xC01E", n.div_ceil(2)), ("0xC021", n.div_ceil(2))]
    {
        let mut case = base(format!("2048-bit group, {cipher}"), Kind::Ok, 2048);
        case.cipher = cipher;
        case.rsa = cipher != "0xC020";
        case.handshakes = handshakes;
        cases.push(case);
    }
    // The peer servers read GnuTLS's tpasswd files too.
    if matches!(server, Impl::Nss | Impl::Boringssl) {
        let mut case = base("2048-bit group, GnuTLS verifier file".into(), Kind::Ok, 2048);
        case.gnutls_file = true;
        case.handshakes = n.div_ceil(10);
        cases.push(case);
    }
    let mut wrong = base("wrong password".into(), Kind::WrongPassword, 2048);
    wrong.creds = Some((user(2048), "not-the-password".into()));
    cases.push(wrong);
    let mut unknown = base("unknown user".into(), Kind::UnknownUser, 2048);
    unknown.creds = Some(("mallory".into(), "guess".into()));
    // A server that fakes unknown users draws each fake record's group from the groups of its
    // file's real users, the 1024- and 1536-bit ones among them (a group the server's floor
    // refuses is refused for a fake user as for a real one). With both floors at 1024 bits every
    // draw carries on to the wrong-password outcome, whatever the server's random seed.
    if server.fakes_users() {
        unknown.name += " (both floors at 1024)";
        unknown.client_min_group = Some(1024);
        unknown.server_min_group = Some(1024);
        // gnutls-cli knows no 6144-bit group and ends the handshake when a fake user draws it,
        // as it would for a real user in that group: against a peer server it gets the
        // GnuTLS file, which holds only groups gnutls-cli knows.
        if client == Impl::Gnutls {
            unknown.gnutls_file = true;
        }
    }
    cases.push(unknown);
    // Only the patched clients can offer SRP without a username: OpenSSL and GnuTLS clients
    // drop the SRP suites when they have no credentials.
    if matches!(client, Impl::Nss | Impl::Boringssl) {
        let mut missing = base("missing username".into(), Kind::MissingUsername, 2048);
        missing.creds = None;
        cases.push(missing);
    }
    // The server offers the 1536-bit group; the client's floor is 2048 bits (the patched
    // clients' default; the OpenSSL peer gets `--min-group 2048`, as OpenSSL's default is 1024).
    if client != Impl::Gnutls {
        let mut floor =
            base("1536-bit group below the client's floor".into(), Kind::ClientFloor, 1536);
        floor.server_min_group = Some(1024);
        if client == Impl::Openssl {
            floor.client_min_group = Some(2048);
        }
        cases.push(floor);
    }
    // Browser-like clients (TLS 1.3 and 1.2) reach every SRP-only server over TLS 1.2 SRP, with
    // the outcome of a TLS 1.2 client for the right password, a wrong one and none.
    if matches!(client, Impl::Nss | Impl::Boringssl) {
        let mut ok = base("TLS 1.3 client, 2048-bit group, 0xC01D".into(), Kind::Ok, 2048);
        ok.handshakes = n.div_ceil(10);
        let mut wrong = base("TLS 1.3 client, wrong password".into(), Kind::WrongPassword, 2048);
        wrong.creds = Some((user(2048), "not-the-password".into()));
        let mut missing =
            base("TLS 1.3 client, missing username".into(), Kind::MissingUsername, 2048);
        missing.creds = None;
        for mut case in [ok, wrong, missing] {
            case.tls13 = true;
            cases.push(case);
        }
        // A patched server with a certificate and a verifier, TLS 1.3 enabled: a ClientHello
        // with a username gets TLS 1.2 SRP, not TLS 1.3 with the certificate.
        if matches!(server, Impl::Nss | Impl::Boringssl) {
            let mut both = base(
                "TLS 1.3 client, certificate and verifier server, 0xC01E".into(),
                Kind::Ok,
                2048,
            );
            both.cipher = "0xC01E";
            both.rsa = true;
            both.tls13 = true;
            both.handshakes = n.div_ceil(10);
            cases.push(both);
        }
    }
    // Resumption: the patched clients offer the previous session, which the server resumes for
    // the same user.
    if matches!(client, Impl::Nss | Impl::Boringssl) {
        let mut case = base("resumption, 2048-bit group, 0xC01D".into(), Kind::Ok, 2048);
        case.resume = true;
        case.handshakes = 3;
        cases.push(case);
    }
    // The server's own record is in a group below the server's floor (default 2048 bits).
    if matches!(server, Impl::Nss | Impl::Boringssl) {
        let mut floor =
            base("1536-bit record below the server's floor".into(), Kind::ServerFloor, 1536);
        floor.client_min_group = Some(1024);
        cases.push(floor);
    }
    cases.extend(utf8);
    cases
}

/// The alert that ends a failing handshake (sent by the server, except for the client's floor).
pub fn alert(server: Impl, kind: Kind) -> &'static str {
    match kind {
        Kind::Ok => unreachable!("a successful case has no alert"),
        Kind::WrongPassword => "bad_record_mac",
        Kind::UnknownUser if server.fakes_users() => "bad_record_mac",
        Kind::UnknownUser | Kind::MissingUsername => "unknown_psk_identity",
        Kind::ClientFloor | Kind::ServerFloor => "insufficient_security",
    }
}

/// The exact line a failing client prints, or for GnuTLS a text its output must contain.
pub fn expected_error(client: Impl, server: Impl, kind: Kind) -> String {
    let alert = alert(server, kind);
    let name = match (client, alert) {
        (Impl::Nss, "bad_record_mac") => "SSL_ERROR_SRP_BAD_PASSWORD",
        (Impl::Nss, "unknown_psk_identity") => "SSL_ERROR_SRP_CREDENTIALS_REQUIRED",
        (Impl::Nss, _) if kind == Kind::ClientFloor => "SSL_ERROR_SRP_GROUP_TOO_SMALL",
        (Impl::Nss, _) => "SSL_ERROR_INSUFFICIENT_SECURITY_ALERT",
        (Impl::Boringssl, "bad_record_mac") => "SRP_WRONG_PASSWORD",
        (Impl::Boringssl, "unknown_psk_identity") if kind == Kind::MissingUsername => {
            "SRP_CREDENTIALS_REQUIRED"
        }
        (Impl::Boringssl, "unknown_psk_identity") => "SRP_UNKNOWN_USER",
        (Impl::Boringssl, _) if kind == Kind::ClientFloor => "SRP_GROUP_TOO_SMALL",
        (Impl::Boringssl, _) => "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        (Impl::Openssl, "bad_record_mac") => "sslv3 alert bad record mac",
        (Impl::Openssl, "unknown_psk_identity") => "tlsv1 alert unknown psk identity",
        (Impl::Openssl, _) if kind == Kind::ClientFloor => "insufficient security",
        (Impl::Openssl, _) => "tlsv1 alert insufficient security",
        (Impl::Gnutls, "bad_record_mac") => return "Received alert [20]".into(),
        (Impl::Gnutls, "unknown_psk_identity") => return "Received alert [115]".into(),
        (Impl::Gnutls, _) => return "Received alert [71]".into(),
    };
    format!("error: {name} alert={alert}")
}
