//! Security headers: a nonce-based Content-Security-Policy that Leptos hydration works under, and
//! the headers that keep pages out of frames, caches of sniffers and other sites' Referer
//! (`same-origin`: codes in our URLs never reach another site, while form posts keep a real
//! `Origin`, which older Safari replaces with `null` under `no-referrer`).

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
    /// Adobe Pass's origin: forms of the activation site post, then redirect there, and
    /// browsers check `form-action` on that redirect too. Provider logos come from there.
    sign_in_origin: Option<String>,
}

impl SecurityPolicy {
    /// The policy for this configuration (HSTS only when the public URL is https).
    pub fn new(config: &Config) -> Self {
        Self {
            https: config.is_https(),
            sign_in_origin: None,
        }
    }

    /// Allows forms to lead to (and images to come from) Adobe Pass's origin.
    pub fn with_sign_in_origin(mut self, origin: Option<String>) -> Self {
        self.sign_in_origin = origin;
        self
    }
}

/// The Content-Security-Policy for an HTML page rendered with `nonce`; `sign_in_origin` (Adobe
/// Pass) may receive form navigations and serve images.
pub fn content_security_policy(nonce: &str, sign_in_origin: Option<&str>) -> String {
    let adobe = sign_in_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:{adobe}; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'{adobe}; frame-ancestors 'none'"
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
        let csp = content_security_policy(&nonce, policy.sign_in_origin.as_deref());
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        // Pages may carry a code: never keep them in a cache or the back-forward cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
        HeaderValue::from_static("same-origin"),
    );
    if policy.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
