//! The client's side: `srp_client_exchange`, and `srp_username_check` for the username a
//! client sends (and a server receives).

use srp_core::{Salt, Username, client_exchange};

use crate::group::srp_group;
use crate::handle::{boundary, try_buffer, try_input, try_ref, try_srp};
use crate::result::srp_result;

/// Checks a username as a server receives it in the `srp` extension: 1 to 255 bytes, no NUL.
///
/// # Safety
/// `username` points to `username_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_username_check(
    username: *const u8,
    username_len: usize,
) -> srp_result {
    boundary(|| {
        try_srp!(Username::new(try_input!(username, username_len)));
        srp_result::SRP_RESULT_OK
    })
}

/// The client's side of one handshake, from one ServerKeyExchange: with the group admitted by
/// `srp_group_from_params`, the salt s and the server's B, and the user's credentials, writes A
/// (for ClientKeyExchange) and the premaster secret. B is checked first (`SRP_RESULT_VALUE_TOO_LONG`,
/// `SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N`, `SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE`). Buffers of
/// `SRP_MAX_N_LEN` bytes (or the group's N length) always suffice. The premaster secret is
/// secret: wipe it after use.
///
/// # Safety
/// Every pointer/length pair describes a valid buffer; `*_len` outputs are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_client_exchange(
    group: *const srp_group,
    username: *const u8,
    username_len: usize,
    password: *const u8,
    password_len: usize,
    salt: *const u8,
    salt_len: usize,
    server_public: *const u8,
    server_public_len: usize,
    client_public_out: *mut u8,
    client_public_capacity: usize,
    client_public_len: *mut usize,
    premaster_out: *mut u8,
    premaster_capacity: usize,
    premaster_len: *mut usize,
) -> srp_result {
    boundary(|| {
        let group = try_ref!(group);
        let username = try_input!(username, username_len);
        let password = try_input!(password, password_len);
        let salt = try_input!(salt, salt_len);
        let server_public = try_input!(server_public, server_public_len);
        let client_public_out =
            try_buffer!(client_public_out, client_public_capacity, client_public_len);
        let premaster_out = try_buffer!(premaster_out, premaster_capacity, premaster_len);
        let username = try_srp!(Username::new(username));
        let salt = try_srp!(Salt::new(salt));
        let exchange = try_srp!(client_exchange(group, &username, password, &salt, server_public));
        // Both outputs or neither.
        if !client_public_out.fits(exchange.public_key.len())
            || !premaster_out.fits(exchange.premaster.as_bytes().len())
        {
            return srp_result::SRP_RESULT_BUFFER_TOO_SMALL;
        }
        client_public_out.write(&exchange.public_key);
        premaster_out.write(exchange.premaster.as_bytes())
    })
}
