//! The activation storm: thousands of TVs show a code and wait on event streams while phones
//! complete activations at a steady rate through the site; with the memory each waiting TV and
//! each pending activation costs.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt as _};
use tokio::{
    sync::{Mutex, Notify},
    task::JoinHandle,
};

use crate::{
    drive::quantile,
    flows::{client_from, household, Phone, Tv},
    procs::Server,
    Row, Size,
};

/// TVs per loopback address: under the service's 10 registrations per address prefix.
const TVS_PER_HOUSEHOLD: usize = 8;
/// Registrations and activations started at once while setting up.
const SETUP_CONCURRENCY: usize = 64;

/// A TV waiting on its code.
struct Waiting {
    tv: Tv,
    code: String,
}

/// Registers `count` TVs and starts an activation on each.
async fn pending_tvs(base: &str, count: usize) -> Vec<Waiting> {
    stream::iter(0..count)
        .map(|n| async move {
            let http = client_from(household(10 + n / TVS_PER_HOUSEHOLD));
            let tv = Tv::register(http, base, &format!("storm-tv-{n}")).await?;
            let code = tv.start_activation(base).await?;
            Ok::<_, String>(Waiting { tv, code })
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .filter_map(|waiting| async move {
            waiting
                .map_err(|failure| eprintln!("setting up a TV failed: {failure}"))
                .ok()
        })
        .collect()
        .await
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Bytes per item between two RSS readings.
fn slope(before: u64, after: u64, items: usize) -> f64 {
    after.saturating_sub(before) as f64 / items.max(1) as f64
}

/// When each code's TV learned it was signed in.
type Seen = Arc<Mutex<HashMap<String, Instant>>>;

/// Opens every TV's event stream; each stream's task notes when it says `authenticated`.
async fn follow_all(base: &str, tvs: &[Waiting], seen: &Seen) -> (Vec<JoinHandle<()>>, u64) {
    let opened: Vec<_> = stream::iter(tvs)
        .map(|waiting| async move {
            waiting
                .tv
                .follow(base, &waiting.code)
                .await
                .map(|stream| (waiting.code.clone(), stream))
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let mut followers = Vec::new();
    let mut errors = 0;
    for opened in opened {
        match opened {
            Ok((code, stream)) => {
                let seen = seen.clone();
                followers.push(tokio::spawn(async move {
                    if stream.authenticated().await.is_ok() {
                        seen.lock().await.insert(code, Instant::now());
                    }
                }));
            }
            Err(failure) => {
                eprintln!("opening an event stream failed: {failure}");
                errors += 1;
            }
        }
    }
    (followers, errors)
}

/// Phones complete `codes` at `per_second` through the site; gives when each viewer's sign-in
/// at the provider answered, and the failures.
async fn complete_at(
    base: &str,
    codes: Vec<String>,
    per_second: u32,
) -> (HashMap<String, Instant>, u64) {
    let mut every = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    let mut phones = Vec::new();
    for (n, code) in codes.into_iter().enumerate() {
        every.tick().await;
        let base = base.to_owned();
        phones.push(tokio::spawn(async move {
            let mut phone = Phone::new(client_from(household(50_000 + n)), &base);
            let signed_in = phone.activate(&code, "Spectrum").await;
            (code, signed_in)
        }));
    }
    let mut done = HashMap::new();
    let mut errors = 0;
    for phone in phones {
        match phone.await {
            Ok((code, Ok(at))) => {
                done.insert(code, at);
            }
            Ok((_, Err(failure))) => {
                eprintln!("a phone failed: {failure}");
                errors += 1;
            }
            Err(_) => errors += 1,
        }
    }
    (done, errors)
}

/// Samples the service's RSS until told to stop; gives the highest reading.
fn sample_peak(
    service_pid_rss: impl Fn() -> u64 + Send + 'static,
) -> (JoinHandle<u64>, Arc<Notify>) {
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(service_pid_rss());
            tokio::select! {
                () = stopped.notified() => return peak,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    });
    (sampler, stop)
}

pub async fn run(service: &Server, size: Size) -> Vec<Row> {
    let base = service.base_url.clone();
    let started_rss = service.rss_bytes();
    let tvs = pending_tvs(&base, size.waiting_tvs).await;
    let mut errors = (size.waiting_tvs - tvs.len()) as u64;
    let pending_rss = service.rss_bytes();

    let seen: Seen = Arc::default();
    let (followers, failed) = follow_all(&base, &tvs, &seen).await;
    errors += failed;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let waiting_rss = service.rss_bytes();

    let planned = (u64::from(size.activations_per_second) * size.storm_seconds) as usize;
    let codes: Vec<String> = tvs.iter().take(planned).map(|w| w.code.clone()).collect();
    let completing = codes.len();
    let (sampler, stop) = sample_peak({
        let rss = service.rss_reader();
        move || rss()
    });
    let storm_started = Instant::now();
    let (done, failed) = complete_at(&base, codes, size.activations_per_second).await;
    let storm_seconds = storm_started.elapsed().as_secs_f64();
    errors += failed;
    // Every TV whose phone finished learns within a few seconds, or it counts as an error.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let seen = seen.lock().await;
        if done.keys().all(|code| seen.contains_key(code)) {
            break;
        }
        drop(seen);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.notify_one();
    let peak_rss = sampler.await.unwrap_or(0).max(waiting_rss);
    let seen = seen.lock().await.clone();
    let mut learned: Vec<Duration> = Vec::new();
    for (code, finished) in &done {
        match seen.get(code) {
            Some(at) => learned.push(at.saturating_duration_since(*finished)),
            None => errors += 1,
        }
    }
    learned.sort_unstable();
    for follower in followers {
        follower.abort();
    }
    drop(tvs);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = quantile(&learned, 0.99);
    let achieved = done.len() as f64 / storm_seconds.max(f64::EPSILON);
    vec![
        Row {
            scenario: "activation storm: TVs on event streams while phones complete activations",
            figure: format!(
                "{} TVs waiting, {completing} activations at {achieved:.0}/s, TV learns p50 {:.1} ms p99 {:.1} ms, peak RSS {:.0} MB, {errors} errors",
                size.waiting_tvs,
                ms(quantile(&learned, 0.5)),
                ms(p99),
                megabytes(peak_rss)
            ),
            ceiling: format!("{} activations/s asked", size.activations_per_second),
            goal: "0 errors, p99 ≤ 1 s, RSS ≤ 200 MB",
            met: errors == 0
                && p99 <= Duration::from_secs(1)
                && megabytes(peak_rss) <= 200.0
                && achieved >= f64::from(size.activations_per_second) * 0.95,
            errors,
        },
        Row {
            scenario: "memory per registered TV with a pending code (RSS slope)",
            figure: format!(
                "{:.1} KB ({:.0} → {:.0} MB)",
                slope(started_rss, pending_rss, size.waiting_tvs) / 1024.0,
                megabytes(started_rss),
                megabytes(pending_rss)
            ),
            ceiling: "–".to_owned(),
            goal: "–",
            met: true,
            errors: 0,
        },
        Row {
            scenario: "memory per TV waiting on an event stream (RSS slope)",
            figure: format!(
                "{:.1} KB ({:.0} → {:.0} MB)",
                slope(pending_rss, waiting_rss, size.waiting_tvs) / 1024.0,
                megabytes(pending_rss),
                megabytes(waiting_rss)
            ),
            ceiling: "–".to_owned(),
            goal: "–",
            met: true,
            errors: 0,
        },
    ]
}
