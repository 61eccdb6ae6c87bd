//! Redis (or Valkey) for what several nodes share and what may be lost: rate-limit buckets, the
//! site's browser sessions, messages between nodes (pub/sub) and leases. A pool of connections
//! with timeouts and reconnection; each concern implements the same trait as its in-process
//! counterpart (`limits::Limiter`, `tower_sessions::SessionStore`, `shared::Bus`,
//! `shared::Leases`), so the rest of the service never asks which one runs.

use std::time::Duration;

use async_trait::async_trait;
use fred::{
    clients::SubscriberClient,
    interfaces::{EventInterface, PubsubInterface},
    prelude::{ClientLike, Config as FredConfig, KeysInterface, LuaInterface, Pool},
    types::{config::ReconnectPolicy, Builder, Expiration, SetOptions},
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

use crate::{
    adobe_pass::{Secret, SharedTokens, Throttle, ThrottleBuckets, ThrottleSettings},
    clock::SharedClock,
    limits::{Limited, Limiter, Rate},
    shared::{Bus, ClusterEvent, Envelope, Leases, LocalSpentTokens, SpentTokens, EVENTS_KEPT},
    store::SealingKeys,
};

/// Connections each node keeps to Redis.
const POOL_SIZE: usize = 8;
/// Longest a command may take before it fails (the request that needed it answers 503).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
#[error("Redis: {0}")]
pub struct RedisError(String);

impl From<fred::error::Error> for RedisError {
    fn from(error: fred::error::Error) -> Self {
        Self(error.to_string())
    }
}

/// A pool of connections to one Redis server, and the prefix of every key this deployment
/// writes there.
#[derive(Clone, Debug)]
pub struct Redis {
    pool: Pool,
    builder: Builder,
    namespace: String,
    /// This node, as the others know it in messages and leases.
    node: String,
}

fn builder(config: FredConfig) -> Builder {
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|connection| {
            connection.connection_timeout = CONNECT_TIMEOUT;
            connection.internal_command_timeout = COMMAND_TIMEOUT;
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = COMMAND_TIMEOUT;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    builder
}

impl Redis {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`, or `redis-sentinel://…` to
    /// follow the primary the Sentinels name through failovers) and checks that it answers;
    /// every key starts with `namespace` and a colon.
    pub async fn connect(url: &Secret, namespace: &str) -> Result<Self, RedisError> {
        // The URL may hold a password: say what is wrong without it.
        let config = FredConfig::from_url(url.expose()).map_err(|_| {
            RedisError(
                "the URL is not redis://[:PASSWORD@]HOST:PORT[/DB] nor \
                     redis-sentinel://[:PASSWORD@]HOST:PORT[/DB]?sentinelServiceName=NAME"
                    .into(),
            )
        })?;
        let builder = builder(config);
        let pool = builder.build_pool(POOL_SIZE)?;
        tokio::time::timeout(CONNECT_TIMEOUT, pool.init())
            .await
            .map_err(|_| RedisError("no answer in time".into()))??;
        let redis = Self {
            pool,
            builder,
            namespace: namespace.to_owned(),
            node: uuid::Uuid::new_v4().simple().to_string(),
        };
        redis.ping().await?;
        Ok(redis)
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let _: String = self.pool.ping(None).await?;
        Ok(())
    }

    /// A limiter of `rate` whose buckets live in Redis under `name`.
    pub fn limiter(&self, name: &str, rate: Rate) -> RedisLimiter {
        RedisLimiter {
            pool: self.pool.clone(),
            prefix: format!("{}:limit:{name}:", self.namespace),
            rate,
        }
    }

    /// Messages between the nodes of this namespace, over a connection of their own.
    pub async fn bus(&self) -> Result<RedisBus, RedisError> {
        let subscriber = self.builder.build_subscriber_client()?;
        tokio::time::timeout(CONNECT_TIMEOUT, subscriber.init())
            .await
            .map_err(|_| RedisError("no answer in time".into()))??;
        let _resubscribe = subscriber.manage_subscriptions();
        let channel = format!("{}:events", self.namespace);
        let (events, _) = broadcast::channel(EVENTS_KEPT);
        let mut messages = subscriber.message_rx();
        subscriber.subscribe(channel.clone()).await?;
        let forward = events.clone();
        let node = self.node.clone();
        tokio::spawn(async move {
            loop {
                let message = match messages.recv().await {
                    Ok(message) => message,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "missed messages from other nodes");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(text) = message.value.as_str() else {
                    continue;
                };
                match serde_json::from_str::<Envelope>(&text) {
                    Ok(envelope) if envelope.from != node => {
                        let _ = forward.send(envelope.event);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "unreadable message from another node"),
                }
            }
        });
        Ok(RedisBus {
            pool: self.pool.clone(),
            channel,
            node: self.node.clone(),
            events,
            _subscriber: subscriber,
        })
    }

    /// Leases of this namespace, held in the name of this node.
    pub fn leases(&self) -> RedisLeases {
        RedisLeases {
            pool: self.pool.clone(),
            prefix: format!("{}:lease:", self.namespace),
            node: self.node.clone(),
        }
    }

    /// Adobe's throttle buckets (one per device IP) shared by every node, so that together they
    /// stay within Adobe's rate; while Redis cannot be reached, each node falls back on buckets
    /// of its own.
    pub fn throttle(&self, settings: ThrottleSettings, clock: SharedClock) -> RedisThrottle {
        RedisThrottle {
            pool: self.pool.clone(),
            prefix: format!("{}:throttle:", self.namespace),
            settings,
            fallback: Throttle::new(settings, clock),
        }
    }

    /// Adobe access tokens shared by every node, sealed with `keys` (bound to their device).
    pub fn tokens(&self, keys: SealingKeys) -> RedisTokens {
        RedisTokens {
            pool: self.pool.clone(),
            prefix: format!("{}:token:", self.namespace),
            node: self.node.clone(),
            keys,
        }
    }

    /// Spent media tokens, shared by every node; while Redis cannot be reached, each node
    /// falls back on its own memory.
    pub fn spent_tokens(&self) -> RedisSpentTokens {
        RedisSpentTokens {
            pool: self.pool.clone(),
            prefix: format!("{}:spent:", self.namespace),
            fallback: LocalSpentTokens::default(),
        }
    }

    /// The site's browser sessions in Redis.
    pub fn sessions(&self) -> RedisSessions {
        RedisSessions {
            pool: self.pool.clone(),
            prefix: format!("{}:session:", self.namespace),
        }
    }
}

/// A leaky bucket per key, kept and updated in one step by a Lua script on Redis's own clock,
/// so every node spends from the same bucket.
#[derive(Clone, Debug)]
pub struct RedisLimiter {
    pool: Pool,
    prefix: String,
    rate: Rate,
}

/// `KEYS[1]`: the bucket. `ARGV`: the period in ms, the burst, the mode (1 take, 2 check,
/// 3 charge, 4 refund). Returns 0 when admitted (or charged, or refunded), else the ms to wait.
const BUCKET_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(saved[1]) or 0
local at = tonumber(saved[2]) or now
level = math.max(0, level - (now - at) / period)
if mode == 4 then
  level = level - 1
  if level > 0 then
    redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[1], math.ceil(level * period) + 1000)
  else
    redis.call('DEL', KEYS[1])
  end
  return 0
end
local over = level + 1 - burst
if (mode == 1 or mode == 2) and over > 0 then
  return math.ceil(over * period)
end
if mode ~= 2 then
  level = level + 1
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(level * period) + 1000)
end
return 0
";

impl RedisLimiter {
    async fn run(&self, key: &str, mode: i64) -> Result<(), Limited> {
        let period = i64::try_from(self.rate.period.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let result: Result<i64, _> = self
            .pool
            .eval(
                BUCKET_SCRIPT,
                format!("{}{key}", self.prefix),
                vec![period, i64::from(self.rate.burst), mode],
            )
            .await;
        match result {
            Ok(0) => Ok(()),
            Ok(wait) => Err(Limited::Wait(Duration::from_millis(
                u64::try_from(wait).unwrap_or(1),
            ))),
            Err(error) => {
                // Without Redis a limit cannot be counted for the cluster: refuse (the caller
                // answers 503) rather than let everything through.
                tracing::warn!(%error, "cannot reach Redis for a rate limit");
                Err(Limited::Unavailable)
            }
        }
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn take(&self, key: &str) -> Result<(), Limited> {
        self.run(key, 1).await
    }

    async fn check(&self, key: &str) -> Result<(), Limited> {
        self.run(key, 2).await
    }

    async fn charge(&self, key: &str) {
        let _ = self.run(key, 3).await;
    }

    async fn refund(&self, key: &str) {
        let _ = self.run(key, 4).await;
    }
}

/// The site's browser sessions as JSON under `{namespace}:session:{id}`, expiring with the
/// session.
#[derive(Clone, Debug)]
pub struct RedisSessions {
    pool: Pool,
    prefix: String,
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl RedisSessions {
    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// Writes the record; with `only_new`, only when no session has its id.
    async fn write(&self, record: &Record, only_new: bool) -> session_store::Result<bool> {
        let json = serde_json::to_string(record).map_err(backend)?;
        let expiry = Expiration::EXAT(record.expiry_date.unix_timestamp());
        let options = only_new.then_some(SetOptions::NX);
        let written: Option<String> = self
            .pool
            .set(self.key(&record.id), json, Some(expiry), options, false)
            .await
            .map_err(backend)?;
        Ok(written.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, false).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let json: Option<String> = self.pool.get(self.key(id)).await.map_err(backend)?;
        json.map(|json| serde_json::from_str(&json).map_err(backend))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self.pool.del(self.key(id)).await.map_err(backend)?;
        Ok(())
    }
}

/// Messages between nodes over Redis pub/sub on `{namespace}:events`.
#[derive(Debug)]
pub struct RedisBus {
    pool: Pool,
    channel: String,
    node: String,
    events: broadcast::Sender<ClusterEvent>,
    _subscriber: SubscriberClient,
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, event: ClusterEvent) {
        let envelope = Envelope {
            from: self.node.clone(),
            event,
        };
        let Ok(text) = serde_json::to_string(&envelope) else {
            return;
        };
        let published = self
            .pool
            .next()
            .publish::<i64, _, _>(self.channel.clone(), text)
            .await;
        if let Err(error) = published {
            tracing::warn!(%error, "cannot tell the other nodes");
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }
}

/// `KEYS[1]`: the lease. `ARGV`: this node, the lease's time to live in ms. Returns 1 when this
/// node holds it (taken or renewed), 0 when another node does.
const LEASE_SCRIPT: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
";

/// Leases as keys holding the node's id, expiring unless renewed.
#[derive(Clone, Debug)]
pub struct RedisLeases {
    pool: Pool,
    prefix: String,
    node: String,
}

#[async_trait]
impl Leases for RedisLeases {
    async fn hold(&self, name: &str, ttl: Duration) -> bool {
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let held: Result<i64, _> = self
            .pool
            .eval(
                LEASE_SCRIPT,
                format!("{}{name}", self.prefix),
                vec![self.node.clone(), ttl.to_string()],
            )
            .await;
        match held {
            Ok(held) => held == 1,
            Err(error) => {
                tracing::warn!(%error, "cannot reach Redis for a lease");
                true
            }
        }
    }
}

/// `KEYS[1]`: the bucket of one device IP. `ARGV`: burst, interval (ms), longest wait (ms, unused: the queue in front decides), pause
/// after a 429 (ms), mode (2 penalize, 3 take now keeping `ARGV[7]` calls, 4 reserve `ARGV[7]`
/// calls), how long a spent burst is remembered (ms), the count for modes 3 and 4.
/// The same arithmetic as the in-process `Throttle` (the burst is one-time), on Redis time.
/// Returns the wait in ms; a negative value is a refused take.
const THROTTLE_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local after = tonumber(ARGV[4])
local mode = tonumber(ARGV[5])
local remember = tonumber(ARGV[6])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'ceiling')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
local ceiling = tonumber(saved[3])
if tokens == nil or at == nil or ceiling == nil then
  if mode == 2 then tokens = 0; ceiling = 1 else tokens = burst; ceiling = burst end
  at = now
end
if now > at then
  tokens = math.min(ceiling, tokens + (now - at) / interval)
  at = now
end
local count = tonumber(ARGV[7]) or 0
local wait
if mode == 3 then
  local needed = 1 + math.min(count, math.max(0, ceiling - 1))
  if tokens < needed then return -math.max(1, math.ceil(interval * (needed - tokens))) end
  wait = 0
  tokens = tokens - 1
  ceiling = math.max(1, math.min(ceiling, tokens + 1))
elseif mode == 4 then
  wait = interval * math.max(0, 1 - tokens)
  tokens = tokens - count
  ceiling = math.max(1, math.min(ceiling, tokens + 1))
else
  tokens = math.min(tokens, 1 - after / interval)
  ceiling = 1
  wait = interval * (1 - tokens)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at), 'ceiling', tostring(ceiling))
local keep = interval * (ceiling - tokens) + 1000
if ceiling < burst then keep = math.max(keep, remember) end
redis.call('PEXPIRE', KEYS[1], math.ceil(keep))
return math.ceil(wait)
";

/// Adobe's throttle buckets in Redis, with this node's own as the fallback.
#[derive(Debug)]
pub struct RedisThrottle {
    pool: Pool,
    prefix: String,
    settings: ThrottleSettings,
    fallback: Throttle,
}

impl RedisThrottle {
    async fn run(
        &self,
        ip: std::net::IpAddr,
        mode: i64,
        count: u32,
    ) -> Result<i64, fred::error::Error> {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.pool
            .eval(
                THROTTLE_SCRIPT,
                format!("{}{}", self.prefix, crate::limits::address_key(ip)),
                vec![
                    i64::from(self.settings.burst),
                    millis(self.settings.interval).max(1),
                    millis(self.settings.max_wait),
                    millis(self.settings.after_429),
                    mode,
                    millis(crate::adobe_pass::REMEMBER_SPENT_BURST),
                    i64::from(count),
                ],
            )
            .await
    }
}

fn from_millis(millis: i64) -> Duration {
    Duration::from_millis(millis.unsigned_abs())
}

#[async_trait]
impl ThrottleBuckets for RedisThrottle {
    async fn take(&self, ip: std::net::IpAddr, keep: u32) -> Result<(), Duration> {
        match self.run(ip, 3, keep).await {
            Ok(wait) if wait < 0 => Err(from_millis(wait)),
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "cannot reach Redis for Adobe's throttle; this node's own");
                self.fallback.take(ip, keep)
            }
        }
    }

    async fn reserve(&self, ip: std::net::IpAddr, calls: u32) -> Duration {
        let local = self.fallback.reserve(ip, calls);
        match self.run(ip, 4, calls).await {
            Ok(wait) => from_millis(wait),
            Err(_) => local,
        }
    }

    async fn penalize(&self, ip: std::net::IpAddr) -> Duration {
        let local = self.fallback.penalize(ip);
        match self.run(ip, 2, 0).await {
            Ok(wait) => from_millis(wait),
            Err(_) => local,
        }
    }
}

/// How long a node may take to fetch a token while the others wait for it.
const TOKEN_CLAIM: Duration = Duration::from_secs(5);

/// Adobe access tokens in Redis: sealed (they are bearer secrets), expiring when every node
/// would stop using them, fetched by one node at a time.
#[derive(Debug)]
pub struct RedisTokens {
    pool: Pool,
    prefix: String,
    node: String,
    keys: SealingKeys,
}

/// A shared token, as sealed.
#[derive(Serialize, Deserialize)]
struct SharedToken {
    token: Secret,
    refresh_at: u64,
}

fn epoch_millis(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[async_trait]
impl SharedTokens for RedisTokens {
    async fn get(&self, device_id: &str) -> Option<(Secret, std::time::SystemTime)> {
        use base64::Engine as _;
        let sealed: Option<String> = self
            .pool
            .get(format!("{}{device_id}", self.prefix))
            .await
            .map_err(|error| tracing::warn!(%error, "cannot read a shared token"))
            .ok()?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(sealed?)
            .ok()?;
        let plain = self.keys.open(&sealed, device_id).ok()?;
        let shared: SharedToken = serde_json::from_slice(&plain).ok()?;
        Some((
            shared.token,
            std::time::UNIX_EPOCH + Duration::from_millis(shared.refresh_at),
        ))
    }

    async fn put(&self, device_id: &str, token: &Secret, refresh_at: std::time::SystemTime) {
        use base64::Engine as _;
        let until = epoch_millis(refresh_at);
        let left = until.saturating_sub(epoch_millis(std::time::SystemTime::now()));
        let shared = SharedToken {
            token: token.clone(),
            refresh_at: until,
        };
        let Ok(plain) = serde_json::to_vec(&shared) else {
            return;
        };
        let Ok(sealed) = self.keys.seal(&plain, device_id) else {
            return;
        };
        let value = base64::engine::general_purpose::STANDARD.encode(sealed);
        let expiry = Expiration::PX(i64::try_from(left).unwrap_or(i64::MAX).max(1));
        let written: Result<Option<String>, _> = self
            .pool
            .set(
                format!("{}{device_id}", self.prefix),
                value,
                Some(expiry),
                None,
                false,
            )
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "cannot share a token");
        }
    }

    async fn claim(&self, device_id: &str) -> bool {
        let claimed: Result<Option<String>, _> = self
            .pool
            .set(
                format!("{}claim:{device_id}", self.prefix),
                self.node.clone(),
                Some(Expiration::PX(
                    i64::try_from(TOKEN_CLAIM.as_millis()).unwrap_or(5_000),
                )),
                Some(SetOptions::NX),
                false,
            )
            .await;
        // Without Redis, fetch here rather than wait for nobody.
        claimed.map_or(true, |claimed| claimed.is_some())
    }
}

/// Spent media tokens in Redis (one key per token, gone when its time is up), with this node's
/// own memory as the fallback.
#[derive(Debug)]
pub struct RedisSpentTokens {
    pool: Pool,
    prefix: String,
    fallback: LocalSpentTokens,
}

#[async_trait]
impl SpentTokens for RedisSpentTokens {
    async fn first_use(&self, token: &str, ttl: Duration) -> bool {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let marked: Result<Option<String>, _> = self
            .pool
            .set(
                format!("{}{token}", self.prefix),
                "1",
                Some(Expiration::PX(ttl_ms)),
                Some(SetOptions::NX),
                false,
            )
            .await;
        match marked {
            Ok(marked) => marked.is_some() && self.fallback.mark(token, ttl),
            Err(error) => {
                tracing::warn!(%error, "cannot reach Redis for spent media tokens");
                self.fallback.mark(token, ttl)
            }
        }
    }
}
