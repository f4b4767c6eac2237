//! A vendor system's tap export, for cities migrating to kartka:
//!
//! `validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq`
//!
//! UTF-8 (with or without BOM) or Windows-1251, comma or semicolon. Column
//! order and extra columns do not matter (a rejects file's `reason` column
//! is ignored, so a fixed rejects file imports again). `tapped_at` is ISO
//! 8601 with its UTC offset. A row that is not a tap goes to the rejects
//! file with the reason; the rest are stored.

use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use kartka_protocol::record::Uid;
use kartka_protocol::{TapRecord, TapResult};
use rustc_hash::FxHashMap;

use super::{Error, Tap};

pub const COLUMNS: [&str; 10] = [
    "validator_id",
    "vehicle_id",
    "route",
    "carrier",
    "card_number",
    "card_uid",
    "tapped_at",
    "tariff_zone",
    "result",
    "seq",
];

/// A row that is not a tap.
#[derive(Debug, Clone)]
pub struct Reject {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub fields: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub header: Vec<String>,
    pub taps: Vec<Tap>,
    /// Each tap's line in the file (the header is line 1).
    pub lines: Vec<u64>,
    pub rejects: Vec<Reject>,
    /// Rows repeating an earlier row exactly (same validator and sequence).
    pub repeated: usize,
}

/// Parses a vendor export. Fails as a whole only when the file is not such
/// an export (no header, missing columns); bad rows are rejects.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Parsed, Error> {
    let text = crate::intake::read::decode_text(bytes);
    let delimiter = crate::intake::read::detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let bad = |why: String| Error::BadInput {
        path: path.to_path_buf(),
        why,
        todo: "Export the taps with the columns validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq; nothing was imported.",
    };
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|c| crate::text::csv_uncell(c.trim()).to_string())
            .collect(),
        Some(Err(e)) => return Err(bad(format!("line 1: {e}"))),
        None => return Err(bad("the file is empty".into())),
    };
    let mut index = [0usize; 10];
    let mut missing = Vec::new();
    for (i, want) in COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h.eq_ignore_ascii_case(want)) {
            Some(p) => index[i] = p,
            None => missing.push(*want),
        }
    }
    if !missing.is_empty() {
        return Err(bad(format!(
            "not a vendor tap export: missing column(s) {} (the header is line 1)",
            missing.join(", ")
        )));
    }
    let mut out = Parsed {
        header,
        ..Parsed::default()
    };
    // (validator, seq) → (line, the row's tap), to tell a repeat from a clash.
    let mut seen: FxHashMap<(u16, u32), (u64, Tap)> = FxHashMap::default();
    for (n, row) in records.enumerate() {
        let line = n as u64 + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.rejects.push(Reject {
                    line,
                    fields: Vec::new(),
                    reason: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let fields: Vec<String> = row.iter().map(str::to_string).collect();
        let cell = |i: usize| {
            fields
                .get(index[i])
                .map_or("", |s| crate::text::csv_uncell(s.trim()))
        };
        match tap(&cell) {
            Ok(t) => match seen.entry((t.record.validator, t.record.seq)) {
                Entry::Vacant(v) => {
                    v.insert((line, t));
                    out.taps.push(t);
                    out.lines.push(line);
                }
                Entry::Occupied(o) if o.get().1 == t => out.repeated += 1,
                Entry::Occupied(o) => out.rejects.push(Reject {
                    line,
                    fields,
                    reason: format!(
                        "validator_id {} seq {} is already line {} with different values; a sequence number names one tap",
                        t.record.validator,
                        t.record.seq,
                        o.get().0
                    ),
                }),
            },
            Err(reason) => out.rejects.push(Reject {
                line,
                fields,
                reason,
            }),
        }
    }
    Ok(out)
}

fn int<T: TryFrom<u64>>(cell: &str, column: &str, min: u64) -> Result<T, String> {
    let v: u64 = cell
        .parse()
        .map_err(|_| format!("{column}: `{cell}` is not a whole number"))?;
    if v < min {
        return Err(format!("{column}: {v} is below {min}"));
    }
    T::try_from(v).map_err(|_| format!("{column}: {v} is too large"))
}

fn tap<'a>(cell: &dyn Fn(usize) -> &'a str) -> Result<Tap, String> {
    let validator: u16 = int(cell(0), "validator_id", 1)?;
    let vehicle: u16 = int(cell(1), "vehicle_id", 1)?;
    let route: u16 = int(cell(2), "route", 0)?;
    let carrier = match cell(3) {
        "" => None,
        c => Some(int::<u16>(c, "carrier", 1)?),
    };
    let card: u32 = int(cell(4), "card_number", 1)?;
    let uid = parse_uid(cell(5))?;
    let time = parse_time(cell(6))?;
    let zone: u8 = int(cell(7), "tariff_zone", 0)?;
    let result = parse_result(cell(8))?;
    let seq: u32 = int(cell(9), "seq", 0)?;
    Ok(Tap {
        record: TapRecord {
            validator,
            seq,
            time,
            card,
            uid,
            vehicle,
            route,
            zone,
            result,
            trips: 0,
        },
        carrier,
        trips: None,
    })
}

pub(crate) fn parse_uid(cell: &str) -> Result<Uid, String> {
    let hex: String = cell
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-'))
        .collect();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    bytes
        .filter(|b| b.len() == 4 || b.len() == 7)
        .and_then(|b| Uid::new(&b))
        .ok_or_else(|| {
            format!("card_uid: `{cell}` is not a 4- or 7-byte UID in hex (e.g. 04A1B2C3)")
        })
}

fn parse_time(cell: &str) -> Result<u32, String> {
    let t = DateTime::parse_from_rfc3339(cell)
        .or_else(|_| DateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S%:z"))
        .map_err(|_| {
            format!(
                "tapped_at: `{cell}` is not an ISO 8601 time with its UTC offset (e.g. 2026-10-01T07:15:00+03:00)"
            )
        })?;
    u32::try_from(t.timestamp()).map_err(|_| format!("tapped_at: {cell} is out of range"))
}

pub(crate) fn parse_result(cell: &str) -> Result<TapResult, String> {
    let wanted = cell.to_ascii_lowercase().replace('-', "_");
    TapResult::ALL
        .into_iter()
        .find(|r| r.name() == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = TapResult::ALL.iter().map(|r| r.name()).collect();
            format!("result: `{cell}` is not one of {}", names.join(", "))
        })
}

/// The default rejects file: next to the input, `<name>.rejects.csv`.
pub fn rejects_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "taps".into());
    input.with_file_name(format!("{stem}.rejects.csv"))
}

/// Writes the rejects with the original header and a `reason` column.
pub fn write_rejects(path: &Path, header: &[String], rejects: &[Reject]) -> Result<(), Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<&str> = header.iter().map(String::as_str).collect();
    head.push("line");
    head.push("reason");
    w.write_record(crate::text::csv_row(&head))
        .expect("in memory");
    for r in rejects {
        let mut row: Vec<String> = r.fields.clone();
        row.resize(header.len(), String::new());
        row.push(r.line.to_string());
        row.push(r.reason.clone());
        w.write_record(crate::text::csv_row(&row))
            .expect("in memory");
    }
    let bytes = w.into_inner().expect("in memory");
    super::write_synced(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEAD: &str = "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n";

    #[test]
    fn good_rows_become_taps_in_utc() {
        let text = format!(
            "{HEAD}7,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00+03:00,1,accepted,0\n"
        );
        let p = parse(text.as_bytes(), Path::new("v.csv")).unwrap();
        assert!(p.rejects.is_empty(), "{:?}", p.rejects);
        let t = p.taps[0];
        assert_eq!(t.record.time, 1_790_828_100);
        assert_eq!(t.record.card, 1_000_000_016);
        assert_eq!(t.carrier, Some(1));
        assert_eq!(t.trips, None);
        assert_eq!(t.record.uid.as_bytes(), &[0x04, 0xA1, 0xB2, 0xC3]);
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line_and_reason() {
        let text = format!(
            "{HEAD}\
             7,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00,1,accepted,0\n\
             7,1012,5,1,1000000016,XYZ,2026-10-01T07:15:00+03:00,1,accepted,1\n\
             7,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00+03:00,1,maybe,2\n\
             0,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00+03:00,1,accepted,3\n\
             7,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00+03:00,1,accepted,4\n\
             7,1012,5,1,1000000016,04A1B2C3,2026-10-01T07:15:00+03:00,1,accepted,4\n\
             7,1012,5,1,1000000024,04A1B2C3,2026-10-01T07:15:00+03:00,1,accepted,4\n"
        );
        let p = parse(text.as_bytes(), Path::new("v.csv")).unwrap();
        let got: Vec<(u64, &str)> = p
            .rejects
            .iter()
            .map(|r| (r.line, r.reason.split(':').next().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "tapped_at"),
                (3, "card_uid"),
                (4, "result"),
                (5, "validator_id"),
                (
                    8,
                    "validator_id 7 seq 4 is already line 6 with different values; a sequence number names one tap"
                ),
            ]
        );
        assert_eq!(p.taps.len(), 1);
        assert_eq!(p.repeated, 1);
    }

    #[test]
    fn a_file_without_the_columns_is_refused_whole() {
        let e = parse(b"name,date\nx,y\n", Path::new("v.csv")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "v.csv: not a vendor tap export: missing column(s) validator_id, vehicle_id"
            ),
            "{msg}"
        );
        assert!(msg.contains("nothing was imported"), "{msg}");
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_refuse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut all = HEAD.as_bytes().to_vec();
            all.extend_from_slice(&bytes);
            let _ = parse(&all, Path::new("v.csv"));
            let _ = parse(&bytes, Path::new("v.csv"));
        }
    }
}
