//! `[intake]` in kartka.toml: extra header names per field (a leaf:
//! `config` only aggregates it).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::header::Field;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    /// Extra header names per field, added to the built-in synonyms.
    #[serde(default)]
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// What a row naming several categories and no choice gets (P2).
    #[serde(default)]
    pub several_categories: SeveralCategories,
    /// What clerks taught (`kartka vocab`, the registry's table), added by
    /// `taught::apply` for an import: not written in kartka.toml.
    #[serde(skip)]
    pub taught: Vec<super::taught::Answer>,
}

/// P2: a person in several categories uses one, at their choice. Without
/// a choice in the row, the city's rule: the category needing no income
/// test (the reference's default), or ask the person (the row is refused
/// until the chosen category is written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeveralCategories {
    #[default]
    NoIncomeTest,
    Ask,
}

impl IntakeSettings {
    /// Every synonym is for a field kartka knows.
    pub fn check(&self) -> Result<(), String> {
        for field in self.synonyms.keys() {
            if !Field::ALL.iter().any(|f| f.key() == field) {
                return Err(format!(
                    "[intake.synonyms] {field:?} is not a field; known fields: {}",
                    Field::ALL
                        .iter()
                        .map(|f| f.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(())
    }
}
