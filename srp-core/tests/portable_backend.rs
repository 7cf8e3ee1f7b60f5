//! The RFC 5054 vectors, the client/server properties and the OpenSSL cross-check again, with
//! every exponentiation on the portable backend (`srp_core::backend::Backend::Portable`, with the `backend-select` feature).
//!
//! The other test binaries run on the backend the CPU selects (`Backend::detected()`: `ifma` on
//! an x86_64 CPU with AVX-512 IFMA, else `adx` with BMI2 and ADX, else `portable`), and
//! `adx_backend.rs` on `adx`, so together they run the same tests on every backend this machine
//! supports. `arith`'s unit tests compare each backend's multiplication,
//! squaring and exponentiations with crypto-bigint.

#[path = "openssl_crosscheck.rs"]
mod openssl_crosscheck;
#[path = "properties.rs"]
mod properties;
#[path = "rfc5054_vectors.rs"]
mod rfc5054_vectors;

use srp_core::backend::{Backend, backend, set_process_backend};

/// Switches the process to the portable backend before the test harness starts any thread: an
/// ELF `.init_array` entry, the mechanism of the `ctor` crate (no environment variable, no
/// change to the included tests).
#[used]
#[unsafe(link_section = ".init_array")]
static USE_PORTABLE: extern "C" fn() = use_portable;

extern "C" fn use_portable() {
    // The portable backend runs on every CPU: this cannot fail (checked by the test below).
    set_process_backend(Backend::Portable);
}

#[test]
fn every_test_here_runs_on_the_portable_backend() {
    assert_eq!(backend(), Backend::Portable, "the .init_array entry did not run");
    // Also on the harness's other threads.
    std::thread::spawn(|| assert_eq!(backend(), Backend::Portable)).join().expect("thread");
}
