//! Helpers shared by the tests and benchmarks of the workspace's crates (a dev-dependency only,
//! never published):
//!
//! - [`openssl`]: OpenSSL libcrypto's SRP and BIGNUM functions (srp-core's cross-check test and
//!   benchmark compare with them).
//! - [`tools`]: temporary directories ([`temp_dir!`]) and the real `openssl srp`, `srptool` and
//!   libcrypto's `SRP_VBASE`, which the verifier-file, C-program and CLI tests compare with.

pub mod openssl;
pub mod tools;
