//! Degraded access (REST-API-V2.md §14.3, Adobe's "Degraded access flows"): under an AuthNAll
//! rule S1 and S2 answer `authorize` with `reasonType: degraded`, the `degraded` profile comes
//! from P2 only (§8.1; P1 lists none) and decisions permit; AuthZAll permits and AuthZNone
//! denies the decisions of signed-in viewers. The rules are the emulator's `degraded` faults.

mod common;
mod tv_api_support;

use std::net::{IpAddr, SocketAddr};

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;
use tve_activate::{
    emulator::{faults::Degradation, Fault, FaultRule, FaultSet},
    service::{AuthorizeOutcome, StartOutcome},
    store::ActivationStatus,
};

const VIEWER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 21));

fn rule(kind: &str, mvpd: &str) -> serde_json::Value {
    json!([{"fault": {"kind": "degraded", "mvpd": mvpd, "rule": kind}}])
}

async fn play(api: &Api, token: &str, resource: &str) -> serde_json::Value {
    let answer = api
        .post("/tv/v1/authorize", token, json!({ "resource": resource }))
        .await;
    json!({"status": answer.status.as_u16(), "body": answer.json()})
}

/// AuthNAll: a TV that never signed in picks the provider; S1 answers `authorize`, the service
/// remembers the provider and reads its degraded profile with P2 (P1 has none), and the TV
/// plays.
#[tokio::test]
async fn under_authn_all_a_tv_without_a_profile_gets_a_degraded_one_and_plays() {
    let api = Api::start(&[]).await;
    let tv = api.register("tv-authn-all").await;
    api.set_faults(rule("AuthNAll", "Spectrum")).await;
    let answer = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["type"], "degraded", "{}", answer.text);
    let profile = api.get("/tv/v1/profile", &tv).await.json();
    assert_eq!(profile["authenticated"], true, "{profile}");
    assert_eq!(profile["provider"], "Spectrum");
    assert_eq!(profile["type"], "degraded");
    let permitted = play(&api, &tv, "premium-sports").await;
    assert_eq!(permitted["body"]["decision"], "permit", "{permitted}");
}

/// AuthNAll on the phone: the TV chose no provider, so S2 brings the MVPD and Adobe answers
/// `authorize` ("Indicate existing profile"): the TV is signed in, the phone goes to the
/// completion page, and the TV plays on the degraded profile.
#[tokio::test]
async fn under_authn_all_the_phones_choice_signs_the_tv_in() {
    let (state, emulator) = common::state(&[]).await;
    let emulator = emulator.expect("embedded emulator");
    let service = state.service.clone();
    let tv: SocketAddr = "203.0.113.40:40000".parse().expect("address");
    let (registered, session) = common::tv_session(&service, "tv-degraded-phone", tv).await;
    let StartOutcome::Started(started) = service
        .start_activation(&session, None)
        .await
        .expect("started")
    else {
        panic!("not signed in yet");
    };
    emulator.state().faults().set(FaultSet {
        rules: vec![FaultRule {
            fault: Fault::Degraded {
                mvpd: "Spectrum".to_owned(),
                rule: Degradation::AuthNAll,
                without_profile: false,
            },
            path_prefix: None,
            method: None,
            rate: 1.0,
            times: None,
        }],
    });
    let next = service
        .start_sign_in(&started.code, "Spectrum", VIEWER)
        .await
        .expect("sign-in")
        .expect("pending");
    assert!(
        next.as_str()
            .ends_with(&format!("/activate/complete?code={}", started.code)),
        "straight to the completion page: {next}"
    );
    let view = service
        .confirm_activation(&started.code, VIEWER)
        .await
        .expect("confirmed");
    assert_eq!(view.status, ActivationStatus::Authenticated);
    assert_eq!(view.provider.as_deref(), Some("Spectrum"));
    let session = service
        .authenticate_device(&registered.device_token, tv)
        .await
        .expect("session");
    assert_eq!(session.device.last_provider.as_deref(), Some("Spectrum"));
    let profile = service
        .profile(&session)
        .await
        .expect("profile")
        .expect("signed in");
    assert_eq!(profile.kind, "degraded");
    assert!(matches!(
        service.authorize(&session, "REF30").await.expect("decided"),
        AuthorizeOutcome::Permit { .. }
    ));
}

/// AuthZAll: a signed-in viewer plays what the MVPD would deny (the `basic` account lacks
/// `premium-sports`); a TV that never signed in is still asked to (the rule skips the MVPD's
/// authorization, not authentication).
#[tokio::test]
async fn under_authz_all_signed_in_viewers_play_without_the_mvpd() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-authz-all", "Spectrum", "basic")
        .await;
    let stranger = api.register("tv-authz-all-stranger").await;
    let before = play(&api, &tv, "premium-sports").await;
    assert_eq!(before["body"]["decision"], "deny", "{before}");
    api.set_faults(rule("AuthZAll", "Spectrum")).await;
    let permitted = play(&api, &tv, "premium-sports").await;
    assert_eq!(permitted["body"]["decision"], "permit", "{permitted}");
    let unknown = play(&api, &stranger, "REF30").await;
    assert_eq!(unknown["status"], 403, "{unknown}");
    assert_eq!(unknown["body"]["error"]["code"], "not_authenticated");
}

/// AuthZNone: every play of a signed-in viewer is denied with Adobe's
/// `authorization_denied_by_degradation_rule` (action none: no new sign-in asked).
#[tokio::test]
async fn under_authz_none_plays_are_denied_with_adobes_reason() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-authz-none", "Spectrum", "premium")
        .await;
    api.set_faults(rule("AuthZNone", "Spectrum")).await;
    let denied = play(&api, &tv, "REF30").await;
    assert_eq!(denied["body"]["decision"], "deny", "{denied}");
    assert_eq!(
        denied["body"]["reason"],
        "authorization_denied_by_degradation_rule"
    );
    assert!(denied["body"].get("action").is_none(), "{denied}");
}
