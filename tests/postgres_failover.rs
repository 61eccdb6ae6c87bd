//! Game night, PostgreSQL fails over: a primary and a synchronous streaming replica managed by
//! Patroni with an etcd of the test's own, reached through HAProxy, which routes to the member
//! whose Patroni answers `GET /primary` 200 (the usual production shape). Two nodes share that
//! database through HAProxy while a storm of TVs registers, starts activations, has phones
//! complete them and plays; the primary's PostgreSQL is killed (`kill -9`) and Patroni promotes
//! the replica. Nothing acknowledged is lost (synchronous replication: a commit is answered
//! only once the replica has it), what fails is only 503 `store_unavailable` with
//! `Retry-After` inside the failover window (measured and printed), and the nodes serve again
//! by themselves.
//!
//! `TVE_CHAOS=1` (make chaos) makes it the long drill: a bigger storm and several successive
//! failovers, each primary killed once the previous one has come back as the synchronous
//! replica. Needs etcd, Patroni (`TVE_TEST_PATRONI` or on the `PATH`), HAProxy and PostgreSQL's
//! binaries; without them it says so and passes, except when `TVE_TEST_FAILOVER_REQUIRED` is
//! set (make test, make chaos), where it fails.

mod common;
mod tv_api_support;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tv_api_support::{register_body, Answer, Api};

/// How big and how long the drill is: short in make test, long with `TVE_CHAOS`.
struct Drill {
    /// TVs going through their first evening at once.
    workers: usize,
    /// Primaries killed one after the other.
    failovers: usize,
    /// Storm before each kill, and after the last recovery.
    settle: Duration,
}

impl Drill {
    fn from_env() -> Self {
        if std::env::var_os("TVE_CHAOS").is_some() {
            Self {
                workers: 24,
                failovers: 3,
                settle: Duration::from_secs(15),
            }
        } else {
            Self {
                workers: 8,
                failovers: 1,
                settle: Duration::from_secs(3),
            }
        }
    }
}

/// Longest an error may follow the promotion: HAProxy's health check (every 500 ms) has to see
/// the new primary, and requests then waiting for a connection get one.
const ROUTING_SLACK: Duration = Duration::from_secs(5);

/// The programs the drill runs.
struct Tools {
    etcd: PathBuf,
    patroni: PathBuf,
    haproxy: PathBuf,
    /// PostgreSQL's `bin` folder (initdb, postgres, pg_ctl, …), the newest installed.
    postgres: PathBuf,
}

impl Tools {
    /// The tools, or the names of those missing.
    fn find() -> Result<Self, Vec<&'static str>> {
        let patroni = std::env::var_os("TVE_TEST_PATRONI")
            .map(PathBuf::from)
            .filter(|patroni| patroni.is_file())
            .or_else(|| on_path("patroni"));
        let postgres = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version: u32 = entry.file_name().to_str()?.parse().ok()?;
                let bin = entry.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .max()
            .map(|(_, bin)| bin);
        match (on_path("etcd"), patroni, on_path("haproxy"), postgres) {
            (Some(etcd), Some(patroni), Some(haproxy), Some(postgres)) => Ok(Self {
                etcd,
                patroni,
                haproxy,
                postgres,
            }),
            (etcd, patroni, haproxy, postgres) => Err([
                ("etcd (Debian etcd-server)", etcd.is_none()),
                ("patroni (PyPI, TVE_TEST_PATRONI)", patroni.is_none()),
                ("haproxy", haproxy.is_none()),
                ("PostgreSQL (Debian postgresql)", postgres.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect()),
        }
    }
}

/// `program` in a folder of the `PATH` (or `/usr/sbin`, where Debian puts HAProxy).
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|folder| folder.join(program))
        .find(|candidate| candidate.is_file())
}

/// The `postgres` account's user and group ids when the test runs as root (initdb and postgres
/// refuse to run as root, so Patroni, which starts them, runs as that account).
fn postgres_account() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    (id(&["-u"])? == 0).then_some((id(&["-u", "postgres"])?, id(&["-g", "postgres"])?))
}

/// A program of the drill, killed when dropped.
struct Process(Child);

impl Process {
    /// Starts `command` with its output in `log`.
    fn start(command: &mut Command, log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
        Self(child)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something listens on `port`.
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One Patroni member and the PostgreSQL it runs.
struct Member {
    name: String,
    /// Patroni's REST API, which HAProxy checks.
    api_port: u16,
    postgres_port: u16,
    data: PathBuf,
    patroni: Process,
}

impl Member {
    fn start(tools: &Tools, dir: &Path, name: &str, etcd_port: u16) -> Self {
        let [api_port, postgres_port] = [common::free_port(), common::free_port()];
        let home = dir.join(name);
        std::fs::create_dir(&home).expect("member folder");
        let data = home.join("data");
        let config = home.join("patroni.yml");
        // fsync off: the drill kills processes, not the machine, so the page cache survives.
        std::fs::write(
            &config,
            format!(
                "scope: tve
name: {name}
restapi:
  listen: 127.0.0.1:{api_port}
  connect_address: 127.0.0.1:{api_port}
etcd3:
  host: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    primary_start_timeout: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_log_hints: 'on'
        fsync: 'off'
  initdb:
    - encoding: UTF8
postgresql:
  listen: 127.0.0.1:{postgres_port}
  connect_address: 127.0.0.1:{postgres_port}
  data_dir: {data}
  bin_dir: {bin}
  pgpass: {home}/pgpass
  authentication:
    superuser: {{username: postgres, password: postgres}}
    replication: {{username: replicator, password: replicator}}
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  parameters:
    unix_socket_directories: {home}
",
                data = data.display(),
                bin = tools.postgres.display(),
                home = home.display(),
            ),
        )
        .expect("patroni.yml");
        let mut command = Command::new(&tools.patroni);
        command.arg(&config).env("HOME", &home);
        if let Some((uid, gid)) = postgres_account() {
            use std::os::unix::process::CommandExt as _;
            std::os::unix::fs::chown(&home, Some(uid), Some(gid)).expect("chown");
            std::os::unix::fs::chown(&config, Some(uid), Some(gid)).expect("chown");
            command.uid(uid).gid(gid);
        }
        let patroni = Process::start(&mut command, &home.join("patroni.log"));
        wait_for_port(api_port, "Patroni's REST API");
        Self {
            name: name.to_owned(),
            api_port,
            postgres_port,
            data,
            patroni,
        }
    }

    /// The postmaster's process id, while PostgreSQL runs.
    fn postmaster(&self) -> Option<u32> {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Kills its PostgreSQL at once, as a crash would.
    fn kill_postgres(&self) {
        let pid = self.postmaster().expect("PostgreSQL runs");
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -9 {pid}");
    }

    /// Whether its Patroni answers `GET path` with 200 (`/primary`, `/sync`).
    async fn answers(&self, http: &reqwest::Client, path: &str) -> bool {
        http.get(format!("http://127.0.0.1:{}{path}", self.api_port))
            .send()
            .await
            .is_ok_and(|answer| answer.status() == StatusCode::OK)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // Patroni first, or it would start PostgreSQL again.
        let _ = self.patroni.0.kill();
        let _ = self.patroni.0.wait();
        if let Some(pid) = self.postmaster() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// etcd, two Patroni members and HAProxy in front of them, on free ports in a folder of its own.
struct Cluster {
    members: Vec<Member>,
    /// Where the nodes connect: HAProxy.
    url: String,
    http: reqwest::Client,
    _haproxy: Process,
    _etcd: Process,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(tools: &Tools) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // Patroni may run as the postgres account: it must reach its folder.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let [client, peer] = [common::free_port(), common::free_port()];
        let etcd = Process::start(
            Command::new(&tools.etcd)
                .args(["--name", "tve", "--data-dir"])
                .arg(dir.path().join("etcd"))
                .args([
                    &format!("--listen-client-urls=http://127.0.0.1:{client}"),
                    &format!("--advertise-client-urls=http://127.0.0.1:{client}"),
                    &format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
                    &format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
                    &format!("--initial-cluster=tve=http://127.0.0.1:{peer}"),
                ]),
            &dir.path().join("etcd.log"),
        );
        wait_for_port(client, "etcd");
        let members: Vec<Member> = ["pg0", "pg1"]
            .into_iter()
            .map(|name| Member::start(tools, dir.path(), name, client))
            .collect();
        let port = common::free_port();
        let servers: String = members
            .iter()
            .map(|m| {
                format!(
                    "  server {} 127.0.0.1:{} check port {}\n",
                    m.name, m.postgres_port, m.api_port
                )
            })
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, &servers)).expect("haproxy.cfg");
        let haproxy = Process::start(
            Command::new(&tools.haproxy)
                .arg("-db")
                .arg("-f")
                .arg(&config),
            &dir.path().join("haproxy.log"),
        );
        wait_for_port(port, "HAProxy");
        let cluster = Self {
            members,
            url: format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(1))
                .build()
                .expect("client"),
            _haproxy: haproxy,
            _etcd: etcd,
            _dir: dir,
        };
        let primary = cluster.primary(Duration::from_secs(60), None).await;
        cluster.synchronous_replica_of(primary).await;
        common::eventually(
            Duration::from_secs(20),
            "HAProxy routes to the primary",
            || async {
                let pool = sqlx::PgPool::connect(&cluster.url).await.ok()?;
                pool.close().await;
                Some(())
            },
        )
        .await;
        cluster
    }

    /// The member that is the primary, once there is one other than `not`.
    async fn primary(&self, limit: Duration, not: Option<usize>) -> usize {
        common::eventually(limit, "a primary", || async {
            for (n, member) in self.members.iter().enumerate() {
                if Some(n) != not && member.answers(&self.http, "/primary").await {
                    return Some(n);
                }
            }
            None
        })
        .await
    }

    /// Waits until the member other than `primary` is its synchronous replica.
    async fn synchronous_replica_of(&self, primary: usize) {
        let replica = &self.members[1 - primary];
        common::eventually(Duration::from_secs(90), "a synchronous replica", || async {
            replica.answers(&self.http, "/sync").await.then_some(())
        })
        .await;
    }
}

/// HAProxy's configuration: the nodes connect to `port`, which goes to the member whose Patroni
/// says it is the primary; when a member stops being it, its connections are cut.
fn haproxy_config(port: u16, servers: &str) -> String {
    format!(
        "global
  maxconn 1000
defaults
  mode tcp
  timeout connect 1s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen postgres
  bind 127.0.0.1:{port}
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
{servers}"
    )
}

/// A request of the storm that did not get its answer.
#[derive(Debug)]
struct Refusal {
    /// When the request was sent, and when its answer came.
    sent: Instant,
    at: Instant,
    what: &'static str,
    status: StatusCode,
    /// The error code, or the body when it is not the API's error shape.
    code: String,
    /// `Retry-After` in the header and, for the API, `retryAfter` in the body.
    retry_after: bool,
}

/// What the storm did: the refusals, and what it must not lose.
#[derive(Default)]
struct Record {
    refusals: Vec<Refusal>,
    answered: usize,
    /// Registered devices: their id, token and address.
    registered: Vec<(String, String, String)>,
    /// Devices whose activation completed: their token and address.
    signed_in: Vec<(String, String)>,
}

impl Record {
    /// Whether `answer` (to a request sent at `sent`) has `expected`; keeps a refusal when not.
    fn check(
        &mut self,
        what: &'static str,
        sent: Instant,
        answer: &Answer,
        expected: StatusCode,
    ) -> bool {
        self.answered += 1;
        if answer.status == expected {
            return true;
        }
        let body: serde_json::Value = serde_json::from_str(&answer.text).unwrap_or_default();
        let header = answer.headers.contains_key("retry-after");
        let (code, retry_after) = match body["error"]["code"].as_str() {
            Some(code) => (
                code.to_owned(),
                header && body["error"]["retryAfter"].as_u64().is_some_and(|s| s >= 1),
            ),
            None => (answer.text.chars().take(200).collect(), header),
        };
        self.refusals.push(Refusal {
            sent,
            at: Instant::now(),
            what,
            status: answer.status,
            code,
            retry_after,
        });
        false
    }
}

/// One TV after another through its first evening, on `node`, until `stop`: it registers and
/// starts an activation; for every other one a phone completes it while the TV waits, and then
/// the TV plays (in a task of its own, so the next TV does not wait for that one's sign-in).
async fn tv_evenings(
    node: Arc<Api>,
    worker: usize,
    record: Arc<Mutex<Record>>,
    stop: Arc<AtomicBool>,
) {
    let mut signing_in = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        // Twenty TVs per /24, within its registration budget.
        let from = format!("10.{}.{}.{}", worker + 10, n / 20 % 256, n % 20 + 1);
        let Some((code, token)) = tv_registers(&node, worker, n, &from, &record).await else {
            continue;
        };
        if n % 2 == 0 {
            signing_in.push(tokio::spawn(tv_signs_in(
                node.clone(),
                from,
                code,
                token,
                record.clone(),
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for tv in signing_in {
        tv.await.expect("a TV signing in");
    }
}

/// The TV registers (from `from`, an address of its own, so no address runs out of
/// registrations) and starts an activation: its code and token.
async fn tv_registers(
    node: &Api,
    worker: usize,
    n: usize,
    from: &str,
    record: &Mutex<Record>,
) -> Option<(String, String)> {
    let check = |what, sent, answer: &Answer, expected| {
        record
            .lock()
            .expect("record")
            .check(what, sent, answer, expected)
    };
    let device = format!("storm-{worker}-{n}");
    let body = register_body(&device).to_string();
    let sent = Instant::now();
    let answer = node
        .call_from(from, Method::POST, "/tv/v1/devices", None, Some(&body))
        .await;
    if !check("register", sent, &answer, StatusCode::CREATED) {
        return None;
    }
    let token = answer.json()["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();
    record
        .lock()
        .expect("record")
        .registered
        .push((device, token.clone(), from.to_owned()));
    let start = json!({ "mvpd": "Spectrum" }).to_string();
    let sent = Instant::now();
    let answer = node
        .call_from(
            from,
            Method::POST,
            "/tv/v1/activations",
            Some(&token),
            Some(&start),
        )
        .await;
    if !check("start an activation", sent, &answer, StatusCode::CREATED) {
        return None;
    }
    let code = answer.json()["code"].as_str().expect("code").to_owned();
    Some((code, token))
}

/// A phone completes the TV's activation `code` while the TV waits for it, then the TV plays.
async fn tv_signs_in(
    node: Arc<Api>,
    from: String,
    code: String,
    token: String,
    record: Arc<Mutex<Record>>,
) {
    let check = |what, sent, answer: &Answer, expected| {
        record
            .lock()
            .expect("record")
            .check(what, sent, answer, expected)
    };
    // The phone, from an address of its own and with connections of its own: the activation
    // page (the node), then Adobe and the provider (the emulator).
    let phone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let sent = Instant::now();
    let page = phone
        .get(node.url(&format!("/activate?code={code}")))
        .header("accept", "text/html")
        .header("x-forwarded-for", from.replacen("10.", "10.1", 1))
        .send()
        .await
        .expect("activation page");
    let page = Answer {
        status: page.status(),
        headers: page.headers().clone(),
        text: page.text().await.expect("page"),
    };
    if !check("the activation page", sent, &page, StatusCode::OK) {
        return;
    }
    common::phone_resumes(&phone, &node.emulator_url, &code, "Spectrum").await;
    common::provider_login(
        &format!("{}/api/v2/authenticate/REF30/{code}", node.emulator_url),
        "premium",
    )
    .await;
    let poll = format!("/tv/v1/activations/{code}?wait=20");
    let sent = Instant::now();
    let answer = node
        .call_from(&from, Method::GET, &poll, Some(&token), None)
        .await;
    if !check("the TV's poll", sent, &answer, StatusCode::OK) {
        return;
    }
    if answer.json()["status"] != "authenticated" {
        return; // Not a loss: the phone signed in but the TV has not heard yet.
    }
    record
        .lock()
        .expect("record")
        .signed_in
        .push((token.clone(), from.clone()));
    let play = json!({ "resource": "REF30" }).to_string();
    let sent = Instant::now();
    let answer = node
        .call_from(
            &from,
            Method::POST,
            "/tv/v1/authorize",
            Some(&token),
            Some(&play),
        )
        .await;
    if check("play", sent, &answer, StatusCode::OK) {
        assert_eq!(answer.json()["decision"], "permit", "{}", answer.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_failover_costs_only_its_window_and_loses_nothing() {
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(missing) => {
            assert!(
                std::env::var_os("TVE_TEST_FAILOVER_REQUIRED").is_none(),
                "the PostgreSQL failover drill needs {} (make test installs them)",
                missing.join(", ")
            );
            eprintln!(
                "no {}: the PostgreSQL failover drill does not run here",
                missing.join(", ")
            );
            return;
        }
    };
    let Some(redis) = common::test_service("TVE_TEST_REDIS_URL") else {
        return;
    };
    let drill = Drill::from_env();
    let cluster = Cluster::start(&tools).await;
    let key_dir = tempfile::tempdir().expect("temp dir");
    let deployment = common::Deployment {
        postgres: cluster.url.clone(),
        redis,
        namespace: format!("test-{}", uuid::Uuid::new_v4().simple()),
        key: common::sealing_key_file(key_dir.path()),
        dir: key_dir,
    };
    let emulator = tve_activate::emulator::spawn(Default::default())
        .await
        .expect("emulator starts");
    let mut flags = deployment.settings().to_vec();
    // A game night's budget for registrations from everyone together.
    flags.extend([
        "--trusted-proxies",
        "127.0.0.1/32",
        "--registrations-per-second",
        "10000",
    ]);
    let nodes = [
        Arc::new(Api::node_of(emulator.base_url(), &flags).await),
        Arc::new(Api::node_of(emulator.base_url(), &flags).await),
    ];

    let record = Arc::new(Mutex::new(Record::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let storm: Vec<_> = (0..drill.workers)
        .map(|worker| {
            tokio::spawn(tv_evenings(
                nodes[worker % 2].clone(),
                worker,
                record.clone(),
                stop.clone(),
            ))
        })
        .collect();

    let began = Instant::now();
    let mut primary = cluster.primary(Duration::from_secs(5), None).await;
    let mut failovers = Vec::new();
    for round in 0..drill.failovers {
        if round > 0 {
            cluster.synchronous_replica_of(primary).await;
        }
        tokio::time::sleep(drill.settle).await;
        let killed = Instant::now();
        cluster.members[primary].kill_postgres();
        let promoted = cluster
            .primary(Duration::from_secs(60), Some(primary))
            .await;
        failovers.push((killed, killed.elapsed()));
        primary = promoted;
    }
    tokio::time::sleep(drill.settle.max(ROUTING_SLACK)).await;
    stop.store(true, Ordering::Relaxed);
    for tv in storm {
        tv.await.expect("a TV of the storm");
    }
    let storm_time = began.elapsed();

    // Every refusal is the documented retryable answer, inside a failover window.
    let record = std::mem::take(&mut *record.lock().expect("record"));
    for refusal in &record.refusals {
        assert!(
            refusal.status == StatusCode::SERVICE_UNAVAILABLE && refusal.retry_after,
            "{refusal:?}"
        );
        if refusal.what != "the activation page" {
            assert_eq!(refusal.code, "store_unavailable", "{refusal:?}");
        }
        assert!(
            failovers.iter().any(|(killed, promoted)| {
                refusal.at >= *killed && refusal.at <= *killed + *promoted + ROUTING_SLACK
            }),
            "{refusal:?} outside every failover window ({failovers:?})"
        );
    }
    for (n, (killed, promoted)) in failovers.iter().enumerate() {
        let refused: Vec<&Refusal> = record
            .refusals
            .iter()
            .filter(|r| r.at >= *killed && r.at <= *killed + *promoted + ROUTING_SLACK)
            .collect();
        let since_kill =
            |refusal: Option<&&Refusal>| refusal.map_or(0.0, |r| (r.at - *killed).as_secs_f64());
        let (first, last) = (since_kill(refused.first()), since_kill(refused.last()));
        let last_sent = refused
            .iter()
            .map(|r| r.sent.saturating_duration_since(*killed))
            .max()
            .unwrap_or_default();
        let mut kinds: Vec<&str> = refused.iter().map(|r| r.what).collect();
        kinds.sort_unstable();
        kinds.dedup();
        eprintln!(
            "postgres failover {}: replica promoted {:.1} s after the primary was killed; \
             {} requests refused (503 store_unavailable, Retry-After) from {first:.1} s to \
             {last:.1} s after the kill (the last sent {:.1} s after it), a window of {:.1} s \
             ({})",
            n + 1,
            promoted.as_secs_f64(),
            refused.len(),
            last_sent.as_secs_f64(),
            last - first,
            kinds.join(", ")
        );
    }
    eprintln!(
        "postgres failover storm: {} TVs at once for {:.0} s, {} requests, {} refused, {} \
         devices registered, {} signed in",
        drill.workers,
        storm_time.as_secs_f64(),
        record.answered,
        record.refusals.len(),
        record.registered.len(),
        record.signed_in.len()
    );

    // Nothing acknowledged is lost, and both nodes serve again without a restart.
    for node in &nodes {
        let ready = node.call_internal(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    }
    // Each TV from its own address, as in the storm (Adobe's throttle is per address).
    for (device, token, from) in &record.registered {
        let profile = nodes[0]
            .call_from(from, Method::GET, "/tv/v1/profile", Some(token), None)
            .await;
        assert_eq!(profile.status, StatusCode::OK, "{device}: {}", profile.text);
    }
    let play = json!({ "resource": "REF30" }).to_string();
    for (token, from) in &record.signed_in {
        let profile = nodes[1]
            .call_from(from, Method::GET, "/tv/v1/profile", Some(token), None)
            .await;
        assert_eq!(profile.json()["authenticated"], true, "{}", profile.text);
        let answer = nodes[1]
            .call_from(
                from,
                Method::POST,
                "/tv/v1/authorize",
                Some(token),
                Some(&play),
            )
            .await;
        assert_eq!(answer.json()["decision"], "permit", "{}", answer.text);
    }
    assert!(
        !record.signed_in.is_empty(),
        "the storm signed TVs in ({} requests)",
        record.answered
    );
}
