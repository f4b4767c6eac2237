//! The home folder: where every store lives (DESIGN.md "Where the data lives"),
//! and the lock that keeps two writing runs apart.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: another kartka run holds the home lock ({holder}); waited {waited_s} s.\n  \
         Try again when it has finished (cron: schedule runs apart, or raise KARTKA_LOCK_WAIT)."
    )]
    Locked {
        path: PathBuf,
        holder: String,
        waited_s: u64,
    },
    #[error(
        "{path}: not a kartka home (no kartka.toml).\n  Create one with: kartka init --home {path}"
    )]
    NotInitialised { path: PathBuf },
    #[error(
        "{path}: the OS user {user} may not read this kartka home ({source}){owner}.\n  \
         Run kartka as the user the home belongs to, or have its owner give this user access; \
         a home is kept readable by its owner only."
    )]
    Unreadable {
        path: PathBuf,
        user: String,
        owner: String,
        source: std::io::Error,
    },
    #[error("{path}: cannot create: {source}.\n  Check the folder exists and is writable.")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Locked { .. } => ExitCode::TempFail,
            Error::NotInitialised { .. } => ExitCode::Config,
            Error::Unreadable { .. } => ExitCode::NoPerm,
            Error::Create { .. } => ExitCode::CantCreate,
            Error::Io { .. } => ExitCode::IoErr,
        }
    }
}

/// What opening a home's `kartka.toml` (`opened`) says about the home at
/// `root`: a kartka home, none, or one this OS user may not read.
fn initialised(root: &Path, opened: std::io::Result<fs::Metadata>) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    match opened {
        Ok(m) if m.is_file() => Ok(()),
        Err(source) if source.kind() == std::io::ErrorKind::PermissionDenied => {
            let owner = fs::metadata(root)
                .map(|m| format!("; the home belongs to uid {}", m.uid()))
                .unwrap_or_default();
            Err(Error::Unreadable {
                path: root.to_path_buf(),
                user: crate::access::identity::os_user(),
                owner,
                source,
            })
        }
        _ => Err(Error::NotInitialised {
            path: root.to_path_buf(),
        }),
    }
}

/// The folders and files of one home.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Home { root: root.into() }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn registry(&self) -> PathBuf {
        self.root.join("registry.sqlite")
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("kartka.toml")
    }
    pub fn photos(&self) -> PathBuf {
        self.root.join("photos")
    }
    pub fn exports(&self) -> PathBuf {
        self.root.join("exports")
    }
    /// The tap store: Parquet partitioned by month.
    pub fn taps(&self) -> PathBuf {
        self.root.join("taps")
    }
    /// Raw validator dumps, exactly as received.
    pub fn dumps(&self) -> PathBuf {
        self.root.join("dumps")
    }
    /// What a docking could not take: dumps of unknown validators, frames
    /// with a wrong MAC.
    pub fn quarantine(&self) -> PathBuf {
        self.root.join("quarantine")
    }
    fn lock_path(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// Creates the home folder and its sub-folders, readable by the owner only
    /// (they will hold personal data: P22).
    pub fn create_dirs(&self) -> Result<(), Error> {
        for dir in [
            self.root.clone(),
            self.photos(),
            self.exports(),
            self.taps(),
            self.dumps(),
            self.quarantine(),
        ] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| Error::Create { path: dir, source })?;
        }
        Ok(())
    }

    /// Fails with a clear message when `kartka init` has not been run here.
    /// An OS user who may not read the home is told so (exit 77), not that
    /// the folder is no home.
    pub fn require_initialised(&self) -> Result<(), Error> {
        let opened = File::open(self.config()).and_then(|f| f.metadata());
        initialised(&self.root, opened)
    }

    /// Takes the exclusive home lock for a writing run. A second run waits up
    /// to `wait`, then fails with `Locked` (exit 75) naming the holder.
    pub fn lock(&self, command: &str, wait: Duration) -> Result<HomeLock, Error> {
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= wait {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        return Err(Error::Locked {
                            path: self.root.clone(),
                            holder: if holder.is_empty() {
                                "unknown process".into()
                            } else {
                                holder.to_string()
                            },
                            waited_s: wait.as_secs(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(fs::TryLockError::Error(source)) => {
                    return Err(Error::Io { path, source });
                }
            }
        }
        let note = format!(
            "pid {}, `kartka {command}`, since {}",
            std::process::id(),
            crate::time::now_utc_text()
        );
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = file.write_all(note.as_bytes());
        let _ = file.sync_data();
        Ok(HomeLock { _file: file })
    }
}

/// Held for the whole writing run; the OS releases it when the process ends,
/// even after a crash, so a stale lock never blocks cron.
pub struct HomeLock {
    _file: File,
}

/// How long a writing run waits for another one: `KARTKA_LOCK_WAIT` seconds, default 10.
pub fn lock_wait() -> Duration {
    let secs = std::env::var("KARTKA_LOCK_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(10);
    Duration::from_secs(secs)
}

#[cfg(test)]
mod unreadable_tests {
    use super::*;

    #[test]
    fn a_home_this_user_may_not_read_is_said_so_not_called_no_home() {
        let dir = tempfile::tempdir().unwrap();
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = initialised(dir.path(), Err(denied)).unwrap_err();
        assert_eq!(e.exit_code(), crate::exit::ExitCode::NoPerm);
        let text = e.to_string();
        assert!(text.contains("may not read this kartka home"), "{text}");
        assert!(text.contains("the home belongs to uid"), "{text}");
        assert!(
            text.contains("Run kartka as the user the home belongs to"),
            "{text}"
        );
        assert!(!text.contains("not a kartka home"), "{text}");
        // No kartka.toml at all is still no home.
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = initialised(dir.path(), Err(missing)).unwrap_err();
        assert!(e.to_string().contains("not a kartka home"), "{e}");
        assert_eq!(e.exit_code(), crate::exit::ExitCode::Config);
        // The real check: a readable kartka.toml is a home.
        std::fs::write(dir.path().join("kartka.toml"), "").unwrap();
        let home = Home::new(dir.path().to_path_buf());
        home.require_initialised().unwrap();
    }
}
