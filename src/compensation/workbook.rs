//! The month's workbooks: one per carrier, one per community, the city's
//! summary. Ukrainian by default (`--lang en`); money in UAH with the
//! kopecks exact (totals are added in integer kopecks and stored as the
//! formulas' results); totals as SUM formulas; frozen header, autofilter,
//! landscape print fitted to the page width with the period and page
//! numbers in the header and footer; document properties.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DocProperties, Workbook, XlsxError};

use super::Error;
pub(super) use crate::xlsx::{Table, Val, col_name, formats, print, table};
use chrono::Datelike;

use super::count::Month;
use crate::config::Config;
use crate::flags::evidence::kyiv;
use crate::lang::Lang;

/// A matrix row: its label, its values, and their sum last.
fn matrix_row(label: String, values: impl Iterator<Item = i64>, money: bool) -> Vec<Val> {
    let mut row = vec![Val::Text(label)];
    let mut sum = 0;
    for v in values {
        sum += v;
        row.push(Val::number(money, v));
    }
    row.push(Val::number(money, sum));
    row
}

pub(super) use crate::lang::t;

/// What the workbooks are written from.
pub struct Books<'a> {
    pub month: &'a Month,
    pub config: &'a Config,
    pub lang: Lang,
}

/// One written workbook.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub kind: &'static str,
    pub code: String,
    pub path: PathBuf,
}

impl Books<'_> {
    pub(super) fn period(&self) -> String {
        let m = self.month;
        let last = m.first + chrono::Days::new(u64::from(m.days) - 1);
        format!(
            "{} {} – {}",
            t(self.lang, "Період:", "Period:"),
            m.first.format("%d.%m.%Y"),
            last.format("%d.%m.%Y")
        )
    }

    pub(super) fn carrier_name(&self, c: Option<i32>) -> String {
        match c {
            Some(id) => self
                .month
                .carriers
                .get(&id)
                .map(|k| format!("{} ({id})", k.name))
                .unwrap_or_else(|| id.to_string()),
            None => t(self.lang, "невідомий перевізник", "unknown carrier").into(),
        }
    }

    /// A carrier's code for file names: its ЄДРПОУ, else its id.
    pub fn carrier_code(&self, c: Option<i32>) -> String {
        match c {
            Some(id) => self
                .month
                .carriers
                .get(&id)
                .and_then(|k| k.edrpou.clone())
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| id.to_string()),
            None => "none".into(),
        }
    }

    fn community_name(&self, code: &str) -> String {
        if code.is_empty() {
            return t(self.lang, "картка не в реєстрі", "card not in the registry").into();
        }
        self.config
            .communities
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    fn category_name(&self, code: &str) -> String {
        self.config
            .categories
            .iter()
            .find(|c| c.code == code)
            .map(|c| match self.lang {
                Lang::En if !c.name_en.is_empty() => c.name_en.clone(),
                _ => c.name.clone(),
            })
            .unwrap_or_else(|| code.to_string())
    }

    pub(super) fn new_book(&self, title: &str) -> Workbook {
        let mut wb = Workbook::new();
        let created =
            chrono::DateTime::from_timestamp_millis(self.month.generated_at_ms).unwrap_or_default();
        let props = DocProperties::new()
            .set_title(title)
            .set_subject(self.period())
            .set_author("kartka")
            .set_company(&self.config.city.name)
            .set_keywords(format!("compensation {}", self.month.month))
            .set_creation_datetime(
                &rust_xlsxwriter::ExcelDateTime::from_timestamp(created.timestamp())
                    .unwrap_or_default(),
            );
        wb.set_properties(&props);
        wb
    }

    /// The notes sheet: period, what counts, the `accepted` taps the
    /// workbook covers, tariffs used, when, sources.
    fn notes(&self, wb: &mut Workbook, title: &str, accepted: i64) -> Result<(), XlsxError> {
        let f = formats();
        let m = self.month;
        let ws = wb.add_worksheet();
        ws.set_name(t(self.lang, "Примітки", "Notes"))?;
        let mut rows: Vec<Vec<Val>> = vec![
            vec![Val::Text(t(self.lang, "Документ", "Document").into()), Val::Text(title.into())],
            vec![Val::Text(t(self.lang, "Період", "Period").into()), Val::Text(self.period())],
            vec![
                Val::Text(t(self.lang, "Що оплачується", "What is paid").into()),
                Val::Text(t(
                    self.lang,
                    "Прийняті валідатором поїздки місяця (за київським часом), крім утриманих позначками підозрілих поїздок, які не зняв аналітик. Повторні прикладання в тому ж транспорті протягом тайм-ауту (P13) утримує правило 1, пересадка після поломки транспорту (P14) — правило 2: вони не є новими поїздками. Кожна поїздка оплачується один раз за тарифом, чинним у день поїздки для її маршруту, перевізника й тарифної зони.",
                    "Taps the validator accepted in the month (Kyiv time), except those held by suspicious-tap flags an analyst did not clear. Repeats in the same vehicle within the timeout (P13) are held by rule 1, a transfer after a breakdown (P14) by rule 2: neither is a new trip. Each trip is paid once, at the fare in force on its day for its route, carrier and tariff zone.",
                ).into()),
            ],
            vec![
                Val::Text(t(self.lang, "Прийнято прикладань", "Taps accepted").into()),
                Val::Int(accepted),
            ],
            vec![
                Val::Text(t(self.lang, "Перевірка позначок", "Flag run").into()),
                Val::Text(crate::time::stored_as_kyiv(&m.flag_run_at)),
            ],
            vec![
                Val::Text(t(self.lang, "Сформовано", "Generated").into()),
                Val::Text(kyiv(m.generated_at_ms)),
            ],
        ];
        let used: std::collections::BTreeSet<usize> = m.cells.iter().map(|c| c.tariff).collect();
        for i in used {
            let tr = &m.tariffs[i];
            rows.push(vec![
                Val::Text(format!(
                    "{} {} ({})",
                    t(self.lang, "Тариф з", "Fare from"),
                    tr.from.format("%d.%m.%Y"),
                    tr.scope()
                )),
                Val::Money(tr.fare_kopecks),
            ]);
        }
        for s in &m.sources {
            rows.push(vec![
                Val::Text(format!("{} {}", t(self.lang, "Джерело", "Source"), s.what)),
                Val::Text(format!(
                    "{}{} sha256 {}",
                    s.path,
                    s.rows.map(|r| format!(" ({r} rows)")).unwrap_or_default(),
                    s.sha256
                )),
            ]);
        }
        let tb = Table {
            headers: vec![
                t(self.lang, "Пункт", "Item").into(),
                t(self.lang, "Значення", "Value").into(),
            ],
            rows,
            total: None,
        };
        table(ws, &f, 0, &tb, true)?;
        ws.set_column_width(1, 110)?;
        ws.set_column_format(1, &f.wrap)?;
        print(ws, title, &self.period(), self.lang);
        Ok(())
    }

    /// Every workbook into `dir`.
    /// Every workbook; for an account limited to some carriers (P20), only
    /// those carriers' own workbooks (the city's and the communities' show
    /// every carrier).
    pub fn write_all(
        &self,
        dir: &Path,
        scope: &crate::access::Scope,
    ) -> Result<Vec<Written>, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Output {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut out = Vec::new();
        for c in self.month.carrier_ids() {
            if scope.carriers.is_empty() || c.is_some_and(|c| scope.carrier(i64::from(c))) {
                out.push(self.carrier(dir, c)?);
            }
        }
        if !scope.carriers.is_empty() {
            return Ok(out);
        }
        let mut communities: std::collections::BTreeSet<String> = self
            .month
            .paid()
            .map(|c| c.community.clone())
            .filter(|c| !c.is_empty())
            .collect();
        communities.extend(self.month.fees.keys().cloned());
        for c in communities {
            out.push(self.community(dir, &c)?);
        }
        out.push(self.city(dir)?);
        Ok(out)
    }

    pub(super) fn save(
        &self,
        mut wb: Workbook,
        path: PathBuf,
        kind: &'static str,
        code: String,
    ) -> Result<Written, Error> {
        // Created new beside the target and renamed: a reader never sees
        // half a file, and a killed run's part file is swept by the next.
        crate::xlsx::save(&mut wb, &path, crate::private::Mode::Public).map_err(|e| {
            Error::Output {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        let old_part = path.with_extension("xlsx.part");
        if std::fs::symlink_metadata(&old_part).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&old_part);
        }
        Ok(Written { kind, code, path })
    }

    fn carrier(&self, dir: &Path, carrier: Option<i32>) -> Result<Written, Error> {
        let m = self.month;
        let lang = self.lang;
        let f = formats();
        let name = self.carrier_name(carrier);
        let title = format!(
            "{} {}: {}",
            t(
                lang,
                "Компенсація за пільгові перевезення,",
                "Compensation for free trips,"
            ),
            m.month,
            name
        );
        let code = self.carrier_code(carrier);
        let path = dir.join(format!("compensation-{}-carrier-{}.xlsx", m.month, code));
        let mut wb = self.new_book(&title);
        let x = |e: XlsxError| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        };
        let cells: Vec<_> = m.cells.iter().filter(|c| c.carrier == carrier).collect();
        // Summary: route × category.
        let mut by: BTreeMap<(i32, String), (i64, i64)> = BTreeMap::new();
        let totals = m.carrier_totals(carrier);
        for c in cells.iter().filter(|c| !c.held) {
            let e = by.entry((c.route, c.category.clone())).or_default();
            e.0 += c.trips;
            e.1 += c.amount();
        }
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Підсумок", "Summary")).map_err(x)?;
            let tb = Table {
                headers: vec![
                    t(lang, "Маршрут", "Route").into(),
                    t(lang, "Категорія пільги", "Benefit category").into(),
                    t(lang, "Поїздки", "Trips").into(),
                    t(lang, "Сума, грн", "Amount, UAH").into(),
                ],
                rows: by
                    .iter()
                    .map(|((route, cat), (n, a))| {
                        vec![
                            Val::Text(route.to_string()),
                            Val::Text(self.category_name(cat)),
                            Val::Int(*n),
                            Val::Money(*a),
                        ]
                    })
                    .collect(),
                total: Some(t(lang, "Усього до оплати", "Total to pay").into()),
            };
            let next = table(ws, &f, 0, &tb, true).map_err(x)?;
            ws.write_with_format(
                next + 1,
                0,
                t(
                    lang,
                    "Утримано позначками (не оплачується)",
                    "Held by flags (not paid)",
                ),
                &f.bold,
            )
            .map_err(x)?;
            ws.write(next + 1, 2, totals.held_trips as f64).map_err(x)?;
            ws.write_with_format(next + 1, 3, totals.held_kopecks as f64 / 100.0, &f.money)
                .map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        // Day × route, trips and amounts.
        let routes: Vec<i32> = {
            let s: std::collections::BTreeSet<i32> =
                cells.iter().filter(|c| !c.held).map(|c| c.route).collect();
            s.into_iter().collect()
        };
        for (sheet, money) in [
            (t(lang, "По днях, поїздки", "By day, trips"), false),
            (t(lang, "По днях, грн", "By day, UAH"), true),
        ] {
            let mut grid: BTreeMap<(u32, i32), i64> = BTreeMap::new();
            for c in cells.iter().filter(|c| !c.held) {
                *grid.entry((c.day.day(), c.route)).or_default() +=
                    if money { c.amount() } else { c.trips };
            }
            let ws = wb.add_worksheet();
            ws.set_name(sheet).map_err(x)?;
            let mut headers: Vec<String> = vec![t(lang, "Дата", "Date").into()];
            headers.extend(
                routes
                    .iter()
                    .map(|r| format!("{} {r}", t(lang, "Маршрут", "Route"))),
            );
            headers.push(t(lang, "Усього", "Total").into());
            let rows = (1..=m.days)
                .map(|d| {
                    let date = m.first + chrono::Days::new(u64::from(d - 1));
                    matrix_row(
                        date.format("%d.%m.%Y").to_string(),
                        routes
                            .iter()
                            .map(|r| grid.get(&(d, *r)).copied().unwrap_or(0)),
                        money,
                    )
                })
                .collect();
            let tb = Table {
                headers,
                rows,
                total: Some(t(lang, "Усього", "Total").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        // The held taps.
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Утримані", "Held")).map_err(x)?;
            let tb = Table {
                headers: vec![
                    t(lang, "Ідентифікатор", "Flag id").into(),
                    t(lang, "Час (Київ)", "Time (Kyiv)").into(),
                    t(lang, "Валідатор", "Validator").into(),
                    t(lang, "Транспорт", "Vehicle").into(),
                    t(lang, "Маршрут", "Route").into(),
                    t(lang, "Картка", "Card").into(),
                    t(lang, "Правила", "Rules").into(),
                    t(lang, "Пояснення", "Evidence").into(),
                    t(lang, "Тариф, грн", "Fare, UAH").into(),
                ],
                rows: m
                    .held
                    .iter()
                    .filter(|h| h.flagged.trip.carrier == carrier)
                    .map(|held| {
                        let h = &held.flagged;
                        vec![
                            Val::Text(h.id.clone()),
                            Val::Text(kyiv(h.tapped_at_ms)),
                            Val::Int(i64::from(h.validator)),
                            Val::Int(i64::from(h.vehicle)),
                            Val::Text(h.trip.route.to_string()),
                            Val::Text(h.card.to_string()),
                            Val::Text(h.rules.clone()),
                            Val::Text(match lang {
                                Lang::Uk => h.evidence_uk.clone(),
                                Lang::En => h.evidence_en.clone(),
                            }),
                            Val::Money(held.fare),
                        ]
                    })
                    .collect(),
                total: None,
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            ws.set_column_width(7, 70).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        let own = m.carrier_totals(carrier);
        self.notes(&mut wb, &title, own.trips + own.held_trips)
            .map_err(x)?;
        self.save(wb, path, "carrier", code)
    }

    fn community(&self, dir: &Path, community: &str) -> Result<Written, Error> {
        let m = self.month;
        let lang = self.lang;
        let f = formats();
        let title = format!(
            "{} {}: {}",
            t(
                lang,
                "Пільгові перевезення мешканців громади,",
                "Free trips of the community's residents,"
            ),
            m.month,
            self.community_name(community)
        );
        let path = dir.join(format!(
            "compensation-{}-community-{}.xlsx",
            m.month, community
        ));
        let mut wb = self.new_book(&title);
        let x = |e: XlsxError| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut by: BTreeMap<(Option<i32>, i32), (i64, i64)> = BTreeMap::new();
        for c in m.paid().filter(|c| c.community == community) {
            let e = by.entry((c.carrier, c.route)).or_default();
            e.0 += c.trips;
            e.1 += c.amount();
        }
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Перевізникам", "To carriers"))
                .map_err(x)?;
            let tb = Table {
                headers: vec![
                    t(lang, "Перевізник", "Carrier").into(),
                    t(lang, "Маршрут", "Route").into(),
                    t(lang, "Поїздки мешканців", "Residents' trips").into(),
                    t(lang, "Сума, грн", "Amount, UAH").into(),
                ],
                rows: by
                    .iter()
                    .map(|((c, r), (n, a))| {
                        vec![
                            Val::Text(self.carrier_name(*c)),
                            Val::Text(r.to_string()),
                            Val::Int(*n),
                            Val::Money(*a),
                        ]
                    })
                    .collect(),
                total: Some(t(lang, "Усього перевізникам", "Total to carriers").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Картки", "Cards")).map_err(x)?;
            let fee = m.fees.get(community).cloned().unwrap_or_default();
            let tb = Table {
                headers: vec![
                    t(
                        lang,
                        "Виготовлення карток за місяць",
                        "Cards made in the month",
                    )
                    .into(),
                    t(lang, "Картки", "Cards").into(),
                    t(lang, "Сума місту, грн", "Owed to the city, UAH").into(),
                ],
                rows: vec![vec![
                    Val::Text(self.community_name(community)),
                    Val::Int(fee.cards),
                    Val::Money(fee.kopecks),
                ]],
                total: Some(t(lang, "Усього місту", "Total to the city").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        self.notes(&mut wb, &title, m.accepted).map_err(x)?;
        self.save(wb, path, "community", community.to_string())
    }

    fn city(&self, dir: &Path) -> Result<Written, Error> {
        let m = self.month;
        let lang = self.lang;
        let f = formats();
        let title = format!(
            "{} {}: {}",
            t(
                lang,
                "Зведення пільгових перевезень,",
                "Free trips summary,"
            ),
            m.month,
            self.config.city.name
        );
        let path = dir.join(format!("compensation-{}-city.xlsx", m.month));
        let mut wb = self.new_book(&title);
        let x = |e: XlsxError| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut grid: BTreeMap<(Option<i32>, String), (i64, i64)> = BTreeMap::new();
        for c in m.paid() {
            let e = grid.entry((c.carrier, c.community.clone())).or_default();
            e.0 += c.trips;
            e.1 += c.amount();
        }
        let carriers = m.carrier_ids();
        let communities: std::collections::BTreeSet<String> =
            grid.keys().map(|k| k.1.clone()).collect();
        for (sheet, money) in [
            (t(lang, "Поїздки", "Trips"), false),
            (t(lang, "Суми, грн", "Amounts, UAH"), true),
        ] {
            let ws = wb.add_worksheet();
            ws.set_name(sheet).map_err(x)?;
            let mut headers: Vec<String> =
                vec![t(lang, "Перевізник \\ громада", "Carrier \\ community").into()];
            headers.extend(communities.iter().map(|c| self.community_name(c)));
            headers.push(t(lang, "Усього", "Total").into());
            let rows = carriers
                .iter()
                .map(|car| {
                    matrix_row(
                        self.carrier_name(*car),
                        communities.iter().map(|com| {
                            grid.get(&(*car, com.clone()))
                                .map(|e| if money { e.1 } else { e.0 })
                                .unwrap_or(0)
                        }),
                        money,
                    )
                })
                .collect();
            let tb = Table {
                headers,
                rows,
                total: Some(t(lang, "Усього", "Total").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Перевізники", "Carriers")).map_err(x)?;
            let mut rows = Vec::new();
            for car in &carriers {
                let tt = m.carrier_totals(*car);
                rows.push(vec![
                    Val::Text(self.carrier_name(*car)),
                    Val::Int(tt.trips),
                    Val::Money(tt.kopecks),
                    Val::Int(tt.held_trips),
                    Val::Money(tt.held_kopecks),
                ]);
            }
            let tb = Table {
                headers: vec![
                    t(lang, "Перевізник", "Carrier").into(),
                    t(lang, "Поїздки до оплати", "Trips paid").into(),
                    t(lang, "Сума, грн", "Amount, UAH").into(),
                    t(lang, "Утримано поїздок", "Trips held").into(),
                    t(lang, "Утримано, грн", "Held, UAH").into(),
                ],
                rows,
                total: Some(t(lang, "Усього", "Total").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        {
            let ws = wb.add_worksheet();
            ws.set_name(t(lang, "Картки", "Cards")).map_err(x)?;
            let tb = Table {
                headers: vec![
                    t(lang, "Платник за виготовлення", "Pays for making").into(),
                    t(lang, "Картки", "Cards").into(),
                    t(lang, "Сума, грн", "Amount, UAH").into(),
                ],
                rows: m
                    .fees
                    .iter()
                    .map(|(c, fee)| {
                        vec![
                            Val::Text(self.community_name(c)),
                            Val::Int(fee.cards),
                            Val::Money(fee.kopecks),
                        ]
                    })
                    .collect(),
                total: Some(t(lang, "Усього", "Total").into()),
            };
            table(ws, &f, 0, &tb, true).map_err(x)?;
            print(ws, &title, &self.period(), lang);
        }
        self.notes(&mut wb, &title, m.accepted).map_err(x)?;
        self.save(wb, path, "city", self.config.city.community.clone())
    }
}
