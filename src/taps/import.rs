//! `kartka taps import FILE...`: raw dumps (from `dumps/` or a technician's
//! laptop) and vendor CSV exports. Every file is read and checked before
//! anything is stored: a file unusable as a whole stops the run with nothing
//! imported. Each file's raw bytes are kept in the home (`dumps/`) before its
//! taps are stored. Importing a file again stores nothing new.

use std::path::{Path, PathBuf};

use kartka_protocol::auth::DockKey;

use crate::home::Home;
use crate::registry::Registry;

use super::ledger::Held;
use super::{Error, Source, Tap, dump, vendor};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileSummary {
    pub file: String,
    pub kind: &'static str,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    pub rejected: usize,
    pub rejects_file: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub files: Vec<FileSummary>,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    pub rejected: usize,
}

enum Checked {
    Dump {
        path: PathBuf,
        bytes: Vec<u8>,
        dump: dump::Dump,
    },
    Csv {
        path: PathBuf,
        bytes: Vec<u8>,
        parsed: vendor::Parsed,
    },
}

/// Imports the files. `rejects` overrides where a CSV's rejects go (with
/// several CSV files, each gets its own beside it).
pub fn import(
    home: &Home,
    reg: &mut Registry,
    master: &DockKey,
    files: &[PathBuf],
    rejects: Option<&Path>,
    operator: &str,
) -> Result<Summary, Error> {
    let mut checked = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(Error::read(path))?;
        if bytes.starts_with(b"KDMP") {
            let dump = dump::parse(&bytes, master, path)?;
            if crate::fleet::validator(reg, dump.header.validator)?.is_none() {
                return Err(Error::UnknownValidator {
                    path: path.clone(),
                    validator: dump.header.validator,
                });
            }
            checked.push(Checked::Dump {
                path: path.clone(),
                bytes,
                dump,
            });
        } else {
            let parsed = vendor::parse(&bytes, path)?;
            checked.push(Checked::Csv {
                path: path.clone(),
                bytes,
                parsed,
            });
        }
    }
    super::parquet::sweep(home, reg)?;
    super::sweep_parts(home);
    let mut held = Held::load(reg)?;
    let mut out = Summary::default();
    for c in checked {
        let file = match c {
            Checked::Dump { path, bytes, dump } => {
                let kept = keep(
                    home,
                    &path,
                    &bytes,
                    &home.dumps().join(format!("v{:05}", dump.header.validator)),
                    &dump.header.file_name(),
                )?;
                let source = Source {
                    kind: "dump",
                    file: Some(Path::new(&kept)),
                    sha256: super::sha256_hex(&bytes),
                    validator: Some(dump.header.validator),
                    rejected: 0,
                };
                let taps = dump.records.into_iter().map(Tap::from_record).collect();
                let s = super::ingest(home, reg, &mut held, taps, &source, operator)?;
                FileSummary {
                    file: path.display().to_string(),
                    kind: "dump",
                    taps_new: s.taps_new,
                    taps_duplicate: s.taps_duplicate,
                    ..FileSummary::default()
                }
            }
            Checked::Csv {
                path,
                bytes,
                parsed,
            } => {
                let sha = super::sha256_hex(&bytes);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "taps.csv".into());
                let kept = keep(
                    home,
                    &path,
                    &bytes,
                    &home.dumps().join("vendor"),
                    &format!("{}-{name}", &sha[..12]),
                )?;
                let mut rejects_file = None;
                if !parsed.rejects.is_empty() {
                    let to = match rejects {
                        Some(r) if files.len() == 1 => r.to_path_buf(),
                        _ => vendor::rejects_path(&path),
                    };
                    vendor::write_rejects(&to, &parsed.header, &parsed.rejects)?;
                    rejects_file = Some(to.display().to_string());
                }
                let source = Source {
                    kind: "vendor-csv",
                    file: Some(Path::new(&kept)),
                    sha256: sha,
                    validator: None,
                    rejected: parsed.rejects.len(),
                };
                let s = super::ingest(home, reg, &mut held, parsed.taps, &source, operator)?;
                FileSummary {
                    file: path.display().to_string(),
                    kind: "vendor-csv",
                    taps_new: s.taps_new,
                    taps_duplicate: s.taps_duplicate + parsed.repeated,
                    rejected: parsed.rejects.len(),
                    rejects_file,
                }
            }
        };
        out.taps_new += file.taps_new;
        out.taps_duplicate += file.taps_duplicate;
        out.rejected += file.rejected;
        out.files.push(file);
    }
    Ok(out)
}

/// Keeps a copy of an imported file's bytes in the home, unless it is
/// there already; returns its path relative to the home.
fn keep(home: &Home, path: &Path, bytes: &[u8], dir: &Path, name: &str) -> Result<String, Error> {
    let inside = path
        .canonicalize()
        .ok()
        .zip(home.root().canonicalize().ok())
        .and_then(|(p, h)| p.strip_prefix(&h).ok().map(Path::to_path_buf));
    if let Some(rel) = inside {
        return Ok(rel.display().to_string());
    }
    let to = dir.join(name);
    if !to.exists() {
        super::write_durably(dir, name, bytes)?;
    }
    Ok(to
        .strip_prefix(home.root())
        .unwrap_or(&to)
        .display()
        .to_string())
}
