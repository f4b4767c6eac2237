//! Where a row's community is written: a community column, a settlement
//! column, the settlement in an address («с. Вербки, вул. Миру, 5»), the
//! sheet's name («Тернівська МТГ») or the file's `--community`, in that
//! order. A district or region («Павлоградського р-ну», «Дніпропетровська
//! обл.») qualifies a settlement; alone it names no community.

use std::collections::BTreeMap;

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

/// What an address (or a settlement cell) says about the settlement: its
/// parts are split at commas, semicolons, lines and slashes
/// («обл./р-н/с. Богданівка/вул. Миру»).
pub fn place(address: &str) -> Place {
    let mut bare = Vec::new();
    let mut district = None;
    for part in address.split([',', ';', '\n', '/']) {
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

/// Where a sheet names the community of the rows that name none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetSource {
    /// The sheet's name («Тернівська МТГ»).
    Name,
    /// A title cell above the header: its row index and text.
    Title(usize, String),
}

/// The community a sheet names for its rows: by its name, else by the
/// title above its header when no column of the rows can name one (a
/// title is about the office; an address without a settlement stays
/// refused).
pub fn of_sheet_or_title(
    name: &str,
    head: &super::Header,
    communities: &Vocabulary,
) -> Option<(String, SheetSource)> {
    if let Some(code) = of_sheet(name, communities) {
        return Some((code, SheetSource::Name));
    }
    if head.names_places() {
        return None;
    }
    of_title(&head.title, communities)
        .map(|(code, cell)| (code, SheetSource::Title(cell.0, cell.1.clone())))
}

/// The community the title above a sheet's header names («Список
/// мешканців ОСББ «Світанок», м. Павлоград»): a settlement written with its
/// kind, else a community's name; only when the title names exactly one.
/// Returns its code and the title cell that names it.
pub fn of_title<'t>(
    title: &'t [(usize, String)],
    communities: &Vocabulary,
) -> Option<(String, &'t (usize, String))> {
    let plain = |text: &str| match communities.find(text) {
        Match::Exact(code) => Some(code),
        Match::Variant {
            code,
            how: How::Normalised,
        } => Some(code),
        _ => None,
    };
    let mut marked: BTreeMap<String, &(usize, String)> = BTreeMap::new();
    let mut named: BTreeMap<String, &(usize, String)> = BTreeMap::new();
    for cell in title {
        let words = title_words(&cell.1);
        for name in marked_names(&words) {
            if let Some(code) = plain(&name) {
                marked.entry(code).or_insert(cell);
            }
        }
        for n in 1..=4.min(words.len()) {
            for window in words.windows(n) {
                let text = window.join(" ");
                // A place's name alone as written («Павлоград»), not an
                // adjective («Павлоградська» in an organisation's name is
                // no place of residence); words together in a community's
                // own form («Тернівська МТГ»).
                let code = match communities.find(&text) {
                    Match::Exact(code) if n > 1 || !adjective(&text) => Some(code),
                    Match::Variant {
                        code,
                        how: How::Normalised | How::Short,
                    } if n > 1 => Some(code),
                    _ => None,
                };
                if let Some(code) = code {
                    named.entry(code).or_insert(cell);
                }
            }
        }
    }
    let found = if marked.is_empty() { named } else { marked };
    if found.len() != 1 {
        return None;
    }
    found.into_iter().next()
}

/// An adjective of a place («Павлоградська», «Тернівського»).
fn adjective(word: &str) -> bool {
    let w = word.to_lowercase();
    ["ськ", "цьк", "зьк"].iter().any(|stem| {
        w.char_indices()
            .rev()
            .take(5)
            .any(|(i, _)| w[i..].starts_with(stem))
    })
}

/// A title's words without the quotes and brackets around them; a kind
/// glued to its name («м.Павлоград») is two words.
fn title_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for raw in text.split_whitespace() {
        let core = raw
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
            .trim_start_matches('.');
        if let Some((kind, name)) = core.split_once('.')
            && !name.is_empty()
            && MARKERS.contains(&kind.to_lowercase().as_str())
        {
            words.push(format!("{kind}."));
            words.push(name.trim_matches('.').to_string());
        } else if !core.is_empty() {
            words.push(core.to_string());
        }
    }
    words
}

/// The names after a settlement's kind among a title's words («м.
/// Павлоград», «село Вербки», «смт Петропавлівка»): the next word, and the
/// next two.
fn marked_names(words: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let lower = w.to_lowercase();
        let kind = lower.trim_end_matches('.');
        let spelled = kind.chars().count() > 1 && !lower.ends_with('.');
        if !MARKERS.contains(&kind) || !(lower.ends_with('.') || spelled) {
            continue;
        }
        if let Some(next) = words.get(i + 1) {
            names.push(next.trim_end_matches('.').to_string());
            if let Some(after) = words.get(i + 2) {
                names.push(format!("{next} {}", after.trim_end_matches('.')));
            }
        }
    }
    names
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
            (
                "Дніпропетровська обл./Павлоградський р-н/с. Богданівка/вул. Центральна, 112",
                "Богданівка",
            ),
            ("м. Павлоград, вул. Соборна, 71/2", "Павлоград"),
        ] {
            assert_eq!(place(address), Place::Marked(name.into()), "{address}");
        }
    }

    #[test]
    fn a_district_alone_is_no_settlement() {
        assert_eq!(
            place("Дніпропетровська обл./Павлоградський р-н"),
            Place::District("Дніпропетровська обл.".into())
        );
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

    #[test]
    fn a_title_names_the_community_only_when_it_names_one() {
        let config = crate::config::Config::default_config();
        let v = config.community_vocabulary();
        let city = config.city.community.clone();
        let title = |cells: &[&str]| -> Vec<(usize, String)> {
            cells
                .iter()
                .enumerate()
                .map(|(i, t)| (i, t.to_string()))
                .collect()
        };
        let code = |cells: &[&str]| of_title(&title(cells), &v).map(|(c, at)| (c, at.0));
        assert_eq!(
            code(&[
                "ОСББ «Світанок»",
                "Список мешканців будинку (м.Павлоград, вул. Соборна, 40)"
            ]),
            Some((city.clone(), 1))
        );
        assert_eq!(
            code(&["Список жителів с. Богданівка, які звертаються за пільгою"]),
            Some(("UA12120010000054893".to_string(), 0))
        );
        assert_eq!(
            code(&["Тернівська МТГ: заяви за грудень"]),
            Some(("UA12120190000064981".to_string(), 0))
        );
        // A settlement written with its kind outweighs an issuer's name.
        assert_eq!(
            code(&["Павлоградська МТГ", "Староста с. Богданівка"]),
            Some(("UA12120010000054893".to_string(), 1))
        );
        for none in [
            &["Список членів ППО УТОС"][..],
            &["Павлоградська первинна організація УТОС"][..],
            &["м. Павлоград", "с. Богданівка"][..],
            &["м. Дніпро, вул. Миру"][..],
            &["Грудень 2026 р.", "Лист1"][..],
            &[][..],
        ] {
            assert_eq!(code(none), None, "{none:?}");
        }
    }
}
