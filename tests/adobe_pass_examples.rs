//! Every documented response body in `spec/adobe-pass/examples/` decodes into the client's
//! types, and re-encodes to the same JSON (so no documented field is silently dropped).

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tve_activate::adobe_pass::types::{
    ActionName, ClientRegistration, Configuration, DcrError, DecisionSource, Decisions,
    EnhancedError, ErrorAction, ErrorCode, LogoutActionName, LogoutActionType, Logouts,
    ProfileType, Profiles, ReasonType, Session, SessionStatus, TokenResponse,
};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/adobe-pass/examples");

fn read(name: &str) -> Value {
    let path = Path::new(EXAMPLES).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Decodes `json` as `T`, re-encodes it and compares, ignoring nulls.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str, json: &Value) -> T {
    let typed: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let again = serde_json::to_value(&typed).expect("encodes");
    assert_eq!(
        without_nulls(&again),
        without_nulls(json),
        "{name} changes on a round trip"
    );
    typed
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Decodes one example into the type its name says.
fn decode(name: &str, json: &Value) {
    let error_status =
        name.ends_with("-400.json") || name.ends_with("-403.json") || name.ends_with("-500.json");
    match name {
        n if n.starts_with("dcr-register-success") => {
            drop(round_trip::<ClientRegistration>(n, json))
        }
        n if n.starts_with("dcr-token-success") => drop(round_trip::<TokenResponse>(n, json)),
        n if n.starts_with("dcr-") => drop(round_trip::<DcrError>(n, json)),
        n if n.starts_with("configuration-") => drop(round_trip::<Configuration>(n, json)),
        n if n.starts_with("sessions-retrieve-") => drop(round_trip::<SessionStatus>(n, json)),
        n if n.starts_with("sessions-") || n.starts_with("partner-sso-sessions-") => {
            drop(round_trip::<Session>(n, json))
        }
        n if n.starts_with("enhanced-error-v2-top-level") => {
            drop(round_trip::<EnhancedError>(n, json))
        }
        n if n.starts_with("profiles-") && error_status => {
            drop(round_trip::<EnhancedError>(n, json))
        }
        n if n.starts_with("profiles-") || n.starts_with("partner-sso-profiles-") => {
            drop(round_trip::<Profiles>(n, json))
        }
        n if n.starts_with("decisions-") || n.starts_with("enhanced-error-v2-item-level") => {
            drop(round_trip::<Decisions>(n, json))
        }
        n if n.starts_with("logout-") => drop(round_trip::<Logouts>(n, json)),
        n => panic!("{n}: no type is known for this example; map it in this test"),
    }
}

#[test]
fn every_example_decodes_into_the_client_types() {
    let mut names: Vec<String> = std::fs::read_dir(EXAMPLES)
        .expect("the examples folder (spec/adobe-pass/examples) exists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "only {} examples found", names.len());
    for name in &names {
        decode(name, &read(name));
    }
}

#[test]
fn session_timestamps_are_strings_of_milliseconds() {
    let session: Session =
        serde_json::from_value(read("sessions-create-authenticate-200.json")).expect("decodes");
    assert_eq!(session.action_name, ActionName::Authenticate);
    assert_eq!(session.reason_type, ReasonType::None);
    assert_eq!(session.not_before, Some(1_733_735_289_035));
    assert_eq!(session.not_after, Some(1_733_737_089_035));
    let integer = serde_json::json!({"actionName":"authenticate","actionType":"interactive",
        "reasonType":"none","sessionId":"s","serviceProvider":"REF30","notAfter":1733737089035_i64});
    assert!(
        serde_json::from_value::<Session>(integer).is_err(),
        "integers are not the documented type"
    );
}

#[test]
fn restricted_values_of_the_examples_are_all_known() {
    let profiles: Profiles =
        serde_json::from_value(read("partner-sso-profiles-apple-sso-201.json")).expect("decodes");
    assert_eq!(profiles.profiles["Cablevision"].kind, ProfileType::AppleSso);
    let profiles: Profiles =
        serde_json::from_value(read("profiles-basic-and-service-token-sso-200.json"))
            .expect("decodes");
    assert!(profiles
        .profiles
        .values()
        .any(|p| p.kind == ProfileType::ServiceTokenSso));
    let logouts: Logouts =
        serde_json::from_value(read("logout-apple-sso-partner-logout-200.json")).expect("decodes");
    let logout = &logouts.logouts["Cablevision"];
    assert_eq!(logout.action_name, LogoutActionName::PartnerLogout);
    assert_eq!(logout.action_type, LogoutActionType::PartnerInteractive);
    let decisions: Decisions = serde_json::from_value(read(
        "decisions-authorize-temppass-basic-duration-limit-exceeded-200.json",
    ))
    .expect("decodes");
    let denied = &decisions.decisions[0];
    assert_eq!(denied.source, DecisionSource::Temppass);
    let error = denied.error.as_ref().expect("item-level error");
    assert_eq!(error.code, ErrorCode::TemporaryAccessDurationLimitExceeded);
    assert_eq!(error.action, ErrorAction::Authentication);
    let session: Session =
        serde_json::from_value(read("partner-sso-sessions-partner-profile-200.json"))
            .expect("decodes");
    assert_eq!(session.action_name, ActionName::PartnerProfile);
    assert_eq!(
        session
            .authentication_request
            .expect("SAML request")
            .attributes_names,
        ["uid", "NameID", "uniqueId"]
    );
    let top: EnhancedError =
        serde_json::from_value(read("enhanced-error-v2-top-level-400.json")).expect("decodes");
    assert_eq!(top.code, ErrorCode::InvalidParameterServiceProvider);
    assert_eq!(
        top.trace.as_deref(),
        Some("12f6fef9-d2e0-422b-a9d7-60d799abe353")
    );
}

#[test]
fn unknown_restricted_values_are_kept() {
    let json = serde_json::json!({"action":"call-home","status":418,"code":"brand_new_code"});
    let error: EnhancedError = serde_json::from_value(json).expect("decodes");
    assert_eq!(error.action, ErrorAction::Other("call-home".into()));
    assert_eq!(error.code, ErrorCode::Other("brand_new_code".into()));
}
