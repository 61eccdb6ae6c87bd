//! Media token verification before a play is handed to the TV, in the manner of Adobe's Media
//! Token Verifier: a token is authentic (RSASSA-PKCS1-v1_5 with SHA-256 under the issuer's
//! public key), within its validity window and, when a resource is given, for that resource.
//! The outcomes mirror the verifier's statuses (`VALID_TOKEN`, `INVALID_TOKEN_FORMAT`,
//! `INVALID_SIGNATURE`, `TOKEN_EXPIRED`, `INVALID_RESOURCE_ID`).
//!
//! The format read is the one tve-activate's emulator issues (`src/emulator/media_token.rs`):
//! `base64url(payload JSON) "." base64url(signature of those bytes)`, no padding. Adobe's own
//! format is undocumented and Adobe advises against parsing it: its tokens are checked with
//! Adobe's library, not with this one.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rsa::{pkcs1::DecodeRsaPublicKey, pkcs8::DecodePublicKey, Pkcs1v15Sign, RsaPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// How far the service's clock may be from the issuer's: a token is taken from `notBefore`
/// minus this until `notAfter` plus this (30 s, against small clock drift between hosts).
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// Why a media token is not valid, one variant per status of Adobe's verifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaTokenError {
    /// `INVALID_TOKEN_FORMAT`: not a token this verifier can read.
    #[error("INVALID_TOKEN_FORMAT: the media token cannot be read")]
    InvalidFormat,
    /// `INVALID_SIGNATURE`: not signed by the key, or changed after signing.
    #[error("INVALID_SIGNATURE: the media token is not signed by the issuer's key")]
    InvalidSignature,
    /// `TOKEN_EXPIRED`: outside its validity window (with [`CLOCK_SKEW_MS`] either side).
    #[error(
        "TOKEN_EXPIRED: the media token is valid from {not_before} until {not_after} (epoch ms)"
    )]
    Expired {
        /// Valid from, epoch ms.
        not_before: i64,
        /// Valid until, epoch ms.
        not_after: i64,
    },
    /// `INVALID_RESOURCE_ID`: issued for another resource.
    #[error("INVALID_RESOURCE_ID: the media token is for another resource")]
    InvalidResource,
}

impl MediaTokenError {
    /// Adobe's status name for it, for logs.
    pub fn status(&self) -> &'static str {
        match self {
            Self::InvalidFormat => "INVALID_TOKEN_FORMAT",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::Expired { .. } => "TOKEN_EXPIRED",
            Self::InvalidResource => "INVALID_RESOURCE_ID",
        }
    }
}

/// The public key is not an RSA public key in PEM.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an RSA public key in PEM (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\")")]
pub struct MediaTokenKeyError;

/// What a valid media token says (`VALID_TOKEN`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedMediaToken {
    /// Who issued it.
    pub issuer: String,
    /// The service provider (requestor id) it was issued to.
    pub requestor: String,
    /// The MVPD that authorized the play.
    pub mvpd: String,
    /// The resource it is for.
    pub resource: String,
    /// Valid from, epoch ms.
    pub not_before: i64,
    /// Valid until, epoch ms.
    pub not_after: i64,
    /// Makes each token unique.
    pub nonce: String,
}

/// Checks media tokens with the issuer's RSA public key.
#[derive(Clone)]
pub struct MediaTokenVerifier {
    key: RsaPublicKey,
}

impl std::fmt::Debug for MediaTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaTokenVerifier").finish_non_exhaustive()
    }
}

impl MediaTokenVerifier {
    /// A verifier for the RSA public key in `pem`: SubjectPublicKeyInfo (`PUBLIC KEY`) or
    /// PKCS#1 (`RSA PUBLIC KEY`); text before the PEM block is ignored.
    pub fn from_pem(pem: &str) -> Result<Self, MediaTokenKeyError> {
        let pem = pem.trim();
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|_| MediaTokenKeyError)?;
        Ok(Self { key })
    }

    /// Checks `token` at `now_ms`: its signature, its validity window and, unless `resource`
    /// is `None` (then only authenticity and the window count, as Adobe's `isValid(null)`),
    /// that it is for `resource`.
    pub fn verify(
        &self,
        token: &str,
        resource: Option<&str>,
        now_ms: i64,
    ) -> Result<VerifiedMediaToken, MediaTokenError> {
        let (payload, signature) = token
            .trim()
            .split_once('.')
            .ok_or(MediaTokenError::InvalidFormat)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| MediaTokenError::InvalidFormat)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| MediaTokenError::InvalidFormat)?;
        // Authenticity first: nothing unsigned is read. RSASSA-PKCS1-v1_5 with SHA-256.
        self.key
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&payload),
                &signature,
            )
            .map_err(|_| MediaTokenError::InvalidSignature)?;
        let claims: VerifiedMediaToken =
            serde_json::from_slice(&payload).map_err(|_| MediaTokenError::InvalidFormat)?;
        let from = claims.not_before.saturating_sub(CLOCK_SKEW_MS);
        let until = claims.not_after.saturating_add(CLOCK_SKEW_MS);
        if !(from..=until).contains(&now_ms) {
            return Err(MediaTokenError::Expired {
                not_before: claims.not_before,
                not_after: claims.not_after,
            });
        }
        if resource.is_some_and(|asked| asked != claims.resource) {
            return Err(MediaTokenError::InvalidResource);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use rsa::{pkcs1::EncodeRsaPublicKey, pkcs8::LineEnding};

    use super::*;
    use crate::emulator::media_token as issued;

    /// Another RSA key: the test programmer key of the metadata tests, never the issuer's.
    const OTHER_KEY: &str = include_str!("../../tests/adobe_pass_support/keys/primary.pub.pem");
    const NOW: i64 = 1_700_000_000_000;

    fn verifier() -> MediaTokenVerifier {
        MediaTokenVerifier::from_pem(&issued::public_key_pem().expect("test key")).expect("SPKI")
    }

    fn claims(resource: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": "adobe-pass-emulator", "requestor": "REF30", "mvpd": "Cablevision",
            "resource": resource, "notBefore": NOW, "notAfter": NOW + 420_000,
            "nonce": "5c6d1a2e"
        })
    }

    fn token(claims: &serde_json::Value) -> String {
        issued::sign(claims.to_string().as_bytes())
    }

    #[test]
    fn a_token_of_the_issuer_for_the_resource_in_its_window_is_valid() {
        let verified = verifier()
            .verify(&token(&claims("REF30")), Some("REF30"), NOW + 1000)
            .expect("VALID_TOKEN");
        assert_eq!(verified.resource, "REF30");
        assert_eq!(verified.mvpd, "Cablevision");
        assert_eq!(verified.not_after, NOW + 420_000);
    }

    #[test]
    fn without_a_resource_only_authenticity_and_the_window_count() {
        let token = token(&claims("REF30"));
        assert!(verifier().verify(&token, None, NOW).is_ok());
        assert_eq!(
            verifier().verify(&token, Some("news"), NOW),
            Err(MediaTokenError::InvalidResource)
        );
    }

    #[test]
    fn unreadable_tokens_are_invalid_format() {
        let v = verifier();
        for bad in ["", "no-dot", "not base64!.abc", "e30.not base64!"] {
            assert_eq!(
                v.verify(bad, None, NOW),
                Err(MediaTokenError::InvalidFormat),
                "{bad:?}"
            );
        }
        let signed_garbage = issued::sign(b"not json");
        assert_eq!(
            v.verify(&signed_garbage, None, NOW),
            Err(MediaTokenError::InvalidFormat)
        );
        assert_eq!(
            MediaTokenError::InvalidFormat.status(),
            "INVALID_TOKEN_FORMAT"
        );
    }

    #[test]
    fn a_token_changed_after_signing_has_an_invalid_signature() {
        let token = token(&claims("REF30"));
        let forged = issued::forge(&token);
        assert_eq!(
            verifier().verify(&forged, Some("REF30"), NOW),
            Err(MediaTokenError::InvalidSignature)
        );
        let (_, signature) = token.split_once('.').expect("two parts");
        let other_resource = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(claims("premium-sports").to_string())
        );
        assert_eq!(
            verifier().verify(&other_resource, Some("premium-sports"), NOW),
            Err(MediaTokenError::InvalidSignature)
        );
        let unsigned = format!("{}.", URL_SAFE_NO_PAD.encode(claims("REF30").to_string()));
        assert_eq!(
            verifier().verify(&unsigned, None, NOW),
            Err(MediaTokenError::InvalidSignature)
        );
    }

    #[test]
    fn a_token_checked_with_another_key_has_an_invalid_signature() {
        let other = MediaTokenVerifier::from_pem(OTHER_KEY).expect("SPKI");
        assert_eq!(
            other.verify(&token(&claims("REF30")), Some("REF30"), NOW),
            Err(MediaTokenError::InvalidSignature)
        );
        assert_eq!(
            MediaTokenError::InvalidSignature.status(),
            "INVALID_SIGNATURE"
        );
    }

    #[test]
    fn outside_the_window_and_its_skew_a_token_is_expired() {
        let token = token(&claims("REF30"));
        let v = verifier();
        let not_after = NOW + 420_000;
        assert!(v.verify(&token, None, NOW - CLOCK_SKEW_MS).is_ok());
        assert!(v.verify(&token, None, not_after + CLOCK_SKEW_MS).is_ok());
        for late_or_early in [NOW - CLOCK_SKEW_MS - 1, not_after + CLOCK_SKEW_MS + 1] {
            let error = v
                .verify(&token, Some("REF30"), late_or_early)
                .expect_err("expired");
            assert_eq!(
                error,
                MediaTokenError::Expired {
                    not_before: NOW,
                    not_after
                }
            );
            assert_eq!(error.status(), "TOKEN_EXPIRED");
        }
    }

    #[test]
    fn keys_are_read_as_spki_or_pkcs1_pem() {
        let spki = issued::public_key_pem().expect("test key");
        let key = RsaPublicKey::from_public_key_pem(&spki).expect("SPKI");
        let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).expect("PKCS#1");
        let v = MediaTokenVerifier::from_pem(&pkcs1).expect("PKCS#1 accepted");
        assert!(v.verify(&token(&claims("REF30")), None, NOW).is_ok());
        let with_preamble = format!("The emulator's test key\n{spki}");
        assert!(MediaTokenVerifier::from_pem(&with_preamble).is_ok());
        assert_eq!(
            MediaTokenVerifier::from_pem("not a key").map(|_| ()),
            Err(MediaTokenKeyError)
        );
        assert_eq!(
            MediaTokenError::InvalidResource.status(),
            "INVALID_RESOURCE_ID"
        );
    }
}
