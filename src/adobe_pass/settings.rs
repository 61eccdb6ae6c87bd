//! How the client reaches Adobe Pass: environment, identity of the application, timeouts,
//! connection recycling, token refresh, retries and throttling.

use std::time::Duration;

use url::Url;

use super::{endpoint::Endpoint, retry::RetryPolicy, secret::Secret, throttle::ThrottleSettings};

/// An Adobe Pass environment (REST-API-V2.md §1); the base URL carries no `/api/v2` or `/o`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Release-Production, `https://sp.auth.adobe.com`.
    Production,
    /// Release-Staging, `https://sp.auth-staging.adobe.com`.
    Staging,
    /// Prequal-Production, `https://sp-prequal.auth.adobe.com`.
    PrequalProduction,
    /// Prequal-Staging, `https://sp-prequal.auth-staging.adobe.com`.
    PrequalStaging,
    /// Any other base URL, such as the emulator's.
    Custom(Url),
}

impl Environment {
    /// The base URL.
    pub fn base_url(&self) -> Result<Url, url::ParseError> {
        let host = match self {
            Environment::Production => "https://sp.auth.adobe.com",
            Environment::Staging => "https://sp.auth-staging.adobe.com",
            Environment::PrequalProduction => "https://sp-prequal.auth.adobe.com",
            Environment::PrequalStaging => "https://sp-prequal.auth-staging.adobe.com",
            Environment::Custom(url) => return Ok(url.clone()),
        };
        Url::parse(host)
    }
}

/// The client's settings; [`ClientSettings::new`] fills in the defaults.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Which Adobe Pass.
    pub environment: Environment,
    /// The requestor id (`serviceProvider`).
    pub service_provider: String,
    /// The software statement registered for every device (redacted in Debug output).
    pub software_statement: Secret,
    /// The `redirect_uri` sent at registration, if any: optional in the DOC (required in the
    /// OAS), and validated by Adobe against the registered application's domains, so it is
    /// left out unless the application needs one.
    pub redirect_uri: Option<String>,
    /// The longest wait for a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// The longest wait for a whole answer.
    pub request_timeout: Duration,
    /// How long pooled connections live before new ones are made, which re-resolves DNS so
    /// Adobe can move traffic between data centres (§14.2: at most 30 s).
    pub connection_max_age: Duration,
    /// How long before its expiry an access token is replaced.
    pub token_refresh_margin: Duration,
    /// Retries of failed calls.
    pub retry: RetryPolicy,
    /// The client-side throttle.
    pub throttle: ThrottleSettings,
    /// How long each REST API V2 operation may take in all.
    pub budgets: Budgets,
}

/// How long a whole REST API V2 operation may take, access token, retries and the refresh
/// after a 401 included, before the caller hears [`super::AdobePassError::Timeout`]: a viewer
/// pressing Play gives up long before Adobe's own timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// D1 and D2: a viewer is waiting to play.
    pub decisions: Duration,
    /// P1, P2 and P3: a TV checks its sign-in, or a watcher polls.
    pub profiles: Duration,
    /// Everything else: configuration, sessions, logout, partner SSO.
    pub other: Duration,
}

impl Default for Budgets {
    /// 8 s for decisions, 5 s for profiles, 20 s for the rest.
    fn default() -> Self {
        Self {
            decisions: Duration::from_secs(8),
            profiles: Duration::from_secs(5),
            other: Duration::from_secs(20),
        }
    }
}

impl Budgets {
    /// The budget of a call to `endpoint`.
    pub fn of(&self, endpoint: Endpoint) -> Duration {
        match endpoint {
            Endpoint::Preauthorize | Endpoint::Authorize => self.decisions,
            Endpoint::Profiles | Endpoint::MvpdProfile | Endpoint::CodeProfile => self.profiles,
            _ => self.other,
        }
    }
}

/// §14.2 caps DNS caching at 30 seconds.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(30);

impl ClientSettings {
    /// Settings with the defaults: 3 s to connect, 10 s per answer, connections recycled
    /// every 30 s, tokens replaced 5 minutes before expiry, 3 attempts, Adobe's throttle.
    pub fn new(
        environment: Environment,
        service_provider: impl Into<String>,
        software_statement: Secret,
    ) -> Self {
        Self {
            environment,
            service_provider: service_provider.into(),
            software_statement,
            redirect_uri: None,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            connection_max_age: MAX_CONNECTION_AGE,
            token_refresh_margin: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            throttle: ThrottleSettings::default(),
            budgets: Budgets::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_choose_adobe_hosts() {
        assert_eq!(
            Environment::Production.base_url().expect("url").as_str(),
            "https://sp.auth.adobe.com/"
        );
        assert_eq!(
            Environment::PrequalStaging
                .base_url()
                .expect("url")
                .as_str(),
            "https://sp-prequal.auth-staging.adobe.com/"
        );
        let custom = Url::parse("http://127.0.0.1:9000").expect("url");
        assert_eq!(
            Environment::Custom(custom.clone()).base_url().expect("url"),
            custom
        );
    }

    #[test]
    fn software_statement_is_redacted_in_debug() {
        let settings =
            ClientSettings::new(Environment::Staging, "REF30", Secret::new("eyJ.statement"));
        assert!(!format!("{settings:?}").contains("eyJ.statement"));
    }
}
