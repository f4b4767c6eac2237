//! The fleet: carriers, their vehicles, and the validators on board, kept
//! in the registry and imported from a spreadsheet (one row per validator).
//!
//! Columns (English or Ukrainian headers, any order): `validator`,
//! `vehicle`, `plate`, `carrier`, `carrier_name`, `edrpou`, `routes`
//! (numbers separated by commas or spaces; the first is the default the
//! validator starts on), `zone`. A fleet list is reference data: a file with
//! any bad row is refused whole, with every bad row named, and nothing
//! changes.

use std::path::{Path, PathBuf};

use calamine::Data;
use rusqlite::{OptionalExtension, params};

use crate::registry::Registry;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: no such file.\n  Check the path.")]
    Missing { path: PathBuf },
    #[error("{path}: {why}\n  Fix the file and import it again; nothing was changed.")]
    Bad { path: PathBuf, why: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Missing { .. } => ExitCode::NoInput,
            Error::Bad { .. } => ExitCode::DataErr,
            Error::Registry(e) => e.exit_code(),
        }
    }
}

/// One validator's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub validator: u16,
    pub vehicle: u16,
    pub plate: String,
    pub carrier: u16,
    pub carrier_name: String,
    pub edrpou: String,
    pub routes: Vec<u16>,
    pub zone: u8,
}

const FIELDS: [(&str, &[&str]); 8] = [
    ("validator", &["validator", "validator_id", "валідатор"]),
    (
        "vehicle",
        &[
            "vehicle",
            "vehicle_id",
            "транспортний засіб",
            "тз",
            "борт",
            "бортовий номер",
        ],
    ),
    (
        "plate",
        &["plate", "номерний знак", "держномер", "держ. номер"],
    ),
    (
        "carrier",
        &["carrier", "carrier_id", "перевізник", "код перевізника"],
    ),
    ("carrier_name", &["carrier_name", "назва перевізника"]),
    ("edrpou", &["edrpou", "єдрпоу", "код єдрпоу"]),
    ("routes", &["routes", "route", "маршрути", "маршрут"]),
    ("zone", &["zone", "tariff_zone", "зона", "тарифна зона"]),
];
const REQUIRED: [&str; 4] = ["validator", "vehicle", "carrier", "routes"];

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Imported {
    pub revision: i64,
    pub carriers: usize,
    pub vehicles: usize,
    pub validators: usize,
    /// Validators new to the registry or whose settings changed.
    pub settings_changed: usize,
}

/// A fleet spreadsheet read and checked.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub rows: Vec<Row>,
    /// Of the file's bytes, for the import ledger.
    pub sha256: String,
}

/// Reads the rows of a fleet spreadsheet (xlsx, xls, ods or csv).
pub fn read(path: &Path) -> Result<Fleet, Error> {
    let bytes = std::fs::read(path).map_err(|_| Error::Missing {
        path: path.to_path_buf(),
    })?;
    let bad = |why: String| Error::Bad {
        path: path.to_path_buf(),
        why,
    };
    let sha256 = crate::hash::sha256_hex(&bytes);
    let (_, sheets) = crate::intake::read::open(path, bytes).map_err(|e| bad(e.to_string()))?;
    let sheet = sheets
        .first()
        .ok_or_else(|| bad("the file has no sheet".into()))?;
    let head = sheet.head();
    let norm = |d: &Data| crate::intake::cells::text(d).trim().to_lowercase();
    let found = head.iter().enumerate().find_map(|(i, row)| {
        let cols: Vec<Option<usize>> = FIELDS
            .iter()
            .map(|(_, names)| row.iter().position(|c| names.contains(&norm(c).as_str())))
            .collect();
        REQUIRED
            .iter()
            .all(|r| cols[FIELDS.iter().position(|(f, _)| f == r).expect("a field")].is_some())
            .then_some((i, cols))
    });
    let Some((header_row, cols)) = found else {
        return Err(bad(format!(
            "no header row with the columns {} (in the first {} rows of sheet {})",
            REQUIRED.join(", "),
            crate::intake::read::HEAD_ROWS,
            sheet.name
        )));
    };
    let (origin_row, _) = sheet.origin();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    sheet
        .for_each_row(header_row + 1, &mut |i, cells| {
            let get = |f: usize| {
                cols[f]
                    .and_then(|c| cells.get(c))
                    .map(|d| crate::intake::cells::text(d).trim().to_string())
                    .unwrap_or_default()
            };
            if (0..FIELDS.len()).all(|f| get(f).is_empty()) {
                return true;
            }
            match row(&get) {
                Ok(r) => rows.push(r),
                Err(why) => problems.push(format!("row {}: {why}", origin_row + i + 1)),
            }
            true
        })
        .map_err(&bad)?;
    let mut seen = std::collections::HashMap::new();
    for r in &rows {
        if let Some(prev) = seen.insert(r.validator, r.vehicle)
            && prev != r.vehicle
        {
            problems.push(format!(
                "validator {} is listed on vehicles {prev} and {}",
                r.validator, r.vehicle
            ));
        }
    }
    if !problems.is_empty() {
        return Err(bad(problems.join("\n  ")));
    }
    if rows.is_empty() {
        return Err(bad("no validators listed under the header".into()));
    }
    Ok(Fleet { rows, sha256 })
}

fn row(get: &dyn Fn(usize) -> String) -> Result<Row, String> {
    let id = |f: usize, name: &str| -> Result<u16, String> {
        let s = get(f);
        s.parse::<u16>()
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("{name} `{s}` is not a number from 1 to 65535"))
    };
    let routes: Result<Vec<u16>, String> = get(6)
        .split([',', ' ', ';'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u16>()
                .map_err(|_| format!("route `{s}` is not a number from 0 to 65535"))
        })
        .collect();
    let routes = routes?;
    if routes.is_empty() || routes.len() > kartka_protocol::message::MAX_ROUTES {
        return Err(format!(
            "routes: list 1 to {} route numbers",
            kartka_protocol::message::MAX_ROUTES
        ));
    }
    let zone = match get(7).as_str() {
        "" => 1,
        z => z
            .parse::<u8>()
            .map_err(|_| format!("zone `{z}` is not a number from 0 to 255"))?,
    };
    Ok(Row {
        validator: id(0, "validator")?,
        vehicle: id(1, "vehicle")?,
        plate: get(2),
        carrier: id(3, "carrier")?,
        carrier_name: get(4),
        edrpou: get(5),
        routes,
        zone,
    })
}

/// Upserts the rows: carriers, vehicles, validators. A validator whose
/// vehicle, carrier, routes or zone changed gets a new settings version, so
/// the next docking sends them.
pub fn import(
    reg: &mut Registry,
    path: &Path,
    fleet: &Fleet,
    operator: &str,
) -> Result<Imported, Error> {
    let rows = &fleet.rows;
    let reg_path = reg.path().to_path_buf();
    let err = |e| crate::registry::Error::sqlite(&reg_path, e);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let now = crate::time::now_utc_text();
    let mut out = Imported::default();
    let mut carriers = std::collections::BTreeSet::new();
    let mut vehicles = std::collections::BTreeSet::new();
    for r in rows {
        let routes = r
            .routes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        if carriers.insert(r.carrier) {
            let name = if r.carrier_name.is_empty() {
                format!("Перевізник {}", r.carrier)
            } else {
                r.carrier_name.clone()
            };
            tx.execute(
                "INSERT INTO carriers (id, name, edrpou) VALUES (?1, ?2, nullif(?3, ''))
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, edrpou = coalesce(excluded.edrpou, edrpou)",
                params![r.carrier, name, r.edrpou],
            )
            .map_err(err)?;
        }
        let before: Option<(u16, String, u8)> = tx
            .query_row(
                "SELECT carrier, routes, zone FROM vehicles WHERE id = ?1",
                [r.vehicle],
                |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)),
            )
            .optional()
            .map_err(err)?;
        let vehicle_changed = before.as_ref() != Some(&(r.carrier, routes.clone(), r.zone));
        if vehicles.insert(r.vehicle) {
            tx.execute(
                "INSERT INTO vehicles (id, plate, carrier, routes, zone) VALUES (?1, nullif(?2, ''), ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET plate = coalesce(excluded.plate, plate), carrier = excluded.carrier,
                   routes = excluded.routes, zone = excluded.zone",
                params![r.vehicle, r.plate, r.carrier, routes, r.zone],
            )
            .map_err(err)?;
        }
        let old: Option<(u16, i64)> = tx
            .query_row(
                "SELECT vehicle, settings_version FROM validators WHERE id = ?1",
                [r.validator],
                |x| Ok((x.get(0)?, x.get(1)?)),
            )
            .optional()
            .map_err(err)?;
        match old {
            None => {
                tx.execute(
                    "INSERT INTO validators (id, vehicle, settings_version, registered_at) VALUES (?1, ?2, 0, ?3)",
                    params![r.validator, r.vehicle, now],
                )
                .map_err(err)?;
                out.settings_changed += 1;
            }
            Some((v, version)) if v != r.vehicle || vehicle_changed => {
                tx.execute(
                    "UPDATE validators SET vehicle = ?2, settings_version = ?3 WHERE id = ?1",
                    params![r.validator, r.vehicle, version + 1],
                )
                .map_err(err)?;
                out.settings_changed += 1;
            }
            Some(_) => {}
        }
        out.validators += 1;
    }
    out.carriers = carriers.len();
    out.vehicles = vehicles.len();
    tx.execute(
        "INSERT INTO fleet_imports (at, operator, file, sha256, carriers, vehicles, validators) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now,
            operator,
            path.display().to_string(),
            fleet.sha256,
            out.carriers as i64,
            out.vehicles as i64,
            out.validators as i64
        ],
    )
    .map_err(err)?;
    out.revision = tx.last_insert_rowid();
    tx.commit().map_err(err)?;
    Ok(out)
}

/// What the registry knows of one validator, for the dock.
/// One validator as `kartka fleet list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub validator: i64,
    pub vehicle: i64,
    pub plate: String,
    pub carrier: i64,
    pub carrier_name: String,
    pub routes: String,
    pub zone: i64,
    pub settings_version: i64,
    /// When it last docked cleanly (UTC, as stored).
    pub last_docked: Option<String>,
}

/// Every validator with its vehicle, carrier and last clean docking.
pub fn list(reg: &Registry) -> Result<Vec<Listed>, Error> {
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT v.id, v.vehicle, coalesce(h.plate, ''), h.carrier, c.name, h.routes, h.zone, v.settings_version,
               (SELECT max(finished_at) FROM dock_sessions d WHERE d.validator = v.id AND d.outcome = 'ok')
             FROM validators v JOIN vehicles h ON h.id = v.vehicle JOIN carriers c ON c.id = h.carrier ORDER BY v.id",
        )
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Listed {
                validator: r.get(0)?,
                vehicle: r.get(1)?,
                plate: r.get(2)?,
                carrier: r.get(3)?,
                carrier_name: r.get(4)?,
                routes: r.get(5)?,
                zone: r.get(6)?,
                settings_version: r.get(7)?,
                last_docked: r.get(8)?,
            })
        })
        .map_err(|e| reg.err(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct ValidatorInfo {
    pub id: u16,
    pub vehicle: u16,
    pub carrier: u16,
    pub routes: Vec<u16>,
    pub zone: u8,
    pub settings_version: u32,
}

/// Every carrier's name, by id (reports and open data name them).
pub fn carrier_names(
    reg: &Registry,
) -> Result<std::collections::BTreeMap<i64, String>, crate::registry::Error> {
    let mut st = reg
        .conn()
        .prepare("SELECT id, name FROM carriers")
        .map_err(|e| reg.err(e))?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| reg.err(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}

pub fn validator(reg: &Registry, id: u16) -> Result<Option<ValidatorInfo>, crate::registry::Error> {
    reg.conn()
        .query_row(
            "SELECT v.id, v.vehicle, h.carrier, h.routes, h.zone, v.settings_version
             FROM validators v JOIN vehicles h ON h.id = v.vehicle WHERE v.id = ?1",
            [id],
            |r| {
                let routes: String = r.get(3)?;
                Ok(ValidatorInfo {
                    id: r.get(0)?,
                    vehicle: r.get(1)?,
                    carrier: r.get(2)?,
                    routes: routes.split(',').filter_map(|s| s.parse().ok()).collect(),
                    zone: r.get(4)?,
                    settings_version: r.get(5)?,
                })
            },
        )
        .optional()
        .map_err(|e| reg.err(e))
}

/// Records the settings version a validator now holds.
pub fn set_settings_version(
    reg: &Registry,
    id: u16,
    version: u32,
) -> Result<(), crate::registry::Error> {
    reg.conn()
        .execute(
            "UPDATE validators SET settings_version = ?2 WHERE id = ?1",
            params![id, version],
        )
        .map(|_| ())
        .map_err(|e| reg.err(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_bad_rows_are_named() {
        let get = |cells: [&'static str; 8]| move |i: usize| cells[i].to_string();
        let r = row(&get([
            "7",
            "1012",
            "АЕ1234ВС",
            "1",
            "АТП-1",
            "12345678",
            "5, 12",
            "",
        ]))
        .unwrap();
        assert_eq!(r.routes, vec![5, 12]);
        assert_eq!(r.zone, 1);
        let e = row(&get(["0", "1012", "", "1", "", "", "5", ""])).unwrap_err();
        assert_eq!(e, "validator `0` is not a number from 1 to 65535");
        let e = row(&get(["7", "1012", "", "1", "", "", "", ""])).unwrap_err();
        assert_eq!(e, "routes: list 1 to 8 route numbers");
    }
}
