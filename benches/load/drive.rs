//! A closed-loop load: a number of connections, each sending its next request as soon as the
//! last one answered, for a while; with counts and latency percentiles.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// What one load run saw.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::EPSILON)
    }

    /// The `q` quantile (0.0–1.0) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile(&self.latencies, q).as_secs_f64() * 1000.0
    }

    pub fn from_latencies(mut latencies: Vec<Duration>, errors: u64, seconds: f64) -> Self {
        latencies.sort_unstable();
        Self {
            requests: latencies.len() as u64,
            errors,
            seconds,
            latencies,
        }
    }
}

/// The `q` quantile of sorted `values` (zero when empty).
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Sends `request()` over `connections` connections for `duration`; a request counts as an
/// error unless it answers 2xx.
pub async fn closed_loop<F>(connections: usize, duration: Duration, request: F) -> Figures
where
    F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                // One client per worker: one kept-alive connection each.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("client");
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match request(&http).send().await {
                        Ok(answer) if answer.status().is_success() => {
                            let _ = answer.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mine, failed) = worker.await.expect("worker");
        latencies.extend(mine);
        errors += failed;
    }
    Figures::from_latencies(latencies, errors, started.elapsed().as_secs_f64())
}
