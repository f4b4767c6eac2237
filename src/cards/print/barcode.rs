//! The barcode on the card's back (P7): Code 128 (set C) of the card
//! number, drawn in whole printer dots at 300 dpi so every bar prints at
//! exactly its width, as a 1-bit PNG that says 300 dpi.

use barcoders::sym::code128::Code128;

use crate::cards::CardNumber;

/// Printer dots per module (the narrowest bar): 0.254 mm at 300 dpi.
pub const MODULE_DOTS: u32 = 3;
/// Blank modules each side (Code 128 asks for at least 10).
pub const QUIET_MODULES: u32 = 10;
/// Bar height: 8 mm at 300 dpi.
pub const HEIGHT_DOTS: u32 = 95;
/// Dots per metre at 300 dpi, for the PNG's pHYs chunk.
const DOTS_PER_METRE: u32 = 11_811;

/// The bars: 1 for a dark module, 0 for a light one, start to stop.
pub fn modules(number: CardNumber) -> Vec<u8> {
    // Ć selects code set C: two digits a symbol. The ten digits always make
    // pairs, so this cannot fail.
    Code128::new(format!("Ć{}", number.value()))
        .expect("ten digits encode in code set C")
        .encode()
}

/// The image's width in dots, quiet zones included.
pub fn width_dots(number: CardNumber) -> u32 {
    (modules(number).len() as u32 + 2 * QUIET_MODULES) * MODULE_DOTS
}

/// Millimetres the barcode takes on the card: (width, height).
pub fn size_mm(number: CardNumber) -> (f32, f32) {
    let mm = |dots: u32| dots as f32 * 25.4 / 300.0;
    (mm(width_dots(number)), mm(HEIGHT_DOTS))
}

/// A 1-bit greyscale PNG (0 = black) of the barcode at 300 dpi.
pub fn png(number: CardNumber) -> Vec<u8> {
    let bars = modules(number);
    let width = width_dots(number);
    let mut row = vec![0xFFu8; width.div_ceil(8) as usize];
    for (i, &dark) in bars.iter().enumerate() {
        if dark == 1 {
            let first = (QUIET_MODULES + i as u32) * MODULE_DOTS;
            for x in first..first + MODULE_DOTS {
                row[(x / 8) as usize] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut data = Vec::with_capacity(row.len() * HEIGHT_DOTS as usize);
    for _ in 0..HEIGHT_DOTS {
        data.extend_from_slice(&row);
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, HEIGHT_DOTS);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: DOTS_PER_METRE,
        yppu: DOTS_PER_METRE,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header().expect("writing to memory");
    w.write_image_data(&data).expect("writing to memory");
    w.finish().expect("writing to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code 128's start C, stop, and the symbol for value `v` in set C are
    /// fixed by the standard; spelled out here from its table.
    const START_C: &str = "11010011100";
    const STOP: &str = "1100011101011";

    fn read_png(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>, Option<png::PixelDimensions>) {
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = dec.read_info().unwrap();
        let dims = reader.info().pixel_dims;
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info, buf, dims)
    }

    #[test]
    fn the_png_is_one_bit_300_dpi_with_whole_dot_bars() {
        let n = CardNumber::from_serial(123_456_789).unwrap();
        let (info, buf, dims) = read_png(&png(n));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.height, HEIGHT_DOTS);
        assert_eq!(info.width, width_dots(n));
        let dims = dims.unwrap();
        assert_eq!((dims.xppu, dims.unit), (11_811, png::Unit::Meter));
        // Read the first row back as dots, then as modules.
        let dot = |x: u32| (buf[(x / 8) as usize] >> (7 - x % 8)) & 1 == 0;
        let dots: Vec<bool> = (0..info.width).map(dot).collect();
        let quiet = (QUIET_MODULES * MODULE_DOTS) as usize;
        assert!(dots[..quiet].iter().all(|d| !d) && dots[dots.len() - quiet..].iter().all(|d| !d));
        // Every run of equal dots is a whole number of modules.
        let mut run = 1;
        for w in dots[quiet..dots.len() - quiet].windows(2) {
            if w[0] == w[1] {
                run += 1;
            } else {
                assert_eq!(run % MODULE_DOTS, 0, "a bar of {run} dots");
                run = 1;
            }
        }
        let read: String = dots[quiet..dots.len() - quiet]
            .chunks(MODULE_DOTS as usize)
            .map(|m| {
                assert!(
                    m.iter().all(|d| *d == m[0]),
                    "a module split across colours"
                );
                if m[0] { '1' } else { '0' }
            })
            .collect();
        let expected: String = modules(n)
            .iter()
            .map(|b| if *b == 1 { '1' } else { '0' })
            .collect();
        assert_eq!(read, expected);
        // Every row is the same.
        let row = buf.len() / HEIGHT_DOTS as usize;
        assert!(buf.chunks(row).all(|r| r == &buf[..row]));
    }

    #[test]
    fn the_symbols_are_set_c_pairs_with_a_mod_103_check() {
        // 10 digits: start C, 5 pairs, check, stop = 6 × 11 + 11 + 13 modules.
        let n = CardNumber::from_serial(100_000_000).unwrap();
        let m: String = modules(n)
            .iter()
            .map(|b| if *b == 1 { '1' } else { '0' })
            .collect();
        assert_eq!(m.len(), 11 * 7 + 13);
        assert!(m.starts_with(START_C));
        assert!(m.ends_with(STOP));
        // 1000000008 in pairs: 10 00 00 00 08. From the standard's table:
        // value 10 is bars 221312, 0 is 212222, 8 is 132212.
        assert_eq!(&m[11..22], "11001000100");
        assert_eq!(&m[22..33], "11011001100");
        assert_eq!(&m[55..66], "10001100100");
        // The check symbol: (105 + 1·10 + 2·0 + 3·0 + 4·0 + 5·8) mod 103 =
        // 52, bars 213311.
        assert_eq!(&m[66..77], "11011100010");
        // 27.94 mm wide, 8 mm tall: fits the card's back beside the photo.
        let (w, h) = size_mm(n);
        assert!(
            (w - 27.94).abs() < 0.01 && (h - 8.04).abs() < 0.01,
            "{w} × {h}"
        );
    }
}
