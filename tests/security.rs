//! Doors an attacker would try, each shut and proved shut through HTTP against the running
//! service (SECURITY.md names the test for each entry point).

mod common;
mod tv_api_support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::{register_body, Api};

// 1. Device identity ------------------------------------------------------------------------

#[tokio::test]
async fn reregistering_without_the_token_gets_a_new_identity() {
    let api = Api::start(&[]).await;
    let victim = api
        .signed_in_device("living-room-roku", "Spectrum", "premium")
        .await;
    let clients = api.emulator().state().store().clients.len();

    let attacker = api.register("living-room-roku").await;

    assert_eq!(
        api.emulator().state().store().clients.len(),
        clients + 1,
        "a new DCR client for the new registration"
    );
    let stolen = api.get("/tv/v1/profile", &attacker).await;
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
    let metrics = api
        .http
        .get(api.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
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

// 2. Code guessing through every door ---------------------------------------------------------

/// A browser: keeps the session cookie and reads the CSRF token from pages.
struct Browser<'a> {
    api: &'a Api,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(api: &'a Api) -> Self {
        Self {
            api,
            cookie: None,
            csrf: None,
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        if let Some(cookie) = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("tve_session="))
        {
            self.cookie = cookie.split(';').next().map(str::to_owned);
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let mut request = self.api.http.get(self.api.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("page");
        self.keep(&response);
        let status = response.status();
        let text = response.text().await.expect("html");
        if let Some(token) = text
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        {
            self.csrf = Some(token.to_owned());
        }
        (status, text)
    }

    /// Posts a form to a server function; `origin` is sent as `Origin` when given.
    async fn post(
        &mut self,
        endpoint: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .api
            .http
            .post(self.api.url(&format!("/api/activate/{endpoint}")))
            .header("accept", "text/html")
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("form post");
        self.keep(&response);
        response
    }

    fn csrf(&self) -> String {
        self.csrf.clone().expect("a page gave a CSRF token")
    }
}

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

    let metrics = api
        .http
        .get(api.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
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
