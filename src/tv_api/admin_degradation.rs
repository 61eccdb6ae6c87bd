//! The admin routes of Adobe's Degradation API, where the programmer holds its license
//! (`--adobe-degradation`; otherwise 404 `degradation_not_licensed`), with the admin token:
//! - `GET /admin/v1/degradation` lists the rules in force, as Adobe has them;
//! - `PUT /admin/v1/degradation/{mvpd}` applies AuthNAll, AuthZAll or AuthZNone until an end
//!   time (replacing the rule in force there);
//! - `DELETE /admin/v1/degradation/{mvpd}` removes it.
//!
//! Each change is logged with who and why; the rule lapses at its end time by itself.

use axum::{
    extract::{rejection::PathRejection, Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};

use super::{admin::Operator, body::DeclaredJsonBody, error::ApiError};
use crate::{
    adobe_pass::types::{AppliedDegradation, DegradationRule},
    service::{DegradationChange, DegradationRemoval},
    state::AppState,
};

/// A rule an operator applies.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyRule {
    /// `AuthNAll`, `AuthZAll` or `AuthZNone`.
    rule: DegradationRule,
    /// When the rule lapses by itself, epoch ms.
    until: i64,
    /// The operator's name.
    changed_by: String,
    /// Why.
    reason: String,
}

/// Who removes a rule, and why.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveRule {
    /// The operator's name.
    changed_by: String,
    /// Why.
    reason: String,
}

/// A rule in force, as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    mvpd: String,
    rule: DegradationRule,
    applied_at: i64,
    until: i64,
}

impl From<AppliedDegradation> for RuleView {
    fn from(rule: AppliedDegradation) -> Self {
        Self {
            mvpd: rule.mvpd,
            rule: rule.rule,
            applied_at: rule.applied_at,
            until: rule.expires_at,
        }
    }
}

/// The rules in force.
#[derive(Debug, Serialize)]
pub struct RuleList {
    rules: Vec<RuleView>,
}

/// 404 unless the programmer holds the Degradation API's license.
fn licensed(state: &AppState) -> Result<(), ApiError> {
    if state.config.adobe_degradation {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "degradation_not_licensed",
        "Adobe's Degradation API is not licensed here (--adobe-degradation).",
        "contact-support",
    ))
}

/// Lists the rules in force.
pub async fn rules(State(state): State<AppState>, _: Operator) -> Result<Json<RuleList>, ApiError> {
    licensed(&state)?;
    let rules = state.service.degradation_rules().await?;
    Ok(Json(RuleList {
        rules: rules.into_iter().map(Into::into).collect(),
    }))
}

/// Applies a rule to an MVPD until its end time; answers the rule in force.
pub async fn apply(
    State(state): State<AppState>,
    _: Operator,
    mvpd: Result<Path<String>, PathRejection>,
    DeclaredJsonBody(asked): DeclaredJsonBody<ApplyRule>,
) -> Result<Json<RuleView>, ApiError> {
    licensed(&state)?;
    let Path(mvpd) = mvpd?;
    let applied = state
        .service
        .apply_degradation(
            &mvpd,
            DegradationChange {
                rule: asked.rule,
                until: asked.until,
                changed_by: asked.changed_by,
                reason: asked.reason,
            },
        )
        .await?;
    Ok(Json(applied.into()))
}

/// Removes the rule in force on an MVPD; answers the rule removed (404 when none).
pub async fn remove(
    State(state): State<AppState>,
    _: Operator,
    mvpd: Result<Path<String>, PathRejection>,
    DeclaredJsonBody(asked): DeclaredJsonBody<RemoveRule>,
) -> Result<Json<RuleView>, ApiError> {
    licensed(&state)?;
    let Path(mvpd) = mvpd?;
    let removed = state
        .service
        .remove_degradation(
            &mvpd,
            DegradationRemoval {
                changed_by: asked.changed_by,
                reason: asked.reason,
            },
        )
        .await?;
    Ok(Json(removed.into()))
}
