//! The activation funnel as the operators see it: one TV walks every step (code, phone, provider,
//! sign-in, plays, TempPass) through the real site and API, and each counter is read back from
//! `/metrics` with the provider and TV platform as labels and nothing else.

mod common;
mod tv_api_support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::{Api, Browser};
use tve_activate::emulator::{EmulatorSettings, Ttls};

fn step(name: &str, provider: &str) -> String {
    format!(
        "tve_activation_funnel_total{{step=\"{name}\",provider=\"{provider}\",platform=\"tvos\"}}"
    )
}

/// Follows a redirect by hand (the test client does not), giving the `Location`.
fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

#[tokio::test]
async fn one_activation_walks_the_funnel_and_every_step_is_counted() {
    // A business rule denies one resource, so a play can be denied.
    let api = Api::start(&["--denied-resources", "Spectrum:news"]).await;
    let token = api.register("tv-funnel").await;

    // The TV shows a code, choosing no provider.
    let code = api
        .post("/tv/v1/activations", &token, json!({}))
        .await
        .json()["code"]
        .as_str()
        .expect("code")
        .to_owned();

    // The phone opens it, confirms it, picks a provider and signs in there.
    let mut phone = Browser::new(&api);
    let (status, _) = phone.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = phone.csrf();
    let origin = api.public_url.clone();
    let confirmed = phone
        .post(
            "confirm",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&origin),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert!(location(&confirmed).contains("/activate/provider"));
    let signing_in = phone
        .post(
            "sign-in",
            &[
                ("code", code.as_str()),
                ("mvpd", "Spectrum"),
                ("csrf", csrf.as_str()),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(signing_in.status(), StatusCode::FOUND);
    let complete = api
        .sign_in_at_provider(&location(&signing_in), "premium")
        .await;
    let path = complete
        .strip_prefix(&api.public_url)
        .expect("back to this site");
    let (status, _) = phone.get(path).await;
    assert_eq!(status, StatusCode::OK);

    // The TV plays twice: one permit, one resource the viewer may not watch.
    let play = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(play.json()["decision"], "permit", "{}", play.text);
    let denied = api
        .post("/tv/v1/authorize", &token, json!({"resource": "news"}))
        .await;
    assert_eq!(denied.json()["decision"], "deny", "{}", denied.text);

    // Another TV's viewer cancels a code; a third TV starts TempPass.
    let other = api.register("tv-funnel-cancel").await;
    let cancelled = api.start_activation(&other, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut stranger = Browser::new(&api);
    stranger.get(&format!("/activate?code={cancelled}")).await;
    let csrf = stranger.csrf();
    let answer = stranger
        .post(
            "cancel",
            &[("code", cancelled.as_str()), ("csrf", csrf.as_str())],
            Some(&origin),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    let temp = api.register("tv-funnel-temppass").await;
    let started = api.post("/tv/v1/temppass", &temp, json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);

    let metrics = api.metrics().await;
    for (series, count) in [
        (step("code_issued", "none"), 1.0),
        (step("code_issued", "Spectrum"), 1.0),
        (step("code_opened", "none"), 1.0),
        (step("code_opened", "Spectrum"), 1.0),
        (step("provider_chosen", "Spectrum"), 1.0),
        (step("sign_in_started", "Spectrum"), 1.0),
        (step("signed_in", "Spectrum"), 1.0),
        (step("cancelled", "Spectrum"), 1.0),
        (
            "tve_activation_sign_in_seconds_count{platform=\"tvos\"}".to_owned(),
            1.0,
        ),
        (
            "tve_plays_total{provider=\"Spectrum\",platform=\"tvos\",decision=\"permit\"}"
                .to_owned(),
            1.0,
        ),
        (
            "tve_plays_total{provider=\"Spectrum\",platform=\"tvos\",decision=\"deny\"}".to_owned(),
            1.0,
        ),
        (
            "tve_temppass_starts_total{platform=\"tvos\"}".to_owned(),
            1.0,
        ),
        ("tve_ready{check=\"store\"}".to_owned(), 1.0),
        ("tve_ready{check=\"adobe_pass\"}".to_owned(), 1.0),
    ] {
        assert_eq!(
            common::sample(&metrics, &series),
            Some(count),
            "{series}\n{metrics}"
        );
    }
    for secret in [
        code.as_str(),
        cancelled.as_str(),
        token.as_str(),
        "127.0.0.1",
    ] {
        assert!(!metrics.contains(secret), "{secret} in a label");
    }
}

#[tokio::test]
async fn a_code_that_runs_out_of_time_counts_as_expired() {
    let settings = EmulatorSettings {
        ttls: Ttls {
            session: Duration::from_secs(1),
            ..Ttls::default()
        },
        ..EmulatorSettings::default()
    };
    let api = Api::with_emulator(settings, &[]).await;
    let token = api.register("tv-funnel-expiry").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let answer = api
        .get(&format!("/tv/v1/activations/{code}?wait=10"), &token)
        .await;
    assert_eq!(answer.json()["status"], "expired", "{}", answer.text);
    let metrics = api.metrics().await;
    assert_eq!(
        common::sample(&metrics, &step("expired", "Spectrum")),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        common::sample(&metrics, &step("signed_in", "Spectrum")),
        None
    );
}
