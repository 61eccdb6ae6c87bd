//! The in-memory store: the same behaviour as SQLite, lost on exit; for tests and demos.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use async_trait::async_trait;

use super::{
    revoked_hash, Activation, ActivationStatus, Device, OperatorLimits, ProviderState, SealingKey,
    SealingKeys, Store, StoreError,
};
use crate::adobe_pass::{ClientCredentials, Secret};

#[derive(Debug, Default)]
struct State {
    closed: bool,
    devices: HashMap<String, (Device, String)>,
    credentials: HashMap<String, ClientCredentials>,
    /// Access tokens of the stored clients by device id, with their refresh times.
    tokens: HashMap<String, (Secret, i64)>,
    activations: HashMap<String, Activation>,
    provider_states: std::collections::BTreeMap<String, ProviderState>,
    operator_limits: Option<OperatorLimits>,
}

/// Durable state kept in process memory.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// A key of this store's lifetime, for pseudonyms.
    keys: SealingKeys,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            keys: SealingKey::generate().into(),
        }
    }
}

impl MemoryStore {
    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed {
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        }
        Ok(state)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(drop)
    }

    async fn register_device(&self, device: &Device, token_hash: &str) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let entry = state
            .devices
            .entry(device.device_id.clone())
            .or_insert_with(|| (device.clone(), String::new()));
        entry.0.device_info = device.device_info.clone();
        entry.0.network = device.network.clone();
        entry.0.seen_at = device.seen_at;
        entry.1 = token_hash.to_owned();
        Ok(())
    }

    async fn renew_device(
        &self,
        device: &Device,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let Some((stored, hash)) = state
            .devices
            .get_mut(&device.device_id)
            .filter(|(_, hash)| hash == old_hash)
        else {
            return Ok(false);
        };
        stored.device_info = device.device_info.clone();
        stored.network = device.network.clone();
        stored.seen_at = device.seen_at;
        *hash = new_hash.to_owned();
        Ok(true)
    }

    async fn revoke_token(&self, device_id: &str) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let Some((_, hash)) = state.devices.get_mut(device_id) else {
            return Ok(false);
        };
        *hash = revoked_hash(device_id);
        Ok(true)
    }

    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        Ok(self
            .state()?
            .devices
            .values()
            .find(|(_, hash)| hash == token_hash)
            .map(|(device, _)| device.clone()))
    }

    async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        Ok(self
            .state()?
            .devices
            .get(device_id)
            .map(|(device, _)| device.clone()))
    }

    async fn devices_of_app(&self, app_device_id: &str) -> Result<Vec<Device>, StoreError> {
        Ok(self
            .state()?
            .devices
            .values()
            .filter(|(device, _)| device.app_device_id == app_device_id)
            .map(|(device, _)| device.clone())
            .collect())
    }

    async fn remember_provider(
        &self,
        device_id: &str,
        provider: &str,
        temp_pass_identity: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some((device, _)) = self.state()?.devices.get_mut(device_id) {
            device.last_provider = Some(provider.to_owned());
            device.temp_pass_identity = temp_pass_identity.map(str::to_owned);
        }
        Ok(())
    }

    async fn credentials(&self, device_id: &str) -> Result<Option<ClientCredentials>, StoreError> {
        Ok(self.state()?.credentials.get(device_id).cloned())
    }

    async fn save_new_credentials(
        &self,
        device_id: &str,
        credentials: &ClientCredentials,
    ) -> Result<ClientCredentials, StoreError> {
        Ok(self
            .state()?
            .credentials
            .entry(device_id.to_owned())
            .or_insert_with(|| credentials.clone())
            .clone())
    }

    async fn forget_credentials(
        &self,
        device_id: &str,
        client_id: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let current = state.credentials.get(device_id);
        if current.is_some_and(|c| c.client_id == client_id) {
            state.credentials.remove(device_id);
            state.tokens.remove(device_id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn access_token(&self, device_id: &str) -> Result<Option<(Secret, i64)>, StoreError> {
        Ok(self.state()?.tokens.get(device_id).cloned())
    }

    async fn save_access_token(
        &self,
        device_id: &str,
        client_id: &str,
        token: &Secret,
        refresh_at: i64,
    ) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let current = state.credentials.get(device_id);
        if current.is_some_and(|c| c.client_id == client_id) {
            state
                .tokens
                .insert(device_id.to_owned(), (token.clone(), refresh_at));
        }
        Ok(())
    }

    async fn saw_device(
        &self,
        device_id: &str,
        network: &str,
        seen_at: i64,
    ) -> Result<(), StoreError> {
        if let Some((device, _)) = self.state()?.devices.get_mut(device_id) {
            device.network = Some(network.to_owned());
            device.seen_at = seen_at;
        }
        Ok(())
    }

    async fn sign_in_started(&self, device_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let Some((device, _)) = state.devices.get_mut(device_id) else {
            return Ok(false);
        };
        device.sign_in_started_at.get_or_insert(now);
        Ok(true)
    }

    async fn reclaim_idle_devices(
        &self,
        seen_before: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut state = self.state()?;
        let mut idle: Vec<(i64, String)> = state
            .devices
            .values()
            .map(|(device, _)| device)
            .filter(|device| device.sign_in_started_at.is_none() && device.seen_at < seen_before)
            .filter(|device| {
                state
                    .activations
                    .values()
                    .all(|activation| activation.device_id != device.device_id)
            })
            .map(|device| (device.seen_at, device.device_id.clone()))
            .collect();
        idle.sort();
        idle.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(idle
            .into_iter()
            .map(|(_, device_id)| {
                state.devices.remove(&device_id);
                state.credentials.remove(&device_id);
                state.tokens.remove(&device_id);
                device_id
            })
            .collect())
    }

    async fn provider_states(&self) -> Result<Vec<ProviderState>, StoreError> {
        Ok(self.state()?.provider_states.values().cloned().collect())
    }

    async fn set_provider_state(&self, state: &ProviderState) -> Result<(), StoreError> {
        self.state()?
            .provider_states
            .insert(state.mvpd.clone(), state.clone());
        Ok(())
    }

    async fn operator_limits(&self) -> Result<Option<OperatorLimits>, StoreError> {
        Ok(self.state()?.operator_limits.clone())
    }

    async fn set_operator_limits(&self, limits: Option<&OperatorLimits>) -> Result<(), StoreError> {
        self.state()?.operator_limits = limits.cloned();
        Ok(())
    }

    fn pseudonym(&self, value: &str) -> String {
        self.keys.pseudonym(value.as_bytes())
    }

    async fn start_activation(&self, activation: &Activation) -> Result<Vec<String>, StoreError> {
        let mut state = self.state()?;
        let mut superseded = Vec::new();
        for other in state.activations.values_mut() {
            if other.device_id == activation.device_id
                && other.status == ActivationStatus::Pending
                && other.code != activation.code
            {
                other.status = ActivationStatus::Superseded;
                other.updated_at = activation.updated_at;
                superseded.push(other.code.clone());
            }
        }
        state
            .activations
            .insert(activation.code.clone(), activation.clone());
        Ok(superseded)
    }

    async fn activation(&self, code: &str) -> Result<Option<Activation>, StoreError> {
        Ok(self.state()?.activations.get(code).cloned())
    }

    async fn finish_activation(
        &self,
        code: &str,
        status: ActivationStatus,
        provider: Option<&str>,
        now: i64,
    ) -> Result<Option<Activation>, StoreError> {
        let mut state = self.state()?;
        let Some(activation) = state
            .activations
            .get_mut(code)
            .filter(|a| a.status == ActivationStatus::Pending)
        else {
            return Ok(None);
        };
        activation.status = status;
        if let Some(provider) = provider {
            activation.provider = Some(provider.to_owned());
        }
        activation.updated_at = now;
        Ok(Some(activation.clone()))
    }

    async fn pending_activations(&self) -> Result<Vec<Activation>, StoreError> {
        Ok(self
            .state()?
            .activations
            .values()
            .filter(|a| a.status == ActivationStatus::Pending)
            .cloned()
            .collect())
    }

    async fn purge_activations(&self, before: i64) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let count = state.activations.len();
        state.activations.retain(|_, a| a.expires_at >= before);
        Ok((count - state.activations.len()) as u64)
    }

    async fn close(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
    }
}
