//! Game night (`make gameday`, docs/gameday.md): an arrival curve against two nodes sharing
//! PostgreSQL and Redis, in front of an emulator that throttles as Adobe does (one call a
//! second per device IP after a one-time burst of 10), the nodes pacing each device IP as in
//! production. Before the game, TVs sign in (most alone on their address, some households behind
//! one shared address, as behind a carrier's NAT) and others wait on a code screen. Then phases:
//! new TVs register and activate through the phone's path (each phone on the other node than
//! its TV), signed-in TVs refresh their profile and press play, at rates that ramp to a kickoff,
//! ease, rise again at half-time, and end in an exit storm (a share of the TVs log out at once
//! and every code screen closes its event stream). Every TV honours `retryAfter` as
//! docs/tv-api.md asks. Each SLO is printed against its goal; any missed fails the run.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt as _};
use reqwest::{header::RETRY_AFTER, StatusCode};
use serde_json::{json, Value};
use tokio::task::{JoinHandle, JoinSet};

use crate::{
    drive::quantile,
    flows::{client_from, device_info, household, BareDevice, Phone, Tv},
    nodes::{shared_servers, Deployment},
    procs::{self, Limits, Server},
    soak::gauge,
};

/// How a game night goes: who is there before it, and its phases in order.
#[derive(Clone, Debug)]
pub struct Curve {
    /// TVs signed in before the game; they refresh their profile and press play.
    pub signed_in_tvs: usize,
    /// Addresses shared by several households (a carrier's NAT), among the signed-in TVs.
    pub shared_addresses: usize,
    /// Signed-in TVs behind each shared address.
    pub tvs_per_shared_address: usize,
    /// TVs on the code screen through the game, their event streams open until the exit storm.
    pub lingering_tvs: usize,
    /// Signed-in TVs that log out at once when the exit storm opens.
    pub exit_logouts: usize,
    pub phases: Vec<Phase>,
}

/// A stretch of the game with arrival rates that move linearly from its start to its end.
#[derive(Clone, Copy, Debug)]
pub struct Phase {
    pub name: &'static str,
    pub seconds: f64,
    /// New TVs registering and activating per second, at the start and at the end.
    pub activations: (f64, f64),
    /// Signed-in TVs refreshing their profile and pressing play per second, start and end.
    pub plays: (f64, f64),
    /// Whether the exit storm opens the phase.
    pub exit: bool,
}

impl Phase {
    const fn new(
        name: &'static str,
        seconds: f64,
        activations: (f64, f64),
        plays: (f64, f64),
    ) -> Self {
        Self {
            name,
            seconds,
            activations,
            plays,
            exit: false,
        }
    }
}

impl Curve {
    /// `make gameday`: a few minutes.
    pub fn full() -> Self {
        Self {
            signed_in_tvs: 600,
            shared_addresses: 10,
            tvs_per_shared_address: 6,
            lingering_tvs: 1_000,
            exit_logouts: 200,
            phases: vec![
                Phase::new("ramp to kickoff", 60.0, (1.0, 10.0), (2.0, 10.0)),
                Phase::new("kickoff", 15.0, (20.0, 20.0), (40.0, 40.0)),
                Phase::new("first half", 40.0, (3.0, 3.0), (5.0, 5.0)),
                Phase::new("half-time", 20.0, (15.0, 15.0), (30.0, 30.0)),
                Phase {
                    exit: true,
                    ..Phase::new("exit storm", 10.0, (2.0, 2.0), (5.0, 5.0))
                },
            ],
        }
    }

    /// `make test`: the same shape in under a minute.
    pub fn short() -> Self {
        Self {
            signed_in_tvs: 60,
            shared_addresses: 2,
            tvs_per_shared_address: 3,
            lingering_tvs: 100,
            exit_logouts: 20,
            phases: vec![
                Phase::new("ramp to kickoff", 8.0, (1.0, 4.0), (1.0, 5.0)),
                Phase::new("kickoff", 5.0, (8.0, 8.0), (15.0, 15.0)),
                Phase::new("first half", 4.0, (1.0, 1.0), (3.0, 3.0)),
                Phase::new("half-time", 5.0, (5.0, 5.0), (10.0, 10.0)),
                Phase {
                    exit: true,
                    ..Phase::new("exit storm", 4.0, (1.0, 1.0), (3.0, 3.0))
                },
            ],
        }
    }

    /// The same curve with every crowd and rate times `scale` and every phase `stretch` times
    /// as long (`--scale`, `--stretch`).
    pub fn scaled(mut self, scale: f64, stretch: f64) -> Self {
        let times = |n: usize| (n as f64 * scale).round() as usize;
        self.signed_in_tvs = times(self.signed_in_tvs);
        self.shared_addresses = times(self.shared_addresses);
        self.lingering_tvs = times(self.lingering_tvs);
        self.exit_logouts = times(self.exit_logouts);
        for phase in &mut self.phases {
            phase.seconds *= stretch;
            phase.activations = (phase.activations.0 * scale, phase.activations.1 * scale);
            phase.plays = (phase.plays.0 * scale, phase.plays.1 * scale);
        }
        self
    }

    /// TVs behind shared addresses, the first of the signed-in TVs.
    fn shared_tvs(&self) -> usize {
        (self.shared_addresses * self.tvs_per_shared_address).min(self.signed_in_tvs)
    }

    fn describe(&self) -> String {
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|p| {
                format!(
                    "{} {:.0} s ({:.0}→{:.0} activations/s, {:.0}→{:.0} plays/s)",
                    p.name, p.seconds, p.activations.0, p.activations.1, p.plays.0, p.plays.1
                )
            })
            .collect();
        format!(
            "{} TVs signed in before the game ({} behind {} shared addresses), {} on the code \
             screen until the exit storm, {} logging out at once then; {}",
            self.signed_in_tvs,
            self.shared_tvs(),
            self.shared_addresses,
            self.lingering_tvs,
            self.exit_logouts,
            phases.join(", ")
        )
    }
}

/// Each kind of request the TVs and phones send, tallied apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Registration,
    ActivationStart,
    EventStream,
    /// A new TV's whole activation, from its registration to its event stream saying it is
    /// signed in.
    Activation,
    Profile,
    /// A play by a TV alone on its address.
    Play,
    /// A play by a TV behind a shared address.
    SharedPlay,
    Logout,
}

/// What the answers of one kind were.
#[derive(Default)]
struct Tally {
    /// Requests answered 2xx, and their latencies.
    latencies: Vec<Duration>,
    /// 429 and 503 answers, and how many of them carried a `retryAfter`.
    retryable: u64,
    told_when: u64,
    /// 5xx answers other than a 503 with `retryAfter`.
    other_5xx: u64,
    /// Requests that got no answer.
    broken: u64,
    /// Flows (a request with its retries, or a whole activation) that ended well or not.
    succeeded: u64,
    failed: u64,
}

/// Everything a run saw.
#[derive(Default)]
struct Ledger {
    tallies: Mutex<HashMap<Kind, Tally>>,
    /// From each viewer's sign-in at the provider to its TV's event stream saying so.
    learned: Mutex<Vec<Duration>>,
    /// Event streams the game's new TVs hold open now.
    following: AtomicUsize,
}

/// One of the new TVs' open event streams, counted in [`Ledger::following`] while held.
struct Following<'a>(&'a AtomicUsize);

impl<'a> Following<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Following<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many times a TV sends a request that is answered 429 or 503.
const ATTEMPTS: usize = 4;
/// How long a TV whose viewer signed in waits for its event stream to say so.
const LEARN_WITHIN: Duration = Duration::from_secs(30);
/// Set-up work started at once.
const SETUP_CONCURRENCY: usize = 32;
/// Lingering TVs per household address: their registrations and codes stay within Adobe's burst.
const LINGERING_PER_ADDRESS: usize = 2;
/// How often the emulator's own D2 is timed: under Adobe's 1 call per second.
const PROBE_EVERY: Duration = Duration::from_millis(1_200);

// Household numbers (`flows::household`) of each crowd, apart.
const SHARED_BASE: usize = 100;
const SIGNED_IN_BASE: usize = 1_000;
const LINGERING_BASE: usize = 10_000;
const NEW_BASE: usize = 20_000;
const SETUP_PHONE_BASE: usize = 30_000;
const PHONE_BASE: usize = 40_000;
const PROBE_HOUSEHOLD: usize = 60_000;

impl Ledger {
    fn with<T>(&self, kind: Kind, f: impl FnOnce(&mut Tally) -> T) -> T {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        f(tallies.entry(kind).or_default())
    }

    fn ended(&self, kind: Kind, well: bool) {
        self.with(kind, |t| {
            if well {
                t.succeeded += 1;
            } else {
                t.failed += 1;
            }
        });
    }

    /// A request of `kind` sent by `send`, again after each 429 or 503 as its `retryAfter`
    /// asks (a second when it gives none), up to [`ATTEMPTS`] times; its JSON when answered
    /// 2xx. Notes every answer; the caller notes whether the flow ended well.
    async fn call(&self, kind: Kind, send: impl Fn() -> reqwest::RequestBuilder) -> Option<Value> {
        for attempt in 1..=ATTEMPTS {
            let sent = Instant::now();
            let answer = match send().send().await {
                Ok(answer) => answer,
                Err(error) => {
                    eprintln!("{kind:?}: no answer: {error}");
                    self.with(kind, |t| t.broken += 1);
                    break;
                }
            };
            let status = answer.status();
            let header = answer
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = answer.bytes().await.unwrap_or_default();
            let latency = sent.elapsed();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if status.is_success() {
                self.with(kind, |t| t.latencies.push(latency));
                return Some(body);
            }
            let retry_after = body["error"]["retryAfter"].as_u64().or(header);
            let retryable = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            self.with(kind, |t| {
                if retryable {
                    t.retryable += 1;
                    t.told_when += u64::from(retry_after.is_some());
                }
                if status.is_server_error()
                    && !(status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some())
                {
                    t.other_5xx += 1;
                }
            });
            if !retryable || attempt == ATTEMPTS {
                eprintln!("{kind:?}: {status} {body} (attempt {attempt})");
                break;
            }
            let jitter = Duration::from_millis(rand::random_range(0..250));
            tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1)) + jitter).await;
        }
        None
    }
}

/// A TV of the run: its client, token and node.
struct Viewer {
    tv: Tv,
    node: usize,
    /// Behind a shared address.
    shared: bool,
}

/// The nodes the TVs and phones reach.
struct Cluster {
    bases: Vec<String>,
}

impl Cluster {
    fn base(&self, node: usize) -> &str {
        &self.bases[node % self.bases.len()]
    }

    /// Registers `device_id` from `source` on `node`.
    async fn register(
        &self,
        ledger: &Ledger,
        source: IpAddr,
        node: usize,
        device_id: &str,
    ) -> Option<Viewer> {
        let http = client_from(source);
        let url = format!("{}/tv/v1/devices", self.base(node));
        let body = json!({ "deviceId": device_id, "deviceInfo": device_info() });
        let answer = ledger
            .call(Kind::Registration, || http.post(&url).json(&body))
            .await;
        let token = answer.as_ref().and_then(|a| a["deviceToken"].as_str());
        ledger.ended(Kind::Registration, token.is_some());
        let token = token?.to_owned();
        Some(Viewer {
            tv: Tv { http, token },
            node,
            shared: false,
        })
    }

    /// Starts an activation on the viewer's node; its code.
    async fn start(&self, ledger: &Ledger, viewer: &Viewer) -> Option<String> {
        let url = format!("{}/tv/v1/activations", self.base(viewer.node));
        let answer = ledger
            .call(Kind::ActivationStart, || {
                viewer
                    .tv
                    .http
                    .post(&url)
                    .bearer_auth(&viewer.tv.token)
                    .json(&json!({}))
            })
            .await;
        let code = answer.and_then(|a| a["code"].as_str().map(str::to_owned));
        ledger.ended(Kind::ActivationStart, code.is_some());
        code
    }

    /// A new TV's whole activation: registration, a code, its event stream, and a phone (on the
    /// other node) signing the viewer in, noting how long the TV took to learn of it. Gives the
    /// signed-in TV.
    async fn activate(
        &self,
        ledger: &Ledger,
        source: IpAddr,
        phone_from: IpAddr,
        node: usize,
        device_id: &str,
    ) -> Option<Viewer> {
        let activated = self
            .activation(ledger, source, phone_from, node, device_id)
            .await;
        ledger.ended(Kind::Activation, activated.is_some());
        activated
    }

    async fn activation(
        &self,
        ledger: &Ledger,
        source: IpAddr,
        phone_from: IpAddr,
        node: usize,
        device_id: &str,
    ) -> Option<Viewer> {
        let viewer = self.register(ledger, source, node, device_id).await?;
        let code = self.start(ledger, &viewer).await?;
        let events = match viewer.tv.follow(self.base(node), &code).await {
            Ok(events) => {
                ledger.ended(Kind::EventStream, true);
                events
            }
            Err(failure) => {
                eprintln!("{failure}");
                ledger.ended(Kind::EventStream, false);
                return None;
            }
        };
        let _following = Following::new(&ledger.following);
        let learning = async {
            tokio::time::timeout(LEARN_WITHIN, events.authenticated())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|()| Instant::now())
        };
        let mut phone = Phone::new(client_from(phone_from), self.base(node + 1));
        let signing_in = async move { phone.activate(&code, "Spectrum").await };
        tokio::pin!(learning, signing_in);
        // The TV reads its stream while the phone goes through the site.
        let mut learned = None;
        let signed_in = loop {
            tokio::select! {
                at = &mut learning, if learned.is_none() => learned = Some(at),
                signed_in = &mut signing_in => break signed_in,
            }
        };
        let signed_in = match signed_in {
            Ok(at) => at,
            Err(failure) => {
                eprintln!("a phone failed: {failure}");
                return None;
            }
        };
        let learned = match learned {
            Some(learned) => learned,
            None => learning.await,
        };
        let Some(learned) = learned else {
            eprintln!("a TV did not learn of its sign-in within {LEARN_WITHIN:?}");
            return None;
        };
        ledger
            .learned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(learned.saturating_duration_since(signed_in));
        Some(viewer)
    }

    /// The viewer's TV refreshes its profile and presses play.
    async fn play(&self, ledger: &Ledger, viewer: &Viewer) {
        let base = self.base(viewer.node);
        let (url, tv) = (format!("{base}/tv/v1/profile"), &viewer.tv);
        let profile = ledger
            .call(Kind::Profile, || tv.http.get(&url).bearer_auth(&tv.token))
            .await;
        ledger.ended(Kind::Profile, profile.is_some());
        let url = format!("{base}/tv/v1/authorize");
        let kind = if viewer.shared {
            Kind::SharedPlay
        } else {
            Kind::Play
        };
        let answer = ledger
            .call(kind, || {
                tv.http
                    .post(&url)
                    .bearer_auth(&tv.token)
                    .json(&json!({ "resource": "REF30" }))
            })
            .await;
        let permitted = answer.is_some_and(|answer| {
            let permit = answer["decision"] == "permit";
            if !permit {
                eprintln!("a play was denied: {answer}");
            }
            permit
        });
        ledger.ended(kind, permitted);
    }

    /// The viewer's TV logs out.
    async fn log_out(&self, ledger: &Ledger, viewer: &Viewer) {
        let url = format!("{}/tv/v1/logout", self.base(viewer.node));
        let tv = &viewer.tv;
        let answer = ledger
            .call(Kind::Logout, || tv.http.post(&url).bearer_auth(&tv.token))
            .await;
        ledger.ended(Kind::Logout, answer.is_some());
    }
}

/// Where the signed-in TV `n` calls from: the first few share addresses.
fn signed_in_source(curve: &Curve, n: usize) -> IpAddr {
    if n < curve.shared_tvs() {
        household(SHARED_BASE + n / curve.tvs_per_shared_address.max(1))
    } else {
        household(SIGNED_IN_BASE + n)
    }
}

/// Before the game: the signed-in TVs (through the same activation as the game's new TVs, on a
/// ledger of their own) and the lingering TVs on their code screens.
async fn before_the_game(
    cluster: &Arc<Cluster>,
    curve: &Curve,
) -> (Vec<Viewer>, Vec<JoinHandle<()>>, Ledger) {
    let ledger = Ledger::default();
    let signed_in = stream::iter(0..curve.signed_in_tvs)
        .map(|n| {
            let (cluster, ledger) = (cluster.clone(), &ledger);
            async move {
                let source = signed_in_source(curve, n);
                let phone = household(SETUP_PHONE_BASE + n);
                let viewer = cluster
                    .activate(ledger, source, phone, n, &format!("gameday-tv-{n}"))
                    .await;
                viewer.map(|v| Viewer {
                    shared: n < curve.shared_tvs(),
                    ..v
                })
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .filter_map(|viewer| async move { viewer })
        .collect::<Vec<_>>();
    let lingering = stream::iter(0..curve.lingering_tvs)
        .map(|n| {
            let (cluster, ledger) = (cluster.clone(), &ledger);
            async move {
                let source = household(LINGERING_BASE + n / LINGERING_PER_ADDRESS);
                let viewer = cluster
                    .register(ledger, source, n, &format!("gameday-lingering-{n}"))
                    .await?;
                let code = cluster.start(ledger, &viewer).await?;
                let events = viewer.tv.follow(cluster.base(n), &code).await;
                ledger.ended(Kind::EventStream, events.is_ok());
                let events = events.ok()?;
                // Holds the stream (and the TV's client) until aborted.
                Some(tokio::spawn(async move {
                    let _ = events.authenticated().await;
                    drop(viewer);
                }))
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .filter_map(|follower| async move { follower })
        .collect::<Vec<_>>();
    let (mut signed_in, lingering) = tokio::join!(signed_in, lingering);
    // The ones that log out at the exit storm are the last, alone on their addresses.
    signed_in.sort_by_key(|v| !v.shared);
    (signed_in, lingering, ledger)
}

/// The emulator's own D2, timed from a device of its own until `stop` is set.
fn probe_emulator(emulator: &Server, stop: Arc<tokio::sync::Notify>) -> JoinHandle<Vec<Duration>> {
    let base = emulator.base_url.clone();
    tokio::spawn(async move {
        let http = client_from(household(PROBE_HOUSEHOLD));
        let Ok(device) = BareDevice::signed_in(&http, &base).await else {
            eprintln!("the emulator's D2 probe could not sign in");
            return Vec::new();
        };
        let url = format!("{base}/api/v2/REF30/decisions/authorize/Spectrum");
        let mut latencies = Vec::new();
        loop {
            let sent = Instant::now();
            let answer = device
                .headers(http.post(&url))
                .header("Content-Type", "application/json;charset=utf-8")
                .body(json!({ "resources": ["REF30"] }).to_string())
                .send()
                .await;
            if let Ok(answer) = answer {
                if answer.status().is_success() && answer.bytes().await.is_ok() {
                    latencies.push(sent.elapsed());
                }
            }
            tokio::select! {
                () = stop.notified() => break,
                () = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
        latencies.sort_unstable();
        latencies
    })
}

/// The game itself: each phase's arrivals, spread over 100 ms ticks; the exit storm at the
/// start of its phase. Gives how long after the exit storm the nodes had let go of every
/// closed stream, or `None` when they had not after 20 s.
async fn the_game(
    cluster: &Arc<Cluster>,
    curve: &Curve,
    viewers: Arc<Vec<Viewer>>,
    lingering: Vec<JoinHandle<()>>,
    nodes: &[Server],
    ledger: &Arc<Ledger>,
) -> Option<Duration> {
    const TICK: Duration = Duration::from_millis(100);
    let mut tasks = JoinSet::new();
    let mut lingering = Some(lingering);
    let mut released = None;
    // The TVs that log out in the exit storm only log out; the others play.
    let players = viewers.len().saturating_sub(curve.exit_logouts);
    let (mut activations_due, mut plays_due, mut new_tvs) = (0.0, 0.0, 0);
    let mut ticker = tokio::time::interval(TICK);
    for phase in &curve.phases {
        if phase.exit {
            if let Some(lingering) = lingering.take() {
                for follower in &lingering {
                    follower.abort();
                }
                released = Some(tokio::spawn(let_go(
                    nodes
                        .iter()
                        .filter_map(|n| n.internal_url.clone())
                        .collect(),
                    ledger.clone(),
                )));
            }
            for n in players..viewers.len() {
                let (cluster, ledger, viewers) = (cluster.clone(), ledger.clone(), viewers.clone());
                tasks.spawn(async move { cluster.log_out(&ledger, &viewers[n]).await });
            }
        }
        let ticks = (phase.seconds / TICK.as_secs_f64()).round().max(1.0) as usize;
        for tick in 0..ticks {
            ticker.tick().await;
            let along = tick as f64 / ticks as f64;
            let rate = |(from, to): (f64, f64)| from + (to - from) * along;
            activations_due += rate(phase.activations) * TICK.as_secs_f64();
            plays_due += rate(phase.plays) * TICK.as_secs_f64();
            while activations_due >= 1.0 {
                activations_due -= 1.0;
                let (cluster, ledger, n) = (cluster.clone(), ledger.clone(), new_tvs);
                new_tvs += 1;
                tasks.spawn(async move {
                    let (source, phone) = (household(NEW_BASE + n), household(PHONE_BASE + n));
                    let id = format!("gameday-new-{n}");
                    if let Some(viewer) = cluster.activate(&ledger, source, phone, n, &id).await {
                        cluster.play(&ledger, &viewer).await;
                    }
                });
            }
            while plays_due >= 1.0 && players > 0 {
                plays_due -= 1.0;
                let (cluster, ledger, viewers) = (cluster.clone(), ledger.clone(), viewers.clone());
                let n = rand::random_range(0..players);
                tasks.spawn(async move { cluster.play(&ledger, &viewers[n]).await });
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    released?.await.ok().flatten()
}

/// From the exit storm on: how long until the nodes (their operators' listeners at
/// `internal`) hold no more event streams open than the game's new TVs do, at most 20 s (a node
/// notices a closed stream at its next write, at most one keep-alive, 15 s, later).
async fn let_go(internal: Vec<String>, ledger: Arc<Ledger>) -> Option<Duration> {
    let http = reqwest::Client::new();
    let closed = Instant::now();
    while closed.elapsed() < Duration::from_secs(20) {
        let mut open = 0.0;
        for url in &internal {
            open += gauge(&http, url, "tve_waiting_tvs{wait=\"event_stream\"}")
                .await
                .unwrap_or(f64::MAX);
        }
        if open <= ledger.following.load(Ordering::Relaxed) as f64 {
            return Some(closed.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// One line of the SLO table.
pub struct Slo {
    pub name: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

fn ratio(good: u64, all: u64) -> f64 {
    if all == 0 {
        1.0
    } else {
        good as f64 / all as f64
    }
}

fn percent(r: f64) -> String {
    format!("{:.2}%", r * 100.0)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A success ratio of `kinds`, met at `goal` or more.
fn success(
    tallies: &HashMap<Kind, Tally>,
    name: &str,
    kinds: &[Kind],
    goal: f64,
    unit: &str,
) -> Slo {
    let (good, bad) = kinds
        .iter()
        .filter_map(|kind| tallies.get(kind))
        .fold((0, 0), |(g, b), t| (g + t.succeeded, b + t.failed));
    let r = ratio(good, good + bad);
    Slo {
        name: name.to_owned(),
        goal: format!("≥ {}", percent(goal)),
        measured: format!("{} ({good} of {} {unit})", percent(r), good + bad),
        met: r >= goal,
    }
}

/// The p99 of `kind`'s answered requests, met at `goal` or less.
fn p99(
    tallies: &HashMap<Kind, Tally>,
    name: &str,
    kind: Kind,
    goal: Duration,
    beside: &str,
) -> Slo {
    let mut latencies = tallies
        .get(&kind)
        .map(|t| t.latencies.clone())
        .unwrap_or_default();
    latencies.sort_unstable();
    let measured = quantile(&latencies, 0.99);
    Slo {
        name: name.to_owned(),
        goal: format!("p99 ≤ {}", ms(goal)),
        measured: format!(
            "p99 {}, p50 {} ({} answers){beside}",
            ms(measured),
            ms(quantile(&latencies, 0.5)),
            latencies.len()
        ),
        met: measured <= goal,
    }
}

/// The SLO rows of a game's ledger.
fn slos(
    ledger: &Ledger,
    setup: &Ledger,
    curve: &Curve,
    (signed_in, lingering): (usize, usize),
    emulator_d2: &[Duration],
    released: Option<Duration>,
) -> Vec<Slo> {
    let tallies = ledger.tallies.lock().unwrap_or_else(|e| e.into_inner());
    let setup_tallies = setup.tallies.lock().unwrap_or_else(|e| e.into_inner());
    let beside = format!(
        "; the emulator's own D2 p99 {} ({} probes)",
        ms(quantile(emulator_d2, 0.99)),
        emulator_d2.len()
    );
    let mut learned = ledger
        .learned
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    learned.sort_unstable();
    let learned_p99 = quantile(&learned, 0.99);
    let all = || tallies.values().chain(setup_tallies.values());
    let (retryable, told): (u64, u64) =
        all().fold((0, 0), |(r, w), t| (r + t.retryable, w + t.told_when));
    let other_5xx: u64 = all().map(|t| t.other_5xx).sum();
    let broken: u64 = all().map(|t| t.broken).sum();
    vec![
        Slo {
            name: "TVs signed in before the game".to_owned(),
            goal: "all".to_owned(),
            measured: format!("{signed_in} of {}", curve.signed_in_tvs),
            met: signed_in == curve.signed_in_tvs,
        },
        Slo {
            name: "TVs on the code screen before the game".to_owned(),
            goal: "all".to_owned(),
            measured: format!("{lingering} of {}", curve.lingering_tvs),
            met: lingering == curve.lingering_tvs,
        },
        success(
            &tallies,
            "play success (permits)",
            &[Kind::Play, Kind::SharedPlay],
            0.999,
            "plays",
        ),
        p99(
            &tallies,
            "play latency, TVs alone on their address",
            Kind::Play,
            Duration::from_secs(1),
            &beside,
        ),
        p99(
            &tallies,
            "play latency, TVs behind a shared address (Adobe's 1/s; each node's queue waits 5 s at most)",
            Kind::SharedPlay,
            Duration::from_secs(11),
            "",
        ),
        success(
            &tallies,
            "profile refresh success",
            &[Kind::Profile],
            0.999,
            "reads",
        ),
        success(
            &tallies,
            "registration success",
            &[Kind::Registration],
            0.999,
            "registrations",
        ),
        success(
            &tallies,
            "activation success (phone sign-in to TV signed in)",
            &[Kind::Activation],
            0.99,
            "activations",
        ),
        Slo {
            name: "phone sign-in to the TV learning of it".to_owned(),
            goal: "p99 ≤ 1000 ms".to_owned(),
            measured: format!(
                "p99 {}, p50 {} ({} TVs)",
                ms(learned_p99),
                ms(quantile(&learned, 0.5)),
                learned.len()
            ),
            met: learned_p99 <= Duration::from_secs(1),
        },
        Slo {
            name: "retryable answers (429, 503) carrying retryAfter".to_owned(),
            goal: "100%".to_owned(),
            measured: format!(
                "{} ({told} of {retryable})",
                percent(ratio(told, retryable))
            ),
            met: told == retryable,
        },
        Slo {
            name: "5xx other than a 503 with retryAfter; requests unanswered".to_owned(),
            goal: "0; 0".to_owned(),
            measured: format!("{other_5xx}; {broken}"),
            met: other_5xx == 0 && broken == 0,
        },
        success(
            &tallies,
            "exit storm: logouts",
            &[Kind::Logout],
            0.999,
            "logouts",
        ),
        Slo {
            name: "exit storm: closed event streams let go by the nodes".to_owned(),
            goal: "all within 20 s (a keep-alive is 15 s)".to_owned(),
            measured: released.map_or_else(
                || "not all within 20 s".to_owned(),
                |d| format!("all within {:.1} s", d.as_secs_f64()),
            ),
            met: released.is_some(),
        },
    ]
}

/// Runs `curve` against a fresh two-node deployment; its SLO rows, or why it could not run.
pub async fn run(curve: &Curve) -> Result<Vec<Slo>, String> {
    let (postgres, redis) = shared_servers().ok_or(
        "a game night needs TVE_TEST_POSTGRES_URL and TVE_TEST_REDIS_URL \
         (scripts/gameday.sh starts a throwaway PostgreSQL and Redis)",
    )?;
    println!("game night: {}", curve.describe());
    let emulator = procs::emulator_with(Duration::from_secs(1800), true).await;
    let deployment = Deployment::new(&postgres, &redis).await;
    let nodes = deployment.nodes(&emulator, 2, Limits::GameNight).await;
    let cluster = Arc::new(Cluster {
        bases: nodes.iter().map(|node| node.base_url.clone()).collect(),
    });

    let started = Instant::now();
    let (viewers, lingering, setup) = before_the_game(&cluster, curve).await;
    println!(
        "before the game: {} TVs signed in, {} on the code screen, in {:.1} s",
        viewers.len(),
        lingering.len(),
        started.elapsed().as_secs_f64()
    );
    let before = (viewers.len(), lingering.len());
    let stop = Arc::new(tokio::sync::Notify::new());
    let probe = probe_emulator(&emulator, stop.clone());
    let ledger = Arc::new(Ledger::default());
    let started = Instant::now();
    let released = the_game(
        &cluster,
        curve,
        Arc::new(viewers),
        lingering,
        &nodes,
        &ledger,
    )
    .await;
    println!("the game: {:.1} s", started.elapsed().as_secs_f64());
    stop.notify_one();
    let emulator_d2 = probe.await.unwrap_or_default();
    let rows = slos(&ledger, &setup, curve, before, &emulator_d2, released);
    drop(nodes);
    deployment.remove().await;
    Ok(rows)
}

/// Prints the SLO table.
pub fn print(rows: &[Slo]) {
    println!("\n| SLO | goal | measured | met |\n|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} |",
            row.name,
            row.goal,
            row.measured,
            if row.met { "pass" } else { "FAIL" }
        );
    }
}
