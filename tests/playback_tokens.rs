//! Plays that cannot be replayed: each media token reaches a TV once, across nodes, and each
//! permit carries a playback token a CDN can check with the published keys.

mod common;
mod tv_api_support;

use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tv_api_support::{two_nodes, Api};

/// What a CDN reads from a playback token it accepts.
#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    resource: String,
    mvpd: String,
    iat: i64,
    exp: i64,
}

/// The published key set, as a CDN fetches it, and its `Cache-Control`.
async fn published_keys(api: &Api) -> (JwkSet, String) {
    let answer = api
        .http
        .get(api.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("key set");
    assert_eq!(answer.status(), StatusCode::OK);
    let cache = answer.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (answer.json().await.expect("a JWK set"), cache)
}

/// `token` checked as a CDN would: signature under the published key its header names, issuer,
/// audience and expiry.
fn check(keys: &JwkSet, token: &str, issuer: &str) -> Result<Claims, String> {
    let kid = decode_header(token).map_err(|e| e.to_string())?.kid;
    let key = keys
        .find(kid.as_deref().ok_or("no kid")?)
        .ok_or("unknown kid")?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["tve-activate:playback"]);
    validation.set_issuer(&[issuer]);
    let key = DecodingKey::from_jwk(key).map_err(|e| e.to_string())?;
    decode::<Claims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

async fn play(api: &Api, token: &str) -> Value {
    let answer = api
        .post("/tv/v1/authorize", token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

#[tokio::test]
async fn a_permit_carries_a_playback_token_a_cdn_can_check() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-playback", "Cablevision", "premium")
        .await;
    let other = api
        .signed_in_device("tv-playback-2", "Cablevision", "premium")
        .await;
    let (keys, cache) = published_keys(&api).await;
    assert_eq!(cache, "public, max-age=3600");
    assert_eq!(keys.keys.len(), 3, "yesterday's, today's and tomorrow's");
    let issuer = api.public_url.as_str();

    let permit = play(&api, &tv).await;
    assert_eq!(permit["decision"], "permit", "{permit}");
    let playback = permit["playbackToken"].as_str().expect("a playback token");
    let claims = check(&keys, playback, issuer).expect("the CDN accepts it");
    assert_eq!(claims.resource, "REF30");
    assert_eq!(claims.mvpd, "Cablevision");
    assert!(claims.exp - claims.iat <= 60, "{claims:?}");
    let second = play(&api, &other).await;
    let second = check(
        &keys,
        second["playbackToken"].as_str().expect("token"),
        issuer,
    )
    .expect("accepted");
    assert_ne!(second.sub, claims.sub, "bound to its device");

    // Another resource written into it, or a key of another deployment: refused.
    let (head, rest) = playback.split_once('.').expect("a JWT");
    let forged_claims = rest.replacen(
        rest.split('.').next().expect("claims"),
        &base64_url(
            &serde_json::to_vec(&json!({
                "iss": issuer, "sub": claims.sub, "aud": "tve-activate:playback",
                "resource": "premium-sports", "mvpd": "Cablevision",
                "iat": claims.iat, "nbf": claims.iat, "exp": claims.exp, "jti": "x"
            }))
            .expect("json"),
        ),
        1,
    );
    let forged = format!("{head}.{forged_claims}");
    assert!(check(&keys, &forged, issuer).is_err(), "forged");
    let elsewhere = Api::start(&[]).await;
    let (foreign_keys, _) = published_keys(&elsewhere).await;
    assert_eq!(
        check(&foreign_keys, playback, issuer).map(|c| c.sub),
        Err("unknown kid".to_owned()),
        "another deployment's keys"
    );
    // A denial carries none.
    let kids = api
        .signed_in_device("tv-playback-kids", "Cablevision", "kids")
        .await;
    let denied = api
        .post(
            "/tv/v1/authorize",
            &kids,
            json!({"resource": "mature-movies"}),
        )
        .await
        .json();
    assert_eq!(denied["decision"], "deny", "{denied}");
    assert!(denied.get("playbackToken").is_none(), "{denied}");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Adobe's media token is single use: a D2 answer that carries a token already handed to a
/// TV (the emulator's `replayedMediaToken` fault repeats the first one) is a denial, and the
/// token never reaches a TV twice.
#[tokio::test]
async fn a_media_token_reaches_a_tv_once() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-replayed", "Cablevision", "premium")
        .await;
    api.set_faults(json!([{"fault": {"kind": "replayedMediaToken"}}]))
        .await;
    let first = play(&api, &tv).await;
    assert_eq!(first["decision"], "permit", "{first}");
    let again = play(&api, &tv).await;
    assert_eq!(again["decision"], "deny", "{again}");
    assert_eq!(again["reason"], "media_token_invalid");
    assert!(again.get("mediaToken").is_none(), "{again}");
    assert!(again.get("action").is_none(), "no new sign-in: {again}");
    api.set_faults(json!([])).await;
    let fresh = play(&api, &tv).await;
    assert_eq!(fresh["decision"], "permit", "a new token plays: {fresh}");
    assert_ne!(fresh["mediaToken"], first["mediaToken"]);
}

/// Single use holds across nodes (through Redis): a token node A handed out is refused on
/// node B, and both nodes publish the same keys, so a CDN may fetch them from either.
#[tokio::test]
async fn a_media_token_spent_on_one_node_is_refused_on_another() {
    let Some((a, b, _emulator, _deployment)) = two_nodes().await else {
        eprintln!("no PostgreSQL or Redis for the tests: skipped");
        return;
    };
    let tv = a
        .signed_in_device("tv-replayed-across", "Cablevision", "premium")
        .await;
    a.set_faults(json!([{"fault": {"kind": "replayedMediaToken"}}]))
        .await;
    let first = play(&a, &tv).await;
    assert_eq!(first["decision"], "permit", "{first}");
    let replayed = play(&b, &tv).await;
    assert_eq!(replayed["decision"], "deny", "{replayed}");
    assert_eq!(replayed["reason"], "media_token_invalid");
    a.set_faults(json!([])).await;

    let (keys_a, _) = published_keys(&a).await;
    let (keys_b, _) = published_keys(&b).await;
    assert_eq!(
        serde_json::to_value(&keys_a.keys).expect("json"),
        serde_json::to_value(&keys_b.keys).expect("json")
    );
    let on_b = play(&b, &tv).await;
    check(
        &keys_a,
        on_b["playbackToken"].as_str().expect("token"),
        &b.public_url,
    )
    .expect("node B's token checks with node A's keys");
}
