//! What happened, told once: each activation step, play, TempPass and logout feeds both the
//! funnel's counters and the event stream from one call, made where the step was decided (for
//! an activation's end, on the node whose store update finished it). Routine status polls call
//! none of these.

use super::{
    decisions::AuthorizeOutcome,
    funnel::{PlayDecision, Step},
    DeviceSession, Service, ServiceError,
};
use crate::{
    events::{ActivationStep, Deny, EventKind, Permit, RedactedCode, Viewer},
    store::Activation,
};

impl Service {
    /// Emits `kind` to the event stream, stamped with the service's clock.
    pub(super) fn emit(&self, kind: EventKind) {
        self.inner.settings.events.emit(self.now_millis(), kind);
    }

    /// `activation` reached `step` with `provider` on a TV running `os_name`: counted in the
    /// funnel, and told to the event stream (all steps but the sign-in start, which the funnel
    /// alone counts).
    pub(super) fn activation_step(
        &self,
        step: Step,
        activation: &Activation,
        provider: Option<&str>,
        os_name: &str,
    ) {
        let funnel = &self.inner.funnel;
        funnel.step(step, provider, os_name);
        let took_ms = (activation.updated_at - activation.created_at).max(0);
        if step == Step::SignedIn && activation.created_at > 0 {
            funnel.signed_in_after(os_name, took_ms as f64 / 1000.0);
        }
        let at = ActivationStep {
            code: RedactedCode::of(&activation.code),
            viewer: Viewer {
                device_id: activation.device_id.clone(),
                provider: provider.map(str::to_owned),
                platform: os_name.to_owned(),
            },
        };
        let kind = match step {
            Step::CodeIssued => EventKind::ActivationCreated(at),
            Step::CodeOpened => EventKind::ActivationOpened(at),
            Step::ProviderChosen => EventKind::ActivationProviderChosen(at),
            Step::SignInStarted => return,
            Step::SignedIn => EventKind::ActivationSignedIn { step: at, took_ms },
            Step::Cancelled => EventKind::ActivationCancelled(at),
            Step::Expired => EventKind::ActivationExpired(at),
        };
        self.emit(kind);
    }

    /// A play by the device's viewer with `provider` led to `outcome`: counted, and a decision
    /// told to the event stream (a failed request is no decision).
    pub(super) fn play_decided(
        &self,
        session: &DeviceSession,
        provider: &str,
        outcome: &Result<AuthorizeOutcome, ServiceError>,
    ) {
        let decision = match outcome {
            Ok(AuthorizeOutcome::Permit { .. }) => PlayDecision::Permit,
            Ok(AuthorizeOutcome::Deny { .. }) => PlayDecision::Deny,
            Err(_) => PlayDecision::Error,
        };
        let os_name = &session.info.os_name;
        self.inner.funnel.play(Some(provider), os_name, decision);
        let viewer = viewer(session, Some(provider));
        match outcome {
            Ok(AuthorizeOutcome::Permit { degraded, .. }) => {
                self.emit(EventKind::DecisionPermit(Permit {
                    viewer,
                    degraded: *degraded,
                }));
            }
            Ok(AuthorizeOutcome::Deny {
                reason,
                sign_in_again,
                degraded,
                adobe,
                ..
            }) => self.emit(EventKind::DecisionDeny(Deny {
                viewer,
                reason: reason.clone(),
                code: adobe.as_ref().map(|a| a.code.clone()),
                action: adobe.as_ref().map(|a| a.action.clone()),
                sign_in_again: *sign_in_again,
                degraded: *degraded,
            })),
            Err(_) => {}
        }
    }

    /// The device started TempPass `provider` (not one it continues).
    pub(super) fn temppass_started(&self, session: &DeviceSession, provider: &str) {
        self.inner.funnel.temppass_started(&session.info.os_name);
        self.emit(EventKind::TempPassStarted(viewer(session, Some(provider))));
    }

    /// Adobe said the device's TempPass `provider` is used up.
    pub(super) fn temppass_ended(&self, session: &DeviceSession, provider: &str) {
        self.emit(EventKind::TempPassEnded(viewer(session, Some(provider))));
    }

    /// The device's viewer logged out of `provider`.
    pub(super) fn logged_out(&self, session: &DeviceSession, provider: &str) {
        self.emit(EventKind::Logout(viewer(session, Some(provider))));
    }
}

/// The TV of `session`, with `provider`.
fn viewer(session: &DeviceSession, provider: Option<&str>) -> Viewer {
    Viewer {
        device_id: session.device.device_id.clone(),
        provider: provider.map(str::to_owned),
        platform: session.info.os_name.clone(),
    }
}
