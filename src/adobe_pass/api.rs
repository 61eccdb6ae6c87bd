//! REST API V2 (§5–§13): one method per endpoint, each sending its documented body type.

use std::net::IpAddr;

use url::{form_urlencoded, Url};

use super::{
    device::DeviceIdentity,
    endpoint::Endpoint,
    error::AdobePassError,
    send::{Body, Request},
    types::{
        Configuration, Decisions, DecisionsRequest, Logouts, PartnerProfileRequest,
        PartnerSessionRequest, Profiles, Session, SessionRequest, SessionStatus,
    },
    AdobePass,
};

/// Requests a viewer's browser makes to Adobe for one sign-in that count against its address:
/// `/api/v2/authenticate`, and its return from the MVPD.
pub const BROWSER_CALLS: u32 = 2;

impl AdobePass {
    /// C1: the MVPDs integrated with the service provider for this device's platform type.
    pub async fn configuration(
        &self,
        device: &DeviceIdentity,
        profile: Option<&str>,
    ) -> Result<Configuration, AdobePassError> {
        let mut url = self.v2_url(&["configuration"])?;
        if let Some(profile) = profile {
            url.query_pairs_mut().append_pair("profile", profile);
        }
        self.get(Endpoint::Configuration, url, device).await
    }

    /// S1: starts an authentication session; absent fields make it answer `resume`.
    pub async fn create_session(
        &self,
        device: &DeviceIdentity,
        request: &SessionRequest,
    ) -> Result<Session, AdobePassError> {
        let url = self.v2_url(&["sessions"])?;
        self.post_form(Endpoint::CreateSession, url, device, session_form(request))
            .await
    }

    /// S2: supplies a session's missing parameters (POST, not PUT). `device` is the streaming
    /// device that created the session, [`DeviceIdentity::acting_from`] the viewer's IP.
    pub async fn resume_session(
        &self,
        device: &DeviceIdentity,
        code: &str,
        request: &SessionRequest,
    ) -> Result<Session, AdobePassError> {
        let url = self.v2_url(&["sessions", code])?;
        self.post_form(Endpoint::ResumeSession, url, device, session_form(request))
            .await
    }

    /// S3: what a session already knows, to validate a code typed on a second screen.
    pub async fn retrieve_session(
        &self,
        device: &DeviceIdentity,
        code: &str,
    ) -> Result<SessionStatus, AdobePassError> {
        let url = self.v2_url(&["sessions", code])?;
        self.get(Endpoint::RetrieveSession, url, device).await
    }

    /// S4: the browser URL that performs the authentication for `code` (not called by this
    /// client: a user agent opens it).
    pub fn authenticate_url(&self, code: &str) -> Result<Url, AdobePassError> {
        self.url(&[
            "api",
            "v2",
            "authenticate",
            &self.inner.settings.service_provider,
            code,
        ])
    }

    /// S4 for a viewer's browser at `viewer`: sets aside [`BROWSER_CALLS`] of the household's
    /// calls (Adobe counts the browser's requests against its address, which a phone on the
    /// home Wi-Fi shares with the TV), waits until the first fits (at most the longest wait),
    /// and returns the URL to send the browser to, so the viewer never meets Adobe's 429 page.
    pub async fn send_browser(&self, viewer: IpAddr, code: &str) -> Result<Url, AdobePassError> {
        let url = self.authenticate_url(code)?;
        let wait = self
            .inner
            .gate
            .buckets()
            .reserve(viewer, BROWSER_CALLS)
            .await;
        tokio::time::sleep(wait.min(self.inner.settings.throttle.max_wait)).await;
        Ok(url)
    }

    /// An absolute URL for a path Adobe returned relative to its host (a session's `url`, an
    /// SSO logout `url`).
    pub fn resolve(&self, relative: &str) -> Result<Url, AdobePassError> {
        self.inner
            .base_url
            .join(relative)
            .map_err(|error| AdobePassError::InvalidInput(format!("{relative:?}: {error}")))
    }

    /// P1: every valid profile of the device (and SSO profiles for the SSO headers sent).
    pub async fn profiles(&self, device: &DeviceIdentity) -> Result<Profiles, AdobePassError> {
        let url = self.v2_url(&["profiles"])?;
        self.get(Endpoint::Profiles, url, device).await
    }

    /// P2: the device's profile for one MVPD (also TempPass and degraded profiles).
    pub async fn mvpd_profile(
        &self,
        device: &DeviceIdentity,
        mvpd: &str,
    ) -> Result<Profiles, AdobePassError> {
        let url = self.v2_url(&["profiles", mvpd])?;
        self.get(Endpoint::MvpdProfile, url, device).await
    }

    /// P3: the profile made by the authentication session `code`; empty until the user logs in.
    pub async fn code_profile(
        &self,
        device: &DeviceIdentity,
        code: &str,
    ) -> Result<Profiles, AdobePassError> {
        let url = self.v2_url(&["profiles", "code", code])?;
        self.get(Endpoint::CodeProfile, url, device).await
    }

    /// P3 for a background poll: one attempt, no retries (the poller tries again on its own
    /// schedule), after every call a viewer waits for.
    pub async fn poll_code_profile(
        &self,
        device: &DeviceIdentity,
        code: &str,
    ) -> Result<Profiles, AdobePassError> {
        let url = self.v2_url(&["profiles", "code", code])?;
        self.call(
            Request::new(Endpoint::CodeProfile, url, device, Body::Empty)
                .once()
                .in_background(),
        )
        .await
    }

    /// D1: informational decisions for a few resources; never permission to play.
    pub async fn preauthorize(
        &self,
        device: &DeviceIdentity,
        mvpd: &str,
        resources: &[String],
    ) -> Result<Decisions, AdobePassError> {
        let url = self.v2_url(&["decisions", "preauthorize", mvpd])?;
        self.post_json(Endpoint::Preauthorize, url, device, resources)
            .await
    }

    /// D2: the decision, with a media token when permitted, for playing `resources` (usually
    /// one). Denials are items with an `error`, not errors.
    pub async fn authorize(
        &self,
        device: &DeviceIdentity,
        mvpd: &str,
        resources: &[String],
    ) -> Result<Decisions, AdobePassError> {
        let url = self.v2_url(&["decisions", "authorize", mvpd])?;
        self.post_json(Endpoint::Authorize, url, device, resources)
            .await
    }

    /// L1: deletes the device's profiles for `mvpd` and says how to finish the logout.
    pub async fn logout(
        &self,
        device: &DeviceIdentity,
        mvpd: &str,
        redirect_url: Option<&str>,
    ) -> Result<Logouts, AdobePassError> {
        let mut url = self.v2_url(&["logout", mvpd])?;
        if let Some(redirect_url) = redirect_url {
            url.query_pairs_mut()
                .append_pair("redirectUrl", redirect_url);
        }
        self.get(Endpoint::Logout, url, device).await
    }

    /// X1: a partner (Apple) SSO session, with fallback parameters for basic authentication.
    pub async fn partner_session(
        &self,
        device: &DeviceIdentity,
        partner: &str,
        request: &PartnerSessionRequest,
    ) -> Result<Session, AdobePassError> {
        let url = self.v2_url(&["sessions", "sso", partner])?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("domainName", &request.domain_name)
            .append_pair("redirectUrl", &request.redirect_url)
            .finish();
        self.post_form(Endpoint::PartnerSession, url, device, form)
            .await
    }

    /// X2: a partner SSO profile from the partner's SAML response.
    pub async fn partner_profile(
        &self,
        device: &DeviceIdentity,
        partner: &str,
        request: &PartnerProfileRequest,
    ) -> Result<Profiles, AdobePassError> {
        let url = self.v2_url(&["profiles", "sso", partner])?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("SAMLResponse", &request.saml_response)
            .finish();
        self.post_form(Endpoint::PartnerProfile, url, device, form)
            .await
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: Url,
        device: &DeviceIdentity,
    ) -> Result<T, AdobePassError> {
        self.call(Request::new(endpoint, url, device, Body::Empty))
            .await
    }

    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: Url,
        device: &DeviceIdentity,
        form: String,
    ) -> Result<T, AdobePassError> {
        self.call(Request::new(endpoint, url, device, Body::Form(form)))
            .await
    }

    async fn post_json(
        &self,
        endpoint: Endpoint,
        url: Url,
        device: &DeviceIdentity,
        resources: &[String],
    ) -> Result<Decisions, AdobePassError> {
        let body = serde_json::to_vec(&DecisionsRequest {
            resources: resources.to_vec(),
        })
        .map_err(|error| AdobePassError::InvalidInput(error.to_string()))?;
        self.call(Request::new(endpoint, url, device, Body::Json(body)))
            .await
    }

    /// `{base}/api/v2/{serviceProvider}/{segments…}`, each segment percent-encoded.
    fn v2_url(&self, segments: &[&str]) -> Result<Url, AdobePassError> {
        let service_provider = self.inner.settings.service_provider.as_str();
        let mut all = vec!["api", "v2", service_provider];
        all.extend_from_slice(segments);
        self.url(&all)
    }

    /// `{base}/{segments…}`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, AdobePassError> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| AdobePassError::InvalidInput("the base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }
}

/// The S1/S2 form: only the fields given.
fn session_form(request: &SessionRequest) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("mvpd", &request.mvpd),
        ("domainName", &request.domain_name),
        ("redirectUrl", &request.redirect_url),
    ] {
        if let Some(value) = value {
            form.append_pair(name, value);
        }
    }
    form.finish()
}
