//! The application state every handler can reach, in a module of its own so that the HTTP
//! layer, the Streaming App API and the site all depend on it and not on each other.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use prometheus_client::registry::Registry;

use crate::{
    config::Config,
    draining::Draining,
    http::{health::Readiness, metrics::RequestMetrics},
    limits::WaitSlots,
    service::Service,
    shared::Shared,
    store::SharedStore,
};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The Programmer Service.
    pub service: Service,
    /// Leptos settings (site root, output name).
    pub leptos: LeptosOptions,
    /// What several nodes share (limits, sessions), or this process keeps to itself.
    pub shared: Shared,
    /// Open event streams and long polls, per device token and per address.
    pub waits: Arc<WaitSlots>,
    /// Whether this node is on its way out (a rolling restart).
    pub draining: Draining,
    /// Public request latency by route.
    pub requests: Arc<RequestMetrics>,
    /// Every metric of the process, for `/metrics`.
    pub metrics: Arc<Registry>,
    /// The result of each readiness check, for `/metrics`.
    pub readiness: Arc<Readiness>,
}

impl AppState {
    /// The store behind the service.
    pub fn store(&self) -> &SharedStore {
        self.service.store()
    }

    /// Builds the state, deriving the Leptos settings from the configuration.
    pub fn new(config: Config, service: Service, shared: Shared) -> Self {
        let leptos = crate::http::site::leptos_options(&config);
        let waits = Arc::new(WaitSlots::for_connections(config.max_connections));
        let requests = Arc::<RequestMetrics>::default();
        let mut metrics = Registry::default();
        requests.register(&mut metrics);
        service.register_metrics(&mut metrics);
        shared.code_guard.register(&mut metrics);
        shared.new_sessions.register(&mut metrics);
        shared.sessions.register(&mut metrics);
        shared.service_limits.register(&mut metrics);
        waits.register(&mut metrics);
        let readiness = Arc::<Readiness>::default();
        readiness.register(&mut metrics);
        let draining = Draining::new(config.shutdown_deadline);
        Self {
            config: Arc::new(config),
            service,
            leptos,
            shared,
            waits,
            draining,
            requests,
            metrics: Arc::new(metrics),
            readiness,
        }
    }
}
