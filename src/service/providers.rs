//! Providers (MVPDs) for the pickers: Adobe's configuration, kept about two minutes per
//! platform type, filtered (no TempPass, no provider the configuration hides) and ordered with the
//! featured ones first. `displayInPlatformPicker` is about Apple's own picker (§6), not ours,
//! so it hides nothing here.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

use moka::sync::Cache;

use serde::{Deserialize, Serialize};

use super::{DeviceSession, Service, ServiceError};
use crate::adobe_pass::{types::Mvpd, DeviceInfo};

/// A provider as pickers show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// MVPD id.
    pub id: String,
    /// Brand name.
    pub display_name: String,
    /// Logo, when Adobe has one.
    pub logo_url: Option<String>,
    /// While an operator says its sign-in is having trouble: the notice by language (empty
    /// for the site's own words).
    pub notice: Option<BTreeMap<String, String>>,
}

/// The providers to offer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderList {
    /// Shown first, as tiles, in the configured order.
    pub featured: Vec<Provider>,
    /// Every provider that may be picked, by name.
    pub all: Vec<Provider>,
}

impl ProviderList {
    /// The provider with this id.
    pub fn find(&self, id: &str) -> Option<&Provider> {
        self.all.iter().find(|p| p.id == id)
    }
}

/// Which providers pickers show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderFilter {
    /// Ids or patterns (`*` matches any run of characters, case-insensitive) to hide, such as
    /// test and in-development integrations ([`DEFAULT_HIDDEN_PROVIDERS`] unless configured).
    pub hidden: Vec<String>,
    /// Ids shown first, in this order.
    pub featured: Vec<String>,
}

/// Hidden unless configured otherwise: Adobe's and the emulator's test integrations, named
/// `<Something>_TEST<…>` (`Emulator_TEST`, `TempPass_TEST40`).
pub const DEFAULT_HIDDEN_PROVIDERS: &str = "*_TEST*";

impl ProviderFilter {
    fn is_hidden(&self, mvpd: &Mvpd) -> bool {
        mvpd.is_temp_pass == Some(true)
            || self.hidden.iter().any(|pattern| matches(pattern, &mvpd.id))
    }

    /// The filtered, ordered list.
    pub fn apply(&self, mvpds: &[Mvpd]) -> ProviderList {
        let mut all: Vec<Provider> = mvpds
            .iter()
            .filter(|mvpd| !self.is_hidden(mvpd))
            .map(|mvpd| Provider {
                id: mvpd.id.clone(),
                display_name: mvpd.display_name.clone().unwrap_or_else(|| mvpd.id.clone()),
                logo_url: mvpd.logo_url.clone(),
                notice: None,
            })
            .collect();
        all.sort_by_key(|p| p.display_name.to_lowercase());
        let featured = self
            .featured
            .iter()
            .filter_map(|id| all.iter().find(|p| &p.id == id).cloned())
            .collect();
        ProviderList { featured, all }
    }
}

/// Case-insensitive match with `*` as a wildcard.
fn matches(pattern: &str, id: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let id = id.to_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = id.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[derive(Debug)]
struct Cached {
    fetched: SystemTime,
    mvpds: Vec<Mvpd>,
}

/// The platform type Adobe derives from the device information, as far as the service can
/// tell: hardware type, OS name, OS family and OS vendor (trimmed, case-insensitive). Android
/// TV and Fire TV (both `osName` Android), or a Linux TV and a Linux set-top box, differ.
type PlatformType = [String; 4];

fn platform_type(info: &DeviceInfo) -> PlatformType {
    [
        info.primary_hardware_type.as_deref(),
        Some(info.os_name.as_str()),
        info.os_family.as_deref(),
        info.os_vendor.as_deref(),
    ]
    .map(|part| part.unwrap_or_default().trim().to_lowercase())
}

/// The TempPass MVPDs' ids, in Adobe's order.
pub(super) fn temp_pass_ids(mvpds: &[Mvpd]) -> Vec<String> {
    mvpds
        .iter()
        .filter(|m| m.is_temp_pass == Some(true))
        .map(|m| m.id.clone())
        .collect()
}

/// Platform types kept at most (devices name their own, so the key space is theirs); past it
/// the least used go, one at a time, so a flood of made-up platforms cannot empty the cache of
/// the real ones.
const MOST_PLATFORMS: u64 = 1_024;

/// Adobe's MVPD lists by platform type (Adobe answers per platform type).
#[derive(Debug)]
pub(super) struct ConfigurationCache {
    entries: Cache<PlatformType, Arc<Cached>>,
}

impl Default for ConfigurationCache {
    fn default() -> Self {
        Self {
            entries: Cache::new(MOST_PLATFORMS),
        }
    }
}

impl ConfigurationCache {
    /// The TempPass MVPD ids of the last configuration answer for the device's platform type,
    /// however old.
    pub(super) fn last_temp_passes(&self, info: &DeviceInfo) -> Option<Vec<String>> {
        self.entries
            .get(&platform_type(info))
            .map(|cached| temp_pass_ids(&cached.mvpds))
    }
}

impl Service {
    /// Every MVPD integrated for this device's platform type, unfiltered (from cache when
    /// fresh).
    pub(super) async fn mvpds(&self, session: &DeviceSession) -> Result<Vec<Mvpd>, ServiceError> {
        let now = self.inner.clock.now();
        let ttl: Duration = self.inner.settings.configuration_ttl;
        let fresh = |cached: &Cached| {
            now.duration_since(cached.fetched)
                .is_ok_and(|age| age < ttl)
        };
        let platform = platform_type(&session.info);
        if let Some(cached) = self
            .inner
            .providers
            .entries
            .get(&platform)
            .filter(|c| fresh(c))
        {
            return Ok(cached.mvpds.clone());
        }
        let configuration = self
            .inner
            .adobe
            .configuration(&session.identity, None)
            .await?;
        let mvpds = configuration.requestor.mvpds;
        self.inner.providers.entries.insert(
            platform,
            Arc::new(Cached {
                fetched: now,
                mvpds: mvpds.clone(),
            }),
        );
        Ok(mvpds)
    }

    /// The providers a viewer may pick for this device, as operators' states make them:
    /// hidden ones left out, the others with their notice.
    pub async fn providers(&self, session: &DeviceSession) -> Result<ProviderList, ServiceError> {
        let mvpds = self.mvpds(session).await?;
        let list = self.inner.settings.providers.apply(&mvpds);
        let states = self.provider_states().await?;
        Ok(super::provider_states::apply(
            list,
            &states,
            self.now_millis(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mvpd(json: serde_json::Value) -> Mvpd {
        serde_json::from_value(json).expect("mvpd")
    }

    /// Devices name their own platform: a flood of made-up ones pushes out the least used,
    /// never the platform every TV of the deployment uses (the old cache emptied itself).
    #[test]
    fn made_up_platforms_do_not_push_out_the_one_in_use() {
        let cache = ConfigurationCache::default();
        let platform = |os_name: &str| DeviceInfo {
            os_name: os_name.to_owned(),
            ..DeviceInfo::default()
        };
        let roku = platform("Roku");
        let listed = |id: &str| Cached {
            fetched: SystemTime::now(),
            mvpds: vec![mvpd(serde_json::json!({"id": id, "isTempPass": true}))],
        };
        cache
            .entries
            .insert(platform_type(&roku), Arc::new(listed("TempPass_TEST40")));
        for n in 0..4 * MOST_PLATFORMS {
            assert!(cache.last_temp_passes(&roku).is_some(), "lost after {n}");
            cache.entries.insert(
                platform_type(&platform(&format!("made-up {n}"))),
                Arc::new(listed("x")),
            );
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() <= MOST_PLATFORMS);
        assert_eq!(
            cache.last_temp_passes(&roku),
            Some(vec!["TempPass_TEST40".to_owned()])
        );
    }

    #[test]
    fn the_default_hides_test_integrations_only() {
        for (id, hidden) in [
            ("Emulator_TEST", true),
            ("TempPass_TEST40", true),
            ("Adobe_test_mvpd", true),
            ("Spectrum", false),
            ("Contest_Cable", false),
        ] {
            assert_eq!(matches(DEFAULT_HIDDEN_PROVIDERS, id), hidden, "{id}");
        }
    }

    #[test]
    fn patterns_match_ids_case_insensitively() {
        assert!(matches("TempPass*", "TempPass_TEST40"));
        assert!(matches("*test*", "Adobe_TEST_Mvpd"));
        assert!(matches("spectrum", "Spectrum"));
        assert!(!matches("spectrum", "Spectrum2"));
        assert!(matches("*", "anything"));
        assert!(!matches("a*b", "ac"));
    }

    /// §6: `isTempPass` marks the TempPass pseudo-MVPD; `displayInPlatformPicker` is about
    /// Apple's picker and hides nothing from ours.
    #[test]
    fn filter_hides_temppass_and_configured_then_features() {
        let mvpds = vec![
            mvpd(serde_json::json!({"id": "Spectrum", "displayName": "Spectrum"})),
            mvpd(serde_json::json!({"id": "Cablevision", "displayName": "Optimum"})),
            mvpd(serde_json::json!({"id": "Promo", "isTempPass": true})),
            mvpd(
                serde_json::json!({"id": "Harbor", "displayName": "Harbor", "displayInPlatformPicker": false}),
            ),
            mvpd(serde_json::json!({"id": "Adobe_Test", "displayName": "Test"})),
        ];
        let filter = ProviderFilter {
            hidden: vec!["*test".to_owned()],
            featured: vec!["Spectrum".to_owned(), "Nope".to_owned()],
        };
        let list = filter.apply(&mvpds);
        let ids: Vec<&str> = list.all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["Harbor", "Cablevision", "Spectrum"],
            "sorted by display name"
        );
        assert_eq!(list.featured.len(), 1);
        assert_eq!(list.featured[0].id, "Spectrum");
    }

    fn info(hardware: &str, os_name: &str, os_vendor: Option<&str>) -> DeviceInfo {
        serde_json::from_value(serde_json::json!({
            "primaryHardwareType": hardware, "model": "m", "version": "1", "osName": os_name,
            "osVendor": os_vendor, "osVersion": "1", "connectionType": "WiFi"
        }))
        .expect("device info")
    }

    /// Configuration FAQ 4-5: Adobe answers per platform type, derived from the device
    /// information, not per `osName`.
    #[test]
    fn the_platform_type_is_more_than_the_os_name() {
        let tv = platform_type(&info("TV", "Linux", None));
        assert_ne!(tv, platform_type(&info("SetTopBox", "Linux", None)));
        assert_ne!(
            platform_type(&info("TV", "Android", Some("Amazon"))),
            platform_type(&info("TV", "Android", Some("Google")))
        );
        assert_eq!(tv, platform_type(&info(" tv", "LINUX", None)));
    }
}
