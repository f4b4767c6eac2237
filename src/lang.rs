//! The language of what officials open: workbooks, print proofs and
//! reports are in Ukrainian by default, in English with `--lang en`. One
//! enum and one way to pick a label (`t`), for every writer.

/// `--lang`: the language of workbooks, proofs and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Uk,
    En,
}

impl Lang {
    /// The label in this language.
    pub fn t<'a>(self, uk: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Uk => uk,
            Lang::En => en,
        }
    }

    pub fn is_english(self) -> bool {
        self == Lang::En
    }
}

/// The label in `lang`: `t(lang, "Усього", "Total")`.
pub fn t<'a>(lang: Lang, uk: &'a str, en: &'a str) -> &'a str {
    lang.t(uk, en)
}
