//! The C face: every `extern "C"` function of the library.
//!
//! Conventions (as rustls-ffi):
//! - Every function returns an [`srp_result`] (or a plain value where nothing can fail), catches
//!   panics so that none unwinds into C, and checks its pointer arguments for NULL.
//! - Outputs are written only on success.
//! - A buffer is always followed by its length; an output buffer by its capacity and a pointer
//!   that receives the length written.
//! - Owned objects come in `_new` / `_free` pairs; `_free(NULL)` does nothing. Groups are static
//!   and never freed.
//!
//! `include/srp_ffi.h` is generated from this file by `cargo xtask codegen`.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

use core::ffi::{CStr, c_char};
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use srp_core::{Error, Group, Salt, Server, Username, Verifier, VerifierRecord, client_exchange};
use srp_verifier_files::{ErrorKind, FakeUsers, VerifierDb};

// The header promises that the read-only objects can be shared between threads, and that a
// server can move to another thread between calls.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    const fn sent<T: Send>() {}
    shared::<Group>();
    shared::<VerifierDb>();
    shared::<FakeUsers>();
    shared::<VerifierRecord>();
    sent::<Server>();
};

/// The result of every fallible function. `SRP_RESULT_OK` is 0; errors have their own range
/// (9100 and up) so they are not mistaken for another library's codes.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum srp_result {
    /// Success.
    SRP_RESULT_OK = 0,
    /// A required pointer argument was NULL.
    SRP_RESULT_NULL_PARAMETER = 9101,
    /// The library panicked (a bug); the call had no effect.
    SRP_RESULT_PANIC = 9102,
    /// An output buffer is too small; `SRP_MAX_N_LEN` bytes always suffice.
    SRP_RESULT_BUFFER_TOO_SMALL = 9103,
    /// The (N, g) pair is not an RFC 5054 group (alert `insufficient_security`).
    SRP_RESULT_UNKNOWN_GROUP = 9110,
    /// The group is below the caller's floor (alert `insufficient_security`).
    SRP_RESULT_GROUP_TOO_SMALL = 9111,
    /// A or B is 0 modulo N (alert `illegal_parameter`).
    SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N = 9112,
    /// A or B is not below N (alert `illegal_parameter`).
    SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE = 9113,
    /// A value has more bytes than N (alert `illegal_parameter`).
    SRP_RESULT_VALUE_TOO_LONG = 9114,
    /// u = SHA1(PAD(A) | PAD(B)) is 0 (alert `illegal_parameter`).
    SRP_RESULT_ZERO_SCRAMBLER = 9115,
    /// The username is empty (alert `decode_error`).
    SRP_RESULT_EMPTY_USERNAME = 9116,
    /// The username is longer than 255 bytes (alert `decode_error`).
    SRP_RESULT_USERNAME_TOO_LONG = 9117,
    /// The username contains a NUL byte (alert `illegal_parameter`).
    SRP_RESULT_USERNAME_CONTAINS_NUL = 9118,
    /// The salt is empty or longer than 255 bytes (alert `decode_error`).
    SRP_RESULT_INVALID_SALT_LENGTH = 9119,
    /// The verifier is 0 or not below N (alert `internal_error`).
    SRP_RESULT_INVALID_VERIFIER = 9120,
    /// A private exponent is empty or longer than 32 bytes (alert `internal_error`).
    SRP_RESULT_INVALID_PRIVATE_KEY = 9121,
    /// The fake-user seed is shorter than 16 bytes (alert `internal_error`).
    SRP_RESULT_SEED_TOO_SHORT = 9122,
    /// No verifier for this username and no fake users (alert `unknown_psk_identity`).
    SRP_RESULT_UNKNOWN_USER = 9123,
    /// The system random number generator failed (alert `internal_error`).
    SRP_RESULT_RNG = 9124,
    /// A verifier file could not be read (alert `internal_error`).
    SRP_RESULT_VERIFIER_FILE_IO = 9130,
    /// A verifier file is malformed; the message names the file, line and problem (alert
    /// `internal_error`).
    SRP_RESULT_VERIFIER_FILE_INVALID = 9131,
}

use srp_result::*;

impl From<Error> for srp_result {
    fn from(error: Error) -> Self {
        match error {
            Error::UnknownGroup => SRP_RESULT_UNKNOWN_GROUP,
            Error::GroupTooSmall { .. } => SRP_RESULT_GROUP_TOO_SMALL,
            Error::PublicValueZeroModN => SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N,
            Error::PublicValueOutOfRange => SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE,
            Error::ValueTooLong => SRP_RESULT_VALUE_TOO_LONG,
            Error::ZeroScrambler => SRP_RESULT_ZERO_SCRAMBLER,
            Error::EmptyUsername => SRP_RESULT_EMPTY_USERNAME,
            Error::UsernameTooLong => SRP_RESULT_USERNAME_TOO_LONG,
            Error::UsernameContainsNul => SRP_RESULT_USERNAME_CONTAINS_NUL,
            Error::InvalidSaltLength => SRP_RESULT_INVALID_SALT_LENGTH,
            Error::InvalidVerifier => SRP_RESULT_INVALID_VERIFIER,
            Error::InvalidPrivateKey => SRP_RESULT_INVALID_PRIVATE_KEY,
            Error::SeedTooShort => SRP_RESULT_SEED_TOO_SHORT,
            Error::UnknownUser => SRP_RESULT_UNKNOWN_USER,
            Error::Rng => SRP_RESULT_RNG,
        }
    }
}

impl srp_result {
    /// The core error this result stands for, if it stands for one.
    fn error(self) -> Option<Error> {
        Some(match self {
            SRP_RESULT_UNKNOWN_GROUP => Error::UnknownGroup,
            // The sizes are not kept in the C code; the alert and message do not need them.
            SRP_RESULT_GROUP_TOO_SMALL => Error::GroupTooSmall { bits: 0, min_bits: 0 },
            SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N => Error::PublicValueZeroModN,
            SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE => Error::PublicValueOutOfRange,
            SRP_RESULT_VALUE_TOO_LONG => Error::ValueTooLong,
            SRP_RESULT_ZERO_SCRAMBLER => Error::ZeroScrambler,
            SRP_RESULT_EMPTY_USERNAME => Error::EmptyUsername,
            SRP_RESULT_USERNAME_TOO_LONG => Error::UsernameTooLong,
            SRP_RESULT_USERNAME_CONTAINS_NUL => Error::UsernameContainsNul,
            SRP_RESULT_INVALID_SALT_LENGTH => Error::InvalidSaltLength,
            SRP_RESULT_INVALID_VERIFIER => Error::InvalidVerifier,
            SRP_RESULT_INVALID_PRIVATE_KEY => Error::InvalidPrivateKey,
            SRP_RESULT_SEED_TOO_SHORT => Error::SeedTooShort,
            SRP_RESULT_UNKNOWN_USER => Error::UnknownUser,
            SRP_RESULT_RNG => Error::Rng,
            SRP_RESULT_OK
            | SRP_RESULT_NULL_PARAMETER
            | SRP_RESULT_PANIC
            | SRP_RESULT_BUFFER_TOO_SMALL
            | SRP_RESULT_VERIFIER_FILE_IO
            | SRP_RESULT_VERIFIER_FILE_INVALID => return None,
        })
    }

    const fn name(self) -> &'static core::ffi::CStr {
        match self {
            SRP_RESULT_OK => c"SRP_RESULT_OK",
            SRP_RESULT_NULL_PARAMETER => c"SRP_RESULT_NULL_PARAMETER",
            SRP_RESULT_PANIC => c"SRP_RESULT_PANIC",
            SRP_RESULT_BUFFER_TOO_SMALL => c"SRP_RESULT_BUFFER_TOO_SMALL",
            SRP_RESULT_UNKNOWN_GROUP => c"SRP_RESULT_UNKNOWN_GROUP",
            SRP_RESULT_GROUP_TOO_SMALL => c"SRP_RESULT_GROUP_TOO_SMALL",
            SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N => c"SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N",
            SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE => c"SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE",
            SRP_RESULT_VALUE_TOO_LONG => c"SRP_RESULT_VALUE_TOO_LONG",
            SRP_RESULT_ZERO_SCRAMBLER => c"SRP_RESULT_ZERO_SCRAMBLER",
            SRP_RESULT_EMPTY_USERNAME => c"SRP_RESULT_EMPTY_USERNAME",
            SRP_RESULT_USERNAME_TOO_LONG => c"SRP_RESULT_USERNAME_TOO_LONG",
            SRP_RESULT_USERNAME_CONTAINS_NUL => c"SRP_RESULT_USERNAME_CONTAINS_NUL",
            SRP_RESULT_INVALID_SALT_LENGTH => c"SRP_RESULT_INVALID_SALT_LENGTH",
            SRP_RESULT_INVALID_VERIFIER => c"SRP_RESULT_INVALID_VERIFIER",
            SRP_RESULT_INVALID_PRIVATE_KEY => c"SRP_RESULT_INVALID_PRIVATE_KEY",
            SRP_RESULT_SEED_TOO_SHORT => c"SRP_RESULT_SEED_TOO_SHORT",
            SRP_RESULT_UNKNOWN_USER => c"SRP_RESULT_UNKNOWN_USER",
            SRP_RESULT_RNG => c"SRP_RESULT_RNG",
            SRP_RESULT_VERIFIER_FILE_IO => c"SRP_RESULT_VERIFIER_FILE_IO",
            SRP_RESULT_VERIFIER_FILE_INVALID => c"SRP_RESULT_VERIFIER_FILE_INVALID",
        }
    }
}

/// Largest N in bytes (8192 bits): a buffer of this size holds any N, A, B or premaster secret.
pub const SRP_MAX_N_LEN: usize = 1024;
const _: () = assert!(SRP_MAX_N_LEN == srp_core::MAX_N_LEN);

/// The smallest group accepted by default, in bits.
pub const SRP_DEFAULT_MIN_BITS: u32 = 2048;
const _: () = assert!(SRP_DEFAULT_MIN_BITS == srp_core::DEFAULT_MIN_BITS);

/// One of the seven RFC 5054 groups. Static: never freed.
pub struct srp_group {
    _private: [u8; 0],
}

/// A server's record for one user: group, salt and verifier. Free with
/// `srp_verifier_record_free`.
pub struct srp_verifier_record {
    _private: [u8; 0],
}

/// Derives fake records for unknown usernames (RFC 5054 section 2.5.1.3). Free with
/// `srp_fake_users_free`.
pub struct srp_fake_users {
    _private: [u8; 0],
}

/// An OpenSSL `srpvfile` or GnuTLS `tpasswd` file loaded into memory. Free with
/// `srp_verifier_file_free`.
pub struct srp_verifier_file {
    _private: [u8; 0],
}

/// The server side of one handshake: holds b and B. Free with `srp_server_free`.
pub struct srp_server {
    _private: [u8; 0],
}

fn group_ptr(group: &'static Group) -> *const srp_group {
    (group as *const Group).cast()
}

/// # Safety
/// `ptr` is NULL or came from `group_ptr`.
unsafe fn group_ref(ptr: *const srp_group) -> Option<&'static Group> {
    // SAFETY: group pointers handed out are `&'static Group`.
    unsafe { ptr.cast::<Group>().as_ref() }
}

/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that outlive the call.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        // An empty input may be given as NULL.
        return (len == 0).then_some(&[]);
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Copies `data` to a caller's buffer of `capacity` bytes and stores its length.
///
/// # Safety
/// `out` points to `capacity` writable bytes and `out_len` to a writable `size_t`; both were
/// checked for NULL.
unsafe fn output(data: &[u8], out: *mut u8, capacity: usize, out_len: *mut usize) -> srp_result {
    if data.len() > capacity {
        return SRP_RESULT_BUFFER_TOO_SMALL;
    }
    // SAFETY: checked above that `data` fits; the caller guarantees the buffers.
    unsafe {
        core::ptr::copy_nonoverlapping(data.as_ptr(), out, data.len());
        *out_len = data.len();
    }
    SRP_RESULT_OK
}

/// Hands the caller a pointer to `data` (which lives as long as the object it belongs to) and
/// its length.
///
/// # Safety
/// `out` and `out_len` are NULL or writable.
unsafe fn borrowed_output(data: &[u8], out: *mut *const u8, out_len: *mut usize) -> srp_result {
    if out.is_null() || out_len.is_null() {
        return SRP_RESULT_NULL_PARAMETER;
    }
    // SAFETY: checked for NULL above; the caller guarantees they are writable.
    unsafe {
        *out = data.as_ptr();
        *out_len = data.len();
    }
    SRP_RESULT_OK
}

/// Drops an object the library handed out as `*mut C`, boxed as `T`. NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or came from `Box::<T>::into_raw` cast to `*mut C`, and is freed once.
unsafe fn free_boxed<T, C>(ptr: *mut C) {
    boundary_or((), || {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees where the pointer came from.
            drop(unsafe { Box::from_raw(ptr.cast::<T>()) });
        }
    })
}

/// Runs `body`, turning a panic into `SRP_RESULT_PANIC`.
fn boundary(body: impl FnOnce() -> srp_result) -> srp_result {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(SRP_RESULT_PANIC)
}

/// Runs `body`, turning a panic into `fallback`.
fn boundary_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

macro_rules! try_ffi {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(error) => return srp_result::from(error),
        }
    };
}

macro_rules! non_null {
    ($opt:expr) => {
        match $opt {
            Some(value) => value,
            None => return SRP_RESULT_NULL_PARAMETER,
        }
    };
}

/// The library's version, a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn srp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a result code (`"SRP_RESULT_UNKNOWN_GROUP"`), a static NUL-terminated string;
/// `"SRP_RESULT_UNKNOWN"` for a value that is not a result code.
#[unsafe(no_mangle)]
pub extern "C" fn srp_result_name(result: u32) -> *const c_char {
    boundary_or(c"SRP_RESULT_UNKNOWN".as_ptr(), || match result_from_u32(result) {
        Some(result) => result.name().as_ptr(),
        None => c"SRP_RESULT_UNKNOWN".as_ptr(),
    })
}

/// The TLS alert (RFC 5246 section 7.2 numbering) a TLS stack sends when it aborts a handshake
/// for this result: 47 `illegal_parameter`, 50 `decode_error`, 71 `insufficient_security`,
/// 80 `internal_error`, 115 `unknown_psk_identity`. `SRP_RESULT_OK` gives 0; results that are
/// programming errors (NULL, buffer, panic) give 80.
#[unsafe(no_mangle)]
pub extern "C" fn srp_result_alert(result: u32) -> u8 {
    boundary_or(80, || match result_from_u32(result) {
        Some(SRP_RESULT_OK) => 0,
        Some(result) => result.error().map_or(80, |error| error.alert() as u8),
        None => 80,
    })
}

fn result_from_u32(value: u32) -> Option<srp_result> {
    const ALL: [srp_result; 21] = [
        SRP_RESULT_OK,
        SRP_RESULT_NULL_PARAMETER,
        SRP_RESULT_PANIC,
        SRP_RESULT_BUFFER_TOO_SMALL,
        SRP_RESULT_UNKNOWN_GROUP,
        SRP_RESULT_GROUP_TOO_SMALL,
        SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N,
        SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE,
        SRP_RESULT_VALUE_TOO_LONG,
        SRP_RESULT_ZERO_SCRAMBLER,
        SRP_RESULT_EMPTY_USERNAME,
        SRP_RESULT_USERNAME_TOO_LONG,
        SRP_RESULT_USERNAME_CONTAINS_NUL,
        SRP_RESULT_INVALID_SALT_LENGTH,
        SRP_RESULT_INVALID_VERIFIER,
        SRP_RESULT_INVALID_PRIVATE_KEY,
        SRP_RESULT_SEED_TOO_SHORT,
        SRP_RESULT_UNKNOWN_USER,
        SRP_RESULT_RNG,
        SRP_RESULT_VERIFIER_FILE_IO,
        SRP_RESULT_VERIFIER_FILE_INVALID,
    ];
    ALL.into_iter().find(|r| *r as u32 == value)
}

/// Looks up the RFC 5054 group of `bits` bits (1024, 1536, 2048, 3072, 4096, 6144 or 8192).
///
/// # Safety
/// `out` is NULL or points to a writable `const srp_group *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_get(bits: u32, out: *mut *const srp_group) -> srp_result {
    boundary(|| {
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let group = non_null_group(Group::by_bits(bits));
        let group = try_ffi!(group);
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = group_ptr(group) };
        SRP_RESULT_OK
    })
}

fn non_null_group(group: Option<&'static Group>) -> Result<&'static Group, Error> {
    group.ok_or(Error::UnknownGroup)
}

/// Admits the group of a ServerKeyExchange (RFC 5054 section 2.5.3): (N, g) must match an
/// RFC 5054 group exactly and be at least `min_bits` bits (`SRP_DEFAULT_MIN_BITS` is 2048).
/// Fails with `SRP_RESULT_UNKNOWN_GROUP` or `SRP_RESULT_GROUP_TOO_SMALL`.
///
/// # Safety
/// `n` and `g` point to `n_len` and `g_len` readable bytes; `out` to a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_from_params(
    n: *const u8,
    n_len: usize,
    g: *const u8,
    g_len: usize,
    min_bits: u32,
    out: *mut *const srp_group,
) -> srp_result {
    boundary(|| {
        // SAFETY: the caller guarantees the buffers.
        let n = non_null!(unsafe { input(n, n_len) });
        let g = non_null!(unsafe { input(g, g_len) });
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let group = try_ffi!(Group::from_params(n, g, min_bits));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = group_ptr(group) };
        SRP_RESULT_OK
    })
}

/// The size of the group's N in bits; 0 for NULL.
///
/// # Safety
/// `group` is NULL or a group from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_bits(group: *const srp_group) -> u32 {
    // SAFETY: the caller guarantees the pointer.
    boundary_or(0, || unsafe { group_ref(group) }.map_or(0, Group::bits))
}

/// The group's N, big-endian, in static memory (for ServerKeyExchange).
///
/// # Safety
/// `group` is a group from this library; `out` and `out_len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_n(
    group: *const srp_group,
    out: *mut *const u8,
    out_len: *mut usize,
) -> srp_result {
    boundary(|| {
        // SAFETY: the caller guarantees the pointer.
        let group = non_null!(unsafe { group_ref(group) });
        // SAFETY: the caller guarantees the output pointers.
        unsafe { borrowed_output(group.n_bytes(), out, out_len) }
    })
}

/// The group's generator g, big-endian, in static memory (for ServerKeyExchange).
///
/// # Safety
/// `group` is a group from this library; `out` and `out_len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_g(
    group: *const srp_group,
    out: *mut *const u8,
    out_len: *mut usize,
) -> srp_result {
    boundary(|| {
        // SAFETY: the caller guarantees the pointer.
        let group = non_null!(unsafe { group_ref(group) });
        // SAFETY: the caller guarantees the output pointers.
        unsafe { borrowed_output(group.g_bytes(), out, out_len) }
    })
}

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
        // SAFETY: the caller guarantees the buffer.
        let username = non_null!(unsafe { input(username, username_len) });
        try_ffi!(Username::new(username));
        SRP_RESULT_OK
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
        // SAFETY: the caller guarantees every buffer.
        let (group, username, password, salt, server_public) = unsafe {
            (
                non_null!(group_ref(group)),
                non_null!(input(username, username_len)),
                non_null!(input(password, password_len)),
                non_null!(input(salt, salt_len)),
                non_null!(input(server_public, server_public_len)),
            )
        };
        if client_public_out.is_null()
            || client_public_len.is_null()
            || premaster_out.is_null()
            || premaster_len.is_null()
        {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let username = try_ffi!(Username::new(username));
        let salt = try_ffi!(Salt::new(salt));
        let exchange = try_ffi!(client_exchange(group, &username, password, &salt, server_public));
        if exchange.public_key.len() > client_public_capacity
            || exchange.premaster.as_bytes().len() > premaster_capacity
        {
            return SRP_RESULT_BUFFER_TOO_SMALL;
        }
        // SAFETY: both outputs fit (checked above) and were checked for NULL.
        unsafe {
            output(
                &exchange.public_key,
                client_public_out,
                client_public_capacity,
                client_public_len,
            );
            output(exchange.premaster.as_bytes(), premaster_out, premaster_capacity, premaster_len)
        }
    })
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
        // SAFETY: the caller guarantees every buffer.
        let (group, salt, verifier) = unsafe {
            (
                non_null!(group_ref(group)),
                non_null!(input(salt, salt_len)),
                non_null!(input(verifier, verifier_len)),
            )
        };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let record = VerifierRecord {
            salt: try_ffi!(Salt::new(salt)),
            verifier: try_ffi!(Verifier::from_bytes(group, verifier)),
        };
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = record_into_ptr(record) };
        SRP_RESULT_OK
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
        // SAFETY: the caller guarantees every buffer.
        let (group, username, password) = unsafe {
            (
                non_null!(group_ref(group)),
                non_null!(input(username, username_len)),
                non_null!(input(password, password_len)),
            )
        };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let username = try_ffi!(Username::new(username));
        let record = try_ffi!(VerifierRecord::generate(group, &username, password));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = record_into_ptr(record) };
        SRP_RESULT_OK
    })
}

fn record_into_ptr(record: VerifierRecord) -> *mut srp_verifier_record {
    Box::into_raw(Box::new(record)).cast()
}

/// # Safety
/// `ptr` is NULL or came from `record_into_ptr` and was not freed.
unsafe fn record_ref<'a>(ptr: *const srp_verifier_record) -> Option<&'a VerifierRecord> {
    // SAFETY: the caller guarantees the pointer.
    unsafe { ptr.cast::<VerifierRecord>().as_ref() }
}

/// The record's group (for ServerKeyExchange); NULL for NULL.
///
/// # Safety
/// `record` is NULL or a live record.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_group(
    record: *const srp_verifier_record,
) -> *const srp_group {
    // SAFETY: the caller guarantees the pointer.
    boundary_or(core::ptr::null(), || {
        unsafe { record_ref(record) }.map_or(core::ptr::null(), |r| group_ptr(r.group()))
    })
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
        // SAFETY: the caller guarantees the pointer.
        let record = non_null!(unsafe { record_ref(record) });
        // SAFETY: the caller guarantees the output pointers.
        unsafe { borrowed_output(record.salt.as_bytes(), out, out_len) }
    })
}

/// Frees a record (and wipes its verifier). NULL does nothing.
///
/// # Safety
/// `record` is NULL or a live record, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_record_free(record: *mut srp_verifier_record) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free_boxed::<VerifierRecord, _>(record) }
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
        // SAFETY: the caller guarantees every buffer.
        let (seed, group) =
            unsafe { (non_null!(input(seed, seed_len)), non_null!(group_ref(group))) };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let fake = try_ffi!(FakeUsers::new(seed, group, salt_len));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = Box::into_raw(Box::new(fake)).cast() };
        SRP_RESULT_OK
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
        // SAFETY: the caller guarantees the pointer and the buffer.
        let (fake, username) = unsafe {
            (
                non_null!(fake_users.cast::<FakeUsers>().as_ref()),
                non_null!(input(username, username_len)),
            )
        };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let username = try_ffi!(Username::new(username));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = record_into_ptr(fake.record(&username)) };
        SRP_RESULT_OK
    })
}

/// Frees fake users (and wipes the seed). NULL does nothing.
///
/// # Safety
/// `fake_users` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_fake_users_free(fake_users: *mut srp_fake_users) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free_boxed::<FakeUsers, _>(fake_users) }
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
        // SAFETY: the caller guarantees the pointer.
        let record = non_null!(unsafe { record_ref(record) });
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let server = try_ffi!(Server::new(&record.verifier));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = Box::into_raw(Box::new(server)).cast() };
        SRP_RESULT_OK
    })
}

/// # Safety
/// `ptr` is NULL or a live server.
unsafe fn server_ref<'a>(ptr: *const srp_server) -> Option<&'a Server> {
    // SAFETY: the caller guarantees the pointer.
    unsafe { ptr.cast::<Server>().as_ref() }
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
        // SAFETY: the caller guarantees the pointer.
        let server = non_null!(unsafe { server_ref(server) });
        if out.is_null() || out_len.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        // SAFETY: checked for NULL; the caller guarantees the capacity.
        unsafe { output(server.public_key(), out, capacity, out_len) }
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
        // SAFETY: the caller guarantees the pointer and buffers.
        let (server, client_public) = unsafe {
            (non_null!(server_ref(server)), non_null!(input(client_public, client_public_len)))
        };
        if premaster_out.is_null() || premaster_len.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let premaster = try_ffi!(server.premaster(client_public));
        // SAFETY: checked for NULL; the caller guarantees the capacity.
        unsafe { output(premaster.as_bytes(), premaster_out, premaster_capacity, premaster_len) }
    })
}

/// Frees a server (and wipes b). NULL does nothing.
///
/// # Safety
/// `server` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_server_free(server: *mut srp_server) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free_boxed::<Server, _>(server) }
}

/// Loads an OpenSSL `srpvfile` or a GnuTLS `tpasswd` file (told apart by their content; for
/// GnuTLS the groups come from `path` + `.conf`). Every line is checked: groups must be RFC 5054
/// groups, verifiers in [1, N). On failure, when `message` is not NULL, a NUL-terminated
/// description naming the file, the line and the problem is written there (truncated to
/// `message_capacity`); the result is `SRP_RESULT_VERIFIER_FILE_IO` or
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
        if path.is_null() || out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(
            unsafe { CStr::from_ptr(path) }.to_bytes(),
        ));
        match VerifierDb::load(path, None, None) {
            Ok(db) => {
                // SAFETY: `out` was checked for NULL.
                unsafe { *out = Box::into_raw(Box::new(db)).cast() };
                SRP_RESULT_OK
            }
            Err(error) => {
                // SAFETY: the caller guarantees the message buffer.
                unsafe { write_message(&error.to_string(), message, message_capacity) };
                match error.kind() {
                    ErrorKind::Io(_) => SRP_RESULT_VERIFIER_FILE_IO,
                    _ => SRP_RESULT_VERIFIER_FILE_INVALID,
                }
            }
        }
    })
}

/// Writes `text` NUL-terminated into `out`, truncated to fit.
///
/// # Safety
/// `out` is NULL or has `capacity` writable bytes.
unsafe fn write_message(text: &str, out: *mut c_char, capacity: usize) {
    if out.is_null() || capacity == 0 {
        return;
    }
    let len = text.len().min(capacity - 1);
    // SAFETY: `len + 1 <= capacity` bytes are written.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), len);
        *out.add(len) = 0;
    }
}

/// # Safety
/// `ptr` is NULL or a live file.
unsafe fn verifier_file_ref<'a>(ptr: *const srp_verifier_file) -> Option<&'a VerifierDb> {
    // SAFETY: the caller guarantees the pointer.
    unsafe { ptr.cast::<VerifierDb>().as_ref() }
}

/// Looks up a user's record (a copy, free it with `srp_verifier_record_free`). For a username
/// the file does not hold (or holds as revoked): with `fake_users`, that user's fake record, so
/// the handshake goes on and fails at Finished as for a wrong password; with `fake_users` NULL,
/// `SRP_RESULT_UNKNOWN_USER` (alert `unknown_psk_identity`).
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
        // SAFETY: the caller guarantees the pointers and the buffer.
        let (db, username, fake) = unsafe {
            (
                non_null!(verifier_file_ref(file)),
                non_null!(input(username, username_len)),
                fake_users.cast::<FakeUsers>().as_ref(),
            )
        };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let username = try_ffi!(Username::new(username));
        let record = try_ffi!(db.lookup(&username, fake));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = record_into_ptr(record) };
        SRP_RESULT_OK
    })
}

/// Creates fake users that look like the file's real ones: in the group most of its users are
/// in and with the salt length most of them have (3072 bits and 20 bytes for an empty file),
/// derived from `seed` (at least 16 secret bytes that persist across restarts).
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
        // SAFETY: the caller guarantees the pointer and the buffer.
        let (db, seed) =
            unsafe { (non_null!(verifier_file_ref(file)), non_null!(input(seed, seed_len))) };
        if out.is_null() {
            return SRP_RESULT_NULL_PARAMETER;
        }
        let fake = try_ffi!(db.fake_users(seed));
        // SAFETY: `out` was checked for NULL.
        unsafe { *out = Box::into_raw(Box::new(fake)).cast() };
        SRP_RESULT_OK
    })
}

/// Frees a loaded verifier file (and wipes its verifiers). NULL does nothing.
///
/// # Safety
/// `file` is NULL or live, and not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_verifier_file_free(file: *mut srp_verifier_file) {
    // SAFETY: the caller guarantees the pointer.
    unsafe { free_boxed::<VerifierDb, _>(file) }
}
