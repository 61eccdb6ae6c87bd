//! What S1 and S2 may answer besides the usual `resume` then `authenticate` (REST-API-V2.md
//! §7.1–§7.3): S2 `retry` with `missingParameters` (supplied, and S2 sent again), and S1
//! `authenticate` when Adobe defaults the redirect URL (the code still works).

mod common;

use std::net::{IpAddr, SocketAddr};

use tve_activate::{
    emulator::{Fault, FaultRule, FaultSet, RunningEmulator},
    service::{DeviceSession, Service, StartOutcome, StartedActivation},
    store::ActivationStatus,
};

const VIEWER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 22));

/// A registered TV's session and an activation it started with Spectrum.
async fn tv_activation(service: &Service, device_id: &str) -> (DeviceSession, StartedActivation) {
    let tv: SocketAddr = "203.0.113.41:40000".parse().expect("address");
    let (_, session) = common::tv_session(service, device_id, tv).await;
    let StartOutcome::Started(started) = service
        .start_activation(&session, Some("Spectrum"))
        .await
        .expect("started")
    else {
        panic!("not signed in yet");
    };
    (session, started)
}

fn domain_name(emulator: &RunningEmulator, code: &str) -> Option<String> {
    let store = emulator.state().store();
    store.sessions.get(code).and_then(|s| s.domain_name.clone())
}

/// §7.3: S2 answers `retry` while parameters are still missing; the phone's sign-in gives
/// what `missingParameters` names (here the domain, which Adobe lost) and resumes again.
#[tokio::test]
async fn a_retry_is_answered_with_the_missing_parameters() {
    let (state, emulator) = common::state(&[]).await;
    let emulator = emulator.expect("embedded emulator");
    let service = state.service.clone();
    let (_, started) = tv_activation(&service, "tv-s2-retry").await;
    if let Some(session) = emulator.state().store().sessions.get_mut(&started.code) {
        session.domain_name = None;
    }
    let authenticate = service
        .start_sign_in(&started.code, "Spectrum", VIEWER)
        .await
        .expect("sign-in after a retry")
        .expect("pending");
    assert!(
        authenticate.path().ends_with(&started.code),
        "{authenticate}"
    );
    assert_eq!(
        domain_name(&emulator, &started.code).as_deref(),
        Some(service.settings().domain_name.as_str()),
        "the second S2 supplied the domain"
    );
}

/// §7.2: a device may leave parameters out of S1; if Adobe defaults the redirect URL, S1
/// answers `authenticate` with a code instead of `resume`, and the activation still works
/// (the phone's browser ends at Adobe's default, and the watcher's polling finds the sign-in).
#[tokio::test]
async fn an_s1_that_answers_authenticate_still_activates() {
    let (state, emulator) = common::state(&[]).await;
    let emulator = emulator.expect("embedded emulator");
    emulator.state().faults().set(FaultSet {
        rules: vec![FaultRule {
            fault: Fault::DefaultRedirect {
                url: "https://localhost/done".to_owned(),
            },
            path_prefix: None,
            method: None,
            rate: 1.0,
            times: None,
        }],
    });
    let service = state.service.clone();
    let (session, started) = tv_activation(&service, "tv-s1-authenticate").await;
    {
        let store = emulator.state().store();
        let at_adobe = store.sessions.get(&started.code).expect("session");
        assert_eq!(
            at_adobe.redirect_url.as_deref(),
            Some("https://localhost/done")
        );
    }
    let authenticate = service
        .start_sign_in(&started.code, "Spectrum", VIEWER)
        .await
        .expect("sign-in")
        .expect("pending");
    common::provider_login(authenticate.as_str(), "premium").await;
    let view = service
        .confirm_activation(&started.code, VIEWER)
        .await
        .expect("confirmed");
    assert_eq!(view.status, ActivationStatus::Authenticated);
    assert!(service.profile(&session).await.expect("profile").is_some());
}
