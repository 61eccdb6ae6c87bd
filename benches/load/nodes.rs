//! Several nodes: the storm against two nodes sharing PostgreSQL and Redis, each phone reaching
//! another node than its TV (which learns of the sign-in only through what the nodes share),
//! beside one node alone with the same settings (a database and a Redis namespace of its own)
//! carrying what each of the two carries: half the TVs, half the rate. The machine's cores are
//! shared by the nodes, the databases, the emulator and this tool, so two nodes cannot outrun
//! one on the wall clock here; what a node's core does is compared instead, as activations per
//! CPU-second of the node processes (user and system time, from the first phone until every TV
//! learned). PostgreSQL's and Redis's own CPU is not counted, on either side.
//!
//! PostgreSQL and Redis are those named by `TVE_TEST_POSTGRES_URL` and `TVE_TEST_REDIS_URL`
//! (scripts/bench.sh starts throwaway ones); without them the scenario is skipped.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine as _};

use crate::{
    procs::{self, Limits, Server},
    storm::{storm, Outcome, Spike},
    Row, Size,
};

/// A deployment whose nodes share a fresh database on the PostgreSQL server, the Redis server
/// under a namespace of its own, and one sealing key.
pub struct Deployment {
    /// The server's URL, to drop the database afterwards.
    server: String,
    database: String,
    settings: Vec<String>,
    /// Holds the sealing key file.
    _folder: tempfile::TempDir,
}

impl Deployment {
    pub async fn new(postgres: &str, redis: &str) -> Self {
        let database = format!("tve_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(postgres)
            .await
            .expect("PostgreSQL answers");
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&admin)
            .await
            .expect("a database for the deployment");
        admin.close().await;
        let mut store = url::Url::parse(postgres).expect("a PostgreSQL URL");
        store.set_path(&database);
        let folder = tempfile::tempdir().expect("temporary folder");
        let key = folder.path().join("secrets.key");
        std::fs::write(&key, STANDARD.encode(rand::random::<[u8; 32]>())).expect("key file");
        let settings = vec![
            "--store-url".to_owned(),
            store.to_string(),
            "--secrets-key-file".to_owned(),
            key.display().to_string(),
            "--redis-url".to_owned(),
            redis.to_owned(),
            "--redis-namespace".to_owned(),
            format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ];
        Self {
            server: postgres.to_owned(),
            database,
            settings,
            _folder: folder,
        }
    }

    /// `count` nodes of it against `emulator`, keeping `limits`.
    pub async fn nodes(&self, emulator: &Server, count: usize, limits: Limits) -> Vec<Server> {
        let mut nodes = Vec::new();
        for _ in 0..count {
            nodes.push(
                procs::service_with(emulator, &self.settings, &crate::site_root(), limits).await,
            );
        }
        nodes
    }

    /// Drops its database, once its nodes have stopped.
    pub async fn remove(self) {
        let dropped = async {
            let admin = sqlx::PgPool::connect(&self.server).await?;
            sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.database))
                .execute(&admin)
                .await?;
            admin.close().await;
            Ok::<_, sqlx::Error>(())
        };
        if let Err(error) = dropped.await {
            eprintln!("dropping the database {} failed: {error}", self.database);
        }
    }
}

/// The storm against `count` nodes of a fresh deployment.
async fn storm_on(
    postgres: &str,
    redis: &str,
    emulator: &Server,
    count: usize,
    spike: Spike,
) -> Outcome {
    let deployment = Deployment::new(postgres, redis).await;
    let nodes = deployment.nodes(emulator, count, Limits::Open).await;
    let outcome = storm(&nodes, spike).await;
    drop(nodes);
    deployment.remove().await;
    outcome
}

/// Activations completed per CPU-second of the node processes together.
fn per_cpu_second(outcome: &Outcome) -> f64 {
    let cpu: f64 = outcome.nodes.iter().map(|n| n.busy_cpu_seconds).sum();
    outcome.completed as f64 / cpu.max(f64::EPSILON)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A storm's rate and the TVs' delays.
fn storm_figure(outcome: &Outcome, spike: Spike) -> String {
    format!(
        "{} TVs waiting, {} activations at {:.0}/s ({:.0}/s per node), TV learns p50 {:.1} ms p99 {:.1} ms, {} errors",
        spike.waiting_tvs,
        outcome.completing,
        outcome.achieved,
        outcome.achieved / outcome.nodes.len().max(1) as f64,
        ms(outcome.learned_quantile(0.5)),
        ms(outcome.learned_quantile(0.99)),
        outcome.errors
    )
}

/// Each node's CPU seconds for the activations.
fn cpu_figure(outcome: &Outcome) -> String {
    let seconds: Vec<String> = outcome
        .nodes
        .iter()
        .map(|n| format!("{:.2}", n.busy_cpu_seconds))
        .collect();
    format!(
        "{:.0} activations/CPU-s ({} CPU-s for {})",
        per_cpu_second(outcome),
        seconds.join(" + "),
        outcome.completed
    )
}

/// The PostgreSQL and Redis servers nodes share, from `TVE_TEST_POSTGRES_URL` and
/// `TVE_TEST_REDIS_URL`; `None` unless both are set.
pub fn shared_servers() -> Option<(String, String)> {
    Some((
        std::env::var("TVE_TEST_POSTGRES_URL").ok()?,
        std::env::var("TVE_TEST_REDIS_URL").ok()?,
    ))
}

/// The two rows: the storm on two nodes, and activations per CPU-second of a node; or none,
/// with a line saying why, without a PostgreSQL and a Redis to share.
pub async fn run(size: Size) -> Vec<Row> {
    let Some((postgres, redis)) = shared_servers() else {
        println!(
            "nodes: skipped, TVE_TEST_POSTGRES_URL and TVE_TEST_REDIS_URL are not both set \
             (scripts/bench.sh starts a throwaway PostgreSQL and Redis)"
        );
        return Vec::new();
    };
    let emulator = procs::emulator(Duration::from_secs(1800)).await;
    let pair_spike = Spike {
        per_second: size.nodes_activations_per_second,
        ..Spike::of(size)
    };
    // One node alone carries what each of the two carries.
    let alone_spike = Spike {
        waiting_tvs: pair_spike.waiting_tvs / 2,
        per_second: (pair_spike.per_second / 2).max(1),
        ..pair_spike
    };
    let alone = storm_on(&postgres, &redis, &emulator, 1, alone_spike).await;
    let pair = storm_on(&postgres, &redis, &emulator, 2, pair_spike).await;

    let p99 = pair.learned_quantile(0.99);
    let ratio = per_cpu_second(&pair) / per_cpu_second(&alone).max(f64::EPSILON);
    vec![
        Row {
            scenario: "two nodes sharing PostgreSQL and Redis: the storm, each phone on another node than its TV",
            figure: storm_figure(&pair, pair_spike),
            ceiling: format!("one node alone, same settings: {}", storm_figure(&alone, alone_spike)),
            goal: "0 errors, p99 ≤ 1 s",
            met: pair.errors == 0
                && p99 <= Duration::from_secs(1)
                && pair.achieved >= f64::from(pair_spike.per_second) * 0.95,
            errors: pair.errors + alone.errors,
        },
        Row {
            scenario: "activations per CPU-second of the nodes: two sharing state vs one alone, same load per node",
            figure: format!("{} ({ratio:.2}×)", cpu_figure(&pair)),
            ceiling: cpu_figure(&alone),
            goal: "≥ 0.8×",
            met: ratio >= 0.8 && pair.errors == 0,
            errors: 0,
        },
    ]
}
