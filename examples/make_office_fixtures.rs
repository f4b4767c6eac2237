//! Writes the office-style fixtures that commands/import.md imports
//! (fixtures/intake/offices/): a city office's register as CSV, with the
//! address of registration, a row of column numbers, section headings,
//! totals and signatures; and a partner communities' workbook with a sheet
//! per community and no community column. Deterministic: re-run it after
//! editing, never edit the files by hand.
//!
//!     cargo run --example make_office_fixtures

use chrono::NaiveDate;
use kartka::identity::{Sex, make_tax_number};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

const DIR: &str = "fixtures/intake/offices";

fn tax(born: &str, sex: Sex, serial: u16) -> String {
    let d = NaiveDate::parse_from_str(born, "%d.%m.%Y").expect("a date");
    make_tax_number(d, sex, serial).expect("a tax number")
}

fn city_register() -> String {
    let mut lines = vec![
        "Реєстр осіб, які мають право на пільговий проїзд, листопад 2026;;;;;;;".to_string(),
        "№ з/п;П.І.Б.;Дата народження;РНОКПП;Паспорт серія;Паспорт номер;Адреса реєстрації;Категорія пільги;Сума доходу (пенсії), грн".to_string(),
        "1;2;3;4;5;6;7;8;9".to_string(),
        "Розділ 1. Місто;;;;;;;;".to_string(),
    ];
    let people = [
        (
            "Коваленко Марія Іванівна",
            "14.03.1952",
            Sex::Female,
            "м. Павлоград, вул. Соборна, 12, кв. 4",
        ),
        (
            "Литвин Олег Петрович",
            "09.05.1950",
            Sex::Male,
            "м.Павлоград, вул. Дніпровська, 7",
        ),
    ];
    let partners = [
        (
            "Шевчук Петро Миколайович",
            "02.11.1949",
            Sex::Male,
            "с. Богданівка, вул. Миру, 45",
        ),
        (
            "Мороз Іван Степанович",
            "05.01.1950",
            Sex::Male,
            "Дніпропетровська обл., Павлоградський р-н, с. Благодатне, вул. Садова, 8",
        ),
        (
            "Гончар Віра Павлівна",
            "08.08.1952",
            Sex::Female,
            "с. Петрівка, вул. Миру, 1",
        ),
        (
            "Бойко Андрій Іванович",
            "11.12.1948",
            Sex::Male,
            "Павлоградський р-н, вул. Миру, 5",
        ),
    ];
    let mut n = 0;
    let mut row = |lines: &mut Vec<String>, (name, born, sex, address): (&str, &str, Sex, &str)| {
        n += 1;
        let t = tax(born, sex, 400 + n);
        lines.push(format!(
            "{n};{name};{born};{t};АК;{:06};\"{address}\";Пенсіонер за віком;3120,50",
            482_900 + u32::from(n)
        ));
    };
    for p in people {
        row(&mut lines, p);
    }
    lines.push(";Разом по розділу:;2;;;;;;".into());
    lines.push("Розділ 2. Партнерські громади;;;;;;;;".into());
    for p in partners {
        row(&mut lines, p);
    }
    lines.push(";Разом по розділу:;4;;;;;;".into());
    lines.push("Всього;;;;;;;;6".into());
    lines.push(";;;;;;;;".into());
    lines.push(
        "Начальник управління соціального захисту населення;;____________;;О. П. Коваль;;;;".into(),
    );
    lines.push(";;(підпис);;(П.І.Б.);;;;".into());
    lines.push("М.П.;;;;;;;;".into());
    lines.join("\n") + "\n"
}

fn partners(path: &str) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let when = ExcelDateTime::from_ymd(2026, 11, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let sheets = [
        (
            "Тернівська МТГ",
            [
                ("Бондар", "Олена", "Петрівна", "11.03.1950", Sex::Female),
                ("Кравець", "Іван", "Олексійович", "04.07.1948", Sex::Male),
            ],
        ),
        (
            "Богданівська громада",
            [
                ("Руденко", "Ганна", "Іванівна", "23.09.1951", Sex::Female),
                ("Ярош", "Павло", "Сергійович", "15.02.1953", Sex::Male),
            ],
        ),
    ];
    let header = [
        "№",
        "Прізвище",
        "Ім'я",
        "По батькові",
        "Дата народження",
        "РНОКПП",
        "Категорія",
        "Дохід, грн",
    ];
    let mut serial = 500;
    for (name, people) in sheets {
        let ws = wb.add_worksheet().set_name(name)?;
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, *h)?;
        }
        for (i, (surname, given, patronymic, born, sex)) in people.into_iter().enumerate() {
            serial += 1;
            let r = 1 + i as u32;
            ws.write_number(r, 0, (i + 1) as f64)?;
            for (c, v) in [surname, given, patronymic, born].into_iter().enumerate() {
                ws.write_string(r, 1 + c as u16, v)?;
            }
            ws.write_string(r, 5, tax(born, sex, serial))?;
            ws.write_string(r, 6, "Пенсіонер за віком")?;
            ws.write_number(r, 7, 3000.0)?;
        }
        ws.write_string(3, 0, "Всього:")?;
        ws.write_number(3, 1, 2.0)?;
    }
    wb.save(path)
}

fn main() {
    std::fs::create_dir_all(DIR).expect("the fixtures folder");
    std::fs::write(format!("{DIR}/city-register-2026-11.csv"), city_register())
        .expect("the register");
    partners(&format!("{DIR}/partners-2026-11.xlsx")).expect("the partners' workbook");
}
