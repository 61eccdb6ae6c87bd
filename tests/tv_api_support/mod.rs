//! Helpers for the Streaming App API tests: the real router served on a loopback port (so the
//! TV's address comes from the connection), an emulator behind it, and a TV that calls it.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::{header::HeaderMap, redirect::Policy, Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tve_activate::{
    clock::SharedClock,
    emulator::{self, EmulatorSettings, RunningEmulator, DEFAULT_SOFTWARE_STATEMENT},
};

use crate::common;

/// An answer of the API.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("JSON body ({e}), status {}: {}", self.status, self.text))
    }

    /// The error code, after checking the error shape.
    pub fn error_code(&self) -> String {
        let body = self.json();
        let error = body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("error shape: {body}"));
        for field in ["code", "message", "action", "supportCode"] {
            assert!(error[field].is_string(), "{field} in {body}");
        }
        assert!(
            error.keys().all(|k| {
                ["code", "message", "action", "supportCode", "retryAfter"].contains(&k.as_str())
            }),
            "{body}"
        );
        error["code"].as_str().expect("code").to_owned()
    }

    /// The error's support code, after checking its documented shape (`XXXX-XXXX`, without
    /// look-alike characters).
    pub fn support_code(&self) -> String {
        let body = self.json();
        let code = body["error"]["supportCode"]
            .as_str()
            .unwrap_or_else(|| panic!("supportCode in {body}"))
            .to_owned();
        assert!(is_support_code(&code), "{code}");
        code
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned()
    }
}

/// Whether `text` has the shape of a support code: `XXXX-XXXX` from
/// `23456789ABCDEFGHJKMNPQRSTUVWXYZ`.
pub fn is_support_code(text: &str) -> bool {
    let alphabet = tve_activate::support::ALPHABET;
    text.len() == 9
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                alphabet.contains(&b)
            }
        })
}

/// The service on a loopback port with its upstream emulator.
pub struct Api {
    pub base_url: String,
    /// The operators' listener: /metrics, detailed /readyz, /admin.
    pub internal_url: String,
    /// The public URL links and QR codes use.
    pub public_url: String,
    pub emulator_url: String,
    pub http: reqwest::Client,
    /// The embedded emulator, when it runs in the service's state.
    embedded: Option<RunningEmulator>,
    /// A standalone emulator the service reaches over `--adobe-pass-url`.
    pub standalone: Option<RunningEmulator>,
    stop: Option<oneshot::Sender<()>>,
    /// The node's state: to drain it as a stop would, and to reach the service for what no
    /// request triggers (housekeeping).
    pub state: tve_activate::http::AppState,
}

impl Api {
    /// The service on the embedded default (with extra `flags`).
    pub async fn start(flags: &[&str]) -> Self {
        let (state, embedded) = common::state(flags).await;
        let emulator_url = embedded
            .as_ref()
            .expect("embedded emulator")
            .base_url()
            .to_owned();
        Self::serve(state, emulator_url, embedded, None).await
    }

    /// The service and its embedded emulator on `clock` (with extra `flags`).
    pub async fn start_with_clock(flags: &[&str], clock: SharedClock) -> Self {
        let (state, embedded) = common::state_with_clock(flags, clock).await;
        let emulator_url = embedded
            .as_ref()
            .expect("embedded emulator")
            .base_url()
            .to_owned();
        Self::serve(state, emulator_url, embedded, None).await
    }

    /// The service talking to a standalone emulator started with `settings`.
    pub async fn with_emulator(settings: EmulatorSettings, flags: &[&str]) -> Self {
        let standalone = emulator::spawn(settings).await.expect("emulator starts");
        let emulator_url = standalone.base_url().to_owned();
        let mut all = vec![
            "--adobe-pass-url",
            emulator_url.as_str(),
            "--software-statement",
            DEFAULT_SOFTWARE_STATEMENT,
        ];
        all.extend_from_slice(flags);
        let (state, _) = common::state(&all).await;
        Self::serve(state, emulator_url.clone(), None, Some(standalone)).await
    }

    /// The service talking to an Adobe Pass (an emulator) that runs elsewhere, as one node of
    /// several sharing it.
    pub async fn node_of(emulator_url: &str, flags: &[&str]) -> Self {
        let mut all = vec![
            "--adobe-pass-url",
            emulator_url,
            "--software-statement",
            DEFAULT_SOFTWARE_STATEMENT,
        ];
        all.extend_from_slice(flags);
        let (state, _) = common::state(&all).await;
        Self::serve(state, emulator_url.to_owned(), None, None).await
    }

    async fn serve(
        state: tve_activate::http::AppState,
        emulator_url: String,
        embedded: Option<RunningEmulator>,
        standalone: Option<RunningEmulator>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let public_url = state
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let internal = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let internal_addr = internal.local_addr().expect("address");
        let (stop_internal, stopped_internal) = oneshot::channel::<()>();
        tokio::spawn(tve_activate::serve(
            internal,
            tve_activate::http::internal_router(state.clone()),
            async {
                let _ = stopped_internal.await;
            },
        ));
        let router = tve_activate::http::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(tve_activate::serve(listener, router, async {
            let _ = stopped.await;
            let _ = stop_internal.send(());
        }));
        Self {
            base_url: format!("http://{addr}"),
            internal_url: format!("http://{internal_addr}"),
            public_url,
            emulator_url,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            embedded,
            standalone,
            stop: Some(stop),
            state,
        }
    }

    /// Starts draining the node as a stop does (its listeners stay open), with the TVs
    /// waiting on it now as the crowd to spread; gives that crowd.
    pub fn drain(&self) -> usize {
        let waiting = self.state.waits.held();
        self.state.draining.start(waiting);
        waiting
    }

    /// The emulator behind the service (when this service started it).
    pub fn emulator(&self) -> &RunningEmulator {
        self.embedded
            .as_ref()
            .or(self.standalone.as_ref())
            .expect("an emulator")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Any call; `body` is sent as JSON text when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        self.call_at(&self.url(path), method, token, body, None)
            .await
    }

    /// Any call from `client`, as the trusted proxy in front names it in `X-Forwarded-For`
    /// (start the service with `--trusted-proxies 127.0.0.1/32`).
    pub async fn call_from(
        &self,
        client: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        self.call_at(&self.url(path), method, token, body, Some(client))
            .await
    }

    /// A call on the operators' listener.
    pub async fn call_internal(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let url = format!("{}{path}", self.internal_url);
        self.call_at(&url, method, token, body, None).await
    }

    /// The operators' `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.call_internal(Method::GET, "/metrics", None, None)
            .await
            .text
    }

    async fn call_at(
        &self,
        url: &str,
        method: Method,
        token: Option<&str>,
        body: Option<&str>,
        forwarded_for: Option<&str>,
    ) -> Answer {
        let mut request = self.http.request(method, url);
        if let Some(client) = forwarded_for {
            request = request.header("x-forwarded-for", client);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("response");
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(&body.to_string()))
            .await
    }

    /// Registers `device_id`; returns its token.
    pub async fn register(&self, device_id: &str) -> String {
        let answer = self
            .call(
                Method::POST,
                "/tv/v1/devices",
                None,
                Some(&register_body(device_id).to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        let body = answer.json();
        assert_eq!(body["deviceId"], device_id);
        body["deviceToken"].as_str().expect("token").to_owned()
    }

    /// Renews `device_id`'s registration with its current `token`; returns the new token.
    pub async fn renew(&self, device_id: &str, token: &str) -> String {
        let answer = self
            .call(
                Method::POST,
                "/tv/v1/devices",
                Some(token),
                Some(&register_body(device_id).to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json()["deviceToken"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// A TV long-polling its activation `code` (up to 25 s) in the background: when it got its
    /// answer, and the answer.
    pub fn long_poll(
        &self,
        code: &str,
        token: &str,
    ) -> tokio::task::JoinHandle<(std::time::Instant, Value)> {
        let (http, url, token) = (
            self.http.clone(),
            self.url(&format!("/tv/v1/activations/{code}?wait=25")),
            token.to_owned(),
        );
        tokio::spawn(async move {
            let answer = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("long poll");
            let body: Value = answer.json().await.expect("json");
            (std::time::Instant::now(), body)
        })
    }

    /// Starts an activation with `mvpd`; returns the 201 body.
    pub async fn start_activation(&self, token: &str, mvpd: &str) -> Value {
        let answer = self
            .post("/tv/v1/activations", token, json!({ "mvpd": mvpd }))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json()
    }

    /// Signs in on the emulator's mock provider login, as the phone would after the
    /// activation page supplied what the session missed and sent it to Adobe's authenticate URL.
    pub async fn provider_login(&self, code: &str, account: &str) {
        common::phone_opens(&self.http, &self.base_url, code).await;
        // Spectrum when the TV chose no provider; a provider the TV chose stays (§7.3).
        common::phone_resumes(&self.http, &self.emulator_url, code, "Spectrum").await;
        let authenticate = format!("{}/api/v2/authenticate/REF30/{code}", self.emulator_url);
        self.sign_in_at_provider(&authenticate, account).await;
    }

    /// Follows Adobe's authenticate URL to the emulator's mock provider and signs in there with
    /// `account`; gives where the provider sends the browser back to (the `redirectUrl`).
    pub async fn sign_in_at_provider(&self, authenticate: &str, account: &str) -> String {
        let answer = self
            .http
            .get(authenticate)
            .send()
            .await
            .expect("authenticate");
        assert_eq!(answer.status(), StatusCode::FOUND);
        let login = answer.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let page = self.http.get(&login).send().await.expect("login page");
        assert_eq!(page.status(), StatusCode::OK);
        let done = self
            .http
            .post(&login)
            .form(&[
                ("username", account),
                ("password", account),
                ("action", "login"),
            ])
            .send()
            .await
            .expect("login submit");
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "login with {account}");
        done.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    /// Registers a device and signs it in with `account` at `mvpd`; returns its token.
    pub async fn signed_in_device(&self, device_id: &str, mvpd: &str, account: &str) -> String {
        let token = self.register(device_id).await;
        let activation = self.start_activation(&token, mvpd).await;
        let code = activation["code"].as_str().expect("code");
        self.provider_login(code, account).await;
        let status = self
            .get(&format!("/tv/v1/activations/{code}?wait=20"), &token)
            .await;
        assert_eq!(status.json()["status"], "authenticated", "{}", status.text);
        token
    }

    /// Replaces the emulator's fault rules.
    pub async fn set_faults(&self, rules: Value) {
        let answer = self
            .http
            .put(format!("{}/__emulator/faults", self.emulator_url))
            .json(&json!({ "rules": rules }))
            .send()
            .await
            .expect("faults");
        assert!(answer.status().is_success(), "{}", answer.status());
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A browser: keeps the site's cookies and reads the CSRF token from pages.
pub struct Browser<'a> {
    api: &'a Api,
    /// The cookies the site set (`name=value`), one per name.
    pub cookies: Vec<String>,
    csrf: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser with no cookie yet.
    pub fn new(api: &'a Api) -> Self {
        Self {
            api,
            cookies: Vec::new(),
            csrf: None,
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for set in response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some(pair) = set.split(';').next() else {
                continue;
            };
            let name = pair.split('=').next().unwrap_or_default();
            self.cookies
                .retain(|kept| kept.split('=').next() != Some(name));
            self.cookies.push(pair.to_owned());
        }
    }

    /// The session cookie (`name=value`), once the site set one.
    pub fn session(&self) -> Option<String> {
        self.cookies
            .iter()
            .find(|c| c.starts_with("tve_session=") || c.starts_with("__Host-tve_session="))
            .cloned()
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookies.is_empty() {
            request
        } else {
            request.header("cookie", self.cookies.join("; "))
        }
    }

    /// Gets a page, keeping its cookie and CSRF token.
    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let request = self.with_cookies(self.api.http.get(self.api.url(path)));
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
    pub async fn post(
        &mut self,
        endpoint: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.with_cookies(
            self.api
                .http
                .post(self.api.url(&format!("/api/activate/{endpoint}")))
                .header("accept", "text/html")
                .form(fields),
        );
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("form post");
        self.keep(&response);
        response
    }

    /// The CSRF token of the last page that had one.
    pub fn csrf(&self) -> String {
        self.csrf.clone().expect("a page gave a CSRF token")
    }
}

/// Two nodes sharing one deployment (PostgreSQL and Redis of the tests) in front of one
/// emulator; `None` when the tests have no PostgreSQL or Redis.
pub async fn two_nodes() -> Option<(Api, Api, RunningEmulator, common::Deployment)> {
    two_nodes_with(&[], &[]).await
}

/// [`two_nodes`], node A started with the extra flags `a` and node B with `b`.
pub async fn two_nodes_with(
    a: &[&str],
    b: &[&str],
) -> Option<(Api, Api, RunningEmulator, common::Deployment)> {
    let deployment = common::Deployment::new().await?;
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator starts");
    let shared = deployment.settings();
    let flags_a: Vec<&str> = shared.iter().chain(a).copied().collect();
    let flags_b: Vec<&str> = shared.iter().chain(b).copied().collect();
    let a = Api::node_of(emulator.base_url(), &flags_a).await;
    let b = Api::node_of(emulator.base_url(), &flags_b).await;
    Some((a, b, emulator, deployment))
}

/// A registration body for `device_id`.
pub fn register_body(device_id: &str) -> Value {
    json!({
        "deviceId": device_id,
        "deviceInfo": {
            "model": "AppleTV",
            "version": "4K",
            "osName": "tvOS",
            "osVersion": "17.1",
            "connectionType": "WiFi",
            "primaryHardwareType": "SetTopBox"
        }
    })
}

/// Asserts an error answer: status, code, and `Retry-After` both in the header and the body.
pub fn assert_retryable(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.error_code(), code, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"]["action"], "retry");
    let retry_after = body["error"]["retryAfter"].as_u64().expect("retryAfter");
    assert!(retry_after >= 1);
    let header: u64 = answer.headers["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert_eq!(header, retry_after);
}

/// A short pause for background work.
pub async fn pause(millis: u64) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
