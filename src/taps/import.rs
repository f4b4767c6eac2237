//! `kartka taps import FILE...`: raw dumps (from `dumps/` or a technician's
//! laptop) and vendor CSV exports. Every file is read and checked before
//! anything is stored: a file unusable as a whole stops the run with nothing
//! imported. Each file's raw bytes are kept in the home (`dumps/`) before its
//! taps are stored. Importing a file again stores nothing new.

use std::path::{Path, PathBuf};

use kartka_protocol::auth::DockKey;
use rustc_hash::FxHashMap;

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
    /// Vendor rows a dump's signed taps replaced (in quarantine).
    pub taps_replaced: usize,
    /// A dump's taps that differ from signed taps stored under their
    /// numbers (in quarantine, not stored).
    pub taps_conflict: usize,
    pub rejected: usize,
    pub rejects_file: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub files: Vec<FileSummary>,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    pub taps_replaced: usize,
    pub taps_conflict: usize,
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
    refuse_conflicts(home, reg, &held, &checked)?;
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
                    taps_replaced: s.taps_replaced,
                    taps_conflict: s.taps_conflict,
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
                    ..FileSummary::default()
                }
            }
        };
        out.taps_new += file.taps_new;
        out.taps_duplicate += file.taps_duplicate;
        out.taps_replaced += file.taps_replaced;
        out.taps_conflict += file.taps_conflict;
        out.rejected += file.rejected;
        out.files.push(file);
    }
    Ok(out)
}

/// Refuses the run, before anything is stored, when a vendor file's row
/// is a different tap under a (validator, seq) the store holds or an
/// earlier file of the run carries: the rows are named.
fn refuse_conflicts(
    home: &Home,
    reg: &Registry,
    held: &Held,
    checked: &[Checked],
) -> Result<(), Error> {
    use super::conflict::Said;
    let mut earlier: FxHashMap<(u16, u32), (Said, String)> = FxHashMap::default();
    for c in checked {
        let Checked::Csv { path, parsed, .. } = c else {
            continue;
        };
        let line_of: FxHashMap<(u16, u32), u64> = parsed
            .taps
            .iter()
            .zip(&parsed.lines)
            .map(|(t, l)| ((t.record.validator, t.record.seq), *l))
            .collect();
        let mut found: Vec<(u64, String)> = Vec::new();
        let mut against_signed = false;
        for (t, s) in super::ingest::unsigned_conflicts(home, reg, held, &parsed.taps)? {
            against_signed |= s.signed;
            let key = (t.record.validator, t.record.seq);
            let source = if s.signed {
                "a validator's signed tap"
            } else {
                "a vendor row"
            };
            found.push((
                line_of.get(&key).copied().unwrap_or(0),
                format!(
                    "{}; the store holds {} (batch {}): {}",
                    describe(&t),
                    source,
                    s.batch,
                    describe(&s.tap)
                ),
            ));
        }
        for (t, line) in parsed.taps.iter().zip(&parsed.lines) {
            let key = (t.record.validator, t.record.seq);
            match earlier.get(&key) {
                Some((said, file)) if *said != Said::of(t) => found.push((
                    *line,
                    format!("{}; {file} carries another tap under it", describe(t)),
                )),
                Some(_) => {}
                None => {
                    earlier.insert(key, (Said::of(t), path.display().to_string()));
                }
            }
        }
        if found.is_empty() {
            continue;
        }
        found.sort();
        let first = found
            .iter()
            .take(5)
            .map(|(line, what)| format!("  line {line}: {what}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(Error::Conflicts {
            path: path.clone(),
            count: found.len(),
            first,
            todo: if against_signed {
                "These validators' own signed taps are stored under those numbers and win: leave the rows out of the export (or export only the validators kartka does not dock), then import it again."
            } else {
                "The vendor's numbering restarts or repeats (each export from seq 1 again?): ask the vendor for an export whose seq keeps counting per validator, then import it again."
            },
        });
    }
    Ok(())
}

fn describe(t: &Tap) -> String {
    let at = chrono::DateTime::from_timestamp(i64::from(t.record.time), 0)
        .map(crate::time::kyiv_text)
        .unwrap_or_default();
    format!(
        "validator {} seq {} at {at}, card {}, {}",
        t.record.validator,
        t.record.seq,
        t.record.card,
        t.record.result.name()
    )
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
