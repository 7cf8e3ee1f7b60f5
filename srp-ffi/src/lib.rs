//! A constant-time SRP-6a core for TLS-SRP (RFC 5054), with a C face for NSS and BoringSSL.
//!
//! The Rust API:
//! - [`Group`]: the seven RFC 5054 groups; [`Group::from_params`] admits a group received from
//!   the network only by exact match and at or above a floor ([`DEFAULT_MIN_BITS`]).
//! - [`client_exchange`]: from one ServerKeyExchange (group, salt, B) and the credentials, A and
//!   the premaster secret.
//! - [`Server`]: B from a [`Verifier`] before A is known, then the premaster secret from A.
//! - [`FakeUsers`]: stable simulated records for unknown usernames.
//! - [`vfile`]: OpenSSL `srpvfile` and GnuTLS `tpasswd` verifier files.
//!
//! Every [`Error`] names the TLS alert it becomes. The C face lives in [`ffi`] and
//! `include/srp_ffi.h`.

#![deny(unsafe_code)]
#![warn(missing_docs)]

// The exponentiation backend is Rust-only: nothing in it belongs in the C header.
/// cbindgen:ignore
#[doc(hidden)]
pub mod arith;
pub mod ct;
mod error;
mod fake;
pub mod ffi;
mod group;
mod srp;
pub mod vfile;

pub use error::{Alert, Error};
pub use fake::{FakeUsers, MIN_SEED_LEN};
pub use group::{DEFAULT_MIN_BITS, Group, GroupId, MAX_N_LEN};
pub use srp::{
    ClientExchange, DEFAULT_SALT_LEN, PRIVATE_KEY_LEN, PremasterSecret, Salt, Server, Username,
    Verifier, VerifierRecord, client_exchange, client_exchange_with_private_key, compute_u_bytes,
    compute_x,
};
