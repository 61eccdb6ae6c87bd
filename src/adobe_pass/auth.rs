//! DCR (§4): registration once per device, access tokens persisted, cached and refreshed
//! single-flight.

use url::form_urlencoded;

use super::{
    credentials::{ClientCredentials, DeviceSlot},
    device::DeviceIdentity,
    endpoint::Endpoint,
    error::AdobePassError,
    secret::Secret,
    send::{Body, Request},
    types::{ClientRegistration, DcrErrorCode, RegisterRequest, TokenResponse},
    AdobePass,
};

/// How often, and how long apart, a node looks for the token another node is fetching.
const SHARED_TOKEN_WAITS: u32 = 30;
const SHARED_TOKEN_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

impl AdobePass {
    /// Makes sure the device has client credentials and a current access token, registering it
    /// if it never was. Call it when a device first connects.
    pub async fn register_device(&self, device: &DeviceIdentity) -> Result<(), AdobePassError> {
        self.access_token(device).await.map(drop)
    }

    /// DCR `POST /o/client/register`: exchanges the software statement for new client
    /// credentials. The client does this itself, once per device; calling it again creates a
    /// second client and orphans the device's profiles.
    pub async fn register(
        &self,
        device: &DeviceIdentity,
    ) -> Result<ClientRegistration, AdobePassError> {
        let settings = &self.inner.settings;
        let (os_name, os_vendor) = device.platform();
        let body = serde_json::to_vec(&RegisterRequest {
            software_statement: settings.software_statement_for(os_name, os_vendor),
            redirect_uri: settings.redirect_uri.as_deref(),
        })
        .map_err(|error| AdobePassError::InvalidInput(error.to_string()))?;
        let url = self.url(&["o", "client", "register"])?;
        let request = Request::new(Endpoint::DcrRegister, url, device, Body::Json(body));
        self.send(&request, None).await
    }

    /// DCR `POST /o/client/token`: a new access token for the credentials. The body is a form,
    /// as the DOC says (the OAS models query parameters).
    pub async fn token(
        &self,
        device: &DeviceIdentity,
        credentials: &ClientCredentials,
    ) -> Result<TokenResponse, AdobePassError> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &credentials.client_id)
            .append_pair("client_secret", credentials.client_secret.expose())
            .append_pair("grant_type", "client_credentials")
            .finish();
        let url = self.url(&["o", "client", "token"])?;
        let request = Request::new(Endpoint::DcrToken, url, device, Body::Form(form));
        self.send(&request, None).await
    }

    /// The device's cached access token, else the one persisted in the store while it is not
    /// due for refresh, else a new one (registering first if needed).
    pub(crate) async fn access_token(
        &self,
        device: &DeviceIdentity,
    ) -> Result<Secret, AdobePassError> {
        self.token_other_than(device, None).await
    }

    /// A new token after Adobe rejected `rejected`; if a concurrent caller already replaced it,
    /// that replacement is shared instead of fetching another.
    pub(crate) async fn refresh_access_token(
        &self,
        device: &DeviceIdentity,
        rejected: &Secret,
    ) -> Result<Secret, AdobePassError> {
        self.token_other_than(device, Some(rejected)).await
    }

    /// A fresh token that is not `rejected`: the slot's, the store's, another node's, or a new
    /// one, in that order.
    async fn token_other_than(
        &self,
        device: &DeviceIdentity,
        rejected: Option<&Secret>,
    ) -> Result<Secret, AdobePassError> {
        let slot = self.inner.tokens.slot(device.device_id());
        let mut slot = slot.lock().await;
        if let Some(current) = self.replacement(&slot, rejected) {
            return Ok(current);
        }
        if let Some(token) = self.persisted_token(device, &mut slot, rejected).await {
            return Ok(token);
        }
        self.shared_or_fetched(device, &mut slot, rejected).await
    }

    /// The slot's fresh token, unless it is `rejected`.
    fn replacement(&self, slot: &DeviceSlot, rejected: Option<&Secret>) -> Option<Secret> {
        slot.fresh_token(self.inner.tokens.now())
            .filter(|current| Some(current) != rejected)
    }

    /// A new client for the device after Adobe refused even a fresh token of its client with
    /// action `application-registration` ("the client application requires to register itself
    /// again"): the credentials are dropped and the device registers once more, as for
    /// `invalid_client`. If a concurrent caller already did, its token is shared instead.
    pub(crate) async fn reregister(
        &self,
        device: &DeviceIdentity,
        rejected: &Secret,
    ) -> Result<Secret, AdobePassError> {
        let slot = self.inner.tokens.slot(device.device_id());
        let mut slot = slot.lock().await;
        if let Some(current) = self.replacement(&slot, Some(rejected)) {
            return Ok(current);
        }
        let credentials = self.slot_credentials(device, &mut slot).await?;
        tracing::warn!(
            client_id = %credentials.client_id,
            "Adobe Pass refuses every token of this device's DCR client; registering a new one"
        );
        self.drop_client(device, &mut slot, &credentials).await?;
        let token = self.fetch_token(device, &mut slot).await?;
        if let (Some(shared), Some(until)) = (
            &self.inner.shared_tokens,
            slot.token.as_ref().map(|cached| cached.refresh_at),
        ) {
            shared.put(device.device_id(), &token, until).await;
        }
        Ok(token)
    }

    /// The token persisted for the device, cached in its slot, unless it is `rejected` or due
    /// for refresh. A store that cannot be read costs a new token, not the call.
    async fn persisted_token(
        &self,
        device: &DeviceIdentity,
        slot: &mut DeviceSlot,
        rejected: Option<&Secret>,
    ) -> Option<Secret> {
        let tokens = &self.inner.tokens;
        let (token, refresh_at) = match self.inner.store.load_token(device.device_id()).await {
            Ok(found) => found?,
            Err(error) => {
                tracing::warn!("the persisted access token could not be read: {error}");
                return None;
            }
        };
        if Some(&token) == rejected || tokens.now() >= refresh_at {
            return None;
        }
        tokens.cache_until(slot, token.clone(), refresh_at);
        Some(token)
    }

    /// The token another node fetched for the device (unless it is `rejected`), or one fetched
    /// here and shared. While another node is fetching, waits a moment for its token.
    async fn shared_or_fetched(
        &self,
        device: &DeviceIdentity,
        slot: &mut DeviceSlot,
        rejected: Option<&Secret>,
    ) -> Result<Secret, AdobePassError> {
        let Some(shared) = &self.inner.shared_tokens else {
            return self.fetch_token(device, slot).await;
        };
        let id = device.device_id();
        let tokens = &self.inner.tokens;
        let usable = |found: Option<(Secret, std::time::SystemTime)>| {
            found.filter(|(token, until)| Some(token) != rejected && tokens.now() < *until)
        };
        for _ in 0..SHARED_TOKEN_WAITS {
            if let Some((token, until)) = usable(shared.get(id).await) {
                tokens.cache_until(slot, token.clone(), until);
                return Ok(token);
            }
            if shared.claim(id).await {
                break;
            }
            tokio::time::sleep(SHARED_TOKEN_PAUSE).await;
        }
        let token = self.fetch_token(device, slot).await?;
        if let Some(until) = slot.token.as_ref().map(|cached| cached.refresh_at) {
            shared.put(id, &token, until).await;
        }
        Ok(token)
    }

    /// Fetches a token with the device's credentials, registering first when it has none. When
    /// Adobe no longer knows the client (`invalid_client`: deleted or rotated on Adobe's side),
    /// the credentials are dropped and the device registers again, once. The slot's lock makes
    /// this single-flight per device.
    async fn fetch_token(
        &self,
        device: &DeviceIdentity,
        slot: &mut DeviceSlot,
    ) -> Result<Secret, AdobePassError> {
        let mut credentials = self.slot_credentials(device, slot).await?;
        let response = match self.token(device, &credentials).await {
            Err(error) if is_invalid_client(&error) => {
                tracing::warn!(
                    client_id = %credentials.client_id,
                    "Adobe Pass no longer accepts this device's DCR client; registering a new one"
                );
                self.drop_client(device, slot, &credentials).await?;
                credentials = self.slot_credentials(device, slot).await?;
                self.token(device, &credentials).await?
            }
            other => other?,
        };
        let refresh_at =
            self.inner
                .tokens
                .cache(slot, response.access_token.clone(), response.expires_in);
        // Losing the stored copy costs one more token later, never this call.
        if let Err(error) = self
            .inner
            .store
            .save_token(
                device.device_id(),
                &credentials.client_id,
                &response.access_token,
                refresh_at,
            )
            .await
        {
            tracing::warn!("the access token could not be persisted: {error}");
        }
        Ok(response.access_token)
    }

    /// Forgets the device's client (stored credentials and token, and the slot's), so the next
    /// token registers a new one.
    async fn drop_client(
        &self,
        device: &DeviceIdentity,
        slot: &mut DeviceSlot,
        credentials: &ClientCredentials,
    ) -> Result<(), AdobePassError> {
        self.inner
            .store
            .forget(device.device_id(), &credentials.client_id)
            .await?;
        slot.credentials = None;
        slot.token = None;
        self.inner.metrics.client_replaced();
        Ok(())
    }

    /// The credentials held in the slot, loaded (or registered) on first use.
    async fn slot_credentials(
        &self,
        device: &DeviceIdentity,
        slot: &mut DeviceSlot,
    ) -> Result<ClientCredentials, AdobePassError> {
        if let Some(credentials) = &slot.credentials {
            return Ok(credentials.clone());
        }
        let credentials = self.client_credentials(device).await?;
        slot.credentials = Some(credentials.clone());
        Ok(credentials)
    }

    async fn client_credentials(
        &self,
        device: &DeviceIdentity,
    ) -> Result<ClientCredentials, AdobePassError> {
        let store = &self.inner.store;
        if let Some(credentials) = store.load(device.device_id()).await? {
            return Ok(credentials);
        }
        let registration = self.register(device).await?;
        let credentials = ClientCredentials {
            client_id: registration.client_id,
            client_secret: registration.client_secret,
        };
        Ok(store.save_new(device.device_id(), &credentials).await?)
    }
}

/// Whether DCR said the client is unknown to Adobe.
fn is_invalid_client(error: &AdobePassError) -> bool {
    matches!(error, AdobePassError::Dcr { error, .. } if error.error == DcrErrorCode::InvalidClient)
}
