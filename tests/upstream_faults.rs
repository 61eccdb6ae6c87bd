//! How the service handles what Adobe documents but the emulator's own flows never produce,
//! injected with the emulator's fault rules (`/__emulator/faults`): each test names the
//! documented behaviour and the section of REST-API-V2.md it comes from.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;

const SP: &str = "REF30";

fn on(path: &str, fault: serde_json::Value, times: Option<u32>) -> serde_json::Value {
    let mut rule = json!({"fault": fault, "pathPrefix": format!("/api/v2/{SP}{path}")});
    if let Some(times) = times {
        rule["times"] = json!(times);
    }
    rule
}

async fn play(api: &Api, token: &str) -> serde_json::Value {
    let answer = api
        .post("/tv/v1/authorize", token, json!({"resource": "REF30"}))
        .await;
    json!({"status": answer.status.as_u16(), "body": answer.json()})
}

/// §11: `authenticated_profile_invalidated` (403, action authentication), at top level or
/// inside a decision: the viewer must sign in again, and nothing cached says otherwise.
#[tokio::test]
async fn an_invalidated_profile_asks_the_viewer_to_sign_in_again() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-invalidated", "Spectrum", "premium")
        .await;
    api.set_faults(json!([on(
        "/decisions/authorize",
        json!({"kind": "enhanced", "code": "authenticated_profile_invalidated"}),
        Some(1)
    )]))
    .await;
    let top_level = play(&api, &tv).await;
    assert_eq!(top_level["status"], 403, "{top_level}");
    assert_eq!(top_level["body"]["error"]["code"], "not_authenticated");

    api.set_faults(json!([on(
        "/decisions/authorize",
        json!({"kind": "itemError", "code": "authenticated_profile_invalidated"}),
        Some(1)
    )]))
    .await;
    let item = play(&api, &tv).await;
    assert_eq!(item["body"]["decision"], "deny", "{item}");
    assert_eq!(item["body"]["reason"], "authenticated_profile_invalidated");
    assert_eq!(item["body"]["action"], "authenticate", "{item}");
    assert_eq!(play(&api, &tv).await["body"]["decision"], "permit");
}

/// §11 and §14.5: `invalid_integration` (400, action none) when the MVPD's integration is
/// off: the TV is told plainly, with Adobe's code, and no activation starts.
#[tokio::test]
async fn a_disabled_integration_is_reported_with_adobes_code() {
    let api = Api::start(&[]).await;
    let tv = api.register("tv-integration").await;
    api.set_faults(json!([on(
        "/sessions",
        json!({"kind": "enhanced", "code": "invalid_integration"}),
        None
    )]))
    .await;
    let answer = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "invalid_integration");
}

/// §4.2: "When a protected API rejects the token it answers 401. The client should refresh
/// the token once and retry" (`invalid_access_token_service_provider`, §11).
#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-token", "Spectrum", "premium")
        .await;
    api.set_faults(json!([on(
        "/decisions/authorize",
        json!({"kind": "enhanced", "code": "invalid_access_token_service_provider"}),
        Some(1)
    )]))
    .await;
    let refreshed = play(&api, &tv).await;
    assert_eq!(refreshed["body"]["decision"], "permit", "{refreshed}");
}

/// §11: action `retry` — "for multi-item APIs, resend only the items marked retry", a bounded
/// number of times: once here.
#[tokio::test]
async fn decision_items_marked_retry_are_asked_once_more() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-retry", "Spectrum", "premium")
        .await;
    let timeout = json!({"kind": "itemError", "code": "network_connection_timeout"});
    api.set_faults(json!([on(
        "/decisions/authorize",
        timeout.clone(),
        Some(1)
    )]))
    .await;
    let retried = play(&api, &tv).await;
    assert_eq!(retried["body"]["decision"], "permit", "{retried}");

    api.set_faults(json!([on("/decisions/authorize", timeout, Some(2))]))
        .await;
    let twice = play(&api, &tv).await;
    assert_eq!(twice["body"]["decision"], "deny", "{twice}");
    assert_eq!(twice["body"]["reason"], "network_connection_timeout");
    let preview = api
        .post(
            "/tv/v1/preauthorize",
            &tv,
            json!({"resources": ["REF30", "news"]}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
}

/// §12: a 429 while the device's burst is spent (HTML, no `Retry-After`): the client waits
/// at least a second and sends again.
#[tokio::test]
async fn a_throttled_call_is_sent_again_after_a_second() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-throttled", "Spectrum", "premium")
        .await;
    api.set_faults(json!([on(
        "/decisions/authorize",
        json!({"kind": "throttled"}),
        Some(1)
    )]))
    .await;
    let started = std::time::Instant::now();
    let answer = play(&api, &tv).await;
    assert_eq!(answer["body"]["decision"], "permit", "{answer}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
}

/// §7.1 and §9.2: degraded access (an AuthNAll rule): S1 answers `authorize` with
/// `reasonType: degraded`, the profile is `degraded` and decisions come from `degradation`;
/// the TV is signed in at once and plays.
#[tokio::test]
async fn degraded_access_signs_the_tv_in_and_plays() {
    let api = Api::start(&[]).await;
    let tv = api.register("tv-degraded").await;
    api.set_faults(json!([{"fault": {"kind": "degraded", "mvpd": "Spectrum"}}]))
        .await;
    let answer = api
        .post("/tv/v1/activations", &tv, json!({"mvpd": "Spectrum"}))
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    let profile = api.get("/tv/v1/profile", &tv).await.json();
    assert_eq!(profile["authenticated"], true, "{profile}");
    assert_eq!(profile["provider"], "Spectrum");
    let permitted = play(&api, &tv).await;
    assert_eq!(permitted["body"]["decision"], "permit", "{permitted}");
}

/// §9: preauthorize takes "usually up to 5" resources per call, a limit set per MVPD, and more
/// is `too_many_resources` (403, action configuration): the service splits the resources into
/// calls of `--preauthorize-chunk`; a chunk above the MVPD's limit is halved for that MVPD
/// and asked again, and the smaller size is remembered.
#[tokio::test]
async fn preauthorization_is_asked_in_chunks_of_the_configured_size() {
    let resources =
        json!({"resources": ["REF30", "news", "premium-sports", "mature-movies", "a", "b"]});
    let api = Api::start(&["--preauthorize-chunk", "2"]).await;
    let tv = api
        .signed_in_device("tv-chunks", "Spectrum", "premium")
        .await;
    let answer = api
        .post("/tv/v1/preauthorize", &tv, resources.clone())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["decisions"].as_array().map(Vec::len), Some(6));

    let api = Api::start(&["--preauthorize-chunk", "6"]).await;
    let tvs = [
        api.signed_in_device("tv-big-chunk", "Spectrum", "premium")
            .await,
        api.signed_in_device("tv-big-chunk-2", "Spectrum", "premium")
            .await,
    ];
    let calls = |outcome: &'static str| {
        let api = &api;
        async move {
            common::sample(
                &api.metrics().await,
                &format!(
                    "adobe_pass_calls_total{{endpoint=\"preauthorize\",outcome=\"{outcome}\"}}"
                ),
            )
            .unwrap_or(0.0)
        }
    };
    // A second device of the same MVPD: nothing it asks is cached, the halved size is.
    for (round, tv) in tvs.iter().enumerate() {
        let answer = api.post("/tv/v1/preauthorize", tv, resources.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{round}: {}", answer.text);
        let decisions = answer.json()["decisions"].clone();
        assert_eq!(decisions.as_array().map(Vec::len), Some(6), "{decisions}");
        assert_eq!(decisions[0]["authorized"], true, "{decisions}");
    }
    assert_eq!(
        calls("client_error").await,
        1.0,
        "6 refused once, then 3 and 3"
    );
    assert_eq!(
        calls("success").await,
        4.0,
        "two devices, two calls of 3 each"
    );
}

/// A viewer pressing Play waits no longer than the decision budget, however slow Adobe is:
/// the TV hears `upstream_timeout` with `Retry-After` (the per-attempt timeout alone would
/// have let the call run on).
#[tokio::test]
async fn a_slow_decision_answers_within_its_budget() {
    let api = Api::start(&["--decision-budget-ms", "800"]).await;
    let tv = api.signed_in_device("tv-slow", "Spectrum", "premium").await;
    api.set_faults(json!([on(
        "/decisions/authorize",
        json!({"kind": "latency", "millis": 5000}),
        None
    )]))
    .await;
    let answer = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await;
    tv_api_support::assert_retryable(&answer, StatusCode::SERVICE_UNAVAILABLE, "upstream_timeout");
}
