//! What pending codes cost upstream: nothing until a phone opens them, then one P3 poll per
//! interval until the viewer signs in, each counted at `/metrics`.

mod common;
mod tv_api_support;

use std::time::Duration;

use tv_api_support::Api;

#[tokio::test]
async fn an_unopened_code_costs_adobe_nothing_and_an_opened_one_is_polled_until_sign_in() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-polled").await;
    let activation = api.start_activation(&token, "Spectrum").await;
    let code = activation["code"].as_str().expect("code").to_owned();

    // A TV waits on the code for more than two poll intervals: nobody opened it, so Adobe is
    // not asked about it.
    let waited = api
        .get(&format!("/tv/v1/activations/{code}?wait=9"), &token)
        .await;
    assert_eq!(waited.json()["status"], "pending");
    let metrics = api.metrics().await;
    assert!(!metrics.contains("endpoint=\"code_profile\""), "{metrics}");
    assert_eq!(
        common::sample(&metrics, "tve_pending_activations"),
        Some(1.0)
    );
    assert_eq!(
        common::sample(&metrics, "tve_activation_watchers"),
        Some(1.0)
    );

    // The phone opens it: the watcher asks Adobe, about once per interval.
    common::phone_opens(&api.http, &api.base_url, &code).await;
    common::eventually(
        Duration::from_secs(10),
        "a poll of the opened code",
        || async {
            let metrics = api.metrics().await;
            common::sample(&metrics, "tve_activation_polls_total{result=\"pending\"}")
                .filter(|polls| *polls >= 1.0)
        },
    )
    .await;

    // The viewer signs in and never comes back to the completion page: the TV waiting on a
    // long poll learns of it from the watcher.
    let waiting = {
        let api_http = api.http.clone();
        let url = format!("{}/tv/v1/activations/{code}?wait=20", api.base_url);
        let token = token.clone();
        tokio::spawn(async move {
            let answer = api_http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("long poll");
            answer.json::<serde_json::Value>().await.expect("json")
        })
    };
    common::eventually(Duration::from_secs(5), "the TV waiting", || async {
        let metrics = api.metrics().await;
        common::sample(&metrics, "tve_waiting_tvs{wait=\"long_poll\"}").filter(|tvs| *tvs == 1.0)
    })
    .await;
    api.provider_login(&code, "premium").await;
    let done = waiting.await.expect("long poll task");
    assert_eq!(done["status"], "authenticated", "{done}");

    let metrics = api.metrics().await;
    assert!(
        metrics.contains("route=\"/tv/v1/activations/{code}\""),
        "requests are timed by route: {metrics}"
    );
    assert!(!metrics.contains(&code), "no code in any label: {metrics}");
    assert_eq!(
        common::sample(&metrics, "tve_activation_polls_total{result=\"signed_in\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        common::sample(
            &metrics,
            "adobe_pass_calls_total{endpoint=\"code_profile\",outcome=\"success\"}"
        ),
        common::sample(&metrics, "tve_activation_polls_total{result=\"pending\"}").map(|p| p + 1.0),
        "each poll is one call, without retries: {metrics}"
    );
    common::eventually(Duration::from_secs(5), "nothing left to follow", || async {
        let metrics = api.metrics().await;
        (common::sample(&metrics, "tve_pending_activations") == Some(0.0)
            && common::sample(&metrics, "tve_activation_watchers") == Some(0.0)
            && common::sample(&metrics, "tve_waiting_tvs{wait=\"long_poll\"}") == Some(0.0))
        .then_some(())
    })
    .await;
}
