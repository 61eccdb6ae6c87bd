//! `GET /metrics`: counters and timings in the Prometheus text format.

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};

use crate::state::AppState;

/// `GET /metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Every upstream call by endpoint and outcome, with its latency; then the activation site's
/// failed code guesses.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.service.adobe().metrics().render_prometheus();
    text.push_str(&state.shared.code_guard.render_prometheus());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
