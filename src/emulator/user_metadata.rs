//! User metadata in profiles (§8.1), with `zip` (and any other configured attribute, such as
//! `maxRating`) encrypted for the programmer (§14.4).
//!
//! With a programmer public key configured, each such attribute is RSA-encrypted (PKCS#1 v1.5)
//! and base64-encoded, with `"state": "enc"`, as Adobe does with the programmer's
//! certificate: `zip` as its text, other values as their JSON (a string as itself). Without
//! a key they are sent plain (`zip` as a string array, the shape Adobe uses for unencrypted
//! `zip`), so a programmer service without a key still works.

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD, Engine};
use rsa::{pkcs1::DecodeRsaPublicKey, pkcs8::DecodePublicKey, Pkcs1v15Encrypt, RsaPublicKey};

use crate::emulator::{dataset::Account, responses::Attribute};

/// A programmer key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the programmer public key is neither a PEM \"PUBLIC KEY\" nor \"RSA PUBLIC KEY\"")]
pub struct KeyError;

/// Parses a PEM RSA public key (SubjectPublicKeyInfo or PKCS#1).
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, KeyError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError)
}

/// How user metadata is encrypted for the programmer.
#[derive(Clone, Debug)]
pub struct Encryption {
    /// The programmer's public key.
    pub key: RsaPublicKey,
    /// The attributes it encrypts.
    pub attributes: Vec<String>,
}

impl Encryption {
    /// `plaintext` encrypted as an `enc` attribute, or `None` when it is too long for the key.
    fn encrypt(&self, plaintext: &str) -> Option<Attribute> {
        self.key
            .encrypt(
                &mut rsa::rand_core::OsRng,
                Pkcs1v15Encrypt,
                plaintext.as_bytes(),
            )
            .ok()
            .map(|cipher| Attribute {
                value: STANDARD.encode(cipher).into(),
                state: "enc".to_owned(),
            })
    }
}

/// The profile attributes for an account on an MVPD.
pub fn attributes(
    account: &Account,
    mvpd: &str,
    encryption: Option<&Encryption>,
) -> BTreeMap<String, Attribute> {
    let mut attributes: BTreeMap<String, Attribute> = account
        .attributes
        .iter()
        .map(|(name, value)| (name.clone(), Attribute::plain(value.clone())))
        .collect();
    attributes.insert(
        "userID".to_owned(),
        Attribute::plain(format!("{mvpd}-{}", account.username)),
    );
    attributes.insert(
        "householdID".to_owned(),
        Attribute::plain(format!("{mvpd}-household-{}", account.username)),
    );
    attributes.insert(
        "zip".to_owned(),
        Attribute::plain(vec![account.zip.clone()]),
    );
    if let Some(encryption) = encryption {
        for name in &encryption.attributes {
            let plaintext = match (name.as_str(), attributes.get(name)) {
                ("zip", _) => account.zip.clone(),
                (
                    _,
                    Some(Attribute {
                        value: serde_json::Value::String(text),
                        ..
                    }),
                ) => text.clone(),
                (_, Some(attribute)) => attribute.value.to_string(),
                (_, None) => continue,
            };
            if let Some(encrypted) = encryption.encrypt(&plaintext) {
                attributes.insert(name.clone(), encrypted);
            }
        }
    }
    attributes
}
