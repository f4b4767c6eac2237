//! The approved benefit budget (`[[budget]]` in kartka.toml, K3): an
//! amount per year for the city or a partner community (P18), optionally
//! for one category, dated like every other parameter: a later `approved`
//! entry for the same year, community and category replaces the earlier
//! one from its date (an amended budget).

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub year: i32,
    /// КАТОТТГ code of the paying community; the city's own when omitted.
    #[serde(default)]
    pub community: Option<String>,
    /// A category code; the community's whole line when omitted.
    #[serde(default)]
    pub category: Option<String>,
    pub amount_kopecks: i64,
    /// The day the amount was approved; it is in force from then on (the
    /// first of January of an earlier year when omitted).
    #[serde(default)]
    pub approved: Option<NaiveDate>,
}

impl Budget {
    /// The community the entry is for, the city's when it names none.
    pub fn community_or<'a>(&'a self, city: &'a str) -> &'a str {
        self.community.as_deref().unwrap_or(city)
    }
}

/// Checks the entries against the configuration's communities and
/// categories.
pub fn check(
    list: &[Budget],
    communities: &[&str],
    categories: &[&str],
    city: &str,
) -> Result<(), String> {
    for b in list {
        let at = format!("[[budget]] year {}", b.year);
        if !(2000..=2100).contains(&b.year) {
            return Err(format!("{at}: the year must be 2000 to 2100"));
        }
        if b.amount_kopecks <= 0 {
            return Err(format!(
                "{at}: amount_kopecks must be above 0 (UAH 157.8 million is 15780000000)"
            ));
        }
        if let Some(m) = crate::money::over(
            "amount_kopecks",
            i128::from(b.amount_kopecks),
            crate::money::MAX_AMOUNT,
        ) {
            return Err(format!("{at}: {m}"));
        }
        let c = b.community_or(city);
        if c != city && !communities.contains(&c) {
            return Err(format!(
                "{at}: community {c:?} is not one of [[communities]] ({})",
                communities.join(", ")
            ));
        }
        if let Some(cat) = &b.category
            && !categories.contains(&cat.as_str())
        {
            return Err(format!(
                "{at}: category {cat:?} is not one of [[categories]] ({})",
                categories.join(", ")
            ));
        }
    }
    Ok(())
}

/// The amount in force on `as_of` for `year`, `community` and `category`
/// (`None`: the community's whole line): the latest approved entry.
pub fn plan(
    list: &[Budget],
    city: &str,
    year: i32,
    community: &str,
    category: Option<&str>,
    as_of: NaiveDate,
) -> Option<i64> {
    list.iter()
        .filter(|b| {
            b.year == year
                && b.community_or(city) == community
                && b.category.as_deref() == category
                && b.approved.is_none_or(|d| d <= as_of)
        })
        .max_by_key(|b| b.approved)
        .map(|b| b.amount_kopecks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(year: i32, community: Option<&str>, approved: Option<&str>, amount: i64) -> Budget {
        Budget {
            year,
            community: community.map(str::to_string),
            category: None,
            amount_kopecks: amount,
            approved: approved.map(|d| d.parse().unwrap()),
        }
    }

    #[test]
    fn the_latest_approved_amount_is_in_force() {
        let list = vec![
            b(2027, None, Some("2026-12-20"), 100),
            b(2027, None, Some("2027-06-01"), 120),
            b(2027, Some("UA2"), None, 50),
        ];
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            plan(&list, "UA1", 2027, "UA1", None, d("2027-03-01")),
            Some(100)
        );
        assert_eq!(
            plan(&list, "UA1", 2027, "UA1", None, d("2027-06-01")),
            Some(120)
        );
        assert_eq!(plan(&list, "UA1", 2027, "UA1", None, d("2026-12-01")), None);
        assert_eq!(
            plan(&list, "UA1", 2027, "UA2", None, d("2027-01-01")),
            Some(50)
        );
        assert_eq!(plan(&list, "UA1", 2026, "UA1", None, d("2027-01-01")), None);
    }

    #[test]
    fn bad_entries_are_named() {
        let e = check(&[b(2027, Some("UA9"), None, 5)], &["UA2"], &[], "UA1").unwrap_err();
        assert!(e.contains("community \"UA9\""), "{e}");
        let e = check(&[b(2027, None, None, 0)], &[], &[], "UA1").unwrap_err();
        assert!(e.contains("amount_kopecks must be above 0"), "{e}");
        assert_eq!(check(&[b(2027, None, None, 5)], &[], &[], "UA1"), Ok(()));
    }
}
