//! The activation site's server side: the [`ActivationPort`] the pages call (backed by the
//! service), the per-IP limit on code lookups, the viewer's IP for each request, sessions and
//! the language switcher.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use app::{
    pages::activate::api::ssr::{LookupLimiter, ViewerIp},
    port::{
        masked, ActivationPort, CodeDetails, Completion, Lookup, PortError, PortFuture,
        ProviderChoice, ProviderView,
    },
};
use axum::{
    extract::{ConnectInfo, Path, Query, Request},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use governor::{
    clock::{Clock as _, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};
use tower_sessions::{cookie::SameSite, Expiry, MemoryStore, SessionManagerLayer};
use url::Url;

use super::AppState;
use crate::{
    service::{Provider, Service, ServiceError},
    store::ActivationStatus,
};

/// Code lookups one IP may make at once.
const LOOKUP_BURST: u32 = 10;
/// Then one more per this period.
const LOOKUP_PERIOD: Duration = Duration::from_secs(60);
/// How long a browser session lives without activity.
const SESSION_IDLE: tower_sessions::cookie::time::Duration =
    tower_sessions::cookie::time::Duration::hours(2);

/// The service behind the pages' port.
pub struct SitePort {
    service: Service,
    adobe_origin: url::Origin,
}

impl SitePort {
    /// A port over `service`; sign-in redirects are only allowed to Adobe's origin.
    pub fn new(service: Service) -> Result<Self, ServiceError> {
        let adobe_origin = service.adobe().authenticate_url("CODE")?.origin();
        Ok(Self {
            service,
            adobe_origin,
        })
    }
}

fn provider_view(provider: &Provider) -> ProviderView {
    ProviderView {
        id: provider.id.clone(),
        name: provider.display_name.clone(),
        logo_url: provider.logo_url.clone(),
    }
}

fn port_error(error: ServiceError) -> PortError {
    match error.retry_after() {
        Some(wait) => PortError::Busy(wait.as_secs().max(1)),
        None => PortError::Unavailable(format!("{}: {}", error.code(), error.message())),
    }
}

impl SitePort {
    async fn provider(&self, code: &str, viewer: IpAddr, id: &str) -> ProviderView {
        let list = self.service.providers_for_code(code, viewer).await;
        list.ok()
            .and_then(|list| list.find(id).map(provider_view))
            .unwrap_or_else(|| ProviderView {
                id: id.to_owned(),
                name: id.to_owned(),
                logo_url: None,
            })
    }
}

impl ActivationPort for SitePort {
    fn look_up<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Lookup> {
        Box::pin(async move {
            let Some(pending) = self
                .service
                .look_up_code(code, viewer)
                .await
                .map_err(port_error)?
            else {
                return Ok(Lookup::Gone);
            };
            let provider = match &pending.mvpd {
                Some(id) => Some(self.provider(code, viewer, id).await),
                None => None,
            };
            Ok(Lookup::Pending(CodeDetails {
                code: pending.code,
                device: pending.device,
                provider,
                expires_at: Some(pending.expires_at),
            }))
        })
    }

    fn providers<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, ProviderChoice> {
        Box::pin(async move {
            let list = self
                .service
                .providers_for_code(code, viewer)
                .await
                .map_err(port_error)?;
            Ok(ProviderChoice {
                featured: list.featured.iter().map(provider_view).collect(),
                all: list.all.iter().map(provider_view).collect(),
            })
        })
    }

    fn start_sign_in<'a>(
        &'a self,
        code: &'a str,
        mvpd: &'a str,
        viewer: IpAddr,
    ) -> PortFuture<'a, Option<String>> {
        Box::pin(async move {
            let url = self
                .service
                .start_sign_in(code, mvpd, viewer)
                .await
                .map_err(port_error)?;
            match url {
                Some(url) if url.origin() == self.adobe_origin => Ok(Some(url.to_string())),
                Some(_) => Err(PortError::Unavailable(
                    "the sign-in address is not on the configured Adobe Pass origin".to_owned(),
                )),
                None => Ok(None),
            }
        })
    }

    fn complete<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Completion> {
        Box::pin(async move {
            let view = match self.service.confirm_activation(code, viewer).await {
                Ok(view) => view,
                Err(ServiceError::NotFound(_)) => return Ok(Completion::Gone),
                Err(error) => return Err(port_error(error)),
            };
            Ok(match (view.status, view.provider) {
                (ActivationStatus::Authenticated, Some(id)) => {
                    Completion::SignedIn(self.provider(code, viewer, &id).await)
                }
                (ActivationStatus::Pending, _) => Completion::NotFinished,
                _ => Completion::Gone,
            })
        })
    }

    fn cancel<'a>(&'a self, code: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async move {
            tracing::info!(code = %masked(code), "viewer cancelled an activation");
            self.service
                .cancel_activation(code)
                .await
                .map(|_| ())
                .map_err(port_error)
        })
    }
}

/// Per-IP limit on code lookups (a burst of 10, then 1 a minute) and the count of failed
/// guesses.
pub struct CodeLookupLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    failed: AtomicU64,
}

impl Default for CodeLookupLimiter {
    fn default() -> Self {
        let burst = NonZeroU32::new(LOOKUP_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(LOOKUP_PERIOD)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            failed: AtomicU64::new(0),
        }
    }
}

impl LookupLimiter for CodeLookupLimiter {
    fn admit(&self, viewer: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&viewer).map_err(|not_until| {
            let now = DefaultClock::default().now();
            not_until.wait_time_from(now).as_secs().max(1)
        })
    }

    fn failed_guess(&self) {
        let total = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(failed_code_guesses = total, "a code matched no activation");
    }
}

/// The viewer's IP: the connection's peer, or the last `X-Forwarded-For` entry when the peer
/// is a proxy on this host (loopback).
pub fn viewer_ip(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !peer.ip().is_loopback() {
        return peer.ip();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
        .last()
        .unwrap_or(peer.ip())
}

/// Puts the viewer's IP in the request for the pages' server functions.
pub async fn with_viewer_ip(mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let ip = viewer_ip(peer, request.headers());
    request.extensions_mut().insert(ViewerIp(ip));
    next.run(request).await
}

/// Browser sessions: `HttpOnly`, `SameSite=Lax`, `Secure` on https, in memory.
pub fn session_layer(https: bool) -> SessionManagerLayer<MemoryStore> {
    SessionManagerLayer::new(MemoryStore::default())
        .with_name("tve_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE))
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// `GET /language/{tag}?back=/path`: remembers the language for a year and goes back (only
/// to a path on this site).
async fn switch_language(Path(tag): Path<String>, Query(back): Query<Back>) -> Response {
    let Some(lang) = app::i18n::Lang::from_tag(&tag) else {
        return (StatusCode::NOT_FOUND, "unknown language").into_response();
    };
    let back = back
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.tag()
    );
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The site's own routes besides the Leptos pages.
pub fn router() -> Router<AppState> {
    Router::new().route("/language/{tag}", get(switch_language))
}

/// The origin of Adobe Pass (or the emulator), where sign-in redirects go.
pub fn adobe_origin(service: &Service) -> Option<String> {
    service
        .adobe()
        .authenticate_url("CODE")
        .ok()
        .map(|url: Url| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_local_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 5.6.7.8"),
        );
        let local = SocketAddr::from(([127, 0, 0, 1], 9));
        let remote = SocketAddr::from(([9, 9, 9, 9], 9));
        assert_eq!(viewer_ip(local, &headers).to_string(), "5.6.7.8");
        assert_eq!(viewer_ip(remote, &headers).to_string(), "9.9.9.9");
    }

    #[test]
    fn the_eleventh_rapid_lookup_waits() {
        let limiter = CodeLookupLimiter::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(limiter.admit(ip).is_ok());
        }
        assert!(limiter.admit(ip).is_err_and(|wait| wait >= 1));
        assert!(limiter.admit([10, 0, 0, 2].into()).is_ok());
    }
}
