//! `srp-verifier`: add, check, remove and list TLS-SRP users in OpenSSL `srpvfile` and GnuTLS
//! `tpasswd` files, and convert between the two.
//!
//! Exit status: 0 on success; `check` exits 1 when the password does not match or the user is
//! unknown; 2 on any error (bad arguments, unreadable or malformed files, ...).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use srp_core::{DEFAULT_MIN_BITS, GroupId, Username, VerifierRecord};
use srp_verifier_files::{Format, VerifierDb, default_conf_path};
use zeroize::Zeroizing;

/// Manage TLS-SRP verifier files: OpenSSL `srpvfile` and GnuTLS `tpasswd` (+ `tpasswd.conf`).
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a user (an existing user is an error: remove it first).
    Add {
        #[command(flatten)]
        target: FileArgs,
        /// The username.
        #[arg(long)]
        user: String,
        /// The RFC 5054 group size in bits: 1024, 1536, 2048, 3072, 4096, 6144 or 8192.
        #[arg(long, default_value_t = 3072)]
        group: u32,
        /// The file format; required when the file is missing or empty, else it must match.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Read the password from the first line of standard input instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Check a password: exit 0 if it matches, 1 if not or the user is unknown.
    Check {
        #[command(flatten)]
        target: FileArgs,
        /// The username.
        #[arg(long)]
        user: String,
        /// Read the password from the first line of standard input instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user.
    Remove {
        #[command(flatten)]
        target: FileArgs,
        /// The username.
        #[arg(long)]
        user: String,
    },
    /// List the users: name, group bits, and "revoked" for OpenSSL's revoked entries.
    List {
        #[command(flatten)]
        target: FileArgs,
    },
    /// Write the users of one file into a new file of the given format.
    Convert {
        /// The file to read (format detected from its content).
        #[arg(long)]
        from: PathBuf,
        /// GnuTLS group file of --from (default: FROM.conf).
        #[arg(long)]
        from_conf: Option<PathBuf>,
        /// The file to create (it must not exist).
        #[arg(long)]
        to: PathBuf,
        /// GnuTLS group file of --to (default: TO.conf); an existing one is reused.
        #[arg(long)]
        to_conf: Option<PathBuf>,
        /// The format of --to.
        #[arg(long, value_enum)]
        format: FormatArg,
    },
}

#[derive(clap::Args)]
struct FileArgs {
    /// The verifier file.
    #[arg(long)]
    file: PathBuf,
    /// For GnuTLS files: the group file (default: FILE.conf).
    #[arg(long)]
    conf: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// OpenSSL `srpvfile` (`openssl srp`, `SRP_VBASE_init`).
    Openssl,
    /// GnuTLS `tpasswd` with `tpasswd.conf` (`srptool`, `gnutls-serv --srppasswd`).
    Gnutls,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Openssl => Format::OpenSsl,
            FormatArg::Gnutls => Format::GnuTls,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("srp-verifier: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Add { target, user, group, format, password_stdin } => {
            add(&target, &user, group, format.map(Format::from), password_stdin)
        }
        Command::Check { target, user, password_stdin } => check(&target, &user, password_stdin),
        Command::Remove { target, user } => remove(&target, &user),
        Command::List { target } => list(&target),
        Command::Convert { from, from_conf, to, to_conf, format } => {
            convert(&from, from_conf.as_deref(), &to, to_conf.as_deref(), format.into())
        }
    }
}

fn username(name: &str) -> Result<Username> {
    Username::new(name.as_bytes()).with_context(|| format!("invalid username {name:?}"))
}

fn show(user: &Username) -> String {
    String::from_utf8_lossy(user.as_bytes()).into_owned()
}

/// Reads an existing verifier file, telling its format from its content.
fn load(target: &FileArgs) -> Result<VerifierDb> {
    Ok(VerifierDb::load(&target.file, None, target.conf.as_deref())?)
}

/// An empty database of `format` for a new file; for GnuTLS with the groups of an existing
/// group file, if there is one.
fn new_db(format: Format, conf: &Path) -> Result<VerifierDb> {
    if format == Format::GnuTls && conf.exists() {
        let content =
            std::fs::read(conf).with_context(|| format!("cannot read {}", conf.display()))?;
        Ok(VerifierDb::parse_gnutls_conf(conf, &content)?)
    } else {
        Ok(VerifierDb::new(format))
    }
}

fn add(
    target: &FileArgs,
    name: &str,
    bits: u32,
    format: Option<Format>,
    stdin: bool,
) -> Result<ExitCode> {
    let user = username(name)?;
    let Some(id) = GroupId::from_bits(bits) else {
        bail!(
            "no RFC 5054 group has {bits} bits: expected 1024, 1536, 2048, 3072, 4096, 6144 or 8192"
        );
    };
    let file = &target.file;
    let content = match std::fs::read(file) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let detected = Format::detect(&content);
    let mut db = match (detected, format) {
        (Some(found), Some(wanted)) if found != wanted => {
            bail!("{} is in {found} format, but --format {wanted} was given", file.display())
        }
        (Some(_), _) => load(target)?,
        (None, _) if !content.iter().all(u8::is_ascii_whitespace) => {
            // Not empty, yet of no known format: let the reader say what is wrong.
            VerifierDb::load(file, format, target.conf.as_deref())?
        }
        (None, Some(format)) => {
            let conf = target.conf.clone().unwrap_or_else(|| default_conf_path(file));
            new_db(format, &conf)?
        }
        (None, None) => bail!(
            "{} is empty or missing, so its format is unknown: pass --format openssl or --format gnutls",
            file.display()
        ),
    };
    if db.get(&user).is_some() {
        bail!(
            "user {name:?} already exists in {}; remove it first (srp-verifier remove --file {} --user {name})",
            file.display(),
            file.display()
        );
    }
    let password = read_password(&format!("Password for {name}: "), stdin, true)?;
    let record = VerifierRecord::generate(id.group(), &user, &password)?;
    db.add(user, record)?;
    db.save(file, target.conf.as_deref())?;
    if bits < DEFAULT_MIN_BITS {
        eprintln!(
            "srp-verifier: warning: the {bits}-bit group is weak; clients refuse groups below \
             {DEFAULT_MIN_BITS} bits by default"
        );
    }
    eprintln!("added user {name:?} ({bits}-bit group) to {} ({})", file.display(), db.format());
    Ok(ExitCode::SUCCESS)
}

fn check(target: &FileArgs, name: &str, stdin: bool) -> Result<ExitCode> {
    let user = username(name)?;
    let db = load(target)?;
    let password = read_password(&format!("Password for {name}: "), stdin, false)?;
    let Some(record) = db.get(&user) else {
        eprintln!("user {name:?} is not in {}", target.file.display());
        return Ok(ExitCode::from(1));
    };
    if record.check_password(&user, &password) {
        eprintln!("password matches");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("password does not match");
        Ok(ExitCode::from(1))
    }
}

fn remove(target: &FileArgs, name: &str) -> Result<ExitCode> {
    let user = username(name)?;
    let mut db = load(target)?;
    if db.remove(&user).is_none() {
        bail!("user {name:?} is not in {}", target.file.display());
    }
    db.save(&target.file, target.conf.as_deref())?;
    eprintln!("removed user {name:?} from {}", target.file.display());
    Ok(ExitCode::SUCCESS)
}

fn list(target: &FileArgs) -> Result<ExitCode> {
    let db = load(target)?;
    for entry in db.entries() {
        let revoked = if entry.is_revoked() { "\trevoked" } else { "" };
        println!("{}\t{}{revoked}", show(entry.username()), entry.record().group().bits());
    }
    Ok(ExitCode::SUCCESS)
}

fn convert(
    from: &Path,
    from_conf: Option<&Path>,
    to: &Path,
    to_conf: Option<&Path>,
    format: Format,
) -> Result<ExitCode> {
    let source = VerifierDb::load(from, None, from_conf)?;
    if to.exists() {
        bail!("{} exists; remove it first or choose another name", to.display());
    }
    let conf = to_conf.map_or_else(|| default_conf_path(to), Path::to_path_buf);
    let mut target = new_db(format, &conf)?;
    source.convert_into(&mut target)?;
    for entry in source.entries() {
        if entry.is_revoked() {
            eprintln!("srp-verifier: warning: left out revoked user {:?}", show(entry.username()));
        } else if format == Format::GnuTls && !entry.info().is_empty() {
            eprintln!(
                "srp-verifier: warning: user {:?}: GnuTLS files have no info field; left out",
                show(entry.username())
            );
        }
    }
    target.save(to, to_conf)?;
    eprintln!("wrote {} users to {} ({format})", target.entries().len(), to.display());
    Ok(ExitCode::SUCCESS)
}

/// Reads a password: one line of standard input, or from the terminal without echo (twice
/// when `confirm`, which must agree). Its bytes are wiped when dropped.
fn read_password(prompt: &str, stdin: bool, confirm: bool) -> Result<Zeroizing<Vec<u8>>> {
    let password = if stdin {
        read_password_line()?
    } else {
        let no_terminal =
            "cannot read the password from the terminal (use --password-stdin to pipe it)";
        let mut first = Zeroizing::new(rpassword::prompt_password(prompt).context(no_terminal)?);
        if confirm {
            let again = Zeroizing::new(rpassword::prompt_password("Again: ").context(no_terminal)?);
            if *first != *again {
                bail!("the passwords do not match");
            }
        }
        // Moves the buffer, no copy.
        Zeroizing::new(std::mem::take(&mut *first).into_bytes())
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

/// The longest first line of standard input taken as a password.
const MAX_PASSWORD_LINE: usize = 4096;

/// The first line of standard input, without its line end, as UTF-8 bytes.
///
/// Read unbuffered through a duplicate of the file descriptor: `std::io::stdin()` keeps what it
/// reads in a process-wide buffer that is never wiped. The bytes go into one buffer of fixed
/// size, which never moves (a grown buffer leaves its old copy behind) and is wiped on drop.
fn read_password_line() -> Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    use std::os::fd::AsFd;
    let cannot = "cannot read the password from standard input";
    let fd = std::io::stdin().as_fd().try_clone_to_owned().context(cannot)?;
    let mut input = std::fs::File::from(fd);
    let mut buffer = Zeroizing::new(vec![0u8; MAX_PASSWORD_LINE + 1]);
    let mut len = 0;
    let line_len = loop {
        if let Some(end) = buffer[..len].iter().position(|&b| b == b'\n') {
            break end;
        }
        if len == buffer.len() {
            bail!("the password line is longer than {MAX_PASSWORD_LINE} bytes");
        }
        match input.read(&mut buffer[len..]) {
            Ok(0) => break len,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context(cannot),
        }
    };
    let line = &buffer[..line_len];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if std::str::from_utf8(line).is_err() {
        bail!("{cannot}: the password is not valid UTF-8");
    }
    let mut password = Zeroizing::new(Vec::with_capacity(line.len()));
    password.extend_from_slice(line);
    Ok(password)
}
