//! The built site's files as a phone gets them, through the real router: the precompressed
//! twin the browser takes, a year in cache for names that carry a hash of their content, and a
//! check with the server for the others; pages link the hashed names the build wrote down.

mod common;

use std::path::Path;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    response::Response,
    Router,
};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tve_activate::http::{router, site};

const JS: &str = "Jjjjjjjjjjjjjjjjjjjjjj";
const WASM: &str = "lkVhAr1x3CAsEmzZEHD_Rg";
const CSS: &str = "Cccccccccccccccccccccc";

/// A built site as `cargo leptos build --release --precompress` leaves it, with hash-files on.
fn built_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("temporary folder");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg");
    let write = |name: &str, bytes: &[u8]| std::fs::write(pkg.join(name), bytes).expect("file");
    write(&format!("tve-activate.{WASM}.wasm"), b"\0asm plain");
    write(&format!("tve-activate.{WASM}.wasm.br"), b"brotli twin");
    write(&format!("tve-activate.{WASM}.wasm.gz"), b"gzip twin");
    write(
        &format!("tve-activate.{JS}.js"),
        b"export default function(){}",
    );
    write(&format!("tve-activate.{CSS}.css"), b"body{margin:0}");
    write("unhashed.css", b"body{margin:1px}");
    std::fs::write(site.path().join("favicon.svg"), b"<svg/>").expect("favicon");
    std::fs::write(
        site.path().join("hash.txt"),
        format!("js: {JS}\nwasm: {WASM}\ncss: {CSS}\n"),
    )
    .expect("hash file");
    site
}

async fn app(site: &Path) -> (Router, Option<tve_activate::emulator::RunningEmulator>) {
    let root = site.to_str().expect("utf-8 path");
    let (state, emulator) = common::state(&["--site-root", root]).await;
    (router(state), emulator)
}

async fn get(app: &Router, path: &str, headers: &[(header::HeaderName, &str)]) -> Response {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

fn header_of(response: &Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

async fn body(response: Response) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn hashed_files_stay_a_year_and_come_precompressed() {
    let site = built_site();
    let (app, _emulator) = app(site.path()).await;
    let wasm = format!("/pkg/tve-activate.{WASM}.wasm");

    for (accept, encoding, bytes) in [
        ("br, gzip", "br", &b"brotli twin"[..]),
        ("gzip", "gzip", b"gzip twin"),
        ("identity", "", b"\0asm plain"),
    ] {
        let response = get(&app, &wasm, &[(header::ACCEPT_ENCODING, accept)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), encoding);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "application/wasm"
        );
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert!(
            header_of(&response, header::VARY).contains("accept-encoding"),
            "{accept}"
        );
        assert_eq!(body(response).await, bytes, "{accept}");
    }

    let css = get(&app, &format!("/pkg/tve-activate.{CSS}.css"), &[]).await;
    assert_eq!(header_of(&css, header::CACHE_CONTROL), site::IMMUTABLE);
}

#[tokio::test]
async fn other_files_are_checked_with_the_server_and_missing_ones_are_not_kept() {
    let site = built_site();
    let (app, _emulator) = app(site.path()).await;

    for path in ["/pkg/unhashed.css", "/favicon.svg"] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            site::REVALIDATE,
            "{path}"
        );
        let modified = header_of(&response, header::LAST_MODIFIED).to_owned();
        assert!(!modified.is_empty(), "{path} says when it changed");
        let again = get(&app, path, &[(header::IF_MODIFIED_SINCE, &modified)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(body(again).await.is_empty(), "{path}");
    }

    // A hashed name the build did not write: the "not found" page, never kept.
    let missing = get(&app, &format!("/pkg/tve-activate.{JS}.wasm"), &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&missing, header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn pages_link_the_hashed_names() {
    let site = built_site();
    let (app, _emulator) = app(site.path()).await;
    let page = get(&app, "/activate", &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8(body(page).await).expect("utf-8");
    for name in [
        format!("/pkg/tve-activate.{JS}.js"),
        format!("/pkg/tve-activate.{WASM}.wasm"),
    ] {
        assert!(html.contains(&name), "{name} in {html}");
    }
}
