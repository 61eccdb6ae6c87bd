//! The parental rating rule against Adobe's documented `maxRating`, an object
//! `{ "MPAA": …, "VCHIP": …, "URL": … }` (`user-metadata.md`): TV ratings are compared with
//! `VCHIP`, film ratings with `MPAA`; a `maxRating` present but unreadable denies every rated
//! resource; MVPDs that update metadata at authorization have their profile read again after
//! each permit.

mod common;
mod tv_api_support;

use serde_json::json;
use tv_api_support::Api;
use tve_activate::emulator::{dataset::Dataset, EmulatorSettings};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/adobe_pass_support/keys");

/// REF30 is TV-G, news TV-14 (a TV rating), premium-sports PG (a film rating) and
/// mature-movies PG-13; nothing else is rated.
const RATINGS: [&str; 2] = [
    "--resource-ratings",
    "REF30=TV-G,news=TV-14,premium-sports=PG,mature-movies=PG-13",
];

/// The default world, with the `kids` household limited to TV-PG and PG in Adobe's shape.
fn tv_pg_household() -> EmulatorSettings {
    let mut dataset = Dataset::default();
    let kids = dataset
        .accounts
        .iter_mut()
        .find(|a| a.username == "kids")
        .expect("kids");
    kids.attributes.insert(
        "maxRating".to_owned(),
        json!({"MPAA": "PG", "VCHIP": "TV-PG", "URL": "https://parental.example/kids"}),
    );
    kids.denied.clear();
    EmulatorSettings {
        dataset,
        ..EmulatorSettings::default()
    }
}

async fn play(api: &Api, tv: &str, resource: &str) -> serde_json::Value {
    let answer = api
        .post("/tv/v1/authorize", tv, json!({"resource": resource}))
        .await;
    assert!(answer.status.is_success(), "{resource}: {}", answer.text);
    answer.json()
}

#[tokio::test]
async fn a_tv_pg_household_cannot_play_a_tv14_resource() {
    let api = Api::with_emulator(tv_pg_household(), &RATINGS).await;
    let tv = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    for (resource, decision) in [
        ("REF30", "permit"),
        ("news", "deny"),
        ("premium-sports", "permit"),
        ("mature-movies", "deny"),
    ] {
        let played = play(&api, &tv, resource).await;
        assert_eq!(played["decision"], decision, "{resource}: {played}");
        if decision == "deny" {
            assert_eq!(played["reason"], "denied_by_rating", "{resource}");
        }
    }
    let preauthorized = api
        .post(
            "/tv/v1/preauthorize",
            &tv,
            json!({"resources": ["REF30", "news"]}),
        )
        .await
        .json();
    assert_eq!(
        preauthorized["decisions"][0]["authorized"], true,
        "{preauthorized}"
    );
    assert_eq!(
        preauthorized["decisions"][1]["authorized"], false,
        "{preauthorized}"
    );
}

/// Adobe encrypts `maxRating` for a certificate whose private key the service lacks: the
/// limit is there but unreadable, so rated resources are denied (fail closed) and unrated ones
/// still play.
#[tokio::test]
async fn an_unreadable_max_rating_denies_rated_resources() {
    let backup_public =
        std::fs::read_to_string(format!("{KEYS}/backup.pub.pem")).expect("public key");
    let primary_private = format!("{KEYS}/primary.pem");
    let settings = EmulatorSettings {
        programmer_public_key_pem: Some(backup_public),
        encrypted_attributes: vec!["maxRating".to_owned()],
        ..tv_pg_household()
    };
    let api = Api::with_emulator(
        settings,
        &[
            "--metadata-key-file",
            &primary_private,
            "--resource-ratings",
            "REF30=TV-G",
        ],
    )
    .await;
    let tv = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    let rated = play(&api, &tv, "REF30").await;
    assert_eq!(rated["decision"], "deny", "{rated}");
    assert_eq!(rated["reason"], "denied_by_rating");
    let unrated = play(&api, &tv, "news").await;
    assert_eq!(unrated["decision"], "permit", "{unrated}");
}

async fn p2_calls(api: &Api) -> f64 {
    common::sample(
        &api.metrics().await,
        "adobe_pass_calls_total{endpoint=\"mvpd_profile\",outcome=\"success\"}",
    )
    .unwrap_or(0.0)
}

/// Adobe's "Profiles Caching": some MVPDs update metadata (ratings) at authorization. For those
/// named in `--metadata-at-authorization` the profile is read again (P2) after each permit;
/// other MVPDs cost no extra call.
#[tokio::test]
async fn metadata_is_read_again_after_a_permit_for_the_mvpds_named() {
    let mut flags = vec!["--metadata-at-authorization", "Cablevision"];
    flags.extend(RATINGS);
    let api = Api::with_emulator(tv_pg_household(), &flags).await;
    let cablevision = api.signed_in_device("tv-cv", "Cablevision", "kids").await;
    let spectrum = api.signed_in_device("tv-sp", "Spectrum", "kids").await;

    let before = p2_calls(&api).await;
    assert_eq!(play(&api, &spectrum, "REF30").await["decision"], "permit");
    assert_eq!(p2_calls(&api).await, before, "Spectrum is not named");
    assert_eq!(
        play(&api, &cablevision, "REF30").await["decision"],
        "permit"
    );
    assert_eq!(
        p2_calls(&api).await,
        before + 1.0,
        "read again after the permit"
    );
    let denied = play(&api, &cablevision, "news").await;
    assert_eq!(denied["reason"], "denied_by_rating", "{denied}");
    assert_eq!(p2_calls(&api).await, before + 1.0, "no permit, no read");
}
