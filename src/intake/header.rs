//! Finding the header row of a clerk's sheet and mapping its columns to
//! fields, by Ukrainian and English synonyms (plus those in kartka.toml).

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    Settlement,
    Address,
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
    pub const ALL: [Field; 27] = [
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
        Field::Settlement,
        Field::Address,
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
            Field::Settlement => "settlement",
            Field::Address => "address",
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
                "піп",
                "п.і.п",
                "п.і.п.",
                "прізвище ім'я по батькові",
                "прізвище, ім'я, по батькові",
                "прізвище, ім'я та по батькові",
                "прізвище, ім'я",
                "прізвище ім'я",
                "прізвище, ім'я, по батькові пільговика",
                "прізвище, ініціали",
                "full name",
                "фио",
                "ф.і.о",
            ],
            Field::BirthDate => &[
                "дата народження",
                "дата нар",
                "дата народж",
                "д.н",
                "д/н",
                "date of birth",
                "birth date",
                "dob",
                "дата рождения",
            ],
            Field::Sex => &["стать", "ч/ж", "м/ж", "чол/жін", "sex", "gender", "пол"],
            Field::TaxNumber => &[
                "рнокпп",
                "іпн",
                "інн",
                "ідентифікаційний код",
                "ідентифікаційний номер",
                "реєстраційний номер облікової картки платника податків",
                "податковий номер",
                "код",
                "код дрфо",
                "дрфо",
                "ідентифікаційний номер платника податків",
                "реєстраційний номер облікової картки",
                "номер облікової картки платника податків",
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
                "документ",
                "документ особи",
                "документ, що посвідчує особу",
                "документ, що засвідчує особу",
                "документ, який засвідчує особу",
                "документ, який посвідчує особу",
                "документ, що засвідчує особу (серія, №)",
                "серія, номер паспорта",
                "серія і № паспорта",
                "паспорт серія номер",
                "пасп",
                "паспортні дані",
                "паспорт/id-картка",
                "паспорт або id-картка",
                "id-картка",
                "паспорт громадянина україни",
                "passport",
                "passport number",
            ],
            Field::PassportSeries => &[
                "серія паспорта",
                "серія паспорту",
                "паспорт серія",
                "паспорт, серія",
                "серія",
                // A document that may be a passport, an ID card or a
                // child's birth certificate.
                "серія документа",
                "серія документу",
                "серія док",
                "документ серія",
                "документ, серія",
                "серія свідоцтва",
                "серія свідоцтва про народження",
                "серія паспорта (свідоцтва)",
                "свідоцтво про народження серія",
                "свідоцтво серія",
                "passport series",
            ],
            Field::PassportNumber => &[
                "номер паспорта",
                "номер паспорту",
                "№ паспорта",
                "паспорт номер",
                "паспорт, номер",
                "номер",
                "номер документа",
                "номер документу",
                "номер док",
                "№ документа",
                "документ номер",
                "документ, номер",
                "номер свідоцтва",
                "№ свідоцтва",
                "номер свідоцтва про народження",
                "номер паспорта (свідоцтва)",
                "свідоцтво про народження номер",
                "свідоцтво про народження №",
                "свідоцтво номер",
                "свідоцтво №",
            ],
            Field::BenefitDocument => &[
                "посвідчення",
                "номер посвідчення",
                "пільгове посвідчення",
                "документ про пільгу",
                "документ, що підтверджує пільгу",
                "документ, який підтверджує пільгу",
                "документ, що підтверджує право на пільгу",
                "документ, який підтверджує право на пільгу",
                "документ, що підтверджує право на пільговий проїзд",
                "посв",
                "посвідчення пільговика",
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
                "контактний телефон",
                "тел",
                "моб. тел",
                "моб тел",
                "мобільний телефон",
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
                "адреса електронної пошти",
                "адреса ел. пошти",
                "адреса e-mail",
                "електронна адреса",
                "ел. адреса",
                "ел.пошта",
            ],
            Field::Category => &[
                "категорія",
                "інвалідність",
                "категорія пільги",
                "пільгова категорія",
                "категорії",
                "вид пільги",
                "тип пільги",
                "пільгова категорія громадян",
                "категорія пільговика",
                "пільга",
                "пільговий статус",
                "статус особи",
                "соціальний статус",
                // A list from the МСЕК: the group is the category.
                "група інвалідності",
                "група інвалідності особи",
                // A pension fund extract: the kind of pension is the category.
                "вид пенсії",
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
                "назва громади",
                "громада (тг)",
                "тг",
            ],
            Field::Settlement => &[
                "населений пункт",
                "назва населеного пункту",
                "нас. пункт",
                "нас пункт",
                "н.п",
                "н/п",
                "місто/село",
                "місто, село",
                "село/місто",
                "settlement",
                "locality",
            ],
            Field::Address => &[
                "адреса",
                "адреса реєстрації",
                "адреса проживання",
                "адреса місця проживання",
                "адреса зареєстрованого місця проживання",
                "місце реєстрації",
                "місце проживання",
                "зареєстроване місце проживання",
                "задеклароване місце проживання",
                "задеклароване/зареєстроване місце проживання",
                "зареєстроване/задеклароване місце проживання",
                "адреса реєстрації/проживання",
                "домашня адреса",
                "address",
                "registered address",
            ],
            Field::Income => &[
                "дохід",
                "дохід, грн",
                "середньомісячний дохід",
                "середньомісячний дохід, грн",
                "сукупний дохід",
                "дох",
                "сума доходу",
                "сума доходу, грн",
                "розмір доходу",
                "середній дохід",
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
                "соц. допомога",
                "соціальна допомога, грн",
                "допомога",
                "aid",
                "social aid",
            ],
            Field::Documents => &[
                "документи",
                "подані документи",
                "перелік документів",
                "перелік поданих документів",
                "documents",
            ],
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
    /// Headers clerks taught (`kartka vocab add header`): read after the
    /// names kartka knows, so never displacing a column they place.
    taught: HashMap<String, Field>,
}

impl Synonyms {
    pub fn new(extra: &BTreeMap<String, Vec<String>>) -> Synonyms {
        let mut by_key = HashMap::new();
        let mut add = |name: &str, field: Field| {
            let key = header_key(name);
            // «№ свідоцтва» without its «№» would be the document itself.
            if !key.contains('№') {
                by_key.insert(bare(&key), field);
            }
            by_key.insert(key, field);
        };
        for field in Field::ALL {
            for s in field.synonyms() {
                add(s, field);
            }
        }
        for (key, names) in extra {
            if let Some(field) = Field::ALL.iter().find(|f| f.key() == key) {
                for n in names {
                    add(n, *field);
                }
            }
        }
        Synonyms {
            by_key,
            taught: HashMap::new(),
        }
    }

    /// The names kartka knows, kartka.toml's, and what clerks taught.
    pub fn of(settings: &super::settings::IntakeSettings) -> Synonyms {
        let mut synonyms = Synonyms::new(&settings.synonyms);
        for a in &settings.taught {
            if a.kind != super::taught::Kind::Header {
                continue;
            }
            if let Some(field) = Field::ALL.iter().find(|f| f.key() == a.code) {
                let key = header_key(&a.written);
                synonyms.taught.insert(bare(&key), *field);
                synonyms.taught.insert(key, *field);
            }
        }
        synonyms
    }

    /// The field a header cell names: the text as written (up to case,
    /// spacing and punctuation), or without a note in brackets ("Дохід
    /// (грн)", "Дата народження (дд.мм.рррр)"), or without a unit after a
    /// comma ("Дохід, грн"); else one side of a slash ("Паспорт (серія,
    /// номер) / ID-картка"), else its leading words ("Середньомісячний
    /// дохід сім'ї за 6 місяців").
    pub fn field(&self, header: &str) -> Option<Field> {
        self.placed(header).map(|(field, _)| field)
    }

    /// The field and how surely: 0, a name kartka or kartka.toml knows; 1,
    /// a header a clerk taught; 2, one side of a slash or leading words.
    fn placed(&self, header: &str) -> Option<(Field, u8)> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        let placed = self.placed_as_written(&key)?;
        // A parent's, a guardian's or a representative's column («ПІБ
        // батьків», «Паспорт опікуна») is no field of the applicant's but
        // a contact or the place they live.
        let someone_else = content_words(&key)
            .iter()
            .any(|w| OTHER_PERSON.contains(&w.as_str()));
        let theirs_too = [
            Field::Phone,
            Field::Email,
            Field::Address,
            Field::Settlement,
            Field::Community,
        ];
        (!someone_else || theirs_too.contains(&placed.0)).then_some(placed)
    }

    fn placed_as_written(&self, key: &str) -> Option<(Field, u8)> {
        // Surname and given name named together («Прізвище, ім’я, по
        // батькові учня») are the full name, whatever word follows.
        let given = key.contains("ім'я") || key.contains("імя");
        if key.contains("прізвищ") && given {
            return Some((Field::FullName, 0));
        }
        // «Ім'я та по батькові» beside a surname column: the given name,
        // its patronymic after it.
        if given && key.contains("батькові") {
            return Some((Field::GivenName, 0));
        }
        if series_and_number(key) {
            return Some((Field::Passport, 0));
        }
        let key = key.to_string();
        let taught = || {
            self.taught
                .get(&key)
                .or_else(|| self.taught.get(&bare(&key)))
                .copied()
        };
        self.whole(&key)
            .map(|f| (f, 0))
            .or_else(|| taught().map(|f| (f, 1)))
            .or_else(|| self.one_side(&key).map(|f| (f, 2)))
            .or_else(|| self.leading_words(&key).map(|f| (f, 2)))
            .or_else(|| self.cut_short(&key).map(|f| (f, 2)))
            .or_else(|| named_anywhere(&key).map(|f| (f, 2)))
    }

    /// Words cut short («ДОК. ПОСВ. ОСОБУ», «Контактн. тел.»): two words or
    /// more, each the beginning of the same word of one field's name, the
    /// small words («що», «про») left out; one field only.
    fn cut_short(&self, key: &str) -> Option<Field> {
        let short = content_words(&without_brackets(key));
        if short.len() < 2 {
            return None;
        }
        let fields: BTreeSet<Field> = self
            .by_key
            .iter()
            .filter(|(name, _)| {
                let full = content_words(name);
                full.len() == short.len()
                    && full
                        .iter()
                        .zip(&short)
                        .all(|(f, s)| s.chars().count() >= 2 && f.starts_with(s.as_str()))
            })
            .map(|(_, f)| *f)
            .collect();
        (fields.len() == 1).then(|| *fields.iter().next().expect("one"))
    }

    /// Was this header placed by an answer a clerk taught?
    pub fn is_taught(&self, header: &str) -> bool {
        self.placed(header).is_some_and(|(_, how)| how == 1)
    }

    /// For a header no rule places: the fields whose header names are
    /// nearest to it in spelling, best first (at most three), for the clerk
    /// to choose from («Вид пенсії» → category, by «вид пільги»).
    pub fn nearest(&self, header: &str) -> Vec<Field> {
        let key = header_key(&without_brackets(&header_key(header)));
        if key.is_empty() {
            return Vec::new();
        }
        let mut best: BTreeMap<Field, f64> = BTreeMap::new();
        for (name, field) in &self.by_key {
            let score = strsim::normalized_damerau_levenshtein(&key, name);
            if score >= NEAREST_SCORE {
                let at = best.entry(*field).or_default();
                *at = at.max(score);
            }
        }
        let mut ranked: Vec<(Field, f64)> = best.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.into_iter().take(3).map(|(f, _)| f).collect()
    }

    /// The field whose header names include `header` exactly (up to case,
    /// spacing and punctuation), with no rule of `field` applied.
    pub fn exactly(&self, header: &str) -> Option<Field> {
        let key = header_key(header);
        self.by_key
            .get(&key)
            .or_else(|| self.by_key.get(&bare(&key)))
            .copied()
    }

    fn whole(&self, key: &str) -> Option<Field> {
        let unbracketed = header_key(&without_brackets(key));
        let before_comma = header_key(before_top_comma(key));
        let bare_before_comma = header_key(unbracketed.split(',').next().unwrap_or_default());
        [key, &unbracketed, &before_comma, &bare_before_comma]
            .into_iter()
            .filter(|k| !k.is_empty())
            .find_map(|k| {
                self.by_key
                    .get(k)
                    .or_else(|| self.by_key.get(&bare(k)))
                    .copied()
            })
    }

    /// The field both sides of a slash name, or the one side that names one.
    fn one_side(&self, key: &str) -> Option<Field> {
        let unbracketed = without_brackets(key);
        if !unbracketed.contains('/') {
            return None;
        }
        let fields: BTreeSet<Field> = unbracketed
            .split('/')
            .filter_map(|side| self.whole(&header_key(side)))
            .collect();
        (fields.len() == 1).then(|| *fields.iter().next().expect("one"))
    }

    /// The field the longest run of leading words names: two words or more,
    /// or one of the words that name a field whatever follows.
    fn leading_words(&self, key: &str) -> Option<Field> {
        let text = without_brackets(key);
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        (1..words.len()).rev().find_map(|n| {
            let lead = header_key(&words[..n].join(" "));
            let field = self
                .whole(&lead)
                .or_else(|| (n >= 2).then(|| self.cut_short(&lead)).flatten())?;
            let named = n >= 2 || !GENERIC_WORDS.contains(&lead.as_str());
            (named && (n >= 2 || LEADING_WORD_FIELDS.contains(&field))).then_some(field)
        })
    }
}

/// A header naming a document's series and its number together («Серія та
/// номер документа», «Паспорт (серія, №)»): the whole identity document,
/// unless it is the benefit's certificate.
fn series_and_number(key: &str) -> bool {
    let words = content_words(key);
    let has = |stem: &str| words.iter().any(|w| w.starts_with(stem));
    let benefit = has("посвідчення") || has("убд") || has("пільг");
    has("серія") && (has("номер") || key.contains('№')) && !benefit
}

/// The address, the birth date or the tax number named by a word anywhere
/// in a header, in any case form («Зареєстрований(а) за адресою», «Число,
/// місяць, рік народження», «Код платника податків»), unless it is an
/// e-mail address or the birth's place or certificate.
fn named_anywhere(key: &str) -> Option<Field> {
    let words = content_words(key);
    let has = |stem: &str| words.iter().any(|w| w.starts_with(stem));
    let born = (has("народж") || has("народи")) && !has("місц") && !has("свідоцтв");
    if born && !has("серія") && !has("номер") && !key.contains('№') {
        return Some(Field::BirthDate);
    }
    // «Код платника податків», «Номер облікової картки платника
    // податків»: the tax number, however the law's name is shortened.
    if has("податк") && !has("адрес") {
        return Some(Field::TaxNumber);
    }
    let mail = has("пошт") || has("електрон") || has("mail");
    (has("адрес") && !mail).then_some(Field::Address)
}

/// How alike (0 to 1, by edits over length) a header must be to a field's
/// name to be offered as its nearest.
const NEAREST_SCORE: f64 = 0.5;

/// Words that name a field alone but not before other words («Код
/// категорії», «Номер посвідчення»).
const GENERIC_WORDS: [&str; 4] = ["код", "номер", "дата", "№"];

/// Fields one leading word names whatever follows («Громада проживання»,
/// «Адреса (місто, вулиця, будинок)», «Дохід сім'ї»).
const LEADING_WORD_FIELDS: [Field; 10] = [
    Field::FullName,
    Field::TaxNumber,
    Field::Category,
    Field::Income,
    Field::IncomePension,
    Field::IncomeSalary,
    Field::Community,
    Field::Address,
    Field::Settlement,
    Field::Phone,
];

/// A header's matching key: `match_key`, with no space before punctuation
/// and no punctuation or spaces at the ends ("ПРІЗВИЩЕ :" → "прізвище").
pub(crate) fn header_key(raw: &str) -> String {
    let key = match_key(raw);
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if matches!(c, ',' | '.' | ':' | ';' | ')') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | '*' | '.' | ',' | ';' | '-' | '–')
    })
    .to_string()
}

/// Words that make a header another person's («батьків», «опікуна»).
const OTHER_PERSON: [&str; 16] = [
    "батьків",
    "батька",
    "матері",
    "батьки",
    "опікуна",
    "опікун",
    "піклувальника",
    "піклувальник",
    "представника",
    "представник",
    "родичів",
    "родича",
    "заступника",
    "супроводжуючого",
    "довіреної",
    "контактної",
];

/// The part of a header before its first comma outside brackets
/// («Свідоцтво (серія, №) / ID» has none).
fn before_top_comma(key: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in key.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return &key[..i],
            _ => {}
        }
    }
    key
}

/// A header's words but the small ones a shortened header leaves out.
fn content_words(key: &str) -> Vec<String> {
    const SMALL: [&str; 12] = [
        "що", "який", "яка", "про", "з", "із", "і", "й", "та", "у", "в", "для",
    ];
    key.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != 'ʼ')
        .filter(|w| !w.is_empty() && !SMALL.contains(w))
        .map(str::to_string)
        .collect()
}

/// Letters and digits only: "П.І.Б." and "П І Б" are "піб".
fn bare(key: &str) -> String {
    key.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn without_brackets(key: &str) -> String {
    crate::text::brackets(key).0
}

/// A sheet's header: where it is and which column holds which field.
#[derive(Debug, Clone)]
pub struct Header {
    /// Index of the header row among the sheet's rows.
    pub row: usize,
    pub columns: BTreeMap<Field, usize>,
    /// The header cells as written, for the rejects file.
    pub names: Vec<String>,
    /// The text cells above the header (titles), each with its row index.
    pub title: Vec<(usize, String)>,
    /// Columns placed by their values, their header unknown (`sniff`).
    pub by_values: BTreeSet<usize>,
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
    let mut above: Option<(&[Data], BTreeMap<Field, usize>)> = None;
    let mut texts: Vec<(usize, String)> = Vec::new();
    for (i, row) in rows.take(HEADER_SEARCH_ROWS).enumerate() {
        let fields = row_fields(row, synonyms);
        let mut names: Vec<String> = row
            .iter()
            .map(|c| c.to_string().trim().to_string())
            .collect();
        let mut columns = fields.clone();
        // A header of two rows: a merged cell above («П.І.Б.» over
        // «Прізвище | Ім'я | По батькові», or «Дата народження» merged down)
        // names the columns the lower row leaves empty.
        if let Some((up, up_fields)) = &above
            && !fields.is_empty()
        {
            for (field, &c) in up_fields {
                let blank_below = row.get(c).is_none_or(|d| d.to_string().trim().is_empty());
                if blank_below && !columns.contains_key(field) {
                    columns.insert(*field, c);
                    if names.len() <= c {
                        names.resize(c + 1, String::new());
                    }
                    names[c] = up[c].to_string().trim().to_string();
                }
            }
        }
        identity_pair(&names, &mut columns);
        if columns.len() >= 3
            && best
                .as_ref()
                .is_none_or(|b| columns.len() > b.columns.len())
        {
            best = Some(Header {
                row: i,
                names,
                columns,
                title: texts.clone(),
                by_values: BTreeSet::new(),
            });
        }
        texts.extend(row.iter().filter_map(|c| match c {
            Data::String(s) if !s.trim().is_empty() => Some((i, s.trim().to_string())),
            _ => None,
        }));
        above = Some((row, fields));
    }
    best
}

/// A column whose header names both the passport and the tax number
/// («Документи (паспорт; РНОКПП)», «Паспорт, ІПН») holds both, when no
/// other column holds either.
fn identity_pair(names: &[String], columns: &mut BTreeMap<Field, usize>) {
    if columns.contains_key(&Field::TaxNumber)
        || columns.contains_key(&Field::Passport)
        || columns.contains_key(&Field::PassportNumber)
    {
        return;
    }
    let both = names.iter().position(|n| {
        let key = header_key(n);
        let tax = ["рнокпп", "іпн", "інн", "ідентифікаційн", "код"]
            .iter()
            .any(|w| key.contains(w));
        tax && key.contains("паспорт")
    });
    if let Some(c) = both {
        columns.retain(|_, col| *col != c);
        columns.insert(Field::TaxNumber, c);
        columns.insert(Field::Passport, c);
    }
}

/// The fields a row's cells name: for each, the column that names it most
/// surely (`Synonyms::placed`), the first of equals.
fn row_fields(row: &[Data], synonyms: &Synonyms) -> BTreeMap<Field, usize> {
    let mut best: BTreeMap<Field, (u8, usize)> = BTreeMap::new();
    for (c, cell) in row.iter().enumerate() {
        if let Data::String(s) = cell
            && let Some((field, how)) = synonyms.placed(s)
        {
            let at = best.entry(field).or_insert((how, c));
            if how < at.0 {
                *at = (how, c);
            }
        }
    }
    best.into_iter().map(|(f, (_, c))| (f, c)).collect()
}

impl Header {
    /// Whether a column names each row's community, settlement or address.
    pub fn names_places(&self) -> bool {
        [Field::Community, Field::Settlement, Field::Address]
            .iter()
            .any(|f| self.columns.contains_key(f))
    }

    /// The required columns this header lacks (P5): a name, the birth date,
    /// a tax number or passport, and the category.
    /// The named columns no field was placed in, each with the fields
    /// nearest to its name that no other column holds.
    pub fn unread(&self, synonyms: &Synonyms) -> Vec<(String, Vec<Field>)> {
        let placed: BTreeSet<usize> = self.columns.values().copied().collect();
        self.names
            .iter()
            .enumerate()
            .filter(|(c, n)| !n.is_empty() && !placed.contains(c))
            .map(|(_, n)| {
                let near = synonyms.nearest(n);
                let free = near.into_iter().filter(|f| !self.columns.contains_key(f));
                (n.clone(), free.collect())
            })
            .collect()
    }

    /// Does the sheet list people (a name, and a date of birth or an
    /// identity)? Such a sheet lacking a required column is an applicant
    /// list read wrongly, never a sheet to pass over.
    pub fn lists_people(&self) -> bool {
        let has = |f| self.columns.contains_key(&f);
        let named = has(Field::FullName) || has(Field::Surname);
        let identified = [
            Field::BirthDate,
            Field::TaxNumber,
            Field::Passport,
            Field::PassportNumber,
        ]
        .into_iter()
        .any(has);
        named && identified
    }

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
    fn a_document_split_in_series_and_number_is_read_whatever_the_document() {
        let syn = Synonyms::new(&BTreeMap::new());
        for (h, f) in [
            ("Серія документа", Field::PassportSeries),
            ("Серія док.", Field::PassportSeries),
            ("Документ, серія", Field::PassportSeries),
            ("Серія свідоцтва", Field::PassportSeries),
            ("Номер документа", Field::PassportNumber),
            ("№ свідоцтва", Field::PassportNumber),
            ("Номер свідоцтва про народження", Field::PassportNumber),
            ("Свідоцтво про народження: серія", Field::PassportSeries),
            ("Свідоцтво про народження: номер", Field::PassportNumber),
            ("ДОК. ПОСВ. ОСОБУ", Field::Passport),
            ("Контактн. тел.", Field::Phone),
            ("Дата нар.", Field::BirthDate),
        ] {
            assert_eq!(syn.field(h), Some(f), "{h}");
        }
    }

    #[test]
    fn a_taught_header_never_displaces_a_column_kartka_knows() {
        let settings = crate::intake::settings::IntakeSettings {
            taught: vec![crate::intake::taught::Answer {
                kind: crate::intake::taught::Kind::Header,
                written: "Статус".into(),
                code: "category".into(),
                by: "clerk".into(),
                at: "2026-12-07T10:00:00Z".into(),
            }],
            ..Default::default()
        };
        let syn = Synonyms::of(&settings);
        assert_eq!(syn.field("СТАТУС"), Some(Field::Category));
        assert!(syn.is_taught("статус") && !syn.is_taught("Категорія"));
        // A sheet with both: «Категорія» is the category, «Статус» beside
        // it (an orphan's status) is not read.
        let row = [s("ПІБ"), s("Статус"), s("Дата народження"), s("Категорія")];
        let fields = row_fields(&row, &syn);
        assert_eq!(fields.get(&Field::Category), Some(&3));
        // Alone, the taught column is the category.
        let row = [s("ПІБ"), s("Статус"), s("Дата народження")];
        assert_eq!(row_fields(&row, &syn).get(&Field::Category), Some(&1));
    }

    #[test]
    fn a_header_about_another_person_is_not_the_applicants() {
        let syn = Synonyms::new(&BTreeMap::new());
        // The applicant's full name, with a word saying whose it is.
        for h in [
            "Прізвище, ім’я, по батькові учня",
            "Прізвище, ім'я, по батькові дитини",
            "Прізвище ім'я по батькові особи",
        ] {
            assert_eq!(syn.field(h), Some(Field::FullName), "{h}");
        }
        // A parent's, a guardian's or a representative's name, birth date
        // or identity is not the applicant's; their phone is a contact.
        for h in [
            "ПІБ батьків, телефон",
            "ПІБ законного представника",
            "Прізвище матері",
            "Опікун / піклувальник, телефон",
            "Дата народження батька",
            "Паспорт опікуна",
            "РНОКПП представника",
        ] {
            assert_eq!(syn.field(h), None, "{h}");
        }
        assert_eq!(syn.field("Телефон представника"), Some(Field::Phone));
        // A document that is a birth certificate or an ID card, whole.
        assert_eq!(
            syn.field("Свідоцтво про народження (серія, №) / ID-картка"),
            Some(Field::Passport)
        );
    }

    #[test]
    fn unread_headers_are_offered_their_nearest_fields() {
        let syn = Synonyms::new(&BTreeMap::new());
        assert!(syn.nearest("Вид пільг").contains(&Field::Category));
        assert!(syn.nearest("Дата нарож.").contains(&Field::BirthDate));
        assert!(syn.nearest("Військове звання").is_empty());
        assert!(syn.nearest("").is_empty());
    }

    #[test]
    fn headers_offices_write_are_read() {
        let syn = Synonyms::new(&BTreeMap::new());
        for (h, f) in [
            ("Адреса реєстрації", Field::Address),
            ("Адреса", Field::Address),
            ("Адреса (місто, вулиця, будинок)", Field::Address),
            ("Зареєстроване місце проживання", Field::Address),
            ("Населений пункт", Field::Settlement),
            ("Сума доходу (пенсії), грн", Field::Income),
            (
                "Середньомісячний дохід сім'ї за останні 6 місяців, грн",
                Field::Income,
            ),
            ("Паспорт серія", Field::PassportSeries),
            ("Паспорт номер", Field::PassportNumber),
            ("Паспорт (серія, номер) / ID-картка", Field::Passport),
            ("Громада проживання", Field::Community),
            ("Телефон заявника", Field::Phone),
            ("Дата народження заявника", Field::BirthDate),
            ("Адреса ел. пошти", Field::Email),
            ("П.І.Б. заявника", Field::FullName),
            ("РНОКПП заявника", Field::TaxNumber),
            ("Назва населеного пункту", Field::Settlement),
            ("Місце проживання / реєстрації", Field::Address),
            ("Група інв. по зору", Field::Category),
            ("Група інвал. (по слуху)", Field::Category),
            ("Зареєстрований(а) за адресою", Field::Address),
            ("Проживає за адресою", Field::Address),
            ("Серія та номер документа", Field::Passport),
            ("Документ", Field::Passport),
            ("Паспорт (серія, №)", Field::Passport),
            ("Ел. адреса", Field::Email),
            ("ПІП", Field::FullName),
            ("Код платника податків", Field::TaxNumber),
            ("Народився(-лась)", Field::BirthDate),
            ("Ч/Ж", Field::Sex),
            ("Інвалідність (група, підстава)", Field::Category),
            ("Ім'я та по батькові", Field::GivenName),
            ("Пенсія нарахована, грн", Field::IncomePension),
            ("Заробітна плата (середня), грн", Field::IncomeSalary),
            ("Число, місяць, рік народження", Field::BirthDate),
            ("Рік, число, місяць народження", Field::BirthDate),
        ] {
            assert_eq!(syn.field(h), Some(f), "{h}");
        }
        for other in [
            "№ п/п",
            "Номер п/п",
            "Примітка",
            "Підпис заявника",
            "Серія та номер посвідчення УБД",
            "Місце народження",
            "у т.ч. 25% на особ. рахунок, грн",
        ] {
            assert_eq!(syn.field(other), None, "{other}");
        }
    }

    #[test]
    fn a_two_row_header_takes_the_lower_cell_or_the_upper_when_it_is_empty() {
        let e = Data::Empty;
        let rows = [
            vec![
                s("№"),
                s("П.І.Б."),
                s("Дата народження"),
                s("Паспорт"),
                e.clone(),
                s("Категорія пільги"),
                s("Середньомісячний дохід за 6 місяців, грн"),
                s("Адреса реєстрації"),
            ],
            vec![
                e.clone(),
                e.clone(),
                e.clone(),
                s("серія"),
                s("номер"),
                e.clone(),
                e.clone(),
                e.clone(),
            ],
        ];
        let syn = Synonyms::new(&BTreeMap::new());
        let h = find_header(rows.iter().map(|r| r.as_slice()), &syn).unwrap();
        assert_eq!(h.row, 1);
        for (f, c) in [
            (Field::FullName, 1),
            (Field::BirthDate, 2),
            (Field::PassportSeries, 3),
            (Field::PassportNumber, 4),
            (Field::Category, 5),
            (Field::Income, 6),
            (Field::Address, 7),
        ] {
            assert_eq!(h.columns.get(&f), Some(&c), "{f:?}");
        }
        assert!(!h.columns.contains_key(&Field::Passport));
        assert!(h.missing_required().is_empty());
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
