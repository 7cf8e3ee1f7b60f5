//! The exponentiation backend: fixed-size Montgomery arithmetic for the RFC 5054 group sizes,
//! a constant-time fixed-window exponentiation for variable bases, and fixed-base tables for g.
//!
//! Every function here is constant time in the values: loops and memory indices depend only on
//! the limb count and the public exponent width; a table entry is read by touching every entry
//! and keeping one by mask. Values are in Montgomery form with R = 2^(64 limbs), as crypto-bigint
//! `BoxedMontyForm` holds them, little-endian 64-bit words.
//!
//! Two backends for the Montgomery multiplication and squaring underneath, same results:
//! - [`Backend::Portable`] ([`mont`]): portable Rust with `u128` products, every CPU.
//! - [`Backend::Adx`] (`adx`): MULX/ADCX/ADOX inline assembly with two carry chains, x86_64 CPUs
//!   with BMI2 and ADX. Compiled with the `adx` feature (default) on x86_64 only; without it the
//!   backend reports itself unsupported and the exponentiation code is instantiated once.
//!
//! The CPU is asked once (cached). With the `backend-select` feature (the project's tests,
//! benchmark and constant-time harness; re-exported as `srp_core::backend`), `with_backend`
//! runs a closure on a given backend in the current thread and `set_process_backend` sets one
//! for the whole process; without it, neither exists and the backend is always the CPU's.

#[cfg(all(target_arch = "x86_64", feature = "adx"))]
mod adx;
mod mont;

#[cfg(any(test, feature = "backend-select"))]
use std::cell::Cell;
use std::sync::OnceLock;
#[cfg(any(test, feature = "backend-select"))]
use std::sync::atomic::{AtomicU8, Ordering};

use zeroize::Zeroize;

/// Window width in bits, for variable bases and for the fixed-base tables.
const WINDOW: usize = 4;
const TABLE_LEN: usize = 1 << WINDOW;

/// An implementation of the Montgomery multiplication and squaring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Portable Rust (`u128` products): every CPU.
    Portable,
    /// MULX/ADCX/ADOX assembly: x86_64 with BMI2 and ADX.
    Adx,
}

impl Backend {
    /// Every backend, fastest last.
    pub const ALL: [Backend; 2] = [Backend::Portable, Backend::Adx];

    /// The name the benchmark and the constant-time harness print.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Adx => "adx",
        }
    }

    /// Whether this CPU (as its CPUID reports it) can run the backend.
    pub fn is_supported(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(all(target_arch = "x86_64", feature = "adx"))]
            Backend::Adx => {
                std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx")
            }
            #[cfg(not(all(target_arch = "x86_64", feature = "adx")))]
            Backend::Adx => false,
        }
    }

    /// The backends this CPU can run.
    #[cfg(any(test, feature = "backend-select"))]
    pub fn supported() -> Vec<Backend> {
        Backend::ALL.into_iter().filter(|b| b.is_supported()).collect()
    }

    /// The fastest backend this CPU can run, detected once.
    pub fn detected() -> Backend {
        static DETECTED: OnceLock<Backend> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Backend::ALL.into_iter().rev().find(|b| b.is_supported()).unwrap_or(Backend::Portable)
        })
    }
}

#[cfg(any(test, feature = "backend-select"))]
thread_local! {
    /// A backend forced for the current thread by `with_backend`.
    static FORCED: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// A backend set for the whole process by `set_process_backend`: 0 for none, else 1 + its
/// index in [`Backend::ALL`].
#[cfg(any(test, feature = "backend-select"))]
static PROCESS: AtomicU8 = AtomicU8::new(0);

/// The backend the current thread uses: the forced one inside `with_backend`, else the one set
/// by `set_process_backend`, else [`Backend::detected`] (always the latter without the
/// `backend-select` feature).
pub fn backend() -> Backend {
    #[cfg(any(test, feature = "backend-select"))]
    if let Some(forced) = FORCED.with(Cell::get) {
        return forced;
    }
    #[cfg(any(test, feature = "backend-select"))]
    if let i @ 1.. = PROCESS.load(Ordering::Relaxed) {
        return Backend::ALL[usize::from(i - 1)];
    }
    Backend::detected()
}

/// Sets the backend of every thread of the process (outside `with_backend`); returns false,
/// changing nothing, if the CPU cannot run it. For test binaries that run a whole suite on one
/// backend (`tests/portable_backend.rs`).
#[cfg(any(test, feature = "backend-select"))]
pub fn set_process_backend(backend: Backend) -> bool {
    if !backend.is_supported() {
        return false;
    }
    let index = Backend::ALL.iter().position(|&b| b == backend).unwrap_or(0);
    // At most 2 backends: the index fits.
    PROCESS.store(index as u8 + 1, Ordering::Relaxed);
    true
}

/// Which backend this build and CPU use: reported by the ctgrind harness and the benchmark.
pub fn backend_name() -> &'static str {
    backend().name()
}

/// Runs `f` with every exponentiation of the current thread on `backend`, or returns `None` if
/// the CPU cannot run it. For tests: the known-answer and cross-check tests run once per
/// backend.
#[cfg(any(test, feature = "backend-select"))]
pub fn with_backend<R>(backend: Backend, f: impl FnOnce() -> R) -> Option<R> {
    if !backend.is_supported() {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: the CPU supports the backend (checked above).
    Some(unsafe { with_backend_unchecked(backend, f) })
}

/// `with_backend` without asking the CPU: for the constant-time harness under valgrind, whose
/// emulated CPU hides ADX from CPUID but executes MULX, ADCX and ADOX.
///
/// # Safety
/// The CPU (or emulator) must execute the backend's instructions.
#[cfg(any(test, feature = "backend-select"))]
#[allow(unsafe_code)]
pub unsafe fn with_backend_unchecked<R>(backend: Backend, f: impl FnOnce() -> R) -> R {
    /// Restores the previous setting, also when `f` panics.
    struct Restore(Option<Backend>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|forced| forced.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|forced| forced.replace(Some(backend))));
    f()
}

/// Montgomery multiplication and squaring of one backend, for `pow_n`, `fixed_base_n`,
/// `pow_fixed_n`.
trait Arith {
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64);
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64);
}

struct Portable;

impl Arith for Portable {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64) {
        mont::mul(out, a, b, n, n0)
    }
    #[inline(always)]
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
        mont::sqr(out, a, n, n0)
    }
}

/// Only instantiated by `dispatch!` for [`Backend::Adx`], which [`backend`] returns only when
/// the CPU has BMI2 and ADX ([`Backend::detected`], `with_backend`) or a caller of
/// `with_backend_unchecked` promised it.
#[cfg(all(target_arch = "x86_64", feature = "adx"))]
struct Adx;

#[cfg(all(target_arch = "x86_64", feature = "adx"))]
#[allow(unsafe_code)]
impl Arith for Adx {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64) {
        // SAFETY: see `Adx`: the CPU has BMI2 and ADX.
        unsafe { adx::mul(out, a, b, n, n0) }
    }
    #[inline(always)]
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
        // SAFETY: see `Adx`: the CPU has BMI2 and ADX.
        unsafe { adx::sqr(out, a, n, n0) }
    }
}

/// A modulus N (odd, its size a supported multiple of 64 bits) with its Montgomery constants.
pub(crate) struct Modulus {
    n: Box<[u64]>,
    n0: u64,
    /// R mod N: one in Montgomery form.
    one: Box<[u64]>,
}

/// Calls `$f::<N, A>` for the modulus' limb count and the current thread's backend.
macro_rules! dispatch {
    ($limbs:expr, $f:ident($($arg:expr),*)) => {
        match backend() {
            #[cfg(all(target_arch = "x86_64", feature = "adx"))]
            Backend::Adx => dispatch!(@limbs Adx, $limbs, $f($($arg),*)),
            _ => dispatch!(@limbs Portable, $limbs, $f($($arg),*)),
        }
    };
    (@limbs $arith:ident, $limbs:expr, $f:ident($($arg:expr),*)) => {
        match $limbs {
            16 => $f::<16, $arith>($($arg),*),
            24 => $f::<24, $arith>($($arg),*),
            32 => $f::<32, $arith>($($arg),*),
            48 => $f::<48, $arith>($($arg),*),
            64 => $f::<64, $arith>($($arg),*),
            96 => $f::<96, $arith>($($arg),*),
            128 => $f::<128, $arith>($($arg),*),
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
        fn mul_n<const N: usize, A: Arith>(m: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) {
            let mut r = [0u64; N];
            A::mul(&mut r, &array(a), &array(b), &array(&m.n), m.n0);
            out.copy_from_slice(&r);
        }
        dispatch!(self.limbs(), mul_n(self, a, b, out))
    }

    /// `out = a^2` (Montgomery form).
    #[cfg(test)]
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64]) {
        fn sqr_n<const N: usize, A: Arith>(m: &Modulus, a: &[u64], out: &mut [u64]) {
            let mut r = [0u64; N];
            A::sqr(&mut r, &array(a), &array(&m.n), m.n0);
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

fn pow_n<const N: usize, A: Arith>(
    m: &Modulus,
    base: &[u64],
    exp: &[u64],
    bits: usize,
    out: &mut [u64],
) {
    let n: [u64; N] = array(&m.n);
    // table[j] = base^j
    let mut table = [[0u64; N]; TABLE_LEN];
    table[0] = array(&m.one);
    table[1] = array(base);
    for j in 2..TABLE_LEN {
        let (done, rest) = table.split_at_mut(j);
        if j % 2 == 0 {
            A::sqr(&mut rest[0], &done[j / 2], &n, m.n0);
        } else {
            A::mul(&mut rest[0], &done[j - 1], &done[1], &n, m.n0);
        }
    }
    let windows = bits.div_ceil(WINDOW).max(1);
    let mut acc = [0u64; N];
    let mut tmp = [0u64; N];
    let mut entry = [0u64; N];
    select(&mut acc, table.as_flattened(), digit(exp, (windows - 1) * WINDOW));
    for i in (0..windows - 1).rev() {
        for _ in 0..WINDOW / 2 {
            A::sqr(&mut tmp, &acc, &n, m.n0);
            A::sqr(&mut acc, &tmp, &n, m.n0);
        }
        select(&mut entry, table.as_flattened(), digit(exp, i * WINDOW));
        A::mul(&mut tmp, &acc, &entry, &n, m.n0);
        acc = tmp;
    }
    out.copy_from_slice(&acc);
    table.zeroize();
    acc.zeroize();
    tmp.zeroize();
    entry.zeroize();
}

fn fixed_base_n<const N: usize, A: Arith>(m: &Modulus, base: &[u64], max_bits: usize) -> FixedBase {
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
                A::mul(&mut power, &prev, &g_i, &n, m.n0);
            }
            entry.copy_from_slice(&power);
        }
        // g_(i+1) = g_i^15 * g_i
        let prev = g_i;
        A::mul(&mut g_i, &power, &prev, &n, m.n0);
    }
    FixedBase { table, windows }
}

fn pow_fixed_n<const N: usize, A: Arith>(
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
            A::mul(&mut tmp, &acc, &entry, &n, m.n0);
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
    fn matches_crypto_bigint_in_every_group_on_every_backend() {
        let supported = Backend::supported();
        #[cfg(all(target_arch = "x86_64", feature = "adx"))]
        assert_eq!(
            supported.contains(&Backend::Adx),
            std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx"),
        );
        for backend in supported {
            with_backend(backend, || {
                assert_eq!(super::backend(), backend);
                matches_crypto_bigint(backend);
            })
            .expect("a supported backend");
        }
    }

    #[test]
    fn with_backend_restores_the_detected_backend() {
        let detected = Backend::detected();
        with_backend(Backend::Portable, || assert_eq!(backend(), Backend::Portable));
        assert_eq!(backend(), detected);
        #[cfg(not(all(target_arch = "x86_64", feature = "adx")))]
        assert!(with_backend(Backend::Adx, || ()).is_none());
    }

    fn matches_crypto_bigint(backend: Backend) {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for id in GroupId::ALL {
            let group = id.group();
            let m = group.modulus();
            let limbs = m.limbs();
            // Edge values in Montgomery form: 0, 1, N - 1 (long runs of all-ones words: every
            // carry chain runs the full length), N - 2^64.
            let n = group.n.as_words().to_vec();
            let mut n_minus_1 = n.clone();
            n_minus_1[0] -= 1;
            let mut n_minus_word = n.clone();
            n_minus_word[1] -= 1;
            let mut one = vec![0u64; limbs];
            one[0] = 1;
            let edges = [vec![0u64; limbs], one, n_minus_1, n_minus_word];
            for a in &edges {
                let x = BoxedMontyForm::from_montgomery(
                    BoxedUint::from_words(a.clone()),
                    &group.params,
                );
                let mut out = vec![0u64; limbs];
                m.sqr(a, &mut out);
                assert_eq!(
                    out,
                    x.square().as_montgomery().as_words(),
                    "sqr edge, {id:?}, {backend:?}"
                );
                for b in &edges {
                    let y = BoxedMontyForm::from_montgomery(
                        BoxedUint::from_words(b.clone()),
                        &group.params,
                    );
                    m.mul(a, b, &mut out);
                    assert_eq!(
                        out,
                        x.mul(&y).as_montgomery().as_words(),
                        "mul edge, {id:?}, {backend:?}"
                    );
                }
            }
            for round in 0..3 {
                let x = BoxedUint::from_words(random_words(limbs, &mut seed));
                let y = BoxedUint::from_words(random_words(limbs, &mut seed));
                let x = BoxedMontyForm::new(x, &group.params);
                let y = BoxedMontyForm::new(y, &group.params);
                let mut out = vec![0u64; limbs];
                m.mul(x.as_montgomery().as_words(), y.as_montgomery().as_words(), &mut out);
                assert_eq!(out, x.mul(&y).as_montgomery().as_words(), "mul, {id:?}, {backend:?}");
                m.sqr(x.as_montgomery().as_words(), &mut out);
                assert_eq!(out, x.square().as_montgomery().as_words(), "sqr, {id:?}, {backend:?}");
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
                    assert_eq!(
                        out,
                        want.as_montgomery().as_words(),
                        "pow {bits}, {id:?}, {backend:?}"
                    );
                    let want_g = group.g.pow_bounded_exp(&eu, bits);
                    if bits <= 256 {
                        m.pow_fixed(group.g_table(), &e, bits, &mut out);
                        assert_eq!(
                            out,
                            want_g.as_montgomery().as_words(),
                            "g^e {bits}, {id:?}, {backend:?}"
                        );
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
