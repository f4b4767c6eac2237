//! Opening a clerk's file, whatever it is: .xlsx, .xls, .ods (calamine) or
//! .csv (UTF-8 with or without BOM, UTF-16 with its BOM as Excel's "Unicode
//! Text" saves it, or Windows-1251; `,`, `;` or tab).

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

/// The columns of a sheet that are read (A to AMJ, as many as LibreOffice
/// shows); cells further right are not. With cells cut at
/// `cells::CELL_CHARS`, a row costs a bounded amount of memory.
pub const MAX_COLUMNS: usize = 1024;

/// A cell as kept: text cut at `cells::CELL_CHARS` characters.
pub fn bounded(cell: Data) -> Data {
    match cell {
        Data::String(s) => Data::String(super::cells::clip(s)),
        Data::DateTimeIso(s) => Data::DateTimeIso(super::cells::clip(s)),
        Data::DurationIso(s) => Data::DurationIso(super::cells::clip(s)),
        other => other,
    }
}

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
    /// An .xlsx sheet streamed by a reader child (`isolate`), under its
    /// memory and time limits.
    XlsxChild {
        exe: PathBuf,
        bytes: Arc<Vec<u8>>,
        head: Vec<Vec<Data>>,
    },
}

impl Sheet {
    /// Fills the cells regions merged down one column cover (`MergedDown`).
    fn fill_merged_down(&mut self, regions: Vec<calamine::Dimensions>) {
        let Grid::Range(range) = &mut self.grid else {
            return;
        };
        let Some((r0, c0)) = range.start() else {
            return;
        };
        let relative = regions
            .into_iter()
            .filter(|d| d.start.0 >= r0 && d.start.1 >= c0)
            .map(|d| calamine::Dimensions {
                start: (d.start.0 - r0, d.start.1 - c0),
                end: (d.end.0 - r0, d.end.1 - c0),
            })
            .collect();
        let mut merged = MergedDown::new(relative);
        let mut fills = Vec::new();
        for (i, cells) in range.rows().enumerate() {
            let mut row = cells.to_vec();
            merged.fill(i, &mut row);
            for (c, v) in row.into_iter().enumerate() {
                if cells.get(c).is_none_or(|old| matches!(old, Data::Empty))
                    && !matches!(v, Data::Empty)
                {
                    fills.push(((r0 + i as u32, c0 + c as u32), v));
                }
            }
        }
        for (at, v) in fills {
            range.set_value(at, v);
        }
    }

    /// The top rows, for finding the header; index 0 is `origin().0`.
    pub fn head(&self) -> Vec<&[Data]> {
        match &self.grid {
            Grid::Range(r) => r.rows().take(HEAD_ROWS).collect(),
            Grid::Rows(v, _) => v.iter().take(HEAD_ROWS).map(Vec::as_slice).collect(),
            Grid::Xlsx { head, .. } | Grid::XlsxChild { head, .. } => {
                head.iter().map(Vec::as_slice).collect()
            }
        }
    }

    /// The number of rows, when known without reading the sheet.
    pub fn row_count(&self) -> Option<usize> {
        match &self.grid {
            Grid::Range(r) => Some(r.height()),
            Grid::Rows(v, _) => Some(v.len()),
            Grid::Xlsx { .. } | Grid::XlsxChild { .. } => None,
        }
    }

    /// The 0-based sheet row and column of the first row/column of `head()`.
    pub fn origin(&self) -> (usize, usize) {
        match &self.grid {
            Grid::Range(r) => r.start().map_or((0, 0), |(r, c)| (r as usize, c as usize)),
            Grid::Rows(_, origin) => *origin,
            Grid::Xlsx { .. } | Grid::XlsxChild { .. } => (0, 0),
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
                stream_xlsx(&mut book, &self.name, true, &mut |i, row| {
                    i < from || f(i, row)
                })
            }
            Grid::XlsxChild { exe, bytes, .. } => {
                super::isolate::stream_in_child(exe, Arc::clone(bytes), &self.name, from, f)
            }
        }
    }
}

/// Streams an .xlsx sheet's rows: row-major cells gathered into rows, with
/// absolute column positions (column A is index 0); with `merged`, the
/// cells merged down filled (`MergedDown`).
fn stream_xlsx(
    book: &mut Xlsx<Cursor<Vec<u8>>>,
    name: &str,
    merged: bool,
    f: &mut dyn FnMut(usize, Vec<Data>) -> bool,
) -> Result<(), String> {
    // The merges cost a pass over the whole sheet: read for the rows, not
    // for the few header rows.
    let regions = if merged {
        book.merge_cells_by_sheet_name(name).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut merged = MergedDown::new(regions);
    let mut cells = book
        .worksheet_cells_reader(name)
        .map_err(|e| format!("sheet {name:?}: {e}"))?;
    let mut current: Option<usize> = None;
    let mut row: Vec<Data> = Vec::new();
    // A long shared string, cut once however many cells name it: a cell
    // costs at most `cells::CELL_CHARS` characters of work, not the string's.
    let mut cut: std::collections::HashMap<(usize, usize), String> = Default::default();
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| format!("sheet {name:?}: {e}"))?
    {
        let (r, c) = cell.get_position();
        let (r, c) = (r as usize, c as usize);
        if c >= MAX_COLUMNS {
            continue;
        }
        if current != Some(r) {
            if let Some(prev) = current {
                merged.fill(prev, &mut row);
                if !f(prev, std::mem::take(&mut row)) {
                    return Ok(());
                }
            }
            current = Some(r);
        }
        if row.len() <= c {
            row.resize(c + 1, Data::Empty);
        }
        row[c] = match cell.get_value() {
            calamine::DataRef::SharedString(text) if text.len() > super::cells::CELL_CHARS => {
                let key = (text.as_ptr() as usize, text.len());
                Data::String(
                    cut.entry(key)
                        .or_insert_with(|| super::cells::clip(text.to_string()))
                        .clone(),
                )
            }
            value => bounded(Data::from(value.clone())),
        };
    }
    if let Some(prev) = current {
        merged.fill(prev, &mut row);
        f(prev, row);
    }
    Ok(())
}

/// The most merged regions a sheet's rows are filled from: a hostile file
/// may declare millions.
const MAX_MERGES: usize = 100_000;

/// Cells merged down one column («Адреса» over two siblings' rows, a
/// category over a family): each row reads the value the merged cell shows,
/// as the clerk sees it. Regions wider than one column (a title, «П.І.Б.»
/// over three columns) are left as they are.
struct MergedDown {
    /// (first row, last row, column), by first row, still to come.
    regions: std::collections::VecDeque<(usize, usize, usize)>,
    /// (last row, column, the top cell's value) of the regions under way.
    open: Vec<(usize, usize, Data)>,
}

impl MergedDown {
    fn new(regions: Vec<calamine::Dimensions>) -> MergedDown {
        let mut down: Vec<(usize, usize, usize)> = regions
            .into_iter()
            .filter(|d| d.start.1 == d.end.1 && d.end.0 > d.start.0)
            .take(MAX_MERGES)
            .map(|d| (d.start.0 as usize, d.end.0 as usize, d.start.1 as usize))
            .collect();
        down.sort_unstable();
        MergedDown {
            regions: down.into(),
            open: Vec::new(),
        }
    }

    /// Fills row `r`'s cells that a region above covers; rows come in order.
    fn fill(&mut self, r: usize, row: &mut Vec<Data>) {
        self.open.retain(|(last, _, _)| *last >= r);
        while let Some(&(first, last, col)) = self.regions.front() {
            if first > r {
                break;
            }
            self.regions.pop_front();
            let top = if first == r {
                row.get(col).cloned().unwrap_or(Data::Empty)
            } else {
                Data::Empty
            };
            self.open.push((last, col, top));
        }
        for (_, col, top) in &self.open {
            if matches!(top, Data::Empty) || *col >= MAX_COLUMNS {
                continue;
            }
            if row.len() <= *col {
                row.resize(col + 1, Data::Empty);
            }
            if matches!(row[*col], Data::Empty) {
                row[*col] = top.clone();
            }
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
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("csv" | "txt" | "tsv") | None) {
        return None;
    }
    // UTF-16 text announces itself with its BOM; other text has no NUL
    // bytes in the first 8 KiB (PDFs and images have them).
    let head = &bytes[..bytes.len().min(8192)];
    if utf16_bom(bytes).is_some() || !head.contains(&0) {
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
            zip_check(&bytes).map_err(unreadable)?;
            match super::isolate::reader() {
                Some(exe) => xlsx_in_child(exe, bytes).map_err(unreadable)?,
                None => xlsx_here(bytes).map_err(unreadable)?,
            }
        }
        Format::Xls | Format::Ods => {
            let ext = if format == Format::Xls {
                "xls"
            } else {
                zip_check(&bytes).map_err(unreadable)?;
                "ods"
            };
            let reply = match super::isolate::reader() {
                Some(exe) => {
                    super::isolate::read_in_child(exe, ext, Arc::new(bytes)).map_err(unreadable)?
                }
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

/// The most an `.xlsx` or `.ods` may unpack to, all its parts together: far
/// more than any applicant workbook (a million rows of thirty columns is
/// about 1.5 GB of sheet XML), far less than a zip bomb's gigabytes.
pub const MAX_UNPACKED: u64 = 2 << 30;

/// Refuses a zip whose parts would unpack to more than `MAX_UNPACKED`, from
/// the sizes its central directory declares, before anything is unpacked.
/// The zip reader stops any part at its declared size, so these sizes bound
/// what reading the file can unpack. A file that is no readable zip is left
/// to the workbook reader to name.
fn zip_check(bytes: &[u8]) -> Result<(), String> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index_raw(i) else {
            continue;
        };
        total = total.saturating_add(part.size());
        if total > MAX_UNPACKED {
            let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
            return Err(format!(
                "the file is damaged or hostile: its part {:?} would unpack to {} MB, and a workbook \
                 may unpack to at most {} MB in all; open it in Excel or LibreOffice and save it again",
                name,
                part.size() >> 20,
                MAX_UNPACKED >> 20
            ));
        }
    }
    Ok(())
}

/// An .xlsx's sheets and their first rows, read by a reader child.
fn xlsx_in_child(exe: &Path, bytes: Vec<u8>) -> Result<Vec<Sheet>, String> {
    let bytes = Arc::new(bytes);
    match super::isolate::read_in_child(exe, "xlsx-head", Arc::clone(&bytes))? {
        super::isolate::Reply::Unreadable(detail) => Err(detail),
        super::isolate::Reply::Sheets(sheets) => Ok(sheets
            .into_iter()
            .map(|w| Sheet {
                name: w.name,
                grid: Grid::XlsxChild {
                    exe: exe.to_path_buf(),
                    bytes: Arc::clone(&bytes),
                    head: w
                        .rows
                        .into_iter()
                        .map(|r| r.into_iter().map(super::isolate::Cell::data).collect())
                        .collect(),
                },
            })
            .collect()),
    }
}

/// A sheet's rows of cells.
type Rows = Vec<Vec<Data>>;

/// The most bytes of text the first rows of all of a workbook's sheets may
/// hold: headers and titles are short.
const HEAD_BYTES: usize = 16 << 20;

/// An .xlsx's sheet names and their first `HEAD_ROWS` rows (gaps kept as
/// empty rows).
fn heads(book: &mut Xlsx<Cursor<Vec<u8>>>) -> Result<Vec<(String, Rows)>, String> {
    let mut sheets = Vec::new();
    let mut bytes = 0usize;
    for name in book.sheet_names() {
        let mut head = Vec::new();
        stream_xlsx(book, &name, false, &mut |i, row| {
            if i >= HEAD_ROWS || bytes > HEAD_BYTES {
                return false;
            }
            bytes += row.iter().map(|c| 32 + c.to_string().len()).sum::<usize>();
            head.resize(i, Vec::new());
            head.push(row);
            true
        })?;
        sheets.push((name, head));
        if bytes > HEAD_BYTES {
            return Err(format!(
                "the first {HEAD_ROWS} rows of its sheets hold more than {} MB of text; \
                 an applicant sheet's header is far shorter: check that this is the file meant",
                HEAD_BYTES >> 20
            ));
        }
    }
    Ok(sheets)
}

/// An .xlsx's sheets, streamed in this process (guarded against panics
/// only): for programs that link the library without a reader child.
fn xlsx_here(bytes: Vec<u8>) -> Result<Vec<Sheet>, String> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| e.to_string())?;
    let sheets = heads(&mut book)?;
    let book = Arc::new(Mutex::new(book));
    Ok(sheets
        .into_iter()
        .map(|(name, head)| Sheet {
            name,
            grid: Grid::Xlsx {
                book: Arc::clone(&book),
                head,
            },
        })
        .collect())
}

/// The reader child's `xlsx-head`: every sheet's name and first rows.
pub(super) fn xlsx_heads(bytes: Vec<u8>) -> super::isolate::Reply {
    use super::isolate::{Cell, Reply, WireSheet};
    let read = guard(|| {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| e.to_string())?;
        heads(&mut book)
    });
    match read {
        Ok(sheets) => Reply::Sheets(
            sheets
                .into_iter()
                .map(|(name, head)| WireSheet {
                    name,
                    origin: (0, 0),
                    rows: head
                        .iter()
                        .map(|r| r.iter().map(Cell::of).collect())
                        .collect(),
                })
                .collect(),
        ),
        Err(detail) => Reply::Unreadable(detail),
    }
}

/// The reader child's `xlsx-rows`: the rows of `sheet` from index `from`
/// on, to `f` until it returns false.
pub(super) fn xlsx_rows(
    bytes: Vec<u8>,
    sheet: &str,
    from: usize,
    f: &mut dyn FnMut(usize, Vec<Data>) -> bool,
) -> Result<(), String> {
    guard(|| {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| e.to_string())?;
        stream_xlsx(&mut book, sheet, true, &mut |i, row| i < from || f(i, row))
    })
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
            let merges: Vec<Vec<calamine::Dimensions>> = book
                .sheet_names()
                .iter()
                .map(|n| book.merge_cells_by_sheet_name(n).unwrap_or_default())
                .collect();
            let mut sheets = ranges(book)?;
            for (sheet, regions) in sheets.iter_mut().zip(merges) {
                sheet.fill_merged_down(regions);
            }
            sheets
        } else {
            let book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(&bytes[..]))
                .map_err(|e: calamine::OdsError| e.to_string())?;
            let mut sheets = ranges(book)?;
            let mut spans = ods_spans_down(&bytes)?;
            for sheet in &mut sheets {
                if let Some(at) = spans.iter().position(|(name, _)| name == &sheet.name) {
                    sheet.fill_merged_down(spans.swap_remove(at).1);
                }
            }
            sheets
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
                        .map(|row| {
                            row.iter()
                                .take(MAX_COLUMNS)
                                .map(|c| Cell::of(&bounded(c.clone())))
                                .collect()
                        })
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

/// The cells of an .ods that span rows down one column
/// (`table:number-rows-spanned`), per sheet: calamine reads an .ods's
/// values but not its spans.
fn ods_spans_down(bytes: &[u8]) -> Result<Vec<(String, Vec<calamine::Dimensions>)>, String> {
    use quick_xml::events::{BytesStart, Event};
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut xml = Vec::new();
    zip.by_name("content.xml")
        .map_err(|e| e.to_string())?
        .read_to_end(&mut xml)
        .map_err(|e| e.to_string())?;
    let number = |e: &BytesStart, key: &str| -> u32 {
        e.try_get_attribute(key)
            .ok()
            .flatten()
            .and_then(|a| a.value.trim().parse().ok())
            .unwrap_or(1)
    };
    let mut reader = quick_xml::Reader::from_reader(&xml[..]);
    let mut buf = Vec::new();
    let mut out: Vec<(String, Vec<calamine::Dimensions>)> = Vec::new();
    let (mut row, mut col, mut repeat) = (0u32, 0u32, 1u32);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" => {
                    let name = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default();
                    out.push((name, Vec::new()));
                    row = 0;
                }
                "table:table-row" => {
                    col = 0;
                    repeat = number(&e, "table:number-rows-repeated");
                    if empty {
                        row = row.saturating_add(repeat);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let down = number(&e, "table:number-rows-spanned");
                    let across = number(&e, "table:number-columns-spanned");
                    if down > 1
                        && across == 1
                        && let Some((_, regions)) = out.last_mut()
                        && regions.len() < MAX_MERGES
                    {
                        regions.push(calamine::Dimensions {
                            start: (row, col),
                            end: (row.saturating_add(down - 1), col),
                        });
                    }
                    col = col.saturating_add(number(&e, "table:number-columns-repeated"));
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                row = row.saturating_add(repeat);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
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

/// The UTF-16 encoding a byte order mark at the start names.
fn utf16_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

/// Decodes CSV bytes: UTF-16 little- or big-endian when a BOM says so (Excel's
/// "Unicode Text"), UTF-8 (a BOM is dropped) when they are valid UTF-8,
/// otherwise Windows-1251, the code page Ukrainian Excel saves CSV in.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(encoding) = utf16_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[2..])
            .0
            .into_owned();
    }
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
                .take(MAX_COLUMNS)
                .map(|f| {
                    if f.is_empty() {
                        Data::Empty
                    } else {
                        bounded(Data::String(crate::text::csv_uncell(f).to_string()))
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

    fn ods_with(content: &str) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("content.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn an_ods_spans_hostile_numbers_and_broken_xml_never_panic() {
        // Spans and repeats at u32's end, numbers that overflow or are no
        // numbers, a span across columns (left alone).
        let xml = r#"<office:document-content><office:body><office:spreadsheet>
            <table:table table:name="A &amp; B">
              <table:table-row table:number-rows-repeated="4294967295"/>
              <table:table-row>
                <table:table-cell table:number-columns-repeated="99999999999999"/>
                <table:table-cell table:number-rows-spanned="4294967295"/>
                <table:table-cell table:number-rows-spanned="-3"/>
                <table:table-cell table:number-rows-spanned="2" table:number-columns-spanned="2"/>
              </table:table-row>
              <table:table-row><table:table-cell table:number-rows-spanned="3"/></table:table-row>
            </table:table></office:spreadsheet></office:body></office:document-content>"#;
        let spans = ods_spans_down(&ods_with(xml)).unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].0, "A & B");
        assert!(
            spans[0]
                .1
                .iter()
                .all(|d| d.end.0 >= d.start.0 && d.start.1 == d.end.1)
        );
        // Truncated or broken XML, or no content.xml: an error, not a panic.
        assert!(ods_spans_down(&ods_with("<table:table><table:table-row></table:table")).is_err());
        assert!(ods_spans_down(b"PK\x03\x04 not a zip").is_err());
    }

    #[test]
    fn a_region_merged_down_fills_the_rows_it_covers_and_no_other() {
        let d = |r0, r1, c0, c1| calamine::Dimensions {
            start: (r0, c0),
            end: (r1, c1),
        };
        // Down column 1 over rows 2–3; across row 0 (a title: left alone);
        // a square (left alone); one that starts in a row never streamed.
        let mut m = MergedDown::new(vec![
            d(2, 3, 1, 1),
            d(0, 0, 0, 3),
            d(5, 6, 0, 1),
            d(7, 9, 2, 2),
        ]);
        let s = |t: &str| Data::String(t.into());
        let mut rows = vec![
            (0, vec![s("Заголовок")]),
            (2, vec![s("Бойко А."), s("вул. Шкільна, 5")]),
            (3, vec![s("Бойко І.")]),
            (4, vec![s("Лисенко М.")]),
            (8, vec![s("Коваль")]),
        ];
        for (r, row) in &mut rows {
            m.fill(*r, row);
        }
        assert_eq!(rows[0].1, [s("Заголовок")]);
        assert_eq!(rows[2].1, [s("Бойко І."), s("вул. Шкільна, 5")]);
        assert_eq!(rows[3].1, [s("Лисенко М.")]);
        assert_eq!(rows[4].1, [s("Коваль")]);
        // A file declaring more regions than are read costs no more.
        let many = (0..MAX_MERGES as u32 + 10)
            .map(|i| d(i, i + 1, 0, 0))
            .collect();
        assert_eq!(MergedDown::new(many).regions.len(), MAX_MERGES);
    }

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
    fn utf16_with_its_bom_decodes_in_either_byte_order() {
        let text = "Прізвище\tІм'я\nМʼякота\tГанна\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_text(&le), text);
        assert_eq!(decode_text(&be), text);
        assert_eq!(sniff(&le, Path::new("заяви.txt")), Some(Format::Csv));
        assert_eq!(sniff(&be, Path::new("заяви.csv")), Some(Format::Csv));
        assert_eq!(sniff(&le, Path::new("заяви.pdf")), None);
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
