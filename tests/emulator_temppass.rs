//! The emulator's TempPass as Adobe documents it: no profile before the first authorization
//! (or, told so, the one it would be), promotional trials shared by device or identity, and
//! the error variants of Adobe's samples.

mod emulator_support;

use std::time::{Duration, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD, Engine};
use emulator_support::{outcomes, Answer, Device, Harness, SP};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tve_activate::{
    clock::ManualClock,
    emulator::{EmulatorSettings, TempPassSettings},
};

const START: u64 = 1_750_000_000;

fn manual(temp_pass: TempPassSettings) -> (std::sync::Arc<ManualClock>, EmulatorSettings) {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(START));
    let settings = EmulatorSettings {
        clock: clock.clone(),
        temp_pass,
        ..EmulatorSettings::default()
    };
    (clock, settings)
}

fn identity(email: &str) -> (&'static str, String) {
    (
        "AP-TempPass-Identity",
        STANDARD.encode(format!(r#"{{"email":"{email}"}}"#)),
    )
}

async fn p2(h: &Harness, tv: &Device, mvpd: &str, extra: &[(&str, String)]) -> Answer {
    h.api(
        Method::GET,
        &format!("/api/v2/{SP}/profiles/{mvpd}"),
        Some(tv),
        extra,
        None,
    )
    .await
}

fn profile_of(answer: &Answer, mvpd: &str) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()["profiles"][mvpd].clone()
}

/// The clock starts at the first authorization (temp-pass-feature.md) and P2 is optional in
/// the TempPass flows: by default P2 shows no TempPass until the first D2 starts it.
#[tokio::test]
async fn p2_shows_no_temppass_before_its_first_authorization() {
    let (clock, settings) = manual(TempPassSettings::default());
    let h = Harness::start(settings).await;
    let tv = Device::new("strict-tv");
    let before = p2(&h, &tv, "TempPass_TEST40", &[]).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(
        before.json()["profiles"],
        serde_json::json!({}),
        "{}",
        before.text
    );
    let preview = h
        .decide("preauthorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(outcomes(&preview)[0].1, "D1 permits a TempPass not started");
    clock.advance(Duration::from_secs(600));
    let still = p2(&h, &tv, "TempPass_TEST40", &[]).await;
    assert_eq!(
        still.json()["profiles"],
        serde_json::json!({}),
        "D1 starts nothing"
    );

    let played_at = i64::try_from((START + 600) * 1000).expect("ms");
    let permit = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(outcomes(&permit)[0].1, "{}", permit.text);
    let started = profile_of(
        &p2(&h, &tv, "TempPass_TEST40", &[]).await,
        "TempPass_TEST40",
    );
    assert_eq!(started["notBefore"], played_at);
    assert_eq!(
        started["attributes"]["expiration_date"]["value"],
        played_at + 180_000
    );

    let promo = Device::new("strict-promo-tv");
    let viewer = identity("strict@example.com");
    let unplayed = p2(
        &h,
        &promo,
        "flexibleTempPass",
        std::slice::from_ref(&viewer),
    )
    .await;
    assert_eq!(
        unplayed.json()["profiles"],
        serde_json::json!({}),
        "{}",
        unplayed.text
    );
}

/// The lenient reading, kept behind a setting: P2 shows the TempPass as it would run from now,
/// and still the first authorization starts the clock.
#[tokio::test]
async fn p2_shows_the_would_be_temppass_when_told_to() {
    let (clock, settings) = manual(TempPassSettings {
        profile_before_first_play: true,
        ..TempPassSettings::default()
    });
    let h = Harness::start(settings).await;
    let tv = Device::new("lenient-tv");
    let would_be = profile_of(
        &p2(&h, &tv, "TempPass_TEST40", &[]).await,
        "TempPass_TEST40",
    );
    assert_eq!(would_be["notBefore"], START * 1000);
    assert_eq!(would_be["type"], "temporary");
    clock.advance(Duration::from_secs(600));
    let permit = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(outcomes(&permit)[0].1);
    let started = profile_of(
        &p2(&h, &tv, "TempPass_TEST40", &[]).await,
        "TempPass_TEST40",
    );
    assert_eq!(started["notBefore"], (START + 600) * 1000);
}

/// temp-pass-feature.md, promotional table: an existing identity hash on a new device, and a
/// new hash on an existing device, both continue the existing trial; only a new hash on a new
/// device starts a new one.
async fn play(
    h: &Harness,
    tv: &Device,
    who: &(&str, String),
    resource: &str,
) -> (bool, Option<String>) {
    let answer = h
        .decide(
            "authorize",
            tv,
            "flexibleTempPass",
            &[resource],
            std::slice::from_ref(who),
        )
        .await;
    let (_, authorized, code) = outcomes(&answer).remove(0);
    (authorized, code)
}

#[tokio::test]
async fn promotional_trials_follow_the_device_or_the_identity() {
    let h = Harness::default().await;
    let first_tv = Device::new("promo-first-tv");
    let other_tv = Device::new("promo-other-tv");
    let viewer = identity("viewer@example.com");

    assert_eq!(play(&h, &first_tv, &viewer, "REF30").await, (true, None));
    // Existing hash, new device: the same trial, one resource used.
    let shared = profile_of(
        &p2(
            &h,
            &other_tv,
            "flexibleTempPass",
            std::slice::from_ref(&viewer),
        )
        .await,
        "flexibleTempPass",
    );
    assert_eq!(
        shared["attributes"]["used_assets"]["value"],
        serde_json::json!(["REF30"])
    );
    assert_eq!(shared["attributes"]["remaining_resources"]["value"], 1);
    assert_eq!(play(&h, &other_tv, &viewer, "news").await, (true, None));
    // New hash, existing device: still that trial, now used up.
    let someone = identity("someone-else@example.com");
    assert_eq!(
        play(&h, &first_tv, &someone, "premium-sports").await,
        (
            false,
            Some("temporary_access_resources_limit_exceeded".to_owned())
        )
    );
    // New hash, new device: a new trial.
    let fresh_tv = Device::new("promo-fresh-tv");
    let newcomer = identity("new@example.com");
    assert_eq!(
        play(&h, &fresh_tv, &newcomer, "premium-sports").await,
        (true, None)
    );
}

fn error_of(answer: &Answer) -> (u16, String, String) {
    let body = answer.json();
    (
        answer.status.as_u16(),
        body["code"].as_str().expect("code").to_owned(),
        body["action"].as_str().expect("action").to_owned(),
    )
}

/// Adobe's P2 samples: a used-up promotional TempPass answers 403 with action `none`, a basic
/// one with `authentication`; a broken TempPass configuration answers 500
/// `invalid_configuration_temporary_access`, action `none` (promotional) or `configuration`
/// (basic), and decisions deny with it (action `configuration`, as the D2 samples).
#[tokio::test]
async fn temppass_errors_follow_adobe_samples() {
    let (clock, settings) = manual(TempPassSettings::default());
    let h = Harness::start(settings).await;
    let tv = Device::new("samples-tv");
    let viewer = identity("viewer@example.com");
    for (mvpd, extra) in [
        ("TempPass_TEST40", vec![]),
        ("flexibleTempPass", vec![viewer.clone()]),
    ] {
        let permit = h.decide("authorize", &tv, mvpd, &["REF30"], &extra).await;
        assert!(outcomes(&permit)[0].1, "{mvpd}: {}", permit.text);
    }
    clock.advance(Duration::from_secs(3601));
    let basic = p2(&h, &tv, "TempPass_TEST40", &[]).await;
    assert_eq!(
        error_of(&basic),
        (
            403,
            "temporary_access_duration_limit_exceeded".to_owned(),
            "authentication".to_owned()
        )
    );
    let promotional = p2(&h, &tv, "flexibleTempPass", std::slice::from_ref(&viewer)).await;
    assert_eq!(
        error_of(&promotional),
        (
            403,
            "temporary_access_duration_limit_exceeded".to_owned(),
            "none".to_owned()
        )
    );

    let (_, settings) = manual(TempPassSettings {
        misconfigured: vec!["TempPass_TEST40".to_owned(), "flexibleTempPass".to_owned()],
        ..TempPassSettings::default()
    });
    let h = Harness::start(settings).await;
    let broken = p2(&h, &tv, "flexibleTempPass", std::slice::from_ref(&viewer)).await;
    assert_eq!(
        error_of(&broken),
        (
            500,
            "invalid_configuration_temporary_access".to_owned(),
            "none".to_owned()
        )
    );
    let broken = p2(&h, &tv, "TempPass_TEST40", &[]).await;
    assert_eq!(
        error_of(&broken),
        (
            500,
            "invalid_configuration_temporary_access".to_owned(),
            "configuration".to_owned()
        )
    );
    let denied = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    let item = &denied.json()["decisions"][0];
    assert_eq!(item["authorized"], false);
    assert_eq!(
        item["error"]["code"],
        "invalid_configuration_temporary_access"
    );
    assert_eq!(item["error"]["status"], 500);
    assert_eq!(item["error"]["action"], "configuration");
}

/// Whether `device` may play `REF30` under the basic TempPass.
async fn plays(h: &Harness, device: &Device) -> bool {
    let answer = h
        .decide("authorize", device, "TempPass_TEST40", &["REF30"], &[])
        .await;
    outcomes(&answer).remove(0).1
}

/// A call of the Reset TempPass API (`path` after `/reset`).
async fn reset(h: &Harness, path: &str, query: &str, token: Option<&str>) -> Answer {
    h.call(
        Method::DELETE,
        &format!("/reset-tempass/v3/reset{path}?{query}"),
        &[],
        None,
        token,
    )
    .await
}

/// Adobe's Reset TempPass API (temp-pass-feature.md): with a DCR access token, a device's used-up
/// TempPass starts afresh (`device_id`), or every device's (`all`), and a promotional trial by
/// its identifier hash (`/generic`, `key`); 204 with no body. Without a token 401; without a
/// service provider or TempPass it names, 400, and nothing is reset.
#[tokio::test]
async fn the_reset_api_starts_used_up_temppasses_afresh() {
    let (clock, settings) = manual(TempPassSettings::default());
    let h = Harness::start(settings).await;
    let tv = Device::new("reset-tv");
    let other = Device::new("reset-other-tv");
    assert!(plays(&h, &tv).await && plays(&h, &other).await);
    clock.advance(Duration::from_secs(3601));
    assert!(!plays(&h, &tv).await && !plays(&h, &other).await, "used up");

    let token = Some(h.token.as_str());
    let unauthorized = reset(
        &h,
        "",
        &format!("requestor_id={SP}&mvpd_id=TempPass_TEST40"),
        None,
    )
    .await;
    assert_eq!(
        unauthorized.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        unauthorized.text
    );
    for bad in [
        format!("requestor_id={SP}"),
        "mvpd_id=TempPass_TEST40".to_owned(),
        "requestor_id=another&mvpd_id=TempPass_TEST40".to_owned(),
        format!("requestor_id={SP}&mvpd_id=Cablevision"),
    ] {
        let refused = reset(&h, "", &bad, token).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.text
        );
    }
    assert!(!plays(&h, &tv).await, "nothing was reset");

    let one = reset(
        &h,
        "",
        &format!("requestor_id={SP}&mvpd_id=TempPass_TEST40&device_id=reset-tv"),
        token,
    )
    .await;
    assert_eq!(one.status, StatusCode::NO_CONTENT, "{}", one.text);
    assert!(one.text.is_empty());
    assert!(plays(&h, &tv).await, "afresh");
    assert!(!plays(&h, &other).await, "only that device");
    let all = reset(
        &h,
        "",
        &format!("requestor_id={SP}&mvpd_id=TempPass_TEST40&device_id=all"),
        token,
    )
    .await;
    assert_eq!(all.status, StatusCode::NO_CONTENT, "{}", all.text);
    assert!(plays(&h, &other).await, "every device");

    // Promotional: the trial of one identifier hash, on whichever device it runs.
    let viewer = identity("viewer-hash");
    let promo_tv = Device::new("reset-promo-tv");
    for resource in ["REF30", "news"] {
        assert_eq!(play(&h, &promo_tv, &viewer, resource).await, (true, None));
    }
    assert!(
        !play(&h, &promo_tv, &viewer, "premium-sports").await.0,
        "used up"
    );
    let generic = reset(
        &h,
        "/generic",
        &format!("requestor_id={SP}&mvpd_id=flexibleTempPass&key=viewer-hash"),
        token,
    )
    .await;
    assert_eq!(generic.status, StatusCode::NO_CONTENT, "{}", generic.text);
    assert_eq!(
        play(&h, &promo_tv, &viewer, "premium-sports").await,
        (true, None)
    );
}
