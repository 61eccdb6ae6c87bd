//! Signed media tokens (§9.2; Adobe's media-tokens page: "a signed string based on PKI", signed
//! with SHA256WithRSA and checked with Adobe's public key). The emulator signs with a fixed TEST
//! key (`media_token_test_key.pem`, never Adobe's) and publishes its public half at
//! [`PUBLIC_KEY_PATH`], so a verifier can be built and tested.
//!
//! The format is the emulator's own, opaque to callers as Adobe's is:
//! `base64url(payload JSON) "." base64url(RSASSA-PKCS1-v1_5 SHA-256 signature of those bytes)`,
//! both without padding; the payload holds `issuer`, `requestor`, `mvpd`, `resource`,
//! `notBefore`, `notAfter` (epoch ms) and `nonce`.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, PoisonError},
};

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rsa::{
    pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding},
    Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey,
};
use sha2::{Digest, Sha256};

use crate::emulator::responses::{adobe_json, DecisionsResponse, MediaToken};

/// Where the emulator publishes the public key its media tokens verify with (SPKI PEM).
pub const PUBLIC_KEY_PATH: &str = "/__emulator/media-token/public-key.pem";

/// The emulator's TEST signing key (PKCS#8 PEM, with a preamble saying what it is).
const TEST_KEY_PEM: &str = include_str!("media_token_test_key.pem");

/// Largest decisions answer the forging fault reads.
const BODY_LIMIT: usize = 1 << 20;

/// RSASSA-PKCS1-v1_5 with SHA-256 (SHA256WithRSA) over a SHA-256 hash.
fn sha256_with_rsa() -> Pkcs1v15Sign {
    Pkcs1v15Sign::new::<Sha256>()
}

/// The emulator's media token key cannot be used (a broken build: the key is compiled in).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the emulator's media token test key is unusable: {0}")]
pub struct MediaTokenKeyError(String);

/// The signing key and its public half as SPKI PEM, parsed once per process.
struct TestKey {
    private: RsaPrivateKey,
    public_pem: String,
}

static TEST_KEY: LazyLock<Result<TestKey, MediaTokenKeyError>> = LazyLock::new(|| {
    let private = RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM)
        .map_err(|e| MediaTokenKeyError(e.to_string()))?;
    let public_pem = RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| MediaTokenKeyError(e.to_string()))?;
    Ok(TestKey {
        private,
        public_pem,
    })
});

fn test_key() -> Result<&'static TestKey, MediaTokenKeyError> {
    TEST_KEY.as_ref().map_err(Clone::clone)
}

/// Fails when the compiled-in test key cannot be used (checked at start-up).
pub fn check_key() -> Result<(), MediaTokenKeyError> {
    test_key().map(|_| ())
}

/// The public key media tokens verify with, as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn public_key_pem() -> Result<String, MediaTokenKeyError> {
    test_key().map(|key| key.public_pem.clone())
}

/// `payload` signed: `base64url(payload).base64url(signature)`. Without a usable key (never
/// after [`check_key`] passed) the signature is empty, so the token verifies nowhere.
pub fn sign(payload: &[u8]) -> String {
    let hashed = Sha256::digest(payload);
    let signature = test_key()
        .ok()
        .and_then(|key| {
            // Blinded, although the key is no secret.
            key.private
                .sign_with_rng(&mut rsa::rand_core::OsRng, sha256_with_rsa(), &hashed)
                .ok()
        })
        .unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// `token` with its payload changed after signing (`notAfter` a day later, the signature kept),
/// as a forged token would be; anything unreadable is returned as it is.
pub(crate) fn forge(token: &str) -> String {
    let Some((payload, signature)) = token.split_once('.') else {
        return token.to_owned();
    };
    let document = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let Some(mut document) = document else {
        return token.to_owned();
    };
    let later = document["notAfter"]
        .as_i64()
        .unwrap_or_default()
        .saturating_add(24 * 60 * 60 * 1000);
    document["notAfter"] = later.into();
    format!(
        "{}.{signature}",
        URL_SAFE_NO_PAD.encode(document.to_string())
    )
}

/// `GET /__emulator/media-token/public-key.pem`: the test public key, SPKI PEM.
pub async fn public_key() -> Response {
    match public_key_pem() {
        Ok(pem) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            )],
            pem,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The `forgedMediaToken` fault: D2 answers as usual, but every media token in them is forged
/// (see [`forge`]); other endpoints as usual.
pub async fn forged(request: Request, next: Next) -> Response {
    rewrite_tokens(request, next, |_, token| {
        token.serialized_token = forge(&token.serialized_token);
    })
    .await
}

/// The first media token issued for each resource under the `replayedMediaToken` fault.
#[derive(Debug, Default)]
pub struct Replays(Mutex<HashMap<String, MediaToken>>);

/// The `replayedMediaToken` fault: D2 answers as usual, but each resource's media token is the
/// first one issued for it under the fault, again and again, as a replayed answer carries;
/// other endpoints as usual.
pub async fn replayed(replays: &Replays, request: Request, next: Next) -> Response {
    rewrite_tokens(request, next, |resource, token| {
        let mut first = replays.0.lock().unwrap_or_else(PoisonError::into_inner);
        *token = first
            .entry(resource.to_owned())
            .or_insert_with(|| token.clone())
            .clone();
    })
    .await
}

/// D2's answer with `change` applied to each media token (and the resource it is for); other
/// endpoints as usual.
async fn rewrite_tokens(
    request: Request,
    next: Next,
    mut change: impl FnMut(&str, &mut MediaToken),
) -> Response {
    if !request.uri().path().contains("/decisions/authorize/") {
        return next.run(request).await;
    }
    let (parts, body) = next.run(request).await.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut answer) = serde_json::from_slice::<DecisionsResponse>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    for decision in &mut answer.decisions {
        if let Some(token) = decision.token.as_mut() {
            change(&decision.resource, token);
        }
    }
    adobe_json(parts.status, &answer)
}

#[cfg(test)]
mod tests {
    use rsa::pkcs8::DecodePublicKey;

    use super::*;

    fn verifies(token: &str) -> bool {
        let key =
            RsaPublicKey::from_public_key_pem(&public_key_pem().expect("key")).expect("SPKI PEM");
        let (payload, signature) = token.split_once('.').expect("two parts");
        let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        key.verify(sha256_with_rsa(), &Sha256::digest(payload), &signature)
            .is_ok()
    }

    #[test]
    fn the_test_key_is_a_2048_bit_rsa_key_published_as_spki() {
        check_key().expect("usable");
        let pem = public_key_pem().expect("public key");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let key = RsaPublicKey::from_public_key_pem(&pem).expect("SPKI");
        assert_eq!(rsa::traits::PublicKeyParts::size(&key), 256);
        assert!(TEST_KEY_PEM.starts_with("TEST KEY"), "says what it is");
    }

    #[test]
    fn tokens_are_signed_payloads_and_forging_breaks_the_signature() {
        let token = sign(br#"{"resource":"REF30","notAfter":1000}"#);
        assert!(!token.contains('='), "no padding: {token}");
        assert!(verifies(&token));
        let forged = forge(&token);
        assert_ne!(forged, token);
        assert_eq!(
            forged.split_once('.').map(|p| p.1),
            token.split_once('.').map(|p| p.1)
        );
        assert!(!verifies(&forged));
        assert_eq!(forge("opaque"), "opaque");
    }
}
