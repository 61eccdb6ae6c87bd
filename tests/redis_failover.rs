//! Game night, Redis fails over: a primary, a replica and three Sentinels of the test's own;
//! the node reaches Redis through the Sentinels (`redis-sentinel://…`). The primary is killed
//! while TVs register, play and wait for a sign-in: plays never stop (they need no Redis),
//! what needs Redis answers 503 with `Retry-After` only inside the failover window (measured
//! and printed), and afterwards the node serves everything by itself, the pending activation
//! included (it lives in the store).
//!
//! `TVE_CHAOS=1` (make chaos) makes it the long drill: bursts of registrations, and several
//! failovers in a row, each killed primary coming back as the replica of the new one before the
//! new one is killed in turn.

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use common::OwnRedis;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::{register_body, Api};

/// The name the Sentinels know the primary by.
const SERVICE: &str = "tve";

/// The port of the primary the Sentinel on `port` names, asked over RESP.
fn primary_named(port: u16) -> Option<u16> {
    use std::io::{Read, Write};
    let mut sentinel = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    sentinel
        .set_read_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    sentinel
        .write_all(format!("SENTINEL get-master-addr-by-name {SERVICE}\r\n").as_bytes())
        .ok()?;
    let mut answer = [0; 256];
    let read = sentinel.read(&mut answer).ok()?;
    // *2 $9 127.0.0.1 $5 PORT
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

/// Whether the Sentinel on `port` knows the server on `replica` as a healthy replica.
fn replica_known(port: u16, replica: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut sentinel) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = sentinel.set_read_timeout(Some(Duration::from_secs(1)));
    if sentinel
        .write_all(format!("SENTINEL replicas {SERVICE}\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut answer = [0; 4096];
    let read = sentinel.read(&mut answer).unwrap_or(0);
    // One replica: its name, and its flags without `s_down` or `disconnected`.
    let answer = String::from_utf8_lossy(&answer[..read]);
    answer.contains(&format!("127.0.0.1:{replica}")) && answer.contains("\r\nslave\r\n")
}

/// Registers a new device from its own address, twenty per /24 (so no address or /24 runs out
/// of registrations); the status.
async fn register(api: &Api, n: u32) -> StatusCode {
    let body = register_body(&format!("storm-tv-{n}")).to_string();
    api.call_from(
        &format!("10.9.{}.{}", n / 20 % 256, n % 20 + 1),
        Method::POST,
        "/tv/v1/devices",
        None,
        Some(&body),
    )
    .await
    .status
}

#[tokio::test]
async fn a_redis_failover_costs_only_its_window_and_loses_no_activation() {
    if common::test_service("TVE_TEST_REDIS_URL").is_none() {
        return; // No redis-server here either.
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let [primary_port, replica_port] = [common::free_port(), common::free_port()];
    let mut primary = OwnRedis::configured(dir.path(), "primary", primary_port, "");
    let mut replica = OwnRedis::configured(
        dir.path(),
        "replica",
        replica_port,
        &format!("replicaof 127.0.0.1 {primary_port}\n"),
    );
    let sentinel_ports = [
        common::free_port(),
        common::free_port(),
        common::free_port(),
    ];
    let _sentinels: Vec<OwnRedis> = sentinel_ports
        .iter()
        .enumerate()
        .map(|(n, &port)| {
            OwnRedis::configured(
                dir.path(),
                &format!("sentinel-{n}"),
                port,
                &format!(
                    "sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
                     sentinel down-after-milliseconds {SERVICE} 1000\n\
                     sentinel failover-timeout {SERVICE} 5000\n\
                     sentinel parallel-syncs {SERVICE} 1\n"
                ),
            )
        })
        .collect();
    let url = format!(
        "redis-sentinel://127.0.0.1:{}?sentinelServiceName={SERVICE}&node=127.0.0.1:{}&node=127.0.0.1:{}",
        sentinel_ports[0], sentinel_ports[1], sentinel_ports[2]
    );
    let api = Api::start(&["--redis-url", &url, "--trusted-proxies", "127.0.0.1/32"]).await;

    let watching = api
        .signed_in_device("watching-tv", "Spectrum", "premium")
        .await;
    let waiting = api.register("waiting-tv").await;
    let code = api
        .post("/tv/v1/activations", &waiting, json!({}))
        .await
        .json()["code"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_eq!(
        register(&api, 0).await,
        StatusCode::CREATED,
        "Redis reached"
    );

    let chaos = std::env::var_os("TVE_CHAOS").is_some();
    let (failovers, burst) = if chaos { (3, 8) } else { (1, 1) };
    let [mut primary_port, mut replica_port] = [primary_port, replica_port];
    let mut n = 1;
    let mut last_killed = Instant::now();
    for round in 1..=failovers {
        if round > 1 {
            // The killed primary comes back as the new one's replica, and Sentinel sees it.
            replica = OwnRedis::configured(
                dir.path(),
                &format!("rejoined-{round}"),
                replica_port,
                &format!("replicaof 127.0.0.1 {primary_port}\n"),
            );
            common::eventually(
                Duration::from_secs(30),
                "Sentinel knows the rejoined replica",
                || async { replica_known(sentinel_ports[0], replica_port).then_some(()) },
            )
            .await;
            // A Sentinel starts no failover of the same primary within twice its
            // failover-timeout (5 s) of the last one: a later kill measures the failover, not
            // that guard.
            let guard = last_killed + Duration::from_secs(11);
            tokio::time::sleep(guard.saturating_duration_since(Instant::now())).await;
        }
        primary.kill();
        let killed = Instant::now();
        last_killed = killed;
        let mut refused = 0;
        let mut first_refused: Option<Duration> = None;
        let mut tried = 0;
        let recovered = loop {
            let play = api
                .post("/tv/v1/authorize", &watching, json!({"resource": "REF30"}))
                .await;
            assert_eq!(play.json()["decision"], "permit", "{}", play.text);
            let promoted = primary_named(sentinel_ports[0]) == Some(replica_port);
            let answers = join_all((n..n + burst).map(|n| register(&api, n))).await;
            n += burst;
            tried += burst;
            for answer in &answers {
                match *answer {
                    StatusCode::CREATED => {}
                    StatusCode::SERVICE_UNAVAILABLE => {
                        refused += 1;
                        first_refused.get_or_insert(killed.elapsed());
                    }
                    other => panic!("registration answered {other} during the failover"),
                }
            }
            if promoted && answers.iter().all(|a| *a == StatusCode::CREATED) {
                break killed.elapsed();
            }
            assert!(
                killed.elapsed() < Duration::from_secs(40),
                "not recovered 40 s after the primary died"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        eprintln!(
            "redis failover {round}: {refused} of {tried} registrations refused (503, \
             Retry-After), the first {:.1} s after the primary died; served by the new primary \
             {:.1} s after; plays never stopped",
            first_refused.unwrap_or_default().as_secs_f64(),
            recovered.as_secs_f64()
        );
        std::mem::swap(&mut primary, &mut replica);
        std::mem::swap(&mut primary_port, &mut replica_port);
    }

    // Everything needing Redis works again, and the activation started before is completed.
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    api.provider_login(&code, "premium").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let profile = api.get("/tv/v1/profile", &waiting).await;
        if profile.json()["authenticated"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "{}", profile.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
