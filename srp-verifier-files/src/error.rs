//! Errors of the verifier-file reader and writer: each names the file, the line and the problem.

use core::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::b64::B64Error;

/// A field of a verifier-file line, named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The verifier v.
    Verifier,
    /// The salt s.
    Salt,
    /// The group modulus N (OpenSSL `I` lines, GnuTLS `tpasswd.conf`).
    Modulus,
    /// The group generator g (OpenSSL `I` lines, GnuTLS `tpasswd.conf`).
    Generator,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Verifier => "verifier",
            Self::Salt => "salt",
            Self::Modulus => "N",
            Self::Generator => "g",
        })
    }
}

/// What is wrong, without the file and line (see [`Error`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read or written.
    Io(io::Error),
    /// The file is larger than the limit for verifier files ([`crate::MAX_FILE_LEN`]).
    FileTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The line is longer than the limit ([`crate::MAX_LINE_LEN`]).
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The file's format could not be told from its content (it is empty, or its first line is
    /// neither an OpenSSL nor a GnuTLS line).
    UnknownFormat,
    /// The line holds a NUL byte (both tools read lines as C strings).
    NulByte,
    /// The line ends with CR LF; GnuTLS files must use LF line ends.
    CarriageReturn,
    /// The last line of an OpenSSL file has no newline: OpenSSL's `TXT_DB_read` silently
    /// ignores such a line.
    MissingNewline,
    /// The line has the wrong number of fields.
    FieldCount {
        /// How many fields the line must have.
        expected: usize,
        /// How many it has.
        found: usize,
    },
    /// An OpenSSL line whose type field is not `V`, `R` or `I`.
    UnknownLineType(String),
    /// A value is not valid in the file's base64 variant.
    Base64 {
        /// Which value.
        field: Field,
        /// What is wrong with it.
        problem: B64Error,
    },
    /// An `I` line or a `tpasswd.conf` line whose (N, g) is not one of the RFC 5054 groups.
    NotRfc5054Group {
        /// The id (OpenSSL) or index (GnuTLS) of the line.
        id: String,
        /// The size of the N found, in bits.
        bits: usize,
    },
    /// An OpenSSL `I` line with an empty id.
    EmptyGroupId,
    /// A GnuTLS index that is not a positive decimal number without sign or leading zeros.
    BadIndex(String),
    /// A group id or index defined twice.
    DuplicateGroup {
        /// The id or index.
        id: String,
        /// The line of its first definition.
        first_line: usize,
    },
    /// An OpenSSL `I` line that gives a built-in id ("1024" ... "8192") another group.
    GroupIdConflict {
        /// The built-in id.
        id: String,
        /// The size of the group the line defines, in bits.
        bits: u32,
    },
    /// A user line refers to a group id or index that nothing defines (before this line).
    UnknownGroup {
        /// The id or index.
        id: String,
        /// A hint why (for example, an `I` line later in the file).
        hint: Option<String>,
    },
    /// The username is empty.
    EmptyUsername,
    /// The username is longer than 255 bytes.
    UsernameTooLong,
    /// The username holds a byte the format cannot store, or SRP does not allow.
    UsernameByte(u8),
    /// The same username appears twice.
    DuplicateUser {
        /// The username.
        user: String,
        /// The line where it first appears.
        first_line: usize,
    },
    /// The salt is empty (OpenSSL: its value is 0) or longer than 255 bytes.
    SaltLength(usize),
    /// The verifier is 0 or not below N.
    VerifierOutOfRange {
        /// The size of the group's N in bits.
        bits: u32,
    },
    /// A user added to the database already exists.
    UserExists(String),
    /// A record cannot be written in this format without changing its meaning.
    Unrepresentable {
        /// The username.
        user: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::FileTooLarge { limit } => write!(
                f,
                "file is larger than {} MiB, the limit for verifier files (they are read whole \
                 into memory)",
                limit >> 20
            ),
            Self::LineTooLong { limit } => {
                write!(f, "line is longer than {} KiB; no valid line comes near that", limit >> 10)
            }
            Self::UnknownFormat => f.write_str(
                "cannot tell the format: expected OpenSSL srpvfile lines (`V<TAB>...`) or GnuTLS \
                 tpasswd lines (`user:verifier:salt:index`)",
            ),
            Self::NulByte => f.write_str("line holds a NUL byte"),
            Self::CarriageReturn => f.write_str("line ends with CR LF; expected LF line ends"),
            Self::MissingNewline => {
                f.write_str("last line has no newline at its end; OpenSSL would silently ignore it")
            }
            Self::FieldCount { expected, found } => {
                write!(f, "expected {expected} fields, found {found}")
            }
            Self::UnknownLineType(t) => {
                write!(
                    f,
                    "unknown line type {t:?}: expected \"V\" (user), \"R\" (revoked user) or \"I\" (group)"
                )
            }
            Self::Base64 { field, problem } => write!(f, "{field} is not valid base64: {problem}"),
            Self::NotRfc5054Group { id, bits } => write!(
                f,
                "group {id:?} (N of {bits} bits) is not one of the RFC 5054 groups; only those are accepted"
            ),
            Self::EmptyGroupId => f.write_str("group id is empty"),
            Self::BadIndex(found) => {
                write!(f, "index {found:?} is not a positive decimal number")
            }
            Self::DuplicateGroup { id, first_line } => {
                write!(f, "group {id:?} is already defined on line {first_line}")
            }
            Self::GroupIdConflict { id, bits } => write!(
                f,
                "group id {id:?} names OpenSSL's built-in {id}-bit group but this line defines the {bits}-bit group"
            ),
            Self::UnknownGroup { id, hint } => {
                write!(f, "group {id:?} is not defined")?;
                if let Some(hint) = hint {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            Self::EmptyUsername => f.write_str("username is empty"),
            Self::UsernameTooLong => f.write_str("username is longer than 255 bytes"),
            Self::UsernameByte(b) => {
                write!(
                    f,
                    "username holds the byte {:?}, which this format cannot store",
                    char::from(*b)
                )
            }
            Self::DuplicateUser { user, first_line } => {
                write!(f, "user {user:?} already appears on line {first_line}")
            }
            Self::SaltLength(0) => f.write_str("salt is empty (its value is 0)"),
            Self::SaltLength(len) => write!(f, "salt is {len} bytes long; expected 1 to 255"),
            Self::VerifierOutOfRange { bits } => {
                write!(f, "verifier is 0 or not below N of the {bits}-bit group")
            }
            Self::UserExists(user) => {
                write!(f, "user {user:?} already exists; remove it first")
            }
            Self::Unrepresentable { user, reason } => {
                write!(f, "user {user:?} cannot be stored in this format: {reason}")
            }
        }
    }
}

/// An error reading, checking or writing a verifier file: the file, the line (1-based, when
/// the problem is on one) and what is wrong.
///
/// Displays as `path:line: problem`, for example `tpasswd:3: verifier is not valid base64: ...`.
#[derive(Debug)]
pub struct Error {
    path: Option<PathBuf>,
    line: Option<usize>,
    kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(path: Option<&Path>, line: Option<usize>, kind: ErrorKind) -> Self {
        Self { path: path.map(Path::to_path_buf), line, kind }
    }

    pub(crate) fn at(path: &Path, line: usize, kind: ErrorKind) -> Self {
        Self::new(Some(path), Some(line), kind)
    }

    pub(crate) fn io(path: &Path, error: io::Error) -> Self {
        Self::new(Some(path), None, ErrorKind::Io(error))
    }

    /// The file the error is about, if it is about one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The 1-based line number, if the error is about one line.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}:", path.display())?;
            if let Some(line) = self.line {
                write!(f, "{line}:")?;
            }
            f.write_str(" ")?;
        } else if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
