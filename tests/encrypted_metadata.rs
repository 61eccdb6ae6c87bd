//! Encrypted user metadata end to end (REST-API-V2.md §14.4): Adobe encrypts attributes such
//! as `zip` and `maxRating` with the programmer's certificate (`"state": "enc"`); the service
//! decrypts them with its primary or backup private key before any rule reads them, and an
//! attribute it cannot decrypt is unreadable: logged without its value, never a failure (a
//! `maxRating` so left denies rated resources).

mod common;
mod tv_api_support;

use serde_json::json;
use tv_api_support::Api;
use tve_activate::emulator::EmulatorSettings;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/adobe_pass_support/keys");

fn public_key(name: &str) -> String {
    std::fs::read_to_string(format!("{KEYS}/{name}.pub.pem")).expect("public key")
}

fn private_key(name: &str) -> String {
    format!("{KEYS}/{name}.pem")
}

/// Adobe encrypting `zip` and `maxRating` with the certificate of `key`.
fn adobe_encrypting_for(key: &str) -> EmulatorSettings {
    EmulatorSettings {
        programmer_public_key_pem: Some(public_key(key)),
        encrypted_attributes: vec!["zip".to_owned(), "maxRating".to_owned()],
        ..EmulatorSettings::default()
    }
}

/// The programmer's ratings: REF30 is TV-G (within the kids' account's maxRating), news TV-14.
const RATINGS: [&str; 2] = ["--resource-ratings", "REF30=TV-G,news=TV-14"];

/// A kids' account signed in plays a TV-G title (within its TV-PG limit), then a TV-14 one:
/// the decision the TV gets for the latter.
async fn kids_play_a_tv14_title(api: &Api) -> serde_json::Value {
    let tv = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    let allowed = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(allowed["decision"], "permit", "{allowed}");
    api.post("/tv/v1/authorize", &tv, json!({"resource": "news"}))
        .await
        .json()
}

#[tokio::test]
async fn a_rating_rule_reads_the_decrypted_max_rating() {
    for (adobe_key, flags) in [
        (
            "primary",
            vec!["--metadata-key-file", &private_key("primary")],
        ),
        (
            "backup",
            vec![
                "--metadata-key-file",
                &private_key("primary"),
                "--metadata-backup-key-file",
                &private_key("backup"),
            ],
        ),
    ] {
        let flags: Vec<String> = flags.into_iter().map(str::to_owned).collect();
        let mut all: Vec<&str> = flags.iter().map(String::as_str).collect();
        all.extend(RATINGS);
        let api = Api::with_emulator(adobe_encrypting_for(adobe_key), &all).await;
        let denied = kids_play_a_tv14_title(&api).await;
        assert_eq!(denied["decision"], "deny", "{adobe_key}: {denied}");
        assert_eq!(denied["reason"], "denied_by_rating", "{adobe_key}");
    }
}

/// An attribute neither key decrypts is unreadable, never a failure: for `maxRating` that
/// means every rated resource is denied (fail closed), unrated ones still play.
#[tokio::test]
async fn metadata_that_cannot_be_decrypted_denies_rated_resources_only() {
    // Adobe encrypts for the backup certificate; the service holds only the primary key.
    let api = Api::with_emulator(
        adobe_encrypting_for("backup"),
        &[
            "--metadata-key-file",
            &private_key("primary"),
            RATINGS[0],
            RATINGS[1],
        ],
    )
    .await;
    let tv = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    let rated = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(
        rated["decision"], "deny",
        "maxRating is unreadable: {rated}"
    );
    assert_eq!(rated["reason"], "denied_by_rating");
    let unrated = api
        .post(
            "/tv/v1/authorize",
            &tv,
            json!({"resource": "premium-sports"}),
        )
        .await
        .json();
    assert_eq!(unrated["decision"], "permit", "{unrated}");
}

#[tokio::test]
async fn the_embedded_world_encrypts_for_the_configured_key() {
    let api = Api::start(&["--metadata-key-file", &private_key("primary")]).await;
    let tv = api
        .signed_in_device("tv-zip", "Cablevision", "premium")
        .await;
    let store = api.emulator().state().store();
    assert!(!store.profiles.is_empty(), "signed in");
    drop(store);
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    assert!(
        api.emulator().state().encryption().is_some(),
        "the emulator was given the primary key's public key"
    );
}
