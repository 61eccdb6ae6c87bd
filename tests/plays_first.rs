//! Plays first within Adobe's pace for one address (issue 22, item 4): the client against a
//! throttling emulator whose every request is recorded, with Adobe's shape (a one-time burst of
//! 10, then one call a second per address).

mod adobe_pass_support;

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use adobe_pass_support::{client_with, device_at, settings};
use axum::{extract::Request, middleware::Next, response::Response};
use reqwest::StatusCode;
use tokio::net::TcpListener;
use tve_activate::{
    adobe_pass::{AdobePass, AdobePassError, Endpoint, Outcome},
    emulator::{self, EmulatorSettings},
};

/// What the emulator received: when, the path, and the device IP it was made for.
#[derive(Clone, Debug)]
struct Call {
    at: Instant,
    path: String,
    from: String,
}

type Calls = Arc<Mutex<Vec<Call>>>;

/// A throttling emulator that records every request, and a client of it with Adobe's pace.
async fn recorded() -> (AdobePass, Calls, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let emulated = EmulatorSettings {
        throttling: true,
        ..EmulatorSettings::default()
    };
    let state = emulator::state(&emulated, &base_url).expect("state");
    let calls = Calls::default();
    let recording = calls.clone();
    let app = emulator::router(state).layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let recording = recording.clone();
            async move {
                let from = request
                    .headers()
                    .get("x-forwarded-for")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                recording.lock().expect("calls").push(Call {
                    at: Instant::now(),
                    path: request.uri().path().to_owned(),
                    from,
                });
                let response: Response = next.run(request).await;
                response
            }
        },
    ));
    tokio::spawn(tve_activate::serve(listener, app, std::future::pending()));
    let client_settings = settings(&base_url, &emulated.software_statement);
    let adobe = client_with(client_settings, tve_activate::clock::SystemClock::shared()).0;
    (adobe, calls, base_url)
}

fn from(calls: &Calls, ip: &str) -> Vec<Call> {
    calls
        .lock()
        .expect("calls")
        .iter()
        .filter(|call| call.from == ip)
        .cloned()
        .collect()
}

fn throttled_by_adobe(adobe: &AdobePass) -> u64 {
    Endpoint::ALL
        .iter()
        .map(|endpoint| adobe.metrics().count(*endpoint, Outcome::Throttled))
        .sum()
}

/// Registers `id` and fetches its token from an address of its own, as when it was set up.
async fn set_up(adobe: &AdobePass, id: &str, n: usize) {
    let own = device_at(id, &format!("198.51.{}.{}:40000", n / 200, n % 200 + 1));
    adobe.profiles(&own).await.expect("set up");
}

const HOME: &str = "203.0.113.80";

#[tokio::test]
async fn forty_plays_go_before_forty_profile_refreshes_at_one_call_a_second() {
    let (adobe, calls, _) = recorded().await;
    let players: Vec<String> = (0..40).map(|n| format!("tv-play-{n}")).collect();
    let readers: Vec<String> = (0..40).map(|n| format!("tv-profile-{n}")).collect();
    let mut setups = tokio::task::JoinSet::new();
    for (n, id) in players.iter().chain(&readers).enumerate() {
        let (adobe, id) = (adobe.clone(), id.clone());
        setups.spawn(async move { set_up(&adobe, &id, n).await });
    }
    setups.join_all().await;
    let at_home = |id: &str| device_at(id, &format!("{HOME}:50000"));
    // The household spent its burst already (10 calls).
    for id in &players[..10] {
        adobe
            .configuration(&at_home(id), None)
            .await
            .expect("within the burst");
    }

    let started = Instant::now();
    let mut plays = tokio::task::JoinSet::new();
    let mut reads = tokio::task::JoinSet::new();
    for (player, reader) in players.iter().zip(&readers) {
        let (adobe_a, tv) = (adobe.clone(), at_home(player));
        plays.spawn(async move {
            adobe_a
                .authorize(&tv, "Cablevision", &["REF30".to_owned()])
                .await
                .err()
        });
        let (adobe_b, tv) = (adobe.clone(), at_home(reader));
        reads.spawn(async move { adobe_b.profiles(&tv).await.err() });
        tokio::task::yield_now().await;
    }
    let plays = plays.join_all().await;
    let reads = reads.join_all().await;
    let took = started.elapsed();

    let seen = from(&calls, HOME);
    let after_burst = &seen[10..];
    let plays_seen: Vec<usize> = (0..after_burst.len())
        .filter(|at| after_burst[*at].path.contains("/decisions/authorize/"))
        .collect();
    let reads_seen: Vec<usize> = (0..after_burst.len())
        .filter(|at| after_burst[*at].path.ends_with("/profiles"))
        .collect();
    let paths: Vec<&str> = after_burst.iter().map(|call| call.path.as_str()).collect();
    assert!(plays_seen.len() >= 4, "the waiting plays went: {paths:?}");
    if let (Some(last_play), Some(first_read)) = (plays_seen.last(), reads_seen.first()) {
        assert!(last_play < first_read, "a profile before a play: {paths:?}");
    }
    assert_eq!(
        plays_seen.len() + reads_seen.len(),
        after_burst.len(),
        "nothing else from the household: {paths:?}"
    );
    for pair in after_burst.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(950),
            "{gap:?} apart: {paths:?}"
        );
    }
    assert_eq!(throttled_by_adobe(&adobe), 0, "Adobe never had to say 429");

    let mut hints = Vec::new();
    for error in plays.iter().chain(&reads).flatten() {
        match error {
            AdobePassError::RateLimited { retry_after, .. } => hints.push(*retry_after),
            // A play of a TV with no profile is refused by Adobe: it went out.
            AdobePassError::Adobe { .. } => {}
            other => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(hints.len(), 80 - plays_seen.len() - reads_seen.len());
    let mut distinct = hints.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() * 2 >= hints.len(),
        "refused calls are told different turns: {hints:?}"
    );
    assert!(
        hints.iter().all(|hint| *hint > Duration::from_secs(5)),
        "{hints:?}"
    );
    println!(
        "{} plays and {} profile reads went in {took:?}; {} refused, told {:?} to {:?}",
        plays_seen.len(),
        reads_seen.len(),
        hints.len(),
        distinct.first(),
        distinct.last()
    );
}

#[tokio::test]
async fn a_phone_sent_to_adobe_leaves_room_for_its_browser() {
    let (adobe, _, _) = recorded().await;
    let home: IpAddr = "203.0.113.90".parse().expect("ip");
    let tv = device_at("tv-at-home", &format!("{home}:50000"));
    // Registration, a token and 6 profile reads: 8 of the household's 10.
    for _ in 0..6 {
        adobe.profiles(&tv).await.expect("within the burst");
    }
    let url = adobe.send_browser(home, "ABC1234").await.expect("url");

    // The TV goes on reading while the viewer's browser opens Adobe's page.
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (adobe, tv) = (adobe.clone(), tv.clone());
        reads.spawn(async move { adobe.profiles(&tv).await.map(|_| ()) });
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let open = |url: reqwest::Url| {
        browser
            .get(url)
            .header("x-forwarded-for", home.to_string())
            .send()
    };
    let first = open(url.clone()).await.expect("answer");
    assert_ne!(first.status(), StatusCode::TOO_MANY_REQUESTS, "the page");
    for read in reads.join_all().await {
        read.expect("the TV's reads wait their turn");
    }
    // Back from the MVPD.
    let back = open(url).await.expect("answer");
    assert_ne!(back.status(), StatusCode::TOO_MANY_REQUESTS, "the return");
    assert_eq!(throttled_by_adobe(&adobe), 0);
}
