//! Game night, Redis fails over: a primary, a replica and three Sentinels of the test's own;
//! the node reaches Redis through the Sentinels (`redis-sentinel://…`). The primary is killed
//! while TVs register, play and wait for a sign-in: plays never stop (they need no Redis),
//! what needs Redis answers 503 with `Retry-After` only inside the failover window (measured
//! and printed), and afterwards the node serves everything by itself, the pending activation
//! included (it lives in the store).

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use common::OwnRedis;

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

/// Registers a new device from its own address (so no address runs out of registrations);
/// the status.
async fn register(api: &Api, n: u32) -> StatusCode {
    let body = register_body(&format!("storm-tv-{n}")).to_string();
    api.call_from(
        &format!("10.9.{}.{}", n / 200, n % 200 + 1),
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
    let _replica = OwnRedis::configured(
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

    primary.kill();
    let killed = Instant::now();
    let mut refused = 0;
    let mut first_refused: Option<Duration> = None;
    let mut n = 1;
    let recovered = loop {
        let play = api
            .post("/tv/v1/authorize", &watching, json!({"resource": "REF30"}))
            .await;
        assert_eq!(play.json()["decision"], "permit", "{}", play.text);
        let promoted = primary_named(sentinel_ports[0]) == Some(replica_port);
        match register(&api, n).await {
            StatusCode::CREATED if promoted => break killed.elapsed(),
            StatusCode::CREATED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                first_refused.get_or_insert(killed.elapsed());
            }
            other => panic!("registration answered {other} during the failover"),
        }
        n += 1;
        assert!(
            killed.elapsed() < Duration::from_secs(40),
            "not recovered 40 s after the primary died"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "redis failover: {refused} of {n} registrations refused (503, Retry-After), the first \
         {:.1} s after the primary died; served by the new primary {:.1} s after; plays never \
         stopped",
        first_refused.unwrap_or_default().as_secs_f64(),
        recovered.as_secs_f64()
    );

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
