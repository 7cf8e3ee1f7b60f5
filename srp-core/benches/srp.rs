//! The SRP math of one TLS-SRP handshake, per side, in four implementations side by side:
//!
//! - `srp-ffi`: this core (its own fixed-size Montgomery backend `src/arith/` with a fixed-base
//!   table for g, constant time).
//! - `openssl-srp`: OpenSSL libcrypto's `SRP_Calc_*`, called as libssl calls them (variable
//!   time, except g^x on the client).
//! - `openssl-consttime`: the same math with OpenSSL's `BN_mod_exp_mont_consttime` for every
//!   exponentiation and a Montgomery context computed once per group.
//! - `srp-crate`: RustCrypto's `srp` 0.7.0-rc.3 through its public API (2048-4096 only).
//!
//! Server: B = k*v + g^b, then u and S = (A * v^u)^b from A. Client: A = g^a, u, x, then
//! S = (B - k*g^x)^(a + u*x). Private keys are 32 bytes in every implementation.
//!
//! `cargo bench -p srp-core --bench srp` prints a Markdown table;
//! `-- --json` prints one JSON object per line instead;
//! `-- --core` times only `srp-ffi`, `openssl-srp` and `openssl-consttime` (what `cargo xtask
//! bench core` runs);
//! `-- --backend portable` runs this core on the portable backend instead of the one the CPU
//! selects (printed in the header line either way);
//! `-- --write docs/performance.md` also replaces the results block of that file (the path is
//! relative to the workspace root) between `<!-- bench-results:begin -->` and
//! `<!-- bench-results:end -->`.
//!
//! The harness: each case is warmed up, then all cases of a group are timed one iteration at a
//! time in interleaved rounds (21 to 201 rounds, about 15 s per group at most), so that the noise
//! of a shared machine falls on every implementation alike. The clock is the thread's CPU time
//! (time spent descheduled does not count; `--wall` for wall-clock time). Median and minimum are
//! reported, and the ratio of each to `openssl-srp`'s. The whole run takes about one to two
//! minutes after the build.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use sha1_011::Sha1;
use srp_core::backend::Backend;
use srp_core::{
    Group, PRIVATE_KEY_LEN, Salt, Server, Username, Verifier, client_exchange_with_private_key,
};
use srp_test_support::openssl::{self, Bn, BnCtx, DefaultGroup, MontCtx};

const GROUPS: [u32; 5] = [2048, 3072, 4096, 6144, 8192];
const USER: &[u8] = b"alice";
const PASSWORD: &[u8] = b"password123";

/// Warm-up runs of each case before timing.
const WARMUP_RUNS: usize = 3;
/// Rounds: each round runs every case of a group once, in a rotating order, so that the noise
/// of a shared machine spreads evenly over the implementations.
const MIN_ROUNDS: usize = 21;
const MAX_ROUNDS: usize = 201;
/// Wall-clock time per group after which no new round starts (once MIN_ROUNDS are done).
const BUDGET: Duration = Duration::from_secs(15);
/// The same for the single exponentiations.
const EXP_BUDGET: Duration = Duration::from_secs(5);

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
    samples: usize,
}

impl Stats {
    fn of(mut times: Vec<Duration>) -> Stats {
        times.sort();
        Stats { median: times[times.len() / 2], min: times[0], samples: times.len() }
    }
}

/// One thing to time: a side of the handshake in one implementation.
struct Case<'a> {
    side: &'static str,
    imp: &'static str,
    /// srp-ffi's exponentiation backend, for its rows.
    backend: Option<&'static str>,
    run: Box<dyn FnMut() + 'a>,
}

fn case<'a>(side: &'static str, imp: &'static str, run: impl FnMut() + 'a) -> Case<'a> {
    Case { side, imp, backend: None, run: Box::new(run) }
}

/// An srp-ffi case on `backend` (forced for the case's own runs only).
fn ffi_case<'a>(side: &'static str, backend: Backend, mut run: impl FnMut() + 'a) -> Case<'a> {
    Case {
        side,
        imp: "srp-ffi",
        backend: Some(backend.name()),
        run: Box::new(move || {
            srp_core::backend::with_backend(backend, &mut run).expect("a supported backend")
        }),
    }
}

/// The srp-ffi backends a run measures: the one `--backend` named, else every one this CPU
/// runs (the emulated IFMA kernel, a constant-time check aid, excluded).
static BACKENDS: std::sync::OnceLock<Vec<Backend>> = std::sync::OnceLock::new();

fn backends() -> &'static [Backend] {
    BACKENDS.get_or_init(|| {
        Backend::supported().into_iter().filter(|&b| b != Backend::IfmaEmulated).collect()
    })
}

/// Whether this run's OpenSSL has its assembly paths masked (`--masked`, with `OPENSSL_ia32cap`
/// set by the parent run): its rows are named `openssl-srp-masked` and so on.
static MASKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn masked(name: &'static str) -> &'static str {
    if !MASKED.get().copied().unwrap_or(false) {
        return name;
    }
    match name {
        "openssl-srp" => "openssl-srp-masked",
        "openssl-consttime" => "openssl-consttime-masked",
        other => other,
    }
}

/// What the masked run sets: CPUID leaf 7 features (BMI2, ADX, AVX2, AVX-512, ...) cleared, so
/// OpenSSL's bignum code takes its plain MULQ paths instead of MULX/ADX or vector ones. The
/// closest proxy here for an ARM device, which runs the core's `portable` backend.
const OPENSSL_MASK: &str = ":0";

/// What the harness reads: the thread's CPU time by default, so that time the process spends
/// descheduled on a shared machine does not count; wall-clock time with `--wall`.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    ThreadCpu,
    Wall,
}

static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// `CLOCK_THREAD_CPUTIME_ID` on Linux.
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

unsafe extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// Now, on the harness's clock.
fn now() -> Duration {
    static WALL_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    match CLOCK.get().copied().unwrap_or(Clock::ThreadCpu) {
        Clock::Wall => WALL_START.get_or_init(Instant::now).elapsed(),
        Clock::ThreadCpu => {
            let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
            let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
            Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
        }
    }
}

/// Warms every case up, then times single iterations in interleaved rounds.
fn measure(cases: &mut [Case<'_>], budget: Duration) -> Vec<Stats> {
    for case in cases.iter_mut() {
        for _ in 0..WARMUP_RUNS {
            (case.run)();
        }
    }
    let mut times = vec![Vec::with_capacity(MAX_ROUNDS); cases.len()];
    let start = Instant::now();
    let mut round = 0;
    while round < MIN_ROUNDS || (round < MAX_ROUNDS && start.elapsed() < budget) {
        for j in 0..cases.len() {
            let i = (j + round) % cases.len();
            let t = now();
            (cases[i].run)();
            times[i].push(now() - t);
        }
        round += 1;
    }
    times.into_iter().map(Stats::of).collect()
}

struct Row {
    group: u32,
    side: &'static str,
    imp: &'static str,
    backend: Option<&'static str>,
    /// Measured in the run with OpenSSL's assembly paths masked (`OPENSSL_ia32cap`).
    masked: bool,
    stats: Stats,
}

/// `srp-ffi (ifma)` for srp-ffi's rows, the implementation's name for the others.
fn label(imp: &str, backend: Option<&str>) -> String {
    match backend {
        Some(backend) => format!("{imp} ({backend})"),
        None => imp.to_string(),
    }
}

/// The row's reference: `openssl-srp` of its group and side, from the same run (masked or not).
fn reference<'r>(rows: &'r [Row], r: &Row) -> Option<&'r Row> {
    let name = if r.masked { "openssl-srp-masked" } else { "openssl-srp" };
    rows.iter().find(|o| o.group == r.group && o.side == r.side && o.imp == name)
}

/// Everything one group's handshake needs, prepared once (as a server has the verifier loaded
/// and a client has the ServerKeyExchange parsed).
struct Fixture {
    bits: u32,
    group: &'static Group,
    ossl: DefaultGroup,
    username: Username,
    salt: Salt,
    verifier: Verifier,
    v_bytes: Vec<u8>,
    a: [u8; PRIVATE_KEY_LEN],
    b: [u8; PRIVATE_KEY_LEN],
    a_pub: Vec<u8>,
    b_pub: Vec<u8>,
    premaster: Vec<u8>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("OS random numbers");
    bytes
}

impl Fixture {
    fn new(bits: u32) -> Fixture {
        let group = Group::by_bits(bits).expect("RFC 5054 group");
        let username = Username::new(USER).expect("username");
        let mut salt: [u8; 16] = random();
        salt[0] |= 1; // OpenSSL drops leading zero bytes of the salt.
        let salt = Salt::new(&salt).expect("salt");
        let verifier = Verifier::compute(group, &username, PASSWORD, &salt);
        let (a, b) = (random(), random());
        let server = Server::with_private_key(&verifier, &b).expect("server");
        let client = client_exchange_with_private_key(
            group,
            &username,
            PASSWORD,
            &salt,
            server.public_key(),
            &a,
        )
        .expect("client");
        Fixture {
            bits,
            group,
            ossl: DefaultGroup::get(bits),
            v_bytes: verifier.to_bytes().to_vec(),
            a_pub: client.public_key.to_vec(),
            b_pub: server.public_key().to_vec(),
            premaster: client.premaster.as_bytes().to_vec(),
            username,
            salt,
            verifier,
            a,
            b,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The implementations. Each returns (its public value, its premaster secret).

fn ffi_server(f: &Fixture) -> (Vec<u8>, Vec<u8>) {
    let server = Server::with_private_key(&f.verifier, &f.b).expect("server");
    let b_pub = server.public_key().to_vec();
    let premaster = server.premaster(&f.a_pub).expect("premaster");
    (b_pub, premaster.as_bytes().to_vec())
}

fn ffi_client(f: &Fixture) -> (Vec<u8>, Vec<u8>) {
    let client =
        client_exchange_with_private_key(f.group, &f.username, PASSWORD, &f.salt, &f.b_pub, &f.a)
            .expect("client");
    (client.public_key.to_vec(), client.premaster.as_bytes().to_vec())
}

/// libssl's server: `SSL_srp_server_param_with_username` (b, `SRP_Calc_B`), then
/// `SRP_generate_server_master_secret` (`SRP_Verify_A_mod_N`, `SRP_Calc_u`,
/// `SRP_Calc_server_key`, `BN_bn2bin`). v is a BIGNUM loaded with the verifier file.
fn openssl_srp_server(f: &Fixture, v: &Bn) -> (Vec<u8>, Vec<u8>) {
    let b = Bn::from_bytes(&f.b);
    let b_pub = openssl::calc_b(f.ossl, &b, v);
    let a_pub = Bn::from_bytes(&f.a_pub);
    assert!(openssl::verify_a_mod_n(f.ossl, &a_pub), "A % N != 0");
    let u = openssl::calc_u(f.ossl, &a_pub, &b_pub).expect("u");
    let s = openssl::calc_server_key(f.ossl, &a_pub, v, &u, &b);
    (b_pub.to_bytes(), s.to_bytes())
}

/// libssl's client: `SRP_Calc_A_param` (a, `SRP_Calc_A`), then
/// `srp_generate_client_master_secret` (`SRP_Verify_B_mod_N`, `SRP_Calc_u`, `SRP_Calc_x`,
/// `SRP_Calc_client_key`, `BN_bn2bin`).
fn openssl_srp_client(f: &Fixture) -> (Vec<u8>, Vec<u8>) {
    let a = Bn::from_bytes(&f.a);
    let a_pub = openssl::calc_a(f.ossl, &a);
    let b_pub = Bn::from_bytes(&f.b_pub);
    assert!(openssl::verify_b_mod_n(f.ossl, &b_pub), "B % N != 0");
    let u = openssl::calc_u(f.ossl, &a_pub, &b_pub).expect("u");
    let x = openssl::calc_x(f.salt.as_bytes(), USER, PASSWORD);
    let s = openssl::calc_client_key(f.ossl, &b_pub, &x, &a, &u);
    (a_pub.to_bytes(), s.to_bytes())
}

/// OpenSSL's constant-time exponentiation with per-group precomputation (Montgomery context
/// and k), as a constant-time implementation on OpenSSL's bignum code would do it.
struct ConstTime {
    ctx: BnCtx,
    mont: MontCtx,
    k: Bn,
}

impl ConstTime {
    fn new(f: &Fixture) -> ConstTime {
        let ctx = BnCtx::new();
        let mont = MontCtx::new(f.ossl.n, &ctx);
        ConstTime { k: openssl::calc_k(f.ossl), ctx, mont }
    }

    fn exp(&self, f: &Fixture, base: *const openssl::BIGNUM, exponent: &Bn) -> Bn {
        openssl::mod_exp_consttime(base, exponent, f.ossl.n, &self.ctx, &self.mont)
    }

    fn server(&self, f: &Fixture, v: &Bn) -> (Vec<u8>, Vec<u8>) {
        let n = f.ossl.n;
        let b = Bn::from_bytes(&f.b);
        let g_b = self.exp(f, f.ossl.g, &b);
        let k_v = openssl::mod_mul(self.k.as_ptr(), v.as_ptr(), n, &self.ctx);
        let b_pub = openssl::mod_add(k_v.as_ptr(), g_b.as_ptr(), n, &self.ctx);
        let a_pub = Bn::from_bytes(&f.a_pub);
        assert!(openssl::verify_a_mod_n(f.ossl, &a_pub), "A % N != 0");
        let u = openssl::calc_u(f.ossl, &a_pub, &b_pub).expect("u");
        let v_u = self.exp(f, v.as_ptr(), &u);
        let base = openssl::mod_mul(a_pub.as_ptr(), v_u.as_ptr(), n, &self.ctx);
        let s = self.exp(f, base.as_ptr(), &b);
        (b_pub.to_bytes(), s.to_bytes())
    }

    fn client(&self, f: &Fixture) -> (Vec<u8>, Vec<u8>) {
        let n = f.ossl.n;
        let a = Bn::from_bytes(&f.a);
        let a_pub = self.exp(f, f.ossl.g, &a);
        let b_pub = Bn::from_bytes(&f.b_pub);
        assert!(openssl::verify_b_mod_n(f.ossl, &b_pub), "B % N != 0");
        let u = openssl::calc_u(f.ossl, &a_pub, &b_pub).expect("u");
        let x = openssl::calc_x(f.salt.as_bytes(), USER, PASSWORD);
        let g_x = self.exp(f, f.ossl.g, &x);
        let k_g_x = openssl::mod_mul(self.k.as_ptr(), g_x.as_ptr(), n, &self.ctx);
        let base = openssl::mod_sub(b_pub.as_ptr(), k_g_x.as_ptr(), n, &self.ctx);
        let exponent = openssl::add(&a, &openssl::mul(&u, &x, &self.ctx));
        let s = self.exp(f, base.as_ptr(), &exponent);
        (a_pub.to_bytes(), s.to_bytes())
    }
}

/// RustCrypto `srp`: the server API computes B for ServerKeyExchange
/// (`compute_public_ephemeral`), and `process_reply` computes B again, u, S and the proofs.
fn srp_crate_server<G: srp::Group>(
    f: &Fixture,
    server: &srp::Server<G, Sha1>,
) -> (Vec<u8>, Vec<u8>) {
    let b_pub = server.compute_public_ephemeral(&f.b, &f.v_bytes);
    let reply = server
        .process_reply(USER, f.salt.as_bytes(), &f.b, &f.v_bytes, &f.a_pub)
        .expect("process_reply");
    (b_pub, reply.key().to_vec())
}

/// RustCrypto `srp`: `compute_public_ephemeral` for A, `process_reply` computes A again, u, x,
/// S and the proofs.
fn srp_crate_client<G: srp::Group>(
    f: &Fixture,
    client: &srp::Client<G, Sha1>,
) -> (Vec<u8>, Vec<u8>) {
    let a_pub = client.compute_public_ephemeral(&f.a);
    let reply = client
        .process_reply(&f.a, USER, PASSWORD, f.salt.as_bytes(), &f.b_pub)
        .expect("process_reply");
    (a_pub, reply.key().to_vec())
}

fn srp_crate_cases<'a, G: srp::Group + 'a>(f: &'a Fixture, cases: &mut Vec<Case<'a>>) {
    let server = srp::Server::<G, Sha1>::new();
    let client = srp::Client::<G, Sha1>::new();
    check(f, "server", "srp-crate", srp_crate_server(f, &server), &f.b_pub);
    check(f, "client", "srp-crate", srp_crate_client(f, &client), &f.a_pub);
    cases.push(case("server", "srp-crate", move || {
        black_box(srp_crate_server(f, &server));
    }));
    cases.push(case("client", "srp-crate", move || {
        black_box(srp_crate_client(f, &client));
    }));
}

/// Before timing: every implementation computes the same public value and premaster secret.
fn check(f: &Fixture, side: &str, imp: &str, (public, premaster): (Vec<u8>, Vec<u8>), want: &[u8]) {
    assert_eq!(public, want, "{imp} {side} public value in group {}", f.bits);
    assert_eq!(premaster, f.premaster, "{imp} {side} premaster in group {}", f.bits);
}

fn bench_group(bits: u32, core_only: bool, rows: &mut Vec<Row>) {
    let f = Fixture::new(bits);
    let f = &f;
    let v = Bn::from_bytes(&f.v_bytes);
    let v = &v;
    let ct = ConstTime::new(f);
    let ct = &ct;

    for &backend in backends() {
        srp_core::backend::with_backend(backend, || {
            check(f, "server", backend.name(), ffi_server(f), &f.b_pub);
            check(f, "client", backend.name(), ffi_client(f), &f.a_pub);
        })
        .expect("a supported backend");
    }
    check(f, "server", "openssl-srp", openssl_srp_server(f, v), &f.b_pub);
    check(f, "client", "openssl-srp", openssl_srp_client(f), &f.a_pub);
    check(f, "server", "openssl-consttime", ct.server(f, v), &f.b_pub);
    check(f, "client", "openssl-consttime", ct.client(f), &f.a_pub);

    let mut cases = Vec::new();
    for &backend in backends() {
        cases.push(ffi_case("server", backend, || {
            black_box(ffi_server(f));
        }));
        cases.push(ffi_case("client", backend, || {
            black_box(ffi_client(f));
        }));
    }
    cases.extend([
        case("server", masked("openssl-srp"), || {
            black_box(openssl_srp_server(f, v));
        }),
        case("server", masked("openssl-consttime"), || {
            black_box(ct.server(f, v));
        }),
        case("client", masked("openssl-srp"), || {
            black_box(openssl_srp_client(f));
        }),
        case("client", masked("openssl-consttime"), || {
            black_box(ct.client(f));
        }),
    ]);
    match if core_only { 0 } else { bits } {
        2048 => srp_crate_cases::<srp::groups::G2048>(f, &mut cases),
        3072 => srp_crate_cases::<srp::groups::G3072>(f, &mut cases),
        4096 => srp_crate_cases::<srp::groups::G4096>(f, &mut cases),
        _ => {}
    }
    let stats = measure(&mut cases, BUDGET);
    // Table order: server rows, then client rows, each in the order the cases were listed.
    for side in ["server", "client"] {
        for (case, stats) in cases.iter().zip(&stats).filter(|(case, _)| case.side == side) {
            eprintln!(
                "  {bits} {side:<6} {:<24} median {:>9.1} µs  min {:>9.1} µs  ({} samples)",
                label(case.imp, case.backend),
                micros(stats.median),
                micros(stats.min),
                stats.samples
            );
            rows.push(Row {
                group: bits,
                side,
                imp: case.imp,
                backend: case.backend,
                masked: MASKED.get().copied().unwrap_or(false),
                stats: *stats,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: one exponentiation with a 256-bit exponent.

struct ExpRow {
    group: u32,
    crypto_bigint: Stats,
    openssl_word: Stats,
    openssl_vartime: Stats,
    openssl_consttime: Stats,
}

fn bench_exponentiation(bits: u32) -> ExpRow {
    let f = Fixture::new(bits);
    let e: [u8; PRIVATE_KEY_LEN] = random();
    let ctx = BnCtx::new();
    let mont = MontCtx::new(f.ossl.n, &ctx);
    let e_bn = Bn::from_bytes(&e);
    // A full-size base, as in (A * v^u)^b and (B - k*g^x)^(a + u*x).
    let base = Bn::from_bytes(&f.a_pub);

    let n = BoxedUint::from_be_slice_vartime(f.group.n_bytes());
    let params = BoxedMontyParams::new_vartime(Odd::new(n).expect("N is odd"));
    let base_cb =
        BoxedMontyForm::new(BoxedUint::from_be_slice(&f.a_pub, bits).expect("A"), &params);
    let e_cb = BoxedUint::from_be_slice(&e, bits).expect("exponent");

    let mut cases = vec![
        case("exp", "crypto-bigint", || {
            black_box(base_cb.pow_bounded_exp(&e_cb, 256).retrieve());
        }),
        case("exp", "SRP_Calc_A", || {
            black_box(openssl::calc_a(f.ossl, &e_bn));
        }),
        case("exp", "BN_mod_exp_mont", || {
            black_box(openssl::mod_exp_vartime(base.as_ptr(), &e_bn, f.ossl.n, &ctx, &mont));
        }),
        case("exp", "BN_mod_exp_mont_consttime", || {
            black_box(openssl::mod_exp_consttime(base.as_ptr(), &e_bn, f.ossl.n, &ctx, &mont));
        }),
    ];
    let stats = measure(&mut cases, EXP_BUDGET);
    let [crypto_bigint, openssl_word, openssl_vartime, openssl_consttime] =
        stats.try_into().unwrap_or_else(|_| unreachable!("four cases"));
    ExpRow { group: bits, crypto_bigint, openssl_word, openssl_vartime, openssl_consttime }
}

// ---------------------------------------------------------------------------------------------
// Output

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Machine {
    cpu: String,
    cores: usize,
    adx: bool,
    bmi2: bool,
    avx512f: bool,
    avx512ifma: bool,
    openssl: String,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|line| line.split(':').next().is_some_and(|key| key.trim() == name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_string())
    };
    let flags = field("flags").unwrap_or_default();
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    Machine {
        cpu: field("model name").unwrap_or_else(|| "unknown".into()),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        adx: has("adx"),
        bmi2: has("bmi2"),
        avx512f: has("avx512f"),
        avx512ifma: has("avx512ifma"),
        openssl: openssl::version(),
    }
}

fn markdown(m: &Machine, rows: &[Row], exps: &[ExpRow]) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CPU: {} ({} cores), ADX: {}, BMI2: {}, AVX512F: {}, AVX512IFMA: {}; {}; srp-ffi \
         backends: {} (the CPU's choice: {}). Times: {}.\n",
        m.cpu,
        m.cores,
        yes(m.adx),
        yes(m.bmi2),
        yes(m.avx512f),
        yes(m.avx512ifma),
        m.openssl,
        backends().iter().map(|b| b.name()).collect::<Vec<_>>().join(", "),
        Backend::detected().name(),
        match CLOCK.get() {
            Some(Clock::Wall) => "wall-clock",
            _ => "the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)",
        }
    );
    let _ = writeln!(
        out,
        "| group | side | impl | median µs | min µs | ratio to openssl-srp (median) | (min) |"
    );
    let _ = writeln!(out, "|---:|---|---|---:|---:|---:|---:|");
    let mut masked_header = false;
    for r in rows {
        if r.masked && !masked_header {
            masked_header = true;
            let _ = writeln!(
                out,
                "\nThe same, in a second process with OpenSSL's assembly paths masked \
                 (`OPENSSL_ia32cap={OPENSSL_MASK}`: no BMI2, ADX, AVX2 or AVX-512; OpenSSL runs \
                 its plain MULQ code) against the core's `portable` backend: the closest proxy \
                 here for an ARM device.\n"
            );
            let _ = writeln!(
                out,
                "| group | side | impl | median µs | min µs | ratio to openssl-srp-masked \
                 (median) | (min) |"
            );
            let _ = writeln!(out, "|---:|---|---|---:|---:|---:|---:|");
        }
        let reference = reference(rows, r).map_or(r.stats, |o| o.stats);
        let ratio = |ours: Duration, theirs: Duration| ours.as_secs_f64() / theirs.as_secs_f64();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.0} | {:.2}x | {:.2}x |",
            r.group,
            r.side,
            label(r.imp, r.backend),
            micros(r.stats.median),
            micros(r.stats.min),
            ratio(r.stats.median, reference.median),
            ratio(r.stats.min, reference.min),
        );
    }
    if exps.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nOne modular exponentiation with a 256-bit exponent (median µs; full-size base except \
         for `SRP_Calc_A`, whose base is g):\n"
    );
    let _ = writeln!(
        out,
        "| group | crypto-bigint `pow_bounded_exp` | OpenSSL `SRP_Calc_A` (g^e) | OpenSSL \
         `BN_mod_exp_mont` | OpenSSL `BN_mod_exp_mont_consttime` | crypto-bigint ÷ consttime |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    for e in exps {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2}x |",
            e.group,
            micros(e.crypto_bigint.median),
            micros(e.openssl_word.median),
            micros(e.openssl_vartime.median),
            micros(e.openssl_consttime.median),
            e.crypto_bigint.median.as_secs_f64() / e.openssl_consttime.median.as_secs_f64()
        );
    }
    out
}

fn json(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        let backend = r.backend.map(|b| format!(", \"backend\": \"{b}\"")).unwrap_or_default();
        let ratio = reference(rows, r)
            .map(|o| {
                format!(
                    ", \"ratio_median\": {:.3}",
                    r.stats.median.as_secs_f64() / o.stats.median.as_secs_f64()
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{{\"group\": {}, \"side\": \"{}\", \"impl\": \"{}\"{backend}, \"openssl_masked\": {}, \
             \"median_ns\": {}, \"min_ns\": {}, \"samples\": {}{ratio}}}",
            r.group,
            r.side,
            r.imp,
            r.masked,
            r.stats.median.as_nanos(),
            r.stats.min.as_nanos(),
            r.stats.samples
        );
    }
    out
}

/// The rows a `--masked` child printed (its `json` output).
fn parse_rows(text: &str) -> Vec<Row> {
    fn field<'t>(line: &'t str, key: &str) -> Option<&'t str> {
        let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
        let rest = &line[at..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"'))
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let ns = |line: &str, key: &str| {
        Duration::from_nanos(field(line, key).and_then(|v| v.parse().ok()).expect("a time"))
    };
    text.lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| Row {
            group: field(line, "group").and_then(|v| v.parse().ok()).expect("a group"),
            side: leak(field(line, "side").expect("a side")),
            imp: leak(field(line, "impl").expect("an impl")),
            backend: field(line, "backend").map(leak),
            masked: true,
            stats: Stats {
                median: ns(line, "median_ns"),
                min: ns(line, "min_ns"),
                samples: field(line, "samples").and_then(|v| v.parse().ok()).expect("samples"),
            },
        })
        .collect()
}

const BEGIN: &str = "<!-- bench-results:begin -->";
const END: &str = "<!-- bench-results:end -->";

/// Replaces the text between the markers of `path` (relative to the workspace root).
fn write_results(path: &PathBuf, results: &str) {
    let path = if path.is_absolute() {
        path.clone()
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("{} has no {BEGIN} ... {END} block", path.display());
    };
    let new = format!("{}{BEGIN}\n{results}{END}{}", &text[..begin], &text[end + END.len()..]);
    std::fs::write(&path, new).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    eprintln!("wrote the results into {}", path.display());
}

fn main() {
    let mut as_json = false;
    let mut core_only = false;
    let mut wall = false;
    let mut write = None;
    let mut masked_run = false;
    let mut with_masked = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => as_json = true,
            "--core" => core_only = true,
            "--wall" => wall = true,
            "--write" => write = Some(PathBuf::from(args.next().expect("--write needs a path"))),
            "--backend" => {
                let name = args.next().expect("--backend needs a name");
                let backend = Backend::by_name(&name).unwrap_or_else(|| {
                    panic!("unknown backend {name:?} (portable, adx, ifma, ifma-emulated)")
                });
                assert!(backend.is_supported(), "this CPU cannot run the {name} backend");
                BACKENDS.set(vec![backend]).unwrap_or_else(|_| panic!("one --backend"));
            }
            // The child run: OpenSSL with OPENSSL_ia32cap set by the parent.
            "--masked" => masked_run = true,
            // Also run that child (`cargo xtask bench core` does).
            "--with-masked" => with_masked = true,
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            other => {
                eprintln!(
                    "usage: srp [--json] [--wall] [--core] [--backend NAME] [--with-masked] [--write docs/performance.md]; unknown: {other}"
                );
                std::process::exit(2);
            }
        }
    }

    let clock = if wall { Clock::Wall } else { Clock::ThreadCpu };
    CLOCK.set(clock).unwrap_or_else(|_| unreachable!("set once"));
    MASKED.set(masked_run).unwrap_or_else(|_| unreachable!("set once"));
    if masked_run {
        assert_eq!(
            std::env::var("OPENSSL_ia32cap").ok().as_deref(),
            Some(OPENSSL_MASK),
            "--masked runs with OPENSSL_ia32cap={OPENSSL_MASK}"
        );
    }
    let m = machine();
    eprintln!(
        "CPU: {} ({} cores), ADX: {}, BMI2: {}, AVX512F: {}, AVX512IFMA: {}; {}; srp-ffi \
         backends: {}{}",
        m.cpu,
        m.cores,
        m.adx,
        m.bmi2,
        m.avx512f,
        m.avx512ifma,
        m.openssl,
        backends().iter().map(|b| b.name()).collect::<Vec<_>>().join(", "),
        if masked_run { "; OpenSSL assembly masked" } else { "" },
    );
    let mut rows = Vec::new();
    for bits in GROUPS {
        bench_group(bits, core_only, &mut rows);
    }
    if with_masked {
        eprintln!(
            "second process: the portable backend against OpenSSL with OPENSSL_ia32cap={OPENSSL_MASK}"
        );
        let mut child = std::process::Command::new(std::env::current_exe().expect("own path"));
        child.env("OPENSSL_ia32cap", OPENSSL_MASK);
        child.args(["--core", "--json", "--masked", "--backend", "portable"]);
        if wall {
            child.arg("--wall");
        }
        let out = child.output().expect("running the masked child");
        assert!(
            out.status.success(),
            "the masked child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        rows.extend(parse_rows(&String::from_utf8_lossy(&out.stdout)));
    }
    let exps: Vec<ExpRow> = if as_json && write.is_none() || core_only {
        Vec::new()
    } else {
        GROUPS.map(bench_exponentiation).into()
    };

    let text = markdown(&m, &rows, &exps);
    if as_json {
        print!("{}", json(&rows));
    } else {
        print!("{text}");
    }
    if let Some(path) = write {
        write_results(&path, &text);
    }
}
