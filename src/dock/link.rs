//! The serial link: frames out, raw frames in (each kept exactly as it came
//! off the wire), with a reply timeout. Generic over any async byte stream,
//! so the session runs the same on a USB serial port and a pseudo-terminal.

use std::time::Duration;

use kartka_protocol::auth::{DockKey, Session};
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How the link failed.
#[derive(Debug)]
pub enum LinkError {
    /// The device went away (EOF, EIO): unplugged.
    Gone(String),
}

pub struct Link<S> {
    port: S,
    /// Bytes read but not yet cut into frames.
    pending: Vec<u8>,
    /// The frame being gathered (between delimiters).
    current: Vec<u8>,
    /// Frames sent, for messages ("frame 12").
    pub frames_out: u64,
    pub frames_in: u64,
    pub bytes_in: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    pub fn new(port: S) -> Link<S> {
        Link {
            port,
            pending: Vec::new(),
            current: Vec::new(),
            frames_out: 0,
            frames_in: 0,
            bytes_in: 0,
        }
    }

    pub async fn send(
        &mut self,
        msg: &Message<'_>,
        key: &DockKey,
        session: Session,
    ) -> Result<(), LinkError> {
        let mut out = [0u8; MAX_WIRE];
        let n = encode(msg, key, session, &mut out).expect("host messages fit a frame");
        self.frames_out += 1;
        self.port
            .write_all(&out[..n])
            .await
            .map_err(|e| LinkError::Gone(e.to_string()))?;
        self.port
            .flush()
            .await
            .map_err(|e| LinkError::Gone(e.to_string()))
    }

    /// The next frame's wire bytes (without delimiters), or `None` when
    /// nothing more arrived within `wait`.
    pub async fn next_frame(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, LinkError> {
        loop {
            if let Some(frame) = self.cut() {
                self.frames_in += 1;
                return Ok(Some(frame));
            }
            let mut buf = [0u8; 8192];
            let n = match tokio::time::timeout(wait, self.port.read(&mut buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => return Err(LinkError::Gone("end of file".into())),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(LinkError::Gone(e.to_string())),
            };
            self.bytes_in += n as u64;
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Cuts one non-empty frame off the pending bytes.
    fn cut(&mut self) -> Option<Vec<u8>> {
        while let Some(end) = self.pending.iter().position(|&b| b == 0) {
            self.current.extend_from_slice(&self.pending[..end]);
            self.pending.drain(..=end);
            if !self.current.is_empty() {
                return Some(std::mem::take(&mut self.current));
            }
        }
        // No delimiter yet: keep gathering, but never beyond a frame's size
        // (garbage without a 0x00 must not grow without bound).
        self.current.append(&mut self.pending);
        if self.current.len() > MAX_WIRE {
            self.current.clear();
        }
        None
    }
}
