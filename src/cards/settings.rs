//! `[cards]` in kartka.toml: the domain's settings (a leaf: `config` only
//! aggregates them).

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Deserialize;

/// Cards (P6–P8, P18): where the secrets and the design images are, how long
/// a card is valid, and the dated fees.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSettings {
    /// The card master key file (32 hex digits), relative to the home. It
    /// must be readable by its owner only.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// Years a card is valid when the benefit itself has no end.
    #[serde(default = "default_validity_years")]
    pub validity_years: u32,
    /// Printed above the number on the front.
    #[serde(default = "default_card_title")]
    pub title: String,
    /// The city's arms (PNG or JPEG), relative to the home.
    #[serde(default = "default_arms")]
    pub arms: PathBuf,
    /// The front picture (the city theatre, P7), relative to the home.
    #[serde(default = "default_picture")]
    pub picture: PathBuf,
    /// Where a holder pays for a reissue (shown when a card is blocked).
    #[serde(default)]
    pub payment_details: String,
    /// Dated fees, in date order.
    #[serde(default = "default_card_fees")]
    pub fees: Vec<CardFees>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardFees {
    pub from: NaiveDate,
    /// What a holder pays for a reissue (P8), in kopecks.
    pub reissue_fee_kopecks: i64,
    /// What one card costs to make, charged to a partner community for its
    /// residents' cards (P18), in kopecks.
    pub card_cost_kopecks: i64,
}

fn default_key_file() -> PathBuf {
    PathBuf::from("keys/card-master.key")
}
fn default_validity_years() -> u32 {
    5
}
fn default_card_title() -> String {
    "Картка пільговика".into()
}
fn default_arms() -> PathBuf {
    PathBuf::from("design/arms.png")
}
fn default_picture() -> PathBuf {
    PathBuf::from("design/picture.jpg")
}
fn default_card_fees() -> Vec<CardFees> {
    vec![CardFees {
        from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"),
        reissue_fee_kopecks: 12_000,
        card_cost_kopecks: 12_000,
    }]
}

impl Default for CardSettings {
    fn default() -> Self {
        CardSettings {
            key_file: default_key_file(),
            validity_years: default_validity_years(),
            title: default_card_title(),
            arms: default_arms(),
            picture: default_picture(),
            payment_details: String::new(),
            fees: default_card_fees(),
        }
    }
}

impl CardSettings {
    /// The fees in force on `date`.
    pub fn fees_on(&self, date: NaiveDate) -> Option<&CardFees> {
        self.fees.iter().rev().find(|f| f.from <= date)
    }
}
