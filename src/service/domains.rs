//! The registered application's domains (TVE Dashboard, "Registered applications"): Adobe
//! validates the sessions' `domainName` and every redirect URL (DCR `redirect_uri`, the
//! sessions' and logout's `redirectUrl`) against them, so a setting outside them fails every
//! sign-in. They are checked against what Adobe's configuration (C1) lists in
//! `requestor.domains`, naming the setting to fix.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Mutex, PoisonError,
};

use url::Url;

use super::{devices::readiness_probe, Service};

/// How long a domain found outside Adobe's list is reported without asking C1 again: every
/// readiness probe and metrics scrape asks, and the list changes only when someone edits the
/// registered application.
const RECHECK_AFTER_MS: i64 = 60_000;

/// Whether the domains were found right once (the settings cannot change while the process
/// runs), or the last problem found and when.
#[derive(Debug, Default)]
pub(super) struct DomainCheck {
    passed: AtomicBool,
    problem: Mutex<Option<(i64, String)>>,
}

impl DomainCheck {
    /// The problem found less than [`RECHECK_AFTER_MS`] before `now`.
    fn recent_problem(&self, now: i64) -> Option<String> {
        let problem = self.problem.lock().unwrap_or_else(PoisonError::into_inner);
        problem
            .as_ref()
            .filter(|(found, _)| now.saturating_sub(*found) < RECHECK_AFTER_MS)
            .map(|(_, problem)| problem.clone())
    }

    fn found(&self, now: i64, problem: &str) {
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((now, problem.to_owned()));
    }
}

/// Whether `host` is `domain` or below it, as Adobe matches registered domains.
fn within(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    host.eq_ignore_ascii_case(domain)
        || host.len().checked_sub(domain.len() + 1).is_some_and(|dot| {
            host.as_bytes()[dot] == b'.' && host[dot + 1..].eq_ignore_ascii_case(domain)
        })
}

/// The settings whose host Adobe checks, each with the flag that sets it.
fn checked_hosts(
    domain_name: &str,
    public_url: &Url,
    dcr_redirect_uri: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut hosts = vec![("--domain-name", domain_name.to_owned())];
    if let Some(host) = public_url.host_str() {
        hosts.push(("--public-url", host.to_owned()));
    }
    if let Some(host) = dcr_redirect_uri
        .and_then(|uri| Url::parse(uri).ok())
        .and_then(|uri| uri.host_str().map(str::to_owned))
    {
        hosts.push(("--dcr-redirect-uri", host));
    }
    hosts
}

/// The first setting whose host is outside `domains`, as a sentence for the operator.
fn first_outside(hosts: &[(&'static str, String)], domains: &[String]) -> Option<String> {
    hosts
        .iter()
        .find(|(_, host)| !domains.iter().any(|domain| within(host, domain)))
        .map(|(setting, host)| {
            format!(
                "{setting}: {host} is not among the registered application's domains at Adobe \
                 Pass ({}); Adobe refuses sign-ins and redirects outside them. Change \
                 {setting}, or add the domain to the application in the TVE Dashboard",
                if domains.is_empty() {
                    "none listed".to_owned()
                } else {
                    domains.join(", ")
                }
            )
        })
}

impl Service {
    /// Checks the domain name, the public URL's host and the DCR redirect URI's host against
    /// the domains Adobe's configuration lists; the error names the setting to fix. Passes
    /// once, then answers from memory; a problem is answered from memory for a minute.
    pub async fn check_domains(&self) -> Result<(), String> {
        let check = &self.inner.domains;
        if check.passed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let now = self.now_millis();
        if let Some(known) = check.recent_problem(now) {
            return Err(known);
        }
        let configuration = self
            .inner
            .adobe
            .configuration(&readiness_probe(&self.inner.settings.probe_device), None)
            .await
            .map_err(|error| format!("Adobe Pass configuration: {error}"))?;
        let domains: Vec<String> = configuration
            .requestor
            .domains
            .into_iter()
            .map(|domain| domain.name)
            .collect();
        let settings = &self.inner.settings;
        let hosts = checked_hosts(
            &settings.domain_name,
            &settings.public_url,
            self.inner.adobe.settings().redirect_uri.as_deref(),
        );
        match first_outside(&hosts, &domains) {
            Some(found) => {
                check.found(now, &found);
                Err(found)
            }
            None => {
                check.passed.store(true, Ordering::Relaxed);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_their_domain_and_its_subdomains_only() {
        assert!(within("watch.example.com", "example.com"));
        assert!(within("Example.COM.", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        assert!(!within("example.com", "watch.example.com"));
        assert!(!within("com", "example.com"));
    }

    #[test]
    fn the_first_setting_outside_the_domains_is_named() {
        let public = Url::parse("https://watch.network.tv/").expect("url");
        let hosts = checked_hosts("network.tv", &public, Some("https://other.tv/cb"));
        let domains = vec!["network.tv".to_owned()];
        let problem = first_outside(&hosts, &domains).expect("other.tv is outside");
        assert!(
            problem.starts_with("--dcr-redirect-uri: other.tv "),
            "{problem}"
        );
        assert!(problem.contains("(network.tv)"), "{problem}");
        let hosts = checked_hosts("network.tv", &public, Some("app://tv.network.tv"));
        assert_eq!(first_outside(&hosts, &domains), None);
        let hosts = checked_hosts("network.tv", &public, Some("app://com.other.app"));
        assert!(
            first_outside(&hosts, &domains).is_some(),
            "an app scheme's host counts too"
        );
        let hosts = checked_hosts("network.tv", &public, None);
        assert_eq!(
            first_outside(&hosts, &[]).map(|p| p.starts_with("--domain-name")),
            Some(true)
        );
    }
}
