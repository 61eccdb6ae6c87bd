//! Encrypted user metadata (§14.4): attributes with `"state": "enc"` carry base64 of RSA
//! ciphertext made with the programmer's certificate. They are decrypted with the primary
//! private key, then the backup (so a certificate can be rotated without user impact).
//! The padding is PKCS#1 v1.5 (the documents imply it without saying so). Keys are read
//! unencrypted: one protected by a passphrase is refused with how to decrypt it.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use rsa::{
    pkcs1::DecodeRsaPrivateKey as _, pkcs8::DecodePrivateKey as _, Pkcs1v15Encrypt, RsaPrivateKey,
};

use super::types::{Attribute, AttributeState, Profile};

/// Why metadata could not be decrypted. Never contains key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// A private key is not a PEM RSA key (PKCS#8 or PKCS#1).
    #[error("the {which} private key is not a PEM RSA private key")]
    InvalidKey {
        /// `primary` or `backup`.
        which: &'static str,
    },
    /// A private key is protected by a passphrase, as Adobe's procedure makes it
    /// (`openssl genrsa -des3`); the service reads only unencrypted keys.
    #[error(
        "the {which} private key is encrypted with a passphrase; decrypt it once with \
         `openssl rsa -in key.pem -out key-decrypted.pem` and give the decrypted file"
    )]
    EncryptedKey {
        /// `primary` or `backup`.
        which: &'static str,
    },
    /// An encrypted value is not a base64 string.
    #[error("attribute {attribute}: the encrypted value is not base64 text")]
    NotBase64 {
        /// The attribute name.
        attribute: String,
    },
    /// Neither key decrypts the value: the certificate configured at Adobe matches neither.
    #[error(
        "attribute {attribute}: neither the primary nor the backup private key decrypts it; \
         check the certificates configured in the TVE Dashboard"
    )]
    NoKeyFits {
        /// The attribute name.
        attribute: String,
    },
}

/// The programmer's private keys for user metadata.
pub struct MetadataKeys {
    primary: RsaPrivateKey,
    backup: Option<RsaPrivateKey>,
}

impl std::fmt::Debug for MetadataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataKeys")
            .field("primary", &"<redacted>")
            .field("backup", &self.backup.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl MetadataKeys {
    /// Reads the primary and optional backup keys from PEM (PKCS#8 or PKCS#1).
    pub fn from_pem(primary: &str, backup: Option<&str>) -> Result<Self, MetadataError> {
        Ok(Self {
            primary: parse_key(primary, "primary")?,
            backup: backup.map(|pem| parse_key(pem, "backup")).transpose()?,
        })
    }

    /// Decrypts one value: base64, then RSA with the primary key, then with the backup.
    pub fn decrypt(&self, attribute: &str, value: &str) -> Result<String, MetadataError> {
        let ciphertext = STANDARD
            .decode(value.trim())
            .map_err(|_| MetadataError::NotBase64 {
                attribute: attribute.to_owned(),
            })?;
        std::iter::once(&self.primary)
            .chain(self.backup.as_ref())
            .find_map(|key| key.decrypt(Pkcs1v15Encrypt, &ciphertext).ok())
            .and_then(|plain| String::from_utf8(plain).ok())
            .ok_or_else(|| MetadataError::NoKeyFits {
                attribute: attribute.to_owned(),
            })
    }

    /// One `enc` attribute decrypted and marked `plain`. A plaintext that is a JSON array or
    /// object (a list of zip codes, of ratings) becomes that value; anything else stays a
    /// string, so zip codes keep their leading zeros.
    pub fn decrypt_attribute(
        &self,
        name: &str,
        attribute: &Attribute,
    ) -> Result<Attribute, MetadataError> {
        let serde_json::Value::String(ciphertext) = &attribute.value else {
            return Err(MetadataError::NotBase64 {
                attribute: name.to_owned(),
            });
        };
        let plain = self.decrypt(name, ciphertext)?;
        let value = match plain.trim_start().chars().next() {
            Some('[' | '{') => {
                serde_json::from_str(&plain).unwrap_or(serde_json::Value::String(plain))
            }
            _ => serde_json::Value::String(plain),
        };
        Ok(Attribute {
            value,
            state: AttributeState::Plain,
            error: attribute.error.clone(),
        })
    }

    /// The profile with every `enc` attribute decrypted and marked `plain`; fails on the first
    /// that cannot be.
    pub fn decrypt_profile(&self, profile: &Profile) -> Result<Profile, MetadataError> {
        let mut decrypted = profile.clone();
        for (name, attribute) in &mut decrypted.attributes {
            if attribute.state == AttributeState::Enc {
                *attribute = self.decrypt_attribute(name, attribute)?;
            }
        }
        Ok(decrypted)
    }

    /// The PEM public key (`PUBLIC KEY`) of the primary key: the certificate's key to give
    /// Adobe (or an emulator).
    pub fn primary_public_key_pem(&self) -> Option<String> {
        use rsa::pkcs8::EncodePublicKey as _;
        rsa::RsaPublicKey::from(&self.primary)
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .ok()
    }
}

fn parse_key(pem: &str, which: &'static str) -> Result<RsaPrivateKey, MetadataError> {
    // PKCS#8 `ENCRYPTED PRIVATE KEY` (OpenSSL 3) or a legacy PEM with `Proc-Type: 4,ENCRYPTED`
    // (`openssl genrsa -des3` before OpenSSL 3).
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || pem.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(MetadataError::EncryptedKey { which });
    }
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| MetadataError::InvalidKey { which })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adobe's procedure (`user-metadata.md`) makes a DES3-encrypted key: refused at start-up
    /// with the command that decrypts it, for either PEM form.
    #[test]
    fn an_encrypted_key_is_refused_with_how_to_decrypt_it() {
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                      DEK-Info: DES-EDE3-CBC,0123456789ABCDEF\n\nAAAA\n\
                      -----END RSA PRIVATE KEY-----\n";
        let pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n\
                     -----END ENCRYPTED PRIVATE KEY-----\n";
        for pem in [legacy, pkcs8] {
            let error = MetadataKeys::from_pem(pem, None).expect_err("encrypted");
            assert!(
                matches!(error, MetadataError::EncryptedKey { which: "primary" }),
                "{error}"
            );
            assert!(error.to_string().contains("openssl rsa -in"), "{error}");
        }
        let error = MetadataKeys::from_pem("nope", Some(pkcs8)).expect_err("invalid primary");
        assert!(matches!(
            error,
            MetadataError::InvalidKey { which: "primary" }
        ));
    }
}
