//! The C face of the TLS-SRP core: the static library (`libsrp_ffi.a`) and header
//! (`include/srp_ffi.h`) that patched NSS and BoringSSL use.
//!
//! A thin layer over [`srp_core`] (the SRP-6a protocol) and [`srp_verifier_files`] (verifier
//! files and fake users): every `extern "C"` function of the library is here, one module per C
//! object, and none of them holds protocol logic.
//!
//! Conventions (as rustls-ffi):
//! - Every function returns an [`srp_result`](result::srp_result) (or a plain value where nothing can fail), catches
//!   panics so that none unwinds into C, and checks its pointer arguments for NULL.
//! - Outputs are written only on success.
//! - A buffer is always followed by its length; an output buffer by its capacity and a pointer
//!   that receives the length written.
//! - Owned objects come in `_new` / `_free` pairs; `_free(NULL)` does nothing. Groups are static
//!   and never freed.
//! - Names read `srp_<object>_<verb>`.
//!
//! How a C pointer becomes a Rust value is decided in one place, `handle` (after rustls-ffi's
//! `Castable`); the result codes, their names, alerts and the mapping from Rust errors come from
//! one table in [`result`].
//!
//! `include/srp_ffi.h` is generated from this crate by `cargo xtask codegen` (cbindgen, after
//! macro expansion) and checked for drift by a test.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

mod handle;

/// The library's version, a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn srp_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

// One module per C object, in the order the header lists their functions.
pub mod result;

pub mod group;

pub mod client;

pub mod record;

pub mod fake_users;

pub mod server;

pub mod verifier_file;

// The header promises that the read-only objects can be shared between threads, and that a
// server can move to another thread between calls.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    const fn sent<T: Send>() {}
    shared::<srp_core::Group>();
    shared::<srp_verifier_files::VerifierDb>();
    shared::<srp_verifier_files::FakeUsers>();
    shared::<srp_core::VerifierRecord>();
    sent::<srp_core::Server>();
    shared::<server::ServerHandshake>();
};
