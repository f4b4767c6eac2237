//! NOR flash kept in a file, so a simulated validator keeps its log and
//! settings between runs, as a real one keeps them through power cycles.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

pub const SECTOR: usize = 4096;

#[derive(Debug)]
pub struct FileFlashError(pub std::io::Error);

impl NorFlashError for FileFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

pub struct FileFlash {
    file: Option<File>,
    mem: Vec<u8>,
}

impl FileFlash {
    /// An erased flash that lives only in memory.
    pub fn memory(size: usize) -> FileFlash {
        FileFlash {
            file: None,
            mem: vec![0xFF; size],
        }
    }

    fn persist(&self, start: usize, len: usize) -> Result<(), FileFlashError> {
        match &self.file {
            Some(f) => f
                .write_all_at(&self.mem[start..start + len], start as u64)
                .map_err(FileFlashError),
            None => Ok(()),
        }
    }

    /// Opens `path`, creating an erased flash of `size` bytes when it is
    /// missing. An existing file of another size is refused.
    pub fn open(path: &Path, size: usize) -> Result<FileFlash, String> {
        let fresh = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("cannot open flash image {}: {e}", path.display()))?;
        let mem = if fresh {
            let mem = vec![0xFF; size];
            file.write_all_at(&mem, 0)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            mem
        } else {
            let mut mem = vec![0; file.metadata().map_err(|e| e.to_string())?.len() as usize];
            file.read_exact_at(&mut mem, 0)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if mem.len() != size {
                return Err(format!(
                    "flash image {} holds {} bytes, not {size}; use the same --log-kib as before or another --state folder",
                    path.display(),
                    mem.len()
                ));
            }
            mem
        };
        Ok(FileFlash {
            file: Some(file),
            mem,
        })
    }
}

impl ErrorType for FileFlash {
    type Error = FileFlashError;
}

impl ReadNorFlash for FileFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let start = offset as usize;
        let src = self
            .mem
            .get(start..start + bytes.len())
            .ok_or_else(out_of_bounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

fn out_of_bounds() -> FileFlashError {
    FileFlashError(std::io::Error::other("out of bounds"))
}

impl NorFlash for FileFlash {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = SECTOR;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let range = self
            .mem
            .get_mut(from as usize..to as usize)
            .ok_or_else(out_of_bounds)?;
        range.fill(0xFF);
        self.persist(from as usize, (to - from) as usize)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let start = offset as usize;
        let range = self
            .mem
            .get_mut(start..start + bytes.len())
            .ok_or_else(out_of_bounds)?;
        for (m, b) in range.iter_mut().zip(bytes) {
            *m &= b;
        }
        self.persist(start, bytes.len())
    }
}
