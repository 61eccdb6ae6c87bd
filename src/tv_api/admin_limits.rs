//! `GET /admin/v1/limits` and `PUT /admin/v1/limits`: the limits operators change at runtime
//! (registrations from everyone, steps reaching Adobe per address, background polls in flight
//! per node), on every node within seconds, with who and why; `"reset": true` goes back to the
//! configured ones.

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};

use super::{admin::Operator, body::DeclaredJsonBody, error::ApiError};
use crate::{
    service::{LimitsChange, LimitsInForce},
    state::AppState,
};

/// A change of limits; a limit left out keeps its value.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeLimits {
    registrations_per_second: Option<u32>,
    adobe_steps_per_address_per_second: Option<u32>,
    max_concurrent_polls: Option<u32>,
    #[serde(default)]
    reset: bool,
    changed_by: String,
    reason: String,
}

/// The three limits.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    registrations_per_second: u32,
    adobe_steps_per_address_per_second: u32,
    max_concurrent_polls: u32,
}

/// Who set the limits in force, when and why.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetBy {
    changed_by: String,
    reason: String,
    changed_at: i64,
}

/// The limits in force, who set them, and the configured ones.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    #[serde(flatten)]
    in_force: Limits,
    /// `null` while the configured limits apply.
    set_by_operator: Option<SetBy>,
    configured: Limits,
}

impl From<LimitsInForce> for LimitsView {
    fn from(limits: LimitsInForce) -> Self {
        Self {
            in_force: Limits {
                registrations_per_second: limits.registrations_per_second,
                adobe_steps_per_address_per_second: limits.adobe_steps_per_address_per_second,
                max_concurrent_polls: limits.max_concurrent_polls,
            },
            set_by_operator: limits.set_by_operator.map(|set| SetBy {
                changed_by: set.changed_by,
                reason: set.reason,
                changed_at: set.changed_at,
            }),
            configured: Limits {
                registrations_per_second: limits.configured.rates.registrations_per_second,
                adobe_steps_per_address_per_second: limits
                    .configured
                    .rates
                    .adobe_steps_per_address_per_second,
                max_concurrent_polls: limits.configured.max_concurrent_polls,
            },
        }
    }
}

/// The limits in force.
pub async fn limits(
    State(state): State<AppState>,
    _: Operator,
) -> Result<Json<LimitsView>, ApiError> {
    Ok(Json(state.service.limits_in_force().await?.into()))
}

/// Changes the limits; answers with those in force.
pub async fn change_limits(
    State(state): State<AppState>,
    _: Operator,
    DeclaredJsonBody(change): DeclaredJsonBody<ChangeLimits>,
) -> Result<Json<LimitsView>, ApiError> {
    let in_force = state
        .service
        .change_limits(LimitsChange {
            registrations_per_second: change.registrations_per_second,
            adobe_steps_per_address_per_second: change.adobe_steps_per_address_per_second,
            max_concurrent_polls: change.max_concurrent_polls,
            reset: change.reset,
            changed_by: change.changed_by,
            reason: change.reason,
        })
        .await?;
    Ok(Json(in_force.into()))
}
