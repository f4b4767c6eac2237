//! `kartka restore SRC --home DIR`: a verified backup into a new, working
//! home. Everything is written into a temporary folder beside DIR and
//! renamed at the end, so a failed restore leaves nothing half-made.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::manifest;
use super::{Error, REGISTRY};
use crate::home::Home;
use crate::registry::Registry;

/// A home rebuilt from a backup.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Restored {
    pub home: String,
    pub from: String,
    /// When the backup's registry snapshot was taken, UTC.
    pub created_at: String,
    pub source_home: String,
    pub files: usize,
    pub bytes: u64,
    pub tap_files: usize,
    /// The registry's schema version after a restore (brought up to date).
    pub schema_version: i64,
    pub seconds: f64,
}

/// Restores the backup in `src` as the home `target`. Refuses a bad backup
/// (65, 66) and a `target` that exists and is not empty (73), writing nothing.
pub fn restore(src: &Path, target: &Path, bar: &indicatif::ProgressBar) -> Result<Restored, Error> {
    let started = Instant::now();
    let v = super::verify(src, bar)?;
    let refuse = |why: String, todo: &'static str| Error::Refused {
        path: target.to_path_buf(),
        why,
        todo,
    };
    if target.exists() {
        if !target.is_dir() {
            return Err(refuse(
                "exists and is not a folder".into(),
                "Restore into a new folder; nothing was written.",
            ));
        }
        let mut entries = std::fs::read_dir(target).map_err(Error::read(target))?;
        if entries.next().is_some() {
            return Err(refuse(
                "exists and is not empty".into(),
                "Restore into a new or empty folder (a restore never overwrites a home); nothing was written.",
            ));
        }
    }
    let src_abs = src.canonicalize().map_err(Error::read(src))?;
    let target_abs = std::path::absolute(target).map_err(Error::read(target))?;
    if target_abs.starts_with(&src_abs) {
        return Err(refuse(
            "is inside the backup".into(),
            "Restore into a folder outside the backup; nothing was written.",
        ));
    }
    if target_abs.file_name().is_none() {
        return Err(refuse(
            "has no folder name".into(),
            "Give the new home's folder, e.g. --home /srv/kartka-restored.",
        ));
    }
    let parent = target_abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    std::fs::create_dir_all(&parent).map_err(Error::write(&parent))?;
    // Built in a folder made new beside the target (mode 0700, never
    // through a link), renamed into place whole; a killed restore's folder
    // is swept by the next restore to the same place.
    let stage = crate::private::NewDir::create(&target_abs, crate::private::Mode::Private)
        .map_err(Error::write(&parent))?;
    bar.set_position(0);
    let schema_version = build(src, stage.path(), &v.manifest, bar)?;
    stage.commit().map_err(Error::write(target))?;
    manifest::sync_dir(&parent)?;
    Ok(Restored {
        home: target.display().to_string(),
        from: src.display().to_string(),
        created_at: v.created_at,
        source_home: v.source_home,
        files: v.files,
        bytes: v.bytes,
        tap_files: v.tap_files,
        schema_version,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    })
}

/// Copies every file of the backup into `tmp` (private files, checked
/// again as they are copied) and opens the registry there.
fn build(
    src: &Path,
    tmp: &Path,
    m: &manifest::Manifest,
    bar: &indicatif::ProgressBar,
) -> Result<i64, Error> {
    manifest::create_dir(tmp)?;
    let home = Home::new(tmp);
    home.create_dirs()?;
    let mut problems = Vec::new();
    for e in &m.files {
        let from = src.join(&e.path);
        let to = tmp.join(&e.path);
        match manifest::copy_hashed(&from, &to)? {
            Ok((_, sha)) if sha == e.sha256 => {}
            Ok((_, sha)) => problems.push(format!(
                "{}: SHA-256 {sha}, the manifest says {} (changed during the restore)",
                e.path, e.sha256
            )),
            Err(err) => problems.push(format!("{}: cannot read: {err}", e.path)),
        }
        bar.inc(1);
    }
    if !problems.is_empty() {
        return Err(Error::Damaged {
            path: src.to_path_buf(),
            problems,
        });
    }
    // Opening brings the registry back to WAL mode and up to this
    // kartka's schema.
    let reg = Registry::open(&tmp.join(REGISTRY))?;
    let schema = reg.schema_version()?;
    drop(reg);
    for dir in [tmp.to_path_buf(), home.taps(), home.dumps()] {
        manifest::sync_dir(&dir)?;
    }
    Ok(schema)
}
