//! Card numbers (P7): a 9-digit serial and a Luhn check digit, ten digits in
//! all. The same number is printed on the front, carried by the barcode on
//! the back, and stored on the chip (a u32, so the serial stops at
//! 429 496 728). The check digit catches every single mistyped digit and
//! most swapped neighbours when a clerk types a number in.

use std::fmt;

/// The first serial kartka gives.
pub const FIRST_SERIAL: u32 = 100_000_000;
/// The last serial whose number still fits the chip's u32.
pub const LAST_SERIAL: u32 = 429_496_728;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CardNumber(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0:?} is not a card number: expected 10 digits (spaces allowed)")]
    Shape(String),
    #[error("{0:?} is not a card number: its check digit is wrong (mistyped digit?)")]
    CheckDigit(String),
}

impl CardNumber {
    /// The number of `serial`, or None outside the serial range.
    pub fn from_serial(serial: u32) -> Option<CardNumber> {
        if !(FIRST_SERIAL..=LAST_SERIAL).contains(&serial) {
            return None;
        }
        let check = luhn::checksum(serial.to_string().as_bytes()) - b'0';
        Some(CardNumber(serial * 10 + u32::from(check)))
    }

    /// A number as stored (the chip, the registry), checked.
    pub fn from_u32(value: u32) -> Option<CardNumber> {
        let n = CardNumber::from_serial(value / 10)?;
        (n.0 == value).then_some(n)
    }

    /// A number as a person typed it: digits, with spaces or dashes.
    pub fn parse(text: &str) -> Result<CardNumber, NumberError> {
        let digits: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NumberError::Shape(text.to_string()));
        }
        let value: u64 = digits
            .parse()
            .map_err(|_| NumberError::Shape(text.to_string()))?;
        let serial = u32::try_from(value / 10)
            .ok()
            .filter(|s| (FIRST_SERIAL..=LAST_SERIAL).contains(s))
            .ok_or_else(|| NumberError::Shape(text.to_string()))?;
        let n =
            CardNumber::from_serial(serial).ok_or_else(|| NumberError::Shape(text.to_string()))?;
        if u64::from(n.0) != value {
            return Err(NumberError::CheckDigit(text.to_string()));
        }
        Ok(n)
    }

    pub fn value(self) -> u32 {
        self.0
    }

    pub fn serial(self) -> u32 {
        self.0 / 10
    }

    /// As printed for people: `1000 0000 18`.
    pub fn grouped(self) -> String {
        let s = self.0.to_string();
        format!("{} {} {}", &s[0..4], &s[4..8], &s[8..10])
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_number_and_its_forms() {
        let n = CardNumber::from_serial(FIRST_SERIAL).unwrap();
        // Luhn of 100000000: the 1 sits on a doubled place, sum 2, check 8.
        assert_eq!(n.value(), 1_000_000_008);
        assert_eq!(n.grouped(), "1000 0000 08");
        assert_eq!(CardNumber::parse("1000 0000 08").unwrap(), n);
        assert_eq!(CardNumber::parse("1000-0000-08").unwrap(), n);
        assert!(luhn::valid(&n.to_string()));
    }

    #[test]
    fn the_last_serial_fits_the_chip() {
        let n = CardNumber::from_serial(LAST_SERIAL).unwrap();
        assert!(u64::from(n.value()) <= u64::from(u32::MAX));
        assert!(CardNumber::from_serial(LAST_SERIAL + 1).is_none());
        assert!(CardNumber::from_serial(FIRST_SERIAL - 1).is_none());
    }

    #[test]
    fn malformed_numbers_say_why() {
        assert!(matches!(
            CardNumber::parse("12345"),
            Err(NumberError::Shape(_))
        ));
        assert!(matches!(
            CardNumber::parse("1000 0000 0x"),
            Err(NumberError::Shape(_))
        ));
        assert!(matches!(
            CardNumber::parse("9999999999"),
            Err(NumberError::Shape(_))
        ));
        assert!(matches!(
            CardNumber::parse("1000000009"),
            Err(NumberError::CheckDigit(_))
        ));
    }

    proptest! {
        #[test]
        fn every_number_round_trips(serial in FIRST_SERIAL..=LAST_SERIAL) {
            let n = CardNumber::from_serial(serial).unwrap();
            prop_assert_eq!(n.serial(), serial);
            prop_assert_eq!(CardNumber::parse(&n.to_string()).unwrap(), n);
            prop_assert_eq!(CardNumber::parse(&n.grouped()).unwrap(), n);
            prop_assert_eq!(CardNumber::from_u32(n.value()), Some(n));
        }

        #[test]
        fn one_mistyped_digit_is_caught(serial in FIRST_SERIAL..=LAST_SERIAL, pos in 0usize..10, delta in 1u8..10) {
            let n = CardNumber::from_serial(serial).unwrap();
            let mut digits = n.to_string().into_bytes();
            digits[pos] = b'0' + (digits[pos] - b'0' + delta) % 10;
            let typed = String::from_utf8(digits).unwrap();
            prop_assert!(CardNumber::parse(&typed).is_err(), "{} accepted", typed);
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,20}") {
            let _ = CardNumber::parse(&text);
        }
    }
}
