//! What the passenger and the inspector see (P16, P15): the three lights
//! and the 1.8" colour screen, an ST7735 of 160 × 128 on SPI1 through the
//! `mipidsi` driver, drawn by the core's `Screen` (the same code the
//! simulator renders to PNG). A result stays a second and a half, then the
//! ready screen comes back; the ready screen is drawn again when its
//! minute changes. A screen that fails to draw never stops a tap.

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use kartka_validator::{Indicator, Screen};
use rp2040_hal::Timer;

use crate::lights::Lights;

/// How long a result stays on the screen.
const RESULT_US: u64 = 1_500_000;

pub struct Face<D> {
    lights: Lights,
    /// None when the screen did not start: the lights still work.
    display: Option<D>,
    timer: Timer,
    /// A result is on until then (timer microseconds).
    result_until: Option<u64>,
    /// The minute the ready screen shows.
    ready_minute: Option<Option<u32>>,
}

impl<D: DrawTarget<Color = Rgb565>> Face<D> {
    pub fn new(lights: Lights, display: Option<D>, timer: Timer) -> Self {
        Face {
            lights,
            display,
            timer,
            result_until: None,
            ready_minute: None,
        }
    }

    /// Puts the light out and the ready screen back when their time is
    /// up; `ready` is asked only when the ready screen is to be drawn.
    pub fn tick(&mut self, now: Option<u32>, ready: impl FnOnce() -> Screen) {
        self.lights.tick();
        let t = self.timer.get_counter().ticks();
        if self.result_until.is_some_and(|until| t < until) {
            return;
        }
        self.result_until = None;
        let minute = now.map(|n| n / 60);
        if self.ready_minute != Some(minute) {
            self.ready_minute = Some(minute);
            if let Some(d) = self.display.as_mut() {
                let _ = ready().draw(d);
            }
        }
    }
}

impl<D: DrawTarget<Color = Rgb565>> Indicator for Face<D> {
    fn show(&mut self, screen: &Screen) {
        self.lights.show(screen.signal());
        if let Some(d) = self.display.as_mut() {
            let _ = screen.draw(d);
        }
        self.result_until = Some(self.timer.get_counter().ticks() + RESULT_US);
        self.ready_minute = None;
    }
}
