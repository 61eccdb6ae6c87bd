//! What a permit costs in tokens, per play, in this process: verifying Adobe's media token
//! (RSA signature, window, resource), marking it spent, and signing the playback token (EdDSA),
//! beside the bare cryptography of the same two signatures (the least any verifier and signer
//! can do).

use std::time::{Duration, Instant};

use rsa::{pkcs8::DecodePublicKey, Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use tve_activate::{
    adobe_pass::MediaTokenVerifier,
    emulator::media_token,
    playback::{Play, PlaybackKeys},
    shared::LocalSpentTokens,
};

use crate::{drive::Figures, Row, Size};

/// Epoch ms now.
fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A fresh media token for REF30, as the emulator signs it, and its `notAfter`.
fn media_token(n: usize, now: i64) -> (String, i64) {
    let claims = serde_json::json!({
        "issuer": "adobe-pass-emulator", "requestor": "REF30", "mvpd": "Cablevision",
        "resource": "REF30", "notBefore": now, "notAfter": now + 420_000, "nonce": n.to_string()
    });
    (
        media_token::sign(claims.to_string().as_bytes()),
        now + 420_000,
    )
}

/// Times `step` on each of `tokens`, one at a time.
fn timed(tokens: &[(String, i64)], mut step: impl FnMut(usize, &str, i64) -> bool) -> Figures {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(tokens.len());
    let mut errors = 0;
    for (n, (token, not_after)) in tokens.iter().enumerate() {
        let at = Instant::now();
        if !step(n, token, *not_after) {
            errors += 1;
        }
        latencies.push(at.elapsed());
    }
    Figures::from_latencies(latencies, errors, started.elapsed().as_secs_f64())
}

/// The row: the service's per-permit token work against the bare signatures.
pub fn run(size: Size) -> Row {
    let plays = size.waiting_tvs * 4;
    let now = now_ms();
    let tokens: Vec<(String, i64)> = (0..plays).map(|n| media_token(n, now)).collect();
    let pem = media_token::public_key_pem().expect("the emulator's public key");
    let verifier = MediaTokenVerifier::from_pem(&pem).expect("a verifier");
    let spent = LocalSpentTokens::default();
    let keys = PlaybackKeys::new("bench root of the playback keys", "https://tv.example");
    let service = timed(&tokens, |n, token, not_after| {
        let id = format!("{n:032x}");
        verifier.verify(token, Some("REF30"), now).is_ok()
            && spent.mark(&id, Duration::from_secs(450))
            && keys
                .sign(
                    Play {
                        device_id: "bench-device",
                        resource: "REF30",
                        mvpd: "Cablevision",
                        not_after,
                        id: &id,
                    },
                    now,
                )
                .is_ok()
    });
    let rsa = RsaPublicKey::from_public_key_pem(&pem).expect("RSA key");
    let ed25519 = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let bare = timed(&tokens, |_, token, _| {
        use ed25519_dalek::Signer;
        let Some((payload, signature)) = token.split_once('.') else {
            return false;
        };
        let (Ok(payload), Ok(signature)) = (b64(payload), b64(signature)) else {
            return false;
        };
        let verified = rsa
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&payload),
                &signature,
            )
            .is_ok();
        std::hint::black_box(ed25519.sign(&payload));
        verified
    });
    let p99 = service.quantile_ms(0.99);
    Row {
        scenario:
            "a permit's tokens: verify the media token, mark it spent, sign the playback token",
        figure: format!(
            "p50 {:.3} ms, p99 {p99:.3} ms per play ({} plays)",
            service.quantile_ms(0.5),
            service.requests
        ),
        ceiling: format!(
            "RSA verify + Ed25519 sign alone: p50 {:.3} ms, p99 {:.3} ms",
            bare.quantile_ms(0.5),
            bare.quantile_ms(0.99)
        ),
        goal: "p99 ≤ 1 ms",
        met: p99 <= 1.0 && service.errors == 0,
        errors: service.errors + bare.errors,
    }
}

fn b64(part: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.decode(part)
}
