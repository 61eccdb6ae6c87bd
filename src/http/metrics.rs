//! `GET /metrics`, and the latency histogram by route every public request is counted in.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        family::Family,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

use super::health;
use crate::{state::AppState, telemetry};

/// `GET /metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// How long a scrape waits for the readiness checks; a slow check keeps its last result, so
/// the scrape stays well within Prometheus's timeout.
const READINESS_WAIT: Duration = Duration::from_secs(2);

/// Every metric of the process, in the OpenMetrics text format, with readiness checked anew.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The reason is in `/readyz` and the logs; here only each check's result counts.
    let _ = tokio::time::timeout(READINESS_WAIT, health::check_readiness(&state)).await;
    (
        [(header::CONTENT_TYPE, telemetry::CONTENT_TYPE)],
        telemetry::encode(&state.metrics),
    )
}

/// The labels of one request: its route's template (never the path itself, which may hold a
/// code), method and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// Request latency buckets: 0.5 ms to about 32 s, doubling.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// Latency of public requests by route, method and status.
#[derive(Debug)]
pub struct RequestMetrics {
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self {
            requests: Family::new_with_constructor(request_histogram),
        }
    }
}

impl RequestMetrics {
    /// Adds `tve_http_request_seconds` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_http_request_seconds",
            "Time to answer public requests (to the response head), by route",
            self.requests.clone(),
        );
    }

    fn observe(&self, labels: RequestLabels, started: Instant) {
        self.requests
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A bounded method label: anything unusual is `other`, so a client cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: times each request into [`RequestMetrics`]; requests that matched no route
/// (static files, unknown paths) are counted as `unmatched`.
pub async fn timed(
    State(metrics): State<Arc<RequestMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let labels = RequestLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    metrics.observe(labels, started);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_add_no_series() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&odd), "other");
    }
}
