//! `kartka import applicants` on fixtures/intake/forms-2026-12.xlsx (made by
//! `cargo run --example make_intake_forms`): every way an office writes a
//! date, a passport, an ID card with its УНЗР, a child's birth certificate,
//! a tax number refused in words, money, sex and contact data, as a clerk
//! reads them; and the rows a clerk refuses, each with its place and the
//! cells quoted as written.

use crate::common::Home;

const FILE: &str = "fixtures/intake/forms-2026-12.xlsx";

fn import(h: &Home, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["--json", "import", "applicants"];
    args.extend_from_slice(extra);
    args.push(FILE);
    h.kartka(&args)
}

/// One stored value of the person with this surname.
fn get(h: &Home, surname: &str, col: &str) -> Option<String> {
    h.db()
        .query_row(
            &format!("SELECT CAST({col} AS TEXT) FROM people WHERE surname = ?1"),
            [surname],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn every_written_form_of_a_field_is_read_as_a_clerk_reads_it() {
    let h = Home::new();
    let r = import(&h, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (&v["read"], &v["inserted"], &v["rejected"]),
        (&12.into(), &6.into(), &6.into()),
        "{}",
        r.stderr
    );
    for (surname, born) in [
        ("Коваленко", "1951-03-12"),
        ("Шевчук", "1949-07-05"),
        ("Бондар", "1975-11-03"),
        ("Ткаченко", "2015-03-02"),
        ("Олійник", "1950-03-17"),
        ("Литвиненко", "1951-06-21"),
    ] {
        assert_eq!(get(&h, surname, "birth_date").as_deref(), Some(born));
    }
    assert_eq!(get(&h, "Коваленко", "sex").as_deref(), Some("M"));
    assert_eq!(get(&h, "Шевчук", "sex").as_deref(), Some("F"));
    // Identity: a passport from its two cells, an ID card beside «ID» or a
    // dash, with its УНЗР; a child's birth certificate; a refused tax number.
    assert_eq!(
        get(&h, "Коваленко", "passport").as_deref(),
        Some("МК512345")
    );
    assert_eq!(get(&h, "Олійник", "passport").as_deref(), Some("МК512346"));
    assert_eq!(get(&h, "Шевчук", "passport").as_deref(), Some("002345678"));
    assert_eq!(get(&h, "Шевчук", "tax_number"), None);
    assert_eq!(get(&h, "Бондар", "passport").as_deref(), Some("102345678"));
    assert_eq!(
        get(&h, "Литвиненко", "passport").as_deref(),
        Some("002345679")
    );
    assert_eq!(
        get(&h, "Ткаченко", "passport").as_deref(),
        Some("I-АП123456")
    );
    // Money in words and with a dash for none.
    assert_eq!(
        get(&h, "Коваленко", "income_total").as_deref(),
        Some("312050")
    );
    assert_eq!(
        get(&h, "Олійник", "income_total").as_deref(),
        Some("312050")
    );
    assert_eq!(get(&h, "Шевчук", "income_total"), None);
    // Categories: abbreviated, the law's other wording, two in one cell.
    assert_eq!(
        get(&h, "Шевчук", "categories").as_deref(),
        Some("combatant")
    );
    assert_eq!(
        get(&h, "Олійник", "categories").as_deref(),
        Some("pensioner-other")
    );
    assert_eq!(
        get(&h, "Бондар", "categories").as_deref(),
        Some("combatant,pensioner-age")
    );
    assert!(
        r.stderr.contains("row 4: column G \"Категорія\": the person holds several categories (combatant, pensioner-age); all are kept and combatant is used"),
        "{}",
        r.stderr
    );
    // Contact data: every number read, notes and local numbers kept.
    assert_eq!(
        get(&h, "Коваленко", "phone").as_deref(),
        Some("+380671234567, +380507654321")
    );
    assert_eq!(get(&h, "Шевчук", "phone"), None);
    assert_eq!(get(&h, "Шевчук", "email"), None);
    assert_eq!(get(&h, "Бондар", "phone").as_deref(), Some("+380677654321"));
    assert_eq!(
        get(&h, "Ткаченко", "phone").as_deref(),
        Some("+380671234567 (мама)")
    );
    assert_eq!(get(&h, "Олійник", "phone").as_deref(), Some("12-34-56"));
    assert_eq!(get(&h, "Олійник", "email").as_deref(), Some("maria@"));
    assert_eq!(
        get(&h, "Литвиненко", "phone").as_deref(),
        Some("+380671112233 (син)")
    );
    for warning in [
        "row 6: column J \"Телефон\": \"12-34-56\" is not a number that can be dialled",
        "row 6: column K \"E-mail\": \"maria@\" is not an e-mail address; expected e.g. name@ukr.net; kept as written",
        "row 7: column J \"Телефон\": \"+380 67 111 22 33 (син)\": 1 number(s) read; kept as \"+380671112233 (син)\"",
    ] {
        assert!(r.stderr.contains(warning), "{warning}\n{}", r.stderr);
    }
}

#[test]
fn refused_rows_say_where_and_quote_the_cells_as_written() {
    let h = Home::new();
    let r = import(&h, &[]);
    let place = |row: usize| format!("rejected: {FILE}, sheet \"Заяви\", row {row}: ");
    for (row, why) in [
        (
            8,
            "column A \"П.І.Б.\": \"Петро Іванович\" is only a given name and a patronymic: the surname is missing",
        ),
        (
            9,
            "column B \"Дата народження\": \"12 березоля 1950 р.\" is not a date",
        ),
        (
            10,
            "column F \"Номер паспорта\": series \"І-АП\", number \"654321\" is a birth certificate, but the person is 14 or older; a passport is needed (P4)",
        ),
        (
            11,
            "УНЗР 19600908-00221 holds the birth date 08.09.1960, but the date of birth is 09.09.1960",
        ),
        (
            12,
            "column F \"Номер паспорта\": series \"МК\", number \"5123\" is not an identity document",
        ),
        (
            13,
            "column B \"Дата народження\": \"31 лютого 1950 р.\" is not a real date (day 31, month 2, year 1950)",
        ),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with(&place(row)))
            .unwrap_or_else(|| panic!("row {row} not refused:\n{}", r.stderr));
        assert!(line.contains(why), "{line}\nlacks {why}");
    }
    let rejects = crate::test_import::read_rejects(&h, r.json()["rejects_file"].as_str().unwrap());
    let split = rejects.iter().find(|r| r["Рядок"] == "12").unwrap();
    assert_eq!(
        split["Причина"],
        "стовпець F «Номер паспорта»: серія \"МК\", номер \"5123\" — не документ, що посвідчує особу; очікуються паспорт (2 кириличні літери і 6 цифр, АВ123456), ID-картка (9 цифр) або свідоцтво про народження дитини (І-АП 123456)"
    );
    assert_eq!(split["Серія паспорта"], "МК");
    assert_eq!(split["Номер паспорта"], "5123");
}

#[test]
fn a_second_import_of_the_forms_changes_nothing() {
    let h = Home::new();
    assert_eq!(import(&h, &[]).code, 0);
    let v = import(&h, &[]).json();
    assert_eq!(
        (&v["inserted"], &v["unchanged"], &v["rejected"]),
        (&0.into(), &6.into(), &6.into())
    );
}
