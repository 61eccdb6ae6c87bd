//! Errors of the Streaming App API: always `{"error": {"code", "message", "action",
//! "supportCode", "retryAfter"?}}` with a fitting status, and `Retry-After` when waiting helps
//! (the same number, jittered by [`backoff::retry_after_seconds`]). The support code is new for
//! each error and logged with the request by [`crate::support::support_cases`].

use std::time::Duration;

use axum::{
    extract::rejection::{PathRejection, QueryRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    adobe_pass::Remedy,
    backoff,
    service::ServiceError,
    support::{Issued, SupportCode},
};

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, and what to do about it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable, machine-readable code, for example `unknown_device`, `invalid_request`,
    /// `not_authenticated`, `not_found`, `upstream_throttled`, `upstream_unavailable`.
    pub code: String,
    /// A sentence for the viewer; names the field for invalid requests; never holds secrets.
    pub message: String,
    /// What the app should do next: `fix-request`, `register`, `authenticate`, `retry` or
    /// `contact-support`.
    pub action: String,
    /// Seconds to wait before trying again, when known (also sent as `Retry-After`): at least
    /// what the service needs, at most twice that, so TVs refused together come back apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A code to read to support, `XXXX-XXXX` (no `0`, `1`, `I`, `L` or `O`), new for every
    /// error: it maps, in the service's logs, to the request, the node and the device.
    #[schema(
        pattern = "^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$",
        example = "7KQ4-M2XD"
    )]
    pub support_code: String,
}

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    action: &'static str,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with this status, code, message and next action.
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
        action: &'static str,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            action,
            retry_after: None,
        }
    }

    /// 400 `invalid_request`: `field` is wrong, as `message` says.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{field}: {message}"),
            "fix-request",
        )
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
            "fix-request",
        )
    }

    /// 401 `unknown_device`, with a message saying what is wrong with the token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unknown_device",
            message,
            "register",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }
}

fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::UnknownDevice => StatusCode::UNAUTHORIZED,
        ServiceError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::NotAuthenticated => StatusCode::FORBIDDEN,
        ServiceError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Store(_) | ServiceError::SharedStateUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ServiceError::Upstream(upstream) => match upstream.remedy() {
            Remedy::Retry => StatusCode::SERVICE_UNAVAILABLE,
            Remedy::Authentication | Remedy::Authorization => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_GATEWAY,
        },
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = status_of(&error);
        if status.is_server_error() {
            // The service's errors carry no secrets; the TV only gets the sentence.
            tracing::warn!(%error, code = %error.code(), "TV API call failed");
        }
        Self::new(
            status,
            error.code(),
            error.message(),
            error.action().as_str(),
        )
        .with_retry_after(error.retry_after())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::invalid("path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::invalid("query", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Jittered, so TVs refused together do not all come back in the same second.
        let retry_after = self.retry_after.map(backoff::retry_after_seconds);
        let support_code = SupportCode::random();
        let issued = Issued {
            code: support_code.clone(),
            error: self.code.clone(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                action: self.action.to_owned(),
                retry_after,
                support_code: support_code.as_str().to_owned(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        // Logged with the request, node and device by `support::support_cases`.
        response.extensions_mut().insert(issued);
        let headers = response.headers_mut();
        if let Some(wait) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tv\""),
            );
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body's `retryAfter` and the `Retry-After` header say the same, between what was
    /// needed and twice that.
    #[test]
    fn the_header_and_the_body_give_one_jittered_wait() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let response =
                ApiError::from(ServiceError::TooMany(Duration::from_millis(2_500))).into_response();
            let header: u64 = response.headers()[header::RETRY_AFTER]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!((3..=6).contains(&header), "{header}");
            seen.insert(header);
        }
        assert!(seen.len() > 1, "jittered: {seen:?}");
    }

    #[test]
    fn service_errors_get_fitting_statuses() {
        let cases = [
            (ServiceError::UnknownDevice, StatusCode::UNAUTHORIZED),
            (ServiceError::invalid("mvpd", "no"), StatusCode::BAD_REQUEST),
            (ServiceError::NotFound("activation"), StatusCode::NOT_FOUND),
            (ServiceError::NotAuthenticated, StatusCode::FORBIDDEN),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).status(), status);
        }
    }
}
