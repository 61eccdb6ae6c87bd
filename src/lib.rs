//! tve-activate: a TV Everywhere Programmer Service for Adobe Pass and the second-screen
//! activation site, in one process.

pub mod adobe_pass;
pub mod backoff;
pub mod brand;
pub mod clock;
pub mod config;
pub mod draining;
pub mod emulator;
pub mod events;
pub mod http;
pub mod limits;
pub mod logging;
pub mod playback;
pub mod redis;
pub mod service;
pub mod shared;
pub mod state;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod tv_api;
pub mod upstream;

use std::future::Future;

use tokio::net::TcpListener;

use crate::{config::Config, state::AppState};

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("--store-url: {0}")]
    Store(#[from] store::StoreError),
    /// Redis could not be reached.
    #[error("--redis-url: {0}")]
    Redis(#[from] redis::RedisError),
    /// Messages through PostgreSQL could not be set up.
    #[error("--store-bus: {0}")]
    StoreBus(#[from] shared::StoreBusError),
    /// Adobe Pass (or the embedded emulator) could not be set up.
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
    /// The listening socket could not be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// How long a draining node keeps accepting requests so its balancer sees `/readyz` fail.
const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The Programmer Service's settings: what the configuration says, and what the nodes share;
/// starts the event sinks the configuration names (on the current Tokio runtime).
pub fn service_settings(config: &Config, shared: &shared::Shared) -> service::ServiceSettings {
    service::ServiceSettings {
        providers: config.providers.clone(),
        rules: config.rules.clone(),
        preauthorize_chunk: config.preauthorize_chunk,
        max_concurrent_polls: config.max_concurrent_polls,
        reinstall_window: config.reinstall_window,
        reclaim_idle_after: config.reclaim_idle_after,
        probe_device: config.probe_device.clone(),
        metadata_keys: config.metadata_keys.clone(),
        media_tokens: config.media_tokens.clone(),
        limits: shared.service_limits.clone(),
        bus: shared.bus.clone(),
        leases: shared.leases.clone(),
        events: events::Events::start(&config.events, support::node_name()),
        spent_tokens: shared.spent_tokens.clone(),
        ..service::ServiceSettings::new(config.public_url.clone(), config.domain_name.clone())
    }
}

/// Opens the store, binds the listener and serves until `shutdown` resolves, then drains (see
/// `draining`) and lets in-flight requests finish within the shutdown deadline.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = config.listen;
    let store = store::open(&config.store, config.secrets.clone()).await?;
    let shared = shared::Shared::open(&config).await?;
    let clock = clock::SystemClock::shared();
    let upstream =
        upstream::connect(&config, store.clone(), clock.clone(), shared.adobe.clone()).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let internal_addr = config.internal_listen;
    let internal = TcpListener::bind(internal_addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: internal_addr,
            source,
        })?;
    tracing::info!(
        "operators' routes (/metrics, /readyz, /admin) on http://{}",
        http::server::bound_address(&internal, internal_addr)
    );
    tracing::info!(
        "serving {} on http://{} ({})",
        config.public_url,
        listener.local_addr().unwrap_or(addr),
        match &config.upstream {
            config::Upstream::Embedded => "embedded Adobe Pass emulator".to_owned(),
            config::Upstream::Remote { base_url, .. } => format!("Adobe Pass at {base_url}"),
        }
    );
    let service = service::Service::new(
        service_settings(&config, &shared),
        upstream.adobe.clone(),
        store.clone(),
        clock,
    );
    warn_of_unknown_source_ports(&config);
    warn_of_unverified_media_tokens(&config);
    spawn_domain_check(service.clone());
    let housekeeping = service.spawn_housekeeping();
    let listener_of_nodes = service.spawn_cluster_listener();
    // The deadline covers both phases: draining, then letting open requests finish.
    let drain_for = (config.shutdown_deadline / 2).min(DRAIN_GRACE);
    let limits = http::server::ConnectionLimits {
        max_connections: config.max_connections,
        shutdown_deadline: config.shutdown_deadline.saturating_sub(drain_for),
        exempt: exempt_from_connection_shares(&config),
        ..http::server::ConnectionLimits::default()
    };
    // Only the public listener sits behind the balancer.
    let public_limits = http::server::ConnectionLimits {
        proxy_protocol: config
            .proxy_protocol
            .then(|| config.trusted_proxies.clone().into()),
        ..limits.clone()
    };
    let state = AppState::new(config, service, shared);
    let draining = state.draining.clone();
    let waits = state.waits.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stopping = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let operators = tokio::spawn(http::server::serve(
        internal,
        http::internal_router(state.clone()),
        limits,
        stopping(),
    ));
    tokio::spawn(async move {
        shutdown.await;
        // Readiness fails and waits end at once; new requests are still served while the
        // balancer notices, then the listeners close and open connections get the rest of
        // the deadline.
        draining.start(waits.held());
        tokio::time::sleep(drain_for).await;
        let _ = stop.send(true);
    });
    http::server::serve(listener, http::router(state), public_limits, stopping())
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    if let Ok(Err(error)) = operators.await {
        tracing::warn!(%error, "the operators' listener failed");
    }
    housekeeping.abort();
    listener_of_nodes.abort();
    if let Some(emulator) = upstream.emulator {
        // Stopping is best effort: the process is exiting anyway.
        let _ = emulator.stop().await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Peers held to no share of the connections, with places past the cap kept for them: the
/// trusted proxies (the balancer, whose clients' waits are capped by the address it forwards)
/// and loopback (local health checks).
fn exempt_from_connection_shares(config: &Config) -> std::sync::Arc<[ipnet::IpNet]> {
    let loopback = [
        std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
        std::net::Ipv6Addr::LOCALHOST.into(),
    ]
    .map(ipnet::IpNet::from);
    config
        .trusted_proxies
        .iter()
        .copied()
        .chain(loopback)
        .collect()
}

/// Adobe's checklist (§7) wants the device's source port in `X-Device-Info` (Spectrum's
/// home-based authentication needs it); behind trusted proxies only PROXY protocol or a
/// client-port header can tell it.
fn warn_of_unknown_source_ports(config: &Config) {
    if !config.trusted_proxies.is_empty()
        && !config.proxy_protocol
        && config.client_port_header.is_none()
    {
        tracing::warn!(
            "--trusted-proxies is set without --proxy-protocol or --client-port-header: Adobe \
             Pass gets no device source port (connectionPort), which home-based \
             authentication needs"
        );
    }
}

/// Without a key to verify media tokens with (only against a remote Adobe Pass), permits pass
/// Adobe's tokens to the TVs unverified.
fn warn_of_unverified_media_tokens(config: &Config) {
    if config.media_tokens.is_none() {
        tracing::warn!(
            "no --media-token-public-key-file: media tokens go to the TVs unverified; have the \
             player's back end check them with Adobe's Media Token Verifier before a stream starts"
        );
    }
}

/// Checks once at start-up, in the background, that the domains Adobe validates are the
/// registered application's, and says which setting is wrong (readiness keeps saying it).
fn spawn_domain_check(service: service::Service) {
    tokio::spawn(async move {
        // The readiness probe's registration first, under its lease (one client for all nodes).
        if let Err(error) = service.check_upstream().await {
            tracing::warn!(%error, "Adobe Pass is not ready yet; readiness checks the domains later");
        } else if let Err(problem) = service.check_domains().await {
            tracing::error!("{problem}");
        }
    });
}

/// Serves `router` on `listener` (with each connection's peer address available to handlers)
/// until `shutdown` resolves, with the default connection limits; in-flight requests are
/// allowed to finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http::server::serve(
        listener,
        router,
        http::server::ConnectionLimits::default(),
        shutdown,
    )
    .await
}
