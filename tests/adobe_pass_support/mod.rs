//! Test helpers for the Adobe Pass client: a recording stub of Adobe Pass that answers with the
//! documented examples (or scripted answers), a server that resets connections, and a device.
#![allow(dead_code)]

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use tve_activate::{
    adobe_pass::{
        AdobePass, ClientSettings, DeviceIdentity, DeviceInfo, Environment, MemoryCredentialsStore,
        RetryPolicy, Secret,
    },
    clock::{ManualClock, SharedClock, SystemClock},
};

/// Where Adobe's documents live: the copies kept in the repository (`spec/adobe-pass`).
pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/adobe-pass");

/// One request as the stub received it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An answer the stub gives.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delay: Duration,
    /// A `Location` header, for redirects.
    pub location: Option<String>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "application/json;charset=UTF-8",
            body: body.into(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    /// An HTML answer, such as the throttling page or a proxy error page.
    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/html",
            body: body.into(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    /// A 307 to `location`, which keeps the method and the body.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self {
            location: Some(location.into()),
            ..Self::html(307, "")
        }
    }

    /// The documented example `name`.
    pub fn example(status: u16, name: &str) -> Self {
        let path = Path::new(SHARED).join("examples").join(name);
        Self::json(
            status,
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
    }

    /// The same answer after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Adobe's throttling page (§12).
pub const THROTTLE_PAGE: &str =
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n";

#[derive(Default)]
struct StubState {
    captured: Vec<Captured>,
    /// Scripted answers for paths ending with a suffix, used once each, in order.
    scripted: VecDeque<(String, Answer)>,
}

/// A recording stub of Adobe Pass on 127.0.0.1.
#[derive(Clone)]
pub struct Stub {
    pub base_url: String,
    state: Arc<Mutex<StubState>>,
}

impl Stub {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(StubState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().fallback(record).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// Answers the next request whose path ends with `suffix` with `answer` (once).
    pub fn script(&self, suffix: &str, answer: Answer) {
        self.state
            .lock()
            .expect("stub lock")
            .scripted
            .push_back((suffix.to_owned(), answer));
    }

    /// Every request received so far.
    pub fn captured(&self) -> Vec<Captured> {
        self.state.lock().expect("stub lock").captured.clone()
    }

    /// Requests received whose path ends with `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        self.captured()
            .iter()
            .filter(|c| c.path.ends_with(suffix))
            .count()
    }
}

async fn record(
    State(state): State<Arc<Mutex<StubState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let answer = {
        let mut state = state.lock().expect("stub lock");
        state.captured.push(Captured {
            method: method.clone(),
            path: path.clone(),
            query: uri.query().map(str::to_owned),
            headers,
            body,
        });
        let scripted = state
            .scripted
            .iter()
            .position(|(suffix, _)| path.ends_with(suffix.as_str()));
        match scripted {
            Some(index) => state.scripted.remove(index).map(|(_, answer)| answer),
            None => None,
        }
    };
    let answer = answer.unwrap_or_else(|| documented_answer(&method, &path));
    tokio::time::sleep(answer.delay).await;
    let mut response = (
        StatusCode::from_u16(answer.status).expect("status"),
        [("content-type", answer.content_type)],
        answer.body,
    )
        .into_response();
    if let Some(location) = answer.location {
        response
            .headers_mut()
            .insert("location", location.parse().expect("location"));
    }
    response
}

/// The documented example for a request, by method and path.
fn documented_answer(method: &Method, path: &str) -> Answer {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let post = method == Method::POST;
    match segments.as_slice() {
        ["o", "client", "register"] => Answer::example(201, "dcr-register-success-201.json"),
        ["o", "client", "token"] => Answer::example(201, "dcr-token-success-201.json"),
        ["api", "v2", _, "configuration"] => Answer::example(200, "configuration-success-200.json"),
        ["api", "v2", _, "sessions"] => {
            Answer::example(200, "sessions-create-authenticate-200.json")
        }
        ["api", "v2", _, "sessions", "sso", _] => {
            Answer::example(200, "partner-sso-sessions-partner-profile-200.json")
        }
        ["api", "v2", _, "sessions", _] if post => {
            Answer::example(200, "sessions-resume-authenticate-200.json")
        }
        ["api", "v2", _, "sessions", _] => {
            Answer::example(200, "sessions-retrieve-missing-parameters-200.json")
        }
        ["api", "v2", _, "profiles"] => Answer::example(200, "profiles-basic-200.json"),
        ["api", "v2", _, "profiles", "code", _] => {
            Answer::example(200, "profiles-code-basic-200.json")
        }
        ["api", "v2", _, "profiles", "sso", _] => {
            Answer::example(201, "partner-sso-profiles-apple-sso-201.json")
        }
        ["api", "v2", _, "profiles", _] => Answer::example(200, "profiles-mvpd-basic-200.json"),
        ["api", "v2", _, "decisions", "preauthorize", _] => {
            Answer::example(200, "decisions-preauthorize-mixed-permit-deny-200.json")
        }
        ["api", "v2", _, "decisions", "authorize", _] => {
            Answer::example(200, "decisions-authorize-permit-200.json")
        }
        ["api", "v2", _, "logout", _] => {
            Answer::example(200, "logout-with-logout-endpoint-200.json")
        }
        _ => Answer::html(404, "<html>not found</html>"),
    }
}

/// A server that accepts connections, reads the request and resets the connection.
pub async fn resetting_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = [0u8; 4096];
            let _ = socket.readable().await;
            let _ = socket.try_read(&mut buffer);
            // A zero linger sends RST on drop, and never blocks (only a non-zero one does).
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            drop(socket);
        }
    });
    format!("http://{addr}")
}

/// A base URL where nothing listens.
pub async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// A tvOS device on a home connection.
pub fn device(id: &str) -> DeviceIdentity {
    device_at(id, "203.0.113.7:53124")
}

/// A device at `connection` (public IP and source port).
pub fn device_at(id: &str, connection: &str) -> DeviceIdentity {
    let info = DeviceInfo {
        primary_hardware_type: Some("SetTopBox".into()),
        model: "AppleTV".into(),
        version: "4K".into(),
        manufacturer: Some("Apple".into()),
        os_name: "tvOS".into(),
        os_version: "17.1".into(),
        connection_type: "WiFi".into(),
        ..DeviceInfo::default()
    };
    DeviceIdentity::new(id, &info, connection.parse().expect("socket address"))
}

/// Settings for a client of `base_url` with fast retries and short timeouts.
pub fn settings(base_url: &str, software_statement: &str) -> ClientSettings {
    let mut settings = ClientSettings::new(
        Environment::Custom(base_url.parse().expect("base url")),
        "REF30",
        Secret::new(software_statement),
    );
    settings.request_timeout = Duration::from_secs(2);
    settings.connect_timeout = Duration::from_secs(1);
    settings.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    settings
}

/// A client of `base_url` with a fresh in-memory credentials store and the system clock.
pub fn client(
    base_url: &str,
    software_statement: &str,
) -> (AdobePass, Arc<MemoryCredentialsStore>) {
    client_with(
        settings(base_url, software_statement),
        SystemClock::shared(),
    )
}

/// A client with the given settings and clock.
pub fn client_with(
    settings: ClientSettings,
    clock: SharedClock,
) -> (AdobePass, Arc<MemoryCredentialsStore>) {
    let store = Arc::new(MemoryCredentialsStore::new());
    let client = AdobePass::new(settings, store.clone(), clock).expect("client");
    (client, store)
}

/// A manual clock at a fixed start.
pub fn manual_clock() -> Arc<ManualClock> {
    ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_760_000_000))
}

/// Now, on the system clock, in epoch ms.
pub fn now_millis() -> i64 {
    tve_activate::clock::millis_since_epoch(SystemTime::now())
}
