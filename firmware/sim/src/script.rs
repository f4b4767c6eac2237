//! Which cards tap when: from a file, or generated.
//!
//! A tap file has one tap per line, `time,card`: the time as RFC 3339
//! (`2026-10-01T06:12:00+03:00`) or UTC seconds, the card number. Blank
//! lines and lines starting with `#` are skipped.

use chrono::DateTime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap {
    pub time: u32,
    pub card: u32,
}

/// Parses a tap file; errors name the line.
pub fn parse(text: &str, file: &str) -> Result<Vec<Tap>, String> {
    let mut taps = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{file}:{}", i + 1);
        let (time, card) = line
            .split_once(',')
            .ok_or_else(|| format!("{}: expected `time,card`, got `{line}`", at()))?;
        let time = parse_time(time.trim()).ok_or_else(|| {
            format!(
                "{}: `{}` is not a time (RFC 3339 like 2026-10-01T06:12:00+03:00, or UTC seconds)",
                at(),
                time.trim()
            )
        })?;
        let card = card
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("{}: `{}` is not a card number", at(), card.trim()))?;
        taps.push(Tap { time, card });
    }
    Ok(taps)
}

pub fn parse_time(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| u32::try_from(t.timestamp()).ok())
}

/// `n` taps from `cards` cards (numbers from `first_card`), starting at
/// `start`, a few seconds to a few minutes apart; some passengers tap twice
/// (a repeat) and a few cards are used far too often (for the fraud rules
/// downstream).
pub fn generate(n: usize, cards: u32, first_card: u32, start: u32, seed: u64) -> Vec<Tap> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut time = start;
    let mut taps = Vec::with_capacity(n);
    let heavy = first_card + cards.saturating_sub(1);
    while taps.len() < n {
        time += rng.random_range(2..90);
        let card = if rng.random_ratio(1, 50) {
            heavy
        } else {
            first_card + rng.random_range(0..cards.max(1))
        };
        taps.push(Tap { time, card });
        if rng.random_ratio(1, 30) && taps.len() < n {
            taps.push(Tap {
                time: time + rng.random_range(4..120),
                card,
            });
        }
    }
    taps.sort_by_key(|t| t.time);
    taps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_files_take_rfc_3339_or_seconds_and_name_the_bad_line() {
        let taps = parse(
            "# depot test\n2026-10-01T06:00:00+03:00,10000001\n\n1790841600, 10000002\n",
            "t.csv",
        )
        .unwrap();
        assert_eq!(
            taps,
            [
                Tap {
                    time: 1_790_823_600,
                    card: 10_000_001
                },
                Tap {
                    time: 1_790_841_600,
                    card: 10_000_002
                }
            ]
        );
        assert_eq!(
            parse("yesterday,5", "t.csv").unwrap_err(),
            "t.csv:1: `yesterday` is not a time (RFC 3339 like 2026-10-01T06:12:00+03:00, or UTC seconds)"
        );
        assert_eq!(
            parse("1,2\n3", "t.csv").unwrap_err(),
            "t.csv:2: expected `time,card`, got `3`"
        );
        assert_eq!(
            parse("1,x", "t.csv").unwrap_err(),
            "t.csv:1: `x` is not a card number"
        );
    }

    #[test]
    fn generated_taps_are_ordered_and_repeatable() {
        let a = generate(500, 40, 10_000_001, 1_790_841_600, 7);
        assert_eq!(a.len(), 500);
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(a.iter().all(|t| (10_000_001..10_000_041).contains(&t.card)));
        assert_eq!(a, generate(500, 40, 10_000_001, 1_790_841_600, 7));
    }
}
