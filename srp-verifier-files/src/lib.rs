//! TLS-SRP verifier files and fake users, on the `srp-core` protocol crate: what a server needs
//! to answer for a username (the C face, `srp-ffi`, and the `srp-verifier` tool use it; browsers,
//! which are clients, do not).
//!
//! Verifier files: OpenSSL's `srpvfile` and GnuTLS's `tpasswd` with its `tpasswd.conf`.
//!
//! - OpenSSL (`openssl srp`, `SRP_VBASE_init`): a TXT_DB file of tab-separated lines with six
//!   fields. `V <verifier> <salt> <user> <group id> <info>` is a user, `R ...` a revoked user
//!   (kept in the file, not loaded by servers), `I <N> <g> <id> <unused> <unused>` defines a
//!   group for later lines. Group ids `1024` ... `8192` name the built-in RFC 5054 groups. Lines
//!   starting with `#` are comments (not kept when the file is rewritten, as with `openssl srp`);
//!   a tab inside a field is written as backslash-tab.
//! - GnuTLS (`srptool`, `gnutls_srp_set_server_credentials_file`): `tpasswd` lines
//!   `user:verifier:salt:index`, where the index picks a `tpasswd.conf` line `index:N:g`.
//!
//! Values are base64 in each tool's variant ([`b64`]); a value is converted, never copied
//! between formats. A group is admitted only if its (N, g) is exactly an RFC 5054 group. Files
//! are replaced atomically ([`write_atomic`]).
//!
//! Salts: OpenSSL keeps a salt as an integer, so leading zero bytes in the file are dropped,
//! both when it derives x and when it sends the salt (and `openssl srp` does write 20-byte salts
//! whose first byte is 0, one user in 256); GnuTLS keeps the salt's bytes. A GnuTLS record whose
//! salt starts with a zero byte therefore cannot be moved to OpenSSL.
//!
//! Unknown users: [`FakeUsers`] answers for a username without a verifier as for a real one
//! (RFC 5054 section 2.5.1.3); [`VerifierDb::fake_users`] makes fake users that look like a
//! file's real ones, and [`VerifierDb::lookup`] gives a username's record, real or fake, as a
//! server needs it.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod atomic;
pub mod b64;
mod error;
mod fake;
mod gnutls;
mod index;
mod openssl;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use srp_core::{Group, GroupId, Username, VerifierRecord};
use zeroize::Zeroizing;

pub use atomic::write_atomic;
pub use b64::B64Error;
pub use error::{Error, ErrorKind, Field};
pub use fake::{DEFAULT_FAKE_GROUP, FakeUsers, MIN_SEED_LEN};

use index::Index;

/// The largest verifier file (and GnuTLS group file) read: 64 MiB. Files are read whole into
/// memory; at about 700 bytes per 3072-bit user, this is some 90,000 users, far beyond what a
/// device serves.
pub const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

/// The longest line accepted in a verifier file: 64 KiB. The longest valid line, an OpenSSL
/// 8192-bit `I` line or user line, has under 2,000 bytes (plus OpenSSL's free-form info field).
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// The two verifier-file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OpenSSL's `srpvfile` (TXT_DB, tab-separated).
    OpenSsl,
    /// GnuTLS's `tpasswd` plus `tpasswd.conf` (colon-separated).
    GnuTls,
}

impl Format {
    /// Tells the format from a file's content by its first line that is not empty: OpenSSL lines
    /// start with `V`, `R` or `I` and a tab (or are `#` comments), GnuTLS lines hold colons and
    /// no tab. `None` for an empty file or an unrecognisable first line.
    pub fn detect(content: &[u8]) -> Option<Format> {
        let line = content.split(|&b| b == b'\n').find(|line| !line.is_empty())?;
        if line.starts_with(b"#")
            || (line.len() >= 2 && b"VRI".contains(&line[0]) && line[1] == b'\t')
        {
            Some(Format::OpenSsl)
        } else if line.contains(&b':') && !line.contains(&b'\t') {
            Some(Format::GnuTls)
        } else {
            None
        }
    }

    /// `"openssl"` or `"gnutls"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::OpenSsl => "openssl",
            Self::GnuTls => "gnutls",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openssl" => Ok(Self::OpenSsl),
            "gnutls" => Ok(Self::GnuTls),
            _ => Err(format!("unknown format {s:?}: expected \"openssl\" or \"gnutls\"")),
        }
    }
}

impl core::fmt::Display for Format {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where GnuTLS's group file sits by default: the `tpasswd` path with `.conf` appended
/// (`/etc/tpasswd` → `/etc/tpasswd.conf`).
pub fn default_conf_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".conf");
    PathBuf::from(name)
}

/// A group a file defines: an OpenSSL `I` line or a GnuTLS `tpasswd.conf` line.
#[derive(Debug, Clone)]
pub struct GroupDef {
    id: String,
    group: &'static Group,
    line: Option<usize>,
}

impl GroupDef {
    /// The id (OpenSSL) or the index in decimal (GnuTLS) that user lines refer to.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The RFC 5054 group.
    pub fn group(&self) -> &'static Group {
        self.group
    }

    /// The line it was read from, if it was read from a file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

/// One user of a verifier file.
#[derive(Debug, Clone)]
pub struct Entry {
    username: Username,
    record: VerifierRecord,
    group_id: String,
    revoked: bool,
    info: Vec<u8>,
    line: Option<usize>,
}

impl Entry {
    /// The username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// Salt, verifier and group.
    pub fn record(&self) -> &VerifierRecord {
        &self.record
    }

    /// The group id (OpenSSL) or index (GnuTLS) the line refers to.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Whether this is an OpenSSL `R` (revoked) line: servers do not load it.
    pub fn is_revoked(&self) -> bool {
        self.revoked
    }

    /// OpenSSL's free-form info field (empty for GnuTLS).
    pub fn info(&self) -> &[u8] {
        &self.info
    }

    /// The line it was read from, if it was read from a file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

/// A parsed verifier file: its users and the groups it defines, in file order.
///
/// Lookups see only users a server would load (not OpenSSL's revoked `R` lines). Changes keep
/// the order of the file: a replaced user keeps its place, a new one goes last.
#[derive(Debug, Clone)]
pub struct VerifierDb {
    format: Format,
    path: Option<PathBuf>,
    groups: Vec<GroupDef>,
    entries: Vec<Entry>,
    /// The server's lookup table, built when a file is parsed (or on the first lookup) and
    /// dropped by every change to the users.
    index: OnceLock<Index>,
}

/// The groups of the `tpasswd.conf` that `srptool --create-conf` (GnuTLS 3.7) writes, by index.
const SRPTOOL_CONF: [(u32, GroupId); 5] = [
    (2, GroupId::G1536),
    (3, GroupId::G2048),
    (4, GroupId::G3072),
    (5, GroupId::G4096),
    (7, GroupId::G8192),
];

/// The index a group gets when a `tpasswd.conf` needs it and lacks it: GnuTLS's numbering
/// (older GnuTLS wrote 1 for 1024 bits; 6 is the slot GnuTLS leaves for 6144 bits).
fn conventional_index(id: GroupId) -> u32 {
    match id {
        GroupId::G1024 => 1,
        GroupId::G1536 => 2,
        GroupId::G2048 => 3,
        GroupId::G3072 => 4,
        GroupId::G4096 => 5,
        GroupId::G6144 => 6,
        GroupId::G8192 => 7,
    }
}

fn display_user(user: &Username) -> String {
    String::from_utf8_lossy(user.as_bytes()).into_owned()
}

impl VerifierDb {
    /// An empty database. A GnuTLS one starts with the groups `srptool --create-conf` writes
    /// (indexes 2, 3, 4, 5, 7 for 1536 to 8192 bits); others are added when a user needs them.
    pub fn new(format: Format) -> Self {
        let groups = match format {
            Format::OpenSsl => Vec::new(),
            Format::GnuTls => SRPTOOL_CONF
                .iter()
                .map(|&(index, id)| GroupDef {
                    id: index.to_string(),
                    group: id.group(),
                    line: None,
                })
                .collect(),
        };
        Self { format, path: None, groups, entries: Vec::new(), index: OnceLock::new() }
    }

    /// A database of parsed users, with its lookup table built (if the system's random number
    /// generator fails here, the first lookup tries again and reports it).
    fn parsed(format: Format, path: &Path, groups: Vec<GroupDef>, entries: Vec<Entry>) -> Self {
        let db = Self {
            format,
            path: Some(path.to_path_buf()),
            groups,
            entries,
            index: OnceLock::new(),
        };
        let _ = db.index();
        db
    }

    /// The lookup table, built now if it is not yet.
    fn index(&self) -> Result<&Index, srp_core::Error> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let built = Index::build(&self.entries)?;
        Ok(self.index.get_or_init(|| built))
    }

    /// Parses an OpenSSL `srpvfile`. `path` only names the file in errors.
    ///
    /// Rejected, with the line: a wrong number of fields, a type other than `V`, `R`, `I`,
    /// invalid base64, a group that is not an RFC 5054 group, a group id that nothing defined
    /// before the line (OpenSSL reads in order and would silently skip the user), a verifier
    /// that is 0 or not below N, a bad or duplicate username, an unterminated last line (which
    /// OpenSSL ignores). Salts lose their leading zero bytes, as in OpenSSL.
    pub fn parse_openssl(path: &Path, content: &[u8]) -> Result<Self, Error> {
        openssl::parse(path, content)
    }

    /// Parses a GnuTLS `tpasswd` with its `tpasswd.conf`. The paths only name the files in
    /// errors.
    pub fn parse_gnutls(
        path: &Path,
        content: &[u8],
        conf_path: &Path,
        conf: &[u8],
    ) -> Result<Self, Error> {
        let groups = gnutls::parse_conf(conf_path, conf)?;
        gnutls::parse(path, content, groups)
    }

    /// An empty GnuTLS database whose groups come from an existing `tpasswd.conf`.
    pub fn parse_gnutls_conf(conf_path: &Path, conf: &[u8]) -> Result<Self, Error> {
        let groups = gnutls::parse_conf(conf_path, conf)?;
        Ok(Self { groups, ..Self::new(Format::GnuTls) })
    }

    /// Reads a verifier file. `format` `None` tells it from the content (an error for an empty
    /// file). For GnuTLS, `conf` names the group file, by default `path` + `.conf`.
    pub fn load(path: &Path, format: Option<Format>, conf: Option<&Path>) -> Result<Self, Error> {
        let content = read_file(path)?;
        let format = match format {
            Some(format) => format,
            None => Format::detect(&content)
                .ok_or_else(|| Error::new(Some(path), None, ErrorKind::UnknownFormat))?,
        };
        match format {
            Format::OpenSsl => Self::parse_openssl(path, &content),
            Format::GnuTls => {
                let conf_path = conf.map_or_else(|| default_conf_path(path), Path::to_path_buf);
                let conf = read_file(&conf_path)?;
                Self::parse_gnutls(path, &content, &conf_path, &conf)
            }
        }
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The path it was read from or last saved to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The record of a user a server would load (not a revoked one). For managing files: a
    /// linear search whose time depends on where the user is; servers use
    /// [`VerifierDb::lookup`].
    pub fn get(&self, username: &Username) -> Option<&VerifierRecord> {
        self.entry(username).filter(|e| !e.revoked).map(|e| &e.record)
    }

    /// The entry of a user, revoked or not.
    pub fn entry(&self, username: &Username) -> Option<&Entry> {
        self.entries.iter().find(|e| e.username == *username)
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The usernames a server would load, in file order.
    pub fn usernames(&self) -> impl Iterator<Item = &Username> {
        self.entries.iter().filter(|e| !e.revoked).map(|e| &e.username)
    }

    /// The number of entries, revoked ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The groups the file defines (OpenSSL `I` lines, GnuTLS `tpasswd.conf` lines).
    pub fn groups(&self) -> &[GroupDef] {
        &self.groups
    }

    /// The record a server uses for `username` (a copy): the file's, if it holds the user and
    /// not as revoked; else, with `fake_users`, that user's fake record, so that the handshake
    /// goes on and fails at Finished as for a wrong password; else [`srp_core::Error::UnknownUser`]
    /// (alert `unknown_psk_identity`). [`srp_core::Error::Rng`] if the lookup table could not be
    /// built (no random key).
    ///
    /// With `fake_users`, a present and an absent user take the same work: the fake record's
    /// material is always derived ([`FakeUsers::choose`]), the table always costs one HMAC of
    /// the username and the same number of constant-time slot comparisons (see `index.rs`), and
    /// the copy of the answer costs what a record of its group and salt length costs. Not
    /// equalised: the username's length (it changes the HMACs' cost; the client sent it), which
    /// record's memory is read for the copy (visible to a cache attacker on the same machine,
    /// not in the work), and what the caller does with the record. Without `fake_users` the
    /// answer itself tells the user exists; only the table work is the same.
    pub fn lookup(
        &self,
        username: &Username,
        fake_users: Option<&FakeUsers>,
    ) -> Result<VerifierRecord, srp_core::Error> {
        let real = self.index()?.find(username).map(|i| &self.entries[i].record);
        match fake_users {
            Some(fake) => Ok(fake.choose(username, real)),
            None => real.cloned().ok_or(srp_core::Error::UnknownUser),
        }
    }

    /// Fake users that look like this file's real ones (not counting revoked entries): each
    /// unknown username draws its (group, salt length) from the pairs the users have, weighted
    /// by how many users have each ([`FakeUsers::weighted`]), so that probing many unknown names
    /// shows the file's own mix; a file with one group and one salt length gives exactly that.
    /// Groups below a server's floor are included when real users are there: the server must
    /// refuse fake and real records below its floor alike. A file without users gives the
    /// 3072-bit group ([`DEFAULT_FAKE_GROUP`]) and [`DEFAULT_SALT_LEN`](srp_core::DEFAULT_SALT_LEN)-byte salts. Derived from
    /// `seed`: at least [`MIN_SEED_LEN`] secret bytes that persist across restarts.
    pub fn fake_users(&self, seed: &[u8]) -> Result<FakeUsers, srp_core::Error> {
        let mut counts = std::collections::BTreeMap::new();
        for entry in self.entries.iter().filter(|e| !e.revoked) {
            let shape = (entry.record.group().id(), entry.record.salt.as_bytes().len());
            *counts.entry(shape).or_insert(0u64) += 1;
        }
        let shapes: Vec<(&'static Group, usize, u64)> =
            counts.into_iter().map(|((id, salt_len), n)| (id.group(), salt_len, n)).collect();
        FakeUsers::weighted(seed, &shapes)
    }

    /// Adds a user. Fails if the user exists (remove it first); an OpenSSL revoked entry of the
    /// same name is replaced.
    pub fn add(&mut self, username: Username, record: VerifierRecord) -> Result<(), Error> {
        if self.get(&username).is_some() {
            return Err(self.error(ErrorKind::UserExists(display_user(&username))));
        }
        self.insert(username, record).map(|_| ())
    }

    /// Adds a user or replaces its record (in place, as a valid user), returning the old entry.
    /// Fails if the record cannot be stored in this format unchanged.
    pub fn insert(
        &mut self,
        username: Username,
        record: VerifierRecord,
    ) -> Result<Option<Entry>, Error> {
        self.check_representable(&username, &record)?;
        self.index = OnceLock::new();
        let group_id = self.group_id_for(record.group());
        let position = self.entries.iter().position(|e| e.username == username);
        let info = position.map(|i| self.entries[i].info.clone()).unwrap_or_default();
        let entry = Entry { username, record, group_id, revoked: false, info, line: None };
        Ok(match position {
            Some(i) => Some(std::mem::replace(&mut self.entries[i], entry)),
            None => {
                self.entries.push(entry);
                None
            }
        })
    }

    /// Removes a user (revoked or not), returning its entry.
    pub fn remove(&mut self, username: &Username) -> Option<Entry> {
        let position = self.entries.iter().position(|e| e.username == *username)?;
        self.index = OnceLock::new();
        Some(self.entries.remove(position))
    }

    /// The same users in another format (revoked entries are left out; OpenSSL's info field
    /// is kept only between OpenSSL files). Fails for a record the target cannot store, such as
    /// a GnuTLS salt with a leading zero byte going to OpenSSL.
    pub fn convert(&self, format: Format) -> Result<VerifierDb, Error> {
        let mut target = VerifierDb::new(format);
        self.convert_into(&mut target)?;
        Ok(target)
    }

    /// Adds this database's users (not revoked ones) to `target`, which may already define
    /// groups (an existing `tpasswd.conf`) or hold users (then a user in both is an error).
    pub fn convert_into(&self, target: &mut VerifierDb) -> Result<(), Error> {
        for entry in self.entries.iter().filter(|e| !e.revoked) {
            target.add(entry.username.clone(), entry.record.clone())?;
            if target.format == Format::OpenSsl {
                if let Some(new) = target.entries.iter_mut().find(|e| e.username == entry.username)
                {
                    new.info = entry.info.clone();
                }
            }
        }
        Ok(())
    }

    /// The main file's content: the OpenSSL `srpvfile` or the GnuTLS `tpasswd`. It holds every
    /// verifier, so it is wiped when dropped (and built without ever growing its buffer).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        match self.format {
            Format::OpenSsl => openssl::serialize(&self.groups, &self.entries),
            Format::GnuTls => gnutls::serialize(&self.entries),
        }
    }

    /// The GnuTLS `tpasswd.conf` content (`None` for OpenSSL, whose groups are in the file).
    pub fn conf_bytes(&self) -> Option<Vec<u8>> {
        match self.format {
            Format::OpenSsl => None,
            Format::GnuTls => Some(gnutls::serialize_conf(&self.groups)),
        }
    }

    /// Writes the file atomically ([`write_atomic`]); for GnuTLS first the group file (`conf`,
    /// by default `path` + `.conf`), so that `tpasswd` never refers to a missing index.
    pub fn save(&mut self, path: &Path, conf: Option<&Path>) -> Result<(), Error> {
        if let Some(conf_bytes) = self.conf_bytes() {
            let conf_path = conf.map_or_else(|| default_conf_path(path), Path::to_path_buf);
            write_atomic(&conf_path, &conf_bytes).map_err(|e| Error::io(&conf_path, e))?;
        }
        write_atomic(path, &self.to_bytes()).map_err(|e| Error::io(path, e))?;
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    fn error(&self, kind: ErrorKind) -> Error {
        Error::new(self.path.as_deref(), None, kind)
    }

    /// Checks that writing `record` in this format and reading it back gives the same record.
    fn check_representable(
        &self,
        username: &Username,
        record: &VerifierRecord,
    ) -> Result<(), Error> {
        let reason = match self.format {
            Format::OpenSsl => openssl::unrepresentable(username, record),
            Format::GnuTls => gnutls::unrepresentable(username),
        };
        match reason {
            Some(reason) => Err(self.error(ErrorKind::Unrepresentable {
                user: display_user(username),
                reason: reason.to_owned(),
            })),
            None => Ok(()),
        }
    }

    /// The id a new line uses for `group`: OpenSSL's built-in id; for GnuTLS an index of the
    /// conf that has the group, else a new one.
    fn group_id_for(&mut self, group: &'static Group) -> String {
        if self.format == Format::OpenSsl {
            return group.bits().to_string();
        }
        if let Some(def) = self.groups.iter().find(|def| def.group == group) {
            return def.id.clone();
        }
        let used: Vec<u32> = self.groups.iter().filter_map(|def| def.id.parse().ok()).collect();
        let conventional = conventional_index(group.id());
        let index = if used.contains(&conventional) {
            used.iter().max().map_or(1, |max| max.saturating_add(1))
        } else {
            conventional
        };
        let id = index.to_string();
        self.groups.push(GroupDef { id: id.clone(), group, line: None });
        id
    }
}

/// Reads a whole file into a buffer that is wiped when dropped: verifier files are secret (a
/// verifier allows an offline search for the password). The buffer is sized from the file's
/// length so that reading does not grow it, which would leave a copy behind.
///
/// A file over [`MAX_FILE_LEN`] is refused, before it is read when its size says so, else when
/// reading passes the limit (a file that grows meanwhile, a pipe).
fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::io::Read;
    let io = |e| Error::io(path, e);
    let too_large =
        || Error::new(Some(path), None, ErrorKind::FileTooLarge { limit: MAX_FILE_LEN });
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_FILE_LEN {
        return Err(too_large());
    }
    // At most MAX_FILE_LEN (64 MiB) fits in usize on the platforms this builds for.
    let capacity = usize::try_from(len).unwrap_or(0);
    let mut content = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut content).map_err(io)?;
    if content.len() as u64 > MAX_FILE_LEN {
        return Err(too_large());
    }
    Ok(content)
}

/// Checks a username read from a file, mapping the core's errors to file errors.
fn check_username(bytes: &[u8]) -> Result<Username, ErrorKind> {
    Username::new(bytes).map_err(|e| match e {
        srp_core::Error::EmptyUsername => ErrorKind::EmptyUsername,
        srp_core::Error::UsernameTooLong => ErrorKind::UsernameTooLong,
        _ => ErrorKind::UsernameByte(0),
    })
}

/// `bytes` without its leading zero bytes (the minimal big-endian encoding).
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// The bit length of a big-endian integer.
fn bit_len(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
        None => 0,
    }
}

/// Splits a file into numbered lines; the bool says whether the line ended with a newline.
fn lines(content: &[u8]) -> impl Iterator<Item = (usize, &[u8], bool)> {
    let ends_with_newline = content.last() == Some(&b'\n');
    let mut parts: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    if ends_with_newline || content.is_empty() {
        parts.pop();
    }
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(move |(i, line)| (i + 1, line, ends_with_newline || i + 1 < count))
}
