//! Issue 22, "No herds": every wait handed to a TV is its own. A draining node tells each of its
//! event streams its own reconnect delay, spread evenly over at least 5 s, and answers its long
//! polls apart; the streams all reconnect to another node; and TVs refused together are told
//! different `retryAfter`s, each within its documented bounds.

mod common;
mod tv_api_support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tv_api_support::{register_body, Api};
use tve_activate::emulator::{self, EmulatorSettings};

/// A TV behind its own address (the balancer, a trusted proxy, forwards it).
struct Tv {
    address: String,
    token: String,
    code: String,
}

/// Registers TV `n` from an address of its own (an IPv4 /24 of its own, so no network's
/// budget is spent twice) and starts its activation.
async fn tv(api: &Api, n: usize) -> Tv {
    let address = format!("10.{}.{}.1", n / 256, n % 256);
    let body = register_body(&format!("tv-herd-{n}")).to_string();
    let registered = api
        .call_from(&address, Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
    let token = registered.json()["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let started = api
        .call_from(
            &address,
            Method::POST,
            "/tv/v1/activations",
            Some(&token),
            Some("{}"),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let code = started.json()["code"].as_str().expect("code").to_owned();
    Tv {
        address,
        token,
        code,
    }
}

/// Opens `tv`'s event stream on `api` and reads its first event, which must be a status.
async fn open_stream(api: &Api, tv: &Tv) -> reqwest::Response {
    let mut stream = api
        .http
        .get(api.url(&format!("/tv/v1/activations/{}/events", tv.code)))
        .header("x-forwarded-for", &tv.address)
        .bearer_auth(&tv.token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.expect("read").expect("a first event");
    let first = String::from_utf8_lossy(&first);
    assert!(first.contains("event: status"), "{first}");
    stream
}

/// Reads a drained stream to its end, which must be clean and come after a `reconnect` event;
/// gives the event's delay in milliseconds, checked against its other forms.
async fn reconnect_hint(mut stream: reqwest::Response) -> u64 {
    let mut rest = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .expect("the stream ends in time")
        .expect("the stream ends cleanly")
    {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    let event = rest
        .split("\n\n")
        .find(|event| event.contains("event: reconnect"))
        .unwrap_or_else(|| panic!("no reconnect event in {rest:?}"));
    let field = |name: &str| {
        event
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {event:?}"))
            .trim()
            .to_owned()
    };
    let data: Value = serde_json::from_str(&field("data:")).expect("JSON data");
    let millis = data["retryAfterMs"].as_u64().expect("retryAfterMs");
    let seconds = data["retryAfter"].as_u64().expect("retryAfter");
    assert_eq!(seconds, millis.div_ceil(1_000).max(1), "{data}");
    assert_eq!(
        field("retry:"),
        millis.to_string(),
        "the SSE retry is the same"
    );
    millis
}

/// How many of `delays` (milliseconds) fall in each 100 ms slice from 1 s to 1 s + `span`.
fn slices(delays: &[u64], span: Duration) -> Vec<usize> {
    let span = u64::try_from(span.as_millis()).expect("small");
    let mut counts = vec![0; usize::try_from(span / 100).expect("small")];
    for delay in delays {
        assert!(
            (1_000..1_000 + span).contains(delay),
            "{delay} ms is outside the spread"
        );
        counts[usize::try_from((delay - 1_000) / 100).expect("small")] += 1;
    }
    counts
}

/// Two nodes sharing PostgreSQL and Redis behind a balancer (a trusted proxy): 300 event
/// streams on the first, which drains. Every stream ends cleanly with a reconnect delay of its
/// own, spread over 5 s with no 100 ms slice holding more than 5% of them, and every TV,
/// reconnecting to the other node after its delay, is served.
#[tokio::test]
async fn a_drained_nodes_streams_reconnect_spread_out_and_none_fails() {
    const TVS: usize = 100;
    const STREAMS_PER_TV: usize = 3;
    let Some(deployment) = common::Deployment::new().await else {
        return;
    };
    let emulator = emulator::spawn(EmulatorSettings::default())
        .await
        .expect("emulator starts");
    let mut flags = deployment.settings().to_vec();
    flags.extend(["--trusted-proxies", "127.0.0.1/32"]);
    let draining = Api::node_of(emulator.base_url(), &flags).await;
    let other = Api::node_of(emulator.base_url(), &flags).await;

    let tvs = join_all((0..TVS).map(|n| tv(&draining, n))).await;
    let streams = join_all(
        tvs.iter()
            .flat_map(|tv| std::iter::repeat_n(tv, STREAMS_PER_TV))
            .map(|tv| open_stream(&draining, tv)),
    )
    .await;
    assert_eq!(
        draining.drain(),
        TVS * STREAMS_PER_TV,
        "the crowd is every stream"
    );
    let drained = Instant::now();

    // Each TV waits its delay from the moment its stream ended, then reconnects elsewhere.
    let reconnects = streams.into_iter().zip(
        tvs.iter()
            .flat_map(|tv| std::iter::repeat_n(tv, STREAMS_PER_TV)),
    );
    let outcomes = join_all(reconnects.map(|(stream, tv)| {
        let other = &other;
        async move {
            let delay = reconnect_hint(stream).await;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let back = drained.elapsed();
            drop(open_stream(other, tv).await);
            (delay, back)
        }
    }))
    .await;

    let delays: Vec<u64> = outcomes.iter().map(|(delay, _)| *delay).collect();
    let counts = slices(&delays, Duration::from_secs(5));
    assert!(
        counts.iter().all(|&n| n > 0),
        "the 5 s are all used: {counts:?}"
    );
    let most = counts.iter().copied().max().expect("slices");
    assert!(
        most * 20 <= delays.len(),
        "{most} in one 100 ms slice: {counts:?}"
    );
    let mut distinct = delays.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > delays.len() * 9 / 10, "each its own delay");
    let first = outcomes.iter().map(|(_, back)| *back).min().expect("some");
    let last = outcomes.iter().map(|(_, back)| *back).max().expect("some");
    assert!(first >= Duration::from_secs(1), "none came back at once");
    assert!(
        last - first >= Duration::from_secs(4),
        "{first:?} to {last:?}"
    );
}

/// Long polls on a draining node are answered apart (each after its own share of the spread,
/// the status unchanged), not all at once, so the TVs' next polls do not come together.
#[tokio::test]
async fn a_drained_nodes_long_polls_are_answered_apart() {
    const TVS: usize = 40;
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    let tvs = join_all((0..TVS).map(|n| tv(&api, n))).await;
    let asked = Instant::now();
    let polls = join_all(tvs.iter().map(|tv| {
        let api = &api;
        async move {
            let path = format!("/tv/v1/activations/{}?wait=30", tv.code);
            let answer = api
                .call_from(&tv.address, Method::GET, &path, Some(&tv.token), None)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            assert_eq!(answer.json()["status"], "pending");
            asked.elapsed()
        }
    }));
    let drain = async {
        tv_api_support::pause(500).await;
        api.drain();
        Instant::now()
    };
    let (answered, drained) = tokio::join!(polls, drain);
    let since_drain: Vec<Duration> = answered
        .iter()
        .map(|at| (asked + *at).saturating_duration_since(drained))
        .collect();
    let first = since_drain.iter().min().expect("some");
    let last = since_drain.iter().max().expect("some");
    assert!(
        *first >= Duration::from_millis(900),
        "{first:?}: not at once"
    );
    assert!(
        *last < Duration::from_secs(7),
        "{last:?}: within the spread"
    );
    assert!(
        *last - *first >= Duration::from_secs(3),
        "{first:?} to {last:?}"
    );
}

/// TVs refused together (a device past its open waits) are told different `retryAfter`s, each
/// from what the limit needs (5 s) to twice that, the header and the body agreeing.
#[tokio::test]
async fn tvs_refused_together_are_told_different_retry_afters_within_bounds() {
    let api = Api::start(&[]).await;
    let token = api.register("tv-refused").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let path = format!("/tv/v1/activations/{code}/events");
    let mut open = Vec::new();
    for _ in 0..4 {
        let stream = api
            .http
            .get(api.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("stream");
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
    let refusals = join_all((0..30).map(|_| api.get(&path, &token))).await;
    let mut waits = Vec::new();
    for refused in &refusals {
        tv_api_support::assert_retryable(
            refused,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
        );
        let wait = refused.json()["error"]["retryAfter"]
            .as_u64()
            .expect("retryAfter");
        assert!((5..=10).contains(&wait), "{wait}");
        waits.push(wait);
    }
    assert!(
        waits.iter().any(|wait| *wait != waits[0]),
        "not all the same: {waits:?}"
    );
}
