//! Bounded retries with exponential backoff and jitter, for failures worth repeating and only on
//! calls that are safe to repeat (§11 `retry`: "at most 2–3 times or with exponential backoff").

use std::time::Duration;

use rand::Rng as _;

use super::{
    endpoint::Endpoint,
    error::{asks_retry, AdobePassError},
};

/// How often and how patiently a failed call is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 turns retries off).
    pub max_attempts: u32,
    /// The backoff before the second attempt; it doubles for each further attempt.
    pub base_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt number `attempt` (1-based): half the exponential delay
    /// plus a random share of the other half, so retries from many callers spread out.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = full / 2;
        let jitter = rand::rng().random_range(0.0..=1.0);
        half + half.mul_f64(jitter)
    }
}

/// Whether a failed attempt may be tried again. Throttled and unconnected calls never reached
/// Adobe, so any call may repeat them; other failures only repeat calls safe to repeat.
pub(crate) fn is_retryable(error: &AdobePassError, endpoint: Endpoint) -> bool {
    match error {
        AdobePassError::Throttled { .. } | AdobePassError::Connect { .. } => true,
        AdobePassError::Timeout { .. } | AdobePassError::Connection { .. } => endpoint.repeatable(),
        AdobePassError::Adobe {
            http_status, error, ..
        } => endpoint.repeatable() && asks_retry(*http_status, error),
        AdobePassError::UnexpectedResponse { http_status, .. } => {
            endpoint.repeatable() && *http_status >= 500
        }
        AdobePassError::Dcr { .. }
        | AdobePassError::RateLimited { .. }
        | AdobePassError::Decode { .. }
        | AdobePassError::Store(_)
        | AdobePassError::InvalidInput(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_cap() {
        let policy = RetryPolicy::default();
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(400));
            assert!(policy.backoff(10) <= Duration::from_secs(2));
        }
    }

    #[test]
    fn server_errors_repeat_only_calls_safe_to_repeat() {
        let error = AdobePassError::UnexpectedResponse {
            endpoint: Endpoint::Profiles,
            http_status: 503,
            content_type: "text/html".into(),
            snippet: String::new(),
        };
        assert!(is_retryable(&error, Endpoint::Profiles));
        assert!(!is_retryable(&error, Endpoint::CreateSession));
        assert!(!is_retryable(&error, Endpoint::DcrRegister));
    }

    #[test]
    fn connect_failures_and_429_repeat_any_call() {
        let error = AdobePassError::Connect {
            endpoint: Endpoint::DcrRegister,
            reason: "refused".into(),
        };
        assert!(is_retryable(&error, Endpoint::DcrRegister));
        let throttled = AdobePassError::Throttled {
            endpoint: Endpoint::CreateSession,
            retry_after: Duration::from_secs(1),
        };
        assert!(is_retryable(&throttled, Endpoint::CreateSession));
    }
}
