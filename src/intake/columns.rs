//! `kartka import applicants --columns`: before anything is written, which
//! column of each sheet was taken as which field, and the values of the
//! reference columns (category, community, sex) that are not written as
//! configured: what each was taken as, or why it cannot be placed.

use std::collections::BTreeMap;

use super::applicant::{category_parts, column_letter};
use super::header::{Field, Synonyms};
use super::taught::{self, Kind};
use super::{Error, ImportOptions, cells};
use crate::config::Config;
use crate::vocab::{self, Match, Vocabulary};

#[derive(Debug, Clone, serde::Serialize)]
pub struct SheetColumns {
    pub file: String,
    pub sheet: String,
    /// The header's row as the spreadsheet program shows it (1-based).
    pub header_row: usize,
    pub columns: Vec<ColumnUse>,
    /// Where each row's community is taken from, in the order tried.
    pub community_from: Vec<String>,
    pub values: Vec<ValueNote>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ColumnUse {
    pub column: String,
    pub header: String,
    /// The field, or `None`: the column is not read.
    pub field: Option<&'static str>,
    /// The field comes from an answer a clerk taught (`kartka vocab`).
    pub taught: bool,
    /// The field was found by the column's values, its header unknown.
    pub by_values: bool,
    /// A column not read: the fields whose names are nearest, best first.
    pub nearest: Vec<&'static str>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ValueNote {
    pub column: String,
    pub field: &'static str,
    pub written: String,
    /// How many rows hold it.
    pub rows: usize,
    /// `variant` (taken as `taken_as`), `taught` (by `kartka vocab`, taken
    /// as `taken_as`), `ambiguous` or `unknown`.
    pub result: &'static str,
    pub taken_as: Option<Candidate>,
    pub how: Option<vocab::How>,
    /// The values it could be (ambiguous) or the nearest ones (unknown).
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub code: String,
    pub label: String,
}

/// Reads every file's headers and reference columns; writes nothing.
pub fn columns(config: &Config, opts: &ImportOptions) -> Result<Vec<SheetColumns>, Error> {
    let synonyms = Synonyms::of(&config.intake);
    let (categories, communities, sexes) = (
        config.category_vocabulary(),
        config.community_vocabulary(),
        vocab::sexes(),
    );
    let vocabularies: [(Field, &Vocabulary); 4] = [
        (Field::Category, &categories),
        (Field::ChosenCategory, &categories),
        (Field::Community, &communities),
        (Field::Sex, &sexes),
    ];
    let option = super::community_option(config, opts)?;
    let mut out = Vec::new();
    for path in &opts.files {
        let loaded = super::load(
            path,
            opts.sheet.as_deref(),
            &synonyms,
            &categories,
            &mut |_| {},
        )?;
        super::check_community(&loaded, &communities, option.as_deref())?;
        for (sheet, head) in &loaded.sheets {
            let community_from = community_sources(config, head, &sheet.name, option.as_deref());
            let by_column: BTreeMap<usize, Field> =
                head.columns.iter().map(|(f, c)| (*c, *f)).collect();
            let unread: BTreeMap<String, Vec<Field>> = head.unread(&synonyms).into_iter().collect();
            let columns = head
                .names
                .iter()
                .enumerate()
                .filter(|(_, n)| !n.is_empty())
                .map(|(c, n)| {
                    let field = by_column.get(&c).map(|f| f.key());
                    ColumnUse {
                        column: column_letter(c),
                        header: n.clone(),
                        field,
                        taught: field.is_some() && synonyms.is_taught(n),
                        by_values: head.by_values.contains(&c),
                        nearest: unread
                            .get(n)
                            .filter(|_| field.is_none())
                            .map_or_else(Vec::new, |near| near.iter().map(|f| f.key()).collect()),
                    }
                })
                .collect();
            // Distinct texts per reference column, with their row counts.
            let mut seen: BTreeMap<(Field, String), usize> = BTreeMap::new();
            sheet
                .for_each_row(head.row + 1, &mut |_, row| {
                    if super::rows::not_applicant(&row, head, &communities).is_some() {
                        return true;
                    }
                    for (field, _) in &vocabularies {
                        if let Some(&c) = head.columns.get(field)
                            && let Some(cell) = row.get(c).filter(|c| !cells::is_blank(c))
                        {
                            let t = cells::text(cell);
                            // Too long for its field: the import rejects it
                            // for its length; it is no value to place.
                            let fits = cells::uncut(&t).1 <= super::applicant::max_chars(*field);
                            if !t.is_empty() && fits {
                                *seen.entry((*field, t)).or_default() += 1;
                            }
                        }
                    }
                    true
                })
                .map_err(|detail| Error::Unreadable {
                    path: path.clone(),
                    detail,
                })?;
            let mut values = Vec::new();
            for ((field, written), rows) in seen {
                let (_, v) = vocabularies
                    .iter()
                    .find(|(f, _)| *f == field)
                    .expect("a vocabulary per field");
                let parts = if matches!(field, Field::Category) {
                    category_parts(&written, |t| v.find(t))
                } else {
                    vec![(written.clone(), v.find(&written))]
                };
                let column = head.columns[&field];
                let candidate = |code: String| Candidate {
                    label: v.label(&code).to_string(),
                    code,
                };
                for (part, m) in parts {
                    let kind = if matches!(field, Field::Community) {
                        Kind::Community
                    } else {
                        Kind::Category
                    };
                    let (result, taken_as, how, candidates) = match m {
                        Match::Exact(code)
                            if field != Field::Sex
                                && taught::used(&config.intake, kind, &part).is_some() =>
                        {
                            ("taught", Some(candidate(code)), None, vec![])
                        }
                        Match::Exact(_) => continue,
                        Match::Variant { code, how } => {
                            ("variant", Some(candidate(code)), Some(how), vec![])
                        }
                        Match::Ambiguous(c) => (
                            "ambiguous",
                            None,
                            None,
                            c.into_iter().map(candidate).collect(),
                        ),
                        Match::Unknown(c) => (
                            "unknown",
                            None,
                            None,
                            c.into_iter().map(candidate).collect(),
                        ),
                    };
                    values.push(ValueNote {
                        column: format!(
                            "{} «{}»",
                            column_letter(column),
                            head.names.get(column).map_or("", String::as_str)
                        ),
                        field: field.key(),
                        written: part,
                        rows,
                        result,
                        taken_as,
                        how,
                        candidates,
                    });
                }
            }
            out.push(SheetColumns {
                file: loaded.shown.clone(),
                sheet: sheet.name.clone(),
                header_row: sheet.origin().0 + head.row + 1,
                columns,
                community_from,
                values,
            });
        }
    }
    Ok(out)
}

/// Where a sheet's rows take their community from, in the order tried.
fn community_sources(
    config: &Config,
    head: &super::Header,
    sheet: &str,
    option: Option<&str>,
) -> Vec<String> {
    let mut from = Vec::new();
    for (field, how) in [
        (Field::Community, ""),
        (Field::Settlement, " (the settlement)"),
        (
            Field::Address,
            " (the settlement in the address: м., с., смт; a district alone is refused)",
        ),
    ] {
        if let Some(&c) = head.columns.get(&field) {
            from.push(format!(
                "column {} «{}»{how}",
                column_letter(c),
                head.names.get(c).map_or("", String::as_str)
            ));
        }
    }
    let named = |code: &str| {
        let label = config.community(code).map_or(code, |c| c.name.as_str());
        format!("«{label}» ({code})")
    };
    use super::community::{SheetSource, of_sheet_or_title};
    match of_sheet_or_title(sheet, head, &config.community_vocabulary()) {
        Some((code, SheetSource::Name)) => {
            from.push(format!("the sheet's name «{sheet}»: {}", named(&code)));
        }
        Some((code, SheetSource::Title(row, text))) if option.is_none() => {
            from.push(format!(
                "the title (row {}) {}: {}",
                row + 1,
                super::cells::quoted(&text),
                named(&code)
            ));
        }
        _ => {
            if let Some(code) = option {
                from.push(format!("--community: {}", named(code)));
            }
        }
    }
    from
}
