//! `srp_fake_users`: fake records for unknown usernames (RFC 5054 section 2.5.1.3).

use srp_core::Username;
use srp_verifier_files::FakeUsers;

use crate::group::srp_group;
use crate::handle::{boundary, box_into, free, owned_handle, try_input, try_out, try_ref, try_srp};
use crate::record::srp_verifier_record;
use crate::result::srp_result;

owned_handle! {
    /// Derives fake records for unknown usernames (RFC 5054 section 2.5.1.3). Free with
    /// `srp_fake_users_free`.
    pub struct srp_fake_users(FakeUsers);
}

/// Creates fake users for `group`, with salts of `salt_len` bytes (use the length of the real
/// salts) derived from `seed` (at least 16 secret bytes; keep the seed across restarts so that a
/// fake user's salt never changes).
///
/// # Safety
/// The buffers are valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_new(
    seed: *const u8,
    seed_len: usize,
    group: *const srp_group,
    salt_len: usize,
    out: *mut *mut srp_fake_users,
) -> srp_result {
    boundary(|| {
        let seed = try_input!(seed, seed_len);
        let group = try_ref!(group);
        let out = try_out!(out);
        out.write(box_into(try_srp!(FakeUsers::new(seed, group, salt_len))));
        srp_result::SRP_RESULT_OK
    })
}

/// The fake record for `username`: the same salt every time, a verifier nobody knows the
/// password for.
///
/// # Safety
/// `fake_users` is live; the buffer is valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_record(
    fake_users: *const srp_fake_users,
    username: *const u8,
    username_len: usize,
    out: *mut *mut srp_verifier_record,
) -> srp_result {
    boundary(|| {
        let fake = try_ref!(fake_users);
        let username = try_input!(username, username_len);
        let out = try_out!(out);
        let username = try_srp!(Username::new(username));
        out.write(box_into(fake.record(&username)));
        srp_result::SRP_RESULT_OK
    })
}

/// Frees fake users (and wipes the seed). NULL does nothing.
///
/// # Safety
/// `fake_users` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_free(fake_users: *mut srp_fake_users) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(fake_users) }
}
