//! The research level (K6, K5): one row per trip, the card replaced by a
//! keyed pseudonym. The key (32 random bytes) is made for the release and
//! kept in `keys/open-data/`, mode 600: the city can answer a resident
//! which pseudonym was theirs, and two releases' pseudonyms cannot be
//! joined. Times are cut down to 15 minutes; categories to their group.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use polars::prelude::*;
use rand::RngCore;
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::Sha256;

use super::Error;
use super::release::{Doc, Writer};
use super::tables::{DayType, Period};
use crate::home::Home;
use crate::registry::Registry;
use crate::time::DAY_MS;

pub struct Research {
    pub months: Vec<String>,
    pub trips: i64,
    /// The social numbers of the residents whose trips it holds.
    pub people: Vec<String>,
    pub key_file: PathBuf,
}

fn polars_err(e: PolarsError) -> Error {
    Error::Store(e.to_string())
}

/// The pseudonym of `card` under `key`: 16 hex digits of HMAC-SHA256.
pub fn pseudonym(key: &[u8; 32], card: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(b"kartka-open-data-v1");
    mac.update(&card.to_le_bytes());
    mac.finalize().into_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_key(home: &Home, release: &str) -> Result<([u8; 32], PathBuf), Error> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let name: String = release
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = home.root().join(format!("keys/open-data/{name}.key"));
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    crate::private::create_secret(&path, format!("{hex}\n").as_bytes()).map_err(|e| {
        Error::Key {
            path: path.clone(),
            why: format!("cannot create the release's pseudonym key ({e})"),
        }
    })?;
    Ok((key, path))
}

const COLUMNS: [(&str, &str, &str, &str); 9] = [
    (
        "pseudonym",
        "псевдонім",
        "Псевдонім картки в цьому випуску (16 шістнадцяткових цифр).",
        "The card's pseudonym in this release (16 hex digits).",
    ),
    (
        "date",
        "дата",
        "Дата поїздки за київським часом.",
        "The trip's date, Kyiv time.",
    ),
    (
        "time",
        "час",
        "Час поїздки за київським часом, округлений донизу до 15 хвилин.",
        "The trip's time, Kyiv time, cut down to 15 minutes.",
    ),
    (
        "day_type",
        "тип_дня",
        "будній, субота, або неділя чи святковий день.",
        "weekday, saturday or sunday_holiday.",
    ),
    ("route", "маршрут", "Номер маршруту.", "The route number."),
    (
        "carrier",
        "перевізник",
        "Номер перевізника.",
        "The carrier's number.",
    ),
    (
        "community",
        "громада",
        "Код громади мешканця (КАТОТТГ); unknown — картка не в реєстрі.",
        "The resident's community code (KATOTTG); unknown: a card not in the registry.",
    ),
    (
        "category_group",
        "група_категорій",
        "Група пільгових категорій.",
        "The benefit category group.",
    ),
    ("zone", "тарифна_зона", "Тарифна зона.", "The tariff zone."),
];

/// Writes the period's trips, pseudonymised; returns what the audit entry
/// and the summary need.
pub fn write(
    w: &mut Writer,
    home: &Home,
    reg: &Registry,
    period: Period,
    release: &str,
) -> Result<Research, Error> {
    let Period {
        chunks,
        months,
        groups,
        communities,
    } = period;
    // First pass: the period's cards.
    let mut cards: FxHashSet<i64> = FxHashSet::default();
    for lf in &chunks {
        let df = lf
            .clone()
            .select([col("card_number")])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()
            .map_err(polars_err)?;
        cards.extend(
            df.column("card_number")
                .map_err(polars_err)?
                .i64()
                .map_err(polars_err)?
                .iter()
                .flatten(),
        );
    }
    let (key, key_file) = new_key(home, release)?;
    let mut names: Vec<i64> = cards.iter().copied().collect();
    names.sort_unstable();
    let pseudonyms = DataFrame::new(
        names.len(),
        vec![
            Series::new("card_number".into(), names.clone()).into(),
            Series::new(
                "_p".into(),
                names
                    .iter()
                    .map(|&c| pseudonym(&key, c))
                    .collect::<Vec<_>>(),
            )
            .into(),
        ],
    )
    .map_err(polars_err)?;
    let paths = [
        w.path("csv/uk/trips.csv", "Поїздки, псевдонімізовані")?,
        w.path("csv/en/trips.csv", "Trips, pseudonymised")?,
        w.path("parquet/trips.parquet", "Trips, pseudonymised")?,
    ];
    let fail = |e: String| Error::Write {
        path: paths[0].clone(),
        detail: e,
    };
    let mut uk = csv::Writer::from_writer(w.new_file(&paths[0])?);
    let mut en = csv::Writer::from_writer(w.new_file(&paths[1])?);
    let mut pq_file = w.new_file(&paths[2])?;
    uk.write_record(COLUMNS.map(|c| c.1))
        .map_err(|e| fail(e.to_string()))?;
    en.write_record(COLUMNS.map(|c| c.0))
        .map_err(|e| fail(e.to_string()))?;
    let mut parquet = None;
    let mut trips = 0i64;
    let mut seen_months: Vec<bool> = vec![false; months.len()];
    for lf in chunks {
        let df = lf
            .left_join(
                pseudonyms.clone().lazy(),
                col("card_number"),
                col("card_number"),
            )
            .select([
                col("_p"),
                col("_m"),
                col("_local"),
                col("_dt"),
                col("route"),
                col("carrier_id"),
                col("_com"),
                col("_g"),
                col("tariff_zone"),
            ])
            .sort(["_local", "_p"], SortMultipleOptions::default())
            .collect()
            .map_err(polars_err)?;
        if df.height() == 0 {
            continue;
        }
        let g = |n: &str| -> Result<Int64Chunked, Error> {
            Ok(df
                .column(n)
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(polars_err)?
                .i64()
                .map_err(polars_err)?
                .clone())
        };
        let p = df
            .column("_p")
            .map_err(polars_err)?
            .str()
            .map_err(polars_err)?
            .clone();
        let (m, local, dt, route, carrier, com, grp, zone) = (
            g("_m")?,
            g("_local")?,
            g("_dt")?,
            g("route")?,
            g("carrier_id")?,
            g("_com")?,
            g("_g")?,
            g("tariff_zone")?,
        );
        let mut out: [Vec<String>; 9] = Default::default();
        for i in 0..df.height() {
            let l = local.get(i).unwrap_or(0);
            let day = chrono::DateTime::from_timestamp_millis(l - l.rem_euclid(DAY_MS))
                .map(|t| t.date_naive().to_string())
                .unwrap_or_default();
            let minute = (l.rem_euclid(DAY_MS) / 60_000) / 15 * 15;
            let dtype = match dt.get(i) {
                Some(1) => DayType::Saturday,
                Some(2) => DayType::SundayHoliday,
                _ => DayType::Weekday,
            };
            if let Some(mi) = m.get(i) {
                seen_months[mi as usize] = true;
            }
            let gi = grp.get(i).unwrap_or(0) as usize;
            let row = [
                p.get(i).unwrap_or_default().to_string(),
                day,
                format!("{:02}:{:02}", minute / 60, minute % 60),
                String::new(),
                route.get(i).map(|x| x.to_string()).unwrap_or_default(),
                carrier.get(i).map(|x| x.to_string()).unwrap_or_default(),
                com.get(i)
                    .map(|c| communities[c as usize].clone())
                    .unwrap_or_else(|| "unknown".into()),
                groups[gi].clone(),
                zone.get(i).map(|x| x.to_string()).unwrap_or_default(),
            ];
            let mut r_uk = row.clone();
            r_uk[3] = dtype.uk().to_string();
            let mut r_en = row;
            r_en[3] = dtype.code().to_string();
            uk.write_record(crate::text::csv_row(&r_uk))
                .map_err(|e| fail(e.to_string()))?;
            en.write_record(crate::text::csv_row(&r_en))
                .map_err(|e| fail(e.to_string()))?;
            for (col, v) in out.iter_mut().zip(r_en) {
                col.push(v);
            }
        }
        trips += df.height() as i64;
        let frame = DataFrame::new(
            df.height(),
            COLUMNS
                .iter()
                .zip(out)
                .map(|(c, v)| Series::new(c.0.into(), v).into())
                .collect(),
        )
        .map_err(polars_err)?;
        if parquet.is_none() {
            parquet = Some(
                ParquetWriter::new(&mut pq_file)
                    .batched(frame.schema())
                    .map_err(polars_err)?,
            );
        }
        parquet
            .as_mut()
            .expect("made above")
            .write_batch(&frame)
            .map_err(polars_err)?;
    }
    if let Some(p) = parquet {
        p.finish().map_err(polars_err)?;
    }
    let io = |e: std::io::Error| fail(e.to_string());
    for file in [uk, en] {
        file.into_inner()
            .map_err(|e| fail(e.to_string()))?
            .commit()
            .map_err(io)?;
    }
    pq_file.commit().map_err(io)?;
    w.doc(Doc {
        name: "trips",
        about_uk: "Поїздки, одна на рядок, з псевдонімом картки замість номера.",
        about_en: "Trips, one a row, with the card's pseudonym in place of its number.",
        columns: COLUMNS
            .iter()
            .map(|c| super::release::Column {
                en: c.0,
                uk: c.1,
                about_uk: c.2,
                about_en: c.3,
            })
            .collect(),
        rows: trips as usize,
    });
    let people = social_numbers(reg, &cards)?;
    Ok(Research {
        months: months
            .into_iter()
            .zip(seen_months)
            .filter(|(_, s)| *s)
            .map(|(m, _)| m)
            .collect(),
        trips,
        people,
        key_file,
    })
}

fn social_numbers(reg: &Registry, cards: &FxHashSet<i64>) -> Result<Vec<String>, Error> {
    let mut st = reg
        .conn()
        .prepare(
            "SELECT c.number, p.social_number FROM cards c JOIN people p ON p.id = c.person_id",
        )
        .map_err(|e| reg.err(e))?;
    let all: FxHashMap<i64, String> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| reg.err(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| reg.err(e))?;
    let mut out: Vec<String> = cards.iter().filter_map(|c| all.get(c).cloned()).collect();
    out.sort();
    out.dedup();
    Ok(out)
}
