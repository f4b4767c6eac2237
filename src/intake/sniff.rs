//! A column whose header kartka cannot place, found by its values the way
//! a clerk finds it: for a field the header lacks, the one unplaced column
//! whose cells are mostly people's names, past dates, valid tax numbers,
//! identity documents, the scheme's categories, the sexes, addresses with
//! a settlement («м.», «с.») or monthly amounts. Said as a warning with the
//! command that teaches the header; never a column a header already
//! placed, never a field two columns show.

use calamine::Data;
use chrono::{Datelike, NaiveDate};

use super::cells;
use super::header::{Field, Header};
use crate::vocab::{How, Match, Vocabulary};

/// Of a column's filled cells, the share that must look like the field.
const SHARE: f64 = 0.6;
/// The fewest filled cells a column needs to be judged.
const FEWEST: usize = 3;

/// A column read by its values: the field, the column and a few values.
pub struct ByValues {
    pub field: Field,
    pub column: usize,
    pub examples: Vec<String>,
}

/// Places the fields `head` lacks in the one unplaced column whose values
/// show each (`rows` are the rows under the header).
pub fn place(
    head: &mut Header,
    rows: &[&[Data]],
    categories: &Vocabulary,
    today: NaiveDate,
) -> Vec<ByValues> {
    let has = |h: &Header, f: Field| h.columns.contains_key(&f);
    let mut wanted = Vec::new();
    let named =
        has(head, Field::FullName) || (has(head, Field::Surname) && has(head, Field::GivenName));
    if !named {
        wanted.push(Field::FullName);
    }
    if !has(head, Field::BirthDate) {
        wanted.push(Field::BirthDate);
    }
    // The tax number, whether or not a passport column is there: a column
    // of valid tax numbers under a header kartka cannot place is read.
    if !has(head, Field::TaxNumber) {
        wanted.push(Field::TaxNumber);
    }
    if !has(head, Field::Passport) && !has(head, Field::PassportNumber) {
        wanted.push(Field::Passport);
    }
    if !has(head, Field::Category) {
        wanted.push(Field::Category);
    }
    if !head.names_places() {
        wanted.push(Field::Address);
    }
    if !has(head, Field::Sex) {
        wanted.push(Field::Sex);
    }
    let incomes = [
        Field::Income,
        Field::IncomePension,
        Field::IncomeSalary,
        Field::IncomeAid,
    ];
    if !incomes.iter().any(|f| has(head, *f)) {
        wanted.push(Field::Income);
    }
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut placed = Vec::new();
    for field in wanted {
        if field == Field::Passport && has(head, Field::TaxNumber) {
            continue;
        }
        let free: Vec<usize> = (0..width)
            .filter(|c| !head.columns.values().any(|v| v == c))
            .collect();
        let fits: Vec<(usize, Vec<String>)> = free
            .into_iter()
            .filter_map(|c| {
                let cells: Vec<&Data> = rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .filter(|d| !cells::is_blank(d))
                    .collect();
                shows(field, &cells, categories, today).then(|| {
                    let examples = cells
                        .iter()
                        .filter(|d| looks_like(field, d, categories, today))
                        .take(2)
                        .map(|d| cells::text(d))
                        .collect();
                    (c, examples)
                })
            })
            .collect();
        if let [(column, examples)] = fits.as_slice() {
            head.columns.insert(field, *column);
            head.by_values.insert(*column);
            placed.push(ByValues {
                field,
                column: *column,
                examples: examples.clone(),
            });
        }
    }
    placed
}

/// Whether most of a column's filled cells look like `field`.
fn shows(field: Field, filled: &[&Data], categories: &Vocabulary, today: NaiveDate) -> bool {
    if filled.len() < FEWEST {
        return false;
    }
    let fit = filled
        .iter()
        .filter(|d| looks_like(field, d, categories, today))
        .count();
    fit as f64 >= SHARE * filled.len() as f64
}

fn looks_like(field: Field, cell: &Data, categories: &Vocabulary, today: NaiveDate) -> bool {
    let text = cells::text(cell);
    match field {
        Field::FullName => person_name(&text),
        Field::BirthDate => {
            // A running number («1», «2») is no Excel date serial here.
            let number = match cell {
                Data::Float(f) => Some(*f),
                Data::Int(i) => Some(*i as f64),
                Data::String(t) => t.trim().parse::<f64>().ok(),
                _ => None,
            };
            number.is_none_or(|n| n >= 1000.0)
                && cells::date(cell, cells::DateKind::Past, today)
                    .is_ok_and(|d| d.year() >= 1900 && (today - d).num_days() > 365)
        }
        Field::TaxNumber => {
            let digits: String = text
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\'')
                .collect();
            crate::identity::parse_tax_number(&digits).is_ok()
        }
        Field::Passport => cells::id_document(None, &text).is_some(),
        Field::Sex => matches!(
            crate::vocab::sexes().find(&text),
            Match::Exact(_)
                | Match::Variant {
                    how: How::Normalised | How::Short,
                    ..
                }
        ),
        Field::Address => matches!(
            super::community::place(&text),
            super::community::Place::Marked(_)
        ),
        // A month's income in hryvnias: not a room, a count or a year of
        // service (under 1,000), not a phone or a tax number.
        Field::Income => cells::kopecks(cell)
            .is_ok_and(|k| k.is_some_and(|k| (100_000..=10_000_000).contains(&k))),
        Field::Category => matches!(
            categories.find(&text),
            Match::Exact(_)
                | Match::Variant {
                    how: How::Normalised | How::Short | How::Extra,
                    ..
                }
        ),
        _ => false,
    }
}

/// Two to four words, each a capitalised Cyrillic word («Іваненко Марія
/// Петрівна», «Коваль-Ткачук О. І.»).
fn person_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .is_some_and(|c| c.is_uppercase() && is_cyrillic(c))
                && chars.all(|c| {
                    (c.is_alphabetic() && is_cyrillic(c))
                        || matches!(c, '\'' | '’' | 'ʼ' | '-' | '.')
                })
        })
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Data {
        Data::String(v.into())
    }

    #[test]
    fn a_required_column_is_found_by_its_values_when_only_one_column_shows_it() {
        let config = crate::config::Config::default_config();
        let categories = config.category_vocabulary();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut columns = BTreeMap::new();
        columns.insert(Field::Phone, 4);
        let mut head = Header {
            row: 0,
            columns,
            names: [
                "№",
                "Хто",
                "Коли народився",
                "Код",
                "Тел.",
                "Статус",
                "Подано",
            ]
            .map(String::from)
            .to_vec(),
            title: vec![],
            by_values: Default::default(),
        };
        let rows: Vec<Vec<Data>> = vec![
            vec![
                s("1"),
                s("Іваненко Марія Петрівна"),
                s("12.03.1951"),
                s("1833312350"),
                s("0501234567"),
                s("УБД"),
                s("01.12.2026"),
            ],
            vec![
                s("2"),
                s("Коваль-Ткачук Олег Іванович"),
                s("5 січня 1960 р."),
                s("2191534519"),
                s("0671234567"),
                s("інвалід 2 групи"),
                s("02.12.2026"),
            ],
            vec![
                s("3"),
                s("Бойко Ганна"),
                s("14.10.54"),
                s("2001023461"),
                s(""),
                s("пенсіонер за віком"),
                s("03.12.2026"),
            ],
            vec![s("Разом: 3"), s(""), s(""), s(""), s(""), s(""), s("")],
        ];
        let refs: Vec<&[Data]> = rows.iter().map(Vec::as_slice).collect();
        let placed = place(&mut head, &refs, &categories, today);
        let got: Vec<(Field, usize)> = placed.iter().map(|p| (p.field, p.column)).collect();
        assert_eq!(
            got,
            [
                (Field::FullName, 1),
                (Field::BirthDate, 2),
                (Field::TaxNumber, 3),
                (Field::Category, 5)
            ]
        );
        assert_eq!(
            placed[0].examples,
            ["Іваненко Марія Петрівна", "Коваль-Ткачук Олег Іванович"]
        );
        // The dates of application (this month) are no birth dates; the
        // phone numbers are no tax numbers.
        assert!(!head.by_values.contains(&6) && !head.by_values.contains(&4));
    }

    #[test]
    fn two_columns_that_both_show_a_field_place_neither() {
        let config = crate::config::Config::default_config();
        let categories = config.category_vocabulary();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut head = Header {
            row: 0,
            columns: BTreeMap::new(),
            names: vec![],
            title: vec![],
            by_values: Default::default(),
        };
        let rows: Vec<Vec<Data>> = (0..4)
            .map(|_| vec![s("12.03.1951"), s("01.02.1980")])
            .collect();
        let refs: Vec<&[Data]> = rows.iter().map(Vec::as_slice).collect();
        assert!(place(&mut head, &refs, &categories, today).is_empty());
        assert!(head.columns.is_empty());
    }

    #[test]
    fn an_address_and_an_income_no_header_names_are_found_by_their_values() {
        let config = crate::config::Config::default_config();
        let categories = config.category_vocabulary();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let known = [
            (Field::FullName, 0),
            (Field::BirthDate, 1),
            (Field::TaxNumber, 2),
            (Field::Category, 3),
        ];
        let mut head = Header {
            row: 0,
            columns: known.into_iter().collect(),
            names: vec![],
            title: vec![],
            by_values: Default::default(),
        };
        let row = |addr: &str, room: &str, money: &str, sex: &str| {
            vec![
                s("Бойко Ганна Сергіївна"),
                s("14.10.1954"),
                s("2001023461"),
                s("УБД"),
                s(addr),
                s(room),
                s(money),
                s(sex),
            ]
        };
        let rows = [
            row("м. Павлоград, вул. Соборна, 5", "101", "3 120,50", "Ж"),
            row("с. Вербки, вул. Миру, 2", "215", "4100", "ч"),
            row("м.Тернівка, вул. Шахтарська 4", "117", "2 980-00", "жін."),
        ];
        let refs: Vec<&[Data]> = rows.iter().map(Vec::as_slice).collect();
        let placed = place(&mut head, &refs, &categories, today);
        let got: Vec<(Field, usize)> = placed.iter().map(|p| (p.field, p.column)).collect();
        assert_eq!(
            got,
            [(Field::Address, 4), (Field::Sex, 7), (Field::Income, 6)]
        );
        // A pension beside its share in another column: which is the
        // income is the clerk's to say.
        let mut head = Header {
            row: 0,
            columns: known.into_iter().collect(),
            names: vec![],
            title: vec![],
            by_values: Default::default(),
        };
        let rows: Vec<Vec<Data>> = (0..3)
            .map(|_| {
                vec![
                    s("Бойко Ганна Сергіївна"),
                    s("14.10.1954"),
                    s("2001023461"),
                    s("УБД"),
                    s("4 200,00"),
                    s("1 050,00"),
                ]
            })
            .collect();
        let refs: Vec<&[Data]> = rows.iter().map(Vec::as_slice).collect();
        assert!(place(&mut head, &refs, &categories, today).is_empty());
    }
}
