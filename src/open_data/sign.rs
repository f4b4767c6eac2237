//! The city's publication key (K6): an Ed25519 key that signs every
//! release's manifest, so anyone holding the public half (published on the
//! city's site) can tell a release is the city's and that no byte of it
//! changed. The secret half is a file of the home's, mode 600, made at the
//! first release; its public half is written beside it as `.pub`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;

use super::Error;

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The `.pub` file beside a secret key file.
pub fn public_path(secret: &Path) -> PathBuf {
    secret.with_extension("pub")
}

/// The publication key at `path`; made (with its `.pub`) when there is
/// none. Returns the key and whether it is new.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), Error> {
    let bad = |why: String| Error::Key {
        path: path.to_path_buf(),
        why,
    };
    if !path.exists() {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let key = SigningKey::from_bytes(&seed);
        crate::private::create_secret(path, format!("{}\n", hex(&seed)).as_bytes())
            .map_err(|e| bad(format!("cannot create it ({e})")))?;
        crate::private::write_mode(
            &public_path(path),
            format!("{}\n", hex(key.verifying_key().as_bytes())).as_bytes(),
            crate::private::Mode::Public,
        )
        .map_err(|e| bad(format!("cannot write its public half ({e})")))?;
        return Ok((key, true));
    }
    let mode = std::fs::metadata(path)
        .map_err(|e| bad(format!("cannot read it ({e})")))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "it is readable by others (mode {mode:o}): anyone could sign releases as the city. Run: chmod 600 {}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
    let seed: [u8; 32] = unhex(&text)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("expected 64 hex digits (a 32-byte Ed25519 key) on one line".into()))?;
    Ok((SigningKey::from_bytes(&seed), false))
}

/// The signature of `message`, as hex.
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    hex(&key.sign(message).to_bytes())
}

/// A public key given as a file holding 64 hex digits, or as the digits.
pub fn public_key(given: &str) -> Result<VerifyingKey, String> {
    let text = match std::fs::read_to_string(given) {
        Ok(t) => t,
        Err(_) if given.trim().len() == 64 => given.to_string(),
        Err(e) => {
            return Err(format!(
                "--key {given}: cannot read it ({e}); give the city's publication key file (.pub) or its 64 hex digits"
            ));
        }
    };
    let bytes: [u8; 32] = unhex(&text)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("--key {given}: expected 64 hex digits (an Ed25519 public key)"))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| format!("--key {given}: not a valid Ed25519 public key"))
}

/// Does `signature` (hex) sign `message` under `key`?
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Some(bytes) = unhex(signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&bytes)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_message_and_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/pub.key");
        let (key, new) = load_or_create(&path).unwrap();
        assert!(new);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (again, new) = load_or_create(&path).unwrap();
        assert!(!new);
        assert_eq!(key.to_bytes(), again.to_bytes());
        let public = public_key(public_path(&path).to_str().unwrap()).unwrap();
        let sig = sign(&key, b"manifest");
        assert!(verify(&public, b"manifest", &sig));
        assert!(!verify(&public, b"manifesT", &sig));
        let other = SigningKey::from_bytes(&[7u8; 32]);
        assert!(!verify(&other.verifying_key(), b"manifest", &sig));
        assert!(!verify(&public, b"manifest", "00"));
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
