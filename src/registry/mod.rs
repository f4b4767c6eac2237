//! The registry: one SQLite file in WAL mode (DESIGN.md), created readable by
//! its owner only (P22), with schema migrations run on every open.

mod migrations;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use migrations::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: the registry has schema version {found}, newer than this kartka knows ({known}).\n  \
         Use the kartka version that wrote it, or upgrade kartka."
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path}: the registry is busy (another process is writing). Try again shortly.")]
    Busy { path: PathBuf },
    #[error(
        "{path}: the OS user {user} may not read the registry ({source}).\n  \
         Run kartka as the user the home belongs to, or have its owner give this user access."
    )]
    NotPermitted {
        path: PathBuf,
        user: String,
        source: std::io::Error,
    },
    #[error("{path}: registry error: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        // A busy registry is a temporary failure in every command.
        match self {
            Error::TooNew { .. } => ExitCode::Config,
            Error::Busy { .. } => ExitCode::TempFail,
            Error::NotPermitted { .. } => ExitCode::NoPerm,
            Error::Sqlite { .. } => ExitCode::IoErr,
        }
    }
}

impl Error {
    pub fn sqlite(path: &Path, source: rusqlite::Error) -> Error {
        if let rusqlite::Error::SqliteFailure(e, _) = &source
            && matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            )
        {
            return Error::Busy {
                path: path.to_path_buf(),
            };
        }
        Error::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why the registry at `path` could not be opened: not permitted (exit
/// 77) when the OS user may not read it, an I/O error otherwise.
fn not_permitted(path: &Path, source: std::io::Error) -> Error {
    if source.kind() == std::io::ErrorKind::PermissionDenied {
        return Error::NotPermitted {
            path: path.to_path_buf(),
            user: crate::access::identity::os_user(),
            source,
        };
    }
    Error::Sqlite {
        path: path.to_path_buf(),
        source: rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(source.to_string()),
        ),
    }
}

/// An open registry.
pub struct Registry {
    conn: Connection,
    path: PathBuf,
}

impl Registry {
    /// Opens (creating if needed, mode 0600) and migrates the registry.
    pub fn open(path: &Path) -> Result<Registry, Error> {
        if !path.exists() {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| Error::Sqlite {
                    path: path.to_path_buf(),
                    source: rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(e.to_string()),
                    ),
                })?;
        }
        if let Err(source) = std::fs::File::open(path) {
            return Err(not_permitted(path, source));
        }
        let err = |e| Error::sqlite(path, e);
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        // 64 MiB of page cache: a city-sized import touches its unique
        // indexes in random order.
        conn.pragma_update(None, "cache_size", -65536)
            .map_err(err)?;
        migrations::run(&mut conn, path)?;
        Ok(Registry {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wraps a SQLite error with the registry's path.
    pub fn err(&self, e: rusqlite::Error) -> Error {
        Error::sqlite(&self.path, e)
    }

    /// The person a social number (8 digits, K1), tax number or passport
    /// names, if the registry holds one.
    pub fn find_person(&self, key: &str) -> Result<Option<i64>, Error> {
        let key = key.trim();
        let passport = crate::identity::parse_passport(key).map(|p| p.as_str().to_string());
        let found = self.conn().query_row(
            "SELECT id FROM people WHERE id = ?3 OR tax_number = ?1 OR passport = ?2 LIMIT 1",
            rusqlite::params![
                key,
                passport.unwrap_or_else(|| key.to_string()),
                // A social number is 10000000 + id (K1).
                key.parse::<i64>()
                    .ok()
                    .filter(|n| key.len() == 8 && *n > 10_000_000)
                    .map(|n| n - 10_000_000)
            ],
            |r| r.get(0),
        );
        match found {
            Ok(id) => Ok(Some(id)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    pub fn schema_version(&self) -> Result<i64, Error> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_registry_this_user_may_not_read_is_said_so() {
        let p = Path::new("home/registry.sqlite");
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = not_permitted(p, denied);
        assert_eq!(e.exit_code(), crate::exit::ExitCode::NoPerm);
        let text = e.to_string();
        assert!(text.contains("home/registry.sqlite: the OS user"), "{text}");
        assert!(text.contains("may not read the registry"), "{text}");
        assert!(
            text.contains("Run kartka as the user the home belongs to"),
            "{text}"
        );
        let other = std::io::Error::from(std::io::ErrorKind::InvalidData);
        assert_eq!(
            not_permitted(p, other).exit_code(),
            crate::exit::ExitCode::IoErr
        );
    }

    #[test]
    fn a_new_registry_is_private_wal_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.sqlite");
        let reg = Registry::open(&path).unwrap();
        assert_eq!(reg.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = reg
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        reg.conn()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        for file in [
            "registry.sqlite",
            "registry.sqlite-wal",
            "registry.sqlite-shm",
        ] {
            let m = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600, "{file}");
        }
        drop(reg);
        // Re-opening runs no migration twice.
        let reg = Registry::open(&path).unwrap();
        assert_eq!(reg.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_registry_from_a_newer_kartka_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.sqlite");
        drop(Registry::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Registry::open(&path).err().unwrap();
        assert!(matches!(err, Error::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer than this kartka knows"));
    }
}
