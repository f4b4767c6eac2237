//! `kartka.toml`: reference data and dated parameters (DESIGN.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::identity;

// The domains' own settings, aggregated here (each in a leaf
// `settings.rs` that imports nothing from `config`).
pub use crate::cards::settings::{CardFees, CardSettings};
pub use crate::dock::settings::DockSettings;
pub use crate::intake::settings::IntakeSettings;

/// The commented default that `kartka init` writes.
pub const DEFAULT_TOML: &str = include_str!("default-config.toml");

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read the configuration: {source}.\n  Run `kartka init` to create it.")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not valid kartka configuration:\n{message}\n  Fix the file, or compare it with a fresh `kartka init` in an empty folder."
    )]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}\n  Fix the file and run the command again.")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot write the configuration: {source}")]
    Write {
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
            Error::Read { .. } | Error::Parse { .. } | Error::Invalid { .. } => ExitCode::Config,
            Error::Write { .. } => ExitCode::CantCreate,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub city: City,
    pub communities: Vec<Community>,
    pub categories: Vec<Category>,
    pub income_limits: Vec<IncomeLimit>,
    #[serde(default)]
    pub income: IncomeRules,
    #[serde(default)]
    pub intake: crate::intake::settings::IntakeSettings,
    #[serde(default)]
    pub cards: crate::cards::settings::CardSettings,
    #[serde(default)]
    pub dock: crate::dock::settings::DockSettings,
    /// Thresholds of the suspicious-tap rules (issue 7).
    #[serde(default)]
    pub flags: crate::flags::settings::FlagSettings,
    /// Fares by period (P17), in kopecks.
    #[serde(default)]
    pub tariffs: Vec<crate::tariff::Tariff>,
    /// How far a carrier's report may differ and still match (P17).
    #[serde(default)]
    pub reconcile: crate::compensation::settings::Tolerance,
    /// The approved benefit budget per year and community (K3).
    #[serde(default)]
    pub budget: Vec<crate::budget::settings::Budget>,
    /// Open data (K6): the smallest published group, holidays, the
    /// publication key.
    #[serde(default)]
    pub open_data: crate::open_data::settings::OpenDataSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    pub name: String,
    /// КАТОТТГ code of the city's own community.
    pub community: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Community {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The settlements (cities, towns, villages) in the community: an
    /// address or a settlement column names the community by them.
    #[serde(default)]
    pub settlements: Vec<String>,
    #[serde(default)]
    pub partner: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub legal_basis: String,
    pub income_tested: bool,
    #[serde(default)]
    pub companion: bool,
    #[serde(default)]
    pub proof: String,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The group open data publishes the category's trips under
    /// (pensioners, disability, veterans, chornobyl, children, other);
    /// by its code when not given.
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeLimit {
    pub from: NaiveDate,
    pub subsistence_minimum_uah: i64,
    pub limit_uah: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeRules {
    pub counts: Vec<String>,
    pub basis: String,
    pub months: u32,
    pub inclusive: bool,
}

impl Default for IncomeRules {
    fn default() -> Self {
        IncomeRules {
            counts: vec!["pension".into(), "salary".into(), "aid".into()],
            basis: "person".into(),
            months: 6,
            inclusive: true,
        }
    }
}

/// The income limit of P3: the subsistence minimum × 1.4, rounded to 10 UAH,
/// in integer arithmetic (reference/income-limit.md).
pub fn income_limit_uah(subsistence_minimum_uah: i64) -> i64 {
    ((subsistence_minimum_uah * 14 + 50) / 100) * 10
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check(path)?;
        Ok(config)
    }

    pub fn default_config() -> Config {
        Config::parse(DEFAULT_TOML, Path::new("<default kartka.toml>"))
            .expect("the shipped default configuration is valid")
    }

    fn check(&self, path: &Path) -> Result<(), Error> {
        let invalid = |message: String| Error::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut seen = HashMap::new();
        for c in &self.communities {
            if !identity::is_katottg(&c.code) {
                return Err(invalid(format!(
                    "community {:?}: code {:?} is not a КАТОТТГ code (expected UA and 17 digits)",
                    c.name, c.code
                )));
            }
            if seen.insert(c.code.as_str(), ()).is_some() {
                return Err(invalid(format!("community code {} appears twice", c.code)));
            }
        }
        if !self
            .communities
            .iter()
            .any(|c| c.code == self.city.community)
        {
            return Err(invalid(format!(
                "[city] community {} is not one of the [[communities]]",
                self.city.community
            )));
        }
        self.flags.check().map_err(&invalid)?;
        self.open_data.check().map_err(&invalid)?;
        crate::tariff::check(&self.tariffs).map_err(&invalid)?;
        crate::budget::settings::check(
            &self.budget,
            &self
                .communities
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>(),
            &self
                .categories
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>(),
            &self.city.community,
        )
        .map_err(&invalid)?;
        for l in &self.flags.trip_limits {
            if l.category != "*" && self.category(&l.category).is_none() {
                return Err(invalid(format!(
                    "[[flags.trip_limits]]: category {:?} is not one of the [[categories]]",
                    l.category
                )));
            }
        }
        let mut seen = HashMap::new();
        for c in &self.categories {
            if seen.insert(c.code.as_str(), ()).is_some() {
                return Err(invalid(format!("category code {} appears twice", c.code)));
            }
        }
        if self.income_limits.is_empty() {
            return Err(invalid("[[income_limits]] is empty".into()));
        }
        for pair in self.income_limits.windows(2) {
            if pair[1].from <= pair[0].from {
                return Err(invalid(format!(
                    "[[income_limits]] must be in date order: {} comes after {}",
                    pair[1].from, pair[0].from
                )));
            }
        }
        // Per-family income needs the family's size, which applications do
        // not carry yet: refuse the setting rather than ignore it.
        if self.income.basis != "person" {
            return Err(invalid(format!(
                "[income] basis = {:?}: only \"person\" is supported (applications carry no family size)",
                self.income.basis
            )));
        }
        for c in &self.income.counts {
            if !["pension", "salary", "aid"].contains(&c.as_str()) {
                return Err(invalid(format!(
                    "[income] counts: {c:?} is not an income kind; expected pension, salary or aid"
                )));
            }
        }
        if self.cards.fees.is_empty() {
            return Err(invalid(
                "[[cards.fees]] is empty: give at least one entry".into(),
            ));
        }
        for pair in self.cards.fees.windows(2) {
            if pair[1].from <= pair[0].from {
                return Err(invalid(format!(
                    "[[cards.fees]] must be in date order: {} comes after {}",
                    pair[1].from, pair[0].from
                )));
            }
        }
        for f in &self.cards.fees {
            if f.reissue_fee_kopecks < 0 || f.card_cost_kopecks < 0 {
                return Err(invalid(format!(
                    "[[cards.fees]] from {}: fees are kopecks and cannot be negative",
                    f.from
                )));
            }
            for (what, v) in [
                ("reissue_fee_kopecks", f.reissue_fee_kopecks),
                ("card_cost_kopecks", f.card_cost_kopecks),
            ] {
                if let Some(m) = crate::money::over(what, i128::from(v), crate::money::MAX_FEE) {
                    return Err(invalid(format!("[[cards.fees]] from {}: {m}", f.from)));
                }
            }
        }
        if let Some(m) = crate::money::over(
            "[reconcile] tolerance_kopecks",
            i128::from(self.reconcile.tolerance_kopecks),
            crate::money::MAX_AMOUNT,
        ) {
            return Err(invalid(m));
        }
        self.check_income_bounds().map_err(&invalid)?;
        if !(1..=30).contains(&self.cards.validity_years) {
            return Err(invalid(format!(
                "[cards] validity_years = {}: expected 1 to 30",
                self.cards.validity_years
            )));
        }
        if self.categories.len() > 255 {
            return Err(invalid(
                "more than 255 [[categories]]: the card stores the category in one byte".into(),
            ));
        }
        self.intake.check().map_err(&invalid)?;
        Ok(())
    }

    /// Income limits within what a person's monthly income can be: a
    /// million UAH, so sums of incomes never overflow.
    fn check_income_bounds(&self) -> Result<(), String> {
        const MAX_UAH: i64 = 1_000_000;
        for l in &self.income_limits {
            for (what, v) in [
                ("subsistence_minimum_uah", l.subsistence_minimum_uah),
                ("limit_uah", l.limit_uah),
            ] {
                if !(0..=MAX_UAH).contains(&v) {
                    return Err(format!(
                        "[[income_limits]] from {}: {what} = {v} is outside 0 to {MAX_UAH} UAH",
                        l.from
                    ));
                }
            }
        }
        Ok(())
    }

    /// The category's index, as the card stores it.
    pub fn category_index(&self, code: &str) -> Option<u8> {
        self.categories
            .iter()
            .position(|c| c.code == code)
            .map(|i| i as u8)
    }

    /// The community's index, as the card stores it.
    pub fn community_index(&self, code: &str) -> Option<u16> {
        self.communities
            .iter()
            .position(|c| c.code == code)
            .map(|i| i as u16)
    }

    /// Whether `code` is a partner community (P18).
    pub fn is_partner(&self, code: &str) -> bool {
        self.community(code).is_some_and(|c| c.partner)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn community(&self, code: &str) -> Option<&Community> {
        self.communities.iter().find(|c| c.code == code)
    }

    /// The income limit in force on `date`, if any entry starts by then.
    pub fn income_limit_on(&self, date: NaiveDate) -> Option<&IncomeLimit> {
        self.income_limits.iter().rev().find(|l| l.from <= date)
    }

    /// How clerks write categories: code, names and aliases, matched as
    /// `vocab` matches them.
    pub fn category_vocabulary(&self) -> crate::vocab::Vocabulary {
        crate::vocab::Vocabulary::new(
            crate::vocab::Kind::Category,
            self.categories.iter().map(|c| {
                let mut phrases: Vec<&str> = c.aliases.iter().map(String::as_str).collect();
                phrases.push(&c.name_en);
                (c.code.as_str(), c.name.as_str(), phrases)
            }),
        )
    }

    /// How clerks write communities: code, name, aliases and settlements.
    pub fn community_vocabulary(&self) -> crate::vocab::Vocabulary {
        crate::vocab::Vocabulary::new(
            crate::vocab::Kind::Community,
            self.communities.iter().map(|c| {
                (
                    c.code.as_str(),
                    c.name.as_str(),
                    c.aliases
                        .iter()
                        .chain(&c.settlements)
                        .map(String::as_str)
                        .collect(),
                )
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_limits_follow_the_tax_code_formula() {
        let config = Config::default_config();
        for l in &config.income_limits {
            assert_eq!(
                income_limit_uah(l.subsistence_minimum_uah),
                l.limit_uah,
                "limit from {}",
                l.from
            );
        }
        assert_eq!(income_limit_uah(1921), 2690);
        assert_eq!(income_limit_uah(3328), 4660);
    }

    #[test]
    fn the_limit_in_force_changes_on_the_first_of_january() {
        let config = Config::default_config();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            config.income_limit_on(d("2025-12-31")).unwrap().limit_uah,
            4240
        );
        assert_eq!(
            config.income_limit_on(d("2026-01-01")).unwrap().limit_uah,
            4660
        );
        assert!(config.income_limit_on(d("2018-12-31")).is_none());
    }

    #[test]
    fn shipped_categories_match_the_reference_table() {
        let config = Config::default_config();
        let tested: Vec<_> = config
            .categories
            .iter()
            .filter(|c| c.income_tested)
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(tested, ["pensioner-age", "pensioner-other", "disability-3"]);
        assert_eq!(config.categories.len(), 11);
    }

    #[test]
    fn an_unknown_synonym_field_is_a_config_error_naming_it() {
        let text = DEFAULT_TOML.replace("# tax_number = [\"Код ДРФО\"]", "tax_nmber = [\"x\"]");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(
            err.to_string().contains("\"tax_nmber\" is not a field"),
            "{err}"
        );
    }

    #[test]
    fn income_settings_that_cannot_be_computed_are_refused() {
        let text = DEFAULT_TOML.replace("basis = \"person\"", "basis = \"family\"");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(
            err.to_string().contains("only \"person\" is supported"),
            "{err}"
        );
        let text = DEFAULT_TOML.replace(
            "counts = [\"pension\", \"salary\", \"aid\"]",
            "counts = [\"pension\", \"rent\"]",
        );
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(
            err.to_string().contains("\"rent\" is not an income kind"),
            "{err}"
        );
    }

    #[test]
    fn a_typo_in_the_file_names_the_line() {
        let text = DEFAULT_TOML.replace("[city]", "[city\n");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
    }
}
