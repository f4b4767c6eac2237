//! The clerk teaches once (`kartka vocab`): a header or a value an office
//! writes that kartka.toml does not name is refused with the nearest
//! candidates and the command that teaches it; once taught, every import
//! reads it, and `--columns` says which answers were used.

use kartka::identity::Sex;
use rust_xlsxwriter::Workbook;

use super::import;
use super::offices::{tax, write_row};
use crate::common::Home;

/// A veterans' council list: the category sits under «Пільговий документ,
/// статус» in words the law does not use («воїн-афганець» for a combatant), on a
/// second sheet beside a first that reads as the tool expects.
fn council_list(h: &Home) -> (std::path::PathBuf, String, String) {
    let (first, second) = (
        tax("11.03.1950", Sex::Female, 101),
        tax("02.05.1948", Sex::Male, 202),
    );
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Ветерани праці").unwrap();
    let head = ["ПІБ", "Дата народження", "РНОКПП", "Категорія", "Громада"];
    write_row(ws, 0, &head);
    write_row(
        ws,
        1,
        &[
            "Мельник Олена Петрівна",
            "11.03.1950",
            &first,
            "УБД",
            "м. Павлоград",
        ],
    );
    let ws = wb.add_worksheet().set_name("Ветерани війни").unwrap();
    let head = [
        "ПІБ",
        "Дата народження",
        "РНОКПП",
        "Пільговий документ, статус",
        "Громада",
    ];
    write_row(ws, 0, &head);
    write_row(
        ws,
        1,
        &[
            "Гнатюк Іван Петрович",
            "02.05.1948",
            &second,
            "воїн-афганець",
            "м. Павлоград",
        ],
    );
    let path = h.work.join("council.xlsx");
    wb.save(&path).unwrap();
    (path, first, second)
}

#[test]
fn a_sheet_of_people_with_an_unread_category_column_refuses_the_file_and_says_what_to_teach() {
    let h = Home::new();
    let (path, _, _) = council_list(&h);
    let file = path.to_str().unwrap();
    let r = import(&h, &[], &[file]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("sheet \"Ветерани війни\"")
            && r.stderr.contains("lacks required column(s): category")
            && r.stderr
                .contains("Not read: \"Пільговий документ, статус\" (nearest:")
            && r.stderr.contains("kartka vocab add header"),
        "{}",
        r.stderr
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people"),
        0,
        "nothing half-imported"
    );
}

#[test]
fn a_taught_header_and_value_are_read_from_then_on_and_shown_in_columns() {
    let h = Home::new();
    let (path, first, second) = council_list(&h);
    let file = path.to_str().unwrap();
    let r = h.kartka(&[
        "vocab",
        "add",
        "header",
        "Пільговий документ, статус",
        "category",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Taught: «Пільговий документ, статус» means category."),
        "{}",
        r.stderr
    );

    // The column is read now; its value is not yet known, and --columns
    // names the nearest categories and the command that teaches it.
    let r = import(&h, &["--columns"], &[file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("category (taught: kartka vocab)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("\"воїн-афганець\" (1 row): cannot place")
            && r.stderr
                .contains("to teach it: kartka vocab add category \"воїн-афганець\""),
        "{}",
        r.stderr
    );
    let r = import(&h, &[], &[file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 1, "{}", r.stderr);
    assert_eq!(r.json()["rejected"], 1, "{}", r.stderr);

    let r = h.kartka(&["vocab", "add", "category", "воїн-афганець", "combatant"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = import(&h, &["--columns"], &[file]);
    assert!(
        r.stderr.contains("\"воїн-афганець\" (1 row): taken as «")
            && r.stderr.contains("(combatant) (taught: kartka vocab)"),
        "{}",
        r.stderr
    );
    let r = import(&h, &[], &[file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 1, "{}", r.stderr);
    assert_eq!(r.json()["rejected"], 0, "{}", r.stderr);
    let stored: String = h
        .db()
        .query_row(
            "SELECT categories FROM people WHERE tax_number = ?1",
            [&second],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.contains("combatant"), "{stored}");
    assert_eq!(
        h.count("SELECT count(*) FROM people"),
        2,
        "{first} and {second}"
    );

    // Who taught what, and when, is kept; a forgotten answer is no longer read.
    let r = h.kartka(&["--json", "vocab", "list"]);
    let answers = r.json()["answers"].as_array().unwrap().clone();
    assert_eq!(answers.len(), 2, "{}", r.stdout);
    assert_eq!(answers[1]["kind"], "category");
    assert_eq!(answers[1]["by"], "test-clerk");
    let r = h.kartka(&["vocab", "remove", "category", "ВОЇН-АФГАНЕЦЬ"]);
    assert!(
        r.stderr
            .contains("Forgotten: «ВОЇН-АФГАНЕЦЬ» (it meant combatant)."),
        "{}",
        r.stderr
    );
    let r = import(&h, &["--columns"], &[file]);
    assert!(
        r.stderr.contains("\"воїн-афганець\" (1 row): cannot place"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_answer_that_would_change_kartka_toml_or_names_no_code_is_refused_and_nothing_kept() {
    let h = Home::new();
    let r = h.kartka(&["vocab", "add", "category", "УБД", "pensioner-age"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("\"УБД\" already means the category combatant in kartka.toml")
            && r.stderr.contains("Nothing was taught."),
        "{}",
        r.stderr
    );
    let r = h.kartka(&[
        "vocab",
        "add",
        "community",
        "с. Новоселівка",
        "UA00000000000000000",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("is not a community of kartka.toml; use one of: UA12120130000022766"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM vocabulary"), 0);
}

#[test]
fn only_clerks_and_admins_teach() {
    let h = Home::new();
    let r = h.kartka(&["accounts", "add", "analyst-1", "--role", "analyst"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka_as(
        "analyst-1",
        &["vocab", "add", "category", "воїн-афганець", "combatant"],
    );
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("for admin, clerk accounts only"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM vocabulary"), 0);
}
