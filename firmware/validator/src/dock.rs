//! The dock server: answers the host's frames over any byte stream.
//!
//! Sans-IO: feed it the bytes that arrived with [`Dock::on_bytes`]; it
//! hands each reply frame to `send`. The board wires it to USB CDC-ACM, the
//! simulator to a pseudo-terminal, the tests to a buffer.

use embedded_storage::nor_flash::NorFlash;
use kartka_protocol::auth::Session;
use kartka_protocol::frame::{self, MAX_WIRE};
use kartka_protocol::message::{
    Batch, Done, ErrorCode, ErrorFrame, Hello, MAX_BATCH_RECORDS, Message,
};
use kartka_protocol::{FrameError, FrameReader, PROTOCOL_VERSION, RECORD_LEN};

use crate::log::LogError;
use crate::store::StoreError;
use crate::validator::{Clock, Validator};

/// The link went down while sending: the reply was not sent whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkDown;

pub struct Dock {
    frames: FrameReader,
    session: Option<Session>,
    rng: u32,
}

impl Dock {
    /// `seed` should differ at every boot (a hardware random number, or
    /// the boot count and a timer); nonces are derived from it.
    pub fn new(seed: u32) -> Dock {
        Dock {
            frames: FrameReader::new(),
            session: None,
            rng: seed | 1,
        }
    }

    /// Mixes in more entropy (a timer's low bits at each byte from the
    /// host, a random register…); nonces only get harder to guess.
    pub fn stir(&mut self, entropy: u32) {
        self.rng = (self.rng ^ entropy.rotate_left(11)).wrapping_mul(0x9E37_79B9) | 1;
    }

    /// The cable was pulled, or `on_bytes` returned `LinkDown`: forget the
    /// session and any half frame.
    pub fn link_lost(&mut self) {
        self.session = None;
        self.frames.reset();
    }

    fn nonce(&mut self, mix: u32) -> u32 {
        // xorshift32, stirred with the host's nonce and the clock.
        self.rng ^= mix.rotate_left(7);
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        if self.rng == 0 {
            self.rng = 0x9E37_79B9;
        }
        self.rng
    }

    /// Handles the bytes that arrived; replies through `send`, which returns
    /// false when the link is down.
    pub fn on_bytes<L, C, K>(
        &mut self,
        v: &mut Validator<L, C>,
        clock: &mut K,
        mut bytes: &[u8],
        send: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), LinkDown>
    where
        L: NorFlash,
        C: NorFlash<Error = L::Error>,
        K: Clock,
    {
        while !bytes.is_empty() {
            let Dock {
                frames,
                session,
                rng: _,
            } = self;
            let (used, frame) = frames.push(bytes);
            bytes = &bytes[used..];
            let Some(frame) = frame else { continue };
            let key = *v.dock_key();
            let reply_session = session.unwrap_or_default();
            let message = match frame {
                Ok(decoded) => {
                    if let Message::Hi { host_nonce } = decoded.message {
                        let mix = host_nonce ^ clock.now().unwrap_or(0);
                        let validator_nonce = self.nonce(mix);
                        let s = Session {
                            host_nonce,
                            validator_nonce,
                        };
                        self.session = Some(s);
                        let hello = hello(v, clock, validator_nonce);
                        send_frame(&Message::Hello(hello), &key, s, send)?;
                        continue;
                    }
                    let Some(s) = *session else {
                        send_error(ErrorCode::NoSession, 0, &key, reply_session, send)?;
                        continue;
                    };
                    if decoded.verify(&key, s).is_err() {
                        send_error(ErrorCode::Mac, 0, &key, s, send)?;
                        continue;
                    }
                    decoded.message
                }
                Err(FrameError::Version { .. }) => {
                    send_error(
                        ErrorCode::Version,
                        u32::from(PROTOCOL_VERSION),
                        &key,
                        reply_session,
                        send,
                    )?;
                    continue;
                }
                Err(FrameError::Malformed) => {
                    send_error(ErrorCode::Malformed, 0, &key, reply_session, send)?;
                    continue;
                }
                // Line noise: the host times out and asks again.
                Err(_) => continue,
            };
            let s = reply_session;
            match message {
                Message::ReadFrom { seq } => stream_records(v, seq, &key, s, send)?,
                Message::Ack { up_to } => {
                    let reply = match v.log.ack(up_to) {
                        Ok(true) => Message::Done(Done::Acked { up_to }),
                        Ok(false) => error(ErrorCode::AckAhead, v.log.next_seq()),
                        Err(_) => error(ErrorCode::Storage, 0),
                    };
                    send_frame(&reply, &key, s, send)?;
                }
                Message::SetTime { utc } => {
                    clock.set(utc);
                    send_frame(&Message::Done(Done::TimeSet { utc }), &key, s, send)?;
                }
                Message::PutSettings(settings) => {
                    let reply = match v.store.put_settings(settings) {
                        Ok(()) => Message::Done(Done::Settings {
                            version: settings.version,
                        }),
                        Err(e) => store_error(e),
                    };
                    send_frame(&reply, &key, s, send)?;
                }
                Message::PutBlocklist(chunk) => {
                    let reply = match v.store.put_blocklist_chunk(&chunk) {
                        Ok(active) => Message::Done(Done::Blocklist {
                            version: chunk.version,
                            chunk: chunk.chunk,
                            active,
                        }),
                        Err(e) => store_error(e),
                    };
                    send_frame(&reply, &key, s, send)?;
                }
                Message::Hi { .. }
                | Message::Hello(_)
                | Message::Batch(_)
                | Message::Done(_)
                | Message::Error(_) => {
                    send_error(ErrorCode::Unexpected, 0, &key, s, send)?;
                }
            }
        }
        Ok(())
    }
}

fn hello<L, C, K>(v: &mut Validator<L, C>, clock: &K, validator_nonce: u32) -> Hello
where
    L: NorFlash,
    C: NorFlash<Error = L::Error>,
    K: Clock,
{
    Hello {
        protocol: PROTOCOL_VERSION,
        validator: v.id,
        firmware: v.firmware,
        clock: clock.now().unwrap_or(0),
        oldest: v.log.oldest_unacked(),
        next: v.log.next_seq(),
        acked_below: v.log.acked_below(),
        free_records: v.log.free_records().unwrap_or(0),
        blocklist_version: v.store.blocklist_version(),
        settings_version: v.store.settings().map_or(0, |s| s.version),
        validator_nonce,
    }
}

/// Sends every record from `from` on, in batches, the last marked.
fn stream_records<L, C>(
    v: &mut Validator<L, C>,
    from: u32,
    key: &[u8; 16],
    s: Session,
    send: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), LinkDown>
where
    L: NorFlash,
    C: NorFlash<Error = L::Error>,
{
    let mut cursor = v.log.start();
    // One batch read ahead, so the batch before it knows whether it is last.
    let mut this = [0u8; MAX_BATCH_RECORDS * RECORD_LEN];
    let mut next = [0u8; MAX_BATCH_RECORDS * RECORD_LEN];
    let mut n = match v.log.read(&mut cursor, from, &mut this) {
        Ok(n) => n,
        Err(e) => return send_frame(&error(ErrorCode::Storage, log_code(&e)), key, s, send),
    };
    loop {
        let m = if n == 0 {
            0
        } else {
            match v.log.read(&mut cursor, from, &mut next) {
                Ok(m) => m,
                Err(e) => {
                    return send_frame(&error(ErrorCode::Storage, log_code(&e)), key, s, send);
                }
            }
        };
        let batch = Batch {
            records: &this[..n * RECORD_LEN],
            last: m == 0,
        };
        send_frame(&Message::Batch(batch), key, s, send)?;
        if m == 0 {
            return Ok(());
        }
        core::mem::swap(&mut this, &mut next);
        n = m;
    }
}

fn log_code<E>(e: &LogError<E>) -> u32 {
    match e {
        LogError::Flash(_) => 1,
        LogError::Full => 2,
        LogError::Geometry => 3,
    }
}

fn store_error<E>(e: StoreError<E>) -> Message<'static> {
    match e {
        StoreError::Flash(_) | StoreError::Geometry => error(ErrorCode::Storage, 0),
        StoreError::SettingsInvalid => error(ErrorCode::SettingsInvalid, 0),
        StoreError::ChunkOrder { expected } => error(ErrorCode::ChunkOrder, u32::from(expected)),
        StoreError::BlocklistInvalid => error(ErrorCode::BlocklistInvalid, 0),
        StoreError::TooLarge { capacity } => error(ErrorCode::BlocklistTooLarge, capacity),
    }
}

fn error(code: ErrorCode, detail: u32) -> Message<'static> {
    Message::Error(ErrorFrame { code, detail })
}

fn send_error(
    code: ErrorCode,
    detail: u32,
    key: &[u8; 16],
    s: Session,
    send: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), LinkDown> {
    send_frame(&error(code, detail), key, s, send)
}

fn send_frame(
    msg: &Message<'_>,
    key: &[u8; 16],
    s: Session,
    send: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), LinkDown> {
    let mut out = [0u8; MAX_WIRE];
    let n = frame::encode(msg, key, s, &mut out).expect("every reply fits MAX_WIRE");
    if send(&out[..n]) {
        Ok(())
    } else {
        Err(LinkDown)
    }
}

#[cfg(test)]
mod tests;
