//! Every file kartka writes is created new, beside its target, with the
//! mode its content needs from the first byte (0600 for personal data and
//! secrets, 0644 for what anyone may read), never through a link another
//! user planted: `NewFile` opens `.NAME.<random>.part` with `O_EXCL`
//! (tempfile), the caller writes, `commit` syncs and renames it over the
//! target. Rename replaces a link at the target; it never writes through
//! it. Dropped uncommitted (an error, a panic), the part file is removed;
//! a killed run's part file is swept by the next write of the same target
//! (`sweep`).

use std::io::{BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Who may read a file kartka writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Personal data, keys, anything under P22: the owner only (0600).
    Private,
    /// Open data, public keys, print proofs without names: 0644.
    Public,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::Private => 0o600,
            Mode::Public => 0o644,
        }
    }
}

/// A file being written; see the module's text.
pub struct NewFile {
    target: PathBuf,
    file: Option<BufWriter<tempfile::NamedTempFile>>,
}

fn prefix(target: &Path) -> String {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.")
}

fn folder(target: &Path) -> &Path {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

impl NewFile {
    /// Starts `target`'s new content: sweeps part files a killed run left
    /// for the same target, then creates a new part file with `mode`.
    pub fn create(target: &Path, mode: Mode) -> std::io::Result<NewFile> {
        let dir = folder(target);
        sweep(target);
        let tmp = tempfile::Builder::new()
            .prefix(&prefix(target))
            .suffix(".part")
            .permissions(std::fs::Permissions::from_mode(mode.bits()))
            .tempfile_in(dir)?;
        // The umask may have taken bits the mode needs (0644 under 077 is
        // fine; 0600 is never widened): set exactly what was asked.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode.bits()))?;
        Ok(NewFile {
            target: target.to_path_buf(),
            file: Some(BufWriter::with_capacity(1 << 16, tmp)),
        })
    }

    /// The path the content will have.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Syncs the content and renames it over the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        let Some(buf) = self.file.take() else {
            return Ok(());
        };
        let tmp = buf.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        if let Ok(d) = std::fs::File::open(folder(&self.target)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// Removes the part files (`.NAME.*.part`, regular files only, links are
/// left alone) that a killed write of `target` left; returns how many.
pub fn sweep(target: &Path) -> usize {
    let prefix = prefix(target);
    let Ok(entries) = std::fs::read_dir(folder(target)) else {
        return 0;
    };
    let mut swept = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(&prefix) && name.ends_with(".part");
        let regular = e.file_type().is_ok_and(|t| t.is_file());
        if ours && regular && std::fs::remove_file(e.path()).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// Writes `bytes` to `path` through a `NewFile` with `mode`.
pub fn write_mode(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    let mut f = NewFile::create(path, mode)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Writes `bytes` to `path`, mode 0600 (an existing file is replaced).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_mode(path, bytes, Mode::Private)
}

/// Creates a secret at `path` (a key): its folder made mode 700 if need
/// be, the file new (never over another), mode 600, synced.
pub fn create_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes a file another library wrote readable by its owner only.
pub fn restrict(path: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(&p, b"old").unwrap();
        write(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = write(&dir.path().join("no/such/dir.json"), b"x").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_planted_link_is_replaced_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let out = dir.path().join("x.rejects.csv");
        // Every name an attacker could guess: the target and a part file.
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".x.rejects.csv.part")).unwrap();
        write(&out, b"names").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&out).unwrap().is_symlink());
        assert_eq!(std::fs::read(&out).unwrap(), b"names");
    }

    #[test]
    fn private_from_the_first_byte_and_a_killed_write_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("names.csv");
        let mut f = NewFile::create(&out, Mode::Private).unwrap();
        f.write_all(b"a").unwrap();
        f.flush().unwrap();
        let part: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(part.len(), 1);
        let mode = std::fs::metadata(&part[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "private before anything is written");
        std::mem::forget(f); // as a kill would leave it
        assert!(part[0].exists());
        write_mode(&out, b"b", Mode::Public).unwrap();
        assert!(!part[0].exists(), "swept by the next write of the target");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
