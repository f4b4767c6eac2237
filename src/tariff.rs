//! Fares (`[[tariffs]]` in kartka.toml): what one trip is worth, in
//! kopecks, at the moment it was made. Each entry is in force from its
//! `from` date (Europe/Kyiv) until a later entry for the same route takes
//! over; an entry without `routes` covers every route it is not overridden
//! for. The suspicious-tap flags price the taps they hold with it, and the
//! compensation workbooks (issue 8) price every trip with it.

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// First Kyiv day the fare is in force.
    pub from: NaiveDate,
    /// One trip, in kopecks.
    pub fare_kopecks: i64,
    /// The routes it is for; every route when empty.
    #[serde(default)]
    pub routes: Vec<i32>,
}

/// The fare of a trip on `route` on Kyiv day `day`: the latest entry in
/// force that names the route, else the latest general one; `None` when no
/// entry is in force yet.
pub fn fare(tariffs: &[Tariff], route: i32, day: NaiveDate) -> Option<i64> {
    let in_force = tariffs.iter().filter(|t| t.from <= day);
    let named = in_force
        .clone()
        .filter(|t| t.routes.contains(&route))
        .max_by_key(|t| t.from);
    named
        .or_else(|| {
            in_force
                .filter(|t| t.routes.is_empty())
                .max_by_key(|t| t.from)
        })
        .map(|t| t.fare_kopecks)
}

/// Checks the list: positive fares, no two entries for the same routes
/// from the same day.
pub fn check(tariffs: &[Tariff]) -> Result<(), String> {
    for (i, t) in tariffs.iter().enumerate() {
        if t.fare_kopecks <= 0 {
            return Err(format!(
                "[[tariffs]] entry {} (from {}): fare_kopecks must be above 0, not {}",
                i + 1,
                t.from,
                t.fare_kopecks
            ));
        }
        for u in &tariffs[..i] {
            let overlap = (t.routes.is_empty() && u.routes.is_empty())
                || t.routes.iter().any(|r| u.routes.contains(r));
            if u.from == t.from && overlap {
                return Err(format!(
                    "[[tariffs]]: two entries from {} for the same route; keep one",
                    t.from
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            Tariff {
                from: d("2026-10-15"),
                fare_kopecks: 2000,
                routes: vec![],
            },
            Tariff {
                from: d("2026-06-01"),
                fare_kopecks: 1800,
                routes: vec![5],
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
        }];
        assert!(check(&zero).unwrap_err().contains("above 0"));
        let twice = vec![
            Tariff {
                from: d("2026-01-01"),
                fare_kopecks: 1500,
                routes: vec![5, 6],
            },
            Tariff {
                from: d("2026-01-01"),
                fare_kopecks: 1600,
                routes: vec![6],
            },
        ];
        assert!(check(&twice).unwrap_err().contains("two entries"));
    }
}
