//! `srp_server`: the server's side of one handshake.

use std::sync::{Mutex, PoisonError};

use srp_core::{Group, Server};

use crate::handle::{
    boundary, box_into, free, owned_handle, try_buffer, try_input, try_out, try_ref, try_srp,
};
use crate::record::srp_verifier_record;
use crate::result::srp_result;

/// What an `srp_server` handle holds: the core's [`Server`] until it has computed its one
/// premaster secret (then `None`: b is gone), and B, which C code may still read afterwards.
///
/// The functions take `const srp_server *` (as they did before the server became single-use),
/// so the server sits behind a mutex rather than being changed through a shared reference.
pub struct ServerHandshake {
    group: &'static Group,
    public_key: Box<[u8]>,
    server: Mutex<Option<Server>>,
}

owned_handle! {
    /// The server side of one handshake: holds b and B, and computes one premaster secret.
    /// Free with `srp_server_free`.
    pub struct srp_server(ServerHandshake);
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
        let server = try_srp!(Server::new(&record.verifier));
        out.write(box_into(ServerHandshake {
            group: server.group(),
            public_key: server.public_key().into(),
            server: Mutex::new(Some(server)),
        }));
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
        try_buffer!(out, capacity, out_len).write(&server.public_key)
    })
}

/// Takes A from ClientKeyExchange and writes the premaster secret. A is checked first
/// (`SRP_RESULT_VALUE_TOO_LONG`, `SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N`,
/// `SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE`, `SRP_RESULT_ZERO_SCRAMBLER`). The premaster secret is
/// secret: wipe it after use.
///
/// One premaster secret per server: the first call that gets past the checks of A uses b up
/// (and wipes it), whether it then succeeds or not; every later call fails with
/// `SRP_RESULT_SERVER_ALREADY_USED` (alert `internal_error`) and writes nothing. A call that
/// fails a check of A, or a NULL argument, leaves the server unused. `premaster_capacity` must
/// be at least the group's N length (`SRP_MAX_N_LEN` always is); a smaller buffer fails with
/// `SRP_RESULT_BUFFER_TOO_SMALL` before the server is used. `srp_server_public_key` still works
/// afterwards.
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
        let state = try_ref!(server);
        let client_public = try_input!(client_public, client_public_len);
        let premaster_out = try_buffer!(premaster_out, premaster_capacity, premaster_len);
        if !premaster_out.fits(state.group.n_len()) {
            return srp_result::SRP_RESULT_BUFFER_TOO_SMALL;
        }
        let server = {
            // Only the checks of A and `take` run under the lock; a panic in them would leave
            // the slot as it was, so a poisoned lock still holds a consistent value.
            let mut slot = state.server.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(server) = slot.as_ref() else {
                return srp_result::SRP_RESULT_SERVER_ALREADY_USED;
            };
            try_srp!(server.check_client_public(client_public));
            slot.take()
        };
        // `take` on a slot just seen to be `Some` under the same lock cannot give `None`.
        let Some(server) = server else {
            return srp_result::SRP_RESULT_SERVER_ALREADY_USED;
        };
        let premaster = try_srp!(server.premaster(client_public));
        premaster_out.write(premaster.as_bytes())
    })
}

/// Frees a server (and wipes b, if no premaster secret used it up). NULL does nothing.
///
/// # Safety
/// `server` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_free(server: *mut srp_server) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(server) }
}
