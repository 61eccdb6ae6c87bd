//! Adobe's preauthorization limit is "usually up to 5" resources per call, "changed after
//! agreeing with MVPDs" (S2S cookbook, Step 5): an MVPD with a lower limit answers
//! `too_many_resources`, and the service halves its chunk for that MVPD only.

mod common;
mod tv_api_support;

use serde_json::json;
use tv_api_support::Api;
use tve_activate::emulator::{dataset::Dataset, EmulatorSettings};

async fn preauthorize_calls(api: &Api, outcome: &str) -> f64 {
    common::sample(
        &api.metrics().await,
        &format!("adobe_pass_calls_total{{endpoint=\"preauthorize\",outcome=\"{outcome}\"}}"),
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn an_mvpd_with_a_lower_limit_gets_smaller_chunks() {
    let mut dataset = Dataset::default();
    for mvpd in &mut dataset.mvpds {
        if mvpd.id == "Cablevision" {
            mvpd.preauthorize_limit = Some(2);
        }
    }
    let settings = EmulatorSettings {
        dataset,
        ..EmulatorSettings::default()
    };
    let api = Api::with_emulator(settings, &[]).await;
    let resources = json!({"resources": ["REF30", "news", "premium-sports", "mature-movies", "x"]});

    let spectrum = api.signed_in_device("tv-sp", "Spectrum", "premium").await;
    let answer = api
        .post("/tv/v1/preauthorize", &spectrum, resources.clone())
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    assert_eq!(preauthorize_calls(&api, "client_error").await, 0.0);
    assert_eq!(
        preauthorize_calls(&api, "success").await,
        1.0,
        "5 in one call"
    );

    let cablevision = api
        .signed_in_device("tv-cv", "Cablevision", "premium")
        .await;
    let answer = api
        .post("/tv/v1/preauthorize", &cablevision, resources)
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    let decisions = answer.json()["decisions"].clone();
    assert_eq!(decisions.as_array().map(Vec::len), Some(5), "{decisions}");
    assert_eq!(decisions[0]["authorized"], true, "{decisions}");
    assert_eq!(
        preauthorize_calls(&api, "client_error").await,
        1.0,
        "5 refused, then 2"
    );
    assert_eq!(
        preauthorize_calls(&api, "success").await,
        4.0,
        "then 2, 2 and 1"
    );
}
