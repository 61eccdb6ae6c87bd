//! The activation site's server side: the [`ActivationPort`] the pages call (backed by the
//! service), the per-IP limit on code lookups, the viewer's IP for each request, sessions and
//! the language switcher.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
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
    extract::{ConnectInfo, Path, Query, Request, State},
    http::{header, HeaderValue, StatusCode},
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
    config::Config,
    service::{Provider, Service, ServiceError},
    store::ActivationStatus,
    tv_api::client_addr::client_addr,
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
        let found = self.service.provider_for_code(code, id, viewer).await;
        found
            .ok()
            .flatten()
            .map(|provider| provider_view(&provider))
            .unwrap_or_else(|| ProviderView {
                id: id.to_owned(),
                name: id.to_owned(),
                logo_url: None,
            })
    }

    /// No profile yet: the viewer may try again while Adobe's session lives; once the
    /// provider's Cancel has ended it, the activation ends too, so the TV offers a new code.
    async fn not_signed_in(&self, code: &str, viewer: IpAddr) -> Result<Completion, PortError> {
        if self
            .service
            .sign_in_still_possible(code, viewer)
            .await
            .map_err(port_error)?
        {
            return Ok(Completion::NotFinished);
        }
        tracing::info!(code = %masked(code), "the provider sign-in was cancelled");
        match self.service.cancel_activation(code).await {
            Ok(_) | Err(ServiceError::NotFound(_)) => Ok(Completion::Gone),
            Err(error) => Err(port_error(error)),
        }
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
                (ActivationStatus::Pending, _) => self.not_signed_in(code, viewer).await?,
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

impl CodeLookupLimiter {
    /// The count of failed guesses, in the Prometheus text format.
    pub fn render_prometheus(&self) -> String {
        format!(
            "# HELP tve_activation_code_failures_total Codes entered on the activation site that matched no pending activation.\n\
             # TYPE tve_activation_code_failures_total counter\n\
             tve_activation_code_failures_total {}\n",
            self.failed.load(Ordering::Relaxed)
        )
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

/// Puts the viewer's IP in the request for the pages' server functions: the connection's
/// peer, or the client `X-Forwarded-For` names when the peer is a configured trusted proxy
/// (`--trusted-proxies`), as for the TV API.
pub async fn with_viewer_ip(
    State(config): State<Arc<Config>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let ip = client_addr(&config, peer, request.headers()).ip();
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
    fn the_eleventh_rapid_lookup_waits() {
        let limiter = CodeLookupLimiter::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(limiter.admit(ip).is_ok());
        }
        assert!(limiter.admit(ip).is_err_and(|wait| wait >= 1));
        assert!(limiter.admit([10, 0, 0, 2].into()).is_ok());
    }

    #[test]
    fn failed_guesses_are_counted_for_prometheus() {
        let limiter = CodeLookupLimiter::default();
        assert!(limiter
            .render_prometheus()
            .contains("\ntve_activation_code_failures_total 0\n"));
        limiter.failed_guess();
        limiter.failed_guess();
        let text = limiter.render_prometheus();
        assert!(text.contains("# TYPE tve_activation_code_failures_total counter\n"));
        assert!(text.contains("\ntve_activation_code_failures_total 2\n"));
    }
}
