//! Scenario helpers over the tap store: the fleet imported, the stored
//! (validator, seq) pairs, and the exactly-once check (shared by the tap and
//! dock tests).

use std::collections::BTreeSet;

use super::Home;

/// Every (validator, seq) in the store, with how often each appears.
pub fn stored(h: &Home) -> Vec<(i64, i64)> {
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, None).unwrap();
    let df = kartka::taps::parquet::read(&home, &files).unwrap();
    let v = df.column("validator_id").unwrap().i32().unwrap();
    let s = df.column("seq").unwrap().i64().unwrap();
    let mut out: Vec<(i64, i64)> = v
        .to_vec()
        .into_iter()
        .zip(s.to_vec())
        .map(|(a, b)| (i64::from(a.unwrap()), b.unwrap()))
        .collect();
    out.sort();
    out
}

pub fn assert_exactly_once(h: &Home, expected: &BTreeSet<(i64, i64)>) {
    let got = stored(h);
    let unique: BTreeSet<(i64, i64)> = got.iter().copied().collect();
    assert_eq!(got.len(), unique.len(), "a tap is stored twice");
    assert_eq!(
        &unique, expected,
        "the store differs from what was recorded"
    );
}

pub fn fleet(h: &Home) {
    let r = h.kartka(&["fleet", "import", "fixtures/fleet/fleet.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// What the store holds under each (validator, seq): (time in ms, card,
/// UID, result, batch).
pub type Contents = std::collections::BTreeMap<(i64, i64), (i64, i64, String, String, i64)>;

/// Every stored tap's content, by number.
pub fn contents(h: &Home) -> Contents {
    use polars::prelude::*;
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, None).unwrap();
    let df = kartka::taps::parquet::read(&home, &files).unwrap();
    let t = df
        .column("tapped_at")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let t = t.i64().unwrap();
    let v = df.column("validator_id").unwrap().i32().unwrap();
    let s = df.column("seq").unwrap().i64().unwrap();
    let card = df.column("card_number").unwrap().i64().unwrap();
    let uid = df.column("card_uid").unwrap().str().unwrap();
    let result = df.column("result").unwrap().str().unwrap();
    let batch = df.column("batch").unwrap().i64().unwrap();
    (0..df.height())
        .map(|i| {
            (
                (i64::from(v.get(i).unwrap()), s.get(i).unwrap()),
                (
                    t.get(i).unwrap(),
                    card.get(i).unwrap(),
                    uid.get(i).unwrap().to_string(),
                    result.get(i).unwrap().to_string(),
                    batch.get(i).unwrap(),
                ),
            )
        })
        .collect()
}

/// Writes a vendor export: one row a tap (validator, card, time as RFC
/// 3339 with its offset, seq) on bus 1012, route 5, carrier 1, UID
/// 04A1B2C3, accepted.
pub fn vendor_csv(path: &std::path::Path, rows: &[(i64, i64, String, i64)]) {
    let full: Vec<VendorRow> = rows
        .iter()
        .map(|(v, card, at, seq)| {
            (
                *v,
                *card,
                "04A1B2C3".into(),
                at.clone(),
                "accepted".into(),
                *seq,
            )
        })
        .collect();
    vendor_csv_full(path, &full);
}

/// (validator, card, UID, time, result, seq).
pub type VendorRow = (i64, i64, String, String, String, i64);

/// Writes a vendor export of whole rows (bus 1012, route 5, carrier 1).
pub fn vendor_csv_full(path: &std::path::Path, rows: &[VendorRow]) {
    let mut text = String::from(
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n",
    );
    for (v, card, uid, at, result, seq) in rows {
        text.push_str(&format!(
            "{v},1012,5,1,{card},{uid},{at},1,{result},{seq}\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// One tap of a vendor export on a vehicle of no carrier: validator,
/// vehicle, route, card, UID, time (UTC ms).
#[derive(Debug, Clone)]
pub struct Ride {
    pub validator: i64,
    pub vehicle: i64,
    pub route: i64,
    pub card: i64,
    pub uid: String,
    pub at_ms: i64,
}

/// Writes a vendor export of `rides`, each validator's numbered in time
/// order from 1, accepted, zone 1.
pub fn vendor_csv_rides(path: &std::path::Path, rides: &[Ride]) {
    let mut rides = rides.to_vec();
    rides.sort_by_key(|r| (r.validator, r.at_ms));
    let mut text = String::from(
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n",
    );
    let mut seq = 0;
    for (i, r) in rides.iter().enumerate() {
        seq = if i > 0 && rides[i - 1].validator == r.validator {
            seq + 1
        } else {
            1
        };
        let at = chrono::DateTime::from_timestamp_millis(r.at_ms)
            .unwrap()
            .to_rfc3339();
        text.push_str(&format!(
            "{},{},{},,{},{},{at},1,accepted,{seq}\n",
            r.validator, r.vehicle, r.route, r.card, r.uid
        ));
    }
    std::fs::write(path, text).unwrap();
}
