//! `kartka backup verify DEST`: every file the manifest lists is there
//! with its size and SHA-256, nothing unlisted is there, the registry copy
//! passes SQLite's integrity check, and its ledger lists exactly the tap
//! files the backup holds.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::manifest::{self, Manifest};
use super::{DEST_LOCK, Error, INCOMPLETE, REGISTRY};

/// A backup found good.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    pub dest: String,
    pub created_at: String,
    pub source_home: String,
    pub kartka_version: String,
    pub schema_version: i64,
    pub files: usize,
    pub bytes: u64,
    pub tap_files: usize,
    #[serde(skip)]
    pub manifest: Manifest,
}

/// Checks the backup in `dest`. `Damaged` (65) names every bad file and
/// what differs; `NotABackup` (66) when `dest` holds no backup.
pub fn verify(dest: &Path, bar: &indicatif::ProgressBar) -> Result<Verified, Error> {
    let m = Manifest::read(dest)?;
    let mut problems = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dest.join(INCOMPLETE)) {
        problems.push(format!(
            "{INCOMPLETE}: a backup into this folder did not finish ({}); run `kartka backup` again",
            text.trim()
        ));
    }
    bar.set_length(m.files.len() as u64);
    let mut bytes = 0;
    for e in &m.files {
        bytes += e.size;
        let path = dest.join(&e.path);
        match std::fs::symlink_metadata(&path) {
            Err(_) => problems.push(format!("{}: missing", e.path)),
            Ok(md) if !md.is_file() => problems.push(format!("{}: not a regular file", e.path)),
            Ok(md) if md.len() != e.size => problems.push(format!(
                "{}: {} bytes, the manifest says {}",
                e.path,
                md.len(),
                e.size
            )),
            Ok(_) => match manifest::hash_file(&path) {
                Ok((_, sha)) if sha != e.sha256 => problems.push(format!(
                    "{}: SHA-256 {sha}, the manifest says {}",
                    e.path, e.sha256
                )),
                Ok(_) => {}
                Err(err) => problems.push(format!("{}: cannot read: {err}", e.path)),
            },
        }
        bar.inc(1);
    }
    let listed: BTreeSet<&str> = m.files.iter().map(|e| e.path.as_str()).collect();
    for rel in manifest::walk(dest).map_err(Error::read(dest))? {
        if rel == manifest::FILE || rel == DEST_LOCK || rel == INCOMPLETE {
            continue;
        }
        if !listed.contains(rel.as_str()) {
            problems.push(format!("{rel}: present but not listed in the manifest"));
        }
    }
    let mut tap_files = 0;
    if listed.contains(REGISTRY) {
        match registry_problems(&dest.join(REGISTRY), &listed) {
            Ok((n, mut p)) => {
                tap_files = n;
                problems.append(&mut p);
            }
            Err(e) => problems.push(format!("{REGISTRY}: cannot be read by SQLite: {e}")),
        }
    } else {
        problems.push(format!(
            "{REGISTRY}: not listed in the manifest (every backup holds the registry)"
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Damaged {
            path: dest.to_path_buf(),
            problems,
        });
    }
    Ok(Verified {
        dest: dest.display().to_string(),
        created_at: m.created_at.clone(),
        source_home: m.source_home.clone(),
        kartka_version: m.kartka_version.clone(),
        schema_version: m.schema_version,
        files: m.files.len(),
        bytes,
        tap_files,
        manifest: m,
    })
}

/// The registry copy's integrity check, and its ledger against the tap
/// files listed: returns how many live tap files it lists, and problems.
fn registry_problems(
    path: &Path,
    listed: &BTreeSet<&str>,
) -> Result<(usize, Vec<String>), rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut problems = Vec::new();
    let mut st = conn.prepare("PRAGMA integrity_check")?;
    let checks: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if checks != ["ok"] {
        for c in checks.iter().take(5) {
            problems.push(format!("{REGISTRY}: integrity check: {c}"));
        }
        return Ok((0, problems));
    }
    let mut st =
        conn.prepare("SELECT path FROM tap_files WHERE replaced_at IS NULL ORDER BY path")?;
    let live: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    for rel in &live {
        if !listed.contains(rel.as_str()) {
            problems.push(format!(
                "{rel}: the registry's ledger lists it, the backup lacks it"
            ));
        }
    }
    let live: BTreeSet<&str> = live.iter().map(String::as_str).collect();
    for rel in listed.iter().filter(|p| p.starts_with("taps/")) {
        if !live.contains(rel) {
            problems.push(format!(
                "{rel}: in the backup, but not a live file of the registry's ledger"
            ));
        }
    }
    Ok((live.len(), problems))
}
