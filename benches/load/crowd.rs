//! A crowd of addresses against one node with the production meters (security review, finding
//! 3): one device token starts activations from tens of thousands of distinct addresses, each
//! request on a connection of its own, while a TV elsewhere plays. The plays' p99 stands beside
//! the same plays' p99 alone, measured just before; the node's memory is read before and after.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt as _};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpSocket,
};

use crate::{
    drive::closed_loop,
    flows::{client_from, household, Tv},
    procs::{self, megabytes, Limits},
    rate, Row, Size,
};

/// Crowd requests in flight at once: enough to keep the node busy refusing, few enough that
/// the 2-core machine is not simply out of CPU for everyone.
const CROWD_IN_FLIGHT: usize = 8;
/// Connections of the plays.
const PLAYERS: usize = 4;

/// How the crowd's requests were answered.
#[derive(Default)]
struct Answers {
    admitted: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
}

pub async fn run(size: Size) -> Row {
    let data = tempfile::tempdir().expect("temporary folder");
    let emulator = procs::emulator(Duration::from_secs(1800)).await;
    let service = procs::service_with(
        &emulator,
        &procs::sqlite_in(data.path()),
        &crate::site_root(),
        Limits::Production,
    )
    .await;
    let base = service.base_url.clone();
    let tv = Tv::signed_in(&base, "crowd-player").await;
    let crowd_tv = Tv::register(client_from(household(2)), &base, "crowd-token")
        .await
        .expect("the crowd's device registers");

    let length = Duration::from_secs(size.rate_seconds);
    let plays = |tv: &Tv| {
        let (token, url) = (tv.token.clone(), format!("{base}/tv/v1/authorize"));
        closed_loop(PLAYERS, length, move |http| {
            http.post(&url)
                .bearer_auth(&token)
                .json(&json!({ "resource": "REF30" }))
        })
    };
    let quiet = plays(&tv).await;
    let rss_before = service.rss_bytes();
    let answers = Arc::new(Answers::default());
    let crowd = tokio::spawn(crowd(
        service_address(&base),
        crowd_tv.token.clone(),
        size.crowd_addresses,
        answers.clone(),
    ));
    let busy = plays(&tv).await;
    let crowd_seconds = crowd.await.expect("the crowd ran");
    let rss_after = service.rss_bytes();

    let (admitted, refused, other) = (
        answers.admitted.load(Ordering::Relaxed),
        answers.refused.load(Ordering::Relaxed),
        answers.other.load(Ordering::Relaxed),
    );
    let grown = megabytes(rss_after) - megabytes(rss_before);
    let ratio = busy.quantile_ms(0.99) / quiet.quantile_ms(0.99).max(f64::EPSILON);
    Row {
        scenario: "POST /tv/v1/authorize while one device token starts activations from a crowd of addresses",
        figure: format!(
            "{} ({ratio:.2}× the quiet p99); crowd: {} addresses in {crowd_seconds:.1} s, \
             {admitted} admitted, {refused} refused (429); RSS {:.0} → {:.0} MB",
            rate(&busy),
            admitted + refused + other,
            megabytes(rss_before),
            megabytes(rss_after),
        ),
        ceiling: format!("{} alone", rate(&quiet)),
        goal: "p99 ≤ 2× alone; RSS +≤ 50 MB",
        met: ratio <= 2.0 && grown <= 50.0 && busy.errors == 0,
        errors: busy.errors + quiet.errors + other,
    }
}

fn service_address(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .parse()
        .expect("the service's address")
}

/// Sends one activation start with `token` from each of `addresses` distinct loopback
/// addresses, a connection each; returns how long it took.
async fn crowd(service: SocketAddr, token: String, addresses: usize, answers: Arc<Answers>) -> f64 {
    let started = Instant::now();
    let request = format!(
        "POST /tv/v1/activations HTTP/1.1\r\nHost: {service}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream::iter(0..addresses)
        .for_each_concurrent(CROWD_IN_FLIGHT, |n| {
            let (request, answers) = (request.as_bytes(), answers.clone());
            async move {
                let counter = match status_from(household(1_000 + n), service, request).await {
                    Some(200 | 201) => &answers.admitted,
                    Some(429) => &answers.refused,
                    _ => &answers.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    started.elapsed().as_secs_f64()
}

/// The status of one HTTP/1.1 exchange from `source`, on a connection of its own.
async fn status_from(source: IpAddr, service: SocketAddr, request: &[u8]) -> Option<u16> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(source, 0)).ok()?;
    let mut stream = socket.connect(service).await.ok()?;
    stream.write_all(request).await.ok()?;
    let mut answer = Vec::with_capacity(512);
    stream.read_to_end(&mut answer).await.ok()?;
    let line = std::str::from_utf8(answer.split(|&b| b == b'\n').next()?).ok()?;
    line.split(' ').nth(1)?.parse().ok()
}
