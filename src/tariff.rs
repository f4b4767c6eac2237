//! Fares (`[[tariffs]]` in kartka.toml): what one trip is worth, in
//! kopecks, at the moment it was made. Each entry is in force from its
//! `from` date (Europe/Kyiv) until a later entry of the same scope takes
//! over. An entry may be for some routes, some carriers and some tariff
//! zones (each list empty: all of them); a trip is priced with the most
//! specific entry in force that covers it (routes count most, then
//! carriers, then zones), the latest of those. The suspicious-tap flags
//! price the taps they hold with it, and the compensation workbooks price
//! every trip with it.

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// First Kyiv day the fare is in force.
    pub from: NaiveDate,
    /// One trip, in kopecks.
    pub fare_kopecks: i64,
    /// The routes it is for; every route when empty.
    #[serde(default)]
    pub routes: Vec<i32>,
    /// The carriers it is for; every carrier when empty.
    #[serde(default)]
    pub carriers: Vec<i32>,
    /// The tariff zones it is for; every zone when empty.
    #[serde(default)]
    pub zones: Vec<i32>,
}

/// What a trip is priced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Trip {
    pub route: i32,
    pub carrier: Option<i32>,
    pub zone: Option<i32>,
}

impl Tariff {
    fn covers(&self, t: &Trip) -> bool {
        let within =
            |list: &[i32], v: Option<i32>| list.is_empty() || v.is_some_and(|v| list.contains(&v));
        within(&self.routes, Some(t.route))
            && within(&self.carriers, t.carrier)
            && within(&self.zones, t.zone)
    }

    /// Routes named count most, then carriers, then zones.
    fn specificity(&self) -> u8 {
        (u8::from(!self.routes.is_empty()) << 2)
            | (u8::from(!self.carriers.is_empty()) << 1)
            | u8::from(!self.zones.is_empty())
    }

    /// Who it is for, in words, for the workbooks' notes.
    pub fn scope(&self) -> String {
        let list = |what: &str, l: &[i32]| {
            (!l.is_empty()).then(|| {
                format!(
                    "{what} {}",
                    l.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
                )
            })
        };
        let parts: Vec<String> = [
            list("routes", &self.routes),
            list("carriers", &self.carriers),
            list("zones", &self.zones),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "all".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A trip's price: the fare in kopecks and the entry (its index in
/// `[[tariffs]]`) that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub kopecks: i64,
    pub entry: usize,
}

/// **The** pricing function: what `trip` is worth on Kyiv day `day`, by
/// the most specific entry in force that covers it (the latest of those);
/// `None` when none is in force. The flags, the compensation workbooks,
/// the period reports and the reconciliation all price through here.
pub fn price(tariffs: &[Tariff], trip: &Trip, day: NaiveDate) -> Option<Price> {
    tariffs
        .iter()
        .enumerate()
        .filter(|(_, t)| t.from <= day && t.covers(trip))
        .max_by_key(|(_, t)| (t.specificity(), t.from))
        .map(|(entry, t)| Price {
            kopecks: t.fare_kopecks,
            entry,
        })
}

/// `price` of a trip made at `t_ms` (UTC milliseconds), by its Kyiv day;
/// 0 when no tariff covers it.
pub fn fare_at(tariffs: &[Tariff], trip: &Trip, t_ms: i64) -> i64 {
    price(tariffs, trip, crate::time::kyiv_day_of_ms(t_ms)).map_or(0, |p| p.kopecks)
}

/// Checks the list: positive fares, no two entries of overlapping scope
/// from the same day.
pub fn check(tariffs: &[Tariff]) -> Result<(), String> {
    let overlap =
        |a: &[i32], b: &[i32]| a.is_empty() || b.is_empty() || a.iter().any(|x| b.contains(x));
    for (i, t) in tariffs.iter().enumerate() {
        if t.fare_kopecks <= 0 {
            return Err(format!(
                "[[tariffs]] entry {} (from {}): fare_kopecks must be above 0, not {}",
                i + 1,
                t.from,
                t.fare_kopecks
            ));
        }
        if let Some(m) = crate::money::over(
            "fare_kopecks",
            i128::from(t.fare_kopecks),
            crate::money::MAX_FARE,
        ) {
            return Err(format!(
                "[[tariffs]] entry {} (from {}): {m}",
                i + 1,
                t.from
            ));
        }
        for u in &tariffs[..i] {
            let same_scope = u.specificity() == t.specificity()
                && overlap(&t.routes, &u.routes)
                && overlap(&t.carriers, &u.carriers)
                && overlap(&t.zones, &u.zones);
            if u.from == t.from && same_scope {
                return Err(format!(
                    "[[tariffs]]: two entries from {} for the same route ({} and {}); keep one",
                    t.from,
                    u.scope(),
                    t.scope()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fare(t: &[Tariff], route: i32, day: NaiveDate) -> Option<i64> {
        fare_of_trip(
            t,
            &Trip {
                route,
                carrier: None,
                zone: None,
            },
            day,
        )
    }

    fn fare_of_trip(t: &[Tariff], trip: &Trip, day: NaiveDate) -> Option<i64> {
        price(t, trip, day).map(|p| p.kopecks)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_fare_in_force_on_the_day_wins_and_a_route_entry_beats_the_general_one() {
        let t = vec![
            Tariff {
                from: d("2026-01-01"),
                fare_kopecks: 1500,
                routes: vec![],
                ..Tariff::default()
            },
            Tariff {
                from: d("2026-10-15"),
                fare_kopecks: 2000,
                routes: vec![],
                ..Tariff::default()
            },
            Tariff {
                from: d("2026-06-01"),
                fare_kopecks: 1800,
                routes: vec![5],
                ..Tariff::default()
            },
        ];
        assert_eq!(fare(&t, 3, d("2025-12-31")), None);
        assert_eq!(fare(&t, 3, d("2026-10-14")), Some(1500));
        assert_eq!(fare(&t, 3, d("2026-10-15")), Some(2000));
        assert_eq!(fare(&t, 5, d("2026-05-31")), Some(1500));
        assert_eq!(fare(&t, 5, d("2026-10-20")), Some(1800));
        assert!(check(&t).is_ok());
    }

    #[test]
    fn a_zero_fare_and_a_doubled_entry_are_refused() {
        let zero = vec![Tariff {
            from: d("2026-01-01"),
            fare_kopecks: 0,
            routes: vec![],
            ..Tariff::default()
        }];
        assert!(check(&zero).unwrap_err().contains("above 0"));
        let twice = vec![
            Tariff {
                from: d("2026-01-01"),
                fare_kopecks: 1500,
                routes: vec![5, 6],
                ..Tariff::default()
            },
            Tariff {
                from: d("2026-01-01"),
                fare_kopecks: 1600,
                routes: vec![6],
                ..Tariff::default()
            },
        ];
        assert!(check(&twice).unwrap_err().contains("two entries"));
    }

    #[test]
    fn a_carrier_or_zone_entry_beats_the_general_one_and_a_route_entry_beats_both() {
        let e =
            |from: &str, fare: i64, routes: Vec<i32>, carriers: Vec<i32>, zones: Vec<i32>| Tariff {
                from: d(from),
                fare_kopecks: fare,
                routes,
                carriers,
                zones,
            };
        let t = vec![
            e("2026-01-01", 1500, vec![], vec![], vec![]),
            e("2026-01-01", 1700, vec![], vec![], vec![2]),
            e("2026-01-01", 1600, vec![], vec![7], vec![]),
            e("2026-01-01", 2500, vec![12], vec![], vec![]),
            e("2026-10-15", 1650, vec![], vec![7], vec![]),
        ];
        assert!(check(&t).is_ok());
        let trip = |route, carrier, zone| Trip {
            route,
            carrier,
            zone,
        };
        let day = d("2026-10-10");
        assert_eq!(
            fare_of_trip(&t, &trip(5, Some(1), Some(1)), day),
            Some(1500)
        );
        assert_eq!(
            fare_of_trip(&t, &trip(5, Some(1), Some(2)), day),
            Some(1700)
        );
        // A carrier's own fare is more specific than a zone's.
        assert_eq!(
            fare_of_trip(&t, &trip(5, Some(7), Some(2)), day),
            Some(1600)
        );
        assert_eq!(
            fare_of_trip(&t, &trip(5, Some(7), Some(2)), d("2026-10-15")),
            Some(1650)
        );
        assert_eq!(
            fare_of_trip(&t, &trip(12, Some(7), Some(2)), day),
            Some(2500)
        );
        // A trip of no known carrier is priced by the entries for every carrier.
        assert_eq!(fare_of_trip(&t, &trip(5, None, None), day), Some(1500));
        assert_eq!(
            t[price(&t, &trip(5, Some(7), None), day).unwrap().entry].scope(),
            "carriers 7"
        );
    }
}
