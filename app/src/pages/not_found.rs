//! The page for any address the app does not know.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{i18n::use_texts, support::SupportCode};

/// "Page not found", with a way back; answers 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let texts = use_texts();
    view! {
        <Title text=texts.not_found_title/>
        <main class="page">
            <h1>{texts.not_found_title}</h1>
            <p>{texts.not_found_text}<a href="/">{texts.not_found_link}</a>"."</p>
            <SupportCode what="not_found"/>
        </main>
    }
}
