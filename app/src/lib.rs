//! The tve-activate web app: the page shell, the routes, and the browser entry point.

pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// Name of the built wasm, JavaScript and CSS files under `/pkg`.
pub const OUTPUT_NAME: &str = "tve-activate";

/// The HTML document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    use_request_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Uses the nonce that the server's security layer put in the request, so the inline
/// hydration scripts carry the nonce of the page's Content-Security-Policy header.
#[cfg(feature = "ssr")]
fn use_request_nonce() {
    use leptos::nonce::Nonce;
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Nonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// The app: meta tags, stylesheet and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css")/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light dark"/>
        <Title formatter=|page: String| format!("{page} · TV activation")/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::home::Home/>
            </Routes>
        </Router>
    }
}

/// Browser entry point: hydrates the server-rendered page, then marks `<body data-hydrated>`
/// so tests (and scripts) know the page is interactive.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    if let Some(body) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.body())
    {
        // A failure here only affects the marker, never the page.
        let _ = body.set_attribute("data-hydrated", "");
    }
}
