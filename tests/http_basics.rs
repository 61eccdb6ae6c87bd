//! Health probes, security headers and graceful shutdown, through the real router.

mod common;

use std::time::Duration;

use axum::{body::Body, http::Request, routing::get, Router};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tve_activate::http::{internal_router, router};

async fn get_response(app: Router, path: &str) -> axum::response::Response {
    app.oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn body_json(response: axum::response::Response) -> serde_json::Value {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("json body")
}

#[tokio::test]
async fn healthz_says_ok() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state);
    let response = get_response(app, "/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(response).await["status"], "ok");
}

#[tokio::test]
async fn metrics_count_upstream_calls_by_endpoint_and_outcome() {
    let (state, _emulator) = common::state(&[]).await;
    let app = internal_router(state);
    assert_eq!(get_response(app.clone(), "/readyz").await.status(), 200);
    let response = get_response(app, "/metrics").await;
    assert_eq!(response.status(), 200);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains("dcr_register"), "{text}");
    assert!(text.contains("success"), "{text}");
}

#[tokio::test]
async fn readyz_is_ready_while_the_store_answers() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state);
    let response = get_response(app, "/readyz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(response).await["status"], "ready");
}

#[tokio::test]
async fn readyz_says_why_when_adobe_pass_is_unreachable() {
    let port = common::free_port().to_string();
    let url = format!("http://127.0.0.1:{port}");
    let (state, _emulator) = common::state(&[
        "--adobe-pass-url",
        &url,
        "--software-statement",
        "statement",
    ])
    .await;
    let response = get_response(internal_router(state.clone()), "/readyz").await;
    assert_eq!(response.status(), 503);
    let body = body_json(response).await;
    let public = body_json(get_response(router(state), "/readyz").await).await;
    assert_eq!(
        public,
        serde_json::json!({"status": "unavailable"}),
        "never why in public"
    );
    assert!(
        body["reason"]
            .as_str()
            .expect("reason")
            .contains("Adobe Pass"),
        "{body}"
    );
}

#[tokio::test]
async fn readyz_says_why_when_the_store_is_gone() {
    let (state, _emulator) = common::state(&[]).await;
    state.store().close().await;
    let response = get_response(internal_router(state), "/readyz").await;
    assert_eq!(response.status(), 503);
    let body = body_json(response).await;
    assert_eq!(body["status"], "unavailable");
    assert!(body["reason"].as_str().expect("reason").contains("store"));
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_the_security_headers() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state);
    let response = get_response(app, "/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(headers.contains_key("x-request-id"));
    assert!(!headers.contains_key("strict-transport-security"));

    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("nonce in CSP");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let html = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration scripts carry the nonce"
    );
}

#[tokio::test]
async fn every_page_gets_its_own_nonce() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state);
    let first = get_response(app.clone(), "/").await;
    let second = get_response(app, "/").await;
    assert_ne!(
        first.headers()["content-security-policy"],
        second.headers()["content-security-policy"]
    );
}

#[tokio::test]
async fn https_public_url_turns_on_hsts() {
    let (state, _emulator) =
        common::state(&["--public-url", "https://watch.example.com", "--demo"]).await;
    let app = router(state);
    let response = get_response(app, "/healthz").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state);
    let response = app
        .oneshot(
            Request::post("/healthz")
                .header("content-length", (1024 * 1024).to_string())
                .body(Body::from(vec![b'x'; 1024 * 1024]))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "finished"
        }),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tve_activate::serve(listener, app, async {
        let _ = stopped.await;
    }));

    let in_flight = tokio::spawn(async move {
        reqwest::get(format!("http://{addr}/slow"))
            .await
            .expect("response")
            .text()
            .await
            .expect("body")
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("server still running");

    assert_eq!(in_flight.await.expect("task"), "finished");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops once idle")
        .expect("task")
        .expect("serve ok");
    assert!(
        reqwest::get(format!("http://{addr}/slow")).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn the_brand_file_gives_the_pages_their_name_colours_and_a_logo_that_cannot_run_script() {
    let brand = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/brands/northwind/brand.toml"
    );
    let (state, _emulator) = common::state(&["--brand-file", brand]).await;
    let app = router(state);

    let css = get_response(app.clone(), "/brand.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(
        std::str::from_utf8(&css).expect("utf-8"),
        ":root { --brand: #0b5d3b; --brand-text: #ffffff; }\n"
    );

    let logo = get_response(app.clone(), "/brand/logo.svg").await;
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    let policy = logo.headers()["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(policy.contains("default-src 'none'") && policy.contains("sandbox"));
    assert_eq!(
        get_response(app.clone(), "/brand/logo.png").await.status(),
        404
    );

    let page = get_response(app, "/activate").await;
    let html = page.into_body().collect().await.expect("body").to_bytes();
    let html = std::str::from_utf8(&html).expect("utf-8");
    assert!(html.contains("Northwind Sports"), "{html}");
    assert!(html.contains("href=\"/brand.css\""), "{html}");
    assert!(html.contains("https://help.northwind.example/tv"), "{html}");
    assert!(!html.contains("Demo Network"), "{html}");
}

/// Building a router lists the site's routes with resource loading suppressed process-wide
/// (leptos-rs/leptos#4773): a page whose resource first polled meanwhile never finished. Tests
/// start one router each, so their pages hung at random (408 after 40 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_another_router_is_built() {
    let (state, _emulator) = common::state(&[]).await;
    let app = router(state.clone());
    let building = tokio::task::spawn_blocking(move || {
        for _ in 0..300 {
            drop(router(state.clone()));
        }
    });
    let mut pages = 0;
    while !building.is_finished() || pages < 20 {
        let page = async {
            let response = get_response(app.clone(), "/activate").await;
            assert_eq!(response.status(), 200);
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
        };
        let body = tokio::time::timeout(Duration::from_secs(10), page)
            .await
            .unwrap_or_else(|_| panic!("page {pages} never finished"));
        assert!(String::from_utf8_lossy(&body).contains("</html>"));
        pages += 1;
    }
    building.await.expect("routers built");
}
