//! Backups (P21 "duplicate the data to a backup server", K5 "backup
//! copies"): `kartka backup DEST`, `kartka backup verify DEST`,
//! `kartka restore SRC --home DIR`.
//!
//! A backup is taken while other runs go on: it never holds the home lock.
//! The registry snapshot, taken with SQLite's online backup API, is the
//! truth. The tap store is copied by the snapshot's ledger: exactly the
//! Parquet files `tap_files` lists as live, each checked against the
//! SHA-256 the ledger recorded. A file written after the snapshot is not in
//! the backup (its batch is not in the snapshot either); a listed file that
//! has gone meanwhile (compaction replaced it) means the snapshot is taken
//! again, up to `ATTEMPTS` times, then the run fails with exit 75.
//!
//! DEST holds one snapshot, laid out like a home (`registry.sqlite`,
//! `kartka.toml`, `keys/`, `design/`, `taps/`, `flags/`, `dumps/`,
//! `quarantine/`, `photos/`) plus `manifest.json`. A second backup to the
//! same DEST is incremental: a file the previous manifest lists with the
//! same size and SHA-256 (for the immutable stores: the same path and size)
//! is kept, new files are copied as `NAME.part`, checked and renamed, and
//! files the new snapshot no longer lists are removed. While a backup runs,
//! `DEST/.incomplete` marks the folder as unfinished; keep older snapshots
//! by rotating DESTs (e.g. one per weekday).
//!
//! - `manifest`: the manifest, and the file helpers (hashing copies);
//! - `verify`: `backup verify`;
//! - `restore`: a backup into a new home.

pub mod manifest;
pub mod restore;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::os::unix::fs::OpenOptionsExt;

use rusqlite::Connection;

use crate::home::Home;
use crate::registry::Registry;

pub use manifest::{Entry, Manifest};
pub use restore::{Restored, restore};
pub use verify::{Verified, verify};

/// How many registry snapshots a backup takes before it gives up on a home
/// whose tap files keep moving.
pub const ATTEMPTS: usize = 4;

/// Marks a DEST whose backup has not finished.
pub const INCOMPLETE: &str = ".incomplete";
/// The lock that keeps two backups to the same DEST apart.
pub const DEST_LOCK: &str = ".lock";

/// The folders of a home copied whole. Their files are never rewritten
/// once named (dumps by validator and sequence range, vendor copies and
/// photos by content hash, quarantine by time), so a file already backed
/// up with the same path and size is kept without reading it again.
const IMMUTABLE_DIRS: [&str; 3] = ["dumps", "quarantine", "photos"];
/// Small folders and files an administrator may edit: hashed every time.
const MUTABLE_DIRS: [&str; 2] = ["keys", "design"];
const CONFIG: &str = "kartka.toml";
const REGISTRY: &str = "registry.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: not a kartka backup: {why}.\n  Give the folder a `kartka backup` wrote (it holds manifest.json)."
    )]
    NotABackup { path: PathBuf, why: String },
    #[error(
        "{path}: {why}.\n  The backup's manifest is damaged: do not restore from it; run `kartka backup` into the folder again (it copies every file anew)."
    )]
    Manifest { path: PathBuf, why: String },
    #[error(
        "{path}: the backup is damaged:\n{}\n  Do not restore from it; take a new backup (`kartka backup DEST`).",
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    Damaged {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error(
        "{home}: the tap store kept changing under the backup ({why}); {attempts} registry snapshots were taken.\n  \
         Nothing is wrong with the home: run the backup again when compaction or flag runs have finished."
    )]
    Moving {
        home: PathBuf,
        why: String,
        attempts: usize,
    },
    #[error(
        "{path}: the home's file differs from the registry's record: its SHA-256 is {found}, the ledger says {expected}.\n  \
         The home's tap store is damaged: restore this file from an earlier backup; this backup was not finished."
    )]
    HomeDamaged {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}: {why}.\n  {todo}")]
    Refused {
        path: PathBuf,
        why: String,
        todo: &'static str,
    },
    #[error(
        "{path}: another `kartka backup` is writing to this folder.\n  Try again when it has finished (cron: schedule backups apart)."
    )]
    DestBusy { path: PathBuf },
    #[error("{path}: cannot read: {source}.\n  Check the file exists and is readable.")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: cannot write: {source}.\n  Check the disk has room and the folder is writable."
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: the registry snapshot failed: {source}.\n  Check the disk has room; run the backup again."
    )]
    Snapshot {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Home(#[from] crate::home::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::NotABackup { .. } => ExitCode::NoInput,
            Error::Manifest { .. } | Error::Damaged { .. } | Error::HomeDamaged { .. } => {
                ExitCode::DataErr
            }
            Error::Moving { .. } | Error::DestBusy { .. } => ExitCode::TempFail,
            Error::Refused { .. } | Error::Write { .. } => ExitCode::CantCreate,
            Error::Read { .. } | Error::Snapshot { .. } => ExitCode::IoErr,
            Error::Registry(e) => e.exit_code(),
            Error::Home(e) => e.exit_code(),
        }
    }
}

impl Error {
    pub(crate) fn write(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn read(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What a backup did: for the summary and `--json`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub dest: String,
    pub home: String,
    pub created_at: String,
    /// Files in the backup, and their bytes.
    pub files: usize,
    pub bytes: u64,
    pub files_copied: usize,
    pub bytes_copied: u64,
    pub files_kept: usize,
    pub bytes_kept: u64,
    /// Files of the previous backup the snapshot no longer lists.
    pub files_removed: usize,
    /// Live tap files in the snapshot's ledger.
    pub tap_files: usize,
    pub snapshot_attempts: usize,
    pub seconds: f64,
    /// What was backed up as it is but deserves a look.
    pub warnings: Vec<String>,
}

/// Backs `home` up into `dest`. `bar` counts files (hidden for cron).
pub fn backup(home: &Home, dest: &Path, bar: &indicatif::ProgressBar) -> Result<Summary, Error> {
    let started = Instant::now();
    home.require_initialised()?;
    let home_abs = check_dest(home, dest)?;
    manifest::create_dir(dest)?;
    let _lock = lock_dest(dest)?;
    let mut warnings = Vec::new();
    let prev = previous_files(dest, &mut warnings)?;
    let marker = mark_incomplete(dest, &home_abs)?;
    let mut run = Copier {
        home,
        dest,
        prev,
        done: BTreeMap::new(),
        bar,
    };
    let reg = Registry::open(&home.registry())?;
    let part = dest.join(format!("{REGISTRY}.part"));
    let (snap, mut wanted, attempts) = copy_ledgered(&mut run, &reg, &part, &mut warnings)?;
    copy_rest(&mut run, &snap, &mut wanted, &mut warnings)?;
    place_registry(&mut run, &part, &mut wanted)?;
    let (m, removed) = finish(&run, &snap, &home_abs, &wanted, &marker)?;
    Ok(summarise(
        &run, &m, &snap, removed, attempts, warnings, started,
    ))
}

/// DEST must be a folder (or not exist yet) outside the home, the home not
/// inside it; both as written and as resolved (a symlink). Returns the
/// home's absolute path.
fn check_dest(home: &Home, dest: &Path) -> Result<PathBuf, Error> {
    let home_abs = home
        .root()
        .canonicalize()
        .map_err(Error::read(home.root()))?;
    let dest_abs = std::path::absolute(dest).map_err(Error::read(dest))?;
    let dest_canon = if dest.exists() {
        dest.canonicalize().map_err(Error::read(dest))?
    } else {
        dest_abs.clone()
    };
    for d in [&dest_abs, &dest_canon] {
        if d.starts_with(&home_abs) || home_abs.starts_with(d) {
            return Err(Error::Refused {
                path: dest.to_path_buf(),
                why: format!(
                    "the backup folder and the home ({}) contain one another",
                    home_abs.display()
                ),
                todo: "Back up to a folder outside the home (another disk or a mounted backup server).",
            });
        }
    }
    if dest.exists() && !dest.is_dir() {
        return Err(Error::Refused {
            path: dest.to_path_buf(),
            why: "exists and is not a folder".into(),
            todo: "Give a folder (new, empty, or an earlier backup).",
        });
    }
    Ok(home_abs)
}

/// What an earlier backup left in DEST (by its manifest). DEST belongs to
/// kartka backup: a new or empty folder, or one an earlier backup wrote;
/// anything else would be removed at the end, so it is refused.
fn previous_files(
    dest: &Path,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Entry>, Error> {
    let has_manifest = dest.join(manifest::FILE).exists();
    Ok(if has_manifest {
        match Manifest::read(dest) {
            Ok(m) => m.files.into_iter().map(|e| (e.path.clone(), e)).collect(),
            Err(e) => {
                let why = match e {
                    Error::Manifest { path, why } => format!("{}: {why}", path.display()),
                    e => e.to_string(),
                };
                warnings.push(format!(
                    "the previous manifest could not be used ({why}); every file is copied again"
                ));
                BTreeMap::new()
            }
        }
    } else {
        if !dest.join(INCOMPLETE).exists() {
            let foreign: Vec<String> = manifest::walk(dest)
                .map_err(Error::read(dest))?
                .into_iter()
                .filter(|p| p != DEST_LOCK)
                .collect();
            if let Some(first) = foreign.first() {
                return Err(Error::Refused {
                    path: dest.to_path_buf(),
                    why: format!(
                        "holds files ({first}, …) but is not a kartka backup (no manifest.json)"
                    ),
                    todo: "Back up to a new or empty folder, or to one an earlier `kartka backup` wrote.",
                });
            }
        }
        BTreeMap::new()
    })
}

/// The marker that says DEST is being written (removed at the end).
fn mark_incomplete(dest: &Path, home_abs: &Path) -> Result<PathBuf, Error> {
    let marker = dest.join(INCOMPLETE);
    {
        use std::io::Write;
        let mut f = manifest::create_private(&marker)?;
        let _ = writeln!(
            f,
            "pid {}, kartka backup of {}, since {}",
            std::process::id(),
            home_abs.display(),
            crate::time::now_utc_text()
        );
    }
    Ok(marker)
}

/// The registry snapshot and every file its ledger lists (the tap files,
/// each month's latest flags), taken again while the tap store moves
/// (compaction, a flag run), at most `ATTEMPTS` times. Returns the
/// snapshot, the files copied, and the attempts it took.
fn copy_ledgered(
    run: &mut Copier<'_>,
    reg: &Registry,
    part: &Path,
    warnings: &mut Vec<String>,
) -> Result<(Snapshot, BTreeSet<String>, usize), Error> {
    let (home, bar) = (run.home, run.bar);
    let mut attempts = 0;
    let (snap, wanted) = loop {
        attempts += 1;
        let last = attempts == ATTEMPTS;
        let snap = snapshot(reg.conn(), part)?;
        bar.set_length(snap.taps.len() as u64 + snap.flags.len() as u64);
        bar.set_position(0);
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut trouble: Option<String> = None;
        for (rel, sha) in &snap.taps {
            if !manifest::is_safe(rel) {
                warnings.push(format!(
                    "the ledger lists `{}`, which is not a path inside the home; skipped",
                    rel.escape_debug()
                ));
                continue;
            }
            match run.take(rel, Some(sha.as_str()), true)? {
                Took::Done(_) => {
                    wanted.insert(rel.clone());
                }
                Took::Vanished => {
                    trouble = Some(format!("{rel} was listed by the snapshot and then removed"));
                    break;
                }
                Took::Differs(found) => {
                    if last {
                        let _ = std::fs::remove_file(part);
                        return Err(Error::HomeDamaged {
                            path: home.root().join(rel),
                            expected: sha.clone(),
                            found,
                        });
                    }
                    trouble = Some(format!("{rel} changed after the snapshot"));
                    break;
                }
            }
            bar.inc(1);
        }
        if trouble.is_none() {
            // A month's flags file is replaced whole by each flag run; the
            // snapshot's latest run names the one that belongs with it.
            for (month, rel, sha) in &snap.flags {
                if !manifest::is_safe(rel) {
                    continue;
                }
                match run.take(rel, None, false)? {
                    Took::Done(e) if e.sha256 == *sha => {
                        wanted.insert(rel.clone());
                    }
                    Took::Done(e) if last => {
                        warnings.push(format!(
                            "{rel}: differs from {month}'s latest flag run in the registry (SHA-256 {} not {sha}): a flag run was interrupted; after a restore, run `kartka taps flag --month {month}` again",
                            e.sha256
                        ));
                        wanted.insert(rel.clone());
                    }
                    Took::Vanished if last => warnings.push(format!(
                        "{rel}: {month}'s flags file is missing in the home; after a restore, run `kartka taps flag --month {month}` again"
                    )),
                    _ => {
                        trouble = Some(format!("{rel} was replaced by a flag run"));
                        break;
                    }
                }
                bar.inc(1);
            }
        }
        match trouble {
            None => break (snap, wanted),
            Some(why) if last => {
                let _ = std::fs::remove_file(part);
                return Err(Error::Moving {
                    home: home.root().to_path_buf(),
                    why,
                    attempts,
                });
            }
            Some(_) => std::thread::sleep(Duration::from_millis(200 * attempts as u64)),
        }
    };
    Ok((snap, wanted, attempts))
}

/// The rest of the home: kartka.toml, keys, the card design, the raw
/// dumps, the quarantine, the photos.
fn copy_rest(
    run: &mut Copier<'_>,
    snap: &Snapshot,
    wanted: &mut BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let (home, bar) = (run.home, run.bar);
    let mut rest: Vec<(String, bool)> = Vec::new();
    if home.config().is_file() {
        rest.push((CONFIG.to_string(), false));
    }
    for (dirs, immutable) in [(&MUTABLE_DIRS[..], false), (&IMMUTABLE_DIRS[..], true)] {
        for dir in dirs {
            let root = home.root().join(dir);
            for rel in manifest::walk(&root).map_err(Error::read(&root))? {
                if rel.split('/').any(|n| {
                    n.starts_with('.')
                        || n.ends_with(".partial")
                        || n.ends_with(".part")
                        || n.ends_with(".tmp")
                }) {
                    continue; // a file being written, not yet in place
                }
                rest.push((format!("{dir}/{rel}"), immutable));
            }
        }
    }
    bar.inc_length(rest.len() as u64);
    for (rel, immutable) in &rest {
        let expected = snap.known.get(rel).map(String::as_str);
        match run.take(rel, expected, *immutable)? {
            Took::Done(_) => {
                wanted.insert(rel.clone());
            }
            Took::Vanished => {} // removed meanwhile (a key file being replaced): not ours to keep
            Took::Differs(found) => {
                // A raw file whose bytes differ from its ledger row: keep
                // what the home has, and say so.
                warnings.push(format!(
                    "{rel}: its SHA-256 is {found}, the registry recorded {}; backed up as it is",
                    expected.unwrap_or("")
                ));
                if let Took::Done(_) = run.take(rel, None, false)? {
                    wanted.insert(rel.clone());
                }
            }
        }
        bar.inc(1);
    }
    Ok(())
}

/// The registry last: its snapshot is already in DEST as `.part`.
fn place_registry(
    run: &mut Copier<'_>,
    part: &Path,
    wanted: &mut BTreeSet<String>,
) -> Result<(), Error> {
    let dest = run.dest;
    let (size, sha) = manifest::hash_file(part).map_err(Error::read(part))?;
    let copied = run
        .prev
        .get(REGISTRY)
        .is_none_or(|p| p.sha256 != sha || p.size != size);
    let reg_to = dest.join(REGISTRY);
    std::fs::rename(part, &reg_to).map_err(Error::write(&reg_to))?;
    run.done.insert(
        REGISTRY.into(),
        (
            Entry {
                path: REGISTRY.into(),
                size,
                sha256: sha,
            },
            copied,
        ),
    );
    wanted.insert(REGISTRY.into());
    Ok(())
}

/// The manifest written; what the new snapshot no longer lists removed
/// from DEST; the marker removed. Returns the manifest and the removals.
fn finish(
    run: &Copier<'_>,
    snap: &Snapshot,
    home_abs: &Path,
    wanted: &BTreeSet<String>,
    marker: &Path,
) -> Result<(Manifest, usize), Error> {
    let dest = run.dest;
    let files: Vec<Entry> = wanted
        .iter()
        .filter_map(|p| run.done.get(p).map(|(e, _)| e.clone()))
        .collect();
    let m = Manifest {
        format: manifest::FORMAT.into(),
        kartka_version: env!("CARGO_PKG_VERSION").into(),
        created_at: snap.at.clone(),
        source_home: home_abs.display().to_string(),
        schema_version: snap.schema_version,
        files,
    };
    sync_dirs(dest, &m)?;
    m.write(dest)?;
    // What the new snapshot no longer lists leaves DEST.
    let mut removed = 0;
    for rel in manifest::walk(dest).map_err(Error::read(dest))? {
        if rel == manifest::FILE || rel == DEST_LOCK || rel == INCOMPLETE || wanted.contains(&rel) {
            continue;
        }
        let p = dest.join(&rel);
        std::fs::remove_file(&p).map_err(Error::write(&p))?;
        removed += 1;
    }
    remove_empty_dirs(dest);
    std::fs::remove_file(marker).map_err(Error::write(marker))?;
    manifest::sync_dir(dest)?;
    Ok((m, removed))
}

fn summarise(
    run: &Copier<'_>,
    m: &Manifest,
    snap: &Snapshot,
    removed: usize,
    attempts: usize,
    warnings: Vec<String>,
    started: Instant,
) -> Summary {
    let mut s = Summary {
        dest: run.dest.display().to_string(),
        home: m.source_home.clone(),
        created_at: m.created_at.clone(),
        files: m.files.len(),
        files_removed: removed,
        tap_files: snap.taps.len(),
        snapshot_attempts: attempts,
        warnings,
        ..Summary::default()
    };
    for e in &m.files {
        s.bytes += e.size;
        if run.done.get(&e.path).is_some_and(|(_, copied)| *copied) {
            s.files_copied += 1;
            s.bytes_copied += e.size;
        } else {
            s.files_kept += 1;
            s.bytes_kept += e.size;
        }
    }
    s.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    s
}

/// The registry snapshot and what its ledger says the files are.
struct Snapshot {
    at: String,
    schema_version: i64,
    /// Live tap files: (path, SHA-256).
    taps: Vec<(String, String)>,
    /// Each month's latest flag run: (month, file, SHA-256).
    flags: Vec<(String, String, String)>,
    /// SHA-256 the ledger recorded for raw files (dumps, quarantine).
    known: BTreeMap<String, String>,
}

/// Copies the registry into `part` with SQLite's online backup API (one
/// step, under a read transaction: writers go on in WAL mode), makes the
/// copy a self-contained rollback-journal file, and reads its ledger.
fn snapshot(src: &Connection, part: &Path) -> Result<Snapshot, Error> {
    let sq = |source| Error::Snapshot {
        path: part.to_path_buf(),
        source,
    };
    for p in [part.to_path_buf(), journal_of(part)] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Write { path: p, source: e });
            }
            _ => {}
        }
    }
    drop(manifest::create_private(part)?);
    let mut dst = Connection::open(part).map_err(sq)?;
    let at = crate::time::now_utc_text();
    {
        use rusqlite::backup::{Backup, StepResult};
        let b = Backup::new(src, &mut dst).map_err(sq)?;
        let mut waits = 0;
        loop {
            match b.step(-1).map_err(sq)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ => {
                    // Busy or locked: another connection holds the source.
                    waits += 1;
                    if waits > 200 {
                        return Err(Error::Registry(crate::registry::Error::Busy {
                            path: part.to_path_buf(),
                        }));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sq)?;
    let schema_version: i64 = dst
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sq)?;
    let rows2 = |sql: &str| -> Result<Vec<(String, String)>, Error> {
        let mut st = dst.prepare(sql).map_err(sq)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sq)?;
        rows.collect::<Result<_, _>>().map_err(sq)
    };
    let taps = rows2("SELECT path, sha256 FROM tap_files WHERE replaced_at IS NULL ORDER BY path")?;
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    for (file, sha) in rows2(
        "SELECT file, sha256 FROM tap_batches WHERE file IS NOT NULL UNION ALL SELECT file, sha256 FROM quarantine",
    )? {
        known.insert(file, sha);
    }
    let flags = crate::flags::store::latest_files(&dst).map_err(sq)?;
    drop(dst);
    Ok(Snapshot {
        at,
        schema_version,
        taps,
        flags,
        known,
    })
}

fn journal_of(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-journal");
    PathBuf::from(s)
}

enum Took {
    Done(Entry),
    Vanished,
    Differs(String),
}

/// Copies files from the home into DEST, keeping what the previous backup
/// already holds.
struct Copier<'a> {
    home: &'a Home,
    dest: &'a Path,
    prev: BTreeMap<String, Entry>,
    /// Files settled in this run: the entry, and whether it was copied.
    done: BTreeMap<String, (Entry, bool)>,
    bar: &'a indicatif::ProgressBar,
}

impl Copier<'_> {
    /// Puts the home's `rel` into DEST. `expected`: the SHA-256 a ledger
    /// recorded for it. `immutable`: its bytes never change once named.
    fn take(&mut self, rel: &str, expected: Option<&str>, immutable: bool) -> Result<Took, Error> {
        let src = self.home.root().join(rel);
        let dst = self.dest.join(rel);
        if let Some((e, _)) = self.done.get(rel)
            && (expected.is_some_and(|s| s == e.sha256) || (expected.is_none() && immutable))
        {
            return Ok(Took::Done(e.clone()));
        }
        let src_size = match std::fs::metadata(&src) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Took::Vanished),
            Err(e) => {
                return Err(Error::Read {
                    path: src,
                    source: e,
                });
            }
        };
        if let Some(p) = self.prev.get(rel).cloned()
            && p.size == src_size
            && std::fs::metadata(&dst).is_ok_and(|m| m.is_file() && m.len() == p.size)
        {
            let same = match expected {
                Some(s) => p.sha256 == s,
                None if immutable => true,
                None => manifest::hash_file(&src)
                    .map_err(Error::read(&src))?
                    .1
                    .eq(&p.sha256),
            };
            if same {
                self.done.insert(rel.to_string(), (p.clone(), false));
                return Ok(Took::Done(p));
            }
        }
        let name = dst
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let part = dst.with_file_name(format!("{name}.part"));
        let (size, sha) = match manifest::copy_hashed(&src, &part)? {
            Ok(x) => x,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(&part);
                return Ok(Took::Vanished);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                return Err(Error::Read {
                    path: src,
                    source: e,
                });
            }
        };
        if let Some(s) = expected
            && s != sha
        {
            let _ = std::fs::remove_file(&part);
            return Ok(Took::Differs(sha));
        }
        std::fs::rename(&part, &dst).map_err(Error::write(&dst))?;
        self.bar.set_message(rel.to_string());
        let e = Entry {
            path: rel.to_string(),
            size,
            sha256: sha,
        };
        self.done.insert(rel.to_string(), (e.clone(), true));
        Ok(Took::Done(e))
    }
}

/// Takes DEST's lock; a second backup to the same DEST exits 75.
fn lock_dest(dest: &Path) -> Result<std::fs::File, Error> {
    let path = dest.join(DEST_LOCK);
    // A link planted at the lock's name is refused, never followed.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(Error::write(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::DestBusy {
            path: dest.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::Write { path, source: e }),
    }
}

/// Flushes every folder that holds a file of the backup.
fn sync_dirs(dest: &Path, m: &Manifest) -> Result<(), Error> {
    let dirs: BTreeSet<PathBuf> = m
        .files
        .iter()
        .filter_map(|e| dest.join(&e.path).parent().map(Path::to_path_buf))
        .collect();
    for d in dirs {
        manifest::sync_dir(&d)?;
    }
    Ok(())
}

/// Removes folders left empty under `root` (not `root` itself).
fn remove_empty_dirs(root: &Path) {
    fn go(dir: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        let mut empty = true;
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) && go(&p) {
                let _ = std::fs::remove_dir(&p);
            } else {
                empty = false;
            }
        }
        empty
    }
    go(root);
}
