//! One registered application per platform (review #20; TVE Dashboard, "Registered
//! applications": Adobe advises narrow applications, each with its own software statement):
//! a TV registers with its platform's statement, the others with the default one.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;
use tve_activate::emulator::{
    EmulatorSettings, Platform, PlatformApplication, DEFAULT_SOFTWARE_STATEMENT,
};

const ROKU_STATEMENT: &str = "eyJhbGciOiJub25lIn0.eyJwbGF0Zm9ybSI6InJva3UifQ.";

fn on(os_name: &str) -> Platform {
    Platform {
        os_name: Some(os_name.to_owned()),
        ..Platform::default()
    }
}

/// Two applications at Adobe: the default statement for Apple TV only, and Roku's own.
fn two_applications() -> EmulatorSettings {
    EmulatorSettings {
        platform_applications: vec![
            PlatformApplication {
                software_statement: DEFAULT_SOFTWARE_STATEMENT.to_owned(),
                platforms: vec![on("tvOS")],
            },
            PlatformApplication {
                software_statement: ROKU_STATEMENT.to_owned(),
                platforms: vec![on("Roku OS")],
            },
        ],
        ..EmulatorSettings::default()
    }
}

fn roku(device_id: &str) -> serde_json::Value {
    json!({
        "deviceId": device_id,
        "deviceInfo": {"model": "Roku Ultra", "version": "1", "osName": "Roku OS",
                       "osVersion": "12", "connectionType": "LAN"}
    })
}

async fn register(api: &Api, body: serde_json::Value) -> tv_api_support::Answer {
    api.call(
        reqwest::Method::POST,
        "/tv/v1/devices",
        None,
        Some(&body.to_string()),
    )
    .await
}

#[tokio::test]
async fn each_platform_registers_with_its_own_application() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("roku.jwt");
    std::fs::write(&file, ROKU_STATEMENT).expect("write");
    let api = Api::with_emulator(
        two_applications(),
        &[
            "--platform-software-statement-file",
            &format!("Roku OS={}", file.display()),
        ],
    )
    .await;

    let roku = register(&api, roku("roku-1")).await;
    assert_eq!(roku.status, StatusCode::CREATED, "{}", roku.text);
    let apple = register(&api, tv_api_support::register_body("apple-1")).await;
    assert_eq!(apple.status, StatusCode::CREATED, "{}", apple.text);
}

/// Without the Roku statement the Roku registers with the default one, which Adobe approves
/// for Apple TV only: the registration fails and the TV is told to contact support.
#[tokio::test]
async fn a_platform_without_its_statement_cannot_register() {
    let api = Api::with_emulator(two_applications(), &[]).await;
    let roku = register(&api, roku("roku-2")).await;
    assert!(
        roku.status.is_server_error(),
        "{} {}",
        roku.status,
        roku.text
    );
}
