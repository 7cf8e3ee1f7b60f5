//! `srp_server_premaster` computes a premaster secret at most once per server (issue 10): a
//! second call, with the same A or another, must not use b again.

use srp_ffi::client::srp_client_exchange;
use srp_ffi::group::{srp_group, srp_group_get};
use srp_ffi::record::{
    srp_verifier_record, srp_verifier_record_free, srp_verifier_record_generate,
};
use srp_ffi::result::srp_result;
use srp_ffi::server::{
    srp_server, srp_server_free, srp_server_new, srp_server_premaster, srp_server_public_key,
};

const USER: &[u8] = b"alice";
const PASSWORD: &[u8] = b"password";
const SALT_LEN: usize = 20;

/// A client's A and premaster secret against `b_pub`.
fn client(group: *const srp_group, salt: &[u8], b_pub: &[u8], password: &[u8]) -> Vec<u8> {
    let (mut a_pub, mut pms) = (vec![0u8; 1024], vec![0u8; 1024]);
    let (mut a_len, mut pms_len) = (0usize, 0usize);
    // SAFETY: every buffer is valid for its length; the outputs are writable.
    let result = unsafe {
        srp_client_exchange(
            group,
            USER.as_ptr(),
            USER.len(),
            password.as_ptr(),
            password.len(),
            salt.as_ptr(),
            salt.len(),
            b_pub.as_ptr(),
            b_pub.len(),
            a_pub.as_mut_ptr(),
            a_pub.len(),
            &mut a_len,
            pms.as_mut_ptr(),
            pms.len(),
            &mut pms_len,
        )
    };
    assert_eq!(result, srp_result::SRP_RESULT_OK, "client exchange");
    a_pub.truncate(a_len);
    a_pub
}

fn premaster(server: *const srp_server, a_pub: &[u8]) -> (srp_result, usize) {
    let mut pms = [0u8; 1024];
    let mut pms_len = 0usize;
    // SAFETY: `server` is live, the buffers are valid and the length is writable.
    let result = unsafe {
        srp_server_premaster(
            server,
            a_pub.as_ptr(),
            a_pub.len(),
            pms.as_mut_ptr(),
            1024,
            &mut pms_len,
        )
    };
    (result, pms_len)
}

#[test]
fn server_premaster_is_single_use() {
    let mut group: *const srp_group = std::ptr::null();
    // SAFETY: the out-pointer is writable.
    assert_eq!(unsafe { srp_group_get(2048, &mut group) }, srp_result::SRP_RESULT_OK);
    let mut record: *mut srp_verifier_record = std::ptr::null_mut();
    // SAFETY: the buffers are valid; the out-pointer is writable.
    let result = unsafe {
        srp_verifier_record_generate(
            group,
            USER.as_ptr(),
            USER.len(),
            PASSWORD.as_ptr(),
            PASSWORD.len(),
            &mut record,
        )
    };
    assert_eq!(result, srp_result::SRP_RESULT_OK);
    let mut salt: *const u8 = std::ptr::null();
    let mut salt_len = 0usize;
    // SAFETY: `record` is live; the out-pointers are writable.
    unsafe { srp_ffi::record::srp_verifier_record_salt(record, &mut salt, &mut salt_len) };
    assert_eq!(salt_len, SALT_LEN);
    // SAFETY: the salt lives as long as the record.
    let salt = unsafe { std::slice::from_raw_parts(salt, salt_len) }.to_vec();

    let mut server: *mut srp_server = std::ptr::null_mut();
    // SAFETY: `record` is live; the out-pointer is writable.
    assert_eq!(unsafe { srp_server_new(record, &mut server) }, srp_result::SRP_RESULT_OK);
    let mut b_pub = vec![0u8; 1024];
    let mut b_len = 0usize;
    // SAFETY: `server` is live; the buffer and length are writable.
    let result = unsafe { srp_server_public_key(server, b_pub.as_mut_ptr(), 1024, &mut b_len) };
    assert_eq!(result, srp_result::SRP_RESULT_OK);
    b_pub.truncate(b_len);

    // A rejected A (0 mod N) leaves the server unused: nothing secret was computed.
    assert_eq!(premaster(server, &[0]).0, srp_result::SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N, "A = 0");

    let a_pub = client(group, &salt, &b_pub, PASSWORD);
    let (first, len) = premaster(server, &a_pub);
    assert_eq!(first, srp_result::SRP_RESULT_OK, "first premaster");
    assert!(len > 0, "a premaster secret was written");

    // A second call, with the same A or another client's, must fail: b is used up.
    let other = client(group, &salt, &b_pub, b"another password");
    for (what, a_pub) in [("the same A", &a_pub), ("another A", &other)] {
        let (again, _) = premaster(server, a_pub);
        assert_eq!(again, srp_result::SRP_RESULT_SERVER_ALREADY_USED, "second premaster, {what}");
    }

    // SAFETY: both are live and not used afterwards.
    unsafe {
        srp_server_free(server);
        srp_verifier_record_free(record);
    }
}
