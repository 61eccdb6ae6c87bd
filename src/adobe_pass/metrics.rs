//! Counts and times every upstream call by endpoint and outcome, in process, ready to be
//! exported at `/metrics` (see [`Metrics::render_prometheus`]).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, PoisonError,
    },
    time::Duration,
};

use super::{endpoint::Endpoint, error::AdobePassError};

/// How one upstream attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A success status with a documented body.
    Success,
    /// An Enhanced Error or DCR error other than 401 and 5xx.
    ClientError,
    /// HTTP 401: the access token was rejected.
    Unauthorized,
    /// HTTP 429.
    Throttled,
    /// HTTP 5xx, with or without Adobe's body.
    ServerError,
    /// A body that matches nothing documented.
    Unexpected,
    /// No answer in time.
    Timeout,
    /// No connection, or the connection broke.
    ConnectionError,
}

impl Outcome {
    /// The `outcome` label.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Throttled => "throttled",
            Outcome::ServerError => "server_error",
            Outcome::Unexpected => "unexpected",
            Outcome::Timeout => "timeout",
            Outcome::ConnectionError => "connection_error",
        }
    }

    /// The outcome of a failed attempt.
    pub(crate) fn of(error: &AdobePassError) -> Self {
        match error {
            AdobePassError::Timeout { .. } => Outcome::Timeout,
            AdobePassError::Connect { .. } | AdobePassError::Connection { .. } => {
                Outcome::ConnectionError
            }
            AdobePassError::Throttled { .. } => Outcome::Throttled,
            error => match error.http_status() {
                Some(401) => Outcome::Unauthorized,
                Some(status) if status >= 500 => Outcome::ServerError,
                _ if matches!(
                    error,
                    AdobePassError::Adobe { .. } | AdobePassError::Dcr { .. }
                ) =>
                {
                    Outcome::ClientError
                }
                _ => Outcome::Unexpected,
            },
        }
    }
}

/// Totals for one endpoint and outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Attempts.
    pub count: u64,
    /// Time spent in them, in all.
    pub total: Duration,
    /// The slowest.
    pub max: Duration,
}

/// The registry of upstream call statistics.
#[derive(Debug, Default)]
pub struct Metrics {
    calls: Mutex<BTreeMap<(Endpoint, Outcome), CallStats>>,
    clients_replaced: AtomicU64,
}

impl Metrics {
    /// Records one attempt.
    pub(crate) fn record(&self, endpoint: Endpoint, outcome: Outcome, elapsed: Duration) {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = calls.entry((endpoint, outcome)).or_default();
        stats.count += 1;
        stats.total += elapsed;
        stats.max = stats.max.max(elapsed);
    }

    /// Counts a DCR client Adobe no longer accepted (`invalid_client`) and that was replaced.
    pub(crate) fn client_replaced(&self) {
        self.clients_replaced.fetch_add(1, Ordering::Relaxed);
    }

    /// DCR clients replaced after Adobe answered `invalid_client`.
    pub fn clients_replaced(&self) -> u64 {
        self.clients_replaced.load(Ordering::Relaxed)
    }

    /// Every endpoint and outcome seen so far, in a stable order.
    pub fn snapshot(&self) -> Vec<(Endpoint, Outcome, CallStats)> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(&(endpoint, outcome), &stats)| (endpoint, outcome, stats))
            .collect()
    }

    /// Attempts recorded for one endpoint and outcome.
    pub fn count(&self, endpoint: Endpoint, outcome: Outcome) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(endpoint, outcome))
            .map_or(0, |stats| stats.count)
    }

    /// The statistics in Prometheus text format: `adobe_pass_calls_total`,
    /// `adobe_pass_call_seconds_sum` and `adobe_pass_call_seconds_max`, labelled by
    /// `endpoint` and `outcome`.
    pub fn render_prometheus(&self) -> String {
        let snapshot = self.snapshot();
        let mut out = String::new();
        for (name, kind, help) in [
            (
                "adobe_pass_calls_total",
                "counter",
                "Upstream Adobe Pass calls.",
            ),
            (
                "adobe_pass_call_seconds_sum",
                "counter",
                "Time spent in upstream Adobe Pass calls.",
            ),
            (
                "adobe_pass_call_seconds_max",
                "gauge",
                "Slowest upstream Adobe Pass call.",
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (endpoint, outcome, stats) in &snapshot {
                let value = match kind {
                    "gauge" => stats.max.as_secs_f64().to_string(),
                    _ if name.ends_with("_sum") => stats.total.as_secs_f64().to_string(),
                    _ => stats.count.to_string(),
                };
                let _ = writeln!(
                    out,
                    "{name}{{endpoint=\"{}\",outcome=\"{}\"}} {value}",
                    endpoint.name(),
                    outcome.name()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP adobe_pass_clients_replaced_total DCR clients registered again after Adobe answered invalid_client.\n\
             # TYPE adobe_pass_clients_replaced_total counter\n\
             adobe_pass_clients_replaced_total {}",
            self.clients_replaced()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_times_by_endpoint_and_outcome() {
        let metrics = Metrics::default();
        metrics.record(
            Endpoint::Profiles,
            Outcome::Success,
            Duration::from_millis(10),
        );
        metrics.record(
            Endpoint::Profiles,
            Outcome::Success,
            Duration::from_millis(30),
        );
        metrics.record(Endpoint::Profiles, Outcome::Timeout, Duration::from_secs(5));
        assert_eq!(metrics.count(Endpoint::Profiles, Outcome::Success), 2);
        assert_eq!(metrics.count(Endpoint::Authorize, Outcome::Success), 0);
        let text = metrics.render_prometheus();
        assert!(
            text.contains("adobe_pass_calls_total{endpoint=\"profiles\",outcome=\"success\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "adobe_pass_call_seconds_max{endpoint=\"profiles\",outcome=\"success\"} 0.03"
            ),
            "{text}"
        );
    }
}
