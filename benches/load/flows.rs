//! What TVs, phones and a bare Adobe client do, over HTTP: registration, activation, the
//! phone's server path through the site, the provider's sign-in at the emulator, and the
//! emulator's own D2 with the headers the service sends.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use futures_util::StreamExt as _;
use reqwest::{redirect::Policy, StatusCode};
use serde_json::{json, Value};

/// The device description every bench TV sends.
pub fn device_info() -> Value {
    json!({
        "model": "AppleTV",
        "version": "4K",
        "osName": "tvOS",
        "osVersion": "17.1",
        "connectionType": "WiFi",
        "primaryHardwareType": "SetTopBox"
    })
}

/// A client calling from `source` (a loopback address of its own, so per-address limits see
/// a household each), without following redirects. Idle connections are dropped after 5 s,
/// before the service's 10 s idle limit, so no request goes out on a connection being closed.
pub fn client_from(source: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source)
        .redirect(Policy::none())
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// The `n`th household's loopback address: 127.x.y.1, each in a /24 of its own (the service
/// limits registrations per IPv4 /24 as well as per address), for up to 65,024 households.
pub fn household(n: usize) -> IpAddr {
    let n = n % (254 * 256);
    let network = u8::try_from(1 + n % 254).unwrap_or(1);
    let subnet = u8::try_from(n / 254).unwrap_or(0);
    IpAddr::from([127, network, subnet, 1])
}

/// Why a flow failed.
pub type Failure = String;

fn failed(what: &str, detail: impl std::fmt::Display) -> Failure {
    format!("{what}: {detail}")
}

/// A transport failure with its causes (reqwest's message alone says little).
fn broken(what: &str, error: reqwest::Error) -> Failure {
    let mut detail = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        detail.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    failed(what, detail)
}

async fn json_of(answer: reqwest::Response, what: &str) -> Result<Value, Failure> {
    let status = answer.status();
    let text = answer.text().await.map_err(|e| failed(what, e))?;
    if !status.is_success() {
        return Err(failed(what, format!("{status} {text}")));
    }
    serde_json::from_str(&text).map_err(|e| failed(what, e))
}

/// A TV of the service: its client and device token.
pub struct Tv {
    pub http: reqwest::Client,
    pub token: String,
}

impl Tv {
    /// Registers `device_id` with the service at `base`.
    pub async fn register(
        http: reqwest::Client,
        base: &str,
        device_id: &str,
    ) -> Result<Self, Failure> {
        let answer = http
            .post(format!("{base}/tv/v1/devices"))
            .json(&json!({ "deviceId": device_id, "deviceInfo": device_info() }))
            .send()
            .await
            .map_err(|e| broken("register", e))?;
        let body = json_of(answer, "register").await?;
        let token = body["deviceToken"].as_str().ok_or("register: no token")?;
        Ok(Self {
            http,
            token: token.to_owned(),
        })
    }

    /// Registers `device_id` from household 0 and signs it in with Spectrum through the phone's
    /// path, from household 1.
    pub async fn signed_in(base: &str, device_id: &str) -> Self {
        let tv = Self::register(client_from(household(0)), base, device_id)
            .await
            .expect("the TV registers");
        let code = tv.start_activation(base).await.expect("a code");
        Phone::new(client_from(household(1)), base)
            .activate(&code, "Spectrum")
            .await
            .expect("the phone signs the TV in");
        tv
    }

    /// Starts an activation (no provider chosen on the TV); gives its code.
    pub async fn start_activation(&self, base: &str) -> Result<String, Failure> {
        let answer = self
            .http
            .post(format!("{base}/tv/v1/activations"))
            .bearer_auth(&self.token)
            .json(&json!({}))
            .send()
            .await
            .map_err(|e| broken("activation", e))?;
        let body = json_of(answer, "activation").await?;
        body["code"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| failed("activation", body))
    }

    /// Opens the activation's event stream and waits until it says `authenticated`.
    pub async fn follow(&self, base: &str, code: &str) -> Result<EventStream, Failure> {
        let answer = self
            .http
            .get(format!("{base}/tv/v1/activations/{code}/events"))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| broken("events", e))?;
        if answer.status() != StatusCode::OK {
            return Err(failed("events", answer.status()));
        }
        Ok(EventStream { answer })
    }
}

/// A TV's open event stream.
pub struct EventStream {
    answer: reqwest::Response,
}

impl EventStream {
    /// Reads until an event says `authenticated`; an error when the stream ends first.
    pub async fn authenticated(self) -> Result<(), Failure> {
        let mut chunks = self.answer.bytes_stream();
        let mut seen = String::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| broken("events", e))?;
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"authenticated\"") {
                return Ok(());
            }
            if seen.len() > 64 * 1024 {
                seen.drain(..32 * 1024);
            }
        }
        Err(failed("events", "ended before authenticated"))
    }
}

/// The viewer's phone: a browser session on the site.
pub struct Phone {
    http: reqwest::Client,
    base: String,
    /// The cookies the site set (`name=value`), one per name.
    cookies: Vec<String>,
    csrf: Option<String>,
}

impl Phone {
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.to_owned(),
            cookies: Vec::new(),
            csrf: None,
        }
    }

    fn keep(&mut self, answer: &reqwest::Response) {
        for set in answer
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

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookies.is_empty() {
            request
        } else {
            request.header("cookie", self.cookies.join("; "))
        }
    }

    async fn page(&mut self, path: &str) -> Result<String, Failure> {
        let request = self.with_cookies(
            self.http
                .get(format!("{}{path}", self.base))
                .header("accept", "text/html"),
        );
        let answer = request.send().await.map_err(|e| broken(path, e))?;
        self.keep(&answer);
        let status = answer.status();
        let text = answer.text().await.map_err(|e| broken(path, e))?;
        if status != StatusCode::OK {
            return Err(failed(path, status));
        }
        if let Some(token) = text
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        {
            self.csrf = Some(token.to_owned());
        }
        Ok(text)
    }

    /// Posts a form to a server function; gives the redirect's target.
    async fn post(&mut self, endpoint: &str, fields: &[(&str, &str)]) -> Result<String, Failure> {
        let request = self.with_cookies(
            self.http
                .post(format!("{}/api/activate/{endpoint}", self.base))
                .header("accept", "text/html")
                .header("origin", &self.base)
                .form(fields),
        );
        let answer = request.send().await.map_err(|e| broken(endpoint, e))?;
        self.keep(&answer);
        answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| failed(endpoint, answer.status()))
    }

    /// The phone's whole server path for `code`: the code check, the provider picker, the
    /// sign-in at the emulator's provider, and the completion page (which wakes the TV).
    /// Gives when the provider's sign-in answered: from then on the TV may learn of it.
    pub async fn activate(&mut self, code: &str, mvpd: &str) -> Result<Instant, Failure> {
        self.page(&format!("/activate?code={code}")).await?;
        let csrf = self.csrf.clone().ok_or("no CSRF token on the code page")?;
        let next = self
            .post("confirm", &[("code", code), ("csrf", &csrf)])
            .await?;
        self.page(&next).await?;
        let csrf = self
            .csrf
            .clone()
            .ok_or("no CSRF token on the provider page")?;
        let adobe = self
            .post(
                "sign-in",
                &[("code", code), ("mvpd", mvpd), ("csrf", &csrf)],
            )
            .await?;
        let back = provider_sign_in(&self.http, &adobe).await?;
        let signed_in = Instant::now();
        let path = back
            .strip_prefix(&self.base)
            .ok_or_else(|| failed("sign-in", format!("redirected to {back}")))?
            .to_owned();
        self.page(&path).await?;
        Ok(signed_in)
    }
}

/// Follows Adobe's authenticate address to the emulator's provider login and signs in there
/// as `premium`; gives where the provider sends the browser back to.
pub async fn provider_sign_in(
    http: &reqwest::Client,
    authenticate: &str,
) -> Result<String, Failure> {
    let location = |answer: &reqwest::Response, what: &str| {
        answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| failed(what, answer.status()))
    };
    let answer = http
        .get(authenticate)
        .send()
        .await
        .map_err(|e| broken("authenticate", e))?;
    let login = location(&answer, "authenticate")?;
    let answer = http
        .post(&login)
        .form(&[
            ("username", "premium"),
            ("password", "premium"),
            ("action", "login"),
        ])
        .send()
        .await
        .map_err(|e| broken("login", e))?;
    location(&answer, "login")
}

/// The `Accept` Adobe's pages allow (reqwest would send `*/*`).
const ACCEPT: &str = "application/json;charset=utf-8";

/// A device that talks to the emulator directly, with the headers the service would send.
pub struct BareDevice {
    pub token: String,
    pub identifier: String,
    pub info: String,
}

impl BareDevice {
    /// Registers a DCR client and signs the device in with Spectrum at the emulator.
    pub async fn signed_in(http: &reqwest::Client, base: &str) -> Result<Self, Failure> {
        let info = STANDARD.encode(device_info().to_string());
        let client = json_of(
            http.post(format!("{base}/o/client/register"))
                .header("Accept", ACCEPT)
                .header("X-Device-Info", &info)
                .json(&json!({
                    "software_statement": tve_activate::emulator::DEFAULT_SOFTWARE_STATEMENT
                }))
                .send()
                .await
                .map_err(|e| broken("dcr", e))?,
            "dcr",
        )
        .await?;
        let token = json_of(
            http.post(format!("{base}/o/client/token"))
                .header("Accept", ACCEPT)
                .header("X-Device-Info", &info)
                .form(&[
                    ("client_id", client["client_id"].as_str().unwrap_or("")),
                    (
                        "client_secret",
                        client["client_secret"].as_str().unwrap_or(""),
                    ),
                    ("grant_type", "client_credentials"),
                ])
                .send()
                .await
                .map_err(|e| broken("token", e))?,
            "token",
        )
        .await?;
        let device = Self {
            token: token["access_token"].as_str().unwrap_or("").to_owned(),
            identifier: format!("fingerprint {}", STANDARD.encode("bench-bare-device")),
            info,
        };
        let session = json_of(
            device
                .headers(http.post(format!("{base}/api/v2/REF30/sessions")))
                .form(&[
                    ("mvpd", "Spectrum"),
                    ("domainName", "localhost"),
                    ("redirectUrl", "https://localhost/done"),
                ])
                .send()
                .await
                .map_err(|e| broken("session", e))?,
            "session",
        )
        .await?;
        let code = session["code"].as_str().ok_or("session: no code")?;
        provider_sign_in(http, &format!("{base}/api/v2/authenticate/REF30/{code}")).await?;
        Ok(device)
    }

    /// The identity headers, the access token and `X-Forwarded-For`, as the service sends them.
    pub fn headers(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .bearer_auth(&self.token)
            .header("AP-Device-Identifier", &self.identifier)
            .header("X-Device-Info", &self.info)
            .header("X-Forwarded-For", "203.0.113.9")
            .header("Accept", ACCEPT)
    }
}
