//! `[dock]` in kartka.toml: the domain's settings (a leaf: `config` only
//! aggregates them).

use std::path::PathBuf;

use serde::Deserialize;

/// Docking validators (issue 6): the dock master key, the serial ports a
/// sweep looks at, and what a docking puts right on the validator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockSettings {
    /// The dock master key file (32 hex digits), relative to the home; each
    /// validator's key is derived from it and the validator's id.
    #[serde(default = "default_dock_key_file")]
    pub key_file: PathBuf,
    /// Ports `kartka dock --all` tries (globs).
    #[serde(default = "default_ports")]
    pub ports: Vec<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// A validator whose clock is further off than this, in seconds, is set.
    #[serde(default = "default_max_drift")]
    pub max_clock_drift_s: u32,
    /// The repeat-tap timeout sent to validators (P13), in seconds.
    #[serde(default = "default_repeat_timeout")]
    pub repeat_timeout_s: u16,
    /// Seconds without a byte from the validator before a request is sent
    /// again.
    #[serde(default = "default_reply_timeout")]
    pub reply_timeout_s: u32,
}

fn default_dock_key_file() -> PathBuf {
    PathBuf::from("keys/dock-master.key")
}
fn default_ports() -> Vec<String> {
    vec!["/dev/ttyACM*".into(), "/dev/ttyUSB*".into()]
}
fn default_baud() -> u32 {
    115_200
}
fn default_max_drift() -> u32 {
    60
}
fn default_repeat_timeout() -> u16 {
    900
}
fn default_reply_timeout() -> u32 {
    2
}

impl Default for DockSettings {
    fn default() -> Self {
        DockSettings {
            key_file: default_dock_key_file(),
            ports: default_ports(),
            baud: default_baud(),
            max_clock_drift_s: default_max_drift(),
            repeat_timeout_s: default_repeat_timeout(),
            reply_timeout_s: default_reply_timeout(),
        }
    }
}
