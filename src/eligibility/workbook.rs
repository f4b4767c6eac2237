//! The decisions workbook for the head of office: a summary sheet (counts by
//! outcome × category × community, with formula totals) and one sheet per
//! outcome listing the people and the reasons. Ukrainian by default.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::{Format, Formula, Workbook};

use super::{Lang, Outcome};
use crate::config::Config;

fn outcome_name(o: Outcome, lang: Lang) -> &'static str {
    match (o, lang) {
        (Outcome::Eligible, Lang::Uk) => "Має право",
        (Outcome::Ineligible, Lang::Uk) => "Не має права",
        (Outcome::Incomplete, Lang::Uk) => "Неповний пакет",
        (Outcome::Eligible, Lang::En) => "Eligible",
        (Outcome::Ineligible, Lang::En) => "Ineligible",
        (Outcome::Incomplete, Lang::En) => "Incomplete",
    }
}

pub fn write(
    path: &Path,
    config: &Config,
    decided: &[super::Decided],
    lang: Lang,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let uk = lang == Lang::Uk;
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let category_name = |code: &str| {
        config.category(code).map_or(code.to_string(), |c| {
            if uk || c.name_en.is_empty() {
                c.name.clone()
            } else {
                c.name_en.clone()
            }
        })
    };
    let community_name = |code: &str| {
        config
            .community(code)
            .map_or(code.to_string(), |c| c.name.clone())
    };

    // Summary: one row per (category, community), a column per outcome.
    let outcomes = [Outcome::Eligible, Outcome::Ineligible, Outcome::Incomplete];
    let mut counts: BTreeMap<(String, String), [u64; 3]> = BTreeMap::new();
    for (_, _, d) in decided {
        let key = (
            d.category
                .as_deref()
                .map(category_name)
                .unwrap_or_else(|| "—".into()),
            community_name(&d.community),
        );
        let i = outcomes.iter().position(|o| *o == d.outcome).unwrap_or(0);
        counts.entry(key).or_default()[i] += 1;
    }
    let sheet = book.add_worksheet();
    sheet.set_name(if uk { "Підсумок" } else { "Summary" })?;
    let head = if uk {
        [
            "Категорія",
            "Громада",
            outcome_name(Outcome::Eligible, lang),
            outcome_name(Outcome::Ineligible, lang),
            outcome_name(Outcome::Incomplete, lang),
            "Усього",
        ]
    } else {
        [
            "Category",
            "Community",
            "Eligible",
            "Ineligible",
            "Incomplete",
            "Total",
        ]
    };
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut r = 1u32;
    let mut totals = [0u64; 4];
    for ((cat, com), n) in &counts {
        sheet.write_string(r, 0, cat)?;
        sheet.write_string(r, 1, com)?;
        for (i, v) in n.iter().enumerate() {
            sheet.write_number(r, 2 + i as u16, *v as f64)?;
            totals[i] += v;
        }
        let sum: u64 = n.iter().sum();
        totals[3] += sum;
        let row = r + 1;
        sheet.write_formula(
            r,
            5,
            Formula::new(format!("=SUM(C{row}:E{row})")).set_result(sum.to_string()),
        )?;
        r += 1;
    }
    sheet.write_string_with_format(r, 0, if uk { "Усього" } else { "Total" }, &bold)?;
    for (i, col) in ["C", "D", "E", "F"].iter().enumerate() {
        sheet.write_formula_with_format(
            r,
            2 + i as u16,
            Formula::new(format!("=SUM({col}2:{col}{r})")).set_result(totals[i].to_string()),
            &bold,
        )?;
    }
    sheet.autofit();

    for outcome in outcomes {
        let sheet = book.add_worksheet();
        sheet.set_name(outcome_name(outcome, lang))?;
        let head = if uk {
            [
                "Соціальний номер",
                "ПІБ",
                "Категорія",
                "Інші категорії",
                "Громада",
                "Діє до",
                "Причина",
                "Потрібно подати",
            ]
        } else {
            [
                "Social number",
                "Name",
                "Category",
                "Other categories",
                "Community",
                "Valid until",
                "Reason",
                "To bring",
            ]
        };
        for (c, h) in head.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let rows = decided.iter().filter(|(_, _, d)| d.outcome == outcome);
        for (r, (sn, name, d)) in (1u32..).zip(rows) {
            sheet.write_string(r, 0, sn)?;
            sheet.write_string(r, 1, name)?;
            sheet.write_string(
                r,
                2,
                d.category.as_deref().map(category_name).unwrap_or_default(),
            )?;
            sheet.write_string(
                r,
                3,
                d.other_categories
                    .iter()
                    .map(|c| category_name(c))
                    .collect::<Vec<_>>()
                    .join("; "),
            )?;
            sheet.write_string(r, 4, community_name(&d.community))?;
            sheet.write_string(
                r,
                5,
                d.valid_until
                    .map(|v| v.format("%d.%m.%Y").to_string())
                    .unwrap_or_default(),
            )?;
            let reasons: Vec<&str> = d
                .reasons
                .iter()
                .map(|x| if uk { x.uk.as_str() } else { x.en.as_str() })
                .collect();
            sheet.write_string(r, 6, reasons.join("; "))?;
            sheet.write_string(r, 7, d.missing_documents.join(", "))?;
        }
        sheet.autofit();
    }
    // Names and reasons: personal data, readable by its owner only (P22).
    let bytes = book.save_to_buffer()?;
    crate::private::write(path, &bytes).map_err(rust_xlsxwriter::XlsxError::IoError)
}
