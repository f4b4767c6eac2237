//! `[reconcile]` in kartka.toml (a leaf: `config` only aggregates it).

use serde::Deserialize;

/// `[reconcile]` in kartka.toml.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    /// Trips the month's total, and any route and day, may differ by.
    #[serde(default)]
    pub tolerance_trips: u32,
    /// Kopecks the month's amount may differ by.
    #[serde(default)]
    pub tolerance_kopecks: u64,
}
