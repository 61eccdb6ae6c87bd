//! The one path every upstream call takes: throttle, identity headers, bearer token, body,
//! error decoding, metrics, bounded retries and the single refresh-and-retry on 401.

use std::time::Instant;

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use serde::de::DeserializeOwned;
use url::Url;

use super::{
    device::DeviceIdentity,
    endpoint::Endpoint,
    error::{AdobePassError, Remedy},
    metrics::Outcome,
    priority::Class,
    retry::is_retryable,
    secret::Secret,
    AdobePass,
};

/// `application/x-www-form-urlencoded`: sessions, partner SSO and the DCR token.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
/// `application/json;charset=utf-8`: decisions and DCR register.
pub(crate) const JSON: &str = "application/json;charset=utf-8";

/// A request body, already encoded.
pub(crate) enum Body {
    Empty,
    Form(String),
    Json(Vec<u8>),
}

/// One upstream call to make.
pub(crate) struct Request<'a> {
    pub endpoint: Endpoint,
    pub url: Url,
    pub device: &'a DeviceIdentity,
    pub body: Body,
    /// Whether failures worth retrying are tried again within the retry policy.
    pub retries: bool,
    /// Its place in the queue for the device IP.
    pub class: Class,
}

tokio::task_local! {
    /// The class of the call being made: calls it needs first (an access token, a
    /// registration) wait in its place.
    static CLASS: Class;
}

impl<'a> Request<'a> {
    /// A call retried within the retry policy.
    pub fn new(endpoint: Endpoint, url: Url, device: &'a DeviceIdentity, body: Body) -> Self {
        Self {
            endpoint,
            url,
            device,
            body,
            retries: true,
            class: Class::of(endpoint),
        }
    }

    /// The same call, made once whatever happens.
    pub fn once(self) -> Self {
        Self {
            retries: false,
            ..self
        }
    }

    /// The same call, made for no one who waits: it goes after every other.
    pub fn in_background(self) -> Self {
        Self {
            class: Class::Background,
            ..self
        }
    }
}

impl AdobePass {
    /// Makes a REST API V2 call with the device's access token; on a 401 the token is refreshed
    /// once (shared with concurrent callers) and the call is made once more. When the fresh
    /// token is refused too with action `application-registration`, the device registers a
    /// new client and the call is made a last time. All of it fits in
    /// the endpoint's budget, or the answer is [`AdobePassError::Timeout`].
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
    ) -> Result<T, AdobePassError> {
        let endpoint = request.endpoint;
        let budget = self.inner.settings.budgets.of(endpoint);
        let class = request.class;
        let call = CLASS.scope(class, self.call_unbounded(request));
        match tokio::time::timeout(budget, call).await {
            Ok(result) => result,
            Err(_) => {
                let timeout = AdobePassError::Timeout { endpoint };
                self.inner
                    .metrics
                    .record(endpoint, Outcome::of(&timeout), budget);
                Err(timeout)
            }
        }
    }

    async fn call_unbounded<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
    ) -> Result<T, AdobePassError> {
        let token = self.access_token(request.device).await?;
        match self.send(&request, Some(&token)).await {
            Err(error) if error.is_unauthorized() => {
                let fresh = self.refresh_access_token(request.device, &token).await?;
                match self.send(&request, Some(&fresh)).await {
                    // A fresh token refused too: the client itself is gone at Adobe.
                    Err(error)
                        if error.is_unauthorized()
                            && error.remedy() == Remedy::ApplicationRegistration =>
                    {
                        let renewed = self.reregister(request.device, &fresh).await?;
                        self.send(&request, Some(&renewed)).await
                    }
                    result => result,
                }
            }
            result => result,
        }
    }

    /// Sends a request, retrying failures worth retrying within the retry policy.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
        bearer: Option<&Secret>,
    ) -> Result<T, AdobePassError> {
        let policy = self.inner.settings.retry;
        let max_attempts = if request.retries {
            policy.max_attempts
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            match self.attempt(request, bearer).await {
                Err(error) if attempt < max_attempts && is_retryable(&error, request.endpoint) => {
                    // After a 429 the throttle already holds the next attempt back.
                    if !matches!(error, AdobePassError::Throttled { .. }) {
                        tokio::time::sleep(policy.backoff(attempt)).await;
                    }
                    tracing::debug!("retrying after: {error}");
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
        bearer: Option<&Secret>,
    ) -> Result<T, AdobePassError> {
        let endpoint = request.endpoint;
        let ip = request.device.forwarded_for();
        let class = CLASS.try_with(|class| *class).unwrap_or(request.class);
        let device = request.device.device_identifier().as_bytes();
        self.inner
            .gate
            .admit(ip, class, device)
            .await
            .map_err(|retry_after| AdobePassError::RateLimited {
                endpoint,
                retry_after,
            })?;
        let started = Instant::now();
        let result = self.exchange(request, bearer).await;
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::of(error),
        };
        self.inner
            .metrics
            .record(endpoint, outcome, started.elapsed());
        result
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
        bearer: Option<&Secret>,
    ) -> Result<T, AdobePassError> {
        let endpoint = request.endpoint;
        let mut builder = self
            .inner
            .transport
            .client()
            .request(endpoint.method(), request.url.clone())
            .headers(headers(request, bearer)?);
        builder = match &request.body {
            Body::Empty => builder,
            Body::Form(form) => builder.header(CONTENT_TYPE, FORM).body(form.clone()),
            Body::Json(json) => builder.header(CONTENT_TYPE, JSON).body(json.clone()),
        };
        let response = builder
            .send()
            .await
            .map_err(|error| AdobePassError::from_transport(endpoint, error))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(|error| AdobePassError::from_transport(endpoint, error))?;
        if (200..300).contains(&status) {
            // An answer with no body (204) reads as JSON `null`, which `()` takes.
            let json: &[u8] = if body.is_empty() { b"null" } else { &body };
            return serde_json::from_slice(json).map_err(|error| AdobePassError::Decode {
                endpoint,
                http_status: status,
                reason: error.to_string(),
            });
        }
        let wait = if status == 429 {
            self.inner
                .gate
                .buckets()
                .penalize(request.device.forwarded_for())
                .await
        } else {
            std::time::Duration::ZERO
        };
        Err(AdobePassError::from_response(
            endpoint,
            status,
            &content_type,
            &body,
            wait,
        ))
    }
}

/// The only `Accept` value Adobe's pages allow.
pub const ACCEPT_JSON: &str = "application/json;charset=utf-8";

/// The headers of a call: identity headers from the device, as the endpoint takes them.
fn headers(request: &Request<'_>, bearer: Option<&Secret>) -> Result<HeaderMap, AdobePassError> {
    let device = request.device;
    let set = request.endpoint.headers();
    let mut headers = HeaderMap::new();
    // Every V2 and DCR page: `Accept`, "if specified, must be application/json;charset=utf-8"
    // (the samples' bare `application/json` is not that value).
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON));
    // §3: Adobe merges X-Device-Info with what it reads from the User-Agent, so the device's
    // own goes there when it gave one, and none otherwise (a server's would make the platform
    // "unknown", with Adobe's more restrictive rules).
    if let Some(agent) = device.user_agent() {
        headers.insert(USER_AGENT, agent.clone());
    }
    headers.insert(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_str(&device.forwarded_for().to_string())
            .map_err(|_| AdobePassError::InvalidInput("X-Forwarded-For".into()))?,
    );
    if let Some(token) = bearer {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                AdobePassError::InvalidInput("the access token is not a header value".into())
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    headers.insert(
        HeaderName::from_static("x-device-info"),
        device.device_info().clone(),
    );
    if set.device_identifier {
        headers.insert(
            HeaderName::from_static("ap-device-identifier"),
            device.device_identifier().clone(),
        );
    }
    if set.visitor {
        if let Some(ecid) = device.visitor_id() {
            headers.insert(
                HeaderName::from_static("ap-visitor-identifier"),
                ecid.clone(),
            );
        }
    }
    if set.temp_pass {
        if let Some(identity) = device.temp_pass() {
            headers.insert(
                HeaderName::from_static("ap-temppass-identity"),
                identity.clone(),
            );
        }
    }
    let sso = device.sso();
    let mut pass_through = Vec::new();
    if set.platform_sso {
        pass_through.push((
            "adobe-subject-token",
            sso.adobe_subject_token.as_ref().map(Secret::expose),
        ));
        pass_through.push((
            "x-roku-reserved-roku-connect-token",
            sso.roku_connect_token.as_ref().map(Secret::expose),
        ));
        pass_through.push((
            "ad-service-token",
            sso.service_token.as_ref().map(Secret::expose),
        ));
    }
    if set.partner_status {
        pass_through.push((
            "ap-partner-framework-status",
            sso.partner_framework_status.as_deref(),
        ));
    }
    for (name, value) in pass_through {
        if let Some(value) = value {
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                AdobePassError::InvalidInput(format!("{name} is not a header value"))
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    Ok(headers)
}
