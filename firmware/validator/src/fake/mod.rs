//! Host-side fakes of the validator's hardware, for tests and the simulator.

mod card;
pub mod flash;
mod mfrc522;

pub use card::VirtualCard;
pub use flash::{FakeFlash, FlashError};
pub use mfrc522::FakeMfrc522;

use core::cell::RefCell;
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use kartka_protocol::card::image::personalise;
use kartka_protocol::card::keys::MasterKey;
use kartka_protocol::card::transport::TransportApp;

/// An SPI device shared through a `RefCell`, so a test (or the simulator)
/// can put cards on the fake reader while the driver owns its handle.
pub struct Shared<'a, T>(pub &'a RefCell<T>);

impl<T: ErrorType> ErrorType for Shared<'_, T> {
    type Error = T::Error;
}

impl<T: SpiDevice> SpiDevice for Shared<'_, T> {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        self.0.borrow_mut().transaction(operations)
    }
}

/// A factory card with `uid`, personalised as the card office would.
pub fn issued_card(master: &MasterKey, uid: [u8; 4], app: &TransportApp) -> VirtualCard {
    let mut blocks = *VirtualCard::factory(uid).blocks();
    for w in personalise(master, &uid, app) {
        blocks[w.block as usize] = w.data;
    }
    VirtualCard::from_blocks(blocks)
}
