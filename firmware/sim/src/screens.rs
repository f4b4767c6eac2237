//! The validator's screens (P16) rendered on the host: the same drawing
//! code the board sends to its ST7735, into a 160 × 128 frame written as a
//! PNG. `kartka-sim screens` writes the gallery; a test compares it with
//! the images checked in under `firmware/screens/`, so a change to a
//! screen shows in review.
//!
//! The gallery's taps are real: a validator core with the fake reader
//! decides each card, and the screen is what it asks for.

use std::cell::RefCell;
use std::path::Path;

use embedded_graphics::pixelcolor::{Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use kartka_protocol::TapResult;
use kartka_protocol::card::keys::DEMO_MASTER;
use kartka_protocol::card::transport::{LAYOUT_VERSION, TransportApp};
use kartka_protocol::message::Settings;
use kartka_validator::fake::{FakeFlash, FakeMfrc522, Shared, issued_card};
use kartka_validator::screen::{HEIGHT, OutOfService, Screen, WIDTH};
use kartka_validator::{Keys, Mfrc522Reader, Validator};

/// A 160 × 128 frame of RGB565 pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    px: Vec<Rgb565>,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            px: vec![Rgb565::BLACK; (WIDTH * HEIGHT) as usize],
        }
    }
}

impl OriginDimensions for Frame {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Frame {
    type Color = Rgb565;
    type Error = core::convert::Infallible;
    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb565>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Self::Error> {
        for Pixel(p, c) in pixels {
            if (0..WIDTH as i32).contains(&p.x) && (0..HEIGHT as i32).contains(&p.y) {
                self.px[(p.y as u32 * WIDTH + p.x as u32) as usize] = c;
            }
        }
        Ok(())
    }
}

impl Frame {
    pub fn of(screen: &Screen) -> Frame {
        let mut f = Frame::default();
        let Ok(()) = screen.draw(&mut f);
        f
    }

    /// As 8-bit RGB, row by row.
    pub fn rgb(&self) -> Vec<u8> {
        self.px
            .iter()
            .flat_map(|&c| {
                let c: Rgb888 = c.into();
                [c.r(), c.g(), c.b()]
            })
            .collect()
    }

    /// The frame as a PNG file.
    pub fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("a PNG header");
            w.write_image_data(&self.rgb()).expect("a PNG body");
        }
        out
    }
}

/// The RGB pixels of a PNG file, with its size.
pub fn read_png(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut dec = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| format!("{}: not a PNG: {e}", path.display()))?;
    let mut buf = vec![0; dec.output_buffer_size().unwrap_or(0)];
    let info = dec
        .next_frame(&mut buf)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if info.color_type != png::ColorType::Rgb || info.bit_depth != png::BitDepth::Eight {
        return Err(format!("{}: not an 8-bit RGB PNG", path.display()));
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

/// 2026-12-07T06:42:00Z: 08:42 in Kyiv.
pub const NOW: u32 = 1_796_625_720;

/// Every screen the gallery shows, by file name.
pub fn gallery() -> Vec<(&'static str, Screen)> {
    let day = (NOW / 86_400) as u16;
    let settings = Settings {
        version: 1,
        vehicle: 1012,
        carrier: 1,
        route: 7,
        routes: [7, 0, 0, 0, 0, 0, 0, 0],
        zone: 1,
        timeout_s: 900,
        utc_offset_min: 120,
    };
    let keys = Keys {
        card_master: DEMO_MASTER,
        dock: [3; 16],
    };
    let mut v = Validator::open(
        3,
        [0, 1, 0],
        keys,
        FakeFlash::<4096, 256>::new(),
        FakeFlash::<2048, 256>::new(),
    )
    .expect("fresh flash opens");
    v.put_settings(settings).expect("settings store");
    let chip = RefCell::new(FakeMfrc522::new());
    let mut reader = Mfrc522Reader::new(Shared(&chip)).expect("the fake reader starts");
    let app = |card: u32, limit: u8, from: u16, to: u16| TransportApp {
        layout: LAYOUT_VERSION,
        card,
        category: 1,
        community: 0,
        valid_from: from,
        valid_to: to,
        issue: 1,
        trip_limit: limit,
    };
    let mut tap = |card, when| {
        chip.borrow_mut().present(card);
        let r = v
            .poll(&mut reader, Some(when))
            .expect("the fake flash holds")
            .expect("a card was there");
        let screen = v.tap_screen(&r);
        (screen, chip.borrow_mut().remove().expect("the card"))
    };
    let limited = issued_card(
        &DEMO_MASTER,
        [4, 1, 2, 3],
        &app(1_000_000_008, 40, day - 30, day + 300),
    );
    let (accepted, limited) = tap(limited, NOW - 600);
    let (repeat, limited) = tap(limited, NOW - 300);
    let expired = issued_card(
        &DEMO_MASTER,
        [4, 9, 9, 9],
        &app(1_000_000_016, 0, day - 400, day - 5),
    );
    let (expired, _) = tap(expired, NOW);
    let one_left = issued_card(
        &DEMO_MASTER,
        [4, 7, 7, 7],
        &app(1_000_000_024, 1, day - 30, day + 30),
    );
    let (_, used) = tap(one_left, NOW - 7200);
    // Another vehicle: the same validator would call it a repeat.
    let mut other = settings;
    other.vehicle = 1013;
    other.version = 2;
    v.put_settings(other).expect("settings store");
    chip.borrow_mut().present(used);
    let r = v.poll(&mut reader, Some(NOW)).unwrap().unwrap();
    let limit = v.tap_screen(&r);
    chip.borrow_mut().remove();
    chip.borrow_mut().present(limited);
    let inspect = v
        .inspect_screen(&mut reader, NOW)
        .expect("a card was there");
    chip.borrow_mut().remove();
    assert_eq!(
        [accepted, repeat, expired, limit].map(|s| match s {
            Screen::Tap { result, .. } => result,
            _ => TapResult::CardError,
        }),
        [
            TapResult::Accepted,
            TapResult::Repeat,
            TapResult::Expired,
            TapResult::TripLimit
        ],
        "the gallery's taps decide as the screens say"
    );
    vec![
        ("ready", v.ready_screen(Some(NOW))),
        ("accepted", accepted),
        ("repeat", repeat),
        (
            "blocked",
            Screen::Tap {
                now: NOW,
                utc_offset_min: 120,
                result: TapResult::Blocked,
                card: 1_000_000_032,
                trips_left: None,
            },
        ),
        ("expired", expired),
        ("trip-limit", limit),
        (
            "card-error",
            Screen::Tap {
                now: NOW,
                utc_offset_min: 120,
                result: TapResult::CardError,
                card: 0,
                trips_left: None,
            },
        ),
        ("inspect", inspect),
        (
            "log-full",
            Screen::OutOfService {
                now: Some(NOW),
                utc_offset_min: 120,
                why: OutOfService::LogFull,
            },
        ),
    ]
}

/// Writes the gallery as `NAME.png` into `dir`; returns the files.
pub fn write_gallery(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for (name, screen) in gallery() {
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, Frame::of(&screen).png())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}
