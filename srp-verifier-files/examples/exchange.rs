//! The SRP part of a TLS-SRP handshake, server and client in one process, from a verifier file:
//! the Rust API of srp-core and srp-verifier-files in one page.
//!
//! Usage: `cargo run -p srp-verifier-files --example exchange -- VERIFIER_FILE USER PASSWORD`

use std::path::Path;
use std::process::ExitCode;

use srp_core::{DEFAULT_MIN_BITS, Group, Server, Username, VerifierRecord, client_exchange};
use srp_verifier_files::{FakeUsers, VerifierDb};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, user, password] = args.as_slice() else {
        eprintln!("usage: exchange VERIFIER_FILE USER PASSWORD");
        return ExitCode::from(2);
    };
    match run(Path::new(file), user, password) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(file: &Path, user: &str, password: &str) -> Result<(), String> {
    let db = VerifierDb::load(file, None, None).map_err(|e| e.to_string())?;
    println!("verifier file: {} ({:?} format, {} users)", file.display(), db.format(), db.len());
    let username = Username::new(user.as_bytes()).map_err(|e| e.to_string())?;
    let record = db.get(&username).ok_or_else(|| format!("no user {user:?} in the file"))?;
    // Fake users look like the file's users: same group, same salt length.
    let fake = FakeUsers::random(record.group(), record.salt.as_bytes().len())
        .map_err(|e| e.to_string())?;

    let outcome = handshake(record, &username, password.as_bytes())?;
    println!("{user} with the right password: {outcome}");
    let outcome = handshake(record, &username, b"not the password")?;
    println!("{user} with a wrong password: {outcome}");
    let mallory = Username::new(b"mallory").map_err(|e| e.to_string())?;
    let outcome = handshake(&fake.record(&mallory), &mallory, password.as_bytes())?;
    println!("unknown user mallory (answered with a fake record): {outcome}");
    Ok(())
}

/// Server and client sides of one exchange; says whether the premaster secrets agree.
fn handshake(record: &VerifierRecord, user: &Username, password: &[u8]) -> Result<String, String> {
    let server = Server::new(&record.verifier).map_err(|e| e.to_string())?;
    let group = server.group();
    // What the client does with ServerKeyExchange: admit the group, then compute.
    let admitted = Group::from_params(group.n_bytes(), group.g_bytes(), DEFAULT_MIN_BITS)
        .map_err(|e| format!("client refused the group: {e}"))?;
    let b_len = server.public_key().len();
    let client = client_exchange(admitted, user, password, &record.salt, server.public_key())
        .map_err(|e| e.to_string())?;
    let server_premaster = server.premaster(&client.public_key).map_err(|e| e.to_string())?;
    let same = server_premaster.as_bytes() == client.premaster.as_bytes();
    Ok(format!(
        "group={} salt={} bytes A={} bytes B={} bytes premaster {}",
        group.bits(),
        record.salt.as_bytes().len(),
        client.public_key.len(),
        b_len,
        if same {
            "secrets match: Finished verifies, user authenticated"
        } else {
            "secrets differ: Finished fails (bad_record_mac)"
        }
    ))
}
