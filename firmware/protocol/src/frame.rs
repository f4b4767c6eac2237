//! Frames: how one [`Message`] travels over the serial line.
//!
//! ```text
//! 0x00 COBS( version:u8 | postcard(Message) | MAC:8 | CRC-16:2 (LE) ) 0x00
//! ```
//!
//! - The version byte comes first in every version, so an old host that
//!   meets a newer validator says so instead of misreading it.
//! - The MAC ([`crate::auth::frame_mac`]) covers the version byte and the
//!   message; the CRC covers those and the MAC, and catches line noise
//!   before the MAC is even tried.
//! - COBS leaves no 0x00 inside a frame, so after garbage, a cut cable or a
//!   flipped bit the reader loses at most the frame it was in and starts
//!   again at the next 0x00. Each frame also starts with a 0x00, so a frame
//!   cut short by a dropped link cannot swallow the next one.

use crate::CRC16;
use crate::auth::{DockKey, MAC_LEN, Session, frame_mac, mac_eq};
use crate::message::Message;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u8 = 1;

/// Largest frame before COBS: version, message, MAC and CRC.
pub const MAX_FRAME: usize = 1024;

/// Largest frame on the wire: COBS adds a byte per 254, plus the delimiter.
pub const MAX_WIRE: usize = cobs::max_encoding_length(MAX_FRAME) + 2;

/// Bytes a frame adds around its message: version, MAC, CRC, the first
/// COBS byte and the two delimiters (COBS adds one more per 254 bytes).
pub const FRAME_OVERHEAD: usize = 1 + MAC_LEN + 2 + 1 + 2;

const TRAILER: usize = MAC_LEN + 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No 0x00 within [`MAX_WIRE`] bytes: garbage, or a runaway sender.
    TooLong,
    /// The bytes between two 0x00 are not valid COBS.
    Cobs,
    /// Too short to hold a version, MAC and CRC.
    Short(usize),
    /// The CRC does not match: damaged on the line.
    Crc,
    /// Another protocol version.
    Version { got: u8 },
    /// The CRC is right but the message does not decode.
    Malformed,
    /// The MAC does not match: wrong key, forged or edited.
    Mac,
    /// The output buffer is too small for the frame.
    BufferTooSmall,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::TooLong => write!(
                f,
                "no frame delimiter within {MAX_WIRE} bytes (garbage on the line)"
            ),
            FrameError::Cobs => write!(
                f,
                "bytes between delimiters are not a COBS frame (damaged on the line)"
            ),
            FrameError::Short(n) => write!(f, "a {n}-byte frame is too short to be a message"),
            FrameError::Crc => write!(f, "the frame's CRC does not match (damaged on the line)"),
            FrameError::Version { got } => write!(
                f,
                "the peer speaks dock protocol version {got}; this side speaks version {PROTOCOL_VERSION}"
            ),
            FrameError::Malformed => write!(
                f,
                "the frame's CRC is right but its message does not decode"
            ),
            FrameError::Mac => write!(
                f,
                "the frame's MAC does not match (wrong validator key, or a forged or edited frame)"
            ),
            FrameError::BufferTooSmall => write!(f, "the frame does not fit the buffer"),
        }
    }
}

/// Encodes `msg` as one frame, both delimiters included, into `out`;
/// returns its length.
pub fn encode(
    msg: &Message<'_>,
    key: &DockKey,
    session: Session,
    out: &mut [u8],
) -> Result<usize, FrameError> {
    encode_as(PROTOCOL_VERSION, msg, key, session, out)
}

/// [`encode`] with another version byte: how a test plays a newer peer.
pub fn encode_as(
    version: u8,
    msg: &Message<'_>,
    key: &DockKey,
    session: Session,
    out: &mut [u8],
) -> Result<usize, FrameError> {
    let mut raw = [0u8; MAX_FRAME];
    raw[0] = version;
    let body = postcard::to_slice(msg, &mut raw[1..MAX_FRAME - TRAILER])
        .map_err(|_| FrameError::BufferTooSmall)?;
    let signed = 1 + body.len();
    let mac = frame_mac(key, session, &raw[..signed]);
    raw[signed..signed + MAC_LEN].copy_from_slice(&mac);
    let crc = CRC16.checksum(&raw[..signed + MAC_LEN]);
    raw[signed + MAC_LEN..signed + TRAILER].copy_from_slice(&crc.to_le_bytes());
    let (first, rest) = out.split_first_mut().ok_or(FrameError::BufferTooSmall)?;
    *first = 0;
    let n =
        cobs::try_encode(&raw[..signed + TRAILER], rest).map_err(|_| FrameError::BufferTooSmall)?;
    *rest.get_mut(n).ok_or(FrameError::BufferTooSmall)? = 0;
    Ok(n + 2)
}

/// A frame whose CRC and version are right and whose message decoded; its
/// MAC is not checked until [`Decoded::verify`].
#[derive(Debug)]
pub struct Decoded<'a> {
    pub message: Message<'a>,
    mac: [u8; MAC_LEN],
    signed: &'a [u8],
}

impl Decoded<'_> {
    /// Checks the MAC under the validator's key and this session.
    pub fn verify(&self, key: &DockKey, session: Session) -> Result<(), FrameError> {
        if mac_eq(&frame_mac(key, session, self.signed), &self.mac) {
            Ok(())
        } else {
            Err(FrameError::Mac)
        }
    }
}

/// Decodes one frame already un-COBSed in `raw` (no delimiter).
pub fn decode_raw(raw: &[u8]) -> Result<Decoded<'_>, FrameError> {
    if raw.len() > MAX_FRAME {
        return Err(FrameError::TooLong);
    }
    if raw.len() < 1 + TRAILER {
        return Err(FrameError::Short(raw.len()));
    }
    let (checked, crc) = raw.split_at(raw.len() - 2);
    if CRC16.checksum(checked).to_le_bytes() != crc {
        return Err(FrameError::Crc);
    }
    if raw[0] != PROTOCOL_VERSION {
        return Err(FrameError::Version { got: raw[0] });
    }
    let (signed, mac) = checked.split_at(checked.len() - MAC_LEN);
    let (message, rest) = postcard::take_from_bytes::<Message<'_>>(&signed[1..])
        .map_err(|_| FrameError::Malformed)?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed);
    }
    Ok(Decoded {
        message,
        mac: mac.try_into().expect("MAC_LEN bytes"),
        signed,
    })
}

/// Decodes one frame as it came off the wire between two 0x00 delimiters
/// (delimiters not included), un-COBSing it in place: how a host that keeps
/// the raw bytes of every frame decodes them.
pub fn decode_wire(wire: &mut [u8]) -> Result<Decoded<'_>, FrameError> {
    if wire.len() > MAX_WIRE {
        return Err(FrameError::TooLong);
    }
    let n = cobs::decode_in_place(wire).map_err(|_| FrameError::Cobs)?;
    decode_raw(&wire[..n])
}

/// Cuts a byte stream into frames at each 0x00 and decodes them.
///
/// ```ignore
/// while !input.is_empty() {
///     let (used, frame) = reader.push(input);
///     input = &input[used..];
///     if let Some(frame) = frame { /* Ok(Decoded) or Err(FrameError) */ }
/// }
/// ```
pub struct FrameReader {
    buf: [u8; MAX_WIRE],
    len: usize,
    overflowed: bool,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    pub const fn new() -> FrameReader {
        FrameReader {
            buf: [0; MAX_WIRE],
            len: 0,
            overflowed: false,
        }
    }

    /// Forgets a partly received frame (after a cable was pulled).
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }

    /// Takes bytes up to and including the next 0x00. Returns how many bytes
    /// it took and, when a frame ended, that frame. Empty frames (0x00 0x00)
    /// are skipped silently.
    pub fn push(&mut self, data: &[u8]) -> (usize, Option<Result<Decoded<'_>, FrameError>>) {
        let Some(end) = data.iter().position(|&b| b == 0) else {
            self.take(data);
            return (data.len(), None);
        };
        self.take(&data[..end]);
        let used = end + 1;
        let (len, overflowed) = (self.len, self.overflowed);
        self.reset();
        if overflowed {
            return (used, Some(Err(FrameError::TooLong)));
        }
        if len == 0 {
            return (used, None);
        }
        let frame = match cobs::decode_in_place(&mut self.buf[..len]) {
            Ok(n) => decode_raw(&self.buf[..n]),
            Err(_) => Err(FrameError::Cobs),
        };
        (used, Some(frame))
    }

    fn take(&mut self, bytes: &[u8]) {
        if self.overflowed {
            return;
        }
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.overflowed = true,
        }
    }
}

#[cfg(test)]
mod tests;
