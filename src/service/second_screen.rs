//! What the viewer's phone does with a code: look it up, list providers, start the provider
//! sign-in and cancel. Each call to Adobe uses the identity of the TV that owns the code, with
//! the phone's IP as `X-Forwarded-For` ([`DeviceIdentity::acting_from`]).

use std::net::{IpAddr, SocketAddr};

use url::Url;

use super::{
    activations::session_is_gone, funnel::Step, DeviceSession, Provider, ProviderList, Service,
    ServiceError,
};
use crate::{
    adobe_pass::{
        types::{ActionName, SessionRequest},
        AdobePassError, Endpoint,
    },
    store::{Activation, ActivationStatus, Device},
};

/// A pending code as the phone sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCode {
    /// The code.
    pub code: String,
    /// What Adobe says about the TV: "Roku Ultra (Roku OS)".
    pub device: Option<String>,
    /// The MVPD the TV already chose.
    pub mvpd: Option<String>,
    /// The code's `notAfter`, epoch ms.
    pub expires_at: i64,
    /// Whether the TV was last seen on the phone's network (IPv4 /24, IPv6 /56); `None` when
    /// the TV's network is unknown. A risk signal for the viewer, never a block.
    pub same_network: Option<bool>,
}

/// A short description of Adobe's `device` object: model, then operating system.
fn describe_device(device: &serde_json::Value) -> Option<String> {
    let model = text(&device["model"]).or_else(|| text(&device["hardware"]["name"]));
    describe(model, text(&device["operatingSystem"]["name"]))
}

/// The same description from what the TV registered with (`model`, `osName`).
fn describe_registered(device: &Device) -> Option<String> {
    describe(
        text(&device.device_info["model"]),
        text(&device.device_info["osName"]),
    )
}

fn text(value: &serde_json::Value) -> Option<String> {
    value
        .as_str()
        .map(|s| {
            s.chars()
                .filter(|c| !is_hidden_control(*c))
                .collect::<String>()
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The description, in at most [`MOST_DESCRIBED`] characters: the TV chose these words
/// itself, so the confirm page must not let them pass for ours (security review, finding 12).
fn describe(model: Option<String>, os: Option<String>) -> Option<String> {
    let described = match (model, os) {
        (Some(model), Some(os)) if !model.contains(&os) => format!("{model} ({os})"),
        (Some(model), _) => model,
        (None, os) => os?,
    };
    let mut shown: String = described.chars().take(MOST_DESCRIBED).collect();
    if described.chars().count() > MOST_DESCRIBED {
        shown.push('…');
    }
    Some(shown)
}

/// Characters of a TV's description the phone is shown.
const MOST_DESCRIBED: usize = 40;

/// Control characters and the bidirectional controls that can reorder what a page shows.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl Service {
    /// The TV a finished sign-in signed in, described as the viewer would know it; `None`
    /// when the code did not end in a sign-in.
    pub async fn signed_in_device(&self, code: &str) -> Result<Option<String>, ServiceError> {
        Ok(self
            .signed_in_activation(code)
            .await?
            .and_then(|(_, device)| describe_registered(&device)))
    }

    /// The viewer who finished a sign-in says they did not start it (a code relayed to them,
    /// `draft-ietf-oauth-cross-device-security` §3): the TV holding the code is logged out at
    /// Adobe at once, and its cached sign-in forgotten on every node.
    pub async fn disown_sign_in(&self, code: &str, viewer: IpAddr) -> Result<(), ServiceError> {
        let (activation, device) = self
            .signed_in_activation(code)
            .await?
            .ok_or(ServiceError::NotFound("signed-in activation"))?;
        tracing::warn!(
            device = %device.device_id,
            provider = activation.provider.as_deref().unwrap_or_default(),
            "a viewer disowned a sign-in started elsewhere; the TV is logged out"
        );
        let session = self.session_for(device, SocketAddr::new(viewer, 0))?;
        self.logout(&session).await?;
        Ok(())
    }

    async fn signed_in_activation(
        &self,
        code: &str,
    ) -> Result<Option<(Activation, Device)>, ServiceError> {
        let Some(activation) = self
            .inner
            .store
            .activation(code)
            .await?
            .filter(|a| a.status == ActivationStatus::Authenticated)
        else {
            return Ok(None);
        };
        let device = self.inner.store.device(&activation.device_id).await?;
        Ok(device.map(|device| (activation, device)))
    }

    /// The TV session behind a pending, unexpired code, acting from the viewer's IP; `None`
    /// when the code is unknown, finished or past its `notAfter`.
    async fn viewer_session(
        &self,
        code: &str,
        viewer: IpAddr,
    ) -> Result<Option<(Activation, DeviceSession)>, ServiceError> {
        Ok(self
            .code_session(code, viewer)
            .await?
            .filter(|(activation, _)| {
                activation.status == ActivationStatus::Pending
                    && self.now_millis() < activation.expires_at
            }))
    }

    /// The TV session behind a code whatever its status, acting from the viewer's IP; `None`
    /// when the code or its TV is unknown.
    async fn code_session(
        &self,
        code: &str,
        viewer: IpAddr,
    ) -> Result<Option<(Activation, DeviceSession)>, ServiceError> {
        let Some(activation) = self.inner.store.activation(code).await? else {
            return Ok(None);
        };
        let Some(device) = self.inner.store.device(&activation.device_id).await? else {
            return Ok(None);
        };
        let mut session = self.session_for(device, SocketAddr::new(viewer, 0))?;
        session.identity = session.identity.clone().acting_from(viewer);
        Ok(Some((activation, session)))
    }

    /// Looks a typed or scanned code up (Adobe S3): the TV's description and the MVPD it
    /// chose. `None` when the code is unknown, used or expired.
    pub async fn look_up_code(
        &self,
        code: &str,
        viewer: IpAddr,
    ) -> Result<Option<PendingCode>, ServiceError> {
        let Some((activation, session)) = self.viewer_session(code, viewer).await? else {
            return Ok(None);
        };
        match self
            .inner
            .adobe
            .retrieve_session(&session.identity, code)
            .await
        {
            Ok(status) => {
                self.opened_by_phone(&activation, &session).await;
                Ok(Some(PendingCode {
                    code: code.to_owned(),
                    device: status.device.as_ref().and_then(describe_device),
                    mvpd: status
                        .existing_parameters
                        .get("mvpd")
                        .cloned()
                        .or(activation.provider),
                    expires_at: status.not_after.unwrap_or(activation.expires_at),
                    same_network: session
                        .device
                        .network
                        .as_deref()
                        .map(|tv| tv == self.network_of(viewer)),
                }))
            }
            Err(error) if session_is_gone(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The providers the viewer may pick for the code's TV: only the one the TV chose, when it
    /// chose one (empty when the code is gone).
    pub async fn providers_for_code(
        &self,
        code: &str,
        viewer: IpAddr,
    ) -> Result<ProviderList, ServiceError> {
        let Some((activation, session)) = self.viewer_session(code, viewer).await? else {
            return Ok(ProviderList::default());
        };
        let list = self.providers(&session).await?;
        Ok(match activation.provider {
            Some(chosen) => ProviderList {
                featured: Vec::new(),
                all: list.find(&chosen).cloned().into_iter().collect(),
            },
            None => list,
        })
    }

    /// The provider `mvpd` as the code's TV may use it, whatever the code's status (the
    /// completion page names the provider of a finished sign-in); `None` when unknown.
    pub async fn provider_for_code(
        &self,
        code: &str,
        mvpd: &str,
        viewer: IpAddr,
    ) -> Result<Option<Provider>, ServiceError> {
        let Some((_, session)) = self.code_session(code, viewer).await? else {
            return Ok(None);
        };
        Ok(self.providers(&session).await?.find(mvpd).cloned())
    }

    /// Whether Adobe still holds a live authentication session for a pending code (the
    /// provider's Cancel ends it at once, long before the code's `notAfter`).
    pub async fn sign_in_still_possible(
        &self,
        code: &str,
        viewer: IpAddr,
    ) -> Result<bool, ServiceError> {
        Ok(self.look_up_code(code, viewer).await?.is_some())
    }

    /// Supplies what the code's Adobe session misses (S2, §7.3): the chosen MVPD unless the TV
    /// chose it, and the completion page as `redirectUrl`; while Adobe answers `retry`, what its
    /// `missingParameters` name, a bounded number of times. Gives the Adobe address the browser
    /// must open or, when Adobe answers `authorize` (the device can watch already, for example
    /// under degradation), signs the TV in and gives the completion page. A provider other than
    /// the one the TV chose is refused (see docs/design-notes.md). `None` when the code is gone.
    pub async fn start_sign_in(
        &self,
        code: &str,
        mvpd: &str,
        viewer: IpAddr,
    ) -> Result<Option<Url>, ServiceError> {
        let Some((activation, session)) = self.viewer_session(code, viewer).await? else {
            return Ok(None);
        };
        if let Some(chosen) = activation
            .provider
            .as_deref()
            .filter(|chosen| *chosen != mvpd)
        {
            return Err(ServiceError::invalid(
                "mvpd",
                format!("this TV chose {chosen}; to use another provider, choose it on the TV"),
            ));
        }
        if self.providers(&session).await?.find(mvpd).is_none() {
            return Err(ServiceError::invalid(
                "mvpd",
                "is not a provider of this service",
            ));
        }
        let os_name = &session.info.os_name;
        self.activation_step(Step::ProviderChosen, &activation, Some(mvpd), os_name);
        let completion = self
            .inner
            .settings
            .public_link(&format!("/activate/complete?code={code}"));
        let mut request = SessionRequest {
            mvpd: activation.provider.is_none().then(|| mvpd.to_owned()),
            domain_name: None,
            redirect_url: Some(completion.clone()),
        };
        let mut retries = 0;
        let resumed = loop {
            let resumed = match self
                .inner
                .adobe
                .resume_session(&session.identity, code, &request)
                .await
            {
                Ok(resumed) => resumed,
                Err(error) if session_is_gone(&error) => return Ok(None),
                Err(error) => return Err(error.into()),
            };
            let again = matches!(resumed.action_name, ActionName::Retry | ActionName::Resume);
            if !again || retries == MAX_RETRIES {
                break resumed;
            }
            retries += 1;
            request = missing_parameters(
                &resumed.missing_parameters,
                mvpd,
                &self.inner.settings.domain_name,
                &completion,
            )?;
        };
        match resumed.action_name {
            ActionName::Authenticate => {
                self.opened_by_phone(&activation, &session).await;
                self.activation_step(Step::SignInStarted, &activation, Some(mvpd), os_name);
                Ok(Some(self.inner.adobe.send_browser(viewer, code).await?))
            }
            ActionName::Authorize => {
                let provider = resumed.mvpd.as_deref().unwrap_or(mvpd);
                self.signed_in_with(&session, Some(provider)).await?;
                self.finish(code, ActivationStatus::Authenticated, Some(provider))
                    .await?;
                Ok(Some(Url::parse(&completion).map_err(|error| {
                    ServiceError::invalid("code", format!("no completion page: {error}"))
                })?))
            }
            other => Err(unusable_answer(format!(
                "the action is {other}, not authenticate or authorize"
            ))),
        }
    }
}

/// What S2 gives again for the parameters Adobe names as missing (§7.3 `retry`): the MVPD, the
/// domain (spelled `domain` in one of Adobe's samples) and the completion page. A name the
/// service cannot fill is Adobe's answer the service cannot act on, not the viewer's mistake.
fn missing_parameters(
    names: &[String],
    mvpd: &str,
    domain_name: &str,
    completion: &str,
) -> Result<SessionRequest, ServiceError> {
    let mut request = SessionRequest::default();
    for name in names {
        match name.as_str() {
            "mvpd" => request.mvpd = Some(mvpd.to_owned()),
            "domainName" | "domain" => request.domain_name = Some(domain_name.to_owned()),
            "redirectUrl" => request.redirect_url = Some(completion.to_owned()),
            other => {
                return Err(unusable_answer(format!(
                    "missingParameters names {other:?}, which the service cannot give"
                )))
            }
        }
    }
    Ok(request)
}

/// An S2 answer the service cannot act on.
fn unusable_answer(reason: String) -> ServiceError {
    ServiceError::Upstream(AdobePassError::Decode {
        endpoint: Endpoint::ResumeSession,
        http_status: 200,
        reason,
    })
}

/// How many times S2 is sent again while Adobe answers `retry`.
const MAX_RETRIES: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter the service cannot fill is Adobe's answer the service cannot act on (the
    /// viewer sees "try again later"), never an invalid provider the viewer picked.
    #[test]
    fn missing_parameters_fill_what_they_can_and_blame_adobe_for_the_rest() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let filled = missing_parameters(
            &names(&["mvpd", "domain", "redirectUrl"]),
            "Spectrum",
            "tv.example.com",
            "https://tv.example.com/activate/complete",
        )
        .expect("fillable");
        assert_eq!(filled.mvpd.as_deref(), Some("Spectrum"));
        assert_eq!(filled.domain_name.as_deref(), Some("tv.example.com"));
        assert!(filled.redirect_url.is_some());
        let unfillable = missing_parameters(&names(&["mvpd", "zipCode"]), "Spectrum", "d", "c")
            .expect_err("zipCode");
        assert!(
            matches!(
                unfillable,
                ServiceError::Upstream(AdobePassError::Decode {
                    endpoint: Endpoint::ResumeSession,
                    ..
                })
            ),
            "{unfillable:?}"
        );
    }

    /// Security review, finding 12: no control or bidi characters, at most 40 characters.
    #[test]
    fn descriptions_lose_hidden_controls_and_are_cut_short() {
        let device = serde_json::json!({
            "model": "Living-room TV \u{202E}mutceps\u{202C} verified by Spectrum and more words\n",
            "operatingSystem": {"name": "Roku OS"}
        });
        let shown = describe_device(&device).expect("described");
        assert!(!shown.chars().any(is_hidden_control), "{shown:?}");
        assert_eq!(shown.chars().count(), MOST_DESCRIBED + 1, "{shown:?}");
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn devices_are_described_by_model_and_system() {
        let device =
            serde_json::json!({"model": "Roku Ultra", "operatingSystem": {"name": "Roku OS"}});
        assert_eq!(
            describe_device(&device).as_deref(),
            Some("Roku Ultra (Roku OS)")
        );
        let bare = serde_json::json!({"operatingSystem": {"name": "tvOS"}});
        assert_eq!(describe_device(&bare).as_deref(), Some("tvOS"));
        assert_eq!(describe_device(&serde_json::json!({})), None);
    }
}
