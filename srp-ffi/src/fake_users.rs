//! `srp_fake_users`: fake records for unknown usernames (RFC 5054 section 2.5.1.3).

use srp_core::Username;
use srp_verifier_files::FakeUsers;

use crate::group::srp_group;
use crate::handle::{
    boundary, box_into, free, owned_handle, ref_from, try_input, try_out, try_ref, try_srp,
};
use crate::record::srp_verifier_record;
use crate::result::srp_result;

owned_handle! {
    /// Derives fake records for unknown usernames (RFC 5054 section 2.5.1.3). Free with
    /// `srp_fake_users_free`.
    pub struct srp_fake_users(FakeUsers);
}

/// Creates fake users all in `group`, with salts of `salt_len` bytes, derived from `seed` (at
/// least 16 secret bytes; keep the seed across restarts so that a fake user's salt never
/// changes). For a server that gets its records from the application (callback mode): pass the
/// group and salt length the application's real records have. With a verifier file, use
/// `srp_verifier_file_fake_users` instead, which follows the file's own mix.
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

/// The fake record for `username`: the same group, salt length and salt every time (for the
/// same seed), a verifier nobody knows the password for. To answer a username whose record may
/// or may not exist, use `srp_fake_users_choose`, which takes the same work in both cases.
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

/// The record to answer `username` with, taking the same work whether the user exists or not
/// (RFC 5054 section 2.5.1.3): always derives the username's fake record (the same HMACs), then
/// returns a copy of `real` when it is not NULL (the user exists), else the fake record. A copy
/// costs what a record of its group and salt length costs, and those are in ServerKeyExchange
/// anyway. Free the result with `srp_verifier_record_free`.
///
/// For callback mode (the application looks its records up): call it for every username, with
/// the application's record or NULL, instead of calling `srp_fake_users_record` only for the
/// unknown ones, and give the fake users the group and salt length of the application's
/// records (`srp_fake_users_new`), or ServerKeyExchange tells the two apart. Not equalised: the
/// application's own lookup, the username's length (public), and which record's memory is
/// read. Fails with the username's errors (`SRP_RESULT_EMPTY_USERNAME`,
/// `SRP_RESULT_USERNAME_TOO_LONG`, `SRP_RESULT_USERNAME_CONTAINS_NUL`) in both cases.
///
/// # Safety
/// `fake_users` is live; `real` is NULL or a live record; the buffer is valid; `out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_choose(
    fake_users: *const srp_fake_users,
    username: *const u8,
    username_len: usize,
    real: *const srp_verifier_record,
    out: *mut *mut srp_verifier_record,
) -> srp_result {
    boundary(|| {
        let fake = try_ref!(fake_users);
        let username = try_input!(username, username_len);
        // SAFETY: the caller guarantees that `real` is NULL (an unknown user) or live.
        let real = unsafe { ref_from(real) };
        let out = try_out!(out);
        let username = try_srp!(Username::new(username));
        out.write(box_into(fake.choose(&username, real)));
        srp_result::SRP_RESULT_OK
    })
}

/// Frees fake users (and wipes the keyed HMAC state derived from the seed). NULL does nothing.
///
/// # Safety
/// `fake_users` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_free(fake_users: *mut srp_fake_users) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(fake_users) }
}
