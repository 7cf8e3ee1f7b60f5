//! `srp_verifier_file`: an OpenSSL `srpvfile` or GnuTLS `tpasswd` loaded for a server, with its
//! lookups and fake users.

use core::ffi::c_char;

use srp_core::Username;
use srp_verifier_files::VerifierDb;

use crate::fake_users::srp_fake_users;
use crate::handle::{
    NullDefault, boundary, box_into, c_path, free, owned_handle, ref_from, try_input, try_out,
    try_ref, try_srp, write_message,
};
use crate::record::srp_verifier_record;
use crate::result::srp_result;

owned_handle! {
    /// An OpenSSL `srpvfile` or GnuTLS `tpasswd` file loaded into memory. Free with
    /// `srp_verifier_file_free`.
    pub struct srp_verifier_file(VerifierDb);
}

/// Loads an OpenSSL `srpvfile` or a GnuTLS `tpasswd` file (told apart by their content; for
/// GnuTLS the groups come from `path` + `.conf`). Every line is checked: groups must be RFC 5054
/// groups, verifiers in [1, N). A file over 64 MiB is refused before it is read, and a line over
/// 64 KiB is refused (no valid line comes near it), both as `SRP_RESULT_VERIFIER_FILE_INVALID`.
/// The buffers that held the file are wiped. On failure, when `message` is not NULL, a
/// NUL-terminated description naming the file, the line and the problem is written there
/// (truncated to `message_capacity`); the result is `SRP_RESULT_VERIFIER_FILE_IO` or
/// `SRP_RESULT_VERIFIER_FILE_INVALID`.
///
/// # Safety
/// `path` is a NUL-terminated string; `message` is NULL or has `message_capacity` writable
/// bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_file_load(
    path: *const c_char,
    message: *mut c_char,
    message_capacity: usize,
    out: *mut *mut srp_verifier_file,
) -> srp_result {
    boundary(|| {
        // SAFETY: the caller guarantees a NUL-terminated string or NULL.
        let Some(path) = (unsafe { c_path(path) }) else {
            return srp_result::null_default();
        };
        let out = try_out!(out);
        match VerifierDb::load(path, None, None) {
            Ok(db) => {
                out.write(box_into(db));
                srp_result::SRP_RESULT_OK
            }
            Err(error) => {
                // SAFETY: the caller guarantees the message buffer (or NULL).
                unsafe { write_message(&error.to_string(), message, message_capacity) };
                srp_result::from(&error)
            }
        }
    })
}

/// Looks up a user's record (a copy, free it with `srp_verifier_record_free`). For a username
/// the file does not hold (or holds as revoked): with `fake_users`, that user's fake record, so
/// the handshake goes on and fails at Finished as for a wrong password; with `fake_users` NULL,
/// `SRP_RESULT_UNKNOWN_USER` (alert `unknown_psk_identity`). `SRP_RESULT_RNG` if the lookup
/// table could not be built (it is built when the file is loaded, with a random key).
///
/// What is equalised, with `fake_users`: a user in the file and an unknown one take the same
/// work. The fake record is derived for every username (the same HMACs, sized for the largest
/// group and salt the fake users can get); the table costs one HMAC of the username and the same
/// number of constant-time slot comparisons whether the user is there or not; the copy of the
/// answer costs what a record of its group and salt length costs. What is not: the username's
/// length (it is public, and the HMACs' cost grows with it), which record's memory is read for
/// the copy (visible to a cache attacker on the same machine, not in the time taken), and what
/// the caller does with the record. The caller must treat a record below its group floor the
/// same way whether it is real or fake (the fake users follow the file, so they include the
/// groups of its users below the floor): refuse both with `insufficient_security`. Without fake
/// users the answer itself tells that the user is unknown.
///
/// # Safety
/// `file` is live; `fake_users` is NULL or live; the buffer is valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_file_lookup(
    file: *const srp_verifier_file,
    username: *const u8,
    username_len: usize,
    fake_users: *const srp_fake_users,
    out: *mut *mut srp_verifier_record,
) -> srp_result {
    boundary(|| {
        let db = try_ref!(file);
        let username = try_input!(username, username_len);
        // SAFETY: the caller guarantees that `fake_users` is NULL (no fake users) or live.
        let fake = unsafe { ref_from(fake_users) };
        let out = try_out!(out);
        let username = try_srp!(Username::new(username));
        out.write(box_into(try_srp!(db.lookup(&username, fake))));
        srp_result::SRP_RESULT_OK
    })
}

/// Creates fake users that look like the file's real ones: each unknown username draws its
/// (group, salt length) from the pairs the file's users have (not counting revoked entries),
/// weighted by how many users have each, deterministically from the seed and the username, so
/// that probing many unknown names shows the file's own mix of groups and salt lengths; a file
/// with one group and one salt length gives exactly that, a file without users the 3072-bit
/// group and 20-byte salts. Groups below the server's floor are included when real users are in
/// them: refuse fake and real records below the floor alike (`insufficient_security`), and do
/// not replace these fake users with others in a group at the floor (that would make every
/// below-floor answer a real user). Derived from `seed` (at least 16 secret bytes that persist
/// across restarts: the same seed and file give the same fake records in every process). A
/// file whose mix changes moves a few usernames to another pair (about one user's share).
///
/// # Safety
/// `file` is live; the buffer is valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_file_fake_users(
    file: *const srp_verifier_file,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut srp_fake_users,
) -> srp_result {
    boundary(|| {
        let db = try_ref!(file);
        let seed = try_input!(seed, seed_len);
        let out = try_out!(out);
        out.write(box_into(try_srp!(db.fake_users(seed))));
        srp_result::SRP_RESULT_OK
    })
}

/// Frees a loaded verifier file (and wipes its verifiers). NULL does nothing.
///
/// # Safety
/// `file` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_file_free(file: *mut srp_verifier_file) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(file) }
}
