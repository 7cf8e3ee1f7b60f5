//! `srp_verifier_record_verifier` hands back the verifier a record was made from, for servers
//! whose TLS library takes verifiers as numbers (lighttpd on `SSL_set_srp_server_param`).

use std::ptr;

use srp_ffi::group::{srp_group, srp_group_get};
use srp_ffi::record::{
    srp_verifier_record, srp_verifier_record_free, srp_verifier_record_new,
    srp_verifier_record_verifier,
};
use srp_ffi::result::srp_result;

fn group(bits: u32) -> *const srp_group {
    let mut group = ptr::null();
    // SAFETY: `group` is writable.
    assert_eq!(unsafe { srp_group_get(bits, &mut group) }, srp_result::SRP_RESULT_OK);
    group
}

fn record(group: *const srp_group, verifier: &[u8]) -> *mut srp_verifier_record {
    let salt = [7u8; 16];
    let mut record = ptr::null_mut();
    // SAFETY: the buffers are valid for their lengths; `record` is writable.
    let result = unsafe {
        srp_verifier_record_new(
            group,
            salt.as_ptr(),
            salt.len(),
            verifier.as_ptr(),
            verifier.len(),
            &mut record,
        )
    };
    assert_eq!(result, srp_result::SRP_RESULT_OK);
    record
}

/// The verifier as the record returns it, with `capacity` bytes of room.
fn verifier_of(record: *const srp_verifier_record, capacity: usize) -> Result<Vec<u8>, srp_result> {
    let mut out = vec![0xAAu8; capacity];
    let mut len = usize::MAX;
    // SAFETY: `out` has `capacity` writable bytes; `len` is writable; the record is live.
    let result =
        unsafe { srp_verifier_record_verifier(record, out.as_mut_ptr(), capacity, &mut len) };
    if result != srp_result::SRP_RESULT_OK {
        assert_eq!(len, usize::MAX, "nothing written on failure");
        return Err(result);
    }
    out.truncate(len);
    Ok(out)
}

#[test]
fn returns_the_stored_verifier_without_leading_zeros() {
    let group = group(2048);
    for stored in [vec![1u8], vec![0, 0, 0x42, 0x17], vec![0x5Au8; 255]] {
        let record = record(group, &stored);
        let first_nonzero = stored.iter().position(|&b| b != 0).unwrap();
        assert_eq!(verifier_of(record, 1024).unwrap(), stored[first_nonzero..]);
        // SAFETY: the record is live and not used afterwards.
        unsafe { srp_verifier_record_free(record) };
    }
}

#[test]
fn refuses_a_short_buffer_and_null() {
    let group = group(3072);
    let record = record(group, &[0x33u8; 300]);
    assert_eq!(verifier_of(record, 299), Err(srp_result::SRP_RESULT_BUFFER_TOO_SMALL));
    assert_eq!(verifier_of(record, 300).unwrap(), vec![0x33u8; 300]);
    assert_eq!(verifier_of(ptr::null(), 1024), Err(srp_result::SRP_RESULT_NULL_PARAMETER));
    let mut len = 0usize;
    // SAFETY: a NULL output buffer is refused before anything is written.
    let result = unsafe { srp_verifier_record_verifier(record, ptr::null_mut(), 1024, &mut len) };
    assert_eq!(result, srp_result::SRP_RESULT_NULL_PARAMETER);
    // SAFETY: the record is live and not used afterwards.
    unsafe { srp_verifier_record_free(record) };
}
