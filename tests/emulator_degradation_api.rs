//! The emulator's Degradation API (premium; Adobe's "Degradation Feature" pages): rules applied
//! with a DCR access token on an integration, for a fixed period, listed while in force and
//! removed; REST API V2 answers for that MVPD follow the rule and stop following it at its end.

mod emulator_support;

use std::time::Duration;

use emulator_support::{Device, Harness, SP};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tve_activate::{
    clock::ManualClock,
    emulator::{degradation_api::BASE_PATH, EmulatorSettings},
};

async fn put_rule(h: &Harness, mvpd: &str, body: serde_json::Value) -> emulator_support::Answer {
    h.api(
        Method::PUT,
        &format!("{BASE_PATH}/{SP}/rules/{mvpd}"),
        None,
        &[],
        Some(("application/json", body.to_string())),
    )
    .await
}

/// AuthNAll applied for 60 s: P2 gives a degraded profile and decisions permit with
/// `source: degradation`; after 60 s the list is empty and the basic flow answers again.
#[tokio::test]
async fn an_applied_rule_answers_v2_until_its_ttl_runs_out() {
    let clock = ManualClock::new(std::time::SystemTime::now());
    let h = Harness::start(EmulatorSettings {
        clock: clock.clone(),
        ..EmulatorSettings::default()
    })
    .await;
    let tv = Device::new("degradation-api");
    let applied = put_rule(&h, "Cox", json!({"rule": "AuthNAll", "ttl": 60})).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let rule = applied.json();
    assert_eq!(rule["mvpd"], "Cox");
    assert_eq!(rule["serviceProvider"], SP);
    assert_eq!(
        rule["expiresAt"].as_i64().expect("expiresAt") - rule["appliedAt"].as_i64().expect("at"),
        60_000
    );
    let p2 = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Cox"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(
        p2.json()["profiles"]["Cox"]["type"],
        "degraded",
        "{}",
        p2.text
    );
    let permit = h.decide("authorize", &tv, "Cox", &["REF30"], &[]).await;
    assert_eq!(
        permit.json()["decisions"][0]["source"],
        "degradation",
        "{}",
        permit.text
    );
    let other = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Spectrum"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_ne!(
        other.json()["profiles"]["Spectrum"]["type"],
        "degraded",
        "{}",
        other.text
    );

    clock.advance(Duration::from_secs(60));
    let list = h
        .api(
            Method::GET,
            &format!("{BASE_PATH}/{SP}/rules"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json()["rules"], json!([]), "lapsed: {}", list.text);
    let after = h.decide("authorize", &tv, "Cox", &["REF30"], &[]).await;
    assert!(!after.text.contains("\"degradation\""), "{}", after.text);
}

/// Listing, replacing and removing: one rule per integration, 404 once removed.
#[tokio::test]
async fn rules_are_listed_replaced_and_removed() {
    let h = Harness::default().await;
    put_rule(&h, "Cox", json!({"rule": "AuthNAll", "ttl": 600})).await;
    put_rule(&h, "Cox", json!({"rule": "AuthZAll", "ttl": 600})).await;
    let list = h
        .api(
            Method::GET,
            &format!("{BASE_PATH}/{SP}/rules"),
            None,
            &[],
            None,
        )
        .await;
    let rules = list.json()["rules"].clone();
    assert_eq!(rules.as_array().map(Vec::len), Some(1), "{rules}");
    assert_eq!(rules[0]["rule"], "AuthZAll");
    let path = format!("{BASE_PATH}/{SP}/rules/Cox");
    let removed = h.api(Method::DELETE, &path, None, &[], None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(removed.json()["rule"], "AuthZAll");
    let again = h.api(Method::DELETE, &path, None, &[], None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
    assert_eq!(again.json()["code"], "degradation_rule_not_found");
}

/// A DCR access token is required; the rule, its ttl, the MVPD and the body's type are checked.
#[tokio::test]
async fn bad_calls_are_refused_and_apply_nothing() {
    let h = Harness::default().await;
    let path = format!("{BASE_PATH}/{SP}/rules/Cox");
    let body = json!({"rule": "AuthNAll", "ttl": 60}).to_string();
    let anonymous = h
        .call(
            Method::PUT,
            &path,
            &[("Content-Type", "application/json".to_owned())],
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text
    );
    for (mvpd, body, code) in [
        ("Cox", json!({"rule": "AuthNAll"}), "invalid_parameter_rule"),
        (
            "Cox",
            json!({"rule": "Everything", "ttl": 60}),
            "invalid_parameter_rule",
        ),
        (
            "Cox",
            json!({"rule": "AuthNAll", "ttl": 0}),
            "invalid_parameter_ttl",
        ),
        (
            "Nobody",
            json!({"rule": "AuthNAll", "ttl": 60}),
            "invalid_parameter_mvpd",
        ),
    ] {
        let refused = put_rule(&h, mvpd, body.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.text
        );
        assert_eq!(refused.json()["code"], code, "{body}");
    }
    let form = h
        .api(
            Method::PUT,
            &path,
            None,
            &[],
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await;
    assert_eq!(
        form.json()["code"],
        "unsupported_media_type",
        "{}",
        form.text
    );
    let state = h.emulator.state();
    assert!(!state.degradation_rules().any_in_force(state.now_ms()));
}
