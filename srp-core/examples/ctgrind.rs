//! The constant-time harness: `cargo xtask ctgrind` runs it under valgrind memcheck, built with
//! the `ct-validation` feature so that the password, x, v, a, b, the fake-user seed and
//! everything derived from them are marked undefined. Memcheck then reports every branch and
//! memory index that depends on a secret; the run must report none.
//!
//! Per group: enrolment, a handshake with the right and a wrong password, a fake user's
//! handshake, a password check, stored verifiers read from bytes that are secret from the start
//! (what `srp_verifier_record_new` does for every handshake in NSS's callback mode), and a
//! server's lookups of a real and an unknown user in a verifier file with two groups and in
//! callback mode, each followed by a handshake.
//!
//! `ctgrind leaky` instead runs a deliberately variable-time exponentiation on a secret, which
//! memcheck must report: it shows that the check can fail.
//!
//! `exchange` runs on the backend named by `--backend` (default: the one the CPU selects),
//! forced without asking CPUID: valgrind's emulated CPU hides ADX (and AVX-512) from CPUID, so
//! detection alone would only ever check the portable backend; valgrind 3.19 does execute MULX,
//! ADCX and ADOX. `ctgrind backends` (run natively, not under valgrind) lists the backends this
//! CPU supports, for `cargo xtask ctgrind` to check each.
//!
//! `exchange --backend ifma-emulated` runs the IFMA backend's kernel over the portable
//! emulation of its AVX-512 instructions (same control flow, same memory accesses): valgrind
//! cannot execute AVX-512, so memcheck checks the kernel's logic this way. The real AVX-512 code
//! is checked natively by `ctgrind trace BITS...`: it runs the exponentiation (variable base and
//! fixed base g) on the `ifma` backend in forked children under ptrace, single-stepping every
//! instruction, and records each instruction's address and the address of its memory operand
//! (decoded from `objdump -d` of this program and the registers at that step). The secrets
//! (exponent and base) differ between the children; every trace must be identical, else the
//! code branched or indexed memory on a secret. It prints `trace: identical` or `trace:
//! DIFFERENT ...` (exit status 1).
//!
//! Built with the `ct-planted` feature, `--plant branch|load|select-load` (before the other
//! arguments of `exchange` and `trace`) switches on a leak planted in the core's own arithmetic
//! (`srp_core::backend::Plant`): the negative controls, which the checks must catch.
//!
//! Usage: `ctgrind exchange [--plant NAME] [--backend NAME] BITS...`, `ctgrind trace [--plant
//! NAME] [--backend NAME] BITS...`, `ctgrind backends` or `ctgrind leaky`.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use srp_core::backend::Backend;
use srp_core::{
    Group, GroupId, Salt, Server, Username, Verifier, VerifierRecord, client_exchange, compute_x,
    ct,
};
use std::path::Path;

use srp_verifier_files::{FakeUsers, Format, VerifierDb};

fn main() {
    const { assert!(ct::ENABLED, "build the harness with --features ct-validation") };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(command @ ("exchange" | "trace")) => {
            let mut rest = &args[1..];
            if rest.first().map(String::as_str) == Some("--plant") {
                let name = rest.get(1).expect("--plant NAME");
                plant(name);
                rest = &rest[2..];
            }
            let mut backend = srp_core::backend::backend();
            let mut how = "detected";
            if rest.first().map(String::as_str) == Some("--backend") {
                let name = rest.get(1).expect("--backend NAME");
                backend =
                    Backend::by_name(name).unwrap_or_else(|| panic!("unknown backend {name:?}"));
                rest = &rest[2..];
                how = "forced";
            }
            if command == "trace" {
                let identical = srp_core::backend::with_backend(backend, || trace::run(rest))
                    .unwrap_or_else(|| panic!("this CPU cannot run {}", backend.name()));
                std::process::exit(if identical { 0 } else { 1 });
            }
            // The xtask reads this line to report which exponentiation backend the run covered.
            eprintln!(
                "srp-ffi backend: {} ({how}; CPUID here reports it as {})",
                backend.name(),
                if backend.is_supported() { "supported" } else { "unsupported" },
            );
            let run = || {
                assert_eq!(srp_core::backend::backend(), backend);
                for bits in rest {
                    let bits: u32 = bits.parse().expect("group size in bits");
                    exchange(Group::by_bits(bits).expect("an RFC 5054 group size"));
                }
            };
            #[allow(unsafe_code)]
            // SAFETY: `cargo xtask ctgrind` asks for a backend only if the host CPU supports it
            // (`ctgrind backends`), and valgrind executes its instructions (MULX, ADCX, ADOX for
            // `adx`); an unsupported instruction would stop the run with SIGILL, not pass.
            unsafe {
                srp_core::backend::with_backend_unchecked(backend, run)
            };
        }
        Some("backends") => {
            for backend in Backend::supported() {
                println!("{}", backend.name());
            }
        }
        Some("leaky") => leaky(),
        _ => {
            eprintln!(
                "usage: ctgrind exchange [--backend NAME] BITS... | ctgrind backends | ctgrind leaky"
            );
            std::process::exit(2);
        }
    }
}

/// Enrolment, one full handshake with the right password, one with a wrong password, a fake
/// user's handshake and a password check, all with secrets marked.
fn exchange(group: &'static Group) {
    let user = Username::new(b"alice").expect("valid username");
    let password = b"correct horse battery staple".to_vec();
    let record = VerifierRecord::generate(group, &user, &password).expect("enrolment");

    for (attempt, expect_match) in [(password.clone(), true), (b"wrong".to_vec(), false)] {
        let server = Server::new(&record.verifier).expect("server start");
        let client = client_exchange(group, &user, &attempt, &record.salt, server.public_key())
            .expect("client");
        let server_premaster = server.premaster(&client.public_key).expect("server premaster");
        // Comparing premaster secrets is the harness's business, not the core's: declassify.
        ct::declassify(client.premaster.as_bytes());
        ct::declassify(server_premaster.as_bytes());
        assert_eq!(client.premaster.as_bytes() == server_premaster.as_bytes(), expect_match);
    }

    let fake = FakeUsers::new(&[0x5a; 32], group, 16).expect("fake users");
    let fake_record = fake.record(&Username::new(b"mallory").expect("valid username"));
    let server = Server::new(&fake_record.verifier).expect("server for a fake user");
    let client = client_exchange(group, &user, &password, &fake_record.salt, server.public_key())
        .expect("client against a fake user");
    server.premaster(&client.public_key).expect("fake user's premaster");

    assert!(record.check_password(&user, &password));
    stored_verifiers(group);
    lookups(group, &user, &password, &record);
    println!(
        "ctgrind: {} bits: exchange, wrong password, fake user, password check, stored verifiers, \
         lookups",
        group.bits()
    );
}

/// A server's lookups in a verifier file (`srp_verifier_file_lookup`) and in callback mode
/// (`srp_fake_users_choose`), for a user in the file and an unknown one, each followed by the
/// server's side of a handshake. The file's verifiers, the lookup table's tags and the seed are
/// secret; the table's answer is declassified only to copy the record.
fn lookups(group: &'static Group, user: &Username, password: &[u8], record: &VerifierRecord) {
    let mut db = VerifierDb::new(Format::OpenSsl);
    db.add(user.clone(), record.clone()).expect("alice");
    let other = if group.bits() == 2048 { GroupId::G3072 } else { GroupId::G2048 }.group();
    for i in 0..5 {
        let name = Username::new(format!("user{i}").as_bytes()).expect("valid username");
        let salt = Salt::new(&[0x11 + i; 16]).expect("salt");
        let verifier = Verifier::from_bytes(other, &[0x42, i + 1]).expect("verifier");
        db.add(name, VerifierRecord { salt, verifier }).expect("add");
    }
    // Written out and read back as a file: its bytes come from the disk as plain data, and the
    // parser marks each verifier secret once it has split it from its line.
    let text = db.to_bytes();
    ct::declassify(&text);
    let db = VerifierDb::parse_openssl(Path::new("srpvfile"), &text).expect("parse");
    let fake = db.fake_users(&[0x5a; 32]).expect("fake users");
    let mallory = Username::new(b"mallory").expect("valid username");
    for (name, expect_match) in [(user, true), (&mallory, false)] {
        for found in [db.lookup(name, Some(&fake)), Ok(fake.choose(name, db.get(name)))] {
            let found = found.expect("a record, real or fake");
            let admitted = found.group();
            let server = Server::new(&found.verifier).expect("server");
            let client =
                client_exchange(admitted, user, password, &found.salt, server.public_key())
                    .expect("client");
            let server_premaster = server.premaster(&client.public_key).expect("premaster");
            ct::declassify(client.premaster.as_bytes());
            ct::declassify(server_premaster.as_bytes());
            assert_eq!(client.premaster.as_bytes() == server_premaster.as_bytes(), expect_match);
        }
    }
}

/// What `srp_verifier_record_new` does for NSS on every handshake in callback mode: a verifier
/// the application stored, as big-endian bytes (secret from the first byte), checked for the
/// range [1, N) and made into a record. Also with leading zero bytes and with the bytes of a
/// value that is out of range, where only the verdict may be public.
fn stored_verifiers(group: &'static Group) {
    // Any value in [1, N) is a verifier; this one starts below N's top byte.
    let v: Vec<u8> = (0..group.n_len()).map(|i| (i * 37 + 11) as u8 & 0x7f).collect();
    let mut padded = vec![0u8; 3];
    padded.extend_from_slice(&v);
    let n = group.n_bytes().to_vec();
    for (bytes, valid) in [(v.clone(), true), (padded, true), (n, false), (vec![0; 5], false)] {
        ct::secret(&bytes);
        let parsed = Verifier::from_bytes(group, &bytes);
        assert_eq!(parsed.is_ok(), valid);
        if let Ok(parsed) = parsed {
            // Written back as a verifier file stores it (its length is public there).
            assert_eq!(parsed.to_bytes().len(), v.len());
            let server = Server::new(&parsed).expect("server from a stored verifier");
            let _ = server.public_key();
        }
    }
}

/// Switches on the planted leak `name` (feature `ct-planted`).
fn plant(name: &str) {
    #[cfg(feature = "ct-planted")]
    {
        use srp_core::backend::Plant;
        let which = match name {
            "branch" => Plant::Branch,
            "load" => Plant::Load,
            "select-load" => Plant::SelectLoad,
            other => panic!("unknown planted leak {other:?} (branch, load, select-load)"),
        };
        srp_core::backend::plant(which);
        eprintln!("planted leak: {name}");
    }
    #[cfg(not(feature = "ct-planted"))]
    panic!("--plant {name} needs the ct-planted feature");
}

/// A square-and-multiply exponentiation that branches on the secret exponent's bits: the
/// classic timing leak. Memcheck must report it.
fn leaky() {
    let group = GroupId::G2048.group();
    let salt = Salt::new(&[1; 16]).expect("valid salt");
    let x = compute_x(&Username::new(b"alice").expect("valid username"), b"secret", &salt);
    let modulus = BoxedUint::from_be_slice_vartime(group.n_bytes());
    let params = BoxedMontyParams::new_vartime(crypto_bigint::Odd::new(modulus).expect("odd N"));
    let base = BoxedMontyForm::new(BoxedUint::from_be_slice_truncated(&[2], 2048), &params);
    let mut result = BoxedMontyForm::one(&params);
    for byte in x.iter() {
        for bit in (0..8).rev() {
            result = result.square();
            if (byte >> bit) & 1 == 1 {
                result = result.mul(&base);
            }
        }
    }
    let out = result.retrieve().to_be_bytes();
    ct::declassify(&out);
    println!("ctgrind: leaky exponentiation done ({} bytes)", out.len());
}

/// The native check of the exponentiation's machine code: identical instruction and memory
/// address traces for different secrets (see the module documentation).
#[allow(unsafe_code)]
mod trace {
    use srp_core::{Group, backend::pow_for_check};
    use std::collections::HashMap;

    /// A memory operand `disp(base, index, scale)`; registers as user_regs_struct offsets.
    #[derive(Clone, Copy)]
    struct Operand {
        disp: i64,
        base: Option<usize>,
        index: Option<usize>,
        scale: u64,
    }

    /// Runs the check in each group; true when every trace matched.
    pub fn run(groups: &[String]) -> bool {
        let operands = disassemble();
        let base_addr = load_base(&std::env::current_exe().expect("own path"));
        let mut all = true;
        for bits in groups {
            let bits: u32 = bits.parse().expect("group size in bits");
            let group = Group::by_bits(bits).expect("an RFC 5054 group size");
            let words = group.n_len() / 8;
            // Secret inputs that differ in every way: exponents of 8 bits (two windows: table
            // build, squarings, a multiplication, selections), bases below N (Montgomery form).
            let exps: [u64; 3] = [0, 0xff, 0xa5];
            let bases: Vec<Vec<u64>> = (0..3u64)
                .map(|k| {
                    let mut b: Vec<u64> = (0..words as u64)
                        .map(|i| (i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15 ^ k))
                        .collect();
                    b[words - 1] >>= 2;
                    if k == 0 {
                        b.iter_mut().for_each(|w| *w = 0);
                    }
                    b
                })
                .collect();
            // The children read their inputs from, and write to, the same addresses.
            let mut base = vec![0u64; words];
            let mut exp = [0u64; 1];
            let mut out = vec![0u64; words];
            for fixed in [false, true] {
                // Built before the children fork: the IFMA constants and g's tables.
                pow_for_check(group, &bases[1], &[exps[1]], 8, fixed, &mut out);
                let mut first: Option<Vec<(u64, u64)>> = None;
                for (k, (b, e)) in bases.iter().zip(exps).enumerate() {
                    base.copy_from_slice(b);
                    exp[0] = e;
                    let t = traced(&operands, || {
                        pow_for_check(group, &base, &exp, 8, fixed, &mut out);
                    });
                    match &first {
                        None => {
                            eprintln!(
                                "trace: {bits} bits, {}: {} steps",
                                if fixed { "g^e (fixed base)" } else { "b^e" },
                                t.len()
                            );
                            first = Some(t);
                        }
                        Some(f) if *f == t => {}
                        Some(f) => {
                            all = false;
                            let at = f
                                .iter()
                                .zip(&t)
                                .position(|(a, b)| a != b)
                                .unwrap_or(f.len().min(t.len()));
                            let file =
                                |s: Option<&(u64, u64)>| s.map(|&(rip, ea)| (rip - base_addr, ea));
                            println!(
                                "trace: DIFFERENT in the {bits}-bit group ({}), input {k}: {} and \
                                 {} steps, first difference at step {at}: (instruction at file \
                                 address, memory address) {:x?} vs {:x?}",
                                if fixed { "fixed base" } else { "variable base" },
                                f.len(),
                                t.len(),
                                file(f.get(at)),
                                file(t.get(at))
                            );
                        }
                    }
                }
            }
        }
        if all {
            println!("trace: identical");
        }
        all
    }

    /// The memory operand of every instruction of this program that has one (`lea` and `nop`
    /// excepted: they read no memory; RIP-relative ones have constant addresses), by address
    /// as loaded.
    fn disassemble() -> HashMap<u64, Operand> {
        let exe = std::env::current_exe().expect("own path");
        let out = std::process::Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", "-M", "att"])
            .arg(&exe)
            .output()
            .expect("objdump (Debian binutils)");
        assert!(out.status.success(), "objdump failed");
        let base = load_base(&exe);
        let mut map = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some((addr, insn)) = line.split_once(":\t") else { continue };
            let Ok(addr) = u64::from_str_radix(addr.trim(), 16) else { continue };
            let mnemonic = insn.split_whitespace().next().unwrap_or("");
            if mnemonic.starts_with("lea") || mnemonic.starts_with("nop") || insn.contains("(%rip)")
            {
                continue;
            }
            if let Some(op) = operand(insn) {
                map.insert(base + addr, op);
            }
        }
        assert!(!map.is_empty(), "no memory operands decoded");
        map
    }

    /// Where this PIE program is loaded: the start of its mapping at file offset 0.
    fn load_base(exe: &std::path::Path) -> u64 {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        let exe = exe.to_string_lossy();
        maps.lines()
            .find(|l| l.ends_with(&*exe) && l.split_whitespace().nth(2) == Some("00000000"))
            .and_then(|l| l.split('-').next())
            .and_then(|a| u64::from_str_radix(a, 16).ok())
            .expect("own mapping")
    }

    /// The register's offset in `libc::user_regs_struct`, in 8-byte words.
    fn reg(name: &str) -> usize {
        let name = name.trim_start_matches('%');
        let canon = match name {
            "eax" => "rax",
            "ebx" => "rbx",
            "ecx" => "rcx",
            "edx" => "rdx",
            "esi" => "rsi",
            "edi" => "rdi",
            "ebp" => "rbp",
            "esp" => "rsp",
            n if n.starts_with('r') && (n.ends_with('d')) => &n[..n.len() - 1],
            n => n,
        };
        // user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax
        // rip cs eflags rsp ...
        match canon {
            "r15" => 0,
            "r14" => 1,
            "r13" => 2,
            "r12" => 3,
            "rbp" => 4,
            "rbx" => 5,
            "r11" => 6,
            "r10" => 7,
            "r9" => 8,
            "r8" => 9,
            "rax" => 10,
            "rcx" => 11,
            "rdx" => 12,
            "rsi" => 13,
            "rdi" => 14,
            "rsp" => 19,
            other => panic!("cannot use {other} as an address register"),
        }
    }

    /// The AT&T memory operand of `insn`, if it has one.
    fn operand(insn: &str) -> Option<Operand> {
        let open = insn.find('(')?;
        let close = open + insn[open..].find(')')?;
        let inner = &insn[open + 1..close];
        let start = insn[..open].rfind([' ', ',']).map_or(0, |i| i + 1);
        let disp_text = &insn[start..open];
        let disp = if disp_text.is_empty() {
            0
        } else if let Some(hex) = disp_text.strip_prefix("-0x") {
            -i64::from_str_radix(hex, 16).ok()?
        } else if let Some(hex) = disp_text.strip_prefix("0x") {
            u64::from_str_radix(hex, 16).ok()? as i64
        } else {
            disp_text.parse().ok()?
        };
        let mut parts = inner.split(',');
        let base = parts.next().filter(|p| !p.is_empty()).map(reg);
        let index = parts.next().filter(|p| !p.is_empty() && *p != "%riz").map(reg);
        let scale = parts.next().map_or(1, |s| s.parse().unwrap_or(1));
        Some(Operand { disp, base, index, scale })
    }

    /// Runs `f` in a forked child, single-stepped; returns (instruction address, memory
    /// operand address or 0) for every step between the child's two SIGSTOPs.
    fn traced(operands: &HashMap<u64, Operand>, f: impl FnOnce()) -> Vec<(u64, u64)> {
        // SAFETY: plain fork/ptrace/waitpid use; the child only runs `f` and exits.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0, "fork");
            if pid == 0 {
                libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
                libc::raise(libc::SIGSTOP);
                f();
                libc::raise(libc::SIGSTOP);
                libc::_exit(0);
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert!(libc::WIFSTOPPED(status), "the child did not stop");
            let mut steps = Vec::new();
            loop {
                libc::ptrace(libc::PTRACE_SINGLESTEP, pid, 0, 0);
                libc::waitpid(pid, &mut status, 0);
                assert!(libc::WIFSTOPPED(status), "the traced child ended early ({status})");
                let sig = libc::WSTOPSIG(status);
                if sig == libc::SIGSTOP {
                    break;
                }
                assert_eq!(sig, libc::SIGTRAP, "the traced child got signal {sig}");
                let mut regs: libc::user_regs_struct = std::mem::zeroed();
                libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut _);
                let words: &[u64] = std::slice::from_raw_parts(
                    (&regs as *const libc::user_regs_struct).cast::<u64>(),
                    std::mem::size_of::<libc::user_regs_struct>() / 8,
                );
                let rip = regs.rip;
                let ea = operands.get(&rip).map_or(0, |op| {
                    let b = op.base.map_or(0, |r| words[r]);
                    let i = op.index.map_or(0, |r| words[r]);
                    b.wrapping_add(i.wrapping_mul(op.scale)).wrapping_add(op.disp as u64)
                });
                steps.push((rip, ea));
            }
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
            steps
        }
    }
}
