//! The emulator's state file, over real HTTP: what a restarted emulator still knows, and the
//! errors for files it cannot use.

mod emulator_support;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use emulator_support::{Device, Harness, SP};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tve_activate::emulator::{self, EmulatorError, EmulatorSettings};

fn settings(path: &Path) -> EmulatorSettings {
    EmulatorSettings {
        state_file: Some(path.to_owned()),
        ..EmulatorSettings::default()
    }
}

async fn profile(h: &Harness, device: &Device, mvpd: &str) -> Value {
    let answer = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/{mvpd}"),
            Some(device),
            &[],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()["profiles"][mvpd].clone()
}

/// Waits until the file holds `needle` (the writer runs in the background).
fn wait_for(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never held {needle}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn clients_profiles_sessions_and_temp_passes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state").join("emulator.json");
    let h = Harness::start(settings(&path)).await;
    let tv = Device::new("living-room");
    h.sign_in(&tv, "Spectrum", "premium").await;
    let signed_in = profile(&h, &tv, "Spectrum").await;
    let play = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert_eq!(
        play.status,
        StatusCode::OK,
        "the first play starts the TempPass"
    );
    let temp_pass = profile(&h, &tv, "TempPass_TEST40").await;
    let pending = h.session_code(&Device::new("bedroom"), "Cox").await;

    // Written as things change, not only at stop; secrets and tokens only as digests.
    let text = wait_for(&path, &h.client_id);
    assert!(!text.contains(&h.client_secret));
    assert!(!text.contains(&h.token));

    let old_token = h.token.clone();
    let h = h.restart(settings(&path)).await;
    assert_eq!(h.token, old_token);
    let configuration = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/configuration"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(configuration.status, StatusCode::OK, "the old token works");
    let fresh = h
        .token_answer(&format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            h.client_id, h.client_secret
        ))
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
    assert_eq!(profile(&h, &tv, "Spectrum").await, signed_in);
    assert_eq!(
        profile(&h, &tv, "TempPass_TEST40").await["notAfter"],
        temp_pass["notAfter"],
        "the TempPass clock did not restart"
    );
    let session = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/sessions/{pending}"),
            Some(&Device::new("bedroom")),
            &[],
            None,
        )
        .await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);

    // A logout after the restart is kept too.
    h.api(
        Method::GET,
        &format!("/api/v2/{SP}/logout/Spectrum"),
        Some(&tv),
        &[],
        None,
    )
    .await;
    let h = h.restart(settings(&path)).await;
    let gone = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Spectrum"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert!(
        gone.json()["profiles"].get("Spectrum").is_none(),
        "{}",
        gone.text
    );
}

#[tokio::test]
async fn without_a_state_file_a_restart_forgets_the_client() {
    let h = Harness::default().await;
    let h = h.restart(EmulatorSettings::default()).await;
    let unknown = h
        .token_answer(&format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            h.client_id, h.client_secret
        ))
        .await;
    assert_eq!(unknown.json()["error"], "invalid_client");
}

async fn start_error(path: &Path) -> String {
    match emulator::spawn(settings(path)).await {
        Ok(_) => panic!("the emulator started on {}", path.display()),
        Err(error) => {
            assert!(matches!(error, EmulatorError::StateFile(_)), "{error:?}");
            error.to_string()
        }
    }
}

#[tokio::test]
async fn a_corrupt_or_unreadable_state_file_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("emulator.json");
    let shown = path.display().to_string();

    std::fs::write(
        &path,
        "{\"version\": 1, \"state\": {\"clients\": {\"abc\": ",
    )
    .expect("write");
    let cut = start_error(&path).await;
    assert!(cut.contains(&shown) && cut.contains("corrupt"), "{cut}");
    assert!(cut.contains("cut short"), "{cut}");

    std::fs::write(&path, "not json at all").expect("write");
    let garbage = start_error(&path).await;
    assert!(
        garbage.contains(&shown) && garbage.contains("not JSON"),
        "{garbage}"
    );

    let secret_looking = r#"{"version": 1, "state": {"clients": {"abc": {"secretSha256": 7}}}}"#;
    std::fs::write(&path, secret_looking).expect("write");
    let wrong = start_error(&path).await;
    assert!(wrong.contains("not the expected structure"), "{wrong}");

    std::fs::write(&path, r#"{"version": 99, "state": {}}"#).expect("write");
    let newer = start_error(&path).await;
    assert!(newer.contains("format version 99"), "{newer}");

    // Nothing was overwritten by the failed starts.
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        r#"{"version": 99, "state": {}}"#
    );

    let folder = dir.path().join("a-folder");
    std::fs::create_dir(&folder).expect("folder");
    let unreadable = start_error(&folder).await;
    assert!(
        unreadable.contains(&folder.display().to_string()) && unreadable.contains("cannot read"),
        "{unreadable}"
    );
}
