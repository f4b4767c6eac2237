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
