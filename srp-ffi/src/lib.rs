//! The C face of the TLS-SRP core: the static library (`libsrp_ffi.a`) and header
//! (`include/srp_ffi.h`) that patched NSS and BoringSSL use.
//!
//! A thin layer over [`srp_core`] (the SRP-6a protocol) and [`srp_verifier_files`] (verifier
//! files and fake users): every `extern "C"` function of the library is here, and none of them
//! holds protocol logic.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod ffi;
