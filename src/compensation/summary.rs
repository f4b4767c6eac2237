//! `kartka compensation` as one call: the month counted and priced, every
//! workbook the account may see written, and the summary the command
//! prints (per carrier and community, within the account's scope).

use std::path::{Path, PathBuf};

use super::Error;
use super::workbook::Books;
use crate::access::Scope;
use crate::config::Config;
use crate::home::Home;
use crate::lang::Lang;
use crate::registry::Registry;

#[derive(serde::Serialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub trips: i64,
    pub amount_kopecks: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_trips: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_kopecks: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cards_made: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_fees_kopecks: Option<i64>,
    pub file: Option<PathBuf>,
}

#[derive(serde::Serialize)]
pub struct Summary {
    pub month: String,
    pub accepted: i64,
    pub carriers: Vec<Line>,
    pub communities: Vec<Line>,
    pub total_trips: i64,
    pub total_kopecks: i64,
    pub held_trips: i64,
    pub held_kopecks: i64,
    pub city_file: PathBuf,
    pub compute_seconds: f64,
    pub write_seconds: f64,
}

/// Counts and prices `month`, writes its workbooks into `out` (those the
/// scope allows) and returns what the command reports.
pub fn run(
    home: &Home,
    reg: &Registry,
    config: &Config,
    month: &str,
    out: &Path,
    lang: Lang,
    scope: &Scope,
) -> Result<Summary, Error> {
    let started = std::time::Instant::now();
    let month = super::compute(home, reg, config, month)?;
    let compute_seconds = started.elapsed().as_secs_f64();
    let books = Books {
        month: &month,
        config,
        lang,
    };
    let written = books.write_all(out, scope)?;
    let write_seconds = started.elapsed().as_secs_f64() - compute_seconds;
    let file_of = |kind: &str, code: &str| {
        written
            .iter()
            .find(|w| w.kind == kind && w.code == code)
            .map(|w| w.path.clone())
    };
    let mut carriers = Vec::new();
    for id in month.carrier_ids() {
        if !scope.carriers.is_empty() && !id.is_some_and(|i| scope.carrier(i64::from(i))) {
            continue;
        }
        let t = month.carrier_totals(id);
        let code = books.carrier_code(id);
        carriers.push(Line {
            name: id
                .and_then(|i| month.carriers.get(&i))
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            file: file_of("carrier", &code),
            code,
            trips: t.trips,
            amount_kopecks: t.kopecks,
            held_trips: Some(t.held_trips),
            held_kopecks: Some(t.held_kopecks),
            cards_made: None,
            card_fees_kopecks: None,
        });
    }
    let mut communities = Vec::new();
    for w in written.iter().filter(|w| w.kind == "community") {
        let (mut n, mut a) = (0, 0);
        for c in month.paid().filter(|c| c.community == w.code) {
            n += c.trips;
            a += c.amount();
        }
        let fee = month.fees.get(&w.code).cloned().unwrap_or_default();
        communities.push(Line {
            name: config
                .communities
                .iter()
                .find(|c| c.code == w.code)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            code: w.code.clone(),
            trips: n,
            amount_kopecks: a,
            held_trips: None,
            held_kopecks: None,
            cards_made: Some(fee.cards),
            card_fees_kopecks: Some(fee.kopecks),
            file: Some(w.path.clone()),
        });
    }
    // A scoped account's count is its carriers' taps, counted or held.
    let accepted = if scope.is_all() {
        month.accepted
    } else {
        carriers
            .iter()
            .map(|c| c.trips + c.held_trips.unwrap_or(0))
            .sum()
    };
    Ok(Summary {
        month: month.month.clone(),
        accepted,
        total_trips: carriers.iter().map(|c| c.trips).sum(),
        total_kopecks: carriers.iter().map(|c| c.amount_kopecks).sum(),
        held_trips: carriers.iter().filter_map(|c| c.held_trips).sum(),
        held_kopecks: carriers.iter().filter_map(|c| c.held_kopecks).sum(),
        carriers,
        communities,
        city_file: file_of("city", &config.city.community).unwrap_or_default(),
        compute_seconds,
        write_seconds,
    })
}
