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
    /// A new random card master key was written.
    pub card_key_written: bool,
    /// A new random dock master key was written.
    pub dock_key_written: bool,
    /// Placeholder card design images were put in place.
    pub design_written: Vec<String>,
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
    let config = Config::load(&home.config())?;
    let card_key_written =
        crate::cards::keyfile::create_if_missing(&home.root().join(&config.cards.key_file))?;
    let dock_key_written =
        crate::cards::keyfile::create_if_missing(&home.root().join(&config.dock.key_file))?;
    let mut design_written = Vec::new();
    for (rel, bytes) in [
        (&config.cards.arms, crate::cards::print::PLACEHOLDER_ARMS),
        (
            &config.cards.picture,
            crate::cards::print::PLACEHOLDER_PICTURE,
        ),
    ] {
        let path = home.root().join(rel);
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| config::Error::Write {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            crate::private::write_mode(&path, bytes, crate::private::Mode::Public).map_err(
                |source| config::Error::Write {
                    path: path.clone(),
                    source,
                },
            )?;
            design_written.push(rel.display().to_string());
        }
    }
    Ok(InitSummary {
        card_key_written,
        dock_key_written,
        design_written,
        home: home.root().display().to_string(),
        created,
        config_written,
        schema_version: registry.schema_version()?,
    })
}
