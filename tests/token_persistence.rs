//! "Store the access tokens in persistent storage and reuse them until they expire" (REST API V2
//! checklist §1, MANDATORY): a node started again on the same store, or a device whose in-memory
//! slot was dropped, asks Adobe for no new token while the stored one is valid, on SQLite and on
//! PostgreSQL; once it is due for refresh, a new one is fetched.

mod adobe_pass_support;
mod common;
mod tv_api_support;

use std::{sync::Arc, time::Duration};

use adobe_pass_support::{device, manual_clock, settings};
use reqwest::StatusCode;
use tv_api_support::Api;
use tve_activate::{
    adobe_pass::{AdobePass, MemoryCredentialsStore},
    emulator::{self, EmulatorSettings, RunningEmulator},
};

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

/// A client with empty slots on the store of another is what a device finds when it comes back
/// after its slot went idle: the stored token serves until it is due for refresh.
#[tokio::test]
async fn a_device_whose_slot_was_dropped_reads_its_token_from_the_store() {
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator");
    let clock = manual_clock();
    let store = Arc::new(MemoryCredentialsStore::new());
    let client = || {
        AdobePass::new(
            settings(emulator.base_url(), emulator.software_statement()),
            store.clone(),
            clock.clone(),
        )
        .expect("client")
    };
    let tv = device("tv-idle");
    client().profiles(&tv).await.expect("profiles");
    assert_eq!(tokens_issued(&emulator), 1);

    client()
        .profiles(&tv)
        .await
        .expect("profiles with the stored token");
    assert_eq!(
        tokens_issued(&emulator),
        1,
        "no new token while it is valid"
    );

    // Past its refresh time the stored token is no longer used.
    clock.advance(Duration::from_secs(24 * 3600));
    client()
        .profiles(&tv)
        .await
        .expect("profiles with a new token");
    assert_eq!(tokens_issued(&emulator), 2, "a new token once it is due");
}
