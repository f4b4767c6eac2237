//! Rows of a sheet that are not applicants: the row of column numbers under
//! the header («1 2 3 …»), section headings («Розділ 1. Місто»), totals
//! («Всього», «Разом по розділу»), signature lines («Начальник управління
//! ____ П.І.Б.», «(підпис)», «Виконавець …»), «М.П.», and a state system's
//! row of field codes under the header («FAM IM OT DT_NAR …»). They are skipped
//! and reported apart, never counted as people.

use calamine::Data;

use super::cells;
use super::header::{Field, Header};
use crate::text::match_key;
use crate::vocab::Vocabulary;

/// The kind of a row that is not an applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotApplicant {
    ColumnNumbers,
    FieldCodes,
    Heading,
    Total,
    Signature,
    Stamp,
    ListDate,
}

impl NotApplicant {
    pub fn en(self) -> &'static str {
        match self {
            NotApplicant::ColumnNumbers => "the column numbers",
            NotApplicant::FieldCodes => "a system's field codes (FAM, DT_NAR …)",
            NotApplicant::Heading => "a section heading",
            NotApplicant::Total => "a total",
            NotApplicant::Signature => "a signature line",
            NotApplicant::Stamp => "the stamp's place (М.П.)",
            NotApplicant::ListDate => "the list's date",
        }
    }
    /// The kind's name for a count of them ("totals: 3").
    pub fn many_en(self) -> &'static str {
        match self {
            NotApplicant::ColumnNumbers => "column numbers",
            NotApplicant::FieldCodes => "rows of field codes",
            NotApplicant::Heading => "section headings",
            NotApplicant::Total => "totals",
            NotApplicant::Signature => "signature lines",
            NotApplicant::Stamp => "stamps (М.П.)",
            NotApplicant::ListDate => "the list's dates",
        }
    }
    pub fn uk(self) -> &'static str {
        match self {
            NotApplicant::ColumnNumbers => "номери стовпців",
            NotApplicant::FieldCodes => "коди полів системи (FAM, DT_NAR …)",
            NotApplicant::Heading => "заголовок розділу",
            NotApplicant::Total => "підсумок",
            NotApplicant::Signature => "рядок підпису",
            NotApplicant::Stamp => "місце печатки (М.П.)",
            NotApplicant::ListDate => "дата списку",
        }
    }
}

/// Words that begin a total.
const TOTAL: [&str; 9] = [
    "всього",
    "разом",
    "усього",
    "загалом",
    "підсумок",
    "підсумки",
    "итого",
    "total",
    "кількість",
];

/// Words of an official's post, an executor's line or an approval: a short
/// row with one of them is a signature line.
const POSTS: [&str; 34] = [
    "начальник",
    "начальника",
    "заступник",
    "заступника",
    "директор",
    "директора",
    "керівник",
    "керівника",
    "інспектор",
    "голова",
    "головний",
    "провідний",
    "секретар",
    "спеціаліст",
    "староста",
    "завідувач",
    "адміністратор",
    "керуючий",
    "уповноважена",
    "уповноважений",
    "відповідальна",
    "відповідальний",
    "виконавець",
    "викон",
    "вик",
    "виконав",
    "виконала",
    "підготував",
    "підготувала",
    "склав",
    "склала",
    "перевірив",
    "погоджено",
    "затверджую",
];

/// Marks of a signature's place anywhere in a short row.
const SIGNATURE_MARKS: [&str; 5] = ["підпис", "п.і.б", "ініціали", "___", "(піб)"];

/// Words of a section heading, wherever it stands.
const HEADING_WORDS: [&str; 26] = [
    "розділ",
    "частина",
    "підрозділ",
    "громада",
    "громади",
    "тг",
    "мтг",
    "стг",
    "отг",
    "місто",
    "село",
    "селище",
    "список",
    "перелік",
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
];

/// What the row is when it is not an applicant. An applicant's row costs
/// a look at its first three cells.
pub fn not_applicant(
    row: &[Data],
    head: &Header,
    communities: &Vocabulary,
) -> Option<NotApplicant> {
    let at: Vec<usize> = (0..row.len())
        .filter(|&i| !cells::is_blank(&row[i]))
        .collect();
    if at.is_empty() {
        return None;
    }
    if column_numbers(row, &at) {
        return Some(NotApplicant::ColumnNumbers);
    }
    if field_codes(row, &at) {
        return Some(NotApplicant::FieldCodes);
    }
    let total = at.iter().take(3).any(|&i| match &row[i] {
        Data::String(t) => may_be_total(t) && first_word_in(&match_key(t), &TOTAL),
        _ => false,
    });
    if total {
        return Some(NotApplicant::Total);
    }
    if at.len() > 5 {
        return None;
    }
    let filled: Vec<(usize, String)> = at.iter().map(|&i| (i, cells::text(&row[i]))).collect();
    let texts: Vec<String> = filled.iter().map(|(_, t)| match_key(t)).collect();
    if texts.iter().any(|t| is_stamp(t)) {
        return Some(NotApplicant::Stamp);
    }
    if texts.iter().any(|t| signature(t))
        || (at.len() <= 3 && texts.iter().any(|t| initials_and_surname(t)))
    {
        return Some(NotApplicant::Signature);
    }
    if at.len() <= 2 && at.iter().all(|&i| dated(&row[i])) {
        return Some(NotApplicant::ListDate);
    }
    heading(&filled, head, communities).then_some(NotApplicant::Heading)
}

/// Words written around a list's date («Дата: 07.12.2026 р.», «станом на
/// 01.12.2026»).
const DATE_WORDS: [&str; 7] = ["дата", "станом", "на", "р", "року", "рік", "від"];

/// A date, alone or among a list-date's words: the date a list was signed
/// or made, under it or above its signatures.
fn dated(cell: &Data) -> bool {
    let today = crate::time::today_kyiv();
    let text = match cell {
        Data::DateTime(_) | Data::DateTimeIso(_) => return true,
        Data::String(t) => t,
        _ => return false,
    };
    let key = match_key(text);
    let rest: Vec<&str> = key
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, ':' | ',' | ';')))
        .filter(|w| !w.is_empty() && !DATE_WORDS.contains(&w.trim_end_matches('.')))
        .collect();
    let rest = rest.join(" ");
    let rest = rest.trim_end_matches(['р', '.']);
    !rest.is_empty()
        && cells::date(&Data::String(rest.to_string()), cells::DateKind::Any, today).is_ok()
}

/// Whether the text begins like a total word: a cheap look before the
/// matching key is made.
fn may_be_total(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(3)
        .flat_map(char::to_lowercase)
        .collect();
    TOTAL
        .iter()
        .any(|w| w.starts_with(&head) && !head.is_empty())
}

/// «М.П.», «МП», «м. п.».
fn is_stamp(key: &str) -> bool {
    let bare: String = key.chars().filter(|c| c.is_alphabetic()).collect();
    bare == "мп"
}

/// A post, an executor, a signature's place, or a caption in brackets
/// under a line («(підпис)», «(посада)», «(дата)»).
fn signature(key: &str) -> bool {
    let caption = key.starts_with('(') && key.ends_with(')');
    caption
        || words(key).any(|w| POSTS.contains(&w))
        || SIGNATURE_MARKS.iter().any(|m| key.contains(m))
}

/// A name signed as two initials and a surname («Л.М. Дуднік», «Дуднік
/// Л. М.»), as the one who drew up a list signs it.
fn initials_and_surname(key: &str) -> bool {
    let parts: Vec<&str> = key.split([' ', '.']).filter(|w| !w.is_empty()).collect();
    let initials = parts.iter().filter(|w| w.chars().count() == 1).count();
    let names = parts.iter().filter(|w| w.chars().count() > 1).count();
    key.contains('.')
        && initials == 2
        && names == 1
        && parts.iter().all(|w| {
            w.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '’' || c == '-')
        })
}

fn words(key: &str) -> impl Iterator<Item = &str> {
    key.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != 'ʼ')
        .filter(|w| !w.is_empty())
}

fn first_word_in(key: &str, list: &[&str]) -> bool {
    words(key).next().is_some_and(|w| list.contains(&w))
}

/// Whole numbers going up, at least three of them, from 1 or 2, and
/// nothing else: the row that numbers the header's columns (a number may be
/// missing under a merged cell). Stops at the first cell that is no number.
fn column_numbers(row: &[Data], at: &[usize]) -> bool {
    if at.len() < 3 {
        return false;
    }
    let mut numbers = Vec::with_capacity(at.len());
    for &i in at {
        match whole_number(&row[i]) {
            Some(n) => numbers.push(n),
            None => return false,
        }
    }
    numbers[0] <= 2
        && numbers.windows(2).all(|w| w[1] > w[0])
        && numbers[numbers.len() - 1] as usize <= 2 * numbers.len() + 1
}

/// Three or more cells, every one a programmer's name for a field (Latin
/// letters, digits and «_», a letter first, no space): what a state
/// system's export puts under its captions. A person's row always holds a
/// date, a number with punctuation, or a Cyrillic name.
fn field_codes(row: &[Data], at: &[usize]) -> bool {
    let code = |cell: &Data| match cell {
        Data::String(t) => {
            let t = t.trim();
            t.len() <= 24
                && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    at.len() >= 3 && code(&row[at[0]]) && at.iter().all(|&i| code(&row[i]))
}

fn whole_number(cell: &Data) -> Option<u64> {
    match cell {
        Data::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1e6 => Some(*f as u64),
        Data::Int(i) => u64::try_from(*i).ok(),
        Data::String(s) => s.trim().trim_end_matches('.').parse().ok(),
        _ => None,
    }
}

/// One text, perhaps with a count beside it, that is not a person's name
/// in the name column, or that has a heading's word («Розділ 1. Місто»,
/// «Партнерські громади», «Жовтень 2026») or names a community or one of
/// its settlements («Тернівка»).
fn heading(filled: &[(usize, String)], head: &Header, communities: &Vocabulary) -> bool {
    type Cells<'a> = Vec<&'a (usize, String)>;
    let (text, others): (Cells, Cells) = filled
        .iter()
        .partition(|(_, t)| t.chars().any(char::is_alphabetic));
    let [(col, text)] = text.as_slice() else {
        return false;
    };
    let counts = others
        .iter()
        .all(|(_, t)| t.trim().parse::<f64>().is_ok() && !t.contains(['.', '/', '-']));
    if !counts || others.len() > 1 {
        return false;
    }
    let key = match_key(text);
    if words(&key).any(|w| HEADING_WORDS.contains(&w))
        || super::community::of_sheet(text, communities).is_some()
    {
        return true;
    }
    let name_columns = [Field::FullName, Field::Surname];
    let in_name_column = name_columns
        .iter()
        .any(|f| head.columns.get(f) == Some(col));
    !(in_name_column && person_shaped(text))
}

/// One to three words of letters, each capitalised or in capitals: a
/// person's name, perhaps.
fn person_shaped(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (1..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut chars = w.chars();
            let name_letter = |c: char| c.is_alphabetic() || matches!(c, '\'' | 'ʼ' | '’' | '-');
            chars.next().is_some_and(char::is_uppercase)
                && chars.all(name_letter)
                && (w.chars().skip(1).all(|c| !c.is_uppercase())
                    || w.chars().all(|c| !c.is_lowercase()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_systems_field_codes_are_no_applicant_but_a_latin_name_with_a_date_is() {
        let v = crate::config::Config::default_config().community_vocabulary();
        let codes: Vec<Data> = ["N", "FAM", "IM", "OT", "DT_NAR", "RNOKPP", "VID_PENS"]
            .into_iter()
            .map(s)
            .collect();
        assert_eq!(
            not_applicant(&codes, &head(), &v),
            Some(NotApplicant::FieldCodes)
        );
        let person: Vec<Data> = ["SMITH", "JOHN", "12.03.1951", "AB123456"]
            .into_iter()
            .map(s)
            .collect();
        assert_eq!(not_applicant(&person, &head(), &v), None);
        let two = vec![s("FAM"), s("IM")];
        assert_ne!(
            not_applicant(&two, &head(), &v),
            Some(NotApplicant::FieldCodes)
        );
    }
    use std::collections::BTreeMap;

    fn s(v: &str) -> Data {
        Data::String(v.into())
    }

    fn head() -> Header {
        let mut columns = BTreeMap::new();
        columns.insert(Field::FullName, 1);
        columns.insert(Field::BirthDate, 2);
        columns.insert(Field::TaxNumber, 3);
        columns.insert(Field::Category, 4);
        Header {
            row: 0,
            columns,
            names: vec![],
            title: vec![],
            by_values: Default::default(),
        }
    }

    fn kind(cells: &[Data]) -> Option<NotApplicant> {
        let config = crate::config::Config::default_config();
        not_applicant(cells, &head(), &config.community_vocabulary())
    }

    #[test]
    fn column_numbers_are_not_an_applicant() {
        let numbers: Vec<Data> = (1..=8).map(|n| Data::Float(n as f64)).collect();
        assert_eq!(kind(&numbers), Some(NotApplicant::ColumnNumbers));
        let text: Vec<Data> = (1..=5).map(|n| s(&n.to_string())).collect();
        assert_eq!(kind(&text), Some(NotApplicant::ColumnNumbers));
    }

    #[test]
    fn headings_totals_signatures_and_the_stamp_are_told_apart() {
        let e = Data::Empty;
        for (cells, expected) in [
            (
                vec![e.clone(), e.clone(), s("07.12.2026")],
                NotApplicant::ListDate,
            ),
            (vec![s("Дата: 07.12.2026 р.")], NotApplicant::ListDate),
            (
                vec![s("Паспортист"), e.clone(), s("Л.М. Дуднік")],
                NotApplicant::Signature,
            ),
            (vec![s("Дуднік Л. М.")], NotApplicant::Signature),
            (vec![s("с. Вербки")], NotApplicant::Heading),
            (
                vec![s("станом на 1 грудня 2026 року")],
                NotApplicant::ListDate,
            ),
            (vec![s("Розділ 1. Місто")], NotApplicant::Heading),
            (
                vec![s("Партнерські громади"), e.clone()],
                NotApplicant::Heading,
            ),
            (vec![e.clone(), s("Тернівська МТГ")], NotApplicant::Heading),
            (
                vec![
                    s("Всього"),
                    e.clone(),
                    e.clone(),
                    e.clone(),
                    e.clone(),
                    Data::Float(12.0),
                ],
                NotApplicant::Total,
            ),
            (
                vec![e.clone(), s("Разом по розділу:"), s("34")],
                NotApplicant::Total,
            ),
            (
                vec![
                    s("Начальник управління"),
                    e.clone(),
                    s("____________"),
                    s("О. П. Коваль"),
                ],
                NotApplicant::Signature,
            ),
            (
                vec![e.clone(), e.clone(), s("(підпис)"), s("(П.І.Б.)")],
                NotApplicant::Signature,
            ),
            (
                vec![s("Виконавець: Петренко О.О., тел. 0563 20 11 22")],
                NotApplicant::Signature,
            ),
            (vec![s("М.П.")], NotApplicant::Stamp),
            (
                vec![e.clone(), s("(посада)"), e.clone(), s("(дата)")],
                NotApplicant::Signature,
            ),
            (
                vec![s("Сільський голова"), e.clone(), s("О. Г. Грищенко")],
                NotApplicant::Signature,
            ),
            (vec![s("Вик. Петренко О.О.")], NotApplicant::Signature),
            (vec![s("Жовтень 2026")], NotApplicant::Heading),
            (vec![e.clone(), s("Місто Павлоград")], NotApplicant::Heading),
            (
                vec![e.clone(), s("Тернівка"), s("2")],
                NotApplicant::Heading,
            ),
            (vec![s("УСЬОГО ПО ГРОМАДІ:"), s("25")], NotApplicant::Total),
            (
                vec![s("1"), s("2"), s("3"), s("5"), s("6")],
                NotApplicant::ColumnNumbers,
            ),
        ] {
            assert_eq!(kind(&cells), Some(expected), "{cells:?}");
        }
    }

    #[test]
    fn an_applicant_row_is_an_applicant_even_when_short() {
        let e = Data::Empty;
        for cells in [
            vec![
                s("1"),
                s("Іваненко Іван Іванович"),
                s("01.01.1950"),
                s("1759013776"),
                s("УБД"),
            ],
            vec![e.clone(), s("Іваненко Іван Іванович")],
            vec![s("3"), s("Коваль Марія"), s("12.03.1951 р.")],
            vec![s("4"), s("КОВАЛЬ МАРІЯ ІВАНІВНА")],
            vec![s("5"), s("Коваль")],
            vec![e.clone(), s("Головко Петро Іванович"), s("01.01.1950")],
            vec![s("1"), s("1950"), s("2771109178")],
        ] {
            assert_eq!(kind(&cells), None, "{cells:?}");
        }
    }
}
