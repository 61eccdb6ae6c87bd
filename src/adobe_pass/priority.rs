//! Plays first within Adobe's pace for one household (issue 22, item 4). Calls that cannot go
//! at once wait in a queue per household (IPv4 address, IPv6 /64), ordered by [`Class`], and
//! round-robin across devices within a class, so one device's calls never hold another's back.
//! Only the first waiter asks the buckets for a call; a call of a lower class goes only while no
//! higher class waits on this node, and a background call only while it leaves one call in the
//! bucket for a play (during the burst; a spent burst never holds more than one).
//!
//! A waiter whose turn lies beyond the longest wait is refused with the wait its place in the
//! queue implies (the head's wait, then one interval per call ahead), so refused TVs come back
//! in queue order rather than all at once. A waiter a higher class pushes past the bound is
//! refused likewise.
//!
//! The queue is this node's: where nodes share Adobe's buckets in Redis, each node orders its
//! own waiters and the shared bucket counts the calls of all of them.

use std::{
    collections::{hash_map::DefaultHasher, HashMap, VecDeque},
    hash::{Hash as _, Hasher as _},
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use super::{endpoint::Endpoint, throttle::ThrottleBuckets, ThrottleSettings};
use crate::limits::address_key;

/// How urgent a call is; the first variant is served first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// D2: a viewer pressed Play.
    Play,
    /// P1, P2: a viewer waits for the profile.
    Profile,
    /// Sessions, codes, registration, configuration, logout: a viewer waits for a step.
    Session,
    /// D1: informational decisions.
    Preauthorize,
    /// Background polls: no one waits on them.
    Background,
}

impl Class {
    const COUNT: usize = 5;

    /// The class of a call to `endpoint` made for a caller who waits.
    pub fn of(endpoint: Endpoint) -> Self {
        match endpoint {
            Endpoint::Authorize => Class::Play,
            Endpoint::Profiles | Endpoint::MvpdProfile => Class::Profile,
            Endpoint::Preauthorize => Class::Preauthorize,
            _ => Class::Session,
        }
    }

    /// Calls a call of this class leaves in the bucket.
    fn keeps(self) -> u32 {
        u32::from(self == Class::Background)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The per-household queues in front of the buckets.
#[derive(Debug)]
pub(crate) struct Gate {
    buckets: Arc<dyn ThrottleBuckets>,
    settings: ThrottleSettings,
    households: Mutex<HashMap<String, Household>>,
    /// How many households make the next sweep: twice as many as the last one kept (at least
    /// [`SWEEP_AT`]), so sweeping costs O(1) per new household however many stay busy.
    sweep_at: std::sync::atomic::AtomicUsize,
}

impl Gate {
    /// Queues in front of `buckets`, shaped like `settings`.
    pub fn new(buckets: Arc<dyn ThrottleBuckets>, settings: ThrottleSettings) -> Self {
        Self {
            buckets,
            settings,
            households: Mutex::default(),
            sweep_at: std::sync::atomic::AtomicUsize::new(SWEEP_AT),
        }
    }

    /// The buckets behind the queues.
    pub fn buckets(&self) -> &dyn ThrottleBuckets {
        self.buckets.as_ref()
    }

    /// Waits for `ip`'s turn for a call of `class` made for `device` (any stable key of the
    /// device), and takes the call from the buckets; `Err(retry_after)` when the turn lies
    /// beyond the longest wait.
    pub async fn admit(&self, ip: IpAddr, class: Class, device: &[u8]) -> Result<(), Duration> {
        let key = address_key(ip);
        let (id, notify) = self.enqueue(&key, class, device_key(device));
        let mut waiting = Waiting {
            gate: self,
            key: &key,
            id,
            done: false,
        };
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.turn(&key, id)? {
                Turn::Head => match self.buckets.take(ip, class.keeps()).await {
                    Ok(()) => {
                        // The next call is an interval away at most (sooner during the burst).
                        self.head_waits(&key, self.interval());
                        waiting.leave();
                        return Ok(());
                    }
                    Err(wait) if wait > self.settings.max_wait => {
                        return Err(self.refuse(&key, id, wait))
                    }
                    Err(wait) => {
                        self.head_waits(&key, wait);
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            () = &mut notified => {}
                        }
                    }
                },
                Turn::Behind => notified.await,
            }
        }
    }

    /// Waiters now, in every household (for tests).
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().values().map(Household::len).sum()
    }

    fn enqueue(&self, key: &str, class: Class, device: u64) -> (u64, Arc<Notify>) {
        use std::sync::atomic::Ordering::Relaxed;
        let mut households = self.lock();
        if households.len() >= self.sweep_at.load(Relaxed) && !households.contains_key(key) {
            let now = Instant::now();
            households.retain(|_, household| household.is_busy(now));
            self.sweep_at
                .store(SWEEP_AT.max(households.len().saturating_mul(2)), Relaxed);
        }
        let household = households.entry(key.to_owned()).or_default();
        let id = household.push(class, device);
        (id, household.notify.clone())
    }

    /// Whether `id` is first, or its place still lies within the longest wait.
    fn turn(&self, key: &str, id: u64) -> Result<Turn, Duration> {
        let households = self.lock();
        let Some(household) = households.get(key) else {
            return Ok(Turn::Head);
        };
        let ahead = household.ahead_of(id);
        if ahead == 0 {
            return Ok(Turn::Head);
        }
        let wait = household.head_wait() + self.interval().saturating_mul(ahead);
        if wait > self.settings.max_wait {
            drop(households);
            Err(self.refuse(key, id, wait))
        } else {
            Ok(Turn::Behind)
        }
    }

    /// Refuses `id`, whose turn is `wait` away: it is told to come back then, or an interval
    /// after the last call of its class or a higher one told so, so refused calls come back
    /// one by one in queue order rather than together.
    fn refuse(&self, key: &str, id: u64, wait: Duration) -> Duration {
        let mut households = self.lock();
        let Some(household) = households.get_mut(key) else {
            return wait;
        };
        let Some(class) = household.class_of(id) else {
            return wait;
        };
        let now = Instant::now();
        let after = household.booked[..=class.index()]
            .iter()
            .flatten()
            .max()
            .map_or(now, |last| *last + self.interval());
        let back = after.max(now + wait);
        household.booked[class.index()] = Some(back);
        back - now
    }

    fn head_waits(&self, key: &str, wait: Duration) {
        if let Some(household) = self.lock().get_mut(key) {
            household.head_ready = Some(Instant::now() + wait);
        }
    }

    fn remove(&self, key: &str, id: u64) {
        let mut households = self.lock();
        if let Some(household) = households.get_mut(key) {
            household.remove(id);
            household.notify.notify_waiters();
            if !household.is_busy(Instant::now()) {
                households.remove(key);
            }
        }
    }

    fn interval(&self) -> Duration {
        self.settings.interval
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Household>> {
        self.households
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

enum Turn {
    Head,
    Behind,
}

/// A waiter's place; leaving (served, refused or dropped) lets the next one move up.
struct Waiting<'a> {
    gate: &'a Gate,
    key: &'a str,
    id: u64,
    done: bool,
}

impl Waiting<'_> {
    fn leave(&mut self) {
        if !self.done {
            self.done = true;
            self.gate.remove(self.key, self.id);
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

fn device_key(device: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    device.hash(&mut hasher);
    hasher.finish()
}

/// One household's waiters: per class, devices in round-robin order, each with its calls.
#[derive(Debug, Default)]
struct Household {
    classes: [VecDeque<(u64, VecDeque<u64>)>; Class::COUNT],
    notify: Arc<Notify>,
    next_id: u64,
    /// When the first waiter's call is due, as the buckets last said.
    head_ready: Option<Instant>,
    /// Per class, when the last refused call was told to come back.
    booked: [Option<Instant>; Class::COUNT],
}

/// Households kept at once before those with no waiter and no refused call still to come back
/// are first swept.
const SWEEP_AT: usize = 4_096;

impl Household {
    fn push(&mut self, class: Class, device: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let rounds = &mut self.classes[class.index()];
        match rounds.iter_mut().find(|(key, _)| *key == device) {
            Some((_, calls)) => calls.push_back(id),
            None => rounds.push_back((device, VecDeque::from([id]))),
        }
        id
    }

    /// Takes `id` out; when it was the first of its device, that device goes last in its class.
    fn remove(&mut self, id: u64) {
        for rounds in &mut self.classes {
            let Some(at) = rounds.iter().position(|(_, calls)| calls.contains(&id)) else {
                continue;
            };
            let first = rounds[at].1.front() == Some(&id);
            rounds[at].1.retain(|call| *call != id);
            if let Some(entry) = rounds.remove(at) {
                if !entry.1.is_empty() {
                    if first && at == 0 {
                        rounds.push_back(entry);
                    } else {
                        rounds.insert(at, entry);
                    }
                }
            }
            return;
        }
    }

    /// Calls served before `id`: every call of a higher class, and within its class the calls
    /// the round-robin serves first.
    fn ahead_of(&self, id: u64) -> u32 {
        let mut ahead = 0usize;
        for rounds in &self.classes {
            let found = rounds.iter().enumerate().find_map(|(at, (_, calls))| {
                calls
                    .iter()
                    .position(|call| *call == id)
                    .map(|depth| (at, depth))
            });
            match found {
                Some((at, depth)) => {
                    for (other, (_, calls)) in rounds.iter().enumerate() {
                        ahead += calls.len().min(depth);
                        if other < at && calls.len() > depth {
                            ahead += 1;
                        }
                    }
                    return u32::try_from(ahead).unwrap_or(u32::MAX);
                }
                None => ahead += rounds.iter().map(|(_, calls)| calls.len()).sum::<usize>(),
            }
        }
        u32::try_from(ahead).unwrap_or(u32::MAX)
    }

    fn class_of(&self, id: u64) -> Option<Class> {
        const CLASSES: [Class; Class::COUNT] = [
            Class::Play,
            Class::Profile,
            Class::Session,
            Class::Preauthorize,
            Class::Background,
        ];
        self.classes
            .iter()
            .position(|rounds| rounds.iter().any(|(_, calls)| calls.contains(&id)))
            .map(|at| CLASSES[at])
    }

    /// Whether a call waits, or a refused one is still to come back.
    fn is_busy(&self, now: Instant) -> bool {
        self.len() > 0 || self.booked.iter().flatten().any(|back| *back > now)
    }

    fn head_wait(&self) -> Duration {
        self.head_ready.map_or(Duration::ZERO, |ready| {
            ready.saturating_duration_since(Instant::now())
        })
    }

    fn len(&self) -> usize {
        self.classes
            .iter()
            .flat_map(|rounds| rounds.iter().map(|(_, calls)| calls.len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::Mutex as StdMutex,
        time::{SystemTime, UNIX_EPOCH},
    };

    use super::*;
    use crate::{adobe_pass::Throttle, clock::Clock};

    /// Wall-clock time that follows tokio's (paused) time.
    #[derive(Debug)]
    struct TokioClock {
        start: Instant,
    }

    impl Clock for TokioClock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.start.elapsed()
        }
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
    const SECOND: Duration = Duration::from_secs(1);

    /// Adobe's shape in whole seconds, waits up to 5 s.
    fn gate() -> Arc<Gate> {
        let settings = ThrottleSettings {
            interval: SECOND,
            ..ThrottleSettings::default()
        };
        let clock = Arc::new(TokioClock {
            start: Instant::now(),
        });
        let throttle = Throttle::new(settings, clock);
        Arc::new(Gate::new(Arc::new(throttle), settings))
    }

    /// Spends the household's burst.
    async fn spend_the_burst(gate: &Gate) {
        for n in 0..10u8 {
            gate.admit(IP, Class::Play, &[n]).await.expect("burst");
        }
    }

    type Log = Arc<StdMutex<Vec<(&'static str, Result<Duration, Duration>)>>>;

    /// Starts a call and lets it take its place; its outcome (when it went, or the retry
    /// hint) is logged under `name`.
    async fn call(gate: &Arc<Gate>, log: &Log, name: &'static str, class: Class, device: &str) {
        let (gate, log, device) = (gate.clone(), log.clone(), device.to_owned());
        let started = Instant::now();
        tokio::spawn(async move {
            let outcome = gate.admit(IP, class, device.as_bytes()).await;
            let outcome = outcome.map(|()| started.elapsed());
            log.lock().expect("log").push((name, outcome));
        });
        tokio::task::yield_now().await;
    }

    fn names(log: &Log) -> Vec<&'static str> {
        log.lock()
            .expect("log")
            .iter()
            .map(|(name, _)| *name)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_calls_go_in_class_order_whatever_their_arrival() {
        let gate = gate();
        spend_the_burst(&gate).await;
        let log = Log::default();
        call(&gate, &log, "poll", Class::Background, "a").await;
        call(&gate, &log, "preauthorize", Class::Preauthorize, "b").await;
        call(&gate, &log, "new code", Class::Session, "c").await;
        call(&gate, &log, "profile", Class::Profile, "d").await;
        call(&gate, &log, "play", Class::Play, "e").await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(
            names(&log),
            ["play", "profile", "new code", "preauthorize", "poll"]
        );
        let waits: Vec<_> = log.lock().expect("log").iter().map(|(_, w)| *w).collect();
        let expected: Vec<_> = (1..=5).map(|n| Ok(SECOND * n)).collect();
        assert_eq!(waits, expected, "one a second");
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn devices_take_turns_within_a_class() {
        let gate = gate();
        spend_the_burst(&gate).await;
        let log = Log::default();
        call(&gate, &log, "a", Class::Play, "busy tv").await;
        call(&gate, &log, "a", Class::Play, "busy tv").await;
        call(&gate, &log, "a", Class::Play, "busy tv").await;
        call(&gate, &log, "b", Class::Play, "tv b").await;
        call(&gate, &log, "c", Class::Play, "tv c").await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(names(&log), ["a", "b", "c", "a", "a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn background_work_leaves_the_last_call_of_the_burst_for_a_play() {
        let gate = gate();
        let log = Log::default();
        for _ in 0..12 {
            call(&gate, &log, "poll", Class::Background, "watcher").await;
        }
        assert_eq!(names(&log).len(), 9, "the burst but one");
        let started = Instant::now();
        gate.admit(IP, Class::Play, b"tv").await.expect("plays");
        assert_eq!(started.elapsed(), Duration::ZERO, "the kept call, at once");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_past_the_longest_wait_are_told_their_place() {
        let gate = gate();
        spend_the_burst(&gate).await;
        let log = Log::default();
        for _ in 0..8 {
            call(&gate, &log, "play", Class::Play, "tv").await;
        }
        call(&gate, &log, "profile", Class::Profile, "other tv").await;
        let refused: Vec<_> = log.lock().expect("log").clone();
        // The first waits a second, four more one a second each; then each refused call is
        // told its own turn: 6 s, 7 s, 8 s, and the profile after every refused play.
        assert_eq!(
            refused,
            [
                ("play", Err(SECOND * 6)),
                ("play", Err(SECOND * 7)),
                ("play", Err(SECOND * 8)),
                ("profile", Err(SECOND * 9)),
            ]
        );
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(names(&log).len(), 9, "the five waiting calls went");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_a_play_pushes_past_the_longest_wait_is_refused() {
        let gate = gate();
        spend_the_burst(&gate).await;
        let log = Log::default();
        call(&gate, &log, "first play", Class::Play, "tv 0").await;
        for n in 0..4 {
            let device = format!("watcher {n}");
            call(&gate, &log, "poll", Class::Background, &device).await;
        }
        for n in 1..5 {
            let device = format!("tv {n}");
            call(&gate, &log, "play", Class::Play, &device).await;
        }
        tokio::time::sleep(Duration::from_secs(6)).await;
        let log = log.lock().expect("log").clone();
        let went: Vec<_> = log
            .iter()
            .filter(|(_, w)| w.is_ok())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(went, ["first play", "play", "play", "play", "play"]);
        assert!(log
            .iter()
            .filter(|(name, _)| *name == "poll")
            .all(|(_, outcome)| outcome.is_err()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_while_waiting_gives_its_place_up() {
        let gate = gate();
        spend_the_burst(&gate).await;
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit(IP, Class::Play, b"tv").await }
        });
        tokio::task::yield_now().await;
        assert_eq!(gate.waiting(), 1);
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(gate.waiting(), 0);
        let started = Instant::now();
        gate.admit(IP, Class::Profile, b"other")
            .await
            .expect("goes");
        assert_eq!(started.elapsed(), SECOND);
    }

    /// A crowd of households that stay busy (refused calls still to come back) is swept when
    /// it has doubled, not at every new household: each call stays O(1) however many stay.
    #[tokio::test(start_paused = true)]
    async fn a_crowd_of_busy_households_is_swept_when_it_doubles() {
        use std::sync::atomic::Ordering::Relaxed;
        let gate = gate();
        let later = Instant::now() + Duration::from_secs(60);
        {
            let mut households = gate.lock();
            for n in 0..SWEEP_AT + 10 {
                let mut busy = Household::default();
                busy.booked[Class::Play.index()] = Some(later);
                households.insert(format!("busy-{n}"), busy);
            }
        }
        gate.admit(IP, Class::Play, b"tv").await.expect("goes");
        let next = gate.sweep_at.load(Relaxed);
        assert_eq!(next, 2 * (SWEEP_AT + 10), "every busy household kept");
        for n in 0..100u8 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, n));
            gate.admit(ip, Class::Play, b"tv").await.expect("goes");
        }
        assert_eq!(
            gate.sweep_at.load(Relaxed),
            next,
            "no sweep before it doubles"
        );
        assert_eq!(
            gate.lock().len(),
            SWEEP_AT + 10,
            "idle households still leave"
        );
    }
}
