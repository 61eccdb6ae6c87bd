//! Playback tokens: what a CDN or packager checks before it serves a stream. With each permit
//! the TV gets, beside Adobe's media token, a JWT signed with EdDSA (Ed25519), valid for at most
//! [`PLAYBACK_TOKEN_LIFETIME`] and never past the media token's `notAfter`, bound to the device
//! (`sub`) and the resource; the public keys are at `GET /.well-known/jwks.json`.
//!
//! Keys rotate by themselves, once a UTC day. Each day's key is derived from a root the
//! deployment's secrets key gives (the store's pseudonym of a fixed label, as the site's form
//! key is), so every node that shares the secrets key signs with the same key and publishes the
//! same set, with nothing stored and nothing to coordinate, and a restarted node has them all
//! again. The set holds yesterday's, today's and tomorrow's keys: a token signed just before
//! midnight still verifies after it, and a set cached for an hour holds a key before it signs.

use std::sync::{Arc, Mutex, PoisonError};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_dalek::{pkcs8::EncodePrivateKey, SigningKey};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest a playback token is valid: long enough for a player to reach the CDN, short enough
/// that a copied one is worth little.
pub const PLAYBACK_TOKEN_LIFETIME_MS: i64 = 60_000;

/// The `aud` of every playback token.
pub const PLAYBACK_AUDIENCE: &str = "tve-activate:playback";

/// How long each signing key signs.
const KEY_EPOCH_MS: i64 = 86_400_000;

/// What the store's pseudonym is taken of, to give the root of the playback keys.
pub const ROOT_LABEL: &str = "tve-activate playback token keys v1";

/// What a playback token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackClaims {
    /// The service's public URL.
    pub iss: String,
    /// The device the play was permitted to (its registration's id).
    pub sub: String,
    /// Always [`PLAYBACK_AUDIENCE`].
    pub aud: String,
    /// The resource permitted, as Adobe decided on it.
    pub resource: String,
    /// The TV provider (or TempPass) that permitted it.
    pub mvpd: String,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Not before, epoch seconds.
    pub nbf: i64,
    /// Expires, epoch seconds.
    pub exp: i64,
    /// Unique per token (a digest of the media token it stands beside).
    pub jti: String,
}

/// What a playback token is issued for.
#[derive(Clone, Copy, Debug)]
pub struct Play<'a> {
    /// The device's registration id.
    pub device_id: &'a str,
    /// The resource permitted.
    pub resource: &'a str,
    /// Who permitted it.
    pub mvpd: &'a str,
    /// The media token's `notAfter`, epoch ms.
    pub not_after: i64,
    /// A unique id of the permit.
    pub id: &'a str,
}

/// A public key, as RFC 8037 writes an Ed25519 key in a JWK set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicJwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id tokens name in their header.
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

/// The public keys (RFC 7517 JWK set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JwkSet {
    /// Yesterday's, today's and tomorrow's keys.
    pub keys: Vec<PublicJwk>,
}

/// One day's key.
struct DayKey {
    day: i64,
    kid: String,
    encoding: EncodingKey,
}

/// Signs playback tokens and publishes their keys.
pub struct PlaybackKeys {
    root: Vec<u8>,
    /// Names the root in key ids, so keys of another secrets key never share an id.
    root_id: String,
    issuer: String,
    today: Mutex<Option<Arc<DayKey>>>,
}

impl std::fmt::Debug for PlaybackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlaybackKeys({}, <redacted>)", self.root_id)
    }
}

/// Why a playback token could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign a playback token: {0}")]
pub struct PlaybackError(String);

impl PlaybackKeys {
    /// Keys derived from `root` (secret, at least 32 bytes of it), for tokens issued by
    /// `issuer` (the public URL).
    pub fn new(root: &str, issuer: &str) -> Self {
        let root = root.as_bytes().to_vec();
        let root_id = hex(&mac(&root, b"key id")[..4]);
        Self {
            root,
            root_id,
            issuer: issuer.trim_end_matches('/').to_owned(),
            today: Mutex::default(),
        }
    }

    /// The token for `play` at `now` (epoch ms): valid from now until the earlier of
    /// [`PLAYBACK_TOKEN_LIFETIME_MS`] and the media token's `notAfter`.
    pub fn sign(&self, play: Play<'_>, now: i64) -> Result<String, PlaybackError> {
        let key = self.key_of(day_of(now))?;
        let until = (now + PLAYBACK_TOKEN_LIFETIME_MS).min(play.not_after);
        let claims = PlaybackClaims {
            iss: self.issuer.clone(),
            sub: play.device_id.to_owned(),
            aud: PLAYBACK_AUDIENCE.to_owned(),
            resource: play.resource.to_owned(),
            mvpd: play.mvpd.to_owned(),
            iat: now / 1000,
            nbf: now / 1000,
            exp: until.div_euclid(1000),
            jti: play.id.to_owned(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|e| PlaybackError(e.to_string()))
    }

    /// The public keys at `now`: yesterday's, today's and tomorrow's.
    pub fn public_keys(&self, now: i64) -> JwkSet {
        let today = day_of(now);
        JwkSet {
            keys: (today - 1..=today + 1)
                .map(|day| PublicJwk {
                    kty: "OKP".to_owned(),
                    crv: "Ed25519".to_owned(),
                    x: URL_SAFE_NO_PAD.encode(self.signing_key(day).verifying_key().as_bytes()),
                    kid: self.kid(day),
                    alg: "EdDSA".to_owned(),
                    use_: "sig".to_owned(),
                })
                .collect(),
        }
    }

    /// The key of `day`, made once a day.
    fn key_of(&self, day: i64) -> Result<Arc<DayKey>, PlaybackError> {
        let mut today = self.today.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = today.as_ref().filter(|key| key.day == day) {
            return Ok(key.clone());
        }
        let der = self
            .signing_key(day)
            .to_pkcs8_der()
            .map_err(|e| PlaybackError(e.to_string()))?;
        let key = Arc::new(DayKey {
            day,
            kid: self.kid(day),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
        });
        *today = Some(key.clone());
        Ok(key)
    }

    fn signing_key(&self, day: i64) -> SigningKey {
        SigningKey::from_bytes(&mac(&self.root, &day.to_be_bytes()))
    }

    fn kid(&self, day: i64) -> String {
        format!("pb-{}-{day}", self.root_id)
    }
}

/// The UTC day of `now` (epoch ms).
fn day_of(now: i64) -> i64 {
    now.div_euclid(KEY_EPOCH_MS)
}

fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{decode, decode_header, jwk, DecodingKey, Validation};

    use super::*;

    /// Now, as the JWT library checks expiry against the real clock.
    fn now() -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        i64::try_from(since.as_millis()).expect("epoch ms")
    }

    fn play(not_after: i64) -> Play<'static> {
        Play {
            device_id: "dev-1",
            resource: "REF30",
            mvpd: "Cox",
            not_after,
            id: "permit-1",
        }
    }

    /// Checks `token` as a CDN would: with the published set, read by a JWT library.
    fn verify(set: &JwkSet, token: &str, now: i64) -> Result<PlaybackClaims, String> {
        let set: jwk::JwkSet =
            serde_json::from_value(serde_json::to_value(set).expect("json")).expect("a JWK set");
        let kid = decode_header(token).map_err(|e| e.to_string())?.kid;
        let key = set
            .find(kid.as_deref().ok_or("no kid")?)
            .ok_or("unknown kid")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[PLAYBACK_AUDIENCE]);
        validation.set_issuer(&["https://tv.example"]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        let claims: PlaybackClaims = decode(
            token,
            &DecodingKey::from_jwk(key).map_err(|e| e.to_string())?,
            &validation,
        )
        .map_err(|e| e.to_string())?
        .claims;
        (claims.nbf <= now / 1000 && now / 1000 < claims.exp)
            .then_some(claims)
            .ok_or_else(|| "outside its window".to_owned())
    }

    #[test]
    fn a_token_verifies_with_the_published_keys_for_its_device_and_resource() {
        let now = now();
        let keys = PlaybackKeys::new("root secret of the deployment", "https://tv.example/");
        let token = keys.sign(play(now + 420_000), now).expect("signed");
        let claims = verify(&keys.public_keys(now), &token, now).expect("verifies");
        assert_eq!(claims.sub, "dev-1");
        assert_eq!(claims.resource, "REF30");
        assert_eq!(claims.iss, "https://tv.example");
        assert_eq!(claims.exp - claims.iat, 60, "a minute at most");
        let later = now + 61_000;
        assert!(verify(&keys.public_keys(later), &token, later).is_err());
    }

    #[test]
    fn a_token_never_outlives_its_media_token() {
        let now = now();
        let keys = PlaybackKeys::new("root", "https://tv.example");
        let token = keys.sign(play(now + 10_000), now).expect("signed");
        let claims = verify(&keys.public_keys(now), &token, now).expect("verifies");
        assert_eq!(claims.exp, (now + 10_000) / 1000);
    }

    #[test]
    fn keys_rotate_daily_and_every_node_derives_the_same() {
        let now = now();
        let keys = PlaybackKeys::new("root", "https://tv.example");
        let other_node = PlaybackKeys::new("root", "https://tv.example");
        assert_eq!(keys.public_keys(now), other_node.public_keys(now));
        let token = keys.sign(play(now + 420_000), now).expect("signed");
        // Signed today: still in the set tomorrow (as yesterday's), gone the day after.
        let tomorrow = keys.public_keys(now + KEY_EPOCH_MS);
        let kid = decode_header(&token).expect("header").kid.expect("kid");
        assert!(tomorrow.keys.iter().any(|key| key.kid == kid));
        let after = keys.public_keys(now + 2 * KEY_EPOCH_MS);
        assert!(after.keys.iter().all(|key| key.kid != kid));
        // Tomorrow's key is published today, before it signs.
        let next = keys
            .sign(play(now + KEY_EPOCH_MS + 420_000), now + KEY_EPOCH_MS)
            .expect("signed");
        let next_kid = decode_header(&next).expect("header").kid.expect("kid");
        assert_ne!(next_kid, kid);
        assert!(keys
            .public_keys(now)
            .keys
            .iter()
            .any(|key| key.kid == next_kid));
    }

    #[test]
    fn forged_or_foreign_tokens_do_not_verify() {
        let now = now();
        let keys = PlaybackKeys::new("root", "https://tv.example");
        let token = keys.sign(play(now + 420_000), now).expect("signed");
        let set = keys.public_keys(now);
        // Another resource written into the claims: the signature no longer holds.
        let (head, rest) = token.split_once('.').expect("three parts");
        let (claims, signature) = rest.split_once('.').expect("three parts");
        let mut forged: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        forged["resource"] = "premium".into();
        let forged = format!(
            "{head}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(forged.to_string())
        );
        assert!(verify(&set, &forged, now).is_err());
        // Signed under another deployment's secrets key: its key id is unknown here.
        let foreign = PlaybackKeys::new("another root", "https://tv.example")
            .sign(play(now + 420_000), now)
            .expect("signed");
        assert_eq!(
            verify(&set, &foreign, now).expect_err("refused"),
            "unknown kid"
        );
    }
}
