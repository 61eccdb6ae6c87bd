//! What several nodes share through Redis, with two connections standing for two nodes:
//! rate-limit buckets spent together, browser sessions seen by both, and a clear start-up error
//! for a Redis that is not there. Needs `TVE_TEST_REDIS_URL` (make test starts a throwaway
//! Redis); in CI it must be set.

mod common;

use std::time::Duration;

use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};
use tve_activate::{
    adobe_pass::{Secret, ThrottleBuckets, ThrottleSettings},
    clock::SystemClock,
    limits::{Limiter, Rate},
    redis::Redis,
};

/// Two connections ("nodes") to the test Redis under a namespace of this test's own.
async fn two_nodes() -> Option<(Redis, Redis)> {
    let url = Secret::new(common::test_service("TVE_TEST_REDIS_URL")?);
    let namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
    let a = Redis::connect(&url, &namespace).await.expect("node a");
    let b = Redis::connect(&url, &namespace).await.expect("node b");
    Some((a, b))
}

#[tokio::test]
async fn two_nodes_spend_one_budget() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let rate = Rate::new(10, Duration::from_secs(60));
    let (on_a, on_b) = (a.limiter("guesses", rate), b.limiter("guesses", rate));
    for n in 0..10 {
        let node: &dyn Limiter = if n % 2 == 0 { &on_a } else { &on_b };
        assert!(node.take("203.0.113.9").await.is_ok(), "take {n}");
    }
    let wait = on_b
        .take("203.0.113.9")
        .await
        .expect_err("the 11th waits")
        .wait();
    assert!(wait > Duration::from_secs(50), "{wait:?}");
    assert!(on_a.take("203.0.113.9").await.is_err());
    assert!(on_a.take("198.51.100.1").await.is_ok(), "another key");
}

#[tokio::test]
async fn checks_count_nothing_and_charges_always_count_across_nodes() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let rate = Rate::new(2, Duration::from_secs(60));
    let (on_a, on_b) = (a.limiter("failures", rate), b.limiter("failures", rate));
    for _ in 0..5 {
        assert!(on_a.check("k").await.is_ok());
    }
    on_a.charge("k").await;
    on_b.charge("k").await;
    assert!(on_a.check("k").await.is_err());
    on_b.charge("k").await;
    assert!(on_b.check("k").await.is_err());
}

#[tokio::test]
async fn a_refund_on_one_node_gives_the_event_back_to_both() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let rate = Rate::new(2, Duration::from_secs(60));
    let (on_a, on_b) = (a.limiter("nested", rate), b.limiter("nested", rate));
    on_b.refund("k").await;
    assert!(on_a.take("k").await.is_ok());
    assert!(on_b.take("k").await.is_ok());
    assert!(on_a.take("k").await.is_err());
    on_b.refund("k").await;
    assert!(on_a.take("k").await.is_ok(), "one back");
    assert!(on_b.take("k").await.is_err(), "only one");
}

#[tokio::test]
async fn buckets_drain_on_redis_time() {
    let Some((a, _b)) = two_nodes().await else {
        return;
    };
    let limiter = a.limiter("drain", Rate::new(1, Duration::from_millis(200)));
    assert!(limiter.take("k").await.is_ok());
    assert!(limiter.take("k").await.is_err());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(limiter.take("k").await.is_ok());
}

#[tokio::test]
async fn a_session_saved_on_one_node_is_read_on_the_other() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (on_a, on_b) = (a.sessions(), b.sessions());
    let mut record = Record {
        id: Id::default(),
        data: [("checked_code".to_owned(), serde_json::json!("AB12CD"))]
            .into_iter()
            .collect(),
        expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
            + tower_sessions::cookie::time::Duration::minutes(5),
    };
    on_a.create(&mut record).await.expect("created");
    let read = on_b.load(&record.id).await.expect("load").expect("found");
    assert_eq!(read.data["checked_code"], "AB12CD");
    record
        .data
        .insert("csrf".to_owned(), serde_json::json!("t0k3n"));
    on_b.save(&record).await.expect("saved");
    let read = on_a.load(&record.id).await.expect("load").expect("found");
    assert_eq!(read.data["csrf"], "t0k3n");
    on_a.delete(&record.id).await.expect("deleted");
    assert!(on_b.load(&record.id).await.expect("load").is_none());
}

#[tokio::test]
async fn sessions_expire_with_their_record() {
    let Some((a, _b)) = two_nodes().await else {
        return;
    };
    let sessions = a.sessions();
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
            + tower_sessions::cookie::time::Duration::seconds(1),
    };
    sessions.create(&mut record).await.expect("created");
    assert!(sessions.load(&record.id).await.expect("load").is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(sessions.load(&record.id).await.expect("load").is_none());
}

#[test]
fn an_unreachable_redis_stops_the_start_with_one_line_naming_the_setting() {
    let port = common::free_port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tve-activate"))
        .args(["--store-url", "memory:", "--internal-listen", "127.0.0.1:0"])
        .args(["--listen", &format!("127.0.0.1:{}", common::free_port())])
        .args(["--redis-url", &format!("redis://:hunter2@127.0.0.1:{port}")])
        .env("RUST_LOG", "off")
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("--redis-url"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password is never shown");
}

#[tokio::test]
async fn a_message_from_one_node_reaches_the_other_and_not_itself() {
    use tve_activate::shared::{Bus, ClusterEvent};
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (bus_a, bus_b) = (a.bus().await.expect("bus a"), b.bus().await.expect("bus b"));
    let (mut on_a, mut on_b) = (bus_a.subscribe(), bus_b.subscribe());
    let event = ClusterEvent::DeviceInvalidated {
        device_id: "tv-1".to_owned(),
    };
    bus_a.publish(event.clone()).await;
    let heard = tokio::time::timeout(Duration::from_secs(2), on_b.recv())
        .await
        .expect("within 2 s")
        .expect("an event");
    assert_eq!(heard, event);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), on_a.recv())
            .await
            .is_err(),
        "a node does not hear itself"
    );
}

#[tokio::test]
async fn one_node_holds_a_lease_until_it_stops_renewing() {
    use tve_activate::shared::Leases;
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (on_a, on_b) = (a.leases(), b.leases());
    let ttl = Duration::from_millis(300);
    assert!(on_a.hold("activation:AB12CD", ttl).await);
    assert!(!on_b.hold("activation:AB12CD", ttl).await, "taken");
    assert!(
        on_a.hold("activation:AB12CD", ttl).await,
        "renewed by its holder"
    );
    assert!(on_b.hold("activation:OTHER", ttl).await, "another lease");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        on_b.hold("activation:AB12CD", ttl).await,
        "taken over once it ran out"
    );
    assert!(!on_a.hold("activation:AB12CD", ttl).await);
}

/// Adobe's throttle as two nodes share it (1 call a second, a burst of 10).
async fn shared_throttles() -> Option<(impl ThrottleBuckets, impl ThrottleBuckets)> {
    let (a, b) = two_nodes().await?;
    let settings = ThrottleSettings {
        interval: Duration::from_secs(1),
        ..ThrottleSettings::default()
    };
    Some((
        a.throttle(settings, SystemClock::shared()),
        b.throttle(settings, SystemClock::shared()),
    ))
}

#[tokio::test]
async fn two_nodes_stay_within_adobes_rate_for_one_device_together() {
    let Some((on_a, on_b)) = shared_throttles().await else {
        return;
    };
    let tv: std::net::IpAddr = [203, 0, 113, 50].into();
    for n in 0..10 {
        let node: &dyn ThrottleBuckets = if n % 2 == 0 { &on_a } else { &on_b };
        assert_eq!(node.take(tv, 0).await, Ok(()), "call {n}");
    }
    let wait = on_b.take(tv, 0).await.expect_err("spent");
    assert!(
        wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
        "the 11th call of the cluster waits a second: {wait:?}"
    );
    let other: std::net::IpAddr = [198, 51, 100, 50].into();
    let penalty = on_a.penalize(other).await;
    assert!(penalty >= Duration::from_millis(999), "{penalty:?}");
    let after_429 = on_b.take(other, 0).await.expect_err("held back");
    assert!(
        after_429 >= Duration::from_millis(900),
        "a 429 seen by one node holds the other back: {after_429:?}"
    );
}

/// Plays first (issue 22, item 4): a background call taken from the shared bucket leaves one
/// call of the burst, and a browser's reservation on one node holds the other back.
#[tokio::test]
async fn the_shared_bucket_keeps_a_call_and_sets_calls_aside() {
    let Some((on_a, on_b)) = shared_throttles().await else {
        return;
    };
    let tv: std::net::IpAddr = [203, 0, 113, 52].into();
    for n in 0..9 {
        assert_eq!(on_a.take(tv, 1).await, Ok(()), "call {n}");
    }
    let kept = on_b.take(tv, 1).await.expect_err("one call kept");
    assert!(kept > Duration::from_millis(900), "{kept:?}");
    assert_eq!(on_b.take(tv, 0).await, Ok(()), "the kept call, for a play");

    let phone: std::net::IpAddr = [203, 0, 113, 53].into();
    for _ in 0..9 {
        on_a.take(phone, 0).await.expect("burst");
    }
    assert_eq!(on_b.reserve(phone, 2).await, Duration::ZERO, "one is there");
    let wait = on_a.take(phone, 0).await.expect_err("set aside");
    assert!(wait > Duration::from_millis(1900), "{wait:?}");
}

/// Security review, finding 3: each source address made a Redis key of its own, kept an hour;
/// every address of one IPv6 /64 now spends the one bucket of its household.
#[tokio::test]
async fn the_addresses_of_one_ipv6_home_share_one_shared_bucket() {
    let Some((on_a, on_b)) = shared_throttles().await else {
        return;
    };
    for n in 1..=10u32 {
        let ip: std::net::IpAddr = format!("2001:db8:51:7::{n:x}").parse().expect("ip");
        let node: &dyn ThrottleBuckets = if n % 2 == 0 { &on_a } else { &on_b };
        assert_eq!(node.take(ip, 0).await, Ok(()), "address {n}");
    }
    let another: std::net::IpAddr = "2001:db8:51:7:abcd::9".parse().expect("ip");
    let wait = on_a.take(another, 0).await.expect_err("spent");
    assert!(
        wait > Duration::from_millis(900),
        "the 11th address of the /64 waits: {wait:?}"
    );
}

/// §12: "a one-time initial burst of 10": once the cluster spent it, idling gives back one
/// call per second, not another burst.
#[tokio::test]
async fn the_shared_burst_is_spent_once() {
    let Some((on_a, on_b)) = shared_throttles().await else {
        return;
    };
    let tv: std::net::IpAddr = [203, 0, 113, 51].into();
    for n in 0..10 {
        assert_eq!(on_a.take(tv, 0).await, Ok(()), "call {n}");
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(on_b.take(tv, 0).await, Ok(()));
    let next = on_b.take(tv, 0).await.expect_err("one a second");
    assert!(
        next > Duration::from_millis(900),
        "no second burst after idling: {next:?}"
    );
}

#[tokio::test]
async fn one_node_fetches_a_devices_access_token_and_the_other_uses_it() {
    use std::sync::Arc;

    use tve_activate::{
        adobe_pass::{
            AdobePass, ClientSettings, DeviceIdentity, DeviceInfo, Endpoint, Environment,
            MemoryCredentialsStore, Outcome, Sharing,
        },
        clock::SystemClock,
        emulator::{self, EmulatorSettings},
        store::{SealingKey, SealingKeys},
    };
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator");
    let keys: SealingKeys = SealingKey::generate().into();
    let client = |redis: &Redis| {
        let settings = ClientSettings::new(
            Environment::Custom(emulator.base_url().parse().expect("url")),
            "REF30",
            Secret::new(emulator.software_statement()),
        );
        let sharing = Sharing {
            throttle: None,
            tokens: Some(Arc::new(redis.tokens(keys.clone()))),
        };
        let credentials = Arc::new(MemoryCredentialsStore::new());
        AdobePass::with_sharing(settings, credentials, SystemClock::shared(), sharing)
            .expect("client")
    };
    let (on_a, on_b) = (client(&a), client(&b));
    let info = DeviceInfo {
        model: "Roku Ultra".into(),
        version: "1".into(),
        os_name: "Roku OS".into(),
        os_version: "12".into(),
        connection_type: "LAN".into(),
        ..DeviceInfo::default()
    };
    let fetched = |client: &AdobePass, endpoint| client.metrics().count(endpoint, Outcome::Success);

    // One after the other: node B uses node A's token.
    let tv = DeviceIdentity::new(
        "tv-shared-token",
        &info,
        "203.0.113.9:4000".parse().expect("addr"),
    );
    on_a.profiles(&tv).await.expect("node a");
    on_b.profiles(&tv).await.expect("node b");
    assert_eq!(fetched(&on_a, Endpoint::DcrToken), 1);
    assert_eq!(fetched(&on_b, Endpoint::DcrToken), 0, "no second token");
    assert_eq!(fetched(&on_b, Endpoint::DcrRegister), 0, "no second client");

    // At the same time: one node fetches, the other waits for it.
    let tv = DeviceIdentity::new(
        "tv-both-at-once",
        &info,
        "203.0.113.10:4000".parse().expect("addr"),
    );
    let (first, second) = tokio::join!(on_a.profiles(&tv), on_b.profiles(&tv));
    first.expect("node a");
    second.expect("node b");
    assert_eq!(
        fetched(&on_a, Endpoint::DcrToken) + fetched(&on_b, Endpoint::DcrToken),
        2,
        "one token for each device, not one per node"
    );
    assert_eq!(
        emulator.state().store().clients.len(),
        2,
        "one DCR client per device"
    );
}
