//! Finding the header row of a clerk's sheet and mapping its columns to
//! fields, by Ukrainian and English synonyms (plus those in kartka.toml).

use std::collections::{BTreeMap, HashMap};

use calamine::Data;

use crate::text::match_key;

/// An application field (P5) a column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Surname,
    GivenName,
    Patronymic,
    FullName,
    BirthDate,
    Sex,
    TaxNumber,
    Passport,
    PassportSeries,
    PassportNumber,
    BenefitDocument,
    BenefitValidUntil,
    Phone,
    Email,
    Category,
    ChosenCategory,
    Community,
    Income,
    IncomePension,
    IncomeSalary,
    IncomeAid,
    Documents,
    Photo,
    ApplicationDate,
    DeathDate,
}

impl Field {
    pub const ALL: [Field; 25] = [
        Field::Surname,
        Field::GivenName,
        Field::Patronymic,
        Field::FullName,
        Field::BirthDate,
        Field::Sex,
        Field::TaxNumber,
        Field::Passport,
        Field::PassportSeries,
        Field::PassportNumber,
        Field::BenefitDocument,
        Field::BenefitValidUntil,
        Field::Phone,
        Field::Email,
        Field::Category,
        Field::ChosenCategory,
        Field::Community,
        Field::Income,
        Field::IncomePension,
        Field::IncomeSalary,
        Field::IncomeAid,
        Field::Documents,
        Field::Photo,
        Field::ApplicationDate,
        Field::DeathDate,
    ];

    /// The field's name in kartka.toml `[intake.synonyms]`.
    pub fn key(self) -> &'static str {
        match self {
            Field::Surname => "surname",
            Field::GivenName => "given_name",
            Field::Patronymic => "patronymic",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::TaxNumber => "tax_number",
            Field::Passport => "passport",
            Field::PassportSeries => "passport_series",
            Field::PassportNumber => "passport_number",
            Field::BenefitDocument => "benefit_document",
            Field::BenefitValidUntil => "benefit_valid_until",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Category => "category",
            Field::ChosenCategory => "chosen_category",
            Field::Community => "community",
            Field::Income => "income",
            Field::IncomePension => "income_pension",
            Field::IncomeSalary => "income_salary",
            Field::IncomeAid => "income_aid",
            Field::Documents => "documents",
            Field::Photo => "photo",
            Field::ApplicationDate => "application_date",
            Field::DeathDate => "death_date",
        }
    }

    /// Header texts a clerk's spreadsheet uses for the field.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Surname => &["прізвище", "surname", "last name", "family name", "фамилия"],
            Field::GivenName => &["ім'я", "імя", "имя", "first name", "given name", "name"],
            Field::Patronymic => &[
                "по батькові",
                "по-батькові",
                "patronymic",
                "middle name",
                "отчество",
            ],
            Field::FullName => &[
                "піб",
                "п.і.б",
                "п.і.б.",
                "п. і. б.",
                "прізвище ім'я по батькові",
                "прізвище, ім'я, по батькові",
                "прізвище, ім'я та по батькові",
                "full name",
                "фио",
                "ф.і.о",
            ],
            Field::BirthDate => &[
                "дата народження",
                "д.н",
                "д/н",
                "date of birth",
                "birth date",
                "dob",
                "дата рождения",
            ],
            Field::Sex => &["стать", "sex", "gender", "пол"],
            Field::TaxNumber => &[
                "рнокпп",
                "іпн",
                "інн",
                "ідентифікаційний код",
                "ідентифікаційний номер",
                "реєстраційний номер облікової картки платника податків",
                "податковий номер",
                "код",
                "tax number",
                "tax id",
                "itn",
                "rnokpp",
            ],
            Field::Passport => &[
                "паспорт",
                "паспорт (серія, номер)",
                "серія та номер паспорта",
                "серія і номер паспорта",
                "документ, що посвідчує особу",
                "passport",
                "passport number",
            ],
            Field::PassportSeries => &["серія паспорта", "серія", "passport series"],
            Field::PassportNumber => &["номер паспорта", "№ паспорта"],
            Field::BenefitDocument => &[
                "посвідчення",
                "номер посвідчення",
                "пільгове посвідчення",
                "документ про пільгу",
                "документ, що підтверджує пільгу",
                "benefit document",
                "certificate",
            ],
            Field::BenefitValidUntil => &[
                "пільга дійсна до",
                "дійсне до",
                "дійсна до",
                "термін дії пільги",
                "термін дії посвідчення",
                "valid until",
                "benefit valid until",
            ],
            Field::Phone => &[
                "телефон",
                "тел",
                "номер телефону",
                "моб. телефон",
                "мобільний",
                "phone",
                "mobile",
                "phone number",
            ],
            Field::Email => &[
                "e-mail",
                "email",
                "ел. пошта",
                "електронна пошта",
                "e-mail адреса",
            ],
            Field::Category => &[
                "категорія",
                "категорія пільги",
                "пільгова категорія",
                "категорії",
                "вид пільги",
                "пільга",
                "category",
                "categories",
                "benefit type",
            ],
            Field::ChosenCategory => &["обрана категорія", "обрана пільга", "chosen category"],
            Field::Community => &[
                "громада",
                "територіальна громада",
                "катоттг",
                "community",
                "hromada",
            ],
            Field::Income => &[
                "дохід",
                "дохід, грн",
                "середньомісячний дохід",
                "середньомісячний дохід, грн",
                "сукупний дохід",
                "income",
                "monthly income",
            ],
            Field::IncomePension => &["пенсія", "пенсія, грн", "розмір пенсії", "pension"],
            Field::IncomeSalary => &[
                "заробітна плата",
                "заробітна плата, грн",
                "зарплата",
                "salary",
            ],
            Field::IncomeAid => &[
                "соціальна допомога",
                "соціальна допомога, грн",
                "допомога",
                "aid",
                "social aid",
            ],
            Field::Documents => &["документи", "подані документи", "documents"],
            Field::Photo => &["фото", "фотографія", "файл фото", "photo"],
            Field::ApplicationDate => &[
                "дата заяви",
                "дата звернення",
                "дата подання",
                "application date",
            ],
            Field::DeathDate => &["дата смерті", "date of death"],
        }
    }
}

/// The header names, as matching keys, for every field.
#[derive(Debug, Clone)]
pub struct Synonyms {
    by_key: HashMap<String, Field>,
}

impl Synonyms {
    pub fn new(extra: &BTreeMap<String, Vec<String>>) -> Synonyms {
        let mut by_key = HashMap::new();
        for field in Field::ALL {
            for s in field.synonyms() {
                by_key.insert(match_key(s), field);
            }
        }
        for (key, names) in extra {
            if let Some(field) = Field::ALL.iter().find(|f| f.key() == key) {
                for n in names {
                    by_key.insert(match_key(n), *field);
                }
            }
        }
        Synonyms { by_key }
    }

    /// The field a header cell names: the text as written, or without a
    /// trailing note in brackets ("Дохід (грн)") or a unit after a comma.
    pub fn field(&self, header: &str) -> Option<Field> {
        let key = match_key(header);
        if key.is_empty() {
            return None;
        }
        if let Some(f) = self.by_key.get(&key) {
            return Some(*f);
        }
        let stripped = key
            .split(['(', ','])
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        self.by_key.get(&stripped).copied()
    }
}

/// A sheet's header: where it is and which column holds which field.
#[derive(Debug, Clone)]
pub struct Header {
    /// Index of the header row among the sheet's rows.
    pub row: usize,
    pub columns: BTreeMap<Field, usize>,
    /// The header cells as written, for the rejects file.
    pub names: Vec<String>,
}

/// How many rows from the top may hold titles before the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// The first row, among the top ones, whose cells name at least three
/// fields: title rows and merged title cells above it are passed over.
pub fn find_header<'a>(
    rows: impl Iterator<Item = &'a [Data]>,
    synonyms: &Synonyms,
) -> Option<Header> {
    let mut best: Option<Header> = None;
    for (i, row) in rows.take(HEADER_SEARCH_ROWS).enumerate() {
        let mut columns = BTreeMap::new();
        for (c, cell) in row.iter().enumerate() {
            if let Data::String(s) = cell
                && let Some(field) = synonyms.field(s)
            {
                columns.entry(field).or_insert(c);
            }
        }
        if columns.len() >= 3
            && best
                .as_ref()
                .is_none_or(|b| columns.len() > b.columns.len())
        {
            best = Some(Header {
                row: i,
                names: row
                    .iter()
                    .map(|c| c.to_string().trim().to_string())
                    .collect(),
                columns,
            });
        }
    }
    best
}

impl Header {
    /// The required columns this header lacks (P5): a name, the birth date,
    /// a tax number or passport, and the category.
    pub fn missing_required(&self) -> Vec<&'static str> {
        let has = |f| self.columns.contains_key(&f);
        let mut missing = Vec::new();
        let has_name = has(Field::FullName) || (has(Field::Surname) && has(Field::GivenName));
        if !has_name {
            missing.push("full name (ПІБ), or surname (Прізвище) and given name (Ім'я)");
        }
        if !has(Field::BirthDate) {
            missing.push("date of birth (Дата народження)");
        }
        if !has(Field::TaxNumber) && !has(Field::Passport) && !has(Field::PassportNumber) {
            missing.push("tax number (РНОКПП) or passport (Паспорт)");
        }
        if !has(Field::Category) {
            missing.push("category (Категорія пільги)");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Data {
        Data::String(v.into())
    }

    #[test]
    fn the_header_is_found_below_title_rows() {
        let rows = [
            vec![s("Реєстр заяв"), Data::Empty, Data::Empty],
            vec![Data::Empty, Data::Empty, Data::Empty],
            vec![
                s("№"),
                s("ПІБ"),
                s("Дата народження"),
                s("ІПН"),
                s("Категорія пільги"),
            ],
            vec![
                s("1"),
                s("Іваненко Іван Іванович"),
                s("01.01.1950"),
                s("1759013776"),
                s("УБД"),
            ],
        ];
        let syn = Synonyms::new(&BTreeMap::new());
        let h = find_header(rows.iter().map(|r| r.as_slice()), &syn).unwrap();
        assert_eq!(h.row, 2);
        assert_eq!(h.columns[&Field::FullName], 1);
        assert_eq!(h.columns[&Field::TaxNumber], 3);
        assert!(h.missing_required().is_empty());
    }

    #[test]
    fn synonyms_cover_the_usual_spellings() {
        let syn = Synonyms::new(&BTreeMap::new());
        for (h, f) in [
            ("РНОКПП", Field::TaxNumber),
            ("ІПН", Field::TaxNumber),
            ("Ідентифікаційний код", Field::TaxNumber),
            ("Ім’я", Field::GivenName),
            ("Дохід (грн)", Field::Income),
            ("Пенсія, грн", Field::IncomePension),
            ("  E-mail: ", Field::Email),
            ("Date of birth", Field::BirthDate),
        ] {
            assert_eq!(syn.field(h), Some(f), "{h}");
        }
        assert_eq!(syn.field("Примітка"), None);
    }

    #[test]
    fn kartka_toml_adds_synonyms() {
        let mut extra = BTreeMap::new();
        extra.insert("tax_number".to_string(), vec!["Код ДРФО".to_string()]);
        let syn = Synonyms::new(&extra);
        assert_eq!(syn.field("код дрфо"), Some(Field::TaxNumber));
    }

    #[test]
    fn a_sheet_without_enough_known_headers_has_no_header() {
        let rows = [vec![s("Категорія"), s("Опис")], vec![s("УБД"), s("…")]];
        let syn = Synonyms::new(&BTreeMap::new());
        assert!(find_header(rows.iter().map(|r| r.as_slice()), &syn).is_none());
    }
}
