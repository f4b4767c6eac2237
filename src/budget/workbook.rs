//! The budget workbook, in Ukrainian (`--lang en`): a summary sheet (plan,
//! actual, projection with its intervals, what is left, the month the plan
//! runs out, the cost per beneficiary, next year), then a sheet per
//! community with its months, its categories and a native Excel line chart
//! of the cumulative spend: actual, forecast with its 80 % interval, and
//! the plan.

use std::path::Path;

use rust_xlsxwriter::{Chart, ChartLineDashType, ChartType, Workbook, Worksheet, XlsxError};

use super::{Budget, CommunityBudget};
use crate::lang::Lang;
use crate::xlsx::{Formats, Table, Val};

pub fn write(path: &Path, b: &Budget, lang: Lang) -> Result<(), super::Error> {
    let out = |e: XlsxError| super::Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| super::Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    book(b, lang)
        .and_then(|mut w| crate::xlsx::save(&mut w, path, crate::private::Mode::Public))
        .map_err(out)
}

fn book(b: &Budget, lang: Lang) -> Result<Workbook, XlsxError> {
    let en = lang == Lang::En;
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    let fm = crate::xlsx::formats();
    let mut book = Workbook::new();
    let title = format!(
        "{} {}",
        l("Бюджет пільгового проїзду на", "The free-travel budget for"),
        b.year
    );
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(&title)
            .set_author("kartka"),
    );
    {
        let s = book.add_worksheet().set_name(l("Підсумок", "Summary"))?;
        s.write_string_with_format(
            0,
            0,
            format!(
                "{title}: {} {} ({} {})",
                l("факт до", "actual to"),
                b.as_of,
                b.history_months,
                l("міс. історії", "months of history")
            ),
            &fm.bold,
        )?;
        s.write_string(1, 0, b.model.title(en))?;
        let mut row = 2;
        if !b.fares.is_empty() || !b.growth.is_empty() {
            let fares: Vec<String> = b
                .fares
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {} {}",
                        f.route.map_or(
                            l("усі маршрути", "all routes").to_string(),
                            |r| format!("{} {r}", l("маршрут", "route"))
                        ),
                        crate::money::uah(f.kopecks),
                        l("з", "from"),
                        f.from
                    )
                })
                .chain(
                    b.growth
                        .iter()
                        .map(|g| format!("{} {:+}%", g.category, g.percent)),
                )
                .collect();
            s.write_string(
                row,
                0,
                format!("{}: {}", l("Сценарій", "Scenario"), fares.join("; ")),
            )?;
            row += 1;
        }
        if !b.months_not_flagged.is_empty() {
            s.write_string(
                row,
                0,
                format!(
                    "{}: {}",
                    l(
                        "Місяці без перевірки підозрілих валідацій (враховано прогнозом)",
                        "Months not yet flagged (forecast instead)"
                    ),
                    b.months_not_flagged.join(", ")
                ),
            )?;
            row += 1;
        }
        let table = Table {
            headers: [
                l("Громада", "Community"),
                l("Код", "Code"),
                l("План", "Plan"),
                l("Фактично", "Actual"),
                l("Прогноз на рік", "Projected year"),
                l("80 % від", "80 % from"),
                l("80 % до", "80 % to"),
                l("95 % від", "95 % from"),
                l("95 % до", "95 % to"),
                l("Залишок плану", "Plan left"),
                l("План вичерпано в", "Plan runs out in"),
                l("На пільговика за місяць", "Per beneficiary a month"),
                l("Прогноз на наступний рік", "Next year"),
            ]
            .iter()
            .map(|h| h.to_string())
            .collect(),
            rows: b
                .communities
                .iter()
                .map(|c| {
                    vec![
                        Val::Text(c.name.clone()),
                        Val::Text(c.code.clone()),
                        c.plan_kopecks.map_or(Val::Text("—".into()), Val::Money),
                        Val::Money(c.actual_kopecks + c.actual_fees_kopecks),
                        Val::Money(c.projected.point),
                        Val::Money(c.projected.lo80),
                        Val::Money(c.projected.hi80),
                        Val::Money(c.projected.lo95),
                        Val::Money(c.projected.hi95),
                        c.plan_left_kopecks
                            .map_or(Val::Text("—".into()), Val::Money),
                        Val::Text(c.runs_out.clone().unwrap_or_else(|| "—".into())),
                        c.cost_per_beneficiary_month_kopecks
                            .map_or(Val::Text("—".into()), Val::MoneyFigure),
                        Val::Money(c.next_year.point),
                    ]
                })
                .collect(),
            total: Some(l("Усього", "Total").into()),
        };
        crate::xlsx::table(s, &fm, row + 1, &table, true)?;
        s.set_column_width(0, 28)?;
        crate::xlsx::print(s, &title, &b.as_of, lang);
    }
    for c in &b.communities {
        let name: String = format!("{} {}", c.code, c.name)
            .chars()
            .filter(|ch| !"[]:*?/\\".contains(*ch))
            .take(31)
            .collect();
        let s = book.add_worksheet().set_name(name.trim())?;
        community(s, &fm, c, b, en)?;
        crate::xlsx::print(s, &title, &c.name, lang);
    }
    Ok(book)
}

fn community(
    s: &mut Worksheet,
    fm: &Formats,
    c: &CommunityBudget,
    b: &Budget,
    en: bool,
) -> Result<(), XlsxError> {
    let l = |uk: &'static str, en_: &'static str| if en { en_ } else { uk };
    s.write_string_with_format(
        0,
        0,
        format!(
            "{} ({}): {} {}",
            c.name,
            c.code,
            l("план", "plan"),
            c.plan_kopecks.map_or("—".to_string(), crate::money::uah)
        ),
        &fm.bold,
    )?;
    let heads = [
        l("Місяць", "Month"),
        l("Вид", "Kind"),
        l("Поїздки", "Trips"),
        l("Вартість", "Cost"),
        l("80 % від", "80 % from"),
        l("80 % до", "80 % to"),
        l("95 % від", "95 % from"),
        l("95 % до", "95 % to"),
        l("Виготовлення карток", "Card making"),
        l("Пільговиків", "Beneficiaries"),
        l("Факт наростаючим", "Actual, cumulative"),
        l("Прогноз наростаючим", "Forecast, cumulative"),
        l("80 % від, наростаючим", "80 % from, cumulative"),
        l("80 % до, наростаючим", "80 % to, cumulative"),
        l("План", "Plan"),
    ];
    let top = 2u32;
    for (i, h) in heads.iter().enumerate() {
        s.write_string_with_format(top, i as u16, *h, &fm.header)?;
    }
    let money = |s: &mut Worksheet, r: u32, col: u16, k: i64| {
        s.write_number_with_format(r, col, crate::money::cell_value(k), &fm.money)
            .map(|_| ())
    };
    let (mut sum, mut lo, mut hi) = (0i64, 0i64, 0i64);
    let last_actual = c.months.iter().rposition(|m| m.kind == "actual");
    for (i, m) in c.months.iter().enumerate() {
        let r = top + 1 + i as u32;
        s.write_string(r, 0, &m.month)?;
        s.write_string(
            r,
            1,
            match (m.kind, en) {
                ("actual", false) => "факт",
                ("forecast", false) => "прогноз",
                ("no_taps", false) => "немає даних",
                ("no_taps", true) => "no data",
                (_, false) => "прогноз (не перевірено)",
                ("not_flagged", true) => "forecast (not flagged)",
                (k, true) => k,
            },
        )?;
        s.write_number(r, 2, m.trips as f64)?;
        money(s, r, 3, m.cost.point)?;
        money(s, r, 4, m.cost.lo80)?;
        money(s, r, 5, m.cost.hi80)?;
        money(s, r, 6, m.cost.lo95)?;
        money(s, r, 7, m.cost.hi95)?;
        money(s, r, 8, m.fees_kopecks)?;
        s.write_number(r, 9, m.beneficiaries as f64)?;
        let add = |a: i64, b: i64, c: i64| {
            crate::money::add(b, c)
                .and_then(|bc| crate::money::add(a, bc))
                .map_err(|e| XlsxError::ParameterError(e.to_string()))
        };
        sum = add(sum, m.cost.point, m.fees_kopecks)?;
        lo = add(lo, m.cost.lo80, m.fees_kopecks)?;
        hi = add(hi, m.cost.hi80, m.fees_kopecks)?;
        if m.kind == "actual" {
            money(s, r, 10, sum)?;
        }
        // The forecast line starts at the last actual month, so the two
        // lines meet.
        if (m.kind != "actual" && m.kind != "no_taps") || Some(i) == last_actual {
            money(s, r, 11, sum)?;
            money(s, r, 12, lo)?;
            money(s, r, 13, hi)?;
        }
        if let Some(p) = c.plan_kopecks {
            money(s, r, 14, p)?;
        }
    }
    let last = top + c.months.len() as u32;
    s.set_column_width(0, 10)?;
    s.set_column_width(1, 22)?;
    s.set_column_range_width(2, 14, 14)?;
    // The chart: cumulative actual, forecast with its 80 % interval, plan.
    let sheet = s.name();
    let mut chart = Chart::new(ChartType::Line);
    chart.title().set_name(&format!(
        "{} {}: {}",
        c.name,
        b.year,
        l("наростаючим підсумком, грн", "cumulative, UAH")
    ));
    for (col, dash) in [
        (10u16, None),
        (11, Some(ChartLineDashType::Dash)),
        (12, Some(ChartLineDashType::RoundDot)),
        (13, Some(ChartLineDashType::RoundDot)),
        (14, Some(ChartLineDashType::LongDash)),
    ] {
        if col == 14 && c.plan_kopecks.is_none() {
            continue;
        }
        let series = chart
            .add_series()
            .set_name((sheet.as_str(), top, col))
            .set_categories((sheet.as_str(), top + 1, 0, last, 0))
            .set_values((sheet.as_str(), top + 1, col, last, col));
        if let Some(d) = dash {
            series.set_format(
                rust_xlsxwriter::ChartFormat::new()
                    .set_line(rust_xlsxwriter::ChartLine::new().set_dash_type(d)),
            );
        }
    }
    chart.y_axis().set_num_format("# ##0");
    s.insert_chart(last + 2, 0, &chart)?;
    // The categories under the chart.
    let cats_top = last + 2 + 17;
    let table = Table {
        headers: [
            l("Категорія", "Category"),
            l("План", "Plan"),
            l("Фактично", "Actual"),
            l("Прогноз на рік", "Projected year"),
            l("80 % від", "80 % from"),
            l("80 % до", "80 % to"),
            l("Прогноз на наступний рік", "Next year"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: c
            .categories
            .iter()
            .map(|k| {
                vec![
                    Val::Text(k.code.clone()),
                    k.plan_kopecks.map_or(Val::Text("—".into()), Val::Money),
                    Val::Money(k.actual_kopecks),
                    Val::Money(k.projected.point),
                    Val::Money(k.projected.lo80),
                    Val::Money(k.projected.hi80),
                    Val::Money(k.next_year.point),
                ]
            })
            .collect(),
        total: Some(l("Усього", "Total").into()),
    };
    let next = crate::xlsx::table(s, fm, cats_top, &table, false)?;
    let table = Table {
        headers: [
            l("Перевізник", "Carrier"),
            l("Фактично", "Actual"),
            l("Прогноз на рік", "Projected year"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: c
            .carriers
            .iter()
            .map(|k| {
                vec![
                    k.carrier
                        .map_or(Val::Text("—".into()), |c| Val::Figure(i64::from(c))),
                    Val::Money(k.actual_kopecks),
                    Val::Money(k.projected_kopecks),
                ]
            })
            .collect(),
        total: Some(l("Усього", "Total").into()),
    };
    crate::xlsx::table(s, fm, next + 2, &table, false)?;
    Ok(())
}
