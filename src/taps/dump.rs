//! The raw dump file: a docking's batch frames exactly as they came off the
//! wire, behind a small header that says how to check them again.
//!
//! ```text
//! offset size
//!  0     4    "KDMP"
//!  4     1    format (1)
//!  5     1    protocol version of the frames
//!  6     2    validator id, u16 LE
//!  8     4    host nonce, u32 LE     } the session: the frames' MACs
//! 12     4    validator nonce, u32 LE} cover these
//! 16     8    received at, UTC seconds, i64 LE
//! 24     4    first sequence number, u32 LE
//! 28     4    last sequence number, u32 LE
//! 32     4    taps, u32 LE
//! 36     4    frames, u32 LE
//! 40     …    the frames: 0x00, COBS(version | postcard(Batch) | MAC | CRC), 0x00
//! ```
//!
//! A dump is re-checked on import: every frame's CRC, and its MAC under the
//! validator's key (derived from the dock master key) and the session, so a
//! dump edited on a technician's laptop is refused.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use kartka_protocol::auth::{DockKey, Session, validator_key};
use kartka_protocol::message::Message;
use kartka_protocol::{FrameReader, PROTOCOL_VERSION, TapRecord};

use super::Error;

const MAGIC: &[u8; 4] = b"KDMP";
const FORMAT: u8 = 1;
pub const HEADER_LEN: usize = 40;

/// What a dump's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub validator: u16,
    pub session: Session,
    pub received_at: i64,
    pub seq_first: u32,
    pub seq_last: u32,
    pub taps: u32,
    pub frames: u32,
}

impl Header {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(MAGIC);
        b[4] = FORMAT;
        b[5] = PROTOCOL_VERSION;
        b[6..8].copy_from_slice(&self.validator.to_le_bytes());
        b[8..12].copy_from_slice(&self.session.host_nonce.to_le_bytes());
        b[12..16].copy_from_slice(&self.session.validator_nonce.to_le_bytes());
        b[16..24].copy_from_slice(&self.received_at.to_le_bytes());
        b[24..28].copy_from_slice(&self.seq_first.to_le_bytes());
        b[28..32].copy_from_slice(&self.seq_last.to_le_bytes());
        b[32..36].copy_from_slice(&self.taps.to_le_bytes());
        b[36..40].copy_from_slice(&self.frames.to_le_bytes());
        b
    }

    fn parse(b: &[u8]) -> Result<Header, String> {
        if b.len() < HEADER_LEN || &b[0..4] != MAGIC {
            return Err("not a kartka dump (no KDMP header)".into());
        }
        if b[4] != FORMAT {
            return Err(format!(
                "dump format {} is newer than this kartka knows ({FORMAT})",
                b[4]
            ));
        }
        if b[5] != PROTOCOL_VERSION {
            return Err(format!(
                "the frames are protocol version {}; this kartka speaks {PROTOCOL_VERSION}",
                b[5]
            ));
        }
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        Ok(Header {
            validator: u16::from_le_bytes([b[6], b[7]]),
            session: Session {
                host_nonce: u32_at(8),
                validator_nonce: u32_at(12),
            },
            received_at: i64::from_le_bytes(b[16..24].try_into().expect("8 bytes")),
            seq_first: u32_at(24),
            seq_last: u32_at(28),
            taps: u32_at(32),
            frames: u32_at(36),
        })
    }

    /// `v00007-s0000000000-0000001999-20261126T101500Z.kdump`: by validator
    /// and sequence range; the time keeps a second docking of the same range
    /// (after a failed ack) from replacing the first.
    pub fn file_name(&self) -> String {
        let at = DateTime::<Utc>::from_timestamp(self.received_at, 0).unwrap_or_default();
        format!(
            "v{:05}-s{:010}-{:010}-{}.kdump",
            self.validator,
            self.seq_first,
            self.seq_last,
            at.format("%Y%m%dT%H%M%SZ")
        )
    }
}

/// A dump read back and checked.
#[derive(Debug)]
pub struct Dump {
    pub header: Header,
    pub records: Vec<TapRecord>,
}

/// Writes a dump into `dir` (`HOME/dumps/vNNNNN/` or quarantine), flushed
/// to the disk with its folder entry before this returns. Returns its path
/// and SHA-256.
pub fn write(dir: &Path, header: &Header, frames: &[u8]) -> Result<(PathBuf, String), Error> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + frames.len());
    bytes.extend_from_slice(&header.to_bytes());
    bytes.extend_from_slice(frames);
    super::write_durably(dir, &header.file_name(), &bytes)
}

/// Checks a dump's bytes: the header, every frame's CRC and MAC, every
/// record. `path` is for messages only.
pub fn parse(bytes: &[u8], master: &DockKey, path: &Path) -> Result<Dump, Error> {
    let bad = |why: String| Error::BadInput {
        path: path.to_path_buf(),
        why,
        todo: "A damaged or edited dump cannot be trusted: dock the validator again (its taps stay on it until acked), or fetch the original file.",
    };
    let header = Header::parse(bytes).map_err(bad)?;
    let key = validator_key(master, header.validator);
    let mut reader = FrameReader::new();
    // The header's count is only a claim: a damaged one must not size the
    // allocation beyond what the bytes can hold.
    let fits = bytes.len() / kartka_protocol::RECORD_LEN;
    let mut records = Vec::with_capacity((header.taps as usize).min(fits));
    let mut rest = &bytes[HEADER_LEN..];
    let mut frame_no = 0usize;
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        let (used, frame) = reader.push(rest);
        rest = &rest[used..];
        let Some(frame) = frame else { continue };
        frame_no += 1;
        let at = |why: String| bad(format!("frame {frame_no} (byte {offset}): {why}"));
        let decoded = frame.map_err(|e| at(e.to_string()))?;
        decoded
            .verify(&key, header.session)
            .map_err(|_| at(format!("the MAC is wrong for validator {}: the frame was edited, or the dock master key differs from the one it was received with", header.validator)))?;
        let Message::Batch(batch) = decoded.message else {
            return Err(at(format!(
                "a {} frame where only batches belong",
                decoded.message.name()
            )));
        };
        for r in TapRecord::iter_packed(batch.records) {
            let r = r.map_err(|e| at(e.to_string()))?;
            if r.validator != header.validator {
                return Err(at(format!(
                    "a record of validator {} in validator {}'s dump",
                    r.validator, header.validator
                )));
            }
            records.push(r);
        }
    }
    if frame_no as u32 != header.frames || records.len() as u32 != header.taps {
        return Err(bad(format!(
            "the header promises {} frames and {} taps; the file holds {frame_no} and {} (cut short?)",
            header.frames,
            header.taps,
            records.len()
        )));
    }
    Ok(Dump { header, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kartka_protocol::auth::DEMO_DOCK_MASTER;
    use kartka_protocol::frame::{MAX_WIRE, encode};
    use kartka_protocol::message::Batch;
    use kartka_protocol::record::Uid;
    use kartka_protocol::{RECORD_LEN, TapResult};
    use proptest::prelude::*;

    fn record(seq: u32) -> TapRecord {
        TapRecord {
            validator: 7,
            seq,
            time: 1_790_000_000 + seq,
            card: 10_000_001 + seq % 5,
            uid: Uid::four([1, 2, 3, seq as u8]),
            vehicle: 1012,
            route: 5,
            zone: 1,
            result: TapResult::Accepted,
            trips: seq as u16,
        }
    }

    /// A dump of `n` records, as the dock would write it.
    pub(crate) fn sample(n: u32) -> Vec<u8> {
        let session = Session {
            host_nonce: 11,
            validator_nonce: 22,
        };
        let key = validator_key(&DEMO_DOCK_MASTER, 7);
        let mut frames = Vec::new();
        let recs: Vec<TapRecord> = (0..n).map(record).collect();
        let chunks: Vec<&[TapRecord]> = recs.chunks(32).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let bytes: Vec<u8> = chunk.iter().flat_map(|r| r.to_bytes()).collect();
            let msg = Message::Batch(Batch {
                records: &bytes,
                last: i + 1 == chunks.len(),
            });
            let mut out = [0u8; MAX_WIRE];
            let len = encode(&msg, &key, session, &mut out).unwrap();
            frames.extend_from_slice(&out[..len]);
        }
        let header = Header {
            validator: 7,
            session,
            received_at: 1_790_000_000,
            seq_first: 0,
            seq_last: n.saturating_sub(1),
            taps: n,
            frames: chunks.len() as u32,
        };
        let mut b = header.to_bytes().to_vec();
        b.extend_from_slice(&frames);
        b
    }

    #[test]
    fn a_dump_round_trips_and_names_itself() {
        let bytes = sample(100);
        let d = parse(&bytes, &DEMO_DOCK_MASTER, Path::new("d.kdump")).unwrap();
        assert_eq!(d.records.len(), 100);
        assert_eq!(d.records[99], record(99));
        assert_eq!(
            d.header.file_name(),
            "v00007-s0000000000-0000000099-20260921T141320Z.kdump"
        );
    }

    #[test]
    fn an_edited_record_is_refused_by_its_mac_and_named_by_frame() {
        let mut bytes = sample(100);
        // Change a card number inside the second frame and fix its CRC the
        // way a forger would: the MAC still catches it.
        let d = parse(&bytes, &DEMO_DOCK_MASTER, Path::new("d.kdump")).unwrap();
        assert_eq!(d.records.len(), 100);
        let forged_key = validator_key(b"someone-else-key", 7);
        let mut recs: Vec<u8> = (32..64).flat_map(|s| record(s).to_bytes()).collect();
        recs[10] ^= 1;
        let mut out = [0u8; MAX_WIRE];
        let s = Session {
            host_nonce: 11,
            validator_nonce: 22,
        };
        let len = encode(
            &Message::Batch(Batch {
                records: &recs,
                last: false,
            }),
            &forged_key,
            s,
            &mut out,
        )
        .unwrap();
        // Replace frame 2 (they are the same length: 32 records each).
        let frame_len = len;
        let start = HEADER_LEN + frame_len;
        bytes[start..start + frame_len].copy_from_slice(&out[..len]);
        let e = parse(&bytes, &DEMO_DOCK_MASTER, Path::new("d.kdump")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("d.kdump: frame 2"), "{msg}");
        assert!(msg.contains("MAC is wrong for validator 7"), "{msg}");
    }

    #[test]
    fn a_cut_dump_and_a_foreign_file_are_refused() {
        let bytes = sample(100);
        let cut = &bytes[..bytes.len() - 40];
        let msg = parse(cut, &DEMO_DOCK_MASTER, Path::new("d.kdump"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cut short"), "{msg}");
        let msg = parse(b"hello", &DEMO_DOCK_MASTER, Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not a kartka dump"), "{msg}");
        assert_eq!(RECORD_LEN, 29);
    }

    #[test]
    fn a_header_claiming_billions_of_taps_is_refused_without_allocating_them() {
        // A flipped bit in the count's top byte once made the parser ask
        // for 32 GiB and abort.
        let mut bytes = sample(100);
        bytes[35] ^= 0x80;
        let msg = parse(&bytes, &DEMO_DOCK_MASTER, Path::new("d.kdump"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("d.kdump"), "{msg}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Outside bytes never panic the parser; damage is refused, never
        /// taken as different taps.
        #[test]
        fn damaged_dumps_never_panic_nor_change_taps(pos in 0usize..4000, bit in 0u8..8, cut in 0usize..4000) {
            let mut bytes = sample(100);
            let good = parse(&bytes, &DEMO_DOCK_MASTER, Path::new("d")).unwrap().records;
            let p = pos % bytes.len();
            bytes[p] ^= 1 << bit;
            let c = cut % (bytes.len() + 1);
            if let Ok(d) = parse(&bytes[..c], &DEMO_DOCK_MASTER, Path::new("d")) {
                // Only a flip in the header's counters or time could pass;
                // the taps themselves must be the ones sent.
                prop_assert!(good.starts_with(&d.records));
            }
        }
    }
}
