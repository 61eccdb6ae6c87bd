//! Counts and times every upstream call by endpoint and outcome, for `/metrics`.

use std::time::Duration;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
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

/// The `endpoint` and `outcome` labels of one upstream call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

impl CallLabels {
    fn new(endpoint: Endpoint, outcome: Outcome) -> Self {
        Self {
            endpoint: endpoint.name(),
            outcome: outcome.name(),
        }
    }
}

/// Upstream call latency buckets: 1 ms to about 33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Upstream call counts and latencies by endpoint and outcome, registered with the process's
/// registry by [`Metrics::register`].
#[derive(Debug)]
pub struct Metrics {
    calls: Family<CallLabels, Counter>,
    latency: Family<CallLabels, Histogram, fn() -> Histogram>,
    clients_replaced: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            clients_replaced: Counter::default(),
        }
    }
}

impl Metrics {
    /// Records one attempt.
    pub(crate) fn record(&self, endpoint: Endpoint, outcome: Outcome, elapsed: Duration) {
        let labels = CallLabels::new(endpoint, outcome);
        self.calls.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a DCR client Adobe no longer accepted (`invalid_client`) and that was replaced.
    pub(crate) fn client_replaced(&self) {
        self.clients_replaced.inc();
    }

    /// DCR clients replaced after Adobe answered `invalid_client`.
    pub fn clients_replaced(&self) -> u64 {
        self.clients_replaced.get()
    }

    /// Attempts recorded for one endpoint and outcome.
    pub fn count(&self, endpoint: Endpoint, outcome: Outcome) -> u64 {
        self.calls
            .get(&CallLabels::new(endpoint, outcome))
            .map_or(0, |counter| counter.get())
    }

    /// Adds `adobe_pass_calls_total` and the `adobe_pass_call_seconds` histogram, labelled by
    /// `endpoint` and `outcome`, and `adobe_pass_clients_replaced_total` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "adobe_pass_calls",
            "Upstream Adobe Pass calls",
            self.calls.clone(),
        );
        registry.register(
            "adobe_pass_call_seconds",
            "Time upstream Adobe Pass calls took",
            self.latency.clone(),
        );
        registry.register(
            "adobe_pass_clients_replaced",
            "DCR clients registered again after Adobe answered invalid_client",
            self.clients_replaced.clone(),
        );
    }

    /// These metrics alone, in the OpenMetrics text format (for diagnostics and tests).
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        crate::telemetry::encode(&registry)
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
        let text = metrics.render();
        assert!(
            text.contains("adobe_pass_calls_total{endpoint=\"profiles\",outcome=\"success\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "adobe_pass_call_seconds_bucket{le=\"0.032\",endpoint=\"profiles\",outcome=\"success\"} 2"
            ),
            "{text}"
        );
    }
}
