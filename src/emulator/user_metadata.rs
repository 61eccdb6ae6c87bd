//! User metadata in profiles (§8.1), with `zip` encrypted for the programmer (§14.4).
//!
//! With a programmer public key configured, `zip` is RSA-encrypted (PKCS#1 v1.5) and
//! base64-encoded, with `"state": "enc"`, as Adobe does with the programmer's certificate.
//! Without one, `zip` is sent as a plain string array (`"state": "plain"`), the shape Adobe
//! uses for unencrypted `zip`, so a programmer service without a key still works.

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

/// The profile attributes for an account on an MVPD.
pub fn attributes(
    account: &Account,
    mvpd: &str,
    key: Option<&RsaPublicKey>,
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
    let zip = key
        .and_then(|key| {
            key.encrypt(
                &mut rsa::rand_core::OsRng,
                Pkcs1v15Encrypt,
                account.zip.as_bytes(),
            )
            .ok()
        })
        .map(|cipher| Attribute {
            value: STANDARD.encode(cipher).into(),
            state: "enc".to_owned(),
        })
        .unwrap_or_else(|| Attribute::plain(vec![account.zip.clone()]));
    attributes.insert("zip".to_owned(), zip);
    attributes
}
