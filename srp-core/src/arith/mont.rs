//! Montgomery multiplication and squaring on `N` 64-bit limbs (little-endian) in stack arrays,
//! portable Rust with `u128` products. Constant time: no branch and no memory index depends on
//! the values, only on `N`.
//!
//! R = 2^(64 N), the same R as crypto-bigint's `BoxedMontyForm` for these moduli, so values in
//! Montgomery form move between the two unchanged.

/// `acc + a * b + carry` as (low, high) words: at most (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1,
/// so nothing is lost.
#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) * u128::from(b) + u128::from(acc) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

/// `a + b + carry` as (sum, carry out).
#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) + u128::from(b) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

/// `out = t + hi * 2^(64 N)` reduced once modulo `n`, for a value below 2n: subtracts n when
/// `hi` is set or `t >= n`, selecting by mask.
#[inline(always)]
pub(super) fn reduce_once<const N: usize>(out: &mut [u64; N], t: &[u64; N], hi: u64, n: &[u64; N]) {
    let mut d = [0u64; N];
    let mut borrow = 0u64;
    for j in 0..N {
        let (x, b1) = t[j].overflowing_sub(n[j]);
        let (y, b2) = x.overflowing_sub(borrow);
        d[j] = y;
        borrow = u64::from(b1) | u64::from(b2);
    }
    // Take d when the subtraction did not underflow past the high word: hi - borrow >= 0.
    // `black_box` keeps LLVM from turning the mask back into a branch (`cargo xtask ctgrind`
    // caught that).
    let take_d = core::hint::black_box((hi | (borrow ^ 1)) & 1);
    let mask = core::hint::black_box(take_d.wrapping_neg());
    for j in 0..N {
        out[j] = (d[j] & mask) | (t[j] & !mask);
    }
}

/// `out = a * b / R mod n` (CIOS with the two carry chains fused), for a, b < n, n odd and
/// `n0 = -n^-1 mod 2^64`.
#[inline(never)]
pub(crate) fn mul<const N: usize>(
    out: &mut [u64; N],
    a: &[u64; N],
    b: &[u64; N],
    n: &[u64; N],
    n0: u64,
) {
    let mut t = [0u64; N];
    let mut t_hi = 0u64;
    for &ai in a.iter() {
        let (t0, mut c1) = mac(t[0], ai, b[0], 0);
        let m = t0.wrapping_mul(n0);
        let (_, mut c2) = mac(t0, m, n[0], 0);
        for j in 1..N {
            let (x, c1n) = mac(t[j], ai, b[j], c1);
            let (y, c2n) = mac(x, m, n[j], c2);
            t[j - 1] = y;
            c1 = c1n;
            c2 = c2n;
        }
        let (x, ca) = adc(t_hi, c1, 0);
        let (y, cb) = adc(x, c2, 0);
        t[N - 1] = y;
        t_hi = ca + cb;
    }
    reduce_once(out, &t, t_hi, n);
}

/// `out = a^2 / R mod n`: the square's cross products once, doubled, plus the diagonal
/// (N(N+1)/2 products instead of N^2), then a separate Montgomery reduction.
#[inline(never)]
pub(crate) fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
    let mut wide = [[0u64; N]; 2];
    let w = wide.as_flattened_mut();
    // Cross products a[i] * a[j], i < j.
    for i in 0..N {
        let mut c = 0u64;
        for j in i + 1..N {
            let (lo, hi) = mac(w[i + j], a[i], a[j], c);
            w[i + j] = lo;
            c = hi;
        }
        w[i + N] = c;
    }
    // Double them, then add the diagonal a[i]^2.
    let mut top = 0u64;
    for word in w.iter_mut() {
        let next = *word >> 63;
        *word = (*word << 1) | top;
        top = next;
    }
    let mut c = 0u64;
    for i in 0..N {
        let (lo, hi) = mac(w[2 * i], a[i], a[i], c);
        w[2 * i] = lo;
        let (x, c2) = adc(w[2 * i + 1], hi, 0);
        w[2 * i + 1] = x;
        c = c2;
    }
    // Montgomery reduction of the 2N-word square.
    let mut carry_hi = 0u64;
    for i in 0..N {
        let m = w[i].wrapping_mul(n0);
        let mut c = 0u64;
        for j in 0..N {
            let (lo, hi) = mac(w[i + j], m, n[j], c);
            w[i + j] = lo;
            c = hi;
        }
        let (s, c1) = adc(w[i + N], c, carry_hi);
        w[i + N] = s;
        carry_hi = c1;
    }
    let mut t = [0u64; N];
    t.copy_from_slice(&w[N..]);
    reduce_once(out, &t, carry_hi, n);
    zeroize::Zeroize::zeroize(&mut wide);
    zeroize::Zeroize::zeroize(&mut t);
}

/// `-n^-1 mod 2^64` for odd `n0` (Newton's iteration, each step doubling the correct bits).
pub(crate) fn neg_inv(n0: u64) -> u64 {
    let mut inv = 1u64;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}
