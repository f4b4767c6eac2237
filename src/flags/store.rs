//! Where flags live: a month's flags as one Parquet file
//! (`flags/month=M/flags.parquet`, one row per tap and rule, replaced whole
//! by each run, written the durable way), each run in `flag_runs`, and
//! every analyst's decision (a clearing or a hold) in `flag_clearings`,
//! which outlives the runs.

use polars::prelude::*;
use rusqlite::params;
use rustc_hash::{FxHashMap, FxHashSet};

use super::engine::Thresholds;
use super::{Error, Flag, FlagSettings, Rule, Summary, file_of, flag_id, parse_flag_id};
use crate::home::Home;
use crate::registry::Registry;

/// The flags as a frame, one row per (tap, rule).
pub fn frame(flags: &[Flag], with_review: bool) -> PolarsResult<DataFrame> {
    let rows: Vec<(&Flag, &super::Hit)> = flags
        .iter()
        .flat_map(|f| f.rules.iter().map(move |h| (f, h)))
        .collect();
    let n = rows.len();
    let s = |name: &str, v: Vec<String>| -> Column { Series::new(name.into(), v).into() };
    let mut cols: Vec<Column> = vec![
        s("flag_id", rows.iter().map(|r| r.0.id.clone()).collect()),
        Series::new(
            "validator_id".into(),
            rows.iter().map(|r| r.0.validator).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "seq".into(),
            rows.iter().map(|r| r.0.seq).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "tapped_at".into(),
            rows.iter().map(|r| r.0.tapped_at_ms).collect::<Vec<_>>(),
        )
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into(),
        Series::new(
            "card_number".into(),
            rows.iter().map(|r| r.0.card).collect::<Vec<_>>(),
        )
        .into(),
        s("card_uid", rows.iter().map(|r| r.0.uid.clone()).collect()),
        Series::new(
            "vehicle_id".into(),
            rows.iter().map(|r| r.0.vehicle).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "carrier_id".into(),
            rows.iter().map(|r| r.0.carrier).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "route".into(),
            rows.iter().map(|r| r.0.route).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "tariff_zone".into(),
            rows.iter().map(|r| r.0.zone).collect::<Vec<_>>(),
        )
        .into(),
        s(
            "rule",
            rows.iter().map(|r| r.1.rule.code().into()).collect(),
        ),
        Series::new(
            "rule_number".into(),
            rows.iter()
                .map(|r| i32::from(r.1.rule.number()))
                .collect::<Vec<_>>(),
        )
        .into(),
        s(
            "severity",
            rows.iter()
                .map(|r| r.1.rule.severity().code().into())
                .collect(),
        ),
        s(
            "evidence",
            rows.iter().map(|r| r.1.evidence_uk.clone()).collect(),
        ),
        s(
            "evidence_en",
            rows.iter().map(|r| r.1.evidence_en.clone()).collect(),
        ),
        Series::new(
            "other_flag_id".into(),
            rows.iter()
                .map(|r| r.1.other.map(|o| flag_id(o.0, o.1)))
                .collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "count".into(),
            rows.iter().map(|r| r.1.n).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "fare_kopecks".into(),
            rows.iter().map(|r| r.0.fare_kopecks).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "suspect_id".into(),
            rows.iter()
                .map(|r| r.1.suspect.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .into(),
    ];
    if with_review {
        cols.push(
            Series::new(
                "cleared".into(),
                rows.iter().map(|r| r.1.cleared).collect::<Vec<_>>(),
            )
            .into(),
        );
        cols.push(
            Series::new(
                "held".into(),
                rows.iter().map(|r| r.0.held()).collect::<Vec<_>>(),
            )
            .into(),
        );
        cols.push(
            Series::new(
                "review".into(),
                rows.iter().map(|r| r.0.for_review()).collect::<Vec<_>>(),
            )
            .into(),
        );
    }
    DataFrame::new(n, cols)
}

pub fn parquet_bytes(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)?;
    Ok(buf)
}

/// Writes the month's flag file; returns its path (relative) and SHA-256.
pub fn write(home: &Home, month: &str, flags: &[Flag]) -> Result<(String, String), Error> {
    let rel = file_of(month);
    let path = home.root().join(&rel);
    let mut df = frame(flags, false).map_err(Error::polars)?;
    let bytes = parquet_bytes(&mut df).map_err(Error::polars)?;
    let dir = path.parent().expect("a folder").to_path_buf();
    let (_, sha) = crate::taps::write_durably(&dir, "flags.parquet", &bytes)?;
    Ok((rel, sha))
}

pub fn record_run(
    reg: &Registry,
    s: &Summary,
    file: &str,
    sha: &str,
    operator: &str,
    settings: &FlagSettings,
    th: &Thresholds,
) -> Result<(), Error> {
    let used = serde_json::json!({
        "repeat_timeout_s": th.repeat_ms / 1000,
        "transfer_min_s": settings.transfer_min_s,
        "burst_cards": settings.burst_cards,
        "burst_window_s": settings.burst_window_s,
        "burst_gap_s": settings.burst_gap_s,
        "burst_even_pct": settings.burst_even_pct,
        "single_vehicle_min_taps": settings.single_vehicle_min_taps,
        "daily_max": settings.daily_max,
        "service_start": settings.service_start,
        "service_end": settings.service_end,
        "service_tolerance_min": settings.service_tolerance_min,
        "clock_tolerance_s": settings.clock_tolerance_s,
        "routes": settings.routes.iter().map(|r| serde_json::json!({"route": r.route, "start": r.start, "end": r.end})).collect::<Vec<_>>(),
        "trip_limits": settings.trip_limits.iter().map(|l| serde_json::json!({"category": l.category, "per_month": l.per_month})).collect::<Vec<_>>(),
    });
    reg.conn()
        .execute(
            "INSERT INTO flag_runs (month, at, operator, taps, flagged, held, held_kopecks, file, sha256, settings, tap_file_max)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, (SELECT max(id) FROM tap_files WHERE month = ?1))",
            params![
                s.month,
                crate::time::now_utc_text(),
                operator,
                s.taps as i64,
                s.flagged as i64,
                s.held as i64,
                s.held_kopecks,
                file,
                sha,
                used.to_string()
            ],
        )
        .map_err(|e| reg.err(e))?;
    Ok(())
}

/// Each tap's rules an analyst's latest decision names.
pub type Decided = FxHashMap<(i32, i64), FxHashSet<String>>;

/// An analyst's decision on a flagged tap's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A false positive: paid.
    Clear,
    /// A case for review confirmed: not paid.
    Hold,
}

impl Decision {
    fn code(self) -> &'static str {
        match self {
            Decision::Clear => "clear",
            Decision::Hold => "hold",
        }
    }
}

/// Whether a hit of `rule` holds its tap, given the analyst's latest
/// decision on it (cleared, held) or none: the one place that says what
/// is paid.
pub fn holds(rule: Rule, cleared: bool, held: bool) -> bool {
    held || (!cleared && rule.holds())
}

/// The rules cleared on each tap (the latest decision on them).
pub fn clearings(reg: &Registry) -> Result<Decided, Error> {
    Ok(decisions(reg)?.0)
}

/// The analysts' latest decision on each tap's rules: the rules cleared,
/// and the rules held.
pub fn decisions(reg: &Registry) -> Result<(Decided, Decided), Error> {
    let mut stmt = reg
        .conn()
        .prepare("SELECT validator, seq, rules, decision FROM flag_clearings ORDER BY id")
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(|e| reg.err(e))?;
    let mut cleared = Decided::default();
    let mut held = Decided::default();
    for r in rows {
        let (v, s, rules, decision) = r.map_err(|e| reg.err(e))?;
        let (to, from) = match decision.as_str() {
            "hold" => (&mut held, &mut cleared),
            _ => (&mut cleared, &mut held),
        };
        for rule in rules.split(',') {
            to.entry((v, s)).or_default().insert(rule.to_string());
            if let Some(f) = from.get_mut(&(v, s)) {
                f.remove(rule);
            }
        }
    }
    Ok((cleared, held))
}

/// Whether the `code` hit on tap `key` holds it, by `decided` (rules
/// unknown to this build hold).
fn row_holds(decided: &(Decided, Decided), key: (i32, i64), code: &str) -> bool {
    let cleared = decided.0.get(&key).is_some_and(|c| c.contains(code));
    let held = decided.1.get(&key).is_some_and(|c| c.contains(code));
    Rule::from_code(code).is_none_or(|r| holds(r, cleared, held))
}

/// The month's latest flag file, read only when its bytes are the ones its
/// run recorded (a crash between writing the file and recording the run,
/// or an edit, leaves a file the registry never vouched for). `None` when
/// the month was never flagged.
pub fn recorded(home: &Home, reg: &Registry, month: &str) -> Result<Option<DataFrame>, Error> {
    let Some(run) = latest_run(reg, month)? else {
        return Ok(None);
    };
    let path = home.root().join(&run.file);
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing { path: path.clone() },
        _ => Error::Unreadable {
            path: path.clone(),
            message: e.to_string(),
        },
    })?;
    let found = crate::taps::sha256_hex(&bytes);
    if found != run.sha256 {
        return Err(Error::NotRecorded {
            month: month.into(),
            path,
            recorded: run.sha256,
            found,
        });
    }
    ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map(Some)
        .map_err(|e| Error::Unreadable {
            path,
            message: e.to_string(),
        })
}

/// `recorded`, for a month that must have been flagged.
fn recorded_or_not_flagged(home: &Home, reg: &Registry, month: &str) -> Result<DataFrame, Error> {
    recorded(home, reg, month)?.ok_or_else(|| Error::NotFlagged {
        month: month.into(),
    })
}

/// The (validator, seq, rule) rows of a month's latest flags.
pub fn read(home: &Home, reg: &Registry, month: &str) -> Result<Vec<(i32, i64, String)>, Error> {
    let df = recorded_or_not_flagged(home, reg, month)?;
    let path = home.root().join(file_of(month));
    let bad = |e: PolarsError| Error::Unreadable {
        path: path.clone(),
        message: e.to_string(),
    };
    let v = df.column("validator_id").map_err(bad)?.i32().map_err(bad)?;
    let s = df.column("seq").map_err(bad)?.i64().map_err(bad)?;
    let r = df.column("rule").map_err(bad)?.str().map_err(bad)?;
    Ok((0..df.height())
        .filter_map(|i| Some((v.get(i)?, s.get(i)?, r.get(i)?.to_string())))
        .collect())
}

/// Whose each flagged tap is: (validator, seq) → (carrier, route).
pub type Owners = FxHashMap<(i32, i64), (Option<i32>, i32)>;

/// Whose each flagged tap of `month`'s latest flags is, for the account's
/// scope.
pub fn owners(home: &Home, reg: &Registry, month: &str) -> Result<Owners, Error> {
    let path = home.root().join(file_of(month));
    let bad = |e: PolarsError| Error::Unreadable {
        path: path.clone(),
        message: e.to_string(),
    };
    let df = recorded_or_not_flagged(home, reg, month)?;
    let c = |n: &str| df.column(n).map_err(bad);
    let v = c("validator_id")?.i32().map_err(bad)?;
    let s = c("seq")?.i64().map_err(bad)?;
    let carrier = c("carrier_id")?.i32().map_err(bad)?;
    let route = c("route")?.i32().map_err(bad)?;
    Ok((0..df.height())
        .filter_map(|i| Some(((v.get(i)?, s.get(i)?), (carrier.get(i), route.get(i)?))))
        .collect())
}

/// A month's latest flag run, as the money path needs it.
#[derive(Debug, Clone)]
pub struct LatestRun {
    /// When it ran (UTC, as stored).
    pub at: String,
    /// The accepted taps it judged.
    pub taps: i64,
    /// Its flag file (relative to the home) and the file's SHA-256.
    pub file: String,
    pub sha256: String,
    /// The newest tap file of the month the run saw (`None`: a run from
    /// before it was recorded).
    pub tap_file_max: Option<i64>,
}

/// The latest flag run of `month`; `None` when the month was never
/// flagged.
pub fn latest_run(reg: &Registry, month: &str) -> Result<Option<LatestRun>, Error> {
    use rusqlite::OptionalExtension;
    reg.conn()
        .query_row(
            "SELECT at, taps, file, sha256, tap_file_max FROM flag_runs WHERE month = ?1 ORDER BY id DESC LIMIT 1",
            [month],
            |r| {
                Ok(LatestRun {
                    at: r.get(0)?,
                    taps: r.get(1)?,
                    file: r.get(2)?,
                    sha256: r.get(3)?,
                    tap_file_max: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(|e| Error::Registry(reg.err(e)))
}

/// Every month's latest flag file: (month, file, SHA-256), by month (what a
/// backup copies). Over any connection to a registry, e.g. a snapshot's.
pub fn latest_files(
    conn: &rusqlite::Connection,
) -> rusqlite::Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT month, file, sha256 FROM flag_runs f WHERE id = (SELECT max(id) FROM flag_runs g WHERE g.month = f.month) ORDER BY month",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// The taps of `month` held by its latest flags: (validator, seq) with a
/// rule that holds (`holds`). Compensation pays every other counted tap,
/// those flagged for review only too. Empty when the month was never
/// flagged.
pub fn held(home: &Home, reg: &Registry, month: &str) -> Result<FxHashSet<(i32, i64)>, Error> {
    let mut out = FxHashSet::default();
    if latest_run(reg, month)?.is_none() {
        return Ok(out);
    }
    let decided = decisions(reg)?;
    for (v, s, rule) in read(home, reg, month)? {
        if row_holds(&decided, (v, s), &rule) {
            out.insert((v, s));
        }
    }
    Ok(out)
}

/// One held tap as its flags describe it: the rules that hold it and their
/// evidence, joined. Priced by the caller (`tariff::fare_at`).
#[derive(Debug, Clone)]
pub struct HeldTap {
    pub id: String,
    pub tapped_at_ms: i64,
    pub validator: i32,
    pub seq: i64,
    pub vehicle: i32,
    pub card: i64,
    pub trip: crate::tariff::Trip,
    /// The rule codes that hold it, comma-separated.
    pub rules: String,
    pub evidence_uk: String,
    pub evidence_en: String,
}

/// The held taps of `month`'s latest flags, one per tap, in the file's
/// order (by validator and sequence).
pub fn held_taps(home: &Home, reg: &Registry, month: &str) -> Result<Vec<HeldTap>, Error> {
    let path = home.root().join(file_of(month));
    let bad = |e: PolarsError| Error::Unreadable {
        path: path.clone(),
        message: e.to_string(),
    };
    let df = recorded_or_not_flagged(home, reg, month)?;
    let decided = decisions(reg)?;
    let c = |n: &str| df.column(n).map_err(bad);
    let id = c("flag_id")?.str().map_err(bad)?;
    let v = c("validator_id")?.i32().map_err(bad)?;
    let seq = c("seq")?.i64().map_err(bad)?;
    let t = c("tapped_at")?.cast(&DataType::Int64).map_err(bad)?;
    let t = t.i64().map_err(bad)?;
    let card = c("card_number")?.i64().map_err(bad)?;
    let vehicle = c("vehicle_id")?.i32().map_err(bad)?;
    let carrier = c("carrier_id")?.i32().map_err(bad)?;
    let route = c("route")?.i32().map_err(bad)?;
    // A file from before zones were kept prices its taps without one.
    let zone: Option<Int32Chunked> = df
        .column("tariff_zone")
        .ok()
        .and_then(|z| z.i32().ok().cloned());
    let rule = c("rule")?.str().map_err(bad)?;
    let uk = c("evidence")?.str().map_err(bad)?;
    let en = c("evidence_en")?.str().map_err(bad)?;
    let mut out: Vec<HeldTap> = Vec::new();
    let join = |a: &mut String, b: &str, sep: &str| {
        if !a.is_empty() {
            a.push_str(sep);
        }
        a.push_str(b);
    };
    for i in 0..df.height() {
        let (vv, ss) = (v.get(i).unwrap_or(0), seq.get(i).unwrap_or(0));
        let code = rule.get(i).unwrap_or("");
        if !row_holds(&decided, (vv, ss), code) {
            continue;
        }
        if let Some(last) = out.last_mut().filter(|h| h.validator == vv && h.seq == ss) {
            join(&mut last.rules, code, ", ");
            join(&mut last.evidence_uk, uk.get(i).unwrap_or(""), "; ");
            join(&mut last.evidence_en, en.get(i).unwrap_or(""), "; ");
            continue;
        }
        out.push(HeldTap {
            id: id.get(i).unwrap_or("").to_string(),
            tapped_at_ms: t.get(i).unwrap_or(0),
            validator: vv,
            seq: ss,
            vehicle: vehicle.get(i).unwrap_or(0),
            card: card.get(i).unwrap_or(0),
            trip: crate::tariff::Trip {
                route: route.get(i).unwrap_or(0),
                carrier: carrier.get(i),
                zone: zone.as_ref().and_then(|z| z.get(i)),
            },
            rules: code.to_string(),
            evidence_uk: uk.get(i).unwrap_or("").to_string(),
            evidence_en: en.get(i).unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

/// Every month with a flag file.
pub fn flagged_months(reg: &Registry) -> Result<Vec<String>, Error> {
    let mut stmt = reg
        .conn()
        .prepare("SELECT DISTINCT month FROM flag_runs ORDER BY month")
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| reg.err(e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Registry(reg.err(e)))
}

/// One clearing asked for: a flag id and, optionally, the rules.
#[derive(Debug, Clone)]
pub struct Ask {
    pub id: String,
    pub rules: Vec<Rule>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Cleared {
    pub cleared: Vec<String>,
    /// The taps an analyst's hold now holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
    pub already: Vec<String>,
}

/// Records clearings for `session`, all or none: every id must be a flag
/// of some month's latest run, every rule named must be on it, and every
/// tap must be within the account's scope (refused whole otherwise).
pub fn clear(
    home: &Home,
    reg: &mut Registry,
    asks: &[Ask],
    session: &crate::access::Session,
    source: &str,
) -> Result<Cleared, Error> {
    let asks: Vec<(Decision, Ask)> = asks.iter().map(|a| (Decision::Clear, a.clone())).collect();
    decide(home, reg, &asks, session, source)
}

/// Records an analyst's holds of reviewed cases for `session`, as `clear`
/// records clearings (all or none): their taps are not paid until cleared.
pub fn hold(
    home: &Home,
    reg: &mut Registry,
    asks: &[Ask],
    session: &crate::access::Session,
    source: &str,
) -> Result<Cleared, Error> {
    let asks: Vec<(Decision, Ask)> = asks.iter().map(|a| (Decision::Hold, a.clone())).collect();
    decide(home, reg, &asks, session, source).map_err(|e| match e {
        Error::UnknownFlag { ids } => Error::HoldUnknown { ids },
        Error::Refused(m) => Error::HoldRefused(m),
        other => other,
    })
}

/// What the store knows for deciding: each flagged tap's rules (every
/// month's latest flags), whose each tap is, and the decisions so far.
struct Known {
    rules: FxHashMap<(i32, i64), Vec<String>>,
    owner: Owners,
    decided: (Decided, Decided),
}

/// One decision to record: tap, flag id, rules, reason, decision.
type Planned = (i32, i64, String, Vec<String>, String, Decision);

/// Records each ask's decision, all or none, in one transaction.
pub fn decide(
    home: &Home,
    reg: &mut Registry,
    asks: &[(Decision, Ask)],
    session: &crate::access::Session,
    source: &str,
) -> Result<Cleared, Error> {
    let operator = session.user.as_str();
    let scope = session.scope();
    let mut known = Known {
        rules: FxHashMap::default(),
        owner: Owners::default(),
        decided: decisions(reg)?,
    };
    for m in flagged_months(reg)? {
        for (v, s, r) in read(home, reg, &m)? {
            known.rules.entry((v, s)).or_default().push(r);
        }
        if !scope.is_all() {
            known.owner.extend(owners(home, reg, &m)?);
        }
    }
    let mut plan: Vec<Planned> = Vec::new();
    let mut out = Cleared::default();
    let mut unknown = Vec::new();
    for decision in [Decision::Clear, Decision::Hold] {
        let mine: Vec<Ask> = asks
            .iter()
            .filter(|(d, _)| *d == decision)
            .map(|(_, a)| a.clone())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let (mine, named) = expand_suspects(home, reg, &mine)?;
        let things: Vec<crate::access::Owned> = mine
            .iter()
            .zip(&named)
            .filter_map(|(a, name)| {
                let (carrier, route) = known.owner.get(&parse_flag_id(&a.id)?)?;
                Some(crate::access::Owned {
                    id: name.clone(),
                    carrier: carrier.map(i64::from),
                    route: Some(*route),
                })
            })
            .collect();
        session.authorise(reg, crate::access::Need::Change(&things))?;
        for a in &mine {
            plan_one(&known, a, decision, &mut plan, &mut out, &mut unknown)?;
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownFlag {
            ids: unknown.join(", "),
        });
    }
    let path = reg.path().to_path_buf();
    let err = |e| Error::Registry(crate::registry::Error::sqlite(&path, e));
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let at = crate::time::now_utc_text();
    for (v, s, id, rules, reason, decision) in &plan {
        tx.execute(
            "INSERT INTO flag_clearings (flag_id, validator, seq, rules, at, operator, reason, source, decision)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, v, s, rules.join(","), at, operator, reason, source, decision.code()],
        )
        .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(out)
}

/// Plans one ask's `decision`: refused without a reason or with a rule not
/// on the tap; an unknown id goes to `unknown`; rules already in the state
/// asked for (cleared, or holding) are left out.
fn plan_one(
    known: &Known,
    a: &Ask,
    decision: Decision,
    plan: &mut Vec<Planned>,
    out: &mut Cleared,
    unknown: &mut Vec<String>,
) -> Result<(), Error> {
    if a.reason.trim().is_empty() {
        return Err(Error::Refused(format!(
            "{}: {} needs a reason (--reason TEXT)",
            a.id,
            match decision {
                Decision::Clear => "a clearing",
                Decision::Hold => "a hold",
            }
        )));
    }
    let Some((v, s)) = parse_flag_id(&a.id) else {
        unknown.push(a.id.clone());
        return Ok(());
    };
    let Some(rules) = known.rules.get(&(v, s)) else {
        unknown.push(a.id.clone());
        return Ok(());
    };
    let mut wanted: Vec<String> = Vec::new();
    for r in &a.rules {
        if !rules.iter().any(|x| x == r.code()) {
            return Err(Error::Refused(format!(
                "{}: rule {} did not flag this tap (its rules: {})",
                a.id,
                r.code(),
                rules.join(", ")
            )));
        }
        wanted.push(r.code().to_string());
    }
    if a.rules.is_empty() {
        wanted = rules.clone();
    }
    let decided = &known.decided;
    let new: Vec<String> = wanted
        .into_iter()
        .filter(|r| match decision {
            Decision::Clear => !decided.0.get(&(v, s)).is_some_and(|c| c.contains(r)),
            Decision::Hold => !row_holds(decided, (v, s), r),
        })
        .collect();
    if new.is_empty() {
        out.already.push(flag_id(v, s));
        return Ok(());
    }
    match decision {
        Decision::Clear => out.cleared.push(flag_id(v, s)),
        Decision::Hold => out.held.push(flag_id(v, s)),
    }
    plan.push((
        v,
        s,
        flag_id(v, s),
        new,
        a.reason.trim().to_string(),
        decision,
    ));
    Ok(())
}

/// The taps each configuration suspect of `month`'s latest flags holds:
/// suspect id → flag ids.
pub fn suspect_taps(
    home: &Home,
    reg: &Registry,
    month: &str,
) -> Result<FxHashMap<String, Vec<String>>, Error> {
    let path = home.root().join(file_of(month));
    let bad = |e: PolarsError| Error::Unreadable {
        path: path.clone(),
        message: e.to_string(),
    };
    let df = recorded_or_not_flagged(home, reg, month)?;
    let mut out: FxHashMap<String, Vec<String>> = FxHashMap::default();
    // A file from before suspects were kept has none.
    let Ok(suspect) = df.column("suspect_id") else {
        return Ok(out);
    };
    let suspect = suspect.str().map_err(bad)?;
    let id = df.column("flag_id").map_err(bad)?.str().map_err(bad)?;
    for (s, f) in suspect.iter().zip(id.iter()) {
        if let (Some(s), Some(f)) = (s, f) {
            out.entry(s.to_string()).or_default().push(f.to_string());
        }
    }
    Ok(out)
}

/// A suspect's id (`S-7-2026-10-12`, `S-R76-2026-10`) asks for its taps' `config_suspect`
/// hits; flag ids pass through. With each ask, what the user named it by
/// (`F-7-123`, or `S-7-2026-10-12 (F-7-123)`).
fn expand_suspects(
    home: &Home,
    reg: &Registry,
    asks: &[Ask],
) -> Result<(Vec<Ask>, Vec<String>), Error> {
    let mut out = Vec::new();
    let mut named = Vec::new();
    let mut months: FxHashMap<String, FxHashMap<String, Vec<String>>> = FxHashMap::default();
    for a in asks {
        let Some(month) = super::suspects::suspect_month(&a.id) else {
            out.push(a.clone());
            named.push(a.id.trim().to_string());
            continue;
        };
        if a.rules.iter().any(|r| *r != Rule::ConfigSuspect) {
            return Err(Error::Refused(format!(
                "{}: a configuration suspect holds its taps under config_suspect only; leave --rule out",
                a.id
            )));
        }
        if !months.contains_key(&month) {
            let taps = match latest_run(reg, &month)? {
                Some(_) => suspect_taps(home, reg, &month)?,
                None => FxHashMap::default(),
            };
            months.insert(month.clone(), taps);
        }
        let id = a.id.trim().to_ascii_uppercase();
        let Some(taps) = months[&month].get(&id) else {
            return Err(Error::UnknownFlag {
                ids: format!(
                    "{} (no such configuration suspect in {month}'s latest flags; `kartka taps flag --month {month}` lists them)",
                    a.id
                ),
            });
        };
        out.extend(taps.iter().map(|f| Ask {
            id: f.clone(),
            rules: vec![Rule::ConfigSuspect],
            reason: a.reason.clone(),
        }));
        named.extend(taps.iter().map(|f| format!("{id} ({f})")));
    }
    Ok((out, named))
}
