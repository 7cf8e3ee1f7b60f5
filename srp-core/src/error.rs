//! Errors, each naming the TLS alert it becomes.

use core::fmt;

/// A TLS alert description (RFC 5246 section 7.2, RFC 4279 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Alert {
    /// `handshake_failure` (40).
    HandshakeFailure = 40,
    /// `illegal_parameter` (47).
    IllegalParameter = 47,
    /// `decode_error` (50).
    DecodeError = 50,
    /// `insufficient_security` (71).
    InsufficientSecurity = 71,
    /// `internal_error` (80).
    InternalError = 80,
    /// `unknown_psk_identity` (115), which RFC 5054 section 2.9 reuses for unknown SRP users.
    UnknownPskIdentity = 115,
}

impl Alert {
    /// The alert's name as the TLS specifications spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HandshakeFailure => "handshake_failure",
            Self::IllegalParameter => "illegal_parameter",
            Self::DecodeError => "decode_error",
            Self::InsufficientSecurity => "insufficient_security",
            Self::InternalError => "internal_error",
            Self::UnknownPskIdentity => "unknown_psk_identity",
        }
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong in the SRP core.
///
/// Each variant maps to the TLS alert a TLS stack sends when it aborts the handshake for that
/// reason ([`Error::alert`]).
///
/// Deliberately not `#[non_exhaustive]`: the C face (`srp-ffi`) gives every variant a result
/// code of its own with an exhaustive `match`, so a new variant does not compile until it has
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The (N, g) pair is not one of the RFC 5054 Appendix A groups (RFC 5054 section 2.5.3:
    /// `insufficient_security`).
    UnknownGroup,
    /// The group is a known one, but smaller than the floor the caller set
    /// (`insufficient_security`).
    GroupTooSmall {
        /// Size of the offered group in bits.
        bits: u32,
        /// The smallest size the caller accepts.
        min_bits: u32,
    },
    /// A public value (A or B) is 0 modulo N: accepting it would make the premaster secret
    /// predictable without the password (RFC 5054 section 2.5.3 and 2.5.4: `illegal_parameter`).
    PublicValueZeroModN,
    /// A public value (A or B) is not below N (`illegal_parameter`).
    PublicValueOutOfRange,
    /// A value has more bytes than N (`illegal_parameter`).
    ValueTooLong,
    /// The scrambling parameter u = SHA1(PAD(A) | PAD(B)) is zero (`illegal_parameter`).
    ZeroScrambler,
    /// The shared secret S is 0: the peer's public value was made for it. On the client this
    /// is B = k*v (mod N), which a server that knows the verifier can send; the premaster
    /// secret would be empty and the session keys computable by anyone who saw the handshake.
    /// `illegal_parameter`, as for B = 0 (RFC 5054 section 2.5.4): the ServerKeyExchange
    /// parameter B is what is wrong.
    ZeroSharedSecret,
    /// The username is empty; TLS encodes it as `opaque srp_I<1..2^8-1>` (`decode_error`).
    EmptyUsername,
    /// The username is longer than 255 bytes (`decode_error`).
    UsernameTooLong,
    /// The username contains a NUL byte (`illegal_parameter`).
    UsernameContainsNul,
    /// The salt is empty or longer than 255 bytes; TLS encodes it as `opaque s<1..2^8-1>`
    /// (`decode_error`).
    InvalidSaltLength,
    /// A verifier is 0 or not below N: the verifier record is corrupt (`internal_error`).
    InvalidVerifier,
    /// A private exponent given for a known-answer test is empty or longer than 32 bytes
    /// (`internal_error`).
    InvalidPrivateKey,
    /// The fake-user seed is shorter than 16 bytes (`internal_error`).
    SeedTooShort,
    /// The server has no verifier for this username and does not simulate one
    /// (RFC 5054 section 2.5.1.3: `unknown_psk_identity`).
    UnknownUser,
    /// The operating system's random number generator failed (`internal_error`).
    Rng,
}

impl Error {
    /// The TLS alert this error becomes.
    pub const fn alert(self) -> Alert {
        match self {
            Self::UnknownGroup | Self::GroupTooSmall { .. } => Alert::InsufficientSecurity,
            Self::PublicValueZeroModN
            | Self::PublicValueOutOfRange
            | Self::ValueTooLong
            | Self::ZeroScrambler
            | Self::ZeroSharedSecret
            | Self::UsernameContainsNul => Alert::IllegalParameter,
            Self::EmptyUsername | Self::UsernameTooLong | Self::InvalidSaltLength => {
                Alert::DecodeError
            }
            Self::UnknownUser => Alert::UnknownPskIdentity,
            Self::InvalidVerifier | Self::InvalidPrivateKey | Self::SeedTooShort | Self::Rng => {
                Alert::InternalError
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownGroup => f.write_str("SRP group is not one of the RFC 5054 groups"),
            Self::GroupTooSmall { bits, min_bits } => {
                write!(f, "SRP group of {bits} bits is below the minimum of {min_bits} bits")
            }
            Self::PublicValueZeroModN => f.write_str("SRP public value is 0 modulo N"),
            Self::PublicValueOutOfRange => f.write_str("SRP public value is not below N"),
            Self::ValueTooLong => f.write_str("SRP value is longer than N"),
            Self::ZeroScrambler => f.write_str("SRP scrambling parameter u is 0"),
            Self::ZeroSharedSecret => {
                f.write_str("SRP shared secret S is 0 (the peer's public value forces it)")
            }
            Self::EmptyUsername => f.write_str("SRP username is empty"),
            Self::UsernameTooLong => f.write_str("SRP username is longer than 255 bytes"),
            Self::UsernameContainsNul => f.write_str("SRP username contains a NUL byte"),
            Self::InvalidSaltLength => f.write_str("SRP salt must be 1 to 255 bytes long"),
            Self::InvalidVerifier => f.write_str("SRP verifier is 0 or not below N"),
            Self::InvalidPrivateKey => f.write_str("SRP private exponent must be 1 to 32 bytes"),
            Self::SeedTooShort => f.write_str("fake-user seed must be at least 16 bytes"),
            Self::UnknownUser => f.write_str("unknown SRP user"),
            Self::Rng => f.write_str("the system random number generator failed"),
        }?;
        write!(f, " ({})", self.alert())
    }
}

impl std::error::Error for Error {}
