//! One row of a clerk's sheet read into an `Applicant`, or the reasons it
//! cannot be (P5, reference/identity-numbers.md).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use calamine::Data;
use chrono::NaiveDate;
use rusqlite::types::Value;

use super::cells::{self, DateKind};
use super::header::Field;
use super::photo;
use super::settings::SeveralCategories;
use super::why::{Why, why};
use crate::config::Config;
use crate::identity::{self, Passport, Sex, TaxError};
use crate::text;
use crate::vocab::{self, Match, Vocabulary};

/// An application, normalised and valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Applicant {
    pub tax_number: Option<String>,
    pub passport: Option<String>,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub community: String,
    pub categories: Vec<String>,
    pub chosen_category: Option<String>,
    pub benefit_document: Option<String>,
    pub benefit_valid_until: Option<NaiveDate>,
    pub income_pension: Option<i64>,
    pub income_salary: Option<i64>,
    pub income_aid: Option<i64>,
    pub income_total: Option<i64>,
    pub documents: Option<String>,
    pub photo: Option<photo::Photo>,
    pub application_date: Option<NaiveDate>,
    pub death_date: Option<NaiveDate>,
}

/// The `people` columns an applicant fills, in one order for insert, update,
/// fingerprint and history.
pub const COLUMNS: [&str; 22] = [
    "tax_number",
    "passport",
    "surname",
    "given_name",
    "patronymic",
    "birth_date",
    "sex",
    "phone",
    "email",
    "community",
    "categories",
    "chosen_category",
    "benefit_document",
    "benefit_valid_until",
    "income_pension",
    "income_salary",
    "income_aid",
    "income_total",
    "documents",
    "photo",
    "application_date",
    "death_date",
];

impl Applicant {
    /// The values of `COLUMNS`, as stored.
    pub fn values(&self) -> [Value; 22] {
        let t = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
        let d = |d: &Option<NaiveDate>| d.map_or(Value::Null, |d| Value::Text(d.to_string()));
        let k = |k: &Option<i64>| k.map_or(Value::Null, Value::Integer);
        [
            t(&self.tax_number),
            t(&self.passport),
            Value::Text(self.surname.clone()),
            Value::Text(self.given_name.clone()),
            t(&self.patronymic),
            Value::Text(self.birth_date.to_string()),
            Value::Text(self.sex.code().into()),
            t(&self.phone),
            t(&self.email),
            Value::Text(self.community.clone()),
            Value::Text(self.categories.join(",")),
            t(&self.chosen_category),
            t(&self.benefit_document),
            d(&self.benefit_valid_until),
            k(&self.income_pension),
            k(&self.income_salary),
            k(&self.income_aid),
            k(&self.income_total),
            t(&self.documents),
            self.photo
                .as_ref()
                .map_or(Value::Null, |p| Value::Text(p.stored_name.clone())),
            d(&self.application_date),
            d(&self.death_date),
        ]
    }
}

/// A value as history and fingerprints show it.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Text(s) => Some(s.clone()),
        Value::Blob(b) => Some(format!("{} bytes", b.len())),
    }
}

/// Everything that reading a row needs besides the row.
pub struct RowContext<'a> {
    pub columns: &'a BTreeMap<Field, usize>,
    pub header_names: &'a [String],
    pub categories: Vocabulary,
    pub income_tested: HashSet<String>,
    pub communities: Vocabulary,
    pub sexes: Vocabulary,
    pub several_categories: super::settings::SeveralCategories,
    /// The community of rows that name none: the sheet's name's, or the
    /// file's `--community`.
    pub fallback: Option<String>,
    pub base_dir: PathBuf,
    pub today: NaiveDate,
    phones: RefCell<cells::Phones>,
    /// Category, community and sex cells already seen → what they matched.
    seen_categories: RefCell<HashMap<String, Match>>,
    seen_communities: RefCell<HashMap<String, Match>>,
    seen_sexes: RefCell<HashMap<String, Match>>,
}

impl<'a> RowContext<'a> {
    pub fn new(
        config: &Config,
        columns: &'a BTreeMap<Field, usize>,
        header_names: &'a [String],
        base_dir: &Path,
        today: NaiveDate,
    ) -> Self {
        RowContext {
            columns,
            header_names,
            categories: config.category_vocabulary(),
            income_tested: config
                .categories
                .iter()
                .filter(|c| c.income_tested)
                .map(|c| c.code.clone())
                .collect(),
            communities: config.community_vocabulary(),
            sexes: vocab::sexes(),
            several_categories: config.intake.several_categories,
            fallback: None,
            base_dir: base_dir.to_path_buf(),
            today,
            phones: RefCell::default(),
            seen_categories: RefCell::default(),
            seen_communities: RefCell::default(),
            seen_sexes: RefCell::default(),
        }
    }
}

/// A row that could be read, with the warnings to show the clerk.
pub struct Read {
    pub applicant: Applicant,
    /// The stored form of `applicant` and its fingerprint, made here so that
    /// the thread that reads rows, not the one that writes, pays for them.
    pub values: [Value; 22],
    pub fingerprint: u128,
    pub warnings: Vec<Why>,
    /// The values taken as something they do not literally say.
    pub matched: Vec<Matched>,
}

/// A cell's value taken as a known value it does not literally say: the
/// clerk is told, and can correct it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Matched {
    pub column: String,
    pub field: &'static str,
    pub written: String,
    pub taken_as: String,
    pub label: String,
    pub how: vocab::How,
}

/// A short hash of the stored values: an unchanged row is recognised by it.
/// Stored as 32 hex digits.
pub fn fingerprint(values: &[Value]) -> u128 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for v in values {
        match v {
            Value::Null => {}
            Value::Integer(i) => h.update(i.to_string().as_bytes()),
            Value::Text(t) => h.update(t.as_bytes()),
            other => h.update(value_text(other).unwrap_or_default().as_bytes()),
        }
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

/// Collects problems: every reason a row fails, not only the first.
struct Problems<'c, 'a> {
    ctx: &'c RowContext<'a>,
    reasons: Vec<Why>,
    warnings: Vec<Why>,
    matched: Vec<Matched>,
}

impl Problems<'_, '_> {
    fn column(&self, field: Field) -> (String, String) {
        let Some(&col) = self.ctx.columns.get(&field) else {
            let key = field.key();
            return (format!("{key}: "), format!("{key}: "));
        };
        let name = self
            .ctx
            .header_names
            .get(col)
            .map(String::as_str)
            .unwrap_or("");
        let letter = column_letter(col);
        (
            format!("стовпець {letter} «{name}»: "),
            format!("column {letter} \"{name}\": "),
        )
    }
    fn reject(&mut self, field: Field, why: Why) {
        let (uk, en) = self.column(field);
        self.reasons.push(why.prefixed(&uk, &en));
    }
    /// A cell's parsed value, or its reason recorded against `field`.
    fn ok<T>(&mut self, field: Field, r: Result<T, Why>) -> Option<T> {
        r.map_err(|e| self.reject(field, e)).ok()
    }
    fn warn(&mut self, field: Field, why: Why) {
        let (uk, en) = self.column(field);
        self.warnings.push(why.prefixed(&uk, &en));
    }

    /// Takes a matcher's answer for a cell: the code, with a warning when
    /// the cell does not literally say it; or a rejection that names the
    /// candidates ("did you mean A or B?") or the nearest values.
    fn take(
        &mut self,
        field: Field,
        raw: &str,
        m: &Match,
        vocabulary: &Vocabulary,
        what: (&str, &str),
    ) -> Option<String> {
        let (what_uk, what_en) = what;
        let quoted = |codes: &[String]| -> Vec<String> {
            codes
                .iter()
                .map(|c| {
                    let label = vocabulary.label(c);
                    if label == c {
                        format!("«{c}»")
                    } else {
                        format!("«{label}» ({c})")
                    }
                })
                .collect()
        };
        match m {
            Match::Exact(code) => Some(code.clone()),
            Match::Variant { code, how } => {
                let label = vocabulary.label(code).to_string();
                let (how_uk, how_en) = (how.uk(), how.en());
                self.warn(
                    field,
                    why!(
                        "«{raw}» прийнято як «{label}» ({code}; {how_uk}); виправте клітинку, якщо це не так",
                        "{raw:?} taken as «{label}» ({code}; {how_en} it); correct the cell if that is wrong",
                    ),
                );
                let col = self.ctx.columns.get(&field).copied().unwrap_or_default();
                self.matched.push(Matched {
                    column: format!(
                        "{} «{}»",
                        column_letter(col),
                        self.ctx.header_names.get(col).map_or("", String::as_str)
                    ),
                    field: field.key(),
                    written: raw.to_string(),
                    taken_as: code.clone(),
                    label,
                    how: *how,
                });
                Some(code.clone())
            }
            Match::Ambiguous(codes) => {
                let q = quoted(codes);
                let (last, rest) = q.split_last().expect("two or more");
                let rest = rest.join(", ");
                self.reject(
                    field,
                    why!(
                        "«{raw}» — неоднозначно: ви мали на увазі {rest} чи {last}? Напишіть {what_uk} повністю",
                        "{raw:?} is ambiguous: did you mean {rest} or {last}? Write the {what_en} in full",
                    ),
                );
                None
            }
            Match::Unknown(nearest) => {
                let hint_uk = if nearest.is_empty() {
                    String::new()
                } else {
                    format!("; найближчі: {}", quoted(nearest).join(", "))
                };
                let hint_en = if nearest.is_empty() {
                    String::new()
                } else {
                    format!("; nearest: {}", quoted(nearest).join(", "))
                };
                let teach = match field {
                    Field::Category | Field::ChosenCategory => Some("category"),
                    Field::Community => Some("community"),
                    _ => None,
                };
                // The code is left for the clerk to choose: a nearest value
                // offered here would invite paying the wrong one.
                let (teach_uk, teach_en) = match teach {
                    None => (String::new(), String::new()),
                    Some("community") => (
                        format!(
                            "; якщо це населений пункт громади зі схеми, навчіть один раз: kartka vocab add community {raw:?} CODE"
                        ),
                        format!(
                            "; if it lies in a community of the scheme, teach it once: kartka vocab add community {raw:?} CODE"
                        ),
                    ),
                    Some(kind) => (
                        format!(", або навчіть один раз: kartka vocab add {kind} {raw:?} CODE"),
                        format!(", or teach it once: kartka vocab add {kind} {raw:?} CODE"),
                    ),
                };
                self.reject(
                    field,
                    why!(
                        "«{raw}» — невідома {what_uk}{hint_uk}; очікується назва або код із kartka.toml{teach_uk}",
                        "{raw:?} is not a known {what_en}{hint_en}; expected a name or code from kartka.toml{teach_en}",
                    ),
                );
                None
            }
        }
    }
}

/// Spreadsheet column letters: 0 → A, 26 → AA.
pub fn column_letter(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

const UKRAINIAN_LETTERS: &str =
    "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгґдеєжзиіїйклмнопрстуфхцчшщьюя";

fn name_problem(name: &str) -> Option<Why> {
    let mut bad = String::new();
    for c in name.chars() {
        let fine = UKRAINIAN_LETTERS.contains(c) || c == ' ' || c == '-' || c == text::APOSTROPHE;
        if !fine && !bad.contains(c) {
            bad.push(c);
        }
    }
    if bad.is_empty() {
        None
    } else {
        let bad = cells::quoted(&bad);
        let bad = bad.trim_matches('"');
        let (uk, en) = (cells::quoted_uk(name), cells::quoted(name));
        Some(Why {
            uk: format!(
                "{uk} містить символи, що не є українськими літерами ({bad}); очікується ім'я як у паспорті, українською"
            ),
            en: format!(
                "{en} has characters that are not Ukrainian letters ({bad}); expected the name as in the passport, in Ukrainian"
            ),
        })
    }
}

/// Matches `raw` once per distinct text: a city's sheet repeats a handful
/// of category and community names.
fn known(seen: &RefCell<HashMap<String, Match>>, vocabulary: &Vocabulary, raw: &str) -> Match {
    if let Some(hit) = seen.borrow().get(raw) {
        return hit.clone();
    }
    let m = vocabulary.find(raw);
    seen.borrow_mut().insert(raw.to_string(), m.clone());
    m
}

/// The most characters a field's cell may hold: a name part as long as any
/// in a passport, a document or category list a few lines; nothing longer
/// is stored.
pub fn max_chars(field: Field) -> usize {
    match field {
        Field::Surname | Field::GivenName | Field::Patronymic => 100,
        Field::FullName => 300,
        Field::Community | Field::Settlement | Field::Address | Field::Email => 300,
        Field::Category | Field::ChosenCategory => 500,
        Field::BenefitDocument | Field::Documents | Field::Photo => 500,
        Field::BirthDate
        | Field::Sex
        | Field::TaxNumber
        | Field::Passport
        | Field::PassportSeries
        | Field::PassportNumber
        | Field::BenefitValidUntil
        | Field::Phone
        | Field::Income
        | Field::IncomePension
        | Field::IncomeSalary
        | Field::IncomeAid
        | Field::ApplicationDate
        | Field::DeathDate => 100,
    }
}

/// Whether a tax-number cell says the person has none: a dash, «немає»,
/// or a refusal in words («відмова (релігійні переконання)», «відмова від
/// РНОКПП»): the person is then identified by the passport, as the law
/// allows (reference/identity-numbers.md).
fn no_tax_number(raw: &str) -> bool {
    let key = text::match_key(raw);
    cells::says_none(raw)
        || refuses_tax_number(raw)
        || ["відсутн", "немає", "не має", "нема", "не присвоєн"]
            .iter()
            .any(|w| key.contains(w))
}

/// Whether a tax-number cell holds a refusal of the number in words, in
/// any case: «ВІДМОВА», «відмовився від коду», «(релігійні переконання)».
fn refuses_tax_number(raw: &str) -> bool {
    let key = text::match_key(raw);
    ["відмов", "релігі"].iter().any(|w| key.contains(w))
}

/// A tax number without the name of the number written before it
/// («ІПН: 1759013776», «РНОКПП № 1759013776»).
fn without_label(raw: &str) -> String {
    let mut rest = raw.trim();
    loop {
        let word_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ':' | '№'))
            .unwrap_or(rest.len());
        let key = text::match_key(&rest[..word_end]);
        let label = ["рнокпп", "іпн", "інн", "код", "дрфо", "№", ":"].contains(&key.as_str())
            || (word_end == 0 && !rest.is_empty());
        if !label || rest.is_empty() {
            return rest.to_string();
        }
        let skip = if word_end == 0 {
            rest.chars().next().map_or(0, char::len_utf8)
        } else {
            word_end
        };
        rest = rest[skip..].trim_start();
    }
}

/// A tax-number cell's text without the words of a refusal, for the
/// passport written after them («відмова, паспорт МК 512345»).
fn after_refusal(raw: &str) -> String {
    raw.split([' ', ',', ';', '(', ')'])
        .filter(|w| {
            let key = text::match_key(w);
            !["відмов", "релігі", "переконан"]
                .iter()
                .any(|s| key.contains(s))
                && !["від", "рнокпп", "іпн", "коду", "код"].contains(&key.as_str())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl RowContext<'_> {
    /// What a category cell's text names.
    fn category_match(&self, raw: &str) -> Match {
        known(&self.seen_categories, &self.categories, raw)
    }

    /// What a community cell's text names.
    fn community_match(&self, raw: &str) -> Match {
        known(&self.seen_communities, &self.communities, raw)
    }

    fn cell<'r>(&self, row: &'r [Data], field: Field) -> Option<&'r Data> {
        let col = *self.columns.get(&field)?;
        row.get(col).filter(|c| !cells::is_blank(c))
    }

    /// A cell as the clerk wrote it, for quoting.
    fn written(&self, row: &[Data], field: Field) -> Option<String> {
        let written = self.cell(row, field).map(|c| match c {
            Data::String(s) => s.clone(),
            other => cells::text(other),
        })?;
        self.own_part(field, written)
    }

    fn text(&self, row: &[Data], field: Field) -> Option<String> {
        let text = self
            .cell(row, field)
            .map(cells::text)
            .filter(|s| !s.is_empty())?;
        self.own_part(field, text)
    }

    /// Whether the tax number and the document share one column.
    fn shares_identity(&self) -> bool {
        self.columns.get(&Field::TaxNumber).is_some()
            && self.columns.get(&Field::TaxNumber) == self.columns.get(&Field::Passport)
    }

    /// The tax number's or the document's part of one cell holding both
    /// («АК 123456; 2016244110», a column headed «Документи (паспорт;
    /// РНОКПП)»): the ten digits are the tax number, the rest the document.
    fn own_part(&self, field: Field, text: String) -> Option<String> {
        if !matches!(field, Field::TaxNumber | Field::Passport) || !self.shares_identity() {
            return Some(text);
        }
        let is_tax = |part: &str| {
            let digits: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            let digits = digits
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .to_string();
            digits.len() == 10 && digits.chars().all(|c| c.is_ascii_digit())
        };
        let (tax, rest): (Vec<&str>, Vec<&str>) = text
            .split([';', ',', '\n', '/'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .partition(|p| is_tax(p));
        let mine = if field == Field::TaxNumber { tax } else { rest };
        let mine = mine.join(", ");
        (!mine.is_empty()).then_some(mine)
    }

    /// Reads one data row.
    pub fn read(&self, row: &[Data]) -> Result<Read, Vec<Why>> {
        let mut p = Problems {
            ctx: self,
            reasons: Vec::new(),
            warnings: Vec::new(),
            matched: Vec::new(),
        };
        // A cell longer than its field may be is the row's only reason: its
        // text goes no further (not stored, not matched, not quoted whole).
        self.lengths(row, &mut p);
        if !p.reasons.is_empty() {
            return Err(p.reasons);
        }

        // Names: three columns, or one to split.
        let (surname, given_name, patronymic) = self.names(row, &mut p);

        let birth_date = match self.cell(row, Field::BirthDate) {
            None => {
                p.reject(
                    Field::BirthDate,
                    why!(
                        "порожньо; дата народження обов'язкова",
                        "empty; the date of birth is required"
                    ),
                );
                None
            }
            Some(c) => match cells::date_noted(c, DateKind::Past, self.today) {
                Ok((d, _)) if d > self.today => {
                    p.reject(
                        Field::BirthDate,
                        why!("{d} — у майбутньому", "{d} is in the future"),
                    );
                    None
                }
                Ok((d, note)) => {
                    if let Some(note) = note {
                        p.warn(Field::BirthDate, note);
                    }
                    Some(d)
                }
                Err(e) => {
                    p.reject(Field::BirthDate, e);
                    None
                }
            },
        };

        let sex_cell = self.text(row, Field::Sex);
        let sex = sex_cell.as_deref().and_then(|s| {
            if let Some(sex) = cells::sex(s) {
                return Some(sex);
            }
            let m = known(&self.seen_sexes, &self.sexes, s);
            let code = match m {
                Match::Unknown(_) => {
                    let written = self.written(row, Field::Sex).unwrap_or_default();
                    let (uk, en) = (cells::quoted_uk(&written), cells::quoted(&written));
                    p.reject(
                        Field::Sex,
                        why!(
                            "{uk} — не стать; очікується ч/ж",
                            "{en} is not a sex; expected ч/ж (M/F)"
                        ),
                    );
                    None
                }
                m => p.take(Field::Sex, s, &m, &self.sexes, ("стать", "sex")),
            };
            match code.as_deref() {
                Some("male") => Some(Sex::Male),
                Some("female") => Some(Sex::Female),
                _ => None,
            }
        });

        let (tax_number, tax_passport) = self.tax_number(row, birth_date, sex, &mut p);
        let mut passport = self.passport(row, birth_date, &mut p);
        if let Some(tp) = tax_passport {
            match &passport {
                Some(pp) if pp != &tp => p.reject(
                    Field::TaxNumber,
                    why!(
                        "містить паспорт {tp}, а в стовпці паспорта — {pp}",
                        "holds passport {tp}, but the passport column says {pp}"
                    ),
                ),
                _ => passport = Some(tp),
            }
        }
        let refusal = self
            .written(row, Field::TaxNumber)
            .filter(|w| refuses_tax_number(w));
        if let (Some(w), None, true) = (&refusal, &passport, p.reasons.is_empty()) {
            let (uk, en) = (cells::quoted_uk(w), cells::quoted(w));
            p.reject(
                Field::TaxNumber,
                why!(
                    "{uk} — відмова від РНОКПП; тоді особу встановлюють за паспортом, а його не вказано; впишіть серію і номер паспорта (або номер ID-картки)",
                    "{en} is a refusal of the tax number; the person is then identified by the passport, and there is none; give the passport's series and number (or the ID card's number)"
                ),
            );
        }
        if tax_number.is_none() && passport.is_none() && p.reasons.is_empty() {
            p.reasons.push(why!(
                "немає ні РНОКПП, ні паспорта: для встановлення особи потрібен один із них",
                "no tax number (РНОКПП) and no passport: one of them is needed to identify the person"
            ));
        }

        // Sex: from its column, else from the tax number.
        let sex = match (sex, &tax_number) {
            (Some(s), _) => Some(s),
            (None, Some(t)) if sex_cell.is_none() => {
                let s = identity::parse_tax_number(t).ok().map(|t| t.sex);
                if let (Some(s), true) = (s, self.columns.contains_key(&Field::Sex)) {
                    p.warn(
                        Field::Sex,
                        why!(
                            "порожньо; взято з РНОКПП: {}",
                            "empty; taken from the tax number: {}",
                            s.uk()
                        ),
                    );
                }
                s
            }
            (None, None) if sex_cell.is_none() => {
                // A school's or a doctor's list has no sex column and a
                // child no tax number: the patronymic says it («-ович»,
                // «-івна»).
                match patronymic.as_deref().and_then(sex_of_patronymic) {
                    Some(s) => {
                        let pat = patronymic.as_deref().unwrap_or_default();
                        p.warnings.push(why!(
                            "стать не вказано; взято з по батькові «{pat}»: {}",
                            "sex not given; taken from the patronymic «{pat}»: {}",
                            s.uk()
                        ));
                        Some(s)
                    }
                    None => {
                        p.reasons.push(why!(
                            "стать не вказано, і немає РНОКПП чи по батькові, з яких її можна взяти",
                            "sex is not given and there is no tax number or patronymic to take it from"
                        ));
                        None
                    }
                }
            }
            _ => None,
        };

        let phone = self.contact(row, Field::Phone, &mut p);
        let email = self.contact(row, Field::Email, &mut p);

        let community = self.community(row, &mut p);
        let (categories, chosen_category) = self.categories(row, &mut p);

        let mut money = |field: Field| match self.cell(row, field) {
            None => None,
            Some(c) => p.ok(field, cells::kopecks(c)).flatten(),
        };
        let income_pension = money(Field::IncomePension);
        let income_salary = money(Field::IncomeSalary);
        let income_aid = money(Field::IncomeAid);
        let income_total = money(Field::Income);
        let has_income = [income_pension, income_salary, income_aid, income_total]
            .iter()
            .any(Option::is_some);
        // P3: the income test needs the income. Required when the category the
        // person will use is income-tested: the chosen one, or, with no choice,
        // every one they hold.
        let tested = match &chosen_category {
            Some(c) => self.income_tested.contains(c),
            None => {
                !categories.is_empty() && categories.iter().all(|c| self.income_tested.contains(c))
            }
        };
        if tested && !has_income {
            let category = chosen_category
                .as_deref()
                .unwrap_or_else(|| categories[0].as_str());
            p.reasons.push(why!(
                "дохід не вказано, а категорія {category} передбачає перевірку доходу (P3); очікується місячний дохід у гривнях",
                "no income given, but category {category} is income-tested (P3); expected the monthly income in UAH"
            ));
        }

        let mut date = |field: Field, kind: DateKind| {
            let (d, note) = p.ok(
                field,
                cells::date_noted(self.cell(row, field)?, kind, self.today),
            )?;
            if let Some(note) = note {
                p.warn(field, note);
            }
            Some(d)
        };
        let benefit_valid_until = date(Field::BenefitValidUntil, DateKind::Any);
        let application_date = date(Field::ApplicationDate, DateKind::Past);
        let death_date = date(Field::DeathDate, DateKind::Past);

        let photo = self
            .text(row, Field::Photo)
            .and_then(|name| p.ok(Field::Photo, photo::check(&self.base_dir, &name)));

        let benefit_document = self.text(row, Field::BenefitDocument);
        let documents = self.text(row, Field::Documents);

        if !p.reasons.is_empty() {
            return Err(p.reasons);
        }
        let (Some(surname), Some(given_name), Some(birth_date), Some(sex), Some(community)) =
            (surname, given_name, birth_date, sex, community)
        else {
            return Err(vec![why!("рядок неповний", "the row is incomplete")]);
        };
        let applicant = Applicant {
            tax_number,
            passport,
            surname,
            given_name,
            patronymic,
            birth_date,
            sex,
            phone,
            email,
            community,
            categories,
            chosen_category,
            benefit_document,
            benefit_valid_until,
            income_pension,
            income_salary,
            income_aid,
            income_total,
            documents,
            photo,
            application_date,
            death_date,
        };
        let values = applicant.values();
        Ok(Read {
            fingerprint: fingerprint(&values),
            values,
            applicant,
            warnings: p.warnings,
            matched: p.matched,
        })
    }

    /// A phone or e-mail cell: what can be read, the rest kept as written,
    /// a warning for the clerk; never a reason to refuse the person.
    fn contact(&self, row: &[Data], field: Field, p: &mut Problems) -> Option<String> {
        let raw = self.written(row, field)?;
        let (_, n) = cells::uncut(&raw);
        if n > max_chars(field) {
            p.warn(
                field,
                why!(
                    "{} — задовго для контакту (щонайбільше {} символів); не збережено",
                    "{} is too long for contact data (at most {} characters); not kept",
                    cells::quoted_uk(&raw),
                    max_chars(field)
                ),
            );
            return None;
        }
        let contact = match field {
            Field::Phone => self.phones.borrow_mut().contact(&raw),
            _ => cells::email_contact(&raw),
        };
        if let Some(note) = contact.note {
            p.warn(field, note);
        }
        contact.kept
    }

    /// Rejects every read cell longer than its field's `max_chars`; contact
    /// cells are not reasons to refuse (`contact`).
    fn lengths(&self, row: &[Data], p: &mut Problems) {
        for (&field, &col) in self.columns {
            if matches!(field, Field::Phone | Field::Email) {
                continue;
            }
            let Some(Data::String(s)) = row.get(col) else {
                continue;
            };
            let (_, n) = cells::uncut(s);
            let max = max_chars(field);
            if n > max {
                p.reject(
                    field,
                    Why {
                        uk: format!(
                            "{} — задовго: щонайбільше {max} символів; виправте клітинку",
                            cells::quoted_uk(s)
                        ),
                        en: format!(
                            "{} is too long: at most {max} characters; correct the cell",
                            cells::quoted(s)
                        ),
                    },
                );
            }
        }
    }

    fn names(
        &self,
        row: &[Data],
        p: &mut Problems,
    ) -> (Option<String>, Option<String>, Option<String>) {
        // Separate columns when the surname and the given name have one
        // each; else the full-name column (the header has one or the other).
        let three = self.columns.contains_key(&Field::Surname)
            && (self.columns.contains_key(&Field::GivenName)
                || !self.columns.contains_key(&Field::FullName));
        let (surname, given, patronymic, field) = if three {
            let given = self.text(row, Field::GivenName);
            // «Ім'я та по батькові» in one column beside the surname's.
            let both = given
                .as_deref()
                .filter(|_| {
                    let own = self.columns.get(&Field::Patronymic);
                    own.is_none() || own == self.columns.get(&Field::GivenName)
                })
                .and_then(|g| {
                    let words: Vec<&str> = g.split_whitespace().collect();
                    (words.len() == 2).then(|| (words[0].to_string(), words[1].to_string()))
                });
            match both {
                Some((g, pat)) => (
                    self.text(row, Field::Surname),
                    Some(g),
                    Some(pat).filter(|p| !cells::says_none(p)),
                    Field::Surname,
                ),
                None => (
                    self.text(row, Field::Surname),
                    given,
                    self.text(row, Field::Patronymic),
                    Field::Surname,
                ),
            }
        } else {
            match self.text(row, Field::FullName) {
                None => (None, None, None, Field::FullName),
                Some(full) => {
                    let mut parts: Vec<String> = full
                        .split([' ', ','])
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect();
                    // «П.І.Б.» merged over three columns: the given name and
                    // patronymic are in the cells beside, under no header.
                    if parts.len() == 1 {
                        let col = self.columns[&Field::FullName];
                        for k in 1..=2 {
                            let unnamed =
                                self.header_names.get(col + k).is_none_or(|h| h.is_empty());
                            match row.get(col + k).map(cells::text) {
                                Some(t) if unnamed && !t.is_empty() && !t.contains(' ') => {
                                    parts.push(t)
                                }
                                _ => break,
                            }
                        }
                    }
                    match parts.len() {
                        3 => (
                            Some(parts[0].clone()),
                            Some(parts[1].clone()),
                            Some(parts[2].clone()).filter(|p| !cells::says_none(p)),
                            Field::FullName,
                        ),
                        2 => {
                            let written = self.written(row, Field::FullName).unwrap_or(full);
                            p.reject(Field::FullName, two_words(&written, &parts[1]));
                            return (None, None, None);
                        }
                        n => {
                            let written = self.written(row, Field::FullName).unwrap_or(full);
                            let (uk, en) = (cells::quoted_uk(&written), cells::quoted(&written));
                            p.reject(
                                Field::FullName,
                                why!(
                                    "{uk} має слів: {n}; очікуються прізвище, ім'я та по батькові (або три окремі стовпці)",
                                    "{en} has {n} words; expected surname, given name and patronymic (or use three columns)"
                                ),
                            );
                            return (None, None, None);
                        }
                    }
                }
            }
        };
        let mut check = |raw: Option<String>,
                         what: (&str, &str),
                         field: Field,
                         required: bool|
         -> Option<String> {
            match raw {
                None => {
                    if required {
                        let (uk, en) = what;
                        p.reject(
                            field,
                            why!(
                                "порожньо; {uk} — обов'язкове поле",
                                "empty; the {en} is required"
                            ),
                        );
                    }
                    None
                }
                Some(raw) => {
                    let name = text::person_name(&raw);
                    match name_problem(&name) {
                        Some(why) => {
                            p.reject(field, why);
                            None
                        }
                        None => Some(name),
                    }
                }
            }
        };
        let (gf, pf) = if three {
            (Field::GivenName, Field::Patronymic)
        } else {
            (field, field)
        };
        let surname = check(surname, ("прізвище", "surname"), field, true);
        let given = check(given, ("ім'я", "given name"), gf, true);
        let no_column =
            three && !self.columns.contains_key(&Field::Patronymic) && patronymic.is_none();
        let patronymic = if no_column || patronymic.as_deref().is_some_and(says_none) {
            None
        } else if three && patronymic.is_none() {
            p.reject(
                pf,
                why!(
                    "порожньо; по батькові пишуть як у паспорті, а «-», якщо в паспорті його немає",
                    "empty; write the patronymic as in the passport, or «-» if the passport has none"
                ),
            );
            None
        } else {
            check(patronymic, ("по батькові", "patronymic"), pf, false)
        };
        (surname, given, patronymic)
    }

    /// The tax number, restored and checked; or a passport written in its
    /// place by a person who has no tax number.
    fn tax_number(
        &self,
        row: &[Data],
        birth_date: Option<NaiveDate>,
        sex: Option<Sex>,
        p: &mut Problems,
    ) -> (Option<String>, Option<String>) {
        let Some(cell) = self.cell(row, Field::TaxNumber) else {
            return (None, None);
        };
        let part;
        let cell = if self.shares_identity() {
            match self.own_part(Field::TaxNumber, cells::text(cell)) {
                Some(text) => {
                    part = Data::String(text);
                    &part
                }
                None => return (None, None),
            }
        } else {
            cell
        };
        let raw = without_label(&cells::unmarked(&cells::text(cell)));
        let written = match cell {
            Data::String(s) => s.clone(),
            _ => raw.clone(),
        };
        let (quoted_uk, quoted_en) = (cells::quoted_uk(&written), cells::quoted(&written));
        if !raw.bytes().any(|b| b.is_ascii_digit()) && no_tax_number(&raw) {
            return (None, None);
        }
        let shown = (quoted_uk.as_str(), quoted_en.as_str());
        if refuses_tax_number(&raw)
            && let Some(id) = cells::id_document(None, &after_refusal(&raw))
        {
            let ok = self.check_id(&id, birth_date, Field::TaxNumber, shown, p);
            return (None, ok.then(|| id.document.as_str().to_string()));
        }
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let numeric_cell = matches!(cell, Data::Float(_) | Data::Int(_));
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let mut number = digits.clone();
        if all_digits && digits.len() < 10 {
            let padded = format!("{digits:0>10}");
            let restorable =
                numeric_cell || (digits.len() >= 8 && matches_holder(&padded, birth_date, sex));
            if restorable && identity::parse_tax_number(&padded).is_ok() {
                p.warn(
                    Field::TaxNumber,
                    why!(
                        "{digits} втратив початкові нулі (збережено як число); відновлено як {padded}",
                        "{digits} lost its leading zero(s) (stored as a number); restored as {padded}"
                    ),
                );
                number = padded;
            } else if !numeric_cell
                && let Some(Passport::IdCard(id)) = identity::parse_passport(&digits)
            {
                return (None, Some(id));
            }
        }
        if !all_digits {
            if let Some(id) = cells::id_document(None, &raw) {
                let ok = self.check_id(&id, birth_date, Field::TaxNumber, shown, p);
                return (None, ok.then(|| id.document.as_str().to_string()));
            }
            p.reject(
                Field::TaxNumber,
                why!(
                    "{quoted_uk} — ні РНОКПП (10 цифр), ні паспорт",
                    "{quoted_en} is neither a tax number (10 digits) nor a passport"
                ),
            );
            return (None, None);
        }
        // The number as checked, after the cell as written when they differ.
        let shown = if written.trim() == number {
            number.clone()
        } else {
            format!("{quoted_en} ({number})")
        };
        match identity::parse_tax_number(&number) {
            Err(TaxError::NotTenDigits) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{quoted_uk} має цифр: {}; очікується 10",
                        "{quoted_en} has {} digits; expected 10",
                        digits.len()
                    ),
                );
                (None, None)
            }
            Err(TaxError::CheckDigit { expected, found }) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{shown} не проходить перевірку контрольної цифри (остання цифра {found}, має бути {expected}); перевірте, чи немає описки",
                        "{shown} fails the check digit (last digit is {found}, expected {expected}); check for a typo"
                    ),
                );
                (None, None)
            }
            Err(TaxError::NoBirthDate) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{shown} не містить дати народження",
                        "{shown} does not encode a birth date"
                    ),
                );
                (None, None)
            }
            Ok(t) => {
                let mut ok = true;
                if let Some(b) = birth_date
                    && b != t.birth_date
                {
                    p.reject(
                        Field::TaxNumber,
                        why!(
                            "{shown} відповідає даті народження {}, а вказано {}; одне з них помилкове",
                            "{shown} encodes birth date {}, but the date of birth is {}; one of them is wrong",
                            t.birth_date.format("%d.%m.%Y"),
                            b.format("%d.%m.%Y")
                        ),
                    );
                    ok = false;
                }
                if let Some(s) = sex
                    && s != t.sex
                {
                    p.reject(
                        Field::TaxNumber,
                        why!(
                            "{shown} відповідає статі «{}», а вказано «{}»; одне з них помилкове",
                            "{shown} encodes sex {}, but the sex column says {}; one of them is wrong",
                            t.sex.uk(),
                            s.uk()
                        ),
                    );
                    ok = false;
                }
                (ok.then_some(number), None)
            }
        }
    }

    /// The identity document in the passport column, or in the series and
    /// number columns (quoted as the two cells they are).
    fn passport(
        &self,
        row: &[Data],
        birth_date: Option<NaiveDate>,
        p: &mut Problems,
    ) -> Option<String> {
        // The number: the passport column's cell, or the number column's;
        // the series column joined to it when the cell alone is no document.
        let (field, n) = match self.written(row, Field::Passport) {
            Some(v) => (Field::Passport, v),
            None => (
                Field::PassportNumber,
                self.written(row, Field::PassportNumber)?,
            ),
        };
        let alone = match field {
            Field::Passport => cells::id_document(None, &n),
            _ => None,
        };
        let (read, series, n) = match alone {
            Some(read) => (Some(read), None, n),
            None => match self.beside_passport(row, field) {
                Some(number) => (cells::id_document(Some(&n), &number), Some(n), number),
                None => {
                    let series = self.written(row, Field::PassportSeries);
                    let read = cells::id_document(series.as_deref(), &n)
                        .or_else(|| self.unzeroed_number(row, field, series.as_deref(), &n, p));
                    (read, series, n)
                }
            },
        };
        let shown = match &series {
            Some(s) => (
                format!(
                    "серія {}, номер {}",
                    cells::quoted_uk(s),
                    cells::quoted_uk(&n)
                ),
                format!("series {}, number {}", cells::quoted(s), cells::quoted(&n)),
            ),
            None => (cells::quoted_uk(&n), cells::quoted(&n)),
        };
        let (uk, en) = shown;
        let Some(read) = read else {
            p.reject(
                field,
                why!(
                    "{uk} — не документ, що посвідчує особу; очікуються паспорт (2 кириличні літери і 6 цифр, АВ123456), ID-картка (9 цифр) або свідоцтво про народження дитини (І-АП 123456)",
                    "{en} is not an identity document; expected a passport (2 Cyrillic letters and 6 digits, АВ123456), an ID card (9 digits) or a child's birth certificate (І-АП 123456)"
                ),
            );
            return None;
        };
        self.check_id(&read, birth_date, field, (&uk, &en), p)
            .then(|| read.document.as_str().to_string())
    }

    /// «Паспорт» merged over two columns, the series under it and the
    /// number in the cell beside under no header: that cell, when there is
    /// no series column.
    fn beside_passport(&self, row: &[Data], field: Field) -> Option<String> {
        if field != Field::Passport || self.columns.contains_key(&Field::PassportSeries) {
            return None;
        }
        let col = self.columns[&Field::Passport] + 1;
        let unnamed = self.header_names.get(col).is_none_or(|h| h.is_empty());
        let placed = self.columns.values().any(|&c| c == col);
        (unnamed && !placed)
            .then(|| {
                row.get(col)
                    .filter(|c| !cells::is_blank(c))
                    .map(cells::text)
            })
            .flatten()
    }

    /// A document number a spreadsheet stored as a number, its leading
    /// zeros lost: six digits after a booklet's series, nine for an ID
    /// card; restored with a warning.
    fn unzeroed_number(
        &self,
        row: &[Data],
        field: Field,
        series: Option<&str>,
        number: &str,
        p: &mut Problems,
    ) -> Option<cells::IdRead> {
        let numeric = matches!(self.cell(row, field), Some(Data::Float(_) | Data::Int(_)));
        if !numeric || number.len() >= 9 {
            return None;
        }
        let read = [(6, 4), (9, 7)].into_iter().find_map(|(width, least)| {
            let padded = format!("{number:0>width$}");
            (padded.len() == width && number.len() >= least)
                .then(|| cells::id_document(series, &padded))
                .flatten()
        })?;
        let restored = read.document.as_str().to_string();
        p.warn(
            field,
            why!(
                "{number} втратив початкові нулі (збережено як число); відновлено як {restored}",
                "{number} lost its leading zero(s) (stored as a number); restored as {restored}"
            ),
        );
        Some(read)
    }

    /// A birth certificate identifies a child under 14 (P4); a УНЗР must
    /// be one, of the person's date of birth.
    fn check_id(
        &self,
        read: &cells::IdRead,
        birth_date: Option<NaiveDate>,
        field: Field,
        (uk, en): (&str, &str),
        p: &mut Problems,
    ) -> bool {
        let mut ok = true;
        if let (cells::IdDocument::BirthCertificate(_), Some(b)) = (&read.document, birth_date)
            && b.checked_add_months(chrono::Months::new(14 * 12))
                .is_some_and(|d14| d14 <= self.today)
        {
            p.reject(
                field,
                why!(
                    "{uk} — свідоцтво про народження, а особі вже виповнилося 14 років; потрібен паспорт (P4)",
                    "{en} is a birth certificate, but the person is 14 or older; a passport is needed (P4)"
                ),
            );
            ok = false;
        }
        if let Some(unzr) = &read.unzr {
            match cells::unzr_check(unzr) {
                None => {
                    p.reject(
                        field,
                        why!(
                            "{uk}: УНЗР {unzr} — не дата народження і номер (РРРРММДД-ННННК)",
                            "{en}: УНЗР {unzr} is not a date of birth and a number (YYYYMMDD-NNNNC)"
                        ),
                    );
                    ok = false;
                }
                Some((d, _)) if birth_date.is_some_and(|b| b != d) => {
                    p.reject(
                        field,
                        why!(
                            "{uk}: УНЗР {unzr} містить дату народження {}, а вказано {}; одне з них помилкове",
                            "{en}: УНЗР {unzr} holds the birth date {}, but the date of birth is {}; one of them is wrong",
                            d.format("%d.%m.%Y"),
                            birth_date.map_or(String::new(), |b| b.format("%d.%m.%Y").to_string())
                        ),
                    );
                    ok = false;
                }
                Some((_, false)) => p.warn(
                    field,
                    why!(
                        "{uk}: контрольна цифра УНЗР {unzr} не збігається; перевірте номер",
                        "{en}: the check digit of УНЗР {unzr} does not match; check the number"
                    ),
                ),
                Some(_) => {}
            }
        }
        ok
    }

    /// The community: from its column, a settlement column, the settlement
    /// in an address, or else the sheet's or the file's (`fallback`).
    fn community(&self, row: &[Data], p: &mut Problems) -> Option<String> {
        if let Some(raw) = self.text(row, Field::Community) {
            let m = self.community_match(&raw);
            return p.take(
                Field::Community,
                &raw,
                &m,
                &self.communities,
                COMMUNITY_WORDS,
            );
        }
        for field in [Field::Settlement, Field::Address] {
            if let Some(raw) = self.text(row, field)
                && let Some(found) = self.community_in(
                    field,
                    &raw,
                    &self.written(row, field).unwrap_or_default(),
                    p,
                )
            {
                return found;
            }
        }
        if let Some(code) = &self.fallback {
            return Some(code.clone());
        }
        self.no_community(row, p);
        None
    }

    /// The community a settlement or address cell names: `Some(None)` when
    /// it names a settlement or district in no community (refused), `None`
    /// when it names no settlement.
    fn community_in(
        &self,
        field: Field,
        raw: &str,
        written: &str,
        p: &mut Problems,
    ) -> Option<Option<String>> {
        use super::community::Place;
        let name = match super::community::place(raw) {
            Place::Marked(name) => name,
            Place::Bare(parts) if field == Field::Settlement => parts.join(", "),
            Place::Bare(parts) => {
                let found = parts.into_iter().find_map(|part| {
                    let m = self.community_match(&part);
                    // Bare, a name is taken only as written or in another
                    // form: «Тернівська вул.» is a street, not Тернівка.
                    let plain = match &m {
                        Match::Exact(_) => true,
                        Match::Variant { how, .. } => *how == vocab::How::Normalised,
                        _ => false,
                    };
                    plain.then_some((part, m))
                })?;
                return Some(p.take(
                    field,
                    &found.0,
                    &found.1,
                    &self.communities,
                    COMMUNITY_WORDS,
                ));
            }
            Place::District(d) => {
                p.reject(
                    field,
                    why!(
                        "«{written}»: «{d}» — район або область, а не громада; допишіть населений пункт (м., с., смт)",
                        "{written:?}: «{d}» is a district or region, not a community; write the settlement (м., с., смт)"
                    ),
                );
                return Some(None);
            }
            Place::Nothing => return None,
        };
        let m = self.community_match(&name);
        if let Match::Unknown(_) = m {
            p.reject(
                field,
                why!(
                    "«{written}»: населений пункт «{name}» не належить до жодної громади з kartka.toml (ні місту, ні громаді-партнеру); перевірте адресу або додайте його до `settlements` його громади",
                    "{written:?}: the settlement «{name}» is in no community of kartka.toml (neither the city nor a partner); check the address, or add it to its community's `settlements`"
                ),
            );
            return Some(None);
        }
        Some(p.take(field, &name, &m, &self.communities, COMMUNITY_WORDS))
    }

    /// Refuses a row that names no community, saying where one is looked for.
    fn no_community(&self, row: &[Data], p: &mut Problems) {
        let shown = [Field::Community, Field::Settlement, Field::Address]
            .into_iter()
            .find(|f| self.columns.contains_key(f));
        let Some(field) = shown else {
            p.reasons.push(why!(
                "громаду не вказано: немає стовпця громади, населеного пункту чи адреси; передайте --community КОД",
                "no community: no community, settlement or address column; pass --community CODE"
            ));
            return;
        };
        let written = self.text(row, field).and_then(|_| self.written(row, field));
        let (uk, en) = match &written {
            None => ("порожньо".to_string(), "empty".to_string()),
            Some(raw) => (
                format!("«{raw}» — немає населеного пункту (м., с., смт)"),
                format!("{raw:?} names no settlement (м., с., смт)"),
            ),
        };
        p.reject(
            field,
            why!(
                "{uk}; громаду не знайдено ні в рядку, ні в назві аркуша; вкажіть громаду або населений пункт, або передайте --community КОД",
                "{en}; no community in the row or in the sheet's name; write the community or the settlement, or pass --community CODE"
            ),
        );
    }

    fn categories(&self, row: &[Data], p: &mut Problems) -> (Vec<String>, Option<String>) {
        let mut categories = Vec::new();
        match self
            .written(row, Field::Category)
            .filter(|w| !w.trim().is_empty())
        {
            None => p.reject(
                Field::Category,
                why!(
                    "порожньо; пільгова категорія обов'язкова",
                    "empty; the benefit category is required"
                ),
            ),
            Some(raw) => {
                let raw = raw.trim();
                for (shown, m) in category_parts(raw, |t| self.category_match(&text::squeeze(t))) {
                    if let Some(code) = p.take(
                        Field::Category,
                        &shown,
                        &m,
                        &self.categories,
                        CATEGORY_WORDS,
                    ) && !categories.contains(&code)
                    {
                        categories.push(code);
                    }
                }
            }
        }
        let chosen = self.text(row, Field::ChosenCategory).and_then(|raw| {
            let m = self.category_match(&raw);
            match p.take(
                Field::ChosenCategory,
                &raw,
                &m,
                &self.categories,
                CATEGORY_WORDS,
            ) {
                Some(code) if categories.contains(&code) || categories.is_empty() => Some(code),
                Some(code) => {
                    p.reject(
                        Field::ChosenCategory,
                        why!(
                            "{code} немає серед категорій особи ({})",
                            "{code} is not among the person's categories ({})",
                            categories.join(", ")
                        ),
                    );
                    None
                }
                None => None,
            }
        });
        if chosen.is_none() && categories.len() > 1 {
            match self.several_categories {
                SeveralCategories::NoIncomeTest => {
                    p.warn(Field::Category, self.category_used(&categories))
                }
                SeveralCategories::Ask => p.reject(Field::Category, ask_which(&categories)),
            }
        }
        (categories, chosen)
    }

    /// P2: a person in several categories uses one, at their choice. All
    /// are kept; without a choice the one needing no income test is used.
    fn category_used(&self, categories: &[String]) -> Why {
        let used = categories
            .iter()
            .find(|c| !self.income_tested.contains(*c))
            .unwrap_or(&categories[0]);
        let all = categories.join(", ");
        why!(
            "особа має кілька категорій ({all}); записано всі, використовується {used} (без перевірки доходу, P2); якщо особа обирає іншу, впишіть її у стовпець обраної категорії",
            "the person holds several categories ({all}); all are kept and {used} is used (no income test, P2); if the person chooses another, write it in the chosen-category column"
        )
    }
}

/// «П.І.Б.» of two words: a part is missing, named by what the second
/// word is: a patronymic («Петро Іванович»: no surname) or not (no
/// patronymic).
fn two_words(written: &str, second: &str) -> Why {
    let (uk, en) = (cells::quoted_uk(written), cells::quoted(written));
    if is_patronymic(second) {
        why!(
            "{uk} — лише ім'я та по батькові: бракує прізвища; допишіть його, як у паспорті",
            "{en} is only a given name and a patronymic: the surname is missing; add it as in the passport"
        )
    } else {
        why!(
            "{uk} має два слова: бракує по батькові; допишіть його, як у паспорті, або «-», якщо в паспорті його немає",
            "{en} has two words: the patronymic is missing; add it as in the passport, or «-» if the passport has none"
        )
    }
}

/// A name cell that says the person has none: «-», «—», «немає».
fn says_none(cell: &str) -> bool {
    let t = cell.trim().trim_end_matches('.').to_lowercase();
    t.chars().all(|c| matches!(c, '-' | '–' | '—' | ' ')) && !t.is_empty()
        || [
            "немає",
            "нема",
            "відсутнє",
            "відсутнє в паспорті",
            "без по батькові",
        ]
        .contains(&t.as_str())
}

/// The sex a Ukrainian patronymic says: «-ович», «-евич», «Ілліч» a man's;
/// «-івна», «-ївна», «-ична» a woman's.
fn sex_of_patronymic(patronymic: &str) -> Option<Sex> {
    let w = patronymic.trim().to_lowercase();
    if w.ends_with("вна") || w.ends_with("ична") || w.ends_with("ічна") {
        Some(Sex::Female)
    } else if w.ends_with("вич") || w.ends_with("ич") || w.ends_with("іч") {
        Some(Sex::Male)
    } else {
        None
    }
}

/// Whether a word ends as Ukrainian patronymics do: «-ович», «-івна».
fn is_patronymic(word: &str) -> bool {
    let w = word.to_lowercase();
    [
        "ович",
        "евич",
        "ич",
        "іч",
        "івна",
        "ївна",
        "овна",
        "ічна",
        "инична",
    ]
    .iter()
    .any(|end| w.ends_with(end) && w.chars().count() > end.chars().count() + 1)
}

fn matches_holder(tax: &str, birth_date: Option<NaiveDate>, sex: Option<Sex>) -> bool {
    match identity::parse_tax_number(tax) {
        Ok(t) => birth_date == Some(t.birth_date) && sex.is_none_or(|s| s == t.sex),
        Err(_) => false,
    }
}

/// A category cell's parts and what each names: the whole cell when it
/// names one category; else its parts, split at semicolons or line breaks,
/// else at commas ("Пенсіонер за віком, УБД").
pub fn category_parts(raw: &str, find: impl Fn(&str) -> Match) -> Vec<(String, Match)> {
    if cells::says_none(raw) {
        return vec![(raw.to_string(), find(raw))];
    }
    // Parts a semicolon or a line parts that each name a category are
    // those categories («ІІІ гр.; УБД»), whatever the whole text names.
    let listed: Vec<&str> = raw
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if listed.len() > 1 {
        let found: Vec<(String, Match)> = listed.iter().map(|p| (p.to_string(), find(p))).collect();
        if found.iter().all(|(_, m)| m.code().is_some()) {
            return found;
        }
    }
    let whole = find(raw);
    if whole.code().is_some() {
        return vec![(raw.to_string(), whole)];
    }
    let by_semicolon: Vec<&str> = raw.split([';', '\n']).collect();
    let by_comma: Vec<&str> = raw.split(',').collect();
    let parts: Vec<&str> = if by_semicolon.len() > 1 {
        by_semicolon
    } else if by_comma.len() > 1 {
        by_comma
    } else if raw.contains(" / ") {
        raw.split(" / ").collect()
    } else {
        raw.split('/').collect()
    };
    let parts: Vec<&str> = parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.len() <= 1 {
        return vec![(raw.to_string(), whole)];
    }
    let found: Vec<(String, Match)> = parts
        .into_iter()
        .map(|p| (p.to_string(), find(p)))
        .collect();
    // A part that shares no word with any category beside one that names
    // one is a remark («ІІ гр., загальне захворювання»): left aside.
    let remark = |m: &Match| matches!(m, Match::Unknown(near) if near.is_empty());
    if found.iter().any(|(_, m)| m.code().is_some()) {
        found.into_iter().filter(|(_, m)| !remark(m)).collect()
    } else {
        found
    }
}

/// P2 as the city asks it: the person's choice is needed.
fn ask_which(categories: &[String]) -> Why {
    let all = categories.join(", ");
    why!(
        "особа має кілька категорій ({all}); за правилом міста (P2) особа обирає одну: впишіть обрану у стовпець обраної категорії",
        "the person holds several categories ({all}); by the city's rule (P2) the person chooses one: write it in the chosen-category column"
    )
}

/// How a community is named in messages.
const COMMUNITY_WORDS: (&str, &str) = (
    "громада (місто або громада-партнер)",
    "community (the city or a partner community)",
);

/// How a category is named in messages.
const CATEGORY_WORDS: (&str, &str) = ("пільгова категорія", "category");

#[cfg(test)]
fn parse_sex(raw: &str) -> Option<Sex> {
    match vocab::sexes().find(raw).code() {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn sex_is_read_in_both_languages() {
        assert_eq!(parse_sex("Ч"), Some(Sex::Male));
        assert_eq!(parse_sex("жіноча"), Some(Sex::Female));
        assert_eq!(parse_sex("M"), Some(Sex::Male));
        assert_eq!(parse_sex("F"), Some(Sex::Female));
        assert_eq!(parse_sex("x"), None);
        for (raw, expected) in [
            ("хл.", Sex::Male),
            ("Хлопч.", Sex::Male),
            ("ХЛОПЧИК", Sex::Male),
            ("дів.", Sex::Female),
            ("Дівч", Sex::Female),
            ("ДІВЧИНКА", Sex::Female),
            ("ч.", Sex::Male),
            ("чол", Sex::Male),
            ("жін.", Sex::Female),
            ("м", Sex::Male),
            ("М.", Sex::Male),
            ("ж", Sex::Female),
            ("m", Sex::Male),
            ("f", Sex::Female),
        ] {
            assert_eq!(parse_sex(raw), Some(expected), "{raw}");
        }
    }

    #[test]
    fn a_tax_number_refused_in_words_is_no_tax_number() {
        for raw in [
            "відмова (релігійні переконання)",
            "Відмова від РНОКПП",
            "відмовився від ІПН",
            "ІПН відсутній",
            "немає ІПН",
            "-",
            "—",
            "немає",
        ] {
            assert!(no_tax_number(raw), "{raw}");
        }
        assert!(!no_tax_number("АВ123456"));
        assert!(!no_tax_number("паспорт"));
    }

    #[test]
    fn a_full_name_of_two_words_names_the_missing_part() {
        let why = two_words("Петро  Іванович", "Іванович");
        assert!(why.en.contains("\"Петро  Іванович\""), "{why}");
        assert!(why.en.contains("the surname is missing"), "{why}");
        assert!(why.uk.contains("бракує прізвища"), "{}", why.uk);
        let why = two_words("Коваленко Петро", "Петро");
        assert!(why.en.contains("the patronymic is missing"), "{why}");
        assert!(is_patronymic("Миколаївна") && is_patronymic("Ілліч"));
        assert!(!is_patronymic("Ганна") && !is_patronymic("ич"));
    }

    #[test]
    fn two_categories_split_at_a_slash() {
        let v = crate::config::Config::default_config().category_vocabulary();
        let codes = |raw: &str| -> Vec<Option<String>> {
            category_parts(raw, |t| v.find(t))
                .into_iter()
                .map(|(_, m)| m.code().map(str::to_string))
                .collect()
        };
        assert_eq!(
            codes("УБД / пенсіонер за віком"),
            [Some("combatant".into()), Some("pensioner-age".into())]
        );
        assert_eq!(
            codes("УБД/пенсіонер за віком"),
            [Some("combatant".into()), Some("pensioner-age".into())]
        );
        assert_eq!(codes("учасник б/д"), [Some("combatant".into())]);
        assert_eq!(
            codes("УБД\nпенсіонер за віком"),
            [Some("combatant".into()), Some("pensioner-age".into())]
        );
        // A remark beside a category is left aside; beside nothing, refused.
        assert_eq!(
            codes("ІІ гр., загальне захворювання (безстроково)"),
            [Some("disability-2".into())]
        );
        assert_eq!(codes("загальне захворювання, безстроково"), [None, None]);
        assert_eq!(
            codes("ІІІ гр.; УБД"),
            [Some("disability-3".into()), Some("combatant".into())]
        );
    }

    /// Reads one row of a sheet with these headers, as the default city.
    fn read_row(headers: &[(&str, Field)], cells: &[&str]) -> Result<Read, Vec<Why>> {
        read_row_as(&crate::config::Config::default_config(), headers, cells)
    }

    fn read_row_as(
        config: &Config,
        headers: &[(&str, Field)],
        cells: &[&str],
    ) -> Result<Read, Vec<Why>> {
        let row: Vec<Data> = cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Data::Empty
                } else {
                    Data::String(c.to_string())
                }
            })
            .collect();
        read_data(config, headers, &row)
    }

    fn read_data(
        config: &Config,
        headers: &[(&str, Field)],
        row: &[Data],
    ) -> Result<Read, Vec<Why>> {
        let columns: BTreeMap<Field, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (*f, i))
            .collect();
        let names: Vec<String> = headers.iter().map(|(h, _)| h.to_string()).collect();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let mut ctx = RowContext::new(config, &columns, &names, Path::new("."), today);
        // A sheet with no community column is imported with `--community`.
        let named = [Field::Community, Field::Settlement, Field::Address];
        if !named.iter().any(|f| columns.contains_key(f)) {
            ctx.fallback = Some(config.city.community.clone());
        }
        ctx.read(row)
    }

    fn refused(r: Result<Read, Vec<Why>>) -> Why {
        match r {
            Ok(_) => panic!("the row was accepted"),
            Err(e) => Why::join(&e),
        }
    }

    const SHEET: [(&str, Field); 8] = [
        ("П.І.Б.", Field::FullName),
        ("Дата народження", Field::BirthDate),
        ("Стать", Field::Sex),
        ("РНОКПП", Field::TaxNumber),
        ("Серія", Field::PassportSeries),
        ("Номер", Field::PassportNumber),
        ("Категорія", Field::Category),
        ("Телефон", Field::Phone),
    ];

    #[test]
    fn a_surname_column_beside_a_full_name_column_reads_the_full_name_and_never_panics() {
        let tax =
            identity::make_tax_number(NaiveDate::from_ymd_opt(2012, 3, 12).unwrap(), Sex::Male, 1)
                .unwrap();
        let headers = [
            ("Прізвище", Field::Surname),
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("РНОКПП", Field::TaxNumber),
            ("Категорія", Field::Category),
            ("Громада", Field::Community),
        ];
        let cells = |surname: &'static str| {
            [
                surname,
                "Коваленко Петро Іванович",
                "12.03.2012",
                tax.as_str(),
                "дитина з багатодітної сім'ї",
                "Павлоград",
            ]
        };
        let read =
            read_row(&headers, &cells("Коваленко")).unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.given_name, "Петро");
        // A field with no column of its own is named in the reason, not
        // indexed: outside bytes never panic.
        let row: Vec<Data> = cells("")
            .iter()
            .map(|c| Data::String(c.to_string()))
            .collect();
        let _ = read_data(
            &crate::config::Config::default_config(),
            &headers[..1],
            &row,
        );
    }

    #[test]
    fn with_no_sex_and_no_tax_number_the_patronymic_says_the_sex() {
        let headers = [
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("Свідоцтво про народження", Field::Passport),
            ("Категорія", Field::Category),
            ("Громада", Field::Community),
        ];
        let row = |name: &str| {
            read_row(
                &headers,
                &[
                    name,
                    "12.03.2016",
                    "І-АП 123456",
                    "дитина з багатодітної сім'ї",
                    "Павлоград",
                ],
            )
        };
        let read = row("Коваленко Петро Іванович").unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.sex, Sex::Male);
        let said = Why::join(&read.warnings);
        assert!(
            said.en
                .contains("sex not given; taken from the patronymic «Іванович»"),
            "{said}"
        );
        let read = row("Коваленко Олена Іллівна").unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.sex, Sex::Female);
        let why = refused(row("Коваленко Олена -"));
        assert!(
            why.en.contains(
                "sex is not given and there is no tax number or patronymic to take it from"
            ),
            "{why}"
        );
        assert_eq!(sex_of_patronymic("Ілліч"), Some(Sex::Male));
        assert_eq!(sex_of_patronymic("Кузьмівна"), Some(Sex::Female));
        assert_eq!(sex_of_patronymic("Джон"), None);
    }

    #[test]
    fn an_empty_patronymic_is_refused_and_a_dash_says_the_passport_has_none() {
        const THREE: [(&str, Field); 7] = [
            ("Прізвище", Field::Surname),
            ("Ім'я", Field::GivenName),
            ("По батькові", Field::Patronymic),
            ("Дата народження", Field::BirthDate),
            ("РНОКПП", Field::TaxNumber),
            ("Категорія", Field::Category),
            ("Громада", Field::Community),
        ];
        let tax =
            identity::make_tax_number(NaiveDate::from_ymd_opt(1951, 3, 12).unwrap(), Sex::Male, 1)
                .unwrap();
        let row = |patronymic: &str| {
            read_row(
                &THREE,
                &[
                    "Коваленко",
                    "Петро",
                    patronymic,
                    "12.03.1951",
                    &tax,
                    "УБД",
                    "Павлоград",
                ],
            )
        };
        let why = refused(row(""));
        assert!(
            why.en.contains("column C")
                && why.en.contains("empty; write the patronymic as in the passport, or «-» if the passport has none"),
            "{why}"
        );
        for none in ["-", "—", "немає", "Відсутнє"] {
            let read = row(none).unwrap_or_else(|e| panic!("{none}: {}", Why::join(&e)));
            assert_eq!(read.applicant.patronymic, None, "{none}");
        }
        let read = row("Іванович").unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.patronymic.as_deref(), Some("Іванович"));
    }

    #[test]
    fn refusals_quote_the_cells_as_written() {
        let tax =
            identity::make_tax_number(NaiveDate::from_ymd_opt(1951, 3, 12).unwrap(), Sex::Male, 1)
                .unwrap();
        let spaced = format!("{} {}", &tax[..5], &tax[5..]);
        let born = "12 березня 1951 р.";
        let ok = |tax: &str, sex: &str, series: &str, number: &str| {
            read_row(
                &SHEET,
                &[
                    "Коваленко Петро Іванович",
                    born,
                    sex,
                    tax,
                    series,
                    number,
                    "УБД",
                    "067 123 45 67 (син), 050 765 43 21",
                ],
            )
        };
        let read = ok(&spaced, "чолов.", "серія МК", "№ 512345").unwrap();
        assert_eq!(read.applicant.passport.as_deref(), Some("МК512345"));
        assert_eq!(
            read.applicant.phone.as_deref(),
            Some("+380671234567 (син), +380507654321")
        );
        let last = spaced.chars().last().and_then(|c| c.to_digit(10)).unwrap();
        let bad_tax = format!("{}{}", &spaced[..spaced.len() - 1], (last + 1) % 10);
        let why = refused(ok(&bad_tax, "ч", "МК", "512345"));
        assert!(
            why.en
                .contains(&format!("column D \"РНОКПП\": {bad_tax:?} (")),
            "{why}"
        );
        let why = refused(ok(&tax, "ч", "М К", "51 23"));
        assert!(
            why.uk
                .contains("стовпець F «Номер»: серія \"М К\", номер \"51 23\" — не документ"),
            "{}",
            why.uk
        );
        let why = refused(ok(&tax, "  x  ", "МК", "512345"));
        assert!(why.en.contains("\"  x  \" is not a sex"), "{why}");
    }

    #[test]
    fn several_categories_follow_the_citys_rule() {
        let row = [
            "Бондар Олексій Вікторович",
            "03.11.1975р.",
            "чол.",
            "",
            "ID",
            "102345678",
            "УБД / пенсіонер за віком",
            "",
        ];
        let read = read_row(&SHEET, &row).unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.categories, ["combatant", "pensioner-age"]);
        assert_eq!(read.applicant.chosen_category, None);
        let said = Why::join(&read.warnings);
        assert!(
            said.en.contains("combatant is used (no income test, P2)"),
            "{said}"
        );
        let mut config = Config::default_config();
        config.intake.several_categories = SeveralCategories::Ask;
        let why = refused(read_row_as(&config, &SHEET, &row));
        assert!(
            why.en.contains("column G \"Категорія\": the person holds several categories (combatant, pensioner-age); by the city's rule (P2) the person chooses one"),
            "{why}"
        );
    }

    #[test]
    fn a_document_number_stored_as_a_number_gets_its_zeros_back() {
        let config = Config::default_config();
        let row = |series: &str, number: f64| {
            let mut cells: Vec<Data> = [
                "Шевчук Ганна Миколаївна",
                "05.07.1949",
                "ж",
                "відмова",
                series,
                "",
                "УБД",
                "",
            ]
            .iter()
            .map(|c| Data::String(c.to_string()))
            .collect();
            cells[5] = Data::Float(number);
            read_data(&config, &SHEET, &cells)
        };
        let read = row("МК", 12345.0).unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.passport.as_deref(), Some("МК012345"));
        assert!(
            Why::join(&read.warnings)
                .en
                .contains("restored as МК012345")
        );
        let read = row("ID", 2345678.0).unwrap_or_else(|e| panic!("{}", Why::join(&e)));
        assert_eq!(read.applicant.passport.as_deref(), Some("002345678"));
        assert!(row("ID", 45678.0).is_err());
    }

    #[test]
    fn contact_data_never_refuses_a_row() {
        for phone in [
            "немає",
            "12-34-56",
            "067 123 45 67 (син)",
            "8 067 1234567",
            "дзвонити сину",
        ] {
            let read = read_row(
                &SHEET,
                &[
                    "Шевчук Ганна Миколаївна",
                    "05.07.1949 р.",
                    "жіноч.",
                    "відмова (релігійні переконання)",
                    "ID",
                    "002345678",
                    "учасн. бойових дій",
                    phone,
                ],
            );
            let read = read.unwrap_or_else(|e| panic!("{phone}: {}", Why::join(&e)));
            assert_eq!(read.applicant.passport.as_deref(), Some("002345678"));
            assert_eq!(read.applicant.tax_number, None);
        }
    }

    fn accepted(r: Result<Read, Vec<Why>>) -> Read {
        r.unwrap_or_else(|e| panic!("{}", Why::join(&e)))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_child_is_a_boy_or_a_girl_with_a_birth_certificate_in_two_cells() {
        let row = |sex: &str, series: &str, number: Data| {
            let mut cells: Vec<Data> = [
                "Ткаченко Марко Іванович",
                "02.03.2015",
                sex,
                "",
                series,
                "",
                "дитина з багатодітної сім'ї",
                "",
            ]
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Data::Empty
                } else {
                    Data::String(c.to_string())
                }
            })
            .collect();
            cells[5] = number;
            read_data(&Config::default_config(), &SHEET, &cells)
        };
        let text = |s: &str| Data::String(s.into());
        for (sex, expected) in [("хл.", Sex::Male), ("Дівч.", Sex::Female)] {
            for (series, number, stored) in [
                ("І-АП", text("123456"), "I-АП123456"),
                ("І - АП", text("№ 623400"), "I-АП623400"),
                ("I-АП", Data::Float(623400.0), "I-АП623400"),
                ("I-AП", Data::Int(23400), "I-АП023400"),
            ] {
                let read = accepted(row(sex, series, number));
                assert_eq!(read.applicant.sex, expected);
                assert_eq!(read.applicant.passport.as_deref(), Some(stored), "{series}");
                assert_eq!(read.applicant.tax_number, None);
            }
        }
    }

    #[test]
    fn a_series_column_beside_a_passport_column_is_joined_to_it() {
        let sheet = [
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("Стать", Field::Sex),
            ("Паспорт серія", Field::PassportSeries),
            ("Паспорт №", Field::Passport),
            ("Категорія", Field::Category),
        ];
        let row = |series: &str, number: &str| {
            read_row(
                &sheet,
                &[
                    "Ткаченко Марко Іванович",
                    "02.03.2015",
                    "хл.",
                    series,
                    number,
                    "УБД",
                ],
            )
        };
        let read = accepted(row("І-АП", "123456"));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123456"));
        let read = accepted(row("", "I-АП 123457"));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123457"));
        let read = accepted(row("МК", "І-АП 123458"));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123458"));
        let why = refused(row("І-АП", "1234"));
        assert!(
            why.en
                .contains("column E \"Паспорт №\": series \"І-АП\", number \"1234\" is not an identity document"),
            "{why}"
        );
    }

    #[test]
    fn a_passport_header_merged_over_series_and_number() {
        let sheet = [
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("Стать", Field::Sex),
            ("Паспорт", Field::Passport),
            ("", Field::Photo),
            ("Категорія", Field::Category),
        ];
        // The photo column stands for a column no field is placed in.
        let headers: Vec<(&str, Field)> = sheet.to_vec();
        let columns: BTreeMap<Field, usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, (_, f))| *f != Field::Photo)
            .map(|(i, (_, f))| (*f, i))
            .collect();
        let names: Vec<String> = headers.iter().map(|(h, _)| h.to_string()).collect();
        let today = date(2026, 11, 26);
        let config = Config::default_config();
        let mut ctx = RowContext::new(&config, &columns, &names, Path::new("."), today);
        ctx.fallback = Some(config.city.community.clone());
        let row = |series: &str, number: &str| -> Vec<Data> {
            [
                "Ткаченко Марко Іванович",
                "02.03.2015",
                "хл.",
                series,
                number,
                "дитина з багатодітної сім'ї",
            ]
            .iter()
            .map(|c| Data::String(c.to_string()))
            .collect()
        };
        let read = accepted(ctx.read(&row("І - АП", "№ 123456")));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123456"));
        let read = accepted(ctx.read(&row("I-АП 123457", "")));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123457"));
        let why = refused(ctx.read(&row("І-АП", "12")));
        assert!(
            why.en.contains(
                "column D \"Паспорт\": series \"І-АП\", number \"12\" is not an identity document"
            ),
            "{why}"
        );
    }

    #[test]
    fn a_birth_certificate_in_the_tax_number_column_is_the_childs_identity() {
        let row = |born: &str| {
            read_row(
                &SHEET,
                &[
                    "Ткаченко Марко Іванович",
                    born,
                    "хл.",
                    "свідоцтво про народження І-АП № 123456",
                    "",
                    "",
                    "дитина з багатодітної сім'ї",
                    "",
                ],
            )
        };
        let read = accepted(row("02.03.2015"));
        assert_eq!(read.applicant.passport.as_deref(), Some("I-АП123456"));
        let why = refused(row("02.03.1995"));
        assert!(
            why.en.contains("column D \"РНОКПП\": \"свідоцтво про народження І-АП № 123456\" is a birth certificate, but the person is 14 or older"),
            "{why}"
        );
    }

    #[test]
    fn a_birth_certificate_in_one_identity_cell() {
        let sheet = [
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("Стать", Field::Sex),
            ("Документ, що посвідчує особу", Field::Passport),
            ("Категорія", Field::Category),
        ];
        for cell in [
            "свідоцтво про народження І-АП № 123456",
            "св-во про народж. І-АП 123456",
            "І-АП №123456",
            "I-АП 123456",
            "І - АП № 123456",
        ] {
            let read = accepted(read_row(
                &sheet,
                &[
                    "Ткаченко Марія Іванівна",
                    "2.3.2015",
                    "дівчинка",
                    cell,
                    "дитина з багатодітної сім'ї",
                ],
            ));
            assert_eq!(
                read.applicant.passport.as_deref(),
                Some("I-АП123456"),
                "{cell}"
            );
            assert_eq!(read.applicant.sex, Sex::Female);
        }
    }

    #[test]
    fn a_refused_tax_number_in_any_case_needs_the_passport() {
        let row = |tax: &str, series: &str, number: &str| {
            read_row(
                &SHEET,
                &[
                    "Шевчук Ганна Миколаївна",
                    "05.07.1949",
                    "ж",
                    tax,
                    series,
                    number,
                    "УБД",
                    "",
                ],
            )
        };
        for tax in [
            "ВІДМОВА",
            "Відмова",
            "відмова",
            "ВIДМОВА",
            "відмова від РНОКПП",
            "відмовився від коду",
            "Відмовилася від ІПН",
            "не має (релігійні переконання)",
            "відмова (релігійні переконання)",
            "ВІДМОВА (РЕЛІГІЙНІ ПЕРЕКОНАННЯ)",
            "релігійні переконання",
            "відмова, паспорт МК 512345",
        ] {
            let read = accepted(row(tax, "МК", "512345"));
            assert_eq!(read.applicant.tax_number, None, "{tax}");
            assert_eq!(
                read.applicant.passport.as_deref(),
                Some("МК512345"),
                "{tax}"
            );
        }
        let why = refused(row("ВІДМОВА", "", ""));
        assert!(
            why.en.contains("column D \"РНОКПП\": \"ВІДМОВА\" is a refusal of the tax number; the person is then identified by the passport, and there is none"),
            "{why}"
        );
        assert!(
            why.uk.contains("\"ВІДМОВА\" — відмова від РНОКПП; тоді особу встановлюють за паспортом, а його не вказано"),
            "{}",
            why.uk
        );
    }

    #[test]
    fn a_tax_number_keeps_no_text_marker_or_stray_space() {
        let tax = identity::make_tax_number(date(1951, 3, 12), Sex::Male, 7).unwrap();
        for written in [
            format!("'{tax}"),
            format!("’{tax}"),
            format!("‘{tax}"),
            format!("`{tax}"),
            format!("\"{tax}\""),
            format!("«{tax}»"),
            format!("{tax}   "),
            format!("'{tax} "),
            format!("\u{200b}{tax}\u{feff}"),
            format!("{tax}\u{a0}"),
            format!("ІПН: {tax}"),
            format!("РНОКПП № {tax}"),
            format!("іпн {tax}"),
        ] {
            let read = accepted(read_row(
                &SHEET,
                &[
                    "Коваленко Петро Іванович",
                    "12.03.1951",
                    "ч",
                    &written,
                    "",
                    "",
                    "УБД",
                    "",
                ],
            ));
            assert_eq!(
                read.applicant.tax_number.as_deref(),
                Some(tax.as_str()),
                "{written:?}"
            );
        }
    }

    #[test]
    fn a_birth_date_saved_as_an_excel_serial_is_read_and_said() {
        let row = |born: &str| {
            read_row(
                &SHEET,
                &[
                    "Коваленко Петро Іванович",
                    born,
                    "ч",
                    "",
                    "МК",
                    "512345",
                    "УБД",
                    "",
                ],
            )
        };
        for born in ["19432", "19432.0"] {
            let read = accepted(row(born));
            assert_eq!(read.applicant.birth_date, date(1953, 3, 14));
            let said = Why::join(&read.warnings);
            assert!(
                said.en.contains(&format!(
                    "column B \"Дата народження\": read {born} as an Excel date serial: 1953-03-14"
                )),
                "{said}"
            );
        }
        let why = refused(row("60"));
        assert!(
            why.en.contains("column B \"Дата народження\": \"60\""),
            "{why}"
        );
        assert!(refused(row("99999")).en.contains("\"99999\""));
    }

    #[test]
    fn russian_letters_in_names_are_refused() {
        assert!(name_problem("Наталья").is_none());
        let why = name_problem("Ковалёв").unwrap();
        assert!(
            why.en.contains("ё") && why.uk.contains("не є українськими літерами"),
            "{why:?}"
        );
        assert!(name_problem("Мʼякота-Сич").is_none());
    }
}
