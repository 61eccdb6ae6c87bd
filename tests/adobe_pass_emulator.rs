//! The Adobe Pass client against the emulator over real HTTP: every endpoint's success and
//! documented error paths, token expiry and refresh, throttling, injected faults, and
//! decryption of user metadata.

mod adobe_pass_support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use adobe_pass_support::{client_with, device, device_at, manual_clock, settings};
use tve_activate::{
    adobe_pass::{
        types::{
            ActionName, AttributeState, ErrorCode, LogoutActionName, PartnerProfileRequest,
            PartnerSessionRequest, ReasonType, SessionRequest,
        },
        AdobePass, AdobePassError, ClientSettings, DeviceIdentity, Endpoint, MediaTokenError,
        MediaTokenVerifier, MetadataError, MetadataKeys, Outcome, Remedy,
    },
    clock::{SharedClock, SystemClock},
    emulator::{self, EmulatorSettings, RunningEmulator},
};

const PRIMARY_KEY: &str = include_str!("adobe_pass_support/keys/primary.pem");
const PRIMARY_PUBLIC: &str = include_str!("adobe_pass_support/keys/primary.pub.pem");
const BACKUP_KEY: &str = include_str!("adobe_pass_support/keys/backup.pem");
const BACKUP_PUBLIC: &str = include_str!("adobe_pass_support/keys/backup.pub.pem");

async fn start(settings: EmulatorSettings) -> RunningEmulator {
    emulator::spawn(settings).await.expect("emulator starts")
}

fn client_of(emulator: &RunningEmulator, clock: SharedClock) -> AdobePass {
    client_with(settings_of(emulator), clock).0
}

fn settings_of(emulator: &RunningEmulator) -> ClientSettings {
    settings(emulator.base_url(), emulator.software_statement())
}

fn session_request() -> SessionRequest {
    SessionRequest {
        mvpd: Some("Cablevision".into()),
        domain_name: Some("localhost".into()),
        redirect_url: Some("http://localhost/activate/complete".into()),
    }
}

/// Logs in at the emulated MVPD as a browser would: open the authenticate URL, submit the
/// login form with a test account, stop when the browser leaves the emulator.
async fn log_in(adobe: &AdobePass, code: &str) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().host_str() == Some("127.0.0.1") {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .expect("browser");
    let page = browser
        .get(adobe.authenticate_url(code).expect("url"))
        .send()
        .await
        .expect("login page");
    let page_url = page.url().clone();
    let html = page.text().await.expect("html");
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a login form");
    let done = browser
        .post(page_url.join(action).expect("form action"))
        .form(&[
            ("username", "premium"),
            ("password", "premium"),
            ("action", "login"),
        ])
        .send()
        .await
        .expect("login");
    assert!(
        done.status().is_redirection() || done.status().is_success(),
        "{}",
        done.status()
    );
}

fn adobe_code(error: &AdobePassError) -> Option<&ErrorCode> {
    error.enhanced().map(|e| &e.code)
}

#[tokio::test]
async fn second_screen_flow_from_registration_to_logout() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-flow");

    adobe.register_device(&tv).await.expect("registers");
    let configuration = adobe.configuration(&tv, None).await.expect("C1");
    assert!(configuration
        .requestor
        .mvpds
        .iter()
        .any(|m| m.id == "Cablevision"));

    let empty = adobe.profiles(&tv).await.expect("P1");
    assert!(empty.profiles.is_empty());

    // The TV starts without an MVPD; the phone resumes with it.
    let started = adobe
        .create_session(&tv, &SessionRequest::default())
        .await
        .expect("S1");
    assert_eq!(started.action_name, ActionName::Resume);
    let code = started.code.clone().expect("a code");
    assert!(started.not_after.expect("notAfter") > started.not_before.expect("notBefore"));

    let phone = tv.clone().acting_from("198.51.100.9".parse().expect("ip"));
    let status = adobe.retrieve_session(&phone, &code).await.expect("S3");
    assert!(status.missing_parameters.iter().any(|p| p == "mvpd"));
    let resumed = adobe
        .resume_session(&phone, &code, &session_request())
        .await
        .expect("S2");
    assert_eq!(resumed.action_name, ActionName::Authenticate);
    assert!(adobe
        .code_profile(&tv, &code)
        .await
        .expect("P3")
        .profiles
        .is_empty());

    log_in(&adobe, &code).await;
    let by_code = adobe.code_profile(&tv, &code).await.expect("P3");
    let profile = &by_code.profiles["Cablevision"];
    assert!(profile.attributes.contains_key("userID"));
    assert!(adobe
        .profiles(&tv)
        .await
        .expect("P1")
        .profiles
        .contains_key("Cablevision"));
    assert!(adobe
        .mvpd_profile(&tv, "Cablevision")
        .await
        .expect("P2")
        .profiles
        .contains_key("Cablevision"));

    let again = adobe
        .create_session(&tv, &session_request())
        .await
        .expect("S1");
    assert_eq!(again.action_name, ActionName::Authorize);
    assert_eq!(again.reason_type, ReasonType::Authenticated);

    let resources = vec!["REF30".to_owned()];
    let pre = adobe
        .preauthorize(&tv, "Cablevision", &resources)
        .await
        .expect("D1");
    assert_eq!(pre.decisions.len(), 1);
    assert!(
        pre.decisions[0].token.is_none(),
        "preauthorization carries no media token"
    );
    let decision = adobe
        .authorize(&tv, "Cablevision", &resources)
        .await
        .expect("D2");
    let permit = &decision.decisions[0];
    assert!(permit.authorized, "{permit:?}");
    let token = permit.token.as_ref().expect("media token");
    let verified = published_key(&emulator)
        .await
        .verify(
            token.serialized_token.expose(),
            Some("REF30"),
            token.not_before,
        )
        .expect("signed by the emulator");
    assert_eq!(
        (verified.mvpd.as_str(), verified.not_after),
        ("Cablevision", token.not_after)
    );

    let logouts = adobe
        .logout(&tv, "Cablevision", Some("http://localhost/bye"))
        .await
        .expect("L1");
    assert!(matches!(
        logouts.logouts["Cablevision"].action_name,
        LogoutActionName::Logout | LogoutActionName::Complete
    ));
    assert!(adobe.profiles(&tv).await.expect("P1").profiles.is_empty());

    // Registered exactly once for all of it.
    assert_eq!(
        adobe
            .metrics()
            .count(Endpoint::DcrRegister, Outcome::Success),
        1
    );
    assert_eq!(
        adobe.metrics().count(Endpoint::DcrToken, Outcome::Success),
        1
    );
}

#[tokio::test]
async fn documented_errors_become_typed_errors() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-errors");

    let unknown = adobe
        .retrieve_session(&tv, "NOSUCH1")
        .await
        .expect_err("unknown code");
    assert_eq!(unknown.http_status(), Some(400));
    assert_eq!(
        adobe_code(&unknown),
        Some(&ErrorCode::InvalidAuthenticationSession)
    );
    assert_eq!(unknown.remedy(), Remedy::None);

    let resumed = adobe
        .resume_session(&tv, "NOSUCH1", &session_request())
        .await
        .expect_err("unknown code");
    assert_eq!(
        adobe_code(&resumed),
        Some(&ErrorCode::InvalidAuthenticationSession)
    );

    // No profile: top-level or item-level authenticated_profile_missing, both handled alike.
    match adobe
        .authorize(&tv, "Cablevision", &["REF30".to_owned()])
        .await
    {
        Ok(decisions) => {
            let error = decisions.decisions[0]
                .error
                .as_ref()
                .expect("item-level error");
            assert_eq!(error.code, ErrorCode::AuthenticatedProfileMissing);
            assert_eq!(Remedy::of(error), Remedy::Authentication);
        }
        Err(error) => {
            assert_eq!(
                adobe_code(&error),
                Some(&ErrorCode::AuthenticatedProfileMissing)
            );
            assert_eq!(error.remedy(), Remedy::Authentication);
        }
    }

    let bad_mvpd = adobe.mvpd_profile(&tv, "NoSuchMvpd").await;
    if let Err(error) = bad_mvpd {
        assert_eq!(error.http_status(), Some(400), "{error}");
        assert!(error.enhanced().is_some(), "{error}");
    }

    // Partner SSO without a framework status falls back to basic authentication.
    let partner = adobe
        .partner_session(
            &tv,
            "Apple",
            &PartnerSessionRequest {
                domain_name: "localhost".into(),
                redirect_url: "http://localhost/".into(),
            },
        )
        .await
        .expect("X1");
    assert_eq!(partner.reason_type, ReasonType::PfsFallback);
    let profile = adobe
        .partner_profile(
            &tv,
            "Apple",
            &PartnerProfileRequest {
                saml_response: "PHNhbWw+".into(),
            },
        )
        .await
        .expect_err("no framework status");
    assert_eq!(profile.http_status(), Some(400));
    assert!(profile.enhanced().is_some(), "{profile}");
}

#[tokio::test]
async fn a_rejected_software_statement_is_a_dcr_error() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_with(
        settings(emulator.base_url(), "eyJhbGciOiJub25lIn0.e30."),
        SystemClock::shared(),
    )
    .0;
    let error = adobe
        .profiles(&device("tv-dcr"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            AdobePassError::Dcr {
                endpoint: Endpoint::DcrRegister,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.http_status(), Some(400));
    assert_eq!(
        adobe
            .metrics()
            .count(Endpoint::DcrRegister, Outcome::ClientError),
        1,
        "never repeated"
    );
}

#[tokio::test]
async fn temp_pass_authorizes_without_authentication() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-temppass");
    let configuration = adobe.configuration(&tv, None).await.expect("C1");
    let temp_pass = configuration
        .requestor
        .mvpds
        .iter()
        .find(|m| m.is_temp_pass == Some(true))
        .expect("a TempPass MVPD");
    let decisions = adobe
        .authorize(&tv, &temp_pass.id, &["REF30".to_owned()])
        .await
        .expect("D2");
    assert!(decisions.decisions[0].authorized, "{decisions:?}");
    let profiles = adobe.mvpd_profile(&tv, &temp_pass.id).await.expect("P2");
    assert!(profiles.profiles.contains_key(&temp_pass.id));
}

/// The verifier for the key the emulator publishes for its media tokens.
async fn published_key(emulator: &RunningEmulator) -> MediaTokenVerifier {
    let answer = reqwest::get(format!(
        "{}/__emulator/media-token/public-key.pem",
        emulator.base_url()
    ))
    .await
    .expect("public key route");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    let pem = answer.text().await.expect("PEM");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "SPKI: {pem}");
    MediaTokenVerifier::from_pem(&pem).expect("an RSA public key")
}

/// Review E5: media tokens are signed (SHA256WithRSA) and verify with the published key for
/// their resource and window only; a token changed after signing, by hand or by the
/// `forgedMediaToken` fault, does not.
#[tokio::test]
async fn media_tokens_verify_with_the_published_key_and_not_once_tampered() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let verifier = published_key(&emulator).await;
    let tv = device("tv-media-token");
    let play = || async {
        let decisions = adobe
            .authorize(&tv, "TempPass_TEST40", &["REF30".to_owned()])
            .await
            .expect("D2");
        let token = decisions.decisions[0].token.clone().expect("media token");
        (token.serialized_token.expose().to_owned(), token.not_before)
    };
    let (token, now) = play().await;
    let verified = verifier
        .verify(&token, Some("REF30"), now)
        .expect("VALID_TOKEN");
    assert_eq!(verified.resource, "REF30");
    assert_eq!(verified.requestor, "REF30");
    assert_eq!(
        verified.not_after - verified.not_before,
        7 * 60 * 1000,
        "7 minutes"
    );
    assert!(verifier.verify(&token, None, now).is_ok());
    assert_eq!(
        verifier.verify(&token, Some("news"), now),
        Err(MediaTokenError::InvalidResource)
    );
    assert!(matches!(
        verifier.verify(&token, Some("REF30"), verified.not_after + 3_600_000),
        Err(MediaTokenError::Expired { .. })
    ));

    let (payload, signature) = token.split_once('.').expect("payload.signature");
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON");
    claims["resource"] = "premium-sports".into();
    let tampered = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    assert_eq!(
        verifier.verify(&tampered, Some("premium-sports"), now),
        Err(MediaTokenError::InvalidSignature)
    );
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    flipped[0] ^= 1;
    let flipped = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(flipped));
    assert_eq!(
        verifier.verify(&flipped, Some("REF30"), now),
        Err(MediaTokenError::InvalidSignature),
        "a changed signature"
    );

    set_faults(
        &emulator,
        serde_json::json!([{"fault": {"kind": "forgedMediaToken"}}]),
    )
    .await;
    let (forged, now) = play().await;
    assert_eq!(
        verifier.verify(&forged, Some("REF30"), now),
        Err(MediaTokenError::InvalidSignature)
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_for_fifty_concurrent_calls() {
    // The emulator's clock moves; the client's does not, so the client only learns of the
    // expiry from the 401s.
    let emulator_clock = manual_clock();
    let emulator = start(EmulatorSettings {
        clock: emulator_clock.clone(),
        ..EmulatorSettings::default()
    })
    .await;
    let mut settings = settings_of(&emulator);
    settings.throttle.burst = 200;
    let adobe = client_with(settings, manual_clock()).0;
    let tv = device("tv-refresh");
    adobe.profiles(&tv).await.expect("first call");
    emulator_clock.advance(Duration::from_secs(7 * 3600));

    let calls = (0..50).map(|_| {
        let adobe = adobe.clone();
        let tv = tv.clone();
        tokio::spawn(async move { adobe.profiles(&tv).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await
            .expect("task")
            .expect("succeeds after one refresh");
    }
    let metrics = adobe.metrics();
    assert_eq!(
        metrics.count(Endpoint::DcrToken, Outcome::Success),
        2,
        "one refresh in all"
    );
    assert_eq!(
        metrics.count(Endpoint::DcrRegister, Outcome::Success),
        1,
        "never re-registered"
    );
    assert!(metrics.count(Endpoint::Profiles, Outcome::Unauthorized) >= 1);
}

#[tokio::test]
async fn a_token_near_expiry_is_replaced_before_adobe_rejects_it() {
    let clock = manual_clock();
    let emulator = start(EmulatorSettings {
        clock: clock.clone(),
        ..EmulatorSettings::default()
    })
    .await;
    let adobe = client_of(&emulator, clock.clone());
    let tv = device("tv-expiry");
    adobe.profiles(&tv).await.expect("first call");
    // 6 h tokens, replaced 5 minutes early.
    clock.advance(Duration::from_secs(6 * 3600 - 200));
    adobe.profiles(&tv).await.expect("second call");
    let metrics = adobe.metrics();
    assert_eq!(metrics.count(Endpoint::DcrToken, Outcome::Success), 2);
    assert_eq!(metrics.count(Endpoint::Profiles, Outcome::Unauthorized), 0);
}

#[tokio::test]
async fn the_client_alone_never_causes_a_429() {
    let emulator = start(EmulatorSettings {
        throttling: true,
        ..EmulatorSettings::default()
    })
    .await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device_at("tv-burst", "203.0.113.50:40000");
    let started = Instant::now();
    let calls = (0..12).map(|_| {
        let adobe = adobe.clone();
        let tv = tv.clone();
        tokio::spawn(async move { adobe.profiles(&tv).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.expect("task").expect("no call fails");
    }
    // 2 DCR calls + 12 profiles calls from one IP: the client paced them.
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let throttled: u64 = Endpoint::ALL
        .iter()
        .map(|endpoint| adobe.metrics().count(*endpoint, Outcome::Throttled))
        .sum();
    assert_eq!(
        throttled,
        0,
        "Adobe never had to throttle: {:?}",
        adobe.metrics().render()
    );
}

#[tokio::test]
async fn an_injected_429_is_waited_out() {
    let emulator = start(EmulatorSettings {
        throttling: true,
        ..EmulatorSettings::default()
    })
    .await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let ip = "203.0.113.60";
    let tv = device_at("tv-429", &format!("{ip}:40000"));
    adobe.register_device(&tv).await.expect("registers");
    // Someone else behind the same IP uses up its bucket.
    let other = reqwest::Client::new();
    for _ in 0..15 {
        let _ = other
            .get(format!(
                "{}/api/v2/REF30/configuration",
                emulator.base_url()
            ))
            .header("X-Forwarded-For", ip)
            .send()
            .await;
    }
    let started = Instant::now();
    adobe.profiles(&tv).await.expect("waits out the 429");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        adobe
            .metrics()
            .count(Endpoint::Profiles, Outcome::Throttled)
            >= 1
    );
}

async fn set_faults(emulator: &RunningEmulator, rules: serde_json::Value) {
    let response = reqwest::Client::new()
        .put(format!("{}/__emulator/faults", emulator.base_url()))
        .json(&serde_json::json!({ "rules": rules }))
        .send()
        .await
        .expect("admin route");
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn injected_server_errors_end_in_a_typed_error_after_bounded_retries() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-5xx");
    adobe.register_device(&tv).await.expect("registers");
    for status in [500, 503] {
        set_faults(
            &emulator,
            serde_json::json!([{ "fault": { "kind": "error", "status": status },
                                 "pathPrefix": "/api/v2/REF30/profiles" }]),
        )
        .await;
        let before = adobe
            .metrics()
            .count(Endpoint::Profiles, Outcome::ServerError);
        let error = adobe.profiles(&tv).await.expect_err("fails");
        assert_eq!(error.http_status(), Some(status), "{error}");
        assert_eq!(error.remedy(), Remedy::Retry);
        let attempts = adobe
            .metrics()
            .count(Endpoint::Profiles, Outcome::ServerError)
            - before;
        assert_eq!(attempts, 3, "bounded retries for {status}");
    }
    // A call that is not safe to repeat is tried once.
    set_faults(
        &emulator,
        serde_json::json!([{ "fault": { "kind": "error", "status": 500 },
                             "pathPrefix": "/api/v2/REF30/sessions" }]),
    )
    .await;
    adobe
        .create_session(&tv, &session_request())
        .await
        .expect_err("fails");
    assert_eq!(
        adobe
            .metrics()
            .count(Endpoint::CreateSession, Outcome::ServerError),
        1
    );
    // Once the fault is gone, calls succeed again.
    set_faults(&emulator, serde_json::json!([])).await;
    adobe.profiles(&tv).await.expect("recovers");
}

#[tokio::test]
async fn latency_beyond_the_timeout_ends_in_a_timeout() {
    let emulator = start(EmulatorSettings::default()).await;
    let mut settings = settings_of(&emulator);
    settings.request_timeout = Duration::from_millis(300);
    let adobe = client_with(settings, SystemClock::shared()).0;
    let tv = device("tv-slow");
    adobe.register_device(&tv).await.expect("registers");
    set_faults(
        &emulator,
        serde_json::json!([{ "fault": { "kind": "latency", "millis": 1500 },
                             "pathPrefix": "/api/v2/REF30/profiles" }]),
    )
    .await;
    let started = Instant::now();
    let error = adobe.profiles(&tv).await.expect_err("times out");
    assert!(
        matches!(
            error,
            AdobePassError::Timeout {
                endpoint: Endpoint::Profiles
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        adobe.metrics().count(Endpoint::Profiles, Outcome::Timeout),
        3
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connection_resets_end_in_a_connection_error() {
    let emulator = start(EmulatorSettings::default()).await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-reset");
    adobe.register_device(&tv).await.expect("registers");
    set_faults(
        &emulator,
        serde_json::json!([{ "fault": { "kind": "reset" }, "pathPrefix": "/api/v2/REF30/profiles" }]),
    )
    .await;
    let error = adobe.profiles(&tv).await.expect_err("reset");
    assert!(
        matches!(error, AdobePassError::Connection { .. }),
        "{error:?}"
    );
    assert_eq!(
        adobe
            .metrics()
            .count(Endpoint::Profiles, Outcome::ConnectionError),
        3
    );
}

async fn authenticated_zip(public_key: &str) -> serde_json::Value {
    let emulator = start(EmulatorSettings {
        programmer_public_key_pem: Some(public_key.to_owned()),
        ..EmulatorSettings::default()
    })
    .await;
    let adobe = client_of(&emulator, SystemClock::shared());
    let tv = device("tv-zip");
    let session = adobe
        .create_session(&tv, &session_request())
        .await
        .expect("S1");
    let code = session.code.expect("code");
    log_in(&adobe, &code).await;
    let profiles = adobe.code_profile(&tv, &code).await.expect("P3");
    serde_json::to_value(&profiles.profiles["Cablevision"]).expect("profile")
}

#[tokio::test]
async fn encrypted_metadata_is_decrypted_with_the_primary_then_the_backup_key() {
    for (public, keys) in [
        (
            PRIMARY_PUBLIC,
            MetadataKeys::from_pem(PRIMARY_KEY, Some(BACKUP_KEY)),
        ),
        (
            BACKUP_PUBLIC,
            MetadataKeys::from_pem(PRIMARY_KEY, Some(BACKUP_KEY)),
        ),
    ] {
        let keys = keys.expect("keys");
        let profile: tve_activate::adobe_pass::types::Profile =
            serde_json::from_value(authenticated_zip(public).await).expect("profile");
        let zip = &profile.attributes["zip"];
        assert_eq!(zip.state, AttributeState::Enc, "{zip:?}");
        let plain = keys.decrypt_profile(&profile).expect("decrypts");
        let zip = &plain.attributes["zip"];
        assert_eq!(zip.state, AttributeState::Plain);
        assert!(!zip.value.is_null());
        assert_ne!(zip.value, profile.attributes["zip"].value);
    }
    // Neither key fits: a clear error naming the attribute.
    let profile: tve_activate::adobe_pass::types::Profile =
        serde_json::from_value(authenticated_zip(BACKUP_PUBLIC).await).expect("profile");
    let primary_only = MetadataKeys::from_pem(PRIMARY_KEY, None).expect("key");
    let error = primary_only
        .decrypt_profile(&profile)
        .expect_err("no key fits");
    assert!(matches!(error, MetadataError::NoKeyFits { ref attribute } if attribute == "zip"));
    assert!(error
        .to_string()
        .contains("neither the primary nor the backup"));
}

#[test]
fn unusable_keys_are_refused_clearly() {
    let error = MetadataKeys::from_pem("not a key", None).expect_err("refused");
    assert!(error.to_string().contains("primary"), "{error}");
    let error = MetadataKeys::from_pem(PRIMARY_KEY, Some("nope")).expect_err("refused");
    assert!(error.to_string().contains("backup"), "{error}");
    let keys = MetadataKeys::from_pem(PRIMARY_KEY, None).expect("key");
    assert!(!format!("{keys:?}").contains("PRIVATE"));
}

#[allow(dead_code)]
fn assert_send_sync(adobe: Arc<AdobePass>, device: DeviceIdentity) -> impl Send + Sync {
    (adobe, device)
}
