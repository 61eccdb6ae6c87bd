//! Sealing secrets at rest: XChaCha20-Poly1305 with a 32-byte key that is configured (one key
//! file shared by every node) or, for the embedded default, generated once into a file beside
//! the database (readable by its owner only).
//!
//! A sealed value names the key that sealed it (`tvs2`, an 8-byte key id, the nonce, the
//! ciphertext), so a new key can take over while rows sealed with an old one still open; and it
//! is bound to its row (the device id is the associated data), so sealed values cannot be moved
//! between rows. Values sealed before key ids (nonce and ciphertext only, no associated data)
//! still open.

use std::{io::Write, path::Path};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 24;
/// What a sealed value with a key id starts with.
const MAGIC: &[u8; 4] = b"tvs2";
const KEY_ID_LEN: usize = 8;

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

/// A key that seals secrets in the store, with its id; never printed.
#[derive(Clone)]
pub struct SealingKey {
    cipher: XChaCha20Poly1305,
    id: [u8; KEY_ID_LEN],
    /// The HMAC key of pseudonyms, derived from the raw key (never the sealing key itself).
    pseudonym_key: [u8; 32],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({}, <redacted>)", self.id_hex())
    }
}

impl SealingKey {
    fn from_raw(raw: &[u8]) -> Result<Self, SealingError> {
        let cipher = XChaCha20Poly1305::new_from_slice(raw).map_err(|_| SealingError::BadKey)?;
        let digest = Sha256::digest(raw);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        let mut derive = Sha256::new();
        derive.update(b"tve-activate pseudonyms\0");
        derive.update(raw);
        Ok(Self {
            cipher,
            id,
            pseudonym_key: derive.finalize().into(),
        })
    }

    /// A new random key.
    pub fn generate() -> Self {
        let raw = XChaCha20Poly1305::generate_key(&mut OsRng);
        Self::from_raw(&raw).unwrap_or_else(|_| unreachable!("a generated key has the right size"))
    }

    /// A key from its base64 form.
    pub fn from_base64(encoded: &str) -> Result<Self, SealingError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SealingError::BadKey)?;
        Self::from_raw(&bytes)
    }

    /// Reads a key file (the key in base64); it must exist.
    pub fn load(path: &Path) -> Result<Self, SealingError> {
        let encoded = std::fs::read_to_string(path).map_err(|source| SealingError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        warn_if_others_can_read(path);
        Self::from_base64(&encoded)
    }

    /// The key's id (the start of its SHA-256), in hex: safe to log.
    pub fn id_hex(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads the key from `path`, or creates the file with a new key (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<Self, SealingError> {
        let key_file = |source| SealingError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(encoded) => {
                warn_if_others_can_read(path);
                Self::from_base64(&encoded)
            }
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
                Self::from_raw(&raw)
            }
            Err(err) => Err(key_file(err)),
        }
    }

    fn seal(&self, plain: &[u8], row: &[u8]) -> Result<Vec<u8>, SealingError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: row,
                },
            )
            .map_err(|_| SealingError::Unsealable)?;
        let mut sealed =
            Vec::with_capacity(MAGIC.len() + KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(&self.id);
        sealed.extend_from_slice(&nonce);
        sealed.extend(ciphertext);
        Ok(sealed)
    }

    fn open(&self, nonce_and_ciphertext: &[u8], row: &[u8]) -> Option<Vec<u8>> {
        if nonce_and_ciphertext.len() < NONCE_LEN {
            return None;
        }
        let (nonce, msg) = nonce_and_ciphertext.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg, aad: row })
            .ok()
    }
}

/// The keys a store seals and opens with: the current one seals; it and the old ones open.
#[derive(Clone, Debug)]
pub struct SealingKeys {
    current: SealingKey,
    old: Vec<SealingKey>,
}

impl SealingKeys {
    /// `current` seals and opens; `old` keys only open what they sealed.
    pub fn new(current: SealingKey, old: Vec<SealingKey>) -> Self {
        Self { current, old }
    }

    /// Seals `plain` for the row `row` (its key): only that row's `open` gets it back.
    pub fn seal(&self, plain: &[u8], row: &str) -> Result<Vec<u8>, SealingError> {
        self.current.seal(plain, row.as_bytes())
    }

    /// A pseudonym of `value`: HMAC-SHA256 under a subkey of the current key, in hex. The same
    /// value gives the same pseudonym while the current key stays; nobody without the key can
    /// compute it or tell which value it stands for.
    pub fn pseudonym(&self, value: &[u8]) -> String {
        pseudonym(&self.current.pseudonym_key, value)
    }

    /// Opens what [`SealingKeys::seal`] sealed for `row`, with whichever known key sealed it
    /// (or a value sealed before key ids, with any known key).
    pub fn open(&self, sealed: &[u8], row: &str) -> Result<Vec<u8>, SealingError> {
        let keys = || std::iter::once(&self.current).chain(&self.old);
        let tagged = sealed
            .strip_prefix(MAGIC.as_slice())
            .filter(|rest| rest.len() >= KEY_ID_LEN + NONCE_LEN);
        if let Some(rest) = tagged {
            let (id, rest) = rest.split_at(KEY_ID_LEN);
            if let Some(key) = keys().find(|key| key.id == id) {
                if let Some(plain) = key.open(rest, row.as_bytes()) {
                    return Ok(plain);
                }
            }
        }
        keys()
            .find_map(|key| key.open(sealed, &[]))
            .ok_or(SealingError::Unsealable)
    }
}

/// HMAC-SHA256 of `value` under `key`, in hex.
pub(super) fn pseudonym(key: &[u8; 32], value: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(value);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl From<SealingKey> for SealingKeys {
    fn from(current: SealingKey) -> Self {
        Self::new(current, Vec::new())
    }
}

/// Whether users other than the file's owner may read it (group or others; security review,
/// finding 19). Unknown (not unix, or unreadable metadata) counts as no.
fn others_can_read(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Logs a warning when a key file is readable by others than its owner.
pub fn warn_if_others_can_read(path: &Path) {
    if others_can_read(path) {
        tracing::warn!(
            file = %path.display(),
            "a key file is readable by its group or others: chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let keys = SealingKeys::from(SealingKey::generate());
        let sealed = keys.seal(b"client secret", "tv-1").expect("seals");
        assert!(
            !sealed.windows(6).any(|w| w == b"client"),
            "not in the clear"
        );
        assert_eq!(keys.open(&sealed, "tv-1").expect("opens"), b"client secret");
        assert!(SealingKeys::from(SealingKey::generate())
            .open(&sealed, "tv-1")
            .is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(keys.open(&tampered, "tv-1").is_err());
        assert!(keys.open(b"short", "tv-1").is_err());
    }

    #[test]
    fn sealed_values_cannot_move_between_rows() {
        let keys = SealingKeys::from(SealingKey::generate());
        let sealed = keys.seal(b"client secret", "tv-1").expect("seals");
        assert!(keys.open(&sealed, "tv-2").is_err());
    }

    #[test]
    fn a_new_key_takes_over_and_old_rows_still_open() {
        let old = SealingKey::generate();
        let sealed_before = SealingKeys::from(old.clone())
            .seal(b"old secret", "tv-1")
            .expect("seals");
        let new = SealingKey::generate();
        let rotated = SealingKeys::new(new.clone(), vec![old]);
        assert_eq!(
            rotated.open(&sealed_before, "tv-1").expect("opens"),
            b"old secret"
        );
        let sealed_after = rotated.seal(b"new secret", "tv-2").expect("seals");
        assert_eq!(
            &sealed_after[4..12],
            &new.id,
            "names the key that sealed it"
        );
        assert!(
            SealingKeys::from(new).open(&sealed_before, "tv-1").is_err(),
            "without the old key the old row stays shut"
        );
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        let key = SealingKey::generate();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut legacy = nonce.to_vec();
        legacy.extend(
            key.cipher
                .encrypt(&nonce, b"legacy".as_slice())
                .expect("seals"),
        );
        assert_eq!(
            SealingKeys::from(key)
                .open(&legacy, "any row")
                .expect("opens"),
            b"legacy"
        );
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data/store.key");
        let first = SealingKeys::from(SealingKey::load_or_create(&path).expect("created"));
        let sealed = first.seal(b"kept", "tv").expect("seals");
        let second = SealingKeys::from(SealingKey::load(&path).expect("read back"));
        assert_eq!(second.open(&sealed, "tv").expect("opens"), b"kept");
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

    #[cfg(unix)]
    #[test]
    fn key_files_readable_by_others_are_told_apart() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("key");
        SealingKey::load_or_create(&path).expect("created");
        assert!(!others_can_read(&path), "created 0600");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(others_can_read(&path));
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_between_keys() {
        let key = SealingKey::generate();
        let keys = SealingKeys::from(key.clone());
        let again = SealingKeys::new(key, vec![SealingKey::generate()]);
        let pseudonym = keys.pseudonym(b"roku-1");
        assert_eq!(pseudonym.len(), 64);
        assert_eq!(again.pseudonym(b"roku-1"), pseudonym, "stable for one key");
        assert_ne!(keys.pseudonym(b"roku-2"), pseudonym);
        assert_ne!(
            SealingKeys::from(SealingKey::generate()).pseudonym(b"roku-1"),
            pseudonym,
            "another deployment, another pseudonym"
        );
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
