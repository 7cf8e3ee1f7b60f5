//! OpenSSL libcrypto's SRP and BIGNUM functions, for srp-core's cross-check test and benchmark.
//!
//! Debian's OpenSSL 3.0 still exports the deprecated `SRP_*` functions that libssl's TLS-SRP
//! uses. They are declared here by hand (no bindings crate) and wrapped in owning types that free
//! every OpenSSL object on drop.
//!
//! Some functions take `*const BIGNUM` so that they accept both a [`Bn`] and the static N and g
//! of libcrypto's built-in groups ([`DefaultGroup`]); both live as long as the test, so the
//! pointers are always valid (hence the `not_unsafe_ptr_arg_deref` allowance).
#![allow(non_camel_case_types, clippy::new_without_default, clippy::upper_case_acronyms)]
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::{self, NonNull};

/// OpenSSL's `BIGNUM` (opaque).
#[repr(C)]
pub struct BIGNUM {
    _opaque: [u8; 0],
}

/// OpenSSL's `BN_CTX` (opaque).
#[repr(C)]
pub struct BN_CTX {
    _opaque: [u8; 0],
}

/// OpenSSL's `BN_MONT_CTX` (opaque).
#[repr(C)]
pub struct BN_MONT_CTX {
    _opaque: [u8; 0],
}

/// `SRP_gN` from `openssl/srp.h`: one of the built-in RFC 5054 groups.
#[repr(C)]
pub struct SRP_gN {
    pub id: *mut c_char,
    pub g: *const BIGNUM,
    pub n: *const BIGNUM,
}

#[link(name = "crypto")]
unsafe extern "C" {
    pub fn OpenSSL_version(kind: c_int) -> *const c_char;

    pub fn BN_new() -> *mut BIGNUM;
    pub fn BN_clear_free(a: *mut BIGNUM);
    pub fn BN_bin2bn(s: *const u8, len: c_int, ret: *mut BIGNUM) -> *mut BIGNUM;
    pub fn BN_bn2bin(a: *const BIGNUM, to: *mut u8) -> c_int;
    pub fn BN_bn2binpad(a: *const BIGNUM, to: *mut u8, tolen: c_int) -> c_int;
    pub fn BN_num_bits(a: *const BIGNUM) -> c_int;
    pub fn BN_cmp(a: *const BIGNUM, b: *const BIGNUM) -> c_int;
    pub fn BN_add(r: *mut BIGNUM, a: *const BIGNUM, b: *const BIGNUM) -> c_int;
    pub fn BN_mul(r: *mut BIGNUM, a: *const BIGNUM, b: *const BIGNUM, ctx: *mut BN_CTX) -> c_int;
    pub fn BN_mod_add(
        r: *mut BIGNUM,
        a: *const BIGNUM,
        b: *const BIGNUM,
        m: *const BIGNUM,
        ctx: *mut BN_CTX,
    ) -> c_int;
    pub fn BN_mod_sub(
        r: *mut BIGNUM,
        a: *const BIGNUM,
        b: *const BIGNUM,
        m: *const BIGNUM,
        ctx: *mut BN_CTX,
    ) -> c_int;
    pub fn BN_mod_mul(
        r: *mut BIGNUM,
        a: *const BIGNUM,
        b: *const BIGNUM,
        m: *const BIGNUM,
        ctx: *mut BN_CTX,
    ) -> c_int;
    pub fn BN_mod_exp_mont_consttime(
        rr: *mut BIGNUM,
        a: *const BIGNUM,
        p: *const BIGNUM,
        m: *const BIGNUM,
        ctx: *mut BN_CTX,
        in_mont: *mut BN_MONT_CTX,
    ) -> c_int;
    pub fn BN_mod_exp_mont(
        rr: *mut BIGNUM,
        a: *const BIGNUM,
        p: *const BIGNUM,
        m: *const BIGNUM,
        ctx: *mut BN_CTX,
        in_mont: *mut BN_MONT_CTX,
    ) -> c_int;

    pub fn BN_CTX_new() -> *mut BN_CTX;
    pub fn BN_CTX_free(ctx: *mut BN_CTX);
    pub fn BN_MONT_CTX_new() -> *mut BN_MONT_CTX;
    pub fn BN_MONT_CTX_set(mont: *mut BN_MONT_CTX, m: *const BIGNUM, ctx: *mut BN_CTX) -> c_int;
    pub fn BN_MONT_CTX_free(mont: *mut BN_MONT_CTX);

    pub fn SRP_get_default_gN(id: *const c_char) -> *mut SRP_gN;
    pub fn SRP_check_known_gN_param(g: *const BIGNUM, n: *const BIGNUM) -> *mut c_char;
    pub fn SRP_create_verifier_BN(
        user: *const c_char,
        pass: *const c_char,
        salt: *mut *mut BIGNUM,
        verifier: *mut *mut BIGNUM,
        n: *const BIGNUM,
        g: *const BIGNUM,
    ) -> c_int;
    pub fn SRP_Calc_x(s: *const BIGNUM, user: *const c_char, pass: *const c_char) -> *mut BIGNUM;
    pub fn SRP_Calc_A(a: *const BIGNUM, n: *const BIGNUM, g: *const BIGNUM) -> *mut BIGNUM;
    pub fn SRP_Calc_B(
        b: *const BIGNUM,
        n: *const BIGNUM,
        g: *const BIGNUM,
        v: *const BIGNUM,
    ) -> *mut BIGNUM;
    pub fn SRP_Calc_u(a: *const BIGNUM, b: *const BIGNUM, n: *const BIGNUM) -> *mut BIGNUM;
    pub fn SRP_Calc_client_key(
        n: *const BIGNUM,
        b_pub: *const BIGNUM,
        g: *const BIGNUM,
        x: *const BIGNUM,
        a: *const BIGNUM,
        u: *const BIGNUM,
    ) -> *mut BIGNUM;
    pub fn SRP_Calc_server_key(
        a_pub: *const BIGNUM,
        v: *const BIGNUM,
        u: *const BIGNUM,
        b: *const BIGNUM,
        n: *const BIGNUM,
    ) -> *mut BIGNUM;
    pub fn SRP_Verify_A_mod_N(a_pub: *const BIGNUM, n: *const BIGNUM) -> c_int;
    pub fn SRP_Verify_B_mod_N(b_pub: *const BIGNUM, n: *const BIGNUM) -> c_int;
}

/// The OpenSSL version string, e.g. "OpenSSL 3.0.19 27 Jan 2026".
pub fn version() -> String {
    // SAFETY: OpenSSL_version(OPENSSL_VERSION = 0) returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(OpenSSL_version(0)) }.to_string_lossy().into_owned()
}

fn check(ok: c_int, what: &str) {
    assert_eq!(ok, 1, "OpenSSL {what} failed");
}

/// An owned `BIGNUM`, cleared and freed on drop.
pub struct Bn(NonNull<BIGNUM>);

impl Bn {
    /// Takes ownership of a `BIGNUM` an OpenSSL function returned; `None` for NULL.
    pub fn from_raw(ptr: *mut BIGNUM) -> Option<Bn> {
        NonNull::new(ptr).map(Bn)
    }

    /// A new `BIGNUM` holding 0.
    pub fn new() -> Bn {
        // SAFETY: BN_new has no preconditions.
        Bn::from_raw(unsafe { BN_new() }).expect("BN_new")
    }

    /// The big-endian integer `bytes` (leading zero bytes are dropped, as BN_bin2bn does).
    pub fn from_bytes(bytes: &[u8]) -> Bn {
        let len = c_int::try_from(bytes.len()).expect("length fits an int");
        // SAFETY: `bytes` is valid for `len` bytes; a NULL `ret` makes BN_bin2bn allocate.
        Bn::from_raw(unsafe { BN_bin2bn(bytes.as_ptr(), len, ptr::null_mut()) }).expect("BN_bin2bn")
    }

    pub fn as_ptr(&self) -> *const BIGNUM {
        self.0.as_ptr()
    }

    pub fn as_mut_ptr(&mut self) -> *mut BIGNUM {
        self.0.as_ptr()
    }

    /// Minimal big-endian encoding (BN_bn2bin: no leading zero bytes; empty for 0).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self.as_ptr())
    }

    /// Big-endian encoding left-padded with zeros to `len` bytes (BN_bn2binpad).
    pub fn to_bytes_padded(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let tolen = c_int::try_from(len).expect("length fits an int");
        // SAFETY: `out` has room for `len` bytes.
        let written = unsafe { BN_bn2binpad(self.as_ptr(), out.as_mut_ptr(), tolen) };
        assert_eq!(written, tolen, "BN_bn2binpad: value longer than {len} bytes");
        out
    }

    pub fn num_bytes(&self) -> usize {
        // SAFETY: a valid BIGNUM.
        let bits = unsafe { BN_num_bits(self.as_ptr()) };
        usize::try_from(bits).expect("non-negative").div_ceil(8)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: we own the BIGNUM; it is freed exactly once.
        unsafe { BN_clear_free(self.0.as_ptr()) }
    }
}

impl core::fmt::Debug for Bn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Bn({} bytes)", self.num_bytes())
    }
}

/// Minimal big-endian encoding of a borrowed BIGNUM.
pub fn to_bytes(bn: *const BIGNUM) -> Vec<u8> {
    // SAFETY: `bn` is a valid BIGNUM; `out` has room for BN_num_bytes(bn) bytes.
    unsafe {
        let len = usize::try_from(BN_num_bits(bn)).expect("non-negative").div_ceil(8);
        let mut out = vec![0u8; len];
        let written = BN_bn2bin(bn, out.as_mut_ptr());
        assert_eq!(usize::try_from(written).ok(), Some(len), "BN_bn2bin");
        out
    }
}

/// An owned `BN_CTX`.
pub struct BnCtx(NonNull<BN_CTX>);

impl BnCtx {
    pub fn new() -> BnCtx {
        // SAFETY: BN_CTX_new has no preconditions.
        BnCtx(NonNull::new(unsafe { BN_CTX_new() }).expect("BN_CTX_new"))
    }

    pub fn as_ptr(&self) -> *mut BN_CTX {
        self.0.as_ptr()
    }
}

impl Drop for BnCtx {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { BN_CTX_free(self.0.as_ptr()) }
    }
}

/// An owned `BN_MONT_CTX` for one modulus.
pub struct MontCtx(NonNull<BN_MONT_CTX>);

impl MontCtx {
    pub fn new(modulus: *const BIGNUM, ctx: &BnCtx) -> MontCtx {
        // SAFETY: BN_MONT_CTX_new has no preconditions; `modulus` is a valid odd BIGNUM.
        unsafe {
            let mont = MontCtx(NonNull::new(BN_MONT_CTX_new()).expect("BN_MONT_CTX_new"));
            check(BN_MONT_CTX_set(mont.as_ptr(), modulus, ctx.as_ptr()), "BN_MONT_CTX_set");
            mont
        }
    }

    pub fn as_ptr(&self) -> *mut BN_MONT_CTX {
        self.0.as_ptr()
    }
}

impl Drop for MontCtx {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}

/// One of OpenSSL's built-in SRP groups (`SRP_get_default_gN`). The BIGNUMs are OpenSSL's
/// static data: borrowed, never freed.
#[derive(Clone, Copy)]
pub struct DefaultGroup {
    pub n: *const BIGNUM,
    pub g: *const BIGNUM,
}

impl DefaultGroup {
    /// The group OpenSSL calls `bits` ("1024" .. "8192").
    pub fn get(bits: u32) -> DefaultGroup {
        let id = CString::new(bits.to_string()).expect("no NUL");
        // SAFETY: `id` is a NUL-terminated string; the result points to static data.
        let gn = unsafe { SRP_get_default_gN(id.as_ptr()) };
        assert!(!gn.is_null(), "OpenSSL has no built-in SRP group {bits}");
        // SAFETY: non-NULL, points to OpenSSL's static `knowngN` table.
        let gn = unsafe { &*gn };
        DefaultGroup { n: gn.n, g: gn.g }
    }

    pub fn n_bytes(&self) -> Vec<u8> {
        to_bytes(self.n)
    }

    pub fn g_bytes(&self) -> Vec<u8> {
        to_bytes(self.g)
    }
}

/// `SRP_check_known_gN_param(g, N)`: the id of the built-in group with this (g, N), if any.
pub fn known_gn_id(g: &Bn, n: &Bn) -> Option<String> {
    // SAFETY: valid BIGNUMs; the result is NULL or a static string.
    let id = unsafe { SRP_check_known_gN_param(g.as_ptr(), n.as_ptr()) };
    // SAFETY: non-NULL results are NUL-terminated static strings.
    (!id.is_null()).then(|| unsafe { CStr::from_ptr(id) }.to_string_lossy().into_owned())
}

fn c_string(bytes: &[u8], what: &str) -> CString {
    CString::new(bytes).unwrap_or_else(|_| panic!("{what} passed to OpenSSL contains a NUL byte"))
}

/// `SRP_Calc_x(s, user, pass)`. OpenSSL takes the salt as a BIGNUM, so it hashes the salt
/// without its leading zero bytes; user and pass are C strings.
pub fn calc_x(salt: &[u8], user: &[u8], pass: &[u8]) -> Bn {
    let salt = Bn::from_bytes(salt);
    let (user, pass) = (c_string(user, "username"), c_string(pass, "password"));
    // SAFETY: valid BIGNUM and NUL-terminated strings.
    Bn::from_raw(unsafe { SRP_Calc_x(salt.as_ptr(), user.as_ptr(), pass.as_ptr()) })
        .expect("SRP_Calc_x")
}

/// `SRP_create_verifier_BN` with a given salt: v = g^x % N.
pub fn create_verifier(group: DefaultGroup, user: &[u8], pass: &[u8], salt: &[u8]) -> Bn {
    let (user, pass) = (c_string(user, "username"), c_string(pass, "password"));
    let salt_in = Bn::from_bytes(salt);
    let mut salt_ptr = salt_in.as_ptr().cast_mut();
    let mut verifier = ptr::null_mut();
    // SAFETY: valid strings and BIGNUMs. With a non-NULL *salt, OpenSSL uses it and stores it
    // back unchanged (still owned by `salt_in`); *verifier receives a new BIGNUM we own.
    let ok = unsafe {
        SRP_create_verifier_BN(
            user.as_ptr(),
            pass.as_ptr(),
            &mut salt_ptr,
            &mut verifier,
            group.n,
            group.g,
        )
    };
    check(ok, "SRP_create_verifier_BN");
    assert_eq!(salt_ptr.cast_const(), salt_in.as_ptr(), "SRP_create_verifier_BN kept the salt");
    Bn::from_raw(verifier).expect("SRP_create_verifier_BN verifier")
}

/// `SRP_Calc_A(a, N, g)`.
pub fn calc_a(group: DefaultGroup, a: &Bn) -> Bn {
    // SAFETY: valid BIGNUMs.
    Bn::from_raw(unsafe { SRP_Calc_A(a.as_ptr(), group.n, group.g) }).expect("SRP_Calc_A")
}

/// `SRP_Calc_B(b, N, g, v)`.
pub fn calc_b(group: DefaultGroup, b: &Bn, v: &Bn) -> Bn {
    // SAFETY: valid BIGNUMs.
    Bn::from_raw(unsafe { SRP_Calc_B(b.as_ptr(), group.n, group.g, v.as_ptr()) })
        .expect("SRP_Calc_B")
}

/// `SRP_Calc_u(A, B, N)`; `None` when OpenSSL refuses (A or B not below N).
pub fn calc_u(group: DefaultGroup, a_pub: &Bn, b_pub: &Bn) -> Option<Bn> {
    // SAFETY: valid BIGNUMs.
    Bn::from_raw(unsafe { SRP_Calc_u(a_pub.as_ptr(), b_pub.as_ptr(), group.n) })
}

/// k = SHA1(N | PAD(g)) as OpenSSL computes it internally (`srp_Calc_k` is
/// `srp_Calc_xy(N, g, N)`, which `SRP_Calc_u(N, g, N)` reaches because the first argument is
/// N itself).
pub fn calc_k(group: DefaultGroup) -> Bn {
    // SAFETY: OpenSSL's static BIGNUMs.
    Bn::from_raw(unsafe { SRP_Calc_u(group.n, group.g, group.n) }).expect("SRP_Calc_u(N, g, N)")
}

/// `SRP_Calc_client_key(N, B, g, x, a, u)`: the client's S.
pub fn calc_client_key(group: DefaultGroup, b_pub: &Bn, x: &Bn, a: &Bn, u: &Bn) -> Bn {
    // SAFETY: valid BIGNUMs.
    Bn::from_raw(unsafe {
        SRP_Calc_client_key(group.n, b_pub.as_ptr(), group.g, x.as_ptr(), a.as_ptr(), u.as_ptr())
    })
    .expect("SRP_Calc_client_key")
}

/// `SRP_Calc_server_key(A, v, u, b, N)`: the server's S.
pub fn calc_server_key(group: DefaultGroup, a_pub: &Bn, v: &Bn, u: &Bn, b: &Bn) -> Bn {
    // SAFETY: valid BIGNUMs.
    Bn::from_raw(unsafe {
        SRP_Calc_server_key(a_pub.as_ptr(), v.as_ptr(), u.as_ptr(), b.as_ptr(), group.n)
    })
    .expect("SRP_Calc_server_key")
}

/// `SRP_Verify_A_mod_N(A, N)`: true when A % N != 0 (the only check it makes).
pub fn verify_a_mod_n(group: DefaultGroup, a_pub: &Bn) -> bool {
    // SAFETY: valid BIGNUMs.
    unsafe { SRP_Verify_A_mod_N(a_pub.as_ptr(), group.n) == 1 }
}

/// `SRP_Verify_B_mod_N(B, N)`: true when B % N != 0.
pub fn verify_b_mod_n(group: DefaultGroup, b_pub: &Bn) -> bool {
    // SAFETY: valid BIGNUMs.
    unsafe { SRP_Verify_B_mod_N(b_pub.as_ptr(), group.n) == 1 }
}

/// r = a + b.
pub fn add(a: &Bn, b: &Bn) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs.
    check(unsafe { BN_add(r.as_mut_ptr(), a.as_ptr(), b.as_ptr()) }, "BN_add");
    r
}

/// r = a * b.
pub fn mul(a: &Bn, b: &Bn, ctx: &BnCtx) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and context.
    check(unsafe { BN_mul(r.as_mut_ptr(), a.as_ptr(), b.as_ptr(), ctx.as_ptr()) }, "BN_mul");
    r
}

/// r = a + b mod m.
pub fn mod_add(a: *const BIGNUM, b: *const BIGNUM, m: *const BIGNUM, ctx: &BnCtx) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and context.
    check(unsafe { BN_mod_add(r.as_mut_ptr(), a, b, m, ctx.as_ptr()) }, "BN_mod_add");
    r
}

/// r = a - b mod m.
pub fn mod_sub(a: *const BIGNUM, b: *const BIGNUM, m: *const BIGNUM, ctx: &BnCtx) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and context.
    check(unsafe { BN_mod_sub(r.as_mut_ptr(), a, b, m, ctx.as_ptr()) }, "BN_mod_sub");
    r
}

/// r = a * b mod m.
pub fn mod_mul(a: *const BIGNUM, b: *const BIGNUM, m: *const BIGNUM, ctx: &BnCtx) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and context.
    check(unsafe { BN_mod_mul(r.as_mut_ptr(), a, b, m, ctx.as_ptr()) }, "BN_mod_mul");
    r
}

/// r = a^p mod m with `BN_mod_exp_mont_consttime` and a precomputed Montgomery context.
pub fn mod_exp_consttime(
    a: *const BIGNUM,
    p: &Bn,
    m: *const BIGNUM,
    ctx: &BnCtx,
    mont: &MontCtx,
) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and contexts; `mont` was set up for `m`.
    let ok = unsafe {
        BN_mod_exp_mont_consttime(r.as_mut_ptr(), a, p.as_ptr(), m, ctx.as_ptr(), mont.as_ptr())
    };
    check(ok, "BN_mod_exp_mont_consttime");
    r
}

/// r = a^p mod m with the variable-time `BN_mod_exp_mont` and a precomputed Montgomery context.
pub fn mod_exp_vartime(
    a: *const BIGNUM,
    p: &Bn,
    m: *const BIGNUM,
    ctx: &BnCtx,
    mont: &MontCtx,
) -> Bn {
    let mut r = Bn::new();
    // SAFETY: valid BIGNUMs and contexts; `mont` was set up for `m`.
    let ok =
        unsafe { BN_mod_exp_mont(r.as_mut_ptr(), a, p.as_ptr(), m, ctx.as_ptr(), mont.as_ptr()) };
    check(ok, "BN_mod_exp_mont");
    r
}
