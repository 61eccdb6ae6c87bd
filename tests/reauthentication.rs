//! §11 "Response Handling": top-level and item-level errors are handled the same way, and an
//! error whose action is `authentication` means the viewer must sign in again. Item-level ones
//! come inside an HTTP 200 decision; the TV hears `action: authenticate` on the deny, and a new
//! activation starts although Adobe's P1 still lists the refused profile (the emulator keeps
//! it: a fault rule produced the refusal).

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;

const SP: &str = "REF30";

/// Every decision item refused with `code`, `times` times.
fn item_error(code: &str, times: u32) -> serde_json::Value {
    json!([{
        "fault": {"kind": "itemError", "code": code},
        "pathPrefix": format!("/api/v2/{SP}/decisions/"),
        "times": times,
    }])
}

async fn play(api: &Api, token: &str, resource: &str) -> serde_json::Value {
    let answer = api
        .post("/tv/v1/authorize", token, json!({ "resource": resource }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

/// The codes §11 gives action `authentication`, as item errors: deny with Adobe's code and
/// `action: authenticate`, for plays and for preauthorization alike.
#[tokio::test]
async fn item_level_authentication_errors_ask_the_tv_to_sign_in_again() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-reauth-codes", "Spectrum", "premium")
        .await;
    for code in [
        "authenticated_profile_invalidated",
        "authorization_denied_by_hba_policies",
        "authorization_denied_by_session_invalidated",
        "identity_not_recognized_by_mvpd",
    ] {
        api.set_faults(item_error(code, 1)).await;
        let denied = play(&api, &tv, "REF30").await;
        assert_eq!(denied["decision"], "deny", "{code}: {denied}");
        assert_eq!(denied["reason"], code);
        assert_eq!(denied["action"], "authenticate", "{code}: {denied}");
    }

    api.set_faults(item_error("authorization_denied_by_hba_policies", 1))
        .await;
    let preview = api
        .post(
            "/tv/v1/preauthorize",
            &tv,
            json!({"resources": ["REF30", "news"]}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    for item in preview.json()["decisions"].as_array().expect("decisions") {
        assert_eq!(item["authorized"], false, "{item}");
        assert_eq!(item["action"], "authenticate", "{item}");
    }

    api.set_faults(item_error("authorization_denied_by_mvpd", 1))
        .await;
    let plain = play(&api, &tv, "REF30").await;
    assert_eq!(plain["decision"], "deny");
    assert!(plain.get("action").is_none(), "a plain denial: {plain}");
}

/// After an item-level `authorization_denied_by_hba_policies`, P1 still lists the profile,
/// yet starting an activation gives a code (the stale profile is logged out at Adobe first,
/// since S1 answers `authorize` while it exists), and the new sign-in plays.
#[tokio::test]
async fn after_a_reauthentication_denial_a_new_activation_starts() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-reauth-start", "Spectrum", "basic")
        .await;
    api.set_faults(item_error("authorization_denied_by_hba_policies", 1))
        .await;
    assert_eq!(play(&api, &tv, "REF30").await["action"], "authenticate");

    let activation = api.start_activation(&tv, "Spectrum").await;
    let code = activation["code"].as_str().expect("a new code");
    api.provider_login(code, "premium").await;
    let status = api
        .get(&format!("/tv/v1/activations/{code}?wait=20"), &tv)
        .await;
    assert_eq!(status.json()["status"], "authenticated", "{}", status.text);
    let premium = play(&api, &tv, "premium-sports").await;
    assert_eq!(premium["decision"], "permit", "signed in anew: {premium}");
}

/// In a cluster the refusal is known on every node: a new activation started on another node
/// replaces the refused profile too (it is not answered "already signed in").
#[tokio::test]
async fn a_refusal_seen_on_one_node_lets_another_node_start_the_new_activation() {
    let Some((a, b, _emulator, _deployment)) = tv_api_support::two_nodes().await else {
        return;
    };
    let tv = a
        .signed_in_device("tv-reauth-nodes", "Spectrum", "basic")
        .await;
    a.set_faults(item_error("authorization_denied_by_hba_policies", 1))
        .await;
    assert_eq!(play(&a, &tv, "REF30").await["action"], "authenticate");

    let answer = b
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert!(answer.json()["code"].is_string(), "{}", answer.text);
}

/// The same refusal at top level (403 `not_authenticated`) is remembered the same way.
#[tokio::test]
async fn after_a_top_level_refusal_a_new_activation_starts_too() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-reauth-top", "Spectrum", "premium")
        .await;
    api.set_faults(json!([{
        "fault": {"kind": "enhanced", "code": "authorization_denied_by_session_invalidated"},
        "pathPrefix": format!("/api/v2/{SP}/decisions/authorize"),
        "times": 1,
    }]))
    .await;
    let refused = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.json()["error"]["action"], "authenticate");
    let answer = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

/// A permit after such a denial (an HBA viewer back home) means the profile works again: no
/// new activation is forced.
#[tokio::test]
async fn a_permit_after_the_denial_keeps_the_viewer_signed_in() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-reauth-home", "Spectrum", "premium")
        .await;
    api.set_faults(item_error("authorization_denied_by_hba_policies", 1))
        .await;
    assert_eq!(play(&api, &tv, "REF30").await["action"], "authenticate");
    assert_eq!(play(&api, &tv, "REF30").await["decision"], "permit");
    let answer = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["status"], "authenticated");
}
