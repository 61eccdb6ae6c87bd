//! The accept loop: HTTP/1.1 connections served by hyper with a cap on open connections, a
//! share of it per client prefix, and a header-read timeout (so one client cannot hold the
//! server with idle or slow sockets), each request carrying its connection's peer address (or,
//! behind a balancer speaking the PROXY protocol v2, the client's address and source port it
//! names); on shutdown, no new connections, and the open ones are given a deadline to finish.

use std::{
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use ipnet::IpNet;
use ppp::v2::{Addresses, Command};
use tokio::{
    io::AsyncReadExt as _,
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tower::ServiceExt as _;

use super::connection_shares::ConnectionShares;

/// Places past the cap kept for exempt peers: the balancer's health checks get through a full
/// listener.
pub const RESERVED_CONNECTIONS: usize = 16;

/// Limits on the connections one listener serves, and how it learns who the client is.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once. A client beyond its share of them (see
    /// [`ConnectionShares`]) is disconnected at once. With no exempt peers, the next connection
    /// past the cap waits in the kernel's backlog until one closes; with some, it is
    /// disconnected at once, and exempt peers get [`RESERVED_CONNECTIONS`] more.
    pub max_connections: usize,
    /// Longest wait for a request's headers (a slow or idle client is disconnected).
    pub header_read_timeout: Duration,
    /// Longest wait for open connections to finish after shutdown is asked.
    pub shutdown_deadline: Duration,
    /// When set, every connection starts with a PROXY protocol v2 header, accepted only from
    /// these balancers (others are disconnected); its source address and port are the client's.
    pub proxy_protocol: Option<Arc<[IpNet]>>,
    /// Clients held to no share, with places past the cap kept for them: the trusted proxies
    /// and loopback.
    pub exempt: Arc<[IpNet]>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 16_384,
            header_read_timeout: Duration::from_secs(10),
            shutdown_deadline: Duration::from_secs(20),
            proxy_protocol: None,
            exempt: Arc::new([]),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting and lets open
/// connections finish within the shutdown deadline.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserved = Arc::new(Semaphore::new(if limits.exempt.is_empty() {
        0
    } else {
        RESERVED_CONNECTIONS
    }));
    let shares = Arc::new(ConnectionShares::new(
        limits.max_connections,
        limits.exempt.clone(),
    ));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.map(Permit::Open),
            permit = reserved.clone().acquire_owned() => permit.map(Permit::Reserved),
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        let proxies = limits.proxy_protocol.clone();
        let header_read_timeout = limits.header_read_timeout;
        let permits = permits.clone();
        let shares = shares.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            let client = match proxies {
                None => peer,
                Some(proxies) => {
                    let read = proxied_client(&mut stream, peer, &proxies);
                    match tokio::time::timeout(header_read_timeout, read).await {
                        Ok(Ok(client)) => client,
                        Ok(Err(error)) => {
                            tracing::warn!(%peer, %error, "no valid PROXY protocol header");
                            return;
                        }
                        Err(_) => return,
                    }
                }
            };
            let Some(place) = permit.admit(client.ip(), &shares, permits) else {
                tracing::debug!(%client, "connection refused: the client holds its share, or none is free");
                return;
            };
            let service = TowerToHyperService::new(router.map_request(
                move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(client));
                    request
                },
            ));
            let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(place);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open at the shutdown deadline were closed");
    }
    Ok(())
}

/// A permit to serve a connection, taken before it is accepted.
enum Permit {
    /// One of the listener's `max_connections`.
    Open(OwnedSemaphorePermit),
    /// One of the places past the cap kept for exempt clients.
    Reserved(OwnedSemaphorePermit),
}

/// What a served connection holds until it closes.
struct Place {
    _permit: OwnedSemaphorePermit,
    _share: crate::limits::Held,
}

impl Permit {
    /// The place of a connection from `client`, once its client is known: none when the client
    /// holds its share, or holds a reserved permit without being exempt and no other is free.
    fn admit(
        self,
        client: IpAddr,
        shares: &ConnectionShares,
        permits: Arc<Semaphore>,
    ) -> Option<Place> {
        let permit = match self {
            Self::Reserved(_) if !shares.is_exempt(client) => permits.try_acquire_owned().ok()?,
            Self::Open(permit) | Self::Reserved(permit) => permit,
        };
        Some(Place {
            _permit: permit,
            _share: shares.take(client)?,
        })
    }
}

/// Reads the PROXY protocol v2 header a trusted balancer sends first, and gives the client it
/// names: source address and port of a `PROXY` header, or the balancer itself for a `LOCAL` one
/// (its own health checks). Reads exactly the header, leaving the HTTP request in the stream.
async fn proxied_client(
    stream: &mut TcpStream,
    peer: SocketAddr,
    trusted: &[IpNet],
) -> io::Result<SocketAddr> {
    let balancer = crate::limits::canonical_ip(peer.ip());
    if !trusted.iter().any(|net| net.contains(&balancer)) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the peer is not a trusted proxy",
        ));
    }
    // 12-byte signature, version and command, family and protocol, 2-byte length.
    let mut header = vec![0u8; 16];
    stream.read_exact(&mut header).await?;
    if !header.starts_with(ppp::v2::PROTOCOL_PREFIX) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the connection does not start with a PROXY protocol v2 header",
        ));
    }
    let length = usize::from(u16::from_be_bytes([header[14], header[15]]));
    header.resize(16 + length, 0);
    stream.read_exact(&mut header[16..]).await?;
    let parsed = ppp::v2::Header::try_from(header.as_slice())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
    let source = match (parsed.command, parsed.addresses) {
        (Command::Proxy, Addresses::IPv4(a)) => {
            SocketAddr::new(IpAddr::V4(a.source_address), a.source_port)
        }
        (Command::Proxy, Addresses::IPv6(a)) => {
            SocketAddr::new(IpAddr::V6(a.source_address), a.source_port)
        }
        _ => peer,
    };
    Ok(source)
}

/// The local address a listener got (port 0 asks the system for a free one).
pub fn bound_address(listener: &TcpListener, asked: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(asked)
}
