//! The degradation rules applied through the Degradation API: one per integration (the
//! emulator's service provider and an MVPD), each in force until its end time, after which it
//! lapses by itself (Adobe: "A degradation rule is applied only for a fixed period of time").

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use serde::Serialize;

use crate::emulator::faults::Degradation;

/// A rule in force, as the Degradation API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedRule {
    /// The service provider of the integration.
    pub service_provider: String,
    /// The MVPD of the integration.
    pub mvpd: String,
    /// Which rule.
    pub rule: Degradation,
    /// When it was applied, epoch ms.
    pub applied_at: i64,
    /// When it lapses, epoch ms.
    pub expires_at: i64,
}

impl AppliedRule {
    /// Whether the rule is in force at `now`.
    pub fn in_force(&self, now: i64) -> bool {
        self.applied_at <= now && now < self.expires_at
    }
}

/// The rules, by MVPD; lapsed rules are dropped as they are met.
#[derive(Debug, Default)]
pub struct DegradationRules(Mutex<BTreeMap<String, AppliedRule>>);

impl DegradationRules {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, AppliedRule>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `rule` to its MVPD, replacing the rule in force there (one per integration).
    pub fn apply(&self, rule: AppliedRule) {
        self.lock().insert(rule.mvpd.clone(), rule);
    }

    /// Every rule in force at `now`, by MVPD.
    pub fn in_force(&self, now: i64) -> Vec<AppliedRule> {
        let mut rules = self.lock();
        rules.retain(|_, rule| now < rule.expires_at);
        rules
            .values()
            .filter(|r| r.in_force(now))
            .cloned()
            .collect()
    }

    /// The rule in force on `mvpd` at `now`.
    pub fn for_mvpd(&self, mvpd: &str, now: i64) -> Option<AppliedRule> {
        self.lock().get(mvpd).filter(|r| r.in_force(now)).cloned()
    }

    /// Whether any rule is in force at `now` (cheap: no copies).
    pub fn any_in_force(&self, now: i64) -> bool {
        self.lock().values().any(|r| r.in_force(now))
    }

    /// Removes the rule on `mvpd`; the rule that was in force, if any.
    pub fn remove(&self, mvpd: &str, now: i64) -> Option<AppliedRule> {
        self.lock().remove(mvpd).filter(|r| r.in_force(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(mvpd: &str, kind: Degradation, applied_at: i64, expires_at: i64) -> AppliedRule {
        AppliedRule {
            service_provider: "REF30".to_owned(),
            mvpd: mvpd.to_owned(),
            rule: kind,
            applied_at,
            expires_at,
        }
    }

    #[test]
    fn a_rule_holds_for_its_mvpd_until_its_end_time_only() {
        let rules = DegradationRules::default();
        rules.apply(rule("Spectrum", Degradation::AuthNAll, 1_000, 2_000));
        assert_eq!(
            rules.for_mvpd("Spectrum", 1_000).map(|r| r.rule),
            Some(Degradation::AuthNAll)
        );
        assert!(rules.for_mvpd("Spectrum", 1_999).is_some());
        assert!(rules.for_mvpd("Comcast_SSO", 1_500).is_none());
        assert!(
            rules.for_mvpd("Spectrum", 2_000).is_none(),
            "lapsed at its end"
        );
        assert!(rules.in_force(2_000).is_empty());
        assert!(!rules.any_in_force(2_000));
    }

    #[test]
    fn a_new_rule_replaces_the_one_in_force_on_the_same_mvpd() {
        let rules = DegradationRules::default();
        rules.apply(rule("Spectrum", Degradation::AuthNAll, 0, 10_000));
        rules.apply(rule("Spectrum", Degradation::AuthZAll, 5, 20_000));
        rules.apply(rule("Comcast_SSO", Degradation::AuthZNone, 5, 20_000));
        let listed = rules.in_force(6);
        assert_eq!(listed.len(), 2);
        assert_eq!(
            rules.for_mvpd("Spectrum", 15_000).map(|r| r.rule),
            Some(Degradation::AuthZAll)
        );
    }

    #[test]
    fn removing_gives_the_rule_only_while_it_is_in_force() {
        let rules = DegradationRules::default();
        rules.apply(rule("Spectrum", Degradation::AuthZAll, 0, 100));
        assert!(rules.remove("Spectrum", 150).is_none(), "already lapsed");
        rules.apply(rule("Spectrum", Degradation::AuthZAll, 0, 100));
        assert!(rules.remove("Spectrum", 50).is_some());
        assert!(rules.for_mvpd("Spectrum", 50).is_none());
        assert!(rules.remove("Spectrum", 50).is_none());
    }
}
