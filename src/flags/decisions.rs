//! The analysts' remembered decisions: a clearing with a scope and an end
//! month, kept in `flag_decisions` (this module owns the table), so the
//! next month's run does not raise the same case again.
//!
//! - **A card under a rule** ("this card's heavy riding until 2027-06"):
//!   each run clears the rule's hits on the card in every month up to the
//!   end, as a clearing of its own (`flag_clearings`, source `decision
//!   D-<id>`), so the tap is paid and `taps quality` counts the hit as a
//!   false positive.
//! - **A hub** ("route pair 3↔7 is a hub"): any quick change between the
//!   two routes is a transfer, as a `[[flags.transfers]]` entry would make
//!   it (rule 2).
//! - **A route's hours** ("night route 8 runs 23:00–01:30"): the route's
//!   own service day, as a `[[flags.routes]]` entry would give it (rule 6).

use rusqlite::params;

use super::settings::{FlagSettings, RouteHours, Transfer, minutes};
use super::{Error, Flag, Rule};
use crate::registry::Registry;

/// What a decision covers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Card {
        card: i64,
        rule: Rule,
    },
    Hub {
        routes: [i32; 2],
    },
    RouteHours {
        route: i32,
        start: String,
        end: String,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub id: String,
    #[serde(flatten)]
    pub scope: Scope,
    /// The last month it holds for, YYYY-MM.
    pub until: String,
    pub at: String,
    pub operator: String,
    pub reason: String,
}

impl Scope {
    /// Checks what the analyst gave: a route pair of two routes, hours of
    /// the day, a rule that speaks of a card's riding.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Scope::Card {
                rule: Rule::ConfigSuspect,
                ..
            } => {
                Err(Error::Refused(
                    "--card: a configuration suspect is the fleet's or kartka.toml's, not a card's; clear it by its S-… id".into(),
                ))
            }
            Scope::Hub { routes: [a, b] } if a == b => Err(Error::Refused(format!(
                "--hub {a},{b}: a hub joins two different routes, e.g. --hub 3,7"
            ))),
            Scope::RouteHours { start, end, .. }
                if minutes(start).is_none() || minutes(end).is_none() || start == end =>
            {
                Err(Error::Refused(format!(
                    "--hours {start}-{end}: give the route's hours as HH:MM-HH:MM, e.g. 23:00-01:30 (an end before the start runs past midnight)"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Records a decision for `session` (city-wide: it outlives one carrier's
/// taps); returns its id, `D-<n>`.
pub fn add(
    reg: &mut Registry,
    session: &crate::access::Session,
    scope: &Scope,
    until: &str,
    reason: &str,
) -> Result<String, Error> {
    let until = super::parse_month(until)
        .map_err(|_| {
            Error::Refused(format!(
                "--until {until:?} is not a month YYYY-MM, e.g. --until 2027-06"
            ))
        })?
        .format("%Y-%m")
        .to_string();
    if reason.trim().is_empty() {
        return Err(Error::Refused(
            "a decision needs a reason (--reason TEXT)".into(),
        ));
    }
    scope.check()?;
    session.authorise(
        reg,
        crate::access::Need::CityWide {
            what: "a remembered decision",
        },
    )?;
    let (kind, card, rule, a, b, start, end) = match scope {
        Scope::Card { card, rule } => (
            "card",
            Some(*card),
            Some(rule.code()),
            None,
            None,
            None,
            None,
        ),
        Scope::Hub { routes } => (
            "hub",
            None,
            None,
            Some(routes[0]),
            Some(routes[1]),
            None,
            None,
        ),
        Scope::RouteHours { route, start, end } => (
            "route_hours",
            None,
            None,
            Some(*route),
            None,
            Some(start.as_str()),
            Some(end.as_str()),
        ),
    };
    reg.conn()
        .execute(
            "INSERT INTO flag_decisions (kind, card, rule, route_a, route_b, start, end, until, at, operator, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                kind,
                card,
                rule,
                a,
                b,
                start,
                end,
                until,
                crate::time::now_utc_text(),
                session.user.as_str(),
                reason.trim()
            ],
        )
        .map_err(|e| reg.err(e))?;
    Ok(format!("D-{}", reg.conn().last_insert_rowid()))
}

/// The decisions in force for `month` (YYYY-MM): those whose end is not
/// before it, oldest first.
pub fn in_force(reg: &Registry, month: &str) -> Result<Vec<Decision>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT id, kind, card, rule, route_a, route_b, start, end, until, at, operator, reason
             FROM flag_decisions WHERE until >= ?1 ORDER BY id",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([month], |r| {
            let kind: String = r.get(1)?;
            let scope = match kind.as_str() {
                "card" => r
                    .get::<_, String>(3)
                    .ok()
                    .and_then(|c| Rule::from_code(&c))
                    .map(|rule| Scope::Card {
                        card: r.get(2).unwrap_or(0),
                        rule,
                    }),
                "hub" => Some(Scope::Hub {
                    routes: [r.get(4)?, r.get(5)?],
                }),
                _ => Some(Scope::RouteHours {
                    route: r.get(4)?,
                    start: r.get(6)?,
                    end: r.get(7)?,
                }),
            };
            Ok(scope.map(|scope| Decision {
                id: format!("D-{}", r.get::<_, i64>(0).unwrap_or(0)),
                scope,
                until: r.get(8).unwrap_or_default(),
                at: r.get(9).unwrap_or_default(),
                operator: r.get(10).unwrap_or_default(),
                reason: r.get(11).unwrap_or_default(),
            }))
        })
        .map_err(err)?;
    let mut out = Vec::new();
    for r in rows {
        out.extend(r.map_err(err)?);
    }
    Ok(out)
}

/// `settings` with the decided hubs and routes' hours: a hub allows any
/// quick change (up to `transfer_min_s`); a route's hours come after its
/// `[[flags.routes]]` entry, which wins.
pub fn settings(settings: &FlagSettings, decided: &[Decision]) -> FlagSettings {
    let mut out = settings.clone();
    for d in decided {
        match &d.scope {
            Scope::Hub { routes } => out.transfers.push(Transfer {
                routes: routes.to_vec(),
                max_change_s: settings.transfer_min_s,
            }),
            Scope::RouteHours { route, start, end } => {
                if !out.routes.iter().any(|r| r.route == *route) {
                    out.routes.push(RouteHours {
                        route: *route,
                        start: start.clone(),
                        end: end.clone(),
                    });
                }
            }
            Scope::Card { .. } => {}
        }
    }
    out
}

/// Clears, on `flags`, the hits a card decision covers and no clearing
/// has cleared yet, recording each as a clearing of the decision's
/// (operator, reason, source `decision D-<n>`). Returns how many.
pub fn clear_cards(
    reg: &mut Registry,
    decided: &[Decision],
    flags: &mut [Flag],
) -> Result<usize, Error> {
    let mut plan: Vec<(i32, i64, String, &Decision)> = Vec::new();
    for f in flags.iter_mut() {
        for h in f.rules.iter_mut().filter(|h| !h.cleared) {
            let by = decided.iter().find(|d| {
                d.scope
                    == Scope::Card {
                        card: f.card,
                        rule: h.rule,
                    }
            });
            if let Some(d) = by {
                h.cleared = true;
                plan.push((f.validator, f.seq, h.rule.code().to_string(), d));
            }
        }
    }
    if plan.is_empty() {
        return Ok(0);
    }
    let path = reg.path().to_path_buf();
    let err = |e| Error::Registry(crate::registry::Error::sqlite(&path, e));
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let at = crate::time::now_utc_text();
    for (v, s, rule, d) in &plan {
        tx.execute(
            "INSERT INTO flag_clearings (flag_id, validator, seq, rules, at, operator, reason, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                super::flag_id(*v, *s),
                v,
                s,
                rule,
                at,
                d.operator,
                d.reason,
                format!("decision {}", d.id)
            ],
        )
        .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(plan.len())
}
