//! Persistence behind one trait: SQLite on disk (the embedded default) and process memory
//! (tests and demos). Devices, their DCR client credentials and access tokens (sealed at rest),
//! hashes of their tokens, their activations and the provider each last used.

mod memory;
mod postgres;
mod sealing;
mod sqlite;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sealing::{warn_if_others_can_read, SealingError, SealingKey, SealingKeys};
pub use sqlite::SqliteStore;

use crate::adobe_pass::{
    ClientCredentials, ClientCredentialsStore, CredentialsStoreError, Secret, StoreFuture,
};

/// Where the service's durable state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite database file (`sqlite://path/to/file.db`).
    Sqlite(PathBuf),
    /// Process memory only: everything is lost on exit (`memory:`; tests and demos).
    Memory,
    /// A PostgreSQL database shared by several nodes (`postgres://…`; the URL may hold a
    /// password, so it is kept as a secret).
    Postgres {
        /// The connection URL.
        url: Secret,
        /// Connections this node keeps open.
        pool_size: u32,
    },
}

/// A store that could not be opened, reached or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder for the database file could not be created.
    #[error("cannot create the store folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database answered with an error or could not be reached.
    #[error("store unavailable: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("store schema migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A sealed value could not be opened or the key could not be read.
    #[error(transparent)]
    Sealing(#[from] SealingError),
    /// A shared store was asked for without the key every node seals with.
    #[error("a PostgreSQL store needs --secrets-key-file (one key shared by every node)")]
    NoSealingKey,
    /// A stored value is not what this version expects.
    #[error("store holds an unreadable {what}: {detail}")]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
}

/// One registration of a TV app install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The key of this registration and the device id Adobe knows it by (sent as
    /// `AP-Device-Identifier`): a pseudonym of the app's id under the deployment's key, so it
    /// stays across reinstalls and Adobe never sees the app's own id. Rows registered before
    /// that keep the id they had.
    pub device_id: String,
    /// The id the Streaming App sent (`deviceId`); several registrations may share it.
    pub app_device_id: String,
    /// The device's description of itself, as sent at registration (JSON).
    pub device_info: serde_json::Value,
    /// The MVPD this device last signed in with.
    pub last_provider: Option<String>,
    /// The hashed `AP-TempPass-Identity` of its promotional TempPass, when that is the last
    /// provider.
    pub temp_pass_identity: Option<String>,
    /// When it first registered, epoch ms.
    pub registered_at: i64,
    /// A pseudonym of the address prefix (IPv4 /24, IPv6 /56) it was last seen from; `None` for
    /// rows from before it was kept, until the device calls again.
    pub network: Option<String>,
    /// When it was last seen from `network`, epoch ms (0: never).
    pub seen_at: i64,
    /// When it first asked Adobe to start a sign-in (an authentication session or a TempPass),
    /// epoch ms; `None`: never, so its Adobe identity holds no profile and an idle registration
    /// may be reclaimed.
    pub sign_in_started_at: Option<i64>,
}

/// Where an activation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationStatus {
    /// Waiting for the viewer to sign in on the second screen.
    Pending,
    /// The viewer signed in: the device has a profile.
    Authenticated,
    /// The code's `notAfter` passed first.
    Expired,
    /// The viewer cancelled.
    Cancelled,
    /// The device started a newer activation.
    Superseded,
}

impl ActivationStatus {
    /// The status as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Authenticated => "authenticated",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Superseded => "superseded",
        }
    }

    /// Parses a stored status.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Authenticated,
            Self::Expired,
            Self::Cancelled,
            Self::Superseded,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// One attempt of a device to get signed in with a code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    /// The code Adobe issued, shown on the TV.
    pub code: String,
    /// The device that asked for it.
    pub device_id: String,
    /// The MVPD, once chosen (on the TV or the phone) or once signed in.
    pub provider: Option<String>,
    /// Where it stands.
    pub status: ActivationStatus,
    /// The code's `notAfter`, epoch ms.
    pub expires_at: i64,
    /// Last change, epoch ms.
    pub updated_at: i64,
    /// When Adobe issued the code, epoch ms (0 for activations stored before it was kept).
    pub created_at: i64,
}

/// What an operator set for a provider (MVPD) at runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderMode {
    /// Shown as Adobe lists it.
    Normal,
    /// Shown with a notice that its sign-in is having trouble.
    Notice,
    /// Not offered: its sign-in is broken.
    Hidden,
}

impl ProviderMode {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Notice => "notice",
            Self::Hidden => "hidden",
        }
    }

    /// The mode a stored word names.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "normal" => Some(Self::Normal),
            "notice" => Some(Self::Notice),
            "hidden" => Some(Self::Hidden),
            _ => None,
        }
    }
}

/// A provider's state as an operator last set it, and who set it and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderState {
    /// The MVPD id.
    pub mvpd: String,
    /// Normal, notice or hidden.
    pub mode: ProviderMode,
    /// The notice by language (`en`, `es`); empty for the site's own words.
    pub message: std::collections::BTreeMap<String, String>,
    /// When the state lapses by itself (epoch ms); `None`: when set again.
    pub until: Option<i64>,
    /// The operator who set it.
    pub changed_by: String,
    /// Why.
    pub reason: String,
    /// When, epoch ms.
    pub changed_at: i64,
}

/// Limits an operator set at runtime, over the configured ones, and who set them and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorLimits {
    /// Registrations per second from everyone together.
    pub registrations_per_second: u32,
    /// Steps reaching Adobe per second from one address.
    pub adobe_steps_per_address_per_second: u32,
    /// Background polls of Adobe in flight at once, per node.
    pub max_concurrent_polls: u32,
    /// The operator who set them.
    pub changed_by: String,
    /// Why.
    pub reason: String,
    /// When, epoch ms.
    pub changed_at: i64,
}

/// The service's durable state.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Checks that the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Registers `device` or, when its id is known, updates its description; either way its
    /// token hash becomes `token_hash`, which revokes the previous token. A known device keeps
    /// its registration time, credentials and last provider.
    async fn register_device(&self, device: &Device, token_hash: &str) -> Result<(), StoreError>;

    /// Renews a registration, compare-and-swap: only while the device's token hash is still
    /// `old_hash` does it become `new_hash`, with the description, network and seen time of
    /// `device` (`seen_at` is also when it changed). Returns whether it was renewed; a token
    /// renewed or revoked meanwhile changes nothing.
    async fn renew_device(
        &self,
        device: &Device,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Revokes the device's token: its hash becomes [`revoked_hash`], which no token has, so the
    /// device must register afresh. Returns whether the device is known.
    async fn revoke_token(&self, device_id: &str) -> Result<bool, StoreError>;

    /// The device whose current token hashes to `token_hash`.
    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError>;

    /// The device with this id.
    async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError>;

    /// Every registration of the app device id `app_device_id`.
    async fn devices_of_app(&self, app_device_id: &str) -> Result<Vec<Device>, StoreError>;

    /// Remembers the MVPD the device last signed in with and, for a promotional TempPass, the
    /// hashed identity it runs under (cleared by any other provider).
    async fn remember_provider(
        &self,
        device_id: &str,
        provider: &str,
        temp_pass_identity: Option<&str>,
    ) -> Result<(), StoreError>;

    /// The device's DCR client credentials.
    async fn credentials(&self, device_id: &str) -> Result<Option<ClientCredentials>, StoreError>;

    /// Keeps `credentials` unless the device already has some; returns the ones kept.
    async fn save_new_credentials(
        &self,
        device_id: &str,
        credentials: &ClientCredentials,
    ) -> Result<ClientCredentials, StoreError>;

    /// Deletes the device's credentials if they are still those of `client_id` (Adobe no longer
    /// accepts them); returns whether they were deleted.
    async fn forget_credentials(
        &self,
        device_id: &str,
        client_id: &str,
    ) -> Result<bool, StoreError>;

    /// The device's persisted access token and when it is due for refresh (epoch ms).
    async fn access_token(&self, device_id: &str) -> Result<Option<(Secret, i64)>, StoreError>;

    /// Persists the access token of the device's client `client_id` (sealed) until `refresh_at`
    /// (epoch ms); does nothing when the device's credentials are no longer that client's.
    /// Forgetting the credentials forgets the token.
    async fn save_access_token(
        &self,
        device_id: &str,
        client_id: &str,
        token: &Secret,
        refresh_at: i64,
    ) -> Result<(), StoreError>;

    /// Records that the device was seen from `network` (a pseudonym of its address prefix) at
    /// `seen_at` (epoch ms).
    async fn saw_device(
        &self,
        device_id: &str,
        network: &str,
        seen_at: i64,
    ) -> Result<(), StoreError>;

    /// Records that the device asks Adobe to start a sign-in at `now` (epoch ms), unless it had
    /// before; returns whether the device is registered.
    async fn sign_in_started(&self, device_id: &str, now: i64) -> Result<bool, StoreError>;

    /// Deletes up to `limit` registrations that never started a sign-in, have no activation and
    /// were last seen before `seen_before` (epoch ms), with their credentials and access
    /// tokens; returns their device ids.
    async fn reclaim_idle_devices(
        &self,
        seen_before: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// Every provider state an operator set.
    async fn provider_states(&self) -> Result<Vec<ProviderState>, StoreError>;

    /// Keeps `state` as its provider's, replacing what was set before.
    async fn set_provider_state(&self, state: &ProviderState) -> Result<(), StoreError>;

    /// The limits an operator set, if any.
    async fn operator_limits(&self) -> Result<Option<OperatorLimits>, StoreError>;

    /// Keeps `limits` as the operators' (`None`: back to the configured ones).
    async fn set_operator_limits(&self, limits: Option<&OperatorLimits>) -> Result<(), StoreError>;

    /// A pseudonym of `value` under this deployment's secrets key (see
    /// [`SealingKeys::pseudonym`]); the in-memory store uses a key of its own lifetime.
    fn pseudonym(&self, value: &str) -> String;

    /// Records a new pending activation and, in the same step, marks the device's other pending
    /// activations superseded; returns their codes.
    async fn start_activation(&self, activation: &Activation) -> Result<Vec<String>, StoreError>;

    /// The activation with this code.
    async fn activation(&self, code: &str) -> Result<Option<Activation>, StoreError>;

    /// Moves a pending activation to `status` (with the provider, when known); returns the
    /// activation as it now stands, or `None` when it was not pending.
    async fn finish_activation(
        &self,
        code: &str,
        status: ActivationStatus,
        provider: Option<&str>,
        now: i64,
    ) -> Result<Option<Activation>, StoreError>;

    /// Every pending activation, to resume watching them after a restart.
    async fn pending_activations(&self) -> Result<Vec<Activation>, StoreError>;

    /// Deletes activations that expired before `before` (epoch ms); returns how many.
    async fn purge_activations(&self, before: i64) -> Result<u64, StoreError>;

    /// Closes the store; later calls fail.
    async fn close(&self);
}

/// The registrations that never started a sign-in, have no activation and were last seen before
/// parameter 1 (epoch ms), oldest first; `mark` is the dialect's parameter mark (`$` or `?`).
fn idle_devices(mark: char) -> String {
    format!(
        "SELECT device_id FROM devices d
         WHERE sign_in_started_at IS NULL AND seen_at < {mark}1
           AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.device_id = d.device_id)
         ORDER BY seen_at"
    )
}

/// A provider state's notice as stored: JSON by language.
fn message_json(state: &ProviderState) -> String {
    serde_json::Value::from_iter(
        state
            .message
            .iter()
            .map(|(language, text)| (language.clone(), serde_json::Value::from(text.as_str()))),
    )
    .to_string()
}

/// What a revoked device's token hash becomes: unique per device (the column is), and never the
/// hex SHA-256 of a token.
pub fn revoked_hash(device_id: &str) -> String {
    format!("revoked:{device_id}")
}

/// The row an access token is sealed for: the device's, apart from its client secret's, so the
/// two sealed values cannot stand in for each other.
fn token_row(device_id: &str) -> String {
    format!("{device_id}\0access-token")
}

/// A store shared across tasks.
pub type SharedStore = Arc<dyn Store>;

/// Opens the store at `url`. Client secrets are sealed with `keys`; without them, SQLite uses
/// the key in a file beside the database (created when it does not exist), and PostgreSQL
/// refuses to open (every node must share one configured key).
pub async fn open(url: &StoreUrl, keys: Option<SealingKeys>) -> Result<SharedStore, StoreError> {
    Ok(match url {
        StoreUrl::Memory => Arc::new(MemoryStore::default()),
        StoreUrl::Sqlite(path) => {
            let keys = match keys {
                Some(keys) => keys,
                None => SealingKey::load_or_create(&path.with_extension("key"))?.into(),
            };
            Arc::new(SqliteStore::open(path, keys).await?)
        }
        StoreUrl::Postgres { url, pool_size } => {
            let keys = keys.ok_or(StoreError::NoSealingKey)?;
            Arc::new(PostgresStore::connect(url.expose(), *pool_size, keys).await?)
        }
    })
}

/// Lets the Adobe Pass client persist DCR credentials in the service's store.
#[derive(Clone, Debug)]
pub struct CredentialsInStore(pub SharedStore);

impl ClientCredentialsStore for CredentialsInStore {
    fn load<'a>(&'a self, device_id: &'a str) -> StoreFuture<'a, Option<ClientCredentials>> {
        Box::pin(async move {
            self.0
                .credentials(device_id)
                .await
                .map_err(|e| CredentialsStoreError(Box::new(e)))
        })
    }

    fn save_new<'a>(
        &'a self,
        device_id: &'a str,
        credentials: &'a ClientCredentials,
    ) -> StoreFuture<'a, ClientCredentials> {
        Box::pin(async move {
            self.0
                .save_new_credentials(device_id, credentials)
                .await
                .map_err(|e| CredentialsStoreError(Box::new(e)))
        })
    }

    fn forget<'a>(&'a self, device_id: &'a str, client_id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .forget_credentials(device_id, client_id)
                .await
                .map(drop)
                .map_err(|e| CredentialsStoreError(Box::new(e)))
        })
    }

    fn load_token<'a>(
        &'a self,
        device_id: &'a str,
    ) -> StoreFuture<'a, Option<(Secret, SystemTime)>> {
        Box::pin(async move {
            let found = self
                .0
                .access_token(device_id)
                .await
                .map_err(|e| CredentialsStoreError(Box::new(e)))?;
            Ok(found.map(|(token, refresh_at)| (token, from_millis(refresh_at))))
        })
    }

    fn save_token<'a>(
        &'a self,
        device_id: &'a str,
        client_id: &'a str,
        token: &'a Secret,
        refresh_at: SystemTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .save_access_token(device_id, client_id, token, to_millis(refresh_at))
                .await
                .map_err(|e| CredentialsStoreError(Box::new(e)))
        })
    }
}

fn to_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

#[cfg(test)]
mod contract;
