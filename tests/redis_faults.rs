//! Redis lost while a node runs: what needs it (registrations, the site's sessions and code
//! limits) answers 503 with `Retry-After`, what does not (a signed-in TV's profile and plays)
//! keeps working, and the node recovers by itself when Redis returns. The test runs a Redis of
//! its own so it can stop it.

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use common::OwnRedis;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::{register_body, Api};

#[tokio::test]
async fn without_redis_what_needs_it_says_try_again_and_the_node_recovers() {
    if common::test_service("TVE_TEST_REDIS_URL").is_none() {
        return; // No redis-server here either.
    }
    let port = common::free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let redis = OwnRedis::start(port);
    let api = Api::start(&["--redis-url", &url]).await;
    let token = api
        .signed_in_device("tv-faults", "Spectrum", "premium")
        .await;

    drop(redis);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let body = register_body("tv-new").to_string();
    let refused = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    tv_api_support::assert_retryable(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "shared_state_unavailable",
    );
    let page = api
        .http
        .get(api.url("/activate?code=ABCD1234"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.expect("html").contains("try again"));
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text.contains("Redis"), "{}", ready.text);

    // A signed-in TV still plays.
    let profile = api.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.json()["authenticated"], true, "{}", profile.text);
    let play = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(play.json()["decision"], "permit", "{}", play.text);

    // Redis returns: the node recovers by itself.
    let _redis = OwnRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let again = api
            .call(Method::POST, "/tv/v1/devices", None, Some(&body))
            .await;
        if again.status == StatusCode::CREATED {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {}", again.text);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
}
