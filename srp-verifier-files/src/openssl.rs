//! OpenSSL's `srpvfile`: TXT_DB lines of six tab-separated fields.

use std::collections::HashMap;
use std::path::Path;

use crate::b64::{decode_openssl, encode_openssl, encode_openssl_secret};
use srp_core::{Group, GroupId, Salt, Username, Verifier, VerifierRecord, ct};
use zeroize::Zeroizing;

use crate::{
    Entry, Error, ErrorKind, Field, GroupDef, MAX_LINE_LEN, VerifierDb, bit_len, check_username,
    lines, strip_leading_zeros,
};

/// TXT_DB's field count for SRP files (`DB_NUMBER`).
const FIELDS: usize = 6;

/// A field's bytes: a copy of part of a secret file, wiped when dropped.
type FieldBytes = Zeroizing<Vec<u8>>;

/// Splits a line into fields as `TXT_DB_read` does: a tab separates fields unless it follows a
/// backslash, in which case the backslash is dropped and the tab kept. Each field's buffer has
/// room for the whole line, so none is ever grown (which would leave a copy behind).
fn split_fields(line: &[u8]) -> Vec<FieldBytes> {
    let new_field = || Zeroizing::new(Vec::with_capacity(line.len()));
    let mut fields = Vec::new();
    let mut field = new_field();
    let mut escaped = false;
    for &byte in line {
        if byte == b'\t' {
            if escaped {
                field.pop();
                field.push(b'\t');
                escaped = false;
            } else {
                fields.push(std::mem::replace(&mut field, new_field()));
            }
            continue;
        }
        escaped = byte == b'\\';
        field.push(byte);
    }
    fields.push(field);
    fields
}

/// Decodes a value; wiped when dropped (a verifier is secret).
fn decode(field: Field, text: &[u8]) -> Result<Zeroizing<Vec<u8>>, ErrorKind> {
    decode_openssl(text).map(Zeroizing::new).map_err(|problem| ErrorKind::Base64 { field, problem })
}

fn builtin(id: &[u8]) -> Option<GroupId> {
    let bits: u32 = std::str::from_utf8(id).ok()?.parse().ok()?;
    // Only the exact decimal spellings OpenSSL's `SRP_get_default_gN` compares with.
    GroupId::from_bits(bits).filter(|g| g.bits().to_string().as_bytes() == id)
}

pub(super) fn parse(path: &Path, content: &[u8]) -> Result<VerifierDb, Error> {
    struct Row {
        line: usize,
        fields: Vec<FieldBytes>,
    }
    let mut rows = Vec::new();
    for (line, raw, terminated) in lines(content) {
        let err = |kind| Error::at(path, line, kind);
        if raw.len() > MAX_LINE_LEN {
            return Err(err(ErrorKind::LineTooLong { limit: MAX_LINE_LEN }));
        }
        if raw.contains(&0) {
            return Err(err(ErrorKind::NulByte));
        }
        if !terminated {
            return Err(err(ErrorKind::MissingNewline));
        }
        if raw.first() == Some(&b'#') {
            continue;
        }
        let fields = split_fields(raw);
        if fields.len() != FIELDS {
            return Err(err(ErrorKind::FieldCount { expected: FIELDS, found: fields.len() }));
        }
        if !matches!(fields[0].as_slice(), b"V" | b"R" | b"I") {
            let found = String::from_utf8_lossy(&fields[0]).into_owned();
            return Err(err(ErrorKind::UnknownLineType(found)));
        }
        rows.push(Row { line, fields });
    }

    // Group lines first: OpenSSL resolves a user's group among the `I` lines read so far, so
    // knowing all of them lets an error say that a definition comes too late.
    let mut groups: Vec<GroupDef> = Vec::new();
    for row in rows.iter().filter(|r| r.fields[0].as_slice() == b"I") {
        let err = |kind| Error::at(path, row.line, kind);
        let id_bytes = &row.fields[3];
        if id_bytes.is_empty() {
            return Err(err(ErrorKind::EmptyGroupId));
        }
        let id = String::from_utf8_lossy(id_bytes).into_owned();
        let n = decode(Field::Modulus, &row.fields[1]).map_err(err)?;
        let g = decode(Field::Generator, &row.fields[2]).map_err(err)?;
        let group = Group::from_params(&n, &g, 0)
            .map_err(|_| err(ErrorKind::NotRfc5054Group { id: id.clone(), bits: bit_len(&n) }))?;
        if let Some(first) = groups.iter().find(|def| def.id.as_bytes() == id_bytes.as_slice()) {
            return Err(err(ErrorKind::DuplicateGroup { id, first_line: first.line.unwrap_or(0) }));
        }
        if let Some(builtin) = builtin(id_bytes) {
            if builtin != group.id() {
                return Err(err(ErrorKind::GroupIdConflict { id, bits: group.bits() }));
            }
        }
        groups.push(GroupDef { id, group, line: Some(row.line) });
    }

    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashMap<Username, usize> = HashMap::new();
    for row in rows.iter().filter(|r| r.fields[0].as_slice() != b"I") {
        let err = |kind| Error::at(path, row.line, kind);
        // Every row has exactly FIELDS fields (checked above).
        let [_, verifier, salt, user, group_id, info] = &row.fields[..] else {
            unreachable!("rows have exactly {FIELDS} fields");
        };
        let username = check_username(user).map_err(err)?;
        if let Some(&first_line) = seen.get(&username) {
            let user = String::from_utf8_lossy(user).into_owned();
            return Err(err(ErrorKind::DuplicateUser { user, first_line }));
        }
        let id = String::from_utf8_lossy(group_id).into_owned();
        let defined = groups.iter().find(|def| def.id.as_bytes() == group_id.as_slice());
        let group = match defined {
            Some(def) if def.line < Some(row.line) => def.group,
            _ => match builtin(group_id) {
                Some(builtin) => builtin.group(),
                None => {
                    let hint = match defined {
                        Some(def) => Some(format!(
                            "its I line {} comes later; OpenSSL reads the file in order and \
                             would skip this user",
                            def.line.unwrap_or(0)
                        )),
                        None if group_id.as_slice() == b"*" => Some(
                            "`openssl srp -add -gn ID` writes \"*\" for a group from an I line; \
                             OpenSSL cannot load such a user: add it again with a built-in \
                             group"
                                .to_owned(),
                        ),
                        None => Some(
                            "expected an I line id or a built-in id: 1024, 1536, 2048, 3072, \
                             4096, 6144, 8192"
                                .to_owned(),
                        ),
                    };
                    return Err(err(ErrorKind::UnknownGroup { id, hint }));
                }
            },
        };
        // The verifier is secret from here (its text was only split from the line): decoded
        // and range-checked in constant time.
        ct::secret(verifier);
        let v = decode(Field::Verifier, verifier).map_err(err)?;
        let verifier = Verifier::from_bytes(group, &v)
            .map_err(|_| err(ErrorKind::VerifierOutOfRange { bits: group.bits() }))?;
        let s = decode(Field::Salt, salt).map_err(err)?;
        // OpenSSL loads the salt into a BIGNUM: leading zero bytes are gone.
        let s = strip_leading_zeros(&s);
        let salt = Salt::new(s).map_err(|_| err(ErrorKind::SaltLength(s.len())))?;
        seen.insert(username.clone(), row.line);
        entries.push(Entry {
            username,
            record: VerifierRecord { salt, verifier },
            group_id: id,
            revoked: row.fields[0].as_slice() == b"R",
            info: info.to_vec(),
            line: Some(row.line),
        });
    }
    Ok(VerifierDb::parsed(crate::Format::OpenSsl, path, groups, entries))
}

/// Why OpenSSL would read back a different record, if it would.
pub(super) fn unrepresentable(
    username: &Username,
    record: &VerifierRecord,
) -> Option<&'static str> {
    let user = username.as_bytes();
    if user.contains(&b'\n') {
        Some("its username holds a newline")
    } else if user.ends_with(b"\\") {
        Some("its username ends with a backslash, which TXT_DB would read as escaping the next tab")
    } else if record.salt.as_bytes().first() == Some(&0) {
        Some(
            "its salt starts with a zero byte, which OpenSSL drops (it keeps salts as integers), \
             so the password would no longer match; set the password again",
        )
    } else {
        None
    }
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    for &byte in field {
        if byte == b'\t' {
            out.push(b'\\');
        }
        out.push(byte);
    }
}

/// Writes the groups' `I` lines first, then the users, as `TXT_DB_write` would. The buffer is
/// sized for the longest possible lines up front, so it never grows (and leaves no copy of a
/// verifier behind), and it is wiped when dropped.
pub(super) fn serialize(groups: &[GroupDef], entries: &[Entry]) -> Zeroizing<Vec<u8>> {
    // Base64 of at most `MAX_N_LEN` bytes; fields escaped at worst to twice their length.
    let value = srp_core::MAX_N_LEN.div_ceil(3) * 4;
    let capacity = groups.iter().map(|def| 2 * value + 2 * def.id.len() + 8).sum::<usize>()
        + entries
            .iter()
            .map(|e| {
                2 * value + 2 * (e.username.as_bytes().len() + e.group_id.len() + e.info.len()) + 8
            })
            .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    for def in groups {
        out.extend_from_slice(b"I\t");
        out.extend_from_slice(encode_openssl(def.group.n_bytes()).as_bytes());
        out.push(b'\t');
        out.extend_from_slice(encode_openssl(def.group.g_bytes()).as_bytes());
        out.push(b'\t');
        push_field(&mut out, def.id.as_bytes());
        out.extend_from_slice(b"\t\t\n");
    }
    for entry in entries {
        out.extend_from_slice(if entry.revoked { b"R\t" } else { b"V\t" });
        out.extend_from_slice(&encode_openssl_secret(&entry.record.verifier.to_bytes()));
        out.push(b'\t');
        out.extend_from_slice(encode_openssl(entry.record.salt.as_bytes()).as_bytes());
        out.push(b'\t');
        push_field(&mut out, entry.username.as_bytes());
        out.push(b'\t');
        push_field(&mut out, entry.group_id.as_bytes());
        out.push(b'\t');
        push_field(&mut out, &entry.info);
        out.push(b'\n');
    }
    out
}
