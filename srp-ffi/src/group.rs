//! `srp_group`: the seven RFC 5054 groups, static.

use srp_core::{DEFAULT_MIN_BITS, Error, Group, MAX_N_LEN};

use crate::handle::{
    borrowed_output, boundary, static_handle, static_into, try_input, try_out, try_ref, try_srp,
};
use crate::result::srp_result;

/// Largest N in bytes (8192 bits): a buffer of this size holds any N, A, B or premaster secret.
pub const SRP_MAX_N_LEN: usize = 1024;
const _: () = assert!(SRP_MAX_N_LEN == MAX_N_LEN);

/// The smallest group accepted by default, in bits.
pub const SRP_DEFAULT_MIN_BITS: u32 = 2048;
const _: () = assert!(SRP_DEFAULT_MIN_BITS == DEFAULT_MIN_BITS);

static_handle! {
    /// One of the seven RFC 5054 groups. Static: never freed.
    pub struct srp_group(Group);
}

/// Looks up the RFC 5054 group of `bits` bits (1024, 1536, 2048, 3072, 4096, 6144 or 8192).
///
/// # Safety
/// `out` is NULL or points to a writable `const srp_group *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_get(bits: u32, out: *mut *const srp_group) -> srp_result {
    boundary(|| {
        let out = try_out!(out);
        let group = try_srp!(Group::by_bits(bits).ok_or(Error::UnknownGroup));
        out.write(static_into(group));
        srp_result::SRP_RESULT_OK
    })
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
        let n = try_input!(n, n_len);
        let g = try_input!(g, g_len);
        let out = try_out!(out);
        let group = try_srp!(Group::from_params(n, g, min_bits));
        out.write(static_into(group));
        srp_result::SRP_RESULT_OK
    })
}

/// The size of the group's N in bits; 0 for NULL.
///
/// # Safety
/// `group` is NULL or a group from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn srp_group_bits(group: *const srp_group) -> u32 {
    boundary(|| try_ref!(group).bits())
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
        let group: &'static Group = try_ref!(group);
        borrowed_output(group.n_bytes(), try_out!(out), try_out!(out_len));
        srp_result::SRP_RESULT_OK
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
        let group: &'static Group = try_ref!(group);
        borrowed_output(group.g_bytes(), try_out!(out), try_out!(out_len));
        srp_result::SRP_RESULT_OK
    })
}
