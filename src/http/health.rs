//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// `GET /healthz` and `GET /readyz` for the public listener: ready or not, never why.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `GET /healthz` and `GET /readyz` for the operators' listener: `/readyz` says why it is not
/// ready.
pub fn internal_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz_detailed))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The process is alive and answering.
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        reason: None,
    })
}

/// Ready or not, without the reason (which names upstreams and stores).
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (status, Json(mut health)) = readyz_detailed(State(state)).await;
    health.reason = None;
    (status, Json(health))
}

/// The process can serve traffic: its store answers and Adobe Pass gives it an access token.
async fn readyz_detailed(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if state.draining.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "stopping",
                reason: Some("this node is stopping; it takes no new work".to_owned()),
            }),
        );
    }
    let redis = match &state.shared.redis {
        Some(redis) => redis.ping().await.map_err(|e| e.to_string()),
        None => Ok(()),
    };
    let ready = match redis.and(state.store().ping().await.map_err(|e| e.to_string())) {
        Ok(()) => state
            .service
            .check_upstream()
            .await
            .map_err(|e| format!("Adobe Pass: {e}")),
        Err(reason) => Err(reason),
    };
    match ready {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ready",
                reason: None,
            }),
        ),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    reason: Some(reason),
                }),
            )
        }
    }
}
