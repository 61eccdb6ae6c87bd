//! PostgreSQL lost while a node runs: what needs the store answers 503 with `Retry-After`, and
//! the node recovers by itself when the database returns. The
//! database is reached through a TCP relay the test can cut, as a network failure would.

mod common;
mod tv_api_support;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use tokio::{net::TcpListener, task::JoinHandle};
use tv_api_support::{register_body, Api};

/// Relays connections from a local port to `target` until cut; can be started again on the
/// same port.
struct Relay {
    port: u16,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Self {
        let relay = Self {
            port: common::free_port(),
            target,
            tasks: Arc::default(),
        };
        relay.open().await;
        relay
    }

    async fn open(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("relay port");
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relayed = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("lock").push(relayed);
            }
        });
        self.tasks.lock().expect("lock").push(accept);
    }

    /// Closes the port and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn without_postgres_requests_that_need_it_say_try_again_and_the_node_recovers() {
    let Some(mut deployment) = common::Deployment::new().await else {
        return;
    };
    let mut url = url::Url::parse(&deployment.postgres).expect("url");
    let target = SocketAddr::new(
        url.host_str()
            .expect("host")
            .parse()
            .expect("an IP address"),
        url.port().unwrap_or(5432),
    );
    let relay = Relay::start(target).await;
    url.set_port(Some(relay.port)).expect("port");
    deployment.postgres = url.to_string();
    let emulator = tve_activate::emulator::spawn(Default::default())
        .await
        .expect("emulator");
    let api = Api::node_of(emulator.base_url(), &deployment.settings()).await;
    let token = api.register("tv-store-faults").await;

    relay.cut();
    let body = register_body("tv-while-down").to_string();
    let refused = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    tv_api_support::assert_retryable(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    );
    let profile = api.get("/tv/v1/profile", &token).await;
    tv_api_support::assert_retryable(
        &profile,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    );
    let ready = api.call_internal(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);

    relay.open().await;
    common::eventually(
        Duration::from_secs(20),
        "the store answers again",
        || async {
            (api.get("/tv/v1/profile", &token).await.status == StatusCode::OK).then_some(())
        },
    )
    .await;
    let again = api
        .call(Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}
