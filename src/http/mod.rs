//! Router assembly and the layers every request goes through.

pub mod brand;
pub mod connection_shares;
mod form_signer;
pub mod health;
pub mod metrics;
pub mod security;
pub mod server;
pub mod shutdown;
pub mod site;
pub mod trace;

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use axum::{http::StatusCode, Router};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
};

use crate::config::Config;
pub use crate::state::AppState;

/// Largest request body accepted anywhere; the API's JSON bodies are far smaller.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest a request may take; long polls wait at most 30 s, so this leaves them room.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// The site's routes, listed once per process. Listing them runs the app with resource loading
/// suppressed by a process-wide flag (leptos-rs/leptos#4773): a page whose resource first polled
/// while another router was being built would never finish. Several routers in one process (the
/// tests start one per test) would otherwise hang each other's pages.
static SITE_ROUTES: LazyLock<Vec<AxumRouteListing>> =
    LazyLock::new(|| generate_route_list(app::App));

/// The whole service: pages, assets, health checks, and the layers around them.
pub fn router(state: AppState) -> Router {
    let routes = SITE_ROUTES.clone();
    let port: Option<app::port::SharedPort> = match site::SitePort::new(state.service.clone()) {
        Ok(port) => Some(Arc::new(port)),
        Err(error) => {
            tracing::error!(%error, "the activation site cannot reach Adobe Pass's sign-in");
            None
        }
    };
    let limiter: Arc<dyn app::pages::activate::api::ssr::LookupLimiter> =
        state.shared.code_guard.clone();
    let new_sessions: Arc<dyn app::pages::activate::api::ssr::SessionLimiter> =
        state.shared.new_sessions.clone();
    let signer: Arc<dyn app::pages::activate::browser::FormSigner> =
        Arc::new(form_signer::SiteSigner::new(state.config.secrets.as_ref()));
    let public_origin = app::pages::activate::api::ssr::PublicOrigin(
        state.config.public_url.origin().ascii_serialization(),
    );
    let brand = state.config.brand.page.clone();
    let context = move || {
        if let Some(port) = &port {
            leptos::prelude::provide_context(port.clone());
        }
        leptos::prelude::provide_context(limiter.clone());
        leptos::prelude::provide_context(new_sessions.clone());
        leptos::prelude::provide_context(signer.clone());
        leptos::prelude::provide_context(public_origin.clone());
        leptos::prelude::provide_context(brand.clone());
    };
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos.clone();
            move || app::shell(options.clone())
        })
        .fallback(site::with_cache_headers(
            leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell),
        ));

    let policy = security::SecurityPolicy::new(&state.config)
        .with_sign_in_origin(site::adobe_origin(&state.service));
    let sessions = site::session_layer(state.config.is_https(), state.shared.sessions.clone());
    let config = state.config.clone();
    let requests = state.requests.clone();
    let mut site = Router::new()
        .merge(site::router())
        .merge(brand::router(&state.config.brand))
        .merge(pages);
    if !state.config.tv_simulator {
        site = site.route_layer(axum::middleware::from_fn(site::without_tv_simulator));
    }
    let app = Router::new()
        .merge(health::router())
        .merge(crate::tv_api::router())
        .merge(site)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            requests,
            metrics::timed,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(site::bare_failures_as_try_again))
        .layer(axum::middleware::from_fn_with_state(
            config.clone(),
            site::with_viewer_ip,
        ));
    with_common_layers(app, config, Some(policy))
}

/// The operators' routes, for `--internal-listen`: metrics, detailed readiness, admin.
pub fn internal_router(state: AppState) -> Router {
    let config = state.config.clone();
    let app = Router::new()
        .merge(health::internal_router())
        .merge(metrics::router())
        .merge(crate::tv_api::admin_router())
        .with_state(state);
    with_common_layers(app, config, None)
}

/// Request ids (believed from trusted proxies only, and known to the events a request leads
/// to), tracing, support cases, security headers, compression, body size and time limits.
fn with_common_layers(
    app: Router,
    config: Arc<Config>,
    policy: Option<security::SecurityPolicy>,
) -> Router {
    let app = match policy {
        Some(policy) => app.layer(axum::middleware::from_fn_with_state(
            policy,
            security::security_headers,
        )),
        None => app,
    };
    app.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(
                config,
                trace::untrusted_request_ids_dropped,
            ))
            .layer(trace::request_id_layer())
            .layer(trace::trace_layer())
            .layer(trace::propagate_request_id_layer())
            .layer(axum::middleware::from_fn(crate::support::support_cases))
            .layer(axum::middleware::from_fn(crate::events::request_scope))
            .layer(CompressionLayer::new())
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                REQUEST_TIMEOUT,
            )),
    )
}
