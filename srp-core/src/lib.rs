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
//! - [`secret_hash`]: SHA-1 and HMAC-SHA1 for secret input, wiped on drop.
//!
//! Every [`Error`] names the TLS alert it becomes.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod arith;
pub mod ct;
mod error;
mod group;
pub mod secret_hash;
mod srp;

/// Choosing the exponentiation backend instead of the CPU's choice: only with the
/// `backend-select` cargo feature, for the project's own tests (every known answer and
/// cross-check on every backend), benchmark and constant-time harness. Not for vendors: a build
/// without the feature always uses the fastest backend its CPU runs, and has no process-wide
/// override.
#[cfg(feature = "backend-select")]
pub mod backend {
    pub use crate::arith::{
        Backend, backend, set_process_backend, with_backend, with_backend_unchecked,
    };
    #[cfg(feature = "ct-planted")]
    pub use crate::arith::{Plant, plant};

    /// `out = base^exp` for the low `bits` bits of `exp` (little-endian words), `base` and
    /// `out` in Montgomery form (little-endian, N's number of words, below N), on the current
    /// thread's backend; with `fixed`, `g^exp` from the group's fixed-base table instead (`base`
    /// unused). The exponentiation alone, for the constant-time harness's traces.
    pub fn pow_for_check(
        group: &crate::Group,
        base: &[u64],
        exp: &[u64],
        bits: u32,
        fixed: bool,
        out: &mut [u64],
    ) {
        group.pow_words(base, exp, bits, fixed, out)
    }
}

/// The exponentiation backend this build and CPU use: `"ifma"` (AVX-512 IFMA, x86_64 with
/// AVX512F and AVX512IFMA, the `ifma` feature, Rust 1.89 or later), `"adx"` (MULX/ADCX/ADOX,
/// x86_64 with BMI2 and ADX, the `adx` feature) or `"portable"`.
pub use arith::backend_name;
pub use error::{Alert, Error};
pub use group::{DEFAULT_MIN_BITS, Group, GroupId, MAX_N_LEN};
pub use srp::{
    ClientExchange, DEFAULT_SALT_LEN, FakeVerifierSource, PRIVATE_KEY_LEN, PremasterSecret, Salt,
    Server, Username, Verifier, VerifierRecord, client_exchange, client_exchange_with_private_key,
    compute_u_bytes, compute_x,
};
