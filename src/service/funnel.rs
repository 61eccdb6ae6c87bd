//! The activation funnel and the plays, counted per provider and TV platform for the operators'
//! dashboard: how many codes were issued, opened on a phone, taken to a provider's sign-in and
//! signed in, how long that took, and what became of the plays. Labels hold only bounded values:
//! a step, a provider id (Adobe's configuration lists them), and the TV platform from Adobe's
//! list of `osName` values; never a code, a token or an address.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// A step of an activation, from the code on the TV to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Adobe issued a code and the TV shows it.
    CodeIssued,
    /// A phone looked the code up (or started the sign-in) for the first time.
    CodeOpened,
    /// The viewer picked a provider this service offers.
    ProviderChosen,
    /// Adobe took the choice; the phone goes to the provider's sign-in page.
    SignInStarted,
    /// Adobe has a profile for the code: the TV is signed in.
    SignedIn,
    /// The viewer said the code is not theirs.
    Cancelled,
    /// The code ran out of time (or Adobe ended its session) before a sign-in.
    Expired,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::CodeIssued => "code_issued",
            Step::CodeOpened => "code_opened",
            Step::ProviderChosen => "provider_chosen",
            Step::SignInStarted => "sign_in_started",
            Step::SignedIn => "signed_in",
            Step::Cancelled => "cancelled",
            Step::Expired => "expired",
        }
    }
}

/// What a play request led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PlayDecision {
    /// A media token: the player may play.
    Permit,
    /// Adobe or a business rule said no.
    Deny,
    /// No decision: the request failed.
    Error,
}

impl PlayDecision {
    fn label(self) -> &'static str {
        match self {
            PlayDecision::Permit => "permit",
            PlayDecision::Deny => "deny",
            PlayDecision::Error => "error",
        }
    }
}

/// The TV platform label for Adobe's `osName` (the service accepts only Adobe's listed values,
/// §3.1); anything else is `other`.
pub(super) fn platform(os_name: &str) -> &'static str {
    match os_name {
        "Android" => "android",
        "Chrome OS" => "chromeos",
        "Linux" => "linux",
        "Mac OS" | "OS X" => "macos",
        "OpenBSD" => "openbsd",
        "Roku OS" => "roku",
        "Windows" => "windows",
        "iOS" => "ios",
        "tvOS" => "tvos",
        "webOS" => "webos",
        _ => "other",
    }
}

/// Longest provider id kept as a label; longer or odd ids count as `other`.
const PROVIDER_LABEL_MAX: usize = 64;

/// The provider label: Adobe's MVPD id, `none` before one is chosen.
fn provider_label(provider: Option<&str>) -> String {
    match provider {
        None => "none".to_owned(),
        Some(id)
            if !id.is_empty()
                && id.len() <= PROVIDER_LABEL_MAX
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) =>
        {
            id.to_owned()
        }
        Some(_) => "other".to_owned(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: &'static str,
    provider: String,
    platform: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabels {
    platform: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlayLabels {
    provider: String,
    platform: &'static str,
    decision: &'static str,
}

/// Seconds from code to signed-in: 5 s to 30 minutes (a code lives at most 30 minutes).
fn sign_in_histogram() -> Histogram {
    Histogram::new([
        5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0,
    ])
}

/// The funnel's counters.
#[derive(Debug)]
pub(super) struct Funnel {
    steps: Family<StepLabels, Counter>,
    sign_in: Family<PlatformLabels, Histogram, fn() -> Histogram>,
    temppass_starts: Family<PlatformLabels, Counter>,
    plays: Family<PlayLabels, Counter>,
}

impl Default for Funnel {
    fn default() -> Self {
        Self {
            steps: Family::default(),
            sign_in: Family::new_with_constructor(sign_in_histogram),
            temppass_starts: Family::default(),
            plays: Family::default(),
        }
    }
}

impl Funnel {
    /// Counts one activation reaching `step` with `provider` on a TV running `os_name`.
    pub fn step(&self, step: Step, provider: Option<&str>, os_name: &str) {
        self.steps
            .get_or_create(&StepLabels {
                step: step.label(),
                provider: provider_label(provider),
                platform: platform(os_name),
            })
            .inc();
    }

    /// Records how long a TV running `os_name` took from its code to signed-in.
    pub fn signed_in_after(&self, os_name: &str, seconds: f64) {
        self.sign_in
            .get_or_create(&PlatformLabels {
                platform: platform(os_name),
            })
            .observe(seconds);
    }

    /// Counts a TempPass a device starts (not one it continues).
    pub fn temppass_started(&self, os_name: &str) {
        self.temppass_starts
            .get_or_create(&PlatformLabels {
                platform: platform(os_name),
            })
            .inc();
    }

    /// Counts a play request and what it led to.
    pub fn play(&self, provider: Option<&str>, os_name: &str, decision: PlayDecision) {
        self.plays
            .get_or_create(&PlayLabels {
                provider: provider_label(provider),
                platform: platform(os_name),
                decision: decision.label(),
            })
            .inc();
    }

    /// Adds the funnel's metrics to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_activation_funnel",
            "Activations reaching each step, by provider and TV platform",
            self.steps.clone(),
        );
        registry.register(
            "tve_activation_sign_in_seconds",
            "Seconds from the code shown on the TV to signed in, by TV platform",
            self.sign_in.clone(),
        );
        registry.register(
            "tve_temppass_starts",
            "TempPass started by a device, by TV platform",
            self.temppass_starts.clone(),
        );
        registry.register(
            "tve_plays",
            "Play requests by provider, TV platform and decision",
            self.plays.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(platform("Roku OS"), "roku");
        assert_eq!(platform("Mac OS"), "macos");
        assert_eq!(platform("TempleOS"), "other");
        assert_eq!(provider_label(None), "none");
        assert_eq!(provider_label(Some("Comcast_SSO")), "Comcast_SSO");
        assert_eq!(provider_label(Some("a\"b")), "other");
        assert_eq!(provider_label(Some(&"x".repeat(65))), "other");
        assert_eq!(provider_label(Some("")), "other");
    }

    #[test]
    fn steps_are_counted_by_provider_and_platform() {
        let funnel = Funnel::default();
        let mut registry = Registry::default();
        funnel.register(&mut registry);
        funnel.step(Step::CodeIssued, None, "tvOS");
        funnel.step(Step::SignedIn, Some("Cox"), "tvOS");
        funnel.signed_in_after("tvOS", 42.0);
        funnel.play(Some("Cox"), "Roku OS", PlayDecision::Permit);
        let text = crate::telemetry::encode(&registry);
        for line in [
            "tve_activation_funnel_total{step=\"code_issued\",provider=\"none\",platform=\"tvos\"} 1",
            "tve_activation_funnel_total{step=\"signed_in\",provider=\"Cox\",platform=\"tvos\"} 1",
            "tve_activation_sign_in_seconds_bucket{le=\"45.0\",platform=\"tvos\"} 1",
            "tve_activation_sign_in_seconds_bucket{le=\"30.0\",platform=\"tvos\"} 0",
            "tve_plays_total{provider=\"Cox\",platform=\"roku\",decision=\"permit\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
