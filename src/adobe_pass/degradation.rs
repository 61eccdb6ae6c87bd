//! The Degradation API (premium; Adobe's "Degradation Feature" pages): applies, lists and
//! removes degradation rules on the service provider's integrations, with the DCR access token
//! of `identity` (the service's own client). Offered only where the service is licensed for it.

use super::{
    device::DeviceIdentity,
    endpoint::Endpoint,
    error::AdobePassError,
    send::{Body, Request},
    types::{AppliedDegradation, ApplyDegradation, DegradationRule, DegradationRules},
    AdobePass,
};

impl AdobePass {
    /// The rules in force on the service provider's integrations.
    pub async fn degradation_rules(
        &self,
        identity: &DeviceIdentity,
    ) -> Result<DegradationRules, AdobePassError> {
        let url = self.degradation_url(&[])?;
        self.call(Request::new(
            Endpoint::DegradationRules,
            url,
            identity,
            Body::Empty,
        ))
        .await
    }

    /// Applies `rule` to the integration with `mvpd` for `ttl_seconds`, replacing the rule in
    /// force there; Adobe's record of it.
    pub async fn apply_degradation(
        &self,
        identity: &DeviceIdentity,
        mvpd: &str,
        rule: DegradationRule,
        ttl_seconds: u32,
    ) -> Result<AppliedDegradation, AdobePassError> {
        let url = self.degradation_url(&[mvpd])?;
        let body = serde_json::to_vec(&ApplyDegradation {
            rule,
            ttl: ttl_seconds,
        })
        .map_err(|error| AdobePassError::InvalidInput(error.to_string()))?;
        self.call(Request::new(
            Endpoint::DegradationApply,
            url,
            identity,
            Body::Json(body),
        ))
        .await
    }

    /// Removes the rule in force on the integration with `mvpd`; the rule removed.
    pub async fn remove_degradation(
        &self,
        identity: &DeviceIdentity,
        mvpd: &str,
    ) -> Result<AppliedDegradation, AdobePassError> {
        let url = self.degradation_url(&[mvpd])?;
        self.call(Request::new(
            Endpoint::DegradationRemove,
            url,
            identity,
            Body::Empty,
        ))
        .await
    }

    /// `{base}/degradation/v3/{serviceProvider}/rules/{segments…}`.
    fn degradation_url(&self, segments: &[&str]) -> Result<url::Url, AdobePassError> {
        let service_provider = self.inner.settings.service_provider.as_str();
        let mut all = vec!["degradation", "v3", service_provider, "rules"];
        all.extend_from_slice(segments);
        self.url(&all)
    }
}
