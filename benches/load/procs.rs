//! The processes a run measures: the service's release binary, a standalone emulator and the
//! bare axum ceiling, each on a free loopback port, stopped when dropped.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A child process serving HTTP on `base_url`.
pub struct Server {
    pub base_url: String,
    /// The operators' listener (`/metrics`), for the service.
    pub internal_url: Option<String>,
    child: Child,
}

/// Resident memory of process `pid` now, in bytes (Linux `/proc`; 0 when unreadable).
fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

impl Server {
    /// Resident memory of the process now, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.child.id())
    }

    /// A reader of the process's resident memory that can move into a task.
    pub fn rss_reader(&self) -> impl Fn() -> u64 + Send + 'static {
        let pid = self.child.id();
        move || rss_of(pid)
    }

    async fn wait_until_ready(self, path: &str) -> Self {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let url = format!("{}{path}", self.base_url);
            if let Ok(answer) = http.get(&url).send().await {
                if answer.status().is_success() {
                    return self;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not become ready", self.base_url);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn quiet(command: &mut Command) -> &mut Command {
    command
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
}

/// The standalone emulator, throttling off (the ceiling must not be Adobe's rate limit), its
/// codes living `session_ttl`.
pub async fn emulator(session_ttl: Duration) -> Server {
    let port = free_port();
    let child = quiet(
        Command::new(env!("CARGO_BIN_EXE_adobe-pass-emulator"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--throttling", "false"])
            .args(["--session-ttl", &session_ttl.as_secs().to_string()]),
    )
    .spawn()
    .expect("the emulator starts");
    Server {
        base_url: format!("http://127.0.0.1:{port}"),
        internal_url: None,
        child,
    }
    .wait_until_ready("/__emulator/faults")
    .await
}

/// The service's release binary against `emulator`, with a SQLite store in `data` and the
/// site from `site_root`.
pub async fn service(emulator: &Server, data: &Path, site_root: &Path) -> Server {
    let port = free_port();
    let internal = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let store = format!("sqlite://{}", data.join("tve.db").display());
    let child = quiet(
        Command::new(env!("CARGO_BIN_EXE_tve-activate"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--internal-listen", &format!("127.0.0.1:{internal}")])
            .args(["--public-url", &base_url])
            .args(["--store-url", &store])
            .args(["--adobe-pass-url", &emulator.base_url])
            .args([
                "--software-statement",
                tve_activate::emulator::DEFAULT_SOFTWARE_STATEMENT,
            ])
            .args(["--registrations-per-second", "10000"])
            .args(["--adobe-throttle", "false"])
            .arg("--site-root")
            .arg(site_root),
    )
    .spawn()
    .expect("the service starts");
    Server {
        base_url,
        internal_url: Some(format!("http://127.0.0.1:{internal}")),
        child,
    }
    .wait_until_ready("/readyz")
    .await
}

/// The ceiling: this tool itself, serving a bare axum JSON handler in a process of its own.
pub async fn bare_axum() -> Server {
    let port = free_port();
    let child = quiet(
        Command::new(std::env::current_exe().expect("this tool"))
            .args(["--bare-server", &port.to_string()]),
    )
    .spawn()
    .expect("the bare server starts");
    Server {
        base_url: format!("http://127.0.0.1:{port}"),
        internal_url: None,
        child,
    }
    .wait_until_ready("/profile")
    .await
}

/// Serves `GET /profile` (a JSON body shaped like the service's profile answer) until killed.
pub fn serve_bare(port: u16) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/profile",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({
                    "authenticated": true,
                    "provider": "Spectrum",
                    "profileType": "regular",
                    "expiresAt": 1_900_000_000_000_i64,
                }))
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}
