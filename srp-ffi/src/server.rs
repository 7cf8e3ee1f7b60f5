//! `srp_server`: the server's side of one handshake.

use srp_core::Server;

use crate::handle::{
    boundary, box_into, free, owned_handle, try_buffer, try_input, try_out, try_ref, try_srp,
};
use crate::record::srp_verifier_record;
use crate::result::srp_result;

owned_handle! {
    /// The server side of one handshake: holds b and B. Free with `srp_server_free`.
    pub struct srp_server(Server);
}

/// Starts the server side of one handshake for a record: picks b and computes B, before the
/// client's A is known. The server does not keep a pointer to the record.
///
/// # Safety
/// `record` is live; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_new(
    record: *const srp_verifier_record,
    out: *mut *mut srp_server,
) -> srp_result {
    boundary(|| {
        let record = try_ref!(record);
        let out = try_out!(out);
        out.write(box_into(try_srp!(Server::new(&record.verifier))));
        srp_result::SRP_RESULT_OK
    })
}

/// Writes B (minimal big-endian) for ServerKeyExchange.
///
/// # Safety
/// `server` is live; `out` has `capacity` writable bytes; `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_public_key(
    server: *const srp_server,
    out: *mut u8,
    capacity: usize,
    out_len: *mut usize,
) -> srp_result {
    boundary(|| {
        let server = try_ref!(server);
        try_buffer!(out, capacity, out_len).write(server.public_key())
    })
}

/// Takes A from ClientKeyExchange and writes the premaster secret. A is checked first
/// (`SRP_RESULT_VALUE_TOO_LONG`, `SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N`,
/// `SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE`). The premaster secret is secret: wipe it after use.
///
/// # Safety
/// `server` is live; the buffers are valid; `premaster_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_premaster(
    server: *const srp_server,
    client_public: *const u8,
    client_public_len: usize,
    premaster_out: *mut u8,
    premaster_capacity: usize,
    premaster_len: *mut usize,
) -> srp_result {
    boundary(|| {
        let server = try_ref!(server);
        let client_public = try_input!(client_public, client_public_len);
        let premaster_out = try_buffer!(premaster_out, premaster_capacity, premaster_len);
        let premaster = try_srp!(server.premaster(client_public));
        premaster_out.write(premaster.as_bytes())
    })
}

/// Frees a server (and wipes b). NULL does nothing.
///
/// # Safety
/// `server` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_free(server: *mut srp_server) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(server) }
}
