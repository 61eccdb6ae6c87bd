//! A restart keeps devices and sign-ins: the real binary on a SQLite store (and two nodes on
//! PostgreSQL and Redis), talking to an emulator started here; stopped with SIGTERM and started
//! again on the same store.

mod common;
mod tv_api_support;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tv_api_support::register_body;
use tve_activate::emulator::{self, EmulatorSettings, DEFAULT_SOFTWARE_STATEMENT};

/// The binary serving on `port` with its store in `data`.
struct Process {
    child: Child,
    base_url: String,
}

impl Process {
    fn start(data: &Path, port: u16, emulator_url: &str) -> Self {
        let store = format!("sqlite://{}", data.join("tve.db").display());
        Self::start_with(data, port, emulator_url, &["--store-url", &store])
    }

    /// The binary with `settings` besides its listeners and Adobe Pass.
    fn start_with(data: &Path, port: u16, emulator_url: &str, settings: &[&str]) -> Self {
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_tve-activate"))
            .args(["--listen", &listen])
            .args(settings)
            .args(["--internal-listen", "127.0.0.1:0"])
            .args(["--adobe-pass-url", emulator_url])
            .args(["--software-statement", DEFAULT_SOFTWARE_STATEMENT])
            .env("RUST_LOG", "warn")
            .current_dir(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        Self {
            child,
            base_url: format!("http://{listen}"),
        }
    }

    async fn wait_until_ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            // Ready: the readiness probe registered (its own DCR client) and checked the domains.
            if let Ok(response) = http.get(format!("{}/readyz", self.base_url)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not start on {}", self.base_url);
    }

    async fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "clean exit after SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    process: &Process,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", process.base_url);
    let mut request = match &body {
        Some(body) => http.post(url).json(body),
        None => http.get(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("response");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

/// The viewer opens `code` on the service's site, then signs in on the emulator's provider
/// login (the TV chose Spectrum).
async fn sign_in(http: &reqwest::Client, site_url: &str, emulator_url: &str, code: &str) {
    common::phone_opens(http, site_url, code).await;
    common::phone_resumes(http, emulator_url, code, "Spectrum").await;
    let authenticate = http
        .get(format!("{emulator_url}/api/v2/authenticate/REF30/{code}"))
        .send()
        .await
        .expect("authenticate");
    let login = authenticate.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let done = http
        .post(&login)
        .form(&[
            ("username", "premium"),
            ("password", "premium"),
            ("action", "login"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn device_token_and_profile_survive_a_restart_without_a_second_registration() {
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator");
    let data = tempfile::tempdir().expect("temp dir");
    let port = common::free_port();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let first = Process::start(data.path(), port, emulator.base_url());
    first.wait_until_ready(&http).await;
    let (status, registered) = call(
        &http,
        &first,
        "/tv/v1/devices",
        None,
        Some(register_body("tv-restart")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let token = registered["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, activation) = call(
        &http,
        &first,
        "/tv/v1/activations",
        Some(&token),
        Some(json!({"mvpd": "Spectrum"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{activation}");
    let code = activation["code"].as_str().expect("code").to_owned();
    assert_eq!(
        emulator.state().store().clients.len(),
        2,
        "one DCR client for the device, one for the readiness probe"
    );

    // The viewer signs in on the emulator's provider login (the phone's server has a client
    // of its own).
    sign_in(&http, &first.base_url, emulator.base_url(), &code).await;
    let (_, status) = call(
        &http,
        &first,
        &format!("/tv/v1/activations/{code}?wait=20"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status["status"], "authenticated", "{status}");
    let registrations = emulator.state().store().clients.len();
    first.terminate().await;

    let second = Process::start(data.path(), port, emulator.base_url());
    second.wait_until_ready(&http).await;
    let (status, profile) = call(&http, &second, "/tv/v1/profile", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "the token still works: {profile}");
    assert_eq!(profile["authenticated"], true, "{profile}");
    assert_eq!(profile["provider"], "Spectrum");
    let (status, play) = call(
        &http,
        &second,
        "/tv/v1/authorize",
        Some(&token),
        Some(json!({"resource": "REF30"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{play}");
    assert_eq!(play["decision"], "permit");
    assert_eq!(
        emulator.state().store().clients.len(),
        registrations,
        "the DCR client was not registered again"
    );
    second.terminate().await;
}

#[tokio::test]
async fn a_restart_of_both_nodes_loses_no_device_credential_or_activation() {
    let Some(deployment) = common::Deployment::new().await else {
        return;
    };
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator");
    let settings = deployment.settings();
    let ports = [common::free_port(), common::free_port()];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let start =
        |port| Process::start_with(deployment.dir.path(), port, emulator.base_url(), &settings);
    let nodes = [start(ports[0]), start(ports[1])];
    for node in &nodes {
        node.wait_until_ready(&http).await;
    }

    // A device signed in through node 1, another waiting with a pending code on node 2.
    let (status, registered) = call(
        &http,
        &nodes[0],
        "/tv/v1/devices",
        None,
        Some(register_body("tv-restart-a")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let token = registered["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, activation) = call(
        &http,
        &nodes[0],
        "/tv/v1/activations",
        Some(&token),
        Some(json!({"mvpd": "Spectrum"})),
    )
    .await;
    let code = activation["code"].as_str().expect("code").to_owned();
    sign_in(&http, &nodes[0].base_url, emulator.base_url(), &code).await;
    let (_, done) = call(
        &http,
        &nodes[1],
        &format!("/tv/v1/activations/{code}?wait=20"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(done["status"], "authenticated", "{done}");
    let (_, other) = call(
        &http,
        &nodes[1],
        "/tv/v1/devices",
        None,
        Some(register_body("tv-restart-b")),
    )
    .await;
    let waiting = other["deviceToken"].as_str().expect("token").to_owned();
    let (_, pending) = call(
        &http,
        &nodes[1],
        "/tv/v1/activations",
        Some(&waiting),
        Some(json!({})),
    )
    .await;
    let pending_code = pending["code"].as_str().expect("code").to_owned();
    let clients = emulator.state().store().clients.len();

    for node in nodes {
        node.terminate().await;
    }
    let nodes = [start(ports[0]), start(ports[1])];
    for node in &nodes {
        node.wait_until_ready(&http).await;
    }

    let (status, profile) = call(&http, &nodes[1], "/tv/v1/profile", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["authenticated"], true, "{profile}");
    let (status, still) = call(
        &http,
        &nodes[0],
        &format!("/tv/v1/activations/{pending_code}"),
        Some(&waiting),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{still}");
    assert_eq!(still["status"], "pending", "{still}");
    assert_eq!(
        emulator.state().store().clients.len(),
        clients,
        "no device registered again with Adobe"
    );
}
