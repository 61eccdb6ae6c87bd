//! Degradation rules applied through Adobe's Degradation API (premium, licensed): an operator
//! turns AuthNAll, AuthZAll or AuthZNone on for an MVPD until an end time, or off again; Adobe
//! keeps the rule and applies it to every REST API V2 answer for that MVPD, so every node sees
//! it at once and it lapses at its end time by itself. Each change is logged, and told to the
//! event stream, with who and why.

use super::{
    devices::readiness_probe,
    operators::{check_mvpd, check_who_and_why},
    Service, ServiceError,
};
use crate::{
    adobe_pass::{
        types::{AppliedDegradation, DegradationRule},
        AdobePassError,
    },
    events::{Actor, EventKind},
};

/// Longest a rule may be applied for: Adobe takes a number of seconds.
const MOST_MILLIS: i64 = u32::MAX as i64 * 1000;

/// What an operator asks to apply to an MVPD.
#[derive(Clone, Debug)]
pub struct DegradationChange {
    /// Which rule.
    pub rule: DegradationRule,
    /// When it lapses by itself (epoch ms, later than now).
    pub until: i64,
    /// Who asks.
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

/// Who removes a rule, and why.
#[derive(Clone, Debug)]
pub struct DegradationRemoval {
    /// Who asks.
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

impl Service {
    /// The rules in force on the service provider's integrations, as Adobe has them.
    pub async fn degradation_rules(&self) -> Result<Vec<AppliedDegradation>, ServiceError> {
        let identity = readiness_probe(&self.inner.settings.probe_device);
        let rules = self.inner.adobe.degradation_rules(&identity).await?;
        Ok(rules.rules)
    }

    /// Applies `change` to `mvpd` at Adobe until its end time, replacing the rule in force
    /// there; checked first, so a bad change reaches nothing. Logged and told to the event
    /// stream with who and why.
    pub async fn apply_degradation(
        &self,
        mvpd: &str,
        change: DegradationChange,
    ) -> Result<AppliedDegradation, ServiceError> {
        check_mvpd(mvpd)?;
        check_who_and_why(&change.changed_by, &change.reason)?;
        if matches!(change.rule, DegradationRule::Other(_)) {
            return Err(ServiceError::invalid(
                "rule",
                "one of AuthNAll, AuthZAll, AuthZNone",
            ));
        }
        let ttl = ttl_seconds(change.until, self.now_millis())?;
        let identity = readiness_probe(&self.inner.settings.probe_device);
        let applied = self
            .inner
            .adobe
            .apply_degradation(&identity, mvpd, change.rule.clone(), ttl)
            .await
            .map_err(refused_mvpd)?;
        tracing::warn!(
            mvpd,
            rule = applied.rule.as_str(),
            until = applied.expires_at,
            operator = %change.changed_by,
            reason = %change.reason,
            "an operator applied a degradation rule"
        );
        self.emit(EventKind::AdminDegradationApplied {
            actor: Actor {
                actor: change.changed_by,
                reason: Some(change.reason),
            },
            mvpd: mvpd.to_owned(),
            rule: applied.rule.as_str().to_owned(),
            until: applied.expires_at,
        });
        Ok(applied)
    }

    /// Removes the rule in force on `mvpd` at Adobe; the rule removed, or `NotFound` when none
    /// is in force. Logged and told to the event stream with who and why.
    pub async fn remove_degradation(
        &self,
        mvpd: &str,
        removal: DegradationRemoval,
    ) -> Result<AppliedDegradation, ServiceError> {
        check_mvpd(mvpd)?;
        check_who_and_why(&removal.changed_by, &removal.reason)?;
        let identity = readiness_probe(&self.inner.settings.probe_device);
        let removed = self
            .inner
            .adobe
            .remove_degradation(&identity, mvpd)
            .await
            .map_err(|error| match error.http_status() {
                Some(404) => ServiceError::NotFound("degradation rule"),
                _ => refused_mvpd(error),
            })?;
        tracing::warn!(
            mvpd,
            rule = removed.rule.as_str(),
            operator = %removal.changed_by,
            reason = %removal.reason,
            "an operator removed a degradation rule"
        );
        self.emit(EventKind::AdminDegradationRemoved {
            actor: Actor {
                actor: removal.changed_by,
                reason: Some(removal.reason),
            },
            mvpd: mvpd.to_owned(),
            rule: removed.rule.as_str().to_owned(),
        });
        Ok(removed)
    }
}

/// Adobe's `invalid_parameter_mvpd` as the caller's mistake; any other failure as it is.
fn refused_mvpd(error: AdobePassError) -> ServiceError {
    let unknown = error
        .enhanced()
        .is_some_and(|e| e.code.as_str() == "invalid_parameter_mvpd");
    if unknown {
        ServiceError::invalid("mvpd", "Adobe Pass has no integration with this MVPD")
    } else {
        error.into()
    }
}

/// The whole seconds from `now` to `until`, rounded up so the rule lasts at least until then.
fn ttl_seconds(until: i64, now: i64) -> Result<u32, ServiceError> {
    let left = until.saturating_sub(now);
    if left <= 0 {
        return Err(ServiceError::invalid("until", "must be later than now"));
    }
    if left > MOST_MILLIS {
        return Err(ServiceError::invalid("until", "too far ahead"));
    }
    u32::try_from((left + 999) / 1000).map_err(|_| ServiceError::invalid("until", "too far ahead"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_time_becomes_whole_seconds_from_now() {
        assert_eq!(ttl_seconds(10_001, 0).ok(), Some(11));
        assert_eq!(ttl_seconds(10_000, 0).ok(), Some(10));
        assert!(ttl_seconds(0, 0).is_err());
        assert!(ttl_seconds(-5, 0).is_err());
        assert!(ttl_seconds(i64::MAX, 0).is_err());
    }
}
