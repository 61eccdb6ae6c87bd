//! Persistence: the service's durable state behind one type, SQLite on disk or in memory.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::config::StoreUrl;

/// A store that could not be opened or reached.
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
}

/// Handle on the durable state; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating when missing) the store at `url`.
    pub async fn open(url: &StoreUrl) -> Result<Self, StoreError> {
        let pool = match url {
            StoreUrl::Sqlite(path) => {
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
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await?
            }
            // One connection that never closes: an in-memory database lives as long as it does.
            StoreUrl::Memory => {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(SqliteConnectOptions::from_str("sqlite::memory:")?)
                    .await?
            }
        };
        Ok(Self { pool })
    }

    /// Checks that the store answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_store_creates_its_folder_and_answers() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/folder/store.db");
        let store = Store::open(&StoreUrl::Sqlite(path.clone()))
            .await
            .expect("open");
        store.ping().await.expect("ping");
        assert!(path.exists());
    }

    #[tokio::test]
    async fn closed_store_fails_its_ping() {
        let store = Store::open(&StoreUrl::Memory).await.expect("open");
        store.ping().await.expect("ping");
        store.close().await;
        assert!(store.ping().await.is_err());
    }
}
