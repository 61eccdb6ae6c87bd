//! The emulator's degradation rules against Adobe's "Degraded access flows" page and §7.1,
//! §8, §9.2 of REST-API-V2.md: AuthNAll (sessions `authorize`/`degraded`, degraded profiles
//! from P2 and P3 only), AuthZAll (permits for signed-in devices) and AuthZNone (denials for
//! signed-in devices), all with `source: degradation`; and the §11 codes with action
//! `authentication` or `configuration` that only fault rules produce.

mod emulator_support;

use emulator_support::{outcomes, Device, Harness, SP};
use reqwest::{Method, StatusCode};
use tve_activate::emulator::{faults::Degradation, Fault, FaultRule, FaultSet};

fn degradation(h: &Harness, mvpd: &str, rule: Degradation, without_profile: bool) {
    h.emulator.state().faults().set(FaultSet {
        rules: vec![FaultRule {
            fault: Fault::Degraded {
                mvpd: mvpd.to_owned(),
                rule,
                without_profile,
            },
            path_prefix: None,
            method: None,
            rate: 1.0,
            times: None,
        }],
    });
}

const FORM: &str = "domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost%2Fdone";

/// AuthNAll: S1 and S2 answer `authorize`/`degraded`; P1 lists no degraded profile, P2 and P3
/// give it; decisions permit with the decision's validity window (the AuthNAll sample).
#[tokio::test]
async fn authn_all_profiles_come_from_p2_and_p3_never_p1() {
    let h = Harness::default().await;
    let tv = Device::new("authn-all");
    let later = Device::new("authn-all-s2");
    let code = {
        let open = h.create_session(&later, FORM).await;
        assert_eq!(open.json()["actionName"], "resume", "{}", open.text);
        open.json()["code"].as_str().expect("code").to_owned()
    };
    degradation(&h, "Cox", Degradation::AuthNAll, false);

    let s1 = h.create_session(&tv, &format!("mvpd=Cox&{FORM}")).await;
    assert_eq!(s1.json()["actionName"], "authorize", "{}", s1.text);
    assert_eq!(s1.json()["reasonType"], "degraded");
    let p1 = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(p1.json()["profiles"], serde_json::json!({}), "{}", p1.text);
    let p2 = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Cox"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(
        p2.json()["profiles"]["Cox"]["type"],
        "degraded",
        "{}",
        p2.text
    );
    let permit = h.decide("authorize", &tv, "Cox", &["REF30"], &[]).await;
    let item = &permit.json()["decisions"][0];
    assert_eq!(item["source"], "degradation", "{}", permit.text);
    assert_eq!(item["authorized"], true);
    assert!(item["token"]["serializedToken"].is_string());
    assert!(
        item["notAfter"].is_i64(),
        "AuthNAll sample: {}",
        permit.text
    );

    let s2 = h
        .api(
            Method::POST,
            &format!("/api/v2/{SP}/sessions/{code}"),
            Some(&later),
            &[],
            Some(("application/x-www-form-urlencoded", "mvpd=Cox".to_owned())),
        )
        .await;
    assert_eq!(s2.json()["actionName"], "authorize", "{}", s2.text);
    assert_eq!(s2.json()["reasonType"], "degraded");
    assert!(s2.json().get("code").is_none(), "{}", s2.text);
    let p3 = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/code/{code}"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(
        p3.json()["profiles"]["Cox"]["type"],
        "degraded",
        "{}",
        p3.text
    );
}

/// AuthZAll: a signed-in device is permitted what its MVPD denies, without decision-level
/// `notBefore`/`notAfter` (the AuthZAll sample); sessions go the basic way; a device with no
/// profile gets the basic `authenticated_profile_missing`, unless `withoutProfile` is set.
#[tokio::test]
async fn authz_all_permits_signed_in_devices_without_asking_the_mvpd() {
    let h = Harness::default().await;
    let tv = Device::new("authz-all");
    let stranger = Device::new("authz-all-stranger");
    h.sign_in(&tv, "Spectrum", "basic").await;
    degradation(&h, "Spectrum", Degradation::AuthZAll, false);

    let permit = h
        .decide("authorize", &tv, "Spectrum", &["premium-sports"], &[])
        .await;
    assert_eq!(permit.status, StatusCode::OK);
    let item = &permit.json()["decisions"][0];
    assert_eq!(item["authorized"], true, "{}", permit.text);
    assert_eq!(item["source"], "degradation");
    assert!(item["token"]["serializedToken"].is_string());
    assert!(
        item.get("notAfter").is_none(),
        "AuthZAll sample: {}",
        permit.text
    );
    let session = h
        .create_session(&stranger, &format!("mvpd=Spectrum&{FORM}"))
        .await;
    assert_eq!(
        session.json()["actionName"],
        "authenticate",
        "{}",
        session.text
    );
    let missing = h
        .decide("authorize", &stranger, "Spectrum", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&missing)[0].2.as_deref(),
        Some("authenticated_profile_missing"),
        "{}",
        missing.text
    );

    degradation(&h, "Spectrum", Degradation::AuthZAll, true);
    let anyone = h
        .decide(
            "preauthorize",
            &stranger,
            "Spectrum",
            &["REF30", "news"],
            &[],
        )
        .await;
    assert!(
        outcomes(&anyone).iter().all(|(_, ok, _)| *ok),
        "{}",
        anyone.text
    );
    assert!(anyone.json()["decisions"][0].get("token").is_none());
}

/// AuthZNone: a signed-in device is denied with `authorization_denied_by_degradation_rule`
/// (403, action none, `source: degradation`); others get the basic flow unless
/// `withoutProfile` is set.
#[tokio::test]
async fn authz_none_denies_signed_in_devices() {
    let h = Harness::default().await;
    let tv = Device::new("authz-none");
    let stranger = Device::new("authz-none-stranger");
    h.sign_in(&tv, "Spectrum", "premium").await;
    degradation(&h, "Spectrum", Degradation::AuthZNone, false);

    let denied = h
        .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
        .await;
    let item = &denied.json()["decisions"][0];
    assert_eq!(item["authorized"], false, "{}", denied.text);
    assert_eq!(item["source"], "degradation");
    assert_eq!(
        item["error"]["code"],
        "authorization_denied_by_degradation_rule"
    );
    assert_eq!(item["error"]["status"], 403);
    assert_eq!(item["error"]["action"], "none");
    let missing = h
        .decide("authorize", &stranger, "Spectrum", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&missing)[0].2.as_deref(),
        Some("authenticated_profile_missing")
    );
    degradation(&h, "Spectrum", Degradation::AuthZNone, true);
    let anyone = h
        .decide("authorize", &stranger, "Spectrum", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&anyone)[0].2.as_deref(),
        Some("authorization_denied_by_degradation_rule")
    );
}

/// §11: the re-authentication codes (action `authentication`, 403) and the
/// `invalid_configuration_*` codes (action `configuration`, 500) can be injected, at top level
/// and inside decision items.
#[tokio::test]
async fn reauthentication_and_configuration_codes_can_be_injected() {
    let h = Harness::default().await;
    let tv = Device::new("codes");
    h.sign_in(&tv, "Spectrum", "premium").await;
    let code = |name: &str| serde_json::from_value(serde_json::json!(name)).expect("known code");
    let set = |fault: Fault| {
        h.emulator.state().faults().set(FaultSet {
            rules: vec![FaultRule {
                fault,
                path_prefix: Some(format!("/api/v2/{SP}/decisions/")),
                method: None,
                rate: 1.0,
                times: None,
            }],
        })
    };
    for name in [
        "authorization_denied_by_hba_policies",
        "authorization_denied_by_session_invalidated",
        "identity_not_recognized_by_mvpd",
    ] {
        set(Fault::ItemError { code: code(name) });
        let item = h
            .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
            .await;
        let error = &item.json()["decisions"][0]["error"];
        assert_eq!(error["code"], name, "{}", item.text);
        assert_eq!(error["action"], "authentication");
        assert_eq!(error["status"], 403);
        set(Fault::Enhanced { code: code(name) });
        let top = h
            .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
            .await;
        assert_eq!(top.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(top.json()["action"], "authentication");
    }
    for name in [
        "invalid_configuration_user_metadata_certificate",
        "invalid_configuration_platform",
        "invalid_configuration_platform_id",
        "invalid_configuration_platform_trait",
        "invalid_configuration_platform_category_trait",
        "invalid_configuration_platform_services",
        "invalid_configuration_mvpd_platform",
        "invalid_configuration_mvpd_platform_boarding_status",
        "invalid_configuration_mvpd_platform_profile_exchange",
    ] {
        set(Fault::Enhanced { code: code(name) });
        let top = h
            .decide("authorize", &tv, "Spectrum", &["REF30"], &[])
            .await;
        assert_eq!(top.status, StatusCode::INTERNAL_SERVER_ERROR, "{name}");
        assert_eq!(top.json()["code"], name);
        assert_eq!(top.json()["action"], "configuration");
    }
}
