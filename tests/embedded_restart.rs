//! The embedded default across a restart: the emulator's state file beside the SQLite store
//! keeps the DCR clients whose credentials the store holds.

mod common;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{free_port, Server};
use serde_json::Value;

fn start(store: &Path) -> Server {
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_tve-activate"))
        .args(["--listen", &listen, "--internal-listen", "127.0.0.1:0"])
        .arg("--store-url")
        .arg(format!("sqlite://{}", store.display()))
        .env("RUST_LOG", "warn")
        .env_remove("TVE_ADOBE_PASS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    Server {
        child,
        base_url: format!("http://{listen}"),
    }
}

/// Polls `/readyz` until it answers, and returns its status.
async fn readiness(server: &Server) -> reqwest::StatusCode {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(format!("{}/readyz", server.base_url)).await {
            return response.status();
        }
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ids of the DCR clients the emulator's state file holds.
fn registered_clients(state_file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(state_file).expect("state file written");
    let document: Value = serde_json::from_str(&text).expect("state file is JSON");
    document["state"]["clients"]
        .as_object()
        .expect("clients")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_restart_keeps_the_emulator_clients_of_the_sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("db.sqlite");
    let state_file = dir.path().join("db.emulator.json");

    let first = start(&store);
    assert_eq!(readiness(&first).await, reqwest::StatusCode::OK);
    assert!(first.terminate().success());
    let before = registered_clients(&state_file);
    assert_eq!(before.len(), 1, "the readiness probe's client: {before:?}");

    let second = start(&store);
    assert_eq!(readiness(&second).await, reqwest::StatusCode::OK);
    assert!(second.terminate().success());
    assert_eq!(
        registered_clients(&state_file),
        before,
        "the probe kept its client instead of registering again"
    );
}
