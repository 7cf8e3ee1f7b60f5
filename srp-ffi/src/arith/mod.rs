//! The exponentiation backend: fixed-size Montgomery arithmetic for the RFC 5054 group sizes,
//! a constant-time fixed-window exponentiation for variable bases, and fixed-base tables for g.
//!
//! Every function here is constant time in the values: loops and memory indices depend only on
//! the limb count and the public exponent width; a table entry is read by touching every entry
//! and keeping one by mask. Values are in Montgomery form with R = 2^(64 limbs), as crypto-bigint
//! `BoxedMontyForm` holds them, little-endian 64-bit words.
//!
//! One backend so far: portable Rust ([`mont`]), the same code on every CPU.

mod mont;

use zeroize::Zeroize;

/// Window width in bits, for variable bases and for the fixed-base tables.
const WINDOW: usize = 4;
const TABLE_LEN: usize = 1 << WINDOW;

/// Which backend this build and CPU use: reported by the ctgrind harness and the benchmark.
pub fn backend_name() -> &'static str {
    "portable"
}

/// A modulus N (odd, its size a supported multiple of 64 bits) with its Montgomery constants.
pub(crate) struct Modulus {
    n: Box<[u64]>,
    n0: u64,
    /// R mod N: one in Montgomery form.
    one: Box<[u64]>,
}

/// Calls `$f::<N>` for the modulus' limb count.
macro_rules! dispatch {
    ($limbs:expr, $f:ident($($arg:expr),*)) => {
        match $limbs {
            16 => $f::<16>($($arg),*),
            24 => $f::<24>($($arg),*),
            32 => $f::<32>($($arg),*),
            48 => $f::<48>($($arg),*),
            64 => $f::<64>($($arg),*),
            96 => $f::<96>($($arg),*),
            128 => $f::<128>($($arg),*),
            // `Modulus::new` admits only the sizes above.
            other => unreachable!("no backend for {other} limbs"),
        }
    };
}

/// g^(j 16^i) for every window i of an exponent of up to `windows * 4` bits and every digit j,
/// in Montgomery form: entry (i, j) is `table[(i * 16 + j) * limbs..][..limbs]`.
pub(crate) struct FixedBase {
    table: Box<[u64]>,
    windows: usize,
}

impl Modulus {
    /// Whether a modulus of `limbs` words has a backend.
    pub(crate) const fn supports(limbs: usize) -> bool {
        matches!(limbs, 16 | 24 | 32 | 48 | 64 | 96 | 128)
    }

    /// `n` little-endian (odd, a supported number of words), `one` = R mod n.
    pub(crate) fn new(n: &[u64], one: &[u64]) -> Modulus {
        assert!(Self::supports(n.len()) && one.len() == n.len() && n[0] & 1 == 1);
        Modulus { n: n.into(), n0: mont::neg_inv(n[0]), one: one.into() }
    }

    /// The number of 64-bit words of N.
    pub(crate) fn limbs(&self) -> usize {
        self.n.len()
    }

    /// `out = base^exp` (Montgomery form in and out) for the low `bits` bits of `exp`
    /// (little-endian words); `bits` is public, the values secret.
    pub(crate) fn pow(&self, base: &[u64], exp: &[u64], bits: u32, out: &mut [u64]) {
        dispatch!(self.limbs(), pow_n(self, base, exp, bits as usize, out))
    }

    /// Builds the fixed-base table of `base` (Montgomery form) for exponents up to `max_bits`.
    pub(crate) fn fixed_base(&self, base: &[u64], max_bits: u32) -> FixedBase {
        dispatch!(self.limbs(), fixed_base_n(self, base, max_bits as usize))
    }

    /// `out = base^exp` with the fixed-base table of `base`, for the low `bits` bits of `exp`
    /// (`bits` at most the table's width).
    pub(crate) fn pow_fixed(&self, table: &FixedBase, exp: &[u64], bits: u32, out: &mut [u64]) {
        assert!((bits as usize).div_ceil(WINDOW) <= table.windows);
        dispatch!(self.limbs(), pow_fixed_n(self, table, exp, bits as usize, out))
    }

    /// `out = a * b` (Montgomery form).
    #[cfg(test)]
    pub(crate) fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        fn mul_n<const N: usize>(m: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) {
            let mut r = [0u64; N];
            mont::mul(&mut r, &array(a), &array(b), &array(&m.n), m.n0);
            out.copy_from_slice(&r);
        }
        dispatch!(self.limbs(), mul_n(self, a, b, out))
    }

    /// `out = a^2` (Montgomery form).
    #[cfg(test)]
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64]) {
        fn sqr_n<const N: usize>(m: &Modulus, a: &[u64], out: &mut [u64]) {
            let mut r = [0u64; N];
            mont::sqr(&mut r, &array(a), &array(&m.n), m.n0);
            out.copy_from_slice(&r);
        }
        dispatch!(self.limbs(), sqr_n(self, a, out))
    }
}

/// A slice of exactly N words as an array (the callers pass the modulus' limb count).
#[inline(always)]
fn array<const N: usize>(words: &[u64]) -> [u64; N] {
    let mut out = [0u64; N];
    out.copy_from_slice(words);
    out
}

/// The `WINDOW` bits of `exp` starting at bit `at` (bits past the end of `exp` read as 0). `at`
/// is public; the digit is secret and used only as a mask.
#[inline(always)]
fn digit(exp: &[u64], at: usize) -> usize {
    let word = at / 64;
    let shift = at % 64;
    let mut bits = exp.get(word).copied().unwrap_or(0) >> shift;
    if shift + WINDOW > 64 {
        bits |= exp.get(word + 1).copied().unwrap_or(0) << (64 - shift);
    }
    (bits as usize) & (TABLE_LEN - 1)
}

/// All ones when `a == b`, else zero, without a branch.
#[inline(always)]
fn eq_mask(a: usize, b: usize) -> u64 {
    // `black_box` on the way in and out hides from the optimiser that this is a comparison
    // yielding 0 or all ones: otherwise LLVM turns the masked table scan back into a branch on
    // the secret index (as `cargo xtask ctgrind` showed).
    let d = core::hint::black_box((a ^ b) as u64);
    // d | -d has its top bit set exactly when d != 0.
    core::hint::black_box((((d | d.wrapping_neg()) >> 63) ^ 1).wrapping_neg())
}

/// `out = entries[index]`, reading every one of the `TABLE_LEN` entries.
#[inline(always)]
fn select<const N: usize>(out: &mut [u64; N], entries: &[u64], index: usize) {
    *out = [0u64; N];
    for (j, entry) in entries.chunks_exact(N).enumerate() {
        let mask = eq_mask(j, index);
        for k in 0..N {
            out[k] |= entry[k] & mask;
        }
    }
}

fn pow_n<const N: usize>(m: &Modulus, base: &[u64], exp: &[u64], bits: usize, out: &mut [u64]) {
    let n: [u64; N] = array(&m.n);
    // table[j] = base^j
    let mut table = [[0u64; N]; TABLE_LEN];
    table[0] = array(&m.one);
    table[1] = array(base);
    for j in 2..TABLE_LEN {
        let (done, rest) = table.split_at_mut(j);
        if j % 2 == 0 {
            mont::sqr(&mut rest[0], &done[j / 2], &n, m.n0);
        } else {
            mont::mul(&mut rest[0], &done[j - 1], &done[1], &n, m.n0);
        }
    }
    let windows = bits.div_ceil(WINDOW).max(1);
    let mut acc = [0u64; N];
    let mut tmp = [0u64; N];
    let mut entry = [0u64; N];
    select(&mut acc, table.as_flattened(), digit(exp, (windows - 1) * WINDOW));
    for i in (0..windows - 1).rev() {
        for _ in 0..WINDOW / 2 {
            mont::sqr(&mut tmp, &acc, &n, m.n0);
            mont::sqr(&mut acc, &tmp, &n, m.n0);
        }
        select(&mut entry, table.as_flattened(), digit(exp, i * WINDOW));
        mont::mul(&mut tmp, &acc, &entry, &n, m.n0);
        acc = tmp;
    }
    out.copy_from_slice(&acc);
    table.zeroize();
    acc.zeroize();
    tmp.zeroize();
    entry.zeroize();
}

fn fixed_base_n<const N: usize>(m: &Modulus, base: &[u64], max_bits: usize) -> FixedBase {
    let n: [u64; N] = array(&m.n);
    let windows = max_bits.div_ceil(WINDOW);
    let mut table = vec![0u64; windows * TABLE_LEN * N].into_boxed_slice();
    // g_i = base^(16^i)
    let mut g_i: [u64; N] = array(base);
    for row in table.chunks_exact_mut(TABLE_LEN * N) {
        let mut power: [u64; N] = array(&m.one);
        for (j, entry) in row.chunks_exact_mut(N).enumerate() {
            if j > 0 {
                let prev = power;
                mont::mul(&mut power, &prev, &g_i, &n, m.n0);
            }
            entry.copy_from_slice(&power);
        }
        // g_(i+1) = g_i^15 * g_i
        let prev = g_i;
        mont::mul(&mut g_i, &power, &prev, &n, m.n0);
    }
    FixedBase { table, windows }
}

fn pow_fixed_n<const N: usize>(
    m: &Modulus,
    fixed: &FixedBase,
    exp: &[u64],
    bits: usize,
    out: &mut [u64],
) {
    let n: [u64; N] = array(&m.n);
    let windows = bits.div_ceil(WINDOW).max(1);
    let mut acc = [0u64; N];
    let mut tmp = [0u64; N];
    let mut entry = [0u64; N];
    for (i, row) in fixed.table.chunks_exact(TABLE_LEN * N).take(windows).enumerate() {
        select(&mut entry, row, digit(exp, i * WINDOW));
        if i == 0 {
            acc = entry;
        } else {
            mont::mul(&mut tmp, &acc, &entry, &n, m.n0);
            acc = tmp;
        }
    }
    out.copy_from_slice(&acc);
    acc.zeroize();
    tmp.zeroize();
    entry.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;
    use crypto_bigint::BoxedUint;
    use crypto_bigint::modular::BoxedMontyForm;

    fn random_words(len: usize, seed: &mut u64) -> Vec<u64> {
        (0..len)
            .map(|_| {
                // xorshift64*
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
            })
            .collect()
    }

    #[test]
    fn matches_crypto_bigint_in_every_group() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for id in GroupId::ALL {
            let group = id.group();
            let m = group.modulus();
            let limbs = m.limbs();
            for round in 0..3 {
                let x = BoxedUint::from_words(random_words(limbs, &mut seed));
                let y = BoxedUint::from_words(random_words(limbs, &mut seed));
                let x = BoxedMontyForm::new(x, &group.params);
                let y = BoxedMontyForm::new(y, &group.params);
                let mut out = vec![0u64; limbs];
                m.mul(x.as_montgomery().as_words(), y.as_montgomery().as_words(), &mut out);
                assert_eq!(out, x.mul(&y).as_montgomery().as_words(), "mul, {id:?}");
                m.sqr(x.as_montgomery().as_words(), &mut out);
                assert_eq!(out, x.square().as_montgomery().as_words(), "sqr, {id:?}");
                for bits in [1u32, 4, 160, 256, 321] {
                    let mut e = random_words(bits.div_ceil(64) as usize, &mut seed);
                    if bits % 64 != 0 {
                        let last = e.len() - 1;
                        e[last] &= (1u64 << (bits % 64)) - 1;
                    }
                    if round == 2 {
                        e.iter_mut().for_each(|w| *w = 0);
                    }
                    let eu = BoxedUint::from_words(e.clone());
                    let want = x.pow_bounded_exp(&eu, bits);
                    m.pow(x.as_montgomery().as_words(), &e, bits, &mut out);
                    assert_eq!(out, want.as_montgomery().as_words(), "pow {bits}, {id:?}");
                    let want_g = group.g.pow_bounded_exp(&eu, bits);
                    if bits <= 256 {
                        m.pow_fixed(group.g_table(), &e, bits, &mut out);
                        assert_eq!(out, want_g.as_montgomery().as_words(), "g^e {bits}, {id:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn neg_inv_inverts() {
        for n0 in [1u64, 3, 0xffff_ffff_ffff_ffff, 0x1234_5678_9abc_def1] {
            assert_eq!(n0.wrapping_mul(mont::neg_inv(n0)), u64::MAX);
        }
    }
}
