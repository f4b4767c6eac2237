//! The generated month's files: `cards.csv`, `ground-truth.csv`, the
//! vendor CSV `taps.csv` and the signed dumps.

use std::io::Write;
use std::path::Path;

use chrono::Utc;
use chrono_tz::Europe::Kyiv;
use kartka_protocol::TapRecord;
use kartka_protocol::auth::{DockKey, Session, validator_key};
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::{Batch, MAX_BATCH_RECORDS, Message};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{GenCard, PATTERNS, Record};
use crate::generate::Error;
use crate::taps::dump;

/// A new file at `path` through `private::NewFile` (mode 0600: the data
/// is made up, but looks like people's); `commit` puts it in place.
pub(super) fn file(path: &Path) -> Result<crate::private::NewFile, Error> {
    crate::private::NewFile::create(path, crate::private::Mode::Private).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

pub(super) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

pub(super) fn cards(path: &Path, cards: &[GenCard]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(
        f,
        "card_number,card_uid,community,category,valid_from,valid_to,blocked_at,death_date"
    )
    .map_err(io(path))?;
    for c in cards {
        let blocked = c
            .blocked_at
            .and_then(|t| chrono::DateTime::<Utc>::from_timestamp(i64::from(t), 0))
            .map(crate::time::utc_text)
            .unwrap_or_default();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{}",
            c.number,
            c.uid,
            c.community,
            c.category,
            c.valid_from,
            c.valid_to,
            blocked,
            c.death.map(|d| d.to_string()).unwrap_or_default()
        )
        .map_err(io(path))?;
    }
    f.commit().map_err(io(path))
}

pub(super) fn truth(path: &Path, records: &[Record]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(f, "validator_id,seq,card_number,pattern").map_err(io(path))?;
    for (r, _, p) in records {
        if let Some(p) = p {
            writeln!(
                f,
                "{},{},{},{}",
                r.validator,
                r.seq,
                r.card,
                PATTERNS[*p as usize].code()
            )
            .map_err(io(path))?;
        }
    }
    f.commit().map_err(io(path))
}

pub(super) fn vendor_csv(path: &Path, records: &[Record]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(
        f,
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq"
    )
    .map_err(io(path))?;
    for (r, carrier, _) in records {
        let t = chrono::DateTime::<Utc>::from_timestamp(i64::from(r.time), 0)
            .unwrap_or_default()
            .with_timezone(&Kyiv);
        let uid = super::uid_hex(r.uid);
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            r.validator,
            r.vehicle,
            r.route,
            carrier,
            r.card,
            uid,
            t.format("%Y-%m-%dT%H:%M:%S%:z"),
            r.zone,
            r.result.name(),
            r.seq
        )
        .map_err(io(path))?;
    }
    f.commit().map_err(io(path))
}

/// One dump per validator, as a docking at the month's end would keep it.
pub(super) fn dumps(
    dir: &Path,
    records: &[Record],
    master: &DockKey,
    docked: u32,
    rng: &mut ChaCha8Rng,
) -> Result<usize, Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut n = 0;
    for chunk in records.chunk_by(|a, b| a.0.validator == b.0.validator) {
        let validator = chunk[0].0.validator;
        let session = Session {
            host_nonce: rng.random(),
            validator_nonce: rng.random(),
        };
        let bytes = dump_bytes(validator, session, chunk.iter().map(|c| c.0), master);
        let header = dump::Header {
            validator,
            session,
            received_at: i64::from(docked),
            seq_first: chunk[0].0.seq,
            seq_last: chunk[chunk.len() - 1].0.seq,
            taps: chunk.len() as u32,
            frames: chunk.len().div_ceil(MAX_BATCH_RECORDS) as u32,
        };
        let path = dir.join(header.file_name());
        let mut f = file(&path)?;
        f.write_all(&header.to_bytes())
            .and_then(|()| f.write_all(&bytes))
            .and_then(|()| f.commit())
            .map_err(io(&path))?;
        n += 1;
    }
    Ok(n)
}

/// The batch frames of `records`, signed as the validator would sign them.
pub fn dump_bytes(
    validator: u16,
    session: Session,
    records: impl Iterator<Item = TapRecord>,
    master: &DockKey,
) -> Vec<u8> {
    let key = validator_key(master, validator);
    let all: Vec<TapRecord> = records.collect();
    let chunks: Vec<&[TapRecord]> = all.chunks(MAX_BATCH_RECORDS).collect();
    let mut out = Vec::with_capacity(all.len() * 30 + chunks.len() * 24);
    let mut packed = Vec::with_capacity(MAX_BATCH_RECORDS * kartka_protocol::RECORD_LEN);
    let mut wire = [0u8; MAX_WIRE];
    for (i, chunk) in chunks.iter().enumerate() {
        packed.clear();
        for r in *chunk {
            packed.extend_from_slice(&r.to_bytes());
        }
        let msg = Message::Batch(Batch {
            records: &packed,
            last: i + 1 == chunks.len(),
        });
        let n = encode(&msg, &key, session, &mut wire).expect("a batch fits a frame");
        out.extend_from_slice(&wire[..n]);
    }
    out
}
