//! Native messaging framing: each message is a 32-bit length in native byte order, then that
//! many bytes of UTF-8 JSON (the same in Chromium and Firefox).
//!
//! The browser is the only writer of the bridge's standard input, but what it relays comes from
//! an extension: the length is checked before anything is allocated, and a stream that breaks
//! the framing (a truncated length or message, a length above [`MAX_INCOMING`]) cannot be
//! resynchronised, so it ends the session.

use std::io::{self, Read, Write};

use zeroize::Zeroize;

/// The largest message the bridge accepts from the extension. Control messages are a few
/// hundred bytes; a login carries a username and a password.
pub const MAX_INCOMING: u32 = 64 * 1024;

/// The largest message a browser accepts from a native host (Chromium's limit, 1 MiB).
pub const MAX_OUTGOING: usize = 1024 * 1024;

/// Why no message could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The stream ended cleanly between messages: the browser closed the port.
    Closed,
    /// The stream ended inside a length or a message.
    Truncated,
    /// The length is larger than [`MAX_INCOMING`].
    TooLarge(u32),
    /// Reading failed.
    Io(io::ErrorKind),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => write!(f, "the browser closed the connection"),
            FrameError::Truncated => write!(f, "the stream ended inside a message"),
            FrameError::TooLarge(n) => {
                write!(f, "a message of {n} bytes, more than the {MAX_INCOMING} accepted")
            }
            FrameError::Io(kind) => write!(f, "reading the browser's messages failed: {kind}"),
        }
    }
}

/// A message's bytes, wiped when dropped (a login message holds a password).
pub struct Frame(pub Vec<u8>);

impl Drop for Frame {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Reads one message. The bytes are returned as they are: parsing is [`crate::control`]'s.
pub fn read_frame<R: Read>(r: &mut R) -> Result<Frame, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e.kind())),
        }
    }
    let len = u32::from_ne_bytes(len);
    if len > MAX_INCOMING {
        return Err(FrameError::TooLarge(len));
    }
    // `len` <= MAX_INCOMING, so it fits in usize on every platform.
    let mut body = Frame(vec![0u8; len as usize]);
    r.read_exact(&mut body.0).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        kind => FrameError::Io(kind),
    })?;
    Ok(body)
}

/// Writes one message and flushes it. A message above [`MAX_OUTGOING`] is an error: the
/// browser would drop the connection.
pub fn write_frame<W: Write>(w: &mut W, body: &[u8]) -> io::Result<()> {
    if body.len() > MAX_OUTGOING {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a message of {} bytes, more than the {MAX_OUTGOING} a browser accepts",
                body.len()
            ),
        ));
    }
    // Checked just above: at most 1 MiB.
    let len = body.len() as u32;
    w.write_all(&len.to_ne_bytes())?;
    w.write_all(body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, body).unwrap();
        out
    }

    #[test]
    fn a_message_round_trips_with_a_native_endian_length() {
        let out = framed(b"{\"type\":\"status\"}");
        assert_eq!(&out[..4], &17u32.to_ne_bytes(), "length prefix");
        let mut r = &out[..];
        assert_eq!(read_frame(&mut r).unwrap().0, b"{\"type\":\"status\"}");
        assert_eq!(read_frame(&mut r).err(), Some(FrameError::Closed), "clean end after it");
    }

    #[test]
    fn two_messages_in_a_row_are_read_one_at_a_time() {
        let mut stream = framed(b"{}");
        stream.extend(framed(b"[1]"));
        let mut r = &stream[..];
        assert_eq!(read_frame(&mut r).unwrap().0, b"{}");
        assert_eq!(read_frame(&mut r).unwrap().0, b"[1]");
    }

    #[test]
    fn an_empty_message_is_a_frame_of_no_bytes() {
        let out = framed(b"");
        assert_eq!(read_frame(&mut &out[..]).unwrap().0, b"");
    }

    #[test]
    fn a_truncated_length_is_an_error_not_a_clean_end() {
        assert_eq!(read_frame(&mut &[5u8, 0][..]).err(), Some(FrameError::Truncated));
    }

    #[test]
    fn a_truncated_body_is_an_error() {
        let out = framed(b"{\"type\":\"status\"}");
        assert_eq!(read_frame(&mut &out[..10]).err(), Some(FrameError::Truncated));
    }

    #[test]
    fn a_length_above_the_limit_is_refused_before_reading_the_body() {
        let len = (MAX_INCOMING + 1).to_ne_bytes();
        assert_eq!(read_frame(&mut &len[..]).err(), Some(FrameError::TooLarge(MAX_INCOMING + 1)));
        let huge = u32::MAX.to_ne_bytes();
        assert_eq!(read_frame(&mut &huge[..]).err(), Some(FrameError::TooLarge(u32::MAX)));
        // At the limit, the length is accepted (and the missing body reported).
        let at = MAX_INCOMING.to_ne_bytes();
        assert_eq!(read_frame(&mut &at[..]).err(), Some(FrameError::Truncated));
    }

    #[test]
    fn an_outgoing_message_above_the_browser_limit_is_not_written() {
        let mut out = Vec::new();
        assert!(write_frame(&mut out, &vec![b' '; MAX_OUTGOING + 1]).is_err());
        assert!(out.is_empty(), "nothing written");
    }
}
