//! Configuration per platform type (Configuration FAQ 4-5; REST-API-V2.md §6): Adobe answers
//! C1 for the platform type it derives from the device information, and the service keeps one
//! list per platform type, not per `osName`.

mod common;
mod tv_api_support;

use reqwest::Method;
use serde_json::{json, Value};
use tv_api_support::Api;
use tve_activate::emulator::{
    dataset::{Dataset, Platform},
    EmulatorSettings,
};

/// The default world, with Cox boarded on Linux set-top boxes only and Verizon on Amazon's
/// Android devices only.
fn boarded_per_platform() -> EmulatorSettings {
    let mut dataset = Dataset::default();
    for mvpd in &mut dataset.mvpds {
        mvpd.platforms = match mvpd.id.as_str() {
            "Cox" => Some(vec![Platform {
                primary_hardware_type: Some("SetTopBox".to_owned()),
                os_name: Some("Linux".to_owned()),
                ..Platform::default()
            }]),
            "Verizon" => Some(vec![Platform {
                os_vendor: Some("Amazon".to_owned()),
                ..Platform::default()
            }]),
            _ => None,
        };
    }
    EmulatorSettings {
        dataset,
        ..EmulatorSettings::default()
    }
}

async fn register(api: &Api, device_id: &str, info: Value) -> String {
    let mut device_info = json!({
        "model": "TV", "version": "1", "osVersion": "1", "connectionType": "LAN"
    });
    if let (Some(all), Some(extra)) = (device_info.as_object_mut(), info.as_object()) {
        all.extend(extra.clone());
    }
    let answer = api
        .call(
            Method::POST,
            "/tv/v1/devices",
            None,
            Some(&json!({"deviceId": device_id, "deviceInfo": device_info}).to_string()),
        )
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    answer.json()["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn provider_ids(api: &Api, token: &str) -> Vec<String> {
    let answer = api.get("/tv/v1/providers", token).await;
    assert!(answer.status.is_success(), "{}", answer.text);
    answer.json()["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect()
}

/// Configuration calls Adobe answered, as `/metrics` counts them (a scrape runs the readiness
/// checks first).
async fn configuration_calls(api: &Api) -> f64 {
    common::sample(
        &api.metrics().await,
        "adobe_pass_calls_total{endpoint=\"configuration\",outcome=\"success\"}",
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn two_tvs_with_the_same_os_name_but_other_hardware_get_their_own_lists() {
    let api = Api::with_emulator(boarded_per_platform(), &[]).await;
    // Every scrape runs the readiness checks, whose domain check reads the configuration once
    // for the probe's own platform type: counted before the TVs come.
    let probe = configuration_calls(&api).await;
    let tv = register(
        &api,
        "linux-tv",
        json!({"osName": "Linux", "primaryHardwareType": "TV"}),
    )
    .await;
    let set_top_box = register(
        &api,
        "linux-stb",
        json!({"osName": "Linux", "primaryHardwareType": "SetTopBox"}),
    )
    .await;
    let tv_list = provider_ids(&api, &tv).await;
    let box_list = provider_ids(&api, &set_top_box).await;
    assert!(!tv_list.contains(&"Cox".to_owned()), "{tv_list:?}");
    assert!(box_list.contains(&"Cox".to_owned()), "{box_list:?}");
    assert!(
        tv_list.contains(&"Spectrum".to_owned()),
        "boarded everywhere"
    );

    let fire_tv = register(
        &api,
        "fire-tv",
        json!({"osName": "Android", "osVendor": "Amazon", "primaryHardwareType": "TV"}),
    )
    .await;
    let android_tv = register(
        &api,
        "android-tv",
        json!({"osName": "Android", "osVendor": "Google", "primaryHardwareType": "TV"}),
    )
    .await;
    assert!(provider_ids(&api, &fire_tv)
        .await
        .contains(&"Verizon".to_owned()));
    assert!(!provider_ids(&api, &android_tv)
        .await
        .contains(&"Verizon".to_owned()));

    // Each platform type was asked once; a second look is served from the cache.
    let asked = configuration_calls(&api).await;
    assert_eq!(asked - probe, 4.0);
    provider_ids(&api, &tv).await;
    provider_ids(&api, &set_top_box).await;
    assert_eq!(configuration_calls(&api).await, asked);
}
