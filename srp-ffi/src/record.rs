//! `srp_verifier_record`: a server's record for one user (group, salt, verifier).

use srp_core::{Salt, Username, Verifier, VerifierRecord};

use crate::group::srp_group;
use crate::handle::{
    borrowed_output, boundary, box_into, free, owned_handle, static_into, try_input, try_out,
    try_ref, try_srp,
};
use crate::result::srp_result;

owned_handle! {
    /// A server's record for one user: group, salt and verifier. Free with
    /// `srp_verifier_record_free`.
    pub struct srp_verifier_record(VerifierRecord);
}

/// Makes a verifier record from a stored salt and verifier (big-endian). Fails with
/// `SRP_RESULT_INVALID_SALT_LENGTH` or `SRP_RESULT_INVALID_VERIFIER` (0, or not below N).
///
/// # Safety
/// The buffers are valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_new(
    group: *const srp_group,
    salt: *const u8,
    salt_len: usize,
    verifier: *const u8,
    verifier_len: usize,
    out: *mut *mut srp_verifier_record,
) -> srp_result {
    boundary(|| {
        let group = try_ref!(group);
        let salt = try_input!(salt, salt_len);
        let verifier = try_input!(verifier, verifier_len);
        let out = try_out!(out);
        let record = VerifierRecord {
            salt: try_srp!(Salt::new(salt)),
            verifier: try_srp!(Verifier::from_bytes(group, verifier)),
        };
        out.write(box_into(record));
        srp_result::SRP_RESULT_OK
    })
}

/// Makes a verifier record for a username and password with a fresh random salt (RFC 5054
/// section 2.4).
///
/// # Safety
/// The buffers are valid; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_generate(
    group: *const srp_group,
    username: *const u8,
    username_len: usize,
    password: *const u8,
    password_len: usize,
    out: *mut *mut srp_verifier_record,
) -> srp_result {
    boundary(|| {
        let group = try_ref!(group);
        let username = try_input!(username, username_len);
        let password = try_input!(password, password_len);
        let out = try_out!(out);
        let username = try_srp!(Username::new(username));
        let record = try_srp!(VerifierRecord::generate(group, &username, password));
        out.write(box_into(record));
        srp_result::SRP_RESULT_OK
    })
}

/// The record's group (for ServerKeyExchange); NULL for NULL.
///
/// # Safety
/// `record` is NULL or a live record.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_group(
    record: *const srp_verifier_record,
) -> *const srp_group {
    boundary(|| static_into(try_ref!(record).group()))
}

/// The record's salt (for ServerKeyExchange), valid while the record lives.
///
/// # Safety
/// `record` is a live record; `out` and `out_len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_salt(
    record: *const srp_verifier_record,
    out: *mut *const u8,
    out_len: *mut usize,
) -> srp_result {
    boundary(|| {
        let record = try_ref!(record);
        borrowed_output(record.salt.as_bytes(), try_out!(out), try_out!(out_len));
        srp_result::SRP_RESULT_OK
    })
}

/// Frees a record (and wipes its verifier). NULL does nothing.
///
/// # Safety
/// `record` is NULL or a live record, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_free(record: *mut srp_verifier_record) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free(record) }
}
