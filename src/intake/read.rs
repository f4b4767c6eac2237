//! Opening a clerk's file, whatever it is: .xlsx, .xls, .ods (calamine) or
//! .csv (UTF-8 with or without BOM, or Windows-1251; `,`, `;` or tab).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use calamine::{Data, Ods, Range, Reader, Xls, Xlsx};

use super::Error;

/// One sheet's cells.
pub struct Sheet {
    pub name: String,
    grid: Grid,
}

enum Grid {
    Range(Range<Data>),
    Rows(Vec<Vec<Data>>),
}

impl Sheet {
    /// The rows, top to bottom, starting at the sheet's first used row.
    pub fn rows(&self) -> Box<dyn Iterator<Item = &[Data]> + '_> {
        match &self.grid {
            Grid::Range(r) => Box::new(r.rows()),
            Grid::Rows(v) => Box::new(v.iter().map(Vec::as_slice)),
        }
    }

    pub fn row_count(&self) -> usize {
        match &self.grid {
            Grid::Range(r) => r.height(),
            Grid::Rows(v) => v.len(),
        }
    }

    /// The 0-based sheet row and column of the first row/column of `rows()`.
    pub fn origin(&self) -> (usize, usize) {
        match &self.grid {
            Grid::Range(r) => r.start().map_or((0, 0), |(r, c)| (r as usize, c as usize)),
            Grid::Rows(_) => (0, 0),
        }
    }
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
pub fn open(path: &Path, bytes: &[u8]) -> Result<(Format, Vec<Sheet>), Error> {
    let format = sniff(bytes, path).ok_or_else(|| Error::NotASpreadsheet {
        path: path.to_path_buf(),
    })?;
    let unreadable = |detail: String| Error::Unreadable {
        path: path.to_path_buf(),
        detail,
    };
    let sheets = match format {
        Format::Csv => vec![Sheet {
            name: String::new(),
            grid: Grid::Rows(read_csv(bytes, path)?),
        }],
        Format::Xlsx => {
            let book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
            ranges(book).map_err(unreadable)?
        }
        Format::Xls => {
            let book: Xls<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsError| unreadable(e.to_string()))?;
            ranges(book).map_err(unreadable)?
        }
        Format::Ods => {
            let book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::OdsError| unreadable(e.to_string()))?;
            ranges(book).map_err(unreadable)?
        }
    };
    Ok((format, sheets))
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

    #[test]
    fn binary_files_are_not_spreadsheets() {
        let err = open(Path::new("photo.csv"), b"\x89PNG\r\n\x1a\n\0\0\0")
            .err()
            .unwrap();
        assert!(matches!(err, Error::NotASpreadsheet { .. }));
        let err = open(Path::new("notes.pdf"), b"%PDF-1.4 hello")
            .err()
            .unwrap();
        assert!(matches!(err, Error::NotASpreadsheet { .. }));
    }
}
