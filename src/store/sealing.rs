//! Sealing secrets at rest: XChaCha20-Poly1305 with a 32-byte key that is configured or
//! generated once into a file beside the database (readable by its owner only).

use std::{io::Write, path::Path};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    XChaCha20Poly1305, XNonce,
};

const NONCE_LEN: usize = 24;

/// Why a key could not be had or a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    /// The key file could not be read or written.
    #[error("store key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key is not 32 bytes of base64.
    #[error("the store key must be 32 bytes in base64")]
    BadKey,
    /// A sealed value was altered, truncated, or sealed with another key (or a value too
    /// large to seal).
    #[error("a sealed value cannot be opened with this store key")]
    Unsealable,
}

/// The key that seals secrets in the store; never printed.
#[derive(Clone)]
pub struct SealingKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(
            &mut OsRng,
        )))
    }

    /// A key from its base64 form.
    pub fn from_base64(encoded: &str) -> Result<Self, SealingError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SealingError::BadKey)?;
        XChaCha20Poly1305::new_from_slice(&bytes)
            .map(Self)
            .map_err(|_| SealingError::BadKey)
    }

    /// Reads the key from `path`, or creates the file with a new key (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<Self, SealingError> {
        let key_file = |source| SealingError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(encoded) => Self::from_base64(&encoded),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(key_file)?;
                }
                let raw = XChaCha20Poly1305::generate_key(&mut OsRng);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(key_file)?;
                file.write_all(STANDARD.encode(raw).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(key_file)?;
                Ok(Self(XChaCha20Poly1305::new(&raw)))
            }
            Err(err) => Err(key_file(err)),
        }
    }

    /// Seals `plain`: a random nonce followed by the ciphertext and tag.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, SealingError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .encrypt(&nonce, plain)
            .map_err(|_| SealingError::Unsealable)?;
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        Ok(sealed)
    }

    /// Opens what [`SealingKey::seal`] produced with the same key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealingError::Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| SealingError::Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"client secret").expect("seals");
        assert!(
            !sealed.windows(6).any(|w| w == b"client"),
            "not in the clear"
        );
        assert_eq!(key.open(&sealed).expect("opens"), b"client secret");
        assert!(SealingKey::generate().open(&sealed).is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(key.open(&tampered).is_err());
        assert!(key.open(b"short").is_err());
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data/store.key");
        let first = SealingKey::load_or_create(&path).expect("created");
        let sealed = first.seal(b"kept").expect("seals");
        let second = SealingKey::load_or_create(&path).expect("read back");
        assert_eq!(second.open(&sealed).expect("opens"), b"kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(matches!(
            SealingKey::from_base64("not base64!"),
            Err(SealingError::BadKey)
        ));
        assert!(matches!(
            SealingKey::from_base64(&STANDARD.encode([0u8; 16])),
            Err(SealingError::BadKey)
        ));
        assert!(SealingKey::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
