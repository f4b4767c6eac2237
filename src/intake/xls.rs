//! A check calamine needs before it opens an `.xls`.
//!
//! calamine 0.38 reserves room for rows × columns cells from each
//! DIMENSIONS record before it reads a cell. A damaged record can ask for
//! terabytes; the failed allocation aborts the whole process, which no
//! panic guard can catch. So the workbook stream's records are walked here
//! first, and a file whose dimensions no real sheet has is refused.

use std::io::{Cursor, Read};

/// BIFF8's limits: 65,536 rows of 256 columns.
const MAX_CELLS: u64 = 65_536 * 256;
const DIMENSIONS: u16 = 0x0200;

/// `Err` names the damage; `Ok` when every dimension is sane.
///
/// A damaged sheet offset makes calamine read records from anywhere in the
/// stream, so every offset that could start a DIMENSIONS record is checked,
/// not only those a clean walk of the records meets. When the compound file
/// does not open here, the raw bytes are checked the same way.
pub fn check_dimensions(bytes: &[u8]) -> Result<(), String> {
    let stream = workbook_stream(bytes);
    let stream = stream.as_deref().unwrap_or(bytes);
    for at in 0..stream.len().saturating_sub(4) {
        if stream[at..at + 2] != DIMENSIONS.to_le_bytes() {
            continue;
        }
        let len = usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
        if let Some(data) = stream.get(at + 4..at + 4 + len)
            && let Some(cells) = cells_reserved(data)
            && cells > MAX_CELLS
        {
            return Err(format!(
                "the workbook is damaged: a sheet claims {cells} cells (an .xls holds at most {MAX_CELLS}); \
                 open it in Excel or LibreOffice and save it again"
            ));
        }
    }
    Ok(())
}

fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| cfb.is_stream(n))?;
    let mut stream = Vec::new();
    cfb.open_stream(name)
        .and_then(|mut s| s.read_to_end(&mut stream))
        .ok()?;
    Some(stream)
}

/// The cells calamine would reserve for this DIMENSIONS record (its own
/// arithmetic, widened so nothing wraps).
fn cells_reserved(r: &[u8]) -> Option<u64> {
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([r[i], r[i + 1]]));
    let u32_at = |i: usize| u64::from(u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]));
    let (rf, rl, mut cf, cl) = match r.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        _ => return None,
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    if rl == 0 || cl == 0 {
        return Some(1);
    }
    // calamine computes (rl - 1) - rf + 1 in u32: a first row past the last
    // wraps to about four billion rows.
    let rows = if rl - 1 < rf { 1 << 32 } else { rl - rf };
    Some(rows * (cl - cf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture() -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/applicants/legacy-2025.xls"),
        )
        .unwrap()
    }

    /// Where the first sheet's DIMENSIONS record's data sits in the file.
    fn dimensions_offset(bytes: &[u8]) -> usize {
        bytes
            .windows(4)
            .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
            .expect("a BIFF8 DIMENSIONS record")
            + 4
    }

    #[test]
    fn the_fixture_passes_and_a_sheet_of_billions_of_cells_is_refused() {
        let good = fixture();
        assert_eq!(check_dimensions(&good), Ok(()));
        let at = dimensions_offset(&good);
        let mut huge = good.clone();
        huge[at + 4..at + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let err = check_dimensions(&huge).unwrap_err();
        assert!(
            err.contains("cells (an .xls holds at most 16777216)"),
            "{err}"
        );
        let mut wrapped = good;
        wrapped[at..at + 4].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
        assert!(
            check_dimensions(&wrapped).is_err(),
            "a first row after the last"
        );
    }

    #[test]
    fn bytes_that_are_no_compound_file_are_scanned_as_they_are() {
        assert_eq!(check_dimensions(b"not a workbook"), Ok(()));
        assert_eq!(check_dimensions(&[]), Ok(()));
        let mut raw = vec![0x00, 0x02, 0x0E, 0x00];
        raw.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0x10, 0, 0, 0]);
        assert!(check_dimensions(&raw).is_err());
    }
}
