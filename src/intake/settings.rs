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
