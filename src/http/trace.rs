//! Request ids and request tracing: every request gets an `x-request-id` (kept only when a
//! trusted proxy sent one) that appears in its span, so in every log line written while serving
//! it.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderName, Request},
    middleware::Next,
    response::Response,
};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnFailure, DefaultOnResponse, MakeSpan, TraceLayer},
};
use tracing::{Level, Span};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Drops the `x-request-id` a client sent unless its connection comes from a trusted proxy:
/// anyone else could forge ids to confuse or poison the logs.
pub async fn untrusted_request_ids_dropped(
    State(config): State<Arc<crate::config::Config>>,
    mut request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let trusted = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|peer| config.is_trusted_proxy(peer.0.ip()));
    if !trusted {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Sets `x-request-id` on requests that arrive without one.
pub fn request_id_layer() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid)
}

/// Copies the request's `x-request-id` onto its response.
pub fn propagate_request_id_layer() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(REQUEST_ID)
}

/// Opens a span per request carrying its id, method and path (never the query, which can hold
/// activation codes), and logs each response with its status and latency.
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(DefaultOnFailure::new().level(Level::ERROR))
}

/// Makes the per-request span.
#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            id = %id,
            method = %request.method(),
            path = %redacted_path(request.uri().path()),
        )
    }
}

/// An activation code shortened to its first two characters: enough to tell codes apart in
/// logs and events, never enough to use one.
pub fn redacted_code(code: &str) -> String {
    let shown: String = code.chars().take(2).collect();
    format!("{shown}…")
}

/// The path with activation codes shortened to their first two characters, so logs can still
/// tell codes apart without holding a usable one.
pub fn redacted_path(path: &str) -> String {
    let mut previous = "";
    path.split('/')
        .map(|segment| {
            let masked =
                if matches!(previous, "activations" | "sessions" | "code") && !segment.is_empty() {
                    redacted_code(segment)
                } else {
                    segment.to_owned()
                };
            previous = segment;
            masked
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn activation_codes_are_masked_in_logged_paths() {
        assert_eq!(
            redacted_path("/tv/v1/activations/ABC1234/events"),
            "/tv/v1/activations/AB…/events"
        );
        assert_eq!(redacted_path("/tv/v1/activations"), "/tv/v1/activations");
        assert_eq!(redacted_path("/activate/complete"), "/activate/complete");
        assert_eq!(
            redacted_path("/api/v2/REF30/profiles/code/XTC98W"),
            "/api/v2/REF30/profiles/code/XT…"
        );
    }
}
