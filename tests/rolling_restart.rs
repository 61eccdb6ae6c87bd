//! A node asked to stop drains: readiness fails at once, event streams end with `reconnect`
//! (each with its own delay), long polls answer within the drain's spread, and the process exits
//! within its shutdown deadline.

mod common;
mod tv_api_support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::Server;
use serde_json::{json, Value};

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answer");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_stopping_node_drains_and_exits_within_its_deadline() {
    let server = Server::start(&["--shutdown-deadline", "10"]);
    let base = server.base_url.clone();
    let http = reqwest::Client::new();
    let registered = post(
        &http,
        format!("{base}/tv/v1/devices"),
        None,
        tv_api_support::register_body("tv-draining"),
    )
    .await;
    let token = registered["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let started = post(
        &http,
        format!("{base}/tv/v1/activations"),
        Some(&token),
        json!({}),
    )
    .await;
    let code = started["code"].as_str().expect("code").to_owned();
    let mut stream = http
        .get(format!("{base}/tv/v1/activations/{code}/events"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    let first = stream.chunk().await.expect("read").expect("a first event");
    assert!(String::from_utf8_lossy(&first).contains("event: status"));

    let pid = server.child.id().to_string();
    let asked = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs")
        .success());

    // The stream ends with a reconnect event.
    let mut rest = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .expect("the stream ends in time")
        .expect("read")
    {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(rest.contains("event: reconnect"), "{rest:?}");
    assert!(
        rest.contains("\"retryAfterMs\":"),
        "its own delay: {rest:?}"
    );
    // Readiness fails while the node still answers; a long poll answers after its share of the
    // drain's spread (1 s to 6 s), not its 25 s.
    let ready = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("still answering");
    assert_eq!(ready.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json::<Value>().await.expect("json"),
        json!({"status": "stopping"})
    );
    let polled = Instant::now();
    let poll = http
        .get(format!("{base}/tv/v1/activations/{code}?wait=25"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll");
    assert_eq!(
        poll.json::<Value>().await.expect("json")["status"],
        "pending"
    );
    assert!(
        polled.elapsed() < Duration::from_secs(7),
        "answered within the spread"
    );

    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "exited within the deadline"
    );
}
