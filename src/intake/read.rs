//! Opening a clerk's file, whatever it is: .xlsx, .xls, .ods (calamine) or
//! .csv (UTF-8 with or without BOM, or Windows-1251; `,`, `;` or tab).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use calamine::{Data, Ods, Range, Reader, Xls, Xlsx};

use super::Error;

thread_local! {
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs spreadsheet parsing that may panic on a damaged file (calamine does,
/// on some broken .xls/.xlsx structures) and turns a panic into an error, so
/// one bad file gives a clear message, not a crash. The panic's default
/// message is kept off the user's terminal.
fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    let was = QUIET_PANICS.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET_PANICS.with(|q| q.set(was));
    result.unwrap_or_else(|_| Err("the file is damaged (its internal structure is broken)".into()))
}

/// An .xlsx workbook, opened once (its shared strings parsed once) and
/// shared by its sheets.
type XlsxBook = Arc<Mutex<Xlsx<Cursor<Vec<u8>>>>>;

/// How many rows from the top are kept in memory to find the header.
pub const HEAD_ROWS: usize = 30;

/// One sheet's cells.
pub struct Sheet {
    pub name: String,
    grid: Grid,
}

enum Grid {
    Range(Range<Data>),
    /// Rows, and the sheet row and column of the first cell.
    Rows(Vec<Vec<Data>>, (usize, usize)),
    /// An .xlsx sheet is streamed cell by cell, never held whole: only its
    /// first rows are kept, for the header.
    Xlsx {
        book: XlsxBook,
        head: Vec<Vec<Data>>,
    },
}

impl Sheet {
    /// The top rows, for finding the header; index 0 is `origin().0`.
    pub fn head(&self) -> Vec<&[Data]> {
        match &self.grid {
            Grid::Range(r) => r.rows().take(HEAD_ROWS).collect(),
            Grid::Rows(v, _) => v.iter().take(HEAD_ROWS).map(Vec::as_slice).collect(),
            Grid::Xlsx { head, .. } => head.iter().map(Vec::as_slice).collect(),
        }
    }

    /// The number of rows, when known without reading the sheet.
    pub fn row_count(&self) -> Option<usize> {
        match &self.grid {
            Grid::Range(r) => Some(r.height()),
            Grid::Rows(v, _) => Some(v.len()),
            Grid::Xlsx { .. } => None,
        }
    }

    /// The 0-based sheet row and column of the first row/column of `head()`.
    pub fn origin(&self) -> (usize, usize) {
        match &self.grid {
            Grid::Range(r) => r.start().map_or((0, 0), |(r, c)| (r as usize, c as usize)),
            Grid::Rows(_, origin) => *origin,
            Grid::Xlsx { .. } => (0, 0),
        }
    }

    /// Calls `f` with every row from index `from` (counted like `head()`) on,
    /// in order, until it returns false. Rows of a streamed sheet are read
    /// as they come; an error names what in the file could not be read.
    pub fn for_each_row(
        &self,
        from: usize,
        f: &mut dyn FnMut(usize, Vec<Data>) -> bool,
    ) -> Result<(), String> {
        match &self.grid {
            Grid::Range(r) => {
                for (i, row) in r.rows().enumerate().skip(from) {
                    if !f(i, row.to_vec()) {
                        break;
                    }
                }
                Ok(())
            }
            Grid::Rows(v, _) => {
                for (i, row) in v.iter().enumerate().skip(from) {
                    if !f(i, row.clone()) {
                        break;
                    }
                }
                Ok(())
            }
            Grid::Xlsx { book, .. } => {
                let mut book = book
                    .lock()
                    .map_err(|_| "the workbook reader failed".to_string())?;
                stream_xlsx(&mut book, &self.name, &mut |i, row| i < from || f(i, row))
            }
        }
    }
}

/// Streams an .xlsx sheet's rows: row-major cells gathered into rows, with
/// absolute column positions (column A is index 0).
fn stream_xlsx(
    book: &mut Xlsx<Cursor<Vec<u8>>>,
    name: &str,
    f: &mut dyn FnMut(usize, Vec<Data>) -> bool,
) -> Result<(), String> {
    let mut cells = book
        .worksheet_cells_reader(name)
        .map_err(|e| format!("sheet {name:?}: {e}"))?;
    let mut current: Option<usize> = None;
    let mut row: Vec<Data> = Vec::new();
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| format!("sheet {name:?}: {e}"))?
    {
        let (r, c) = cell.get_position();
        let (r, c) = (r as usize, c as usize);
        if current != Some(r) {
            if let Some(prev) = current
                && !f(prev, std::mem::take(&mut row))
            {
                return Ok(());
            }
            current = Some(r);
        }
        if row.len() <= c {
            row.resize(c + 1, Data::Empty);
        }
        row[c] = Data::from(cell.get_value().clone());
    }
    if let Some(prev) = current {
        f(prev, row);
    }
    Ok(())
}

/// A file's bytes and what kind of spreadsheet they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

fn sniff(bytes: &[u8], path: &Path) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") {
        // ODS stores its MIME type uncompressed as the first zip entry.
        let head = &bytes[..bytes.len().min(200)];
        let is_ods = head
            .windows(b"opendocument.spreadsheet".len())
            .any(|w| w == b"opendocument.spreadsheet");
        return Some(if is_ods { Format::Ods } else { Format::Xlsx });
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Format::Xls);
    }
    // Text: no NUL bytes in the first 8 KiB (UTF-16, PDFs and images have them).
    let head = &bytes[..bytes.len().min(8192)];
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !head.contains(&0) && matches!(ext.as_deref(), Some("csv" | "txt" | "tsv") | None) {
        return Some(Format::Csv);
    }
    None
}

/// Reads every sheet of a file.
pub fn open(path: &Path, bytes: Vec<u8>) -> Result<(Format, Vec<Sheet>), Error> {
    let mut outcome = None;
    let guarded = guard(|| {
        outcome = Some(open_unguarded(path, bytes));
        Ok(())
    });
    match (guarded, outcome) {
        (Ok(()), Some(result)) => result,
        (Err(detail), _) => Err(Error::Unreadable {
            path: path.to_path_buf(),
            detail,
        }),
        (Ok(()), None) => unreachable!("the guarded closure always sets the outcome"),
    }
}

fn open_unguarded(path: &Path, bytes: Vec<u8>) -> Result<(Format, Vec<Sheet>), Error> {
    let format = sniff(&bytes, path).ok_or_else(|| Error::NotASpreadsheet {
        path: path.to_path_buf(),
    })?;
    let unreadable = |detail: String| Error::Unreadable {
        path: path.to_path_buf(),
        detail,
    };
    let sheets = match format {
        Format::Csv => vec![Sheet {
            name: String::new(),
            grid: Grid::Rows(read_csv(&bytes, path)?, (0, 0)),
        }],
        Format::Xlsx => {
            let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
            let mut sheets = Vec::new();
            for name in book.sheet_names() {
                let mut head = Vec::new();
                stream_xlsx(&mut book, &name, &mut |i, row| {
                    if i >= HEAD_ROWS {
                        return false;
                    }
                    head.resize(i, Vec::new());
                    head.push(row);
                    true
                })
                .map_err(unreadable)?;
                sheets.push((name, head));
            }
            let book = Arc::new(Mutex::new(book));
            sheets
                .into_iter()
                .map(|(name, head)| Sheet {
                    name,
                    grid: Grid::Xlsx {
                        book: Arc::clone(&book),
                        head,
                    },
                })
                .collect()
        }
        Format::Xls | Format::Ods => {
            let ext = if format == Format::Xls { "xls" } else { "ods" };
            let reply = match super::isolate::reader() {
                Some(exe) => super::isolate::read_in_child(exe, ext, &bytes).map_err(unreadable)?,
                None => parse_dense(ext, bytes),
            };
            match reply {
                super::isolate::Reply::Unreadable(detail) => return Err(unreadable(detail)),
                super::isolate::Reply::Sheets(sheets) => sheets
                    .into_iter()
                    .map(|w| Sheet {
                        name: w.name,
                        grid: Grid::Rows(
                            w.rows
                                .into_iter()
                                .map(|r| r.into_iter().map(super::isolate::Cell::data).collect())
                                .collect(),
                            w.origin,
                        ),
                    })
                    .collect(),
            }
        }
    };
    Ok((format, sheets))
}

/// Parses an .xls or .ods here, guarded against panics only: the workbook
/// reader child runs this (`intake::isolate`).
pub(super) fn parse_dense(ext: &str, bytes: Vec<u8>) -> super::isolate::Reply {
    use super::isolate::{Cell, Reply, WireSheet};
    let parsed = guard(|| {
        let sheets = if ext == "xls" {
            super::xls::check_dimensions(&bytes)?;
            let book: Xls<_> = calamine::open_workbook_from_rs(Cursor::new(&bytes[..]))
                .map_err(|e: calamine::XlsError| e.to_string())?;
            ranges(book)?
        } else {
            let book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(&bytes[..]))
                .map_err(|e: calamine::OdsError| e.to_string())?;
            ranges(book)?
        };
        Ok(sheets
            .into_iter()
            .map(|s| {
                let origin = s.origin();
                let Grid::Range(r) = s.grid else {
                    unreachable!("ranges() makes ranges")
                };
                WireSheet {
                    name: s.name,
                    origin,
                    rows: r
                        .rows()
                        .map(|row| row.iter().map(Cell::of).collect())
                        .collect(),
                }
            })
            .collect())
    });
    match parsed {
        Ok(sheets) => Reply::Sheets(sheets),
        Err(detail) => Reply::Unreadable(detail),
    }
}

fn ranges<RS, R>(mut book: R) -> Result<Vec<Sheet>, String>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let names = book.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| format!("sheet {name:?}: {e}"))?;
        sheets.push(Sheet {
            name,
            grid: Grid::Range(range),
        });
    }
    Ok(sheets)
}

/// Decodes CSV bytes: UTF-8 (a BOM is dropped) when they are valid UTF-8,
/// otherwise Windows-1251, the code page Ukrainian Excel saves CSV in.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1251
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The delimiter whose count per line is the same on the most lines among
/// the first ones: `;` files full of decimal commas still come out right.
pub fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for delim in [b';', b',', b'\t'] {
        let mut counts = std::collections::HashMap::new();
        for line in &lines {
            let n = count_outside_quotes(line, delim);
            if n > 0 {
                *counts.entry(n).or_insert(0usize) += 1;
            }
        }
        if let Some((&n, &lines_agreeing)) = counts.iter().max_by_key(|(n, c)| (**c, **n))
            && (lines_agreeing, n) > (best.1, best.2)
        {
            best = (delim, lines_agreeing, n);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delim: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delim && !quoted {
            n += 1;
        }
    }
    n
}

fn read_csv(bytes: &[u8], path: &Path) -> Result<Vec<Vec<Data>>, Error> {
    let text = decode_text(bytes);
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::Unreadable {
            path: PathBuf::from(path),
            detail: format!("row {}: {e}", i + 1),
        })?;
        rows.push(
            record
                .iter()
                .map(|f| {
                    if f.is_empty() {
                        Data::Empty
                    } else {
                        Data::String(f.to_string())
                    }
                })
                .collect(),
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1251_and_utf8_with_bom_decode_alike() {
        let text = "Прізвище;Ім'я\nМʼякота;Ганна\n";
        let cp1251 = encoding_rs::WINDOWS_1251.encode(text).0;
        // ʼ is not in cp1251: the encoder writes a numeric reference, so use ' there.
        let plain = "Прізвище;Ім'я\nІваненко;Ганна\n";
        let cp = encoding_rs::WINDOWS_1251.encode(plain).0;
        assert_eq!(decode_text(&cp), plain);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(&bom), text);
        assert!(!cp1251.is_empty());
    }

    #[test]
    fn the_delimiter_is_the_consistent_one() {
        assert_eq!(detect_delimiter("a;b;c\n1,5;2,5;3\n4;5,1;6\n"), b';');
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("Заголовок\na\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter("a,\"b;c\",d\n1,\"2;3\",4\n"), b',');
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_open_or_fail_cleanly(
            head in proptest::sample::select(vec![&b"PK\x03\x04"[..], &b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"[..], &b""[..]]),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..2048),
            ext in proptest::sample::select(vec!["xlsx", "xls", "ods", "csv"]),
        ) {
            let mut bytes = head.to_vec();
            bytes.extend(body);
            if let Ok((_, sheets)) = open(Path::new(&format!("f.{ext}")), bytes) {
                for sheet in sheets {
                    let _ = sheet.for_each_row(0, &mut |_, _| true);
                }
            }
        }

        #[test]
        fn any_text_reads_as_csv(text in "\\PC{0,400}") {
            let _ = open(Path::new("f.csv"), text.into_bytes());
        }
    }

    // The damaged-workbook property test runs in tests/test_import.rs,
    // where the `kartka` binary reads .xls/.ods in a child process.

    #[test]
    fn binary_files_are_not_spreadsheets() {
        let err = open(Path::new("photo.csv"), b"\x89PNG\r\n\x1a\n\0\0\0".to_vec())
            .err()
            .unwrap();
        assert!(matches!(err, Error::NotASpreadsheet { .. }));
        let err = open(Path::new("notes.pdf"), b"%PDF-1.4 hello".to_vec())
            .err()
            .unwrap();
        assert!(matches!(err, Error::NotASpreadsheet { .. }));
    }
}
