//! The emulated world: the service provider, its MVPDs, resources and subscriber accounts.
//! The default is built in; a JSON data file (same shape, camelCase) replaces it.

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize};

use crate::emulator::responses::Domain;

/// Everything the emulator knows about the programmer and its MVPDs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dataset {
    /// The one service provider (requestor) served.
    pub service_provider: ServiceProvider,
    /// Resource ids the programmer offers.
    pub resources: Vec<String>,
    /// MVPDs integrated with the service provider.
    pub mvpds: Vec<MvpdEntry>,
    /// Subscriber accounts, valid on every non-TempPass MVPD.
    pub accounts: Vec<Account>,
}

/// The service provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceProvider {
    /// Requestor id, for example `REF30`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Registered domains.
    pub domains: Vec<Domain>,
}

/// One MVPD and how it behaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MvpdEntry {
    /// MVPD id.
    pub id: String,
    /// Brand name.
    pub display_name: String,
    /// Logo URL; absent means the emulator's own `/mvpd-logos/<id>.svg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Shown in the Apple picker (absent: not stated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_in_platform_picker: Option<bool>,
    /// Apple `accountProviderIdentifier`; partner SSO needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_mapping_id: Option<String>,
    /// Partner (Apple) SSO enabled.
    #[serde(default)]
    pub enable_platform_services: bool,
    /// The MVPD has a logout endpoint (logout answers `logout`/`interactive`).
    #[serde(default)]
    pub has_logout_endpoint: bool,
    /// Present for TempPass pseudo-MVPDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_pass: Option<TempPassRules>,
    /// Most resources one preauthorization call may name for this MVPD (absent: 5, Adobe's
    /// usual limit; "changed after agreeing with MVPDs", S2S cookbook Step 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preauthorize_limit: Option<usize>,
    /// The platform types the MVPD is boarded on (absent: every platform); C1 lists it only
    /// to devices on one of them (configuration is per platform type, Configuration FAQ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<Platform>>,
}

/// A platform type, as told by `X-Device-Info`: a device is on it when every field given
/// here equals the device's (case-insensitive); absent fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Platform {
    /// For example `TV`, `SetTopBox`, `MobilePhone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_hardware_type: Option<String>,
    /// For example `Android`, `Linux`, `tvOS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// For example `Android`, `Tizen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// For example `Amazon`, `Samsung`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_vendor: Option<String>,
}

impl Platform {
    /// Whether a device with this `X-Device-Info` is on this platform.
    pub fn includes(&self, info: &serde_json::Map<String, serde_json::Value>) -> bool {
        [
            ("primaryHardwareType", &self.primary_hardware_type),
            ("osName", &self.os_name),
            ("osFamily", &self.os_family),
            ("osVendor", &self.os_vendor),
        ]
        .into_iter()
        .all(|(key, wanted)| {
            wanted.as_deref().is_none_or(|wanted| {
                info.get(key)
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|value| value.trim().eq_ignore_ascii_case(wanted.trim()))
            })
        })
    }
}

/// An application registered for some platforms only, with a software statement of its own
/// (TVE Dashboard, "Registered applications": Adobe advises narrow applications).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformApplication {
    /// The statement DCR takes for it.
    pub software_statement: String,
    /// The platforms whose devices may register with it.
    pub platforms: Vec<Platform>,
}

impl MvpdEntry {
    /// Whether the MVPD is boarded on the platform of a device with this `X-Device-Info`.
    pub fn boarded_on(&self, info: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.platforms
            .as_ref()
            .is_none_or(|platforms| platforms.iter().any(|platform| platform.includes(info)))
    }
}

/// TempPass limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TempPassRules {
    /// Basic (per device) or promotional (per device and identity, resource-limited).
    pub kind: TempPassKind,
    /// Wall-clock seconds from the first use.
    pub duration_seconds: u64,
    /// Promotional only: how many distinct resources may be authorized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resources: Option<usize>,
}

/// The two TempPass flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TempPassKind {
    /// Time-boxed per device.
    Basic,
    /// Time- and resource-boxed per device and `AP-TempPass-Identity`.
    Promotional,
}

/// A subscriber account, valid on every regular MVPD.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    /// Login name.
    pub username: String,
    /// Password (test data, compared as is).
    pub password: String,
    /// ZIP code, sent encrypted when a programmer key is configured.
    pub zip: String,
    /// Extra plain user metadata (for example `maxRating`).
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Resources this account may not watch, and who says no.
    #[serde(default)]
    pub denied: BTreeMap<String, Denial>,
}

/// Who denies a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Denial {
    /// The subscription package does not include it.
    Mvpd,
    /// Parental controls block it.
    ParentalControls,
}

/// A data file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a dataset.
    #[error("{path} is not a valid dataset: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The dataset contradicts itself.
    #[error("invalid dataset: {0}")]
    Invalid(String),
}

impl Dataset {
    /// Reads and checks a JSON data file.
    pub fn from_file(path: &Path) -> Result<Self, DatasetError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Read {
            path: shown.clone(),
            source,
        })?;
        let dataset: Self = serde_json::from_str(&text).map_err(|source| DatasetError::Parse {
            path: shown,
            source,
        })?;
        dataset.check()?;
        Ok(dataset)
    }

    /// Rejects duplicate MVPD ids, TempPass rules that cannot work and user metadata in a
    /// shape Adobe does not document.
    pub fn check(&self) -> Result<(), DatasetError> {
        for account in &self.accounts {
            for (name, value) in &account.attributes {
                check_attribute(name, value).map_err(|shape| {
                    DatasetError::Invalid(format!(
                        "account {}: attribute {name} must be {shape}",
                        account.username
                    ))
                })?;
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for mvpd in &self.mvpds {
            if !seen.insert(mvpd.id.as_str()) {
                return Err(DatasetError::Invalid(format!(
                    "MVPD {} appears twice",
                    mvpd.id
                )));
            }
            if mvpd.preauthorize_limit == Some(0) {
                return Err(DatasetError::Invalid(format!(
                    "MVPD {} has a zero preauthorizeLimit",
                    mvpd.id
                )));
            }
            if let Some(rules) = &mvpd.temp_pass {
                if rules.duration_seconds == 0 {
                    return Err(DatasetError::Invalid(format!(
                        "TempPass {} has a zero duration",
                        mvpd.id
                    )));
                }
                if rules.kind == TempPassKind::Promotional && rules.max_resources.is_none() {
                    return Err(DatasetError::Invalid(format!(
                        "promotional TempPass {} needs maxResources",
                        mvpd.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// The MVPD with this id.
    pub fn mvpd(&self, id: &str) -> Option<&MvpdEntry> {
        self.mvpds.iter().find(|m| m.id == id)
    }

    /// The account with these credentials.
    pub fn account(&self, username: &str, password: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.username == username && a.password == password)
    }

    /// The account with this username.
    pub fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.username == username)
    }
}

/// Checks a user metadata value against the type `user-metadata.md` gives its key (keys it
/// does not list may hold anything); the error names the documented shape.
fn check_attribute(name: &str, value: &serde_json::Value) -> Result<(), &'static str> {
    use serde_json::Value;
    let strings = |value: &Value| {
        value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string))
    };
    let fits = match name {
        "userID" | "upstreamUserID" | "householdID" | "primaryOID" | "typeID" | "is_hoh"
        | "language" | "encryptedZip" => value.is_string(),
        "hba_status" | "allowMirroring" => {
            value.is_boolean() || matches!(value.as_str(), Some("true" | "false"))
        }
        "zip" | "channelID" => strings(value),
        "maxRating" => {
            return value
                .as_object()
                .filter(|object| {
                    object
                        .keys()
                        .all(|key| ["MPAA", "VCHIP", "URL"].contains(&key.as_str()))
                        && object.values().all(Value::is_string)
                        && (object.contains_key("MPAA") || object.contains_key("VCHIP"))
                })
                .map(|_| ())
                .ok_or(r#"an object {"MPAA": …, "VCHIP": …, "URL": …} of strings"#);
        }
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(match name {
            "zip" | "channelID" => "an array of strings",
            "hba_status" | "allowMirroring" => "a boolean",
            _ => "a string",
        })
    }
}

/// A regular MVPD, for the default dataset.
fn regular(id: &str, display_name: &str) -> MvpdEntry {
    MvpdEntry {
        id: id.to_owned(),
        display_name: display_name.to_owned(),
        logo_url: None,
        display_in_platform_picker: Some(true),
        platform_mapping_id: None,
        enable_platform_services: false,
        has_logout_endpoint: true,
        temp_pass: None,
        preauthorize_limit: None,
        platforms: None,
    }
}

/// The ids of the MVPDs in the default dataset (each has a logo in `public/mvpd-logos/`).
pub const DEFAULT_MVPD_IDS: [&str; 15] = [
    "Cablevision",
    "Spectrum",
    "Comcast_SSO",
    "DTV",
    "Dish",
    "Cox",
    "Verizon",
    "Frontier",
    "Mediacom",
    "Sling",
    "HarborFiber",
    "PrairieWave",
    "Emulator_TEST",
    "TempPass_TEST40",
    "flexibleTempPass",
];

impl Default for Dataset {
    /// The documented default: service provider `REF30`, 15 MVPDs, four resources and the
    /// `premium`, `basic` and `kids` accounts.
    fn default() -> Self {
        let mut mvpds = vec![
            MvpdEntry {
                platform_mapping_id: Some("Cablevision".to_owned()),
                enable_platform_services: true,
                ..regular("Cablevision", "Optimum")
            },
            MvpdEntry {
                platform_mapping_id: Some("Spectrum".to_owned()),
                ..regular("Spectrum", "Spectrum")
            },
            regular("Comcast_SSO", "Xfinity"),
            regular("DTV", "DIRECTV"),
            MvpdEntry {
                has_logout_endpoint: false,
                ..regular("Dish", "DISH")
            },
            regular("Cox", "Cox"),
            regular("Verizon", "Fios by Verizon"),
            regular("Frontier", "Frontier"),
            regular("Mediacom", "Mediacom"),
            MvpdEntry {
                has_logout_endpoint: false,
                ..regular("Sling", "Sling TV")
            },
            MvpdEntry {
                display_in_platform_picker: Some(false),
                ..regular("HarborFiber", "Harbor Fiber")
            },
            regular("PrairieWave", "Prairie Wave Cable"),
            MvpdEntry {
                display_in_platform_picker: Some(false),
                has_logout_endpoint: false,
                ..regular("Emulator_TEST", "Emulator Test Provider")
            },
        ];
        mvpds.push(MvpdEntry {
            display_in_platform_picker: Some(false),
            has_logout_endpoint: false,
            temp_pass: Some(TempPassRules {
                kind: TempPassKind::Basic,
                duration_seconds: 180,
                max_resources: None,
            }),
            ..regular("TempPass_TEST40", "TempPass (3 minutes)")
        });
        mvpds.push(MvpdEntry {
            display_in_platform_picker: Some(false),
            has_logout_endpoint: false,
            temp_pass: Some(TempPassRules {
                kind: TempPassKind::Promotional,
                duration_seconds: 3600,
                max_resources: Some(2),
            }),
            ..regular("flexibleTempPass", "Flexible TempPass")
        });
        let account = |name: &str, zip: &str| Account {
            username: name.to_owned(),
            password: name.to_owned(),
            zip: zip.to_owned(),
            attributes: BTreeMap::new(),
            denied: BTreeMap::new(),
        };
        let premium = account("premium", "10001");
        let mut basic = account("basic", "60601");
        basic
            .denied
            .insert("premium-sports".to_owned(), Denial::Mvpd);
        let mut kids = account("kids", "94105");
        // `user-metadata.md`: the highest MPAA and V-chip ratings, and where to change them.
        kids.attributes.insert(
            "maxRating".to_owned(),
            serde_json::json!({
                "MPAA": "PG",
                "VCHIP": "TV-PG",
                "URL": "https://parental.example/kids",
            }),
        );
        kids.denied
            .insert("mature-movies".to_owned(), Denial::ParentalControls);
        Self {
            service_provider: ServiceProvider {
                id: "REF30".to_owned(),
                name: "Reference Programmer".to_owned(),
                domains: ["localhost", "127.0.0.1"]
                    .map(|name| Domain {
                        name: name.to_owned(),
                        mvpd_initiated: false,
                    })
                    .to_vec(),
            },
            resources: ["REF30", "news", "premium-sports", "mature-movies"]
                .map(str::to_owned)
                .to_vec(),
            mvpds,
            accounts: vec![premium, basic, kids],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `user-metadata.md`: `maxRating` is an object `{ MPAA, VCHIP, URL }`, `zip` an array.
    #[test]
    fn user_metadata_must_have_the_documented_shape() {
        let mut dataset = Dataset::default();
        for (name, wrong) in [
            ("maxRating", serde_json::json!(["TV-Y", "TV-G"])),
            ("maxRating", serde_json::json!("TV-PG")),
            ("maxRating", serde_json::json!({"URL": "https://x/"})),
            ("maxRating", serde_json::json!({"VCHIP": 14})),
            ("zip", serde_json::json!("10001")),
            ("userID", serde_json::json!(7)),
        ] {
            dataset.accounts[0]
                .attributes
                .insert(name.to_owned(), wrong.clone());
            let error = dataset.check().expect_err("refused").to_string();
            assert!(error.contains(name), "{name} {wrong}: {error}");
            dataset.accounts[0].attributes.remove(name);
        }
        let kids = dataset.account_named("kids").expect("kids");
        assert_eq!(kids.attributes["maxRating"]["VCHIP"], "TV-PG");
        assert_eq!(kids.attributes["maxRating"]["MPAA"], "PG");
    }

    #[test]
    fn default_dataset_is_consistent_and_lists_the_default_mvpds() {
        let dataset = Dataset::default();
        dataset.check().expect("default dataset is valid");
        let ids: Vec<_> = dataset.mvpds.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, DEFAULT_MVPD_IDS);
    }

    #[test]
    fn duplicate_mvpd_ids_are_rejected() {
        let mut dataset = Dataset::default();
        dataset.mvpds.push(dataset.mvpds[0].clone());
        assert!(dataset.check().is_err());
    }
}
