//! The base64 variants of SRP verifier files.
//!
//! Both OpenSSL and GnuTLS use the alphabet `0-9A-Za-z./` (libsrp's, not RFC 4648's), write no
//! `=` padding and align the 6-bit groups to the *end* of the value, so a partial group of 1 or
//! 2 bytes comes first. They differ in that partial group:
//!
//! - OpenSSL 3 (`t_tob64` / `t_fromb64` in `crypto/srp/srp_vfy.c`) pads the value at the front
//!   with zero bytes to a multiple of 3, encodes, then strips as many leading digits as it added
//!   bytes: n bytes always give the same number of digits (2 for 1 byte, 3 for 2 bytes), leading
//!   zero bytes included. Its reader rejects a length of 1 modulo 4 and silently ignores the top
//!   bits of the first digit that fall into the padding.
//! - GnuTLS (`lib/auth/srp_sb64.c`) strips the leading zero digits of the partial group, so the
//!   number of digits depends on the value. Its encoder has a bug: a 2-byte partial group whose
//!   first 10 bits are zero (`00 xx` with `xx < 0x40`) comes out as the single digit `0`, losing
//!   `xx`. Its decoder is lossless: a first group of 1, 2 or 3 digits gives 1, 1-2 or 2-3 bytes
//!   (the top byte only when it is not zero), every full group 3 bytes.
//!
//! Both tools compare re-encoded verifier *strings* when they check a password
//! (`openssl srp -modify`, `srptool --verify`), so the writers here reproduce each tool's
//! encoding exactly.

use core::fmt;

use srp_core::ct;
use zeroize::Zeroizing;

/// The SRP base64 alphabet.
pub const ALPHABET: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz./";

/// Why a string is not valid in a base64 variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum B64Error {
    /// The string is empty.
    Empty,
    /// A character outside the alphabet `0-9A-Za-z./`.
    InvalidChar {
        /// The offending byte.
        byte: u8,
        /// Its 0-based position in the string.
        position: usize,
    },
    /// OpenSSL rejects strings whose length is 1 modulo 4.
    BadLength(usize),
    /// The first digit has bits set above the leading byte boundary, which OpenSSL's reader
    /// silently drops (an OpenSSL writer never produces this).
    DroppedBits,
}

impl fmt::Display for B64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::InvalidChar { byte, position } => write!(
                f,
                "character {:?} at position {position} is not in the alphabet 0-9A-Za-z./",
                char::from(*byte)
            ),
            Self::BadLength(len) => {
                write!(f, "its length {len} is 1 modulo 4, which OpenSSL rejects")
            }
            Self::DroppedBits => f.write_str(
                "its first digit has bits that OpenSSL would silently drop (too large for the \
                 length)",
            ),
        }
    }
}

impl std::error::Error for B64Error {}

// Verifiers go through this module, so the mapping between digits and characters is
// arithmetic rather than a table lookup or a `match`: no memory index and no branch depends on a
// digit. Only verdicts (a character outside the alphabet, dropped bits) and lengths, which the
// text itself shows, are declassified.

/// 1 if `lo <= x <= hi`, else 0, without a branch (all values below 2^15).
fn in_range(x: u8, lo: u8, hi: u8) -> u8 {
    let (x, lo, hi) = (i32::from(x), i32::from(lo), i32::from(hi));
    // Both differences are negative exactly when x is in the range. `black_box` keeps the
    // compiler from turning the mask back into a comparison and a conditional move.
    core::hint::black_box((((lo - 1 - x) & (x - hi - 1)) >> 31 & 1) as u8)
}

/// The character (ASCII) for a 6-bit value.
fn digit_char(d: u8) -> u8 {
    let d = d & 63;
    // '0' + d, then the gaps before 'A' (7), before 'a' (6), and '.' and '/' below '0'.
    let c =
        i32::from(d) + 48 + 7 * i32::from(in_range(d, 10, 63)) + 6 * i32::from(in_range(d, 36, 63))
            - 77 * i32::from(in_range(d, 62, 63));
    c as u8
}

/// Text made of alphabet characters, as a `String`.
fn ascii_string(text: &[u8]) -> String {
    // Only `digit_char` output goes in, and the alphabet is ASCII.
    String::from_utf8(text.to_vec()).expect("base64 digits are ASCII")
}

/// A character's 6-bit value and 1, or 0 and 0 for a character outside the alphabet.
fn digit_value(byte: u8) -> (u8, u8) {
    let digit = in_range(byte, b'0', b'9');
    let upper = in_range(byte, b'A', b'Z');
    let lower = in_range(byte, b'a', b'z');
    let dot = in_range(byte, b'.', b'.');
    let slash = in_range(byte, b'/', b'/');
    let value = digit.wrapping_mul(byte.wrapping_sub(b'0'))
        | upper.wrapping_mul(byte.wrapping_sub(b'A' - 10))
        | lower.wrapping_mul(byte.wrapping_sub(b'a' - 36))
        | dot.wrapping_mul(62)
        | slash.wrapping_mul(63);
    (value, digit | upper | lower | dot | slash)
}

/// The 6-bit values of every character, or the first character outside the alphabet. The
/// digits of a verifier are as secret as the verifier: they are wiped when dropped, the buffer
/// is never grown (a grown buffer leaves its old copy behind), and they are found in constant
/// time; only whether all characters are valid is declassified (and then, for an error, which).
fn digits(text: &[u8]) -> Result<Zeroizing<Vec<u8>>, B64Error> {
    if text.is_empty() {
        return Err(B64Error::Empty);
    }
    let mut digits = Zeroizing::new(Vec::with_capacity(text.len()));
    let mut all_valid = 1u8;
    for &byte in text {
        let (value, valid) = digit_value(byte);
        digits.push(value);
        all_valid &= valid;
    }
    if !ct::declassify_bool(all_valid == 1) {
        // The file is malformed; the error names the character, as every parse error does.
        let (position, &byte) = text
            .iter()
            .enumerate()
            .find(|&(_, &byte)| digit_value(byte).1 == 0)
            .expect("some character is invalid");
        return Err(B64Error::InvalidChar { byte, position });
    }
    Ok(digits)
}

/// Packs groups of 4 digits into 3 bytes each (`digits.len()` is a multiple of 4).
fn pack_blocks(digits: &[u8], out: &mut Vec<u8>) {
    for block in digits.chunks_exact(4) {
        let word = block.iter().fold(0u32, |acc, &d| acc << 6 | u32::from(d));
        out.extend_from_slice(&word.to_be_bytes()[1..]);
    }
}

/// Encodes full 3-byte groups as 4 digits each (`bytes.len()` is a multiple of 3).
fn encode_blocks(bytes: &[u8], out: &mut Vec<u8>) {
    for block in bytes.chunks_exact(3) {
        let word = u32::from(block[0]) << 16 | u32::from(block[1]) << 8 | u32::from(block[2]);
        for shift in [18, 12, 6, 0] {
            out.push(digit_char((word >> shift) as u8));
        }
    }
}

/// Decodes as OpenSSL 3's `t_fromb64` does, rejecting what it rejects and what it would
/// misread: n digits give `n * 3 / 4` bytes, leading zero bytes included.
pub fn decode_openssl(text: &[u8]) -> Result<Vec<u8>, B64Error> {
    let digits = digits(text)?;
    let pad = (4 - digits.len() % 4) % 4;
    if pad == 3 {
        return Err(B64Error::BadLength(digits.len()));
    }
    // The `pad` bytes OpenSSL strips hold 6 * pad padding bits plus the top 2 * pad bits of the
    // first digit (a verdict on the text: declassified).
    if pad > 0 && ct::declassify_bool(digits[0] >> (6 - 2 * pad) != 0) {
        return Err(B64Error::DroppedBits);
    }
    let mut padded = Zeroizing::new(Vec::with_capacity(pad + digits.len()));
    padded.resize(pad, 0);
    padded.extend_from_slice(&digits);
    let mut out = Vec::with_capacity(padded.len() / 4 * 3);
    pack_blocks(&padded, &mut out);
    out.drain(..pad);
    Ok(out)
}

/// Encodes as OpenSSL 3's `t_tob64` does: pads to whole bytes, keeps leading zero bytes.
pub fn encode_openssl(bytes: &[u8]) -> String {
    ascii_string(&encode_openssl_secret(bytes))
}

/// [`encode_openssl`] for a secret value (a verifier): in constant time, into a buffer that is
/// wiped when dropped, with its intermediate copies wiped too.
pub(crate) fn encode_openssl_secret(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let lead = (3 - bytes.len() % 3) % 3;
    let mut padded = Zeroizing::new(Vec::with_capacity(lead + bytes.len()));
    padded.resize(lead, 0);
    padded.extend_from_slice(bytes);
    let mut out = Zeroizing::new(Vec::with_capacity(padded.len() / 3 * 4));
    encode_blocks(&padded, &mut out);
    out.drain(..lead);
    out
}

/// Decodes as GnuTLS's `_gnutls_sbase64_decode` does, but rejecting characters outside the
/// alphabet (GnuTLS silently mis-decodes some of them).
pub fn decode_gnutls(text: &[u8]) -> Result<Vec<u8>, B64Error> {
    let digits = digits(text)?;
    let left = digits.len() % 4;
    let mut out = Vec::with_capacity(digits.len() / 4 * 3 + 3);
    if left > 0 {
        let value = digits[..left].iter().fold(0u32, |acc, &d| acc << 6 | u32::from(d));
        let bytes = value.to_be_bytes();
        // 1 digit: 1 byte; 2 digits (12 bits): the top byte only if not zero; 3 digits
        // (18 bits): 2 bytes, plus the top byte if not zero. The decoded length is declassified:
        // it is the value's minimal length, which the text's own length nearly shows.
        let keep = match left {
            1 => 1,
            2 => 1 + usize::from(value >> 8 != 0),
            _ => 2 + usize::from(value >> 16 != 0),
        };
        let keep = ct::declassify_usize(keep);
        out.extend_from_slice(&bytes[4 - keep..]);
    }
    pack_blocks(&digits[left..], &mut out);
    Ok(out)
}

/// Encodes exactly as GnuTLS's `gnutls_srp_base64_encode` does (what `srptool` writes and
/// compares), including its loss of the second byte when the value starts with `00 xx`,
/// `xx < 0x40`, and its byte count is 2 modulo 3. Lossless for values without leading zero
/// bytes, such as verifiers and group parameters; use [`encode_gnutls_lossless`] for salts.
pub fn encode_gnutls(bytes: &[u8]) -> String {
    ascii_string(&encode_gnutls_secret(bytes))
}

/// [`encode_gnutls`] for a secret value (a verifier): in constant time but for the leading
/// digits GnuTLS leaves out (the output's length), into a buffer that is wiped when dropped.
pub(crate) fn encode_gnutls_secret(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let partial = bytes.len() % 3;
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() / 3 * 4 + 4));
    let push = |out: &mut Vec<u8>, d: u8| out.push(digit_char(d));
    // GnuTLS drops leading zero digits: which ones it writes is the output's length, as public
    // as the file's (the decisions below are declassified).
    let nonzero = |x: u8| ct::declassify_bool(x != 0);
    match partial {
        1 => {
            let d0 = bytes[0];
            if nonzero(d0 >> 6) {
                push(&mut out, d0 >> 6);
            }
            push(&mut out, d0);
        }
        2 => {
            let (d0, d1) = (bytes[0], bytes[1]);
            let second = (d0 & 0x0f) << 2 | d1 >> 6;
            if nonzero(d0 >> 4) {
                push(&mut out, d0 >> 4);
                push(&mut out, second);
                push(&mut out, d1);
            } else if nonzero(second) {
                push(&mut out, second);
                push(&mut out, d1);
            } else {
                // GnuTLS's bug, reproduced: it encodes `d0 & 0x3f` (always 0 here), not d1.
                push(&mut out, d0);
            }
        }
        _ => {}
    }
    encode_blocks(&bytes[partial..], &mut out);
    out
}

/// Encodes for a GnuTLS file so that GnuTLS reads back exactly `bytes`: GnuTLS's own
/// encoding where that is lossless (always, unless `bytes` starts with a zero byte), else
/// OpenSSL's padded form, which GnuTLS's decoder also reads exactly.
pub fn encode_gnutls_lossless(bytes: &[u8]) -> String {
    let text = encode_gnutls(bytes);
    if decode_gnutls(text.as_bytes()).as_deref() == Ok(bytes) {
        text
    } else {
        encode_openssl(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_short_values() -> impl Iterator<Item = Vec<u8>> {
        let singles = (0..=255u8).map(|a| vec![a]);
        let pairs = (0..=255u8).flat_map(|a| (0..=255u8).map(move |b| vec![a, b]));
        let triples = [0u8, 1, 0x3f, 0x40, 0xff]
            .into_iter()
            .flat_map(|a| (0..=255u8).map(move |b| vec![a, b, 0x5a]));
        singles.chain(pairs).chain(triples)
    }

    #[test]
    fn openssl_round_trips_every_short_value() {
        for value in all_short_values() {
            let text = encode_openssl(&value);
            assert_eq!(decode_openssl(text.as_bytes()), Ok(value.clone()), "value {value:02x?}");
            assert_eq!(text.len(), (value.len() * 4).div_ceil(3), "length for {value:02x?}");
        }
    }

    #[test]
    fn gnutls_decodes_openssl_encoding_exactly() {
        for value in all_short_values() {
            let text = encode_openssl(&value);
            assert_eq!(decode_gnutls(text.as_bytes()), Ok(value.clone()), "value {value:02x?}");
        }
    }

    #[test]
    fn gnutls_encoding_is_lossless_without_leading_zero_byte() {
        for value in all_short_values().filter(|v| v[0] != 0) {
            let text = encode_gnutls(&value);
            assert_eq!(decode_gnutls(text.as_bytes()), Ok(value.clone()), "value {value:02x?}");
        }
    }

    #[test]
    fn gnutls_encoder_bug_is_reproduced_and_avoided() {
        assert_eq!(encode_gnutls(&[0x00, 0x3f]), "0", "GnuTLS loses the second byte");
        assert_eq!(encode_gnutls(&[0x00, 0x40]), "10", "and the leading zero byte here");
        assert_eq!(decode_gnutls(b"10"), Ok(vec![0x40]));
        assert_eq!(encode_gnutls_lossless(&[0x00, 0x3f]), "00/");
        assert_eq!(decode_gnutls(b"00/"), Ok(vec![0x00, 0x3f]));
        for value in all_short_values() {
            let text = encode_gnutls_lossless(&value);
            assert_eq!(decode_gnutls(text.as_bytes()), Ok(value.clone()), "value {value:02x?}");
        }
    }

    #[test]
    fn digit_mapping_is_the_alphabet() {
        for (d, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(digit_char(d as u8), c, "digit {d}");
            assert_eq!(digit_value(c), (d as u8, 1), "character {:?}", char::from(c));
        }
        for byte in (0..=255u8).filter(|b| !ALPHABET.contains(b)) {
            assert_eq!(digit_value(byte), (0, 0), "byte {byte}");
        }
    }

    #[test]
    fn known_strings() {
        // g of the 8192-bit group (19) and of the others, as both tools write them.
        assert_eq!(encode_gnutls(&[19]), "J");
        assert_eq!(encode_openssl(&[19]), "0J");
        assert_eq!(encode_openssl(&[2]), "02");
        assert_eq!(decode_openssl(b"02"), Ok(vec![2]));
        assert_eq!(decode_gnutls(b"5"), Ok(vec![5]));
    }

    #[test]
    fn openssl_rejections() {
        assert_eq!(decode_openssl(b""), Err(B64Error::Empty));
        assert_eq!(decode_openssl(b"12345"), Err(B64Error::BadLength(5)));
        assert_eq!(decode_openssl(b"4"), Err(B64Error::BadLength(1)));
        // 2 digits carry 1 byte: the first digit must be below 4.
        assert_eq!(decode_openssl(b"4A"), Err(B64Error::DroppedBits));
        assert_eq!(decode_openssl(b"3A"), Ok(vec![0xca]));
        // 3 digits carry 2 bytes: the first digit must be below 16.
        assert_eq!(decode_openssl(b"G00"), Err(B64Error::DroppedBits));
        assert_eq!(decode_openssl(b"a=b"), Err(B64Error::InvalidChar { byte: b'=', position: 1 }));
        assert_eq!(decode_gnutls(b"ab c"), Err(B64Error::InvalidChar { byte: b' ', position: 2 }));
    }
}
