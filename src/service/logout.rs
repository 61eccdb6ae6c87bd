//! Logout: deletes the device's profile at Adobe and forgets what was cached for it.

use super::{DeviceSession, Service, ServiceError};
use crate::adobe_pass::types::LogoutActionName;

/// What logging out led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutOutcome {
    /// A provider logout page to open in a browser, when the provider has one.
    pub logout_url: Option<String>,
}

impl Service {
    /// Logs the device's viewer out of its provider (a no-op when not signed in).
    pub async fn logout(&self, session: &DeviceSession) -> Result<LogoutOutcome, ServiceError> {
        let Some(profile) = self.profile(session).await? else {
            return Ok(LogoutOutcome { logout_url: None });
        };
        let redirect = self.inner.settings.public_link("/");
        let logouts = self
            .inner
            .adobe
            .logout(&session.identity, &profile.provider, Some(&redirect))
            .await;
        self.invalidate_device(&session.device.device_id).await;
        let logouts = logouts?;
        self.logged_out(session, &profile.provider);
        let logout_url = logouts
            .logouts
            .values()
            .filter(|l| l.action_name == LogoutActionName::Logout)
            .find_map(|l| l.url.as_deref())
            .map(|url| {
                self.inner
                    .adobe
                    .resolve(url)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| url.to_owned())
            });
        Ok(LogoutOutcome { logout_url })
    }
}
