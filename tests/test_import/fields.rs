//! `kartka import applicants` on fixtures/intake/fields-children.csv and
//! fields-one-cell.csv (written by hand): a child's sex written boy or
//! girl, a birth certificate in one identity cell or split across the
//! passport's series and number columns, a tax number refused in capitals,
//! a tax number behind Excel's text marker, and a date of birth saved as an
//! Excel serial.

use crate::common::Home;

const CHILDREN: &str = "fixtures/intake/fields-children.csv";
const ONE_CELL: &str = "fixtures/intake/fields-one-cell.csv";

fn import(h: &Home, file: &str) -> crate::common::Run {
    h.kartka(&[
        "--json",
        "import",
        "applicants",
        "--community",
        "Павлоград",
        file,
    ])
}

/// These stored values of the person with this surname and given name.
fn get(h: &Home, name: &str, cols: &str) -> String {
    let (surname, given) = name.split_once(' ').unwrap();
    h.db()
        .query_row(
            &format!("SELECT {cols} FROM people WHERE surname = ?1 AND given_name = ?2"),
            [surname, given],
            |r| {
                (0..r.as_ref().column_count())
                    .map(|i| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default))
                    .collect::<Result<Vec<_>, _>>()
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .join(" ")
}

#[test]
fn children_refusals_markers_and_serials_are_read() {
    let h = Home::new();
    let r = import(&h, CHILDREN);
    let v = r.json();
    assert_eq!(
        (&v["read"], &v["inserted"], &v["rejected"]),
        (&9.into(), &7.into(), &2.into()),
        "{}",
        r.stderr
    );
    let cols = "birth_date, sex, passport, tax_number";
    for (name, stored) in [
        ("Ткаченко Марко", "2015-03-02 M I-АП123456 "),
        ("Ткаченко Марія", "2016-03-12 F I-АП623400 "),
        ("Бойко Денис", "2017-06-01 M I-АП623401 "),
        ("Бойко Олена", "2017-06-01 F II-КГ623402 "),
        ("Шевчук Ганна", "1949-07-05 F МК512345 "),
        ("Коваленко Петро", "1953-03-14 M  1943101219"),
        ("Олійник Іван", "1985-07-23 M  3125003418"),
    ] {
        assert_eq!(get(&h, name, cols), stored, "{name}");
    }
    for said in [
        "row 4: column B \"Дата народження\": read 42887 as an Excel date serial: 2017-06-01",
        "row 5: column B \"Дата народження\": read 42887.0 as an Excel date serial: 2017-06-01",
        "row 7: column B \"Дата народження\": read 19432 as an Excel date serial: 1953-03-14",
    ] {
        assert!(r.stderr.contains(said), "{said}\n{}", r.stderr);
    }
    let place = |row: usize| format!("rejected: {CHILDREN}, row {row}: ");
    for (row, why) in [
        (
            9,
            "column D \"РНОКПП\": \"відмова (релігійні переконання)\" is a refusal of the tax number; the person is then identified by the passport, and there is none",
        ),
        (10, "column B \"Дата народження\": \"60\" is not a date"),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with(&place(row)))
            .unwrap_or_else(|| panic!("row {row} not refused:\n{}", r.stderr));
        assert!(line.contains(why), "{line}\nlacks {why}");
    }
}

#[test]
fn a_birth_certificate_written_in_one_cell_is_read() {
    let h = Home::new();
    let r = import(&h, ONE_CELL);
    assert_eq!(r.json()["inserted"], 5, "{}", r.stderr);
    for (name, stored) in [
        ("Ткаченко Марія", "F I-АП223456"),
        ("Ткаченко Марко", "M I-АП223457"),
        ("Бойко Денис", "M I-АП223458"),
        ("Бойко Олена", "F I-АП223459"),
        ("Бойко Ірина", "F I-АП223460"),
    ] {
        assert_eq!(get(&h, name, "sex, passport"), stored, "{name}");
    }
}

#[test]
fn a_passport_header_merged_over_series_and_number_reads_both() {
    let h = Home::new();
    let r = import(&h, "fixtures/intake/fields-merged-passport.csv");
    assert_eq!(r.json()["inserted"], 3, "{}", r.stderr);
    for (name, stored) in [
        ("Ткаченко Марко", "M I-АП123499"),
        ("Шевчук Ганна", "F МК512345"),
        ("Бондар Олексій", "M 102345678"),
    ] {
        assert_eq!(get(&h, name, "sex, passport"), stored, "{name}");
    }
}
