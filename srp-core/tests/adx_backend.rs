//! The RFC 5054 vectors, the client/server properties and the OpenSSL cross-check again, with
//! every exponentiation on the MULX/ADCX/ADOX backend (`srp_core::backend::Backend::Adx`), when
//! the CPU has BMI2 and ADX: on a CPU with AVX-512 IFMA the other test binaries run on `ifma`,
//! so this one keeps `adx` covered end to end (`portable_backend.rs` does the same for
//! `portable`). On a CPU without ADX the process stays on the detected backend, and the test
//! below says so.

#[path = "openssl_crosscheck.rs"]
mod openssl_crosscheck;
#[path = "properties.rs"]
mod properties;
#[path = "rfc5054_vectors.rs"]
mod rfc5054_vectors;

use srp_core::backend::{Backend, backend, set_process_backend};

/// Switches the process to the `adx` backend before the test harness starts any thread (an ELF
/// `.init_array` entry, as in `portable_backend.rs`).
#[used]
#[unsafe(link_section = ".init_array")]
static USE_ADX: extern "C" fn() = use_adx;

extern "C" fn use_adx() {
    // Refused, changing nothing, when the CPU lacks BMI2 or ADX (checked by the test below).
    set_process_backend(Backend::Adx);
}

#[test]
fn every_test_here_runs_on_the_adx_backend_if_the_cpu_has_it() {
    let want = if Backend::Adx.is_supported() { Backend::Adx } else { Backend::detected() };
    assert_eq!(backend(), want, "the .init_array entry did not run");
    std::thread::spawn(move || assert_eq!(backend(), want)).join().expect("thread");
}
