//! The processes a run measures: the service's release binary (one node, or several sharing
//! PostgreSQL and Redis), a standalone emulator and the bare axum ceiling, each on a free
//! loopback port, stopped when dropped.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// A child process serving HTTP on `base_url`.
pub struct Server {
    pub base_url: String,
    /// The operators' listener (`/metrics`), for the service.
    pub internal_url: Option<String>,
    child: Child,
}

/// `bytes` in MiB.
pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
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

/// CPU time process `pid` has used so far, user and system, in seconds (Linux `/proc`; 0 when
/// unreadable). `/proc/<pid>/stat` counts every thread of the process, in clock ticks.
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    let ticks: u64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|field| field.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    ticks as f64 / clock_ticks_per_second()
}

/// The kernel's clock ticks per second for `/proc` times (`getconf CLK_TCK`; Linux's 100 when
/// it cannot be asked).
fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

impl Server {
    /// CPU time the process has used so far, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_of(self.child.id())
    }

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
    emulator_with(session_ttl, false).await
}

/// The standalone emulator, throttling per device IP as Adobe does when `throttling`, its codes
/// living `session_ttl`.
pub async fn emulator_with(session_ttl: Duration, throttling: bool) -> Server {
    let port = free_port();
    let child = quiet(
        Command::new(env!("CARGO_BIN_EXE_adobe-pass-emulator"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--throttling", &throttling.to_string()])
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

/// The settings of a node alone: a SQLite store in `data`.
pub fn sqlite_in(data: &Path) -> Vec<String> {
    let store = format!("sqlite://{}", data.join("tve.db").display());
    vec!["--store-url".to_owned(), store]
}

/// Which of the service's own limits a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limits {
    /// Registrations wide open and steps reaching Adobe unmetered: callers of a load test all
    /// come from a few addresses.
    Open,
    /// The production meters of steps reaching Adobe (registrations still wide open).
    Production,
    /// As [`Limits::Production`], and Adobe's throttle paced per device IP as in production
    /// (against an emulator that throttles).
    GameNight,
}

/// The service's release binary against `emulator`, its state where `state` (settings such as
/// [`sqlite_in`]'s) says, and the site from `site_root`. Its public URL is its own address, so
/// a phone's forms come from the node that served their page.
pub async fn service(emulator: &Server, state: &[String], site_root: &Path) -> Server {
    service_with(emulator, state, site_root, Limits::Open).await
}

/// [`service`] keeping `limits`.
pub async fn service_with(
    emulator: &Server,
    state: &[String],
    site_root: &Path,
    limits: Limits,
) -> Server {
    let port = free_port();
    let internal = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let child = quiet(
        Command::new(env!("CARGO_BIN_EXE_tve-activate"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--internal-listen", &format!("127.0.0.1:{internal}")])
            .args(["--public-url", &base_url])
            .args(state)
            .args(["--adobe-pass-url", &emulator.base_url])
            .args([
                "--software-statement",
                tve_activate::emulator::DEFAULT_SOFTWARE_STATEMENT,
            ])
            .args(["--registrations-per-second", "10000"])
            .args([
                "--adobe-throttle",
                &(limits == Limits::GameNight).to_string(),
            ])
            .args(["--adobe-step-limits", &(limits != Limits::Open).to_string()])
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
