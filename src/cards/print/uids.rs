//! The card stock's UIDs. Each card's sector keys are derived from its
//! chip's UID, so a print job pairs every card with the UID of the blank
//! that will carry it: the UID list of the stock (from the supplier's box
//! manifest, or read off the blanks with the encoder), in feed order. The
//! encoder checks the UID it reads before writing.

use std::collections::HashMap;
use std::path::Path;

/// One UID from the list, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uid {
    pub bytes: [u8; 4],
    pub line: usize,
}

impl Uid {
    pub fn hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// Reads a UID list: one UID a line (hex, separators allowed), or a CSV
/// whose first column is the UID; `#` comments and a header line are
/// skipped. Every bad line is reported with its number.
pub fn parse(text: &str) -> Result<Vec<Uid>, String> {
    let mut out = Vec::new();
    let mut seen: HashMap<[u8; 4], usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let field = raw
            .trim_start_matches('\u{feff}')
            .split([',', ';', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if field.is_empty() || field.starts_with('#') {
            continue;
        }
        let hex: String = field
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect::<String>()
            .trim_start_matches("0x")
            .to_string();
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            if out.is_empty() && errors.is_empty() && field.to_lowercase().contains("uid") {
                continue; // a header
            }
            errors.push(format!("line {line}: {field:?} is not a hex UID"));
            continue;
        }
        match hex.len() {
            8 => {
                let mut bytes = [0u8; 4];
                for (k, b) in bytes.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).expect("checked hex");
                }
                if let Some(first) = seen.insert(bytes, line) {
                    errors.push(format!("line {line}: UID {} repeats line {first}", hex.to_uppercase()));
                } else {
                    out.push(Uid { bytes, line });
                }
            }
            14 => errors.push(format!(
                "line {line}: {field:?} is a 7-byte UID; kartka's validators read 4-byte-UID MIFARE Classic 1K cards only"
            )),
            n => errors.push(format!(
                "line {line}: {field:?} has {n} hex digits; a MIFARE Classic 1K UID has 8"
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let more = errors.len().saturating_sub(10);
        let mut msg = errors.into_iter().take(10).collect::<Vec<_>>().join("\n  ");
        if more > 0 {
            msg.push_str(&format!("\n  … and {more} more"));
        }
        Err(msg)
    }
}

/// Reads the list at `path`.
pub fn read(path: &Path) -> Result<Vec<Uid>, crate::cards::Error> {
    let bytes = std::fs::read(path).map_err(|e| crate::cards::Error::Uids {
        path: path.to_path_buf(),
        why: format!(
            "cannot read the UID list ({e}).\n  Give --uids with the stock's UID list (one 8-hex-digit UID a line, in feed order)"
        ),
        missing: e.kind() == std::io::ErrorKind::NotFound,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    parse(&text).map_err(|why| crate::cards::Error::Uids {
        path: path.to_path_buf(),
        why: format!("the UID list has bad lines:\n  {why}\n  Fix the list; nothing was written"),
        missing: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_lists_and_csv_exports_read_alike() {
        let plain = "# box 7\n04A1B2C3\n04:a1:b2:c4\n\n0x04A1B2C5\n";
        let csv = "\u{feff}UID,printed\n04A1B2C3,no\n04 A1 B2 C4,no\n\"04A1B2C5\",no\n";
        let a = parse(plain).unwrap();
        let b = parse(csv).unwrap();
        assert_eq!(
            a.iter().map(Uid::hex).collect::<Vec<_>>(),
            ["04A1B2C3", "04A1B2C4", "04A1B2C5"]
        );
        assert_eq!(
            a.iter().map(|u| u.bytes).collect::<Vec<_>>(),
            b.iter().map(|u| u.bytes).collect::<Vec<_>>()
        );
        assert_eq!(a[2].line, 5);
    }

    #[test]
    fn every_bad_line_is_named() {
        let e = parse("04A1B2C3\nzz\n04112233445566\n04A1B2\n04a1b2c3\n").unwrap_err();
        assert!(e.contains("line 2: \"zz\" is not a hex UID"), "{e}");
        assert!(e.contains("line 3:") && e.contains("7-byte UID"), "{e}");
        assert!(
            e.contains("line 4:") && e.contains("has 6 hex digits"),
            "{e}"
        );
        assert!(e.contains("line 5: UID 04A1B2C3 repeats line 1"), "{e}");
    }

    proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }
    }
}
