//! The holder's photo, cropped and sized for the card's photo area (P7):
//! 25 × 32 mm at 300 dpi, a JPEG that says 300 dpi.

use image::RgbImage;

/// The photo area on the card's back, in millimetres.
pub const PHOTO_MM: (f32, f32) = (25.0, 32.0);
/// The same at 300 dpi.
pub const PHOTO_PX: (u32, u32) = (295, 378);
pub const DPI: u16 = 300;

/// The card photo from a stored photo's bytes (JPEG or PNG).
pub fn card_photo(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let img =
        image::load_from_memory(bytes).map_err(|e| format!("the photo cannot be decoded ({e})"))?;
    let rgb = fit(img.into_rgb8(), PHOTO_PX);
    jpeg(&rgb, 88)
}

/// Crops `img` to the aspect of `size` and scales it to `size` (Catmull-Rom,
/// SIMD where the CPU has it). A portrait photo taller than the area loses
/// more at the bottom than at the top, so the head stays in.
pub fn fit(img: RgbImage, size: (u32, u32)) -> RgbImage {
    use fast_image_resize::{
        FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image,
    };
    let (w, h) = img.dimensions();
    let (tw, th) = size;
    // Crop box with the target's aspect: as wide as possible.
    let (cw, ch) = if u64::from(w) * u64::from(th) > u64::from(h) * u64::from(tw) {
        (
            (u64::from(h) * u64::from(tw) / u64::from(th)).max(1) as u32,
            h,
        )
    } else {
        (
            w,
            (u64::from(w) * u64::from(th) / u64::from(tw)).max(1) as u32,
        )
    };
    let x = (w - cw) / 2;
    let y = (h - ch) / 4;
    let src = Image::from_vec_u8(w, h, img.into_raw(), PixelType::U8x3)
        .expect("an RgbImage's buffer fits");
    let mut dst = Image::new(tw, th, PixelType::U8x3);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom))
        .crop(f64::from(x), f64::from(y), f64::from(cw), f64::from(ch));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel types, a crop inside the image");
    RgbImage::from_raw(tw, th, dst.into_vec()).expect("the buffer has tw × th pixels")
}

/// A baseline JPEG marked `DPI` dots per inch.
pub fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_density(jpeg_encoder::Density::Inch { x: DPI, y: DPI });
    let (w, h) = img.dimensions();
    let (w, h) = (
        u16::try_from(w).map_err(|_| "the photo is too wide".to_string())?,
        u16::try_from(h).map_err(|_| "the photo is too tall".to_string())?,
    );
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("cannot encode the photo ({e})"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use image::DynamicImage;

    fn portrait(w: u32, h: u32) -> Vec<u8> {
        // Red top third, blue below: the crop keeps more of the top.
        let img = RgbImage::from_fn(w, h, |_, y| {
            if y < h / 3 {
                image::Rgb([200, 0, 0])
            } else {
                image::Rgb([0, 0, 200])
            }
        });
        let mut b = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut b), image::ImageFormat::Png)
            .unwrap();
        b
    }

    #[test]
    fn any_photo_becomes_the_card_area_at_300_dpi() {
        for (w, h) in [(60, 80), (600, 800), (1200, 900), (3000, 4000), (1, 1)] {
            let out = card_photo(&portrait(w, h)).unwrap();
            let back = image::load_from_memory(&out).unwrap();
            assert_eq!((back.width(), back.height()), PHOTO_PX, "{w}x{h}");
            // JFIF density: units byte 1 (dpi), then 300, 300.
            let jfif = out.windows(5).position(|s| s == b"JFIF\0").unwrap();
            assert_eq!(&out[jfif + 7..jfif + 12], &[1, 1, 44, 1, 44]);
        }
        assert_eq!((PHOTO_MM.0 / 25.4 * 300.0).round() as u32, PHOTO_PX.0);
        assert_eq!((PHOTO_MM.1 / 25.4 * 300.0).round() as u32, PHOTO_PX.1);
    }

    #[test]
    fn a_tall_photo_keeps_its_top() {
        // 300 × 1000: the crop is 300 × 384; from y = (1000 - 384) / 4 = 154,
        // so the top third (red, to y = 333) fills 46 % of the card photo.
        let out = card_photo(&portrait(300, 1000)).unwrap();
        let back = image::load_from_memory(&out).unwrap().into_rgb8();
        assert!(back.get_pixel(147, 100)[0] > 150, "top is red");
        assert!(back.get_pixel(147, 300)[2] > 150, "bottom is blue");
    }

    #[test]
    fn a_broken_photo_says_so() {
        let e = card_photo(b"not a photo").unwrap_err();
        assert!(e.contains("cannot be decoded"), "{e}");
    }
}
