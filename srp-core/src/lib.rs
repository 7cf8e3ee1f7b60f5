//! A constant-time SRP-6a core for TLS-SRP (RFC 5054): the protocol and its arithmetic, with no
//! file I/O and no C ABI. Browsers vendor this crate into their own Rust builds for the client;
//! `srp-verifier-files` adds verifier files and fake users, and `srp-ffi` the C face that patched
//! NSS and BoringSSL link.
//!
//! - [`Group`]: the seven RFC 5054 groups; [`Group::from_params`] admits a group received from
//!   the network only by exact match and at or above a floor ([`DEFAULT_MIN_BITS`]).
//! - [`client_exchange`]: from one ServerKeyExchange (group, salt, B) and the credentials, A and
//!   the premaster secret.
//! - [`Server`]: B from a [`Verifier`] before A is known, then the premaster secret from A.
//! - [`VerifierRecord`]: what a server stores for one user (salt and verifier).
//!
//! Every [`Error`] names the TLS alert it becomes.

#![deny(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
pub mod arith;
pub mod ct;
mod error;
mod group;
mod srp;

pub use error::{Alert, Error};
pub use group::{DEFAULT_MIN_BITS, Group, GroupId, MAX_N_LEN};
pub use srp::{
    ClientExchange, DEFAULT_SALT_LEN, PRIVATE_KEY_LEN, PremasterSecret, Salt, Server, Username,
    Verifier, VerifierRecord, client_exchange, client_exchange_with_private_key, compute_u_bytes,
    compute_x,
};
