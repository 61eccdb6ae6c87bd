//! The event stream (docs/events.md): one activation across two nodes is told once, by the node
//! that decided each step, in the JSON lines files of both nodes together; routine polls tell
//! nothing; plays, TempPass, a logout and operators' changes are told with their reason and
//! actor. And the NATS
//! JetStream sink: events read back from a stream, a NATS outage that blocks no request and
//! whose drops are counted, publishing that resumes when NATS is back.

mod common;
mod tv_api_support;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tv_api_support::{two_nodes_with, Api, Browser};
use tve_activate::emulator::{EmulatorSettings, TempPassSettings};

const ADMIN_TOKEN: &str = "events-admin-token-0123456789abcdef";

/// The events a JSON lines file holds (none before it is written).
fn events_in(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// Follows a redirect by hand (the test client does not), giving the `Location`.
fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// The phone opens `code` on `node`'s site, picks Spectrum and signs in there (as `basic`, whom
/// the emulator's MVPD denies `premium-sports`).
async fn phone_signs_in(node: &Api, code: &str) {
    let mut phone = Browser::new(node);
    let (status, _) = phone.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = phone.csrf();
    let origin = node.public_url.clone();
    let confirmed = phone
        .post(
            "confirm",
            &[("code", code), ("csrf", csrf.as_str())],
            Some(&origin),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    let signing_in = phone
        .post(
            "sign-in",
            &[
                ("code", code),
                ("mvpd", "Spectrum"),
                ("csrf", csrf.as_str()),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(signing_in.status(), StatusCode::FOUND);
    let complete = node
        .sign_in_at_provider(&location(&signing_in), "basic")
        .await;
    let path = complete
        .strip_prefix(&node.public_url)
        .expect("back to this site");
    let (status, _) = phone.get(path).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_activation_across_two_nodes_is_told_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (file_a, file_b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let (path_a, path_b) = (
        file_a.to_str().expect("utf-8"),
        file_b.to_str().expect("utf-8"),
    );
    let flags_a = [
        "--events-file",
        path_a,
        "--admin-token",
        ADMIN_TOKEN,
        "--denied-resources",
        "Spectrum:news",
    ];
    let Some((a, b, _emulator, _deployment)) =
        two_nodes_with(&flags_a, &["--events-file", path_b]).await
    else {
        return;
    };
    let both = || {
        let mut events = events_in(&file_a);
        events.extend(events_in(&file_b));
        events
    };

    // The TV shows a code on node A and waits there; the phone signs in on node B.
    let token = a.register("tv-events").await;
    let started = a.post("/tv/v1/activations", &token, json!({})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let code = started.json()["code"].as_str().expect("code").to_owned();
    let waiting = a.long_poll(&code, &token);
    phone_signs_in(&b, &code).await;
    let (_, answer) = waiting.await.expect("long poll");
    assert_eq!(answer["status"], "authenticated", "{answer}");

    // Three plays on node A: one denied by the programmer's rule, one by the MVPD; an
    // operator's change there.
    let play = a
        .post("/tv/v1/authorize", &token, json!({"resource": "REF30"}))
        .await;
    assert_eq!(play.json()["decision"], "permit", "{}", play.text);
    let denied = a
        .post("/tv/v1/authorize", &token, json!({"resource": "news"}))
        .await;
    assert_eq!(denied.json()["decision"], "deny", "{}", denied.text);
    let by_mvpd = a
        .post(
            "/tv/v1/authorize",
            &token,
            json!({"resource": "premium-sports"}),
        )
        .await;
    assert_eq!(by_mvpd.json()["decision"], "deny", "{}", by_mvpd.text);
    let change = json!({"state": "notice", "changedBy": "ana", "reason": "game night"});
    let set = a
        .call_internal(
            Method::PUT,
            "/admin/v1/providers/Spectrum",
            Some(ADMIN_TOKEN),
            Some(&change.to_string()),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);

    // Another TV starts TempPass on node B; an operator has node A forget what it cached for
    // the first TV, whose viewer then logs out there.
    let temp = b.register("tv-events-temppass").await;
    let started = b.post("/tv/v1/temppass", &temp, json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let invalidated = a
        .call_internal(
            Method::POST,
            "/admin/v1/devices/tv-events/invalidate",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(
        invalidated.status,
        StatusCode::NO_CONTENT,
        "{}",
        invalidated.text
    );
    let logout = a
        .call(Method::POST, "/tv/v1/logout", Some(&token), None)
        .await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text);

    let expected = [
        "activation.created",
        "activation.opened",
        "activation.provider_chosen",
        "activation.signed_in",
        "decision.permit",
        "decision.deny",
        "admin.provider_state",
        "temppass.started",
        "admin.device_invalidated",
        "logout",
    ];
    common::eventually(Duration::from_secs(10), "every event written", || {
        let events = both();
        async move {
            expected
                .iter()
                .all(|kind| !of_type(&events, kind).is_empty())
                .then_some(())
        }
    })
    .await;
    // Another node's late duplicate, if there were one, has time to arrive.
    tv_api_support::pause(1_000).await;
    let events = both();
    for kind in expected {
        let times = if kind == "decision.deny" { 2 } else { 1 };
        assert_eq!(of_type(&events, kind).len(), times, "{kind} in {events:#?}");
    }

    // Routine status polls, on both nodes, tell nothing.
    let told = events.len();
    for node in [&a, &b] {
        for _ in 0..3 {
            let status = node
                .get(&format!("/tv/v1/activations/{code}"), &token)
                .await;
            assert_eq!(status.status, StatusCode::OK, "{}", status.text);
        }
    }
    tv_api_support::pause(500).await;
    assert_eq!(both().len(), told, "polls emitted events");

    // Each step was told by the node that decided it, with the request where there was one.
    let on_a = events_in(&file_a);
    let created = of_type(&on_a, "activation.created");
    let created = created
        .first()
        .expect("created on node A, where the TV asked");
    assert_eq!(created["platform"], "tvOS");
    assert!(created["requestId"].is_string(), "{created}");
    let on_b = events_in(&file_b);
    assert_eq!(of_type(&on_b, "activation.provider_chosen").len(), 1);
    assert_eq!(of_type(&on_b, "activation.opened").len(), 1);
    let signed_in = of_type(&events, "activation.signed_in")[0];
    assert_eq!(signed_in["provider"], "Spectrum");
    assert_eq!(signed_in["deviceId"], created["deviceId"]);
    let denials = of_type(&on_a, "decision.deny");
    let (rule, mvpd) = (denials[0], denials[1]);
    assert_eq!(rule["reason"], "denied_by_programmer", "{rule}");
    assert!(
        rule.get("code").is_none(),
        "no Adobe code for the service's own rule: {rule}"
    );
    assert_eq!(rule["provider"], "Spectrum");
    assert_eq!(mvpd["reason"], "authorization_denied_by_mvpd", "{mvpd}");
    assert_eq!(mvpd["code"], "authorization_denied_by_mvpd", "{mvpd}");
    assert_eq!(mvpd["action"], "none", "{mvpd}");
    let admin = of_type(&on_a, "admin.provider_state")[0];
    assert_eq!(
        (&admin["actor"], &admin["reason"], &admin["mvpd"]),
        (&json!("ana"), &json!("game night"), &json!("Spectrum"))
    );

    let invalidated = of_type(&on_a, "admin.device_invalidated")[0];
    assert_eq!(invalidated["actor"], "admin-api");
    assert_eq!(invalidated["deviceId"], created["deviceId"]);
    assert_eq!(of_type(&on_a, "logout")[0]["provider"], "Spectrum");
    assert_eq!(of_type(&on_b, "temppass.started").len(), 1);

    // Ids are unique; no code, token or address is written.
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&file_a).expect("file A"),
        std::fs::read_to_string(&file_b).expect("file B")
    );
    for secret in [code.as_str(), token.as_str(), temp.as_str(), "127.0.0.1"] {
        assert!(!text.contains(secret), "{secret} in the events");
    }
    let metrics = a.metrics().await;
    assert!(
        common::sample(
            &metrics,
            "tve_events_emitted_total{type=\"activation.created\"}"
        ) == Some(1.0),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_temppass_running_out_is_told_once_a_play_finds_it_over() {
    let mut settings = EmulatorSettings {
        temp_pass: TempPassSettings::default(),
        ..EmulatorSettings::default()
    };
    for mvpd in &mut settings.dataset.mvpds {
        if let (true, Some(rules)) = (mvpd.id == "flexibleTempPass", &mut mvpd.temp_pass) {
            rules.duration_seconds = 1;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("events.jsonl");
    let api = Api::with_emulator(settings, &["--events-file", file.to_str().expect("utf-8")]).await;
    let tv = api.register("tv-events-temppass-over").await;
    let body = json!({"mvpd": "flexibleTempPass", "email": "viewer@example.com"});
    let started = api.post("/tv/v1/temppass", &tv, body).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let play = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await;
    assert_eq!(play.json()["decision"], "permit", "{}", play.text);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let over = api
        .post("/tv/v1/authorize", &tv, json!({"resource": "REF30"}))
        .await;
    assert_eq!(over.json()["decision"], "deny", "{}", over.text);

    let events = common::eventually(Duration::from_secs(10), "the denial written", || {
        let events = events_in(&file);
        async move { (!of_type(&events, "decision.deny").is_empty()).then_some(events) }
    })
    .await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "temppass.started",
            "decision.permit",
            "temppass.ended",
            "decision.deny"
        ]
    );
    let deny = of_type(&events, "decision.deny")[0];
    assert_eq!(deny["provider"], "flexibleTempPass");
    assert_eq!(deny["signInAgain"], true, "{deny}");
    assert!(deny["code"].is_string(), "{deny}");
    assert!(!std::fs::read_to_string(&file)
        .expect("file")
        .contains("viewer@example.com"));
}

/// A `nats-server -js` of a test's own on a free loopback port, keeping its streams in `dir`;
/// killed when dropped.
struct OwnNats {
    child: Child,
    port: u16,
}

impl OwnNats {
    fn start(binary: &str, port: u16, dir: &Path) -> Self {
        let child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
            .arg("-sd")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (Debian's nats-server; make test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every event in the stream `TVE_TEST`, in order (none while it does not exist).
async fn stream_events(url: &str) -> Vec<Value> {
    let Ok(client) = async_nats::connect(url).await else {
        return Vec::new();
    };
    let jetstream = async_nats::jetstream::new(client);
    let Ok(mut stream) = jetstream.get_stream("TVE_TEST").await else {
        return Vec::new();
    };
    let last = stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence;
    let mut events = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.expect("message");
        let event: Value = serde_json::from_slice(&message.payload).expect("JSON");
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .expect("Nats-Msg-Id")
            .as_str()
            .to_owned();
        assert_eq!(event["id"], id.as_str(), "the event id is the message id");
        assert_eq!(
            message.subject.as_str(),
            format!("tve.test.{}", event["type"].as_str().expect("type"))
        );
        events.push(event);
    }
    events
}

/// A TV starts an activation: gives its code.
async fn code_shown(api: &Api, token: &str) -> String {
    let started = api.post("/tv/v1/activations", token, json!({})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    started.json()["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn events_reach_jetstream_and_a_nats_outage_blocks_nothing() {
    let Some(binary) = common::test_service("TVE_TEST_NATS_SERVER") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = common::free_port();
    let mut nats = OwnNats::start(&binary, port, dir.path());
    let url = nats.url();
    let api = Api::start(&[
        "--events-nats-url",
        &url,
        "--events-nats-subject",
        "tve.test",
        "--events-nats-stream",
        "TVE_TEST",
    ])
    .await;
    let token = api.register("tv-nats").await;
    code_shown(&api, &token).await;
    let events = common::eventually(Duration::from_secs(15), "the event in JetStream", || {
        let url = url.clone();
        async move {
            let events = stream_events(&url).await;
            (!events.is_empty()).then_some(events)
        }
    })
    .await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["type"], "activation.created");

    // NATS goes away: requests are answered as before, and what is lost is counted.
    nats.kill();
    let dropped = "tve_events_dropped_total{sink=\"nats\"}";
    for n in 0..3 {
        let tv = api.register(&format!("tv-nats-outage-{n}")).await;
        let began = Instant::now();
        code_shown(&api, &tv).await;
        // Had it waited on NATS, it would have waited JetStream's confirmation window (2 s).
        let took = began.elapsed();
        eprintln!("an activation start during the NATS outage took {took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    let node = &api;
    let lost = common::eventually(
        Duration::from_secs(20),
        "drops counted",
        move || async move {
            let metrics = node.metrics().await;
            common::sample(&metrics, dropped).filter(|lost| *lost >= 1.0)
        },
    )
    .await;
    eprintln!("events dropped during the NATS outage: {lost}");

    // NATS is back (its streams kept on disk): publishing resumes by itself, once the client
    // has reconnected (it backs off between attempts).
    let _nats = OwnNats::start(&binary, port, dir.path());
    let after = api.register("tv-nats-after").await;
    let back = Instant::now();
    let deadline = back + Duration::from_secs(40);
    let resumed = loop {
        code_shown(&api, &after).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let events = stream_events(&url).await;
        if events.len() > 1 {
            break events;
        }
        assert!(Instant::now() < deadline, "publishing did not resume");
    };
    eprintln!(
        "publishing resumed within {:?} of NATS's restart",
        back.elapsed()
    );
    let ids: std::collections::HashSet<&str> = resumed
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), resumed.len(), "no event twice");
}
