//! The validator core on an emulated Cortex-M: the image is built for
//! `thumbv6m-none-eabi` (ARMv6-M, the RP2040's Cortex-M0+ instruction set)
//! and runs on QEMU's `mps2-an385`, a Cortex-M3 (ARMv6-M is a subset of
//! ARMv7-M), with its RAM cut to the RP2040's 264 KiB: every scenario of
//! `kartka_validator::scenarios` with the fake MFRC522 and the fake NOR
//! flash, results over semihosting, the exit code QEMU's. (The M0 boards
//! QEMU has hold 16 or 64 KiB of RAM: too little for the scenarios' two
//! validators, a card image and a dock's reply buffer.)
//!
//! Under `-icount shift=10` each instruction advances QEMU's virtual clock
//! by exactly 1024 ns, so the SysTick, clocked at the board's 25 MHz,
//! counts 25.6 ticks an instruction: the meter reads it (its wraps counted
//! by its exception) and turns ticks into instructions. The stack is
//! painted at reset (cortex-m-rt's `paint-stack`); the deepest the
//! scenarios went is read after them.
//!
//! Run by `firmware/qemu/run.sh`, which `.ci/run` calls.

#![no_std]
#![no_main]

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use kartka_validator::scenarios::{Meter, run_all};

const SYST_CSR: *mut u32 = 0xE000_E010usize as _;
const SYST_RVR: *mut u32 = 0xE000_E014usize as _;
const SYST_CVR: *mut u32 = 0xE000_E018usize as _;
/// The SysTick's reload: it counts 2^24 ticks, then wraps.
const WRAP: u64 = 1 << 24;
/// The MPS2 board's processor clock, as QEMU models it.
const CLOCK_HZ: u64 = 25_000_000;
/// `-icount shift=10`: 1024 ns of virtual time per instruction.
const SHIFT: u32 = 10;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // ARMv6-M has no atomic add; only this handler writes it.
    WRAPS.store(WRAPS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

struct SysTickMeter;

impl SysTickMeter {
    fn start() -> SysTickMeter {
        // SAFETY: the SysTick's own registers, set once before any reading.
        unsafe {
            write_volatile(SYST_CSR, 0);
            write_volatile(SYST_RVR, (WRAP - 1) as u32);
            write_volatile(SYST_CVR, 0);
            // Enable, interrupt on wrap, processor clock.
            write_volatile(SYST_CSR, 0b111);
        }
        SysTickMeter
    }

    fn ticks(&self) -> u64 {
        loop {
            let w = WRAPS.load(Ordering::Relaxed);
            // SAFETY: a read of the SysTick's current value.
            let cvr = u64::from(unsafe { read_volatile(SYST_CVR) });
            if WRAPS.load(Ordering::Relaxed) == w {
                return u64::from(w) * WRAP + (WRAP - 1 - cvr);
            }
        }
    }
}

impl Meter for SysTickMeter {
    /// Instructions since the start.
    fn now(&self) -> u64 {
        let num = self.ticks() * 1_000_000_000;
        let den = CLOCK_HZ << SHIFT;
        (num + den / 2) / den
    }

    fn stack_mark(&self) {
        let sp = cortex_m::register::msp::read() as usize;
        MARK.store(sp as u32, Ordering::Relaxed);
        // Paint from the stack's bottom to a little under the caller.
        let (lo, _) = stack_bounds();
        let mut p = lo;
        while p < sp - 256 {
            // SAFETY: unused stack below the live frames.
            unsafe { write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
    }

    fn stack_since_mark(&self) -> u64 {
        let mark = MARK.load(Ordering::Relaxed) as usize;
        let deepest = deepest();
        mark.saturating_sub(deepest) as u64
    }
}

/// The stack pointer at the last mark.
static MARK: AtomicU32 = AtomicU32::new(0);
const PAINT: u32 = 0xCCCC_CCCC;

unsafe extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

/// The stack's bottom and top (the linker's symbols).
fn stack_bounds() -> (usize, usize) {
    (
        &raw const _stack_end as usize,
        &raw const _stack_start as usize,
    )
}

/// The lowest address the stack reached: the first word from the bottom
/// that is no longer paint.
fn deepest() -> usize {
    let (lo, hi) = stack_bounds();
    let mut p = lo;
    // SAFETY: every word between them is RAM.
    while p < hi && unsafe { read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    p
}

/// The deepest the stack went since reset (cortex-m-rt painted it), and
/// its room.
fn stack_high_water() -> (usize, usize) {
    let (lo, hi) = stack_bounds();
    (hi - deepest(), hi - lo)
}

#[entry]
fn main() -> ! {
    let meter = SysTickMeter::start();
    // SAFETY: the CPUID register, read-only.
    let cpuid = unsafe { read_volatile(0xE000_ED00usize as *const u32) };
    hprintln!("kartka-qemu: validator core on CPUID {:#010x}", cpuid);
    let started = meter.now();
    match run_all(&meter, &mut |name| hprintln!("ok {}", name)) {
        Ok(f) => {
            let total = meter.now() - started;
            let (used, room) = stack_high_water();
            hprintln!(
                "instructions per tap decision: {} (the fake MFRC522's share apart: {})",
                f.tap_decision,
                f.tap_chip
            );
            hprintln!("stack per tap decision: {} bytes", f.tap_stack);
            hprintln!(
                "instructions per tap, earlier key version: {}",
                f.tap_old_keys
            );
            hprintln!(
                "instructions per dock session (100 taps): {}",
                f.dock_session
            );
            hprintln!("instructions per screen drawn: {}", f.screen);
            hprintln!("instructions in all: {}", total);
            hprintln!(
                "stack high-water mark, the scenarios' own frames included: {} of {} bytes",
                used,
                room
            );
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(e) => {
            hprintln!("FAILED {}: {}", e.scenario, e.what);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("PANIC: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    hprintln!("HARDFAULT at pc={:#010x} lr={:#010x}", ef.pc(), ef.lr());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
