//! Activations: start one (code, links, QR code), follow it by polling, long-polling
//! (`?wait=N`, N ≤ 30 s) or server-sent events, and draw its QR code.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{rejection::PathRejection, rejection::QueryRejection, Path, Query, State},
    http::{header, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Json,
};
use futures_util::stream::{self, Stream, StreamExt as _};
use qrcode::{render::svg, EcLevel, QrCode};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::ToSchema;

use super::{
    auth::{AuthenticatedDevice, MeteredDevice},
    body::JsonBody,
    error::{ApiError, ErrorBody},
};
use crate::{
    backoff,
    draining::Draining,
    limits::{Wait, WaitSlot, WaitSlots},
    service::{ActivationView, DeviceSession, Service, ServiceError, StartOutcome},
    store::ActivationStatus,
};

/// Longest long-poll a TV may ask for.
const MAX_WAIT_SECONDS: u64 = 30;
/// How long an event stream stays quiet before the activation is checked again (which also
/// notices expiry).
const EVENTS_RECHECK: Duration = Duration::from_secs(15);

/// What the TV sends to start an activation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartActivation {
    /// The provider picked on the TV (an id from `GET /tv/v1/providers`); absent: the viewer
    /// picks it on the phone. The body may be left out.
    #[schema(example = "Spectrum")]
    pub mvpd: Option<String>,
}

/// A new activation: show the code and the QR code, then wait.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    /// The code to show on the TV.
    #[schema(example = "8ER640M")]
    pub code: String,
    /// The short URL to show next to the code.
    #[schema(example = "http://127.0.0.1:3000/activate")]
    pub activation_url: String,
    /// The URL with the code filled in (what the QR code holds).
    #[schema(example = "http://127.0.0.1:3000/activate?code=8ER640M")]
    pub activation_url_complete: String,
    /// The QR code of `activationUrlComplete`, as SVG (needs the device token).
    pub qr_code_url: String,
    /// When the code stops working, epoch milliseconds.
    pub expires_at: i64,
    /// How often to ask for the status when not long-polling, in seconds.
    pub poll_interval_seconds: u64,
}

/// The device is already signed in: nothing to activate.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlreadyAuthenticated {
    /// Always `authenticated`.
    pub status: AuthenticatedStatus,
    /// The provider signed in with.
    pub provider: String,
    /// Adobe's profile type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the sign-in ends, epoch milliseconds.
    pub expires_at: i64,
}

/// The one status of [`AlreadyAuthenticated`].
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthenticatedStatus {
    /// Signed in.
    Authenticated,
}

/// Where an activation stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationState {
    /// `pending` until the viewer signs in (`authenticated`), the code runs out (`expired`),
    /// the viewer says it is not their code (`cancelled`) or the TV starts a newer one
    /// (`superseded`).
    pub status: Status,
    /// The provider, once picked or signed in with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// When the code stops working, epoch milliseconds.
    pub expires_at: i64,
}

/// An activation's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the viewer.
    Pending,
    /// Signed in: the device has a profile.
    Authenticated,
    /// The code ran out: start a new activation.
    Expired,
    /// The viewer cancelled on the phone: start a new activation.
    Cancelled,
    /// A newer activation of this device replaced it.
    Superseded,
}

impl From<ActivationStatus> for Status {
    fn from(status: ActivationStatus) -> Self {
        match status {
            ActivationStatus::Pending => Self::Pending,
            ActivationStatus::Authenticated => Self::Authenticated,
            ActivationStatus::Expired => Self::Expired,
            ActivationStatus::Cancelled => Self::Cancelled,
            ActivationStatus::Superseded => Self::Superseded,
        }
    }
}

impl From<ActivationView> for ActivationState {
    fn from(view: ActivationView) -> Self {
        Self {
            status: view.status.into(),
            provider: view.provider,
            expires_at: view.expires_at,
        }
    }
}

/// How long to long-poll.
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    wait: Option<u64>,
}

/// Starts an activation, superseding the device's previous one.
#[utoipa::path(
    post,
    path = "/tv/v1/activations",
    tag = "activations",
    security(("deviceToken" = [])),
    request_body(content = Option<StartActivation>, description = "Optional; `{}` or no body lets the viewer pick the provider on the phone"),
    responses(
        (status = 201, description = "A code to show", body = Activation),
        (status = 200, description = "Already signed in", body = AlreadyAuthenticated),
        (status = 400, description = "Malformed body or an unknown provider (the message names the field)", body = ErrorBody),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 403, description = "Adobe Pass asks for a new sign-in", body = ErrorBody),
        (status = 429, description = "Too many steps reaching Adobe from this TV or its network; retry after `retryAfter` seconds", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn start(
    State(service): State<Service>,
    MeteredDevice(session): MeteredDevice,
    JsonBody(request): JsonBody<StartActivation>,
) -> Result<Response, ApiError> {
    Ok(
        match service
            .start_activation(&session, request.mvpd.as_deref())
            .await?
        {
            StartOutcome::Authenticated(profile) => Json(AlreadyAuthenticated {
                status: AuthenticatedStatus::Authenticated,
                provider: profile.provider,
                kind: profile.kind,
                expires_at: profile.expires_at,
            })
            .into_response(),
            StartOutcome::Started(started) => {
                let qr_code_url = service
                    .settings()
                    .public_link(&format!("/tv/v1/activations/{}/qr.svg", started.code));
                let activation = Activation {
                    code: started.code,
                    activation_url: started.activation_url,
                    activation_url_complete: started.activation_url_complete,
                    qr_code_url,
                    expires_at: started.expires_at,
                    poll_interval_seconds: started.poll_interval_seconds,
                };
                (StatusCode::CREATED, Json(activation)).into_response()
            }
        },
    )
}

/// Where the activation stands; with `?wait=N` the answer waits up to N seconds for it to
/// leave `pending`.
#[utoipa::path(
    get,
    path = "/tv/v1/activations/{code}",
    tag = "activations",
    security(("deviceToken" = [])),
    params(
        ("code" = String, Path, description = "The activation code"),
        ("wait" = Option<u64>, Query, description = "Seconds (0–30) to wait for a change from `pending` before answering", maximum = 30, minimum = 0),
    ),
    responses(
        (status = 200, description = "The status", body = ActivationState),
        (status = 400, description = "`wait` out of range", body = ErrorBody),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 404, description = "No such activation for this device", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn status(
    State(service): State<Service>,
    State(waits): State<Arc<WaitSlots>>,
    State(draining): State<Draining>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    code: Result<Path<String>, PathRejection>,
    query: Result<Query<WaitQuery>, QueryRejection>,
) -> Result<Json<ActivationState>, ApiError> {
    let Path(code) = code?;
    let Query(query) = query.map_err(|_| wait_out_of_range())?;
    let wait = match query.wait {
        Some(wait) if wait > MAX_WAIT_SECONDS => return Err(wait_out_of_range()),
        Some(wait) => Duration::from_secs(wait),
        None => Duration::ZERO,
    };
    let view = if wait.is_zero() {
        service.activation_status(&session, &code).await?
    } else {
        let _slot = waits
            .take(
                &session.device.device_id,
                session.identity.connection().ip(),
                Wait::LongPoll,
            )
            .map_err(ServiceError::TooMany)?;
        // A draining node answers after this TV's share of the drain's spread (at once on a
        // change), so its TVs poll again, through the balancer on another node, apart.
        let sent_away = async move {
            draining.started().await;
            tokio::time::sleep(draining.hold()).await;
        };
        tokio::select! {
            view = service.wait_for_activation(&session, &code, wait) => view?,
            () = sent_away => service.activation_status(&session, &code).await?,
        }
    };
    Ok(Json(view.into()))
}

fn wait_out_of_range() -> ApiError {
    ApiError::invalid(
        "wait",
        format!("must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"),
    )
}

/// Server-sent events: a `status` event (data: the activation's status as JSON) now and on
/// every change; the stream ends after a status other than `pending`, or with a `reconnect`
/// event (data: `{"retryAfter": seconds, "retryAfterMs": milliseconds}`) when the node drains.
#[utoipa::path(
    get,
    path = "/tv/v1/activations/{code}/events",
    tag = "activations",
    security(("deviceToken" = [])),
    params(("code" = String, Path, description = "The activation code")),
    responses(
        (status = 200, description = "`text/event-stream` of `status` events, each `data` an ActivationState; a draining node ends it with a `reconnect` event whose `data` is `{\"retryAfter\": seconds, \"retryAfterMs\": milliseconds}` (and `retry:` in milliseconds): open the stream again after `retryAfterMs`, never sooner", content_type = "text/event-stream", body = String),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 404, description = "No such activation for this device", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn events(
    State(service): State<Service>,
    State(waits): State<Arc<WaitSlots>>,
    State(draining): State<Draining>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    code: Result<Path<String>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Path(code) = code?;
    let slot = waits
        .take(
            &session.device.device_id,
            session.identity.connection().ip(),
            Wait::EventStream,
        )
        .map_err(ServiceError::TooMany)?;
    let updates = service.follow_activation(&session, &code).await?;
    let follower = Follower {
        service,
        session,
        code,
        updates,
        last: None,
        _slot: slot,
    };
    let statuses = stream::unfold(follower, |mut follower| async move {
        let view = follower.next().await?;
        let event = Event::default()
            .event("status")
            .json_data(ActivationState::from(view))
            .unwrap_or_else(|_| Event::default().event("error"));
        Some((Ok(event), follower))
    });
    // A draining node ends the stream with `reconnect`, telling this TV its own delay: the TV
    // opens the stream again after it, through the balancer, on another node.
    let cut = draining.clone();
    let reconnect = stream::once(async move { cut.is_draining().then(|| cut.reconnect_delay()) })
        .filter_map(|delay| std::future::ready(delay.map(|delay| Ok(reconnect_event(delay)))));
    let stream = statuses.take_until(draining.started()).chain(reconnect);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The data of a `reconnect` event: when to open the stream again.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Reconnect {
    /// The delay in whole seconds, rounded up.
    retry_after: u64,
    /// The delay in milliseconds: what a TV should wait.
    retry_after_ms: u64,
}

/// The `reconnect` event that ends a drained stream: the delay in its data and, for an
/// `EventSource`, as the event's `retry`.
fn reconnect_event(delay: Duration) -> Event {
    // Whole milliseconds, so that the three forms say the same.
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let delay = Duration::from_millis(millis);
    let reconnect = Reconnect {
        retry_after: backoff::whole_seconds(delay),
        retry_after_ms: millis,
    };
    Event::default()
        .event("reconnect")
        .retry(delay)
        .json_data(&reconnect)
        .unwrap_or_else(|_| Event::default().event("reconnect"))
}

/// One event stream's view of an activation.
struct Follower {
    service: Service,
    session: DeviceSession,
    code: String,
    updates: watch::Receiver<ActivationView>,
    last: Option<ActivationView>,
    /// Its place among the device's open waits, given back when the stream ends.
    _slot: WaitSlot,
}

impl Follower {
    /// The next status to send; `None` once a final status was sent (or the activation can no
    /// longer be read).
    async fn next(&mut self) -> Option<ActivationView> {
        loop {
            if self
                .last
                .as_ref()
                .is_some_and(|view| view.status != ActivationStatus::Pending)
            {
                return None;
            }
            let current = self.updates.borrow_and_update().clone();
            if self.last.as_ref() != Some(&current) {
                self.last = Some(current.clone());
                return Some(current);
            }
            match tokio::time::timeout(EVENTS_RECHECK, self.updates.changed()).await {
                Ok(Ok(())) => {}
                // Quiet for a while, or the channel closed: look again (this settles expiry).
                // Boxed: the store's futures are large, and thousands of streams wait here.
                _ => {
                    self.updates =
                        Box::pin(self.service.follow_activation(&self.session, &self.code))
                            .await
                            .ok()?;
                }
            }
        }
    }
}

/// The QR code of the activation's complete URL, as SVG.
#[utoipa::path(
    get,
    path = "/tv/v1/activations/{code}/qr.svg",
    tag = "activations",
    security(("deviceToken" = [])),
    params(("code" = String, Path, description = "The activation code")),
    responses(
        (status = 200, description = "The QR code of `activationUrlComplete`", content_type = "image/svg+xml", body = String),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 404, description = "No such activation for this device", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn qr(
    State(service): State<Service>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(code) = code?;
    let view = service.activation_status(&session, &code).await?;
    let url = format!(
        "{}?code={}",
        service.settings().public_link("/activate"),
        view.code
    );
    let svg = qr_svg(&url)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        svg,
    )
        .into_response())
}

/// `text` as an SVG QR code with a quiet zone, dark on light.
fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "qr_code_unavailable",
            "The activation link is too long for a QR code.",
            "contact-support",
        )
    })?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_svg() {
        let svg = qr_svg("http://127.0.0.1:3000/activate?code=8ER640M").expect("svg");
        assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
        assert!(svg.contains("<svg"));
        assert!(svg.contains("#000000"));
    }
}
