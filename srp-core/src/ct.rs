//! Constant-time validation marks (the "ctgrind" technique, as BoringSSL's `CONSTTIME_SECRET`
//! and `CONSTTIME_DECLASSIFY`).
//!
//! With the `ct-validation` feature, [`secret`] tells valgrind memcheck that a buffer holds
//! undefined data, so memcheck reports every branch and memory index that depends on it, and
//! [`declassify`] marks a value the protocol makes public (A, B, the premaster secret's length)
//! as defined again. `cargo xtask ctgrind` runs client and server under memcheck this way and fails
//! on any report. Without the feature both functions compile to nothing.
//!
//! [`secret`] and [`declassify`] are public for that harness (`examples/ctgrind.rs`); they do
//! not change any value.

#[cfg(all(feature = "ct-validation", not(target_arch = "x86_64")))]
compile_error!("the ct-validation feature issues valgrind client requests for x86_64 only");

#[cfg(all(feature = "ct-validation", target_arch = "x86_64"))]
#[allow(unsafe_code)]
mod imp {
    /// `VG_USERREQ_TOOL_BASE('M', 'C')` from valgrind's `memcheck.h`.
    const MEMCHECK_BASE: usize = ((b'M' as usize) << 24) | ((b'C' as usize) << 16);
    pub(super) const MAKE_MEM_UNDEFINED: usize = MEMCHECK_BASE + 1;
    pub(super) const MAKE_MEM_DEFINED: usize = MEMCHECK_BASE + 2;

    /// `VALGRIND_DO_CLIENT_REQUEST_EXPR` for amd64 from `valgrind.h`: the rotations of %rdi add
    /// up to 128 bits and leave it unchanged; on a real CPU this is a no-op returning `default`.
    pub(super) fn client_request(request: usize, addr: *const u8, len: usize) -> usize {
        let args: [usize; 6] = [request, addr as usize, len, 0, 0, 0];
        let mut result: usize = 0;
        // SAFETY: the instruction sequence only rotates %rdi by a multiple of its width and
        // exchanges %rbx with itself; valgrind recognises it and reads `args`, which lives
        // until the asm block ends.
        unsafe {
            core::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") result,
                in("rax") args.as_ptr(),
                inout("rdi") 0usize => _,
                options(nostack, preserves_flags),
            );
        }
        result
    }
}

/// Marks `bytes` as secret: valgrind memcheck reports any branch or index that depends on them.
#[inline(always)]
pub fn secret(bytes: &[u8]) {
    #[cfg(all(feature = "ct-validation", target_arch = "x86_64"))]
    imp::client_request(imp::MAKE_MEM_UNDEFINED, bytes.as_ptr(), bytes.len());
    #[cfg(not(feature = "ct-validation"))]
    let _ = bytes;
}

/// Marks `bytes` as public again: the protocol reveals them (A, B, u, a length).
#[inline(always)]
pub fn declassify(bytes: &[u8]) {
    #[cfg(all(feature = "ct-validation", target_arch = "x86_64"))]
    imp::client_request(imp::MAKE_MEM_DEFINED, bytes.as_ptr(), bytes.len());
    #[cfg(not(feature = "ct-validation"))]
    let _ = bytes;
}

/// Declassifies a small value held in registers: it goes through memory, is marked public
/// there, and is read back with a volatile read so that the compiler cannot reuse the register
/// copy that memcheck still considers secret.
#[inline(always)]
pub fn declassify_bool(value: bool) -> bool {
    let cell = u8::from(value);
    declassify(core::slice::from_ref(&cell));
    // SAFETY: `cell` is a live, initialised local.
    #[allow(unsafe_code)]
    let read = unsafe { core::ptr::read_volatile(&cell) };
    read != 0
}

/// [`declassify_bool`] for a `usize`.
#[inline(always)]
pub fn declassify_usize(value: usize) -> usize {
    let cell = value.to_ne_bytes();
    declassify(&cell);
    // SAFETY: `cell` is a live, initialised local.
    #[allow(unsafe_code)]
    let read = unsafe { core::ptr::read_volatile(&cell) };
    usize::from_ne_bytes(read)
}

/// Marks the limbs of a big integer as secret.
#[inline(always)]
pub(crate) fn secret_uint(x: &crypto_bigint::BoxedUint) {
    secret(limb_bytes(x));
}

/// Marks the limbs of a big integer as public.
#[inline(always)]
pub(crate) fn declassify_uint(x: &crypto_bigint::BoxedUint) {
    declassify(limb_bytes(x));
}

fn limb_bytes(x: &crypto_bigint::BoxedUint) -> &[u8] {
    let limbs = x.as_words();
    // Only the address range is used, never the contents.
    let len = core::mem::size_of_val(limbs);
    #[allow(unsafe_code)]
    // SAFETY: `limbs` is a live slice of `len` initialised bytes; u8 has no alignment demands.
    unsafe {
        core::slice::from_raw_parts(limbs.as_ptr().cast::<u8>(), len)
    }
}

/// Whether this build carries the valgrind marks.
pub const ENABLED: bool = cfg!(feature = "ct-validation");
