//! Applicant intake (`kartka import applicants`): read clerks' spreadsheets,
//! normalise and validate every row, upsert the good ones into the registry
//! and write the rest, with reasons, to a rejects file. Nothing is dropped:
//! `read = inserted + updated + unchanged + rejected`.

pub mod applicant;
pub mod cells;
pub mod columns;
pub mod community;
pub mod header;
pub mod isolate;
pub mod photo;
pub mod read;
mod rejects;
pub mod rows;
pub mod settings;
mod sniff;
pub mod store;
pub mod taught;
mod why;
mod xls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use applicant::{Applicant, COLUMNS, column_letter};
pub use header::{Field, Header, Synonyms, find_header};
pub use why::Why;

use crate::config::Config;
use crate::home::Home;
use crate::registry::{self, Registry};
use crate::vocab;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: no such file.\n  Check the path; nothing was imported.")]
    Missing { path: PathBuf },
    #[error(
        "{path}: cannot be read as a spreadsheet: {detail}.\n  Save it again as .xlsx, .ods or .csv; nothing was imported."
    )]
    Unreadable { path: PathBuf, detail: String },
    #[error(
        "{path}: not a spreadsheet (expected .xlsx, .xls, .ods or .csv).\n  Nothing was imported."
    )]
    NotASpreadsheet { path: PathBuf },
    #[error(
        "{path}{sheet}: no header row with applicant columns in the first 30 rows.\n  Expected headers such as \"Прізвище\", \"Дата народження\", \"РНОКПП\", \"Категорія пільги\"; nothing was imported."
    )]
    NoHeader { path: PathBuf, sheet: String },
    #[error(
        "{path}{sheet}: the header (row {row}) lacks required column(s): {missing}.\n  {columns}\n  Add the column, or if one holds it, teach its header once (`kartka vocab add header \"HEADER\" FIELD`); nothing was imported."
    )]
    MissingColumns {
        path: PathBuf,
        sheet: String,
        row: usize,
        missing: String,
        /// The columns found, then those not read with their nearest fields.
        columns: String,
    },
    #[error("{path}: no sheet named {sheet:?}; the sheets are: {names}.\n  Nothing was imported.")]
    NoSuchSheet {
        path: PathBuf,
        sheet: String,
        names: String,
    },
    #[error(
        "{path}: cannot write the rejects file: {source}.\n  Use --rejects PATH for a writable place; nothing was imported."
    )]
    Rejects {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: stopped after {read} rows: {rejected} of them were rejected, more than one run keeps (at most {max_rows} rows or {max_mb} MB of rejects).\n  Check that this is the file meant and that its columns are read as intended (`kartka import applicants --columns FILE`); fix it and import again. Nothing was imported."
    )]
    TooManyRejects {
        path: PathBuf,
        read: usize,
        rejected: usize,
        max_rows: usize,
        max_mb: u64,
    },
    #[error("{path}: cannot copy the photo into the home: {source}; nothing was imported.")]
    Photo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}{sheet}: nothing says which community the applicants live in: no community (\"Громада\"), settlement (\"Населений пункт\") or address (\"Адреса\") column, and the sheet's name names no community.\n  Pass the file's community: --community CODE (the city or a partner community in kartka.toml); nothing was imported."
    )]
    NoCommunity { path: PathBuf, sheet: String },
    #[error(
        "--community {given:?}: not a community of kartka.toml.\n  Expected one of: {known}; nothing was imported."
    )]
    UnknownCommunity { given: String, known: String },
    #[error(transparent)]
    Registry(#[from] registry::Error),
    /// `kartka vocab add`: what cannot be taught, and why.
    #[error("{0}.\n  Nothing was taught.")]
    Teach(String),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Missing { .. } => ExitCode::NoInput,
            Error::Unreadable { .. }
            | Error::NotASpreadsheet { .. }
            | Error::NoHeader { .. }
            | Error::MissingColumns { .. }
            | Error::NoSuchSheet { .. }
            | Error::NoCommunity { .. }
            | Error::TooManyRejects { .. } => ExitCode::DataErr,
            Error::UnknownCommunity { .. } | Error::Teach(_) => ExitCode::Usage,
            Error::Rejects { .. } | Error::Photo { .. } => ExitCode::CantCreate,
            Error::Registry(e) => e.exit_code(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub files: Vec<PathBuf>,
    pub sheet: Option<String>,
    pub rejects: Option<PathBuf>,
    pub dry_run: bool,
    pub operator: String,
    /// The community of rows that name none (`--community CODE`).
    pub community: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub read: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub warnings: usize,
    /// Rows that are not applicants (totals, headings, signatures…),
    /// skipped and never counted in `read`.
    pub skipped: usize,
    /// How many of each kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_kinds: BTreeMap<rows::NotApplicant, usize>,
    pub rejects_file: Option<PathBuf>,
    /// Every warning, with its place, in Ukrainian and English (P5: the
    /// clerk sees what was taken as what, and can correct it).
    pub warnings_file: Option<PathBuf>,
    /// The values taken as something they do not literally say.
    pub matched: Vec<MatchedAt>,
}

impl ImportSummary {
    fn skip(&mut self, kind: rows::NotApplicant) {
        self.skipped += 1;
        *self.skipped_kinds.entry(kind).or_default() += 1;
    }
}

/// A row read, or one that is not an applicant (most rows are read: a box
/// would cost an allocation per row for nothing).
#[allow(clippy::large_enum_variant)]
enum RowRead {
    Read(Result<applicant::Read, Vec<Why>>),
    Skip(rows::NotApplicant),
}

/// The file's `--community`, as its code; refused when it names no
/// configured community.
fn community_option(config: &Config, opts: &ImportOptions) -> Result<Option<String>, Error> {
    let Some(given) = &opts.community else {
        return Ok(None);
    };
    match config.community_vocabulary().find(given).code() {
        Some(code) => Ok(Some(code.to_string())),
        None => Err(Error::UnknownCommunity {
            given: given.clone(),
            known: known_communities(config),
        }),
    }
}

fn known_communities(config: &Config) -> String {
    config
        .communities
        .iter()
        .map(|c| format!("{} ({})", c.code, c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a column read by its values is taken as, and how to say so once.
fn by_values_warning(head: &Header, found: &sniff::ByValues) -> String {
    let name = head.names.get(found.column).map_or("", String::as_str);
    let examples: Vec<String> = found.examples.iter().map(|e| cells::quoted(e)).collect();
    format!(
        "column {} \"{name}\": no header kartka knows, but its values are the {} ({}); read as the {}. If that is right, teach the header once: kartka vocab add header \"{name}\" {}",
        applicant::column_letter(found.column),
        found.field.key(),
        examples.join(", "),
        found.field.key(),
        found.field.key(),
    )
}

/// Refuses a file with a sheet whose rows have no way to name their
/// community: no community, settlement or address column, no community in
/// the sheet's name, and no `--community`.
fn check_community(
    file: &Loaded,
    communities: &vocab::Vocabulary,
    option: Option<&str>,
) -> Result<(), Error> {
    if option.is_some() {
        return Ok(());
    }
    for (sheet, head) in &file.sheets {
        if !head.names_places()
            && community::of_sheet_or_title(&sheet.name, head, communities).is_none()
        {
            return Err(Error::NoCommunity {
                path: file.path.clone(),
                sheet: if sheet.name.is_empty() {
                    String::new()
                } else {
                    format!(", sheet \"{}\"", sheet.name)
                },
            });
        }
    }
    Ok(())
}

/// A matched variant and the row it is in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchedAt {
    pub file: String,
    pub sheet: String,
    pub row: usize,
    #[serde(flatten)]
    pub matched: applicant::Matched,
}

/// What the import tells the person running it, row by row.
#[derive(Debug, Clone)]
pub enum Notice {
    Skipped { place: String, why: String },
    Warning { place: String, text: String },
    Rejected { place: String, reason: String },
}

/// Reports progress over rows.
pub trait Progress {
    /// `None`: the number of rows is not known in advance (a streamed sheet).
    fn start(&self, total_rows: Option<u64>);
    fn advance(&self, rows: u64);
    fn finish(&self);
}

impl Progress for () {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Where an import's time goes, printed to stderr when `KARTKA_TIMINGS` is
/// set (for the benchmark, not for users).
#[derive(Default)]
struct Timings {
    load: std::time::Duration,
    rows: std::time::Duration,
    store: std::time::Duration,
    commit: std::time::Duration,
}

impl Timings {
    fn report(&self) {
        if std::env::var_os("KARTKA_TIMINGS").is_some() {
            eprintln!(
                "timings: load {:?}, rows {:?}, store {:?}, commit {:?}",
                self.load, self.rows, self.store, self.commit
            );
        }
    }
}

/// The most bytes of cells one batch of rows holds (`row_bytes`): with
/// eighteen batches in flight between the import's three threads, and a row
/// bounded by `read::MAX_COLUMNS` cells of `cells::CELL_CHARS` characters,
/// the rows in memory stay under 200 MB whatever the file.
const BATCH_BYTES: usize = 4 << 20;

/// The memory a row's cells take, near enough.
fn row_bytes(row: &[calamine::Data]) -> usize {
    row.iter()
        .map(|c| {
            std::mem::size_of::<calamine::Data>()
                + match c {
                    calamine::Data::String(s)
                    | calamine::Data::DateTimeIso(s)
                    | calamine::Data::DurationIso(s) => s.len(),
                    _ => 0,
                }
        })
        .sum()
}

/// A file whose sheets were read and whose headers were found.
struct Loaded {
    path: PathBuf,
    shown: String,
    sha256: String,
    sheets: Vec<(read::Sheet, header::Header)>,
}

/// The largest input file read: far more than any applicant spreadsheet.
pub const MAX_INPUT: u64 = 1 << 30;

/// An input file's bytes: a regular file (a FIFO or a device in a drop
/// folder is refused, never waited on: it is opened non-blocking), of at
/// most `MAX_INPUT` bytes.
fn read_input(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let unreadable = |detail: String| Error::Unreadable {
        path: path.to_path_buf(),
        detail,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Missing {
                path: path.to_path_buf(),
            },
            _ => unreadable(e.to_string()),
        })?;
    let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable(
            "it is not a regular file (a folder, a device or a pipe)".into(),
        ));
    }
    let too_big = || {
        unreadable(format!(
            "it is larger than {} MB, far more than any applicant file",
            MAX_INPUT >> 20
        ))
    };
    if meta.len() > MAX_INPUT {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(too_big());
    }
    Ok(bytes)
}

fn load(
    path: &Path,
    only_sheet: Option<&str>,
    synonyms: &Synonyms,
    categories: &vocab::Vocabulary,
    notify: &mut dyn FnMut(Notice),
) -> Result<Loaded, Error> {
    let bytes = read_input(path)?;
    let sha256 = crate::hash::sha256_hex(&bytes);
    let (format, sheets) = read::open(path, bytes)?;
    let sheet_label = |name: &str| {
        if name.is_empty() {
            String::new()
        } else {
            format!(", sheet \"{name}\"")
        }
    };
    let mut found = Vec::new();
    let mut incomplete: Vec<(String, Error)> = Vec::new();
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    if let Some(wanted) = only_sheet
        && format != read::Format::Csv
        && !names.iter().any(|n| n == wanted)
    {
        return Err(Error::NoSuchSheet {
            path: path.to_path_buf(),
            sheet: wanted.to_string(),
            names: names.join(", "),
        });
    }
    for sheet in sheets {
        if let Some(wanted) = only_sheet
            && format != read::Format::Csv
            && sheet.name != wanted
        {
            continue;
        }
        match header::find_header(sheet.head().into_iter(), synonyms) {
            None => {
                if only_sheet.is_some() {
                    return Err(Error::NoHeader {
                        path: path.to_path_buf(),
                        sheet: sheet_label(&sheet.name),
                    });
                }
                notify(Notice::Skipped {
                    place: format!("{}{}", path.display(), sheet_label(&sheet.name)),
                    why: "no applicant header in its first 30 rows".into(),
                });
            }
            Some(mut h) => {
                let below: Vec<&[calamine::Data]> =
                    sheet.head().into_iter().skip(h.row + 1).collect();
                let today = crate::time::today_kyiv();
                for found in sniff::place(&mut h, &below, categories, today) {
                    notify(Notice::Warning {
                        place: format!("{}{}", path.display(), sheet_label(&sheet.name)),
                        text: by_values_warning(&h, &found),
                    });
                }
                let missing = h.missing_required();
                if missing.is_empty() {
                    found.push((sheet, h));
                    continue;
                }
                let error = Error::MissingColumns {
                    path: path.to_path_buf(),
                    sheet: sheet_label(&sheet.name),
                    row: sheet.origin().0 + h.row + 1,
                    missing: missing.join("; "),
                    columns: format!(
                        "Found: {}.{}",
                        h.names
                            .iter()
                            .filter(|n| !n.is_empty())
                            .map(|n| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", "),
                        unread_note(&h, synonyms)
                    ),
                };
                if only_sheet.is_some() || format == read::Format::Csv || h.lists_people() {
                    return Err(error);
                }
                incomplete.push((sheet.name.clone(), error));
            }
        }
    }
    // A sheet that names some fields but lacks required ones and lists no
    // people (a sheet of drop-down lists, a summary) is not an applicant
    // list when another sheet of the file is one: skipped and said; alone,
    // it is the error. A sheet of people lacking one is always the error.
    if found.is_empty() {
        return Err(incomplete
            .into_iter()
            .next()
            .map(|(_, e)| e)
            .unwrap_or(Error::NoHeader {
                path: path.to_path_buf(),
                sheet: String::new(),
            }));
    }
    for (name, error) in incomplete {
        let why = match &error {
            Error::MissingColumns { missing, .. } => {
                format!("not an applicant list: its header lacks {missing}")
            }
            _ => error.to_string(),
        };
        notify(Notice::Skipped {
            place: format!("{}{}", path.display(), sheet_label(&name)),
            why,
        });
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        shown: path.display().to_string(),
        sha256,
        sheets: found,
    })
}

/// The columns a header did not place, with the fields nearest to each:
/// what the clerk may teach (`kartka vocab add header`).
fn unread_note(head: &Header, synonyms: &Synonyms) -> String {
    let notes: Vec<String> = head
        .unread(synonyms)
        .into_iter()
        .map(|(name, near)| {
            if near.is_empty() {
                return format!("\"{name}\"");
            }
            let near: Vec<&str> = near.iter().map(|f| f.key()).collect();
            format!("\"{name}\" (nearest: {})", near.join(", "))
        })
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!("\n  Not read: {}.", notes.join(", "))
    }
}

/// Imports applicant files into the home's registry. Every file is read and
/// its header checked before anything is written: a file that is unusable as
/// a whole stops the run with nothing imported. The rows of all files are
/// written in one transaction, so a run lands whole or not at all.
pub fn import_applicants(
    home: &Home,
    config: &Config,
    opts: &ImportOptions,
    progress: &dyn Progress,
    notify: &mut dyn FnMut(Notice),
) -> Result<ImportSummary, Error> {
    let synonyms = Synonyms::of(&config.intake);
    let communities = config.community_vocabulary();
    let categories = config.category_vocabulary();
    let option = community_option(config, opts)?;
    let mut timings = Timings::default();
    let mut loaded = Vec::new();
    for path in &opts.files {
        let t = std::time::Instant::now();
        let file = load(path, opts.sheet.as_deref(), &synonyms, &categories, notify)?;
        check_community(&file, &communities, option.as_deref())?;
        loaded.push(file);
        timings.load += t.elapsed();
    }
    let total: Option<usize> = loaded
        .iter()
        .flat_map(|l| l.sheets.iter())
        .map(|(s, h)| s.row_count().map(|n| n.saturating_sub(h.row + 1)))
        .sum();
    progress.start(total.map(|n| n as u64));

    let mut registry = Registry::open(&home.registry())?;
    let reg_path = registry.path().to_path_buf();
    let sql = |e| Error::Registry(registry::Error::sqlite(&reg_path, e));
    let tx = registry.conn_mut().transaction().map_err(sql)?;
    let mut index = store::Index::load(&tx).map_err(sql)?;
    let today = crate::time::today_kyiv();
    let now = crate::time::now_utc_text();

    let mut summary = ImportSummary::default();
    let rejects_path = opts
        .rejects
        .clone()
        .unwrap_or_else(|| rejects::default_path(&opts.files[0]));
    let mut rejects = rejects::Rejects::new(rejects_path.clone(), !opts.dry_run);
    let mut warnings = rejects::Warnings::new(rejects::warnings_path(&rejects_path), !opts.dry_run);
    let rejects_error = |source: std::io::Error| Error::Rejects {
        path: rejects_path.clone(),
        source,
    };
    let mut photos: Vec<photo::Photo> = Vec::new();
    let mut ledger_rows = Vec::new();
    for file in &loaded {
        let before = summary.clone();
        let base_dir = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (sheet, head) in &file.sheets {
            let fallback = match community::of_sheet_or_title(&sheet.name, head, &communities) {
                Some((code, community::SheetSource::Name)) => Some(code),
                Some((code, community::SheetSource::Title(row, text))) if option.is_none() => {
                    notify(Notice::Warning {
                        place: format!(
                            "{}, sheet \"{}\", row {}",
                            file.path.display(),
                            sheet.name,
                            sheet.origin().0 + row + 1
                        ),
                        text: format!(
                            "the rows that name no community are taken as {code}, which the title names: {}; pass --community CODE if they live elsewhere",
                            cells::quoted(&text)
                        ),
                    });
                    Some(code)
                }
                _ => option.clone(),
            };
            let sheet_no = rejects.sheet(&head.names);
            let (row0, _) = sheet.origin();
            let first = head.row + 1;
            // A pipeline over both cores: one thread reads rows from the file
            // (an .xlsx is streamed, never held whole), one checks them, and
            // this one stores them. Bounded channels keep the three in step.
            std::thread::scope(|scope| -> Result<(), Error> {
                type Rows = Vec<(usize, Vec<calamine::Data>)>;
                type Checked = Vec<(usize, Vec<calamine::Data>, RowRead)>;
                let (send_rows, receive_rows) = std::sync::mpsc::sync_channel::<Rows>(8);
                let (send, receive) = std::sync::mpsc::sync_channel::<(u64, Checked)>(8);
                let reader = scope.spawn(move || {
                    // A batch is sent at 1024 rows or BATCH_BYTES, so the
                    // rows in flight cost a bounded amount of memory.
                    let mut batch = Vec::with_capacity(1024);
                    let mut bytes = 0;
                    let read = sheet.for_each_row(first, &mut |i, row| {
                        bytes += row_bytes(&row);
                        batch.push((i, row));
                        if batch.len() < 1024 && bytes < BATCH_BYTES {
                            return true;
                        }
                        bytes = 0;
                        send_rows.send(std::mem::take(&mut batch)).is_ok()
                    });
                    if !batch.is_empty() {
                        let _ = send_rows.send(batch);
                    }
                    read
                });
                let base_dir = &base_dir;
                let checker = scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let mut ctx = applicant::RowContext::new(
                        config,
                        &head.columns,
                        &head.names,
                        base_dir,
                        today,
                    );
                    ctx.fallback = fallback;
                    for rows in receive_rows {
                        let advanced = rows.len() as u64;
                        let checked = rows
                            .into_iter()
                            .filter(|(_, row)| !row.iter().all(cells::is_blank))
                            .map(|(i, row)| {
                                let read = match rows::not_applicant(&row, head, &ctx.communities) {
                                    Some(kind) => RowRead::Skip(kind),
                                    None => RowRead::Read(ctx.read(&row)),
                                };
                                (i, row, read)
                            })
                            .collect();
                        if send.send((advanced, checked)).is_err() {
                            break;
                        }
                    }
                    started.elapsed()
                });
                for (advanced, batch) in receive {
                    progress.advance(advanced);
                    for (i, row, read) in batch {
                        let src = store::Source {
                            file: &file.shown,
                            sheet: &sheet.name,
                            row: row0 + i + 1,
                        };
                        let read = match read {
                            RowRead::Skip(kind) => {
                                summary.skip(kind);
                                notify(Notice::Skipped {
                                    place: src.place(),
                                    why: format!("not an applicant: {}", kind.en()),
                                });
                                continue;
                            }
                            RowRead::Read(read) => read,
                        };
                        summary.read += 1;
                        let outcome = match read {
                            Ok(mut r) => {
                                for w in std::mem::take(&mut r.warnings) {
                                    summary.warnings += 1;
                                    notify(Notice::Warning {
                                        place: src.place(),
                                        text: w.en.clone(),
                                    });
                                    warnings
                                        .add(&file.shown, &sheet.name, src.row, &w)
                                        .map_err(rejects_error)?;
                                }
                                for m in std::mem::take(&mut r.matched) {
                                    summary.matched.push(MatchedAt {
                                        file: file.shown.clone(),
                                        sheet: sheet.name.clone(),
                                        row: src.row,
                                        matched: m,
                                    });
                                }
                                let t = std::time::Instant::now();
                                let stored =
                                    store::upsert(&tx, &mut index, &r, &src, &opts.operator, &now)
                                        .map_err(sql)?;
                                timings.store += t.elapsed();
                                if stored.is_ok()
                                    && let Some(ph) = r.applicant.photo
                                {
                                    photos.push(ph);
                                }
                                stored.map_err(|reason| vec![reason])
                            }
                            Err(reasons) => Err(reasons),
                        };
                        match outcome {
                            Ok(store::Outcome::Inserted { .. }) => summary.inserted += 1,
                            Ok(store::Outcome::Updated { .. }) => summary.updated += 1,
                            Ok(store::Outcome::Unchanged { .. }) => summary.unchanged += 1,
                            Err(reasons) => {
                                summary.rejected += 1;
                                let reason = Why::join(&reasons);
                                notify(Notice::Rejected {
                                    place: src.place(),
                                    reason: reason.en.clone(),
                                });
                                rejects
                                    .add(&rejects::Reject {
                                        sheet_no,
                                        file: &file.shown,
                                        sheet: &sheet.name,
                                        row: src.row,
                                        reason: &reason,
                                        cells: &row,
                                    })
                                    .map_err(rejects_error)?;
                                if rejects.full() {
                                    return Err(Error::TooManyRejects {
                                        path: file.path.clone(),
                                        read: summary.read,
                                        rejected: summary.rejected,
                                        max_rows: rejects::MAX_ROWS,
                                        max_mb: rejects::MAX_BYTES >> 20,
                                    });
                                }
                            }
                        }
                    }
                }
                timings.rows += checker.join().expect("the row checker does not panic");
                reader
                    .join()
                    .expect("the row reader does not panic")
                    .map_err(|detail| Error::Unreadable {
                        path: file.path.clone(),
                        detail,
                    })
            })?;
        }
        tx.execute(
            "INSERT INTO imports (started_at, finished_at, operator, file, file_sha256, read, inserted, \
             updated, unchanged, rejected, warnings, rejects_file) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            rusqlite::params![
                now,
                crate::time::now_utc_text(),
                opts.operator,
                std::fs::canonicalize(&file.path).unwrap_or_else(|_| file.path.clone()).display().to_string(),
                file.sha256,
                (summary.read - before.read) as i64,
                (summary.inserted - before.inserted) as i64,
                (summary.updated - before.updated) as i64,
                (summary.unchanged - before.unchanged) as i64,
                (summary.rejected - before.rejected) as i64,
                (summary.warnings - before.warnings) as i64,
                Option::<String>::None,
            ],
        )
        .map_err(sql)?;
        ledger_rows.push(tx.last_insert_rowid());
    }
    progress.finish();

    if opts.dry_run {
        // Same checks, same counts; nothing kept.
        tx.rollback().map_err(sql)?;
        return Ok(summary);
    }
    if let Some(path) = rejects.commit().map_err(rejects_error)? {
        for id in &ledger_rows {
            tx.execute(
                "UPDATE imports SET rejects_file = ?1 WHERE id = ?2 AND rejected > 0",
                rusqlite::params![path.display().to_string(), id],
            )
            .map_err(sql)?;
        }
        summary.rejects_file = Some(path);
    }
    let warnings_path = rejects::warnings_path(&rejects_path);
    summary.warnings_file = warnings.commit().map_err(|source| Error::Rejects {
        path: warnings_path,
        source,
    })?;
    for ph in &photos {
        photo::store(ph, &home.photos()).map_err(|source| Error::Photo {
            path: ph.source.clone(),
            source,
        })?;
    }
    let t = std::time::Instant::now();
    tx.commit().map_err(sql)?;
    timings.commit += t.elapsed();
    timings.report();
    Ok(summary)
}
