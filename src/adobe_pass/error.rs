//! The one error type of the Adobe Pass client, and the one place where an upstream answer that
//! is not a success becomes an error (REST-API-V2.md §11: handle every code centrally, treat
//! top-level and item-level errors alike, check both statuses).

use std::time::Duration;

use super::{
    credentials::CredentialsStoreError,
    endpoint::Endpoint,
    types::{DcrError, EnhancedError, ErrorAction},
};

/// How many characters of an unexpected body an error keeps, to say what answered.
const SNIPPET_CHARS: usize = 160;

/// Why a call to Adobe Pass failed. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum AdobePassError {
    /// Adobe answered with an Enhanced Error Code.
    #[error("{endpoint}: Adobe Pass answered {http_status} {} (action {}){}", error.code, error.action, trace_suffix(error))]
    Adobe {
        /// The endpoint called.
        endpoint: Endpoint,
        /// The HTTP status of the response (it can differ from `error.status`).
        http_status: u16,
        /// The error as Adobe sent it.
        error: Box<EnhancedError>,
    },
    /// DCR answered with an OAuth error (`{"error": <code>}`).
    #[error("{endpoint}: Adobe Pass registration answered {http_status} {}", error.error)]
    Dcr {
        /// The endpoint called.
        endpoint: Endpoint,
        /// The HTTP status of the response.
        http_status: u16,
        /// The error as Adobe sent it.
        error: DcrError,
    },
    /// Adobe throttled this device's IP (HTTP 429, an HTML page) and kept doing so after the
    /// bounded retries.
    #[error("{endpoint}: Adobe Pass throttled the device (429); wait {retry_after:?}")]
    Throttled {
        /// The endpoint called.
        endpoint: Endpoint,
        /// How long the device's IP must wait before the next call.
        retry_after: Duration,
    },
    /// The call was not sent: it would have pushed the device over Adobe's rate limit.
    #[error(
        "{endpoint}: not sent, the device would exceed Adobe's rate limit; wait {retry_after:?}"
    )]
    RateLimited {
        /// The endpoint not called.
        endpoint: Endpoint,
        /// When a call can be sent.
        retry_after: Duration,
    },
    /// A status with a body that is not Adobe's (a proxy page, an empty 401, a 503…).
    #[error("{endpoint}: unexpected answer {http_status} ({content_type}): {snippet:?}")]
    UnexpectedResponse {
        /// The endpoint called.
        endpoint: Endpoint,
        /// The HTTP status.
        http_status: u16,
        /// The response's content type, or empty.
        content_type: String,
        /// The start of the body.
        snippet: String,
    },
    /// A success status whose body does not match the documented shape.
    #[error("{endpoint}: the {http_status} answer does not match the documented shape: {reason}")]
    Decode {
        /// The endpoint called.
        endpoint: Endpoint,
        /// The HTTP status.
        http_status: u16,
        /// What did not match.
        reason: String,
    },
    /// No answer within the request timeout.
    #[error("{endpoint}: Adobe Pass did not answer in time")]
    Timeout {
        /// The endpoint called.
        endpoint: Endpoint,
    },
    /// No connection could be made; the request was never sent.
    #[error("{endpoint}: cannot connect to Adobe Pass: {reason}")]
    Connect {
        /// The endpoint called.
        endpoint: Endpoint,
        /// Why, from the HTTP stack.
        reason: String,
    },
    /// The connection failed after the request was sent (reset, closed mid-answer).
    #[error("{endpoint}: the connection to Adobe Pass failed: {reason}")]
    Connection {
        /// The endpoint called.
        endpoint: Endpoint,
        /// Why, from the HTTP stack.
        reason: String,
    },
    /// The client credentials could not be read or saved.
    #[error("client credentials store: {0}")]
    Store(#[from] CredentialsStoreError),
    /// A value given to the client cannot be sent (for example a header with a line break).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// What the application should do about an error, from Adobe's `action` where there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// Fix the request, or nothing predefined (`none`).
    None,
    /// Fix the setup (`configuration`).
    Configuration,
    /// Register the application again (`application-registration`, DCR `invalid_client`).
    ApplicationRegistration,
    /// Authenticate the user again (`authentication`).
    Authentication,
    /// Obtain authorization (`authorization`).
    Authorization,
    /// Try again later (`retry`, 5xx, throttling, timeouts, connection failures).
    Retry,
}

impl Remedy {
    /// The remedy for an Enhanced Error, at top level or item level alike. TempPass codes and
    /// configuration codes decide whatever the action, since Adobe's samples disagree on it:
    /// the promotional P2 samples say `none` where §11 says `authentication`
    /// (`temporary_access_*`) and `configuration` (`invalid_configuration_*`).
    pub fn of(error: &EnhancedError) -> Self {
        let code = error.code.as_str();
        if code.starts_with("temporary_access_") {
            return Remedy::Authentication;
        }
        if code.starts_with("invalid_configuration_") {
            return Remedy::Configuration;
        }
        match error.action {
            ErrorAction::Configuration => Remedy::Configuration,
            ErrorAction::ApplicationRegistration => Remedy::ApplicationRegistration,
            ErrorAction::Authentication => Remedy::Authentication,
            ErrorAction::Authorization => Remedy::Authorization,
            ErrorAction::Retry | ErrorAction::RetryAfter => Remedy::Retry,
            ErrorAction::None | ErrorAction::Degradation | ErrorAction::Other(_) => Remedy::None,
        }
    }
}

/// Whether an Enhanced Error answered with `http_status` is worth another attempt: action
/// `retry`, or a 5xx with action `none` (Adobe's `internal_server_error`) unless its code names
/// another remedy (a broken configuration stays broken).
pub(crate) fn asks_retry(http_status: u16, error: &EnhancedError) -> bool {
    error.action == ErrorAction::Retry
        || (http_status >= 500
            && error.action == ErrorAction::None
            && Remedy::of(error) == Remedy::None)
}

impl AdobePassError {
    /// The HTTP status Adobe answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            AdobePassError::Adobe { http_status, .. }
            | AdobePassError::Dcr { http_status, .. }
            | AdobePassError::UnexpectedResponse { http_status, .. }
            | AdobePassError::Decode { http_status, .. } => Some(*http_status),
            AdobePassError::Throttled { .. } => Some(429),
            _ => None,
        }
    }

    /// The Enhanced Error, when Adobe sent one.
    pub fn enhanced(&self) -> Option<&EnhancedError> {
        match self {
            AdobePassError::Adobe { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Adobe's `trace`, to give Adobe support.
    pub fn trace(&self) -> Option<&str> {
        self.enhanced().and_then(|error| error.trace.as_deref())
    }

    /// How long to wait before calling again, for throttling.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AdobePassError::Throttled { retry_after, .. }
            | AdobePassError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn remedy(&self) -> Remedy {
        match self {
            // Adobe's `internal_server_error` says `none`, yet a 5xx is worth another try.
            AdobePassError::Adobe {
                error, http_status, ..
            } if asks_retry(*http_status, error) => Remedy::Retry,
            AdobePassError::Adobe { error, .. } => Remedy::of(error),
            AdobePassError::Dcr { error, .. } => match error.error {
                super::types::DcrErrorCode::InvalidClient => Remedy::ApplicationRegistration,
                _ => Remedy::Configuration,
            },
            AdobePassError::UnexpectedResponse { http_status, .. } if *http_status >= 500 => {
                Remedy::Retry
            }
            AdobePassError::Throttled { .. }
            | AdobePassError::RateLimited { .. }
            | AdobePassError::Timeout { .. }
            | AdobePassError::Connect { .. }
            | AdobePassError::Connection { .. } => Remedy::Retry,
            AdobePassError::UnexpectedResponse { .. }
            | AdobePassError::Decode { .. }
            | AdobePassError::Store(_)
            | AdobePassError::InvalidInput(_) => Remedy::None,
        }
    }

    /// Whether Adobe rejected the access token (HTTP 401), which calls for one refresh.
    pub(crate) fn is_unauthorized(&self) -> bool {
        self.http_status() == Some(401)
    }

    /// The error for a non-success answer: Enhanced Error, DCR error, 429 or anything else.
    pub(crate) fn from_response(
        endpoint: Endpoint,
        http_status: u16,
        content_type: &str,
        body: &[u8],
        throttle_wait: Duration,
    ) -> Self {
        if http_status == 429 {
            return AdobePassError::Throttled {
                endpoint,
                retry_after: throttle_wait,
            };
        }
        if let Ok(error) = serde_json::from_slice::<EnhancedError>(body) {
            return AdobePassError::Adobe {
                endpoint,
                http_status,
                error: Box::new(error),
            };
        }
        if matches!(endpoint, Endpoint::DcrRegister | Endpoint::DcrToken) {
            if let Ok(error) = serde_json::from_slice::<DcrError>(body) {
                return AdobePassError::Dcr {
                    endpoint,
                    http_status,
                    error,
                };
            }
        }
        AdobePassError::UnexpectedResponse {
            endpoint,
            http_status,
            content_type: content_type.to_owned(),
            snippet: String::from_utf8_lossy(body)
                .chars()
                .take(SNIPPET_CHARS)
                .collect(),
        }
    }

    /// The error for a failure of the HTTP stack.
    /// The error of a call that got no (whole) answer. Its URL is dropped: upstream URLs hold
    /// activation codes, and this text reaches logs.
    pub(crate) fn from_transport(endpoint: Endpoint, error: reqwest::Error) -> Self {
        let error = error.without_url();
        let reason = describe(&error);
        if error.is_connect() {
            AdobePassError::Connect { endpoint, reason }
        } else if error.is_timeout() {
            AdobePassError::Timeout { endpoint }
        } else {
            AdobePassError::Connection { endpoint, reason }
        }
    }
}

/// The error's causes, which say what failed (reset, refused, closed) better than its summary.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

fn trace_suffix(error: &EnhancedError) -> String {
    error
        .trace
        .as_deref()
        .map(|trace| format!(", trace {trace}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn transport_errors_never_carry_the_url_and_its_code() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/api/v2/REF30/profiles/code/SECRET7");
        let error = reqwest::get(&url).await.expect_err("nobody listens");
        assert!(
            describe(&error).contains("SECRET7"),
            "reqwest names the URL"
        );
        let error = AdobePassError::from_transport(Endpoint::CodeProfile, error);
        assert!(matches!(error, AdobePassError::Connect { .. }));
        assert!(!error.to_string().contains("SECRET7"), "{error}");
    }

    #[test]
    fn enhanced_error_keeps_code_action_status_and_trace() {
        let body =
            br#"{"action":"retry","status":403,"code":"network_connection_timeout","trace":"t-1"}"#;
        let error = AdobePassError::from_response(
            Endpoint::Authorize,
            403,
            "application/json",
            body,
            Duration::ZERO,
        );
        assert_eq!(error.http_status(), Some(403));
        assert_eq!(error.trace(), Some("t-1"));
        assert_eq!(error.remedy(), Remedy::Retry);
        assert!(
            error.to_string().contains("network_connection_timeout"),
            "{error}"
        );
    }

    /// The promotional P2 samples answer TempPass errors with action `none`; the code decides:
    /// a used-up TempPass calls for a sign-in, a broken configuration for support, never a retry.
    #[test]
    fn temppass_codes_decide_the_remedy_whatever_the_action() {
        let answer = |status: u16, code: &str, action: &str| {
            let body = format!(r#"{{"status":{status},"code":"{code}","action":"{action}"}}"#);
            AdobePassError::from_response(
                Endpoint::MvpdProfile,
                status,
                "application/json",
                body.as_bytes(),
                Duration::ZERO,
            )
        };
        for action in ["none", "authentication"] {
            let used_up = answer(403, "temporary_access_duration_limit_exceeded", action);
            assert_eq!(used_up.remedy(), Remedy::Authentication, "{action}");
        }
        for action in ["none", "configuration"] {
            let broken = answer(500, "invalid_configuration_temporary_access", action);
            assert_eq!(broken.remedy(), Remedy::Configuration, "{action}");
            assert!(
                !crate::adobe_pass::retry::is_retryable(&broken, Endpoint::MvpdProfile),
                "{action}"
            );
        }
        let outage = answer(500, "internal_server_error", "none");
        assert_eq!(outage.remedy(), Remedy::Retry);
        assert!(crate::adobe_pass::retry::is_retryable(
            &outage,
            Endpoint::MvpdProfile
        ));
    }

    #[test]
    fn html_429_becomes_throttled() {
        let error = AdobePassError::from_response(
            Endpoint::Profiles,
            429,
            "text/html",
            b"<html><center>openresty</center></html>",
            Duration::from_secs(1),
        );
        assert!(
            matches!(error, AdobePassError::Throttled { .. }),
            "{error:?}"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn proxy_page_becomes_unexpected_response_to_retry() {
        let error = AdobePassError::from_response(
            Endpoint::Profiles,
            502,
            "text/html",
            b"<html>Bad Gateway</html>",
            Duration::ZERO,
        );
        assert!(matches!(
            error,
            AdobePassError::UnexpectedResponse {
                http_status: 502,
                ..
            }
        ));
        assert_eq!(error.remedy(), Remedy::Retry);
    }

    #[test]
    fn dcr_error_is_decoded_only_for_dcr_endpoints() {
        let body = br#"{"error":"invalid_client"}"#;
        let dcr = AdobePassError::from_response(Endpoint::DcrToken, 400, "", body, Duration::ZERO);
        assert_eq!(dcr.remedy(), Remedy::ApplicationRegistration);
        let other =
            AdobePassError::from_response(Endpoint::Profiles, 400, "", body, Duration::ZERO);
        assert!(matches!(other, AdobePassError::UnexpectedResponse { .. }));
    }
}
