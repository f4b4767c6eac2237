//! The green, red and blue lights (P16), lit with the screen's signal.

use embedded_hal::digital::OutputPin;
use kartka_validator::Signal;
use rp2040_hal::Timer;
use rp2040_hal::gpio::{DynPinId, FunctionSioOutput, Pin, PullDown};

/// How long a signal stays lit.
const LIT_US: u64 = 1_000_000;

/// A LED on a GPIO, lit when high.
pub type Led = Pin<DynPinId, FunctionSioOutput, PullDown>;

pub struct Lights {
    green: Led,
    red: Led,
    blue: Led,
    timer: Timer,
    /// When the lit LED goes out (timer microseconds).
    off_at: Option<u64>,
}

impl Lights {
    pub fn new(green: Led, red: Led, blue: Led, timer: Timer) -> Lights {
        let mut lights = Lights {
            green,
            red,
            blue,
            timer,
            off_at: None,
        };
        lights.all_off();
        lights
    }

    /// Puts the light out once its time is up; call often.
    pub fn tick(&mut self) {
        if self
            .off_at
            .is_some_and(|t| self.timer.get_counter().ticks() >= t)
        {
            self.all_off();
        }
    }

    fn all_off(&mut self) {
        let Ok(()) = self.green.set_low();
        let Ok(()) = self.red.set_low();
        let Ok(()) = self.blue.set_low();
        self.off_at = None;
    }
}

impl Lights {
    /// Lights `signal` for a second (none: all off).
    pub fn show(&mut self, signal: Option<Signal>) {
        self.all_off();
        let led = match signal {
            None => return,
            Some(Signal::Green) => &mut self.green,
            Some(Signal::Red) => &mut self.red,
            Some(Signal::Blue) => &mut self.blue,
        };
        let Ok(()) = led.set_high();
        self.off_at = Some(self.timer.get_counter().ticks() + LIT_US);
    }
}
