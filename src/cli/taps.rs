//! `kartka taps`: the tap store.

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::registry::Registry;

/// The tap store: import dumps and vendor exports, compact months, flag
/// suspicious taps and review the flags.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka taps import laptop/*.kdump\n  kartka taps import old-system-2026-09.csv\n  kartka taps compact --month 2026-10\n  kartka taps flag --month 2026-10 --out flags-2026-10.xlsx\n  kartka taps clear F-7-123 --reason \"a transfer after a breakdown (P14)\"\n  kartka taps review --import flags-2026-10-reviewed.xlsx\n  kartka taps quality --months 6\n\n{}", crate::exit::help("taps")))]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Import raw dump files (.kdump) and vendor CSV exports; idempotent by (validator, seq).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where a CSV's rejected rows go [default: beside it, NAME.rejects.csv].
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Taps kept out of the money because another tap holds their (validator, seq).
    Conflicts,
    /// Merge a month's small files into one, without changing a row.
    Compact {
        /// YYYY-MM (Kyiv); every month with more than one file when omitted.
        #[arg(long)]
        month: Option<String>,
    },
    /// The store's months: files and taps.
    Months,
    /// Run every suspicious-tap rule over a month; store the flags, hold their taps.
    Flag {
        /// YYYY-MM (Kyiv).
        #[arg(long)]
        month: String,
        /// Also write the flags to FILE: .xlsx (the review workbook), .csv or .parquet.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Put the holders' names in the --out file (personal data: only for staff allowed to see it).
        #[arg(long)]
        with_names: bool,
    },
    /// Clear flags found to be false positives: their taps are paid. With a scope (--card, --hub, --route) and --until, a decision remembered for the months to come.
    Clear {
        /// Flag ids, e.g. F-7-123; or a configuration suspect's, e.g. S-7-2026-10-12, for all of its taps.
        #[arg(required_unless_present_any = ["card", "hub", "route"], value_name = "FLAG_ID")]
        ids: Vec<String>,
        /// Remember: this card's flags under the --rule are cleared up to --until.
        #[arg(long, value_name = "CARD", conflicts_with_all = ["hub", "route", "ids"])]
        card: Option<i64>,
        /// Remember: quick changes between these two routes are transfers up to --until, e.g. --hub 3,7.
        #[arg(long, value_name = "A,B", conflicts_with_all = ["route", "ids"])]
        hub: Option<String>,
        /// Remember: the route runs --hours (its own service day) up to --until.
        #[arg(long, value_name = "ROUTE", requires = "hours", conflicts_with = "ids")]
        route: Option<i32>,
        /// The route's hours, HH:MM-HH:MM (an end before the start runs past midnight).
        #[arg(long, value_name = "HH:MM-HH:MM", requires = "route")]
        hours: Option<String>,
        /// The last month a remembered decision holds for, YYYY-MM.
        #[arg(long, value_name = "YYYY-MM")]
        until: Option<String>,
        /// Why (recorded with the operator).
        #[arg(long)]
        reason: String,
        /// Clear only this rule on the taps (a rule code, e.g. excessive_daily_use); all of their rules when omitted.
        #[arg(long = "rule", value_name = "CODE")]
        rules: Vec<String>,
    },
    /// Hold taps flagged for review that the analyst found to be fraud: they are not paid until cleared.
    Hold {
        /// Flag ids, e.g. F-7-123.
        #[arg(required = true, value_name = "FLAG_ID")]
        ids: Vec<String>,
        /// Why (recorded with the operator).
        #[arg(long)]
        reason: String,
        /// Hold only this rule on the taps (a rule code, e.g. excessive_daily_use); all of their rules when omitted.
        #[arg(long = "rule", value_name = "CODE")]
        rules: Vec<String>,
    },
    /// Each rule's precision from the analysts' clearings over the last months' flags.
    Quality {
        /// How many of the latest flagged months to count.
        #[arg(long, default_value_t = 3)]
        months: usize,
    },
    /// Import a filled-in review workbook: every row marked to clear, with its reason.
    Review {
        #[arg(long = "import", value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn action(args: &Args) -> crate::access::Action {
    use crate::access::Action;
    match &args.command {
        Cmd::Import { .. } | Cmd::Compact { .. } | Cmd::Conflicts => Action::TapsStore,
        Cmd::Months => Action::TapsMonths,
        Cmd::Flag { with_names, .. } => Action::Flag { names: *with_names },
        Cmd::Clear { .. } | Cmd::Hold { .. } | Cmd::Review { .. } => Action::FlagsClear,
        Cmd::Quality { .. } => Action::FlagsQuality,
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    match args.command {
        Cmd::Import { files, rejects } => {
            let master = crate::cards::keyfile::read(&home.root().join(&config.dock.key_file))?;
            let _lock = home.lock("taps import", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let s = crate::taps::import::import(
                &home,
                &mut reg,
                &master,
                &files,
                rejects.as_deref(),
                &g.operator(),
            )?;
            for f in &s.files {
                g.say(format_args!(
                    "{}: {} taps stored, {} already in the store{}{}{}",
                    f.file,
                    f.taps_new,
                    f.taps_duplicate,
                    match f.taps_replaced {
                        0 => String::new(),
                        n => format!(", {n} vendor rows replaced by these signed taps"),
                    },
                    match f.taps_conflict {
                        0 => String::new(),
                        n => format!(
                            ", {n} taps differ from signed taps stored under the same numbers (not stored)"
                        ),
                    },
                    match &f.rejects_file {
                        Some(r) => format!(", {} rows rejected (reasons in {r})", f.rejected),
                        None => String::new(),
                    }
                ));
            }
            g.print_json(&s);
            if s.taps_replaced + s.taps_conflict > 0 {
                g.say(
                    "The losing taps are kept in quarantine: `kartka taps conflicts` lists them.",
                );
            }
            if s.taps_conflict > 0 {
                eprintln!(
                    "error: {} taps conflict with signed taps already stored; they were not stored.\n  A validator's numbering went back, or two validators carry one id: check the dumps' validators against the fleet sheet.",
                    s.taps_conflict
                );
                return Err(Error::Reported(crate::exit::ExitCode::DataErr));
            }
        }
        Cmd::Conflicts => {
            let reg = Registry::open(&home.registry())?;
            let list = crate::taps::conflict::list(&reg)?;
            if list.is_empty() {
                g.say("No taps in quarantine.");
            }
            for q in &list {
                g.say(format_args!(
                    "validator {} seq {}: {} ({}, card {}, UID {}, {}); batch {} holds the number",
                    q.validator,
                    q.seq,
                    match q.kind {
                        "replaced" => "a vendor row replaced by the validator's signed tap",
                        _ => "a signed tap that differs from the signed tap stored (not acked)",
                    },
                    crate::time::stored_as_kyiv(&q.tapped_at),
                    q.card,
                    q.card_uid,
                    q.result,
                    q.kept_batch
                ));
            }
            g.print_json(&list);
        }
        Cmd::Compact { month } => {
            let _lock = home.lock("taps compact", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            crate::taps::parquet::sweep(&home, &reg)?;
            let months = match month {
                Some(m) => vec![m],
                None => crate::taps::parquet::months(&reg)?
                    .into_iter()
                    .filter(|m| m.1 > 1)
                    .map(|m| m.0)
                    .collect(),
            };
            let mut out = Vec::new();
            for m in months {
                let c = crate::taps::parquet::compact(&home, &mut reg, &m)?;
                g.say(format_args!(
                    "{}: {} files → {}, {} taps",
                    c.month, c.files_before, c.files_after, c.rows
                ));
                out.push(c);
            }
            g.print_json(&out);
        }
        Cmd::Flag {
            month,
            out,
            with_names,
        } => {
            let first = crate::flags::parse_month(&month)?;
            let month = first.format("%Y-%m").to_string();
            if let Some(path) = out
                .as_deref()
                .filter(|p| crate::flags::out_kind(p).is_none())
            {
                return Err(crate::flags::Error::OutKind {
                    path: path.to_path_buf(),
                }
                .into());
            }
            let _lock = home.lock("taps flag", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let now = chrono::Utc::now().timestamp_millis();
            let mut run = crate::flags::flag(&home, &mut reg, &config, &month, g.session(), now)?;
            if let Some(path) = &out {
                run.deliver(
                    &home,
                    &mut reg,
                    &config.flags,
                    g.session(),
                    path,
                    g.lang,
                    with_names,
                )?;
            }
            let s = &run.summary;
            g.say(format_args!(
                "{}: {} taps judged, {} flagged, {} held ({}), {} for review and paid ({}), {} cleared before",
                s.month,
                s.taps,
                s.flagged,
                s.held,
                crate::money::uah(s.held_kopecks),
                s.review,
                crate::money::uah(s.review_kopecks),
                s.cleared
            ));
            for (code, c) in s.by_rule.iter().filter(|(_, c)| c.taps > 0) {
                g.say(format_args!(
                    "  {:>2} {code:<22} {:>8} taps, {:>8} held, {:>8} for review  [{}]",
                    c.number, c.taps, c.held, c.review, c.severity
                ));
            }
            const SHOWN: usize = 10;
            if s.suspects.len() > SHOWN {
                g.say(format_args!(
                    "{} configuration suspects (the first {SHOWN} below; --json and the review workbook list them all):",
                    s.suspects.len()
                ));
            }
            for x in s.suspects.iter().take(SHOWN) {
                if x.scope == "month" {
                    g.say(format_args!(
                        "configuration suspect {}: {} taps on {} days of {} (validators {}) held as config_suspect ({}), not as fraud:",
                        x.id,
                        x.taps - x.cleared,
                        x.days.len(),
                        x.day,
                        x.validators
                            .iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        crate::money::uah(x.held_kopecks)
                    ));
                    for f in &x.findings {
                        g.say(format_args!(
                            "  {}
  likely fix: {}",
                            f.evidence_en, f.fix_en
                        ));
                    }
                    continue;
                }
                g.say(format_args!(
                    "configuration suspect {}: {} of validator {}'s {} taps on {} held as config_suspect ({}), not as fraud:",
                    x.id,
                    x.taps - x.cleared,
                    x.validator,
                    x.day_taps,
                    x.day,
                    crate::money::uah(x.held_kopecks)
                ));
                for f in &x.findings {
                    g.say(format_args!(
                        "  {}
  likely fix: {}",
                        f.evidence_en, f.fix_en
                    ));
                }
            }
            g.say(format_args!("flags stored in {}", s.file));
            if let Some(p) = &s.out {
                g.say(format_args!("written to {}", p.display()));
            }
            g.print_json(s);
        }
        Cmd::Clear {
            ids,
            reason,
            rules,
            card,
            hub,
            route,
            hours,
            until,
        } => {
            if card.is_some() || hub.is_some() || route.is_some() {
                let scope = decision_scope(card, hub, route, hours, &rules)?;
                let until = until.ok_or_else(|| {
                    crate::flags::Error::Refused(
                        "a remembered decision needs its last month: --until YYYY-MM".into(),
                    )
                })?;
                let _lock = home.lock("taps clear", crate::home::lock_wait())?;
                let mut reg = Registry::open(&home.registry())?;
                let id =
                    crate::flags::decisions::add(&mut reg, g.session(), &scope, &until, &reason)?;
                g.say(format_args!(
                    "decision {id} recorded up to {until}: every `kartka taps flag` of those months applies it."
                ));
                g.print_json(&serde_json::json!({"id": id, "scope": scope, "until": until}));
                return Ok(());
            }
            if until.is_some() {
                return Err(crate::flags::Error::Refused(
                    "--until belongs to a remembered decision: give --card, --hub or --route with it"
                        .into(),
                )
                .into());
            }
            let asks = asks(&ids, &reason, &rules, crate::flags::Error::Refused)?;
            let _lock = home.lock("taps clear", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let c = crate::flags::store::clear(&home, &mut reg, &asks, g.session(), "command")?;
            cleared_say(g, &c);
        }
        Cmd::Hold { ids, reason, rules } => {
            let asks = asks(&ids, &reason, &rules, crate::flags::Error::HoldRefused)?;
            let _lock = home.lock("taps hold", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let c = crate::flags::store::hold(&home, &mut reg, &asks, g.session(), "command")?;
            g.say(format_args!(
                "{} flag(s) held, {} held already; their taps are not paid until cleared. `kartka taps flag` keeps the holds.",
                c.held.len(),
                c.already.len()
            ));
            g.print_json(&c);
        }
        Cmd::Review { file } => {
            let _lock = home.lock("taps review", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let c = crate::flags::review::import(&home, &mut reg, &file, g.session())?;
            cleared_say(g, &c);
        }
        Cmd::Quality { months } => {
            let reg = Registry::open(&home.registry())?;
            let q = crate::flags::quality::measure(
                &home,
                &reg,
                &config.flags,
                months,
                None,
                &g.scope(),
            )?;
            if !g.json && !g.quiet {
                println!(
                    "{:<2} {:<22} {:>9} {:>9} {:>9} {:>9}  hits",
                    "", "rule", "flagged", "cleared", "kept", "precision"
                );
                for r in &q.rules {
                    println!(
                        "{:>2} {:<22} {:>9} {:>9} {:>9} {:>9}  {}",
                        r.number,
                        r.rule,
                        r.flagged,
                        r.cleared,
                        r.kept,
                        r.precision.map_or("—".into(), |p| format!("{p:.3}")),
                        r.severity
                    );
                }
            }
            g.say(format_args!(
                "{} flagged month(s) counted: {}",
                q.months.len(),
                if q.months.is_empty() {
                    "none yet (run `kartka taps flag --month M`)".to_string()
                } else {
                    q.months.join(", ")
                }
            ));
            for r in q.below() {
                g.say(format_args!(
                    "WARNING: {}: analysts kept {} of its {} flags ({:.0} %), under [flags] quality_min_precision_pct = {}: check its thresholds and the fleet before its flags are believed.",
                    r.rule,
                    r.kept,
                    r.flagged,
                    r.precision.unwrap_or(0.0) * 100.0,
                    q.min_precision_pct
                ));
            }
            g.print_json(&q);
        }
        Cmd::Months => {
            let reg = Registry::open(&home.registry())?;
            let mut m = crate::taps::parquet::months(&reg)?;
            // A scoped account counts its own carriers' and routes' taps.
            if let Some(filter) = g.scope().tap_filter() {
                for (month, _, taps) in &mut m {
                    let n =
                        crate::taps::month::count_where(&home, &reg, month, false, filter.clone())?;
                    *taps = i64::try_from(n).unwrap_or(i64::MAX);
                }
            }
            if g.json {
                let v: Vec<_> = m
                    .iter()
                    .map(|(m, f, t)| serde_json::json!({"month": m, "files": f, "taps": t}))
                    .collect();
                g.print_json(&v);
            } else {
                for (m, f, t) in m {
                    g.say(format_args!("{m}: {t} taps in {f} files"));
                }
            }
        }
    }
    Ok(())
}

/// What `taps clear` or `taps hold` asks for: each id with the rules named
/// (an unknown rule code refused by `refused`).
fn asks(
    ids: &[String],
    reason: &str,
    rules: &[String],
    refused: fn(String) -> crate::flags::Error,
) -> Result<Vec<crate::flags::store::Ask>, crate::flags::Error> {
    let mut parsed = Vec::new();
    for r in rules {
        parsed.push(crate::flags::Rule::from_code(r).ok_or_else(|| {
            refused(format!(
                "unknown rule {r:?}; the codes: {}",
                crate::flags::rule::ALL.map(|r| r.code()).join(", ")
            ))
        })?);
    }
    Ok(ids
        .iter()
        .map(|id| crate::flags::store::Ask {
            id: id.clone(),
            rules: parsed.clone(),
            reason: reason.to_string(),
        })
        .collect())
}

/// The scope of a remembered decision, from `taps clear`'s options.
fn decision_scope(
    card: Option<i64>,
    hub: Option<String>,
    route: Option<i32>,
    hours: Option<String>,
    rules: &[String],
) -> Result<crate::flags::decisions::Scope, crate::flags::Error> {
    use crate::flags::decisions::Scope;
    let refused = crate::flags::Error::Refused;
    if let Some(card) = card {
        let [rule] = rules else {
            return Err(refused(
                "--card needs the one rule it clears, e.g. --rule excessive_daily_use".into(),
            ));
        };
        let rule = crate::flags::Rule::from_code(rule).ok_or_else(|| {
            refused(format!(
                "unknown rule {rule:?}; the codes: {}",
                crate::flags::rule::ALL.map(|r| r.code()).join(", ")
            ))
        })?;
        return Ok(Scope::Card { card, rule });
    }
    if let Some(hub) = hub {
        let routes: Vec<Option<i32>> = hub
            .split([',', '-', '↔'])
            .map(|r| r.trim().parse().ok())
            .collect();
        return match routes.as_slice() {
            [Some(a), Some(b)] => Ok(Scope::Hub { routes: [*a, *b] }),
            _ => Err(refused(format!(
                "--hub {hub:?}: give the two routes, e.g. --hub 3,7"
            ))),
        };
    }
    let (route, hours) = (route.unwrap_or(0), hours.unwrap_or_default());
    match hours.split_once('-') {
        Some((start, end)) => Ok(Scope::RouteHours {
            route,
            start: start.trim().to_string(),
            end: end.trim().to_string(),
        }),
        None => Err(refused(format!(
            "--hours {hours:?}: give the route's hours as HH:MM-HH:MM, e.g. 23:00-01:30"
        ))),
    }
}

fn cleared_say(g: &Global, c: &crate::flags::store::Cleared) {
    g.say(format_args!(
        "{} flag(s) cleared, {} cleared already; their taps count for compensation. `kartka taps flag` keeps the clearings.",
        c.cleared.len(),
        c.already.len()
    ));
    if !c.held.is_empty() {
        g.say(format_args!(
            "{} flag(s) held for review; their taps are not paid until cleared.",
            c.held.len()
        ));
    }
    g.print_json(c);
}
