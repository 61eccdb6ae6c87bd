//! Security headers: a nonce-based Content-Security-Policy that Leptos hydration works under, and
//! the headers that keep pages out of frames, caches of sniffers and other sites' Referer.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};
use leptos::nonce::Nonce;

use crate::config::Config;

/// What the security layer needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct SecurityPolicy {
    https: bool,
}

impl SecurityPolicy {
    /// The policy for this configuration (HSTS only when the public URL is https).
    pub fn new(config: &Config) -> Self {
        Self {
            https: config.is_https(),
        }
    }
}

/// The Content-Security-Policy for an HTML page rendered with `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Gives each request a fresh CSP nonce (read by the page shell through the request's
/// extensions) and sets the security headers on the response.
pub async fn security_headers(
    State(policy): State<SecurityPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = Nonce::from_value(uuid::Uuid::new_v4().simple().to_string());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;

    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if policy.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
