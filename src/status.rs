//! `kartka status`: what the home holds, in counts (no personal data).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::home::Home;
use crate::registry::{self, Registry};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub home: String,
    pub schema_version: i64,
    pub people: i64,
    /// Community name → people registered there.
    pub by_community: BTreeMap<String, i64>,
    /// Category code → people holding it (a person may hold several).
    pub by_category: BTreeMap<String, i64>,
    pub imports: i64,
    pub last_import: Option<String>,
    /// Card state → cards in it.
    pub cards: BTreeMap<String, i64>,
    /// The latest published blocklist version.
    pub blocklist_version: Option<i64>,
    /// Validators registered, and how many were ever docked.
    pub validators: i64,
    pub validators_docked: i64,
    pub last_dock: Option<String>,
    /// Taps in the store, and its months.
    pub taps: i64,
    pub tap_months: Vec<String>,
    /// Files kept in quarantine (unknown validators, forged frames).
    pub quarantined: i64,
}

pub fn status(home: &Home, config: &Config) -> Result<Status, registry::Error> {
    let reg = Registry::open(&home.registry())?;
    let err = |e| reg.err(e);
    let conn = reg.conn();
    let people: i64 = conn
        .query_row("SELECT count(*) FROM people", [], |r| r.get(0))
        .map_err(err)?;
    let mut by_community = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT community, count(*) FROM people GROUP BY community")
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(err)?;
    for row in rows {
        let (code, n) = row.map_err(err)?;
        let name = config.community(&code).map_or(code, |c| c.name.clone());
        by_community.insert(name, n);
    }
    let mut by_category = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT categories FROM people").map_err(err)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
    for row in rows {
        for code in row.map_err(err)?.split(',').filter(|s| !s.is_empty()) {
            *by_category.entry(code.to_string()).or_insert(0) += 1;
        }
    }
    let (imports, last_import): (i64, Option<String>) = conn
        .query_row("SELECT count(*), max(finished_at) FROM imports", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(err)?;
    let mut cards = BTreeMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT e.state, count(*) FROM cards c JOIN card_events e \
             ON e.id = (SELECT max(x.id) FROM card_events x WHERE x.card_id = c.id) GROUP BY e.state",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(err)?;
    for row in rows {
        let (state, n) = row.map_err(err)?;
        cards.insert(state, n);
    }
    let blocklist_version: Option<i64> = conn
        .query_row("SELECT max(version) FROM blocklists", [], |r| r.get(0))
        .map_err(err)?;
    let one = |sql: &str| -> Result<i64, registry::Error> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(|e| reg.err(e))
    };
    let validators = one("SELECT count(*) FROM validators")?;
    let validators_docked =
        one("SELECT count(DISTINCT validator) FROM dock_sessions WHERE outcome = 'ok'")?;
    let taps = one("SELECT coalesce(sum(rows), 0) FROM tap_files WHERE replaced_at IS NULL")?;
    let quarantined = one("SELECT count(*) FROM quarantine")?;
    let last_dock: Option<String> = conn
        .query_row(
            "SELECT max(finished_at) FROM dock_sessions WHERE outcome = 'ok'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    let mut stmt = conn
        .prepare("SELECT DISTINCT month FROM tap_files WHERE replaced_at IS NULL ORDER BY month")
        .map_err(err)?;
    let tap_months = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(Status {
        validators,
        validators_docked,
        last_dock,
        taps,
        tap_months,
        quarantined,
        cards,
        blocklist_version,
        home: home.root().display().to_string(),
        schema_version: reg.schema_version()?,
        people,
        by_community,
        by_category,
        imports,
        last_import,
    })
}
