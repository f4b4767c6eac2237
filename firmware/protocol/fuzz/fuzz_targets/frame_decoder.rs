//! Any bytes from the serial line, cut anywhere: the frame reader never
//! panics, always makes progress, and whatever it accepts re-encodes to a
//! frame that decodes to the same message. The same bytes are also sealed
//! with a correct CRC, so the message decoder behind the CRC is fuzzed too.
#![no_main]

use kartka_protocol::auth::Session;
use kartka_protocol::frame::{MAX_WIRE, decode_raw, encode};
use kartka_protocol::{CRC16, FrameReader, Message, PROTOCOL_VERSION, TapRecord};
use libfuzzer_sys::fuzz_target;

fn round_trips(message: &Message<'_>) {
    if let Message::Batch(b) = message {
        for r in TapRecord::iter_packed(b.records) {
            let _ = r;
        }
    }
    let mut out = [0u8; MAX_WIRE];
    let n = encode(message, &[0; 16], Session::default(), &mut out).expect("a decoded message re-encodes");
    let mut again = FrameReader::new();
    let (_, back) = again.push(&out[1..n]);
    assert_eq!(&back.expect("a frame").expect("decodes").message, message);
}

fuzz_target!(|data: &[u8]| {
    let mut raw = Vec::with_capacity(data.len() + 11);
    raw.push(PROTOCOL_VERSION);
    raw.extend_from_slice(data);
    raw.extend_from_slice(&[0; 8]);
    let crc = CRC16.checksum(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    if let Ok(frame) = decode_raw(&raw) {
        round_trips(&frame.message);
    }

    // The first byte says where to cut the input into two reads.
    let Some((&cut, stream)) = data.split_first() else { return };
    let cut = (cut as usize).min(stream.len());
    let mut reader = FrameReader::new();
    for mut part in [&stream[..cut], &stream[cut..]] {
        while !part.is_empty() {
            let (used, frame) = reader.push(part);
            assert!(used > 0 && used <= part.len());
            part = &part[used..];
            let Some(Ok(frame)) = frame else { continue };
            let _ = frame.verify(&[0; 16], Session::default());
            round_trips(&frame.message);
        }
    }
});
