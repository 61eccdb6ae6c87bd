//! Time limits, throttling and injected faults, over real HTTP.

mod emulator_support;

use std::time::{Duration, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD, Engine};
use emulator_support::{outcomes, Device, Harness, SP};
use reqwest::{Method, StatusCode};
use tve_activate::{
    clock::ManualClock,
    emulator::{faults::Degradation, EmulatorSettings, Fault, FaultRule, FaultSet, Ttls},
};

fn manual_settings() -> (std::sync::Arc<ManualClock>, EmulatorSettings) {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    let settings = EmulatorSettings {
        clock: clock.clone(),
        ..EmulatorSettings::default()
    };
    (clock, settings)
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl() {
    let (clock, mut settings) = manual_settings();
    settings.ttls = Ttls {
        access_token: Duration::from_secs(60),
        ..Ttls::default()
    };
    let h = Harness::start(settings).await;
    let path = format!("/api/v2/{SP}/configuration");
    assert_eq!(
        h.api(Method::GET, &path, None, &[], None).await.status,
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(61));
    let expired = h.api(Method::GET, &path, None, &[], None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.error_code(),
        "invalid_access_token_client_application"
    );
    let fresh = h.new_token().await;
    let again = h.call(Method::GET, &path, &[], None, Some(&fresh)).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn codes_and_profiles_expire_after_their_ttls() {
    let (clock, mut settings) = manual_settings();
    settings.ttls = Ttls {
        session: Duration::from_secs(600),
        profile: Duration::from_secs(3600),
        ..Ttls::default()
    };
    let h = Harness::start(settings).await;
    let tv = Device::new("tv-ttl");
    let code = h.session_code(&tv, "Cox").await;
    clock.advance(Duration::from_secs(601));
    let dead = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/sessions/{code}"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(dead.error_code(), "invalid_authentication_session");

    h.sign_in(&tv, "Cox", "premium").await;
    clock.advance(Duration::from_secs(3601));
    let profiles = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(profiles.json()["profiles"], serde_json::json!({}));
    let decision = h.decide("authorize", &tv, "Cox", &["REF30"], &[]).await;
    assert_eq!(
        outcomes(&decision)[0].2.as_deref(),
        Some("authenticated_profile_expired")
    );
}

/// §14.3: TempPass needs no authentication (D2 directly) and its clock starts at the first
/// authorization; §8.2: P1 shows no TempPass profile.
#[tokio::test]
async fn basic_temppass_runs_out_after_its_duration() {
    let (clock, settings) = manual_settings();
    let h = Harness::start(settings).await;
    let tv = Device::new("trial-tv");
    let session = h.create_session(&tv, "mvpd=TempPass_TEST40").await;
    assert_eq!(session.json()["reasonType"], "temporary");
    let path = format!("/api/v2/{SP}/profiles/TempPass_TEST40");
    let before = h.api(Method::GET, &path, Some(&tv), &[], None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let preview = h
        .decide("preauthorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(outcomes(&preview)[0].1);
    clock.advance(Duration::from_secs(600));
    let unstarted = h.api(Method::GET, &path, Some(&tv), &[], None).await;
    assert_eq!(
        unstarted.status,
        StatusCode::OK,
        "profiles and preauthorizations do not start the clock"
    );
    let permit = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(outcomes(&permit)[0].1);
    assert_eq!(permit.json()["decisions"][0]["source"], "temppass");
    let profile = h.api(Method::GET, &path, Some(&tv), &[], None).await;
    assert_eq!(
        profile.json()["profiles"]["TempPass_TEST40"]["type"],
        "temporary"
    );
    let all = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.json()["profiles"]["TempPass_TEST40"].is_null(),
        "P1 lists no TempPass: {}",
        all.text
    );

    clock.advance(Duration::from_secs(181));
    let over = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&over)[0].2.as_deref(),
        Some("temporary_access_duration_limit_exceeded")
    );
    let profile = h.api(Method::GET, &path, Some(&tv), &[], None).await;
    assert_eq!(profile.status, StatusCode::FORBIDDEN);
    assert_eq!(
        profile.error_code(),
        "temporary_access_duration_limit_exceeded"
    );
    let logout = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/logout/TempPass_TEST40"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(
        logout.json()["logouts"]["TempPass_TEST40"]["actionName"],
        "complete"
    );
    let still = h
        .decide("authorize", &tv, "TempPass_TEST40", &["REF30"], &[])
        .await;
    assert!(!outcomes(&still)[0].1);
}

#[tokio::test]
async fn promotional_temppass_needs_an_identity_and_limits_resources() {
    let h = Harness::default().await;
    let tv = Device::new("promo-tv");
    let identity = (
        "AP-TempPass-Identity",
        STANDARD.encode(r#"{"email":"viewer@example.com"}"#),
    );
    let anonymous = h
        .decide("authorize", &tv, "flexibleTempPass", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&anonymous)[0].2.as_deref(),
        Some("invalid_header_identity_for_temporary_access")
    );
    let path = format!("/api/v2/{SP}/profiles/flexibleTempPass");
    let no_identity = h.api(Method::GET, &path, Some(&tv), &[], None).await;
    assert_eq!(
        no_identity.error_code(),
        "invalid_header_identity_for_temporary_access"
    );

    for resource in ["REF30", "news", "REF30"] {
        let permit = h
            .decide(
                "authorize",
                &tv,
                "flexibleTempPass",
                &[resource],
                std::slice::from_ref(&identity),
            )
            .await;
        assert!(outcomes(&permit)[0].1, "{resource}");
    }
    let profile = h
        .api(
            Method::GET,
            &path,
            Some(&tv),
            std::slice::from_ref(&identity),
            None,
        )
        .await;
    assert_eq!(profile.status, StatusCode::FORBIDDEN);
    assert_eq!(
        profile.error_code(),
        "temporary_access_resources_limit_exceeded"
    );
    let third = h
        .decide(
            "authorize",
            &tv,
            "flexibleTempPass",
            &["premium-sports"],
            std::slice::from_ref(&identity),
        )
        .await;
    assert_eq!(
        outcomes(&third)[0].2.as_deref(),
        Some("temporary_access_resources_limit_exceeded")
    );
    let seen = h
        .decide("authorize", &tv, "flexibleTempPass", &["news"], &[identity])
        .await;
    assert!(outcomes(&seen)[0].1);
}

#[tokio::test]
async fn throttling_answers_429_on_the_eleventh_request_then_refills() {
    let (clock, mut settings) = manual_settings();
    settings.throttling = true;
    // the harness's registration and token use 2 requests from the loopback IP
    let h = Harness::start(settings).await;
    let path = format!("/api/v2/{SP}/configuration");
    let from = |ip: &str| vec![("X-Forwarded-For", ip.to_owned())];
    for i in 0..10 {
        let ok = h
            .api(Method::GET, &path, None, &from("198.51.100.7"), None)
            .await;
        assert_eq!(ok.status, StatusCode::OK, "request {i}");
    }
    let throttled = h
        .api(Method::GET, &path, None, &from("198.51.100.7"), None)
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.text.contains("429 Too Many Requests"));
    assert!(throttled.headers.get("retry-after").is_none());
    let other = h
        .api(Method::GET, &path, None, &from("198.51.100.8"), None)
        .await;
    assert_eq!(other.status, StatusCode::OK);
    clock.advance(Duration::from_millis(500));
    let locked = h
        .api(Method::GET, &path, None, &from("198.51.100.7"), None)
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(Duration::from_millis(600));
    let refilled = h
        .api(Method::GET, &path, None, &from("198.51.100.7"), None)
        .await;
    assert_eq!(refilled.status, StatusCode::OK);
}

async fn set_faults(h: &Harness, rules: Vec<FaultRule>) {
    let set = FaultSet { rules };
    let put = h
        .http
        .put(h.url("/__emulator/faults"))
        .json(&set)
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), StatusCode::OK);
    let got: FaultSet = h
        .http
        .get(h.url("/__emulator/faults"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(got, set);
}

fn rule(fault: Fault, prefix: &str) -> FaultRule {
    FaultRule {
        fault,
        path_prefix: Some(prefix.to_owned()),
        method: None,
        rate: 1.0,
        times: None,
    }
}

#[tokio::test]
async fn injected_faults_apply_per_endpoint_and_can_be_switched_off() {
    let h = Harness::default().await;
    let config = format!("/api/v2/{SP}/configuration");
    let profiles = format!("/api/v2/{SP}/profiles");
    let tv = Device::new("faulty-tv");

    for status in [500, 503] {
        set_faults(&h, vec![rule(Fault::Error { status }, &config)]).await;
        let failed = h.api(Method::GET, &config, None, &[], None).await;
        assert_eq!(failed.status.as_u16(), status);
        assert_eq!(failed.error_code(), "internal_server_error");
        let other = h.api(Method::GET, &profiles, Some(&tv), &[], None).await;
        assert_eq!(other.status, StatusCode::OK);
    }

    set_faults(&h, vec![rule(Fault::Latency { millis: 300 }, &config)]).await;
    let started = std::time::Instant::now();
    assert_eq!(
        h.api(Method::GET, &config, None, &[], None).await.status,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    set_faults(&h, vec![rule(Fault::Reset, &config)]).await;
    let reset = h
        .http
        .get(h.url(&config))
        .bearer_auth(&h.token)
        .send()
        .await;
    assert!(
        reset.is_err(),
        "connection should be closed without an answer: {reset:?}"
    );

    set_faults(
        &h,
        vec![FaultRule {
            rate: 0.0,
            ..rule(Fault::Error { status: 500 }, &config)
        }],
    )
    .await;
    assert_eq!(
        h.api(Method::GET, &config, None, &[], None).await.status,
        StatusCode::OK
    );
    set_faults(&h, Vec::new()).await;
    assert_eq!(
        h.api(Method::GET, &config, None, &[], None).await.status,
        StatusCode::OK
    );

    let invalid = h
        .http
        .put(h.url("/__emulator/faults"))
        .body(r#"{"rules":[{"fault":{"kind":"error","status":404}}]}"#)
        .send()
        .await
        .expect("put");
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn faults_set_at_start_up_apply_from_the_first_request() {
    let settings = EmulatorSettings {
        faults: FaultSet {
            rules: vec![rule(Fault::Error { status: 503 }, "/api/v2/REF30/profiles")],
        },
        ..EmulatorSettings::default()
    };
    let h = Harness::start(settings).await;
    let answer = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&Device::new("tv")),
            &[],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// What Adobe documents and the emulator's own flows never produce, as fault rules: the
/// answers have the documented shapes (§11 codes at their statuses, item errors inside a 200,
/// §12's HTML 429, §7.1/§8.1/§9.2 degraded access), pass the OpenAPI checks, and a rule with
/// `times` stops after that many requests.
#[tokio::test]
async fn documented_faults_have_the_documented_shapes() {
    let h = Harness::default().await;
    let tv = Device::new("fault-shapes");
    h.sign_in(&tv, "Spectrum", "premium").await;
    let decisions = format!("/api/v2/{SP}/decisions/authorize");
    let profiles = format!("/api/v2/{SP}/profiles");
    let spectrum = format!("{profiles}/Spectrum");
    let code = |name: &str| serde_json::from_value(serde_json::json!(name)).expect("known code");

    for (name, status, action) in [
        ("authenticated_profile_invalidated", 403, "authentication"),
        ("invalid_integration", 400, "none"),
        (
            "invalid_access_token_service_provider",
            401,
            "application-registration",
        ),
    ] {
        set_faults(
            &h,
            vec![FaultRule {
                times: Some(1),
                ..rule(Fault::Enhanced { code: code(name) }, &spectrum)
            }],
        )
        .await;
        let failed = h.api(Method::GET, &spectrum, Some(&tv), &[], None).await;
        assert_eq!(failed.status.as_u16(), status, "{name}");
        assert_eq!(failed.error_code(), name);
        assert_eq!(failed.json()["action"], action);
        let next = h.api(Method::GET, &spectrum, Some(&tv), &[], None).await;
        assert_eq!(next.status, StatusCode::OK, "times: 1 hits once");
    }

    set_faults(
        &h,
        vec![rule(
            Fault::ItemError {
                code: code("network_connection_timeout"),
            },
            &decisions,
        )],
    )
    .await;
    let items = h
        .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
        .await;
    assert_eq!(items.status, StatusCode::OK);
    assert_eq!(
        outcomes(&items)[0].2.as_deref(),
        Some("network_connection_timeout")
    );
    assert_eq!(items.json()["decisions"][0]["error"]["action"], "retry");

    set_faults(&h, vec![rule(Fault::Throttled, &decisions)]).await;
    let throttled = h
        .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.text.contains("429 Too Many Requests"));

    set_faults(
        &h,
        vec![FaultRule {
            path_prefix: None,
            ..rule(
                Fault::Degraded {
                    mvpd: "Cox".to_owned(),
                    rule: Degradation::AuthNAll,
                    without_profile: false,
                },
                "",
            )
        }],
    )
    .await;
    let other = Device::new("degraded-tv");
    let session = h
        .create_session(
            &other,
            "mvpd=Cox&domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost%2Fdone",
        )
        .await;
    assert_eq!(
        session.json()["actionName"],
        "authorize",
        "{}",
        session.text
    );
    assert_eq!(session.json()["reasonType"], "degraded");
    let listed = h.api(Method::GET, &profiles, Some(&other), &[], None).await;
    assert_eq!(
        listed.json()["profiles"],
        serde_json::json!({}),
        "P1 lists no degraded profile (§8.2): {}",
        listed.text
    );
    let cox = format!("{profiles}/Cox");
    let degraded = h.api(Method::GET, &cox, Some(&other), &[], None).await;
    let profile = &degraded.json()["profiles"]["Cox"];
    assert_eq!(profile["type"], "degraded", "{}", degraded.text);
    assert_eq!(profile["issuer"], "Adobe");
    assert!(profile["attributes"]["userID"]["value"]
        .as_str()
        .is_some_and(|id| id.starts_with("95cf93bcd183214a")));
    let permit = h.decide("authorize", &other, "Cox", &["REF30"], &[]).await;
    assert!(outcomes(&permit)[0].1);
    assert_eq!(permit.json()["decisions"][0]["source"], "degradation");
    let regular = h
        .create_session(
            &other,
            "mvpd=Spectrum&domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost%2Fdone",
        )
        .await;
    assert_eq!(
        regular.json()["actionName"],
        "authenticate",
        "other MVPDs as usual"
    );
}
