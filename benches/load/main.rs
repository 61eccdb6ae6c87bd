//! `make bench`: the service's release binary under a live-game spike, each figure beside its
//! ceiling measured in the same run, printed as one table (see docs/performance.md).
//!
//! `cargo bench --bench load` runs every scenario (`-- --smoke` for a seconds-long check that
//! the tool still works, as `make test` does; `-- --gameday` runs game night instead, see
//! `gameday.rs`). The service runs against a standalone emulator
//! with throttling off, on a SQLite store in a temporary folder, with the site from
//! `LEPTOS_SITE_ROOT` (default: `target/site`, where `cargo leptos build --release` leaves it);
//! the `nodes` scenario runs it on several nodes sharing the PostgreSQL and Redis named by
//! `TVE_TEST_POSTGRES_URL` and `TVE_TEST_REDIS_URL`.

mod crowd;
mod drive;
mod flows;
mod gameday;
mod nodes;
mod page;
mod procs;
mod soak;
mod storm;
mod tokens;

use std::{path::PathBuf, sync::Arc, time::Duration};

use drive::{closed_loop, Figures};
use flows::{client_from, household, BareDevice, Tv};
use serde_json::json;

/// How big a run is.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// Each request-rate scenario's length.
    pub rate_seconds: u64,
    /// Connections of the request-rate scenarios.
    pub connections: usize,
    /// TVs waiting on event streams during the storm.
    pub waiting_tvs: usize,
    /// Activations completed per second during the storm.
    pub activations_per_second: u32,
    /// The storm's length.
    pub storm_seconds: u64,
    /// Activations completed per second over two nodes sharing PostgreSQL and Redis: what this
    /// 2-core machine carries with both nodes, the databases, the emulator and the tool on it.
    pub nodes_activations_per_second: u32,
    /// Activations started during the soak.
    pub soak_activations: usize,
    /// Distinct addresses of the crowd, one request each.
    pub crowd_addresses: usize,
}

const FULL: Size = Size {
    rate_seconds: 10,
    connections: 32,
    waiting_tvs: 5_000,
    activations_per_second: 200,
    storm_seconds: 10,
    nodes_activations_per_second: 60,
    soak_activations: 100_000,
    crowd_addresses: 50_000,
};

const SMOKE: Size = Size {
    rate_seconds: 1,
    connections: 4,
    waiting_tvs: 100,
    activations_per_second: 10,
    storm_seconds: 2,
    nodes_activations_per_second: 10,
    soak_activations: 1_000,
    crowd_addresses: 500,
};

/// One line of the table.
struct Row {
    scenario: &'static str,
    figure: String,
    ceiling: String,
    goal: &'static str,
    met: bool,
    /// Requests or flows that failed: any fails the run.
    errors: u64,
}

fn site_root() -> PathBuf {
    std::env::var_os("LEPTOS_SITE_ROOT").map_or_else(|| PathBuf::from("target/site"), PathBuf::from)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(port) = args
        .iter()
        .position(|arg| arg == "--bare-server")
        .and_then(|at| args.get(at + 1))
        .and_then(|port| port.parse().ok())
    {
        procs::serve_bare(port);
        return;
    }
    if args.iter().any(|arg| arg == "--gameday") {
        game_night(&args);
        return;
    }
    let size = if args.iter().any(|arg| arg == "--smoke") {
        SMOKE
    } else {
        FULL
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // `--only a,b` runs the named scenarios alone: profile, authorize, storm, page, nodes, soak,
    // crowd, tokens.
    let only: Option<Vec<String>> = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .map(|names| names.split(',').map(str::to_owned).collect());
    let wanted = move |name: &str| {
        only.as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    };
    let rows = runtime.block_on(run(size, wanted));
    print_table(&rows, size);
    let errors: u64 = rows.iter().map(|row| row.errors).sum();
    if errors > 0 {
        eprintln!("{errors} requests or flows failed");
        std::process::exit(1);
    }
}

/// `--gameday`: the full curve, or `--short`'s, times `--scale` and `--stretch`; its SLO table,
/// exiting 1 when one is missed (2 when it cannot run).
fn game_night(args: &[String]) {
    let factor = |flag: &str| match args.iter().position(|arg| arg == flag) {
        None => 1.0,
        Some(at) => match args.get(at + 1).and_then(|v| v.parse::<f64>().ok()) {
            Some(factor) if factor > 0.0 && factor.is_finite() => factor,
            _ => {
                eprintln!("{flag} takes a positive number, such as {flag} 0.5");
                std::process::exit(2);
            }
        },
    };
    let (scale, stretch) = (factor("--scale"), factor("--stretch"));
    let curve = if args.iter().any(|arg| arg == "--short") {
        gameday::Curve::short()
    } else {
        gameday::Curve::full()
    }
    .scaled(scale, stretch);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(gameday::run(&curve)) {
        Ok(slos) => {
            gameday::print(&slos);
            let missed = slos.iter().filter(|slo| !slo.met).count();
            if missed > 0 {
                eprintln!("{missed} SLOs missed");
                std::process::exit(1);
            }
        }
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(2);
        }
    }
}

fn rate(figures: &Figures) -> String {
    let errors = if figures.errors > 0 {
        format!(", {} errors", figures.errors)
    } else {
        String::new()
    };
    format!(
        "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{errors}",
        figures.per_second(),
        figures.quantile_ms(0.5),
        figures.quantile_ms(0.99)
    )
}

async fn run(size: Size, wanted: impl Fn(&str) -> bool) -> Vec<Row> {
    let mut rows = Vec::new();
    if ["profile", "authorize", "storm", "page"]
        .iter()
        .any(|name| wanted(name))
    {
        rows.extend(one_node(size, &wanted).await);
    }
    if wanted("nodes") {
        rows.extend(nodes::run(size).await);
    }
    if wanted("soak") {
        rows.push(soak::run(size).await);
    }
    if wanted("crowd") {
        rows.push(crowd::run(size).await);
    }
    if wanted("tokens") {
        rows.push(tokens::run(size));
    }
    rows
}

/// The scenarios that share one service on SQLite, its emulator and the bare ceiling.
async fn one_node(size: Size, wanted: &impl Fn(&str) -> bool) -> Vec<Row> {
    let data = tempfile::tempdir().expect("temporary folder");
    let emulator = procs::emulator(Duration::from_secs(1800)).await;
    let service = procs::service(&emulator, &procs::sqlite_in(data.path()), &site_root()).await;
    let bare = procs::bare_axum().await;
    let base = service.base_url.clone();
    let mut rows = Vec::new();

    let tv = Tv::signed_in(&base, "bench-tv").await;

    if wanted("profile") {
        rows.push(profile(&tv, &base, &bare, size).await);
    }
    if wanted("authorize") {
        rows.extend(authorize(&tv, &base, &emulator, size).await);
    }
    if wanted("storm") {
        rows.extend(storm::run(&service, size).await);
    }
    if wanted("page") {
        rows.extend(page::run(&base).await);
    }
    rows
}

/// Cached profiles against the bare handler.
async fn profile(tv: &Tv, base: &str, bare: &procs::Server, size: Size) -> Row {
    let length = Duration::from_secs(size.rate_seconds);
    let token = tv.token.clone();
    let url = format!("{base}/tv/v1/profile");
    let profile = closed_loop(size.connections, length, move |http| {
        http.get(&url).bearer_auth(&token)
    })
    .await;
    let url = format!("{}/profile", bare.base_url);
    let ceiling = closed_loop(size.connections, length, move |http| http.get(&url)).await;
    throughput(
        "GET /tv/v1/profile (cached) vs bare axum JSON",
        &profile,
        &ceiling,
        (0.5, "≥ 0.5× req/s"),
    )
}

/// A row comparing requests per second with the ceiling's; met at `goal.0` of it or more.
fn throughput(
    scenario: &'static str,
    measured: &Figures,
    ceiling: &Figures,
    goal: (f64, &'static str),
) -> Row {
    let ratio = measured.per_second() / ceiling.per_second().max(f64::EPSILON);
    Row {
        scenario,
        figure: format!("{} ({ratio:.2}×)", rate(measured)),
        ceiling: rate(ceiling),
        goal: goal.1,
        met: ratio >= goal.0 && measured.errors == 0,
        errors: measured.errors + ceiling.errors,
    }
}

/// Plays against the emulator's D2 answered directly, alone and with every connection busy.
async fn authorize(tv: &Tv, base: &str, emulator: &procs::Server, size: Size) -> Vec<Row> {
    let length = Duration::from_secs(size.rate_seconds);
    let device = Arc::new(
        BareDevice::signed_in(&client_from(household(2)), &emulator.base_url)
            .await
            .expect("a device signed in at the emulator"),
    );
    let play = |connections| {
        let (token, url) = (tv.token.clone(), format!("{base}/tv/v1/authorize"));
        closed_loop(connections, length, move |http| {
            http.post(&url)
                .bearer_auth(&token)
                .json(&json!({ "resource": "REF30" }))
        })
    };
    let direct = |connections| {
        let device = device.clone();
        let url = format!(
            "{}/api/v2/REF30/decisions/authorize/Spectrum",
            emulator.base_url
        );
        closed_loop(connections, length, move |http| {
            device
                .headers(http.post(&url))
                .header("Content-Type", "application/json;charset=utf-8")
                .body(json!({ "resources": ["REF30"] }).to_string())
        })
    };
    // Added latency one request at a time; throughput with every connection busy.
    let (alone, alone_direct) = (play(1).await, direct(1).await);
    let (busy, busy_direct) = (play(size.connections).await, direct(size.connections).await);
    let added = alone.quantile_ms(0.5) - alone_direct.quantile_ms(0.5);
    let mut rows = vec![Row {
        scenario: "POST /tv/v1/authorize vs the emulator's D2, one request at a time",
        figure: format!("{} (p50 +{added:.2} ms)", rate(&alone)),
        ceiling: rate(&alone_direct),
        goal: "p50 ≤ +0.5 ms",
        met: added <= 0.5 && alone.errors == 0,
        errors: alone.errors + alone_direct.errors,
    }];
    rows.push(throughput(
        "POST /tv/v1/authorize vs the emulator's D2, every connection busy",
        &busy,
        &busy_direct,
        (0.8, "≥ 0.8× req/s"),
    ));
    rows
}

fn print_table(rows: &[Row], size: Size) {
    println!("\n| scenario | figure | ceiling (same run) | goal | met |\n|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.scenario,
            row.figure,
            row.ceiling,
            row.goal,
            if row.met { "yes" } else { "no" }
        );
    }
    println!(
        "\n{} connections, {} s per rate scenario; storm: {} waiting TVs, {} activations/s for {} s; \
         nodes: the same TVs, {} activations/s over two nodes, half of both on one node alone",
        size.connections,
        size.rate_seconds,
        size.waiting_tvs,
        size.activations_per_second,
        size.storm_seconds,
        size.nodes_activations_per_second
    );
}
