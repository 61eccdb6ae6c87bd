//! Helpers for the emulator tests: a client that checks every Adobe response against Adobe's
//! OpenAPI (with the emulator's documented exceptions applied), and flow shortcuts.
#![allow(dead_code)]

pub mod openapi;

use base64::{engine::general_purpose::STANDARD, Engine};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::Value;
use tve_activate::emulator::{self, EmulatorSettings, RunningEmulator};

pub use openapi::OpenApi;

/// A response, already checked against the OpenAPI.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("JSON body ({e}): {}", self.text))
    }

    pub fn error_code(&self) -> String {
        self.json()["code"].as_str().expect("error code").to_owned()
    }
}

/// A device as Adobe sees it.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub ip: String,
}

impl Device {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            ip: "203.0.113.10".to_owned(),
        }
    }

    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let info = serde_json::json!({
            "primaryHardwareType": "TV", "model": "Bravia", "version": "2.0.1",
            "osName": "Android", "osVersion": "12", "connectionType": "WiFi",
            "connectionIp": self.ip, "connectionPort": 53124,
        });
        vec![
            (
                "AP-Device-Identifier",
                format!("fingerprint {}", STANDARD.encode(&self.id)),
            ),
            ("X-Device-Info", STANDARD.encode(info.to_string())),
            ("X-Forwarded-For", self.ip.clone()),
        ]
    }
}

/// A running emulator plus a conformance-checking client.
pub struct Harness {
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
    pub openapi: OpenApi,
    pub token: String,
    pub client_id: String,
    pub client_secret: String,
}

pub const SP: &str = "REF30";

impl Harness {
    /// Starts an emulator and registers a client with a token.
    pub async fn start(settings: EmulatorSettings) -> Self {
        let emulator = emulator::spawn(settings).await.expect("emulator starts");
        // Every API page: `Accept`, if sent, must be this (reqwest would send `*/*`).
        let accept = reqwest::header::HeaderValue::from_static("application/json;charset=utf-8");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::ACCEPT,
                accept,
            )]))
            .build()
            .expect("client");
        let mut harness = Self {
            emulator,
            http,
            openapi: OpenApi::load(),
            token: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
        };
        let registered = harness.register(emulator::DEFAULT_SOFTWARE_STATEMENT).await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.text
        );
        let body = registered.json();
        harness.client_id = body["client_id"].as_str().expect("client_id").to_owned();
        harness.client_secret = body["client_secret"].as_str().expect("secret").to_owned();
        harness.token = harness.new_token().await;
        harness
    }

    pub async fn default() -> Self {
        Self::start(EmulatorSettings::default()).await
    }

    /// Stops this emulator (which writes its state file a last time) and starts another with
    /// `settings`, keeping the client credentials and the access token.
    pub async fn restart(self, settings: EmulatorSettings) -> Self {
        let Self {
            emulator,
            http,
            openapi,
            token,
            client_id,
            client_secret,
        } = self;
        emulator.stop().await.expect("emulator stops cleanly");
        Self {
            emulator: emulator::spawn(settings).await.expect("emulator restarts"),
            http,
            openapi,
            token,
            client_id,
            client_secret,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    pub async fn register(&self, statement: &str) -> Answer {
        let body = serde_json::json!({"software_statement": statement, "redirect_uri": "https://localhost/callback"});
        self.call(
            Method::POST,
            "/o/client/register",
            &dcr_headers("application/json"),
            Some(body.to_string()),
            None,
        )
        .await
    }

    pub async fn token_answer(&self, form: &str) -> Answer {
        self.call(
            Method::POST,
            "/o/client/token",
            &dcr_headers("application/x-www-form-urlencoded"),
            Some(form.to_owned()),
            None,
        )
        .await
    }

    pub async fn new_token(&self) -> String {
        let form = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            self.client_id, self.client_secret
        );
        let answer = self.token_answer(&form).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json()["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Any call, with the bearer token when `token` is given; the answer is checked against
    /// the OpenAPI.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<String>,
        token: Option<&str>,
    ) -> Answer {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("response");
        let answer = Answer {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body"),
        };
        self.openapi.check(&method, path, &answer);
        answer
    }

    /// An authorized REST API V2 call from `device` (None: no device headers).
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        device: Option<&Device>,
        extra: &[(&str, String)],
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut headers: Vec<(&str, String)> = device.map(Device::headers).unwrap_or_default();
        headers.extend(extra.iter().cloned());
        let body = body.map(|(content_type, body)| {
            headers.push(("Content-Type", content_type.to_owned()));
            body
        });
        self.call(method, path, &headers, body, Some(&self.token))
            .await
    }

    pub async fn create_session(&self, device: &Device, form: &str) -> Answer {
        self.api(
            Method::POST,
            &format!("/api/v2/{SP}/sessions"),
            Some(device),
            &[],
            Some(("application/x-www-form-urlencoded", form.to_owned())),
        )
        .await
    }

    /// Creates a complete session for `mvpd` and returns its code.
    pub async fn session_code(&self, device: &Device, mvpd: &str) -> String {
        let answer = self
            .create_session(
                device,
                &format!(
                    "mvpd={mvpd}&domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost%2Fdone"
                ),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json()["code"].as_str().expect("code").to_owned()
    }

    /// Follows the authenticate URL to the login page and submits it.
    pub async fn login(
        &self,
        code: &str,
        username: &str,
        password: &str,
        action: &str,
    ) -> reqwest::Response {
        let answer = self
            .call(
                Method::GET,
                &format!("/api/v2/authenticate/{SP}/{code}"),
                &[],
                None,
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text);
        let login = answer.headers["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let page = self.http.get(&login).send().await.expect("login page");
        assert_eq!(page.status(), StatusCode::OK);
        self.http
            .post(&login)
            .form(&[
                ("username", username),
                ("password", password),
                ("action", action),
            ])
            .send()
            .await
            .expect("login submit")
    }

    /// Logs `device` in to `mvpd` with `account`.
    pub async fn sign_in(&self, device: &Device, mvpd: &str, account: &str) {
        let code = self.session_code(device, mvpd).await;
        let done = self.login(&code, account, account, "login").await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
    }

    pub async fn decide(
        &self,
        kind: &str,
        device: &Device,
        mvpd: &str,
        resources: &[&str],
        extra: &[(&str, String)],
    ) -> Answer {
        let body = serde_json::json!({ "resources": resources }).to_string();
        self.api(
            Method::POST,
            &format!("/api/v2/{SP}/decisions/{kind}/{mvpd}"),
            Some(device),
            extra,
            Some(("application/json;charset=utf-8", body)),
        )
        .await
    }
}

/// `(authorized, error code)` per decision item.
pub fn outcomes(answer: &Answer) -> Vec<(String, bool, Option<String>)> {
    answer.json()["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| {
            (
                d["resource"].as_str().expect("resource").to_owned(),
                d["authorized"].as_bool().expect("authorized"),
                d["error"]["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The headers both DCR calls require (§4.1, §4.2): the body type and `X-Device-Info`.
pub fn dcr_headers(content_type: &str) -> Vec<(&'static str, String)> {
    let mut headers: Vec<(&'static str, String)> = Device::new("dcr-client")
        .headers()
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("X-Device-Info"))
        .collect();
    headers.push(("Content-Type", content_type.to_owned()));
    headers
}
