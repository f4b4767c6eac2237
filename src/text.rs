//! Text clean-up shared by every reader of clerks' spreadsheets: whitespace,
//! apostrophes, Latin look-alike letters, and title case.

/// The one apostrophe kartka stores in names: U+02BC MODIFIER LETTER
/// APOSTROPHE, the character Ukrainian orthography recommends for the letter
/// apostrophe (a letter, so words stay whole).
pub const APOSTROPHE: char = 'ʼ';

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '`' | '’' | 'ʼ' | '‘' | 'ʹ' | '´' | '\u{2032}')
}

/// Collapses every run of whitespace (including no-break spaces) to one
/// space and trims the ends.
/// A text split at its brackets: what stands outside them and what stands
/// inside («ІІ гр. (безтерміново)» → «ІІ гр. », «безтерміново»).
pub fn brackets(s: &str) -> (String, String) {
    let (mut outside, mut inside) = (String::with_capacity(s.len()), String::new());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => outside.push(c),
            _ => inside.push(c),
        }
    }
    (outside, inside)
}

pub fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The Cyrillic letter a Latin look-alike stands for, if it has one.
pub fn cyrillic_lookalike(c: char) -> Option<char> {
    Some(match c {
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'I' => 'І',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        'Y' => 'У',
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'i' => 'і',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// Replaces Latin look-alikes with Cyrillic letters in every word that
/// already holds a Cyrillic letter (a mixed word is a typing slip; an
/// all-Latin word is left for the validator to judge).
pub fn fix_lookalikes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.chars().any(is_cyrillic) {
            out.extend(word.chars().map(|c| cyrillic_lookalike(c).unwrap_or(c)));
        } else {
            out.push_str(word);
        }
    }
    out
}

/// A person's name as stored: whitespace squeezed, one apostrophe, look-alikes
/// fixed, and each part (also after a hyphen) in title case: `ДЕМ'ЯНЕНКО-сич`
/// → `Демʼяненко-Сич`.
pub fn person_name(raw: &str) -> String {
    // One pass per word: apostrophes, look-alikes (in words that hold a
    // Cyrillic letter), and title case after a space or hyphen.
    let mut out = String::with_capacity(raw.len());
    for word in raw.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let cyrillic = word.chars().any(is_cyrillic);
        let mut start = true;
        for c in word.chars() {
            let c = if is_apostrophe(c) {
                APOSTROPHE
            } else if cyrillic {
                cyrillic_lookalike(c).unwrap_or(c)
            } else {
                c
            };
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = c == '-';
        }
    }
    out
}

/// A key for matching free text against known names (categories,
/// communities, headers): lower case, one apostrophe, look-alikes fixed,
/// punctuation at the ends and doubled spaces gone.
pub fn match_key(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| if is_apostrophe(c) { '\'' } else { c })
        .collect();
    let s = squeeze(&s.to_lowercase());
    let s = s.trim_matches(|c: char| matches!(c, ':' | '*' | '.' | ',' | ';'));
    // In Cyrillic text, a Latin look-alike is a slip even in a word of its
    // own: "III групи" typed with Latin I's.
    if s.chars().any(is_cyrillic) {
        s.chars()
            .map(|c| cyrillic_lookalike(c).unwrap_or(c))
            .collect()
    } else {
        s.to_string()
    }
}

/// A cell of a CSV file kartka writes, safe to open in a spreadsheet:
/// text starting with `=`, `+`, `-`, `@`, a tab or a carriage return (what
/// Excel and LibreOffice take for a formula) gets a leading `'`, the rest
/// kept (OWASP's advice on CSV injection). A cell that is wholly a decimal
/// number (`-12`, `-0.05`, `+3`) is a value, not a formula, and is kept:
/// negative sums and refunds stay numbers for the reader.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    // A cell that itself looks escaped is escaped once more, so that
    // `csv_uncell` gives back exactly what was written.
    let looks_escaped = s.starts_with('\'') && csv_uncell(s).len() != s.len();
    if (risky && !is_number(s)) || looks_escaped {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A CSV cell kartka escaped (`'=…`, `'+…`) read back as it was written
/// before the escape; any other cell as is. The readers of files kartka
/// writes to be fixed and imported again (rejects files) use it.
pub fn csv_uncell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if csv_cell(rest).len() != rest.len() => rest,
        _ => s,
    }
}

/// Every cell of a CSV row through `csv_cell`.
pub fn csv_row<I, S>(cells: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    cells
        .into_iter()
        .map(|c| csv_cell(c.as_ref()).into_owned())
        .collect()
}

/// A sign, digits, and at most one decimal point or comma between digits.
fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match body.split_once(['.', ',']) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn an_escaped_cell_reads_back_as_written(s in "[=+@\\-\t\r']{0,2}[a-zA-Z0-9 .,()\"=+-]{0,12}") {
            let written = csv_cell(&s);
            proptest::prop_assert_eq!(csv_uncell(&written), s.as_str());
        }
    }

    #[test]
    fn formula_text_is_escaped_and_numbers_kept() {
        for (raw, out) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-1.", "'-1."),
            ("Шевченко", "Шевченко"),
            ("Мар'яна-Ганна", "Мар'яна-Ганна"),
            ("", ""),
            ("-1250.50", "-1250.50"),
            ("-0,05", "-0,05"),
            ("+3", "+3"),
            ("42", "42"),
        ] {
            assert_eq!(csv_cell(raw), out, "{raw:?}");
        }
        assert_eq!(csv_row(["=1", "2"]), ["'=1", "2"]);
    }

    #[test]
    fn names_get_one_apostrophe_title_case_and_cyrillic_letters() {
        assert_eq!(person_name("  ДЕМ'ЯНЕНКО  "), "Демʼяненко");
        assert_eq!(person_name("сем`енко"), "Семʼенко");
        assert_eq!(person_name("М’якота"), "Мʼякота");
        assert_eq!(person_name("петренко-іваненко"), "Петренко-Іваненко");
        // Latin o and C inside a Cyrillic word.
        let fixed = person_name("Сoрока");
        assert_eq!(fixed, "Сорока");
        assert!(fixed.chars().all(|c| c == 'С' || ('а'..='я').contains(&c)));
        assert_eq!(
            person_name("Ivan"),
            "Ivan",
            "an all-Latin word is left alone"
        );
        assert_eq!(person_name("Анна\u{a0}Марія"), "Анна Марія");
    }

    #[test]
    fn match_keys_ignore_case_apostrophes_and_lookalikes() {
        assert_eq!(match_key("Ім’я:"), match_key("ім'я"));
        assert_eq!(
            match_key(" Особа з інвалідністю III групи "),
            match_key("особа з інвалідністю ІІІ групи")
        );
        assert_eq!(match_key("E-mail"), "e-mail");
    }
}
