//! Montgomery multiplication on 52-bit limbs with AVX-512 IFMA (`VPMADD52LUQ`/`VPMADD52HUQ`,
//! eight 64-bit lanes per register), and the same kernel over a portable emulation of those
//! instructions.
//!
//! A value of the `N`-word modulus is held as `lanes(N)` limbs of 52 bits (a multiple of 8,
//! with `52 lanes(N) >= 64 N + 2`), in the backend's own Montgomery form with R' = 2^(52
//! lanes(N)), and only "almost" reduced: below 2N, not N (Gueron and Krasnov's Almost
//! Montgomery Multiplication, as OpenSSL's `rsaz_*_avx512ifma` code uses it). With inputs below
//! 2N and 4N < R' the product `a b / R'` stays below 2N, so no conditional subtraction is needed
//! between multiplications; [`Ctx::leave`] reduces once at the end.
//!
//! The kernel ([`amm`]) is generic over [`Lanes`], the handful of vector operations it uses:
//! [`Avx512`] maps them to the intrinsics (one instruction each), [`Emulated`] to scalar Rust on
//! `[u64; 8]` with the same control flow and the same memory accesses. Valgrind cannot execute
//! AVX-512, so `cargo xtask ctgrind` checks the kernel's control flow and addressing through the
//! `ifma-emulated` backend, and `cargo xtask ctgrind` also disassembles the real kernel and
//! fails on any branch or indexed load that is not part of the fixed loop structure (see
//! docs/design.md, "Constant time").
//!
//! One multiplication: for each limb a_i of a (public index, secret value), broadcast a_i, add
//! the low halves of a_i b into the accumulator lanes, compute the reduction factor m from the
//! lowest limb (kept in a scalar register), add the low halves of m N, shift every lane down
//! one limb (the lowest limb is now a multiple of 2^52 and its carry goes to the scalar), then
//! add the high halves of a_i b and m N. Lanes hold 64 bits, limbs 52: the headroom absorbs the
//! 4 lanes(N) additions of at most 2^52 each (at most 640 * 2^52 < 2^64 for 8192 bits); one
//! carry pass at the end makes the limbs 52-bit again.

use super::mont;

/// Bits per limb.
const LIMB: u32 = 52;
const MASK: u64 = (1 << LIMB) - 1;

/// The number of 52-bit limbs (a multiple of 8) for a modulus of `n` 64-bit words: room for
/// 4N < R'.
pub(super) const fn lanes(n: usize) -> usize {
    (64 * n + 2).div_ceil(LIMB as usize).next_multiple_of(8)
}

/// The most vectors of 8 limbs a value has (8192 bits: 160 limbs).
const MAX_VECTORS: usize = 20;

/// The vector operations of the kernel. Each is one AVX-512 instruction in [`Avx512`].
pub(super) trait Lanes {
    type V: Copy;
    fn zero() -> Self::V;
    fn splat(x: u64) -> Self::V;
    fn load(words: &[u64]) -> Self::V;
    fn store(v: Self::V, words: &mut [u64]);
    /// `acc + low52(x * y)` per lane (of the low 52 bits of x and y).
    fn madd_lo(acc: Self::V, x: Self::V, y: Self::V) -> Self::V;
    /// `acc + high52(x * y)` per lane.
    fn madd_hi(acc: Self::V, x: Self::V, y: Self::V) -> Self::V;
    /// Lanes 1..8 of `lo` then lane 0 of `hi` (`VALIGNQ` by one).
    fn shift(hi: Self::V, lo: Self::V) -> Self::V;
    /// Lane 0.
    fn low(v: Self::V) -> u64;
}

/// Scalar Rust on eight words: the same control flow and memory accesses as [`Avx512`], for the
/// constant-time check under valgrind and the differential tests.
#[cfg(any(test, feature = "backend-select"))]
pub(super) struct Emulated;

#[cfg(any(test, feature = "backend-select"))]
impl Lanes for Emulated {
    type V = [u64; 8];
    #[inline(always)]
    fn zero() -> [u64; 8] {
        [0; 8]
    }
    #[inline(always)]
    fn splat(x: u64) -> [u64; 8] {
        [x; 8]
    }
    #[inline(always)]
    fn load(words: &[u64]) -> [u64; 8] {
        let mut v = [0; 8];
        v.copy_from_slice(&words[..8]);
        v
    }
    #[inline(always)]
    fn store(v: [u64; 8], words: &mut [u64]) {
        words[..8].copy_from_slice(&v);
    }
    #[inline(always)]
    fn madd_lo(acc: [u64; 8], x: [u64; 8], y: [u64; 8]) -> [u64; 8] {
        core::array::from_fn(|k| {
            let p = u128::from(x[k] & MASK) * u128::from(y[k] & MASK);
            acc[k].wrapping_add(p as u64 & MASK)
        })
    }
    #[inline(always)]
    fn madd_hi(acc: [u64; 8], x: [u64; 8], y: [u64; 8]) -> [u64; 8] {
        core::array::from_fn(|k| {
            let p = u128::from(x[k] & MASK) * u128::from(y[k] & MASK);
            acc[k].wrapping_add((p >> LIMB) as u64)
        })
    }
    #[inline(always)]
    fn shift(hi: [u64; 8], lo: [u64; 8]) -> [u64; 8] {
        core::array::from_fn(|k| if k < 7 { lo[k + 1] } else { hi[0] })
    }
    #[inline(always)]
    fn low(v: [u64; 8]) -> u64 {
        v[0]
    }
}

/// The AVX-512 IFMA instructions. Only used inside [`mul_avx512`], whose caller promises the
/// CPU has AVX512F and AVX512IFMA.
#[cfg(srp_ifma)]
pub(super) struct Avx512;

#[cfg(srp_ifma)]
#[allow(unsafe_code)]
// Stable since Rust 1.89; `cfg(srp_ifma)` is set only by such compilers (build.rs).
#[allow(clippy::incompatible_msrv)]
impl Lanes for Avx512 {
    type V = core::arch::x86_64::__m512i;
    // SAFETY (every method): only reached from `mul_avx512` (the CPU has AVX512F and
    // AVX512IFMA); loads and stores touch exactly 8 words of a slice that has them (checked).
    #[inline(always)]
    fn zero() -> Self::V {
        unsafe { core::arch::x86_64::_mm512_setzero_si512() }
    }
    #[inline(always)]
    fn splat(x: u64) -> Self::V {
        unsafe { core::arch::x86_64::_mm512_set1_epi64(x as i64) }
    }
    #[inline(always)]
    fn load(words: &[u64]) -> Self::V {
        let words = &words[..8];
        unsafe { core::arch::x86_64::_mm512_loadu_si512(words.as_ptr().cast()) }
    }
    #[inline(always)]
    fn store(v: Self::V, words: &mut [u64]) {
        let words = &mut words[..8];
        unsafe { core::arch::x86_64::_mm512_storeu_si512(words.as_mut_ptr().cast(), v) }
    }
    #[inline(always)]
    fn madd_lo(acc: Self::V, x: Self::V, y: Self::V) -> Self::V {
        unsafe { core::arch::x86_64::_mm512_madd52lo_epu64(acc, x, y) }
    }
    #[inline(always)]
    fn madd_hi(acc: Self::V, x: Self::V, y: Self::V) -> Self::V {
        unsafe { core::arch::x86_64::_mm512_madd52hi_epu64(acc, x, y) }
    }
    #[inline(always)]
    fn shift(hi: Self::V, lo: Self::V) -> Self::V {
        unsafe { core::arch::x86_64::_mm512_alignr_epi64::<1>(hi, lo) }
    }
    #[inline(always)]
    fn low(v: Self::V) -> u64 {
        unsafe {
            core::arch::x86_64::_mm_cvtsi128_si64(core::arch::x86_64::_mm512_castsi512_si128(v))
                as u64
        }
    }
}

/// `out = a b / R' mod N`, almost reduced (below 2N for a, b below 2N), all three `l =
/// lanes(N)` normalised 52-bit limbs; `n` is N in 52-bit limbs and `k0 = -N^-1 mod 2^52`.
/// Loops and indices depend only on `l`.
#[inline(always)]
pub(super) fn amm<S: Lanes>(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], k0: u64, l: usize) {
    let v = l / 8;
    let (a, b, n) = (&a[..l], &b[..l], &n[..l]);
    let (b0, n0) = (b[0], n[0]);
    let mut acc = [S::zero(); MAX_VECTORS];
    let acc = &mut acc[..v];
    // The lowest limb, in full: lane 0 of acc[0] is stale between rows.
    let mut low = 0u64;
    for &ai in a {
        #[cfg(feature = "ct-planted")]
        {
            super::planted(super::Plant::Branch, ai);
            super::planted(super::Plant::Load, ai);
        }
        let x = S::splat(ai);
        let t = low.wrapping_add(ai.wrapping_mul(b0) & MASK);
        let m = t.wrapping_mul(k0) & MASK;
        let t = t.wrapping_add(m.wrapping_mul(n0) & MASK);
        let y = S::splat(m);
        for j in 0..v {
            let r = S::madd_lo(acc[j], x, S::load(&b[8 * j..]));
            acc[j] = S::madd_lo(r, y, S::load(&n[8 * j..]));
        }
        for j in 0..v - 1 {
            acc[j] = S::shift(acc[j + 1], acc[j]);
        }
        acc[v - 1] = S::shift(S::zero(), acc[v - 1]);
        for j in 0..v {
            let r = S::madd_hi(acc[j], x, S::load(&b[8 * j..]));
            acc[j] = S::madd_hi(r, y, S::load(&n[8 * j..]));
        }
        // t is a multiple of 2^52: its carry joins the new lowest limb.
        low = (t >> LIMB).wrapping_add(S::low(acc[0]));
    }
    let out = &mut out[..l];
    for (j, &r) in acc.iter().enumerate() {
        S::store(r, &mut out[8 * j..]);
    }
    out[0] = low;
    let mut carry = 0u64;
    for limb in out.iter_mut() {
        let x = limb.wrapping_add(carry);
        *limb = x & MASK;
        carry = x >> LIMB;
    }
}

/// The multiplication kernel of one instruction set: `out = a b / R'` on `lanes(N)` limbs.
pub(super) trait Kernel {
    fn mul<const N: usize>(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], k0: u64);
}

#[cfg(any(test, feature = "backend-select"))]
impl Kernel for Emulated {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], k0: u64) {
        mul_emulated::<N>(out, a, b, n, k0)
    }
}

#[cfg(srp_ifma)]
#[allow(unsafe_code)]
impl Kernel for Avx512 {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], k0: u64) {
        // SAFETY: `Avx512` is only instantiated by `dispatch!` for `Backend::Ifma`, which
        // `backend()` returns only when the CPU has AVX512F and AVX512IFMA (or a caller of
        // `with_backend_unchecked` promised it).
        unsafe { mul_avx512::<N>(out, a, b, n, k0) }
    }
}

/// [`amm`] with the AVX-512 instructions: the function `cargo xtask ctgrind` disassembles.
///
/// # Safety
/// The CPU must support AVX512F and AVX512IFMA.
#[cfg(srp_ifma)]
#[allow(unsafe_code)]
#[inline(never)]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(super) unsafe fn mul_avx512<const N: usize>(
    out: &mut [u64],
    a: &[u64],
    b: &[u64],
    n: &[u64],
    k0: u64,
) {
    amm::<Avx512>(out, a, b, n, k0, lanes(N))
}

/// [`amm`] over [`Emulated`]: what the constant-time check runs under valgrind.
#[cfg(any(test, feature = "backend-select"))]
#[inline(never)]
pub(super) fn mul_emulated<const N: usize>(
    out: &mut [u64],
    a: &[u64],
    b: &[u64],
    n: &[u64],
    k0: u64,
) {
    amm::<Emulated>(out, a, b, n, k0, lanes(N))
}

/// `x` (64-bit words, below 2^(64 words)) as `l` 52-bit limbs. Indices depend only on `l`.
pub(super) fn split(x: &[u64], out: &mut [u64], l: usize) {
    for (k, limb) in out[..l].iter_mut().enumerate() {
        let (word, shift) = (k * 52 / 64, (k * 52 % 64) as u32);
        let lo = x.get(word).copied().unwrap_or(0) >> shift;
        let hi = if shift > 12 { x.get(word + 1).copied().unwrap_or(0) << (64 - shift) } else { 0 };
        *limb = (lo | hi) & MASK;
    }
}

/// Normalised 52-bit limbs as 64-bit words: writes the low `out.len()` words and returns the
/// bits above them (0 or 1 for a value below 2N). Indices depend only on the lengths.
pub(super) fn join(limbs: &[u64], out: &mut [u64]) -> u64 {
    out.fill(0);
    let mut above = 0u64;
    for (k, &limb) in limbs.iter().enumerate() {
        let (word, shift) = (k * 52 / 64, (k * 52 % 64) as u32);
        let spill = if shift > 12 { limb >> (64 - shift) } else { 0 };
        for (w, part) in [(word, limb << shift), (word + 1, spill)] {
            match out.get_mut(w) {
                Some(o) => *o |= part,
                None => above |= part,
            }
        }
    }
    above
}

/// The constants of one modulus for this backend (public): N in 52-bit limbs, `-N^-1 mod
/// 2^52`, and the factors that convert between the 64-bit Montgomery form (R = 2^(64 words))
/// and this one (R' = 2^(52 l)).
pub(crate) struct Ctx {
    pub(super) k0: u64,
    pub(super) n: Box<[u64]>,
    /// R'^2 / R mod N: `amm(x R, to_r) = x R'`.
    pub(super) to_r: Box<[u64]>,
    /// R mod N: `amm(x R', from_r) = x R`.
    pub(super) from_r: Box<[u64]>,
}

impl Ctx {
    /// The constants for `n` (odd) with `one = R mod n`.
    pub(super) fn new(n: &[u64], one: &[u64]) -> Ctx {
        let words = n.len();
        let l = lanes(words);
        // R'^2 mod N = R 2^(104 l - 64 words) mod N, by doubling R mod N (public values).
        let mut x = one.to_vec();
        for _ in 0..(2 * 52 * l - 64 * words) {
            let top = x[words - 1] >> 63;
            let mut carry = 0;
            for w in x.iter_mut() {
                let next = *w >> 63;
                *w = (*w << 1) | carry;
                carry = next;
            }
            if top == 1 || !lt(&x, n) {
                sub(&mut x, n);
            }
        }
        // Divide by R.
        let mut to_r = vec![0u64; words];
        mont_mul_by_one(&mut to_r, &x, n, mont::neg_inv(n[0]));
        let mut ctx = Ctx {
            k0: mont::neg_inv(n[0]) & MASK,
            n: vec![0; l].into(),
            to_r: vec![0; l].into(),
            from_r: vec![0; l].into(),
        };
        split(n, &mut ctx.n, l);
        split(&to_r, &mut ctx.to_r, l);
        split(one, &mut ctx.from_r, l);
        ctx
    }
}

/// a < b for equal-length little-endian words (public values only).
fn lt(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// a -= b (public values only).
fn sub(a: &mut [u64], b: &[u64]) {
    let mut borrow = 0u64;
    for (x, y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(*y);
        let (d, b2) = d.overflowing_sub(borrow);
        *x = d;
        borrow = u64::from(b1 | b2);
    }
}

/// `out = x / R mod n` (x < n): word-by-word Montgomery reduction, public values.
fn mont_mul_by_one(out: &mut [u64], x: &[u64], n: &[u64], n0: u64) {
    let words = n.len();
    let mut t = x.to_vec();
    t.resize(2 * words + 1, 0);
    for i in 0..words {
        let m = t[i].wrapping_mul(n0);
        let mut c = 0u128;
        for j in 0..words {
            let s = u128::from(t[i + j]) + u128::from(m) * u128::from(n[j]) + c;
            t[i + j] = s as u64;
            c = s >> 64;
        }
        let mut k = i + words;
        while c != 0 {
            let s = u128::from(t[k]) + c;
            t[k] = s as u64;
            c = s >> 64;
            k += 1;
        }
    }
    out.copy_from_slice(&t[words..2 * words]);
    if t[2 * words] != 0 || !lt(out, n) {
        sub(out, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;
    use crypto_bigint::{BoxedUint, NonZero};

    fn random_limbs(l: usize, seed: &mut u64) -> Vec<u64> {
        (0..l)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                seed.wrapping_mul(0x2545_F491_4F6C_DD1D) & MASK
            })
            .collect()
    }

    /// 52-bit limbs as an integer.
    fn to_uint(limbs: &[u64]) -> BoxedUint {
        let mut words = vec![0u64; limbs.len() * 52 / 64 + 1];
        let above = join(limbs, &mut words);
        assert_eq!(above, 0);
        BoxedUint::from_words(words)
    }

    /// The kernel alone, on almost-reduced inputs (up to 2N - 1, which the exponentiation
    /// passes between multiplications): `out < 2N`, normalised limbs, `out R' = a b mod N`, and
    /// the emulated and the AVX-512 kernel agree word for word. Every group, edge inputs 0, 1,
    /// N - 1, N, 2N - 1, all-ones limbs below 2N, and random values.
    #[test]
    fn almost_montgomery_multiplication() {
        let mut seed = 0x0ddc_0ffe_e15e_a5e1u64;
        for id in GroupId::ALL {
            let group = id.group();
            let m = group.modulus();
            let ctx = m.ifma();
            let words = m.limbs();
            let l = lanes(words);
            assert!(52 * l >= 64 * words + 2 && l.is_multiple_of(8) && l <= 2 * words);
            let nz = NonZero::new(group.n.clone()).expect("N > 0");
            // Test values on `len` words, room for 2N.
            let len = l * 52 / 64 + 1;
            let uint = |words: &[u64]| {
                let mut w = words.to_vec();
                w.resize(len, 0);
                BoxedUint::from_words(w)
            };
            let n_wide = uint(group.n.as_words());
            let two_n = n_wide.wrapping_add(&n_wide);
            let one = uint(&[1]);
            // All ones in every limb below 2N: 2^(64 words) - 1.
            let ones = uint(&vec![u64::MAX; words]);
            assert!(ones < two_n);
            let mut edges = vec![
                uint(&[0]),
                one.clone(),
                n_wide.wrapping_sub(&one),
                n_wide.clone(),
                two_n.wrapping_sub(&one),
                ones,
            ];
            let two_nz = NonZero::new(two_n.clone()).expect("2N > 0");
            for _ in 0..4 {
                edges.push(uint(to_uint(&random_limbs(l, &mut seed)).rem(&two_nz).as_words()));
            }
            let mut r_prime = vec![0u64; len];
            r_prime[52 * l / 64] = 1 << (52 * l % 64);
            let r_prime = uint(&r_prime).rem(&nz);
            for a in &edges {
                for b in &edges {
                    let (mut aw, mut bw) = (vec![0u64; l], vec![0u64; l]);
                    split(a.as_words(), &mut aw, l);
                    split(b.as_words(), &mut bw, l);
                    let mut out = vec![0u64; l];
                    amm::<Emulated>(&mut out, &aw, &bw, &ctx.n, ctx.k0, l);
                    assert!(out.iter().all(|&x| x <= MASK), "normalised, {id:?}");
                    let got = uint(to_uint(&out).as_words());
                    assert!(got < two_n, "below 2N, {id:?}");
                    assert_eq!(
                        got.rem(&nz).mul_mod(&r_prime, &nz),
                        a.rem(&nz).mul_mod(&b.rem(&nz), &nz),
                        "a b / R', {id:?}"
                    );
                    #[cfg(srp_ifma)]
                    if std::is_x86_feature_detected!("avx512f")
                        && std::is_x86_feature_detected!("avx512ifma")
                    {
                        let mut real = vec![0u64; l];
                        #[allow(unsafe_code)]
                        // SAFETY: the CPU has AVX512F and AVX512IFMA (checked above).
                        unsafe {
                            amm_avx512(&mut real, &aw, &bw, &ctx.n, ctx.k0, l)
                        };
                        assert_eq!(real, out, "AVX-512 and emulated kernels, {id:?}");
                    }
                }
            }
        }
    }

    /// The AVX-512 kernel for any limb count (the tests' entry point).
    #[cfg(srp_ifma)]
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn amm_avx512(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], k0: u64, l: usize) {
        amm::<Avx512>(out, a, b, n, k0, l)
    }
}
