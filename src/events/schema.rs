//! The event schema (docs/events.md): one envelope (`id`, `time`, `node`, `requestId`) and one
//! `type` per step. Events hold device pseudonyms, provider ids and platform names; never a whole
//! activation code, a token, a secret or an address.

use serde::{Deserialize, Serialize};

use crate::http::trace::redacted_code;

/// One event as the sinks write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique (a UUID): consumers, and JetStream as `Nats-Msg-Id`, drop repeats by it.
    pub id: String,
    /// When it happened, epoch ms.
    pub time: i64,
    /// The node that decided the step (its host name).
    pub node: String,
    /// The `x-request-id` of the request that led to it; none for background work (a watcher
    /// that found the sign-in, a code that ran out of time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The TV an event is about: its registration's device id (a pseudonym, never its token), the
/// provider when known, and its platform (Adobe's `osName`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    /// The registration's device id.
    pub device_id: String,
    /// Adobe's MVPD id, once chosen or signed in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The TV's `osName` as it registered.
    pub platform: String,
}

/// An activation code as events show it: its first two characters only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedactedCode(String);

impl RedactedCode {
    /// `code`, redacted.
    pub fn of(code: &str) -> Self {
        Self(redacted_code(code))
    }
}

/// An activation's step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationStep {
    /// The code, redacted.
    pub code: RedactedCode,
    /// The TV.
    #[serde(flatten)]
    pub viewer: Viewer,
}

/// A play the TV asked for, permitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permit {
    /// The TV.
    #[serde(flatten)]
    pub viewer: Viewer,
    /// Adobe decided by a degradation rule, not the MVPD.
    pub degraded: bool,
}

/// A play the TV asked for, denied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deny {
    /// The TV.
    #[serde(flatten)]
    pub viewer: Viewer,
    /// Why, as the TV was told (Adobe's code, or the service's own rule).
    pub reason: String,
    /// Adobe's error code, when Adobe denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Adobe's recommended action, when Adobe denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The viewer must sign in again.
    pub sign_in_again: bool,
    /// Adobe decided by a degradation rule, not the MVPD.
    pub degraded: bool,
}

/// Who changed something through the admin API, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The operator's name (`changedBy`); [`ADMIN_API`] for routes that take none.
    pub actor: String,
    /// Why (`reason`), when the route takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The actor of admin routes that take no operator name (invalidate, revoke): the holder of
/// the admin token.
pub const ADMIN_API: &str = "admin-api";

/// What happened, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    /// Adobe issued a code and the TV shows it.
    #[serde(rename = "activation.created")]
    ActivationCreated(ActivationStep),
    /// A phone opened the code for the first time.
    #[serde(rename = "activation.opened")]
    ActivationOpened(ActivationStep),
    /// The viewer picked a provider on the phone.
    #[serde(rename = "activation.provider_chosen")]
    ActivationProviderChosen(ActivationStep),
    /// The TV is signed in.
    #[serde(rename = "activation.signed_in")]
    ActivationSignedIn {
        /// The activation.
        #[serde(flatten)]
        step: ActivationStep,
        /// Milliseconds from the code to signed in.
        #[serde(rename = "tookMs")]
        took_ms: i64,
    },
    /// The viewer said the code is not theirs.
    #[serde(rename = "activation.cancelled")]
    ActivationCancelled(ActivationStep),
    /// The code ran out of time, or Adobe ended its session, before a sign-in.
    #[serde(rename = "activation.expired")]
    ActivationExpired(ActivationStep),
    /// A play was permitted.
    #[serde(rename = "decision.permit")]
    DecisionPermit(Permit),
    /// A play was denied.
    #[serde(rename = "decision.deny")]
    DecisionDeny(Deny),
    /// A device started TempPass (not one it continues).
    #[serde(rename = "temppass.started")]
    TempPassStarted(Viewer),
    /// Adobe said the device's TempPass is used up, when a play or preauthorization asked.
    #[serde(rename = "temppass.ended")]
    TempPassEnded(Viewer),
    /// The TV's viewer logged out of the provider.
    #[serde(rename = "logout")]
    Logout(Viewer),
    /// An operator set a provider's state.
    #[serde(rename = "admin.provider_state")]
    AdminProviderState {
        /// Who and why.
        #[serde(flatten)]
        actor: Actor,
        /// The MVPD.
        mvpd: String,
        /// `normal`, `notice` or `hidden`.
        state: String,
        /// When it lapses, epoch ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
    },
    /// An operator changed (or reset) the limits.
    #[serde(rename = "admin.limits")]
    AdminLimits {
        /// Who and why.
        #[serde(flatten)]
        actor: Actor,
        /// Back to the configured limits.
        reset: bool,
        /// Registrations admitted per second, now.
        #[serde(rename = "registrationsPerSecond")]
        registrations_per_second: u32,
        /// Steps reaching Adobe per address per second, now.
        #[serde(rename = "adobeStepsPerAddressPerSecond")]
        adobe_steps_per_address_per_second: u32,
        /// Background polls in flight at once, now.
        #[serde(rename = "maxConcurrentPolls")]
        max_concurrent_polls: u32,
    },
    /// An operator applied a degradation rule at Adobe.
    #[serde(rename = "admin.degradation_applied")]
    AdminDegradationApplied {
        /// Who and why.
        #[serde(flatten)]
        actor: Actor,
        /// The MVPD.
        mvpd: String,
        /// AuthNAll, AuthZAll or AuthZNone.
        rule: String,
        /// When it lapses, epoch ms.
        until: i64,
    },
    /// An operator removed a degradation rule at Adobe.
    #[serde(rename = "admin.degradation_removed")]
    AdminDegradationRemoved {
        /// Who and why.
        #[serde(flatten)]
        actor: Actor,
        /// The MVPD.
        mvpd: String,
        /// The rule removed.
        rule: String,
    },
    /// An operator had a registration's cached profile and decisions forgotten.
    #[serde(rename = "admin.device_invalidated")]
    AdminDeviceInvalidated {
        /// Who.
        #[serde(flatten)]
        actor: Actor,
        /// The registration's device id.
        #[serde(rename = "deviceId")]
        device_id: String,
    },
    /// An operator revoked a registration's token.
    #[serde(rename = "admin.device_revoked")]
    AdminDeviceRevoked {
        /// Who.
        #[serde(flatten)]
        actor: Actor,
        /// The registration's device id.
        #[serde(rename = "deviceId")]
        device_id: String,
    },
    /// An operator reset a registration's TempPass at Adobe.
    #[serde(rename = "admin.temppass_reset")]
    AdminTempPassReset {
        /// Who and why.
        #[serde(flatten)]
        actor: Actor,
        /// The registration's device id.
        #[serde(rename = "deviceId")]
        device_id: String,
    },
}

impl EventKind {
    /// The `type` tag (the last part of the NATS subject, a metric label).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ActivationCreated(_) => "activation.created",
            Self::ActivationOpened(_) => "activation.opened",
            Self::ActivationProviderChosen(_) => "activation.provider_chosen",
            Self::ActivationSignedIn { .. } => "activation.signed_in",
            Self::ActivationCancelled(_) => "activation.cancelled",
            Self::ActivationExpired(_) => "activation.expired",
            Self::DecisionPermit(_) => "decision.permit",
            Self::DecisionDeny(_) => "decision.deny",
            Self::TempPassStarted(_) => "temppass.started",
            Self::TempPassEnded(_) => "temppass.ended",
            Self::Logout(_) => "logout",
            Self::AdminProviderState { .. } => "admin.provider_state",
            Self::AdminLimits { .. } => "admin.limits",
            Self::AdminDegradationApplied { .. } => "admin.degradation_applied",
            Self::AdminDegradationRemoved { .. } => "admin.degradation_removed",
            Self::AdminDeviceInvalidated { .. } => "admin.device_invalidated",
            Self::AdminDeviceRevoked { .. } => "admin.device_revoked",
            Self::AdminTempPassReset { .. } => "admin.temppass_reset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer() -> Viewer {
        Viewer {
            device_id: "dev-1".to_owned(),
            provider: Some("Spectrum".to_owned()),
            platform: "tvOS".to_owned(),
        }
    }

    fn event(kind: EventKind) -> serde_json::Value {
        serde_json::to_value(Event {
            id: "id-1".to_owned(),
            time: 1,
            node: "node-a".to_owned(),
            request_id: Some("req-1".to_owned()),
            kind,
        })
        .expect("serializes")
    }

    #[test]
    fn the_envelope_is_flat_and_typed() {
        let step = ActivationStep {
            code: RedactedCode::of("XTC98W"),
            viewer: viewer(),
        };
        let line = event(EventKind::ActivationSignedIn { step, took_ms: 42 });
        assert_eq!(
            line,
            serde_json::json!({
                "id": "id-1", "time": 1, "node": "node-a", "requestId": "req-1",
                "type": "activation.signed_in", "code": "XT…", "deviceId": "dev-1",
                "provider": "Spectrum", "platform": "tvOS", "tookMs": 42
            })
        );
        let back: Event = serde_json::from_value(line).expect("reads back");
        assert_eq!(back.kind.name(), "activation.signed_in");
    }

    #[test]
    fn codes_show_only_their_first_two_characters() {
        let step = ActivationStep {
            code: RedactedCode::of("ABC1234"),
            viewer: viewer(),
        };
        let text = event(EventKind::ActivationCreated(step)).to_string();
        assert!(text.contains("\"code\":\"AB…\""), "{text}");
        assert!(!text.contains("ABC"), "{text}");
    }

    /// The tag `name` gives (subjects, labels) is the one serde writes, for every type.
    #[test]
    fn names_match_the_serialized_type() {
        let step = || ActivationStep {
            code: RedactedCode::of("ABC1234"),
            viewer: viewer(),
        };
        let actor = || Actor {
            actor: "ana".to_owned(),
            reason: Some("game night".to_owned()),
        };
        let deny = Deny {
            viewer: viewer(),
            reason: "authorization_denied_by_mvpd".to_owned(),
            code: Some("authorization_denied_by_mvpd".to_owned()),
            action: Some("none".to_owned()),
            sign_in_again: false,
            degraded: false,
        };
        let kinds = [
            EventKind::ActivationCreated(step()),
            EventKind::ActivationOpened(step()),
            EventKind::ActivationProviderChosen(step()),
            EventKind::ActivationSignedIn {
                step: step(),
                took_ms: 1,
            },
            EventKind::ActivationCancelled(step()),
            EventKind::ActivationExpired(step()),
            EventKind::DecisionPermit(Permit {
                viewer: viewer(),
                degraded: false,
            }),
            EventKind::DecisionDeny(deny),
            EventKind::TempPassStarted(viewer()),
            EventKind::TempPassEnded(viewer()),
            EventKind::Logout(viewer()),
            EventKind::AdminProviderState {
                actor: actor(),
                mvpd: "Spectrum".to_owned(),
                state: "hidden".to_owned(),
                until: None,
            },
            EventKind::AdminLimits {
                actor: actor(),
                reset: false,
                registrations_per_second: 1,
                adobe_steps_per_address_per_second: 1,
                max_concurrent_polls: 1,
            },
            EventKind::AdminDegradationApplied {
                actor: actor(),
                mvpd: "Spectrum".to_owned(),
                rule: "AuthNAll".to_owned(),
                until: 1,
            },
            EventKind::AdminDegradationRemoved {
                actor: actor(),
                mvpd: "Spectrum".to_owned(),
                rule: "AuthNAll".to_owned(),
            },
            EventKind::AdminDeviceInvalidated {
                actor: actor(),
                device_id: "dev-1".to_owned(),
            },
            EventKind::AdminDeviceRevoked {
                actor: actor(),
                device_id: "dev-1".to_owned(),
            },
            EventKind::AdminTempPassReset {
                actor: actor(),
                device_id: "dev-1".to_owned(),
            },
        ];
        for kind in kinds {
            let name = kind.name();
            let line = event(kind);
            assert_eq!(line["type"], name);
            let back: Event = serde_json::from_value(line).expect("reads back");
            assert_eq!(back.kind.name(), name);
        }
    }
}
