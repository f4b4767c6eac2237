//! The kartka validator on an RP2040 board: an MFRC522 reader on SPI0, the
//! 1.8" ST7735 screen on SPI1, the dock on USB CDC-ACM, green/red/blue
//! LEDs, and the driver's terminal's inspection switch. See README.md for
//! the pins and the flash map.

#![no_std]
#![no_main]

mod clock;
mod face;
mod flash;
mod lights;
mod provision;
mod reader;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal_bus::spi::ExclusiveDevice;
use kartka_validator::{
    CardReader, Clock, CoreError, Dock, Indicator, OutOfService, Screen, Validator,
};
use mipidsi::interface::SpiInterface;
use mipidsi::models::ST7735s;
use mipidsi::options::{ColorInversion, ColorOrder, Orientation, Rotation};
use rp2040_hal::clocks::{Clock as _, init_clocks_and_plls};
use rp2040_hal::fugit::RateExtU32;
use rp2040_hal::gpio::{FunctionSpi, PinState, Pins};
use rp2040_hal::usb::UsbBus;
use rp2040_hal::{Sio, Spi, Timer, Watchdog, entry, pac};
use usb_device::class_prelude::UsbBusAllocator;
use usb_device::prelude::{StringDescriptors, UsbDeviceBuilder, UsbDeviceState, UsbVidPid};
use usbd_serial::SerialPort;

use crate::clock::UtcClock;
use crate::face::Face;
use crate::flash::Region;
use crate::lights::Lights;
use crate::reader::Reader;

/// The second-stage bootloader for the W25Q080-compatible flash of the
/// Pico and most RP2040 boards.
#[unsafe(link_section = ".boot2")]
#[unsafe(no_mangle)]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

const XTAL_HZ: u32 = 12_000_000;
/// How often the reader looks for a card.
const CARD_POLL_US: u64 = 100_000;
/// How often an absent reader is looked for again.
const PROBE_US: u64 = 1_000_000;
/// A reply that makes no progress into USB for this long: the link is down.
const WRITE_STALL_US: u64 = 500_000;
/// pid.codes' test VID/PID for CDC-ACM; a deployment needs its own.
const VID_PID: UsbVidPid = UsbVidPid(0x16c0, 0x27dd);

const FIRMWARE: [u8; 3] = [
    version(env!("CARGO_PKG_VERSION_MAJOR")),
    version(env!("CARGO_PKG_VERSION_MINOR")),
    version(env!("CARGO_PKG_VERSION_PATCH")),
];

const fn version(s: &str) -> u8 {
    let b = s.as_bytes();
    let mut n = 0u8;
    let mut i = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0');
        i += 1;
    }
    n
}

#[entry]
fn main() -> ! {
    let mut pac = pac::Peripherals::take().unwrap();
    let mut watchdog = Watchdog::new(pac.WATCHDOG);
    let clocks = init_clocks_and_plls(
        XTAL_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    )
    .ok()
    .unwrap();
    let mut timer = Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    let seed = rosc_bits(&pac.ROSC, &mut timer);
    let sio = Sio::new(pac.SIO);
    let pins = Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );

    let lights = Lights::new(
        pins.gpio13.into_push_pull_output().into_dyn_pin(),
        pins.gpio14.into_push_pull_output().into_dyn_pin(),
        pins.gpio15.into_push_pull_output().into_dyn_pin(),
        timer,
    );

    // The screen (P16): an ST7735 160 × 128 on SPI1 at 16 MHz, landscape.
    // Offsets and colour order are those of the common "green tab"
    // modules; another module may need them changed (README.md).
    let lcd_cs = pins.gpio9.into_push_pull_output_in_state(PinState::High);
    let lcd_dc = pins.gpio8.into_push_pull_output();
    let lcd_rst = pins.gpio12.into_push_pull_output();
    let mut backlight = pins.gpio7.into_push_pull_output();
    let lcd_spi = Spi::<_, _, _, 8>::new(
        pac.SPI1,
        (
            pins.gpio11.into_function::<FunctionSpi>(),
            pins.gpio10.into_function::<FunctionSpi>(),
        ),
    )
    .init(
        &mut pac.RESETS,
        clocks.peripheral_clock.freq(),
        16.MHz(),
        embedded_hal::spi::MODE_0,
    );
    let Ok(lcd_spi) = ExclusiveDevice::new(lcd_spi, lcd_cs, timer);
    let mut lcd_buf = [0u8; 512];
    let display = mipidsi::Builder::new(ST7735s, SpiInterface::new(lcd_spi, lcd_dc, &mut lcd_buf))
        .reset_pin(lcd_rst)
        .display_size(128, 160)
        .display_offset(2, 1)
        .orientation(Orientation::new().rotate(Rotation::Deg90))
        .color_order(ColorOrder::Bgr)
        .invert_colors(ColorInversion::Normal)
        .init(&mut timer)
        .ok();
    let Ok(()) = backlight.set_high();
    let mut face = Face::new(lights, display, timer);
    // The driver's terminal's inspection switch (P15): low while on.
    let mut inspection = pins.gpio6.into_pull_up_input();

    // The MFRC522: hard reset, then SPI0 at 4 MHz (the chip takes 10).
    let mut rst = pins.gpio20.into_push_pull_output_in_state(PinState::Low);
    timer.delay_ms(2);
    let Ok(()) = rst.set_high();
    timer.delay_ms(50);
    let miso = pins.gpio16.into_function::<FunctionSpi>();
    let cs = pins.gpio17.into_push_pull_output_in_state(PinState::High);
    let sck = pins.gpio18.into_function::<FunctionSpi>();
    let mosi = pins.gpio19.into_function::<FunctionSpi>();
    let spi = Spi::<_, _, _, 8>::new(pac.SPI0, (mosi, miso, sck)).init(
        &mut pac.RESETS,
        clocks.peripheral_clock.freq(),
        4.MHz(),
        embedded_hal::spi::MODE_0,
    );
    let Ok(spi) = ExclusiveDevice::new(spi, cs, timer);
    let mut reader = Reader::Absent(spi);
    reader.probe();

    // The keys, then the log and the store. No keys: no validator.
    let provision = provision::read();
    // SAFETY: the regions are disjoint, above the firmware (memory.x), and
    // made once.
    let (log, store) = unsafe { (Region::new(flash::LOG), Region::new(flash::STORE)) };
    let mut validator = match &provision {
        Ok(p) => Validator::open(p.id, FIRMWARE, p.keys, log, store).ok(),
        Err(_) => None,
    };

    // The dock: USB CDC-ACM, /dev/ttyACM0 on the depot PC.
    let usb_bus = UsbBusAllocator::new(UsbBus::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        true,
        &mut pac.RESETS,
    ));
    let mut serial = SerialPort::new(&usb_bus);
    let mut serial_number = *b"00000";
    let serial_number = match &provision {
        Ok(p) => decimal(p.id, &mut serial_number),
        Err(_) => "unprovisioned",
    };
    let mut usb_dev = UsbDeviceBuilder::new(&usb_bus, VID_PID)
        .strings(&[StringDescriptors::default()
            .manufacturer("kartka")
            .product("kartka validator")
            .serial_number(serial_number)])
        .unwrap()
        .device_class(usbd_serial::USB_CLASS_CDC)
        .build();

    let mut clock = UtcClock::new(timer);
    let mut dock: Option<Dock> = None;
    let mut linked = (false, false);
    let mut next_card = timer.get_counter().ticks();
    let mut next_probe = next_card + PROBE_US;
    let mut rx = [0u8; 64];

    loop {
        usb_dev.poll(&mut [&mut serial]);
        // The bus reset or went away, or the host closed the port (DTR
        // dropped; a host that never raises DTR is still served).
        let link = (usb_dev.state() == UsbDeviceState::Configured, serial.dtr());
        if ((linked.0 && !link.0) || (linked.1 && !link.1))
            && let Some(d) = dock.as_mut()
        {
            d.link_lost();
        }
        linked = link;

        if let Ok(n) = serial.read(&mut rx)
            && n > 0
            && let Some(v) = validator.as_mut()
        {
            // Seeded at the first byte from the host, so the USB timing
            // adds to the ring oscillator's few random bits.
            let d = dock.get_or_insert_with(|| Dock::new(seed ^ timer.get_counter_low()));
            let mut send = |reply: &[u8]| write_all(&mut usb_dev, &mut serial, &timer, reply);
            d.stir(timer.get_counter_low());
            if d.on_bytes(v, &mut clock, &rx[..n], &mut send).is_err() {
                d.link_lost();
            }
        }
        // Without keys the dock cannot answer (every reply carries a MAC):
        // the bytes are dropped and the host times out.

        let now = timer.get_counter().ticks();
        if now >= next_probe {
            next_probe = now + PROBE_US;
            reader.probe();
        }
        if now >= next_card {
            next_card = now + CARD_POLL_US;
            let mut chip_failed = false;
            if let Some(r) = reader.ready() {
                let inspecting = inspection.is_low().unwrap_or(false);
                let out = |why| Screen::OutOfService {
                    now: clock.now(),
                    utc_offset_min: 0,
                    why,
                };
                let shown = if let Some(v) = validator.as_mut() {
                    match (inspecting, clock.now()) {
                        (true, Some(now)) => v.inspect_screen(r, now),
                        _ => match v.poll(r, clock.now()) {
                            Ok(Some(record)) => Some(v.tap_screen(&record)),
                            Ok(None) => None,
                            Err(CoreError::Reader(_)) => {
                                chip_failed = true;
                                Some(out(OutOfService::Reader))
                            }
                            Err(CoreError::LogFull) => Some(out(OutOfService::LogFull)),
                            Err(CoreError::Log(_) | CoreError::Store(_)) => {
                                Some(out(OutOfService::Storage))
                            }
                        },
                    }
                } else if let Ok(Some(_)) = r.detect() {
                    r.release();
                    Some(out(OutOfService::NoKeys))
                } else {
                    None
                };
                if let Some(screen) = shown {
                    face.show(&screen);
                }
            }
            if chip_failed {
                reader.restart();
            }
        }
        let now = clock.now();
        face.tick(now, || match &validator {
            Some(v) => v.ready_screen(now),
            None => Screen::OutOfService {
                now,
                utc_offset_min: 0,
                why: OutOfService::NoKeys,
            },
        });
    }
}

/// Writes all of `bytes` to the USB serial port, polling the bus while its
/// buffers are full. False when the link is down: unplugged, reset, or no
/// progress for [`WRITE_STALL_US`] (the host is not reading).
fn write_all(
    usb_dev: &mut usb_device::device::UsbDevice<'_, UsbBus>,
    serial: &mut SerialPort<'_, UsbBus>,
    timer: &Timer,
    mut bytes: &[u8],
) -> bool {
    let mut stall_at = timer.get_counter().ticks() + WRITE_STALL_US;
    while !bytes.is_empty() {
        if usb_dev.state() != UsbDeviceState::Configured {
            return false;
        }
        match serial.write(bytes) {
            Ok(n) => {
                bytes = &bytes[n..];
                stall_at = timer.get_counter().ticks() + WRITE_STALL_US;
            }
            Err(usb_device::UsbError::WouldBlock) => {
                if timer.get_counter().ticks() >= stall_at {
                    return false;
                }
            }
            Err(_) => return false,
        }
        usb_dev.poll(&mut [serial]);
    }
    true
}

/// 32 bits from the ring oscillator, sampled a few microseconds apart
/// while the system clock runs from the crystal.
fn rosc_bits(rosc: &pac::ROSC, timer: &mut Timer) -> u32 {
    let mut bits = 0u32;
    for _ in 0..32 {
        bits = bits << 1 | u32::from(rosc.randombit().read().randombit().bit());
        timer.delay_us(3);
    }
    bits
}

/// `n` in decimal, in `buf`.
fn decimal(n: u16, buf: &mut [u8; 5]) -> &str {
    let mut n = n;
    for b in buf.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    core::str::from_utf8(buf).unwrap_or("00000")
}

/// A fault that should not happen: start again rather than sit dark.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
