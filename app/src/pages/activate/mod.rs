//! The second-screen activation site: code entry and confirmation, the provider picker, the
//! completion page and the cancelled page. Every step is a server-rendered form that posts
//! (or gets) and redirects, so the flow completes with JavaScript off; hydration adds instant
//! code validation and search as you type.

pub mod api;
mod complete;
mod confirm;
mod entry;
mod providers;

pub use complete::{CancelledPage, CompletePage};
pub use entry::ActivatePage;
pub use providers::ProvidersPage;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{i18n::use_texts, port::ProviderView};

/// The `code` query parameter (empty when absent).
fn query_code() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("code").unwrap_or_default())
}

/// A provider's logo, when it has one.
#[component]
fn ProviderLogo(provider: ProviderView) -> impl IntoView {
    let alt = format!("{} {}", provider.name, use_texts().logo_of);
    provider
        .logo_url
        .map(|src| view! { <img class="logo" src=src alt=alt width="96" height="40"/> })
}

/// A busy or failing upstream, in plain words.
#[component]
fn BusyNotice() -> impl IntoView {
    view! { <p class="error" role="alert">{use_texts().busy}</p> }
}
