//! Suspicious taps (issue 7, P13, P19): `kartka taps flag` runs the rules
//! of `engine` over a month of the tap store, stores every flag with its
//! evidence under a stable id, prices the taps it holds, and writes the
//! analyst's workbook; `clear` and the review workbook record false
//! positives, which later runs keep.
//!
//! A flag id is `F-<validator>-<seq>`: the tap's own identity, so the same
//! tap has the same id in every run, on every machine and in the DuckDB
//! peer. A tap is *held* (not paid) while a rule that holds (its severity,
//! `rule::Severity::holds`) is not cleared on it, or an analyst held one of
//! its rules for review (`kartka taps hold`); a tap flagged for review
//! only is paid.

pub mod burst;
pub mod decisions;
pub mod engine;
pub mod evidence;
pub mod export;
pub mod network;
pub mod quality;
pub mod refs;
pub mod review;
pub mod rule;
pub mod settings;
pub mod spill;
pub mod store;
pub mod suspects;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;

pub use rule::{Rule, Severity};
pub use settings::FlagSettings;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("month {text:?} is not YYYY-MM.\n  Give the month as e.g. --month 2026-10.")]
    Month { text: String },
    #[error(
        "{month}: the store holds no taps for this month.\n  Dock the validators or import their dumps first (`kartka taps months` lists what is there)."
    )]
    NoTaps { month: String },
    #[error("{month}: no flags yet.\n  Run `kartka taps flag --month {month}` first.")]
    NotFlagged { month: String },
    #[error(
        "unknown flag id(s): {ids}.\n  Flag ids look like F-7-123 (validator 7, sequence 123); `kartka taps flag --month M --out flags.xlsx` lists them. Nothing was cleared."
    )]
    UnknownFlag { ids: String },
    #[error("{0}\n  Nothing was cleared.")]
    Refused(String),
    #[error(
        "unknown flag id(s): {ids}.\n  Flag ids look like F-7-123 (validator 7, sequence 123); `kartka taps flag --month M --out flags.xlsx` lists them. Nothing was held."
    )]
    HoldUnknown { ids: String },
    #[error("{0}\n  Nothing was held.")]
    HoldRefused(String),
    #[error("{path}: {problems} problem(s) in the review workbook; nothing was cleared:\n{list}")]
    Review {
        path: PathBuf,
        problems: usize,
        list: String,
    },
    #[error("{path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error(
        "{path}: {month}'s flags file is not the one its flag run recorded (SHA-256 {found}, recorded {recorded}); a run was interrupted or the file was changed, so no money is read from it.\n  Run `kartka taps flag --month {month}` again."
    )]
    NotRecorded {
        month: String,
        path: PathBuf,
        recorded: String,
        found: String,
    },
    #[error("{path}: no such file.\n  Check the path.")]
    Missing { path: PathBuf },
    #[error(
        "{path}: --out must end in .xlsx, .csv or .parquet.\n  Nothing was run; name the file again."
    )]
    OutKind { path: PathBuf },
    #[error("{path}: cannot write: {message}\n  Check the folder exists and is writable.")]
    Output { path: PathBuf, message: String },
    #[error("the rules failed: {0}")]
    Polars(String),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Access(#[from] crate::access::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Month { .. } | Error::OutKind { .. } => ExitCode::Usage,
            Error::NoTaps { .. } | Error::NotFlagged { .. } | Error::Missing { .. } => {
                ExitCode::NoInput
            }
            Error::UnknownFlag { .. }
            | Error::Refused(_)
            | Error::HoldUnknown { .. }
            | Error::HoldRefused(_)
            | Error::Review { .. }
            | Error::NotRecorded { .. }
            | Error::Unreadable { .. } => ExitCode::DataErr,
            Error::Output { .. } => ExitCode::CantCreate,
            Error::Polars(_) => ExitCode::Software,
            Error::Taps(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
            Error::Access(e) => e.exit_code(),
        }
    }
}

impl Error {
    pub fn polars(e: PolarsError) -> Error {
        Error::Polars(e.to_string())
    }
}

/// `YYYY-MM` as its first day.
pub fn parse_month(text: &str) -> Result<NaiveDate, Error> {
    crate::time::parse_month(text).ok_or_else(|| Error::Month { text: text.into() })
}

pub fn flag_id(validator: i32, seq: i64) -> String {
    format!("F-{validator}-{seq}")
}

/// `F-7-123` → (7, 123).
pub fn parse_flag_id(id: &str) -> Option<(i32, i64)> {
    let rest = id
        .trim()
        .strip_prefix("F-")
        .or_else(|| id.trim().strip_prefix("f-"))?;
    let (v, s) = rest.split_once('-')?;
    Some((v.parse().ok()?, s.parse().ok()?))
}

/// One flagged tap: every rule that fired on it, with the evidence.
#[derive(Debug, Clone)]
pub struct Flag {
    pub id: String,
    pub validator: i32,
    pub seq: i64,
    pub tapped_at_ms: i64,
    pub card: i64,
    pub uid: String,
    pub vehicle: i32,
    pub carrier: Option<i32>,
    pub route: i32,
    /// The tap's tariff zone, as the validator recorded it.
    pub zone: Option<i32>,
    pub trips: Option<i32>,
    /// What the tap is worth, priced by `tariff::fare_at` like every
    /// other trip (0 when no tariff covers it).
    pub fare_kopecks: i64,
    pub rules: Vec<Hit>,
}

/// One rule on one tap.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: Rule,
    pub other: Option<(i32, i64, i64)>,
    pub n: Option<i64>,
    pub x: Option<i64>,
    pub evidence_uk: String,
    pub evidence_en: String,
    /// An analyst's latest decision on this rule here was to clear it.
    pub cleared: bool,
    /// An analyst's latest decision on this rule here was to hold it
    /// (`kartka taps hold`).
    pub held: bool,
    /// The configuration suspect holding the tap (`S-<validator>-<day>`),
    /// on a `config_suspect` hit.
    pub suspect: Option<String>,
}

impl Flag {
    /// What prices the tap.
    pub fn trip(&self) -> crate::tariff::Trip {
        crate::tariff::Trip {
            route: self.route,
            carrier: self.carrier,
            zone: self.zone,
        }
    }

    /// Whether the tap is held (not paid): a rule of it holds.
    pub fn held(&self) -> bool {
        self.rules.iter().any(Hit::holds)
    }
    /// Whether the tap is flagged for review and paid: not held, and a
    /// review rule of it awaits an analyst's decision.
    pub fn for_review(&self) -> bool {
        !self.held() && self.rules.iter().any(Hit::for_review)
    }
    pub fn severity(&self) -> Severity {
        self.rules
            .iter()
            .map(|h| h.rule.severity())
            .max()
            .unwrap_or(Severity::Info)
    }
}

impl Hit {
    /// Whether this hit holds its tap: the analyst's latest decision on it,
    /// else its rule's severity.
    pub fn holds(&self) -> bool {
        store::holds(self.rule, self.cleared, self.held)
    }
    /// A review rule's hit no analyst has decided on.
    pub fn for_review(&self) -> bool {
        !self.rule.holds() && !self.cleared && !self.held
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RuleCount {
    pub number: u8,
    pub severity: &'static str,
    pub taps: usize,
    pub held: usize,
    pub held_kopecks: i64,
    /// Hits for review no analyst has decided on (paid).
    pub review: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub month: String,
    pub taps: usize,
    pub flagged: usize,
    pub held: usize,
    /// Taps flagged for review only (not held): paid unless an analyst
    /// holds them.
    pub review: usize,
    pub review_kopecks: i64,
    pub cleared: usize,
    pub held_kopecks: i64,
    pub by_rule: BTreeMap<&'static str, RuleCount>,
    /// Validator-days that point at the configuration, not at fraud: their
    /// taps are held as `config_suspect`.
    pub suspects: Vec<suspects::Suspect>,
    /// The route pairs the month's network explains quick changes on
    /// (rule 2): learnt hubs and `[[flags.transfers]]` entries.
    pub hubs: Vec<network::Hub>,
    /// Quick changes explained as breakdown transfers.
    pub breakdown_transfers: usize,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    pub seconds: f64,
}

pub struct Run {
    pub summary: Summary,
    pub flags: Vec<Flag>,
    pub cards: rustc_hash::FxHashMap<i64, refs::CardInfo>,
}

/// A `KARTKA_FLAG_TIMING` line: seconds since `started`, and the peak
/// resident memory so far (Linux).
fn timing_line(started: std::time::Instant, what: &str) {
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    eprintln!(
        "  {:>6.2} s  {what:<46} peak {peak}",
        started.elapsed().as_secs_f64()
    );
}

/// What the registry says of the cards of `flags` (names included).
pub fn card_info(
    reg: &Registry,
    flags: &[Flag],
) -> Result<rustc_hash::FxHashMap<i64, refs::CardInfo>, Error> {
    let mut numbers: Vec<i64> = flags.iter().map(|f| f.card).collect();
    numbers.sort_unstable();
    numbers.dedup();
    refs::card_info(reg, &numbers)
}

impl Run {
    /// Writes the run's review file to `path` (recorded on the summary),
    /// with each rule's precision over the months before.
    /// With `names`, it carries the holders' names of every flagged card,
    /// not only those whose state is evidence: the export is recorded in
    /// the audit trail first (K5) and the file is readable by its owner
    /// only.
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        home: &Home,
        reg: &mut Registry,
        settings: &FlagSettings,
        session: &crate::access::Session,
        path: &std::path::Path,
        lang: crate::lang::Lang,
        names: bool,
    ) -> Result<(), Error> {
        if names {
            self.cards = card_info(reg, &self.flags)?;
            let people: Vec<String> = self
                .cards
                .values()
                .map(|c| c.social_number.clone())
                .collect();
            session.record(
                reg,
                crate::audit::Outcome::Exported,
                &people,
                &format!("flags with holders' names → {}", path.display()),
            )?;
        }
        // The review workbook shows how each rule held up in the months
        // before (the analysts' clearings); a CSV or Parquet file does not.
        let quality = match out_kind(path) {
            Some("xlsx") => Some(quality::measure(
                home,
                reg,
                settings,
                quality::MONTHS,
                Some(&self.summary.month),
                &session.scope(),
            )?),
            _ => None,
        };
        export::write(
            path,
            &export::Export {
                flags: &self.flags,
                summary: &self.summary,
                cards: &self.cards,
                lang,
                names,
                quality: quality.as_ref(),
            },
        )?;
        self.summary.out = Some(path.to_path_buf());
        Ok(())
    }
}

/// Runs every rule over `month`, stores the flags and records the run
/// (the whole month's: the rules, the configuration and the clearings
/// decide them, whoever runs it). What is returned, and so shown and
/// written, is what `session`'s scope sees (`Run::within`).
pub fn flag(
    home: &Home,
    reg: &mut Registry,
    config: &Config,
    month: &str,
    session: &crate::access::Session,
    now_ms: i64,
) -> Result<Run, Error> {
    let operator = session.user.as_str();
    let started = std::time::Instant::now();
    let first = parse_month(month)?;
    let month = first.format("%Y-%m").to_string();
    let clock = engine::MonthClock::for_month(first);
    // The analysts' remembered decisions in force for the month: hubs and
    // routes' hours as settings, cards' clearings after the rules.
    let decided = decisions::in_force(reg, &month)?;
    let settings = decisions::settings(&config.flags, &decided);
    let th = engine::Thresholds::from_settings(&settings, config.dock.repeat_timeout_s);
    // Slices read the month a chunk of at most a quarter slice at a time.
    let chunk = u64::from(settings.taps_per_slice / 4).max(1000);
    let mut input: Vec<LazyFrame> = crate::taps::month::scan(home, reg, &month, chunk)?
        .into_iter()
        .map(|lf| engine::prepare(lf, false))
        .collect();
    if input.is_empty() {
        return Err(Error::NoTaps { month });
    }
    let from = clock.start_ms - th.context_ms();
    for before in crate::taps::month::tail(home, reg, first, from, chunk)? {
        input.push(engine::prepare(before, true));
    }
    let timing = std::env::var_os("KARTKA_FLAG_TIMING").is_some();
    let lap = |what: &str| {
        if timing {
            timing_line(started, what);
        }
    };
    let companions: Vec<String> = config
        .categories
        .iter()
        .filter(|c| c.companion)
        .map(|c| c.code.clone())
        .collect();
    let loaded = refs::load(reg, &settings, &companions, now_ms)?;
    lap("registry read");
    let slices = config
        .flags
        .slices(crate::taps::parquet::month_rows(reg, &month)?);
    if slices > 1 {
        // Sliced to bound memory: hand freed memory back to the kernel
        // between slices again (main keeps it, for speed).
        crate::memory::hand_back_freed(true);
    }
    let engine::Judged {
        taps: taps_read,
        hits,
        days,
    } = engine::run(
        &input,
        &loaded.refs,
        &th,
        &clock,
        slices,
        &home.root().join("flags").join(".spill"),
    )
    .map_err(Error::polars)?;
    let (hits, network) = network::judge(hits, &settings, &clock).map_err(Error::polars)?;
    let (cleared, analyst_held) = store::decisions(reg)?;
    // The card's state is evidence for these rules only (the others speak
    // of taps): look up just those cards.
    let state_rules = [
        Rule::CardBlocked,
        Rule::CardExpired,
        Rule::HolderDeceased,
        Rule::ClonedUid,
    ]
    .map(|r| r as i32);
    let numbers = (|| -> PolarsResult<Vec<i64>> {
        let rule = hits.column("rule")?.i32()?;
        let card = hits.column("card_number")?.i64()?;
        let mut numbers: Vec<i64> = rule
            .iter()
            .zip(card.iter())
            .filter(|(r, _)| r.is_some_and(|r| state_rules.contains(&r)))
            .filter_map(|(_, c)| c)
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    })()
    .map_err(Error::polars)?;
    let cards = refs::card_info(reg, &numbers)?;
    lap("card info");
    let mut flags = evidence::assemble(&hits, &cards, &th, &clock).map_err(Error::polars)?;
    drop(hits);
    network.describe(&mut flags);
    let fleet = suspects::Fleet::load(reg)?;
    let mut suspects =
        suspects::hold(&mut flags, &days, &settings, &fleet, &clock).map_err(Error::polars)?;
    for f in &mut flags {
        f.fare_kopecks = crate::tariff::fare_at(&config.tariffs, &f.trip(), f.tapped_at_ms);
        if let Some(rules) = cleared.get(&(f.validator, f.seq)) {
            for h in &mut f.rules {
                h.cleared = rules.contains(h.rule.code());
            }
        }
        if let Some(rules) = analyst_held.get(&(f.validator, f.seq)) {
            for h in &mut f.rules {
                h.held = rules.contains(h.rule.code());
            }
        }
    }
    decisions::clear_cards(reg, &decided, &mut flags)?;
    suspects::tally(&mut suspects, &flags);
    lap("evidence, configuration suspects");
    let summary = Summary {
        suspects,
        hubs: network.hubs,
        breakdown_transfers: network.breakdowns,
        ..summarise(&month, taps_read, &flags)
    };
    let (file, sha) = store::write(home, &month, &flags)?;
    crate::failpoint::hit("flags-before-record");
    store::record_run(reg, &summary, &file, &sha, operator, &settings, &th)?;
    lap("stored");
    let mut run = Run {
        summary: Summary {
            file,
            seconds: started.elapsed().as_secs_f64(),
            ..summary
        },
        flags,
        cards,
    };
    let scope = session.scope();
    if let Some(filter) = scope.tap_filter() {
        let taps = crate::taps::month::count_where(home, reg, &month, true, filter)?;
        run.within(&scope, taps);
    }
    Ok(run)
}

impl Run {
    /// Cuts the run to what `scope` sees: its flags, the configuration
    /// suspects holding them, and every count over them alone, `taps`
    /// being the month's accepted taps the scope covers.
    pub fn within(&mut self, scope: &crate::access::Scope, taps: usize) {
        self.flags
            .retain(|f| scope.sees(f.carrier.map(i64::from), Some(f.route)));
        let held_by: rustc_hash::FxHashSet<&str> = self
            .flags
            .iter()
            .flat_map(|f| f.rules.iter().filter_map(|h| h.suspect.as_deref()))
            .collect();
        let mut suspects = std::mem::take(&mut self.summary.suspects);
        suspects.retain(|x| held_by.contains(x.id.as_str()));
        // A month's cause may span carriers (a route): the validators the
        // scope sees.
        let mut seen: rustc_hash::FxHashMap<&str, std::collections::BTreeSet<i32>> =
            rustc_hash::FxHashMap::default();
        for f in &self.flags {
            for id in f.rules.iter().filter_map(|h| h.suspect.as_deref()) {
                seen.entry(id).or_default().insert(f.validator);
            }
        }
        for x in &mut suspects {
            if let Some(v) = seen.get(x.id.as_str()) {
                x.validators = v.iter().copied().collect();
                x.validator = x.validators[0];
            }
        }
        suspects::tally(&mut suspects, &self.flags);
        let cards: rustc_hash::FxHashSet<i64> = self.flags.iter().map(|f| f.card).collect();
        self.cards.retain(|n, _| cards.contains(n));
        let s = &self.summary;
        self.summary = Summary {
            suspects,
            hubs: s.hubs.clone(),
            breakdown_transfers: s.breakdown_transfers,
            file: s.file.clone(),
            out: s.out.clone(),
            seconds: s.seconds,
            ..summarise(&s.month, taps, &self.flags)
        };
    }
}

/// Counts the flags by rule. The kopecks held cannot overflow: each
/// fare is at most `money::MAX_FARE` (kartka.toml is checked), so a sum
/// past an `i64` would take 9 × 10^12 flags in memory.
pub fn summarise(month: &str, taps: usize, flags: &[Flag]) -> Summary {
    let mut by_rule: BTreeMap<&'static str, RuleCount> = rule::ALL
        .iter()
        .map(|r| {
            (
                r.code(),
                RuleCount {
                    number: r.number(),
                    severity: r.severity().code(),
                    ..RuleCount::default()
                },
            )
        })
        .collect();
    let mut s = Summary {
        month: month.into(),
        taps,
        flagged: flags.len(),
        ..Summary::default()
    };
    for f in flags {
        let held = f.held();
        if held {
            s.held += 1;
            s.held_kopecks += f.fare_kopecks;
        } else if f.for_review() {
            s.review += 1;
            s.review_kopecks += f.fare_kopecks;
        } else {
            s.cleared += 1;
        }
        for h in &f.rules {
            let c = by_rule.get_mut(h.rule.code()).expect("every rule listed");
            c.taps += 1;
            if h.holds() {
                c.held += 1;
                c.held_kopecks += f.fare_kopecks;
            } else if h.for_review() {
                c.review += 1;
            }
        }
    }
    s.by_rule = by_rule;
    s
}

/// Path of a month's flag file, relative to the home.
pub fn file_of(month: &str) -> String {
    format!("flags/month={month}/flags.parquet")
}

pub fn out_kind(path: &Path) -> Option<&'static str> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("xlsx") => Some("xlsx"),
        Some("csv") => Some("csv"),
        Some("parquet") => Some("parquet"),
        _ => None,
    }
}
