use super::*;
use embedded_graphics::pixelcolor::Rgb565;
use kartka_protocol::Uid;
use kartka_protocol::card::transport::{LAYOUT_VERSION, LastValidation, TransportApp};

/// A 160 × 128 target that remembers every pixel, and any drawn outside.
struct Panel {
    px: std::vec::Vec<Rgb565>,
    outside: usize,
}

impl Panel {
    fn new() -> Panel {
        Panel {
            px: std::vec![Rgb565::BLACK; (WIDTH * HEIGHT) as usize],
            outside: 0,
        }
    }
    fn at(&self, x: u32, y: u32) -> Rgb565 {
        self.px[(y * WIDTH + x) as usize]
    }
}

impl OriginDimensions for Panel {
    fn size(&self) -> Size {
        // Larger than the screen, so a line too long is seen, not clipped.
        Size::new(WIDTH * 2, HEIGHT * 2)
    }
}

impl DrawTarget for Panel {
    type Color = Rgb565;
    type Error = core::convert::Infallible;
    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb565>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Self::Error> {
        for Pixel(p, c) in pixels {
            if p.x < 0 || p.y < 0 || p.x >= WIDTH as i32 || p.y >= HEIGHT as i32 {
                self.outside += 1;
            } else {
                self.px[(p.y as u32 * WIDTH + p.x as u32) as usize] = c;
            }
        }
        Ok(())
    }
}

/// 2026-12-07T06:42:00Z: 08:42 in Kyiv (UTC+2).
const NOW: u32 = 1_796_625_720;

fn view(last: bool) -> CardView {
    CardView {
        uid: Uid::four([4, 1, 2, 3]),
        app: TransportApp {
            layout: LAYOUT_VERSION,
            card: 1_000_000_008,
            category: 1,
            community: 0,
            valid_from: calendar::local_day(NOW, 120) - 30,
            valid_to: calendar::local_day(NOW, 120) + 300,
            issue: 1,
            trip_limit: 40,
        },
        trips: 17,
        last: last.then_some(LastValidation {
            time: NOW - 3600,
            vehicle: 1012,
            route: 7,
            validator: 3,
            zone: 1,
            month_trips: 6,
        }),
    }
}

/// Every screen the validator can show.
pub fn every_screen() -> std::vec::Vec<Screen> {
    let mut all = std::vec![
        Screen::Ready {
            now: Some(NOW),
            utc_offset_min: 120,
            route: 7
        },
        Screen::Ready {
            now: None,
            utc_offset_min: 120,
            route: 0
        },
    ];
    for r in TapResult::ALL {
        all.push(Screen::Tap {
            now: NOW,
            utc_offset_min: 120,
            result: r,
            card: 1_000_000_008,
            trips_left: (r == TapResult::Accepted || r == TapResult::TripLimit)
                .then_some(if r == TapResult::Accepted { 33 } else { 0 }),
        });
    }
    for (card, blocked) in [
        (Ok(view(true)), false),
        (Ok(view(false)), true),
        (Err(TapResult::CardError), false),
    ] {
        all.push(Screen::Inspect {
            now: NOW,
            utc_offset_min: 120,
            card,
            blocked,
        });
    }
    for why in [
        OutOfService::NoKeys,
        OutOfService::LogFull,
        OutOfService::Storage,
        OutOfService::Reader,
    ] {
        all.push(Screen::OutOfService {
            now: Some(NOW),
            utc_offset_min: 120,
            why,
        });
    }
    all
}

#[test]
fn every_screen_fits_its_160_by_128_pixels() {
    for s in every_screen() {
        let mut p = Panel::new();
        s.draw(&mut p).unwrap();
        assert_eq!(
            p.outside, 0,
            "{s:?} draws outside the screen: a line too long"
        );
    }
}

#[test]
fn the_body_is_green_red_or_blue_as_the_light() {
    for s in every_screen() {
        let mut p = Panel::new();
        s.draw(&mut p).unwrap();
        let body = p.at(1, HEIGHT - 2);
        let want = match s.signal() {
            None => IDLE_BG,
            Some(Signal::Green) => GREEN_BG,
            Some(Signal::Red) => RED_BG,
            Some(Signal::Blue) => BLUE_BG,
        };
        assert_eq!(body, want, "{s:?}");
        assert_eq!(p.at(WIDTH - 1, 1), BAR_BG);
    }
    let repeat = Screen::Tap {
        now: NOW,
        utc_offset_min: 120,
        result: TapResult::Repeat,
        card: 1,
        trips_left: None,
    };
    assert_eq!(repeat.signal(), Some(Signal::Blue));
}

#[test]
fn the_bar_shows_the_local_date_and_time() {
    let mut l = Line::new();
    date_time(&mut l, NOW, 120);
    assert_eq!(&*l, "07.12.2026 08:42");
    let mut l = Line::new();
    date_time(&mut l, NOW, 0);
    assert_eq!(&*l, "07.12.2026 06:42");
}

#[test]
fn a_line_too_long_loses_its_tail_not_its_utf8() {
    let mut l = Line::new();
    let _ = write!(l, "{}", "ї".repeat(40));
    assert_eq!(l.chars().count(), 24);
}
