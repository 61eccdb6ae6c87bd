//! Game night: operators change things at runtime on the operators' listener, on every node
//! within seconds and after a restart, each change kept with who and why:
//! - a provider's state (`PUT /admin/v1/providers/{mvpd}`): hidden from every picker, or shown
//!   with a notice in the viewer's language, lapsing by itself at its end time;
//! - the limits (`PUT /admin/v1/limits`): registrations from everyone, steps reaching Adobe per
//!   address, background polls in flight.

mod common;
mod tv_api_support;

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tv_api_support::{Answer, Api, Browser};
use tve_activate::clock::{millis_since_epoch, ManualClock};

const ADMIN_TOKEN: &str = "provider-states-admin-token-0123456789";

async fn set_state(api: &Api, mvpd: &str, body: Value) -> Answer {
    api.call_internal(
        Method::PUT,
        &format!("/admin/v1/providers/{mvpd}"),
        Some(ADMIN_TOKEN),
        Some(&body.to_string()),
    )
    .await
}

/// The providers `GET /tv/v1/providers` lists for `token`, asking in `language`.
async fn providers(api: &Api, token: &str, language: &str) -> Vec<Value> {
    let response = api
        .http
        .get(api.url("/tv/v1/providers"))
        .bearer_auth(token)
        .header("accept-language", language)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["providers"].as_array().expect("providers").clone()
}

fn find<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|provider| provider["id"] == id)
}

#[tokio::test]
async fn a_notice_shows_in_the_viewers_language_and_lapses_by_itself() {
    let clock = ManualClock::new(SystemTime::now());
    let api = Api::start_with_clock(&["--admin-token", ADMIN_TOKEN], clock.clone()).await;
    let token = api.register("den-tv").await;
    let until = millis_since_epoch(SystemTime::now()) + 3_600_000;
    let set = set_state(
        &api,
        "Spectrum",
        json!({
            "state": "notice",
            "message": {"es": "Spectrum tiene problemas; pruebe más tarde."},
            "until": until,
            "changedBy": "ana",
            "reason": "Spectrum login slow (ticket 4521)"
        }),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json()["changedBy"], "ana");

    let spanish = providers(&api, &token, "es-MX,es;q=0.9").await;
    assert_eq!(
        find(&spanish, "Spectrum").expect("listed")["notice"],
        "Spectrum tiene problemas; pruebe más tarde."
    );
    let english = providers(&api, &token, "fr-CA, en;q=0.5").await;
    assert_eq!(
        find(&english, "Spectrum").expect("listed")["notice"],
        "Spectrum sign-in is having trouble right now.",
        "no English words given: the service's own"
    );
    assert!(
        english
            .iter()
            .filter(|provider| provider["id"] != "Spectrum")
            .all(|provider| provider.get("notice").is_none()),
        "{english:?}"
    );

    // The phone's picker says it too, in the page's language.
    let code = api
        .post("/tv/v1/activations", &token, json!({}))
        .await
        .json()["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut phone = Browser::new(&api);
    phone.cookies.push("lang=es".to_owned());
    let (status, _) = phone.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = phone.get(&format!("/activate/provider?code={code}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Spectrum tiene problemas; pruebe más tarde."),
        "{page}"
    );

    clock.advance(Duration::from_secs(3_601));
    let later = providers(&api, &token, "es").await;
    assert!(
        find(&later, "Spectrum")
            .expect("listed")
            .get("notice")
            .is_none(),
        "the notice lapsed at its end time"
    );
}

#[tokio::test]
async fn a_hidden_provider_is_offered_nowhere_and_cannot_be_picked() {
    let api = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let token = api.register("attic-tv").await;
    assert!(find(&providers(&api, &token, "en").await, "Spectrum").is_some());
    let set = set_state(
        &api,
        "Spectrum",
        json!({"state": "hidden", "changedBy": "ana", "reason": "login page down"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);

    assert!(find(&providers(&api, &token, "en").await, "Spectrum").is_none());
    let picked = api
        .post("/tv/v1/activations", &token, json!({"mvpd": "Spectrum"}))
        .await;
    assert_eq!(picked.status, StatusCode::BAD_REQUEST, "{}", picked.text);

    let back = set_state(
        &api,
        "Spectrum",
        json!({"state": "normal", "changedBy": "ana", "reason": "login page back"}),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert!(find(&providers(&api, &token, "en").await, "Spectrum").is_some());

    let listed = api
        .call_internal(Method::GET, "/admin/v1/providers", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let states = listed.json()["providers"].clone();
    assert_eq!(states[0]["mvpd"], "Spectrum");
    assert_eq!(states[0]["state"], "normal");
    assert_eq!(states[0]["reason"], "login page back");
}

#[tokio::test]
async fn changes_need_the_admin_token_and_a_valid_body_and_bad_ones_change_nothing() {
    let api = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let good = json!({"state": "hidden", "changedBy": "ana", "reason": "down"});
    let anonymous = api
        .call_internal(
            Method::PUT,
            "/admin/v1/providers/Spectrum",
            None,
            Some(&good.to_string()),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let unlisted = api
        .call_internal(Method::GET, "/admin/v1/providers", Some("wrong"), None)
        .await;
    assert_eq!(unlisted.status, StatusCode::UNAUTHORIZED);

    for (body, field) in [
        (
            json!({"state": "gone", "changedBy": "ana", "reason": "x"}),
            "state",
        ),
        (json!({"state": "hidden", "reason": "x"}), "changedBy"),
        (
            json!({"state": "hidden", "changedBy": "ana", "reason": ""}),
            "reason",
        ),
        (
            json!({"state": "notice", "message": {"fr": "Non"}, "changedBy": "ana", "reason": "x"}),
            "message",
        ),
        (
            json!({"state": "hidden", "until": 1, "changedBy": "ana", "reason": "x"}),
            "until",
        ),
        (
            json!({"state": "hidden", "changedBy": "ana", "reason": "x", "extra": 1}),
            "extra",
        ),
    ] {
        let answer = set_state(&api, "Spectrum", body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert!(answer.error_message().contains(field), "{}", answer.text);
    }
    let listed = api
        .call_internal(Method::GET, "/admin/v1/providers", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(listed.json(), json!({"providers": []}), "nothing changed");
}

/// Two nodes sharing PostgreSQL and Redis: a change on one reaches the other within 2 s over
/// the node bus, and a node started afterwards reads it from the store.
#[tokio::test]
async fn every_node_applies_a_change_within_seconds_and_after_a_restart() {
    let Some(deployment) = common::Deployment::new().await else {
        eprintln!("skipped: no PostgreSQL or Redis for the tests");
        return;
    };
    let emulator = tve_activate::emulator::spawn(Default::default())
        .await
        .expect("emulator starts");
    let mut flags = deployment.settings().to_vec();
    flags.extend(["--admin-token", ADMIN_TOKEN]);
    let a = Api::node_of(emulator.base_url(), &flags).await;
    let b = Api::node_of(emulator.base_url(), &flags).await;
    let token = a.register("hall-tv").await;
    assert!(find(&providers(&b, &token, "en").await, "Spectrum").is_some());

    let set = set_state(
        &a,
        "Spectrum",
        json!({"state": "hidden", "changedBy": "ana", "reason": "login page down"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let mut hidden_on_b = false;
    for _ in 0..20 {
        if find(&providers(&b, &token, "en").await, "Spectrum").is_none() {
            hidden_on_b = true;
            break;
        }
        tv_api_support::pause(100).await;
    }
    assert!(hidden_on_b, "node b still offers Spectrum after 2 s");

    let restarted = Api::node_of(emulator.base_url(), &flags).await;
    assert!(find(&providers(&restarted, &token, "en").await, "Spectrum").is_none());
}

async fn change_limits(api: &Api, body: Value) -> Answer {
    api.call_internal(
        Method::PUT,
        "/admin/v1/limits",
        Some(ADMIN_TOKEN),
        Some(&body.to_string()),
    )
    .await
}

/// Registers `device_id` from `client` (named by the trusted proxy in front).
async fn register_from(api: &Api, client: &str, device_id: &str) -> StatusCode {
    let body = tv_api_support::register_body(device_id).to_string();
    api.call_from(client, Method::POST, "/tv/v1/devices", None, Some(&body))
        .await
        .status
}

/// A launch brings more new TVs than the budget for everyone allows: an operator raises it,
/// and the next registration is admitted with no restart; a reset goes back to the flag.
#[tokio::test]
async fn an_operator_raises_the_registration_budget_without_a_restart() {
    let api = Api::start(&[
        "--admin-token",
        ADMIN_TOKEN,
        "--trusted-proxies",
        "127.0.0.1/32",
        "--registrations-per-second",
        "1",
    ])
    .await;
    // 50 at once for everyone (one second's worth times 50), each from its own /24.
    for n in 0..50 {
        let status = register_from(&api, &format!("10.1.{n}.1"), &format!("launch-tv-{n}")).await;
        assert_eq!(status, StatusCode::CREATED, "registration {n}");
    }
    assert_eq!(
        register_from(&api, "10.2.0.1", "launch-tv-late").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let raised = change_limits(
        &api,
        json!({"registrationsPerSecond": 100, "changedBy": "ana", "reason": "launch night"}),
    )
    .await;
    assert_eq!(raised.status, StatusCode::OK, "{}", raised.text);
    assert_eq!(raised.json()["registrationsPerSecond"], 100);
    assert_eq!(raised.json()["configured"]["registrationsPerSecond"], 1);
    assert_eq!(raised.json()["setByOperator"]["changedBy"], "ana");
    assert_eq!(
        register_from(&api, "10.2.0.1", "launch-tv-late").await,
        StatusCode::CREATED
    );

    let reset = change_limits(
        &api,
        json!({"reset": true, "changedBy": "ana", "reason": "launch over"}),
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.json()["registrationsPerSecond"], 1);
    assert_eq!(reset.json()["setByOperator"], Value::Null);
}

#[tokio::test]
async fn limit_changes_need_the_admin_token_and_valid_values() {
    let api = Api::start(&["--admin-token", ADMIN_TOKEN]).await;
    let anonymous = api
        .call_internal(Method::GET, "/admin/v1/limits", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    for (body, field) in [
        (
            json!({"maxConcurrentPolls": 0, "changedBy": "ana", "reason": "x"}),
            "maxConcurrentPolls",
        ),
        (
            json!({"registrationsPerSecond": 10001, "changedBy": "ana", "reason": "x"}),
            "registrationsPerSecond",
        ),
        (json!({"changedBy": "ana", "reason": "x"}), "body"),
        (json!({"maxConcurrentPolls": 8, "reason": "x"}), "changedBy"),
        (
            json!({"reset": true, "maxConcurrentPolls": 8, "changedBy": "ana", "reason": "x"}),
            "maxConcurrentPolls",
        ),
    ] {
        let answer = change_limits(&api, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert!(answer.error_message().contains(field), "{}", answer.text);
    }
    let limits = api
        .call_internal(Method::GET, "/admin/v1/limits", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(limits.status, StatusCode::OK, "{}", limits.text);
    assert_eq!(
        limits.json()["setByOperator"],
        Value::Null,
        "nothing changed"
    );
    assert_eq!(limits.json()["maxConcurrentPolls"], 32);
    assert_eq!(limits.json()["adobeStepsPerAddressPerSecond"], 2);
}

/// Two nodes sharing PostgreSQL and Redis: steps reaching Adobe per address lowered on one
/// node hold on the other at once, and on a node started afterwards.
#[tokio::test]
async fn a_lowered_step_limit_holds_on_every_node() {
    let Some(deployment) = common::Deployment::new().await else {
        eprintln!("skipped: no PostgreSQL or Redis for the tests");
        return;
    };
    let emulator = tve_activate::emulator::spawn(Default::default())
        .await
        .expect("emulator starts");
    let mut flags = deployment.settings().to_vec();
    flags.extend(["--admin-token", ADMIN_TOKEN]);
    let a = Api::node_of(emulator.base_url(), &flags).await;
    let b = Api::node_of(emulator.base_url(), &flags).await;
    let lowered = change_limits(
        &a,
        json!({"adobeStepsPerAddressPerSecond": 1, "maxConcurrentPolls": 8,
               "changedBy": "ana", "reason": "Adobe asked us to slow down"}),
    )
    .await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.text);

    // One address, two TVs (each device has a budget of 30 of its own): the address's budget
    // is now 30 at once, where it was 60.
    let tvs = [b.register("den-tv").await, b.register("hall-tv").await];
    let mut admitted = 0;
    for n in 0..40 {
        let answer = b.get("/tv/v1/providers", &tvs[n % 2]).await;
        if answer.status == StatusCode::OK {
            admitted += 1;
        } else {
            assert_eq!(
                answer.status,
                StatusCode::TOO_MANY_REQUESTS,
                "{}",
                answer.text
            );
        }
    }
    assert!((30..=31).contains(&admitted), "{admitted} steps admitted");

    let restarted = Api::node_of(emulator.base_url(), &flags).await;
    let limits = restarted
        .call_internal(Method::GET, "/admin/v1/limits", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(limits.json()["adobeStepsPerAddressPerSecond"], 1);
    assert_eq!(limits.json()["maxConcurrentPolls"], 8);
}
