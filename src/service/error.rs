//! What can go wrong in the service, in terms a TV app (and a page) can act on.

use std::time::Duration;

use crate::{
    adobe_pass::{AdobePassError, CredentialsStoreError, Remedy},
    store::StoreError,
};

impl From<AdobePassError> for ServiceError {
    /// The client's failures, except that a store failure behind the client's credentials
    /// (reading or saving them) is the store's: 503, try again, not an upstream refusal.
    fn from(error: AdobePassError) -> Self {
        match error {
            AdobePassError::Store(CredentialsStoreError(inner)) => {
                match inner.downcast::<StoreError>() {
                    Ok(store) => Self::Store(*store),
                    Err(other) => {
                        Self::Upstream(AdobePassError::Store(CredentialsStoreError(other)))
                    }
                }
            }
            other => Self::Upstream(other),
        }
    }
}

/// A failed service operation.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The device token is missing, unknown or revoked.
    #[error("the device token is missing, unknown or revoked")]
    UnknownDevice,
    /// A value sent by the caller is not acceptable.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The field, as the caller spelled it.
        field: &'static str,
        /// What is wrong, in one sentence.
        message: String,
    },
    /// The thing asked about does not exist (for this device).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The device has no authenticated profile: the viewer must sign in first.
    #[error("the viewer is not signed in with a TV provider on this device")]
    NotAuthenticated,
    /// Too many requests of this kind from this address (or from everyone): wait this long.
    #[error("too many requests; try again in {} s", .0.as_secs().max(1))]
    TooMany(Duration),
    /// What the nodes share (Redis) cannot be reached; try again shortly.
    #[error("the service's shared state is unavailable")]
    SharedStateUnavailable,
    /// Adobe Pass failed or refused.
    #[error(transparent)]
    Upstream(AdobePassError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the caller should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextAction {
    /// Fix the request.
    FixRequest,
    /// Register the device again.
    Register,
    /// Sign the viewer in (start an activation).
    Authenticate,
    /// Try again, after `retry_after` when given.
    Retry,
    /// Nothing the caller can do; the operator must fix the setup.
    ContactSupport,
}

impl NextAction {
    /// The action as the TV API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FixRequest => "fix-request",
            Self::Register => "register",
            Self::Authenticate => "authenticate",
            Self::Retry => "retry",
            Self::ContactSupport => "contact-support",
        }
    }
}

impl ServiceError {
    /// A short, stable, machine-readable code.
    pub fn code(&self) -> String {
        match self {
            Self::UnknownDevice => "unknown_device".to_owned(),
            Self::InvalidInput { .. } => "invalid_request".to_owned(),
            Self::NotFound(_) => "not_found".to_owned(),
            Self::NotAuthenticated => "not_authenticated".to_owned(),
            Self::TooMany(_) => "too_many_requests".to_owned(),
            Self::Upstream(error) => match error {
                AdobePassError::Throttled { .. } | AdobePassError::RateLimited { .. } => {
                    "upstream_throttled".to_owned()
                }
                AdobePassError::Timeout { .. } => "upstream_timeout".to_owned(),
                AdobePassError::Connect { .. } | AdobePassError::Connection { .. } => {
                    "upstream_unavailable".to_owned()
                }
                other => match other.enhanced() {
                    Some(enhanced) => enhanced.code.to_string(),
                    None => "upstream_error".to_owned(),
                },
            },
            Self::Store(_) => "store_unavailable".to_owned(),
            Self::SharedStateUnavailable => "shared_state_unavailable".to_owned(),
        }
    }

    /// What the caller should do next.
    pub fn action(&self) -> NextAction {
        match self {
            Self::UnknownDevice => NextAction::Register,
            Self::InvalidInput { .. } | Self::NotFound(_) => NextAction::FixRequest,
            Self::NotAuthenticated => NextAction::Authenticate,
            Self::Store(_) | Self::TooMany(_) | Self::SharedStateUnavailable => NextAction::Retry,
            Self::Upstream(error) => match error.remedy() {
                Remedy::Retry => NextAction::Retry,
                Remedy::Authentication => NextAction::Authenticate,
                // §11: "obtain authorization for the resource", which a play does: ask again.
                Remedy::Authorization => NextAction::Retry,
                Remedy::ApplicationRegistration => NextAction::Register,
                Remedy::Configuration => NextAction::ContactSupport,
                Remedy::None if error.http_status().is_some_and(|s| s >= 500) => NextAction::Retry,
                Remedy::None => NextAction::ContactSupport,
            },
        }
    }

    /// How long to wait before trying again, when known: what is needed, which callers are
    /// told jittered (`crate::backoff::retry_after_seconds`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Upstream(error) => error
                .retry_after()
                .or_else(|| (error.remedy() == Remedy::Retry).then_some(Duration::from_secs(1))),
            Self::Store(_) | Self::SharedStateUnavailable => Some(Duration::from_secs(1)),
            Self::TooMany(wait) => Some((*wait).max(Duration::from_secs(1))),
            _ => None,
        }
    }

    /// A sentence for the person in front of the screen; never holds secrets.
    pub fn message(&self) -> String {
        match self {
            Self::Upstream(error) => match error.remedy() {
                Remedy::Retry => {
                    "The TV provider service is busy or unreachable. Please try again in a moment."
                        .to_owned()
                }
                Remedy::Authentication => "Please sign in with your TV provider again.".to_owned(),
                _ => error
                    .enhanced()
                    .and_then(|e| e.message.clone())
                    .unwrap_or_else(|| "The TV provider service refused the request.".to_owned()),
            },
            Self::Store(_) | Self::SharedStateUnavailable => {
                "The service is briefly unavailable. Please try again.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// Shorthand for an invalid field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adobe_pass::{types::EnhancedError, Endpoint};

    fn refusal(action: &str) -> ServiceError {
        let error: EnhancedError = serde_json::from_value(serde_json::json!({
            "status": 403,
            "code": "a_code_of_the_future",
            "action": action,
        }))
        .expect("an enhanced error");
        ServiceError::Upstream(AdobePassError::Adobe {
            endpoint: Endpoint::Authorize,
            http_status: 403,
            error: Box::new(error),
        })
    }

    /// §11: `authorization` asks for an authorization decision, not a new sign-in.
    #[test]
    fn an_authorization_action_asks_to_play_again_not_to_sign_in() {
        assert_eq!(refusal("authorization").action(), NextAction::Retry);
        assert_eq!(refusal("authentication").action(), NextAction::Authenticate);
    }
}
