//! Workbooks as other offices write them: a city office's register with the
//! address of registration, a partner communities' file with a sheet per
//! community, a ЦНАП file with a sheet per month and a two-row header. The
//! community is found in the row, the sheet's name or `--community`, never
//! assumed; rows that are not applicants are skipped and counted apart.

use chrono::NaiveDate;
use kartka::identity::{Sex, make_tax_number};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::import;
use crate::common::Home;

const CITY: &str = "UA12120130000022766";
const TERNIVKA: &str = "UA12120190000064981";
const VERBKY: &str = "UA12120030000091426";
const BOHDANIVKA: &str = "UA12120010000054893";

/// A valid tax number for a person born on `born` ("DD.MM.YYYY").
pub(super) fn tax(born: &str, sex: Sex, serial: u16) -> String {
    let d = NaiveDate::parse_from_str(born, "%d.%m.%Y").unwrap();
    make_tax_number(d, sex, serial).unwrap()
}

fn community_of(h: &Home, tax_number: &str) -> Option<String> {
    h.db()
        .query_row(
            "SELECT community FROM people WHERE tax_number = ?1",
            [tax_number],
            |r| r.get(0),
        )
        .ok()
}

pub(super) fn write_row(ws: &mut Worksheet, row: u32, cells: &[&str]) {
    for (c, v) in cells.iter().enumerate() {
        if !v.is_empty() {
            ws.write_string(row, c as u16, *v).unwrap();
        }
    }
}

/// The city office's register: «П.І.Б.», the passport in two columns, the
/// address of registration, the income as «Сума доходу (пенсії), грн»; a row
/// of column numbers, section headings, section totals, a grand total and
/// the signatures below.
fn city_register(h: &Home) -> (String, Vec<(String, Option<&'static str>)>) {
    let people = [
        (
            "Коваленко Марія Іванівна",
            "14.03.1952",
            Sex::Female,
            "м. Павлоград, вул. Соборна, 12, кв. 4",
            Some(CITY),
        ),
        (
            "Шевчук Петро Миколайович",
            "02.11.1949",
            Sex::Male,
            "с. Богданівка, вул. Миру, 45",
            Some(BOHDANIVKA),
        ),
        (
            "Ткач Ганна Петрівна",
            "21.06.1951",
            Sex::Female,
            "с. Вербки Павлоградського р-ну, вул. Шкільна 3",
            Some(VERBKY),
        ),
        (
            "Мороз Іван Степанович",
            "05.01.1950",
            Sex::Male,
            "Дніпропетровська обл., Павлоградський р-н, с. Благодатне, вул. Садова 8",
            Some(VERBKY),
        ),
        (
            "Лисенко Олена Василівна",
            "30.09.1953",
            Sex::Female,
            "м.Тернівка, вул. Харківська, 3",
            Some(TERNIVKA),
        ),
        (
            "Бойко Андрій Іванович",
            "11.12.1948",
            Sex::Male,
            "Павлоградський р-н, вул. Миру, 5",
            None,
        ),
        (
            "Савчук Ніна Олексіївна",
            "17.07.1950",
            Sex::Female,
            "вул. Соборна, 5, кв. 1",
            None,
        ),
        (
            "Гончар Віра Павлівна",
            "08.08.1952",
            Sex::Female,
            "с. Петрівка, вул. Миру 1",
            None,
        ),
    ];
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Реєстр").unwrap();
    ws.merge_range(
        0,
        0,
        0,
        8,
        "Реєстр осіб, які мають право на пільговий проїзд",
        &Format::new(),
    )
    .unwrap();
    write_row(
        ws,
        2,
        &[
            "№ з/п",
            "П.І.Б.",
            "Дата народження",
            "РНОКПП",
            "Паспорт серія",
            "Паспорт номер",
            "Адреса реєстрації",
            "Категорія пільги",
            "Сума доходу (пенсії), грн",
        ],
    );
    for c in 0..9u16 {
        ws.write_number(3, c, f64::from(c + 1)).unwrap();
    }
    write_row(ws, 4, &["Розділ 1. Місто"]);
    let mut r = 5;
    let mut expected = Vec::new();
    for (i, (name, born, sex, address, community)) in people.iter().enumerate() {
        if i == 1 {
            write_row(ws, r, &["", "Разом по розділу:", "1"]);
            write_row(ws, r + 1, &["Партнерські громади"]);
            r += 2;
        }
        let t = tax(born, *sex, 100 + i as u16);
        let n = (i + 1).to_string();
        write_row(
            ws,
            r,
            &[
                &n,
                name,
                born,
                &t,
                "АК",
                &format!("48291{i}"),
                address,
                "Пенсіонер за віком",
                "3120,50",
            ],
        );
        expected.push((t, *community));
        r += 1;
    }
    write_row(ws, r, &["Всього", "", "", "", "", "", "", "", "8"]);
    write_row(
        ws,
        r + 2,
        &[
            "Начальник управління",
            "",
            "____________",
            "",
            "О. П. Коваль",
        ],
    );
    write_row(ws, r + 3, &["", "", "(підпис)", "", "(П.І.Б.)"]);
    write_row(ws, r + 4, &["М.П."]);
    write_row(
        ws,
        r + 5,
        &["Виконавець: Петренко О.О., тел. 0563 20 11 22"],
    );
    let path = h.work.join("city-register.xlsx");
    wb.save(&path).unwrap();
    (path.to_str().unwrap().to_string(), expected)
}

#[test]
fn a_city_register_finds_the_community_in_the_address_and_skips_what_is_no_applicant() {
    let h = Home::new();
    let (file, expected) = city_register(&h);
    let r = import(&h, &[], &[&file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["read"], 8, "{v}");
    assert_eq!(v["inserted"], 5, "{}", r.stderr);
    assert_eq!(v["rejected"], 3, "{}", r.stderr);
    assert_eq!(v["skipped"], 9, "{v}");
    let kinds = &v["skipped_kinds"];
    assert_eq!(
        (
            &kinds["column-numbers"],
            &kinds["heading"],
            &kinds["total"],
            &kinds["signature"],
            &kinds["stamp"]
        ),
        (&1.into(), &2.into(), &2.into(), &3.into(), &1.into()),
        "{kinds}"
    );
    for (t, community) in &expected {
        assert_eq!(community_of(&h, t).as_deref(), *community, "{t}");
    }
    // Each refusal names the cell as written and what to do.
    for words in [
        &[
            "column G \"Адреса реєстрації\"",
            "\"Павлоградський р-н, вул. Миру, 5\"",
            "is a district or region, not a community",
            "write the settlement",
        ][..],
        &[
            "\"вул. Соборна, 5, кв. 1\" names no settlement",
            "pass --community CODE",
        ][..],
        &[
            "\"с. Петрівка, вул. Миру 1\"",
            "the settlement «Петрівка» is in no community",
            "settlements",
        ][..],
    ] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with("rejected:") && words.iter().all(|w| l.contains(w))),
            "{words:?} in\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr
            .contains("row 4: skipped: not an applicant: the column numbers"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("Всього"),
        "a total is not quoted as a rejected applicant"
    );
}

#[test]
fn the_columns_report_says_where_the_community_comes_from() {
    let h = Home::new();
    let (file, _) = city_register(&h);
    let r = h.kartka(&["--json", "import", "applicants", "--columns", &file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let sheet = &v["sheets"][0];
    assert_eq!(sheet["header_row"], 3);
    let fields: Vec<&str> = sheet["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        fields,
        [
            "-",
            "full_name",
            "birth_date",
            "tax_number",
            "passport_series",
            "passport_number",
            "address",
            "category",
            "income"
        ]
    );
    let from = sheet["community_from"][0].as_str().unwrap();
    assert!(from.starts_with("column G «Адреса реєстрації»"), "{from}");
}

/// A partner communities' file: one sheet per community, named after it,
/// and no community column.
fn partners(h: &Home) -> (String, Vec<(String, &'static str)>) {
    let mut wb = Workbook::new();
    let mut expected = Vec::new();
    for (s, (sheet, code)) in [
        ("Тернівська МТГ", TERNIVKA),
        ("Богданівська громада", BOHDANIVKA),
    ]
    .into_iter()
    .enumerate()
    {
        let ws = wb.add_worksheet().set_name(sheet).unwrap();
        write_row(
            ws,
            0,
            &[
                "№",
                "Прізвище",
                "Ім'я",
                "По батькові",
                "Дата народження",
                "РНОКПП",
                "Категорія",
                "Дохід, грн",
            ],
        );
        for i in 0..2u16 {
            let born = format!("1{}.0{}.195{}", i + 1, s + 3, i);
            let t = tax(&born, Sex::Female, 200 + 10 * s as u16 + i);
            write_row(
                ws,
                1 + u32::from(i),
                &[
                    &(i + 1).to_string(),
                    "Мельник",
                    "Олена",
                    "Петрівна",
                    &born,
                    &t,
                    "Пенсіонер за віком",
                    "3000",
                ],
            );
            expected.push((t, code));
        }
        write_row(ws, 3, &["Всього:", "2"]);
    }
    let path = h.work.join("partners.xlsx");
    wb.save(&path).unwrap();
    (path.to_str().unwrap().to_string(), expected)
}

#[test]
fn a_sheet_named_after_a_community_gives_its_rows_the_community() {
    let h = Home::new();
    let (file, expected) = partners(&h);
    let r = import(&h, &[], &[&file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (
            v["read"].as_u64(),
            v["inserted"].as_u64(),
            v["skipped"].as_u64()
        ),
        (Some(4), Some(4), Some(2)),
        "{}",
        r.stderr
    );
    for (t, code) in &expected {
        assert_eq!(community_of(&h, t).as_deref(), Some(*code), "{t}");
    }
    let r = h.kartka(&["--json", "import", "applicants", "--columns", &file]);
    let v = r.json();
    assert_eq!(
        v["sheets"][0]["community_from"][0],
        format!(
            "the sheet's name «Тернівська МТГ»: «Тернівська міська територіальна громада» ({TERNIVKA})"
        )
    );
}

/// A ЦНАП file: a sheet per month, a two-row header (group cells above the
/// field names, «Середньомісячний дохід…» merged down over both rows), the
/// passport or ID card in one column, the settlement in its own column.
fn cnap(h: &Home) -> (String, Vec<(String, &'static str)>) {
    let mut wb = Workbook::new();
    let mut expected = Vec::new();
    let plain = Format::new();
    for (m, month) in ["Жовтень 2026", "Листопад 2026"].into_iter().enumerate() {
        let ws = wb.add_worksheet().set_name(month).unwrap();
        ws.merge_range(0, 0, 0, 2, "Відомості про заявника", &plain)
            .unwrap();
        ws.merge_range(0, 3, 0, 4, "Документи", &plain).unwrap();
        ws.merge_range(0, 5, 1, 5, "Населений пункт", &plain)
            .unwrap();
        ws.merge_range(0, 6, 1, 6, "Категорія пільги", &plain)
            .unwrap();
        ws.merge_range(
            0,
            7,
            1,
            7,
            "Середньомісячний дохід за останні 6 місяців, грн",
            &plain,
        )
        .unwrap();
        write_row(
            ws,
            1,
            &[
                "Прізвище",
                "Ім'я",
                "Дата народження",
                "Паспорт (серія, номер) / ID-картка",
                "РНОКПП",
            ],
        );
        for (i, (settlement, code)) in [("с. Кочережки", BOHDANIVKA), ("Тернівка", TERNIVKA)]
            .into_iter()
            .enumerate()
        {
            let born = format!("0{}.1{}.1955", i + 1, m);
            let t = tax(&born, Sex::Male, 300 + 10 * m as u16 + i as u16);
            write_row(
                ws,
                2 + i as u32,
                &[
                    "Гнатюк",
                    "Олег",
                    &born,
                    &format!("ВМ1234{m}{i}"),
                    &t,
                    settlement,
                    "Пенсіонер за віком",
                    "2900,00",
                ],
            );
            expected.push((t, code));
        }
    }
    let path = h.work.join("cnap.xlsx");
    wb.save(&path).unwrap();
    (path.to_str().unwrap().to_string(), expected)
}

#[test]
fn a_two_row_header_and_a_settlement_column_are_read() {
    let h = Home::new();
    let (file, expected) = cnap(&h);
    let r = import(&h, &[], &[&file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (v["read"].as_u64(), v["inserted"].as_u64()),
        (Some(4), Some(4)),
        "{}",
        r.stderr
    );
    for (t, code) in &expected {
        assert_eq!(community_of(&h, t).as_deref(), Some(*code), "{t}");
    }
    let income: i64 = h.count("SELECT min(income_total) FROM people");
    assert_eq!(income, 290_000);
}

#[test]
fn a_file_with_no_way_to_find_the_community_is_refused_with_what_to_pass() {
    let h = Home::new();
    std::fs::write(
        h.work.join("plain.csv"),
        "ПІБ;Дата народження;Стать;РНОКПП;Категорія\nБондар Олексій Вікторович;14.11.1975;ч;2771109178;УБД\n",
    )
    .unwrap();
    let r = import(&h, &[], &["plain.csv"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("plain.csv: nothing says which community"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--community CODE"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
    let r = import(&h, &["--community", "Вербки"], &["plain.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(community_of(&h, "2771109178").as_deref(), Some(VERBKY));
    let r = import(&h, &["--community", "Харків"], &["plain.csv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--community \"Харків\": not a community of kartka.toml"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_empty_community_cell_is_refused_unless_the_file_names_the_community() {
    let h = Home::new();
    std::fs::write(
        h.work.join("gaps.csv"),
        "ПІБ;Дата народження;РНОКПП;Категорія;Громада;Населений пункт\n\
         Бондар Олексій Вікторович;14.11.1975;2771109178;УБД;;\n\
         Мельник Іван Степанович;20.07.1955;2028901214;УБД;;Павлоградський р-н\n\
         Ткаченко Олена Петрівна;15.03.1950;1833601200;УБД;;с. Морозівське\n\
         Коваль Ніна Петрівна;08.08.1952;1921340507;УБД;;с.  Петрівка\n",
    )
    .unwrap();
    let r = import(&h, &["--dry-run"], &["gaps.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["rejected"], 3, "{}", r.stderr);
    for words in [
        &[
            "row 2: column E \"Громада\": empty; no community in the row or in the sheet's name",
            "pass --community CODE",
        ][..],
        &[
            "row 3: column F \"Населений пункт\": \"Павлоградський р-н\": «Павлоградський р-н» is a district or region, not a community",
        ][..],
    ] {
        assert!(
            r.stderr
                .lines()
                .any(|l| words.iter().all(|w| l.contains(w))),
            "{words:?} in\n{}",
            r.stderr
        );
    }
    let r = import(&h, &["--community", TERNIVKA], &["gaps.csv"]);
    assert_eq!(r.json()["inserted"], 2, "{}", r.stderr);
    assert_eq!(community_of(&h, "2771109178").as_deref(), Some(TERNIVKA));
    assert_eq!(
        community_of(&h, "1833601200").as_deref(),
        Some(VERBKY),
        "the row's settlement comes first"
    );
    assert_eq!(
        community_of(&h, "2028901214"),
        None,
        "a district is refused whatever the file says"
    );
}

#[test]
fn a_sheet_of_drop_down_lists_beside_the_applicants_is_skipped_not_the_whole_file() {
    let h = Home::new();
    let (_, expected) = partners(&h);
    // The office's workbook also holds the lists its drop-downs draw on:
    // columns named as fields, but no names, dates or identities.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Заяви").unwrap();
    write_row(
        ws,
        0,
        &[
            "№",
            "Прізвище",
            "Ім'я",
            "По батькові",
            "Дата народження",
            "РНОКПП",
            "Категорія",
            "Дохід, грн",
            "Громада",
        ],
    );
    let (t, code) = &expected[0];
    write_row(
        ws,
        1,
        &[
            "1",
            "Мельник",
            "Олена",
            "Петрівна",
            "11.03.1950",
            t,
            "Пенсіонер за віком",
            "3000",
            "Тернівська громада",
        ],
    );
    let lists = wb.add_worksheet().set_name("Довідники").unwrap();
    write_row(lists, 0, &["Категорія", "Стать", "Громада"]);
    write_row(lists, 1, &["Пенсіонер за віком", "ч", "Тернівська громада"]);
    write_row(
        lists,
        2,
        &["Особа з інвалідністю I групи", "ж", "Вербківська громада"],
    );
    let path = h.work.join("with-lists.xlsx");
    wb.save(&path).unwrap();
    let r = import(&h, &[], &[path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 1, "{}", r.stderr);
    assert_eq!(community_of(&h, t).as_deref(), Some(*code));
    assert!(
        r.stderr.contains("sheet \"Довідники\"") && r.stderr.contains("not an applicant list"),
        "{}",
        r.stderr
    );
    // Asked for by name, the same sheet is the error it is.
    let r = import(&h, &["--sheet", "Довідники"], &[path.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("lacks required column(s)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_cell_merged_down_over_siblings_gives_each_row_its_value() {
    let h = Home::new();
    // A school's list: the family's address and category merged down over
    // two brothers' rows, the title merged across; the third pupil's
    // address cell is empty and merged with nothing.
    let kids = [
        ("Бойко Андрій Петрович", "03.02.2014", "І-АП 123456"),
        ("Бойко Іван Петрович", "11.09.2016", "І-АП 654321"),
        ("Лисенко Марія Олегівна", "21.05.2015", "І-КИ 111222"),
    ];
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Багатодітні").unwrap();
    let plain = Format::new();
    ws.merge_range(0, 0, 0, 4, "Список учнів з багатодітних сімей", &plain)
        .unwrap();
    write_row(
        ws,
        1,
        &[
            "ПІБ",
            "Дата народження",
            "Свідоцтво про народження",
            "Адреса",
            "Категорія",
        ],
    );
    for (i, (name, born, cert)) in kids.iter().enumerate() {
        write_row(ws, 2 + i as u32, &[name, born, cert]);
    }
    ws.merge_range(2, 3, 3, 3, "м. Павлоград, вул. Шкільна, 5", &plain)
        .unwrap();
    ws.merge_range(2, 4, 3, 4, "дитина з багатодітної сім'ї", &plain)
        .unwrap();
    ws.write_string(4, 4, "дитина з багатодітної сім'ї")
        .unwrap();
    let path = h.work.join("school.xlsx");
    wb.save(&path).unwrap();
    let r = import(&h, &[], &[path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 2, "{}", r.stderr);
    assert_eq!(r.json()["rejected"], 1, "{}", r.stderr);
    let stored: Vec<(String, String)> = h
        .db()
        .prepare("SELECT passport, community FROM people ORDER BY passport")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        stored,
        [
            ("I-АП123456".to_string(), CITY.to_string()),
            ("I-АП654321".to_string(), CITY.to_string())
        ]
    );
    // The pupil with no address is refused, never given the family's.
    assert!(r.stderr.contains("row 5"), "{}", r.stderr);
}

#[test]
fn libreoffices_merged_down_cells_read_alike_in_xlsx_xls_and_ods() {
    for file in [
        "school-merged.xlsx",
        "school-merged.xls",
        "school-merged.ods",
    ] {
        let h = Home::new();
        let path = h.work.join("fixtures/intake/merged").join(file);
        let r = import(&h, &[], &[path.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        assert_eq!(r.json()["inserted"], 2, "{file}: {}", r.stderr);
        assert_eq!(r.json()["rejected"], 1, "{file}: {}", r.stderr);
        assert_eq!(
            h.count("SELECT count(*) FROM people WHERE community = 'UA12120130000022766' AND categories LIKE '%large-family-child%'"),
            2,
            "{file}"
        );
    }
}

/// fixtures/intake/offices/osbb-residents-2026-12.csv (written by hand): a
/// condominium's list that names its community only in its title, a category
/// column headed by the disability group «по зору», one column for a
/// document's series and number (a lower-case passport, an ID card with its
/// УНЗР, a child's birth certificate), and the list's date under the rows.
const OSBB: &str = "fixtures/intake/offices/osbb-residents-2026-12.csv";

#[test]
fn a_list_that_names_its_community_only_in_its_title_is_read_with_a_warning() {
    let h = Home::new();
    let r = import(&h, &[], &[OSBB]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (&v["read"], &v["inserted"], &v["rejected"]),
        (&4.into(), &4.into(), &0.into()),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "warning: {OSBB}, sheet \"\", row 1: the rows that name no community are taken as {CITY}, which the title names: \"ОСББ «Злагода», м. Павлоград, вул. Шевченка, 3\"; pass --community CODE if they live elsewhere"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "{OSBB}, row 8: skipped: not an applicant: the list's date"
        )),
        "{}",
        r.stderr
    );
    let stored = |h: &Home, surname: &str, given: &str| -> String {
        h.db()
            .query_row(
                "SELECT community || ' ' || categories || ' ' || coalesce(passport, '-') FROM people
                  WHERE surname = ?1 AND given_name = ?2",
                [surname, given],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{surname} {given}: {e}"))
    };
    for (surname, given, expected) in [
        ("Гончар", "Олег", format!("{CITY} disability-2 -")),
        ("Гончар", "Ніна", format!("{CITY} disability-1 АМ123456")),
        ("Мороз", "Ігор", format!("{CITY} disability-3 001234567")),
        (
            "Кравець",
            "Артем",
            format!("{CITY} child-disability I-КИ123456"),
        ),
    ] {
        assert_eq!(stored(&h, surname, given), expected, "{surname} {given}");
    }
    // The file's --community outweighs its title.
    let h = Home::new();
    let r = import(&h, &["--community", "Вербки"], &[OSBB]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("which the title names"), "{}", r.stderr);
    assert_eq!(stored(&h, "Гончар", "Ніна").split(' ').next(), Some(VERBKY));
}

/// A title is about the office: where the rows have an address column
/// («Зареєстрований(а) за адресою»), an address that names no settlement
/// is refused, whatever village the title names.
#[test]
fn a_title_never_fills_in_an_address_that_names_no_settlement() {
    let h = Home::new();
    let born = "05.05.1950";
    let (a, b) = (tax(born, Sex::Male, 11), tax(born, Sex::Male, 12));
    std::fs::write(
        h.work.join("starosta.csv"),
        format!(
            "Староста с. Кочережки,,,,\nПІБ,Дата народження,РНОКПП,Зареєстрований(а) за адресою,Пільга\n\
             Левченко Іван Петрович,{born},{a},\"с. Богданівка, вул. Миру, 5\",інвалід 1 групи\n\
             Левченко Петро Іванович,{born},{b},\"вул. Миру, 7\",інвалід 1 групи\n"
        ),
    )
    .unwrap();
    let r = import(&h, &[], &["starosta.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(community_of(&h, &a).as_deref(), Some(BOHDANIVKA));
    assert_eq!(community_of(&h, &b), None);
    assert!(
        r.stderr.contains(
            "row 4: column D \"Зареєстрований(а) за адресою\": «вул. Миру, 7» — немає населеного пункту"
        ) || r.stderr.contains("row 4: column D \"Зареєстрований(а) за адресою\": \"вул. Миру, 7\" names no settlement"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("which the title names"), "{}", r.stderr);
}

#[test]
fn the_columns_report_names_the_title_a_community_is_taken_from() {
    let h = Home::new();
    let r = h.kartka(&["--json", "import", "applicants", "--columns", OSBB]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let sheet = &v["sheets"][0];
    let fields: Vec<&str> = sheet["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        fields[7..],
        ["passport", "category", "income"],
        "{fields:?}"
    );
    assert_eq!(
        sheet["community_from"][0].as_str(),
        Some(
            "the title (row 1) \"ОСББ «Злагода», м. Павлоград, вул. Шевченка, 3\": «Павлоградська міська територіальна громада» (UA12120130000022766)"
        ),
        "{sheet}"
    );
}

/// fixtures/intake/offices/union-pensioners-2026-12.csv (written by hand): a
/// trade union's list headed «ПІП» and «Число, місяць, рік народження»,
/// addresses with their parts parted by slashes, a passport with who issued
/// it, and pensions an accountant writes «3 987-40».
const UNION: &str = "fixtures/intake/offices/union-pensioners-2026-12.csv";

#[test]
fn a_union_list_with_slashed_addresses_and_dashed_kopecks_is_read() {
    let h = Home::new();
    let r = import(&h, &[], &[UNION]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (&v["read"], &v["inserted"], &v["rejected"]),
        (&3.into(), &2.into(), &1.into()),
        "{}",
        r.stderr
    );
    let row = |passport_or_tax: &str| -> String {
        h.db()
            .query_row(
                "SELECT birth_date || ' ' || community || ' ' || coalesce(income_pension, income_total)
                   FROM people WHERE tax_number = ?1 OR passport = ?1",
                [passport_or_tax],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{passport_or_tax}: {e}"))
    };
    assert_eq!(row("2016244110"), format!("1955-03-15 {TERNIVKA} 398740"));
    assert_eq!(row("АК123456"), format!("1958-02-02 {BOHDANIVKA} 421500"));
    assert!(
        r.stderr.contains(
            "row 7: column F \"Місце проживання (прописка)\": \"Дніпропетровська обл./Павлоградський р-н\": «Дніпропетровська обл.» is a district or region, not a community"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE passport = 'АК123457'"),
        0
    );
}

/// A header no name kartka knows («Хто звертається», «Підстава») over a
/// column whose values are plainly the people's names or the scheme's
/// categories: read by its values, said as a warning with the command that
/// teaches the header; a column whose values say nothing stays the error.
#[test]
fn a_required_column_under_an_unknown_header_is_read_by_its_values() {
    let h = Home::new();
    let born = ["12.03.1951", "05.01.1960", "14.10.1954"];
    let taxes: Vec<String> = born
        .iter()
        .enumerate()
        .map(|(i, b)| tax(b, Sex::Female, 20 + i as u16))
        .collect();
    let body: String = [
        "Іваненко Марія Петрівна",
        "Коваль Ольга Іванівна",
        "Бойко Ганна Сергіївна",
    ]
    .iter()
    .zip(&born)
    .zip(&taxes)
    .zip(["інвалід 2 групи", "І група", "ІІ гр."])
    .map(|(((name, b), t), cat)| format!("{name};{b};{t};;{cat}\n"))
    .collect();
    std::fs::write(
        h.work.join("list.csv"),
        format!("Хто звертається;Дата народження;РНОКПП;Телефон;Підстава\n{body}"),
    )
    .unwrap();
    let r = import(&h, &["--community", "Павлоград"], &["list.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 3, "{}", r.stderr);
    for said in [
        "warning: list.csv: column A \"Хто звертається\": no header kartka knows, but its values are the full_name (\"Іваненко Марія Петрівна\", \"Коваль Ольга Іванівна\"); read as the full_name. If that is right, teach the header once: kartka vocab add header \"Хто звертається\" full_name",
        "warning: list.csv: column E \"Підстава\": no header kartka knows, but its values are the category (\"інвалід 2 групи\", \"І група\"); read as the category.",
    ] {
        assert!(r.stderr.contains(said), "{said}\n{}", r.stderr);
    }
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE categories IN ('disability-1', 'disability-2')"),
        3
    );
    let map = h.kartka(&[
        "--json",
        "import",
        "applicants",
        "--columns",
        "--community",
        "Павлоград",
        "list.csv",
    ]);
    let column = &map.json()["sheets"][0]["columns"][0];
    assert_eq!(
        (&column["field"], &column["by_values"]),
        (&"full_name".into(), &true.into()),
        "{}",
        map.stdout
    );
    // Values that are no category: the header is still asked for.
    std::fs::write(
        h.work.join("other.csv"),
        format!(
            "ПІБ;Дата народження;РНОКПП;Підстава\nІваненко Марія Петрівна;12.03.1951;{};воїн-афганець\n\
             Коваль Ольга Іванівна;05.01.1960;{};воїн-афганець\nБойко Ганна Сергіївна;14.10.1954;{};вдова\n",
            taxes[0], taxes[1], taxes[2]
        ),
    )
    .unwrap();
    let r = import(&h, &["--community", "Павлоград"], &["other.csv"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("lacks required column(s): category"),
        "{}",
        r.stderr
    );
}

/// A visitors' journal: the passport and the tax number in one cell under
/// «Документи (паспорт; РНОКПП)», in either order; the given name and the
/// patronymic in one column beside the surname's; a remark beside the
/// category; a clerk's initials and surname under the rows.
#[test]
fn a_passport_and_a_tax_number_in_one_cell_are_both_read() {
    let h = Home::new();
    let (a, b) = (
        tax("12.03.1951", Sex::Female, 31),
        tax("05.01.1960", Sex::Male, 32),
    );
    std::fs::write(
        h.work.join("journal.csv"),
        format!(
            "Прізвище;Ім'я та по батькові;Дата народження;\"Документи (паспорт; РНОКПП)\";Населений пункт;Категорія\n\
             Кириленко;Зінаїда Федорівна;12.03.1951;\"АК 123456; {a}\";м. Павлоград;ІІ гр., загальне захворювання\n\
             Семенов;Григорій Олексійович;05.01.1960;{b}, паспорт МЕ 654321;с. Вербки;інвалід 1 групи\n\
             Секретар;;;;;Л.М. Дуднік\n"
        ),
    )
    .unwrap();
    let r = import(&h, &[], &["journal.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (&v["inserted"], &v["rejected"]),
        (&2.into(), &0.into()),
        "{}",
        r.stderr
    );
    let got: String = h
        .db()
        .query_row(
            "SELECT group_concat(given_name || ' ' || patronymic || ' ' || coalesce(passport, '-') || ' ' || tax_number || ' ' || categories, ' | ')
               FROM (SELECT * FROM people ORDER BY surname)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        got,
        format!(
            "Зінаїда Федорівна АК123456 {a} disability-2 | Григорій Олексійович МЕ654321 {b} disability-1"
        )
    );
    assert!(
        r.stderr
            .contains("skipped: not an applicant: a signature line"),
        "{}",
        r.stderr
    );
}
