//! A NOR flash that can lose power at any byte.
//!
//! Like real NOR: erase sets a sector to 0xFF; programming can only clear
//! bits (the result is `old & new`). Every programmed or erased byte costs
//! one unit of a power budget; when it runs out mid-operation the byte in
//! flight is half-programmed, the rest of the operation never happens, the
//! call fails, and the flash stays dead until [`FakeFlash::power_on`].

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// The power failed during this call (or before it).
    PowerCut,
    OutOfBounds,
}

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FlashError::PowerCut => NorFlashErrorKind::Other,
            FlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
        }
    }
}

/// `N` bytes of flash in sectors of `ERASE` bytes.
pub struct FakeFlash<const N: usize, const ERASE: usize> {
    mem: [u8; N],
    budget: Option<u64>,
    dead: bool,
    /// Bytes programmed so far (for picking cut points).
    pub programmed: u64,
    /// Sectors erased so far.
    pub erases: u64,
    /// Bytes programmed over a byte that was not erased: a bug in the
    /// caller on real NOR.
    pub overwrites: u64,
}

impl<const N: usize, const ERASE: usize> Default for FakeFlash<N, ERASE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const ERASE: usize> FakeFlash<N, ERASE> {
    /// Factory-fresh: all 0xFF.
    pub fn new() -> Self {
        FakeFlash {
            mem: [0xFF; N],
            budget: None,
            dead: false,
            programmed: 0,
            erases: 0,
            overwrites: 0,
        }
    }

    /// The power fails after `units` more bytes are programmed or erased.
    pub fn cut_power_after(&mut self, units: u64) {
        self.budget = Some(units);
    }

    /// Power is back: the flash works again with whatever it holds.
    pub fn power_on(&mut self) {
        self.budget = None;
        self.dead = false;
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    pub fn bytes(&self) -> &[u8; N] {
        &self.mem
    }

    pub fn bytes_mut(&mut self) -> &mut [u8; N] {
        &mut self.mem
    }

    /// Spends one unit; false when the power fails now.
    fn spend(&mut self) -> bool {
        match &mut self.budget {
            Some(0) => {
                self.dead = true;
                false
            }
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }

    fn range(&self, offset: u32, len: usize) -> Result<core::ops::Range<usize>, FlashError> {
        let start = offset as usize;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= N)
            .ok_or(FlashError::OutOfBounds)?;
        Ok(start..end)
    }
}

impl<const N: usize, const ERASE: usize> ErrorType for FakeFlash<N, ERASE> {
    type Error = FlashError;
}

impl<const N: usize, const ERASE: usize> ReadNorFlash for FakeFlash<N, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        if self.dead {
            return Err(FlashError::PowerCut);
        }
        let range = self.range(offset, bytes.len())?;
        bytes.copy_from_slice(&self.mem[range]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize, const ERASE: usize> NorFlash for FakeFlash<N, ERASE> {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        if self.dead {
            return Err(FlashError::PowerCut);
        }
        if !(from as usize).is_multiple_of(ERASE)
            || !(to as usize).is_multiple_of(ERASE)
            || to < from
        {
            return Err(FlashError::OutOfBounds);
        }
        let range = self.range(from, (to - from) as usize)?;
        for i in range {
            if !self.spend() {
                return Err(FlashError::PowerCut);
            }
            self.mem[i] = 0xFF;
        }
        self.erases += u64::from((to - from) / ERASE as u32);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        if self.dead {
            return Err(FlashError::PowerCut);
        }
        let range = self.range(offset, bytes.len())?;
        for (i, &b) in range.zip(bytes) {
            if !self.spend() {
                // Half the bits of the byte in flight made it.
                self.mem[i] &= b | 0xF0;
                return Err(FlashError::PowerCut);
            }
            if self.mem[i] != 0xFF && b != 0xFF {
                self.overwrites += 1;
            }
            self.mem[i] &= b;
            self.programmed += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programming_only_clears_bits_and_a_cut_leaves_a_half_byte() {
        let mut f = FakeFlash::<512, 256>::new();
        f.write(0, &[0x0F, 0xF0]).unwrap();
        f.write(0, &[0xF3]).unwrap();
        assert_eq!(f.bytes()[..2], [0x03, 0xF0]);
        assert_eq!(f.overwrites, 1);
        f.cut_power_after(2);
        assert_eq!(
            f.write(10, &[0x00, 0x00, 0x00, 0x00]),
            Err(FlashError::PowerCut)
        );
        assert_eq!(f.bytes()[10..14], [0x00, 0x00, 0xF0, 0xFF]);
        assert_eq!(f.read(0, &mut [0; 1]), Err(FlashError::PowerCut));
        f.power_on();
        f.write(200, &[0x00]).unwrap();
        f.cut_power_after(100);
        assert_eq!(f.erase(0, 256), Err(FlashError::PowerCut));
        f.power_on();
        assert_eq!(f.bytes()[..14], [0xFF; 14], "erased up to the cut");
        assert_eq!(f.bytes()[200], 0x00, "not reached by the cut erase");
    }
}
