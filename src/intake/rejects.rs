//! The rejects file: every row that could not be imported, with all its
//! original cells and the reason (in Ukrainian, and in English beside it), as
//! a CSV the clerk can fix and import again
//! (its extra columns are ignored on re-import).

use std::path::{Path, PathBuf};

use calamine::Data;

use super::cells;

pub struct Reject {
    pub file: String,
    pub sheet: String,
    pub row: usize,
    pub reason: super::Why,
    /// (header as written, original cell) pairs.
    pub cells: Vec<(String, String)>,
}

/// A cell as the clerk typed it, so a fixed rejects file imports again:
/// dates as `dd.mm.yyyy`, numbers without `.0`.
pub fn original(cell: &Data) -> String {
    match cell {
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{d:02}.{m:02}.{y:04}")
        }
        other => cells::text(other),
    }
}

/// A row imported with a warning.
pub struct Warning {
    pub file: String,
    pub sheet: String,
    pub row: usize,
    pub text: super::Why,
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

/// Writes the warnings as UTF-8 CSV with a BOM, owner only (they quote
/// applicants' cells), whole or not at all (`private::write`).
pub fn write_warnings(path: &Path, warnings: &[Warning]) -> std::io::Result<()> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut bytes);
        w.write_record(["Файл", "Аркуш", "Рядок", "Попередження", "Warning"])?;
        for x in warnings {
            w.write_record([
                x.file.as_str(),
                x.sheet.as_str(),
                &x.row.to_string(),
                &x.text.uk,
                &x.text.en,
            ])?;
        }
        w.flush()?;
    }
    crate::private::write(path, &bytes)
}

/// The default place: next to the (first) input, `<name>.rejects.csv`.
pub fn default_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "applicants".into());
    input.with_file_name(format!("{stem}.rejects.csv"))
}

/// Writes the rejects as UTF-8 CSV with a BOM (so Excel shows Cyrillic),
/// through a temporary file renamed into place.
pub fn write(path: &Path, rejects: &[Reject]) -> std::io::Result<()> {
    let mut headers: Vec<String> = Vec::new();
    for r in rejects {
        for (h, _) in &r.cells {
            if !h.is_empty() && !headers.contains(h) {
                headers.push(h.clone());
            }
        }
    }
    let tmp = path.with_extension("csv.tmp");
    {
        // The rows hold applicants' personal data: owner only (P22).
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?
        };
        std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")?;
        let mut w = csv::Writer::from_writer(&mut file);
        let mut head = vec![
            "Файл".to_string(),
            "Аркуш".into(),
            "Рядок".into(),
            "Причина".into(),
            "Reason".into(),
        ];
        head.extend(headers.iter().cloned());
        w.write_record(&head)?;
        for r in rejects {
            let mut record = vec![
                r.file.clone(),
                r.sheet.clone(),
                r.row.to_string(),
                r.reason.uk.clone(),
                r.reason.en.clone(),
            ];
            for h in &headers {
                record.push(
                    r.cells
                        .iter()
                        .find(|(name, _)| name == h)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                );
            }
            w.write_record(&record)?;
        }
        w.flush()?;
        drop(w);
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
