//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use tve_activate::{
    clock::SystemClock,
    config::{Args, Config},
    emulator::RunningEmulator,
    http::AppState,
    service::{Service, ServiceSettings},
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
    let mut all = vec!["--store-url", "memory:"];
    all.extend_from_slice(flags);
    let config = config(&all);
    let store = store::open(&config.store, None).await.expect("store opens");
    let clock = SystemClock::shared();
    let upstream = upstream::connect(&config, store.clone(), clock.clone())
        .await
        .expect("upstream");
    let shared = Shared::open(config.redis_url.as_ref(), &config.redis_namespace)
        .await
        .expect("redis answers");
    let service = Service::new(
        ServiceSettings {
            limits: shared.service_limits.clone(),
            ..ServiceSettings::new(config.public_url.clone(), config.domain_name.clone())
        },
        upstream.adobe,
        store,
        clock,
    );
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
