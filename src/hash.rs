//! The SHA-256 every ledger keeps of the files it records (imports, fleet
//! lists, dumps, Parquet files, quarantine), as lowercase hex.

use sha2::Digest;

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A writer that hashes what it passes on: a file written in parts gets
/// its SHA-256 without being held whole in memory.
pub struct HashingWriter<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: std::io::Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: sha2::Sha256::new(),
        }
    }

    /// The writer back and the SHA-256 (lowercase hex) of all written.
    pub fn finish(self) -> (W, String) {
        let d = self.hash.finalize();
        (self.inner, d.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    #[test]
    fn hashing_in_parts_is_hashing_the_whole() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = super::HashingWriter::new(Vec::new());
        for part in bytes.chunks(333) {
            w.write_all(part).unwrap();
        }
        let (out, hex) = w.finish();
        assert_eq!(out, bytes);
        assert_eq!(hex, super::sha256_hex(&bytes));
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
