//! The SQLite store: one file, WAL journal, schema kept by embedded migrations; writes that
//! belong together happen in one transaction.

use std::path::Path;

use async_trait::async_trait;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow},
    Row,
};

use super::{
    idle_devices, message_json, revoked_hash, token_row, Activation, ActivationStatus, Device,
    OperatorLimits, ProviderMode, ProviderState, SealingKeys, Store, StoreError,
};
use crate::adobe_pass::{ClientCredentials, Secret};

/// Durable state in a SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    keys: SealingKeys,
}

impl SqliteStore {
    /// Opens (creating when missing, and migrating) the database at `path`; client secrets are
    /// sealed with `keys`.
    pub async fn open(path: &Path, keys: SealingKeys) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool, keys })
    }
}

const ACTIVATION_COLUMNS: &str =
    "code, device_id, provider, status, expires_at, updated_at, created_at";

fn device_from_row(row: &SqliteRow) -> Result<Device, StoreError> {
    let info: String = row.try_get("device_info")?;
    Ok(Device {
        device_id: row.try_get("device_id")?,
        app_device_id: row.try_get("app_device_id")?,
        device_info: serde_json::from_str(&info).map_err(|e| StoreError::Corrupt {
            what: "device description",
            detail: e.to_string(),
        })?,
        last_provider: row.try_get("last_provider")?,
        temp_pass_identity: row.try_get("temp_pass_identity")?,
        registered_at: row.try_get("registered_at")?,
        network: row.try_get("network")?,
        seen_at: row.try_get("seen_at")?,
        sign_in_started_at: row.try_get("sign_in_started_at")?,
    })
}

fn provider_state_from_row(row: &SqliteRow) -> Result<ProviderState, StoreError> {
    let mode: String = row.try_get("mode")?;
    let message: String = row.try_get("message")?;
    Ok(ProviderState {
        mvpd: row.try_get("mvpd")?,
        mode: ProviderMode::parse(&mode).ok_or_else(|| StoreError::Corrupt {
            what: "provider mode",
            detail: mode.clone(),
        })?,
        message: serde_json::from_str(&message).map_err(|e| StoreError::Corrupt {
            what: "provider notice",
            detail: e.to_string(),
        })?,
        until: row.try_get("until")?,
        changed_by: row.try_get("changed_by")?,
        reason: row.try_get("reason")?,
        changed_at: row.try_get("changed_at")?,
    })
}

fn activation_from_row(row: &SqliteRow) -> Result<Activation, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Activation {
        code: row.try_get("code")?,
        device_id: row.try_get("device_id")?,
        provider: row.try_get("provider")?,
        status: ActivationStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
            what: "activation status",
            detail: status.clone(),
        })?,
        expires_at: row.try_get("expires_at")?,
        updated_at: row.try_get("updated_at")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn register_device(&self, device: &Device, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO devices (device_id, app_device_id, device_info, token_hash, last_provider, registered_at, updated_at, network, seen_at)
             VALUES (?1, ?6, ?2, ?3, ?4, ?5, ?5, ?7, ?8)
             ON CONFLICT (device_id) DO UPDATE SET
               device_info = excluded.device_info,
               token_hash = excluded.token_hash,
               updated_at = excluded.updated_at,
               network = excluded.network,
               seen_at = excluded.seen_at",
        )
        .bind(&device.device_id)
        .bind(device.device_info.to_string())
        .bind(token_hash)
        .bind(&device.last_provider)
        .bind(device.registered_at)
        .bind(&device.app_device_id)
        .bind(&device.network)
        .bind(device.seen_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn renew_device(
        &self,
        device: &Device,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE devices SET token_hash = ?3, device_info = ?4, network = ?5, seen_at = ?6, updated_at = ?6
             WHERE device_id = ?1 AND token_hash = ?2",
        )
        .bind(&device.device_id)
        .bind(old_hash)
        .bind(new_hash)
        .bind(device.device_info.to_string())
        .bind(&device.network)
        .bind(device.seen_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(renewed > 0)
    }

    async fn revoke_token(&self, device_id: &str) -> Result<bool, StoreError> {
        let known = sqlx::query("UPDATE devices SET token_hash = ?2 WHERE device_id = ?1")
            .bind(device_id)
            .bind(revoked_hash(device_id))
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(known > 0)
    }

    async fn device_for_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        sqlx::query("SELECT * FROM devices WHERE token_hash = ?1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }

    async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        sqlx::query("SELECT * FROM devices WHERE device_id = ?1")
            .bind(device_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }

    async fn devices_of_app(&self, app_device_id: &str) -> Result<Vec<Device>, StoreError> {
        sqlx::query("SELECT * FROM devices WHERE app_device_id = ?1")
            .bind(app_device_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(device_from_row)
            .collect()
    }

    async fn remember_provider(
        &self,
        device_id: &str,
        provider: &str,
        temp_pass_identity: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE devices SET last_provider = ?2, temp_pass_identity = ?3 WHERE device_id = ?1",
        )
        .bind(device_id)
        .bind(provider)
        .bind(temp_pass_identity)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn credentials(&self, device_id: &str) -> Result<Option<ClientCredentials>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT client_id, sealed_secret FROM client_credentials WHERE device_id = ?1",
        )
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let sealed: Vec<u8> = row.try_get("sealed_secret")?;
        let secret = String::from_utf8(self.keys.open(&sealed, device_id)?).map_err(|_| {
            StoreError::Corrupt {
                what: "client secret",
                detail: "not UTF-8".to_owned(),
            }
        })?;
        Ok(Some(ClientCredentials {
            client_id: row.try_get("client_id")?,
            client_secret: Secret::new(secret),
        }))
    }

    async fn save_new_credentials(
        &self,
        device_id: &str,
        credentials: &ClientCredentials,
    ) -> Result<ClientCredentials, StoreError> {
        let sealed = self
            .keys
            .seal(credentials.client_secret.expose().as_bytes(), device_id)?;
        sqlx::query(
            "INSERT INTO client_credentials (device_id, client_id, sealed_secret) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO NOTHING",
        )
        .bind(device_id)
        .bind(&credentials.client_id)
        .bind(sealed)
        .execute(&self.pool)
        .await?;
        self.credentials(device_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                what: "client credentials",
                detail: "missing right after saving".to_owned(),
            })
    }

    async fn forget_credentials(
        &self,
        device_id: &str,
        client_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted =
            sqlx::query("DELETE FROM client_credentials WHERE device_id = ?1 AND client_id = ?2")
                .bind(device_id)
                .bind(client_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(deleted > 0)
    }

    async fn access_token(&self, device_id: &str) -> Result<Option<(Secret, i64)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT sealed_token, token_refresh_at FROM client_credentials
             WHERE device_id = ?1 AND sealed_token IS NOT NULL AND token_refresh_at IS NOT NULL",
        )
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let sealed: Vec<u8> = row.try_get("sealed_token")?;
        let token =
            String::from_utf8(self.keys.open(&sealed, &token_row(device_id))?).map_err(|_| {
                StoreError::Corrupt {
                    what: "access token",
                    detail: "not UTF-8".to_owned(),
                }
            })?;
        Ok(Some((Secret::new(token), row.try_get("token_refresh_at")?)))
    }

    async fn save_access_token(
        &self,
        device_id: &str,
        client_id: &str,
        token: &Secret,
        refresh_at: i64,
    ) -> Result<(), StoreError> {
        let sealed = self
            .keys
            .seal(token.expose().as_bytes(), &token_row(device_id))?;
        sqlx::query(
            "UPDATE client_credentials SET sealed_token = ?3, token_refresh_at = ?4
             WHERE device_id = ?1 AND client_id = ?2",
        )
        .bind(device_id)
        .bind(client_id)
        .bind(sealed)
        .bind(refresh_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn saw_device(
        &self,
        device_id: &str,
        network: &str,
        seen_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET network = ?2, seen_at = ?3 WHERE device_id = ?1")
            .bind(device_id)
            .bind(network)
            .bind(seen_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sign_in_started(&self, device_id: &str, now: i64) -> Result<bool, StoreError> {
        let known = sqlx::query(
            "UPDATE devices SET sign_in_started_at = COALESCE(sign_in_started_at, ?2) WHERE device_id = ?1",
        )
        .bind(device_id)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(known > 0)
    }

    async fn reclaim_idle_devices(
        &self,
        seen_before: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let idle = idle_devices('?');
        let idle: Vec<String> = sqlx::query_scalar(&format!(
            "DELETE FROM devices WHERE device_id IN ({idle} LIMIT ?2) RETURNING device_id"
        ))
        .bind(seen_before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for device_id in &idle {
            sqlx::query("DELETE FROM client_credentials WHERE device_id = ?1")
                .bind(device_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(idle)
    }

    async fn provider_states(&self) -> Result<Vec<ProviderState>, StoreError> {
        sqlx::query("SELECT * FROM provider_states ORDER BY mvpd")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(provider_state_from_row)
            .collect()
    }

    async fn set_provider_state(&self, state: &ProviderState) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provider_states (mvpd, mode, message, until, changed_by, reason, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (mvpd) DO UPDATE SET
               mode = excluded.mode, message = excluded.message, until = excluded.until,
               changed_by = excluded.changed_by, reason = excluded.reason,
               changed_at = excluded.changed_at",
        )
        .bind(&state.mvpd)
        .bind(state.mode.as_str())
        .bind(message_json(state))
        .bind(state.until)
        .bind(&state.changed_by)
        .bind(&state.reason)
        .bind(state.changed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn operator_limits(&self) -> Result<Option<OperatorLimits>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM operator_limits WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let count = |column: &str| -> Result<u32, StoreError> {
            let value: i64 = row.try_get(column)?;
            u32::try_from(value).map_err(|_| StoreError::Corrupt {
                what: "operator limit",
                detail: format!("{column} = {value}"),
            })
        };
        Ok(Some(OperatorLimits {
            registrations_per_second: count("registrations_per_second")?,
            adobe_steps_per_address_per_second: count("adobe_steps_per_address_per_second")?,
            max_concurrent_polls: count("max_concurrent_polls")?,
            changed_by: row.try_get("changed_by")?,
            reason: row.try_get("reason")?,
            changed_at: row.try_get("changed_at")?,
        }))
    }

    async fn set_operator_limits(&self, limits: Option<&OperatorLimits>) -> Result<(), StoreError> {
        let Some(limits) = limits else {
            sqlx::query("DELETE FROM operator_limits")
                .execute(&self.pool)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO operator_limits (id, registrations_per_second, adobe_steps_per_address_per_second, max_concurrent_polls, changed_by, reason, changed_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET
               registrations_per_second = excluded.registrations_per_second,
               adobe_steps_per_address_per_second = excluded.adobe_steps_per_address_per_second,
               max_concurrent_polls = excluded.max_concurrent_polls,
               changed_by = excluded.changed_by, reason = excluded.reason,
               changed_at = excluded.changed_at",
        )
        .bind(i64::from(limits.registrations_per_second))
        .bind(i64::from(limits.adobe_steps_per_address_per_second))
        .bind(i64::from(limits.max_concurrent_polls))
        .bind(&limits.changed_by)
        .bind(&limits.reason)
        .bind(limits.changed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    fn pseudonym(&self, value: &str) -> String {
        self.keys.pseudonym(value.as_bytes())
    }

    async fn start_activation(&self, activation: &Activation) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let superseded: Vec<String> = sqlx::query_scalar(
            "UPDATE activations SET status = 'superseded', updated_at = ?2
             WHERE device_id = ?1 AND status = 'pending' RETURNING code",
        )
        .bind(&activation.device_id)
        .bind(activation.updated_at)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO activations ({ACTIVATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (code) DO UPDATE SET device_id = excluded.device_id,
               provider = excluded.provider, status = excluded.status,
               expires_at = excluded.expires_at, updated_at = excluded.updated_at,
               created_at = excluded.created_at"
        ))
        .bind(&activation.code)
        .bind(&activation.device_id)
        .bind(&activation.provider)
        .bind(activation.status.as_str())
        .bind(activation.expires_at)
        .bind(activation.updated_at)
        .bind(activation.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(superseded
            .into_iter()
            .filter(|code| *code != activation.code)
            .collect())
    }

    async fn activation(&self, code: &str) -> Result<Option<Activation>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE code = ?1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(activation_from_row)
        .transpose()
    }

    async fn finish_activation(
        &self,
        code: &str,
        status: ActivationStatus,
        provider: Option<&str>,
        now: i64,
    ) -> Result<Option<Activation>, StoreError> {
        sqlx::query(&format!(
            "UPDATE activations SET status = ?2, provider = COALESCE(?3, provider), updated_at = ?4
             WHERE code = ?1 AND status = 'pending' RETURNING {ACTIVATION_COLUMNS}"
        ))
        .bind(code)
        .bind(status.as_str())
        .bind(provider)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(activation_from_row)
        .transpose()
    }

    async fn pending_activations(&self) -> Result<Vec<Activation>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACTIVATION_COLUMNS} FROM activations WHERE status = 'pending'"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(activation_from_row)
        .collect()
    }

    async fn purge_activations(&self, before: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM activations WHERE expires_at < ?1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
