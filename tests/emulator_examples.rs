//! Every documented body in `spec/adobe-pass/examples/` deserializes into the emulator's
//! response types.

mod emulator_support;

use serde::de::DeserializeOwned;
use tve_activate::emulator::{errors::EnhancedError, responses::*};

fn parses<T: DeserializeOwned>(name: &str, text: &str) {
    if let Err(e) = serde_json::from_str::<T>(text) {
        panic!(
            "{name} does not deserialize into {}: {e}",
            std::any::type_name::<T>()
        );
    }
}

#[test]
fn every_documented_example_deserializes_into_the_emulator_types() {
    let folder = format!("{}/examples", emulator_support::openapi::SHARED);
    let mut count = 0;
    for entry in std::fs::read_dir(&folder).expect("examples folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let error_status = ["-400.json", "-403.json", "-500.json"]
            .iter()
            .any(|s| name.ends_with(s));
        match name.as_str() {
            n if n.starts_with("dcr-") && error_status => parses::<DcrError>(n, &text),
            n if n.starts_with("dcr-register") => parses::<ClientApplication>(n, &text),
            n if n.starts_with("dcr-token") => parses::<AccessTokenResponse>(n, &text),
            n if error_status => parses::<EnhancedError>(n, &text),
            n if n.starts_with("configuration") => parses::<ConfigurationResponse>(n, &text),
            n if n.starts_with("sessions-retrieve") => parses::<SessionStatusResponse>(n, &text),
            n if n.starts_with("sessions-") || n.starts_with("partner-sso-sessions") => {
                parses::<SessionResponse>(n, &text)
            }
            n if n.starts_with("profiles-") || n.starts_with("partner-sso-profiles") => {
                parses::<ProfilesResponse>(n, &text)
            }
            n if n.starts_with("decisions-") || n == "enhanced-error-v2-item-level-200.json" => {
                parses::<DecisionsResponse>(n, &text)
            }
            n if n.starts_with("logout-") => parses::<LogoutResponse>(n, &text),
            n => panic!("no response type for example {n}"),
        }
        count += 1;
    }
    assert!(count >= 60, "only {count} examples found in {folder}");
}
