//! The rejects file: every row that could not be imported, with all its
//! original cells and the reason (in Ukrainian, and in English beside it), as
//! a CSV the clerk can fix and import again (its extra columns are ignored
//! on re-import). Rows are written as they are rejected, never gathered in
//! memory, through a private part file renamed into place at the end
//! (`private::NewFile`); a run that rejects more than `MAX_ROWS` rows or
//! `MAX_BYTES` bytes of them stops (`Rejects::full`). The warnings file beside
//! it is written the same way.

use std::io::Write;
use std::path::{Path, PathBuf};

use calamine::Data;

use super::cells;
use crate::private::{Mode, NewFile};

/// The most rejected rows one run writes before it stops.
pub const MAX_ROWS: usize = 100_000;

/// The most bytes of rejected rows one run writes before it stops.
pub const MAX_BYTES: u64 = 128 << 20;

/// A cell as the clerk typed it, so a fixed rejects file imports again:
/// dates as `dd.mm.yyyy`, numbers without `.0`; a cell cut when it was read
/// (`cells::clip`) ends in an ellipsis.
pub fn original(cell: &Data) -> String {
    match cell {
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{d:02}.{m:02}.{y:04}")
        }
        other => {
            let text = cells::text(other);
            match cells::uncut(&text) {
                (head, full) if full > head.chars().count() => format!("{head}…"),
                _ => text,
            }
        }
    }
}

/// Counts the bytes written through it.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where a CSV's rows go: a file, or nowhere (a dry run counts them only).
enum Sink<F> {
    File(F),
    Nowhere,
}

impl<F: Write> Write for Sink<F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Nowhere => Ok(buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Nowhere => Ok(()),
        }
    }
}

/// A UTF-8 CSV with a BOM (so Excel shows Cyrillic), owner only (it quotes
/// applicants' cells), created at its first row.
struct Csv {
    path: PathBuf,
    write: bool,
    head: Vec<String>,
    out: Option<csv::Writer<Counted<Sink<NewFile>>>>,
    rows: usize,
}

impl Csv {
    fn new(path: PathBuf, write: bool, head: Vec<String>) -> Csv {
        Csv {
            path,
            write,
            head,
            out: None,
            rows: 0,
        }
    }

    fn row(&mut self, record: &[&str]) -> std::io::Result<()> {
        if self.out.is_none() {
            let mut sink = if self.write {
                Sink::File(NewFile::create(&self.path, Mode::Private)?)
            } else {
                Sink::Nowhere
            };
            sink.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(Counted {
                inner: sink,
                bytes: 3,
            });
            w.write_record(crate::text::csv_row(&self.head))?;
            self.out = Some(w);
        }
        let out = self.out.as_mut().expect("created above");
        out.write_record(crate::text::csv_row(record))?;
        self.rows += 1;
        Ok(())
    }

    /// Puts the file in place; its path, when a row was written to it.
    fn commit(self) -> std::io::Result<Option<PathBuf>> {
        let Some(w) = self.out else {
            return Ok(None);
        };
        let counted = w.into_inner().map_err(|e| e.into_error())?;
        match counted.inner {
            Sink::File(f) => {
                f.commit()?;
                Ok(Some(self.path))
            }
            Sink::Nowhere => Ok(None),
        }
    }
}

/// The rejects file of one run. Rows are spilled, as they come, to an
/// unnamed private file beside the target; at the end the file is written
/// from it with a column for every header name of the sheets that had a
/// rejected row, in the order they were met.
pub struct Rejects {
    path: PathBuf,
    write: bool,
    /// Each sheet's header names, by its number (`sheet`).
    sheets: Vec<Vec<String>>,
    /// The sheets with a rejected row, in the order of their first.
    used: Vec<usize>,
    spill: Option<csv::Writer<Counted<Sink<std::io::BufWriter<std::fs::File>>>>>,
    rows: usize,
}

/// One rejected row.
pub struct Reject<'a> {
    /// The sheet's number (`Rejects::sheet`).
    pub sheet_no: usize,
    pub file: &'a str,
    pub sheet: &'a str,
    pub row: usize,
    pub reason: &'a super::Why,
    pub cells: &'a [Data],
}

impl Rejects {
    /// Rejects to `path` (nothing is written when `write` is false).
    pub fn new(path: PathBuf, write: bool) -> Rejects {
        Rejects {
            path,
            write,
            sheets: Vec::new(),
            used: Vec::new(),
            spill: None,
            rows: 0,
        }
    }

    /// Registers a sheet's header names (by column); its number.
    pub fn sheet(&mut self, names: &[String]) -> usize {
        self.sheets.push(names.to_vec());
        self.sheets.len() - 1
    }

    /// Writes one rejected row.
    pub fn add(&mut self, r: &Reject) -> std::io::Result<()> {
        if self.spill.is_none() {
            let sink = if self.write {
                let file = tempfile::tempfile_in(folder(&self.path))?;
                Sink::File(std::io::BufWriter::with_capacity(1 << 16, file))
            } else {
                Sink::Nowhere
            };
            self.spill = Some(
                csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(Counted {
                        inner: sink,
                        bytes: 0,
                    }),
            );
        }
        if !self.used.contains(&r.sheet_no) {
            self.used.push(r.sheet_no);
        }
        let spill = self.spill.as_mut().expect("created above");
        let mut record = vec![
            r.sheet_no.to_string(),
            r.file.to_string(),
            r.sheet.to_string(),
            r.row.to_string(),
            r.reason.uk.clone(),
            r.reason.en.clone(),
        ];
        record.extend(r.cells.iter().map(original));
        spill.write_record(&record)?;
        self.rows += 1;
        Ok(())
    }

    /// Whether the run has rejected more than it may.
    pub fn full(&self) -> bool {
        let bytes = self.spill.as_ref().map_or(0, |w| w.get_ref().bytes);
        self.rows > MAX_ROWS || bytes > MAX_BYTES
    }

    /// Writes the file and puts it in place; its path, when a row was
    /// rejected and the run writes.
    pub fn commit(self) -> std::io::Result<Option<PathBuf>> {
        let Some(spill) = self.spill else {
            return Ok(None);
        };
        let Sink::File(spill) = spill.into_inner().map_err(|e| e.into_error())?.inner else {
            return Ok(None);
        };
        let mut spill = spill.into_inner().map_err(|e| e.into_error())?;
        std::io::Seek::rewind(&mut spill)?;
        let mut headers: Vec<&String> = Vec::new();
        for &n in &self.used {
            for h in &self.sheets[n] {
                if !h.is_empty() && !headers.contains(&h) {
                    headers.push(h);
                }
            }
        }
        let mut out = Csv::new(self.path, true, {
            let mut head: Vec<String> = ["Файл", "Аркуш", "Рядок", "Причина", "Reason"]
                .map(String::from)
                .to_vec();
            head.extend(headers.iter().map(|h| h.to_string()));
            head
        });
        let mut read = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 16, spill));
        let mut record = csv::StringRecord::new();
        while read.read_record(&mut record)? {
            let names = record
                .get(0)
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.sheets.get(n))
                .ok_or_else(|| std::io::Error::other("the rejects spill file is damaged"))?;
            let mut row: Vec<&str> = record.iter().skip(1).take(5).collect();
            for h in &headers {
                row.push(
                    names
                        .iter()
                        .position(|n| n == *h)
                        .and_then(|c| record.get(6 + c))
                        .unwrap_or(""),
                );
            }
            out.row(&row)?;
        }
        out.commit()
    }
}

/// The folder a file is written in.
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The warnings file of one run: `<name>.warnings.csv` beside the rejects.
pub struct Warnings(Csv);

impl Warnings {
    pub fn new(path: PathBuf, write: bool) -> Warnings {
        let head = ["Файл", "Аркуш", "Рядок", "Попередження", "Warning"]
            .map(String::from)
            .to_vec();
        Warnings(Csv::new(path, write, head))
    }

    /// Writes one warning about a row.
    pub fn add(
        &mut self,
        file: &str,
        sheet: &str,
        row: usize,
        text: &super::Why,
    ) -> std::io::Result<()> {
        self.0
            .row(&[file, sheet, &row.to_string(), &text.uk, &text.en])
    }

    /// Puts the file in place; its path, when a warning was written.
    pub fn commit(self) -> std::io::Result<Option<PathBuf>> {
        self.0.commit()
    }
}

/// The warnings file beside the rejects file: `<name>.warnings.csv`.
pub fn warnings_path(rejects: &Path) -> PathBuf {
    let name = rejects
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".rejects.csv")
        .or_else(|| name.strip_suffix(".csv"))
        .unwrap_or(&name);
    rejects.with_file_name(format!("{stem}.warnings.csv"))
}

/// The default place: next to the (first) input, `<name>.rejects.csv`.
pub fn default_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "applicants".into());
    input.with_file_name(format!("{stem}.rejects.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why() -> super::super::Why {
        super::super::Why {
            uk: "причина".into(),
            en: "reason".into(),
        }
    }

    #[test]
    fn rows_are_spilled_then_land_with_the_columns_of_their_sheets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rejects.csv");
        let r = Rejects::new(path.clone(), true);
        assert!(r.commit().unwrap().is_none(), "no row, no file");
        assert!(!path.exists());
        let mut r = Rejects::new(path.clone(), true);
        let uk = r.sheet(&["Прізвище".into(), "Ім'я".into()]);
        let _unused = r.sheet(&["Surname".into()]);
        let other = r.sheet(&["".into(), "Ім'я".into(), "Громада".into()]);
        let long = [Data::String(cells::clip("я".repeat(5000))), Data::Empty];
        let add = |r: &mut Rejects, sheet_no, row, cells: &[Data]| {
            r.add(&Reject {
                sheet_no,
                file: "a.xlsx",
                sheet: "Заяви",
                row,
                reason: &why(),
                cells,
            })
            .unwrap()
        };
        add(&mut r, uk, 7, &long);
        add(
            &mut r,
            other,
            3,
            &[Data::Empty, Data::String("Ганна".into()), Data::Int(5)],
        );
        assert!(!path.exists(), "in place only at commit");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "spilled unnamed"
        );
        assert_eq!(r.commit().unwrap(), Some(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        let cut = format!("{}…", "я".repeat(cells::CELL_CHARS));
        assert_eq!(
            text,
            format!(
                "\u{feff}Файл,Аркуш,Рядок,Причина,Reason,Прізвище,Ім'я,Громада\n\
                 a.xlsx,Заяви,7,причина,reason,{cut},,\n\
                 a.xlsx,Заяви,3,причина,reason,,Ганна,5\n"
            )
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_run_is_full_past_its_rows_or_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Rejects::new(dir.path().join("a.rejects.csv"), false);
        let n = r.sheet(&["Прізвище".into()]);
        let wide: Vec<Data> = (0..300)
            .map(|_| Data::String(cells::clip("я".repeat(5000))))
            .collect();
        let mut added = 0;
        while !r.full() {
            r.add(&Reject {
                sheet_no: n,
                file: "a.xlsx",
                sheet: "",
                row: added,
                reason: &why(),
                cells: &wide,
            })
            .unwrap();
            added += 1;
        }
        // A row is 300 cells of 1,000 two-byte letters and an ellipsis.
        let per_row = 300 * (2 * cells::CELL_CHARS + 4);
        let expected = MAX_BYTES as usize / per_row;
        assert!((expected..=expected + 2).contains(&added), "{added} rows");
        assert_eq!(r.commit().unwrap(), None, "a dry run writes nothing");
    }

    #[test]
    fn a_dry_run_counts_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rejects.csv");
        let mut w = Warnings::new(path.clone(), false);
        w.add("a.csv", "", 2, &why()).unwrap();
        assert_eq!(w.commit().unwrap(), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
