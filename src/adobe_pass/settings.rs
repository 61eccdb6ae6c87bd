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

    /// The management host's base URL (the Reset TempPass API): `mgmt.auth.adobe.com` and
    /// `mgmt-prequal.auth.adobe.com` as Adobe's TempPass page lists them, the staging ones by
    /// the same pattern (not listed there); a custom base URL serves both.
    pub fn management_url(&self) -> Result<Url, url::ParseError> {
        let host = match self {
            Environment::Production => "https://mgmt.auth.adobe.com",
            Environment::Staging => "https://mgmt.auth-staging.adobe.com",
            Environment::PrequalProduction => "https://mgmt-prequal.auth.adobe.com",
            Environment::PrequalStaging => "https://mgmt-prequal.auth-staging.adobe.com",
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
    /// The software statement devices register with unless their platform has its own
    /// (redacted in Debug output).
    pub software_statement: Secret,
    /// Statements of applications registered for one platform each (Adobe advises narrow
    /// applications): a device of that platform registers with its platform's.
    pub platform_statements: Vec<PlatformStatement>,
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

/// The software statement of an application registered for one platform: the devices whose
/// `osName` (and `osVendor`, when given) match, case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformStatement {
    /// The devices' `osName`, for example `Roku OS` or `tvOS`.
    pub os_name: String,
    /// The devices' `osVendor`, for a platform narrower than its OS (Fire TV: Android by
    /// Amazon).
    pub os_vendor: Option<String>,
    /// The statement (redacted in Debug output).
    pub software_statement: Secret,
}

impl ClientSettings {
    /// The statement a device on `os_name` by `os_vendor` registers with: its OS and
    /// vendor's, else its OS's, else the default one.
    pub fn software_statement_for(&self, os_name: &str, os_vendor: Option<&str>) -> &Secret {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        let for_os = |statement: &&PlatformStatement| same(&statement.os_name, os_name);
        self.platform_statements
            .iter()
            .filter(for_os)
            .find(|statement| {
                matches!((&statement.os_vendor, os_vendor), (Some(a), Some(b)) if same(a, b))
            })
            .or_else(|| {
                self.platform_statements
                    .iter()
                    .filter(for_os)
                    .find(|statement| statement.os_vendor.is_none())
            })
            .map_or(&self.software_statement, |statement| {
                &statement.software_statement
            })
    }

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
            platform_statements: Vec::new(),
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
    fn each_platform_registers_with_its_own_statement_then_the_default() {
        let statement = |os_name: &str, os_vendor: Option<&str>, value: &str| PlatformStatement {
            os_name: os_name.to_owned(),
            os_vendor: os_vendor.map(str::to_owned),
            software_statement: Secret::new(value),
        };
        let settings = ClientSettings {
            platform_statements: vec![
                statement("Android", None, "android"),
                statement("Android", Some("Amazon"), "fire"),
                statement("Roku OS", None, "roku"),
            ],
            ..ClientSettings::new(Environment::Staging, "REF30", Secret::new("default"))
        };
        for (os_name, os_vendor, expected) in [
            ("roku os", None, "roku"),
            ("Android", Some("amazon"), "fire"),
            ("Android", Some("Google"), "android"),
            ("Android", None, "android"),
            ("tvOS", Some("Apple"), "default"),
        ] {
            assert_eq!(
                settings.software_statement_for(os_name, os_vendor).expose(),
                expected,
                "{os_name} {os_vendor:?}"
            );
        }
    }

    #[test]
    fn software_statement_is_redacted_in_debug() {
        let settings =
            ClientSettings::new(Environment::Staging, "REF30", Secret::new("eyJ.statement"));
        assert!(!format!("{settings:?}").contains("eyJ.statement"));
    }
}
