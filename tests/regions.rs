//! Two regions on one machine: each with a node and a Redis of its own, both sharing the
//! PostgreSQL primary and Adobe. With `--store-bus` messages between nodes also go through
//! PostgreSQL: a TV waiting in region A learns within a second of a sign-in its viewer completed
//! on a phone that landed in region B, and region A losing its Redis leaves region B untouched.

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use common::OwnRedis;
use reqwest::StatusCode;
use tv_api_support::{Api, Browser};
use tve_activate::emulator::{self, EmulatorSettings};

#[tokio::test]
async fn a_tv_in_one_region_learns_at_once_of_a_sign_in_in_another() {
    let Some(deployment) = common::Deployment::new().await else {
        eprintln!("skipped: no PostgreSQL or Redis for the tests");
        return;
    };
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator starts");
    let ports = [common::free_port(), common::free_port()];
    let mut redis_a = OwnRedis::start(ports[0]);
    let _redis_b = OwnRedis::start(ports[1]);
    let urls = ports.map(|port| format!("redis://127.0.0.1:{port}"));
    let region = |redis: &str| {
        let mut flags = vec![
            "--store-url",
            &deployment.postgres,
            "--secrets-key-file",
            &deployment.key,
            "--store-bus",
            "true",
            "--redis-url",
        ];
        flags.push(redis);
        flags
            .iter()
            .map(|flag| (*flag).to_owned())
            .collect::<Vec<_>>()
    };
    let (flags_a, flags_b) = (region(&urls[0]), region(&urls[1]));
    let a = Api::node_of(
        emulator.base_url(),
        &flags_a.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let b = Api::node_of(
        emulator.base_url(),
        &flags_b.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;

    let token = a.register("tv-in-region-a").await;
    let code = a.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let waiting = a.long_poll(&code, &token);
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.provider_login(&code, "premium").await;
    let (status, page) = Browser::new(&b)
        .get(&format!("/activate/complete?code={code}"))
        .await;
    let completed = Instant::now();
    assert_eq!(status, StatusCode::OK, "{page}");
    let (learned, body) = waiting.await.expect("the TV's answer");
    assert_eq!(body["status"], "authenticated", "{body}");
    let late = learned.saturating_duration_since(completed);
    assert!(
        late < Duration::from_secs(1),
        "the TV in region A learned {late:?} after the phone in region B completed"
    );

    // Region A loses its Redis: region B registers, signs in and plays as before.
    redis_a.kill();
    let elsewhere = b
        .signed_in_device("tv-in-region-b", "Spectrum", "premium")
        .await;
    let play = b
        .post(
            "/tv/v1/authorize",
            &elsewhere,
            serde_json::json!({"resource": "REF30"}),
        )
        .await;
    assert_eq!(play.json()["decision"], "permit", "{}", play.text);
    let ready = b
        .call_internal(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
}
