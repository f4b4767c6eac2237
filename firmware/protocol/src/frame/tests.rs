use super::*;
use crate::message::*;
use proptest::prelude::*;
use std::vec::Vec;

const KEY: DockKey = [0x42; 16];
const SESSION: Session = Session {
    host_nonce: 0xDEAD_BEEF,
    validator_nonce: 7,
};

/// A message of any kind; borrowed parts come from `bytes`.
fn message(kind: u8, n: u32, bytes: &[u8]) -> Message<'_> {
    match kind % 10 {
        0 => Message::Hi { host_nonce: n },
        1 => Message::Hello(Hello {
            protocol: 1,
            validator: n as u16,
            firmware: [0, 1, 2],
            clock: n,
            oldest: n / 2,
            next: n,
            acked_below: n / 3,
            free_records: 5000,
            blocklist_version: 3,
            settings_version: 4,
            validator_nonce: n ^ 0x5555,
        }),
        2 => Message::ReadFrom { seq: n },
        3 => Message::Batch(Batch {
            records: &bytes[..bytes.len() / 29 * 29],
            last: n.is_multiple_of(2),
        }),
        4 => Message::Ack { up_to: n },
        5 => Message::SetTime { utc: n },
        6 => Message::PutBlocklist(BlocklistChunk {
            version: n,
            chunk: 1,
            chunks: 2,
            total: 9,
            cards: &bytes[..bytes.len() / 4 * 4],
        }),
        7 => Message::PutSettings(Settings {
            version: n,
            vehicle: 12,
            carrier: 3,
            route: 5,
            routes: [5, 7, 0, 0, 0, 0, 0, 0],
            zone: 1,
            timeout_s: 900,
            utc_offset_min: 120,
        }),
        8 => Message::Done(Done::Blocklist {
            version: n,
            chunk: 3,
            active: true,
        }),
        _ => Message::Error(ErrorFrame {
            code: ErrorCode::ChunkOrder,
            detail: n,
        }),
    }
}

fn encoded(msg: &Message<'_>) -> Vec<u8> {
    let mut out = [0u8; MAX_WIRE];
    let n = encode(msg, &KEY, SESSION, &mut out).unwrap();
    out[..n].to_vec()
}

/// Every frame the reader yields from `stream`: `Ok` with the message
/// re-encoded (so it can outlive the reader's buffer), or the error.
fn read_all(stream: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
    let mut reader = FrameReader::new();
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let (used, frame) = reader.push(rest);
        assert!(used > 0, "the reader always makes progress");
        rest = &rest[used..];
        if let Some(frame) = frame {
            out.push(frame.and_then(|d| d.verify(&KEY, SESSION).map(|()| encoded(&d.message))));
        }
    }
    out
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..900)
}

proptest! {
    #[test]
    fn every_message_round_trips(kind in 0u8..10, n in any::<u32>(), bytes in payload()) {
        let msg = message(kind, n, &bytes);
        let wire = encoded(&msg);
        prop_assert!(wire.len() <= MAX_WIRE);
        prop_assert_eq!(wire[0], 0);
        prop_assert_eq!(wire.iter().filter(|&&b| b == 0).count(), 2, "zeros only at the ends");
        let mut reader = FrameReader::new();
        let (used, frame) = reader.push(&wire[1..]);
        prop_assert_eq!(used, wire.len() - 1);
        let frame = frame.unwrap().unwrap();
        prop_assert_eq!(frame.verify(&KEY, SESSION), Ok(()));
        prop_assert_eq!(&frame.message, &msg);
    }

    /// One byte of the middle frame changed to any other value: the frames
    /// around it still arrive, and nothing false does.
    #[test]
    fn a_corrupted_byte_is_detected_and_the_next_frame_survives(
        kind in 0u8..10, n in any::<u32>(), bytes in payload(), at in any::<prop::sample::Index>(), xor in 1u8..=255
    ) {
        let (a, b, c) = (encoded(&message(0, 1, &[])), encoded(&message(kind, n, &bytes)), encoded(&message(4, 9, &[])));
        let mut bad = b.clone();
        let i = at.index(bad.len());
        bad[i] ^= xor;
        let stream = [a.clone(), bad, c.clone()].concat();
        let got = read_all(&stream);
        prop_assert_eq!(got.first(), Some(&Ok(a)));
        prop_assert_eq!(got.last(), Some(&Ok(c)));
        let middle = &got[1..got.len() - 1];
        if i != 0 && i != b.len() - 1 {
            // A changed delimiter only splits or joins empty frames; any
            // other change must be an error, never a different message.
            prop_assert!(!middle.is_empty() && middle.iter().all(|f| f.is_err()), "{middle:?}");
        } else {
            prop_assert!(middle.iter().all(|f| f.as_ref().is_ok_and(|m| *m == b) || f.is_err()));
        }
    }

    /// The link drops mid-frame; the next frame still arrives.
    #[test]
    fn a_truncated_frame_does_not_swallow_the_next(
        kind in 0u8..10, n in any::<u32>(), bytes in payload(), cut in any::<prop::sample::Index>()
    ) {
        let b = encoded(&message(kind, n, &bytes));
        let c = encoded(&message(5, 77, &[]));
        let cut = cut.index(b.len() - 1);
        let stream = [&b[..cut], &c[..]].concat();
        let got = read_all(&stream);
        prop_assert_eq!(got.last(), Some(&Ok(c)));
        prop_assert!(got[..got.len() - 1].iter().all(|f| f.is_err()));
    }

    /// Garbage of any kind between frames costs nothing but errors.
    #[test]
    fn garbage_between_frames_is_skipped(garbage in proptest::collection::vec(any::<u8>(), 0..3000), n in any::<u32>()) {
        let a = encoded(&message(2, n, &[]));
        let c = encoded(&message(4, n, &[]));
        let stream = [&a[..], &garbage, &c].concat();
        let got = read_all(&stream);
        prop_assert_eq!(got.first(), Some(&Ok(a)));
        prop_assert_eq!(got.last(), Some(&Ok(c)));
    }

    #[test]
    fn any_bytes_never_panic(stream in proptest::collection::vec(any::<u8>(), 0..4000)) {
        read_all(&stream);
    }
}

#[test]
fn a_wrong_key_or_an_old_session_fails_the_mac() {
    let wire = encoded(&message(4, 10, &[]));
    let mut reader = FrameReader::new();
    let frame = reader.push(&wire[1..]).1.unwrap().unwrap();
    assert_eq!(frame.verify(&[0x43; 16], SESSION), Err(FrameError::Mac));
    assert_eq!(
        frame.verify(
            &KEY,
            Session {
                validator_nonce: 8,
                ..SESSION
            }
        ),
        Err(FrameError::Mac)
    );
}

#[test]
fn a_newer_peer_is_named_with_both_versions() {
    let mut out = [0u8; MAX_WIRE];
    let n = encode_as(2, &Message::Hi { host_nonce: 1 }, &KEY, SESSION, &mut out).unwrap();
    let mut reader = FrameReader::new();
    let err = reader.push(&out[1..n]).1.unwrap().unwrap_err();
    assert_eq!(err, FrameError::Version { got: 2 });
    assert_eq!(
        std::format!("{err}"),
        "the peer speaks dock protocol version 2; this side speaks version 1"
    );
}

#[test]
fn an_endless_run_without_a_delimiter_is_one_too_long_error() {
    let c = encoded(&message(4, 1, &[]));
    let stream = [&[0x55u8; 5000][..], &c].concat();
    assert_eq!(read_all(&stream), [Err(FrameError::TooLong), Ok(c)]);
}

#[test]
fn a_full_batch_fits_one_frame_with_two_percent_framing() {
    let records = [0x11u8; MAX_BATCH_RECORDS * crate::RECORD_LEN];
    let wire = encoded(&Message::Batch(Batch {
        records: &records,
        last: false,
    }));
    assert!(wire.len() <= MAX_WIRE);
    let overhead = wire.len() - records.len();
    assert!(
        overhead * 100 <= records.len() * 3,
        "{overhead} bytes of framing"
    );
}
