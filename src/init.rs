//! `kartka init`: create a home with its registry and a commented config.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use crate::config::{self, Config};
use crate::home::Home;
use crate::registry::Registry;

#[derive(Debug, Clone, serde::Serialize)]
pub struct InitSummary {
    pub home: String,
    pub created: bool,
    pub config_written: bool,
    pub schema_version: i64,
}

/// Creates the home (or brings an existing one's registry up to date). An
/// existing kartka.toml is never overwritten: it is checked instead.
pub fn init(home: &Home) -> Result<InitSummary, crate::Error> {
    let created = !home.config().exists();
    home.create_dirs()?;
    let config_written = if home.config().exists() {
        Config::load(&home.config())?;
        false
    } else {
        let path = home.config();
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| config::Error::Write {
                path: path.clone(),
                source,
            })?;
        f.write_all(config::DEFAULT_TOML.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|source| config::Error::Write { path, source })?;
        true
    };
    let registry = Registry::open(&home.registry())?;
    Ok(InitSummary {
        home: home.root().display().to_string(),
        created,
        config_written,
        schema_version: registry.schema_version()?,
    })
}
