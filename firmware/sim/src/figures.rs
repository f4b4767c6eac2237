//! What a dump costs on the wire: every frame of a docking that reads `n`
//! taps, encoded exactly as the validator encodes it.

use kartka_protocol::auth::Session;
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::{Batch, Done, Hello, MAX_BATCH_RECORDS, Message};
use kartka_protocol::{RECORD_LEN, TapRecord, TapResult, Uid};

use crate::cards::uid_of;
use crate::script::generate;

pub struct Figures {
    pub taps: usize,
    /// Record bytes: the payload.
    pub payload: u64,
    /// Every byte both ways: hello, read-from, batches, ack.
    pub wire: u64,
    pub frames: u64,
    pub baud: u32,
}

impl Figures {
    /// Bits per byte on an 8N1 line.
    const BITS: u64 = 10;

    pub fn bytes_per_record(&self) -> f64 {
        self.wire as f64 / self.taps as f64
    }

    pub fn seconds(&self) -> f64 {
        (self.wire * Self::BITS) as f64 / f64::from(self.baud)
    }

    pub fn minimum_seconds(&self) -> f64 {
        (self.payload * Self::BITS) as f64 / f64::from(self.baud)
    }

    pub fn overhead(&self) -> f64 {
        self.seconds() / self.minimum_seconds() - 1.0
    }
}

pub fn dump(taps: usize, baud: u32) -> Figures {
    let key = [7u8; 16];
    let session = Session {
        host_nonce: 0x1234_5678,
        validator_nonce: 0x9ABC_DEF0,
    };
    let mut out = [0u8; MAX_WIRE];
    let mut wire = 0u64;
    let mut frames = 0u64;
    let mut send = |m: &Message<'_>| {
        wire += encode(m, &key, session, &mut out).expect("fits") as u64;
        frames += 1;
    };
    send(&Message::Hi {
        host_nonce: session.host_nonce,
    });
    send(&Message::Hello(Hello {
        protocol: 1,
        validator: 7,
        firmware: [0, 1, 0],
        clock: 1_790_900_000,
        oldest: 1,
        next: taps as u32 + 1,
        acked_below: 1,
        free_records: 70_000,
        blocklist_version: 3,
        settings_version: 2,
        validator_nonce: session.validator_nonce,
    }));
    send(&Message::ReadFrom { seq: 1 });
    let records: Vec<u8> = generate(taps, 5_000, 10_000_001, 1_790_841_600, 1)
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            TapRecord {
                validator: 7,
                seq: i as u32 + 1,
                time: t.time,
                card: t.card,
                uid: Uid::four(uid_of(t.card)),
                vehicle: 1012,
                route: 5,
                zone: 1,
                result: if i % 20 == 0 {
                    TapResult::Repeat
                } else {
                    TapResult::Accepted
                },
                trips: (i % 300) as u16,
            }
            .to_bytes()
        })
        .collect();
    let chunks: Vec<&[u8]> = records.chunks(MAX_BATCH_RECORDS * RECORD_LEN).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        send(&Message::Batch(Batch {
            records: chunk,
            last: i + 1 == chunks.len(),
        }));
    }
    send(&Message::Ack { up_to: taps as u32 });
    send(&Message::Done(Done::Acked { up_to: taps as u32 }));
    Figures {
        taps,
        payload: records.len() as u64,
        wire,
        frames,
        baud,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_50000_tap_dump_is_within_10_percent_of_the_line_rate() {
        let f = dump(50_000, 115_200);
        assert_eq!(f.payload, 50_000 * 29);
        assert!(f.overhead() < 0.10, "{:.3}", f.overhead());
        assert!(f.bytes_per_record() < 32.0, "{}", f.bytes_per_record());
    }
}
