//! `--out FILE`: the month's flags as the analyst's review workbook (.xlsx:
//! first the configuration suspects, then a summary per rule × carrier with
//! formula totals, then the taps for review (paid unless the analyst holds
//! them) with columns "hold", "clear" and "reason", then a sheet per rule
//! that holds with the evidence and the columns "clear" and "reason", all
//! of which `kartka taps review --import` reads back), or as .csv or
//! .parquet, one row per tap and rule. Holders' names only when asked for.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::{Workbook, XlsxError};

use crate::xlsx::{Table, Val};
use rustc_hash::FxHashMap;

use super::evidence::kyiv;
use super::refs::CardInfo;
use super::{Error, Flag, Rule, Summary, rule};
use crate::lang::Lang;

/// The review columns' headers, which the import looks for.
pub const ID_HEADERS: [&str; 2] = ["Ідентифікатор", "Flag id"];
pub const RULE_HEADERS: [&str; 2] = ["Правило", "Rule"];
pub const CLEAR_HEADERS: [&str; 2] = ["Зняти (так/ні)", "Clear (yes/no)"];
pub const REASON_HEADERS: [&str; 2] = ["Причина зняття", "Reason"];
pub const HOLD_HEADERS: [&str; 2] = ["Утримати (так/ні)", "Hold (yes/no)"];
/// The review sheet's reason column, for a hold or a clearing.
pub const DECISION_REASON_HEADERS: [&str; 2] = ["Причина рішення", "Reason for the decision"];

pub struct Export<'a> {
    pub flags: &'a [Flag],
    pub summary: &'a Summary,
    pub cards: &'a FxHashMap<i64, CardInfo>,
    pub lang: Lang,
    pub names: bool,
    /// Each rule's precision over the months before, from the clearings.
    pub quality: Option<&'a super::quality::Quality>,
}

pub fn write(path: &Path, e: &Export<'_>) -> Result<(), Error> {
    let out = |message: String| Error::Output {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|er| out(er.to_string()))?;
    }
    let mode = mode(e);
    match super::out_kind(path) {
        Some("xlsx") => xlsx(path, e).map_err(|er| out(er.to_string())),
        Some("csv") => csv(path, e).map_err(out),
        Some("parquet") => {
            let mut df = super::store::frame(e.flags, true).map_err(Error::polars)?;
            let bytes = super::store::parquet_bytes(&mut df).map_err(Error::polars)?;
            crate::private::write_mode(path, &bytes, mode).map_err(|er| out(er.to_string()))
        }
        _ => Err(out(
            "the file name must end in .xlsx, .csv or .parquet".into()
        )),
    }
}

/// Holders' names are personal data, readable by the file's owner only
/// from its first byte; without them the file is for anyone the folder
/// lets in.
fn mode(e: &Export<'_>) -> crate::private::Mode {
    if e.names {
        crate::private::Mode::Private
    } else {
        crate::private::Mode::Public
    }
}

fn name_of(e: &Export<'_>, card: i64) -> String {
    e.cards
        .get(&card)
        .map(|c| c.holder.clone())
        .unwrap_or_default()
}

fn csv(path: &Path, e: &Export<'_>) -> Result<(), String> {
    let en = e.lang == Lang::En;
    let file = crate::private::NewFile::create(path, mode(e)).map_err(|er| er.to_string())?;
    let mut w = csv::Writer::from_writer(file);
    let mut header = vec![
        "flag_id",
        "rule",
        "rule_number",
        "severity",
        "tapped_at_kyiv",
        "validator_id",
        "seq",
        "vehicle_id",
        "carrier_id",
        "route",
        "card_number",
        "card_uid",
    ];
    if e.names {
        header.push("holder");
    }
    header.extend(["evidence", "fare_kopecks", "cleared", "held", "review"]);
    w.write_record(&header).map_err(|er| er.to_string())?;
    for f in e.flags {
        for h in &f.rules {
            let mut row = vec![
                f.id.clone(),
                h.rule.code().into(),
                h.rule.number().to_string(),
                h.rule.severity().code().into(),
                kyiv(f.tapped_at_ms),
                f.validator.to_string(),
                f.seq.to_string(),
                f.vehicle.to_string(),
                f.carrier.map(|c| c.to_string()).unwrap_or_default(),
                f.route.to_string(),
                f.card.to_string(),
                f.uid.clone(),
            ];
            if e.names {
                row.push(name_of(e, f.card));
            }
            row.extend([
                if en {
                    h.evidence_en.clone()
                } else {
                    h.evidence_uk.clone()
                },
                f.fare_kopecks.to_string(),
                h.cleared.to_string(),
                f.held().to_string(),
                f.for_review().to_string(),
            ]);
            w.write_record(crate::text::csv_row(&row))
                .map_err(|er| er.to_string())?;
        }
    }
    w.flush().map_err(|er| er.to_string())?;
    // The fault tests stop here: the rows are in the part file, not yet
    // renamed into place.
    crate::failpoint::hit("flags-export-before-rename");
    let file = w.into_inner().map_err(|er| er.to_string())?;
    file.commit().map_err(|er| er.to_string())
}

fn xlsx(path: &Path, e: &Export<'_>) -> Result<(), XlsxError> {
    let en = e.lang == Lang::En;
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(format!(
                "{} {}",
                l("Підозрілі валідації", "Suspicious taps"),
                e.summary.month
            ))
            .set_author("kartka"),
    );
    let fm = crate::xlsx::formats();
    let title = format!(
        "{} {}",
        l("Підозрілі валідації", "Suspicious taps"),
        e.summary.month
    );

    // First what points at the configuration, not at fraud.
    suspects_sheet(&mut book, &fm, e, &title)?;

    // Summary: rule × carrier.
    // (rule, carrier) → taps flagged, held, for review, kopecks held.
    type Cell = (u32, u32, u32, i64);
    let mut cells: BTreeMap<(Rule, Option<i32>), Cell> = BTreeMap::new();
    for f in e.flags {
        for h in &f.rules {
            let c = cells.entry((h.rule, f.carrier)).or_default();
            c.0 += 1;
            if h.holds() {
                c.1 += 1;
                c.3 += f.fare_kopecks;
            } else if h.for_review() {
                c.2 += 1;
            }
        }
    }
    {
        let s = book.add_worksheet().set_name(l("Підсумок", "Summary"))?;
        s.write_string_with_format(
            0,
            0,
            format!(
                "{} {}: {} {}, {} {}, {} {}",
                l("Підозрілі валідації за", "Suspicious taps in"),
                e.summary.month,
                e.summary.taps,
                l("валідацій перевірено", "taps judged"),
                e.summary.flagged,
                l("позначено", "flagged"),
                e.summary.held,
                l("утримано", "held"),
            ),
            &fm.bold,
        )?;
        let head = [
            l("№ правила", "Rule no."),
            l("Правило", "Rule"),
            l("Код", "Code"),
            l("Серйозність", "Severity"),
            l("Перевізник", "Carrier"),
            l("Позначено", "Flagged"),
            l("Утримано", "Held"),
            l("До перевірки (оплачено)", "For review (paid)"),
            l("Сума утримано", "Amount held"),
        ];
        let table = Table {
            headers: head.iter().map(|h| h.to_string()).collect(),
            rows: cells
                .iter()
                .map(|((rule, carrier), (n, held, review, kop))| {
                    vec![
                        Val::Figure(i64::from(rule.number())),
                        Val::Text(rule.title(en).into()),
                        Val::Text(rule.code().into()),
                        Val::Text(rule.severity().title(en).into()),
                        carrier.map_or(Val::Text("—".into()), |c| Val::Figure(i64::from(c))),
                        Val::Int(i64::from(*n)),
                        Val::Int(i64::from(*held)),
                        Val::Int(i64::from(*review)),
                        Val::Money(*kop),
                    ]
                })
                .collect(),
            total: Some(l("Усього (за правилами)", "Total (by rule)").into()),
        };
        let next = crate::xlsx::table(s, &fm, 2, &table, true)?;
        s.write_string(
            next + 1,
            1,
            l(
                "Одна валідація може порушити кілька правил; утримана сума без повторів:",
                "A tap may break several rules; the amount held, each tap once:",
            ),
        )?;
        s.write_number_with_format(
            next + 1,
            8,
            crate::money::cell_value(e.summary.held_kopecks),
            &fm.money_bold,
        )?;
        if let Some(q) = e.quality {
            quality_table(s, &fm, next + 3, q, en)?;
        }
        crate::xlsx::print(s, &title, &e.summary.month, e.lang);
    }

    review_sheet(&mut book, &fm, e, &title)?;

    // A sheet per rule that holds and fired.
    for rule in rule::ALL.into_iter().filter(|r| r.holds()) {
        let rows: Vec<(&Flag, &super::Hit)> = e
            .flags
            .iter()
            .flat_map(|f| {
                f.rules
                    .iter()
                    .filter(|h| h.rule == rule)
                    .map(move |h| (f, h))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let s = book.add_worksheet_with_constant_memory()?;
        s.set_name(format!("{} {}", rule.number(), rule.code()))?;
        let mut head = vec![
            ID_HEADERS[usize::from(en)],
            RULE_HEADERS[usize::from(en)],
            l("Серйозність", "Severity"),
            l("Час (Київ)", "Time (Kyiv)"),
            l("Валідатор", "Validator"),
            l("№ валідації", "Seq"),
            l("ТЗ", "Vehicle"),
            l("Перевізник", "Carrier"),
            l("Маршрут", "Route"),
            l("Картка", "Card"),
        ];
        if e.names {
            head.push(l("Власник", "Holder"));
        }
        head.extend([
            l("Докази", "Evidence"),
            l("Тариф", "Fare"),
            l("Знято раніше", "Cleared before"),
            CLEAR_HEADERS[usize::from(en)],
            REASON_HEADERS[usize::from(en)],
        ]);
        let width = head.len() as u16;
        s.set_column_width(0, 16)?;
        s.set_column_width(1, 22)?;
        s.set_column_width(3, 20)?;
        s.set_column_width(width - 5, 70)?;
        s.set_column_width(width - 1, 30)?;
        s.set_freeze_panes(1, 0)?;
        s.autofilter(0, 0, rows.len() as u32, width - 1)?;
        crate::xlsx::print(s, &title, rule.title(en), e.lang);
        for (c, h) in head.iter().enumerate() {
            s.write_string_with_format(0, c as u16, *h, &fm.header)?;
        }
        for (i, (f, h)) in rows.iter().enumerate() {
            let r = i as u32 + 1;
            let mut c = 0u16;
            let mut next = || {
                c += 1;
                c - 1
            };
            s.write_string(r, next(), &f.id)?;
            s.write_string(r, next(), rule.code())?;
            s.write_string(r, next(), rule.severity().title(en))?;
            s.write_string(r, next(), kyiv(f.tapped_at_ms))?;
            s.write_number(r, next(), f64::from(f.validator))?;
            s.write_number(r, next(), f.seq as f64)?;
            s.write_number(r, next(), f64::from(f.vehicle))?;
            let col = next();
            match f.carrier {
                Some(x) => s.write_number(r, col, f64::from(x))?,
                None => s.write_string(r, col, "—")?,
            };
            s.write_number(r, next(), f64::from(f.route))?;
            s.write_string(r, next(), f.card.to_string())?;
            if e.names {
                s.write_string(r, next(), crate::xlsx::clip(&name_of(e, f.card)))?;
            }
            s.write_string(r, next(), if en { &h.evidence_en } else { &h.evidence_uk })?;
            s.write_number_with_format(
                r,
                next(),
                crate::money::cell_value(f.fare_kopecks),
                &fm.money,
            )?;
            s.write_string(
                r,
                next(),
                match (h.cleared, en) {
                    (true, false) => "так",
                    (true, true) => "yes",
                    (false, _) => "",
                },
            )?;
        }
    }
    crate::xlsx::save(&mut book, path, mode(e))
}

/// The taps for review: every hit of a rule that does not hold, with its
/// evidence, the analyst's decision so far, and the columns to hold or
/// clear it.
fn review_sheet(
    book: &mut Workbook,
    fm: &crate::xlsx::Formats,
    e: &Export<'_>,
    title: &str,
) -> Result<(), XlsxError> {
    let en = e.lang == Lang::En;
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    let rows: Vec<(&Flag, &super::Hit)> = e
        .flags
        .iter()
        .flat_map(|f| f.rules.iter().map(move |h| (f, h)))
        .filter(|(_, h)| !h.rule.holds())
        .collect();
    let s = book.add_worksheet_with_constant_memory()?;
    s.set_name(l("До перевірки", "For review"))?;
    let mut head = vec![
        ID_HEADERS[usize::from(en)],
        RULE_HEADERS[usize::from(en)],
        l("Час (Київ)", "Time (Kyiv)"),
        l("Валідатор", "Validator"),
        l("№ валідації", "Seq"),
        l("ТЗ", "Vehicle"),
        l("Перевізник", "Carrier"),
        l("Маршрут", "Route"),
        l("Картка", "Card"),
    ];
    if e.names {
        head.push(l("Власник", "Holder"));
    }
    head.extend([
        l("Докази", "Evidence"),
        l("Тариф", "Fare"),
        l("Рішення раніше", "Decided before"),
        HOLD_HEADERS[usize::from(en)],
        CLEAR_HEADERS[usize::from(en)],
        DECISION_REASON_HEADERS[usize::from(en)],
    ]);
    let width = head.len() as u16;
    s.set_column_width(0, 16)?;
    s.set_column_width(1, 22)?;
    s.set_column_width(2, 20)?;
    s.set_column_width(width - 6, 70)?;
    s.set_column_width(width - 1, 30)?;
    s.set_freeze_panes(1, 0)?;
    s.autofilter(0, 0, rows.len().max(1) as u32, width - 1)?;
    crate::xlsx::print(s, title, l("До перевірки", "For review"), e.lang);
    for (c, h) in head.iter().enumerate() {
        s.write_string_with_format(0, c as u16, *h, &fm.header)?;
    }
    for (i, (f, h)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let mut c = 0u16;
        let mut next = || {
            c += 1;
            c - 1
        };
        s.write_string(r, next(), &f.id)?;
        s.write_string(r, next(), h.rule.code())?;
        s.write_string(r, next(), kyiv(f.tapped_at_ms))?;
        s.write_number(r, next(), f64::from(f.validator))?;
        s.write_number(r, next(), f.seq as f64)?;
        s.write_number(r, next(), f64::from(f.vehicle))?;
        let col = next();
        match f.carrier {
            Some(x) => s.write_number(r, col, f64::from(x))?,
            None => s.write_string(r, col, "—")?,
        };
        s.write_number(r, next(), f64::from(f.route))?;
        s.write_string(r, next(), f.card.to_string())?;
        if e.names {
            s.write_string(r, next(), crate::xlsx::clip(&name_of(e, f.card)))?;
        }
        s.write_string(r, next(), if en { &h.evidence_en } else { &h.evidence_uk })?;
        s.write_number_with_format(
            r,
            next(),
            crate::money::cell_value(f.fare_kopecks),
            &fm.money,
        )?;
        let before = match (h.held, h.cleared) {
            (true, _) => l("утримано", "held"),
            (_, true) => l("знято", "cleared"),
            _ => "",
        };
        s.write_string(r, next(), before)?;
    }
    Ok(())
}

/// The first sheet: the configuration suspects, each finding with its
/// evidence and likely fix, and how to clear one.
fn suspects_sheet(
    book: &mut Workbook,
    fm: &crate::xlsx::Formats,
    e: &Export<'_>,
    title: &str,
) -> Result<(), XlsxError> {
    let en = e.lang == Lang::En;
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    let suspects = &e.summary.suspects;
    let s = book
        .add_worksheet()
        .set_name(l("Підозри на налаштування", "Configuration suspects"))?;
    let held: usize = suspects.iter().map(|x| x.taps - x.cleared).sum();
    let kopecks: i64 = suspects.iter().map(|x| x.held_kopecks).sum();
    s.write_string_with_format(
        0,
        0,
        if suspects.is_empty() {
            l(
                "Підозр на помилки налаштувань не знайдено: жодне з правил 6, 7, 9 не спрацювало на більшості валідацій валідатора за день чи маршруту, ТЗ, годинника кілька днів місяця.",
                "No configuration suspect: none of rules 6, 7 and 9 fired on most of a validator's taps in a day, or of a route's, vehicle's or clock's on several days of the month.",
            )
            .to_string()
        } else {
            format!(
                "{}: {} ({held} {}, {})",
                l(
                    "Підозри на помилки налаштувань, а не шахрайство",
                    "Configuration suspects, not fraud"
                ),
                suspects.len(),
                l("валідацій утримано", "taps held"),
                crate::money::uah(kopecks),
            )
        },
        &fm.bold,
    )?;
    s.write_string(
        1,
        0,
        l(
            "Виправте таблицю парку або kartka.toml і запустіть `kartka taps flag` знову, або, коли поїздки підтверджено, зніміть підозру цілком: `kartka taps clear S-… --reason ТЕКСТ`.",
            "Fix the fleet sheet or kartka.toml and run `kartka taps flag` again, or, once the trips are confirmed, clear the suspect whole: `kartka taps clear S-… --reason TEXT`.",
        ),
    )?;
    if suspects.is_empty() {
        crate::xlsx::print(s, title, &e.summary.month, e.lang);
        return Ok(());
    }
    let table = Table {
        headers: [
            l("Підозра", "Suspect"),
            l("Валідатори", "Validators"),
            l("Дні", "Days"),
            l("Валідацій за ці дні", "Taps those days"),
            l("Правило", "Rule"),
            l("Валідацій за правилом", "Taps by the rule"),
            l("Утримано", "Held"),
            l("Сума утримано", "Amount held"),
            l("Докази", "Evidence"),
            l("Ймовірне виправлення", "Likely fix"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: suspects
            .iter()
            .flat_map(|x| {
                x.findings.iter().enumerate().map(move |(i, f)| {
                    let first = i == 0;
                    vec![
                        Val::Text(x.id.clone()),
                        Val::Text(
                            x.validators
                                .iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                        Val::Text(if x.scope == "month" {
                            format!(
                                "{} ({}: {})",
                                x.day,
                                x.days.len(),
                                x.days
                                    .iter()
                                    .map(|d| d.get(8..).unwrap_or(d))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        } else {
                            x.day.clone()
                        }),
                        Val::Figure(i64::from(x.day_taps)),
                        Val::Text(f.rule.into()),
                        Val::Figure(f.taps as i64),
                        if first {
                            Val::Int((x.taps - x.cleared) as i64)
                        } else {
                            Val::Text(String::new())
                        },
                        if first {
                            Val::Money(x.held_kopecks)
                        } else {
                            Val::Text(String::new())
                        },
                        Val::Text(if en { &f.evidence_en } else { &f.evidence_uk }.clone()),
                        Val::Text(if en { &f.fix_en } else { &f.fix_uk }.clone()),
                    ]
                })
            })
            .collect(),
        total: Some(l("Усього", "Total").into()),
    };
    crate::xlsx::table(s, fm, 3, &table, true)?;
    s.set_column_width(0, 18)?;
    s.set_column_width(4, 22)?;
    s.set_column_width(8, 80)?;
    s.set_column_width(9, 80)?;
    crate::xlsx::print(s, title, &e.summary.month, e.lang);
    Ok(())
}

/// Under the summary: each rule's precision over the months before, as
/// the analysts' clearings measured it (`kartka taps quality`).
fn quality_table(
    s: &mut rust_xlsxwriter::Worksheet,
    fm: &crate::xlsx::Formats,
    row: u32,
    q: &super::quality::Quality,
    en: bool,
) -> Result<(), XlsxError> {
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    let months = if q.months.is_empty() {
        l(
            "попередніх місяців з позначками ще немає",
            "no earlier flagged month yet",
        )
        .to_string()
    } else {
        q.months.join(", ")
    };
    s.write_string_with_format(
        row,
        0,
        format!(
            "{} ({months}); {} {} %",
            l(
                "Точність правил за рішеннями аналітиків",
                "The rules' precision by the analysts' decisions"
            ),
            l("поріг", "threshold"),
            q.min_precision_pct
        ),
        &fm.bold,
    )?;
    let pct = |p: f64| {
        let text = format!("{:.1} %", p * 100.0);
        if en { text } else { text.replace('.', ",") }
    };
    let table = Table {
        headers: [
            l("№ правила", "Rule no."),
            l("Код", "Code"),
            l("Позначено", "Flagged"),
            l("Знято", "Cleared"),
            l("Залишено", "Kept"),
            l("Точність", "Precision"),
            l("Нижче порогу", "Below threshold"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: q
            .rules
            .iter()
            .map(|r| {
                vec![
                    Val::Figure(i64::from(r.number)),
                    Val::Text(r.rule.into()),
                    Val::Int(r.flagged as i64),
                    Val::Int(r.cleared as i64),
                    Val::Int(r.kept as i64),
                    Val::Text(r.precision.map_or("—".into(), pct)),
                    Val::Text(if r.below { l("так", "yes") } else { "" }.into()),
                ]
            })
            .collect(),
        total: None,
    };
    crate::xlsx::table(s, fm, row + 1, &table, false)?;
    Ok(())
}
