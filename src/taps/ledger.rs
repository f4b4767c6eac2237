//! Which (validator, sequence) numbers the store already holds, as runs:
//! a docking adds one run per validator, so a city's year is a few hundred
//! thousand rows, loaded in milliseconds.

use rustc_hash::FxHashMap;

use crate::registry::Registry;

use super::Error;

/// The runs held, per validator, sorted and not overlapping.
#[derive(Debug, Default)]
pub struct Held {
    runs: FxHashMap<u16, Vec<(u32, u32)>>,
}

impl Held {
    pub fn load(reg: &Registry) -> Result<Held, Error> {
        let err = Error::sql(reg.path());
        let mut stmt = reg
            .conn()
            .prepare("SELECT validator, seq_first, seq_last FROM tap_ranges ORDER BY validator, seq_first")
            .map_err(&err)?;
        let mut held = Held::default();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, u16>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .map_err(&err)?;
        for row in rows {
            let (v, a, b) = row.map_err(&err)?;
            held.runs.entry(v).or_default().push((a, b));
        }
        Ok(held)
    }

    pub fn contains(&self, validator: u16, seq: u32) -> bool {
        let Some(runs) = self.runs.get(&validator) else {
            return false;
        };
        // The last run starting at or before `seq`.
        let i = runs.partition_point(|&(a, _)| a <= seq);
        i > 0 && runs[i - 1].1 >= seq
    }

    /// Adds the runs a batch stored.
    pub fn add(&mut self, runs: &[(u16, u32, u32)]) {
        for &(v, a, b) in runs {
            let list = self.runs.entry(v).or_default();
            let i = list.partition_point(|&(x, _)| x < a);
            list.insert(i, (a, b));
        }
    }

    /// Every validator held, with its newest sequence number.
    pub fn newest_each(&self) -> impl Iterator<Item = (u16, u32)> + '_ {
        self.runs
            .iter()
            .filter_map(|(v, r)| r.iter().map(|&(_, b)| b).max().map(|b| (*v, b)))
    }

    /// The newest sequence number held for a validator.
    pub fn newest(&self, validator: u16) -> Option<u32> {
        self.runs
            .get(&validator)
            .and_then(|r| r.iter().map(|&(_, b)| b).max())
    }
}

/// Runs of consecutive sequence numbers in `keys`, which must be sorted by
/// (validator, seq) without repeats.
pub fn runs(keys: impl IntoIterator<Item = (u16, u32)>) -> Vec<(u16, u32, u32)> {
    let mut out: Vec<(u16, u32, u32)> = Vec::new();
    for (v, s) in keys {
        match out.last_mut() {
            Some((lv, _, last)) if *lv == v && last.checked_add(1) == Some(s) => *last = s,
            _ => out.push((v, s, s)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_consecutive_numbers_per_validator() {
        let keys = [
            (1, 0),
            (1, 1),
            (1, 2),
            (1, 5),
            (2, 3),
            (2, 4),
            (3, u32::MAX),
        ];
        assert_eq!(
            runs(keys),
            vec![(1, 0, 2), (1, 5, 5), (2, 3, 4), (3, u32::MAX, u32::MAX)]
        );
    }

    #[test]
    fn held_answers_at_the_edges_of_each_run() {
        let mut h = Held::default();
        h.runs.insert(7, vec![(0, 9), (20, 29)]);
        for (s, want) in [
            (0, true),
            (9, true),
            (10, false),
            (19, false),
            (20, true),
            (29, true),
            (30, false),
        ] {
            assert_eq!(h.contains(7, s), want, "seq {s}");
        }
        assert!(!h.contains(8, 0));
        assert_eq!(h.newest(7), Some(29));
    }
}
