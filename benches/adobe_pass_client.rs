//! The Adobe Pass client's overhead per call: `AdobePass::profiles` against a bare reqwest call
//! to the same emulator endpoint with the same headers. Run with
//! `cargo bench --bench adobe_pass_client`.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use criterion::{criterion_group, criterion_main, Criterion};
use tve_activate::{
    adobe_pass::{
        AdobePass, ClientSettings, DeviceIdentity, DeviceInfo, Environment, MemoryCredentialsStore,
        Secret, ThrottleSettings,
    },
    clock::SystemClock,
    emulator::{self, EmulatorSettings},
};

fn device_info() -> DeviceInfo {
    DeviceInfo {
        model: "AppleTV".into(),
        version: "4K".into(),
        os_name: "tvOS".into(),
        os_version: "17.1".into(),
        connection_type: "WiFi".into(),
        ..DeviceInfo::default()
    }
}

/// A bearer token for a fresh DCR client, obtained with plain reqwest.
async fn bare_token(http: &reqwest::Client, base: &str, statement: &str, info: &str) -> String {
    let registration: serde_json::Value = http
        .post(format!("{base}/o/client/register"))
        .header("Accept", "application/json;charset=utf-8")
        .header("X-Device-Info", info)
        .json(&serde_json::json!({ "software_statement": statement }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("register")
        .json()
        .await
        .expect("registration");
    let token: serde_json::Value = http
        .post(format!("{base}/o/client/token"))
        .header("Accept", "application/json;charset=utf-8")
        .header("X-Device-Info", info)
        .form(&[
            ("client_id", registration["client_id"].as_str().expect("id")),
            (
                "client_secret",
                registration["client_secret"].as_str().expect("secret"),
            ),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("token")
        .json()
        .await
        .expect("token body");
    token["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

fn profiles(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let emulator = runtime
        .block_on(emulator::spawn(EmulatorSettings::default()))
        .expect("emulator");
    let base = emulator.base_url().to_owned();

    let mut settings = ClientSettings::new(
        Environment::Custom(base.parse().expect("url")),
        "REF30",
        Secret::new(emulator.software_statement()),
    );
    // The benchmark calls far faster than Adobe allows one device; measure the bookkeeping,
    // not the waiting.
    settings.throttle = ThrottleSettings {
        burst: u32::MAX,
        interval: Duration::from_nanos(1),
        ..ThrottleSettings::default()
    };
    let store = std::sync::Arc::new(MemoryCredentialsStore::new());
    let adobe = AdobePass::new(settings, store, SystemClock::shared()).expect("client");
    let device = DeviceIdentity::new(
        "bench-tv",
        &device_info(),
        "203.0.113.7:53124".parse().expect("addr"),
    );
    runtime
        .block_on(adobe.register_device(&device))
        .expect("registers");

    let http = reqwest::Client::new();
    let info = STANDARD.encode(serde_json::to_vec(&device_info()).expect("json"));
    let token = runtime.block_on(bare_token(
        &http,
        &base,
        emulator.software_statement(),
        &info,
    ));
    let url = format!("{base}/api/v2/REF30/profiles");
    let identifier = format!("fingerprint {}", STANDARD.encode("bench-tv-bare"));

    let mut group = c.benchmark_group("profiles");
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            http.get(&url)
                .bearer_auth(&token)
                .header("Accept", "application/json;charset=utf-8")
                .header("AP-Device-Identifier", &identifier)
                .header("X-Device-Info", &info)
                .header("X-Forwarded-For", "203.0.113.8")
                .send()
                .await
                .expect("answer")
                .bytes()
                .await
                .expect("body")
        });
    });
    group.bench_function("adobe_pass_client", |b| {
        b.to_async(&runtime)
            .iter(|| async { adobe.profiles(&device).await.expect("profiles") });
    });
    group.finish();
}

criterion_group!(benches, profiles);
criterion_main!(benches);
