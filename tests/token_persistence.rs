//! Access tokens are kept "in persistent storage until expiration" (REST API V2 checklist §1,
//! MANDATORY): a node started again on the same store asks Adobe for no new token while the
//! stored one is valid, on SQLite and on PostgreSQL.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use tv_api_support::Api;
use tve_activate::emulator::{self, EmulatorSettings, RunningEmulator};

/// Token requests the emulator answered so far (it keeps every token until it expires).
fn tokens_issued(emulator: &RunningEmulator) -> usize {
    emulator.state().store().tokens.len()
}

/// Registers a device on a node started with `first`, then starts another with `second` on the
/// same store (a restart) and calls Adobe for the device there: one token request in all.
async fn a_restart_reuses_the_stored_token(first: &[&str], second: &[&str]) {
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator");
    let before = Api::node_of(emulator.base_url(), first).await;
    let token = before.register("tv-token-kept").await;
    assert_eq!(
        tokens_issued(&emulator),
        1,
        "registration fetched one token"
    );
    drop(before);

    let second = Api::node_of(emulator.base_url(), second).await;
    let profile = second.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    let providers = second.get("/tv/v1/providers", &token).await;
    assert_eq!(providers.status, StatusCode::OK, "{}", providers.text);
    assert_eq!(
        tokens_issued(&emulator),
        1,
        "the restarted node used the stored token"
    );
}

#[tokio::test]
async fn a_restart_on_sqlite_asks_for_no_new_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("tve.db").display());
    let store = ["--store-url", url.as_str()];
    a_restart_reuses_the_stored_token(&store, &store).await;
}

#[tokio::test]
async fn a_restart_on_postgres_asks_for_no_new_token() {
    let Some(deployment) = common::Deployment::new().await else {
        return;
    };
    // The restarted node shares nothing with the first but the database: a Redis namespace of
    // its own holds no token.
    let mut second = deployment.settings();
    let namespace = format!("{}-restarted", deployment.namespace);
    second[7] = &namespace;
    a_restart_reuses_the_stored_token(&deployment.settings(), &second).await;
}
