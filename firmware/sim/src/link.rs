//! The dock link: a pseudo-terminal, with faults on demand.

use nix::pty::openpty;
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

/// Faults to inject into what the validator sends.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Unplug after this many bytes.
    pub drop_after: Option<u64>,
    /// Flip the lowest bit of every Nth byte.
    pub flip_every: Option<u64>,
    /// Stop sending for `stall` once this many bytes have gone.
    pub stall_after: Option<u64>,
    pub stall: Duration,
    /// Line noise between frames: junk bytes before every frame.
    pub garbage: bool,
    /// Replace the Nth batch frame (1-based) with an edited copy signed
    /// with a wrong key, as a forger without the dock key would.
    pub forge_batch: Option<u64>,
}

/// A pseudo-terminal: the simulator holds the master side; the host opens
/// `path` as it would open `/dev/ttyACM0`.
pub struct Pty {
    pub master: File,
    /// Held open so the terminal keeps its raw settings between host
    /// connections.
    _slave: OwnedFd,
    pub path: PathBuf,
}

impl Pty {
    pub fn open() -> Result<Pty, String> {
        let pty = openpty(None, None).map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
        let mut t = tcgetattr(&pty.slave)
            .map_err(|e| format!("cannot read the terminal's settings: {e}"))?;
        cfmakeraw(&mut t);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &t)
            .map_err(|e| format!("cannot set raw mode: {e}"))?;
        let path = nix::unistd::ttyname(&pty.slave)
            .map_err(|e| format!("cannot name the pseudo-terminal: {e}"))?;
        Ok(Pty {
            master: File::from(pty.master),
            _slave: pty.slave,
            path,
        })
    }
}

/// What the validator writes, through the faults.
pub struct FaultyWriter<W: Write> {
    out: W,
    faults: Faults,
    pub sent: u64,
    stalled: bool,
    pub dropped: bool,
    batches: u64,
}

impl<W: Write> FaultyWriter<W> {
    pub fn new(out: W, faults: Faults) -> Self {
        FaultyWriter {
            out,
            faults,
            sent: 0,
            stalled: false,
            dropped: false,
            batches: 0,
        }
    }

    /// Sends `bytes`; false once the link is dropped.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        if self.dropped {
            return false;
        }
        let mut buf = bytes.to_vec();
        if let Some(k) = self.faults.forge_batch
            && let Some(forged) = forge(&buf)
        {
            self.batches += 1;
            if self.batches == k {
                buf = forged;
            }
        }
        if self.faults.garbage {
            let junk = b"\x13\x37AT+NOISE\r\n\xff";
            if self.out.write_all(junk).is_err() {
                self.dropped = true;
                return false;
            }
        }
        if let Some(every) = self.faults.flip_every.filter(|&n| n > 0) {
            for (i, b) in buf.iter_mut().enumerate() {
                if (self.sent + i as u64 + 1).is_multiple_of(every) {
                    *b ^= 1;
                }
            }
        }
        let mut n = buf.len();
        if let Some(limit) = self.faults.drop_after {
            n = n.min(limit.saturating_sub(self.sent) as usize);
        }
        if let Some(at) = self.faults.stall_after
            && !self.stalled
            && self.sent + n as u64 >= at
        {
            let before = (at.saturating_sub(self.sent) as usize).min(n);
            if self
                .out
                .write_all(&buf[..before])
                .and_then(|()| self.out.flush())
                .is_err()
            {
                self.dropped = true;
                return false;
            }
            std::thread::sleep(self.faults.stall);
            self.stalled = true;
            self.sent += before as u64;
            buf.drain(..before);
            n -= before;
        }
        if self
            .out
            .write_all(&buf[..n])
            .and_then(|()| self.out.flush())
            .is_err()
        {
            self.dropped = true;
            return false;
        }
        self.sent += n as u64;
        if n < buf.len() {
            self.dropped = true;
            return false;
        }
        true
    }
}

/// If `frame` (one whole frame, delimiters included) is a batch: a copy
/// with one record byte changed, signed with a key that is not the
/// validator's. Its CRC is right; its MAC is not.
fn forge(frame: &[u8]) -> Option<Vec<u8>> {
    use kartka_protocol::auth::Session;
    use kartka_protocol::frame::{MAX_WIRE, decode_wire, encode};
    use kartka_protocol::message::{Batch, Message};
    let inner = frame.strip_prefix(&[0])?.strip_suffix(&[0])?;
    let mut copy = inner.to_vec();
    let decoded = decode_wire(&mut copy).ok()?;
    let Message::Batch(b) = decoded.message else {
        return None;
    };
    let mut records = b.records.to_vec();
    if let Some(x) = records.get_mut(10) {
        *x ^= 0x40; // a card number byte
    }
    let msg = Message::Batch(Batch {
        records: &records,
        last: b.last,
    });
    let mut out = [0u8; MAX_WIRE];
    let n = encode(&msg, b"forger's own key", Session::default(), &mut out).ok()?;
    Some(out[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_flip_drop_and_stall_where_asked() {
        let faults = Faults {
            flip_every: Some(3),
            drop_after: Some(7),
            ..Faults::default()
        };
        let mut w = FaultyWriter::new(Vec::new(), faults);
        assert!(w.send(&[0, 0, 0, 0]));
        assert!(!w.send(&[0, 0, 0, 0]), "the 8th byte is past the drop");
        assert_eq!(w.out, [0, 0, 1, 0, 0, 1, 0]);
        assert!(w.dropped && !w.send(&[1]));
        let stall = Faults {
            stall_after: Some(2),
            stall: Duration::from_millis(50),
            ..Faults::default()
        };
        let mut w = FaultyWriter::new(Vec::new(), stall);
        let t = std::time::Instant::now();
        assert!(w.send(&[1, 2, 3]));
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert_eq!(w.out, [1, 2, 3]);
    }

    #[test]
    fn a_forged_batch_has_a_right_crc_and_a_wrong_mac() {
        use kartka_protocol::auth::Session;
        use kartka_protocol::frame::{MAX_WIRE, decode_wire, encode};
        use kartka_protocol::message::{Batch, Message};
        let key = [9u8; 16];
        let s = Session::default();
        let records = [7u8; 29 * 2];
        let mut out = [0u8; MAX_WIRE];
        let n = encode(
            &Message::Batch(Batch {
                records: &records,
                last: true,
            }),
            &key,
            s,
            &mut out,
        )
        .unwrap();
        let faults = Faults {
            forge_batch: Some(1),
            garbage: true,
            ..Faults::default()
        };
        let mut w = FaultyWriter::new(Vec::new(), faults);
        assert!(w.send(&out[..n]));
        let sent = w.out.clone();
        let frame_start = sent.iter().position(|&b| b == 0).unwrap();
        assert!(frame_start > 0, "junk went before the frame");
        let mut inner = sent[frame_start + 1..sent.len() - 1].to_vec();
        let d = decode_wire(&mut inner).expect("the CRC is right");
        assert!(d.verify(&key, s).is_err(), "the MAC is not");
        let Message::Batch(b) = d.message else {
            panic!()
        };
        assert_ne!(b.records, &records[..]);
    }
}
