//! Writing a release: the tables as CSV (Ukrainian, and an English copy)
//! and Parquet, the data dictionary, and the signed manifest; all into a
//! folder beside the target, renamed into place at the end, so a release is
//! there whole or not at all. And reading one back to verify it.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use polars::prelude::*;

use super::suppress::{Why, suppress};
use super::tables::{DayType, MonthTables, group_label, problem};
use super::{Error, Level, Verified, Withheld};
use crate::config::Config;

const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.json.sig";

/// Refuses an `--out` that exists and holds anything.
pub fn check_out(out: &Path) -> Result<(), Error> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(Error::Exists {
                path: out.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// A release being written, in a folder made new beside `<out>`.
pub struct Writer {
    out: PathBuf,
    tmp: crate::private::NewDir,
    level: Level,
    /// Relative path → what it is (for the manifest).
    files: Vec<(String, String)>,
    /// The tables written, for the data dictionary.
    docs: Vec<Doc>,
}

/// A table as the data dictionary describes it.
#[derive(Clone)]
pub struct Doc {
    pub name: &'static str,
    pub about_uk: &'static str,
    pub about_en: &'static str,
    pub columns: Vec<Column>,
    pub rows: usize,
}

/// A table as published: a header in each language and its rows, each
/// cell a text (an empty text is a withheld number).
pub struct Table {
    pub name: &'static str,
    pub about_uk: &'static str,
    pub about_en: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub en: &'static str,
    pub uk: &'static str,
    pub about_uk: &'static str,
    pub about_en: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    /// A Ukrainian and an English text (day types, group names).
    Both(String, String),
    Int(Option<i64>),
    Flag(bool),
}

const fn c(
    en: &'static str,
    uk: &'static str,
    about_uk: &'static str,
    about_en: &'static str,
) -> Column {
    Column {
        en,
        uk,
        about_uk,
        about_en,
    }
}

impl Writer {
    pub fn begin(out: &Path, level: Level) -> Result<Writer, Error> {
        let fail = |e: std::io::Error| Error::Write {
            path: out.to_path_buf(),
            detail: e.to_string(),
        };
        let mode = if level == Level::Research {
            crate::private::Mode::Private
        } else {
            crate::private::Mode::Public
        };
        let tmp = crate::private::NewDir::create(out, mode).map_err(fail)?;
        Ok(Writer {
            out: out.to_path_buf(),
            tmp,
            level,
            files: Vec::new(),
            docs: Vec::new(),
        })
    }

    /// Who may read the release's files.
    fn mode(&self) -> crate::private::Mode {
        if self.level == Level::Research {
            crate::private::Mode::Private
        } else {
            crate::private::Mode::Public
        }
    }

    fn fail(&self) -> impl Fn(String) -> Error + '_ {
        move |detail| Error::Write {
            path: self.out.clone(),
            detail,
        }
    }

    /// The path of `rel` inside the release being written (its folder made).
    pub fn path(&mut self, rel: &str, about: &str) -> Result<PathBuf, Error> {
        let p = self.tmp.path().join(rel);
        if let Some(dir) = p.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(if self.level == Level::Research {
                    0o700
                } else {
                    0o755
                })
                .create(dir)
                .map_err(|e| (self.fail())(e.to_string()))?;
        }
        self.files.push((rel.to_string(), about.to_string()));
        Ok(p)
    }

    /// Writes `bytes` as `rel`.
    pub fn file(&mut self, rel: &str, about: &str, bytes: &[u8]) -> Result<(), Error> {
        let p = self.path(rel, about)?;
        self.put(&p, bytes)
    }

    /// Writes a file of the release: a research release's readable by
    /// its owner only.
    fn put(&self, p: &Path, bytes: &[u8]) -> Result<(), Error> {
        crate::private::write_mode(p, bytes, self.mode()).map_err(|e| (self.fail())(e.to_string()))
    }

    /// A new file of the release, written through `private::NewFile`.
    pub fn new_file(&self, p: &Path) -> Result<crate::private::NewFile, Error> {
        crate::private::NewFile::create(p, self.mode()).map_err(|e| (self.fail())(e.to_string()))
    }

    /// Writes `t` as `csv/uk/NAME.csv`, `csv/en/NAME.csv` and
    /// `parquet/NAME.parquet`.
    pub fn table(&mut self, t: &Table) -> Result<(), Error> {
        self.docs.push(Doc {
            name: t.name,
            about_uk: t.about_uk,
            about_en: t.about_en,
            columns: t.columns.clone(),
            rows: t.rows.len(),
        });
        for uk in [true, false] {
            let mut out = csv::Writer::from_writer(Vec::new());
            let header: Vec<&str> = t
                .columns
                .iter()
                .map(|c| if uk { c.uk } else { c.en })
                .collect();
            let fail = |e: csv::Error| (self.fail())(e.to_string());
            out.write_record(&header).map_err(fail)?;
            for row in &t.rows {
                out.write_record(crate::text::csv_row(row.iter().map(|v| text(v, uk))))
                    .map_err(fail)?;
            }
            let bytes = out.into_inner().map_err(|e| (self.fail())(e.to_string()))?;
            let lang = if uk { "uk" } else { "en" };
            self.file(
                &format!("csv/{lang}/{}.csv", t.name),
                if uk { t.about_uk } else { t.about_en },
                &bytes,
            )?;
        }
        let mut df = frame(t).map_err(|e| (self.fail())(e.to_string()))?;
        let p = self.path(&format!("parquet/{}.parquet", t.name), t.about_en)?;
        let mut file = self.new_file(&p)?;
        ParquetWriter::new(&mut file)
            .finish(&mut df)
            .map_err(|e| (self.fail())(e.to_string()))?;
        file.commit().map_err(|e| (self.fail())(e.to_string()))
    }

    /// The data dictionary, the manifest and its signature; then the
    /// release is renamed into place. Returns the files it lists.
    pub fn finish(mut self, meta: &Meta<'_>, key: &SigningKey) -> Result<usize, Error> {
        let (uk, en) = readme(meta, &self.docs);
        self.file("README.md", "Опис даних українською", uk.as_bytes())?;
        self.file(
            "README.en.md",
            "The data dictionary in English",
            en.as_bytes(),
        )?;
        let mut files = Vec::new();
        for (rel, about) in &self.files {
            let bytes = std::fs::read(self.tmp.path().join(rel))
                .map_err(|e| (self.fail())(e.to_string()))?;
            files.push(serde_json::json!({
                "path": rel,
                "bytes": bytes.len(),
                "sha256": crate::hash::sha256_hex(&bytes),
                "about": about,
            }));
        }
        let manifest = serde_json::json!({
            "release": meta.release,
            "level": meta.level,
            "period": {"from": meta.from, "to": meta.to},
            "created_utc": meta.created,
            "months": meta.months,
            "trips": meta.trips,
            "min_cell": meta.min_cell,
            "withheld": meta.withheld,
            "public_key": meta.public_key,
            "signature": {"algorithm": "Ed25519", "file": SIGNATURE, "over": "the bytes of manifest.json"},
            "files": files,
        });
        let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises") + "\n";
        let count = self.files.len();
        self.put(&self.tmp.path().join(MANIFEST), text.as_bytes())?;
        self.put(
            &self.tmp.path().join(SIGNATURE),
            format!("{}\n", super::sign::sign(key, text.as_bytes())).as_bytes(),
        )?;
        let fail = |e: std::io::Error| Error::Write {
            path: self.out.clone(),
            detail: e.to_string(),
        };
        self.tmp.commit().map_err(fail)?;
        Ok(count)
    }
}

fn text(v: &Value, uk: bool) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Both(u, e) => {
            if uk {
                u.clone()
            } else {
                e.clone()
            }
        }
        Value::Int(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        Value::Flag(b) => match (uk, b) {
            (true, true) => "так".into(),
            (true, false) => "ні".into(),
            (false, b) => b.to_string(),
        },
    }
}

/// The table as a Parquet frame: English column names, numbers as
/// nullable integers, flags as booleans, texts in English.
fn frame(t: &Table) -> PolarsResult<DataFrame> {
    let cols = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name: PlSmallStr = c.en.into();
            let first = t.rows.first().map(|r| &r[i]);
            Ok(match first {
                Some(Value::Int(_)) => Series::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| match &r[i] {
                            Value::Int(n) => *n,
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                Some(Value::Flag(_)) => Series::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| matches!(r[i], Value::Flag(true)))
                        .collect::<Vec<_>>(),
                ),
                _ => Series::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| text(&r[i], false))
                        .collect::<Vec<_>>(),
                ),
            }
            .into())
        })
        .collect::<PolarsResult<Vec<Column_>>>()?;
    DataFrame::new(t.rows.len(), cols)
}

type Column_ = polars::prelude::Column;

/// What the manifest and the data dictionary say of the release.
pub struct Meta<'a> {
    pub release: &'a str,
    pub level: Level,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub created: &'a str,
    pub min_cell: u32,
    pub months: &'a [String],
    pub trips: i64,
    pub withheld: &'a [Withheld],
    pub public_key: &'a str,
}

impl Writer {
    /// Records a table written by other means (the research rows, streamed).
    pub fn doc(&mut self, doc: Doc) {
        self.docs.push(doc);
    }
}

const MONTH: Column = c(
    "month",
    "місяць",
    "Місяць (за київським часом), РРРР-ММ.",
    "The month (Kyiv time), YYYY-MM.",
);
const TRIPS: Column = c(
    "trips",
    "поїздки",
    "Поїздки: прийняті валідації пільгових карток. Порожньо, коли число приховано.",
    "Trips: accepted validations of benefit cards. Empty when the number is withheld.",
);
const WITHHELD: Column = c(
    "suppressed",
    "приховано",
    "«так», коли число приховано: за ним менше ніж min_cell різних карток, або воно приховане, щоб мале число не можна було обчислити з підсумків.",
    "true when the number is withheld: fewer than min_cell distinct cards are behind it, or it is withheld so that a small one cannot be worked out from the totals.",
);
const ROUTE: Column = c(
    "route",
    "маршрут",
    "Номер маршруту; «усі» — підсумок за всіма маршрутами.",
    "The route number; \"all\" is the total over every route.",
);

fn all() -> Value {
    Value::Both("усі".into(), "all".into())
}

/// A month's numbers as published: the value, or empty and flagged.
fn shown(count: &super::tables::Count, s: Option<Why>) -> [Value; 2] {
    match s {
        None => [Value::Int(Some(count.trips)), Value::Flag(false)],
        Some(_) => [Value::Int(None), Value::Flag(true)],
    }
}

/// The public tables of every month, suppressed, written; returns each
/// table's withheld share.
pub fn public(
    w: &mut Writer,
    config: &Config,
    carriers: &BTreeMap<i64, String>,
    months: &[MonthTables],
) -> Result<Vec<Withheld>, Error> {
    let min_cell = i64::from(config.open_data.min_cell);
    let mut t1 = Vec::new();
    let mut t2 = Vec::new();
    let mut t3 = Vec::new();
    let mut t4 = Vec::new();
    let mut totals = Vec::new();
    let mut withheld = Vec::new();
    for m in months {
        let (q, rel, l) = problem(m);
        let s = suppress(&q, &rel, min_cell);
        let month = || Value::Text(m.month.clone());
        let mut share = |table: &str, idx: &mut dyn Iterator<Item = usize>| {
            let mut x = Withheld {
                month: m.month.clone(),
                table: table.to_string(),
                cells: 0,
                withheld_small: 0,
                withheld_complement: 0,
                trips: m.total.trips,
                withheld_trips: 0,
                withheld_pct: 0.0,
            };
            for i in idx {
                x.cells += 1;
                match s[i] {
                    Some(Why::Small) => x.withheld_small += 1,
                    Some(Why::Complement) => x.withheld_complement += 1,
                    None => {}
                }
                if s[i].is_some() {
                    x.withheld_trips += q[i].trips;
                }
            }
            x.withheld_pct = if x.trips > 0 {
                (x.withheld_trips as f64 * 10_000.0 / x.trips as f64).round() / 100.0
            } else {
                0.0
            };
            withheld.push(x);
        };
        share("trips_by_route_hour", &mut l.route_hour.values().copied());
        share("trips_by_route_group", &mut l.route_group.values().copied());
        share("trips_by_community", &mut l.community.values().copied());
        share("trips_by_carrier", &mut l.carrier.values().copied());
        let day = |d: DayType| Value::Both(d.uk().into(), d.code().into());
        for (&(r, d, h), &i) in &l.route_hour {
            let [v, f] = shown(&m.route_hour[&(r, d, h)], s[i]);
            t1.push(vec![
                month(),
                Value::Text(r.to_string()),
                day(d),
                Value::Int(Some(i64::from(h))),
                v,
                f,
            ]);
        }
        for (&(d, h), &i) in &l.hour {
            let [v, f] = shown(&m.hour[&(d, h)], s[i]);
            t1.push(vec![
                month(),
                all(),
                day(d),
                Value::Int(Some(i64::from(h))),
                v,
                f,
            ]);
        }
        let group = |g: &str| {
            let (uk, en) = group_label(g);
            [Value::Text(g.to_string()), Value::Both(uk, en)]
        };
        for ((r, g), &i) in &l.route_group {
            let [v, f] = shown(&m.route_group[&(*r, g.clone())], s[i]);
            let [gc, gn] = group(g);
            t2.push(vec![month(), Value::Text(r.to_string()), gc, gn, v, f]);
        }
        for (g, &i) in &l.group {
            let [v, f] = shown(&m.group[g], s[i]);
            let [gc, gn] = group(g);
            t2.push(vec![month(), all(), gc, gn, v, f]);
        }
        for (&r, &i) in &l.route {
            let [v, f] = shown(&m.route[&r], s[i]);
            t2.push(vec![
                month(),
                Value::Text(r.to_string()),
                all(),
                all(),
                v,
                f,
            ]);
        }
        for (k, &i) in &l.community {
            let [v, f] = shown(&m.community[k], s[i]);
            let name = config.community(k).map(|c| c.name.clone());
            let name = match name {
                Some(n) => Value::Both(n.clone(), n),
                None => Value::Both("невідома".into(), "unknown".into()),
            };
            t3.push(vec![month(), Value::Text(k.clone()), name, v, f]);
        }
        for (k, &i) in &l.carrier {
            let [v, f] = shown(&m.carrier[k], s[i]);
            let (id, name) = match k {
                Some(c) => (
                    c.to_string(),
                    carriers.get(&i64::from(*c)).cloned().unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            };
            t4.push(vec![
                month(),
                Value::Text(id),
                Value::Both(name.clone(), name),
                v,
                f,
            ]);
        }
        let [v, f] = shown(&m.total, s[l.total]);
        let riders = if s[l.total].is_none() {
            Some(m.total.cards)
        } else {
            None
        };
        totals.push(vec![month(), v, Value::Int(riders), f]);
    }
    let group_cols = [
        c(
            "category_group",
            "група_категорій",
            "Код групи пільгових категорій; «усі» — усі групи.",
            "The benefit category group's code; \"all\" is every group.",
        ),
        c(
            "category_group_name",
            "назва_групи",
            "Назва групи.",
            "The group's name.",
        ),
    ];
    w.table(&Table {
        name: "trips_by_route_hour",
        about_uk: "Поїздки за маршрутом, годиною (київський час) і типом дня; рядки «усі» — підсумки за годиною та типом дня.",
        about_en: "Trips by route, Kyiv hour and day type; the \"all\" rows are the totals by hour and day type.",
        columns: vec![
            MONTH,
            ROUTE,
            c("day_type", "тип_дня", "будній, субота, або неділя чи святковий день.", "weekday, saturday, or sunday_holiday (a Sunday or a public holiday)."),
            c("hour", "година", "Година початку поїздки за київським часом, 0–23.", "The hour the trip began, Kyiv time, 0–23."),
            TRIPS,
            WITHHELD,
        ],
        rows: t1,
    })?;
    w.table(&Table {
        name: "trips_by_route_group",
        about_uk: "Поїздки за маршрутом і групою пільгових категорій; рядки «усі» — підсумки за групою і за маршрутом.",
        about_en: "Trips by route and benefit category group; the \"all\" rows are the totals by group and by route.",
        columns: vec![MONTH, ROUTE, group_cols[0], group_cols[1], TRIPS, WITHHELD],
        rows: t2,
    })?;
    w.table(&Table {
        name: "trips_by_community",
        about_uk: "Поїздки мешканців кожної громади (громада оплачує поїздки своїх мешканців).",
        about_en: "Trips by the residents of each community (a community pays for its residents' trips).",
        columns: vec![
            MONTH,
            c("community", "громада", "Код громади (КАТОТТГ); unknown — картка не в реєстрі.", "The community's code (KATOTTG); unknown: a card not in the registry."),
            c("community_name", "назва_громади", "Назва громади.", "The community's name."),
            TRIPS,
            WITHHELD,
        ],
        rows: t3,
    })?;
    w.table(&Table {
        name: "trips_by_carrier",
        about_uk: "Поїздки за перевізником.",
        about_en: "Trips by carrier.",
        columns: vec![
            MONTH,
            c(
                "carrier",
                "перевізник",
                "Номер перевізника; порожньо — валідатор не записав перевізника.",
                "The carrier's number; empty: the validator recorded none.",
            ),
            c(
                "carrier_name",
                "назва_перевізника",
                "Назва перевізника.",
                "The carrier's name.",
            ),
            TRIPS,
            WITHHELD,
        ],
        rows: t4,
    })?;
    w.table(&Table {
        name: "totals",
        about_uk: "Підсумок місяця: усі поїздки (як у звіті kartka report за той самий період) і кількість різних карток.",
        about_en: "The month's total: every trip (as kartka report gives it for the same period) and the distinct cards.",
        columns: vec![
            MONTH,
            TRIPS,
            c("cards", "картки", "Різні картки, якими їздили в місяці.", "Distinct cards that rode in the month."),
            WITHHELD,
        ],
        rows: totals,
    })?;
    Ok(withheld)
}

/// The data dictionary, in Ukrainian and in English.
fn readme(meta: &Meta<'_>, docs: &[Doc]) -> (String, String) {
    let mut uk = String::new();
    let mut en = String::new();
    let research = meta.level == Level::Research;
    uk.push_str(&format!(
        "# Відкриті дані пільгового проїзду: {} — {}\n\n",
        meta.from, meta.to
    ));
    en.push_str(&format!(
        "# Open data on free public transport: {} to {}\n\n",
        meta.from, meta.to
    ));
    uk.push_str(&format!(
        "Випуск `{}`, створено {} (UTC). Місяці: {}. Усього поїздок: {}.\n\n",
        meta.release,
        meta.created,
        meta.months.join(", "),
        meta.trips
    ));
    en.push_str(&format!(
        "Release `{}`, made {} (UTC). Months: {}. Trips in all: {}.\n\n",
        meta.release,
        meta.created,
        meta.months.join(", "),
        meta.trips
    ));
    if research {
        uk.push_str(
            "**Дослідницький рівень.** Один рядок — одна поїздка. Номер картки замінено псевдонімом \
             (HMAC-SHA256 під ключем, створеним лише для цього випуску: псевдоніми двох випусків не \
             збігаються, тож їх не можна з'єднати); час округлено донизу до 15 хвилин; категорію \
             укрупнено до групи. Немає номерів карток, UID, імен чи інших даних власників. Дані \
             видано аналітику з зазначеною метою; видачу записано в журнал доступу кожного мешканця, \
             чиї поїздки тут є. Не передавайте їх далі й не намагайтеся встановити особу.\n\n",
        );
        en.push_str(
            "**Research level.** One row per trip. The card number is replaced by a pseudonym \
             (HMAC-SHA256 under a key made for this release only: two releases' pseudonyms differ, so \
             they cannot be joined); times are cut down to 15 minutes; categories are coarsened to \
             their group. There are no card numbers, UIDs, names or other holder data. Released to an \
             analyst for a stated purpose; the release is in the audit trail of every resident whose \
             trips are here. Do not pass it on or try to identify anyone.\n\n",
        );
    } else {
        uk.push_str(&format!(
            "**Захист.** Жодне опубліковане число не описує менше ніж {} різних карток: такі числа \
             приховано (порожня клітинка, «приховано» = так). Щоб мале число не можна було обчислити \
             з підсумків рядка, стовпця чи інших таблиць, приховано й інші числа (додаткове \
             приховування); перевірено, що жодне приховане число не визначається опублікованими. \
             Немає номерів карток, UID чи даних власників. Частку прихованих поїздок кожної таблиці \
             наведено в `manifest.json` (поле `withheld`).\n\n",
            meta.min_cell
        ));
        en.push_str(&format!(
            "**Protection.** No published number describes fewer than {} distinct cards: such numbers \
             are withheld (an empty cell, suppressed = true). So that a small number cannot be worked \
             out from a row's, a column's or another table's totals, further numbers are withheld too \
             (complementary suppression); it is checked that no withheld number is determined by the \
             published ones. There are no card numbers, UIDs or holder data. Each table's withheld \
             share of trips is in `manifest.json` (`withheld`).\n\n",
            meta.min_cell
        ));
    }
    uk.push_str("## Файли\n\nКожна таблиця є у трьох видах: `csv/uk/` (UTF-8, заголовки українською), `csv/en/` (заголовки англійською) і `parquet/`.\n\n");
    en.push_str("## Files\n\nEach table comes three ways: `csv/uk/` (UTF-8, Ukrainian headers), `csv/en/` (English headers) and `parquet/`.\n\n");
    for d in docs {
        uk.push_str(&format!(
            "### `{}` ({} рядків)\n\n{}\n\n| стовпець | column | опис |\n|---|---|---|\n",
            d.name, d.rows, d.about_uk
        ));
        en.push_str(&format!(
            "### `{}` ({} rows)\n\n{}\n\n| column | стовпець | meaning |\n|---|---|---|\n",
            d.name, d.rows, d.about_en
        ));
        for col in &d.columns {
            uk.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                col.uk, col.en, col.about_uk
            ));
            en.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                col.en, col.uk, col.about_en
            ));
        }
        uk.push('\n');
        en.push('\n');
    }
    uk.push_str(&format!(
        "## Перевірка\n\n`manifest.json` містить SHA-256 кожного файлу і підписаний ключем публікації міста \
         (Ed25519, підпис — у `manifest.json.sig`). Відкритий ключ: `{}`. Перевірити випуск:\n\n\
         ```\nkartka open-data verify ЦЯ_ТЕКА --key ключ-публікації.pub\n```\n",
        meta.public_key
    ));
    en.push_str(&format!(
        "## Verifying\n\n`manifest.json` holds every file's SHA-256 and is signed with the city's publication \
         key (Ed25519; the signature is `manifest.json.sig`). Public key: `{}`. To verify the release:\n\n\
         ```\nkartka open-data verify THIS_FOLDER --key publication-key.pub\n```\n",
        meta.public_key
    ));
    (uk, en)
}

/// Checks a release: the signature of `manifest.json` under `key`, each
/// listed file's size and SHA-256, and that no file was added.
pub fn verify(dir: &Path, key: &str) -> Result<Verified, Error> {
    let public = super::sign::public_key(key).map_err(Error::BadKey)?;
    let no = |detail: String| Error::NoManifest {
        dir: dir.to_path_buf(),
        detail,
    };
    let text = std::fs::read(dir.join(MANIFEST)).map_err(|e| no(format!("{MANIFEST}: {e}")))?;
    let sig = std::fs::read_to_string(dir.join(SIGNATURE))
        .map_err(|e| no(format!("{SIGNATURE}: {e}")))?;
    let mut problems = Vec::new();
    // The signature as kartka writes it, to the byte: lower-case hex and a
    // newline (an edited byte of it is an edit, even one hex reads alike).
    let canonical = super::sign::unhex(sig.trim())
        .is_some_and(|b| format!("{}\n", super::sign::hex(&b)) == sig);
    if !canonical {
        problems.push(format!(
            "{SIGNATURE}: not the signature as kartka writes it (64 bytes as lower-case hex on one line)"
        ));
    } else if !super::sign::verify(&public, &text, sig.trim()) {
        problems.push(format!(
            "{MANIFEST}: the signature does not hold under the key given (the manifest was changed, or another key signed it)"
        ));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| no(format!("{MANIFEST} is not JSON: {e}")))?;
    let listed = manifest["files"].as_array().cloned().unwrap_or_default();
    let mut names = std::collections::BTreeSet::new();
    let mut bytes = 0u64;
    for f in &listed {
        let rel = f["path"].as_str().unwrap_or_default().to_string();
        // A listed path may not leave the folder.
        if rel.is_empty()
            || Path::new(&rel)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            problems.push(format!(
                "{MANIFEST}: a file entry {rel:?} is not a path inside the release"
            ));
            continue;
        }
        names.insert(rel.clone());
        match std::fs::read(dir.join(&rel)) {
            Err(e) => problems.push(format!("{rel}: missing ({e})")),
            Ok(b) => {
                bytes += b.len() as u64;
                if f["sha256"].as_str() != Some(crate::hash::sha256_hex(&b).as_str()) {
                    problems.push(format!(
                        "{rel}: its SHA-256 is not the manifest's (the file was changed)"
                    ));
                }
            }
        }
    }
    for found in walk(dir).map_err(|e| no(e.to_string()))? {
        if found != MANIFEST && found != SIGNATURE && !names.contains(&found) {
            problems.push(format!("{found}: not in the manifest (a file was added)"));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Tampered {
            dir: dir.to_path_buf(),
            problems,
        });
    }
    Ok(Verified {
        dir: dir.to_path_buf(),
        release: manifest["release"].as_str().unwrap_or_default().to_string(),
        files: listed.len(),
        bytes,
    })
}

/// Every file under `dir`, as relative paths with `/`.
fn walk(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}
