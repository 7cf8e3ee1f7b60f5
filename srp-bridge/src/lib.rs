//! `srp-bridge`: a local bridge from the browser to devices over TLS-SRP (RFC 5054).
//!
//! The browser loads `http://<device>.<port>.localhost:<bridge port>/` (a secure context
//! without a certificate); the bridge forwards each request to the device over TLS-SRP with the
//! credentials the extension gave it over native messaging. README.md has the design.
//!
//! The modules without BoringSSL (plain `cargo test` runs their tests):
//! - [`native`]: native-messaging framing (4-byte native-endian length, then JSON);
//! - [`control`]: the control messages (login, logout, status) and the device states;
//! - [`address`]: device addresses and the `*.localhost` names that stand for them;
//! - [`failure`]: which TLS errors become which state the user can act on;
//! - [`policy`]: which browser requests the bridge forwards and which it refuses.
//!
//! With the `tls` feature (`cargo xtask bridge build`): [`tls`] (connections to devices with
//! the patched BoringSSL) and [`proxy`] (the HTTP side and the device table).

pub mod address;
pub mod control;
pub mod failure;
pub mod install;
pub mod native;
pub mod policy;

#[cfg(feature = "tls")]
pub mod proxy;
// The patched libssl.a calls the SRP core's C functions (`srp_*`): linking the crate provides
// them, from the same sources as the static library BoringSSL was built against.
#[cfg(feature = "tls")]
extern crate srp_ffi;
#[cfg(feature = "tls")]
pub mod tls;
