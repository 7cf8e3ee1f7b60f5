//! Montgomery multiplication and squaring on `N` 64-bit limbs with MULX, ADCX and ADOX (BMI2 and
//! ADX, x86_64): the same results as [`super::mont`], in inline assembly.
//!
//! Every row `t += x * y` runs two independent carry chains, as OpenSSL's `mulx4x` code does:
//! the low halves of the products and `t` meet on the CF chain (ADCX), the high halves on the OF
//! chain (ADOX); MULX touches no flag. The assembler unrolls each full-length row completely
//! (`.rept` over the limb count, a compile-time constant); the squaring's shorter cross-product
//! rows loop over 4-word blocks. No branch and no memory index depends on the values, only on `N`.
//!
//! Only reached through [`super::Backend::Adx`], which is selected only when the CPU reports BMI2
//! and ADX (or forced by a caller who promises it, see `super::with_backend_unchecked`).

#![allow(unsafe_code)]

use core::arch::asm;

/// `t[0..N+2] += x * y[0..N]` for `x = *{a}` and `t[N+1] == 0` on entry (the sum fits).
/// Clobbers r8-r10 and RDX. Operands: `{a}`, `{y}`, `{t}`.
macro_rules! row_add {
    () => {
        concat!(
            "mov ({a}), %rdx\n",
            "xor %r10d, %r10d\n", // CF = OF = 0, previous high half 0
            ".set .Lsrp_j, 0\n",
            ".rept {n} / 2\n",
            "mulx 8*.Lsrp_j({y}), %r8, %r9\n",
            "adox %r10, %r8\n",
            "adcx 8*.Lsrp_j({t}), %r8\n",
            "mov %r8, 8*.Lsrp_j({t})\n",
            "mulx 8*.Lsrp_j+8({y}), %r8, %r10\n",
            "adox %r9, %r8\n",
            "adcx 8*.Lsrp_j+8({t}), %r8\n",
            "mov %r8, 8*.Lsrp_j+8({t})\n",
            ".set .Lsrp_j, .Lsrp_j+2\n",
            ".endr\n",
            // t[N] += last high half + OF + CF (a high half is at most 2^64 - 2: no overflow on
            // the OF side); the carry out goes to t[N+1].
            "mov $0, %r8\n",
            "adox %r8, %r10\n",
            "adcx 8*{n}({t}), %r10\n",
            "mov %r10, 8*{n}({t})\n",
            "adcx %r8, %r8\n",
            "mov %r8, 8*{n}+8({t})\n",
        )
    };
}

/// The reduction step of one row: `m = t[0] * n0`, `t = (t + m * n) / 2^64` over `t[0..N+2]`
/// (the division is exact by the choice of m; the result's top word `t[N+1]` is 0). Clobbers
/// r8-r10 and RDX. Operands: `{n0}`, `{m}` (the modulus), `{t}`.
macro_rules! row_reduce {
    () => {
        concat!(
            "mov ({t}), %rdx\n",
            "imul {n0}, %rdx\n",
            "xor %r8d, %r8d\n", // CF = OF = 0
            // Word 0: t[0] + low(m n[0]) is 0 modulo 2^64; only its carry matters.
            "mulx ({m}), %r8, %r10\n",
            "adcx ({t}), %r8\n",
            ".set .Lsrp_j, 1\n",
            ".rept ({n} - 2) / 2\n",
            "mulx 8*.Lsrp_j({m}), %r8, %r9\n",
            "adox %r10, %r8\n",
            "adcx 8*.Lsrp_j({t}), %r8\n",
            "mov %r8, 8*.Lsrp_j-8({t})\n",
            "mulx 8*.Lsrp_j+8({m}), %r8, %r10\n",
            "adox %r9, %r8\n",
            "adcx 8*.Lsrp_j+8({t}), %r8\n",
            "mov %r8, 8*.Lsrp_j({t})\n",
            ".set .Lsrp_j, .Lsrp_j+2\n",
            ".endr\n",
            // Word N-1.
            "mulx 8*{n}-8({m}), %r8, %r9\n",
            "adox %r10, %r8\n",
            "adcx 8*{n}-8({t}), %r8\n",
            "mov %r8, 8*{n}-16({t})\n",
            // Words N and N+1 shift down; t[N+1] becomes 0.
            "mov $0, %r8\n",
            "adox %r8, %r9\n",
            "adcx 8*{n}({t}), %r9\n",
            "mov %r9, 8*{n}-8({t})\n",
            "mov 8*{n}+8({t}), %r9\n",
            "adcx %r8, %r9\n",
            "mov %r9, 8*{n}({t})\n",
            "mov %r8, 8*{n}+8({t})\n",
        )
    };
}

/// `out = a * b / R mod n` (CIOS: for each word of a, a row `t += a_i * b`, then a reduction
/// row), for a, b < n, n odd, `n0 = -n^-1 mod 2^64`.
///
/// # Safety
/// The CPU must support BMI2 and ADX.
#[inline(never)]
#[target_feature(enable = "bmi2,adx")]
pub(crate) unsafe fn mul<const N: usize>(
    out: &mut [u64; N],
    a: &[u64; N],
    b: &[u64; N],
    n: &[u64; N],
    n0: u64,
) {
    const { assert!(N >= 4 && N.is_multiple_of(2)) };
    // t needs N + 2 words; 2 N is at least that.
    let mut wide = [[0u64; N]; 2];
    let t = wide.as_flattened_mut();
    // SAFETY: `t` holds N + 2 words with t[N+1] == 0 (zeroed, and every reduction row leaves
    // it 0), `a`, `b` and `n` hold N words; the code reads and writes only those words and the
    // named registers, and the CPU has BMI2 and ADX (this function's contract). The loop runs N
    // times, one row per word of a.
    unsafe {
        asm!(
            "2:",
            row_add!(),
            row_reduce!(),
            "lea 8({a}), {a}",
            "dec {rows}",
            "jnz 2b",
            a = inout(reg) a.as_ptr() => _,
            rows = inout(reg) N => _,
            y = in(reg) b.as_ptr(),
            m = in(reg) n.as_ptr(),
            t = in(reg) t.as_mut_ptr(),
            n0 = in(reg) n0,
            n = const N,
            out("rdx") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            options(att_syntax, nostack),
        );
    }
    let mut low = [0u64; N];
    low.copy_from_slice(&t[..N]);
    super::mont::reduce_once(out, &low, t[N], n);
    zeroize::Zeroize::zeroize(&mut wide);
    zeroize::Zeroize::zeroize(&mut low);
}

/// One 4-word block of a cross-product row: `t[k..k+4] += rdx * z[k..k+4]` at
/// `{ye} + 8 {idx}` and `{te} + 8 {idx}`, the previous high half in r10 (and left there).
macro_rules! cross_block {
    () => {
        concat!(
            "mulx 0({ye},{idx},8), %r8, %r9\n",
            "adox %r10, %r8\n",
            "adcx 0({te},{idx},8), %r8\n",
            "mov %r8, 0({te},{idx},8)\n",
            "mulx 8({ye},{idx},8), %r8, %r10\n",
            "adox %r9, %r8\n",
            "adcx 8({te},{idx},8), %r8\n",
            "mov %r8, 8({te},{idx},8)\n",
            "mulx 16({ye},{idx},8), %r8, %r9\n",
            "adox %r10, %r8\n",
            "adcx 16({te},{idx},8), %r8\n",
            "mov %r8, 16({te},{idx},8)\n",
            "mulx 24({ye},{idx},8), %r8, %r10\n",
            "adox %r9, %r8\n",
            "adcx 24({te},{idx},8), %r8\n",
            "mov %r8, 24({te},{idx},8)\n",
        )
    };
}

/// `out = a^2 / R mod n`, for a < n, n odd, `n0 = -n^-1 mod 2^64`: the cross products
/// `a_i a_j` (i < j) once, doubled, plus the squares `a_i^2`, then a separate Montgomery
/// reduction of the 2N-word square (as [`super::mont::sqr`]).
///
/// The cross-product row of `a_i` multiplies by `z`, a copy of a whose words up to i are zeroed,
/// from word `(i + 1) & !3` on: whole 4-word blocks (at most 3 products with a zero word wasted
/// per row), so the inner loop can close the OF chain at each block's end and count with `inc`,
/// which leaves CF alone and clears OF. Row lengths depend only on i and N.
///
/// # Safety
/// The CPU must support BMI2 and ADX.
#[inline(never)]
#[target_feature(enable = "bmi2,adx")]
pub(crate) unsafe fn sqr<const N: usize>(out: &mut [u64; N], a: &[u64; N], n: &[u64; N], n0: u64) {
    const { assert!(N >= 4 && N.is_multiple_of(4)) };
    let mut z = *a;
    let mut wide = [[0u64; N]; 2];
    let w = wide.as_flattened_mut();
    let carry: u64;
    // SAFETY: `w` holds 2N words (zeroed), `z`, `a` and `n` N words. The cross products write
    // w[i + s .. i + N] for row i (s = (i + 1) & !3 >= 0, i < N - 1) and read z[s..N]; the
    // diagonal pass reads a[0..N] and rewrites w[0..2N]; reduction row i reads n[0..N] and
    // rewrites w[i..i + N + 1] (i < N). Only the named registers are touched, and the CPU has
    // BMI2 and ADX (this function's contract). Loops run a number of times fixed by N.
    unsafe {
        asm!(
            // Cross products: rows i = 0..N-2, with {i1} = i + 1, {te} = &w[i + N].
            "mov $1, {i1}",
            "2:",
            "movq $0, -8-8*{n}({ye},{i1},8)",
            "mov -8({a},{i1},8), %rdx",
            "mov {i1}, {idx}",
            "and $-4, {idx}",
            "sub ${n}, {idx}",
            "mov {idx}, {cnt}",
            "sar $2, {cnt}",
            "xor %r10d, %r10d",
            "3:",
            cross_block!(),
            "adox {zero}, %r10",
            "lea 4({idx}), {idx}",
            "inc {cnt}",
            "jnz 3b",
            // w[i + N] was 0; the row's top word fits (hi + OF + CF < 2^64).
            "adcx {zero}, %r10",
            "mov %r10, ({te})",
            "lea 8({te}), {te}",
            "inc {i1}",
            "cmp ${n}, {i1}",
            "jne 2b",
            a = in(reg) a.as_ptr(),
            ye = in(reg) z.as_mut_ptr().add(N),
            te = inout(reg) w.as_mut_ptr().add(N) => _,
            zero = in(reg) 0u64,
            i1 = out(reg) _,
            idx = out(reg) _,
            cnt = out(reg) _,
            n = const N,
            out("rdx") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            options(att_syntax, nostack),
        );
        asm!(
            // Doubling (CF chain: w + w, word by word) and the squares (OF chain).
            "xor %r8d, %r8d",
            ".set .Lsrp_j, 0",
            ".rept {n}",
            "mov 8*.Lsrp_j({a}), %rdx",
            "mulx %rdx, %r8, %r9",
            "mov 16*.Lsrp_j({w}), %r10",
            "mov 16*.Lsrp_j+8({w}), %rdx",
            "adcx %r10, %r10",
            "adcx %rdx, %rdx",
            "adox %r8, %r10",
            "adox %r9, %rdx",
            "mov %r10, 16*.Lsrp_j({w})",
            "mov %rdx, 16*.Lsrp_j+8({w})",
            ".set .Lsrp_j, .Lsrp_j+1",
            ".endr",
            a = in(reg) a.as_ptr(),
            w = in(reg) w.as_mut_ptr(),
            n = const N,
            out("rdx") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            options(att_syntax, nostack),
        );
        asm!(
            // Montgomery reduction: rows i = 0..N-1 over w[i..], {carry} into w[i + N + 1].
            "xor {carry:e}, {carry:e}",
            "mov ${n}, {cnt}",
            "4:",
            "mov ({w}), %rdx",
            "imul {n0}, %rdx",
            "xor %r10d, %r10d",
            ".set .Lsrp_j, 0",
            ".rept {n} / 2",
            "mulx 8*.Lsrp_j({m}), %r8, %r9",
            "adox %r10, %r8",
            "adcx 8*.Lsrp_j({w}), %r8",
            "mov %r8, 8*.Lsrp_j({w})",
            "mulx 8*.Lsrp_j+8({m}), %r8, %r10",
            "adox %r9, %r8",
            "adcx 8*.Lsrp_j+8({w}), %r8",
            "mov %r8, 8*.Lsrp_j+8({w})",
            ".set .Lsrp_j, .Lsrp_j+2",
            ".endr",
            // w[i + N] += hi + OF + carry + CF; the carry out (at most 1) is the next carry.
            "adox {zero}, %r10",
            "adox {carry}, %r10",
            "adcx 8*{n}({w}), %r10",
            "mov %r10, 8*{n}({w})",
            "mov $0, {carry}",
            "adcx {zero}, {carry}",
            "adox {zero}, {carry}",
            "lea 8({w}), {w}",
            "dec {cnt}",
            "jnz 4b",
            w = inout(reg) w.as_mut_ptr() => _,
            m = in(reg) n.as_ptr(),
            n0 = in(reg) n0,
            zero = in(reg) 0u64,
            cnt = out(reg) _,
            carry = out(reg) carry,
            n = const N,
            out("rdx") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            options(att_syntax, nostack),
        );
    }
    let mut high = [0u64; N];
    high.copy_from_slice(&w[N..]);
    super::mont::reduce_once(out, &high, carry, n);
    zeroize::Zeroize::zeroize(&mut wide);
    zeroize::Zeroize::zeroize(&mut high);
    zeroize::Zeroize::zeroize(&mut z);
}
