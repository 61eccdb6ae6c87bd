//! What Adobe is told about the device, end to end through the Streaming App API: its source
//! port behind a balancer (REST-API-V2.md §3.1 and §14.2: `X-Device-Info` carries the device's
//! `connectionIp` and `connectionPort`), from a PROXY protocol v2 header, from the configured
//! client-port header, and otherwise not at all; its ECID and user agent when the TV gives them.

mod adobe_pass_support;
mod common;
mod tv_api_support;

use std::{net::SocketAddr, sync::Arc};

use ppp::v2::{Builder, Command, IPv4, Protocol, Version};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
};
use tv_api_support::{register_body, Api};
use tve_activate::{
    emulator::RunningEmulator,
    http::{router, server::ConnectionLimits},
};

/// The service as configured by `flags`, its public listener reading PROXY headers from
/// loopback; gives its address and the embedded emulator.
async fn behind_proxy_protocol(flags: &[&str]) -> (SocketAddr, RunningEmulator) {
    let (state, emulator) = common::state(flags).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let limits = ConnectionLimits {
        proxy_protocol: Some(Arc::from(vec!["127.0.0.1/32".parse().expect("net")])),
        ..ConnectionLimits::default()
    };
    tokio::spawn(tve_activate::http::server::serve(
        listener,
        router(state),
        limits,
        std::future::pending(),
    ));
    (addr, emulator.expect("embedded emulator"))
}

/// One HTTP/1.1 request on a new connection that starts with `preamble`; gives the status
/// and the JSON body.
async fn request(
    addr: SocketAddr,
    preamble: &[u8],
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let body = body.to_string();
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: tv.example\r\nContent-Type: application/json\r\n\
         {authorization}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(preamble).await.expect("write");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    // A refused connection may end in a reset: no answer at all.
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn proxy_header(client: &str) -> Vec<u8> {
    let client: SocketAddr = client.parse().expect("address");
    let SocketAddr::V4(client) = client else {
        panic!("IPv4 only here");
    };
    Builder::with_addresses(
        Version::Two | Command::Proxy,
        Protocol::Stream,
        IPv4::new(
            *client.ip(),
            std::net::Ipv4Addr::LOCALHOST,
            client.port(),
            3000,
        ),
    )
    .build()
    .expect("header")
}

/// The device connection Adobe was told about when the device's activation started.
fn connection_at_adobe(emulator: &RunningEmulator) -> (Option<String>, Option<String>) {
    let store = emulator.state().store();
    let session = store.sessions.values().next().expect("a session");
    let connection = session
        .device
        .connection
        .clone()
        .expect("connection described");
    (connection.ip_address, connection.port)
}

#[tokio::test]
async fn the_proxy_protocol_names_the_client_and_its_source_port() {
    let (addr, emulator) =
        behind_proxy_protocol(&["--trusted-proxies", "127.0.0.1/32", "--proxy-protocol"]).await;
    let header = proxy_header("203.0.113.50:51234");
    let (status, registered) = request(
        addr,
        &header,
        "/tv/v1/devices",
        None,
        &register_body("tv-proxied"),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let token = registered["deviceToken"].as_str().expect("token");
    let (status, started) = request(
        addr,
        &header,
        "/tv/v1/activations",
        Some(token),
        &serde_json::json!({"mvpd": "Spectrum"}),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(
        connection_at_adobe(&emulator),
        (Some("203.0.113.50".to_owned()), Some("51234".to_owned()))
    );

    let (status, _) = request(
        addr,
        b"",
        "/tv/v1/devices",
        None,
        &register_body("tv-direct"),
    )
    .await;
    assert_eq!(status, 0, "a connection without the header is refused");
}

/// Registers a device with `body`, the request carrying `headers`; gives the status and the
/// device token, if any.
async fn register(api: &Api, body: &Value, headers: &[(&str, &str)]) -> (u16, Option<String>) {
    let mut request = api.http.post(api.url("/tv/v1/devices")).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = request.send().await.expect("register");
    let status = answer.status().as_u16();
    let json: Value = answer.json().await.unwrap_or(Value::Null);
    (status, json["deviceToken"].as_str().map(str::to_owned))
}

/// Registers a device and starts its activation, each request carrying `headers` as the
/// proxy in front of the service would set them.
async fn register_and_start(api: &Api, device_id: &str, headers: &[(&str, &str)]) {
    let with_headers = |mut request: reqwest::RequestBuilder| {
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    };
    let (status, token) = register(api, &register_body(device_id), headers).await;
    assert_eq!(status, 201);
    let token = token.expect("token");
    let started = with_headers(api.http.post(api.url("/tv/v1/activations")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"mvpd": "Spectrum"}))
        .send()
        .await
        .expect("start");
    assert_eq!(started.status(), 201);
}

#[tokio::test]
async fn the_client_port_header_names_the_source_port() {
    let api = Api::start(&[
        "--trusted-proxies",
        "127.0.0.1/32",
        "--client-port-header",
        "X-Client-Port",
    ])
    .await;
    register_and_start(
        &api,
        "tv-nginx",
        &[
            ("X-Forwarded-For", "203.0.113.60"),
            ("X-Client-Port", "40123"),
        ],
    )
    .await;
    assert_eq!(
        connection_at_adobe(api.emulator()),
        (Some("203.0.113.60".to_owned()), Some("40123".to_owned()))
    );
}

#[tokio::test]
async fn without_a_known_port_adobe_is_told_none() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1/32"]).await;
    register_and_start(&api, "tv-portless", &[("X-Forwarded-For", "203.0.113.70")]).await;
    assert_eq!(
        connection_at_adobe(api.emulator()),
        (Some("203.0.113.70".to_owned()), None),
        "connectionPort is left out, not sent as 0"
    );
}

/// §3 and §5: `AP-Visitor-Identifier` (ECID) "should be sent on all APIs" that take it, and
/// Adobe merges `X-Device-Info` with what it reads from `User-Agent`: both come from the TV.
/// §4.1: DCR registrations carry the configured `redirect_uri`.
#[tokio::test]
async fn the_tvs_ecid_and_user_agent_reach_adobe() {
    let stub = adobe_pass_support::Stub::start().await;
    let api = Api::node_of(
        &stub.base_url,
        &["--dcr-redirect-uri", "app://com.network.tv#activate"],
    )
    .await;
    let mut body = register_body("tv-ecid");
    body["visitorId"] = Value::from("46624967143830147651409370916548731190");
    body["deviceInfo"]["userAgent"] = Value::from("Roku/DVP-14.0 (14.0.0.4175)");
    let (status, token) = register(&api, &body, &[]).await;
    assert_eq!(status, 201);
    api.start_activation(&token.expect("token"), "ATTOTT").await;
    let captured = stub.captured();
    let register = captured
        .iter()
        .find(|c| c.path == "/o/client/register")
        .expect("DCR register sent");
    let registered: Value = serde_json::from_slice(&register.body).expect("JSON body");
    assert_eq!(
        registered["redirect_uri"], "app://com.network.tv#activate",
        "§4.1: the configured redirect_uri"
    );
    let create = captured
        .iter()
        .find(|c| c.method == "POST" && c.path == "/api/v2/REF30/sessions")
        .expect("S1 sent");
    let header = |name: &str| create.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("ap-visitor-identifier"),
        Some("46624967143830147651409370916548731190")
    );
    assert_eq!(header("user-agent"), Some("Roku/DVP-14.0 (14.0.0.4175)"));

    body["visitorId"] = Value::from("two words");
    let refused = api
        .http
        .post(api.url("/tv/v1/devices"))
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(
        refused.status(),
        400,
        "an ECID that cannot be a header value"
    );
}

/// DCR's `redirect_uri` is optional, and Adobe checks one that is sent against the registered
/// application's domains: without `--dcr-redirect-uri` registrations carry none (it used to be
/// the public URL, which a registered application may well not list).
#[tokio::test]
async fn without_a_configured_redirect_uri_registration_sends_none() {
    let stub = adobe_pass_support::Stub::start().await;
    let api = Api::node_of(&stub.base_url, &[]).await;
    let (status, _) = register(&api, &register_body("tv-no-redirect"), &[]).await;
    assert_eq!(status, 201);
    let captured = stub.captured();
    let register = captured
        .iter()
        .find(|c| c.path == "/o/client/register")
        .expect("DCR register sent");
    let registered: Value = serde_json::from_slice(&register.body).expect("JSON body");
    assert!(registered.get("software_statement").is_some());
    assert!(
        registered.get("redirect_uri").is_none(),
        "no redirect_uri unless configured: {registered}"
    );
}

/// §3: Adobe merges `X-Device-Info` with what it reads from `User-Agent`; a TV that gave none
/// gets none, not the server's own (which Adobe would classify as an unknown platform).
#[tokio::test]
async fn a_tv_without_a_user_agent_sends_none() {
    let stub = adobe_pass_support::Stub::start().await;
    let api = Api::node_of(&stub.base_url, &[]).await;
    let body = register_body("tv-no-agent");
    assert!(body["deviceInfo"].get("userAgent").is_none());
    let (status, token) = register(&api, &body, &[]).await;
    assert_eq!(status, 201);
    api.start_activation(&token.expect("token"), "ATTOTT").await;
    let captured = stub.captured();
    assert!(!captured.is_empty());
    for call in &captured {
        assert!(
            call.headers.get("user-agent").is_none(),
            "{} {} carries {:?}",
            call.method,
            call.path,
            call.headers.get("user-agent")
        );
    }
}
