//! The activation storm: thousands of TVs show a code and wait on event streams while phones
//! complete activations at a steady rate through the site; with the memory each waiting TV and
//! each pending activation costs. The same storm runs against several nodes (`nodes.rs`): TVs
//! are spread over them, and each phone reaches another node than its TV.

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
    procs::{megabytes, Server},
    Row, Size,
};

/// TVs per loopback address: under the service's 10 registrations per address prefix.
const TVS_PER_HOUSEHOLD: usize = 8;
/// Registrations and activations started at once while setting up.
const SETUP_CONCURRENCY: usize = 64;

/// How big a storm is.
#[derive(Clone, Copy, Debug)]
pub struct Spike {
    /// TVs waiting on event streams, spread over the nodes.
    pub waiting_tvs: usize,
    /// Activations completed per second, over every node.
    pub per_second: u32,
    /// How long phones keep completing activations.
    pub seconds: u64,
}

impl Spike {
    /// The storm of a run's size, on one node.
    pub fn of(size: Size) -> Self {
        Self {
            waiting_tvs: size.waiting_tvs,
            per_second: size.activations_per_second,
            seconds: size.storm_seconds,
        }
    }
}

/// What one node's process went through during a storm.
pub struct NodeReadings {
    /// Resident memory before the TVs came, in bytes.
    pub started_rss: u64,
    /// Resident memory with every TV registered and showing its code.
    pub pending_rss: u64,
    /// Resident memory with every TV on its event stream.
    pub waiting_rss: u64,
    /// The highest resident memory while phones completed activations.
    pub peak_rss: u64,
    /// CPU seconds (user and system) from the first phone until every TV learned, or gave up.
    pub busy_cpu_seconds: f64,
}

/// What a storm saw.
pub struct Outcome {
    /// Activations the phones set out to complete.
    pub completing: usize,
    /// Activations the phones completed.
    pub completed: usize,
    /// Completed activations per second of the phones' phase.
    pub achieved: f64,
    /// From each viewer's sign-in at the provider to its TV's event stream saying so, sorted.
    pub learned: Vec<Duration>,
    /// TVs that failed to set up or to learn, and phones that failed.
    pub errors: u64,
    /// In the order of the nodes given.
    pub nodes: Vec<NodeReadings>,
}

impl Outcome {
    /// The `q` quantile of the TVs' delays.
    pub fn learned_quantile(&self, q: f64) -> Duration {
        quantile(&self.learned, q)
    }
}

/// A TV waiting on its code, and the node it talks to.
struct Waiting {
    tv: Tv,
    code: String,
    node: usize,
}

/// The node the phone for a code shown by a TV on `tv_node` reaches: another one when there
/// are several, so the TV can learn of the sign-in only through what the nodes share.
fn phone_node(tv_node: usize, nodes: usize) -> usize {
    (tv_node + 1) % nodes.max(1)
}

/// Registers `count` TVs, taking turns over the nodes at `bases`, and starts an activation on
/// each; in turn order, so any first few TVs are spread evenly.
async fn pending_tvs(bases: &[String], count: usize) -> Vec<Waiting> {
    stream::iter(0..count)
        .map(|n| async move {
            let node = n % bases.len();
            let base = &bases[node];
            let http = client_from(household(10 + n / TVS_PER_HOUSEHOLD));
            let tv = Tv::register(http, base, &format!("storm-tv-{n}")).await?;
            let code = tv.start_activation(base).await?;
            Ok::<_, String>(Waiting { tv, code, node })
        })
        .buffered(SETUP_CONCURRENCY)
        .filter_map(|waiting| async move {
            waiting
                .map_err(|failure| eprintln!("setting up a TV failed: {failure}"))
                .ok()
        })
        .collect()
        .await
}

/// Bytes per item between two RSS readings.
fn slope(before: u64, after: u64, items: usize) -> f64 {
    after.saturating_sub(before) as f64 / items.max(1) as f64
}

/// When each code's TV learned it was signed in.
type Seen = Arc<Mutex<HashMap<String, Instant>>>;

/// Opens every TV's event stream on its node; each stream's task notes when it says
/// `authenticated`.
async fn follow_all(bases: &[String], tvs: &[Waiting], seen: &Seen) -> (Vec<JoinHandle<()>>, u64) {
    let opened: Vec<_> = stream::iter(tvs)
        .map(|waiting| async move {
            waiting
                .tv
                .follow(&bases[waiting.node], &waiting.code)
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

/// Phones complete `codes` (each with the node its phone reaches) at `per_second` through the
/// site; gives when each viewer's sign-in at the provider answered, and the failures.
async fn complete_at(
    bases: &[String],
    codes: Vec<(String, usize)>,
    per_second: u32,
) -> (HashMap<String, Instant>, u64) {
    let mut every = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    let mut phones = Vec::new();
    for (n, (code, node)) in codes.into_iter().enumerate() {
        every.tick().await;
        let base = bases[node].clone();
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

/// Samples each node's RSS until told to stop; gives each node's highest reading.
fn sample_peaks<F>(readers: Vec<F>) -> (JoinHandle<Vec<u64>>, Arc<Notify>)
where
    F: Fn() -> u64 + Send + 'static,
{
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let sampler = tokio::spawn(async move {
        let mut peaks = vec![0; readers.len()];
        loop {
            for (peak, rss) in peaks.iter_mut().zip(&readers) {
                *peak = (*peak).max(rss());
            }
            tokio::select! {
                () = stopped.notified() => return peaks,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    });
    (sampler, stop)
}

/// Runs `spike` against `nodes` (one, or several sharing their state).
pub async fn storm(nodes: &[Server], spike: Spike) -> Outcome {
    let bases: Vec<String> = nodes.iter().map(|node| node.base_url.clone()).collect();
    let rss = || nodes.iter().map(Server::rss_bytes).collect::<Vec<_>>();
    let started_rss = rss();
    let tvs = pending_tvs(&bases, spike.waiting_tvs).await;
    let mut errors = (spike.waiting_tvs - tvs.len()) as u64;
    let pending_rss = rss();

    let seen: Seen = Arc::default();
    let (followers, failed) = follow_all(&bases, &tvs, &seen).await;
    errors += failed;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let waiting_rss = rss();

    let planned = (u64::from(spike.per_second) * spike.seconds) as usize;
    let codes: Vec<(String, usize)> = tvs
        .iter()
        .take(planned)
        .map(|w| (w.code.clone(), phone_node(w.node, bases.len())))
        .collect();
    let completing = codes.len();
    let (sampler, stop) = sample_peaks(nodes.iter().map(Server::rss_reader).collect());
    let cpu = || nodes.iter().map(Server::cpu_seconds).collect::<Vec<_>>();
    let cpu_before = cpu();
    let storm_started = Instant::now();
    let (done, failed) = complete_at(&bases, codes, spike.per_second).await;
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
    let cpu_after = cpu();
    stop.notify_one();
    let peak_rss = sampler.await.unwrap_or_default();
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

    let nodes = (0..nodes.len())
        .map(|n| NodeReadings {
            started_rss: started_rss[n],
            pending_rss: pending_rss[n],
            waiting_rss: waiting_rss[n],
            peak_rss: peak_rss.get(n).copied().unwrap_or(0).max(waiting_rss[n]),
            busy_cpu_seconds: cpu_after[n] - cpu_before[n],
        })
        .collect();
    Outcome {
        completing,
        completed: done.len(),
        achieved: done.len() as f64 / storm_seconds.max(f64::EPSILON),
        learned,
        errors,
        nodes,
    }
}

/// The storm against the one node `service`: its row, and its memory per TV.
pub async fn run(service: &Server, size: Size) -> Vec<Row> {
    let spike = Spike::of(size);
    let outcome = storm(std::slice::from_ref(service), spike).await;
    let (completing, achieved, errors) = (outcome.completing, outcome.achieved, outcome.errors);
    let node = outcome.nodes.first().expect("the node's readings");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = outcome.learned_quantile(0.99);
    vec![
        Row {
            scenario: "activation storm: TVs on event streams while phones complete activations",
            figure: format!(
                "{} TVs waiting, {completing} activations at {achieved:.0}/s, TV learns p50 {:.1} ms p99 {:.1} ms, peak RSS {:.0} MB, {errors} errors",
                spike.waiting_tvs,
                ms(outcome.learned_quantile(0.5)),
                ms(p99),
                megabytes(node.peak_rss)
            ),
            ceiling: format!("{} activations/s asked", spike.per_second),
            goal: "0 errors, p99 ≤ 1 s, RSS ≤ 200 MB",
            met: errors == 0
                && p99 <= Duration::from_secs(1)
                && megabytes(node.peak_rss) <= 200.0
                && achieved >= f64::from(spike.per_second) * 0.95,
            errors,
        },
        Row {
            scenario: "memory per registered TV with a pending code (RSS slope)",
            figure: format!(
                "{:.1} KB ({:.0} → {:.0} MB)",
                slope(node.started_rss, node.pending_rss, spike.waiting_tvs) / 1024.0,
                megabytes(node.started_rss),
                megabytes(node.pending_rss)
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
                slope(node.pending_rss, node.waiting_rss, spike.waiting_tvs) / 1024.0,
                megabytes(node.pending_rss),
                megabytes(node.waiting_rss)
            ),
            ceiling: "–".to_owned(),
            goal: "–",
            met: true,
            errors: 0,
        },
    ]
}
