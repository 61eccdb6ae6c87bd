//! One behaviour, three implementations: every test here runs against SQLite, memory and (when
//! `TVE_TEST_POSTGRES_URL` names a server, as `make test` does) PostgreSQL.

use std::path::PathBuf;

use super::*;
use crate::adobe_pass::Secret;

async fn stores() -> Vec<(SharedStore, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = open(&StoreUrl::Sqlite(dir.path().join("data/store.db")), None)
        .await
        .expect("sqlite opens");
    let mut stores = vec![
        (sqlite, Some(dir)),
        (
            open(&StoreUrl::Memory, None).await.expect("memory opens"),
            None,
        ),
    ];
    if let Some(postgres) = postgres().await {
        stores.push((postgres, None));
    }
    stores
}

/// A PostgreSQL store in a database of its own on the test server, when there is one. In CI
/// (`CI` set) there must be one.
pub(crate) async fn postgres() -> Option<SharedStore> {
    let Ok(server) = std::env::var("TVE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "TVE_TEST_POSTGRES_URL must name a PostgreSQL server in CI (make test starts one)"
        );
        eprintln!("TVE_TEST_POSTGRES_URL is not set: the PostgreSQL store is not tested here");
        return None;
    };
    let database = format!("tve_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("the test PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let mut url = url::Url::parse(&server).expect("a URL");
    url.set_path(&database);
    let store = open(
        &StoreUrl::Postgres {
            url: Secret::new(url.as_str()),
            pool_size: 4,
        },
        Some(SealingKey::generate().into()),
    )
    .await
    .expect("postgres opens");
    Some(store)
}

fn device(id: &str) -> Device {
    Device {
        device_id: id.to_owned(),
        app_device_id: format!("app-{id}"),
        device_info: serde_json::json!({"model": "Roku Ultra", "osName": "Roku OS"}),
        last_provider: None,
        temp_pass_identity: None,
        registered_at: 1_000,
        network: None,
        seen_at: 0,
        sign_in_started_at: None,
    }
}

fn pending(code: &str, device_id: &str) -> Activation {
    Activation {
        code: code.to_owned(),
        device_id: device_id.to_owned(),
        provider: None,
        status: ActivationStatus::Pending,
        expires_at: 10_000,
        updated_at: 2_000,
        created_at: 1_500,
    }
}

#[tokio::test]
async fn registering_again_revokes_the_old_token_and_keeps_the_rest() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash-a")
            .await
            .expect("register");
        store
            .remember_provider("tv-1", "flexibleTempPass", Some("eyJlbWFpbCI6IjEyMyJ9"))
            .await
            .expect("remember");
        let promotional = store.device("tv-1").await.expect("read").expect("found");
        assert_eq!(
            promotional.temp_pass_identity.as_deref(),
            Some("eyJlbWFpbCI6IjEyMyJ9"),
            "{store:?}"
        );
        store
            .remember_provider("tv-1", "Spectrum", None)
            .await
            .expect("remember");
        let mut again = device("tv-1");
        again.device_info = serde_json::json!({"model": "Roku Express"});
        again.registered_at = 5_000;
        store
            .register_device(&again, "hash-b")
            .await
            .expect("re-register");

        assert_eq!(
            store.device_for_token("hash-a").await.expect("read"),
            None,
            "{store:?}"
        );
        let found = store
            .device_for_token("hash-b")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.device_info["model"], "Roku Express");
        assert_eq!(found.registered_at, 1_000, "first registration time kept");
        assert_eq!(found.last_provider.as_deref(), Some("Spectrum"));
        assert_eq!(found.temp_pass_identity, None, "another provider clears it");
    }
}

#[tokio::test]
async fn a_renewal_replaces_only_the_token_it_was_given() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash-a")
            .await
            .expect("register");
        store
            .remember_provider("tv-1", "Spectrum", None)
            .await
            .expect("remember");
        let mut renewed = device("tv-1");
        renewed.device_info = serde_json::json!({"model": "Roku Express"});
        renewed.network = Some("net-1".to_owned());
        renewed.seen_at = 7_000;
        assert!(
            store
                .renew_device(&renewed, "hash-a", "hash-b")
                .await
                .expect("renew"),
            "{store:?}"
        );
        let found = store
            .device_for_token("hash-b")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.device_info["model"], "Roku Express");
        assert_eq!(found.network.as_deref(), Some("net-1"));
        assert_eq!(found.seen_at, 7_000);
        assert_eq!(found.registered_at, 1_000, "first registration time kept");
        assert_eq!(found.last_provider.as_deref(), Some("Spectrum"));

        // A second renewal with the replaced token (a thief racing the owner) changes nothing.
        let mut stale = renewed.clone();
        stale.device_info = serde_json::json!({"model": "Thief"});
        assert!(
            !store
                .renew_device(&stale, "hash-a", "hash-c")
                .await
                .expect("renew"),
            "{store:?}"
        );
        assert_eq!(store.device_for_token("hash-c").await.expect("read"), None);
        let kept = store
            .device_for_token("hash-b")
            .await
            .expect("read")
            .expect("the winner's token still works");
        assert_eq!(kept.device_info["model"], "Roku Express");
        assert!(!store
            .renew_device(&device("tv-unknown"), "hash-b", "hash-d")
            .await
            .expect("renew"));
    }
}

#[tokio::test]
async fn a_revoked_token_finds_nothing_and_cannot_renew() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash-a")
            .await
            .expect("register");
        store
            .register_device(&device("tv-2"), "hash-z")
            .await
            .expect("register");
        assert!(
            store.revoke_token("tv-1").await.expect("revoke"),
            "{store:?}"
        );
        assert!(store.revoke_token("tv-1").await.expect("revoke twice"));
        assert!(!store.revoke_token("tv-unknown").await.expect("revoke"));
        assert_eq!(store.device_for_token("hash-a").await.expect("read"), None);
        assert!(
            store
                .device_for_token("hash-z")
                .await
                .expect("read")
                .is_some(),
            "other devices keep their tokens"
        );
        assert!(!store
            .renew_device(&device("tv-1"), "hash-a", "hash-b")
            .await
            .expect("renew"));
        assert!(
            store.device("tv-1").await.expect("read").is_some(),
            "the registration (and its Adobe identity) stays"
        );
        store
            .register_device(&device("tv-1"), "hash-new")
            .await
            .expect("registering afresh");
        assert!(store
            .device_for_token("hash-new")
            .await
            .expect("read")
            .is_some());
    }
}

#[tokio::test]
async fn first_credentials_are_kept() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash")
            .await
            .expect("register");
        let first = ClientCredentials {
            client_id: "client-1".to_owned(),
            client_secret: Secret::new("secret-1"),
        };
        let second = ClientCredentials {
            client_id: "client-2".to_owned(),
            client_secret: Secret::new("secret-2"),
        };
        assert_eq!(store.credentials("tv-1").await.expect("read"), None);
        assert_eq!(
            store
                .save_new_credentials("tv-1", &first)
                .await
                .expect("save"),
            first
        );
        assert_eq!(
            store
                .save_new_credentials("tv-1", &second)
                .await
                .expect("save"),
            first
        );
        assert_eq!(store.credentials("tv-1").await.expect("read"), Some(first));
    }
}

#[tokio::test]
async fn a_new_activation_supersedes_the_pending_one() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash")
            .await
            .expect("register");
        store
            .register_device(&device("tv-2"), "hash-2")
            .await
            .expect("register");
        assert!(store
            .start_activation(&pending("AAAAAAA", "tv-1"))
            .await
            .expect("start")
            .is_empty());
        store
            .start_activation(&pending("CCCCCCC", "tv-2"))
            .await
            .expect("start");
        let superseded = store
            .start_activation(&pending("BBBBBBB", "tv-1"))
            .await
            .expect("start");
        assert_eq!(superseded, vec!["AAAAAAA".to_owned()]);
        let old = store
            .activation("AAAAAAA")
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(old.status, ActivationStatus::Superseded);
        let other = store
            .activation("CCCCCCC")
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(other, pending("CCCCCCC", "tv-2"), "other devices untouched");
        let mut pending_codes: Vec<String> = store
            .pending_activations()
            .await
            .expect("read")
            .into_iter()
            .map(|a| a.code)
            .collect();
        pending_codes.sort();
        assert_eq!(pending_codes, ["BBBBBBB", "CCCCCCC"]);
    }
}

#[tokio::test]
async fn only_pending_activations_can_finish() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash")
            .await
            .expect("register");
        store
            .start_activation(&pending("AAAAAAA", "tv-1"))
            .await
            .expect("start");
        let done = store
            .finish_activation(
                "AAAAAAA",
                ActivationStatus::Authenticated,
                Some("Spectrum"),
                3_000,
            )
            .await
            .expect("finish")
            .expect("was pending");
        assert_eq!(done.status, ActivationStatus::Authenticated);
        assert_eq!(done.provider.as_deref(), Some("Spectrum"));
        assert_eq!(done.updated_at, 3_000);
        assert_eq!(done.created_at, 1_500, "the code's issue time stays");
        let again = store
            .finish_activation("AAAAAAA", ActivationStatus::Expired, None, 4_000)
            .await
            .expect("finish");
        assert_eq!(again, None, "a finished activation stays finished");
        assert_eq!(
            store
                .finish_activation("NOSUCH1", ActivationStatus::Expired, None, 4_000)
                .await
                .expect("finish"),
            None
        );
    }
}

#[tokio::test]
async fn expired_activations_are_purged() {
    for (store, _dir) in stores().await {
        store
            .register_device(&device("tv-1"), "hash")
            .await
            .expect("register");
        store
            .start_activation(&pending("AAAAAAA", "tv-1"))
            .await
            .expect("start");
        assert_eq!(store.purge_activations(10_000).await.expect("purge"), 0);
        assert_eq!(store.purge_activations(10_001).await.expect("purge"), 1);
        assert_eq!(store.activation("AAAAAAA").await.expect("read"), None);
    }
}

#[tokio::test]
async fn closed_stores_fail_their_ping() {
    for (store, _dir) in stores().await {
        store.ping().await.expect("ping");
        store.close().await;
        assert!(store.ping().await.is_err());
    }
}

#[tokio::test]
async fn sqlite_keeps_everything_across_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = StoreUrl::Sqlite(PathBuf::from(dir.path()).join("store.db"));
    let credentials = ClientCredentials {
        client_id: "client-1".to_owned(),
        client_secret: Secret::new("secret-1"),
    };
    {
        let store = open(&url, None).await.expect("open");
        store
            .register_device(&device("tv-1"), "hash")
            .await
            .expect("register");
        store
            .save_new_credentials("tv-1", &credentials)
            .await
            .expect("save");
        store
            .save_access_token("tv-1", "client-1", &Secret::new("token-1"), 7_000)
            .await
            .expect("save token");
        store
            .start_activation(&pending("AAAAAAA", "tv-1"))
            .await
            .expect("start");
        store.close().await;
    }
    let store = open(&url, None).await.expect("reopen");
    assert!(store
        .device_for_token("hash")
        .await
        .expect("read")
        .is_some());
    assert_eq!(
        store.credentials("tv-1").await.expect("read"),
        Some(credentials)
    );
    assert_eq!(
        store.access_token("tv-1").await.expect("read"),
        Some((Secret::new("token-1"), 7_000))
    );
    assert_eq!(store.pending_activations().await.expect("read").len(), 1);
    for file in ["store.db", "store.db-wal"] {
        let raw = std::fs::read(dir.path().join(file)).unwrap_or_default();
        assert!(
            !raw.windows(8).any(|w| w == b"secret-1"),
            "client secrets are sealed at rest"
        );
        assert!(
            !raw.windows(7).any(|w| w == b"token-1"),
            "access tokens are sealed at rest"
        );
    }
}

#[tokio::test]
async fn registrations_of_one_app_device_id_are_listed_together() {
    for (store, _dir) in stores().await {
        let mut first = device("reg-1");
        first.app_device_id = "roku-42".to_owned();
        let mut second = device("reg-2");
        second.app_device_id = "roku-42".to_owned();
        store.register_device(&first, "h1").await.expect("register");
        store
            .register_device(&second, "h2")
            .await
            .expect("register");
        store
            .register_device(&device("other"), "h3")
            .await
            .expect("register");
        let mut ids: Vec<String> = store
            .devices_of_app("roku-42")
            .await
            .expect("read")
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["reg-1", "reg-2"], "{store:?}");
        assert!(store
            .devices_of_app("nobody")
            .await
            .expect("read")
            .is_empty());
    }
}

#[tokio::test]
async fn credentials_are_forgotten_only_while_they_are_the_rejected_ones() {
    for (store, _dir) in stores().await {
        let old = ClientCredentials {
            client_id: "old".into(),
            client_secret: Secret::new("s1"),
        };
        let new = ClientCredentials {
            client_id: "new".into(),
            client_secret: Secret::new("s2"),
        };
        store.save_new_credentials("tv", &old).await.expect("save");
        assert!(!store
            .forget_credentials("tv", "other")
            .await
            .expect("forget"));
        assert_eq!(store.credentials("tv").await.expect("read"), Some(old));
        assert!(store.forget_credentials("tv", "old").await.expect("forget"));
        assert_eq!(store.credentials("tv").await.expect("read"), None);
        assert_eq!(
            store.save_new_credentials("tv", &new).await.expect("save"),
            new,
            "a new client replaces the forgotten one"
        );
    }
}

#[tokio::test]
async fn access_tokens_are_kept_for_the_current_client_only() {
    for (store, _dir) in stores().await {
        let credentials = ClientCredentials {
            client_id: "client-1".into(),
            client_secret: Secret::new("s1"),
        };
        assert_eq!(store.access_token("tv").await.expect("read"), None);
        store
            .save_access_token("tv", "client-1", &Secret::new("t0"), 5_000)
            .await
            .expect("save");
        assert_eq!(
            store.access_token("tv").await.expect("read"),
            None,
            "no credentials, no token: {store:?}"
        );
        store
            .save_new_credentials("tv", &credentials)
            .await
            .expect("save");
        store
            .save_access_token("tv", "client-1", &Secret::new("t1"), 5_000)
            .await
            .expect("save");
        store
            .save_access_token("tv", "client-0", &Secret::new("stale"), 9_000)
            .await
            .expect("save");
        assert_eq!(
            store.access_token("tv").await.expect("read"),
            Some((Secret::new("t1"), 5_000)),
            "a token of another client is not kept: {store:?}"
        );
        store
            .save_access_token("tv", "client-1", &Secret::new("t2"), 6_000)
            .await
            .expect("save");
        assert_eq!(
            store.access_token("tv").await.expect("read"),
            Some((Secret::new("t2"), 6_000)),
            "a newer token replaces it"
        );
        assert_eq!(
            store.credentials("tv").await.expect("read"),
            Some(credentials),
            "the credentials are untouched"
        );
        assert!(store
            .forget_credentials("tv", "client-1")
            .await
            .expect("forget"));
        assert_eq!(
            store.access_token("tv").await.expect("read"),
            None,
            "forgetting the client forgets its token: {store:?}"
        );
    }
}

#[tokio::test]
async fn the_network_a_device_was_seen_on_is_kept() {
    for (store, _dir) in stores().await {
        let mut first = device("tv-1");
        first.network = Some("net-a".to_owned());
        first.seen_at = 1_000;
        store.register_device(&first, "h1").await.expect("register");
        store
            .saw_device("tv-1", "net-b", 2_000)
            .await
            .expect("seen");
        let seen = store.device("tv-1").await.expect("read").expect("found");
        assert_eq!(seen.network.as_deref(), Some("net-b"), "{store:?}");
        assert_eq!(seen.seen_at, 2_000);
        let mut again = device("tv-1");
        again.network = Some("net-c".to_owned());
        again.seen_at = 3_000;
        store.register_device(&again, "h2").await.expect("register");
        let renewed = store
            .device_for_token("h2")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(renewed.network.as_deref(), Some("net-c"));
        assert_eq!(renewed.seen_at, 3_000);
        store
            .saw_device("nobody", "net-a", 4_000)
            .await
            .expect("an unknown device is no error");
    }
}

#[tokio::test]
async fn pseudonyms_are_stable_for_a_store() {
    for (store, _dir) in stores().await {
        let pseudonym = store.pseudonym("roku-1");
        assert_eq!(pseudonym.len(), 64, "{store:?}");
        assert_eq!(store.pseudonym("roku-1"), pseudonym);
        assert_ne!(store.pseudonym("roku-2"), pseudonym);
    }
}

#[tokio::test]
async fn registrations_that_never_started_a_sign_in_are_reclaimed_when_idle() {
    for (store, _dir) in stores().await {
        for (id, seen_at) in [("idle-old", 1_000), ("idle", 2_000), ("started", 1_000)] {
            let mut registered = device(id);
            registered.seen_at = seen_at;
            store
                .register_device(&registered, &format!("hash-{id}"))
                .await
                .expect("register");
            let credentials = ClientCredentials {
                client_id: format!("client-{id}"),
                client_secret: Secret::new("secret"),
            };
            store
                .save_new_credentials(id, &credentials)
                .await
                .expect("save");
        }
        let mut recent = device("recent");
        recent.seen_at = 9_000;
        store
            .register_device(&recent, "hash-recent")
            .await
            .expect("register");
        let mut watched = device("watched");
        watched.seen_at = 1_000;
        store
            .register_device(&watched, "hash-watched")
            .await
            .expect("register");
        store
            .start_activation(&pending("CODE1", "watched"))
            .await
            .expect("start");
        assert!(store.sign_in_started("started", 1_500).await.expect("mark"));
        assert!(store.sign_in_started("started", 1_700).await.expect("mark"));
        assert!(!store.sign_in_started("nobody", 1_500).await.expect("mark"));
        assert_eq!(
            store
                .device("started")
                .await
                .expect("read")
                .expect("found")
                .sign_in_started_at,
            Some(1_500),
            "the first start is kept: {store:?}"
        );

        assert_eq!(
            store.reclaim_idle_devices(5_000, 1).await.expect("reclaim"),
            vec!["idle-old".to_owned()],
            "the longest idle first: {store:?}"
        );
        assert_eq!(
            store
                .reclaim_idle_devices(5_000, 10)
                .await
                .expect("reclaim"),
            vec!["idle".to_owned()],
            "{store:?}"
        );
        assert_eq!(
            store
                .reclaim_idle_devices(5_000, 10)
                .await
                .expect("reclaim"),
            Vec::<String>::new()
        );
        for gone in ["idle-old", "idle"] {
            assert_eq!(store.device(gone).await.expect("read"), None, "{store:?}");
            assert_eq!(store.credentials(gone).await.expect("read"), None);
            assert_eq!(
                store
                    .device_for_token(&format!("hash-{gone}"))
                    .await
                    .expect("read"),
                None
            );
        }
        for kept in ["started", "recent", "watched"] {
            assert!(
                store.device(kept).await.expect("read").is_some(),
                "{kept}: {store:?}"
            );
        }
        assert!(store.credentials("started").await.expect("read").is_some());
    }
}

#[tokio::test]
async fn provider_states_are_kept_and_replaced() {
    for (store, _dir) in stores().await {
        assert_eq!(store.provider_states().await.expect("read"), vec![]);
        let hidden = ProviderState {
            mvpd: "Xfinity".to_owned(),
            mode: ProviderMode::Hidden,
            message: std::collections::BTreeMap::new(),
            until: Some(9_000),
            changed_by: "ana".to_owned(),
            reason: "login page down".to_owned(),
            changed_at: 1_000,
        };
        store.set_provider_state(&hidden).await.expect("set");
        let notice = ProviderState {
            mode: ProviderMode::Notice,
            message: [
                ("en".to_owned(), "Slow sign-in".to_owned()),
                ("es".to_owned(), "Lento".to_owned()),
            ]
            .into(),
            until: None,
            changed_at: 2_000,
            ..hidden.clone()
        };
        store.set_provider_state(&notice).await.expect("replace");
        let spectrum = ProviderState {
            mvpd: "Spectrum".to_owned(),
            ..hidden.clone()
        };
        store.set_provider_state(&spectrum).await.expect("set");
        assert_eq!(
            store.provider_states().await.expect("read"),
            vec![spectrum, notice],
            "{store:?}"
        );
    }
}

#[tokio::test]
async fn operator_limits_are_kept_replaced_and_removed() {
    for (store, _dir) in stores().await {
        assert_eq!(store.operator_limits().await.expect("read"), None);
        let raised = OperatorLimits {
            registrations_per_second: 40,
            adobe_steps_per_address_per_second: 4,
            max_concurrent_polls: 64,
            changed_by: "ana".to_owned(),
            reason: "kickoff".to_owned(),
            changed_at: 1_000,
        };
        store.set_operator_limits(Some(&raised)).await.expect("set");
        let again = OperatorLimits {
            registrations_per_second: 80,
            changed_at: 2_000,
            ..raised
        };
        store
            .set_operator_limits(Some(&again))
            .await
            .expect("replace");
        assert_eq!(
            store.operator_limits().await.expect("read"),
            Some(again),
            "{store:?}"
        );
        store.set_operator_limits(None).await.expect("remove");
        assert_eq!(store.operator_limits().await.expect("read"), None);
    }
}
