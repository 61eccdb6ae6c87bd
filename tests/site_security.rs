//! The activation site's doors, tried as an attacker would, through HTTP against the running
//! service: every step that takes a code spends one budget, forms need the browser's form token
//! and this site's origin, page views keep no session, the TV simulator is there only when asked for.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use serde_json::json;
use tv_api_support::{two_nodes, Api, Browser};

async fn pending_code(api: &Api, device: &str) -> String {
    let token = api.register(device).await;
    let activation = api
        .post("/tv/v1/activations", &token, json!({}))
        .await
        .json();
    activation["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn every_door_that_takes_a_code_spends_one_budget() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-doors").await;
    let origin = api.public_url.clone();
    let mut browser = Browser::new(&api);

    // Ten wrong codes, each through another door, each from a new browser session (a session
    // of its own would cool down after five).
    for n in 0..10 {
        let mut viewer = Browser::new(&api);
        let (status, _) = viewer.get(&format!("/activate?code={code}")).await;
        assert_eq!(status, StatusCode::OK, "the right code is free");
        let csrf = viewer.csrf();
        let wrong = format!("WRONG{n:02}");
        let form = |response: reqwest::Response| {
            // A refused form post goes back to the entry page, which says why.
            assert_eq!(response.status(), StatusCode::FOUND, "door {n}");
            assert_eq!(
                response.headers()["location"],
                format!("/activate?code={wrong}").as_str()
            );
            StatusCode::NOT_FOUND
        };
        let status = match n % 5 {
            0 => viewer.get(&format!("/activate?code={wrong}")).await.0,
            1 => {
                viewer
                    .get(&format!("/activate/provider?code={wrong}"))
                    .await
                    .0
            }
            2 => {
                viewer
                    .get(&format!("/activate/complete?code={wrong}"))
                    .await
                    .0
            }
            3 => {
                let fields = [("code", wrong.as_str()), ("csrf", csrf.as_str())];
                form(viewer.post("confirm", &fields, Some(&origin)).await)
            }
            _ => {
                let fields = [
                    ("code", wrong.as_str()),
                    ("mvpd", "Spectrum"),
                    ("csrf", csrf.as_str()),
                ];
                form(viewer.post("sign-in", &fields, Some(&origin)).await)
            }
        };
        assert_eq!(status, StatusCode::NOT_FOUND, "door {n}");
        if n == 0 {
            browser = viewer;
        }
    }

    // The eleventh is refused whatever the door, and a new cookie changes nothing.
    let mut fresh = Browser::new(&api);
    for path in [
        "/activate?code=WRONG99".to_owned(),
        "/activate/provider?code=WRONG99".to_owned(),
        "/activate/complete?code=WRONG99".to_owned(),
    ] {
        let (status, _) = fresh.get(&path).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
    let other_code = pending_code(&api, "tv-doors-2").await;
    let (status, _) = fresh.get(&format!("/activate?code={other_code}")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "an unproven code waits too"
    );

    // The code this session proved still works on every later step.
    let (status, page) = browser
        .get(&format!("/activate/provider?code={code}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Spectrum"));

    let metrics = api.metrics().await;
    assert!(
        metrics.contains("\ntve_activation_code_failures_total 10\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn right_codes_cost_nothing_so_a_crowd_behind_one_address_activates() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-crowd").await;
    for _ in 0..25 {
        let mut viewer = Browser::new(&api);
        let (status, _) = viewer.get(&format!("/activate?code={code}")).await;
        assert_eq!(status, StatusCode::OK);
    }
}

// 5. Forms: CSRF token, Origin against the public URL -----------------------------------------

#[tokio::test]
async fn forms_need_the_sessions_csrf_token() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-csrf").await;
    let mut browser = Browser::new(&api);
    browser.get(&format!("/activate?code={code}")).await;
    let origin = api.public_url.clone();
    for csrf in ["", "forged-token"] {
        let response = browser
            .post("confirm", &[("code", &code), ("csrf", csrf)], Some(&origin))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{csrf:?}");
        // Issue 23: the refusal carries the request's support code.
        let body = response.text().await.expect("body");
        let support = body
            .split("support code: ")
            .nth(1)
            .and_then(|rest| rest.get(..9))
            .unwrap_or_default();
        assert!(tv_api_support::is_support_code(support), "{body}");
    }
    let response = browser
        .post("confirm", &[("code", &code)], Some(&origin))
        .await;
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        !location.starts_with("/activate/provider"),
        "a missing field goes nowhere: {} {location}",
        response.status()
    );
    let mut stranger = Browser::new(&api);
    let response = stranger
        .post(
            "cancel",
            &[("code", &code), ("csrf", &browser.csrf())],
            Some(&origin),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );
}

#[tokio::test]
async fn forms_with_origin_null_pass_on_their_token_and_other_origins_never_do() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-origin").await;
    let mut browser = Browser::new(&api);
    browser.get(&format!("/activate?code={code}")).await;
    let csrf = browser.csrf();
    for origin in ["https://evil.example", "http://localhost:1"] {
        let response = browser
            .post("confirm", &[("code", &code), ("csrf", &csrf)], Some(origin))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    let response = browser
        .post("confirm", &[("code", &code), ("csrf", &csrf)], Some("null"))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("/activate/provider?code="),
        "{location}"
    );
}

// The TV simulator ----------------------------------------------------------------------------

#[tokio::test]
async fn the_tv_simulator_is_served_only_when_enabled() {
    for (flags, status) in [
        (vec![], StatusCode::OK),
        (vec!["--tv-simulator", "false"], StatusCode::NOT_FOUND),
    ] {
        let api = Api::start(&flags).await;
        let response = api.http.get(api.url("/tv")).send().await.expect("answer");
        assert_eq!(response.status(), status, "{flags:?}");
    }
}

/// Security review, finding 16: on https the site's cookies are host-only, and a sign-in start
/// gets a new session id (one planted or seen before is worth nothing after).
#[tokio::test]
async fn on_https_the_cookies_are_host_only_and_a_sign_in_gets_a_new_session_id() {
    let api = Api::start(&["--public-url", "https://localhost", "--demo"]).await;
    let first = pending_code(&api, "tv-cookie-1").await;
    let second = pending_code(&api, "tv-cookie-2").await;
    let host_only = |response: &reqwest::Response| {
        let set: Vec<&str> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(!set.is_empty(), "cookies set");
        for cookie in set {
            assert!(cookie.starts_with("__Host-"), "{cookie}");
            assert!(
                cookie.contains("Secure") && cookie.contains("Path=/"),
                "{cookie}"
            );
            assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
        }
    };
    let page = api
        .http
        .get(api.url(&format!("/activate?code={first}")))
        .send()
        .await
        .expect("page");
    host_only(&page);

    let mut attacker = Browser::new(&api);
    attacker.get(&format!("/activate?code={first}")).await;
    let csrf = attacker.csrf();
    let fields = [
        ("code", first.as_str()),
        ("mvpd", "Spectrum"),
        ("csrf", &csrf),
    ];
    let started = attacker
        .post("sign-in", &fields, Some("https://localhost"))
        .await;
    assert_eq!(started.status(), StatusCode::FOUND);
    host_only(&started);
    let planted = attacker.session().expect("a session at the sign-in");
    assert!(planted.starts_with("__Host-tve_session="), "{planted}");

    let mut victim = Browser::new(&api);
    victim.cookies.push(planted.clone());
    victim.get(&format!("/activate?code={second}")).await;
    let csrf = victim.csrf();
    let fields = [
        ("code", second.as_str()),
        ("mvpd", "Spectrum"),
        ("csrf", &csrf),
    ];
    let started = victim
        .post("sign-in", &fields, Some("https://localhost"))
        .await;
    assert_eq!(started.status(), StatusCode::FOUND);
    let renewed = victim.session().expect("a session");
    assert_ne!(renewed, planted, "a new id once the sign-in starts");
}

/// The count of `name` in the `/metrics` text (0 when absent).
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Security review, finding 9: every answer to `/activate?code=` made a browser session, so a
/// loop of cookieless requests filled Redis (or evicted real viewers' sessions in memory). Page
/// views, right or wrong codes, keep nothing on the server; the flow still goes through, and
/// only its sign-in start makes a session.
#[tokio::test]
async fn page_views_make_no_sessions_and_the_flow_still_signs_in() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-no-sessions").await;
    for n in 0..30 {
        let response = api
            .http
            .get(api.url(&format!("/activate?code={code}")))
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), StatusCode::OK, "view {n}");
    }
    for n in 0..3 {
        let (status, _) = Browser::new(&api)
            .get(&format!("/activate?code=WRONG{n:02}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let metrics = api.metrics().await;
    assert_eq!(
        counter(&metrics, "tve_site_sessions_created_total"),
        0,
        "{metrics}"
    );

    let origin = api.public_url.clone();
    let mut viewer = Browser::new(&api);
    let (status, _) = viewer.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = viewer.csrf();
    let confirmed = viewer
        .post(
            "confirm",
            &[("code", &code), ("csrf", &csrf)],
            Some(&origin),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    let location = confirmed.headers()["location"].to_str().expect("location");
    assert_eq!(location, format!("/activate/provider?code={code}"));
    let (status, page) = viewer.get(location).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Spectrum"), "{page}");
    assert_eq!(viewer.session(), None, "no session before the sign-in");
    let csrf = viewer.csrf();
    let fields = [
        ("code", code.as_str()),
        ("mvpd", "Spectrum"),
        ("csrf", &csrf),
    ];
    let started = viewer.post("sign-in", &fields, Some(&origin)).await;
    assert_eq!(started.status(), StatusCode::FOUND);
    let to = started.headers()["location"].to_str().expect("location");
    assert!(to.contains("/authenticate/"), "to Adobe: {to}");
    assert!(viewer.session().is_some(), "the sign-in keeps a session");
    let metrics = api.metrics().await;
    assert_eq!(
        counter(&metrics, "tve_site_sessions_created_total"),
        1,
        "{metrics}"
    );
}

/// Security review, finding 9: one address prefix gets a budget of new sessions; past it a
/// sign-in start is refused with 429 and `Retry-After`, and sessions made before keep working.
#[tokio::test]
async fn new_sessions_beyond_the_prefix_budget_are_refused() {
    let api = Api::start(&["--adobe-step-limits", "false"]).await;
    let token = api.register("tv-many-sessions").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let origin = api.public_url.clone();
    let mut first = Browser::new(&api);
    let mut refused = None;
    for n in 0..12 {
        let mut viewer = Browser::new(&api);
        let (status, _) = viewer.get(&format!("/activate?code={code}")).await;
        assert_eq!(status, StatusCode::OK, "view {n}");
        let csrf = viewer.csrf();
        let response = viewer
            .post(
                "confirm",
                &[("code", &code), ("csrf", &csrf)],
                Some(&origin),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(viewer.session(), None, "no session past the budget");
            refused = Some((n, response));
            break;
        }
        assert_eq!(response.status(), StatusCode::FOUND, "sign-in {n}");
        assert!(viewer.session().is_some(), "sign-in {n} keeps a session");
        if n == 0 {
            first = viewer;
        }
    }
    let (n, response) = refused.expect("refused past the budget");
    assert_eq!(n, 10, "the address's burst is 10");
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    let body = response.text().await.expect("body");
    assert!(body.contains("try again in"), "{body}");

    // The first viewer's session is still there: it signs in again without a new one.
    let (status, _) = first.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = first.csrf();
    let again = first
        .post(
            "confirm",
            &[("code", &code), ("csrf", &csrf)],
            Some(&origin),
        )
        .await;
    assert_eq!(again.status(), StatusCode::FOUND);
    let metrics = api.metrics().await;
    assert_eq!(counter(&metrics, "tve_site_new_sessions_refused_total"), 1);
}

// Several nodes ------------------------------------------------------------------------------

#[tokio::test]
async fn two_nodes_share_one_code_budget() {
    let Some((a, b, _emulator, _dir)) = two_nodes().await else {
        return;
    };
    for n in 0..10 {
        let node = if n % 2 == 0 { &a } else { &b };
        let (status, _) = Browser::new(node)
            .get(&format!("/activate?code=WRONG{n:02}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "guess {n}");
    }
    for node in [&a, &b] {
        let (status, _) = Browser::new(node).get("/activate?code=WRONG99").await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "the 11th, on either node"
        );
    }
}

/// Each node keeps the devices it saw for a minute; replacing a token clears them everywhere
/// at once.
#[tokio::test]
async fn a_replaced_device_token_is_refused_on_every_node_at_once() {
    let Some((a, b, _emulator, _dir)) = two_nodes().await else {
        return;
    };
    let old = a.register("tv-rotating").await;
    assert_eq!(
        b.get("/tv/v1/profile", &old).await.status,
        StatusCode::OK,
        "node B knows the token now"
    );
    let new = a.renew("tv-rotating", &old).await;
    // The bus brings the news within milliseconds, long before the minute is up.
    common::eventually(
        std::time::Duration::from_secs(1),
        "the old token refused on B",
        || async {
            (b.get("/tv/v1/profile", &old).await.status == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;
    assert_eq!(b.get("/tv/v1/profile", &new).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_tv_on_one_node_and_a_phone_on_the_other_activate() {
    let Some((a, b, _emulator, _dir)) = two_nodes().await else {
        return;
    };
    // The TV registers and starts on node A.
    let token = a.register("tv-two-nodes").await;
    let code = a.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    // The phone checks the code on node B, then confirms on node A with B's session.
    let mut phone = Browser::new(&b);
    let (status, _) = phone.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK, "node B knows node A's code");
    let csrf = phone.csrf();
    let mut on_a = Browser::new(&a);
    on_a.cookies = phone.cookies.clone();
    let response = on_a
        .post(
            "confirm",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&a.public_url.clone()),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "the session is shared"
    );
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.contains("/authenticate/"), "{location}");
    // Sign in at the provider; the TV asks node B.
    a.provider_login(&code, "premium").await;
    let status = b
        .get(&format!("/tv/v1/activations/{code}?wait=20"), &token)
        .await;
    assert_eq!(status.json()["status"], "authenticated", "{}", status.text);
    assert_eq!(
        a.get("/tv/v1/profile", &token).await.json()["authenticated"],
        true
    );
}

#[tokio::test]
async fn a_tv_waiting_on_one_node_learns_within_a_second_of_a_phone_on_the_other() {
    let Some((a, b, _emulator, _dir)) = two_nodes().await else {
        return;
    };
    let token = a.register("tv-waits").await;
    let code = a.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let waiting = a.long_poll(&code, &token);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    b.provider_login(&code, "premium").await;
    let (status, page) = Browser::new(&b)
        .get(&format!("/activate/complete?code={code}"))
        .await;
    let completed = std::time::Instant::now();
    assert_eq!(status, StatusCode::OK, "{page}");
    let (learned, body) = waiting.await.expect("the TV's answer");
    assert_eq!(body["status"], "authenticated", "{body}");
    let late = learned.saturating_duration_since(completed);
    assert!(
        late < std::time::Duration::from_secs(1),
        "the TV learned {late:?} after the phone's completion"
    );
}

#[tokio::test]
async fn a_logout_on_one_node_is_seen_on_the_other_at_once() {
    let Some((a, b, _emulator, _dir)) = two_nodes().await else {
        return;
    };
    let token = a.signed_in_device("tv-logout", "Spectrum", "premium").await;
    assert_eq!(
        b.get("/tv/v1/profile", &token).await.json()["authenticated"],
        true,
        "node B caches the profile"
    );
    let logout = a
        .call(reqwest::Method::POST, "/tv/v1/logout", Some(&token), None)
        .await;
    assert!(logout.status.is_success(), "{}", logout.text);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        b.get("/tv/v1/profile", &token).await.json()["authenticated"],
        false,
        "node B forgot its cached profile"
    );
}

#[tokio::test]
async fn nodes_starting_together_register_the_readiness_probe_once() {
    let Some((a, b, emulator, _dir)) = two_nodes().await else {
        return;
    };
    let before = emulator.state().store().clients.len();
    let (ready_a, ready_b) = tokio::join!(
        a.call_internal(reqwest::Method::GET, "/readyz", None, None),
        b.call_internal(reqwest::Method::GET, "/readyz", None, None),
    );
    assert_eq!(ready_a.status, StatusCode::OK, "{}", ready_a.text);
    assert_eq!(ready_b.status, StatusCode::OK, "{}", ready_b.text);
    assert_eq!(
        emulator.state().store().clients.len(),
        before + 1,
        "one DCR client for the probe, not one per node"
    );
}

/// Security review, finding 3: right codes cost the code guard nothing, so looking up one's own
/// code from fresh sessions made the service call Adobe without end. The phone's address has a
/// budget of 60 steps reaching Adobe; past it the page says the service is busy, with
/// `Retry-After`.
#[tokio::test]
async fn lookups_of_a_right_code_are_metered_per_address() {
    let api = Api::start(&[]).await;
    let code = pending_code(&api, "tv-looked-up").await;
    let mut admitted = 0;
    let refused = loop {
        let response = api
            .http
            .get(api.url(&format!("/activate?code={code}")))
            .send()
            .await
            .expect("page");
        if response.status() != StatusCode::OK {
            break response;
        }
        admitted += 1;
        assert!(admitted <= 70, "never refused");
    };
    // The TV's own start came from this address too.
    assert!((58..=63).contains(&admitted), "{admitted} admitted");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let metrics = api.metrics().await;
    let counted = "tve_limit_refusals_total{action=\"adobe_step\",limit=\"address\"}";
    assert!(metrics.contains(counted), "{counted} in {metrics}");
}
