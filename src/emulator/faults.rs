//! Fault injection for reliability tests: added latency, 500/503 answers, connection resets,
//! 429s, the Enhanced Errors Adobe documents but the emulator's own flows never produce
//! (top-level or inside decision items), degradation rules and forged media tokens, per
//! endpoint, by rate and for a number of requests. Set at start-up, and read or replaced at run
//! time through `GET`/`PUT /__emulator/faults` (JSON `{"rules": [...]}`).

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::emulator::{
    degradation,
    errors::{ApiError, ErrorCode},
    media_token,
    state::EmulatorState,
    throttle,
};

/// Path of the admin route.
pub const ADMIN_PATH: &str = "/__emulator/faults";

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Fault {
    /// The answer is delayed.
    Latency {
        /// Added delay.
        millis: u64,
    },
    /// The answer is this status (500 or 503) with an `internal_server_error` body.
    Error {
        /// 500 or 503.
        status: u16,
    },
    /// The connection is closed without an answer.
    Reset,
    /// Adobe's throttle: HTML 429 with no `Retry-After` (§12), as while a burst is spent.
    Throttled,
    /// A top-level Enhanced Error with this code, at the HTTP status §11 gives it (for example
    /// `authenticated_profile_invalidated`, `invalid_integration`,
    /// `invalid_access_token_service_provider`).
    Enhanced {
        /// The code, as Adobe spells it.
        code: ErrorCode,
    },
    /// On decisions (D1, D2): every item denied with this code inside an HTTP 200 (for example
    /// `network_connection_timeout`, action `retry`); other endpoints answer as usual.
    ItemError {
        /// The code, as Adobe spells it.
        code: ErrorCode,
    },
    /// Degraded access (§14.3, premium): a degradation rule on `mvpd` (see [`Degradation`]);
    /// other MVPDs answer as usual.
    Degraded {
        /// The MVPD under the rule.
        mvpd: String,
        /// Which rule (absent: `AuthNAll`).
        #[serde(default)]
        rule: Degradation,
        /// AuthZAll and AuthZNone also decide for devices with no profile for `mvpd` (the
        /// degraded-flows page's "does not have a valid profile" assumption); absent or false:
        /// only for authenticated devices, the others get the basic flow's
        /// `authenticated_profile_missing`.
        #[serde(
            default,
            rename = "withoutProfile",
            skip_serializing_if = "std::ops::Not::not"
        )]
        without_profile: bool,
    },
    /// S1 without a `redirectUrl` is taken as if it had sent `url`, so a session with the
    /// other parameters answers `authenticate` rather than `resume`: the reading in which Adobe
    /// defaults a missing redirect (REST-API-V2.md §7.2 allows leaving it out; what Adobe does
    /// then is UNVERIFIED).
    DefaultRedirect {
        /// The redirect URL Adobe would use.
        url: String,
    },
    /// On D2: every media token's payload is changed after signing (its `notAfter` a day
    /// later), so its signature no longer verifies, as with a forged or corrupted token;
    /// other endpoints answer as usual.
    ForgedMediaToken,
    /// On D2: each resource's media token is the first one issued for it under this fault,
    /// again and again (valid, but spent), as a replayed answer carries; other endpoints
    /// answer as usual.
    ReplayedMediaToken,
}

/// A degradation rule, as the Degradation API names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Degradation {
    /// Authentication and authorization skip the MVPD: S1/S2 answer `authorize` with
    /// `reasonType: degraded` (§7.1), P2 and P3 give `degraded` profiles (§8.1; P1 lists none),
    /// and decisions permit with `source: degradation` (§9.2).
    #[default]
    #[serde(rename = "AuthNAll")]
    AuthNAll,
    /// Authorization skips the MVPD for authenticated users: decisions permit with
    /// `source: degradation` (§9.2, no decision-level `notBefore`/`notAfter`).
    #[serde(rename = "AuthZAll")]
    AuthZAll,
    /// Authorization is denied for authenticated users: items with
    /// `authorization_denied_by_degradation_rule` and `source: degradation` (§9.2).
    #[serde(rename = "AuthZNone")]
    AuthZNone,
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// Applies to request paths starting with this (absent: every Adobe endpoint), for
    /// example `/api/v2/REF30/decisions/authorize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Applies to this method only (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Share of matching requests hit, 0.0–1.0.
    #[serde(default = "always")]
    pub rate: f64,
    /// How many more requests it hits (absent: no limit); counts down as it hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn always() -> f64 {
    1.0
}

/// The fault rules in force.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSet {
    /// Checked in order; every matching latency adds up, the first error or reset wins.
    pub rules: Vec<FaultRule>,
}

/// A fault set that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// A rate outside 0–1.
    #[error("fault rate {0} is not between 0 and 1")]
    Rate(f64),
    /// An error status other than 500 or 503.
    #[error("fault status {0} is not 500 or 503")]
    Status(u16),
}

impl FaultSet {
    /// Rejects rates outside 0–1 and statuses other than 500 and 503.
    pub fn check(&self) -> Result<(), FaultError> {
        for rule in &self.rules {
            if !(0.0..=1.0).contains(&rule.rate) {
                return Err(FaultError::Rate(rule.rate));
            }
            if let Fault::Error { status } = rule.fault {
                if status != 500 && status != 503 {
                    return Err(FaultError::Status(status));
                }
            }
        }
        Ok(())
    }
}

/// The fault rules, replaceable at run time, and what the faults remember.
#[derive(Debug, Default)]
pub struct Faults {
    set: Mutex<FaultSet>,
    replays: media_token::Replays,
}

impl Faults {
    /// Starts with `set` (checked by the caller).
    pub fn new(set: FaultSet) -> Self {
        Self {
            set: Mutex::new(set),
            replays: media_token::Replays::default(),
        }
    }

    /// The rules now.
    pub fn get(&self) -> FaultSet {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the rules.
    pub fn set(&self, set: FaultSet) {
        *self.set.lock().unwrap_or_else(PoisonError::into_inner) = set;
    }

    /// The faults hitting this request: total latency and the first other fault. A rule with
    /// `times` counts down as it hits.
    fn draw(&self, method: &Method, path: &str) -> (Duration, Option<Fault>) {
        let mut set = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rng = rand::rng();
        let mut latency = Duration::ZERO;
        let mut failure = None;
        for rule in set.rules.iter_mut().filter(|r| {
            r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && r.times != Some(0)
        }) {
            if rng.random::<f64>() >= rule.rate {
                continue;
            }
            match &rule.fault {
                Fault::Latency { millis } => latency += Duration::from_millis(*millis),
                _ if failure.is_some() => continue,
                fault => failure = Some(fault.clone()),
            }
            if let Some(times) = rule.times.as_mut() {
                *times -= 1;
            }
        }
        (latency, failure)
    }
}

/// A body that fails at once, so the server drops the connection before any byte of the
/// answer is written.
fn reset() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// Middleware: applies the fault rules to Adobe endpoints.
pub async fn inject(State(state): State<EmulatorState>, request: Request, next: Next) -> Response {
    let (latency, failure) = state.faults().draw(request.method(), request.uri().path());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match failure {
        Some(Fault::Error { status }) => {
            let mut error = ApiError::new(ErrorCode::InternalServerError);
            error.http_status =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error.error.status = status;
            error.error.details = Some("Injected by the emulator's fault settings.".to_owned());
            error.into_response()
        }
        Some(Fault::Reset) => reset(),
        Some(Fault::Throttled) => throttle::too_many_requests(),
        Some(Fault::Enhanced { code }) => ApiError::new(code).into_response(),
        Some(Fault::ItemError { code }) => {
            degradation::item_errors(&state, request, code, next).await
        }
        Some(Fault::Degraded {
            mvpd,
            rule,
            without_profile,
        }) => {
            let rule = degradation::Rule {
                mvpd: &mvpd,
                kind: rule,
                without_profile,
            };
            degradation::degraded(&state, request, rule, next).await
        }
        Some(Fault::DefaultRedirect { url }) => {
            degradation::default_redirect(request, &url, next).await
        }
        Some(Fault::ForgedMediaToken) => media_token::forged(request, next).await,
        Some(Fault::ReplayedMediaToken) => {
            media_token::replayed(&state.faults().replays, request, next).await
        }
        Some(Fault::Latency { .. }) | None => next.run(request).await,
    }
}

/// `GET /__emulator/faults`.
pub async fn show(State(state): State<EmulatorState>) -> Json<FaultSet> {
    Json(state.faults().get())
}

/// `PUT /__emulator/faults`: replaces the rules; 400 with a message when they are invalid.
pub async fn replace(
    State(state): State<EmulatorState>,
    body: Bytes,
) -> Result<Json<FaultSet>, (StatusCode, String)> {
    let set: FaultSet = serde_json::from_slice(&body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("invalid fault set: {e}")))?;
    set.check()
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    state.faults().set(set.clone());
    Ok(Json(set))
}
