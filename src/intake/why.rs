//! Reasons told to people, in Ukrainian and English: the rejects file that a
//! clerk opens is in Ukrainian by default; messages on stderr are English.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub uk: String,
    pub en: String,
}

impl Why {
    /// Both texts with the same prefix in each language.
    pub fn prefixed(&self, uk: &str, en: &str) -> Why {
        Why {
            uk: format!("{uk}{}", self.uk),
            en: format!("{en}{}", self.en),
        }
    }

    /// Several reasons as one, in each language.
    pub fn join(all: &[Why]) -> Why {
        Why {
            uk: all
                .iter()
                .map(|w| w.uk.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            en: all
                .iter()
                .map(|w| w.en.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// `why!("український текст {x}", "English text {x}", args...)`.
macro_rules! why {
    ($uk:literal, $en:literal $(, $arg:expr)* $(,)?) => {
        $crate::intake::Why {
            uk: format!($uk $(, $arg)*),
            en: format!($en $(, $arg)*),
        }
    };
}
pub(crate) use why;
