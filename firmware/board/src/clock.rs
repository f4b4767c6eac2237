//! The validator's UTC clock, on the RP2040's 64-bit microsecond timer.
//!
//! The host sets it at every docking. It does not survive a power cut (no
//! battery-backed RTC on the board): until the next docking it reads
//! `None`, and the validator refuses cards as not configured.

use kartka_validator::Clock;
use rp2040_hal::Timer;

pub struct UtcClock {
    timer: Timer,
    /// The UTC second the host set, and the timer's microseconds then.
    set_at: Option<(u32, u64)>,
}

impl UtcClock {
    pub fn new(timer: Timer) -> UtcClock {
        UtcClock {
            timer,
            set_at: None,
        }
    }
}

impl Clock for UtcClock {
    fn now(&self) -> Option<u32> {
        let (utc, at) = self.set_at?;
        let elapsed_s = self.timer.get_counter().ticks().wrapping_sub(at) / 1_000_000;
        Some(utc.wrapping_add(elapsed_s as u32))
    }

    fn set(&mut self, utc: u32) {
        self.set_at = Some((utc, self.timer.get_counter().ticks()));
    }
}
