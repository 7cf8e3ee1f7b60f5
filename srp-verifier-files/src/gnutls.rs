//! GnuTLS's `tpasswd` (`user:verifier:salt:index`) and `tpasswd.conf` (`index:N:g`).

use std::collections::HashMap;
use std::path::Path;

use srp_core::{Group, Salt, Username, Verifier, VerifierRecord, ct};
use zeroize::Zeroizing;

use crate::b64::{decode_gnutls, encode_gnutls, encode_gnutls_lossless, encode_gnutls_secret};
use crate::{
    Entry, Error, ErrorKind, Field, GroupDef, MAX_LINE_LEN, VerifierDb, bit_len, check_username,
    lines,
};

/// Decodes a value; wiped when dropped (a verifier is secret).
fn decode(field: Field, text: &[u8]) -> Result<Zeroizing<Vec<u8>>, ErrorKind> {
    decode_gnutls(text).map(Zeroizing::new).map_err(|problem| ErrorKind::Base64 { field, problem })
}

/// A line number and the line's fields.
type Record<'a> = (usize, Vec<&'a [u8]>);

/// The non-empty lines of a GnuTLS file, split at colons, with their line numbers. GnuTLS
/// skips lines that match no user or index, so empty lines are skipped here too.
fn records<'a>(path: &Path, content: &'a [u8], fields: usize) -> Result<Vec<Record<'a>>, Error> {
    let mut out = Vec::new();
    for (line, raw, _) in lines(content) {
        let err = |kind| Error::at(path, line, kind);
        if raw.is_empty() {
            continue;
        }
        if raw.len() > MAX_LINE_LEN {
            return Err(err(ErrorKind::LineTooLong { limit: MAX_LINE_LEN }));
        }
        if raw.contains(&0) {
            return Err(err(ErrorKind::NulByte));
        }
        if raw.ends_with(b"\r") {
            return Err(err(ErrorKind::CarriageReturn));
        }
        let parts: Vec<&[u8]> = raw.split(|&b| b == b':').collect();
        if parts.len() != fields {
            return Err(err(ErrorKind::FieldCount { expected: fields, found: parts.len() }));
        }
        out.push((line, parts));
    }
    Ok(out)
}

/// An index as GnuTLS matches it: it prints the index with `%u` and compares strings, so only
/// canonical positive decimals (at most `INT_MAX`, as GnuTLS parses with `atoi`) can match.
fn parse_index(text: &[u8]) -> Result<u32, ErrorKind> {
    let bad = || ErrorKind::BadIndex(String::from_utf8_lossy(text).into_owned());
    if text.is_empty() || text[0] == b'0' || !text.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|&n| i32::try_from(n).is_ok())
        .ok_or_else(bad)
}

pub(super) fn parse_conf(path: &Path, content: &[u8]) -> Result<Vec<GroupDef>, Error> {
    let mut groups: Vec<GroupDef> = Vec::new();
    for (line, parts) in records(path, content, 3)? {
        let err = |kind| Error::at(path, line, kind);
        let index = parse_index(parts[0]).map_err(err)?;
        let id = index.to_string();
        let n = decode(Field::Modulus, parts[1]).map_err(err)?;
        let g = decode(Field::Generator, parts[2]).map_err(err)?;
        let group = Group::from_params(&n, &g, 0)
            .map_err(|_| err(ErrorKind::NotRfc5054Group { id: id.clone(), bits: bit_len(&n) }))?;
        if let Some(first) = groups.iter().find(|def| def.id == id) {
            return Err(err(ErrorKind::DuplicateGroup { id, first_line: first.line.unwrap_or(0) }));
        }
        groups.push(GroupDef { id, group, line: Some(line) });
    }
    Ok(groups)
}

pub(super) fn parse(
    path: &Path,
    content: &[u8],
    groups: Vec<GroupDef>,
) -> Result<VerifierDb, Error> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashMap<Username, usize> = HashMap::new();
    for (line, parts) in records(path, content, 4)? {
        let err = |kind| Error::at(path, line, kind);
        let username = check_username(parts[0]).map_err(err)?;
        if let Some(&first_line) = seen.get(&username) {
            let user = String::from_utf8_lossy(parts[0]).into_owned();
            return Err(err(ErrorKind::DuplicateUser { user, first_line }));
        }
        let index = parse_index(parts[3]).map_err(err)?;
        let id = index.to_string();
        let group = match groups.iter().find(|def| def.id == id) {
            Some(def) => def.group,
            None => {
                let hint = Some("the group file has no line with this index".to_owned());
                return Err(err(ErrorKind::UnknownGroup { id, hint }));
            }
        };
        // The verifier is secret from here (its text was only split from the line): a copy of
        // it is decoded and range-checked in constant time.
        let text = Zeroizing::new(parts[1].to_vec());
        ct::secret(&text);
        let v = decode(Field::Verifier, &text).map_err(err)?;
        let verifier = Verifier::from_bytes(group, &v)
            .map_err(|_| err(ErrorKind::VerifierOutOfRange { bits: group.bits() }))?;
        let s = decode(Field::Salt, parts[2]).map_err(err)?;
        let salt = Salt::new(&s).map_err(|_| err(ErrorKind::SaltLength(s.len())))?;
        seen.insert(username.clone(), line);
        entries.push(Entry {
            username,
            record: VerifierRecord { salt, verifier },
            group_id: id,
            revoked: false,
            info: Vec::new(),
            line: Some(line),
        });
    }
    Ok(VerifierDb::parsed(crate::Format::GnuTls, path, groups, entries))
}

/// Why GnuTLS would read back a different record, if it would.
pub(super) fn unrepresentable(username: &Username) -> Option<&'static str> {
    let user = username.as_bytes();
    if user.contains(&b':') {
        Some("its username holds a colon, which separates tpasswd fields")
    } else if user.contains(&b'\n') {
        Some("its username holds a newline")
    } else {
        None
    }
}

/// `tpasswd` lines as `srptool` writes them; the verifier in GnuTLS's exact encoding (which
/// `srptool --verify` compares as a string). Sized up front, never grown, wiped when dropped
/// (see `openssl::serialize`).
pub(super) fn serialize(entries: &[Entry]) -> Zeroizing<Vec<u8>> {
    let value = srp_core::MAX_N_LEN.div_ceil(3) * 4;
    let capacity = entries
        .iter()
        .map(|e| 2 * value + e.username.as_bytes().len() + e.group_id.len() + 4)
        .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    for entry in entries {
        out.extend_from_slice(entry.username.as_bytes());
        out.push(b':');
        out.extend_from_slice(&encode_gnutls_secret(&entry.record.verifier.to_bytes()));
        out.push(b':');
        out.extend_from_slice(encode_gnutls_lossless(entry.record.salt.as_bytes()).as_bytes());
        out.push(b':');
        out.extend_from_slice(entry.group_id.as_bytes());
        out.push(b'\n');
    }
    out
}

/// `tpasswd.conf` lines as `srptool --create-conf` writes them.
pub(super) fn serialize_conf(groups: &[GroupDef]) -> Vec<u8> {
    let mut out = Vec::new();
    for def in groups {
        let line = format!(
            "{}:{}:{}\n",
            def.id,
            encode_gnutls(def.group.n_bytes()),
            encode_gnutls(def.group.g_bytes())
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}
