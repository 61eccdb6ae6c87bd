//! Adobe's Degradation API applied through the service (issue 22): where the programmer holds
//! the license (`--adobe-degradation`), an operator turns AuthNAll/AuthZAll on and off for an
//! MVPD on the operators' listener (`/admin/v1/degradation`, admin token), until an end time;
//! the emulator keeps the rule as Adobe does and answers REST API V2 by it, so a TV with no
//! profile plays under AuthNAll, decisions carry `source: degradation`, and the rule lapses by
//! itself.

mod common;
mod tv_api_support;

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tv_api_support::{Answer, Api};
use tve_activate::clock::{millis_since_epoch, ManualClock};

const ADMIN_TOKEN: &str = "degradation-admin-token-0123456789abcdef";
const LICENSED: [&str; 4] = ["--admin-token", ADMIN_TOKEN, "--adobe-degradation", "true"];

async fn admin(api: &Api, method: Method, path: &str, body: Option<Value>) -> Answer {
    let body = body.map(|b| b.to_string());
    api.call_internal(method, path, Some(ADMIN_TOKEN), body.as_deref())
        .await
}

async fn apply(api: &Api, mvpd: &str, rule: &str, until: i64) -> Answer {
    admin(
        api,
        Method::PUT,
        &format!("/admin/v1/degradation/{mvpd}"),
        Some(json!({
            "rule": rule,
            "until": until,
            "changedBy": "ana",
            "reason": "Spectrum's login is down (ticket 4711)"
        })),
    )
    .await
}

async fn listed(api: &Api) -> Vec<Value> {
    let list = admin(api, Method::GET, "/admin/v1/degradation", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json()["rules"].as_array().expect("rules").clone()
}

async fn play(api: &Api, token: &str, resource: &str) -> Answer {
    api.post("/tv/v1/authorize", token, json!({ "resource": resource }))
        .await
}

fn now_ms() -> i64 {
    millis_since_epoch(SystemTime::now())
}

/// AuthNAll applied through the admin API: a TV that never signed in is signed in at once with
/// a degraded profile and plays, its decision saying `source: degradation`; at the rule's end
/// time it lapses by itself (Adobe's list no longer has it, and plays go to the MVPD again).
#[tokio::test]
async fn authn_all_from_the_admin_api_lets_a_tv_without_a_profile_play_until_it_lapses() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&LICENSED, clock.clone()).await;
    let tv = api.register("tv-degradation-authn").await;
    let until = now_ms() + 3_600_000;

    let applied = apply(&api, "Spectrum", "AuthNAll", until).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let rule = applied.json();
    assert_eq!(rule["mvpd"], "Spectrum");
    assert_eq!(rule["rule"], "AuthNAll");
    assert!(rule["until"].as_i64().expect("until") >= until, "{rule}");
    let rules = listed(&api).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["rule"], "AuthNAll");

    let started = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    assert_eq!(started.json()["type"], "degraded", "{}", started.text);
    let profile = api.get("/tv/v1/profile", &tv).await.json();
    assert_eq!(profile["authenticated"], true, "{profile}");
    assert_eq!(profile["type"], "degraded", "{profile}");

    let permitted = play(&api, &tv, "premium-sports").await;
    assert_eq!(permitted.status, StatusCode::OK, "{}", permitted.text);
    let decision = permitted.json();
    assert_eq!(decision["decision"], "permit", "{decision}");
    assert_eq!(decision["source"], "degradation", "{decision}");
    assert!(decision["mediaToken"].is_string(), "{decision}");

    clock.advance(Duration::from_secs(3_601));
    assert!(listed(&api).await.is_empty(), "the rule lapsed by itself");
    let after = play(&api, &tv, "premium-sports").await;
    assert!(
        after.status != StatusCode::OK || after.json()["decision"] == "deny",
        "no permit once the rule lapsed: {}",
        after.text
    );
    assert!(!after.text.contains("degradation"), "{}", after.text);
}

/// AuthZAll applied and removed through the admin API: a signed-in viewer plays what the MVPD
/// denies while the rule is on (the decision saying `source: degradation`), and the MVPD
/// decides again once an operator removes it.
#[tokio::test]
async fn authz_all_turns_on_and_off_from_the_admin_api() {
    let api = Api::start(&LICENSED).await;
    let tv = api
        .signed_in_device("tv-degradation-authz", "Spectrum", "basic")
        .await;
    let before = play(&api, &tv, "premium-sports").await.json();
    assert_eq!(before["decision"], "deny", "{before}");
    assert!(before.get("source").is_none(), "{before}");

    let applied = apply(&api, "Spectrum", "AuthZAll", now_ms() + 600_000).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let permitted = play(&api, &tv, "premium-sports").await.json();
    assert_eq!(permitted["decision"], "permit", "{permitted}");
    assert_eq!(permitted["source"], "degradation", "{permitted}");

    let removed = admin(
        &api,
        Method::DELETE,
        "/admin/v1/degradation/Spectrum",
        Some(json!({"changedBy": "ana", "reason": "Spectrum is back"})),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(removed.json()["rule"], "AuthZAll");
    assert!(listed(&api).await.is_empty());
    let after = play(&api, &tv, "premium-sports").await.json();
    assert_eq!(after["decision"], "deny", "{after}");
    assert!(after.get("source").is_none(), "{after}");
}

/// Without the admin token nothing is changed; without the license the routes answer 404
/// `degradation_not_licensed`; bad rules, past end times, unknown MVPDs and removing a rule
/// that is not there are refused with clear errors, and nothing is applied.
#[tokio::test]
async fn the_admin_token_the_license_and_a_valid_change_are_required() {
    let api = Api::start(&LICENSED).await;
    let until = now_ms() + 600_000;
    let body = json!({"rule": "AuthNAll", "until": until, "changedBy": "ana", "reason": "x"});
    let anonymous = api
        .call_internal(
            Method::PUT,
            "/admin/v1/degradation/Spectrum",
            Some("wrong"),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text
    );
    assert_eq!(anonymous.error_code(), "invalid_admin_token");

    for (mvpd, change) in [
        (
            "Spectrum",
            json!({"rule": "AuthNNone", "until": until, "changedBy": "ana", "reason": "x"}),
        ),
        (
            "Spectrum",
            json!({"rule": "AuthZAll", "until": now_ms() - 1, "changedBy": "ana", "reason": "x"}),
        ),
        (
            "Spectrum",
            json!({"rule": "AuthZAll", "until": until, "changedBy": " ", "reason": "x"}),
        ),
        (
            "Spectrum",
            json!({"rule": "AuthZAll", "until": until, "changedBy": "ana"}),
        ),
        (
            "NoSuchMvpd",
            json!({"rule": "AuthZAll", "until": until, "changedBy": "ana", "reason": "x"}),
        ),
    ] {
        let refused = admin(
            &api,
            Method::PUT,
            &format!("/admin/v1/degradation/{mvpd}"),
            Some(change.clone()),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{change}: {}",
            refused.text
        );
        refused.error_code();
    }
    assert!(listed(&api).await.is_empty(), "nothing applied");

    let missing = admin(
        &api,
        Method::DELETE,
        "/admin/v1/degradation/Spectrum",
        Some(json!({"changedBy": "ana", "reason": "x"})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);

    let unlicensed = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let refused = admin(&unlicensed, Method::GET, "/admin/v1/degradation", None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(refused.error_code(), "degradation_not_licensed");
}
