//! Cell suppression (K6): which published numbers are withheld so that no
//! one learns a small group's trips, neither from a cell nor from the
//! totals around it.
//!
//! The release is a set of quantities (each table's cells and margins) tied
//! by linear relations that anyone can write down: a route's monthly total
//! is the sum of its hours and also the sum of its category groups, the
//! month's total is the sum of every table, and so on. A quantity whose
//! distinct cards are fewer than `min_cell` (and not zero) is suppressed
//! (**primary**). Then, as statistical offices do (the "hypercube" rule of
//! τ-ARGUS), every relation that would otherwise give a suppressed number
//! away gets a second suppressed member (**complementary**), the smallest
//! one; and because chains of relations can still pin a number down, the
//! pattern is checked exactly at the end: a suppressed quantity is exposed
//! when the published numbers and the relations determine it, that is when
//! its unit vector lies in the row space of the relations restricted to the
//! suppressed quantities (Gaussian elimination modulo a 61-bit prime; the
//! relations' coefficients are 0 and ±1). Exposed ones get another
//! complement, until none is.

/// One number the release would publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quantity {
    pub trips: i64,
    /// Distinct cards behind the number.
    pub cards: i64,
    /// Published unless nothing else can protect a cell (a month's total:
    /// it is the figure `kartka report` gives).
    pub keep: bool,
}

/// `Σ left = Σ right`, over indices of the quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub left: Vec<usize>,
    pub right: Vec<usize>,
}

impl Relation {
    /// `total = Σ parts`.
    pub fn sum(total: usize, parts: Vec<usize>) -> Relation {
        Relation {
            left: vec![total],
            right: parts,
        }
    }
    fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.left.iter().chain(self.right.iter()).copied()
    }
}

/// Why a number is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Why {
    /// Fewer than `min_cell` distinct cards.
    Small,
    /// Withheld so a small one cannot be worked out from the totals.
    Complement,
}

/// The suppression pattern of `q` under `relations`.
pub fn suppress(q: &[Quantity], relations: &[Relation], min_cell: i64) -> Vec<Option<Why>> {
    let mut s: Vec<Option<Why>> = q
        .iter()
        .map(|x| (x.trips > 0 && x.cards < min_cell).then_some(Why::Small))
        .collect();
    loop {
        lines(q, relations, &mut s);
        let pinned = pinned(q, relations, &s);
        if pinned.is_empty() {
            return s;
        }
        let mut changed = false;
        for (_, witnesses) in pinned {
            // The relations that pin it down add up to it and to these
            // published numbers: withholding one of them (the smallest,
            // a month's total last) breaks that sum. A later round finds
            // any other sum that still pins it.
            if witnesses.iter().any(|&m| s[m].is_some()) {
                continue; // broken already this round
            }
            let best = witnesses
                .iter()
                .copied()
                .min_by_key(|&m| (q[m].keep, q[m].trips == 0, q[m].trips, m));
            if let Some(m) = best {
                s[m] = Some(Why::Complement);
                changed = true;
            }
        }
        if !changed {
            // Only numbers that do not add up could get here: withhold
            // everything rather than publish what gives someone away.
            for x in s.iter_mut().filter(|x| x.is_none()) {
                *x = Some(Why::Complement);
            }
            return s;
        }
    }
}

/// The line rule: a relation with exactly one withheld member gives it
/// away; withhold a second, the smallest non-zero, until none has one.
fn lines(q: &[Quantity], relations: &[Relation], s: &mut [Option<Why>]) {
    loop {
        let mut changed = false;
        for r in relations {
            let hidden = r.members().filter(|&m| s[m].is_some()).count();
            if hidden != 1 {
                continue;
            }
            let best = r
                .members()
                .filter(|&m| s[m].is_none() && q[m].trips > 0)
                .min_by_key(|&m| (q[m].keep, q[m].trips, m));
            if let Some(m) = best {
                s[m] = Some(Why::Complement);
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

fn sub(a: u64, b: u64) -> u64 {
    (a + P - b) % P
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(p-2).
    let (mut base, mut e, mut out) = (a, P - 2, 1u64);
    while e > 0 {
        if e & 1 == 1 {
            out = mul(out, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    out
}

/// The withheld quantities with trips that the published ones and the
/// relations determine exactly (a hidden zero that is worked out gives no
/// one away).
pub fn exposed(q: &[Quantity], relations: &[Relation], s: &[Option<Why>]) -> Vec<usize> {
    pinned(q, relations, s)
        .into_iter()
        .map(|(i, _)| i)
        .collect()
}

/// Each exposed quantity with its witnesses: the published quantities in
/// the sum of relations that determines it.
fn pinned(q: &[Quantity], relations: &[Relation], s: &[Option<Why>]) -> Vec<(usize, Vec<usize>)> {
    let hidden: Vec<usize> = (0..s.len()).filter(|&i| s[i].is_some()).collect();
    if hidden.is_empty() {
        return Vec::new();
    }
    let mut column = vec![usize::MAX; s.len()];
    for (c, &i) in hidden.iter().enumerate() {
        column[i] = c;
    }
    // Only the relations with a withheld member say anything about them.
    let used: Vec<&Relation> = relations
        .iter()
        .filter(|r| r.members().any(|m| s[m].is_some()))
        .collect();
    let (n, e) = (hidden.len(), used.len());
    // Each row: its coefficients over the hidden quantities, then which
    // relations it sums (an identity to begin with).
    let mut rows: Vec<Vec<u64>> = used
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut row = vec![0u64; n + e];
            for &m in &r.left {
                if column[m] != usize::MAX {
                    row[column[m]] = (row[column[m]] + 1) % P;
                }
            }
            for &m in &r.right {
                if column[m] != usize::MAX {
                    row[column[m]] = sub(row[column[m]], 1);
                }
            }
            row[n + k] = 1;
            row
        })
        .collect();
    // Reduced row echelon form over the hidden columns.
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    let mut top = 0;
    for c in 0..n {
        if top == rows.len() {
            break;
        }
        let Some(p) = (top..rows.len()).find(|&r| rows[r][c] != 0) else {
            continue;
        };
        rows.swap(top, p);
        let inv = inverse(rows[top][c]);
        for v in rows[top].iter_mut() {
            *v = mul(*v, inv);
        }
        let pivot_row = rows[top].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != top && row[c] != 0 {
                let f = row[c];
                for (v, &pv) in row.iter_mut().zip(pivot_row.iter()) {
                    if pv != 0 {
                        *v = sub(*v, mul(f, pv));
                    }
                }
            }
        }
        pivots.push((top, c));
        top += 1;
    }
    let mut out = Vec::new();
    for (r, c) in pivots {
        let i = hidden[c];
        if q[i].trips == 0
            || rows[r][..n]
                .iter()
                .enumerate()
                .any(|(k, &v)| k != c && v != 0)
        {
            continue;
        }
        // The relations' sum over every quantity: its published members
        // are what give `i` away.
        let mut total: std::collections::BTreeMap<usize, u64> = Default::default();
        for (k, rel) in used.iter().enumerate() {
            let a = rows[r][n + k];
            if a == 0 {
                continue;
            }
            for &m in &rel.left {
                let v = total.entry(m).or_insert(0);
                *v = (*v + a) % P;
            }
            for &m in &rel.right {
                let v = total.entry(m).or_insert(0);
                *v = sub(*v, a);
            }
        }
        let witnesses = total
            .into_iter()
            .filter(|&(m, v)| v != 0 && s[m].is_none())
            .map(|(m, _)| m)
            .collect();
        out.push((i, witnesses));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(trips: i64, cards: i64) -> Quantity {
        Quantity {
            trips,
            cards,
            keep: false,
        }
    }

    /// A table `cells` (rows × cols) with its row and column totals and
    /// the grand total, as quantities and relations.
    fn table(cells: &[Vec<(i64, i64)>]) -> (Vec<Quantity>, Vec<Relation>) {
        let (nr, nc) = (cells.len(), cells[0].len());
        let mut out: Vec<Quantity> = Vec::new();
        for row in cells {
            out.extend(row.iter().map(|&(t, c)| q(t, c)));
        }
        let cell = |r: usize, c: usize| r * nc + c;
        let row0 = out.len();
        for row in cells {
            let t = row.iter().map(|x| x.0).sum();
            let c = row.iter().map(|x| x.1).sum();
            out.push(q(t, c));
        }
        let col0 = out.len();
        for c in 0..nc {
            out.push(q(
                cells.iter().map(|r| r[c].0).sum(),
                cells.iter().map(|r| r[c].1).sum(),
            ));
        }
        let g = out.len();
        out.push(Quantity {
            keep: true,
            ..q(
                cells.iter().flatten().map(|x| x.0).sum(),
                cells.iter().flatten().map(|x| x.1).sum(),
            )
        });
        let mut rel = Vec::new();
        for r in 0..nr {
            rel.push(Relation::sum(
                row0 + r,
                (0..nc).map(|c| cell(r, c)).collect(),
            ));
        }
        for c in 0..nc {
            rel.push(Relation::sum(
                col0 + c,
                (0..nr).map(|r| cell(r, c)).collect(),
            ));
        }
        rel.push(Relation::sum(g, (0..nr).map(|r| row0 + r).collect()));
        rel.push(Relation::sum(g, (0..nc).map(|c| col0 + c).collect()));
        (out, rel)
    }

    #[test]
    fn a_lone_small_cell_gets_complements_in_its_row_and_column() {
        let (qs, rel) = table(&[
            vec![(50, 20), (40, 15), (30, 12)],
            vec![(3, 1), (60, 25), (45, 18)],
            vec![(70, 30), (35, 14), (80, 33)],
        ]);
        let s = suppress(&qs, &rel, 10);
        assert_eq!(s[3], Some(Why::Small));
        assert!(exposed(&qs, &rel, &s).is_empty());
        // Row 1 and column 0 each hide a second cell.
        assert!([4, 5].iter().any(|&i| s[i].is_some()), "{s:?}");
        assert!([0, 6].iter().any(|&i| s[i].is_some()), "{s:?}");
        // The grand total stays published.
        assert_eq!(s[qs.len() - 1], None);
    }

    #[test]
    fn two_small_cells_in_a_line_are_not_enough_when_a_chain_gives_one_away() {
        // 2 × 2 with margins: hiding a and b of row 0 only leaves column
        // totals that give each away: the exact check must catch it.
        let (qs, rel) = table(&[vec![(5, 2), (6, 3)], vec![(40, 20), (50, 25)]]);
        let s = suppress(&qs, &rel, 10);
        assert!(s[0].is_some() && s[1].is_some());
        assert!(exposed(&qs, &rel, &s).is_empty(), "{s:?}");
    }

    #[test]
    fn exposed_finds_a_cell_pinned_by_its_row() {
        let (qs, rel) = table(&[vec![(5, 2), (60, 30)], vec![(40, 20), (50, 25)]]);
        let mut s = vec![None; qs.len()];
        s[0] = Some(Why::Small);
        assert_eq!(exposed(&qs, &rel, &s), vec![0]);
        s[1] = Some(Why::Complement);
        s[2] = Some(Why::Complement);
        s[3] = Some(Why::Complement);
        assert!(exposed(&qs, &rel, &s).is_empty());
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let (qs, rel) = table(&[vec![(50, 20), (60, 30)], vec![(40, 20), (50, 25)]]);
        assert!(suppress(&qs, &rel, 10).iter().all(Option::is_none));
    }

    proptest! {
        /// Every small non-zero number is withheld, and no withheld number
        /// can be worked out from what is published.
        #[test]
        fn no_small_number_shows_and_none_can_be_worked_out(
            cells in proptest::collection::vec(
                proptest::collection::vec((0i64..40, 0i64..25), 4),
                1..6,
            )
        ) {
            // Cards never exceed trips, and a number with trips has a card.
            let cells: Vec<Vec<(i64, i64)>> = cells
                .into_iter()
                .map(|r| r.into_iter().map(|(t, c)| (t, if t == 0 { 0 } else { c.clamp(1, t) })).collect())
                .collect();
            let (qs, rel) = table(&cells);
            let s = suppress(&qs, &rel, 10);
            for (i, x) in qs.iter().enumerate() {
                if x.trips > 0 && x.cards < 10 {
                    prop_assert!(s[i].is_some(), "quantity {} ({:?}) shows", i, x);
                }
            }
            prop_assert!(exposed(&qs, &rel, &s).is_empty());
        }
    }
}
