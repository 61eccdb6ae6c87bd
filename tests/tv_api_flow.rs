//! The Streaming App API's main flow over real HTTP on the embedded emulator: register,
//! providers, profile, activation (status, long-poll, events, QR), decisions, logout, TempPass.

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::Api;

#[tokio::test]
async fn renewing_with_the_token_keeps_the_client_and_revokes_the_old_token() {
    let api = Api::start(&[]).await;
    let first = api.register("tv-reregister").await;
    assert!(first.starts_with("tvd_"));
    let clients = api.emulator().state().store().clients.len();
    let second = api.renew("tv-reregister", &first).await;
    assert_ne!(first, second);
    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients,
        "the DCR client is registered once"
    );
    let old = api.get("/tv/v1/profile", &first).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!(old.error_code(), "unknown_device");
    assert!(old.headers.contains_key("www-authenticate"));
    let new = api.get("/tv/v1/profile", &second).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert_eq!(new.json(), json!({"authenticated": false}));
}

#[tokio::test]
async fn providers_are_filtered_for_pickers() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-providers").await;
    let answer = api.get("/tv/v1/providers", &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let providers = answer.json()["providers"].as_array().expect("list").clone();
    let ids: Vec<&str> = providers.iter().filter_map(|p| p["id"].as_str()).collect();
    assert!(
        ids.contains(&"Spectrum") && ids.contains(&"Cablevision"),
        "{ids:?}"
    );
    // §6: TempPass entries (isTempPass) and, by the default --hidden-providers, test
    // integrations are hidden; displayInPlatformPicker is Apple's picker and hides nothing.
    for hidden in ["TempPass_TEST40", "flexibleTempPass", "Emulator_TEST"] {
        assert!(!ids.contains(&hidden), "{hidden} is hidden");
    }
    assert!(ids.contains(&"HarborFiber"), "{ids:?}");
    for provider in &providers {
        assert!(provider["displayName"].is_string(), "{provider}");
        let keys: Vec<&String> = provider.as_object().expect("object").keys().collect();
        assert!(keys
            .iter()
            .all(|k| ["id", "displayName", "logoUrl"].contains(&k.as_str())));
    }
}

#[tokio::test]
async fn activation_by_code_then_play_then_logout() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-main-flow").await;

    let activation = api.start_activation(&token, "Spectrum").await;
    let code = activation["code"].as_str().expect("code").to_owned();
    let activate = format!("{}/activate", api.public_url);
    assert_eq!(activation["activationUrl"], activate.as_str());
    assert_eq!(
        activation["activationUrlComplete"],
        format!("{activate}?code={code}").as_str()
    );
    assert_eq!(
        activation["qrCodeUrl"],
        format!("{}/tv/v1/activations/{code}/qr.svg", api.public_url).as_str()
    );
    assert!(activation["expiresAt"].as_i64().expect("epoch ms") > 1_600_000_000_000);
    assert!(activation["pollIntervalSeconds"].as_u64().expect("seconds") >= 1);

    let qr = api
        .get(&format!("/tv/v1/activations/{code}/qr.svg"), &token)
        .await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers["content-type"], "image/svg+xml");
    assert!(
        qr.text.contains("<svg"),
        "{}",
        &qr.text[..60.min(qr.text.len())]
    );

    let pending = api.get(&format!("/tv/v1/activations/{code}"), &token).await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text);
    assert_eq!(pending.json()["status"], "pending");
    assert_eq!(pending.json()["provider"], "Spectrum");
    assert_eq!(pending.json()["expiresAt"], activation["expiresAt"]);

    // A long poll that wakes when the viewer signs in on the phone.
    let poll = {
        let http = api.http.clone();
        let url = api.url(&format!("/tv/v1/activations/{code}?wait=25"));
        let token = token.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let response = http.get(url).bearer_auth(token).send().await.expect("poll");
            let body: serde_json::Value = response.json().await.expect("json");
            (body, started.elapsed())
        })
    };
    tv_api_support::pause(300).await;
    api.provider_login(&code, "premium").await;
    let (body, waited) = poll.await.expect("poll task");
    assert_eq!(body["status"], "authenticated", "{body}");
    assert_eq!(body["provider"], "Spectrum");
    assert!(waited < Duration::from_secs(20), "woke after {waited:?}");

    let profile = api.get("/tv/v1/profile", &token).await.json();
    assert_eq!(profile["authenticated"], true);
    assert_eq!(profile["provider"], "Spectrum");
    assert_eq!(profile["type"], "regular");
    assert!(profile["expiresAt"].as_i64().expect("epoch ms") > 1_600_000_000_000);

    let again = api.post("/tv/v1/activations", &token, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["status"], "authenticated");
    assert_eq!(again.json()["provider"], "Spectrum");

    let decisions = api
        .post(
            "/tv/v1/preauthorize",
            &token,
            json!({"resources": ["REF30", "news", "premium-sports", "mature-movies", "REF30", "unknown-resource", "news"]}),
        )
        .await;
    assert_eq!(decisions.status, StatusCode::OK, "{}", decisions.text);
    let decisions = decisions.json()["decisions"]
        .as_array()
        .expect("list")
        .clone();
    let resources: Vec<&str> = decisions
        .iter()
        .filter_map(|d| d["resource"].as_str())
        .collect();
    assert_eq!(
        resources,
        [
            "REF30",
            "news",
            "premium-sports",
            "mature-movies",
            "unknown-resource"
        ]
    );
    assert_eq!(decisions[0]["authorized"], true);
    assert_eq!(decisions[2]["authorized"], true, "premium may watch sports");

    let play = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(play.status, StatusCode::OK, "{}", play.text);
    let play = play.json();
    assert_eq!(play["decision"], "permit");
    assert!(!play["mediaToken"].as_str().expect("media token").is_empty());

    let logout = api
        .call(Method::POST, "/tv/v1/logout", Some(&token), None)
        .await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text);
    assert_eq!(logout.json()["loggedOut"], true);
    assert!(
        logout.json()["logoutUrl"].is_string(),
        "Spectrum has a logout page"
    );
    let profile = api.get("/tv/v1/profile", &token).await.json();
    assert_eq!(profile, json!({"authenticated": false}));
    let after = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(after.status, StatusCode::FORBIDDEN);
    assert_eq!(after.error_code(), "not_authenticated");
}

#[tokio::test]
async fn events_stream_sends_pending_then_authenticated_and_ends() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-events").await;
    let activation = api.start_activation(&token, "Cablevision").await;
    let code = activation["code"].as_str().expect("code").to_owned();
    let mut stream = api
        .http
        .get(api.url(&format!("/tv/v1/activations/{code}/events")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/event-stream"));
    let mut text = String::new();
    let mut signed_in = false;
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let chunk = tokio::time::timeout_at(deadline.into(), stream.chunk())
            .await
            .expect("events before the deadline")
            .expect("chunk");
        let Some(chunk) = chunk else { break };
        text.push_str(&String::from_utf8_lossy(&chunk));
        if !signed_in && text.contains("\"status\":\"pending\"") {
            signed_in = true;
            api.provider_login(&code, "premium").await;
        }
    }
    let events: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert!(text.contains("event: status"), "{text}");
    let last: serde_json::Value = serde_json::from_str(events[1]).expect("json");
    assert_eq!(last["status"], "authenticated");
    assert_eq!(last["provider"], "Cablevision");
}

#[tokio::test]
async fn a_new_activation_supersedes_the_previous_one() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-supersede").await;
    let first = api.start_activation(&token, "Spectrum").await;
    let first_code = first["code"].as_str().expect("code").to_owned();
    let waiting = {
        let http = api.http.clone();
        let url = api.url(&format!("/tv/v1/activations/{first_code}?wait=20"));
        let token = token.clone();
        tokio::spawn(async move {
            let response = http.get(url).bearer_auth(token).send().await.expect("poll");
            response.json::<serde_json::Value>().await.expect("json")
        })
    };
    tv_api_support::pause(300).await;
    let second = api.start_activation(&token, "Spectrum").await;
    assert_ne!(second["code"], first["code"]);
    let woken = waiting.await.expect("poll task");
    assert_eq!(woken["status"], "superseded", "{woken}");
    let status = api
        .get(&format!("/tv/v1/activations/{first_code}"), &token)
        .await;
    assert_eq!(status.json()["status"], "superseded");
    let newest = api
        .get(
            &format!(
                "/tv/v1/activations/{}",
                second["code"].as_str().expect("code")
            ),
            &token,
        )
        .await;
    assert_eq!(newest.json()["status"], "pending");
}

#[tokio::test]
async fn provider_and_parental_denials_come_with_plain_reasons() {
    let api = Api::start(&[]).await;
    let basic = api.signed_in_device("tv-basic", "Spectrum", "basic").await;
    let denied = api
        .post(
            "/tv/v1/authorize",
            &basic,
            json!({"resource": "premium-sports"}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.text);
    let denied = denied.json();
    assert_eq!(denied["decision"], "deny");
    assert!(denied.get("mediaToken").is_none());
    assert!(denied["reason"].is_string());
    assert_eq!(
        denied["message"],
        "Your subscription package does not include this channel."
    );
    let allowed = api
        .post("/tv/v1/authorize", &basic, json!({"resource": "news"}))
        .await
        .json();
    assert_eq!(allowed["decision"], "permit");

    let kids = api.signed_in_device("tv-kids", "Cablevision", "kids").await;
    let denied = api
        .post(
            "/tv/v1/authorize",
            &kids,
            json!({"resource": "mature-movies"}),
        )
        .await
        .json();
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["message"], "Parental controls block this title.");
    let preauthorized = api
        .post(
            "/tv/v1/preauthorize",
            &kids,
            json!({"resources": ["mature-movies", "news"]}),
        )
        .await
        .json();
    assert_eq!(preauthorized["decisions"][0]["authorized"], false);
    assert!(preauthorized["decisions"][0]["message"].is_string());
    assert_eq!(preauthorized["decisions"][1]["authorized"], true);
}

/// Review E5: on the embedded default the service verifies each media token with the
/// emulator's key: a valid token reaches the TV, a forged one (payload changed after signing)
/// never does; the play is denied with `media_token_invalid`, no sign-in asked, and counted
/// as a denied play.
#[tokio::test]
async fn a_media_token_that_does_not_verify_never_reaches_the_tv() {
    let api = Api::start(&[]).await;
    let token = api
        .signed_in_device("tv-media-token", "Cablevision", "premium")
        .await;
    let play = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    let pem = api
        .http
        .get(format!(
            "{}/__emulator/media-token/public-key.pem",
            api.emulator_url
        ))
        .send()
        .await
        .expect("public key")
        .text()
        .await
        .expect("PEM");
    let verifier = tve_activate::adobe_pass::MediaTokenVerifier::from_pem(&pem).expect("key");
    let media_token = play["mediaToken"].as_str().expect("media token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let now = i64::try_from(now).expect("epoch ms");
    let verified = verifier.verify(media_token, Some("REF30"), now);
    assert!(verified.is_ok(), "the TV's token verifies: {verified:?}");

    api.set_faults(json!([{"fault": {"kind": "forgedMediaToken"}}]))
        .await;
    let denied = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.text);
    let denied = denied.json();
    assert_eq!(denied["decision"], "deny", "{denied}");
    assert_eq!(denied["reason"], "media_token_invalid");
    assert!(denied["message"].is_string());
    assert!(denied.get("mediaToken").is_none(), "{denied}");
    assert!(denied.get("action").is_none(), "no new sign-in: {denied}");
    let metrics = api.metrics().await;
    for (decision, count) in [("permit", 1.0), ("deny", 1.0)] {
        let series = format!(
            "tve_plays_total{{provider=\"Cablevision\",platform=\"tvos\",decision=\"{decision}\"}}"
        );
        assert_eq!(common::sample(&metrics, &series), Some(count), "{series}");
    }
}

/// A new TV starts TempPass and plays `REF30`: the answer.
async fn temppass_play(api: &Api) -> serde_json::Value {
    let token = api.register("tv-temppass-play").await;
    let started = api
        .call(Method::POST, "/tv/v1/temppass", Some(&token), None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    api.post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await
        .json()
}

/// Review E5: against another Adobe Pass (here a standalone emulator) media tokens go to the
/// TV unverified unless `--media-token-public-key-file` names the issuer's key.
#[tokio::test]
async fn against_a_remote_adobe_pass_only_a_configured_key_verifies_media_tokens() {
    let forged = || tve_activate::emulator::EmulatorSettings {
        faults: tve_activate::emulator::FaultSet {
            rules: vec![tve_activate::emulator::FaultRule {
                fault: tve_activate::emulator::Fault::ForgedMediaToken,
                path_prefix: None,
                method: None,
                rate: 1.0,
                times: None,
            }],
        },
        ..tve_activate::emulator::EmulatorSettings::default()
    };
    let unverified = Api::with_emulator(forged(), &["--adobe-throttle", "false"]).await;
    let play = temppass_play(&unverified).await;
    assert_eq!(play["decision"], "permit", "passed unverified: {play}");

    let key = tempfile::NamedTempFile::new().expect("key file");
    let pem = tve_activate::emulator::media_token::public_key_pem().expect("test key");
    std::fs::write(key.path(), pem).expect("write");
    let flags = [
        "--adobe-throttle",
        "false",
        "--media-token-public-key-file",
        key.path().to_str().expect("utf-8"),
    ];
    let verified = Api::with_emulator(forged(), &flags).await;
    let play = temppass_play(&verified).await;
    assert_eq!(play["decision"], "deny", "{play}");
    assert_eq!(play["reason"], "media_token_invalid");
}

/// §14.3: TempPass needs no authentication; the TV plays at once, and the clock started by the
/// first play continues (a second start does not restart it). Adobe shows the TempPass's
/// profile only once the first play started it.
#[tokio::test]
async fn temppass_starts_and_continues() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-temppass").await;
    let started = api
        .call(Method::POST, "/tv/v1/temppass", Some(&token), None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    assert_eq!(started.json()["provider"], "TempPass_TEST40");
    let play = api
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    let profile = api.get("/tv/v1/profile", &token).await.json();
    assert_eq!(profile["authenticated"], true);
    assert_eq!(profile["provider"], "TempPass_TEST40");
    let running = api
        .post(
            "/tv/v1/temppass",
            &token,
            json!({"mvpd": "TempPass_TEST40"}),
        )
        .await
        .json();
    let expires_at = running["expiresAt"].as_i64().expect("epoch ms");
    let again = api
        .post(
            "/tv/v1/temppass",
            &token,
            json!({"mvpd": "TempPass_TEST40"}),
        )
        .await
        .json();
    assert_eq!(
        again["expiresAt"].as_i64(),
        Some(expires_at),
        "continues, not restarts"
    );

    let promo = api.register("tv-temppass-promo").await;
    let promotional = api
        .post(
            "/tv/v1/temppass",
            &promo,
            json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"}),
        )
        .await;
    assert_eq!(promotional.status, StatusCode::OK, "{}", promotional.text);
    let play = api
        .post("/tv/v1/authorize", &promo, json!({"resource": "REF30"}))
        .await
        .json();
    assert_eq!(play["decision"], "permit", "{play}");
    let promotional = api
        .post(
            "/tv/v1/temppass",
            &promo,
            json!({"mvpd": "flexibleTempPass"}),
        )
        .await;
    assert_eq!(
        promotional.json()["remainingResources"],
        1,
        "{}",
        promotional.text
    );

    let unknown = api
        .post("/tv/v1/temppass", &promo, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.error_message().starts_with("mvpd:"),
        "{}",
        unknown.text
    );
}

/// §3 and §14.3: a promotional TempPass runs under the viewer's identity, hashed by the
/// programmer (SHA-256) and sent as `AP-TempPass-Identity` on every call about it (P2, D1, D2):
/// the TV plays until the TempPass's resources are used up, and until its time is up.
#[tokio::test]
async fn promotional_temppass_plays_until_its_resources_or_time_run_out() {
    let mut settings = tve_activate::emulator::EmulatorSettings::default();
    for mvpd in &mut settings.dataset.mvpds {
        if let (true, Some(rules)) = (mvpd.id == "flexibleTempPass", &mut mvpd.temp_pass) {
            rules.duration_seconds = 3;
        }
    }
    // The emulator does not throttle; unpaced calls keep the 3 s TempPass within its time.
    let api = Api::with_emulator(settings, &["--adobe-throttle", "false"]).await;
    let start = |token: String, email: &'static str| {
        let api = &api;
        async move {
            api.post(
                "/tv/v1/temppass",
                &token,
                json!({"mvpd": "flexibleTempPass", "email": email}),
            )
            .await
        }
    };
    let play = |token: String, resource: &'static str| {
        let api = &api;
        async move {
            api.post("/tv/v1/authorize", &token, json!({"resource": resource}))
                .await
                .json()
        }
    };

    let tv = api.register("tv-promo").await;
    let started = start(tv.clone(), "viewer@example.com").await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    assert_eq!(play(tv.clone(), "REF30").await["decision"], "permit");
    let running = start(tv.clone(), "viewer@example.com").await;
    assert_eq!(running.json()["remainingResources"], 1, "{}", running.text);
    let preview = api
        .post(
            "/tv/v1/preauthorize",
            &tv,
            json!({"resources": ["news", "premium-sports"]}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(
        preview.json()["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .all(|d| d["authorized"] == true),
        "{}",
        preview.text
    );
    assert_eq!(play(tv.clone(), "news").await["decision"], "permit");
    assert_eq!(
        play(tv.clone(), "REF30").await["decision"],
        "permit",
        "a resource already used plays again"
    );
    let third = play(tv.clone(), "premium-sports").await;
    assert_eq!(third["decision"], "deny", "{third}");
    assert_eq!(third["reason"], "temporary_access_resources_limit_exceeded");

    let other = api.register("tv-promo-time").await;
    let started = start(other.clone(), "someone@example.com").await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    assert_eq!(play(other.clone(), "REF30").await["decision"], "permit");
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let late = play(other.clone(), "REF30").await;
    assert_ne!(late["decision"], "permit", "time is up: {late}");
    let profile = api.get("/tv/v1/profile", &other).await.json();
    assert_eq!(profile["authenticated"], false, "{profile}");
}

#[tokio::test]
async fn openapi_document_lists_every_operation() {
    let api = Api::start(&[]).await;
    let answer = api
        .call(Method::GET, "/tv/v1/openapi.json", None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.json();
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for (path, method) in [
        ("/tv/v1/devices", "post"),
        ("/tv/v1/providers", "get"),
        ("/tv/v1/profile", "get"),
        ("/tv/v1/activations", "post"),
        ("/tv/v1/activations/{code}", "get"),
        ("/tv/v1/activations/{code}/events", "get"),
        ("/tv/v1/activations/{code}/qr.svg", "get"),
        ("/tv/v1/preauthorize", "post"),
        ("/tv/v1/authorize", "post"),
        ("/tv/v1/logout", "post"),
        ("/tv/v1/temppass", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(doc["components"]["securitySchemes"]["deviceToken"].is_object());
    assert!(doc["info"]["description"]
        .as_str()
        .expect("description")
        .contains("epoch milliseconds"));
    // Issue 23: every error carries its support code, of the documented shape.
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert!(
        detail["required"]
            .as_array()
            .expect("required")
            .iter()
            .any(|field| field == "supportCode"),
        "{detail}"
    );
    assert_eq!(
        detail["properties"]["supportCode"]["pattern"],
        tve_activate::support::PATTERN,
        "{detail}"
    );
}
