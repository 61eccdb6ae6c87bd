//! The support code under the site's error and busy notices: "Support code: XXXX-XXXX", the
//! code the server logged with the request, node and device (issue 23).

use leptos::prelude::*;

use crate::i18n::use_texts;

/// The server's side of support codes.
#[cfg(feature = "ssr")]
pub trait SupportDesk: Send + Sync {
    /// The request's code, `XXXX-XXXX`, the same on every call; the first call logs what it
    /// maps to, with `what` the viewer saw.
    fn issue(&self, what: &str) -> String;
}

/// The request extension through which a page reaches the server's [`SupportDesk`].
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct SupportTicket(pub std::sync::Arc<dyn SupportDesk>);

/// "Support code: XXXX-XXXX", for the notice `what` (named in the log line). Rendered on the
/// server only; nothing when the server gave no ticket.
#[component]
pub fn SupportCode(what: &'static str) -> impl IntoView {
    let label = use_texts().support_code;
    issued(what).map(|code| {
        view! { <p class="support-code">{label}" "<strong translate="no">{code}</strong></p> }
    })
}

/// The request's support code, issued for `what` (see [`SupportDesk::issue`]); `None` outside a
/// request the server gave a ticket.
#[cfg(feature = "ssr")]
pub fn issued(what: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let ticket = parts.extensions.get::<SupportTicket>()?;
    Some(ticket.0.issue(what))
}

#[cfg(not(feature = "ssr"))]
fn issued(_what: &str) -> Option<String> {
    None
}
