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
#[cfg(any(srp_ifma, test, feature = "backend-select"))]
mod ifma;
mod mont;

#[cfg(any(test, feature = "backend-select"))]
use std::cell::Cell;
use std::sync::OnceLock;
#[cfg(any(test, feature = "backend-select"))]
use std::sync::atomic::{AtomicU8, Ordering};

use zeroize::Zeroize;

/// The negative controls of `cargo xtask ctgrind` (feature `ct-planted`, never in a product).
#[cfg(feature = "ct-planted")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plant {
    /// No planted leak: the code as shipped (plus one public test of this setting).
    None,
    /// A branch on a bit of a secret limb in the IFMA kernel.
    Branch,
    /// A load indexed by a secret limb's low bits in the IFMA kernel.
    Load,
    /// A load indexed by the secret window digit in the table selection (every backend).
    SelectLoad,
}

#[cfg(feature = "ct-planted")]
static PLANT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Switches a planted leak on for the whole process.
#[cfg(feature = "ct-planted")]
pub fn plant(which: Plant) {
    PLANT.store(which as u8, Ordering::Relaxed);
}

/// Runs the planted leak `which` on `secret` when it is switched on.
#[cfg(feature = "ct-planted")]
#[inline(always)]
pub(crate) fn planted(which: Plant, secret: u64) {
    /// The leak itself, out of line: inlined, LLVM tested the secret before the switch (the
    /// trace check caught that), which leaked with every plant off.
    #[inline(never)]
    fn leak(which: Plant, secret: u64) {
        static TABLE: [u64; 64] = [0; 64];
        if which == Plant::Branch {
            if secret & 1 == 1 {
                // Opaque to the optimiser: the branch cannot become a select.
                core::hint::black_box(&secret);
            }
        } else {
            // Through an opaque reference: a load from a known all-zero table folds away.
            core::hint::black_box(core::hint::black_box(&TABLE)[(secret & 63) as usize]);
        }
    }
    if PLANT.load(Ordering::Relaxed) == which as u8 {
        leak(which, core::hint::black_box(secret));
    }
}

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
    /// AVX-512 IFMA on 52-bit limbs: x86_64 with AVX512F and AVX512IFMA, in a build with the
    /// `ifma` feature by Rust 1.89 or later.
    Ifma,
    /// The IFMA backend's kernel over a portable emulation of its vector instructions (same
    /// control flow and memory accesses): never detected, only forced, for the constant-time
    /// check under valgrind (which cannot execute AVX-512) and the differential tests.
    #[cfg(any(test, feature = "backend-select"))]
    IfmaEmulated,
}

impl Backend {
    /// Every backend the CPU may be detected to run, fastest last.
    pub const ALL: [Backend; 3] = [Backend::Portable, Backend::Adx, Backend::Ifma];

    /// Every backend a test can force: [`Backend::ALL`] and the emulated IFMA kernel.
    #[cfg(any(test, feature = "backend-select"))]
    pub const SELECTABLE: [Backend; 4] =
        [Backend::Portable, Backend::Adx, Backend::Ifma, Backend::IfmaEmulated];

    /// The name the benchmark and the constant-time harness print.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Adx => "adx",
            Backend::Ifma => "ifma",
            #[cfg(any(test, feature = "backend-select"))]
            Backend::IfmaEmulated => "ifma-emulated",
        }
    }

    /// The backend called `name`, among those a test can force.
    #[cfg(any(test, feature = "backend-select"))]
    pub fn by_name(name: &str) -> Option<Backend> {
        Backend::SELECTABLE.into_iter().find(|b| b.name() == name)
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
            #[cfg(srp_ifma)]
            Backend::Ifma => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512ifma")
            }
            #[cfg(not(srp_ifma))]
            Backend::Ifma => false,
            #[cfg(any(test, feature = "backend-select"))]
            Backend::IfmaEmulated => true,
        }
    }

    /// The backends this CPU can run, the emulated IFMA kernel included.
    #[cfg(any(test, feature = "backend-select"))]
    pub fn supported() -> Vec<Backend> {
        Backend::SELECTABLE.into_iter().filter(|b| b.is_supported()).collect()
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
/// index in [`Backend::SELECTABLE`].
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
        return Backend::SELECTABLE[usize::from(i - 1)];
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
    let index = Backend::SELECTABLE.iter().position(|&b| b == backend).unwrap_or(0);
    // At most 4 backends: the index fits.
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

/// A value in one backend's own Montgomery form.
trait Elem: Copy {
    fn zero() -> Self;
    fn words(&self) -> &[u64];
    fn words_mut(&mut self) -> &mut [u64];
}

impl<const N: usize> Elem for [u64; N] {
    #[inline(always)]
    fn zero() -> Self {
        [0; N]
    }
    #[inline(always)]
    fn words(&self) -> &[u64] {
        self
    }
    #[inline(always)]
    fn words_mut(&mut self) -> &mut [u64] {
        self
    }
}

#[cfg(any(srp_ifma, test, feature = "backend-select"))]
/// Room for the `ifma::lanes(N)` (at most 2N) 52-bit limbs of the IFMA backend.
#[derive(Clone, Copy)]
struct Wide<const N: usize>([[u64; N]; 2]);

#[cfg(any(srp_ifma, test, feature = "backend-select"))]
impl<const N: usize> Elem for Wide<N> {
    #[inline(always)]
    fn zero() -> Self {
        Wide([[0; N]; 2])
    }
    #[inline(always)]
    fn words(&self) -> &[u64] {
        self.0.as_flattened()
    }
    #[inline(always)]
    fn words_mut(&mut self) -> &mut [u64] {
        self.0.as_flattened_mut()
    }
}

/// Montgomery multiplication and squaring of one backend for an `N`-word modulus, for `pow_n`,
/// `fixed_base_n`, `pow_fixed_n`, with the conversions between crypto-bigint's Montgomery form
/// (R = 2^(64 N), fully reduced) and the backend's own.
trait Arith<const N: usize>: Sized {
    /// A value in the backend's form.
    type E: Elem;
    /// How many words of `E` hold the value (the rest stay 0).
    const USED: usize;
    fn new(m: &Modulus) -> Self;
    /// From crypto-bigint's form (`N` words).
    fn enter(&self, x: &[u64], out: &mut Self::E);
    /// To crypto-bigint's form (`N` words), fully reduced.
    fn leave(&self, x: &Self::E, out: &mut [u64]);
    fn mul(&self, out: &mut Self::E, a: &Self::E, b: &Self::E);
    fn sqr(&self, out: &mut Self::E, a: &Self::E);
    /// The fixed-base table's entries in this form, `USED` words each.
    fn table<'t>(&self, fixed: &'t FixedBase) -> &'t [u64];
}

/// The backends on 64-bit limbs, whose form is crypto-bigint's: `mul` and `sqr` only.
trait Arith64 {
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64);
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64);
}

/// An [`Arith64`] backend with the modulus' constants.
struct Words64<K, const N: usize> {
    n: [u64; N],
    n0: u64,
    kernel: core::marker::PhantomData<K>,
}

impl<K: Arith64, const N: usize> Arith<N> for Words64<K, N> {
    type E = [u64; N];
    const USED: usize = N;
    #[inline(always)]
    fn new(m: &Modulus) -> Self {
        Words64 { n: array(&m.n), n0: m.n0, kernel: core::marker::PhantomData }
    }
    #[inline(always)]
    fn enter(&self, x: &[u64], out: &mut [u64; N]) {
        out.copy_from_slice(x);
    }
    #[inline(always)]
    fn leave(&self, x: &[u64; N], out: &mut [u64]) {
        out.copy_from_slice(x);
    }
    #[inline(always)]
    fn mul(&self, out: &mut [u64; N], a: &[u64; N], b: &[u64; N]) {
        K::mul(out, a, b, &self.n, self.n0)
    }
    #[inline(always)]
    fn sqr(&self, out: &mut [u64; N], a: &[u64; N]) {
        K::sqr(out, a, &self.n, self.n0)
    }
    fn table<'t>(&self, fixed: &'t FixedBase) -> &'t [u64] {
        &fixed.table
    }
}

struct PortableKernel;

impl Arith64 for PortableKernel {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64) {
        mont::mul(out, a, b, n, n0)
    }
    #[inline(always)]
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
        mont::sqr(out, a, n, n0)
    }
}

type Portable<const N: usize> = Words64<PortableKernel, N>;

/// Only instantiated by `dispatch!` for [`Backend::Adx`], which [`backend`] returns only when
/// the CPU has BMI2 and ADX ([`Backend::detected`], `with_backend`) or a caller of
/// `with_backend_unchecked` promised it.
#[cfg(all(target_arch = "x86_64", feature = "adx"))]
struct AdxKernel;

#[cfg(all(target_arch = "x86_64", feature = "adx"))]
#[allow(unsafe_code)]
impl Arith64 for AdxKernel {
    #[inline(always)]
    fn mul<const N: usize>(out: &mut [u64; N], a: &[u64; N], b: &[u64; N], n: &[u64; N], n0: u64) {
        // SAFETY: see `AdxKernel`: the CPU has BMI2 and ADX.
        unsafe { adx::mul(out, a, b, n, n0) }
    }
    #[inline(always)]
    fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
        // SAFETY: see `AdxKernel`: the CPU has BMI2 and ADX.
        unsafe { adx::sqr(out, a, n, n0) }
    }
}

#[cfg(all(target_arch = "x86_64", feature = "adx"))]
type Adx<const N: usize> = Words64<AdxKernel, N>;

#[cfg(any(srp_ifma, test, feature = "backend-select"))]
/// The 52-bit-limb backend over one kernel ([`ifma::Avx512`] or [`ifma::Emulated`]), with
/// copies of the modulus' constants in its form.
struct Ifma<K, const N: usize> {
    n: Wide<N>,
    k0: u64,
    to_r: Wide<N>,
    from_r: Wide<N>,
    n64: [u64; N],
    kernel: core::marker::PhantomData<K>,
}

#[cfg(srp_ifma)]
type IfmaAvx512<const N: usize> = Ifma<ifma::Avx512, N>;
#[cfg(any(test, feature = "backend-select"))]
type IfmaEmulated<const N: usize> = Ifma<ifma::Emulated, N>;

#[cfg(any(srp_ifma, test, feature = "backend-select"))]
impl<K: ifma::Kernel, const N: usize> Arith<N> for Ifma<K, N> {
    type E = Wide<N>;
    const USED: usize = ifma::lanes(N);
    fn new(m: &Modulus) -> Self {
        let ctx = m.ifma();
        let wide = |x: &[u64]| {
            let mut w = Wide::zero();
            w.words_mut()[..x.len()].copy_from_slice(x);
            w
        };
        Ifma {
            n: wide(&ctx.n),
            k0: ctx.k0,
            to_r: wide(&ctx.to_r),
            from_r: wide(&ctx.from_r),
            n64: array(&m.n),
            kernel: core::marker::PhantomData,
        }
    }
    #[inline(always)]
    fn enter(&self, x: &[u64], out: &mut Wide<N>) {
        let mut t = Wide::<N>::zero();
        ifma::split(x, t.words_mut(), Self::USED);
        self.mul(out, &t, &self.to_r);
        t.words_mut().zeroize();
    }
    #[inline(always)]
    fn leave(&self, x: &Wide<N>, out: &mut [u64]) {
        let mut t = Wide::<N>::zero();
        self.mul(&mut t, x, &self.from_r);
        let mut low = [0u64; N];
        let above = ifma::join(&t.words()[..Self::USED], &mut low);
        let mut r = [0u64; N];
        mont::reduce_once(&mut r, &low, above, &self.n64);
        out.copy_from_slice(&r);
        t.words_mut().zeroize();
        low.zeroize();
        r.zeroize();
    }
    #[inline(always)]
    fn mul(&self, out: &mut Wide<N>, a: &Wide<N>, b: &Wide<N>) {
        K::mul::<N>(out.words_mut(), a.words(), b.words(), self.n.words(), self.k0)
    }
    #[inline(always)]
    fn sqr(&self, out: &mut Wide<N>, a: &Wide<N>) {
        K::mul::<N>(out.words_mut(), a.words(), a.words(), self.n.words(), self.k0)
    }
    fn table<'t>(&self, fixed: &'t FixedBase) -> &'t [u64] {
        fixed.wide.get_or_init(|| {
            let used = Self::USED;
            let mut wide = vec![0u64; fixed.table.len() / N * used];
            let mut e = Wide::zero();
            for (entry, out) in fixed.table.chunks_exact(N).zip(wide.chunks_exact_mut(used)) {
                self.enter(entry, &mut e);
                out.copy_from_slice(&e.words()[..used]);
            }
            wide.into()
        })
    }
}

/// A modulus N (odd, its size a supported multiple of 64 bits) with its Montgomery constants.
pub(crate) struct Modulus {
    n: Box<[u64]>,
    n0: u64,
    /// R mod N: one in Montgomery form.
    one: Box<[u64]>,
    /// The IFMA backend's constants, computed on its first use.
    #[cfg(any(srp_ifma, test, feature = "backend-select"))]
    ifma: OnceLock<ifma::Ctx>,
}

/// Calls `$f::<N, A>` for the modulus' limb count and the current thread's backend.
macro_rules! dispatch {
    ($limbs:expr, $f:ident($($arg:expr),*)) => {
        match backend() {
            #[cfg(srp_ifma)]
            Backend::Ifma => dispatch!(@limbs IfmaAvx512, $limbs, $f($($arg),*)),
            #[cfg(any(test, feature = "backend-select"))]
            Backend::IfmaEmulated => dispatch!(@limbs IfmaEmulated, $limbs, $f($($arg),*)),
            #[cfg(all(target_arch = "x86_64", feature = "adx"))]
            Backend::Adx => dispatch!(@limbs Adx, $limbs, $f($($arg),*)),
            _ => dispatch!(@limbs Portable, $limbs, $f($($arg),*)),
        }
    };
    (@limbs $arith:ident, $limbs:expr, $f:ident($($arg:expr),*)) => {
        match $limbs {
            16 => $f::<16, $arith<16>>($($arg),*),
            24 => $f::<24, $arith<24>>($($arg),*),
            32 => $f::<32, $arith<32>>($($arg),*),
            48 => $f::<48, $arith<48>>($($arg),*),
            64 => $f::<64, $arith<64>>($($arg),*),
            96 => $f::<96, $arith<96>>($($arg),*),
            128 => $f::<128, $arith<128>>($($arg),*),
            // `Modulus::new` admits only the sizes above.
            other => unreachable!("no backend for {other} limbs"),
        }
    };
}

/// g^(j 16^i) for every window i of an exponent of up to `windows * 4` bits and every digit j,
/// in Montgomery form: entry (i, j) is `table[(i * 16 + j) * limbs..][..limbs]`; the IFMA
/// backend's copy of it in its own form is made on its first use.
pub(crate) struct FixedBase {
    table: Box<[u64]>,
    #[cfg(any(srp_ifma, test, feature = "backend-select"))]
    wide: OnceLock<Box<[u64]>>,
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
        Modulus {
            n: n.into(),
            n0: mont::neg_inv(n[0]),
            one: one.into(),
            #[cfg(any(srp_ifma, test, feature = "backend-select"))]
            ifma: OnceLock::new(),
        }
    }

    /// The IFMA backend's constants.
    #[cfg(any(srp_ifma, test, feature = "backend-select"))]
    fn ifma(&self) -> &ifma::Ctx {
        self.ifma.get_or_init(|| ifma::Ctx::new(&self.n, &self.one))
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
        fn mul_n<const N: usize, A: Arith<N>>(m: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) {
            let arith = A::new(m);
            let (mut x, mut y, mut r) = (A::E::zero(), A::E::zero(), A::E::zero());
            arith.enter(a, &mut x);
            arith.enter(b, &mut y);
            arith.mul(&mut r, &x, &y);
            arith.leave(&r, out);
        }
        dispatch!(self.limbs(), mul_n(self, a, b, out))
    }

    /// `out = a^2` (Montgomery form).
    #[cfg(test)]
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64]) {
        fn sqr_n<const N: usize, A: Arith<N>>(m: &Modulus, a: &[u64], out: &mut [u64]) {
            let arith = A::new(m);
            let (mut x, mut r) = (A::E::zero(), A::E::zero());
            arith.enter(a, &mut x);
            arith.sqr(&mut r, &x);
            arith.leave(&r, out);
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

/// `out = entries[index]` (the first `used` words of each), reading every one of the entries.
#[inline(always)]
fn select<E: Elem>(out: &mut E, entries: &[E], used: usize, index: usize) {
    #[cfg(feature = "ct-planted")]
    planted(Plant::SelectLoad, index as u64);
    *out = E::zero();
    let out = &mut out.words_mut()[..used];
    for (j, entry) in entries.iter().enumerate() {
        let mask = eq_mask(j, index);
        for (o, w) in out.iter_mut().zip(&entry.words()[..used]) {
            *o |= w & mask;
        }
    }
}

/// `out = entry index` of `TABLE_LEN` entries of `used` words in `row`, reading every one.
#[inline(always)]
fn select_row<E: Elem>(out: &mut E, row: &[u64], used: usize, index: usize) {
    *out = E::zero();
    let out = &mut out.words_mut()[..used];
    for (j, entry) in row.chunks_exact(used).enumerate() {
        let mask = eq_mask(j, index);
        for (o, w) in out.iter_mut().zip(entry) {
            *o |= w & mask;
        }
    }
}

fn pow_n<const N: usize, A: Arith<N>>(
    m: &Modulus,
    base: &[u64],
    exp: &[u64],
    bits: usize,
    out: &mut [u64],
) {
    let arith = A::new(m);
    // table[j] = base^j
    let mut table = [A::E::zero(); TABLE_LEN];
    arith.enter(&m.one, &mut table[0]);
    arith.enter(base, &mut table[1]);
    for j in 2..TABLE_LEN {
        let (done, rest) = table.split_at_mut(j);
        if j % 2 == 0 {
            arith.sqr(&mut rest[0], &done[j / 2]);
        } else {
            arith.mul(&mut rest[0], &done[j - 1], &done[1]);
        }
    }
    let windows = bits.div_ceil(WINDOW).max(1);
    let mut acc = A::E::zero();
    let mut tmp = A::E::zero();
    let mut entry = A::E::zero();
    select(&mut acc, &table, A::USED, digit(exp, (windows - 1) * WINDOW));
    for i in (0..windows - 1).rev() {
        for _ in 0..WINDOW / 2 {
            arith.sqr(&mut tmp, &acc);
            arith.sqr(&mut acc, &tmp);
        }
        select(&mut entry, &table, A::USED, digit(exp, i * WINDOW));
        arith.mul(&mut tmp, &acc, &entry);
        acc = tmp;
    }
    arith.leave(&acc, out);
    for e in table.iter_mut().chain([&mut acc, &mut tmp, &mut entry]) {
        e.words_mut().zeroize();
    }
}

fn fixed_base_n<const N: usize, A: Arith<N>>(
    m: &Modulus,
    base: &[u64],
    max_bits: usize,
) -> FixedBase {
    let arith = A::new(m);
    let windows = max_bits.div_ceil(WINDOW);
    let mut table = vec![0u64; windows * TABLE_LEN * N].into_boxed_slice();
    // g_i = base^(16^i)
    let mut g_i = A::E::zero();
    arith.enter(base, &mut g_i);
    let mut one = A::E::zero();
    arith.enter(&m.one, &mut one);
    for row in table.chunks_exact_mut(TABLE_LEN * N) {
        let mut power = one;
        for (j, entry) in row.chunks_exact_mut(N).enumerate() {
            if j > 0 {
                let prev = power;
                arith.mul(&mut power, &prev, &g_i);
            }
            arith.leave(&power, entry);
        }
        // g_(i+1) = g_i^15 * g_i
        let prev = g_i;
        arith.mul(&mut g_i, &power, &prev);
    }
    FixedBase {
        table,
        #[cfg(any(srp_ifma, test, feature = "backend-select"))]
        wide: OnceLock::new(),
        windows,
    }
}

fn pow_fixed_n<const N: usize, A: Arith<N>>(
    m: &Modulus,
    fixed: &FixedBase,
    exp: &[u64],
    bits: usize,
    out: &mut [u64],
) {
    let arith = A::new(m);
    let table = arith.table(fixed);
    let windows = bits.div_ceil(WINDOW).max(1);
    let mut acc = A::E::zero();
    let mut tmp = A::E::zero();
    let mut entry = A::E::zero();
    for (i, row) in table.chunks_exact(TABLE_LEN * A::USED).take(windows).enumerate() {
        select_row(&mut entry, row, A::USED, digit(exp, i * WINDOW));
        if i == 0 {
            acc = entry;
        } else {
            arith.mul(&mut tmp, &acc, &entry);
            acc = tmp;
        }
    }
    arith.leave(&acc, out);
    for e in [&mut acc, &mut tmp, &mut entry] {
        e.words_mut().zeroize();
    }
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
        #[cfg(srp_ifma)]
        assert_eq!(
            supported.contains(&Backend::Ifma),
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma"),
        );
        assert!(supported.contains(&Backend::IfmaEmulated));
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
        #[cfg(not(srp_ifma))]
        assert!(with_backend(Backend::Ifma, || ()).is_none());
        // The emulated kernel is never detected.
        assert_ne!(detected, Backend::IfmaEmulated);
        #[cfg(srp_ifma)]
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma") {
            assert_eq!(detected, Backend::Ifma);
        }
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
            // 2^(64 limbs - 1) - 1: every 64-bit and every 52-bit limb all ones (N's top bit is
            // set, so it is below N).
            let mut ones = vec![u64::MAX; limbs];
            ones[limbs - 1] >>= 1;
            // R mod N, the Montgomery form of 1.
            let r = m.one.to_vec();
            let edges = [vec![0u64; limbs], one, n_minus_1, n_minus_word, ones, r];
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
