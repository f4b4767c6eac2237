//! Each rule's precision, measured from the analysts' own decisions
//! (issue 20). A clearing is an adjudicated false positive; a flag left
//! standing counts as kept. Over a month's latest flags, per rule: how
//! many taps it flagged, how many of those were cleared for it, how many
//! kept, and kept / flagged. A rule under `[flags]
//! quality_min_precision_pct` (with at least `quality_min_flags` flags) is
//! a rule to look at before its flags are believed.

use super::{Error, FlagSettings, Rule, rule, store};
use crate::home::Home;
use crate::registry::Registry;

/// The months a review workbook's precision table counts.
pub const MONTHS: usize = 3;

/// One rule's record over the months judged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleQuality {
    pub rule: &'static str,
    pub number: u8,
    /// `hold` (or `info`): its hits hold the tap; `review`: paid unless an
    /// analyst holds them.
    pub severity: &'static str,
    pub flagged: u64,
    pub cleared: u64,
    pub kept: u64,
    /// kept / flagged; `None` when it flagged nothing.
    pub precision: Option<f64>,
    /// Under the configured threshold, with enough flags to tell.
    pub below: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Quality {
    /// The flagged months counted, oldest first.
    pub months: Vec<String>,
    pub rules: Vec<RuleQuality>,
    pub min_precision_pct: u32,
    pub min_flags: u32,
}

impl Quality {
    /// The rules under the threshold.
    pub fn below(&self) -> impl Iterator<Item = &RuleQuality> {
        self.rules.iter().filter(|r| r.below)
    }
}

/// The last `months` flagged months (before `before`, a YYYY-MM, when
/// given: a month's own fresh flags are not yet adjudicated), every rule in
/// the rule table's order, over the flags `scope` sees.
pub fn measure(
    home: &Home,
    reg: &Registry,
    settings: &FlagSettings,
    months: usize,
    before: Option<&str>,
    scope: &crate::access::Scope,
) -> Result<Quality, Error> {
    let mut all = store::flagged_months(reg)?;
    if let Some(b) = before {
        all.retain(|m| m.as_str() < b);
    }
    let chosen: Vec<String> = all.split_off(all.len().saturating_sub(months));
    let cleared = store::clearings(reg)?;
    let mut counts = [(0u64, 0u64); rule::ALL.len()];
    for month in &chosen {
        let owners = match scope.is_all() {
            true => Default::default(),
            false => store::owners(home, reg, month)?,
        };
        let sees = |v: i32, seq: i64| {
            scope.is_all()
                || owners.get(&(v, seq)).is_some_and(|(carrier, route)| {
                    scope.sees(carrier.map(i64::from), Some(*route))
                })
        };
        for (v, seq, code) in store::read(home, reg, month)? {
            if !sees(v, seq) {
                continue;
            }
            let Some(r) = Rule::from_code(&code) else {
                continue;
            };
            let slot = &mut counts[rule::ALL.iter().position(|x| *x == r).unwrap_or(0)];
            slot.0 += 1;
            if cleared.get(&(v, seq)).is_some_and(|c| c.contains(&code)) {
                slot.1 += 1;
            }
        }
    }
    let rules = rule::ALL
        .iter()
        .zip(counts)
        .map(|(r, (flagged, cleared))| {
            let kept = flagged - cleared;
            let precision = (flagged > 0).then(|| kept as f64 / flagged as f64);
            RuleQuality {
                rule: r.code(),
                number: r.number(),
                severity: r.severity().code(),
                flagged,
                cleared,
                kept,
                precision,
                below: flagged >= u64::from(settings.quality_min_flags)
                    && kept * 100 < flagged * u64::from(settings.quality_min_precision_pct),
            }
        })
        .collect();
    Ok(Quality {
        months: chosen,
        rules,
        min_precision_pct: settings.quality_min_precision_pct,
        min_flags: settings.quality_min_flags,
    })
}
