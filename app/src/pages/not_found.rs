//! The page for any address the app does not know.

use leptos::prelude::*;
use leptos_meta::Title;

/// "Page not found", with a way back; answers 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <main class="page">
            <h1>"Page not found"</h1>
            <p>"This address does not lead anywhere. "<a href="/">"Go to the start page"</a>"."</p>
        </main>
    }
}
