//! The registered application's domains (TVE Dashboard): Adobe validates the sessions'
//! `domainName` and every redirect URL against them. A node whose settings fall outside them
//! stays unready and names the setting to fix; one inside them is ready and starts sessions.

mod adobe_pass_support;
mod common;
mod tv_api_support;

use reqwest::{Method, StatusCode};
use tv_api_support::Api;
use tve_activate::emulator::{responses::Domain, Dataset, EmulatorSettings};

/// An emulator whose registered application lists `domains` only.
fn registered(domains: &[&str]) -> EmulatorSettings {
    let mut dataset = Dataset::default();
    dataset.service_provider.domains = domains
        .iter()
        .map(|name| Domain {
            name: (*name).to_owned(),
            mvpd_initiated: false,
        })
        .collect();
    EmulatorSettings {
        dataset,
        ..EmulatorSettings::default()
    }
}

/// Why the operators' `/readyz` says the node is not ready (it must say so).
async fn unready_because(api: &Api) -> String {
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    ready.json()["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_domain_adobe_does_not_list_keeps_the_node_unready_and_is_named() {
    let api = Api::with_emulator(
        registered(&["127.0.0.1"]),
        &["--domain-name", "watch.example.net"],
    )
    .await;
    let reason = unready_because(&api).await;
    assert!(
        reason.starts_with("--domain-name: watch.example.net is not among"),
        "{reason}"
    );
    assert!(reason.contains("(127.0.0.1)"), "{reason}");
    assert_eq!(unready_because(&api).await, reason, "the next probe");
    let configuration_calls = common::sample(
        &api.metrics().await,
        "adobe_pass_calls_total{endpoint=\"configuration\",outcome=\"success\"}",
    );
    assert_eq!(
        configuration_calls,
        Some(1.0),
        "probes and scrapes within a minute answer from memory"
    );

    let redirect = Api::with_emulator(
        registered(&["127.0.0.1"]),
        &["--dcr-redirect-uri", "https://app.example.org/done"],
    )
    .await;
    let reason = unready_because(&redirect).await;
    assert!(
        reason.contains("invalid_redirect_uri"),
        "DCR refuses it first: {reason}"
    );
}

#[tokio::test]
async fn settings_within_the_domains_are_ready_and_start_sessions() {
    let api = Api::with_emulator(registered(&["127.0.0.1", "localhost"]), &[]).await;
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    let token = api.register("tv-domains").await;
    let activation = api.start_activation(&token, "Cablevision").await;
    assert!(
        activation["code"].is_string(),
        "S1 takes the domain name: {activation}"
    );
}
