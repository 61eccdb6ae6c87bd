//! C1 configuration (§6): the MVPDs integrated with the service provider, for this platform type.

use serde::{Deserialize, Serialize};

/// The answer of C1. The DOC sample and the OAS nest `mvpds` inside `requestor`, the canonical
/// shape; the API page's table puts it beside `requestor`, so an answer of that shape is read
/// into `requestor.mvpds` too.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "ConfigurationAnswer")]
pub struct Configuration {
    /// Adobe's view of the device type.
    #[serde(default)]
    pub device: Option<String>,
    /// Client type, for example `html5`.
    #[serde(default)]
    pub client_type: Option<String>,
    /// Operating system.
    #[serde(default)]
    pub os: Option<String>,
    /// OAS only.
    #[serde(default)]
    pub platform_category: Option<String>,
    /// The service provider and its MVPDs.
    pub requestor: Requestor,
}

/// C1 as it may arrive: `mvpds` in `requestor` or beside it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationAnswer {
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    client_type: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    platform_category: Option<String>,
    #[serde(default)]
    requestor: Requestor,
    #[serde(default)]
    mvpds: Vec<Mvpd>,
}

impl From<ConfigurationAnswer> for Configuration {
    fn from(answer: ConfigurationAnswer) -> Self {
        let mut requestor = answer.requestor;
        if requestor.mvpds.is_empty() {
            requestor.mvpds = answer.mvpds;
        }
        Self {
            device: answer.device,
            client_type: answer.client_type,
            os: answer.os,
            platform_category: answer.platform_category,
            requestor,
        }
    }
}

/// The service provider (`ProgrammerType`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requestor {
    /// Requestor id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Registered domains.
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// MVPDs with an active integration.
    #[serde(default)]
    pub mvpds: Vec<Mvpd>,
}

/// A registered domain.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// Domain name.
    pub name: String,
    /// Whether MVPD-initiated login is allowed.
    #[serde(default)]
    pub mvpd_initiated: Option<bool>,
}

/// An MVPD (`MvpdType`); every field but `id` may be absent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mvpd {
    /// MVPD id, used in every later call.
    pub id: String,
    /// Brand name for the picker.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Logo URL.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// A TempPass pseudo-MVPD.
    #[serde(default)]
    pub is_temp_pass: Option<bool>,
    /// A proxied MVPD.
    #[serde(default)]
    pub is_proxy: Option<bool>,
    /// Onboarding status for platform SSO.
    #[serde(default)]
    pub boarding_status: Option<String>,
    /// The platform's id for this MVPD.
    #[serde(default)]
    pub platform_mapping_id: Option<String>,
    /// Platform SSO is enabled.
    #[serde(default)]
    pub enable_platform_services: Option<bool>,
    /// May be shown in the platform picker.
    #[serde(default)]
    pub display_in_platform_picker: Option<bool>,
    /// The device must enforce the platform's permissions.
    #[serde(default)]
    pub enforce_platform_permissions: Option<bool>,
    /// Undocumented flag.
    #[serde(default)]
    pub auth_per_aggregator: Option<bool>,
    /// Undocumented flag.
    #[serde(default)]
    pub auth_per_browser_session: Option<bool>,
    /// Undocumented flag.
    #[serde(default)]
    pub passive_authn_enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mvpds_are_read_inside_or_beside_the_requestor() {
        let nested: Configuration = serde_json::from_value(serde_json::json!({
            "requestor": {"id": "REF30", "mvpds": [{"id": "Cablevision"}]}
        }))
        .expect("the sample's shape");
        let beside: Configuration = serde_json::from_value(serde_json::json!({
            "requestor": {"id": "REF30"},
            "mvpds": [{"id": "Cablevision"}]
        }))
        .expect("the table's shape");
        for configuration in [nested, beside] {
            let ids: Vec<&str> = configuration
                .requestor
                .mvpds
                .iter()
                .map(|m| m.id.as_str())
                .collect();
            assert_eq!(ids, ["Cablevision"]);
        }
    }
}
