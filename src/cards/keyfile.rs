//! The card master key: 16 bytes as 32 hex digits in a file named by
//! kartka.toml, readable by its owner only. Every card's sector keys are
//! derived from it and the card's UID (`kartka_protocol::card::keys`). The
//! key is never stored in the registry nor printed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kartka_protocol::card::keys::MasterKey;
use rand::RngCore;

use super::Error;

/// Reads the key, refusing a file that group or others can read.
pub fn read(path: &Path) -> Result<MasterKey, Error> {
    let bad = |why: String| Error::Key {
        path: path.to_path_buf(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        bad(format!(
            "cannot read it ({e}); `kartka init` creates a new key, or copy the city's key there (mode 600)"
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "it is readable by others (mode {mode:o}); the card keys would leak. Run: chmod 600 {}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
    let hex = text.trim();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "expected 32 hex digits (a 16-byte key) on one line".into()
        ));
    }
    let mut key = [0u8; 16];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex");
    }
    Ok(key)
}

/// Creates a new random key at `path` (mode 600) unless a file is there.
/// Returns whether it wrote one.
pub fn create_if_missing(path: &Path) -> Result<bool, Error> {
    if path.exists() {
        return Ok(false);
    }
    let fail = |e: std::io::Error| Error::Key {
        path: path.to_path_buf(),
        why: format!("cannot create it ({e})"),
    };
    let mut key = [0u8; 16];
    rand::rng().fill_bytes(&mut key);
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    crate::private::create_secret(path, format!("{hex}\n").as_bytes()).map_err(fail)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_reads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/card.key");
        assert!(create_if_missing(&path).unwrap());
        assert!(!create_if_missing(&path).unwrap(), "never overwritten");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let key = read(&path).unwrap();
        assert_ne!(key, [0; 16]);
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.key");
        std::fs::write(&path, "00112233445566778899aabbccddeeff\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("readable by others (mode 644)"), "{e}");
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&path).unwrap()[15], 0xff);
    }

    #[test]
    fn a_malformed_key_says_what_is_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.key");
        std::fs::write(&path, "not a key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("32 hex digits"), "{e}");
        let e = read(&dir.path().join("missing.key"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("kartka init"), "{e}");
    }
}
