//! The validator's 1.8" colour screen, 160 × 128 (P16): the date and time,
//! a tap's result on green, red or blue (P11; blue: already registered in
//! this vehicle, P13), the trips left where the card has a monthly limit
//! (P9), and the inspection view (P15: validity, and the date, time and
//! place of the last validation). Drawn with embedded-graphics on any
//! `DrawTarget` of RGB565 pixels: the ST7735 on the board, a PNG in the
//! simulator and the tests, nothing at all on the emulated MCU.
//!
//! Text is Ukrainian, in embedded-graphics' ISO 8859-5 fonts (they have
//! і, ї, є; not ґ, which no text here needs).

use core::fmt::Write as _;

use embedded_graphics::mono_font::MonoFont;
use embedded_graphics::mono_font::MonoTextStyleBuilder;
use embedded_graphics::mono_font::iso_8859_5::{FONT_6X10, FONT_7X13, FONT_10X20};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use kartka_protocol::TapResult;
use kartka_protocol::card::transport::Validity;

use crate::calendar;
use crate::validator::{CardView, Signal};

pub const WIDTH: u32 = 160;
pub const HEIGHT: u32 = 128;

const BAR: u32 = 18;
const INK: Rgb565 = Rgb565::WHITE;
const BAR_BG: Rgb565 = Rgb565::new(2, 6, 5);
const IDLE_BG: Rgb565 = Rgb565::new(4, 10, 7);
const GREEN_BG: Rgb565 = Rgb565::new(1, 40, 7);
const RED_BG: Rgb565 = Rgb565::new(25, 5, 4);
const BLUE_BG: Rgb565 = Rgb565::new(3, 16, 25);

/// Why the validator takes no card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfService {
    /// No keys provisioned.
    NoKeys,
    /// The tap log is full: dock the validator.
    LogFull,
    /// The settings or the log failed.
    Storage,
    /// The reader chip does not answer.
    Reader,
}

/// One screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Waiting for a card: the date and time, the route.
    Ready {
        now: Option<u32>,
        utc_offset_min: i16,
        route: u16,
    },
    /// A tap's result.
    Tap {
        now: u32,
        utc_offset_min: i16,
        result: TapResult,
        card: u32,
        /// Trips left this month, where the card has a limit.
        trips_left: Option<u16>,
    },
    /// The inspection mode (P15): what the card says, without a trip.
    Inspect {
        now: u32,
        utc_offset_min: i16,
        card: Result<CardView, TapResult>,
        /// On this validator's blocklist.
        blocked: bool,
    },
    OutOfService {
        now: Option<u32>,
        utc_offset_min: i16,
        why: OutOfService,
    },
}

impl Screen {
    /// The light that goes with it.
    pub fn signal(&self) -> Option<Signal> {
        match self {
            Screen::Ready { .. } => None,
            Screen::Tap { result, .. } => Some(Signal::of(*result)),
            Screen::Inspect { .. } => Some(Signal::Blue),
            Screen::OutOfService { .. } => Some(Signal::Red),
        }
    }

    fn now(&self) -> (Option<u32>, i16) {
        match *self {
            Screen::Ready {
                now,
                utc_offset_min,
                ..
            }
            | Screen::OutOfService {
                now,
                utc_offset_min,
                ..
            } => (now, utc_offset_min),
            Screen::Tap {
                now,
                utc_offset_min,
                ..
            }
            | Screen::Inspect {
                now,
                utc_offset_min,
                ..
            } => (Some(now), utc_offset_min),
        }
    }

    /// Draws the whole screen.
    pub fn draw<D: DrawTarget<Color = Rgb565>>(&self, d: &mut D) -> Result<(), D::Error> {
        let (now, offset) = self.now();
        let bg = match self.signal() {
            None => IDLE_BG,
            Some(Signal::Green) => GREEN_BG,
            Some(Signal::Red) => RED_BG,
            Some(Signal::Blue) => BLUE_BG,
        };
        fill(d, 0, BAR, WIDTH, HEIGHT - BAR, bg)?;
        fill(d, 0, 0, WIDTH, BAR, BAR_BG)?;
        let mut line: Line = Line::new();
        match now {
            Some(t) => {
                date_time(&mut line, t, offset);
                text(d, &line, &FONT_7X13, BAR_BG, 3, 2, Alignment::Left)?;
            }
            None => text(
                d,
                "--.--.---- --:--",
                &FONT_7X13,
                BAR_BG,
                3,
                2,
                Alignment::Left,
            )?,
        }
        match *self {
            Screen::Ready { route, .. } => {
                text(d, "ПРИКЛАДІТЬ", &FONT_10X20, bg, 80, 34, Alignment::Center)?;
                text(d, "КАРТКУ", &FONT_10X20, bg, 80, 56, Alignment::Center)?;
                if route != 0 {
                    line.clear();
                    let _ = write!(line, "Маршрут {route}");
                    text(d, &line, &FONT_7X13, bg, 80, 104, Alignment::Center)?;
                }
            }
            Screen::Tap {
                result,
                card,
                trips_left,
                ..
            } => {
                let (word, why) = words(result);
                text(d, word, &FONT_10X20, bg, 80, 28, Alignment::Center)?;
                for (i, w) in why.iter().enumerate() {
                    text(
                        d,
                        w,
                        &FONT_7X13,
                        bg,
                        80,
                        54 + 14 * i as i32,
                        Alignment::Center,
                    )?;
                }
                if let Some(n) = trips_left {
                    line.clear();
                    let _ = write!(line, "Залишилось поїздок: {n}");
                    text(d, &line, &FONT_6X10, bg, 80, 88, Alignment::Center)?;
                }
                if card != 0 {
                    line.clear();
                    let _ = write!(line, "Картка {card}");
                    text(d, &line, &FONT_7X13, bg, 80, 106, Alignment::Center)?;
                }
            }
            Screen::Inspect {
                now, card, blocked, ..
            } => {
                text(d, "ПЕРЕВІРКА", &FONT_7X13, bg, 80, 21, Alignment::Center)?;
                match card {
                    Err(_) => {
                        text(
                            d,
                            "Картку не прочитано",
                            &FONT_7X13,
                            bg,
                            80,
                            50,
                            Alignment::Center,
                        )?;
                        text(
                            d,
                            "прикладіть ще раз",
                            &FONT_7X13,
                            bg,
                            80,
                            66,
                            Alignment::Center,
                        )?;
                    }
                    Ok(view) => {
                        let mut y = 36;
                        let row = |d: &mut D, s: &str, y: &mut i32| {
                            let r = text(d, s, &FONT_7X13, bg, 4, *y, Alignment::Left);
                            *y += 15;
                            r
                        };
                        line.clear();
                        let _ = write!(line, "Картка {}", view.app.card);
                        row(d, &line, &mut y)?;
                        line.clear();
                        let today = calendar::local_day(now, offset);
                        match (blocked, view.app.valid_on(today)) {
                            (true, _) => {
                                let _ = write!(line, "ЗАБЛОКОВАНА");
                            }
                            (false, Ok(())) => {
                                let _ = write!(line, "Дійсна до ");
                                day_text(&mut line, view.app.valid_to);
                            }
                            (false, Err(Validity::Expired)) => {
                                let _ = write!(line, "Не дійсна з ");
                                day_text(&mut line, view.app.valid_to.saturating_add(1));
                            }
                            (false, Err(Validity::NotYet)) => {
                                let _ = write!(line, "Дійсна з ");
                                day_text(&mut line, view.app.valid_from);
                            }
                        }
                        row(d, &line, &mut y)?;
                        match view.last {
                            None => row(d, "Валідацій ще не було", &mut y)?,
                            Some(l) => {
                                row(d, "Остання валідація:", &mut y)?;
                                line.clear();
                                date_time(&mut line, l.time, offset);
                                row(d, &line, &mut y)?;
                                line.clear();
                                let _ = write!(
                                    line,
                                    "м.{} ТЗ {} вал.{}",
                                    l.route, l.vehicle, l.validator
                                );
                                row(d, &line, &mut y)?;
                            }
                        }
                    }
                }
            }
            Screen::OutOfService { why, .. } => {
                text(d, "НЕ ПРАЦЮЄ", &FONT_10X20, bg, 80, 34, Alignment::Center)?;
                let lines: &[&str] = match why {
                    OutOfService::NoKeys => &["немає ключів:", "зверніться в депо"],
                    OutOfService::LogFull => &["пам'ять заповнена:", "підключіть у депо"],
                    OutOfService::Storage => &["збій пам'яті:", "зверніться в депо"],
                    OutOfService::Reader => &["зчитувач не", "відповідає"],
                };
                for (i, w) in lines.iter().enumerate() {
                    text(
                        d,
                        w,
                        &FONT_7X13,
                        bg,
                        80,
                        64 + 15 * i as i32,
                        Alignment::Center,
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A tap result's big word and its reason, in Ukrainian.
fn words(result: TapResult) -> (&'static str, &'static [&'static str]) {
    match result {
        TapResult::Accepted => ("ПРИЙНЯТО", &["Гарної поїздки!"]),
        TapResult::Repeat => (
            "ЗАРАХОВАНО",
            &["поїздку зареєстровано", "у цьому транспорті"],
        ),
        TapResult::Blocked => ("ВІДМОВА", &["картку заблоковано"]),
        TapResult::Expired => ("ВІДМОВА", &["термін дії минув"]),
        TapResult::NotYetValid => ("ВІДМОВА", &["картка ще не дійсна"]),
        TapResult::UnknownCard => ("ВІДМОВА", &["невідома картка"]),
        TapResult::AuthFailed => ("ВІДМОВА", &["картку не відкрито:", "не міська картка"]),
        TapResult::CardError => ("ЩЕ РАЗ", &["картку не прочитано:", "прикладіть ще раз"]),
        TapResult::TripLimit => ("ВІДМОВА", &["ліміт поїздок", "цього місяця вичерпано"]),
        TapResult::NotConfigured => ("ВІДМОВА", &["валідатор не", "налаштовано"]),
    }
}

/// A short line of text, on the stack.
type Line = heapless_line::Line;

mod heapless_line {
    /// 48 bytes of UTF-8: the longest line a 160-pixel row holds.
    pub struct Line {
        buf: [u8; 48],
        len: usize,
    }
    impl Line {
        pub const fn new() -> Line {
            Line {
                buf: [0; 48],
                len: 0,
            }
        }
        pub fn clear(&mut self) {
            self.len = 0;
        }
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            // Cut at a character: a too-long line loses its tail, never
            // its UTF-8.
            let mut end = s.len().min(self.buf.len() - self.len);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.buf[self.len..self.len + end].copy_from_slice(&s.as_bytes()[..end]);
            self.len += end;
            Ok(())
        }
    }
    impl core::ops::Deref for Line {
        type Target = str;
        fn deref(&self) -> &str {
            core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
        }
    }
}

fn day_text(line: &mut Line, day: u16) {
    let (y, m, d) = calendar::date(day);
    let _ = write!(line, "{d:02}.{m:02}.{y}");
}

fn date_time(line: &mut Line, utc: u32, offset: i16) {
    day_text(line, calendar::local_day(utc, offset));
    let minute = calendar::local_minute(utc, offset);
    let _ = write!(line, " {:02}:{:02}", minute / 60, minute % 60);
}

fn fill<D: DrawTarget<Color = Rgb565>>(
    d: &mut D,
    x: i32,
    y: u32,
    w: u32,
    h: u32,
    color: Rgb565,
) -> Result<(), D::Error> {
    Rectangle::new(Point::new(x, y as i32), Size::new(w, h))
        .into_styled(PrimitiveStyle::with_fill(color))
        .draw(d)
}

/// Text with an opaque background (one burst per glyph on the SPI bus).
fn text<D: DrawTarget<Color = Rgb565>>(
    d: &mut D,
    s: &str,
    font: &MonoFont<'_>,
    bg: Rgb565,
    x: i32,
    y: i32,
    align: Alignment,
) -> Result<(), D::Error> {
    let style = MonoTextStyleBuilder::new()
        .font(font)
        .text_color(INK)
        .background_color(bg)
        .build();
    let layout = TextStyleBuilder::new()
        .alignment(align)
        .baseline(Baseline::Top)
        .build();
    Text::with_text_style(s, Point::new(x, y), style, layout).draw(d)?;
    Ok(())
}

#[cfg(test)]
mod tests;
