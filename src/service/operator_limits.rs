//! Limits operators change at runtime, for game night: registrations from everyone, steps
//! reaching Adobe per address (activation starts among them) and background polls of Adobe in
//! flight per node. Set, they replace the configured ones until reset; kept in the store, so a
//! restarted node has them, and announced over the node bus, so every node applies them within
//! seconds (see [`Reread`]). Each node applies them before it admits a registration, a step
//! reaching Adobe or a poll.

use super::{
    limits::TunedRates, operators::check_who_and_why, reread::Reread, ClusterEvent, Service,
    ServiceError, ServiceSettings,
};
use crate::{
    events::{Actor, EventKind},
    store::OperatorLimits,
};

/// Registrations per second from everyone, at most (as `--registrations-per-second`).
const MOST_REGISTRATIONS_PER_SECOND: u32 = 10_000;
/// Steps reaching Adobe per second from one address, at most.
const MOST_ADOBE_STEPS_PER_ADDRESS_PER_SECOND: u32 = 100;
/// Background polls in flight per node, at most (as `--max-concurrent-polls`).
const MOST_CONCURRENT_POLLS: u32 = 1_000;

/// The operators' limits as this node last read them (`None`: the configured ones).
pub(super) type ReadLimits = Reread<Option<OperatorLimits>>;

/// What an operator asks to change; a value left out keeps the one in force.
#[derive(Clone, Debug, Default)]
pub struct LimitsChange {
    /// Registrations per second from everyone.
    pub registrations_per_second: Option<u32>,
    /// Steps reaching Adobe per second from one address.
    pub adobe_steps_per_address_per_second: Option<u32>,
    /// Background polls of Adobe in flight at once, per node.
    pub max_concurrent_polls: Option<u32>,
    /// Back to the configured limits (the values above are then refused).
    pub reset: bool,
    /// Who asks.
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

/// The limits that apply, and where they come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitsInForce {
    /// Registrations per second from everyone.
    pub registrations_per_second: u32,
    /// Steps reaching Adobe per second from one address.
    pub adobe_steps_per_address_per_second: u32,
    /// Background polls of Adobe in flight at once, per node.
    pub max_concurrent_polls: u32,
    /// What an operator set, when the limits are not the configured ones.
    pub set_by_operator: Option<OperatorLimits>,
    /// The configured limits, which apply when no operator set any.
    pub configured: Configured,
}

/// The limits the node was started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Configured {
    /// The rates.
    pub rates: TunedRates,
    /// Background polls of Adobe in flight at once.
    pub max_concurrent_polls: u32,
}

impl Configured {
    /// What `settings` configure.
    pub(super) fn of(settings: &ServiceSettings) -> Self {
        Self {
            rates: settings.limits.tuned(),
            max_concurrent_polls: u32::try_from(settings.max_concurrent_polls).unwrap_or(u32::MAX),
        }
    }
}

impl Service {
    /// Applies the operators' limits, read from the store again when due. When the store
    /// cannot be read, what applies stays, and the store is asked again later.
    pub(super) async fn apply_operator_limits(&self) {
        let now = self.now_millis();
        let read = &self.inner.operator_limits;
        if read.current(now).is_some() {
            return;
        }
        match self.inner.store.operator_limits().await {
            Ok(found) => {
                self.apply_limits(found.as_ref());
                read.keep(now, found);
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read the operators' limits; keeping those in force");
                read.keep(now, read.last().and_then(|last| (*last).clone()));
            }
        }
    }

    fn apply_limits(&self, set: Option<&OperatorLimits>) {
        let configured = self.inner.configured_limits;
        let (rates, polls) =
            set.map_or((configured.rates, configured.max_concurrent_polls), |set| {
                (
                    TunedRates {
                        registrations_per_second: set.registrations_per_second,
                        adobe_steps_per_address_per_second: set.adobe_steps_per_address_per_second,
                    },
                    set.max_concurrent_polls,
                )
            });
        self.inner.settings.limits.tune(rates);
        self.inner
            .polling
            .resize(usize::try_from(polls).unwrap_or(usize::MAX));
    }

    /// The limits in force, as the store has them.
    pub async fn limits_in_force(&self) -> Result<LimitsInForce, ServiceError> {
        let set = self.inner.store.operator_limits().await?;
        Ok(self.in_force(set))
    }

    fn in_force(&self, set: Option<OperatorLimits>) -> LimitsInForce {
        let configured = self.inner.configured_limits;
        LimitsInForce {
            registrations_per_second: set
                .as_ref()
                .map_or(configured.rates.registrations_per_second, |set| {
                    set.registrations_per_second
                }),
            adobe_steps_per_address_per_second: set
                .as_ref()
                .map_or(configured.rates.adobe_steps_per_address_per_second, |set| {
                    set.adobe_steps_per_address_per_second
                }),
            max_concurrent_polls: set.as_ref().map_or(configured.max_concurrent_polls, |set| {
                set.max_concurrent_polls
            }),
            set_by_operator: set,
            configured,
        }
    }

    /// Changes the limits for every node: kept in the store, applied here, announced to the
    /// other nodes, logged and told to the event stream with who and why. Checked first: a bad change changes nothing.
    pub async fn change_limits(&self, change: LimitsChange) -> Result<LimitsInForce, ServiceError> {
        check_change(&change)?;
        let now = self.now_millis();
        let set = if change.reset {
            None
        } else {
            let before = self.limits_in_force().await?;
            Some(OperatorLimits {
                registrations_per_second: change
                    .registrations_per_second
                    .unwrap_or(before.registrations_per_second),
                adobe_steps_per_address_per_second: change
                    .adobe_steps_per_address_per_second
                    .unwrap_or(before.adobe_steps_per_address_per_second),
                max_concurrent_polls: change
                    .max_concurrent_polls
                    .unwrap_or(before.max_concurrent_polls),
                changed_by: change.changed_by.clone(),
                reason: change.reason.clone(),
                changed_at: now,
            })
        };
        self.inner.store.set_operator_limits(set.as_ref()).await?;
        let in_force = self.in_force(set.clone());
        tracing::warn!(
            registrations_per_second = in_force.registrations_per_second,
            adobe_steps_per_address_per_second = in_force.adobe_steps_per_address_per_second,
            max_concurrent_polls = in_force.max_concurrent_polls,
            reset = change.reset,
            operator = %change.changed_by,
            reason = %change.reason,
            "an operator changed the limits"
        );
        self.emit(EventKind::AdminLimits {
            actor: Actor {
                actor: change.changed_by.clone(),
                reason: Some(change.reason.clone()),
            },
            reset: change.reset,
            registrations_per_second: in_force.registrations_per_second,
            adobe_steps_per_address_per_second: in_force.adobe_steps_per_address_per_second,
            max_concurrent_polls: in_force.max_concurrent_polls,
        });
        self.apply_limits(set.as_ref());
        self.inner.operator_limits.keep(now, set);
        self.inner
            .settings
            .bus
            .publish(ClusterEvent::LimitsChanged)
            .await;
        Ok(in_force)
    }
}

fn check_change(change: &LimitsChange) -> Result<(), ServiceError> {
    check_who_and_why(&change.changed_by, &change.reason)?;
    let values = [
        (
            "registrationsPerSecond",
            change.registrations_per_second,
            MOST_REGISTRATIONS_PER_SECOND,
        ),
        (
            "adobeStepsPerAddressPerSecond",
            change.adobe_steps_per_address_per_second,
            MOST_ADOBE_STEPS_PER_ADDRESS_PER_SECOND,
        ),
        (
            "maxConcurrentPolls",
            change.max_concurrent_polls,
            MOST_CONCURRENT_POLLS,
        ),
    ];
    for (field, value, most) in values {
        match value {
            Some(_) if change.reset => {
                return Err(ServiceError::invalid(
                    field,
                    "a reset goes back to the configured limits; send no value with it",
                ))
            }
            Some(value) if !(1..=most).contains(&value) => {
                return Err(ServiceError::invalid(
                    field,
                    format!("{value} is not between 1 and {most}"),
                ))
            }
            _ => {}
        }
    }
    if !change.reset && values.iter().all(|(_, value, _)| value.is_none()) {
        return Err(ServiceError::invalid(
            "body",
            "name a limit to change, or send \"reset\": true",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_changes_are_refused() {
        let good = LimitsChange {
            registrations_per_second: Some(40),
            changed_by: "ana".to_owned(),
            reason: "kickoff".to_owned(),
            ..LimitsChange::default()
        };
        assert!(check_change(&good).is_ok());
        for bad in [
            LimitsChange {
                registrations_per_second: Some(0),
                ..good.clone()
            },
            LimitsChange {
                max_concurrent_polls: Some(1_001),
                ..good.clone()
            },
            LimitsChange {
                adobe_steps_per_address_per_second: Some(101),
                ..good.clone()
            },
            LimitsChange {
                reset: true,
                ..good.clone()
            },
            LimitsChange {
                registrations_per_second: None,
                ..good.clone()
            },
            LimitsChange {
                reason: String::new(),
                ..good.clone()
            },
        ] {
            assert!(check_change(&bad).is_err(), "{bad:?}");
        }
        assert!(check_change(&LimitsChange {
            registrations_per_second: None,
            reset: true,
            ..good
        })
        .is_ok());
    }
}
