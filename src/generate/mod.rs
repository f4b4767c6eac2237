//! Synthetic applicants at scale, for tests, the demo and benchmarks:
//! realistic Ukrainian names, valid tax numbers consistent with birth date
//! and sex, categories, incomes around the limit, residents of partner
//! communities, and an optional share of bad rows of known kinds.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub mod history;
pub mod month;
pub mod registry;

use crate::config::Config;
use crate::identity::{self, Sex};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: cannot write: {detail}.\n  Check the folder exists and is writable; use .xlsx or .csv."
    )]
    Write { path: PathBuf, detail: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::Error),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Write { .. } => ExitCode::CantCreate,
            Error::Registry(e) => e.exit_code(),
            Error::Fleet(e) => e.exit_code(),
            Error::Taps(e) => e.exit_code(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub count: usize,
    pub out: PathBuf,
    /// Share of rows (0.0–1.0) made bad on purpose.
    pub bad_share: f64,
    pub seed: u64,
    /// Taken as "today" for ages.
    pub today: NaiveDate,
    /// Write a synthetic portrait per applicant into this folder and name
    /// it in the "Фото" column.
    pub photos: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GenerateSummary {
    pub rows: usize,
    pub bad_rows: usize,
    pub out: PathBuf,
}

const SURNAMES: &[&str] = &[
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Шевчук",
    "Поліщук",
    "Бойко",
    "Мельник",
    "Ткачук",
    "Савченко",
    "Руденко",
    "Петренко",
    "Марченко",
    "Лисенко",
    "Кузьменко",
    "Мороз",
    "Павленко",
    "Гончаренко",
    "Клименко",
    "Дем'яненко",
    "Лук'яненко",
    "Кириленко",
    "Сидоренко",
    "Гриценко",
    "Левченко",
    "Карпенко",
    "Василенко",
    "Литвиненко",
    "Остапенко",
    "Пономаренко",
    "Юрченко",
    "Гаврилюк",
    "Білоус",
    "Приходько",
    "Кучер",
    "Тимошенко",
    "Захарченко",
    "Собко",
];
const MALE_NAMES: &[(&str, &str, &str)] = &[
    ("Іван", "Іванович", "Іванівна"),
    ("Петро", "Петрович", "Петрівна"),
    ("Микола", "Миколайович", "Миколаївна"),
    ("Василь", "Васильович", "Василівна"),
    ("Олександр", "Олександрович", "Олександрівна"),
    ("Сергій", "Сергійович", "Сергіївна"),
    ("Володимир", "Володимирович", "Володимирівна"),
    ("Михайло", "Михайлович", "Михайлівна"),
    ("Андрій", "Андрійович", "Андріївна"),
    ("Григорій", "Григорович", "Григорівна"),
    ("Юрій", "Юрійович", "Юріївна"),
    ("Віктор", "Вікторович", "Вікторівна"),
    ("Анатолій", "Анатолійович", "Анатоліївна"),
    ("Богдан", "Богданович", "Богданівна"),
];
const FEMALE_NAMES: &[&str] = &[
    "Олена",
    "Наталія",
    "Тетяна",
    "Ірина",
    "Світлана",
    "Людмила",
    "Галина",
    "Ганна",
    "Марія",
    "Оксана",
    "Валентина",
    "Надія",
    "Любов",
    "Ольга",
    "Катерина",
    "Мар'яна",
];

/// (category name as clerks write it, weight, age range)
const CATEGORIES: &[(&str, u32, (i64, i64))] = &[
    ("Пенсіонер за віком", 40, (60, 95)),
    ("Пенсіонер (інший вид пенсії)", 8, (45, 80)),
    ("Особа з інвалідністю III групи", 10, (25, 80)),
    ("Особа з інвалідністю II групи", 8, (20, 85)),
    ("Особа з інвалідністю I групи", 4, (20, 85)),
    ("Учасник бойових дій", 12, (20, 70)),
    ("Особа з інвалідністю внаслідок війни", 3, (22, 70)),
    ("Постраждалий від ЧАЕС, 1 категорія", 2, (40, 85)),
    ("Ліквідатор ЧАЕС, 2 категорія", 3, (55, 90)),
    ("Дитина з інвалідністю", 4, (3, 17)),
    ("Дитина з багатодітної сім'ї", 6, (6, 17)),
];

const HEADERS: [&str; 18] = [
    "Прізвище",
    "Ім'я",
    "По батькові",
    "Дата народження",
    "Стать",
    "РНОКПП",
    "Паспорт",
    "Посвідчення",
    "Телефон",
    "E-mail",
    "Категорія пільги",
    "Громада",
    "Пенсія, грн",
    "Заробітна плата, грн",
    "Соціальна допомога, грн",
    "Дата заяви",
    "Документи",
    "Фото",
];

/// The kinds of bad row the generator makes.
const BAD_KINDS: [&str; 5] = [
    "tax-check-digit",
    "unknown-category",
    "income-missing",
    "birth-date",
    "passport",
];

struct Row {
    cells: [String; 18],
    birth_date: Option<NaiveDate>,
    application_date: NaiveDate,
}

/// Serial numbers already used per birth date, so that no two generated
/// people share a tax number.
type Serials = std::collections::HashMap<NaiveDate, u16>;

fn make_row(
    rng: &mut ChaCha8Rng,
    serials: &mut Serials,
    i: usize,
    bad: Option<&str>,
    opts: &GenerateOptions,
    communities: &[String],
    limit_uah: i64,
) -> Row {
    let male = rng.random_bool(0.45);
    let sex = if male { Sex::Male } else { Sex::Female };
    let weights: u32 = CATEGORIES.iter().map(|c| c.1).sum();
    let mut pick = rng.random_range(0..weights);
    let mut cat = CATEGORIES[0];
    for c in CATEGORIES {
        if pick < c.1 {
            cat = *c;
            break;
        }
        pick -= c.1;
    }
    let age_days = rng.random_range(cat.2.0 * 365..cat.2.1 * 365 + 364);
    let birth = opts.today - Duration::days(age_days);
    let surname = SURNAMES.choose(rng).copied().unwrap_or("Шевченко");
    let (given, patronymic) = {
        let father = MALE_NAMES.choose(rng).copied().unwrap_or(MALE_NAMES[0]);
        if male {
            (
                MALE_NAMES
                    .choose(rng)
                    .copied()
                    .unwrap_or(MALE_NAMES[0])
                    .0
                    .to_string(),
                father.1.to_string(),
            )
        } else {
            (
                FEMALE_NAMES
                    .choose(rng)
                    .copied()
                    .unwrap_or("Олена")
                    .to_string(),
                father.2.to_string(),
            )
        }
    };
    let serial = serials.entry(birth).or_insert(0);
    *serial += 1;
    let mut tax = identity::make_tax_number(birth, sex, *serial).unwrap_or_default();
    let letters = ["АВ", "ВК", "КН", "МЕ", "СО", "ТТ", "АН"];
    let mut passport = if cat.2.1 < 18 {
        String::new()
    } else if rng.random_bool(0.5) {
        format!(
            "{}{:06}",
            letters.choose(rng).copied().unwrap_or("АВ"),
            i % 1_000_000
        )
    } else {
        format!("{:09}", 100_000_000 + i)
    };
    let phone = format!(
        "0{}{:07}",
        ["67", "50", "97", "63", "66", "95"]
            .choose(rng)
            .copied()
            .unwrap_or("67"),
        rng.random_range(0..10_000_000)
    );
    let email = if rng.random_bool(0.3) {
        format!("user{i}@ukr.net")
    } else {
        String::new()
    };
    let mut category = cat.0.to_string();
    let tested = matches!(
        cat.0,
        "Пенсіонер за віком" | "Пенсіонер (інший вид пенсії)" | "Особа з інвалідністю III групи"
    );
    // Income around the limit: most under it, some over, a few exactly at it.
    let mut pension = String::new();
    let mut salary = String::new();
    if tested {
        let around = limit_uah * 100 + rng.random_range(-150_000..60_000);
        let around = if rng.random_bool(0.02) {
            limit_uah * 100
        } else {
            around
        };
        if rng.random_bool(0.2) {
            let part = around / 3;
            salary = kopecks_text(part);
            pension = kopecks_text(around - part);
        } else {
            pension = kopecks_text(around);
        }
    }
    let mut aid = if !tested && rng.random_bool(0.1) {
        kopecks_text(rng.random_range(50_000..200_000))
    } else {
        String::new()
    };
    let community = if rng.random_bool(0.85) || communities.len() < 2 {
        communities[0].clone()
    } else {
        communities[1 + rng.random_range(0..communities.len() - 1)].clone()
    };
    let mut birth_text = None;
    match bad {
        Some("tax-check-digit") => {
            let last = tax.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
            tax.push(char::from_digit((last + 3) % 10, 10).unwrap_or('0'));
        }
        Some("unknown-category") => category = "Почесний донор".into(),
        Some("income-missing") => {
            category = "Пенсіонер за віком".into();
            pension.clear();
            salary.clear();
            aid.clear();
        }
        Some("birth-date") => birth_text = Some("31.02.1950".to_string()),
        Some("passport") => passport = "АВ12345".into(),
        _ => {}
    }
    // P4: what the applicant handed in besides passport, tax number and
    // benefit certificate; one in twenty forgot something.
    let documents = if rng.random_bool(0.05) {
        String::new()
    } else if cat.2.1 < 18 {
        "свідоцтво про народження".to_string()
    } else if tested || cat.0.contains("інвалідністю") && !cat.0.contains("війни")
    {
        "пенсійне посвідчення".to_string()
    } else {
        String::new()
    };
    let application_date = opts.today - Duration::days(rng.random_range(0..60));
    Row {
        cells: [
            surname.to_string(),
            given,
            patronymic,
            birth_text
                .clone()
                .unwrap_or_else(|| birth.format("%d.%m.%Y").to_string()),
            if male { "ч".into() } else { "ж".into() },
            tax,
            passport,
            format!(
                "{}-{:06}",
                ["ПП", "УБД", "МСЕК", "ЧАЕС"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("ПП"),
                i % 1_000_000
            ),
            phone,
            email,
            category,
            community,
            pension,
            salary,
            aid,
            application_date.format("%d.%m.%Y").to_string(),
            documents,
            String::new(),
        ],
        birth_date: if birth_text.is_some() {
            None
        } else {
            Some(birth)
        },
        application_date,
    }
}

/// The photo as the spreadsheet names it: relative to the spreadsheet's
/// folder when it lies inside it.
fn photo_cell(out: &Path, photo: &Path) -> String {
    let base = out.parent().unwrap_or(Path::new(""));
    photo
        .strip_prefix(base)
        .unwrap_or(photo)
        .display()
        .to_string()
}

/// A synthetic 600 × 800 passport-style portrait, different for every `i`:
/// a plain background, a face and shoulders, in varying tones.
fn write_portrait(dir: &Path, i: usize, seed: u64) -> Result<PathBuf, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (w, h) = (600u32, 800u32);
    let bg = [
        rng.random_range(180..240u8),
        rng.random_range(190..240),
        rng.random_range(200..250),
    ];
    let skin = [
        rng.random_range(170..235u8),
        rng.random_range(130..190),
        rng.random_range(100..160),
    ];
    let cloth = [
        rng.random_range(20..120u8),
        rng.random_range(20..120),
        rng.random_range(20..140),
    ];
    let (cx, cy) = (
        300.0 + rng.random_range(-30.0..30.0),
        330.0 + rng.random_range(-30.0..30.0),
    );
    let (rx, ry) = (
        rng.random_range(110.0..140.0),
        rng.random_range(150.0..180.0),
    );
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f64, y as f64);
        let face = ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2) <= 1.0;
        let body = fy > cy + ry * 0.8 && (fx - cx).abs() < 260.0 - (h as f64 - fy) * 0.3;
        let noise = ((x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ i as u32) % 9) as u8;
        let c = if face {
            skin
        } else if body {
            cloth
        } else {
            bg
        };
        image::Rgb([
            c[0].saturating_add(noise),
            c[1].saturating_add(noise),
            c[2].saturating_add(noise),
        ])
    });
    let path = dir.join(format!("p{i:07}.jpg"));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&img)
        .map_err(|e| e.to_string())?;
    crate::private::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// An amount as a clerk types it in a Ukrainian spreadsheet: `1234,56`.
fn kopecks_text(k: i64) -> String {
    crate::money::decimal(k).replace('.', ",")
}

/// Writes `count` synthetic applicants to an .xlsx or .csv file.
pub fn applicants(config: &Config, opts: &GenerateOptions) -> Result<GenerateSummary, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let communities: Vec<String> = std::iter::once(&config.city.community)
        .chain(
            config
                .communities
                .iter()
                .filter(|c| c.partner)
                .map(|c| &c.code),
        )
        .filter_map(|code| config.community(code))
        .map(|c| c.aliases.first().cloned().unwrap_or_else(|| c.name.clone()))
        .collect();
    let limit = config
        .income_limit_on(opts.today)
        .map_or(4660, |l| l.limit_uah);
    let write_err = |detail: String| Error::Write {
        path: opts.out.clone(),
        detail,
    };
    let mut bad_rows = 0;
    let mut serials = Serials::new();
    let mut photo_error: Option<String> = None;
    if let Some(dir) = &opts.photos {
        std::fs::create_dir_all(dir).map_err(|e| Error::Write {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
    }
    let mut rows = (0..opts.count).map(|i| {
        let bad = if rng.random_bool(opts.bad_share.clamp(0.0, 1.0)) {
            bad_rows += 1;
            Some(BAD_KINDS[i % BAD_KINDS.len()])
        } else {
            None
        };
        let mut row = make_row(&mut rng, &mut serials, i, bad, opts, &communities, limit);
        if let Some(dir) = &opts.photos {
            match write_portrait(dir, i, opts.seed) {
                Ok(path) => row.cells[17] = photo_cell(&opts.out, &path),
                Err(e) => {
                    photo_error.get_or_insert(e);
                }
            }
        }
        row
    });
    let ext = opts
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx") => write_xlsx(&opts.out, &mut rows).map_err(|e| write_err(e.to_string()))?,
        Some("csv") => write_csv(&opts.out, &mut rows).map_err(|e| write_err(e.to_string()))?,
        _ => return Err(write_err("unknown file type".into())),
    }
    drop(rows);
    if let (Some(e), Some(dir)) = (photo_error, &opts.photos) {
        return Err(Error::Write {
            path: dir.clone(),
            detail: e,
        });
    }
    Ok(GenerateSummary {
        rows: opts.count,
        bad_rows,
        out: opts.out.clone(),
    })
}

fn write_xlsx(
    path: &Path,
    rows: &mut dyn Iterator<Item = Row>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let date_format = Format::new().set_num_format("dd.mm.yyyy");
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name("Заяви")?;
    sheet.write_string(
        0,
        0,
        "Реєстр заяв на отримання електронного пільгового квитка",
    )?;
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(2, c as u16, *h)?;
    }
    for (i, row) in rows.enumerate() {
        let r = 3 + i as u32;
        for (c, value) in row.cells.iter().enumerate() {
            let c = c as u16;
            match (c, row.birth_date) {
                (3, Some(b)) => {
                    sheet.write_datetime_with_format(r, c, &excel_date(b)?, &date_format)?;
                }
                (15, _) => {
                    sheet.write_datetime_with_format(
                        r,
                        c,
                        &excel_date(row.application_date)?,
                        &date_format,
                    )?;
                }
                _ if value.is_empty() => {}
                _ => {
                    sheet.write_string(r, c, value)?;
                }
            }
        }
    }
    crate::xlsx::save(&mut book, path, crate::private::Mode::Private)
}

fn excel_date(d: NaiveDate) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn write_csv(path: &Path, rows: &mut dyn Iterator<Item = Row>) -> std::io::Result<()> {
    let mut file = crate::private::NewFile::create(path, crate::private::Mode::Private)?;
    std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
    w.write_record(HEADERS)?;
    for row in rows {
        w.write_record(&row.cells)?;
    }
    w.into_inner().map_err(|e| e.into_error())?.commit()
}
