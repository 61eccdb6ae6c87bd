//! Doors an attacker would try, each shut and proved shut through HTTP against the running
//! service (SECURITY.md names the test for each entry point).

mod common;
mod tv_api_support;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, SystemTime},
};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::{register_body, Api};
use tve_activate::{
    clock::ManualClock,
    emulator::{self, EmulatorSettings},
    http::server::ConnectionLimits,
};

// 1. Device identity ------------------------------------------------------------------------

/// The device id is no secret: a registration of it without its token from anywhere but the
/// device's own network (here 127.0.0.0/24; a trusted proxy names the caller) inherits nothing.
/// A reinstall on the device's network does (tests/stable_device_identity.rs).
#[tokio::test]
async fn reregistering_without_the_token_from_another_network_gets_a_new_identity() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    let victim = api
        .signed_in_device("living-room-roku", "Spectrum", "premium")
        .await;
    let clients = api.emulator().state().store().clients.len();

    let registered = api
        .http
        .post(api.url("/tv/v1/devices"))
        .header("x-forwarded-for", "198.51.100.23")
        .json(&register_body("living-room-roku"))
        .send()
        .await
        .expect("response");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let body: serde_json::Value = registered.json().await.expect("json");
    let attacker = body["deviceToken"].as_str().expect("token");

    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients + 1,
        "a new DCR client for the new registration"
    );
    let stolen = api.get("/tv/v1/profile", attacker).await;
    assert_eq!(stolen.status, StatusCode::OK, "{}", stolen.text);
    assert_eq!(stolen.json()["authenticated"], false, "nothing inherited");
    let kept = api.get("/tv/v1/profile", &victim).await;
    assert_eq!(
        kept.json()["authenticated"],
        true,
        "the victim keeps its token and sign-in"
    );
}

#[tokio::test]
async fn renewing_with_the_token_keeps_the_sign_in() {
    let api = Api::start(&[]).await;
    let token = api.signed_in_device("den-tv", "Spectrum", "premium").await;
    let renewed = api.renew("den-tv", &token).await;
    assert_eq!(
        api.get("/tv/v1/profile", &renewed).await.json()["authenticated"],
        true
    );
    assert_eq!(
        api.get("/tv/v1/profile", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the old token is revoked"
    );
}

#[tokio::test]
async fn a_token_of_another_device_or_a_revoked_one_cannot_renew() {
    let api = Api::start(&[]).await;
    let other = api.register("kitchen-tv").await;
    let body = register_body("den-tv").to_string();
    let answer = api
        .call(Method::POST, "/tv/v1/devices", Some(&other), Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert_eq!(answer.error_code(), "unknown_device");
    let _ = api.renew("kitchen-tv", &other).await;
    let body = register_body("kitchen-tv").to_string();
    let answer = api
        .call(Method::POST, "/tv/v1/devices", Some(&other), Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "revoked");
}

#[tokio::test]
async fn internal_ids_cannot_be_registered() {
    let api = Api::start(&[]).await;
    let body = register_body("tve-activate-readiness-probe").to_string();
    let answer = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(answer.error_message().contains("deviceId"));
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let api = Api::start(&[]).await;
    for n in 0..10 {
        api.register(&format!("tv-{n}")).await;
    }
    let body = register_body("tv-10").to_string();
    let answer = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    tv_api_support::assert_retryable(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

#[tokio::test]
async fn temppass_starts_are_limited_per_address() {
    let api = Api::start(&[]).await;
    let mut answers = Vec::new();
    for n in 0..4 {
        let token = api.register(&format!("trial-{n}")).await;
        answers.push(
            api.call(Method::POST, "/tv/v1/temppass", Some(&token), None)
                .await,
        );
    }
    for started in &answers[..3] {
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    }
    tv_api_support::assert_retryable(
        &answers[3],
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    );
}

/// Registers `device_id` from `client` (named by the trusted proxy in front).
async fn register_from(api: &Api, client: &str, device_id: &str) -> tv_api_support::Answer {
    let body = register_body(device_id).to_string();
    api.call_from(client, Method::POST, "/tv/v1/devices", None, Some(&body))
        .await
}

/// One holder of an IPv6 /48 rotating through its /64s spends one budget: 20 registrations per
/// /56, 50 per /48, whatever the /64s; the next /48 is untouched.
#[tokio::test]
async fn registrations_are_limited_per_ipv6_network_and_site() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    for home in 0..20 {
        let answer = register_from(
            &api,
            &format!("2001:db8:1:{home:x}::1"),
            &format!("tv-{home}"),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "/64 {home}: {}",
            answer.text
        );
    }
    let answer = register_from(&api, "2001:db8:1:ff::1", "tv").await;
    tv_api_support::assert_retryable(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    for network in 1..=30 {
        let client = format!("2001:db8:1:{:x}::1", network << 8);
        let answer = register_from(&api, &client, &format!("tv-{client}")).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "/56 {network}: {}",
            answer.text
        );
    }
    let answer = register_from(&api, "2001:db8:1:ff00::1", "tv").await;
    tv_api_support::assert_retryable(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    let elsewhere = register_from(&api, "2001:db8:2::1", "tv").await;
    assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.text);
    let metrics = api.metrics().await;
    for limit in ["ipv6_56", "ipv6_48"] {
        let refused =
            format!("\ntve_limit_refusals_total{{action=\"registration\",limit=\"{limit}\"}} 1\n");
        assert!(metrics.contains(&refused), "{refused} in {metrics}");
    }
}

#[tokio::test]
async fn registrations_are_limited_per_ipv4_24() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    for host in 1..=30 {
        let answer =
            register_from(&api, &format!("198.51.100.{host}"), &format!("tv-{host}")).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{host}: {}",
            answer.text
        );
    }
    let answer = register_from(&api, "198.51.100.200", "tv").await;
    tv_api_support::assert_retryable(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let elsewhere = register_from(&api, "198.51.101.1", "tv").await;
    assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.text);
}

/// A web page can post to any site without the browser asking first only with no
/// Content-Type or a form's; registrations need JSON's, so a crowd's browsers cannot be made
/// to register (and spend the budget) from a page they visit.
#[tokio::test]
async fn registrations_need_a_json_content_type() {
    let api = Api::start(&[]).await;
    let clients = api.emulator().state().store().clients.len();
    let body = register_body("tv-from-a-web-page").to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = api.http.post(api.url("/tv/v1/devices")).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("response");
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let answer: serde_json::Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["code"], "unsupported_media_type");
        let message = answer["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("Content-Type: application/json"),
            "{message}"
        );
    }
    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients,
        "nothing registered at Adobe"
    );
    api.register("tv-from-a-web-page").await;
}

/// A crowd's registrations that never start a sign-in do not stay: once unseen past the
/// window (30 days) they are deleted with their credentials. A device that started a sign-in,
/// even one it never finished, keeps its registration, as does one seen lately.
#[tokio::test]
async fn idle_registrations_that_never_started_a_sign_in_are_reclaimed() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&[], clock.clone()).await;
    let idle = api.register("idle-tv").await;
    let trying = api.register("trying-tv").await;
    api.start_activation(&trying, "Spectrum").await;
    let watching = api
        .signed_in_device("watching-tv", "Spectrum", "premium")
        .await;
    let store = api.state.service.store();
    let tried = store.devices_of_app("trying-tv").await.expect("read");
    assert!(
        tried[0].sign_in_started_at.is_some(),
        "an activation start is a sign-in started"
    );
    assert_eq!(
        api.state
            .service
            .reclaim_idle_registrations()
            .await
            .expect("sweep"),
        0,
        "nothing idle yet"
    );

    clock.advance(Duration::from_secs(31 * 86_400));
    let lately = api.register("lately-tv").await;
    assert_eq!(
        api.state
            .service
            .reclaim_idle_registrations()
            .await
            .expect("sweep"),
        1
    );

    let gone = api.get("/tv/v1/profile", &idle).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.text);
    assert_eq!(gone.error_code(), "unknown_device");
    assert!(store
        .devices_of_app("idle-tv")
        .await
        .expect("read")
        .is_empty());
    for kept in [&trying, &watching, &lately] {
        let answer = api.get("/tv/v1/profile", kept).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    assert!(api
        .metrics()
        .await
        .contains("tve_registrations_reclaimed_total 1"));
    let back = api.register("idle-tv").await;
    assert_eq!(
        api.get("/tv/v1/profile", &back).await.json(),
        json!({"authenticated": false}),
        "the TV registers again when it comes back"
    );
}

/// The window is a setting; zero keeps every registration.
#[tokio::test]
async fn a_reclaim_window_of_zero_keeps_every_registration() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&["--reclaim-idle-days", "0"], clock.clone()).await;
    let idle = api.register("idle-tv").await;
    clock.advance(Duration::from_secs(3_650 * 86_400));
    assert_eq!(
        api.state
            .service
            .reclaim_idle_registrations()
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(
        api.get("/tv/v1/profile", &idle).await.status,
        StatusCode::OK
    );
}

/// TempPass starts from fresh registrations in one IPv6 /48: 6 per /56 and 12 per /48,
/// whatever the /64s.
#[tokio::test]
async fn temppass_starts_are_limited_per_ipv6_network_and_site() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    // Each start on a device of its own: one id again from its /56 would be a reinstall, which
    // keeps its TempPass.
    let start = |client: String| {
        let api = &api;
        async move {
            let registered = register_from(api, &client, &format!("trial-{client}")).await;
            assert_eq!(
                registered.status,
                StatusCode::CREATED,
                "{}",
                registered.text
            );
            let token = registered.json()["deviceToken"]
                .as_str()
                .expect("token")
                .to_owned();
            api.call_from(&client, Method::POST, "/tv/v1/temppass", Some(&token), None)
                .await
        }
    };
    for home in 0..6 {
        let started = start(format!("2001:db8:1:{home:x}::1")).await;
        assert_eq!(
            started.status,
            StatusCode::OK,
            "/64 {home}: {}",
            started.text
        );
    }
    let refused = start("2001:db8:1:ff::1".to_owned()).await;
    tv_api_support::assert_retryable(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    for network in 1..=6 {
        let started = start(format!("2001:db8:1:{:x}::1", network << 8)).await;
        assert_eq!(
            started.status,
            StatusCode::OK,
            "/56 {network}: {}",
            started.text
        );
    }
    let refused = start("2001:db8:1:ff00::1".to_owned()).await;
    tv_api_support::assert_retryable(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    let elsewhere = start("2001:db8:2::1".to_owned()).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.text);
    let metrics = api.metrics().await;
    for limit in ["ipv6_56", "ipv6_48"] {
        let refused =
            format!("\ntve_limit_refusals_total{{action=\"temppass\",limit=\"{limit}\"}} 1\n");
        assert!(metrics.contains(&refused), "{refused} in {metrics}");
    }
}

// 2. A stolen device token: renewal races and revocation ----------------------------------------

const ADMIN_TOKEN: &str = "admin-secret-admin-secret-admin-secret";

/// A renewal with the device's `token`, whatever the answer.
async fn renewal(api: &Api, device_id: &str, token: &str) -> tv_api_support::Answer {
    let body = register_body(device_id).to_string();
    api.call(Method::POST, "/tv/v1/devices", Some(token), Some(&body))
        .await
}

/// A thief keeps the token warm on both nodes while the owner renews it: calls that read the
/// store before the renewal was written must not bring the old token back into a cache, so
/// afterwards the old token renews nothing and reads nothing on either node, and the owner's
/// new token keeps working. (The thief asks for an activation that is not there: the token is
/// checked, and cached, as for any call, without asking Adobe.)
#[tokio::test]
async fn a_thief_using_the_old_token_during_a_renewal_keeps_nothing() {
    let Some((a, b, _emulator, _deployment)) = tv_api_support::two_nodes().await else {
        return;
    };
    let stolen = a.register("raced-tv").await;
    let renewing = AtomicBool::new(true);
    let thief = async {
        let mut answers = Vec::new();
        while renewing.load(Ordering::SeqCst) {
            let wave = (0..16).map(|n| {
                let node = if n % 2 == 0 { &a } else { &b };
                node.get("/tv/v1/activations/NOSUCHCODE", &stolen)
            });
            answers.extend(futures_util::future::join_all(wave).await);
        }
        answers
    };
    let owner = async {
        let renewed = a.renew("raced-tv", &stolen).await;
        renewing.store(false, Ordering::SeqCst);
        renewed
    };
    let (answers, renewed) = tokio::join!(thief, owner);
    assert!(!answers.is_empty());
    for answer in &answers {
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&answer.status),
            "{}",
            answer.text
        );
    }
    tv_api_support::pause(300).await;
    for node in [&a, &b] {
        let answer = renewal(node, "raced-tv", &stolen).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert_eq!(answer.error_code(), "unknown_device");
        assert_eq!(
            node.get("/tv/v1/profile", &stolen).await.status,
            StatusCode::UNAUTHORIZED,
            "no read put the old token back"
        );
        let kept = node.get("/tv/v1/profile", &renewed).await;
        assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    }
}

/// A node that never heard of a renewal elsewhere (its message lost; here it listens on
/// another channel) still caches the old token: a renewal with it there is refused, because a
/// renewal asks the shared store and replaces only the token it was shown.
#[tokio::test]
async fn a_token_renewed_on_another_node_renews_nothing_on_a_node_that_missed_it() {
    let Some(deployment) = common::Deployment::new().await else {
        return;
    };
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator starts");
    let owners = Api::node_of(emulator.base_url(), &deployment.settings()).await;
    let elsewhere = format!("{}-deaf", deployment.namespace);
    let deaf = Api::node_of(
        emulator.base_url(),
        &[
            "--store-url",
            &deployment.postgres,
            "--secrets-key-file",
            &deployment.key,
            "--redis-url",
            &deployment.redis,
            "--redis-namespace",
            &elsewhere,
        ],
    )
    .await;
    let stolen = owners
        .signed_in_device("deaf-tv", "Spectrum", "premium")
        .await;
    let warm = deaf.get("/tv/v1/profile", &stolen).await;
    assert_eq!(warm.json()["authenticated"], true, "{}", warm.text);

    let renewed = owners.renew("deaf-tv", &stolen).await;
    let answer = renewal(&deaf, "deaf-tv", &stolen).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert_eq!(answer.error_code(), "unknown_device");
    for node in [&owners, &deaf] {
        let kept = node.get("/tv/v1/profile", &renewed).await;
        assert_eq!(kept.json()["authenticated"], true, "{}", kept.text);
    }
}

/// An operator told of a stolen token revokes it: every holder must register afresh, the
/// viewer is signed out at Adobe, and other devices keep theirs.
#[tokio::test]
async fn an_operator_revokes_a_stolen_token_and_signs_the_device_out() {
    let api = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let stolen = api
        .signed_in_device("revoked-tv", "Spectrum", "premium")
        .await;
    let other = api
        .signed_in_device("other-tv", "Spectrum", "premium")
        .await;
    let cached = api.get("/tv/v1/profile", &stolen).await;
    assert_eq!(cached.json()["authenticated"], true, "{}", cached.text);

    let done = api
        .call_internal(
            Method::POST,
            "/admin/v1/devices/revoked-tv/revoke",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);

    let read = api.get("/tv/v1/profile", &stolen).await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED, "{}", read.text);
    assert_eq!(read.error_code(), "unknown_device");
    let renewed = renewal(&api, "revoked-tv", &stolen).await;
    assert_eq!(renewed.status, StatusCode::UNAUTHORIZED, "{}", renewed.text);
    assert_eq!(
        api.emulator().state().store().profiles.len(),
        1,
        "logged out at Adobe; the other TV stays signed in"
    );
    assert_eq!(
        api.get("/tv/v1/profile", &other).await.json()["authenticated"],
        true
    );
    let fresh = api.register("revoked-tv").await;
    assert_eq!(
        api.get("/tv/v1/profile", &fresh).await.json(),
        json!({"authenticated": false}),
        "registered afresh, signed out"
    );
}

#[tokio::test]
async fn revocation_needs_the_admin_token_and_a_known_device() {
    let api = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let token = api.register("guarded-tv").await;
    for wrong in [None, Some("admin-secret"), Some(token.as_str())] {
        let answer = api
            .call_internal(
                Method::POST,
                "/admin/v1/devices/guarded-tv/revoke",
                wrong,
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert_eq!(answer.error_code(), "invalid_admin_token");
    }
    assert_eq!(
        api.get("/tv/v1/profile", &token).await.status,
        StatusCode::OK,
        "nothing revoked"
    );
    let unknown = api
        .call_internal(
            Method::POST,
            "/admin/v1/devices/nobody/revoke",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_eq!(unknown.error_code(), "not_found");

    let off = Api::start(&[]).await;
    let answer = off
        .call_internal(
            Method::POST,
            "/admin/v1/devices/guarded-tv/revoke",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "without --admin-token"
    );
}

// 3. Credentials Adobe no longer accepts ------------------------------------------------------

#[tokio::test]
async fn a_client_adobe_deleted_is_registered_again_once() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-deleted-client").await;
    {
        // Adobe deletes every client (and so their tokens).
        let mut store = api.emulator().state().store();
        store.clients.clear();
        store.tokens.clear();
    }
    let answer = api.get("/tv/v1/profile", &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(api.emulator().state().store().clients.len(), 1);
    let again = api.get("/tv/v1/profile", &token).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        api.emulator().state().store().clients.len(),
        1,
        "registered once"
    );
    let metrics = api.metrics().await;
    assert!(
        metrics.contains("\nadobe_pass_clients_replaced_total 1\n"),
        "{metrics}"
    );
    let ready = api
        .http
        .get(api.url("/readyz"))
        .send()
        .await
        .expect("ready");
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "the probe's client is replaced too"
    );
}

// 4. Redirects --------------------------------------------------------------------------------

#[tokio::test]
async fn language_back_links_never_leave_the_site() {
    let api = Api::start(&[]).await;
    for back in [
        "%2F%09%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%5C%5Cevil.example",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%0A%2Fevil.example",
        "javascript%3Aalert(1)",
    ] {
        let response = api
            .http
            .get(api.url(&format!("/language/es?back={back}")))
            .send()
            .await
            .expect("redirect");
        assert!(response.status().is_redirection(), "{back}");
        assert_eq!(response.headers()["location"], "/", "{back}");
    }
    let response = api
        .http
        .get(api.url("/language/es?back=%2Factivate%3Fcode%3DAB12CD"))
        .send()
        .await
        .expect("redirect");
    assert_eq!(response.headers()["location"], "/activate?code=AB12CD");
}

// 6. Internal routes, request ids, the TV simulator --------------------------------------------

#[tokio::test]
async fn internal_routes_are_not_on_the_public_listener() {
    let admin = "admin-secret-admin-secret-admin-secret";
    let api = Api::start(&["--admin-token", admin]).await;
    let token = api.register("tv-internal").await;
    for (method, path) in [
        (Method::GET, "/metrics"),
        (Method::POST, "/admin/v1/devices/tv-internal/invalidate"),
    ] {
        let public = api.call(method.clone(), path, Some(admin), None).await;
        assert_eq!(public.status, StatusCode::NOT_FOUND, "{path} in public");
    }
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.json(), json!({"status": "ready"}));

    assert!(api.metrics().await.contains("adobe_pass_calls_total"));
    let invalidated = api
        .call_internal(
            Method::POST,
            "/admin/v1/devices/tv-internal/invalidate",
            Some(admin),
            None,
        )
        .await;
    assert_eq!(invalidated.status, StatusCode::NO_CONTENT);
    assert!(!token.is_empty());
}

#[tokio::test]
async fn request_ids_are_taken_only_from_trusted_proxies() {
    for (flags, kept) in [
        (vec![], false),
        (vec!["--trusted-proxies", "127.0.0.1"], true),
    ] {
        let api = Api::start(&flags).await;
        let response = api
            .http
            .get(api.url("/healthz"))
            .header("x-request-id", "forged-id-1")
            .send()
            .await
            .expect("answer");
        let id = response.headers()["x-request-id"]
            .to_str()
            .expect("id")
            .to_owned();
        assert_eq!(id == "forged-id-1", kept, "{flags:?}: {id}");
        assert!(!id.is_empty());
    }
}

// 7. Limits that keep one client from taking the server ----------------------------------------

#[tokio::test]
async fn tv_api_answers_are_never_stored() {
    let api = Api::start(&[]).await;
    let body = register_body("tv-no-store").to_string();
    let registered = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    assert_eq!(registered.headers["cache-control"], "no-store");
    let token = registered.json()["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    for path in ["/tv/v1/profile", "/tv/v1/providers", "/tv/v1/nowhere"] {
        let answer = api.get(path, &token).await;
        assert_eq!(answer.headers["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn streams_per_device_token_are_capped() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-streams").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let path = format!("/tv/v1/activations/{code}/events");
    let mut open = Vec::new();
    for _ in 0..4 {
        let response = api
            .http
            .get(api.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    let refused = api.get(&path, &token).await;
    tv_api_support::assert_retryable(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let poll = api
        .get(&format!("/tv/v1/activations/{code}?wait=5"), &token)
        .await;
    assert_eq!(
        poll.status,
        StatusCode::TOO_MANY_REQUESTS,
        "long polls count too"
    );
    open.pop();
    tv_api_support::pause(100).await;
    let again = api
        .http
        .get(api.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "a closed stream gives its place back"
    );
}

/// Opens the event streams of `token`'s activation `code` until one is refused: how many opened
/// (they stay open in `open`), and the refusal.
async fn streams_until_refused(
    api: &Api,
    token: &str,
    code: &str,
    open: &mut Vec<reqwest::Response>,
) -> tv_api_support::Answer {
    let path = format!("/tv/v1/activations/{code}/events");
    loop {
        let response = api
            .http
            .get(api.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream");
        if response.status() != StatusCode::OK {
            return tv_api_support::Answer {
                status: response.status(),
                headers: response.headers().clone(),
                text: response.text().await.expect("body"),
            };
        }
        open.push(response);
    }
}

/// Security review, finding 10: waits (event streams, long polls) hold at most half of a node's
/// connections, whatever the devices and addresses, so the other half serves everyone else.
#[tokio::test]
async fn waits_hold_at_most_half_of_a_nodes_connections() {
    let api = Api::start(&["--max-connections", "16"]).await;
    let mut open = Vec::new();
    for device in ["tv-wait-1", "tv-wait-2"] {
        let token = api.register(device).await;
        let code = api.start_activation(&token, "Spectrum").await["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let refused = streams_until_refused(&api, &token, &code, &mut open).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{device}");
    }
    assert_eq!(open.len(), 8, "4 per device, and the node's 8 are taken");
    let token = api.register("tv-wait-3").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut third = Vec::new();
    let refused = streams_until_refused(&api, &token, &code, &mut third).await;
    assert!(third.is_empty(), "the node's waits are taken");
    tv_api_support::assert_retryable(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let status = api.get(&format!("/tv/v1/activations/{code}"), &token).await;
    assert_eq!(status.status, StatusCode::OK, "other requests are served");
}

/// A router answering "hi" served with `limits` on a loopback port, until the test ends.
async fn serve_hello(limits: ConnectionLimits) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
    tokio::spawn(tve_activate::http::server::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    addr
}

#[tokio::test]
async fn idle_connections_without_headers_are_closed() {
    use tokio::io::AsyncReadExt as _;
    let addr = serve_hello(ConnectionLimits {
        header_read_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut buffer),
    )
    .await;
    assert!(
        read.is_ok(),
        "the server hung up on a client that sent nothing"
    );
}

/// A connection to `server` from `from`, an address of this host: all of 127.0.0.0/8 is
/// loopback, so each /24 in it stands for another client's network.
async fn connect_from(from: [u8; 4], server: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .expect("bind");
    socket.connect(server).await.expect("connect")
}

/// What `GET /` from `from` gets within 2 s, or none.
async fn hello_from(from: [u8; 4], server: std::net::SocketAddr) -> Option<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = connect_from(from, server).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut buffer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(2),
        stream.read_to_end(&mut buffer),
    )
    .await
    .ok()?
    .ok()?;
    Some(String::from_utf8_lossy(&buffer).into_owned())
}

/// Whether the server hung up on `stream` within a second (it never sent anything).
async fn hung_up(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// Security review, finding 10: one address holding idle sockets gets its share of the
/// connections (1/16) and is disconnected past it at once; another address is served.
#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let addr = serve_hello(ConnectionLimits {
        max_connections: 16,
        ..Default::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..16 {
        idle.push(connect_from([127, 0, 0, 1], addr).await);
    }
    let mut refused = 0;
    for stream in &mut idle {
        refused += usize::from(hung_up(stream).await);
    }
    assert_eq!(refused, 15, "one connection is the address's share");
    let answer = hello_from([127, 0, 0, 2], addr).await;
    assert!(
        answer.is_some_and(|answer| answer.contains("hi")),
        "another address is served"
    );
}

/// Security review, finding 10: with exempt peers (the trusted proxies and loopback in
/// production), a full listener disconnects other clients at once instead of leaving them in
/// the backlog, and keeps places past the cap for the exempt ones (the balancer's health checks).
#[tokio::test]
async fn exempt_peers_are_served_past_a_full_listener() {
    let addr = serve_hello(ConnectionLimits {
        max_connections: 1,
        exempt: vec!["127.0.9.9/32".parse().expect("net")].into(),
        ..Default::default()
    })
    .await;
    let mut holder = connect_from([127, 0, 0, 1], addr).await;
    let mut late = connect_from([127, 0, 1, 1], addr).await;
    assert!(hung_up(&mut late).await, "a full listener refuses at once");
    let check = hello_from([127, 0, 9, 9], addr).await;
    assert!(
        check.is_some_and(|answer| answer.contains("hi")),
        "the exempt peer is served"
    );
    assert!(!hung_up(&mut holder).await, "the holder keeps its place");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = serve_hello(ConnectionLimits {
        max_connections: 1,
        ..Default::default()
    })
    .await;
    let holder = connect_from([127, 0, 0, 1], addr).await;
    // Another network: the first one's share is taken.
    let mut second = connect_from([127, 0, 1, 1], addr).await;
    second
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buffer = Vec::new();
    let early = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        second.read_to_end(&mut buffer),
    )
    .await;
    assert!(early.is_err(), "served while the only place was taken");
    drop(holder);
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        second.read_to_end(&mut buffer),
    )
    .await
    .expect("served once the place was free")
    .expect("read");
    assert!(String::from_utf8_lossy(&buffer).contains("hi"));
}

/// Calls `call` until it is refused (at most `attempts` times): how many were admitted, and the
/// refusal.
async fn admitted_until_refused<F, Fut>(attempts: u32, mut call: F) -> (u32, tv_api_support::Answer)
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = tv_api_support::Answer>,
{
    for n in 0..attempts {
        let answer = call(n).await;
        if answer.status != StatusCode::OK {
            return (n, answer);
        }
    }
    panic!("{attempts} calls, none refused");
}

/// Security review, finding 3: activation starts, provider lists, profile reads and logouts
/// make the service call Adobe, and one device token (or one address prefix) could make them
/// without end. Each device has a budget of 30, its address one of 60, nested over its IPv6 /56
/// and /48; a refusal is a 429 with `retryAfter`, counted by the limit that refused.
#[tokio::test]
async fn steps_reaching_adobe_are_metered_per_device_and_per_address() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    let home = "2001:db8:7:1::1";
    let mut tokens = Vec::new();
    for n in 0..3 {
        let answer = register_from(&api, home, &format!("tv-metered-{n}")).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        tokens.push(
            answer.json()["deviceToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let providers = |client: &'static str, token: String| {
        let api = &api;
        async move {
            api.call_from(client, Method::GET, "/tv/v1/providers", Some(&token), None)
                .await
        }
    };

    // One device: 30 at once (one more may have been earned meanwhile), then refused.
    let (admitted, refused) =
        admitted_until_refused(40, |_| providers(home, tokens[0].clone())).await;
    assert!((30..=31).contains(&admitted), "{admitted} admitted");
    tv_api_support::assert_retryable(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let start = api
        .call_from(
            home,
            Method::POST,
            "/tv/v1/activations",
            Some(&tokens[0]),
            Some("{}"),
        )
        .await;
    tv_api_support::assert_retryable(&start, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    // The address: its other devices share what is left of its 60.
    let (admitted_more, _) = admitted_until_refused(60, |n| {
        providers(home, tokens[1 + (n % 2) as usize].clone())
    })
    .await;
    assert!(
        (60..=63).contains(&(admitted + admitted_more)),
        "{admitted} + {admitted_more} admitted from one address"
    );
    let metrics = api.metrics().await;
    for limit in ["device", "address"] {
        let refused =
            format!("tve_limit_refusals_total{{action=\"adobe_step\",limit=\"{limit}\"}}");
        assert!(metrics.contains(&refused), "{refused} in {metrics}");
    }

    // A device refused only by its address's budget is admitted from elsewhere.
    let elsewhere = providers("2001:db8:8:1::1", tokens[2].clone()).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.text);
}
