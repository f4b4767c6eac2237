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

/// The part files (`.*.part`, regular files) each folder held when this
/// process first wrote into it: a killed run's leftovers. Listed once per
/// folder, so writing N files into one folder (a print job's photos) costs
/// one listing, not N.
static STRAYS: std::sync::Mutex<Option<std::collections::HashMap<PathBuf, Vec<String>>>> =
    std::sync::Mutex::new(None);

fn strays_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".part"))
        .collect()
}

/// Removes the part files (`.NAME.*.part`, regular files only, links are
/// left alone) that a killed write of `target` left; returns how many.
pub fn sweep(target: &Path) -> usize {
    let prefix = prefix(target);
    let dir = folder(target);
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut guard = STRAYS.lock().unwrap_or_else(|e| e.into_inner());
    let strays = guard
        .get_or_insert_with(Default::default)
        .entry(key)
        .or_insert_with(|| strays_in(dir));
    let mut swept = 0;
    strays.retain(|name| {
        if !name.starts_with(&prefix) {
            return true;
        }
        let path = dir.join(name);
        let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if regular && std::fs::remove_file(&path).is_ok() {
            swept += 1;
        }
        false
    });
    swept
}

/// A folder being written (a print job, an open-data release): made new
/// beside its target as `.NAME.<random>.partial` (mkdir, never through a
/// link), mode 0700 for `Private` and 0755 for `Public`, filled by the
/// caller, renamed over the target by `commit` (the target must be absent
/// or an empty folder). Dropped uncommitted, it is removed; a killed run's
/// folder is swept by the next folder made for the same target.
pub struct NewDir {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl Mode {
    fn dir_bits(self) -> u32 {
        match self {
            Mode::Private => 0o700,
            Mode::Public => 0o755,
        }
    }
}

impl NewDir {
    /// Sweeps folders a killed run left for `target`, then makes a new one
    /// (the folder `target` goes in made first if need be).
    pub fn create(target: &Path, mode: Mode) -> std::io::Result<NewDir> {
        let dir = folder(target);
        std::fs::create_dir_all(dir)?;
        sweep_dirs(target);
        let tmp = tempfile::Builder::new()
            .prefix(&prefix(target))
            .suffix(".partial")
            .permissions(std::fs::Permissions::from_mode(mode.dir_bits()))
            .tempdir_in(dir)?;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode.dir_bits()))?;
        Ok(NewDir {
            target: target.to_path_buf(),
            dir: Some(tmp),
        })
    }

    /// The folder being written.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Syncs the folder and renames it over the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        let Some(tmp) = self.dir.take() else {
            return Ok(());
        };
        let path = tmp.keep();
        let moved = std::fs::File::open(&path)
            .and_then(|d| d.sync_all())
            .and_then(|()| std::fs::rename(&path, &self.target));
        if moved.is_err() {
            let _ = std::fs::remove_dir_all(&path);
        }
        moved?;
        if let Ok(d) = std::fs::File::open(folder(&self.target)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Removes the folders (`.NAME.*.partial`, real folders only, links are
/// left alone) that a killed run left for `target`; returns how many.
pub fn sweep_dirs(target: &Path) -> usize {
    let prefix = prefix(target);
    let Ok(entries) = std::fs::read_dir(folder(target)) else {
        return 0;
    };
    let mut swept = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(&prefix) && name.ends_with(".partial");
        let real = e.file_type().is_ok_and(|t| t.is_dir());
        if ours && real && std::fs::remove_dir_all(e.path()).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// Removes every part file (`.*.part`, and the `.*.partial` files of
/// earlier versions; regular files only) in `dir` and its folders, as deep
/// as `depth`: what killed writes left in a tree only kartka writes (the
/// dumps, the quarantine). Call it holding the home lock. Returns how many.
pub fn sweep_tree(dir: &Path, depth: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut swept = 0;
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() && depth > 0 {
            swept += sweep_tree(&e.path(), depth - 1);
        } else if kind.is_file()
            && name.starts_with('.')
            && (name.ends_with(".part") || name.ends_with(".partial"))
            && std::fs::remove_file(e.path()).is_ok()
        {
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
        // The next run is another process: it lists the folder afresh.
        *STRAYS.lock().unwrap() = None;
        write_mode(&out, b"b", Mode::Public).unwrap();
        assert!(!part[0].exists(), "swept by the next write of the target");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_folder_is_made_new_private_and_a_killed_ones_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("job");
        // A link at a name an attacker could guess is never written into.
        let victim = dir.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".job.partial")).unwrap();
        let d = NewDir::create(&out, Mode::Private).unwrap();
        let mode = std::fs::metadata(d.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        write(&d.path().join("cards.csv"), b"names").unwrap();
        let stage = d.path().to_path_buf();
        std::mem::forget(d); // as a kill would leave it
        assert!(stage.exists());
        let d = NewDir::create(&out, Mode::Public).unwrap();
        assert!(!stage.exists(), "swept by the next folder for the target");
        write(&d.path().join("a.csv"), b"a").unwrap();
        d.commit().unwrap();
        assert_eq!(std::fs::read(out.join("a.csv")).unwrap(), b"a");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
        assert!(std::fs::symlink_metadata(dir.path().join(".job.partial")).is_ok());
        // Dropped unfinished, nothing is left.
        let d = NewDir::create(&dir.path().join("other"), Mode::Private).unwrap();
        let stage = d.path().to_path_buf();
        drop(d);
        assert!(!stage.exists());
    }

    #[test]
    fn a_tree_is_swept_of_part_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("v00001");
        std::fs::create_dir(&sub).unwrap();
        for n in [".a.kdump.partial", ".b.kdump.x1.part"] {
            std::fs::write(sub.join(n), b"half").unwrap();
        }
        std::fs::write(sub.join("c.kdump"), b"whole").unwrap();
        std::fs::write(sub.join("d.part"), b"not ours: no dot").unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, sub.join(".e.part")).unwrap();
        assert_eq!(sweep_tree(dir.path(), 1), 2);
        let mut left: Vec<String> = std::fs::read_dir(&sub)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".e.part", "c.kdump", "d.part"]);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
