//! Writes fixtures/intake/forms-2026-12.xlsx: one office's sheet with the
//! ways Ukrainian documents write each field (dates with month names, «р.»,
//! passports and ID cards with the УНЗР, a child's birth certificate, a tax
//! number refused in words, money in «грн … коп.», contact cells with notes
//! and two numbers), six rows a clerk accepts and six a clerk refuses. The
//! expected outcome of each row is in the «Очікується» column, which intake
//! does not read. Deterministic: the same bytes on every run.
//!
//!     cargo run --example make_intake_forms

use chrono::NaiveDate;
use kartka::identity::{Sex, make_tax_number};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

const HEADER: [&str; 12] = [
    "П.І.Б.",
    "Дата народження",
    "Стать",
    "РНОКПП",
    "Серія паспорта",
    "Номер паспорта",
    "Категорія",
    "Громада",
    "Дохід, грн",
    "Телефон",
    "E-mail",
    "Очікується",
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn tax(y: i32, m: u32, d: u32, sex: Sex) -> String {
    make_tax_number(date(y, m, d), sex, 137).expect("a date after 1900")
}

/// A УНЗР for a date of birth and serial, with its check digit (ICAO 9303,
/// weights 7, 3, 1).
fn unzr(birth: &str, serial: &str) -> String {
    let digits: Vec<u32> = format!("{birth}{serial}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .zip([7, 3, 1].iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    format!("{birth}-{serial}{}", sum % 10)
}

fn rows() -> Vec<[String; 12]> {
    let s = |v: &str| v.to_string();
    let city = || s("Павлоградська");
    vec![
        [
            s("Коваленко Петро Іванович"),
            s("12 березня 1951 р."),
            s("чолов."),
            tax(1951, 3, 12, Sex::Male),
            s("МК"),
            s("512345"),
            s("Пенсіонер за віком"),
            city(),
            s("3120 грн 50 коп."),
            s("067 123 45 67, 050 765 43 21"),
            s(""),
            s("accept"),
        ],
        [
            s("Шевчук Ганна Миколаївна"),
            s("05.07.1949 р."),
            s("жіноч."),
            s("відмова (релігійні переконання)"),
            s("ID"),
            s("002345678"),
            s("учасн. бойових дій"),
            city(),
            s("-"),
            s("немає"),
            s("немає"),
            s("accept"),
        ],
        [
            s("Бондар Олексій Вікторович"),
            s("03.11.1975р."),
            s("чол."),
            tax(1975, 11, 3, Sex::Male),
            s("—"),
            format!("102345678, УНЗР {}", unzr("19751103", "0123")),
            s("УБД / пенсіонер за віком"),
            city(),
            s("—"),
            s("8 067 765 43 21"),
            s(""),
            s("accept"),
        ],
        [
            s("Ткаченко Марія Олегівна"),
            s("2.3.2015"),
            s("жін."),
            tax(2015, 3, 2, Sex::Female),
            s("І-АП"),
            s("123456"),
            s("Дитина з інвалідністю"),
            city(),
            s(""),
            s("0671234567 (мама)"),
            s(""),
            s("accept"),
        ],
        [
            s("Олійник Марія Василівна"),
            s("17 березня 1950"),
            s("ж"),
            tax(1950, 3, 17, Sex::Female),
            s("серія МК"),
            s("№ 512346"),
            s("пенсія в разі втрати годувальника"),
            city(),
            s("3 120,50 грн"),
            s("12-34-56"),
            s("maria@"),
            s("accept"),
        ],
        [
            s("Литвиненко Сергій Михайлович"),
            s("21.06.51"),
            s("чоловіча"),
            tax(1951, 6, 21, Sex::Male),
            s(""),
            format!("ID-картка № 002345679 (УНЗР {})", unzr("19510621", "0015")),
            s("учасник бойових дій"),
            city(),
            s(""),
            s("+380 67 111 22 33 (син)"),
            s(""),
            s("accept"),
        ],
        [
            s("Петро Іванович"),
            s("01.02.1950"),
            s("ч"),
            tax(1950, 2, 1, Sex::Male),
            s("МК"),
            s("512347"),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: the surname is missing"),
        ],
        [
            s("Гончаренко Людмила Іванівна"),
            s("12 березоля 1950 р."),
            s("ж"),
            s(""),
            s("МК"),
            s("512348"),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: not a date"),
        ],
        [
            s("Федоренко Іван Олегович"),
            s("04.04.1950"),
            s("ч"),
            tax(1950, 4, 4, Sex::Male),
            s("І-АП"),
            s("654321"),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: a birth certificate for an adult"),
        ],
        [
            s("Руденко Оксана Миколаївна"),
            s("09.09.1960"),
            s("ж"),
            tax(1960, 9, 9, Sex::Female),
            s("ID"),
            format!("002345680 (УНЗР {})", unzr("19600908", "0022")),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: the УНЗР's date is not the date of birth"),
        ],
        [
            s("Шаповал Іван Якович"),
            s("10.10.1955"),
            s("ч"),
            tax(1955, 10, 10, Sex::Male),
            s("МК"),
            s("5123"),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: not a passport, quoted as the two cells"),
        ],
        [
            s("Приходько Євген Олексійович"),
            s("31 лютого 1950 р."),
            s("ч"),
            s(""),
            s("МК"),
            s("512349"),
            s("учасник бойових дій"),
            city(),
            s(""),
            s(""),
            s(""),
            s("refuse: no such date"),
        ],
    ]
}

fn main() -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let when = ExcelDateTime::from_ymd(2026, 12, 1)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let sheet = book.add_worksheet();
    sheet.set_name("Заяви")?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for (r, row) in rows().iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, v)?;
            }
        }
    }
    book.save("fixtures/intake/forms-2026-12.xlsx")
}
