//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: &'static str,
}

/// `tve_ready{check}`: 1 while the check passed the last time it ran, 0 otherwise.
#[derive(Debug, Default)]
pub struct Readiness {
    checks: Family<CheckLabels, Gauge>,
}

impl Readiness {
    /// Adds `tve_ready` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_ready",
            "Whether each readiness check (store, shared, adobe_pass) passed when last run",
            self.checks.clone(),
        );
    }

    fn record<T>(&self, check: &'static str, result: &Result<T, String>) {
        self.checks
            .get_or_create(&CheckLabels { check })
            .set(i64::from(result.is_ok()));
    }
}

/// Runs every readiness check (the store, Redis when several nodes share it, an Adobe Pass
/// access token and the registered application's domains), records each in `tve_ready`, and
/// gives the first failure.
pub async fn check_readiness(state: &AppState) -> Result<(), String> {
    let shared = match &state.shared.redis {
        Some(redis) => redis.ping().await.map_err(|e| format!("Redis: {e}")),
        None => Ok(()),
    };
    state.readiness.record("shared", &shared);
    let store = state.store().ping().await.map_err(|e| e.to_string());
    state.readiness.record("store", &store);
    let upstream = match state.service.check_upstream().await {
        Ok(()) => state.service.check_domains().await,
        Err(e) => Err(format!("Adobe Pass: {e}")),
    };
    state.readiness.record("adobe_pass", &upstream);
    shared.and(store).and(upstream)
}

/// The process can serve traffic: its store answers, Adobe Pass gives it an access token, and
/// the domains Adobe checks are the application's.
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
    match check_readiness(&state).await {
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
