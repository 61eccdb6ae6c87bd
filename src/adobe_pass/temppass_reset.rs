//! The Reset TempPass API (premium; Adobe's TempPass feature page), on the management host with
//! the DCR access token of `identity` (the service's own client): a device's TempPass starts
//! afresh, or a promotional trial by its identifier hash. Both answer 204.

use super::{
    device::DeviceIdentity,
    endpoint::Endpoint,
    error::AdobePassError,
    send::{Body, Request},
    AdobePass,
};

impl AdobePass {
    /// Resets the TempPass `mvpd` of the device Adobe knows as `device_id` (the id its
    /// `AP-Device-Identifier` carries).
    pub async fn reset_temp_pass(
        &self,
        identity: &DeviceIdentity,
        mvpd: &str,
        device_id: &str,
    ) -> Result<(), AdobePassError> {
        let url = self.reset_url(&[], mvpd, ("device_id", device_id))?;
        let request = Request::new(Endpoint::TempPassReset, url, identity, Body::Empty);
        self.call(request).await
    }

    /// Resets the promotional TempPass `mvpd` of the viewer whose identifier hash is `key` (a
    /// value of the `AP-TempPass-Identity` the trial was started with), on every device.
    pub async fn reset_temp_pass_identity(
        &self,
        identity: &DeviceIdentity,
        mvpd: &str,
        key: &str,
    ) -> Result<(), AdobePassError> {
        let url = self.reset_url(&["generic"], mvpd, ("key", key))?;
        let request = Request::new(Endpoint::TempPassResetGeneric, url, identity, Body::Empty);
        self.call(request).await
    }

    /// `{management}/reset-tempass/v3/reset/{segments…}?requestor_id=…&mvpd_id=…&{whom}`.
    fn reset_url(
        &self,
        segments: &[&str],
        mvpd: &str,
        whom: (&str, &str),
    ) -> Result<url::Url, AdobePassError> {
        let mut url = self.inner.management_url.clone();
        url.path_segments_mut()
            .map_err(|()| {
                AdobePassError::InvalidInput("the management URL cannot have a path".into())
            })?
            .pop_if_empty()
            .extend(["reset-tempass", "v3", "reset"])
            .extend(segments);
        url.query_pairs_mut()
            .append_pair("requestor_id", &self.inner.settings.service_provider)
            .append_pair("mvpd_id", mvpd)
            .append_pair(whom.0, whom.1);
        Ok(url)
    }
}
