//! A 401 with action `application-registration` that persists after a fresh token means Adobe
//! no longer accepts the device's registered client ("the client application requires to
//! register itself again", Enhanced Error Codes): the device registers a new client once, as for
//! DCR `invalid_client`, instead of telling the TV to register in a loop.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;

#[tokio::test]
async fn a_client_refused_with_fresh_tokens_is_registered_again_once() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-revoked-client").await;
    let clients = api.emulator().state().store().clients.len();
    // Adobe refuses the client's tokens: the current one and the fresh one after it.
    api.set_faults(json!([{
        "fault": {"kind": "enhanced", "code": "invalid_access_token_client_application"},
        "pathPrefix": "/api/v2/REF30/profiles",
        "times": 2
    }]))
    .await;

    let profile = api.get("/tv/v1/profile", &token).await;

    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.json()["authenticated"], false);
    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients + 1,
        "one new DCR client"
    );
    let again = api.get("/tv/v1/profile", &token).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients + 1,
        "the new client is kept"
    );
}

#[tokio::test]
async fn a_client_refused_for_good_registers_once_per_call_not_in_a_loop() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-refused-client").await;
    let clients = api.emulator().state().store().clients.len();
    api.set_faults(json!([{
        "fault": {"kind": "enhanced", "code": "invalid_access_token_client_application"},
        "pathPrefix": "/api/v2/REF30/profiles"
    }]))
    .await;

    let profile = api.get("/tv/v1/profile", &token).await;

    assert_eq!(profile.status, StatusCode::BAD_GATEWAY, "{}", profile.text);
    assert_eq!(
        profile.error_code(),
        "invalid_access_token_client_application"
    );
    assert_eq!(profile.json()["error"]["action"], "register");
    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients + 1,
        "one registration for the call, no more"
    );
}
