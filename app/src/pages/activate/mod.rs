//! The second-screen activation site: code entry and confirmation, the provider picker, the
//! completion page and the cancelled page. Every step is a server-rendered form that posts
//! (or gets) and redirects, so the flow completes with JavaScript off; hydration adds instant
//! code validation and search as you type.

pub mod api;
#[cfg(feature = "ssr")]
pub mod browser;
mod complete;
mod confirm;
mod entry;
mod providers;

pub use complete::{CancelledPage, CompletePage, SignedOutPage};
pub use entry::ActivatePage;
pub use providers::ProvidersPage;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{i18n::use_texts, port::ProviderView, support::SupportCode};

/// The `code` query parameter (empty when absent).
fn query_code() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("code").unwrap_or_default())
}

/// A provider's logo, when it has one (Adobe's `logoUrl`). Its name is always written beside
/// it, so the image is decoration to screen readers; it loads only when scrolled near.
#[component]
fn ProviderLogo(provider: ProviderView, #[prop(optional)] small: bool) -> impl IntoView {
    let (class, width, height) = if small {
        ("logo small", "48", "20")
    } else {
        ("logo", "96", "40")
    };
    provider.logo_url.map(|src| {
        view! {
            <img class=class src=src alt="" width=width height=height loading="lazy" decoding="async"/>
        }
    })
}

/// A busy or failing upstream, in plain words, with the support code.
#[component]
fn BusyNotice() -> impl IntoView {
    view! {
        <p class="error" role="alert">{use_texts().busy}</p>
        <SupportCode what="busy"/>
    }
}
