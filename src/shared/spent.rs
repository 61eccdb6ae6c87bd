//! Spent media tokens: Adobe's media token is single use, so a token the service has already
//! handed to a TV, by this node or another, is never handed out again (a replayed D2 answer,
//! an upstream that repeats itself). Each token is remembered until it could no longer verify.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use moka::{sync::Cache, Expiry};

/// Tokens one process remembers at most; past it the least used go first (a token outlives
/// the window in which it can be replayed by minutes only).
const MOST_TOKENS: u64 = 1_000_000;

/// Which media tokens have been used.
#[async_trait]
pub trait SpentTokens: Send + Sync + std::fmt::Debug {
    /// Marks `token` (a digest of it) used for `ttl`; whether this was its first use. A ledger
    /// that cannot be reached falls back on this node's memory rather than refuse every play.
    async fn first_use(&self, token: &str, ttl: Duration) -> bool;
}

/// Spent tokens shared across tasks.
pub type SharedSpentTokens = Arc<dyn SpentTokens>;

/// Spent tokens in this process's memory, each forgotten when its time is up.
#[derive(Clone, Debug)]
pub struct LocalSpentTokens {
    tokens: Cache<String, Duration>,
}

/// A token is kept for the time it was marked with.
struct ForItsTime;

impl Expiry<String, Duration> for ForItsTime {
    fn expire_after_create(
        &self,
        _: &String,
        ttl: &Duration,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(*ttl)
    }
}

impl Default for LocalSpentTokens {
    fn default() -> Self {
        Self {
            tokens: Cache::builder()
                .max_capacity(MOST_TOKENS)
                .expire_after(ForItsTime)
                .build(),
        }
    }
}

impl LocalSpentTokens {
    /// Marks `token` used for `ttl`; whether this was its first use here.
    pub fn mark(&self, token: &str, ttl: Duration) -> bool {
        self.tokens
            .entry_by_ref(token)
            .or_insert_with(|| ttl)
            .is_fresh()
    }
}

#[async_trait]
impl SpentTokens for LocalSpentTokens {
    async fn first_use(&self, token: &str, ttl: Duration) -> bool {
        self.mark(token, ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_is_used_once_until_its_time_is_up() {
        let spent = LocalSpentTokens::default();
        assert!(spent.first_use("a", Duration::from_millis(150)).await);
        assert!(!spent.first_use("a", Duration::from_millis(150)).await);
        assert!(spent.first_use("b", Duration::from_secs(60)).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        spent.tokens.run_pending_tasks();
        assert!(
            spent.first_use("a", Duration::from_secs(60)).await,
            "forgotten"
        );
        assert!(!spent.first_use("b", Duration::from_secs(60)).await, "kept");
    }
}
