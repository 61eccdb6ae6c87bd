//! A stable device identifier (REST API V2 checklist §7, MANDATORY): a reinstall keeps its
//! Adobe identity, and so its sign-in, when it registers from the network the device was last
//! seen on (IPv4 /24, IPv6 /56) within the reinstall window; from anywhere else, or later, a
//! registration without the device's token gets a fresh identity. The service runs behind a
//! trusted proxy here, so `X-Forwarded-For` says which network a call comes from.

mod common;
mod tv_api_support;

use reqwest::{Method, StatusCode};
use tv_api_support::{register_body, Api};

const BEHIND_PROXY: [&str; 2] = ["--trusted-proxies", "127.0.0.1/32"];

/// Registers `device_id` without a token from `client` (an address `X-Forwarded-For` names);
/// returns the new device token.
async fn reinstall_from(api: &Api, device_id: &str, client: &str) -> String {
    let response = api
        .http
        .post(api.url("/tv/v1/devices"))
        .header("x-forwarded-for", client)
        .json(&register_body(device_id))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.expect("json");
    body["deviceToken"].as_str().expect("token").to_owned()
}

fn clients(api: &Api) -> usize {
    api.emulator().state().store().clients.len()
}

#[tokio::test]
async fn a_reinstall_on_the_same_network_keeps_the_sign_in() {
    let api = Api::start(&BEHIND_PROXY).await;
    let lost = api
        .signed_in_device("living-room-tv", "Spectrum", "premium")
        .await;
    let registered = clients(&api);

    // Cleared app data: the token is gone; the TV registers again from another address of
    // the same /24.
    let token = reinstall_from(&api, "living-room-tv", "127.0.0.9").await;

    let profile = api.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.json()["authenticated"], true, "{}", profile.text);
    assert_eq!(profile.json()["provider"], "Spectrum");
    assert_eq!(clients(&api), registered, "the same DCR client: no orphan");
    assert_eq!(
        api.get("/tv/v1/profile", &lost).await.status,
        StatusCode::UNAUTHORIZED,
        "the lost install's token is revoked"
    );
}

#[tokio::test]
async fn a_registration_from_another_network_gets_a_fresh_identity() {
    let api = Api::start(&BEHIND_PROXY).await;
    let victim = api.signed_in_device("den-tv", "Spectrum", "premium").await;
    let registered = clients(&api);

    let other = reinstall_from(&api, "den-tv", "198.51.100.7").await;

    assert_eq!(clients(&api), registered + 1, "a new DCR client");
    let stolen = api.get("/tv/v1/profile", &other).await;
    assert_eq!(stolen.status, StatusCode::OK, "{}", stolen.text);
    assert_eq!(stolen.json()["authenticated"], false, "nothing inherited");
    assert_eq!(
        api.get("/tv/v1/profile", &victim).await.json()["authenticated"],
        true,
        "the device keeps its token and sign-in"
    );
}

#[tokio::test]
async fn a_reinstall_after_the_window_gets_a_fresh_identity() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tve.db");
    let url = format!("sqlite://{}", path.display());
    let mut flags = BEHIND_PROXY.to_vec();
    flags.extend(["--store-url", &url, "--reinstall-window-days", "30"]);
    let api = Api::start(&flags).await;
    api.signed_in_device("attic-tv", "Spectrum", "premium")
        .await;
    let registered = clients(&api);
    // The device was last seen 31 days ago.
    let db = sqlx::SqlitePool::connect(&url).await.expect("store file");
    sqlx::query("UPDATE devices SET seen_at = seen_at - 31 * 86400000")
        .execute(&db)
        .await
        .expect("aged");
    db.close().await;

    let token = reinstall_from(&api, "attic-tv", "127.0.0.1").await;

    assert_eq!(clients(&api), registered + 1, "a new DCR client");
    assert_eq!(
        api.get("/tv/v1/profile", &token).await.json()["authenticated"],
        false,
        "nothing inherited"
    );
}

#[tokio::test]
async fn a_window_of_zero_days_never_inherits() {
    let mut flags = BEHIND_PROXY.to_vec();
    flags.extend(["--reinstall-window-days", "0"]);
    let api = Api::start(&flags).await;
    api.signed_in_device("guest-tv", "Spectrum", "premium")
        .await;
    let body = register_body("guest-tv").to_string();
    let answer = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let token = answer.json()["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        api.get("/tv/v1/profile", &token).await.json()["authenticated"],
        false
    );
}
