//! Where a row's community is written: a community column, a settlement
//! column, the settlement in an address («с. Вербки, вул. Миру, 5»), the
//! sheet's name («Тернівська МТГ») or the file's `--community`, in that
//! order. A district or region («Павлоградського р-ну», «Дніпропетровська
//! обл.») qualifies a settlement; alone it names no community.

use crate::vocab::{How, Match, Vocabulary};

/// What an address or a settlement cell says about the settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A settlement named with its kind («м.», «с.», «смт», «сел.»).
    Marked(String),
    /// Parts that may be a settlement's name written bare («Павлоград,
    /// вул. Соборна, 5»): a settlement only if a community has it.
    Bare(Vec<String>),
    /// Only a district or a region.
    District(String),
    /// No settlement.
    Nothing,
}

/// The kinds of settlement written before its name, longest first.
const MARKERS: [&str; 12] = [
    "селище міського типу",
    "селище",
    "село",
    "місто",
    "с-ще",
    "смт",
    "сел",
    "пгт",
    "пос",
    "м",
    "с",
    "г",
];

/// Words that make the word before them a district or a region.
const QUALIFIERS: [&str; 12] = [
    "р-н",
    "р-ну",
    "р-ні",
    "район",
    "району",
    "районі",
    "р",
    "обл",
    "область",
    "області",
    "district",
    "oblast",
];

/// Words that begin a street, a house or a flat: no settlement there.
const STREET: [&str; 24] = [
    "вул",
    "вулиця",
    "пров",
    "провулок",
    "просп",
    "проспект",
    "пр",
    "бульв",
    "бульвар",
    "б-р",
    "пл",
    "площа",
    "майдан",
    "буд",
    "б",
    "д",
    "кв",
    "квартира",
    "мкр",
    "мікрорайон",
    "тупик",
    "узвіз",
    "шосе",
    "кв-л",
];

fn word_key(w: &str) -> String {
    w.trim_matches(|c: char| c == '.' || c == ',' || c == ':')
        .to_lowercase()
}

/// A part of an address without its district and region words: the
/// qualifier and the adjective before it («Павлоградського р-ну»), or after
/// it when it comes first («р-н Павлоградський»). Says whether it had one.
fn unqualified(part: &str) -> (String, bool) {
    let words: Vec<&str> = part.split_whitespace().collect();
    let mut keep = vec![true; words.len()];
    let mut qualified = false;
    for (i, w) in words.iter().enumerate() {
        if QUALIFIERS.contains(&word_key(w).as_str()) {
            qualified = true;
            keep[i] = false;
            if i > 0 {
                keep[i - 1] = false;
            } else if i + 1 < words.len() {
                keep[i + 1] = false;
            }
        }
    }
    let rest: Vec<&str> = words
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(w, _)| *w)
        .collect();
    (rest.join(" "), qualified)
}

/// The settlement's name after its kind («с. Вербки», «м.Павлоград»,
/// «смт Петропавлівка»), or None when the text starts with no kind.
fn after_marker(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for m in MARKERS {
        let Some(rest) = lower.strip_prefix(m) else {
            continue;
        };
        if !rest.starts_with(['.', ' ']) {
            continue;
        }
        let skip = text.chars().count() - rest.chars().count();
        let name: String = text.chars().skip(skip).collect();
        let name = name.trim_start_matches(['.', ' ']).trim();
        if !name.is_empty() {
            return Some(name.to_string());
        }
    }
    None
}

/// What an address (or a settlement cell) says about the settlement.
pub fn place(address: &str) -> Place {
    let mut bare = Vec::new();
    let mut district = None;
    for part in address.split([',', ';', '\n']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (rest, qualified) = unqualified(part);
        if qualified && district.is_none() {
            district = Some(part.to_string());
        }
        let rest = rest.trim();
        if rest.is_empty() {
            continue;
        }
        if let Some(name) = after_marker(rest) {
            return Place::Marked(name);
        }
        let street = rest
            .split_whitespace()
            .any(|w| STREET.contains(&word_key(w).as_str()));
        if !street && !rest.chars().any(|c| c.is_ascii_digit()) {
            bare.push(rest.to_string());
        }
    }
    match (bare.is_empty(), district) {
        (false, _) => Place::Bare(bare),
        (true, Some(d)) => Place::District(d),
        (true, None) => Place::Nothing,
    }
}

/// The community a sheet's name names («Тернівська МТГ», «Богданівська
/// громада»), not by a guess at a misspelling.
pub fn of_sheet(name: &str, communities: &Vocabulary) -> Option<String> {
    match communities.find(name) {
        Match::Exact(code) => Some(code),
        Match::Variant { code, how } if how != How::Typo => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settlement_is_found_after_its_kind() {
        for (address, name) in [
            ("с. Богданівка, вул. Миру, 45", "Богданівка"),
            ("м.Павлоград, вул. Соборна, 5, кв. 3", "Павлоград"),
            ("смт Петропавлівка, пров. Тихий 2", "Петропавлівка"),
            ("сел. Благодатне, вул. Шкільна 7", "Благодатне"),
            (
                "Дніпропетровська обл., Павлоградський р-н, с. Вербки, вул. Миру 1",
                "Вербки",
            ),
            ("с. Вербки Павлоградського р-ну, вул. Миру 1", "Вербки"),
            ("51400, м. Тернівка, вул. Харківська, 3", "Тернівка"),
        ] {
            assert_eq!(place(address), Place::Marked(name.into()), "{address}");
        }
    }

    #[test]
    fn a_district_alone_is_no_settlement() {
        assert_eq!(
            place("Павлоградський р-н, вул. Миру, 5"),
            Place::District("Павлоградський р-н".into())
        );
        assert_eq!(
            place("Дніпропетровська обл."),
            Place::District("Дніпропетровська обл.".into())
        );
    }

    #[test]
    fn an_address_without_a_settlement_has_none() {
        assert_eq!(place("вул. Соборна, 5, кв. 3"), Place::Nothing);
        assert_eq!(
            place("Павлоград, вул. Соборна, 5"),
            Place::Bare(vec!["Павлоград".into()])
        );
        assert_eq!(place("Вербки"), Place::Bare(vec!["Вербки".into()]));
        assert_eq!(place("Тернівська вул., 5"), Place::Nothing);
    }

    proptest::proptest! {
        /// An address in any of the forms offices write it: the region and
        /// district before it or after the settlement, the settlement's kind
        /// spelt out or abbreviated, with or without a space, a postcode, a
        /// street, a house and a flat.
        #[test]
        fn the_settlement_is_found_in_any_written_form(
            name in proptest::sample::select(vec!["Вербки", "Богданівка", "Павлоград", "Благодатне", "В'язівок", "Нова Тарасівка"]),
            marker in proptest::sample::select(vec!["с.", "с. ", "село ", "м.", "м. ", "місто ", "смт ", "смт. ", "сел. ", "С. ", "М."]),
            region in proptest::sample::select(vec!["", "Дніпропетровська обл., ", "Дніпропетровська область, "]),
            district_before in proptest::sample::select(vec!["", "Павлоградський р-н, ", "Павлоградський район, "]),
            district_after in proptest::sample::select(vec!["", " Павлоградського р-ну", " Павлоградського району"]),
            postcode in proptest::sample::select(vec!["", "51400, "]),
            street in proptest::sample::select(vec!["", ", вул. Миру, 45", ", пров. Тихий 2, кв. 7", ", просп. Шевченка, буд. 3"]),
        ) {
            let address = format!("{postcode}{region}{district_before}{marker}{name}{district_after}{street}");
            proptest::prop_assert_eq!(place(&address), Place::Marked(name.to_string()), "{}", address);
        }

        /// A district or region with a street and no settlement is a
        /// district, whatever its spelling.
        #[test]
        fn a_district_without_a_settlement_is_a_district(
            district in proptest::sample::select(vec!["Павлоградський р-н", "Павлоградський район", "р-н Павлоградський", "Дніпропетровська обл."]),
            street in proptest::sample::select(vec!["", ", вул. Миру, 45", ", буд. 3"]),
        ) {
            let address = format!("{district}{street}");
            proptest::prop_assert_eq!(place(&address), Place::District(district.to_string()));
        }
    }

    #[test]
    fn a_sheet_name_names_a_community_or_nothing() {
        let config = crate::config::Config::default_config();
        let v = config.community_vocabulary();
        assert_eq!(
            of_sheet("Тернівська МТГ", &v).as_deref(),
            Some("UA12120190000064981")
        );
        assert_eq!(
            of_sheet("Богданівська громада", &v).as_deref(),
            Some("UA12120010000054893")
        );
        for other in ["Заяви", "Жовтень 2026", "Лист1", "Sheet1", ""] {
            assert_eq!(of_sheet(other, &v), None, "{other}");
        }
    }
}
