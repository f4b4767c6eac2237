//! Card dumps in the formats technicians already use: Proxmark3's
//! (RfidResearchGroup client) JSON `"FileType": "mfc v2"`, the raw 1 KiB
//! `.bin`, and the older `.eml` (one block a line in hex). `kartka cards
//! image` writes a card's expected content in them; `kartka cards
//! inspect` reads any of them back, from a Proxmark or any reader that
//! writes these formats.
//!
//! As the Proxmark3 client writes them: uppercase hex without spaces;
//! JSON with `Created`, `FileType`, `Card` (UID, ATQA, SAK from block 0),
//! `blocks` keyed "0".."63", `SectorKeys` per sector (KeyA, KeyB,
//! AccessConditions, and their text), two-space indents; `.eml` 64 lines
//! of 32 hex digits, LF, no newline after the last. The reader is as
//! lenient as the client's: lower case, spaces, CRLF and `#` comments in
//! `.eml`; JSON needs only `FileType` ("mfc v2", or the older "mfcard")
//! and `blocks` "0" to "63".

use std::path::Path;

use kartka_protocol::card::{BLOCK, BLOCKS, sector_of, trailer_block};

/// A 1K card's 64 blocks.
pub type Image = [[u8; BLOCK]; BLOCKS];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Format {
    /// Proxmark3's JSON dump (`"FileType": "mfc v2"`), as `hf mf dump` writes it.
    #[value(name = "proxmark-json")]
    ProxmarkJson,
    /// The raw 1,024 bytes, block 0 first (`hf mf dump`'s .bin).
    Bin,
    /// One block a line, 32 hex digits (`hf mf eload`'s .eml).
    Eml,
}

impl Format {
    /// The format as a technician names it.
    pub fn name(self) -> &'static str {
        match self {
            Format::ProxmarkJson => "Proxmark3 JSON",
            Format::Bin => "raw .bin",
            Format::Eml => ".eml",
        }
    }

    /// The file name ending the format takes.
    pub fn extension(self) -> &'static str {
        match self {
            Format::ProxmarkJson => "json",
            Format::Bin => "bin",
            Format::Eml => "eml",
        }
    }
}

/// Why a file is not a 1K dump, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("{0} bytes: a raw dump of a MIFARE Classic 1K is 1,024 bytes{1}")]
    BinSize(usize, &'static str),
    #[error("line {line}: {what}")]
    Eml { line: usize, what: String },
    #[error("{0} lines of blocks: a 1K card has 64")]
    EmlBlocks(usize),
    #[error("not JSON: {0}")]
    Json(String),
    #[error("FileType {0:?}: not a MIFARE Classic dump (expected \"mfc v2\")")]
    FileType(String),
    #[error("blocks.{block}: {what}")]
    Block { block: usize, what: String },
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Hex digits (spaces and tabs allowed between bytes) as bytes.
fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("an odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("{:?} is not a hex byte", String::from_utf8_lossy(p)))
        })
        .collect()
}

/// Proxmark3's description of a data block's access condition.
fn data_access(c: u8) -> &'static str {
    match c {
        0 => "read AB; write AB; increment AB; decrement transfer restore AB",
        1 => "read AB; decrement transfer restore AB",
        2 => "read AB",
        3 => "read B; write B",
        4 => "read AB; write B",
        5 => "read B",
        6 => "read AB; write B; increment B; decrement transfer restore AB",
        _ => "none",
    }
}

/// Proxmark3's description of a trailer's access condition.
fn trailer_access(c: u8) -> &'static str {
    match c {
        0 => "read A by A; read ACCESS by A; read/write B by A",
        1 => "write A by A; read/write ACCESS by A; read/write B by A",
        2 => "read ACCESS by A; read B by A",
        3 => "write A by B; read ACCESS by AB; write ACCESS by B; write B by B",
        4 => "write A by B; read ACCESS by AB; write B by B",
        5 => "read ACCESS by AB; write ACCESS by B",
        _ => "read ACCESS by AB",
    }
}

/// The access condition (C1 C2 C3) of block `i` (0–3) of a trailer.
fn condition(trailer: &[u8; BLOCK], i: u8) -> u8 {
    let c1 = (trailer[7] >> (4 + i)) & 1;
    let c2 = (trailer[8] >> i) & 1;
    let c3 = (trailer[8] >> (4 + i)) & 1;
    (c1 << 2) | (c2 << 1) | c3
}

/// The image in `format`.
pub fn write(image: &Image, format: Format) -> Vec<u8> {
    match format {
        Format::Bin => image.iter().flatten().copied().collect(),
        Format::Eml => image
            .iter()
            .map(|b| hex(b))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
        Format::ProxmarkJson => json(image).into_bytes(),
    }
}

/// `hf mf dump`'s JSON, key for key in its order.
fn json(image: &Image) -> String {
    let b0 = &image[0];
    let mut out = String::new();
    out.push_str("{\n  \"Created\": \"proxmark3\",\n  \"FileType\": \"mfc v2\",\n  \"Card\": {\n");
    out.push_str(&format!(
        "    \"UID\": \"{}\",\n    \"ATQA\": \"{}\",\n    \"SAK\": \"{}\"\n  }},\n  \"blocks\": {{\n",
        hex(&b0[..4]),
        hex(&b0[6..8]),
        hex(&b0[5..6])
    ));
    let blocks: Vec<String> = image
        .iter()
        .enumerate()
        .map(|(i, b)| format!("    \"{i}\": \"{}\"", hex(b)))
        .collect();
    out.push_str(&blocks.join(",\n"));
    out.push_str("\n  },\n  \"SectorKeys\": {\n");
    let sectors: Vec<String> = (0..16u8)
        .map(|s| {
            let t = &image[trailer_block(s) as usize];
            let first = s as usize * 4;
            let text: Vec<String> = (0..4u8)
                .map(|i| {
                    let c = condition(t, i);
                    let d = if i == 3 { trailer_access(c) } else { data_access(c) };
                    format!("        \"block{}\": \"{d}\"", first + i as usize)
                })
                .collect();
            format!(
                "    \"{s}\": {{\n      \"KeyA\": \"{}\",\n      \"KeyB\": \"{}\",\n      \"AccessConditions\": \"{}\",\n      \"AccessConditionsText\": {{\n{},\n        \"UserData\": \"{}\"\n      }}\n    }}",
                hex(&t[..6]),
                hex(&t[10..]),
                hex(&t[6..10]),
                text.join(",\n"),
                hex(&t[9..10])
            )
        })
        .collect();
    out.push_str(&sectors.join(",\n"));
    out.push_str("\n  }\n}");
    out
}

/// Reads a dump in any of the three formats: raw when it is 1,024 bytes
/// (a JSON or `.eml` dump of a 1K card is always longer), JSON when it
/// starts with `{`, `.eml` when it is text, raw otherwise (and refused by
/// its size).
pub fn read(bytes: &[u8]) -> Result<(Format, Image), DumpError> {
    if bytes.len() == BLOCKS * BLOCK {
        return read_bin(bytes).map(|i| (Format::Bin, i));
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if start.is_some_and(|i| bytes[i] == b'{') {
        return read_json(bytes).map(|i| (Format::ProxmarkJson, i));
    }
    if bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return read_eml(bytes).map(|i| (Format::Eml, i));
    }
    read_bin(bytes).map(|i| (Format::Bin, i))
}

fn read_bin(bytes: &[u8]) -> Result<Image, DumpError> {
    if bytes.len() != BLOCKS * BLOCK {
        let hint = match bytes.len() {
            4096 => ": this is a 4K card's dump; kartka's cards are 1K",
            2048 => ": this is a 2K card's dump; kartka's cards are 1K",
            320 => ": this is a MIFARE Mini's dump; kartka's cards are 1K",
            _ => "",
        };
        return Err(DumpError::BinSize(bytes.len(), hint));
    }
    let mut image = [[0u8; BLOCK]; BLOCKS];
    for (b, chunk) in image.iter_mut().zip(bytes.chunks_exact(BLOCK)) {
        b.copy_from_slice(chunk);
    }
    Ok(image)
}

fn read_eml(bytes: &[u8]) -> Result<Image, DumpError> {
    let text = String::from_utf8_lossy(bytes);
    let mut image = [[0u8; BLOCK]; BLOCKS];
    let mut n = 0;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || (line.trim().is_empty() && n == BLOCKS) {
            continue;
        }
        let bad = |what: String| DumpError::Eml { line: i + 1, what };
        if line.trim().is_empty() {
            return Err(bad("an empty line among the blocks".into()));
        }
        let block = unhex(line).map_err(bad)?;
        if block.len() != BLOCK {
            return Err(bad(format!("{} bytes: a block is 16", block.len())));
        }
        if n == BLOCKS {
            return Err(DumpError::EmlBlocks(n + 1));
        }
        image[n].copy_from_slice(&block);
        n += 1;
    }
    if n != BLOCKS {
        return Err(DumpError::EmlBlocks(n));
    }
    Ok(image)
}

fn read_json(bytes: &[u8]) -> Result<Image, DumpError> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| DumpError::Json(e.to_string()))?;
    let kind = v["FileType"].as_str().unwrap_or_default();
    if kind != "mfc v2" && kind != "mfcard" {
        return Err(DumpError::FileType(kind.to_string()));
    }
    let mut image = [[0u8; BLOCK]; BLOCKS];
    for (i, b) in image.iter_mut().enumerate() {
        let bad = |what: String| DumpError::Block { block: i, what };
        let text = v["blocks"][i.to_string()]
            .as_str()
            .ok_or_else(|| bad("missing: a 1K dump has blocks 0 to 63".into()))?;
        let block = unhex(text).map_err(bad)?;
        if block.len() != BLOCK {
            return Err(bad(format!("{} bytes: a block is 16", block.len())));
        }
        b.copy_from_slice(&block);
    }
    Ok(image)
}

/// The format a file name asks for, by its ending.
pub fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "json" => Some(Format::ProxmarkJson),
        "bin" | "mfd" | "dump" => Some(Format::Bin),
        "eml" => Some(Format::Eml),
        _ => None,
    }
}

/// Which sector a block is in (re-exported for the inspection).
pub fn sector(block: usize) -> u8 {
    sector_of(block as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Image {
        let mut img = kartka_protocol::card::image::factory(&[0x01, 0xA0, 0x62, 0xBD]);
        img[5][3] = 0x5A;
        img
    }

    #[test]
    fn the_json_is_the_proxmark_clients() {
        let text = String::from_utf8(write(&sample(), Format::ProxmarkJson)).unwrap();
        assert!(text.starts_with(
            "{\n  \"Created\": \"proxmark3\",\n  \"FileType\": \"mfc v2\",\n  \"Card\": {\n    \"UID\": \"01A062BD\",\n    \"ATQA\": \"0400\",\n    \"SAK\": \"08\"\n  },\n  \"blocks\": {\n    \"0\": \"01A062BD7E080400"
        ), "{text}");
        assert!(text.contains("\"3\": \"FFFFFFFFFFFFFF078069FFFFFFFFFFFF\""));
        // The factory trailer's conditions, as the client words them.
        assert!(
            text.contains(
                "\"block3\": \"write A by A; read/write ACCESS by A; read/write B by A\""
            )
        );
        assert!(text.contains(
            "\"block0\": \"read AB; write AB; increment AB; decrement transfer restore AB\""
        ));
        assert!(text.contains("\"UserData\": \"69\""));
        assert!(!text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["SectorKeys"]["15"]["AccessConditions"], "FF078069");
    }

    #[test]
    fn the_eml_is_64_lines_of_32_digits_without_a_last_newline() {
        let text = String::from_utf8(write(&sample(), Format::Eml)).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), 64);
        assert!(lines.iter().all(|l| l.len() == 32));
        assert_eq!(lines[0], "01A062BD7E080400".to_string() + &"00".repeat(8));
    }

    #[test]
    fn every_format_reads_back_the_same_image() {
        for f in [Format::ProxmarkJson, Format::Bin, Format::Eml] {
            assert_eq!(read(&write(&sample(), f)), Ok((f, sample())), "{f:?}");
        }
    }

    #[test]
    fn a_client_written_eml_with_crlf_comments_and_lower_case_reads() {
        let text: String = std::iter::once("# hf mf esave\r\n".to_string())
            .chain(sample().iter().map(|b| {
                let h = hex(b).to_lowercase();
                format!("{} {}\r\n", &h[..16], &h[16..])
            }))
            .collect();
        assert_eq!(read(text.as_bytes()), Ok((Format::Eml, sample())));
    }

    #[test]
    fn bad_dumps_say_where() {
        assert_eq!(
            read(&[0u8; 4096]).unwrap_err().to_string(),
            "4096 bytes: a raw dump of a MIFARE Classic 1K is 1,024 bytes: this is a 4K card's dump; kartka's cards are 1K"
        );
        let mut eml = String::from_utf8(write(&sample(), Format::Eml)).unwrap();
        eml = eml.replacen("FFFFFFFFFFFFFF078069", "FFFFFFFFFFFFFF0780ZZ", 1);
        assert_eq!(
            read(eml.as_bytes()).unwrap_err().to_string(),
            "line 4: \"ZZ\" is not a hex byte"
        );
        let short = eml.lines().take(10).collect::<Vec<_>>().join("\n");
        assert!(matches!(read(short.as_bytes()), Err(DumpError::Eml { .. })));
        let ok_short: String = String::from_utf8(write(&sample(), Format::Eml))
            .unwrap()
            .lines()
            .take(10)
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(read(ok_short.as_bytes()), Err(DumpError::EmlBlocks(10)));
        let json = r#"{"FileType": "mfc v2", "blocks": {"0": "00"}}"#;
        assert_eq!(
            read(json.as_bytes()).unwrap_err().to_string(),
            "blocks.0: 1 bytes: a block is 16"
        );
        let json = r#"{"FileType": "mfu", "blocks": {}}"#;
        assert!(
            read(json.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("\"mfu\"")
        );
    }

    proptest! {
        /// Outside bytes never panic the reader; what it reads, it reads
        /// whole.
        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2200)) {
            let _ = read(&bytes);
        }

        #[test]
        fn any_text_reads_or_is_refused(text in "[0-9A-Fa-f #\r\n\t{}\":,a-z]{0,1500}") {
            let _ = read(text.as_bytes());
        }

        #[test]
        fn any_image_round_trips_in_every_format(seed in any::<[u8; 32]>()) {
            let mut image = [[0u8; BLOCK]; BLOCKS];
            for (i, b) in image.iter_mut().enumerate() {
                for (j, x) in b.iter_mut().enumerate() {
                    *x = seed[(i * 7 + j * 13) % 32].wrapping_mul(i as u8 + 1) ^ j as u8;
                }
            }
            for f in [Format::ProxmarkJson, Format::Bin, Format::Eml] {
                prop_assert_eq!(read(&write(&image, f)), Ok((f, image)));
            }
        }
    }
}
