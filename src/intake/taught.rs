//! What clerks taught the intake (`kartka vocab`): a text their offices
//! write for a category, a community or a column header that kartka.toml
//! does not name, answered once and used by every import and `--columns`
//! from then on. This module owns the registry table `vocabulary`.
//!
//! An answer never overrides kartka.toml: a text that already means
//! something else there is refused, so what the city configured and what a
//! clerk taught cannot disagree about a row's money.

use rusqlite::{OptionalExtension, params};

use super::header::{Field, Synonyms, header_key};
use super::settings::IntakeSettings;
use crate::config::Config;
use crate::registry::{self, Registry};
use crate::text;
use crate::vocab::{Match, Vocabulary};
use rusqlite::Transaction;

/// The longest text an answer may hold (a header or a cell's value).
const MAX_CHARS: usize = 200;

/// What a taught text names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A category cell's text → a category code.
    Category,
    /// A community cell's text (a settlement, a community's other name) → a
    /// community code.
    Community,
    /// A column header → a field («category», «birth_date», …).
    Header,
}

impl Kind {
    /// The kind's name on the command line and in the table.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Category => "category",
            Kind::Community => "community",
            Kind::Header => "header",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::Category, Kind::Community, Kind::Header]
            .into_iter()
            .find(|k| k.code() == s)
    }

    /// The matching key of a text of this kind: what makes two spellings
    /// one answer.
    fn key(self, written: &str) -> String {
        match self {
            Kind::Header => header_key(written),
            Kind::Category | Kind::Community => text::match_key(written),
        }
    }
}

/// One answer, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub kind: Kind,
    /// The text as the clerk typed it.
    pub written: String,
    /// A category or community code of kartka.toml, or a field's key.
    pub code: String,
    pub by: String,
    /// When, UTC (RFC 3339).
    pub at: String,
}

impl Answer {
    /// Is `written` this answer's text (up to case, spacing, look-alikes)?
    pub fn is(&self, kind: Kind, written: &str) -> bool {
        self.kind == kind && kind.key(written) == kind.key(&self.written)
    }
}

/// What `add` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New,
    /// The text was taught before, as `was`; now it means the new code.
    Replaced {
        was: String,
    },
    /// kartka.toml or an earlier answer already says exactly this.
    Known,
}

/// Every answer, oldest first.
pub fn list(reg: &Registry) -> Result<Vec<Answer>, super::Error> {
    let mut stmt = reg
        .conn()
        .prepare("SELECT kind, written, code, by, at FROM vocabulary ORDER BY at, rowid")
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            let kind: String = r.get(0)?;
            Ok(Answer {
                kind: Kind::parse(&kind).unwrap_or(Kind::Header),
                written: r.get(1)?,
                code: r.get(2)?,
                by: r.get(3)?,
                at: r.get(4)?,
            })
        })
        .map_err(|e| reg.err(e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| reg.err(e).into())
}

/// Teaches that `written` means `meaning` (a code, or a name kartka.toml
/// gives it; for a header, a field's key or one of its header names).
pub fn add(
    reg: &mut Registry,
    config: &Config,
    kind: Kind,
    written: &str,
    meaning: &str,
    by: &str,
) -> Result<(Answer, Added), super::Error> {
    let written = written.trim();
    if written.is_empty() || written.chars().count() > MAX_CHARS {
        return Err(super::Error::Teach(format!(
            "the text to teach must be 1 to {MAX_CHARS} characters, not {} (\"{}…\")",
            written.chars().count(),
            written.chars().take(20).collect::<String>()
        )));
    }
    let code = resolve(config, kind, meaning)?;
    let answer = Answer {
        kind,
        written: written.to_string(),
        code,
        by: by.to_string(),
        at: crate::time::now_utc_text(),
    };
    if let Some(means) = configured(config, kind, written) {
        if means == answer.code {
            return Ok((answer, Added::Known));
        }
        return Err(super::Error::Teach(format!(
            "\"{written}\" already means {} in kartka.toml; an answer cannot change what the city configured: change kartka.toml, or rename the column or value in the file",
            shown(config, kind, &means)
        )));
    }
    let path = reg.path().to_path_buf();
    let err = |e| super::Error::Registry(registry::Error::sqlite(&path, e));
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let was = stored(&tx, kind, written).map_err(err)?;
    if was.as_deref() == Some(answer.code.as_str()) {
        return Ok((answer, Added::Known));
    }
    tx.execute(
        "INSERT INTO vocabulary (kind, key, written, code, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (kind, key) DO UPDATE SET written = ?3, code = ?4, by = ?5, at = ?6",
        params![
            kind.code(),
            kind.key(written),
            answer.written,
            answer.code,
            answer.by,
            answer.at
        ],
    )
    .map_err(err)?;
    tx.commit().map_err(err)?;
    let added = was.map_or(Added::New, |was| Added::Replaced { was });
    Ok((answer, added))
}

/// Forgets the answer for `written`; `None` when there was none.
pub fn remove(
    reg: &mut Registry,
    kind: Kind,
    written: &str,
) -> Result<Option<String>, super::Error> {
    let path = reg.path().to_path_buf();
    let err = |e| super::Error::Registry(registry::Error::sqlite(&path, e));
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let was = stored(&tx, kind, written).map_err(err)?;
    tx.execute(
        "DELETE FROM vocabulary WHERE kind = ?1 AND key = ?2",
        params![kind.code(), kind.key(written)],
    )
    .map_err(err)?;
    tx.commit().map_err(err)?;
    Ok(was)
}

/// Adds the answers to the configuration an import reads with: category
/// and community answers become aliases; header answers are kept for
/// `Synonyms::of`.
pub fn apply(config: &mut Config, answers: Vec<Answer>) {
    for a in &answers {
        match a.kind {
            Kind::Category => {
                if let Some(c) = config.categories.iter_mut().find(|c| c.code == a.code) {
                    c.aliases.push(a.written.clone());
                }
            }
            Kind::Community => {
                if let Some(c) = config.communities.iter_mut().find(|c| c.code == a.code) {
                    c.aliases.push(a.written.clone());
                }
            }
            // Read by `Synonyms::of`, after the names kartka.toml gives.
            Kind::Header => {}
        }
    }
    config.intake.taught = answers;
}

/// Was `written` taught (for `--columns`: which answers a file used)?
pub fn used<'a>(settings: &'a IntakeSettings, kind: Kind, written: &str) -> Option<&'a Answer> {
    settings.taught.iter().find(|a| a.is(kind, written))
}

fn stored(tx: &Transaction, kind: Kind, written: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row(
        "SELECT code FROM vocabulary WHERE kind = ?1 AND key = ?2",
        params![kind.code(), kind.key(written)],
        |r| r.get(0),
    )
    .optional()
}

/// The code `meaning` names for this kind, or the error listing the codes.
fn resolve(config: &Config, kind: Kind, meaning: &str) -> Result<String, super::Error> {
    let found = match kind {
        Kind::Category => exact(&config.category_vocabulary(), meaning),
        Kind::Community => exact(&config.community_vocabulary(), meaning),
        Kind::Header => Field::ALL
            .iter()
            .find(|f| f.key() == meaning.trim())
            .copied()
            .or_else(|| Synonyms::new(&Default::default()).field(meaning))
            .map(|f| f.key().to_string()),
    };
    found.ok_or_else(|| {
        let known: Vec<String> = match kind {
            Kind::Category => config.categories.iter().map(|c| c.code.clone()).collect(),
            Kind::Community => config
                .communities
                .iter()
                .map(|c| format!("{} ({})", c.code, c.name))
                .collect(),
            Kind::Header => Field::ALL.iter().map(|f| f.key().to_string()).collect(),
        };
        super::Error::Teach(format!(
            "\"{meaning}\" is not a {} of kartka.toml; use one of: {}",
            match kind {
                Kind::Category => "category",
                Kind::Community => "community",
                Kind::Header => "field",
            },
            known.join(", ")
        ))
    })
}

fn exact(v: &Vocabulary, meaning: &str) -> Option<String> {
    match v.find(meaning) {
        Match::Exact(code) => Some(code),
        _ => None,
    }
}

/// What `written` already means in kartka.toml (and the built-in header
/// names), exactly: an answer may add a text, never re-point one.
fn configured(config: &Config, kind: Kind, written: &str) -> Option<String> {
    match kind {
        Kind::Category => exact(&config.category_vocabulary(), written),
        Kind::Community => exact(&config.community_vocabulary(), written),
        Kind::Header => Synonyms::new(&config.intake.synonyms)
            .exactly(written)
            .map(|f| f.key().to_string()),
    }
}

fn shown(config: &Config, kind: Kind, code: &str) -> String {
    match kind {
        Kind::Category => format!("the category {code}"),
        Kind::Community => format!(
            "the community {} ({code})",
            config.community(code).map_or(code, |c| c.name.as_str())
        ),
        Kind::Header => format!("the field {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> (tempfile::TempDir, Registry, Config) {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&dir.path().join("registry.sqlite")).unwrap();
        (dir, reg, Config::default_config())
    }

    #[test]
    fn an_answer_is_kept_and_read_back_whatever_its_spelling() {
        let (_d, mut reg, config) = home();
        let (a, added) = add(
            &mut reg,
            &config,
            Kind::Category,
            "воїн-афганець",
            "combatant",
            "clerk",
        )
        .unwrap();
        assert_eq!(added, Added::New);
        assert_eq!(a.code, "combatant");
        let again = add(
            &mut reg,
            &config,
            Kind::Category,
            " ВОЇН-АФГАНЕЦЬ ",
            "combatant",
            "clerk",
        )
        .unwrap();
        assert_eq!(again.1, Added::Known);
        let all = list(&reg).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].written, "воїн-афганець");
        assert_eq!(all[0].by, "clerk");
        assert!(all[0].is(Kind::Category, "Воїн-афганець"));
    }

    #[test]
    fn a_name_or_a_header_name_stands_for_its_code() {
        let (_d, mut reg, config) = home();
        let (a, _) = add(
            &mut reg,
            &config,
            Kind::Header,
            "Пільговий документ, статус",
            "Категорія пільги",
            "c",
        )
        .unwrap();
        assert_eq!(a.code, "category");
        let (a, _) = add(
            &mut reg,
            &config,
            Kind::Community,
            "Тернівка-2",
            "Тернівська",
            "c",
        )
        .unwrap();
        assert_eq!(a.code, config.communities[1].code);
    }

    #[test]
    fn a_second_answer_replaces_the_first_and_says_so() {
        let (_d, mut reg, config) = home();
        add(
            &mut reg,
            &config,
            Kind::Category,
            "воїн-афганець",
            "combatant",
            "c",
        )
        .unwrap();
        let (_, added) = add(
            &mut reg,
            &config,
            Kind::Category,
            "воїн-афганець",
            "war-disability",
            "c",
        )
        .unwrap();
        assert_eq!(
            added,
            Added::Replaced {
                was: "combatant".into()
            }
        );
        assert_eq!(list(&reg).unwrap()[0].code, "war-disability");
        assert_eq!(
            remove(&mut reg, Kind::Category, "Воїн-афганець")
                .unwrap()
                .as_deref(),
            Some("war-disability")
        );
        assert!(list(&reg).unwrap().is_empty());
        assert_eq!(
            remove(&mut reg, Kind::Category, "Воїн-афганець").unwrap(),
            None
        );
    }

    #[test]
    fn what_kartka_toml_says_cannot_be_repointed() {
        let (_d, mut reg, config) = home();
        let e = add(
            &mut reg,
            &config,
            Kind::Category,
            "УБД",
            "pensioner-age",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("\"УБД\" already means the category combatant in kartka.toml"),
            "{e}"
        );
        let e = add(&mut reg, &config, Kind::Header, "Прізвище", "category", "c")
            .unwrap_err()
            .to_string();
        assert!(e.contains("already means the field surname"), "{e}");
        assert!(list(&reg).unwrap().is_empty());
    }

    #[test]
    fn an_unknown_code_lists_the_codes() {
        let (_d, mut reg, config) = home();
        let e = add(
            &mut reg,
            &config,
            Kind::Category,
            "воїн-афганець",
            "war-hero",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("\"war-hero\" is not a category of kartka.toml; use one of:"),
            "{e}"
        );
        assert!(e.contains("combatant"), "{e}");
        let e = add(
            &mut reg,
            &config,
            Kind::Header,
            "Пільговий документ, статус",
            "kind_of_pension",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a field") && e.contains("birth_date"), "{e}");
        let e = add(&mut reg, &config, Kind::Header, "  ", "category", "c")
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 to 200 characters"), "{e}");
    }

    #[test]
    fn answers_become_aliases_and_synonyms() {
        let (_d, mut reg, mut config) = home();
        add(
            &mut reg,
            &config,
            Kind::Category,
            "воїн-афганець",
            "combatant",
            "c",
        )
        .unwrap();
        add(
            &mut reg,
            &config,
            Kind::Header,
            "Пільговий документ, статус",
            "category",
            "c",
        )
        .unwrap();
        apply(&mut config, list(&reg).unwrap());
        assert_eq!(
            config.category_vocabulary().find("Воїн-афганець"),
            Match::Exact("combatant".into())
        );
        let synonyms = Synonyms::of(&config.intake);
        assert_eq!(
            synonyms.field("ПІЛЬГОВИЙ ДОКУМЕНТ, СТАТУС:"),
            Some(Field::Category)
        );
        assert!(used(&config.intake, Kind::Header, "пільговий документ, статус").is_some());
        assert!(used(&config.intake, Kind::Category, "УБД").is_none());
    }
}
