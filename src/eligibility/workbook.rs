//! The decisions workbook for the head of office: a summary sheet (counts by
//! outcome × category × community, with formula totals) and one sheet per
//! outcome listing the people and the reasons. Ukrainian by default.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::Workbook;

use crate::xlsx::{Table, Val};

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
    let f = crate::xlsx::formats();
    let title = lang.t(
        "Рішення про право на пільговий проїзд",
        "Decisions on free travel",
    );
    let date = crate::time::today_kyiv().format("%d.%m.%Y").to_string();
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
    let table = Table {
        headers: head.iter().map(|h| h.to_string()).collect(),
        rows: counts
            .iter()
            .map(|((cat, com), n)| {
                let mut row = vec![Val::Text(cat.clone()), Val::Text(com.clone())];
                row.extend(n.iter().map(|v| Val::Int(*v as i64)));
                row.push(Val::Int(n.iter().sum::<u64>() as i64));
                row
            })
            .collect(),
        total: Some(lang.t("Усього", "Total").into()),
    };
    crate::xlsx::table(sheet, &f, 0, &table, true)?;
    crate::xlsx::print(sheet, title, &date, lang);

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
        let rows = decided
            .iter()
            .filter(|(_, _, d)| d.outcome == outcome)
            .map(|(sn, name, d)| {
                let reasons: Vec<&str> = d
                    .reasons
                    .iter()
                    .map(|x| if uk { x.uk.as_str() } else { x.en.as_str() })
                    .collect();
                vec![
                    Val::Text(sn.clone()),
                    Val::Text(name.clone()),
                    Val::Text(d.category.as_deref().map(category_name).unwrap_or_default()),
                    Val::Text(
                        d.other_categories
                            .iter()
                            .map(|c| category_name(c))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Val::Text(community_name(&d.community)),
                    Val::Text(
                        d.valid_until
                            .map(|v| v.format("%d.%m.%Y").to_string())
                            .unwrap_or_default(),
                    ),
                    Val::Text(reasons.join("; ")),
                    Val::Text(d.missing_documents.join(", ")),
                ]
            })
            .collect();
        let table = Table {
            headers: head.iter().map(|h| h.to_string()).collect(),
            rows,
            total: None,
        };
        crate::xlsx::table(sheet, &f, 0, &table, true)?;
        crate::xlsx::print(sheet, title, &date, lang);
    }
    // Names and reasons: personal data, readable by its owner only (P22).
    let bytes = book.save_to_buffer()?;
    crate::private::write(path, &bytes).map_err(rust_xlsxwriter::XlsxError::IoError)
}
