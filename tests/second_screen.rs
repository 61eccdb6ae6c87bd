//! The phone's part of an activation under Adobe's documented reading of S2 (REST-API-V2.md
//! §7.2, §7.3): S1 leaves out what the phone supplies, S2 supplies only what is missing, and a
//! provider the TV chose is the one the viewer signs in with.

mod common;

use std::net::{IpAddr, SocketAddr};

use tve_activate::{
    service::{ServiceError, StartOutcome},
    store::ActivationStatus,
};

const VIEWER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 20));

#[tokio::test]
async fn the_phone_supplies_what_the_session_misses_and_keeps_the_tvs_provider() {
    let (state, emulator) = common::state(&[]).await;
    let emulator = emulator.expect("embedded emulator");
    let service = state.service.clone();
    let tv: SocketAddr = "203.0.113.30:40000".parse().expect("address");
    let (_, session) = common::tv_session(&service, "tv-second-screen", tv).await;
    let StartOutcome::Started(started) = service
        .start_activation(&session, Some("Spectrum"))
        .await
        .expect("started")
    else {
        panic!("not signed in yet");
    };
    let at_adobe = |code: &str| {
        let store = emulator.state().store();
        let session = store.sessions.get(code).expect("session").clone();
        (session.mvpd, session.redirect_url)
    };
    assert_eq!(
        at_adobe(&started.code),
        (Some("Spectrum".to_owned()), None),
        "S1 leaves the completion page for the phone to supply"
    );

    let offered = service
        .providers_for_code(&started.code, VIEWER)
        .await
        .expect("providers");
    let ids: Vec<&str> = offered.all.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["Spectrum"], "only the provider the TV chose");
    match service.start_sign_in(&started.code, "Cox", VIEWER).await {
        Err(ServiceError::InvalidInput { field, message }) => {
            assert_eq!(field, "mvpd");
            assert!(message.contains("this TV chose Spectrum"), "{message}");
        }
        other => panic!("another provider is refused: {other:?}"),
    }
    let url = service
        .start_sign_in(&started.code, "Spectrum", VIEWER)
        .await
        .expect("sign-in")
        .expect("pending");
    assert!(url.path().ends_with(&started.code), "{url}");
    let (mvpd, redirect) = at_adobe(&started.code);
    assert_eq!(mvpd.as_deref(), Some("Spectrum"));
    assert!(
        redirect.is_some_and(|r| r.ends_with(&format!("/activate/complete?code={}", started.code))),
        "S2 supplied the completion page"
    );

    // A TV that chose no provider: the phone supplies it.
    let open = service
        .start_activation(&session, None)
        .await
        .expect("started");
    let StartOutcome::Started(open) = open else {
        panic!("not signed in yet");
    };
    service
        .start_sign_in(&open.code, "Cox", VIEWER)
        .await
        .expect("sign-in")
        .expect("pending");
    assert_eq!(at_adobe(&open.code).0.as_deref(), Some("Cox"));
}

/// Checks of a signed-in code at the same moment (the completion page and a watcher's poll,
/// on this node or another): each reports the sign-in, also those whose store update came
/// second, rather than a code still pending (which the completion page shows as gone).
#[tokio::test]
async fn checks_at_the_same_moment_all_see_the_sign_in() {
    let (state, emulator) = common::state(&[]).await;
    let _emulator = emulator.expect("embedded emulator");
    let service = state.service.clone();
    let tv: SocketAddr = "203.0.113.31:40000".parse().expect("address");
    let (_, session) = common::tv_session(&service, "tv-checks-at-once", tv).await;
    let StartOutcome::Started(started) = service
        .start_activation(&session, Some("Spectrum"))
        .await
        .expect("started")
    else {
        panic!("not signed in yet");
    };
    let authenticate = service
        .start_sign_in(&started.code, "Spectrum", VIEWER)
        .await
        .expect("sign-in")
        .expect("pending");
    common::provider_login(authenticate.as_str(), "premium").await;

    // Each reads the code as pending before any hears back from Adobe; one finishes it.
    let checks = futures_util::future::join_all(
        (0..6).map(|_| service.confirm_activation(&started.code, VIEWER)),
    )
    .await;
    for check in checks {
        assert_eq!(
            check.expect("checked").status,
            ActivationStatus::Authenticated
        );
    }
}
