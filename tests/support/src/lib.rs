//! Helpers shared by the tests and benchmarks of the workspace's crates (a dev-dependency only,
//! never published):
//!
//! - [`alloc`]: a global allocator for tests that finds secrets left unwiped in freed memory
//!   and counts allocations (the wiping and equal-work tests).
//! - [`openssl`]: OpenSSL libcrypto's SRP and BIGNUM functions (srp-core's cross-check test and
//!   benchmark compare with them).
//! - [`tools`]: temporary directories ([`temp_dir!`]) and the real `openssl srp`, `srptool` and
//!   libcrypto's `SRP_VBASE`, which the verifier-file, C-program and CLI tests compare with.

pub mod alloc;
pub mod openssl;
pub mod tools;
