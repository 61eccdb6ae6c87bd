//! The simulator's browser side: calls to `/tv/v1` with `fetch`, the device token in
//! `localStorage`, the activation's event stream (long polls when the stream fails), and the
//! countdown tick.

mod events;

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use super::{Play, Screen, TvState};

const TOKEN_KEY: &str = "tve-tv-device-token";
const DEVICE_KEY: &str = "tve-tv-device-id";
/// Seconds each long poll waits for a change.
const WAIT_SECS: u32 = 25;

/// An answer of the API: its status and JSON body (`Null` when empty).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// The API's error message, or a generic one, with the error's support code when it has
    /// one ("… (Support code: 7KQ4-M2XD)").
    fn message(&self) -> String {
        let message = self.body["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the TV service answered {}", self.status));
        match self.body["error"]["supportCode"].as_str() {
            Some(code) => {
                let label = crate::i18n::request_lang().texts().support_code;
                format!("{message} ({label} {code})")
            }
            None => message,
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage().and_then(|s| s.get_item(key).ok().flatten())
}

fn store(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(value) => s.set_item(key, value),
            None => s.remove_item(key),
        };
    }
}

/// Sends a request with the device token (when one is stored), accepting `accept`.
async fn send(
    method: &str,
    path: &str,
    body: Option<Value>,
    accept: &str,
) -> Result<Response, String> {
    let headers = Headers::new().map_err(|_| "no headers".to_owned())?;
    let _ = headers.set("Accept", accept);
    if let Some(token) = stored(TOKEN_KEY) {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&body.to_string().into());
    }
    init.set_headers(&headers);
    let response = JsFuture::from(window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| "the TV service cannot be reached".to_owned())?;
    response
        .dyn_into()
        .map_err(|_| "unexpected answer".to_owned())
}

async fn call(method: &str, path: &str, body: Option<Value>) -> Result<Answer, String> {
    let response = send(method, path, body, "application/json").await?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok(Answer {
        status: response.status(),
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

/// Calls the API; a 401 means the token is gone: register again once and repeat.
async fn call_registered(method: &str, path: &str, body: Option<Value>) -> Result<Answer, String> {
    if stored(TOKEN_KEY).is_none() {
        register().await?;
    }
    let answer = call(method, path, body.clone()).await?;
    if answer.status != 401 {
        return Ok(answer);
    }
    store(TOKEN_KEY, None);
    register().await?;
    call(method, path, body).await
}

async fn register() -> Result<(), String> {
    let device_id = stored(DEVICE_KEY).unwrap_or_else(|| {
        let id = format!("tv-sim-{:016x}", (js_sys::Math::random() * 1e16) as u64);
        store(DEVICE_KEY, Some(&id));
        id
    });
    let answer = call(
        "POST",
        "/tv/v1/devices",
        Some(json!({
            "deviceId": device_id,
            "deviceInfo": {
                "primaryHardwareType": "TV",
                "model": "Browser TV simulator",
                "version": "1.0",
                "osName": "Linux",
                "osVersion": "1",
                "connectionType": "LAN",
            },
        })),
    )
    .await?;
    match answer.body["deviceToken"].as_str() {
        Some(token) if answer.status < 300 => {
            store(TOKEN_KEY, Some(token));
            Ok(())
        }
        _ => Err(answer.message()),
    }
}

async fn qr_image(path: &str) -> Option<String> {
    let answer = call_registered("GET", path, None).await.ok()?;
    let svg = answer.body.as_str().filter(|_| answer.status == 200)?;
    let encoded: String = js_sys::encode_uri_component(svg).into();
    Some(format!("data:image/svg+xml,{encoded}"))
}

/// Starts the simulator: the countdown tick, then a code or the catalogue.
pub fn start(state: TvState) {
    state.now.set(js_sys::Date::now());
    let _ = set_interval_with_handle(
        move || state.now.set(js_sys::Date::now()),
        std::time::Duration::from_secs(1),
    );
    spawn_local(async move {
        if let Err(message) = show_profile_or_code(state).await {
            state.screen.set(Screen::Failed(message));
        }
    });
}

/// Asks for a new code (after expiry, failure or sign-out).
pub fn new_code(state: TvState) {
    state.screen.set(Screen::Starting);
    spawn_local(async move {
        if let Err(message) = activate(state).await {
            state.screen.set(Screen::Failed(message));
        }
    });
}

async fn show_profile_or_code(state: TvState) -> Result<(), String> {
    let profile = call_registered("GET", "/tv/v1/profile", None).await?;
    match profile.body["provider"].as_str() {
        Some(provider) if profile.body["authenticated"] == Value::Bool(true) => {
            signed_in(state, provider).await;
            Ok(())
        }
        _ => activate(state).await,
    }
}

async fn activate(state: TvState) -> Result<(), String> {
    let started = call_registered("POST", "/tv/v1/activations", Some(json!({}))).await?;
    if started.status >= 300 {
        return Err(started.message());
    }
    let body = started.body;
    if let Some(provider) = body["provider"]
        .as_str()
        .filter(|_| body["status"] == "authenticated")
    {
        signed_in(state, provider).await;
        return Ok(());
    }
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    let qr = match body["qrCodeUrl"].as_str() {
        Some(path) => qr_image(path).await,
        None => None,
    };
    state.screen.set(Screen::Code {
        code: code.clone(),
        url: body["activationUrl"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        qr,
        expires_at: body["expiresAt"].as_f64().unwrap_or_default(),
    });
    wait_for_sign_in(state, &code).await
}

/// Waits for the sign-in through the event stream, then by long polls if the stream ends
/// before a final status or cannot be read.
async fn wait_for_sign_in(state: TvState, code: &str) -> Result<(), String> {
    if let Some(status) = events::final_status(code).await {
        settle(state, &status).await;
        return Ok(());
    }
    let path = format!("/tv/v1/activations/{code}?wait={WAIT_SECS}");
    loop {
        let answer = call_registered("GET", &path, None).await?;
        if answer.status >= 500 || answer.status == 429 {
            let pause = answer.body["error"]["retryAfter"].as_u64().unwrap_or(2);
            sleep(pause.min(30) as u32 * 1000).await;
            continue;
        }
        if answer.status >= 300 {
            return Err(answer.message());
        }
        if is_final(&answer.body) {
            settle(state, &answer.body).await;
            return Ok(());
        }
    }
}

/// Whether an activation status (`{status, provider?, expiresAt}`) ends the wait.
fn is_final(status: &Value) -> bool {
    status["status"] != "pending"
}

/// Shows what a final activation status means: the catalogue, nothing (a newer code took
/// over), or the expiry.
async fn settle(state: TvState, status: &Value) {
    match status["status"].as_str() {
        Some("authenticated") => {
            signed_in(state, status["provider"].as_str().unwrap_or_default()).await;
        }
        Some("superseded") => {}
        _ => state.screen.set(Screen::Expired),
    }
}

/// Shows the catalogue, naming the provider by its display name (its id when not listed).
async fn signed_in(state: TvState, provider: &str) {
    let name = display_name(provider).await;
    state.screen.set(Screen::SignedIn(name));
}

async fn display_name(provider: &str) -> String {
    let listed = match call_registered("GET", "/tv/v1/providers", None).await {
        Ok(answer) if answer.status == 200 => answer.body["providers"]
            .as_array()
            .and_then(|providers| providers.iter().find(|p| p["id"] == provider))
            .and_then(|p| p["displayName"].as_str())
            .map(str::to_owned),
        _ => None,
    };
    listed.unwrap_or_else(|| provider.to_owned())
}

async fn sleep(millis: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ =
            window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// Asks to play `resource` and shows the decision.
pub fn play(state: TvState, resource: &'static str) {
    state.play.set(Some((resource.to_owned(), Play::Asking)));
    spawn_local(async move {
        let outcome = match call_registered(
            "POST",
            "/tv/v1/authorize",
            Some(json!({ "resource": resource })),
        )
        .await
        {
            Ok(answer) if answer.body["decision"] == "permit" => Play::Playing,
            Ok(answer) if answer.body["decision"] == "deny" => Play::Denied(
                answer.body["message"]
                    .as_str()
                    .or_else(|| answer.body["reason"].as_str())
                    .unwrap_or("not permitted")
                    .to_owned(),
            ),
            Ok(answer) => Play::Denied(answer.message()),
            Err(message) => Play::Denied(message),
        };
        state.play.set(Some((resource.to_owned(), outcome)));
    });
}

/// Signs the TV out, then shows a new code.
pub fn logout(state: TvState) {
    state.play.set(None);
    spawn_local(async move {
        match call_registered("POST", "/tv/v1/logout", Some(json!({}))).await {
            Ok(answer) if answer.status < 300 => new_code(state),
            Ok(answer) => state.screen.set(Screen::Failed(answer.message())),
            Err(message) => state.screen.set(Screen::Failed(message)),
        }
    });
}
