//! "Not signed in" is cached a few seconds per device, so a TV polling its profile costs
//! Adobe one P1 per that time, and a sign-in drops it at once.

mod common;
mod tv_api_support;

use tv_api_support::Api;

async fn p1_calls(api: &Api) -> f64 {
    common::sample(
        &api.metrics().await,
        "adobe_pass_calls_total{endpoint=\"profiles\",outcome=\"success\"}",
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn not_signed_in_is_asked_once_and_a_sign_in_shows_at_once() {
    let api = Api::start(&[]).await;
    let tv = api.register("tv-polling").await;
    let before = p1_calls(&api).await;
    for _ in 0..2 {
        let profile = api.get("/tv/v1/profile", &tv).await.json();
        assert_eq!(profile["authenticated"], false, "{profile}");
    }
    assert_eq!(p1_calls(&api).await, before + 1.0, "one P1 for two looks");

    let activation = api.start_activation(&tv, "Spectrum").await;
    let code = activation["code"].as_str().expect("code");
    api.provider_login(code, "premium").await;
    let status = api
        .get(&format!("/tv/v1/activations/{code}?wait=20"), &tv)
        .await;
    assert_eq!(status.json()["status"], "authenticated", "{}", status.text);
    let profile = api.get("/tv/v1/profile", &tv).await.json();
    assert_eq!(profile["authenticated"], true, "{profile}");
    assert_eq!(profile["provider"], "Spectrum");
}
