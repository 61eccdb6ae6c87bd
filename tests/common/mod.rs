//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use tve_activate::{
    clock::{SharedClock, SystemClock},
    config::{Args, Config},
    emulator::RunningEmulator,
    http::AppState,
    service::Service,
    shared::Shared,
    store, upstream,
};

/// A validated configuration from command-line style flags.
pub fn config(flags: &[&str]) -> Config {
    let mut argv = vec!["tve-activate"];
    argv.extend_from_slice(flags);
    Config::try_from(Args::try_parse_from(argv).expect("flags parse")).expect("valid config")
}

/// App state on an in-memory store and an embedded emulator (kept running by the guard).
pub async fn state(flags: &[&str]) -> (AppState, Option<RunningEmulator>) {
    state_with_clock(flags, SystemClock::shared()).await
}

/// [`state`] on `clock` (the service's and the embedded emulator's).
pub async fn state_with_clock(
    flags: &[&str],
    clock: SharedClock,
) -> (AppState, Option<RunningEmulator>) {
    let mut all = Vec::new();
    if !flags.contains(&"--store-url") {
        all.extend(["--store-url", "memory:"]);
    }
    all.extend_from_slice(flags);
    let config = config(&all);
    let store = store::open(&config.store, config.secrets.clone())
        .await
        .expect("store opens");
    let shared = Shared::open(&config).await.expect("redis answers");
    let upstream = upstream::connect(&config, store.clone(), clock.clone(), shared.adobe.clone())
        .await
        .expect("upstream");
    let service = Service::new(
        tve_activate::service_settings(&config, &shared),
        upstream.adobe,
        store,
        clock,
    );
    service.spawn_cluster_listener();
    (AppState::new(config, service, shared), upstream.emulator)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The built server binary, started with `args`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base_url: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Self {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_tve-activate"))
            .args(["--listen", &listen, "--store-url", "memory:"])
            .args(["--internal-listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let server = Self {
            child,
            base_url: format!("http://{listen}"),
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = self.base_url.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not listen on {addr}");
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A service available to the tests through an environment variable, or `None` (with a note)
/// outside CI when it is not set; in CI it must be.
pub fn test_service(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{variable} must be set in CI (make test starts the server)"
            );
            eprintln!("{variable} is not set: this test does not run here");
            None
        }
    }
}

/// A fresh database on the test PostgreSQL (`TVE_TEST_POSTGRES_URL`), as a URL.
pub async fn fresh_postgres_database() -> Option<String> {
    let server = test_service("TVE_TEST_POSTGRES_URL")?;
    let database = format!("tve_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("the test PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let mut url = url::Url::parse(&server).expect("a URL");
    url.set_path(&database);
    Some(url.to_string())
}

/// A sealing key file (32 random bytes, base64) in `dir`.
pub fn sealing_key_file(dir: &std::path::Path) -> String {
    use base64::Engine as _;
    let path = dir.join("secrets.key");
    let key: [u8; 32] = std::array::from_fn(|n| (n as u8).wrapping_mul(37).wrapping_add(11));
    std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(key)).expect("key file");
    path.to_str().expect("utf-8 path").to_owned()
}

/// Runs `attempt` every 250 ms until it gives `Some`, within `limit`; panics with `what` after.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(done) = attempt().await {
            return done;
        }
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the nodes of one several-node deployment share: a fresh database on the test
/// PostgreSQL, the test Redis under a namespace of its own, and one sealing key file (in `dir`).
pub struct Deployment {
    pub postgres: String,
    pub redis: String,
    pub namespace: String,
    pub key: String,
    pub dir: tempfile::TempDir,
}

impl Deployment {
    /// A new deployment, or `None` (outside CI) without a test PostgreSQL and Redis.
    pub async fn new() -> Option<Self> {
        let redis = test_service("TVE_TEST_REDIS_URL")?;
        let postgres = fresh_postgres_database().await?;
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Self {
            key: sealing_key_file(dir.path()),
            namespace: format!("test-{}", uuid::Uuid::new_v4().simple()),
            postgres,
            redis,
            dir,
        })
    }

    /// The settings every node of it runs with.
    pub fn settings(&self) -> [&str; 8] {
        [
            "--store-url",
            &self.postgres,
            "--secrets-key-file",
            &self.key,
            "--redis-url",
            &self.redis,
            "--redis-namespace",
            &self.namespace,
        ]
    }
}

/// The viewer's phone opens the activation page for `code` (as scanning the TV's QR code does):
/// the site looks the code up, and from then on the service asks Adobe about it.
pub async fn phone_opens(http: &reqwest::Client, site_url: &str, code: &str) {
    let page = http
        .get(format!("{site_url}/activate?code={code}"))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("activation page");
    let status = page.status();
    let text = page.text().await.expect("page");
    assert_eq!(status, reqwest::StatusCode::OK, "{text}");
    assert!(text.contains(code), "the page shows the code");
}

/// What the phone's server does before the viewer signs in (S2, REST-API-V2.md §7.3): supplies
/// the session's missing `redirectUrl` (and `mvpd` when the TV chose none), here with a DCR
/// client of its own at the emulator.
pub async fn phone_resumes(http: &reqwest::Client, emulator_url: &str, code: &str, mvpd: &str) {
    use base64::Engine as _;
    let info = base64::engine::general_purpose::STANDARD.encode(
        r#"{"model":"phone-server","version":"1","osName":"Linux","osVersion":"6","connectionType":"LAN"}"#,
    );
    // Adobe's pages: `Accept`, if sent, must be this (reqwest sends `*/*` by default).
    let accept = ("Accept", "application/json;charset=utf-8");
    let client: serde_json::Value = http
        .post(format!("{emulator_url}/o/client/register"))
        .header(accept.0, accept.1)
        .header("X-Device-Info", &info)
        .json(&serde_json::json!({
            "software_statement": tve_activate::emulator::DEFAULT_SOFTWARE_STATEMENT
        }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("client");
    let token: serde_json::Value = http
        .post(format!("{emulator_url}/o/client/token"))
        .header(accept.0, accept.1)
        .header("X-Device-Info", &info)
        .form(&[
            ("client_id", client["client_id"].as_str().expect("id")),
            (
                "client_secret",
                client["client_secret"].as_str().expect("secret"),
            ),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token");
    let resumed = http
        .post(format!("{emulator_url}/api/v2/REF30/sessions/{code}"))
        .bearer_auth(token["access_token"].as_str().expect("access token"))
        .header(accept.0, accept.1)
        // The secondary-application flow requires the (phone server's) device identifier.
        .header("AP-Device-Identifier", "fingerprint cGhvbmUtc2VydmVy")
        .form(&[
            ("mvpd", mvpd),
            ("redirectUrl", "https://localhost/activate/complete"),
        ])
        .send()
        .await
        .expect("resume");
    assert!(resumed.status().is_success(), "S2: {}", resumed.status());
}

/// The value of the sample `series` (name and labels, as written) in the metrics text.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
    })
}

/// A Roku TV's description, as its app registers it.
pub fn roku_info() -> tve_activate::adobe_pass::DeviceInfo {
    tve_activate::adobe_pass::DeviceInfo {
        model: "Roku Ultra".into(),
        version: "1".into(),
        os_name: "Roku OS".into(),
        os_version: "12".into(),
        connection_type: "LAN".into(),
        ..tve_activate::adobe_pass::DeviceInfo::default()
    }
}

/// A Roku TV registered with `service` from `addr`, and its session.
pub async fn tv_session(
    service: &Service,
    device_id: &str,
    addr: std::net::SocketAddr,
) -> (
    tve_activate::service::RegisteredDevice,
    tve_activate::service::DeviceSession,
) {
    let registered = service
        .register_device(device_id, &roku_info(), None, addr, None)
        .await
        .expect("registered");
    let session = service
        .authenticate_device(&registered.device_token, addr)
        .await
        .expect("session");
    (registered, session)
}

/// The viewer signs in at the emulator's provider as `account` (password the same), as the
/// phone's browser does after S2.
pub async fn provider_login(authenticate: &str, account: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = http.get(authenticate).send().await.expect("authenticate");
    let login = answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let done = http
        .post(&login)
        .form(&[
            ("username", account),
            ("password", account),
            ("action", "login"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(done.status(), reqwest::StatusCode::SEE_OTHER);
}

/// A redis-server (or a Sentinel) of a test's own, killed when dropped: for tests that stop
/// Redis or fail it over.
pub struct OwnRedis(Child);

impl OwnRedis {
    /// A server on `port` keeping nothing on disk.
    pub fn start(port: u16) -> Self {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        Self::spawn(command, port)
    }

    /// A server on `port` with `config` lines besides, from a file `name.conf` in `dir`; with
    /// `sentinel monitor` among them it is a Sentinel.
    pub fn configured(dir: &std::path::Path, name: &str, port: u16, config: &str) -> Self {
        let file = dir.join(format!("{name}.conf"));
        std::fs::write(
            &file,
            format!(
                "port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {}\n{config}",
                dir.display()
            ),
        )
        .expect("config file");
        let mut command = Command::new("redis-server");
        command.arg(&file);
        if config.contains("sentinel monitor") {
            command.arg("--sentinel");
        }
        Self::spawn(command, port)
    }

    fn spawn(mut command: Command, port: u16) -> Self {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (Debian's redis-server; make test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child)
    }

    /// Kills the server at once.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
