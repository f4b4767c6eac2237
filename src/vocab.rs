//! Matching what a person wrote against a short list of known values
//! (categories, communities, sex, document kinds) the way a person would:
//! case, apostrophes, Latin look-alikes, punctuation, Roman numerals,
//! abbreviations, singular or plural, any word order, generic words such as
//! «міська територіальна громада», short forms and extra words, and then a
//! typo or two, but only when one candidate is clearly best.
//!
//! Every value has *phrases* (its code, names and aliases). Each text is
//! reduced to a set of word stems; a value matches when its stems are the
//! text's, a part of them (a short form) or contained in them (extra words),
//! in that order of preference. Anything but an exact match is a
//! [`Match::Variant`]: the caller accepts it with a warning naming what it
//! was taken as. Two values that fit equally well are [`Match::Ambiguous`];
//! no value at all is [`Match::Unknown`], with the nearest ones.

use std::collections::{BTreeSet, HashMap};

use crate::text;

/// Which kind of values: the kinds differ in their generic words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Category,
    Community,
    Sex,
    Document,
}

/// How a variant was recognised, for the warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// The same words, in another form, order or spelling of numerals.
    Normalised,
    /// A part of a known name (a short form).
    Short,
    /// A known name with extra words.
    Extra,
    /// A known name with a typo or two.
    Typo,
}

impl How {
    pub fn en(self) -> &'static str {
        match self {
            How::Normalised => "another form of",
            How::Short => "a short form of",
            How::Extra => "extra words around",
            How::Typo => "a misspelling of",
        }
    }
    pub fn uk(self) -> &'static str {
        match self {
            How::Normalised => "інша форма",
            How::Short => "скорочення",
            How::Extra => "зайві слова",
            How::Typo => "описка",
        }
    }
}

/// The outcome of matching one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The text is one of the value's phrases (up to case and spacing).
    Exact(String),
    /// Taken as `code`, which the text is not literally: accept, and warn.
    Variant { code: String, how: How },
    /// Fits these values equally well: ask "did you mean A or B?".
    Ambiguous(Vec<String>),
    /// Fits no value; the nearest ones, best first (possibly none).
    Unknown(Vec<String>),
}

impl Match {
    /// The value's code, when the text names one value.
    pub fn code(&self) -> Option<&str> {
        match self {
            Match::Exact(c) | Match::Variant { code: c, .. } => Some(c),
            _ => None,
        }
    }
}

struct Phrase {
    value: usize,
    stems: BTreeSet<String>,
}

/// The known values of one kind and their phrases.
pub struct Vocabulary {
    kind: Kind,
    codes: Vec<String>,
    labels: Vec<String>,
    /// Match keys → the values with that phrase (two: ambiguous).
    exact: HashMap<String, Vec<usize>>,
    phrases: Vec<Phrase>,
    /// Every stem of every phrase, for typo correction.
    known: BTreeSet<String>,
}

impl Vocabulary {
    /// `values`: (code, label shown to the clerk, phrases). The code and the
    /// label are phrases too.
    pub fn new<'a>(
        kind: Kind,
        values: impl IntoIterator<Item = (&'a str, &'a str, Vec<&'a str>)>,
    ) -> Vocabulary {
        let mut v = Vocabulary {
            kind,
            codes: Vec::new(),
            labels: Vec::new(),
            exact: HashMap::new(),
            phrases: Vec::new(),
            known: BTreeSet::new(),
        };
        for (code, label, phrases) in values {
            let i = v.codes.len();
            v.codes.push(code.to_string());
            v.labels.push(label.to_string());
            v.exact.entry(text::match_key(code)).or_default().push(i);
            for p in std::iter::once(label).chain(phrases) {
                if p.trim().is_empty() {
                    continue;
                }
                let at = v.exact.entry(text::match_key(p)).or_default();
                if !at.contains(&i) {
                    at.push(i);
                }
                let stems = stems(kind, p);
                if !stems.is_empty() {
                    v.known.extend(stems.iter().cloned());
                    v.phrases.push(Phrase { value: i, stems });
                }
            }
        }
        v
    }

    /// The label of a code, as configured.
    pub fn label<'s>(&'s self, code: &'s str) -> &'s str {
        self.codes
            .iter()
            .position(|c| c == code)
            .map_or(code, |i| &self.labels[i])
    }

    /// Matches one text.
    pub fn find(&self, raw: &str) -> Match {
        let key = text::match_key(raw);
        if key.is_empty() {
            return Match::Unknown(Vec::new());
        }
        match self.exact.get(&key).map(Vec::as_slice) {
            Some([i]) => return Match::Exact(self.codes[*i].clone()),
            Some(several) if several.len() > 1 => {
                return Match::Ambiguous(several.iter().map(|&i| self.codes[i].clone()).collect());
            }
            _ => {}
        }
        let words = stems(self.kind, raw);
        if words.is_empty() {
            return Match::Unknown(Vec::new());
        }
        if self.negated(raw) {
            return Match::Unknown(self.nearest(&words));
        }
        let whole = self.by_stems(&words);
        if let Some(m) = &whole
            && m.code().is_some()
        {
            return m.clone();
        }
        // A note in brackets after the value («ІІ гр. (безтерміново)», «2
        // гр. (ст. 38-1 ЗУ 875)»): the value without it.
        if let Some(bare) = without_note(raw) {
            match self.find(&bare) {
                Match::Exact(code)
                | Match::Variant {
                    code,
                    how: How::Normalised | How::Short | How::Extra,
                } => {
                    return Match::Variant {
                        code,
                        how: How::Extra,
                    };
                }
                _ => {}
            }
        }
        if let Some(m) = whole {
            return m;
        }
        // A word cut short («учасн. бойових дій»): the one known stem it
        // begins.
        let expanded = self.expand(&words);
        if expanded != words
            && let Some(m) = self.by_stems(&expanded)
        {
            return match m {
                Match::Variant { code, .. } => Match::Variant {
                    code,
                    how: How::Short,
                },
                other => other,
            };
        }
        // Typos: each unknown word replaced by the one known stem clearly
        // nearest to it; then the same stages again.
        let corrected = self.correct(&words);
        if corrected != words
            && let Some(m) = self.by_stems(&corrected)
        {
            return match m {
                Match::Variant { code, .. } => Match::Variant {
                    code,
                    how: How::Typo,
                },
                other => other,
            };
        }
        // Only the words some value has: a refusal that names the values
        // they could be («інвалід з дитинства»: which group?).
        let known: BTreeSet<String> = corrected
            .iter()
            .filter(|w| self.known.contains(*w))
            .cloned()
            .collect();
        if !known.is_empty()
            && known.len() < corrected.len()
            && let Some(Match::Ambiguous(codes)) = self.by_stems(&known)
        {
            return Match::Ambiguous(codes);
        }
        Match::Unknown(self.nearest(&words))
    }

    /// Whether a word some value has is negated («інвалідність не
    /// встановлена», «без інвалідності»): then the text is none of them.
    fn negated(&self, raw: &str) -> bool {
        const NOT: [&str; 8] = [
            "не",
            "ні",
            "без",
            "немає",
            "нема",
            "відсутня",
            "відсутній",
            "відсутнє",
        ];
        let lower = raw.to_lowercase();
        let tokens: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != 'ʼ' && c != '’')
            .filter(|w| !w.is_empty())
            .collect();
        tokens.iter().enumerate().any(|(i, t)| {
            NOT.contains(t)
                && tokens[i.saturating_sub(2)..(i + 3).min(tokens.len())]
                    .iter()
                    .filter(|w| *w != t && w.chars().all(char::is_alphabetic))
                    .filter(|w| !["груп", "гр", "кат"].iter().any(|g| w.starts_with(g)))
                    .any(|w| stems(self.kind, w).iter().any(|s| self.known.contains(s)))
        })
    }

    /// The values with a phrase that shares a word (not a number) with
    /// `words`.
    fn sharing(&self, words: &BTreeSet<String>) -> BTreeSet<usize> {
        self.phrases
            .iter()
            .filter(|p| p.stems.iter().any(|w| !is_number(w) && words.contains(w)))
            .map(|p| p.value)
            .collect()
    }

    fn result(&self, values: BTreeSet<usize>, how: How) -> Option<Match> {
        match values.len() {
            0 => None,
            1 => Some(Match::Variant {
                code: self.codes[*values.iter().next().expect("one")].clone(),
                how,
            }),
            _ => Some(Match::Ambiguous(
                values.into_iter().map(|i| self.codes[i].clone()).collect(),
            )),
        }
    }

    fn by_stems(&self, words: &BTreeSet<String>) -> Option<Match> {
        // The same words.
        let same: BTreeSet<usize> = self
            .phrases
            .iter()
            .filter(|p| &p.stems == words)
            .map(|p| p.value)
            .collect();
        if let Some(m) = self.result(same, How::Normalised) {
            return Some(m);
        }
        // A part of a name: every word of the text is in the phrase. A
        // lone number is no short form of anything.
        if words.iter().any(|w| !is_number(w)) {
            let short: BTreeSet<usize> = self
                .phrases
                .iter()
                .filter(|p| words.is_subset(&p.stems))
                .map(|p| p.value)
                .collect();
            if let Some(m) = self.result(short, How::Short) {
                return Some(m);
            }
        }
        // A name with extra words: the phrase's words are all in the text.
        // The value whose phrases cover most of the text wins
        // («пенсіонер інший вид пенсії» is not «пенсіонер» with extras).
        let mut cover: HashMap<usize, BTreeSet<&String>> = HashMap::new();
        for p in self
            .phrases
            .iter()
            .filter(|p| p.stems.is_subset(words) && p.stems.iter().any(|w| !is_number(w)))
        {
            cover.entry(p.value).or_default().extend(p.stems.iter());
        }
        let most = cover.values().map(BTreeSet::len).max()?;
        let kept: BTreeSet<usize> = cover
            .iter()
            .filter(|(_, c)| c.len() == most)
            .map(|(v, _)| *v)
            .collect();
        if kept.len() == 1 {
            let value = *kept.iter().next().expect("one");
            let covered: BTreeSet<String> = cover[&value].iter().map(|w| (*w).clone()).collect();
            let extra: BTreeSet<String> = words.difference(&covered).cloned().collect();
            // A match on a group number alone («2 групи») beside a word no
            // value has («ІВВ 2 групи»: a war invalid) is no match: that
            // word names the person's kind, and dropping it would pay them
            // as another category.
            let generic = |w: &String| {
                is_number(w) || w.starts_with("груп") || w == "гр" || w.starts_with("кат")
            };
            // A word a typo away from a known one, or a known one run on
            // («инвалит», «инвалидністю»: и typed for і), is that word.
            let near_known = |w: &String| {
                let allowed = typo_allowance(w);
                let folded: String = w.chars().map(|c| if c == 'и' { 'і' } else { c }).collect();
                allowed > 0
                    && self.known.iter().any(|k| {
                        strsim::damerau_levenshtein(&folded, k) <= allowed
                            || (k.chars().count() >= 4 && folded.starts_with(k.as_str()))
                    })
            };
            if covered.iter().all(generic)
                && extra
                    .iter()
                    .any(|w| !is_number(w) && !self.known.contains(w) && !near_known(w))
            {
                return None;
            }
            // The extra words must not name other values on their own: a
            // word several values share («пенсіонер по інвалідності»: which
            // group?) or another value's whole name. A word of one other
            // value only («учасник ліквідації…», «… віком до 18 років»)
            // qualifies, it does not name.
            let names_other = match (!extra.is_empty()).then(|| self.by_stems(&extra)).flatten() {
                Some(Match::Ambiguous(codes)) => Some(codes),
                Some(Match::Variant { code, how })
                    if how != How::Short && code != self.codes[value] =>
                {
                    Some(vec![code])
                }
                _ => None,
            };
            // A group number alone matched, beside the words of one other
            // value («ІВВ 2 групи»): that value, its group a qualifier.
            if let Some([other]) = names_other.as_deref()
                && covered.iter().all(generic)
            {
                return Some(Match::Variant {
                    code: other.clone(),
                    how: How::Extra,
                });
            }
            if let Some(others) = names_other {
                let mut all = self.sharing(&covered);
                all.extend(
                    self.codes
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| others.contains(c))
                        .map(|(i, _)| i),
                );
                return self.result(all, How::Extra);
            }
        }
        self.result(kept, How::Extra)
    }

    /// Each word of four letters or more that no phrase has is replaced by
    /// the one known stem that begins with it, when there is one.
    fn expand(&self, words: &BTreeSet<String>) -> BTreeSet<String> {
        words
            .iter()
            .map(|w| {
                if self.known.contains(w) || is_number(w) || w.chars().count() < 4 {
                    return w.clone();
                }
                let mut longer = self.known.iter().filter(|k| k.starts_with(w.as_str()));
                match (longer.next(), longer.next()) {
                    (Some(k), None) => k.clone(),
                    _ => w.clone(),
                }
            })
            .collect()
    }

    /// Each word that no phrase has is replaced by the known stem nearest to
    /// it, when that one is within the typo allowance and no other known stem
    /// is as near.
    fn correct(&self, words: &BTreeSet<String>) -> BTreeSet<String> {
        words
            .iter()
            .map(|w| {
                if self.known.contains(w) || is_number(w) {
                    return w.clone();
                }
                let allowed = typo_allowance(w);
                if allowed == 0 {
                    return w.clone();
                }
                let mut best: Option<(usize, &String)> = None;
                let mut tie = false;
                for k in &self.known {
                    if is_number(k) {
                        continue;
                    }
                    let d = strsim::damerau_levenshtein(w, k);
                    if d > allowed || d > typo_allowance(k).max(1) {
                        continue;
                    }
                    match best {
                        Some((bd, _)) if d > bd => {}
                        Some((bd, _)) if d == bd => tie = true,
                        _ => {
                            best = Some((d, k));
                            tie = false;
                        }
                    }
                }
                match best {
                    Some((_, k)) if !tie => k.clone(),
                    _ => w.clone(),
                }
            })
            .collect()
    }

    /// The values nearest to a text no value fits, best first.
    fn nearest(&self, words: &BTreeSet<String>) -> Vec<String> {
        let text: String = words.iter().cloned().collect::<Vec<_>>().join(" ");
        let mut best: HashMap<usize, f64> = HashMap::new();
        for p in &self.phrases {
            let phrase: String = p.stems.iter().cloned().collect::<Vec<_>>().join(" ");
            let shared = p.stems.intersection(words).count() as f64;
            let score = strsim::normalized_levenshtein(&text, &phrase)
                .max(shared / p.stems.len().max(words.len()) as f64);
            let e = best.entry(p.value).or_insert(0.0);
            if score > *e {
                *e = score;
            }
        }
        let mut ranked: Vec<(usize, f64)> = best.into_iter().filter(|(_, s)| *s >= 0.4).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(3)
            .map(|(i, _)| self.codes[i].clone())
            .collect()
    }
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

/// How many letters a word may be off by: none in short words.
fn typo_allowance(w: &str) -> usize {
    match w.chars().count() {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

/// Words that carry no meaning for matching, whatever the kind.
const STOP: &[&str] = &[
    "разі",
    "зв'язку",
    "звязку",
    "з",
    "із",
    "зі",
    "від",
    "за",
    "та",
    "і",
    "й",
    "в",
    "у",
    "на",
    "по",
    "до",
    "що",
    "як",
    "яка",
    "який",
    "які",
    "of",
    "with",
    "by",
    "the",
    "a",
    "an",
    "and",
    "for",
    "про",
    "серії",
    "серія",
    "№",
    "n",
    "no",
    "внаслідок",
];

/// Generic words of community names (after stemming).
const COMMUNITY_GENERIC: &[&str] = &[
    "міськ",
    "сільськ",
    "селищн",
    "територіальн",
    "тер",
    "громад",
    "тг",
    "мтг",
    "стг",
    "отг",
    "м",
    "с",
    "смт",
    "міст",
    "сел",
    "селищ",
    "рад",
    "міськрад",
    "сільрад",
    "селищрад",
    "н",
    "город",
    "city",
    "village",
    "community",
    "hromada",
    "territorial",
    "urban",
    "rural",
];

/// Words after which the previous word names a district or a region, not
/// the community ("Павлоградського району", "Дніпропетровської обл.").
const COMMUNITY_QUALIFIER: &[&str] = &["район", "р", "рн", "обл", "област", "district", "oblast"];

/// Generic words of category names (after stemming).
const CATEGORY_GENERIC: &[&str] = &["особ", "громадян", "person", "людин"];

/// Abbreviations clerks write, as the stem they stand for.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("гр", "груп"),
    ("інв", "інвалід"),
    ("озі", "інвалід"),
    ("дит", "дитин"),
    ("уч", "учасник"),
    ("багатод", "багатодітн"),
    ("кат", "категор"),
    ("посв", "посвідчен"),
    ("пенс", "пенсі"),
    ("пос", "посвідчен"),
    ("довід", "довідк"),
    ("дов", "довідк"),
    ("свід", "свідоцтв"),
    ("чол", "чоловіч"),
    ("жін", "жіноч"),
    ("ліквід", "ліквідатор"),
];

/// Word beginnings that stand for one stem whatever follows: forms the
/// stemmer does not join ("інвалідність", "інвалідів", "інвалідами").
/// Matched with one letter's slip in the beginning itself.
const BEGINNINGS: &[(&str, &str)] = &[
    ("інвалід", "інвалід"),
    ("пенсіонер", "пенсіонер"),
    ("пенсі", "пенсі"),
    ("чорнобил", "чаес"),
    ("ліквідатор", "ліквідатор"),
    ("ліквідац", "ліквідатор"),
    ("багатодітн", "багатодітн"),
    ("постражд", "постраждал"),
    ("учасник", "учасник"),
    ("посвідчен", "посвідчен"),
    ("свідоцтв", "свідоцтв"),
    ("народжен", "народжен"),
    ("дитинств", "дитинств"),
    ("дитин", "дитин"),
    ("діт", "дитин"),
    ("дитяч", "дитин"),
    ("чоловіч", "чоловіч"),
    ("жіноч", "жіноч"),
    ("disabilit", "disabilit"),
    ("pension", "pension"),
    ("combatant", "combatant"),
];

/// Inflection endings, longest first.
const ENDINGS: &[&str] = &[
    "ями", "ами", "ого", "ому", "ими", "іми", "ові", "еві", "ою", "ею", "єю", "ій", "ий", "ої",
    "их", "іх", "ів", "їв", "ей", "ям", "ам", "ом", "ем", "им", "ім", "ах", "ях", "ія", "ії", "ію",
    "ая", "ое", "ый", "ые", "а", "я", "и", "і", "ї", "у", "ю", "е", "о", "й", "ь", "є",
];

/// Ordinal words, read as numbers beside a group or category word.
fn ordinal(w: &str) -> Option<&'static str> {
    Some(match w {
        _ if w.starts_with("перш") => "1",
        _ if w.starts_with("друг") => "2",
        _ if w.starts_with("трет") => "3",
        "first" => "1",
        "second" => "2",
        "third" => "3",
        _ => return None,
    })
}

fn roman(w: &str) -> Option<&'static str> {
    Some(match w {
        "i" | "і" => "1",
        "ii" | "іі" => "2",
        "iii" | "ііі" => "3",
        "iv" | "іv" => "4",
        _ => return None,
    })
}

/// Splits a text into lower-case words: letters and digits apart, every
/// other character a break; Latin look-alikes Cyrillic in Cyrillic text;
/// dates («до 01.03.2027») left out; letters written apart («У.Б.Д.») one
/// word. Each word comes with whether it was written in capitals.
fn words(raw: &str) -> Vec<(String, bool)> {
    let raw = without_dates(raw);
    let cyrillic = raw.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut upper = true;
    let mut cur_digit = false;
    let push = |cur: &mut String, upper: &mut bool, out: &mut Vec<(String, bool)>| {
        if !cur.is_empty() {
            out.push((std::mem::take(cur), *upper));
        }
        *upper = true;
    };
    for c in raw.chars() {
        // Apostrophes belong to the word and vanish: «сім'ї» = «сімї».
        if matches!(c, '\'' | '`' | '’' | 'ʼ' | '‘' | 'ʹ' | '´' | '\u{2032}') {
            continue;
        }
        let c = if cyrillic {
            text::cyrillic_lookalike(c).unwrap_or(c)
        } else {
            c
        };
        if c.is_alphanumeric() || c == '№' {
            let digit = c.is_ascii_digit();
            if !cur.is_empty() && (digit != cur_digit || c == '№') {
                push(&mut cur, &mut upper, &mut out);
            }
            upper &= !c.is_lowercase();
            cur.extend(c.to_lowercase());
            cur_digit = digit;
            if c == '№' {
                push(&mut cur, &mut upper, &mut out);
            }
        } else {
            push(&mut cur, &mut upper, &mut out);
        }
    }
    push(&mut cur, &mut upper, &mut out);
    if out.len() >= 2
        && out
            .iter()
            .all(|(w, _)| w.chars().count() == 1 && w.chars().all(char::is_alphabetic))
        && raw.contains('.')
    {
        let joined: String = out.iter().map(|(w, _)| w.as_str()).collect();
        return vec![(joined, true)];
    }
    out
}

/// The text with dates (d.m.yyyy, d/m/yy) replaced by spaces.
fn without_dates(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let digits = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let a = digits(i);
            let sep = chars.get(i + a).copied();
            if (1..=2).contains(&a) && matches!(sep, Some('.' | '/')) {
                let j = i + a + 1;
                let b = if j < chars.len() { digits(j) } else { 0 };
                if (1..=2).contains(&b) && chars.get(j + b) == sep.as_ref() {
                    let k = j + b + 1;
                    let c = if k < chars.len() { digits(k) } else { 0 };
                    if c == 2 || c == 4 {
                        out.push(' ');
                        i = k + c;
                        continue;
                    }
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A word without its inflection ending (the stem keeps two letters).
fn strip_ending(w: &str) -> String {
    let n = w.chars().count();
    for e in ENDINGS {
        let en = e.chars().count();
        if n >= en + 2 && w.ends_with(e) {
            return w[..w.len() - e.len()].to_string();
        }
    }
    w.to_string()
}

/// The stem a word's beginning stands for, allowing one slipped letter in
/// beginnings of six letters or more.
fn beginning(w: &str) -> Option<&'static str> {
    for (b, stem) in BEGINNINGS {
        if w.starts_with(b) {
            return Some(stem);
        }
    }
    for (b, stem) in BEGINNINGS {
        let bn = b.chars().count();
        if bn < 6 || w.chars().count() < bn {
            continue;
        }
        let head: String = w.chars().take(bn).collect();
        if strsim::damerau_levenshtein(&head, b) <= 1 {
            return Some(stem);
        }
    }
    None
}

/// The base of a place word: the adjective's «-ськ-» and the settlement's
/// «-к-» go, so «Тернівська», «Тернівка» and «Тернівки» are one word.
fn place_base(stem: &str) -> String {
    let mut s = stem.to_string();
    for suffix in ["ськ", "цьк", "зьк", "ск"] {
        if s.chars().count() > suffix.chars().count() + 2 && s.ends_with(suffix) {
            s.truncate(s.len() - suffix.len());
            return s;
        }
    }
    if s.chars().count() > 4 && s.ends_with('к') {
        s.truncate(s.len() - 'к'.len_utf8());
    }
    s
}

/// The set of stems a text stands for.
pub fn stems(kind: Kind, raw: &str) -> BTreeSet<String> {
    let written = words(raw);
    let ws: Vec<String> = written.iter().map(|(w, _)| w.clone()).collect();
    let group_word = |w: &str| {
        w.starts_with("груп")
            || w == "гр"
            || w.starts_with("кат")
            || w.starts_with("group")
            || w.starts_with("categor")
    };
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    let mut prev_number = false;
    for (i, w) in ws.iter().enumerate() {
        let w = w.as_str();
        // A number's ordinal ending («3-ї», «1-а», «2-го»).
        if prev_number
            && matches!(
                w,
                "ї" | "а"
                    | "й"
                    | "я"
                    | "го"
                    | "ої"
                    | "ий"
                    | "ій"
                    | "ого"
                    | "st"
                    | "nd"
                    | "rd"
                    | "th"
            )
        {
            continue;
        }
        // Roman numerals; a lone «і» is a number beside a group or category
        // word or written as a capital, and otherwise the conjunction.
        let beside = ws.get(i + 1).is_some_and(|n| group_word(n))
            || i.checked_sub(1)
                .and_then(|p| ws.get(p))
                .is_some_and(|p| group_word(p));
        if beside && let Some(n) = ordinal(w) {
            out.push(n.to_string());
            prev_number = true;
            continue;
        }
        if let Some(n) = roman(w) {
            let lone = w == "і" || w == "i";
            if !lone || beside || written[i].1 {
                out.push(n.to_string());
                prev_number = true;
                continue;
            }
        }
        prev_number = is_number(w);
        if prev_number {
            // Document numbers and years are not what a document or a
            // category is; categories' numbers are groups, 1 to 9.
            if kind == Kind::Community || (kind == Kind::Category && w.len() == 1) {
                let n = w.trim_start_matches('0');
                out.push(if n.is_empty() { "0" } else { n }.to_string());
            }
            continue;
        }
        if STOP.contains(&w) {
            continue;
        }
        let stem = ABBREVIATIONS
            .iter()
            .find(|(a, _)| *a == w)
            .map(|(_, s)| s.to_string())
            .or_else(|| beginning(w).map(str::to_string))
            .unwrap_or_else(|| {
                if w.chars().all(|c| c.is_ascii_alphabetic()) {
                    // English plurals.
                    let s = w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w);
                    s.to_string()
                } else {
                    strip_ending(w)
                }
            });
        out.push(stem);
    }
    match kind {
        Kind::Community => {
            let mut kept = Vec::new();
            for (i, s) in out.iter().enumerate() {
                if COMMUNITY_GENERIC.contains(&s.as_str())
                    || COMMUNITY_QUALIFIER.contains(&s.as_str())
                {
                    continue;
                }
                if out
                    .get(i + 1)
                    .is_some_and(|n| COMMUNITY_QUALIFIER.contains(&n.as_str()))
                {
                    continue;
                }
                kept.push(place_base(s));
            }
            kept.into_iter().collect()
        }
        Kind::Category => out
            .into_iter()
            .filter(|s| !CATEGORY_GENERIC.contains(&s.as_str()))
            .collect(),
        Kind::Document => out
            .into_iter()
            // Series letters («АА», «ААА», «І-КГ») are not what it is.
            .filter(|s| {
                !(s.chars().count() <= 3
                    && s.chars().all(char::is_alphabetic)
                    && !matches!(
                        s.as_str(),
                        "пп" | "убд" | "мсек" | "лкк" | "ппв" | "чаес" | "вп"
                    ))
            })
            .collect(),
        Kind::Sex => out.into_iter().collect(),
    }
}

/// The document kinds (P4) and how clerks name them in the benefit-document
/// column («ПП №123456», «посвідчення УБД серії АА №…»).
pub fn documents() -> Vocabulary {
    Vocabulary::new(
        Kind::Document,
        [
            (
                "passport",
                "паспорт",
                vec![
                    "паспорт",
                    "ID-картка",
                    "id картка",
                    "паспорт громадянина України",
                ],
            ),
            (
                "tax-number",
                "РНОКПП",
                vec![
                    "рнокпп",
                    "іпн",
                    "картка платника податків",
                    "довідка про присвоєння реєстраційного номера облікової картки платника податків",
                    "ідентифікаційний код",
                ],
            ),
            (
                "pension-certificate",
                "пенсійне посвідчення",
                vec![
                    "пп",
                    "пенсійне посвідчення",
                    "пенсійне",
                    "посвідчення пенсіонера",
                    "пенсійна довідка",
                    "pension certificate",
                ],
            ),
            (
                "benefit-certificate",
                "посвідчення пільговика",
                vec![
                    "пільгове посвідчення",
                    "посвідчення пільговика",
                    "посвідчення убд",
                    "посвідчення учасника бойових дій",
                    "посвідчення особи з інвалідністю внаслідок війни",
                    "посвідчення чаес",
                    "посвідчення постраждалого чаес",
                    "посвідчення ліквідатора",
                    "посвідчення багатодітної сім'ї",
                    "посвідчення дитини з багатодітної сім'ї",
                    "посвідчення батьків багатодітної сім'ї",
                    "довідка мсек",
                    "мсек",
                    "екопфо",
                    "довідка екопфо",
                    "висновок лкк",
                    "медичний висновок",
                    "убд",
                    "вп",
                    "benefit certificate",
                ],
            ),
            (
                "work-record",
                "трудова книжка",
                vec!["трудова книжка", "трудова"],
            ),
            (
                "income-statement",
                "довідка про доходи",
                vec![
                    "довідка про доходи",
                    "довідка про дохід",
                    "довідка з місця роботи",
                ],
            ),
            (
                "aid-statement",
                "довідка про розмір допомоги",
                vec!["довідка про допомогу", "довідка про розмір допомоги"],
            ),
            (
                "birth-certificate",
                "свідоцтво про народження",
                vec!["свідоцтво про народження", "свідоцтво", "birth certificate"],
            ),
        ],
    )
}

/// The two values of the sex field.
pub fn sexes() -> Vocabulary {
    Vocabulary::new(
        Kind::Sex,
        [
            (
                "male",
                "чоловіча",
                vec![
                    "ч",
                    "чол",
                    "чолов",
                    "чоловіч",
                    "чоловіча",
                    "чоловік",
                    "m",
                    "male",
                    "man",
                    "м",
                    "муж",
                    "мужской",
                    "чоловіча стать",
                    "хл",
                    "хлопч",
                    "хлопчик",
                    "хлопець",
                    "boy",
                ],
            ),
            (
                "female",
                "жіноча",
                vec![
                    "ж",
                    "жін",
                    "жіноч",
                    "жіноча",
                    "жінка",
                    "f",
                    "female",
                    "woman",
                    "жен",
                    "женский",
                    "жіноча стать",
                    "дів",
                    "дівч",
                    "дівчинка",
                    "дівчина",
                    "girl",
                ],
            ),
        ],
    )
}

/// A text without its remarks in brackets, when it has some and more than
/// them («ІІ гр. (безтерміново)» → «ІІ гр.»). A note with an abbreviation
/// in capitals («2 гр. (ХЗВ)») names a status, not a remark: kept.
fn without_note(raw: &str) -> Option<String> {
    if !raw.contains(['(', '[']) {
        return None;
    }
    let (out, note) = text::brackets(raw);
    // A law's article («ст. 38-1 ЗУ 875») is a remark whatever its capitals.
    let lower = note.to_lowercase();
    let citation = lower.contains("ст.") || lower.contains("закон") || note.contains("ЗУ");
    let abbreviation = !citation
        && note
            .split(|c: char| !c.is_alphabetic())
            .any(|w| w.chars().count() >= 2 && w.chars().all(char::is_uppercase));
    let out = out.trim().to_string();
    (!abbreviation && !out.is_empty() && out != raw.trim()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Vocabulary {
        let config = crate::config::Config::default_config();
        config.category_vocabulary()
    }

    fn communities() -> Vocabulary {
        let config = crate::config::Config::default_config();
        config.community_vocabulary()
    }

    #[test]
    fn stems_join_forms_numerals_and_order() {
        let s = |t| stems(Kind::Category, t);
        assert_eq!(s("Особи з інвалідністю ІІІ групи"), s("інвалід 3 гр."));
        assert_eq!(s("3-ї групи інвалідність"), s("інвалідність 3 групи"));
        assert_eq!(s("Пенсіонери за віком"), s("пенсіонер за віком"));
        assert_eq!(
            s("Дитина з багатодітної сім’ї"),
            s("діти з багатодітних сімей")
        );
        // A lone lower-case «і» is the conjunction, beside «групи» a numeral.
        assert!(!s("пенсіонер і інвалід").contains("1"));
        assert!(s("інвалід I групи").contains("1"));
        let c = |t| stems(Kind::Community, t);
        assert_eq!(c("Тернівська МТГ"), c("м. Тернівка"));
        assert_eq!(c("Павлоградська міська рада"), c("Павлоград"));
        assert_eq!(
            c("Тернівська громада Павлоградського району"),
            c("Тернівка")
        );
    }

    #[test]
    fn a_chornobyl_category_is_told_by_its_number_whatever_the_person_is_called() {
        let v = categories();
        for (cell, code) in [
            ("потерпіла, 1 кат.", "chornobyl-1"),
            ("ліквідатор (1986 р.), 2 кат.", "chornobyl-2"),
            ("потерпілий 2 категорії", "chornobyl-2"),
        ] {
            assert_eq!(
                v.find(cell).code(),
                Some(code),
                "{cell}: {:?}",
                v.find(cell)
            );
        }
        // A liquidator of category 1 is never paid as category 2: refused
        // with the nearest, the words saying 2 and the number 1.
        for cell in [
            "ліквідатор, 1 кат.",
            "учасник ліквідації наслідків аварії, 1 категорія",
        ] {
            assert_ne!(v.find(cell).code(), Some("chornobyl-2"), "{cell}");
        }
        assert!(matches!(v.find("ЧАЕС"), Match::Ambiguous(_)));
    }

    #[test]
    fn a_group_number_beside_an_unknown_word_is_no_category() {
        let v = categories();
        // A word no category has beside a group number: refused, not paid
        // as a disability group.
        for cell in ["ХЗВ 2 групи", "ХЗВ, II гр.", "ХЗВ 1 гр"] {
            assert!(
                matches!(v.find(cell), Match::Unknown(_)),
                "{cell}: {:?}",
                v.find(cell)
            );
        }
        // A known abbreviation («ІВВ», a war invalid) beside a group
        // number: that category, the group its qualifier.
        for cell in ["ІВВ 2 групи", "ІВВ, II гр.", "ІВВ 1 гр"] {
            assert_eq!(v.find(cell).code(), Some("war-disability"), "{cell}");
        }
        assert_eq!(v.find("інвалід II групи").code(), Some("disability-2"));
        assert_eq!(v.find("інв. 2 гр.").code(), Some("disability-2"));
        assert_eq!(v.find("2 група").code(), Some("disability-2"));
        // A remark in brackets is left aside; an abbreviation there is not.
        for cell in ["ІІ гр. (безтерміново)", "2 група [повторний огляд 2027]"]
        {
            assert_eq!(v.find(cell).code(), Some("disability-2"), "{cell}");
        }
        assert!(matches!(v.find("2 гр. (ХЗВ)"), Match::Unknown(_)));
        // A category's word negated is not that category.
        for cell in [
            "дитина з ООП (інвалідність не встановлена)",
            "без інвалідності",
            "не учасник бойових дій",
        ] {
            assert!(
                matches!(v.find(cell), Match::Unknown(_)),
                "{cell}: {:?}",
                v.find(cell)
            );
        }
        assert_eq!(v.find("3 група (не працює)").code(), Some("disability-3"));
    }

    #[test]
    fn variants_exact_ambiguous_and_unknown() {
        let v = categories();
        assert_eq!(v.find("УБД"), Match::Exact("combatant".into()));
        assert_eq!(
            v.find("пенсіонери з іншим видом пенсій").code(),
            Some("pensioner-other")
        );
        assert_eq!(v.find("інв. 2 гр.").code(), Some("disability-2"));
        assert_eq!(
            v.find("учасник бойвих дій"),
            Match::Variant {
                code: "combatant".into(),
                how: How::Typo
            }
        );
        match v.find("ЧАЕС") {
            Match::Ambiguous(c) => assert_eq!(c, ["chornobyl-1", "chornobyl-2"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(v.find("Почесний донор"), Match::Unknown(_)));
        // A word cut short, and the law's other wording.
        assert_eq!(
            v.find("учасн. бойових дій"),
            Match::Variant {
                code: "combatant".into(),
                how: How::Short
            }
        );
        assert_eq!(
            v.find("пенсія в разі втрати годувальника").code(),
            Some("pensioner-other")
        );
        assert!(v.find("пенс. в разі втрати").code().is_some());
        assert!(matches!(v.find("7"), Match::Unknown(_)));
        let c = communities();
        assert_eq!(c.find("Тернівська ТГ").code(), Some("UA12120190000064981"));
        assert_eq!(c.find("Тернивка").code(), Some("UA12120190000064981"));
        assert!(matches!(c.find("Харківська"), Match::Unknown(_)));
    }

    #[test]
    fn documents_are_named_by_their_kind() {
        let d = documents();
        assert_eq!(d.find("ПП №123456").code(), Some("pension-certificate"));
        assert_eq!(
            d.find("Пенсійне посв. серії ААА 123456").code(),
            Some("pension-certificate")
        );
        assert_eq!(
            d.find("посвідчення УБД серії АА №123456").code(),
            Some("benefit-certificate")
        );
        assert_eq!(
            d.find("свідоцтво про народження І-КГ №123456").code(),
            Some("birth-certificate")
        );
        assert!(matches!(d.find("123456"), Match::Unknown(_)));
    }

    proptest::proptest! {
        #[test]
        fn any_text_matches_without_panicking(t in "\\PC{0,80}") {
            let _ = categories().find(&t);
            let _ = communities().find(&t);
            let _ = documents().find(&t);
        }
    }
}
