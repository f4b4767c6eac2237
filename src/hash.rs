//! The SHA-256 every ledger keeps of the files it records (imports, fleet
//! lists, dumps, Parquet files, quarantine), as lowercase hex.

use sha2::Digest;

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
