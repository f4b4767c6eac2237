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
        let col = self.ctx.columns[&field];
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
                let col = self.ctx.columns[&field];
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
                self.reject(
                    field,
                    why!(
                        "«{raw}» — невідома {what_uk}{hint_uk}; очікується назва або код із kartka.toml",
                        "{raw:?} is not a known {what_en}{hint_en}; expected a name or code from kartka.toml",
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

/// Words that mean "no tax number" in the tax-number column.
const NO_TAX_NUMBER: [&str; 6] = ["-", "—", "немає", "відмова", "відсутній", "нема"];

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

    fn text(&self, row: &[Data], field: Field) -> Option<String> {
        self.cell(row, field)
            .map(cells::text)
            .filter(|s| !s.is_empty())
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
            Some(c) => match cells::date(c, DateKind::Past, self.today) {
                Ok(d) if d > self.today => {
                    p.reject(
                        Field::BirthDate,
                        why!("{d} — у майбутньому", "{d} is in the future"),
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    p.reject(Field::BirthDate, e);
                    None
                }
            },
        };

        let sex_cell = self.text(row, Field::Sex);
        let sex = sex_cell.as_deref().and_then(|s| {
            let m = known(&self.seen_sexes, &self.sexes, s);
            let code = match m {
                Match::Unknown(_) => {
                    p.reject(
                        Field::Sex,
                        why!(
                            "{s:?} — не стать; очікується ч/ж",
                            "{s:?} is not a sex; expected ч/ж (M/F)"
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
        let mut passport = self.passport(row, &mut p);
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
                p.reasons.push(why!(
                    "стать не вказано, і немає РНОКПП, з якого її можна взяти",
                    "sex is not given and there is no tax number to take it from"
                ));
                None
            }
            _ => None,
        };

        let phone = self
            .text(row, Field::Phone)
            .and_then(|raw| p.ok(Field::Phone, self.phones.borrow_mut().read(&raw)));
        let email = self
            .text(row, Field::Email)
            .and_then(|raw| p.ok(Field::Email, cells::email(&raw)));

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
            self.cell(row, field)
                .and_then(|c| p.ok(field, cells::date(c, kind, self.today)))
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

    /// Rejects every read cell longer than its field's `max_chars`.
    fn lengths(&self, row: &[Data], p: &mut Problems) {
        for (&field, &col) in self.columns {
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
        let three = self.columns.contains_key(&Field::Surname);
        let (surname, given, patronymic, field) = if three {
            (
                self.text(row, Field::Surname),
                self.text(row, Field::GivenName),
                self.text(row, Field::Patronymic),
                Field::Surname,
            )
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
                        2 | 3 => (
                            Some(parts[0].clone()),
                            Some(parts[1].clone()),
                            parts.get(2).cloned(),
                            Field::FullName,
                        ),
                        n => {
                            p.reject(
                                Field::FullName,
                                why!(
                                    "{full:?} має слів: {n}; очікуються прізвище, ім'я та по батькові (або три окремі стовпці)",
                                    "{full:?} has {n} words; expected surname, given name and patronymic (or use three columns)"
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
        let patronymic = if three && !self.columns.contains_key(&Field::Patronymic) {
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
        let raw = cells::text(cell);
        if !raw.bytes().any(|b| b.is_ascii_digit())
            && NO_TAX_NUMBER.contains(&text::match_key(&raw).as_str())
        {
            return (None, None);
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
            if let Some(pp) = identity::parse_passport(&raw) {
                return (None, Some(pp.as_str().to_string()));
            }
            p.reject(
                Field::TaxNumber,
                why!(
                    "{raw:?} — ні РНОКПП (10 цифр), ні паспорт",
                    "{raw:?} is neither a tax number (10 digits) nor a passport"
                ),
            );
            return (None, None);
        }
        match identity::parse_tax_number(&number) {
            Err(TaxError::NotTenDigits) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{raw:?} має цифр: {}; очікується 10",
                        "{raw:?} has {} digits; expected 10",
                        digits.len()
                    ),
                );
                (None, None)
            }
            Err(TaxError::CheckDigit { expected, found }) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{number} не проходить перевірку контрольної цифри (остання цифра {found}, має бути {expected}); перевірте, чи немає описки",
                        "{number} fails the check digit (last digit is {found}, expected {expected}); check for a typo"
                    ),
                );
                (None, None)
            }
            Err(TaxError::NoBirthDate) => {
                p.reject(
                    Field::TaxNumber,
                    why!(
                        "{number} не містить дати народження",
                        "{number} does not encode a birth date"
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
                            "{number} відповідає даті народження {}, а вказано {}; одне з них помилкове",
                            "{number} encodes birth date {}, but the date of birth is {}; one of them is wrong",
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
                            "{number} відповідає статі «{}», а вказано «{}»; одне з них помилкове",
                            "{number} encodes sex {}, but the sex column says {}; one of them is wrong",
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

    fn passport(&self, row: &[Data], p: &mut Problems) -> Option<String> {
        let (raw, field) = if let Some(v) = self.text(row, Field::Passport) {
            (v, Field::Passport)
        } else if let Some(n) = self.text(row, Field::PassportNumber) {
            let series = self.text(row, Field::PassportSeries).unwrap_or_default();
            (format!("{series}{n}"), Field::PassportNumber)
        } else {
            return None;
        };
        match identity::parse_passport(&raw) {
            Some(pp) => Some(pp.as_str().to_string()),
            None => {
                p.reject(
                    field,
                    why!(
                        "{raw:?} — не паспорт; очікуються 2 кириличні літери і 6 цифр (АВ123456) або 9 цифр ID-картки",
                        "{raw:?} is not a passport; expected 2 Cyrillic letters and 6 digits (АВ123456) or an ID card's 9 digits"
                    ),
                );
                None
            }
        }
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
                && let Some(found) = self.community_in(field, &raw, &self.written(row, field), p)
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

    /// A cell's text as written, not squeezed: for quoting.
    fn written(&self, row: &[Data], field: Field) -> String {
        match self.cell(row, field) {
            Some(Data::String(s)) => s.clone(),
            Some(c) => cells::text(c),
            None => String::new(),
        }
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
        let written = self.text(row, field).map(|_| self.written(row, field));
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
        match self.text(row, Field::Category) {
            None => p.reject(
                Field::Category,
                why!(
                    "порожньо; пільгова категорія обов'язкова",
                    "empty; the benefit category is required"
                ),
            ),
            Some(raw) => {
                for (shown, m) in category_parts(&raw, |t| self.category_match(t)) {
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
        (categories, chosen)
    }
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
    let whole = find(raw);
    if whole.code().is_some() {
        return vec![(raw.to_string(), whole)];
    }
    let by_semicolon: Vec<&str> = raw.split([';', '\n']).collect();
    let parts: Vec<&str> = if by_semicolon.len() > 1 {
        by_semicolon
    } else {
        raw.split(',').collect()
    };
    let parts: Vec<&str> = parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.len() <= 1 {
        return vec![(raw.to_string(), whole)];
    }
    parts
        .into_iter()
        .map(|p| (p.to_string(), find(p)))
        .collect()
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
