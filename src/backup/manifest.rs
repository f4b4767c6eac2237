//! `DEST/manifest.json`: what a backup holds. Every file with its size and
//! SHA-256, when it was taken (UTC), by which kartka, from which home.
//!
//! ```json
//! {"format": "kartka-backup/1", "kartka_version": "0.1.0",
//!  "created_at": "2026-11-01T02:00:00Z", "source_home": "/srv/kartka",
//!  "schema_version": 5,
//!  "files": [{"path": "registry.sqlite", "size": 98304, "sha256": "…"}, …]}
//! ```
//!
//! The manifest is written last (under a temporary name, flushed, renamed):
//! a folder whose manifest is missing is not a backup.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use sha2::Digest;

use super::Error;

pub const FORMAT: &str = "kartka-backup/1";
pub const FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// `kartka-backup/1`.
    pub format: String,
    pub kartka_version: String,
    /// When the registry snapshot was taken, UTC.
    pub created_at: String,
    /// The home backed up (absolute when it could be resolved).
    pub source_home: String,
    /// The registry's schema version in the snapshot.
    pub schema_version: i64,
    /// Sorted by path; paths are relative to the backup folder, `/`-separated.
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// Reads and checks `DEST/manifest.json`: a missing folder or manifest
    /// is `NotABackup` (66); an unreadable, edited or foreign one is
    /// `Manifest` (65), never a panic.
    pub fn read(dest: &Path) -> Result<Manifest, Error> {
        if !dest.is_dir() {
            return Err(Error::NotABackup {
                path: dest.to_path_buf(),
                why: if dest.exists() {
                    "not a folder".into()
                } else {
                    "no such folder".into()
                },
            });
        }
        let path = dest.join(FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotABackup {
                    path: dest.to_path_buf(),
                    why: format!("it has no {FILE}"),
                });
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        let bad = |why: String| Error::Manifest {
            path: path.clone(),
            why,
        };
        let m: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a valid manifest ({e})")))?;
        if m.format != FORMAT {
            return Err(bad(format!(
                "format `{}`, expected `{FORMAT}`",
                m.format.escape_debug()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for e in &m.files {
            if !is_safe(&e.path) || e.path == FILE {
                return Err(bad(format!(
                    "file path `{}` is not a plain path inside the backup",
                    e.path.escape_debug()
                )));
            }
            if !seen.insert(e.path.as_str()) {
                return Err(bad(format!("`{}` is listed twice", e.path.escape_debug())));
            }
            if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "`{}`: `{}` is not a SHA-256",
                    e.path.escape_debug(),
                    e.sha256.escape_debug()
                )));
            }
        }
        Ok(m)
    }

    /// Writes the manifest the durable way: temporary name, flushed, renamed.
    pub fn write(&self, dest: &Path) -> Result<(), Error> {
        let path = dest.join(FILE);
        let tmp = dest.join(format!(".{FILE}.part"));
        let mut text = serde_json::to_string_pretty(self).expect("a manifest serialises");
        text.push('\n');
        let mut f = create_private(&tmp)?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(Error::write(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(Error::write(&path))?;
        sync_dir(dest)
    }

    /// The files by path.
    pub fn by_path(&self) -> BTreeMap<&str, &Entry> {
        self.files.iter().map(|e| (e.path.as_str(), e)).collect()
    }
}

/// A relative path of plain names only: no `..`, no root, nothing empty.
pub fn is_safe(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains('\\')
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Creates a file readable by its owner only, new (`O_EXCL`): what was at
/// `path` (a killed run's part file, or a link someone planted) is removed
/// first, never written through.
pub fn create_private(path: &Path) -> Result<std::fs::File, Error> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(path).map_err(Error::write(path))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::write(path))
}

/// Creates a folder and its parents, each readable by the owner only.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(Error::write(dir))
}

/// Flushes a folder's entries to the disk.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::write(dir))
}

/// A file's size and SHA-256, read in chunks (tap files can be large).
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex(&h.finalize())))
}

/// Copies `from` to `to` (a new private file, flushed), hashing the bytes
/// as they are written. A missing `from` is reported as `NotFound` so the
/// caller can tell a vanished file from a failed disk.
pub fn copy_hashed(from: &Path, to: &Path) -> Result<Result<(u64, String), std::io::Error>, Error> {
    let mut src = match std::fs::File::open(from) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(dir) = to.parent() {
        create_dir(dir)?;
    }
    let mut out = create_private(to)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(Error::write(to))?;
    }
    out.sync_all().map_err(Error::write(to))?;
    Ok(Ok((size, hex(&h.finalize()))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every regular file under `root` (recursively), as `/`-separated paths
/// relative to `root`, sorted. Symbolic links are not followed.
pub fn walk(root: &Path) -> std::io::Result<Vec<String>> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let ty = entry.file_type()?;
            let path = entry.path();
            if ty.is_dir() {
                go(root, &path, out)?;
            } else if ty.is_file() {
                let rel: PathBuf = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(is_safe("taps/month=2026-10/part-00000001-0.parquet"));
        assert!(is_safe("registry.sqlite"));
        for bad in ["", "/etc/passwd", "../x", "taps/../../x", "a\\b", "./x"] {
            assert!(!is_safe(bad), "{bad}");
        }
    }

    #[test]
    fn a_damaged_manifest_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "",
            "{",
            "[]",
            "{\"format\": 1}",
            "{\"format\":\"kartka-backup/9\",\"kartka_version\":\"x\",\"created_at\":\"x\",\"source_home\":\"x\",\"schema_version\":1,\"files\":[]}",
            "{\"format\":\"kartka-backup/1\",\"kartka_version\":\"x\",\"created_at\":\"x\",\"source_home\":\"x\",\"schema_version\":1,\"files\":[{\"path\":\"../x\",\"size\":1,\"sha256\":\"00\"}]}",
            "{\"format\":\"kartka-backup/1\",\"kartka_version\":\"x\",\"created_at\":\"x\",\"source_home\":\"x\",\"schema_version\":1,\"files\":[{\"path\":\"x\",\"size\":-1,\"sha256\":\"00\"}]}",
        ] {
            std::fs::write(dir.path().join(FILE), text).unwrap();
            let e = Manifest::read(dir.path()).unwrap_err();
            assert!(matches!(e, Error::Manifest { .. }), "{text}: {e}");
        }
    }
}
