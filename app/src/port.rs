//! What the activation pages need from the server: the [`ActivationPort`] trait, which the
//! server implements and provides through Leptos context, and the view types both sides share.
//! Nothing here knows Adobe Pass, HTTP clients or stores.

use std::{future::Future, net::IpAddr, pin::Pin, sync::Arc};

use serde::{Deserialize, Serialize};

/// A provider (MVPD) as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    /// MVPD id.
    pub id: String,
    /// Brand name.
    pub name: String,
    /// Logo address, when the provider has one.
    pub logo_url: Option<String>,
    /// While its sign-in is having trouble: the operators' notice by language (`en`, `es`),
    /// empty for the site's own words.
    pub notice: Option<std::collections::BTreeMap<String, String>>,
}

impl ProviderView {
    /// The notice to show beside the provider in `lang`, while there is one.
    pub fn notice_in(&self, lang: crate::i18n::Lang) -> Option<String> {
        let messages = self.notice.as_ref()?;
        Some(lang.trouble_notice(messages, &self.name))
    }
}

/// A code that belongs to a pending activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeDetails {
    /// The normalized code.
    pub code: String,
    /// A short description of the TV that shows it ("Roku Ultra (Roku OS)"), when known.
    pub device: Option<String>,
    /// The provider the TV already chose, if any.
    pub provider: Option<ProviderView>,
    /// The code's `notAfter`, epoch ms.
    pub expires_at: Option<i64>,
    /// Whether the TV is on this phone's network, when known (a hint for the viewer).
    pub same_network: Option<bool>,
}

/// What looking a code up found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// A pending activation waits for this code.
    Pending(CodeDetails),
    /// No activation has this code, or its time ran out, or it was used.
    Gone,
}

/// The providers a viewer may pick for a code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    /// Shown first, as tiles.
    pub featured: Vec<ProviderView>,
    /// Every provider, by name.
    pub all: Vec<ProviderView>,
}

/// How the provider's sign-in ended, as `/activate/complete` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Completion {
    /// The TV is signed in with this provider.
    SignedIn(ProviderView),
    /// No sign-in happened (cancelled at the provider, or not finished): the code still works.
    NotFinished,
    /// The code expired, was cancelled or was replaced by a newer one.
    Gone,
}

/// A failure the viewer cannot fix by changing the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortError {
    /// The TV provider service is busy: try again after this many seconds.
    #[error("busy; try again in {0} s")]
    Busy(u64),
    /// Something failed; the text is safe to log and never holds secrets or whole codes.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// A boxed future, so the port can be used as a trait object.
pub type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PortError>> + Send + 'a>>;

/// The second-screen operations, each made on behalf of the viewer at `viewer` (their IP goes
/// to Adobe as `X-Forwarded-For`). Codes given here are already normalized.
pub trait ActivationPort: Send + Sync {
    /// Whether the code belongs to a pending activation, with the TV's description.
    fn look_up<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Lookup>;
    /// The providers the viewer may pick for the code's TV.
    fn providers<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, ProviderChoice>;
    /// Supplies the chosen provider to Adobe's session and gives the provider sign-in address
    /// to send the browser to (always on the configured Adobe origin), or `None` when the code
    /// is gone.
    fn start_sign_in<'a>(
        &'a self,
        code: &'a str,
        mvpd: &'a str,
        viewer: IpAddr,
    ) -> PortFuture<'a, Option<String>>;
    /// Checks with Adobe whether the sign-in made a profile, and wakes the waiting TV.
    fn complete<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Completion>;
    /// The viewer says the code is not theirs: the activation ends.
    fn cancel<'a>(&'a self, code: &'a str) -> PortFuture<'a, ()>;
    /// The TV a finished sign-in signed in ("Roku Ultra (Roku OS)"), when known.
    fn signed_in_device<'a>(&'a self, code: &'a str) -> PortFuture<'a, Option<String>>;
    /// The viewer finished a sign-in they did not start: the TV it signed in is signed out.
    fn disown<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, ()>;
}

/// The port as pages find it in context.
pub type SharedPort = Arc<dyn ActivationPort>;

/// Normalizes a typed code (R1): drops everything outside A–Z and 0–9 (spaces, dashes), and
/// uppercases. `None` when what is left cannot be a code (fewer than 4 or more than 16).
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (4..=16).contains(&code.len()).then_some(code)
}

/// The code with all but its first two characters hidden, for logs.
pub fn masked(code: &str) -> String {
    let shown: String = code.chars().take(2).collect();
    format!(
        "{shown}{}",
        "*".repeat(code.chars().count().saturating_sub(2))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_uppercased_without_dashes_or_spaces() {
        assert_eq!(normalize_code(" 8er-640m ").as_deref(), Some("8ER640M"));
        assert_eq!(normalize_code("8ER 640 M").as_deref(), Some("8ER640M"));
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        assert_eq!(normalize_code("ab-c"), None);
        assert_eq!(normalize_code(""), None);
        assert_eq!(normalize_code(&"A".repeat(17)), None);
    }

    #[test]
    fn masked_codes_show_two_characters() {
        assert_eq!(masked("8ER640M"), "8E*****");
    }
}
