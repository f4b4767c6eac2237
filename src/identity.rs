//! Ukrainian identity numbers (reference/identity-numbers.md): the tax number
//! (РНОКПП), passports, and community codes (КАТОТТГ).

use chrono::NaiveDate;

use crate::text::cyrillic_lookalike;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
    pub fn from_code(s: &str) -> Option<Sex> {
        match s {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            _ => None,
        }
    }
    pub fn uk(self) -> &'static str {
        match self {
            Sex::Male => "чоловіча",
            Sex::Female => "жіноча",
        }
    }
}

const TAX_WEIGHTS: [i64; 9] = [-1, 5, 7, 9, 4, 6, 10, 5, 7];

/// The check digit a 10-digit tax number must end with. `s.rem_euclid(11)`:
/// the weighted sum can be negative, and Rust's `%` is wrong there.
pub fn tax_check_digit(digits: &[u8; 10]) -> u8 {
    let s: i64 = TAX_WEIGHTS
        .iter()
        .zip(digits.iter())
        .map(|(w, d)| w * i64::from(*d))
        .sum();
    (s.rem_euclid(11) % 10) as u8
}

/// What a valid tax number says about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxNumber {
    pub birth_date: NaiveDate,
    pub sex: Sex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxError {
    NotTenDigits,
    CheckDigit { expected: u8, found: u8 },
    NoBirthDate,
}

/// Checks a 10-digit tax number and decodes its birth date and sex.
pub fn parse_tax_number(s: &str) -> Result<TaxNumber, TaxError> {
    let bytes = s.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(TaxError::NotTenDigits);
    }
    let mut d = [0u8; 10];
    for (i, b) in bytes.iter().enumerate() {
        d[i] = b - b'0';
    }
    let expected = tax_check_digit(&d);
    if expected != d[9] {
        return Err(TaxError::CheckDigit {
            expected,
            found: d[9],
        });
    }
    let days: i64 = s[..5].parse().map_err(|_| TaxError::NoBirthDate)?;
    if days == 0 {
        return Err(TaxError::NoBirthDate);
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 31).expect("valid date");
    let birth_date = epoch
        .checked_add_days(chrono::Days::new(days as u64))
        .ok_or(TaxError::NoBirthDate)?;
    let sex = if d[8] % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    Ok(TaxNumber { birth_date, sex })
}

/// Makes a valid tax number for a birth date, sex and serial (0..=999):
/// used by the synthetic-data generator and tests.
pub fn make_tax_number(birth_date: NaiveDate, sex: Sex, serial: u16) -> Option<String> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 31)?;
    let days = (birth_date - epoch).num_days();
    if !(1..=99_999).contains(&days) {
        return None;
    }
    let serial = serial % 1000;
    let sex_digit = match sex {
        Sex::Male => (serial % 5) * 2 + 1,
        Sex::Female => (serial % 5) * 2,
    };
    let head = format!("{days:05}{serial:03}{sex_digit}");
    let mut d = [0u8; 10];
    for (i, b) in head.bytes().enumerate() {
        d[i] = b - b'0';
    }
    Some(format!("{head}{}", tax_check_digit(&d)))
}

/// A passport as stored: `АВ123456` (booklet) or nine digits (ID card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passport {
    Booklet(String),
    IdCard(String),
}

impl Passport {
    pub fn as_str(&self) -> &str {
        match self {
            Passport::Booklet(s) | Passport::IdCard(s) => s,
        }
    }
}

fn is_series_letter(c: char) -> bool {
    matches!(c, 'А'..='Щ' | 'Ь' | 'Ю' | 'Я' | 'Ґ' | 'Є' | 'І' | 'Ї')
}

/// Reads a passport written any usual way: `ав 123456`, `AB-123456` with
/// Latin look-alikes, `№ 123456789`. `None` when it is neither format.
pub fn parse_passport(raw: &str) -> Option<Passport> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '№' | '#' | '.' | ','))
        .flat_map(char::to_uppercase)
        .map(|c| cyrillic_lookalike(c).unwrap_or(c))
        .collect();
    let chars: Vec<char> = cleaned.chars().collect();
    if chars.len() == 9 && chars.iter().all(char::is_ascii_digit) {
        return Some(Passport::IdCard(cleaned));
    }
    if chars.len() == 8
        && chars[..2].iter().all(|c| is_series_letter(*c))
        && chars[2..].iter().all(char::is_ascii_digit)
    {
        return Some(Passport::Booklet(cleaned));
    }
    None
}

/// `UA` followed by 17 digits.
pub fn is_katottg(s: &str) -> bool {
    s.len() == 19 && s.starts_with("UA") && s[2..].bytes().all(|b| b.is_ascii_digit())
}

/// A person's social number (K1): 10000000 + the registry's row id, eight
/// digits, never reused; the people table's generated `social_number`
/// column is the same expression.
pub fn social_number(id: i64) -> String {
    (10_000_000 + id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_reference_vectors_hold() {
        let t = parse_tax_number("1759013776").unwrap();
        assert_eq!(t.birth_date, date(1948, 2, 28));
        assert_eq!(t.sex, Sex::Male);
        assert_eq!(
            parse_tax_number("1759013770"),
            Err(TaxError::CheckDigit {
                expected: 6,
                found: 0
            })
        );
    }

    #[test]
    fn a_negative_weighted_sum_uses_the_euclidean_remainder() {
        // 9000000000: s = -9, rem_euclid(11) = 2 (plain % would give -9).
        assert_eq!(tax_check_digit(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 2);
        assert!(parse_tax_number("9000000002").is_ok());
    }

    #[test]
    fn day_one_is_the_first_of_january_1900() {
        let n = make_tax_number(date(1900, 1, 1), Sex::Female, 12).unwrap();
        assert!(n.starts_with("00001"));
        assert_eq!(parse_tax_number(&n).unwrap().birth_date, date(1900, 1, 1));
    }

    #[test]
    fn wrong_lengths_and_letters_are_not_tax_numbers() {
        for bad in [
            "",
            "123",
            "17590137761",
            "17590137a6",
            "１７５９０１３７７６",
        ] {
            assert_eq!(parse_tax_number(bad), Err(TaxError::NotTenDigits), "{bad}");
        }
    }

    #[test]
    fn passports_of_both_kinds_are_recognised() {
        assert_eq!(
            parse_passport("АВ123456"),
            Some(Passport::Booklet("АВ123456".into()))
        );
        // Latin A and B, lower case, a space.
        assert_eq!(
            parse_passport("ab 123456"),
            Some(Passport::Booklet("АВ123456".into()))
        );
        assert_eq!(
            parse_passport("№ 001234567"),
            Some(Passport::IdCard("001234567".into()))
        );
        for bad in ["А123456", "12345", "АВ1234567", "ЫЫ123456", "AB12345Z"] {
            assert_eq!(parse_passport(bad), None, "{bad}");
        }
    }

    #[test]
    fn katottg_codes_are_ua_and_17_digits() {
        assert!(is_katottg("UA12120130000022766"));
        assert!(!is_katottg("UA1212013000002276"));
        assert!(!is_katottg("ua12120130000022766"));
    }

    proptest! {
        #[test]
        fn made_numbers_decode_to_what_they_were_made_from(
            days in 1i64..45_000, male: bool, serial in 0u16..1000
        ) {
            let born = date(1899, 12, 31) + chrono::Duration::days(days);
            let sex = if male { Sex::Male } else { Sex::Female };
            let n = make_tax_number(born, sex, serial).unwrap();
            let t = parse_tax_number(&n).unwrap();
            prop_assert_eq!(t.birth_date, born);
            prop_assert_eq!(t.sex, sex);
        }

        #[test]
        fn any_single_wrong_check_digit_is_caught(days in 1i64..45_000, serial in 0u16..1000, bump in 1u8..10) {
            let born = date(1899, 12, 31) + chrono::Duration::days(days);
            let n = make_tax_number(born, Sex::Male, serial).unwrap();
            let last = n.as_bytes()[9] - b'0';
            let bad = format!("{}{}", &n[..9], (last + bump) % 10);
            prop_assert!(parse_tax_number(&bad).is_err());
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,24}") {
            let _ = parse_tax_number(&s);
            let _ = parse_passport(&s);
            let _ = crate::text::person_name(&s);
        }
    }
}
