//! How long a server's lookup takes for a user in the verifier file and for an unknown one
//! (issue 10: fake users must not be told apart by time), for files of 1, 100 and 10,000 users
//! in the 3072-bit group with 20-byte salts (what `openssl srp` and `srp-verifier` write by
//! default), with fake users from the file (`VerifierDb::fake_users`).
//!
//! - `lookup`: `VerifierDb::lookup(name, Some(&fake))`, which `srp_verifier_file_lookup` wraps.
//! - `lookup + B`: the lookup and then `Server::new` (b, B = k*v + g^b), the server's whole work
//!   before it sends ServerKeyExchange.
//!
//! Real and unknown names are timed in alternating samples (a batch of lookups over 64 names of
//! each kind, the order swapped every round), on the thread's CPU time, so that the noise of a
//! shared machine falls on both alike. Reported: the median and minimum time per lookup, the
//! ratio unknown / real of the medians, and a 95% bootstrap interval of that ratio (resampling
//! the samples of both kinds). Speed is measured, not asserted: nothing here fails on a ratio.
//!
//! `cargo bench -p srp-verifier-files --bench lookup` prints a Markdown table; `-- --json` one
//! JSON object per line; `-- --quick` fewer rounds; `-- --only real|unknown USERS` just runs
//! 1,000 lookups of that kind (for counting instructions under valgrind, docs/performance.md).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use srp_core::{GroupId, Salt, Server, Username, Verifier, VerifierRecord};
use srp_verifier_files::{FakeUsers, Format, VerifierDb};

const SIZES: [usize; 3] = [1, 100, 10_000];
/// Names of each kind per sample, cycled through.
const NAMES: usize = 64;

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

/// The thread's CPU time.
fn now() -> Duration {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A small deterministic generator (xorshift64*), for file contents and the bootstrap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A verifier file of `users` users in the 3072-bit group with 20-byte salts, as a server loads
/// it. The verifiers are random values below N (nobody logs in here).
fn file(users: usize, rng: &mut Rng) -> VerifierDb {
    let group = GroupId::G3072.group();
    let mut db = VerifierDb::new(Format::OpenSsl);
    for i in 0..users {
        let mut salt = rng.bytes(20);
        salt[0] |= 1;
        let mut v = rng.bytes(group.n_len());
        v[0] &= 0x7f;
        let record = VerifierRecord {
            salt: Salt::new(&salt).expect("salt"),
            verifier: Verifier::from_bytes(group, &v).expect("below N"),
        };
        let name = Username::new(format!("user{i:05}").as_bytes()).expect("username");
        db.add(name, record).expect("add");
    }
    VerifierDb::parse_openssl(Path::new("srpvfile"), &db.to_bytes()).expect("parse")
}

/// A thing to time: its name, rounds, operations per sample, and the operation.
type Case<'a> = (&'static str, usize, usize, Box<dyn FnMut(&Username) + 'a>);

struct Sampled {
    /// Time per operation of each sample.
    real: Vec<f64>,
    unknown: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The 2.5% and 97.5% points of the ratio of medians, over 1,000 resamplings.
fn bootstrap(real: &[f64], unknown: &[f64]) -> (f64, f64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut resample = |values: &[f64]| -> f64 {
        let picked: Vec<f64> =
            (0..values.len()).map(|_| values[rng.next() as usize % values.len()]).collect();
        median(&picked)
    };
    let mut ratios: Vec<f64> = (0..1000).map(|_| resample(unknown) / resample(real)).collect();
    ratios.sort_by(f64::total_cmp);
    (ratios[25], ratios[975])
}

/// Times `op` over the real and the unknown names in alternating samples of `batch` operations.
fn sample(
    rounds: usize,
    batch: usize,
    real: &[Username],
    unknown: &[Username],
    mut op: impl FnMut(&Username),
) -> Sampled {
    let mut time = |names: &[Username], offset: usize| {
        let start = now();
        for i in 0..batch {
            op(&names[(offset + i) % names.len()]);
        }
        (now() - start).as_secs_f64() / batch as f64
    };
    for round in 0..3 {
        time(real, round);
        time(unknown, round);
    }
    let mut out = Sampled { real: Vec::new(), unknown: Vec::new() };
    for round in 0..rounds {
        let offset = round * batch;
        if round % 2 == 0 {
            out.real.push(time(real, offset));
            out.unknown.push(time(unknown, offset));
        } else {
            out.unknown.push(time(unknown, offset));
            out.real.push(time(real, offset));
        }
    }
    out
}

/// One lookup, in a function of its own so that a profiler can count it alone
/// (`valgrind --tool=callgrind --toggle-collect=*lookup_once*`).
#[inline(never)]
fn lookup_once(db: &VerifierDb, fake: &FakeUsers, name: &Username) {
    black_box(db.lookup(black_box(name), Some(fake)).expect("record"));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let quick = args.iter().any(|a| a == "--quick");
    let mut rng = Rng(0x243f_6a88_85a3_08d3);
    let seed = [0x5a; 32];
    if let Some(at) = args.iter().position(|a| a == "--only") {
        let kind = args.get(at + 1).map(String::as_str);
        let users: usize =
            args.get(at + 2).and_then(|n| n.parse().ok()).expect("--only KIND USERS");
        let db = file(users, &mut rng);
        let fake = db.fake_users(&seed).expect("fake users");
        // Names of the same length either way: the HMACs' cost depends on it.
        let base = match kind {
            Some("real") => 0,
            Some("unknown") => users,
            _ => panic!("--only real|unknown USERS"),
        };
        for i in 0..1000 {
            let name = format!("user{:05}", base + i % users.max(1));
            let name = Username::new(name.as_bytes()).expect("username");
            lookup_once(&db, &fake, &name);
        }
        return;
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| users | what | real median µs | unknown median µs | real min µs | unknown min µs | \
         unknown / real (median) | 95% interval |"
    );
    let _ = writeln!(table, "|---:|---|---:|---:|---:|---:|---:|---|");
    for users in SIZES {
        let db = file(users, &mut rng);
        let fake: FakeUsers = db.fake_users(&seed).expect("fake users");
        let real: Vec<Username> = (0..NAMES.min(users))
            .map(|i| i * users / NAMES.min(users))
            .map(|i| Username::new(format!("user{i:05}").as_bytes()).expect("username"))
            .collect();
        let unknown: Vec<Username> = (0..NAMES)
            .map(|i| Username::new(format!("user{:05}", users + 7 * i).as_bytes()).expect("name"))
            .collect();
        for name in &real {
            assert!(db.get(name).is_some(), "{name:?} is a user");
        }
        for name in &unknown {
            assert!(db.get(name).is_none(), "{name:?} is unknown");
        }
        let cases: [Case; 2] = [
            (
                "lookup",
                if quick { 201 } else { 1001 },
                64,
                Box::new(|name: &Username| {
                    black_box(db.lookup(black_box(name), Some(&fake)).expect("record"));
                }),
            ),
            (
                "lookup + B",
                if quick { 31 } else { 151 },
                4,
                Box::new(|name: &Username| {
                    let record = db.lookup(black_box(name), Some(&fake)).expect("record");
                    black_box(Server::new(&record.verifier).expect("server").public_key().len());
                }),
            ),
        ];
        for (what, rounds, batch, op) in cases {
            let s = sample(rounds, batch, &real, &unknown, op);
            let (real_median, unknown_median) = (median(&s.real), median(&s.unknown));
            let ratio = unknown_median / real_median;
            let (low, high) = bootstrap(&s.real, &s.unknown);
            let us = |t: f64| t * 1e6;
            if json {
                println!(
                    "{{\"users\": {users}, \"what\": \"{what}\", \"real_median_ns\": {:.0}, \
                     \"unknown_median_ns\": {:.0}, \"real_min_ns\": {:.0}, \"unknown_min_ns\": \
                     {:.0}, \"ratio\": {ratio:.4}, \"ratio_low\": {low:.4}, \"ratio_high\": \
                     {high:.4}, \"samples\": {}}}",
                    real_median * 1e9,
                    unknown_median * 1e9,
                    min(&s.real) * 1e9,
                    min(&s.unknown) * 1e9,
                    s.real.len()
                );
            }
            let _ = writeln!(
                table,
                "| {users} | {what} | {:.2} | {:.2} | {:.2} | {:.2} | {ratio:.3} | {low:.3} – {high:.3} |",
                us(real_median),
                us(unknown_median),
                us(min(&s.real)),
                us(min(&s.unknown)),
            );
        }
    }
    if !json {
        println!(
            "lookup of a real vs an unknown user, 3072-bit group, 20-byte salts, fake users from \
             the file; thread CPU time; backend {}",
            srp_core::backend_name()
        );
        print!("{table}");
    }
}
