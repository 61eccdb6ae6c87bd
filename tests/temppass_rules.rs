//! TempPass through the Streaming App API under Adobe's rules: the first play starts it (Adobe
//! may show no profile before), every TempPass play says when it ends, a used-up TempPass asks
//! for a sign-in and a broken one for support, without retries.

mod common;
mod tv_api_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::Api;
use tve_activate::{
    clock::ManualClock,
    emulator::{EmulatorSettings, TempPassSettings},
};

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("ms")
}

fn emulator(temp_pass: TempPassSettings) -> EmulatorSettings {
    EmulatorSettings {
        temp_pass,
        ..EmulatorSettings::default()
    }
}

/// Upstream calls to one endpoint, whatever their outcome, from the service's metrics.
fn calls(metrics: &str, endpoint: &str) -> u64 {
    let prefix = format!("adobe_pass_calls_total{{endpoint=\"{endpoint}\",");
    metrics
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// The TTL starts at the first authorization and P2 is optional (TempPass flows): the TempPass
/// plays whether or not Adobe shows a profile before that, and each play says when it ends.
#[tokio::test]
async fn temppass_plays_whatever_p2_shows_before_the_first_play() {
    for profile_before_first_play in [false, true] {
        let api = Api::with_emulator(
            emulator(TempPassSettings {
                profile_before_first_play,
                ..TempPassSettings::default()
            }),
            &[],
        )
        .await;
        let reading = format!("profile before first play: {profile_before_first_play}");
        let tv = api.register("tv-temppass-rules").await;
        let started = api
            .post("/tv/v1/temppass", &tv, json!({"mvpd": "TempPass_TEST40"}))
            .await;
        assert_eq!(
            started.status,
            StatusCode::OK,
            "{reading}: {}",
            started.text
        );
        assert_eq!(started.json()["provider"], "TempPass_TEST40");
        assert_eq!(
            started.json()["expiresAt"].is_i64(),
            profile_before_first_play,
            "{reading}: {}",
            started.text
        );

        let before = now_ms();
        let play = api
            .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
            .await;
        assert_eq!(play.status, StatusCode::OK, "{reading}: {}", play.text);
        assert_eq!(
            play.json()["decision"],
            "permit",
            "{reading}: {}",
            play.text
        );
        let ends_at = play.json()["expiresAt"].as_i64().expect("TempPass end");
        assert!(
            ends_at > before && ends_at <= now_ms() + 180_000,
            "{reading}: 3 minutes from the first play, not {ends_at}"
        );

        let profile = api.get("/tv/v1/profile", &tv).await.json();
        assert_eq!(
            profile["provider"], "TempPass_TEST40",
            "{reading}: {profile}"
        );
        let again = api
            .post("/tv/v1/temppass", &tv, json!({"mvpd": "TempPass_TEST40"}))
            .await
            .json();
        let replay = api
            .post("/tv/v1/authorize", &tv, json!({"resource": "news"}))
            .await
            .json();
        assert_eq!(replay["decision"], "permit", "{reading}: {replay}");
        assert_eq!(again["expiresAt"], replay["expiresAt"], "{reading}");
        assert!(
            (replay["expiresAt"].as_i64().expect("end") - ends_at).abs() < 1_000,
            "{reading}: continues, not restarts: {replay}"
        );
    }
}

/// A TV provider's play has no TempPass end.
#[tokio::test]
async fn a_tv_provider_play_carries_no_temppass_end() {
    let api = Api::start(&[]).await;
    let tv = api
        .signed_in_device("tv-rules-mvpd", "Spectrum", "basic")
        .await;
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    assert!(play.get("expiresAt").is_none(), "{play}");
}

/// The promotional P2 sample answers a used-up TempPass 403 with action `none`: the code
/// decides, so the TV is told to sign in with a provider, not to contact support.
#[tokio::test]
async fn a_used_up_promotional_temppass_asks_for_a_sign_in() {
    let mut settings = emulator(TempPassSettings::default());
    for mvpd in &mut settings.dataset.mvpds {
        if let (true, Some(rules)) = (mvpd.id == "flexibleTempPass", &mut mvpd.temp_pass) {
            rules.duration_seconds = 1;
        }
    }
    let api = Api::with_emulator(settings, &[]).await;
    let tv = api.register("tv-promo-used-up").await;
    let body = json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"});
    let started = api.post("/tv/v1/temppass", &tv, body.clone()).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let over = api.post("/tv/v1/temppass", &tv, body).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN, "{}", over.text);
    assert_eq!(
        over.error_code(),
        "temporary_access_duration_limit_exceeded"
    );
    assert_eq!(
        over.json()["error"]["action"],
        "authenticate",
        "{}",
        over.text
    );
}

/// Review finding 2: another email on the same TV is not a new trial (Adobe counts one per
/// device or identity), and does not slip past the TempPass start limit as "continuing".
#[tokio::test]
async fn another_email_on_the_same_tv_starts_no_new_trial() {
    let api = Api::with_emulator(emulator(TempPassSettings::default()), &[]).await;
    let tv = api.register("tv-promo-emails").await;
    let start = |email: &str| json!({"mvpd": "flexibleTempPass", "email": email});
    let first = api.post("/tv/v1/temppass", &tv, start("a0@x.test")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    for n in 1..5 {
        let other = api
            .post("/tv/v1/temppass", &tv, start(&format!("a{n}@x.test")))
            .await;
        assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text);
        assert!(
            other.error_message().contains("another email address"),
            "{}",
            other.text
        );
    }
    let same = api.post("/tv/v1/temppass", &tv, start("a0@x.test")).await;
    assert_eq!(
        same.status,
        StatusCode::OK,
        "the same email continues: {}",
        same.text
    );
}

/// A broken TempPass configuration (500 `invalid_configuration_temporary_access`, action
/// `none` in the promotional P2 sample) is for support to fix: 502 `contact-support`, asked
/// once, not retried as an outage.
#[tokio::test]
async fn a_misconfigured_temppass_is_for_support_and_not_retried() {
    let api = Api::with_emulator(
        emulator(TempPassSettings {
            misconfigured: vec!["flexibleTempPass".to_owned()],
            ..TempPassSettings::default()
        }),
        &[],
    )
    .await;
    let tv = api.register("tv-promo-broken").await;
    let before = calls(&api.metrics().await, "mvpd_profile");
    let broken = api
        .post(
            "/tv/v1/temppass",
            &tv,
            json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"}),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_GATEWAY, "{}", broken.text);
    assert_eq!(
        broken.error_code(),
        "invalid_configuration_temporary_access"
    );
    assert_eq!(broken.json()["error"]["action"], "contact-support");
    assert!(broken.headers.get("retry-after").is_none());
    assert_eq!(
        calls(&api.metrics().await, "mvpd_profile") - before,
        1,
        "not retried"
    );
}

/// Offering TempPass needs no configuration call (REST API V2 FAQ): once Adobe's configuration
/// was read, TempPass starts and checks use the TempPass ids it listed, however old.
#[tokio::test]
async fn temppass_checks_reuse_the_last_configuration() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&[], clock.clone()).await;
    // A scrape runs the readiness checks, whose domain check reads the configuration once.
    let before = calls(&api.metrics().await, "configuration");
    let tv = api.register("tv-temppass-configuration").await;
    let body = json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"});
    let started = api.post("/tv/v1/temppass", &tv, body.clone()).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    let read = calls(&api.metrics().await, "configuration");
    assert_eq!(read - before, 1, "the first start reads the configuration");

    clock.advance(Duration::from_secs(600));
    let again = api.post("/tv/v1/temppass", &tv, body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["remainingResources"], 1, "{}", again.text);
    assert_eq!(
        calls(&api.metrics().await, "configuration"),
        read,
        "no configuration call to learn the TempPass ids again"
    );
}

/// A viewer whose trial ended calls support: an operator resets the TV's TempPass through
/// Adobe's Reset TempPass API (with who and why) and the TV plays again; without the admin
/// token, who and why, or a known device, nothing is reset.
#[tokio::test]
async fn an_operator_resets_a_used_up_temppass() {
    const ADMIN_TOKEN: &str = "temppass-reset-admin-token-0123456789";
    let events = tempfile::NamedTempFile::new().expect("events file");
    let events_path = events.path().to_str().expect("utf-8");
    let api = Api::start(&["--admin-token", ADMIN_TOKEN, "--events-file", events_path]).await;
    let tv = api.register("tv-temppass-reset").await;
    let body = json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"});
    let started = api.post("/tv/v1/temppass", &tv, body).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let play = |resource: &'static str| {
        let (api, tv) = (&api, &tv);
        async move {
            api.post("/tv/v1/authorize", tv, json!({ "resource": resource }))
                .await
                .json()
        }
    };
    for resource in ["REF30", "news"] {
        assert_eq!(play(resource).await["decision"], "permit");
    }
    let used_up = play("premium-sports").await;
    assert_eq!(used_up["decision"], "deny", "{used_up}");

    let reset = |token: Option<&'static str>, device: &'static str, body: serde_json::Value| {
        let api = &api;
        async move {
            api.call_internal(
                reqwest::Method::POST,
                &format!("/admin/v1/devices/{device}/temppass/reset"),
                token,
                Some(&body.to_string()),
            )
            .await
        }
    };
    let why = json!({"changedBy": "ana (support)", "reason": "ticket 4711: trial cut short"});
    assert_eq!(
        reset(None, "tv-temppass-reset", why.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unexplained = reset(
        Some(ADMIN_TOKEN),
        "tv-temppass-reset",
        json!({"changedBy": "ana"}),
    )
    .await;
    assert_eq!(
        unexplained.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unexplained.text
    );
    let nobody = reset(Some(ADMIN_TOKEN), "tv-nobody", why.clone()).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND, "{}", nobody.text);
    assert_eq!(
        play("premium-sports").await["decision"],
        "deny",
        "nothing was reset"
    );

    let done = reset(Some(ADMIN_TOKEN), "tv-temppass-reset", why).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    let again = play("premium-sports").await;
    assert_eq!(
        again["decision"], "permit",
        "the trial starts afresh: {again}"
    );
    let told = common::eventually(Duration::from_secs(5), "the reset told", || async {
        std::fs::read_to_string(events.path())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|event| event["type"] == "admin.temppass_reset")
    })
    .await;
    assert_eq!(told["actor"], "ana (support)");
    assert_eq!(told["reason"], "ticket 4711: trial cut short");
}
