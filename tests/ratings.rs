//! The parental rating rule against Adobe's documented `maxRating`, an object
//! `{ "MPAA": …, "VCHIP": …, "URL": … }` (`user-metadata.md`): TV ratings are compared with
//! `VCHIP`, film ratings with `MPAA`; a `maxRating` present but unreadable denies every rated
//! resource; MVPDs that update metadata at authorization have their profile read again after
//! each permit. Resources are read as Adobe decides on them: an MRSS document by its channel
//! title (and its ratings), an id without regard to case or surrounding whitespace.

mod common;
mod tv_api_support;

use std::time::{Duration, SystemTime};

use serde_json::json;
use tv_api_support::Api;
use tve_activate::{
    clock::ManualClock,
    emulator::{dataset::Dataset, EmulatorSettings},
};

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

/// An MRSS resource for `channel` claiming the mildest V-chip rating.
fn mrss(channel: &str) -> String {
    format!(
        r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>{channel}</title><item><title>x</title><media:rating scheme="urn:v-chip">tv-y</media:rating></item></channel></rss>"#
    )
}

async fn authorize_calls(api: &Api) -> f64 {
    common::sample(
        &api.metrics().await,
        "adobe_pass_calls_total{endpoint=\"authorize\",outcome=\"success\"}",
    )
    .unwrap_or(0.0)
}

/// Review finding 5: an MRSS document naming a denied or rated channel, or the id in another
/// case or with whitespace, meets the rules of the channel Adobe decides on; MRSS the service
/// cannot read is refused before Adobe is asked.
#[tokio::test]
async fn mrss_and_variants_of_an_id_meet_the_rules() {
    let mut flags = vec!["--denied-resources", "Cablevision:premium-sports"];
    flags.extend(RATINGS);
    let api = Api::with_emulator(tv_pg_household(), &flags).await;
    let tv = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    for (resource, reason) in [
        (mrss("premium-sports"), "denied_by_programmer"),
        (" Premium-Sports".to_owned(), "denied_by_programmer"),
        (mrss("news"), "denied_by_rating"),
        ("NEWS ".to_owned(), "denied_by_rating"),
        (mrss(" Mature-Movies "), "denied_by_rating"),
    ] {
        let played = play(&api, &tv, &resource).await;
        assert_eq!(played["decision"], "deny", "{resource}: {played}");
        assert_eq!(played["reason"], reason, "{resource}: {played}");
    }
    let preauthorized = api
        .post(
            "/tv/v1/preauthorize",
            &tv,
            json!({"resources": [mrss("premium-sports"), mrss("news"), mrss("REF30")]}),
        )
        .await
        .json();
    let authorized: Vec<_> = (0..3)
        .map(|i| preauthorized["decisions"][i]["authorized"].clone())
        .collect();
    assert_eq!(authorized, [false, false, true], "{preauthorized}");
    let allowed = play(&api, &tv, &mrss("REF30")).await;
    assert_eq!(allowed["decision"], "permit", "{allowed}");

    let asked = authorize_calls(&api).await;
    for unreadable in [
        "<rss><channel><item><title>premium-sports</title></item></channel></rss>",
        "<rss><channel><title>premium-sports</title>",
    ] {
        let refused = api
            .post("/tv/v1/authorize", &tv, json!({"resource": unreadable}))
            .await;
        assert_eq!(refused.status, 400, "{unreadable}: {}", refused.text);
        assert_eq!(refused.error_code(), "invalid_request");
        assert!(
            refused
                .error_message()
                .starts_with("resource: an MRSS resource"),
            "{}",
            refused.text
        );
    }
    assert_eq!(authorize_calls(&api).await, asked, "nothing reached Adobe");
}

/// Review finding 5: the profile is read again within minutes when resources are rated, so a
/// parental limit set at the MVPD after the viewer signed in takes effect.
#[tokio::test]
async fn a_parental_limit_set_at_the_mvpd_takes_effect_within_minutes() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&["--resource-ratings", "news=TV-14"], clock.clone()).await;
    let tv = api
        .signed_in_device("tv-family", "Spectrum", "premium")
        .await;
    assert_eq!(play(&api, &tv, "news").await["decision"], "permit");

    // The household sets parental controls at the MVPD: the profile now carries kids' limit.
    for stored in api.emulator().state().store().profiles.values_mut() {
        stored.account = "kids".to_owned();
    }
    assert_eq!(
        play(&api, &tv, "news").await["decision"],
        "permit",
        "the cached profile still serves"
    );
    clock.advance(Duration::from_secs(5 * 60));
    let limited = play(&api, &tv, "news").await;
    assert_eq!(limited["decision"], "deny", "{limited}");
    assert_eq!(limited["reason"], "denied_by_rating", "{limited}");
}
