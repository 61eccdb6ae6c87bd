//! The tve-activate web app: the page shell, the routes, and the browser entry point.

pub mod brand;
mod hydration;
pub mod i18n;
pub mod pages;
pub mod port;
pub mod support;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_location,
    path, SsrMode,
};

/// Name of the built wasm, JavaScript and CSS files under `/pkg`.
pub const OUTPUT_NAME: &str = "tve-activate";

/// The HTML document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    use_request_nonce();
    let lang = i18n::request_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/brand.css"/>
                // Islands: the browser hydrates only the interactive parts (`#[island]`); the rest
                // of every page, routes included, is the server's alone.
                <HydrationScripts options=options.clone() islands=true/>
                // Under its hashed name when the build hashed it (hash-files in Cargo.toml).
                <HashedStylesheet options id="leptos"/>
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
    let lang = i18n::provide_lang();
    let name = brand::use_brand().name(lang).to_owned();
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light dark"/>
        <Title formatter=move |page: String| format!("{page} · {name}")/>
        <Router>
            <SiteHeader/>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("") view=pages::home::Home/>
                <Route path=path!("/activate") view=pages::activate::ActivatePage ssr=SsrMode::Async/>
                <Route path=path!("/activate/provider") view=pages::activate::ProvidersPage ssr=SsrMode::Async/>
                <Route path=path!("/activate/complete") view=pages::activate::CompletePage ssr=SsrMode::Async/>
                <Route path=path!("/activate/cancelled") view=pages::activate::CancelledPage/>
                <Route path=path!("/activate/signed-out") view=pages::activate::SignedOutPage/>
                <Route path=path!("/tv") view=pages::tv::TvPage/>
            </Routes>
            <SiteFooter/>
        </Router>
    }
}

/// The network's logo and name, and the language switcher (links that set the `lang` cookie
/// and come back).
#[component]
fn SiteHeader() -> impl IntoView {
    let lang = i18n::use_lang();
    let texts = lang.texts();
    let brand = brand::use_brand();
    let name = brand.name(lang).to_owned();
    let location = use_location();
    let back = move || {
        // The router's `search` comes without its leading `?`.
        let search = location.search.get().trim_start_matches('?').to_owned();
        let here = if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{search}", location.pathname.get())
        };
        url_encode(&here)
    };
    view! {
        <header class="site">
            <a class="brand" href="/">
                {brand
                    .logo_url
                    .clone()
                    .map(|src| view! { <img class="brand-logo" src=src alt="" height="40"/> })}
                <span class="brand-name">{name}</span>
            </a>
            <nav aria-label=texts.language class="languages">
                {i18n::Lang::ALL
                    .into_iter()
                    .map(|other| {
                        view! {
                            <a
                                href=move || format!("/language/{}?back={}", other.tag(), back())
                                rel="external"
                                hreflang=other.tag()
                                lang=other.tag()
                                aria-current=(other == lang).then_some("true")
                            >
                                {other.name()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
        </header>
    }
}

/// The network's help, privacy and terms links, those it has.
#[component]
fn SiteFooter() -> impl IntoView {
    let texts = i18n::use_texts();
    let brand = brand::use_brand();
    let links: Vec<(&'static str, String)> = [
        (texts.support, brand.support_url.clone()),
        (texts.privacy, brand.privacy_url.clone()),
        (texts.terms, brand.terms_url.clone()),
    ]
    .into_iter()
    .filter_map(|(label, url)| Some((label, url?)))
    .collect();
    (!links.is_empty()).then(|| {
        view! {
            <footer class="site">
                <ul role="list">
                    {links
                        .into_iter()
                        .map(|(label, href)| view! { <li><a href=href rel="external">{label}</a></li> })
                        .collect_view()}
                </ul>
            </footer>
        }
    })
}

/// Percent-encodes everything but unreserved characters, for a query value.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Browser entry point, called by Leptos's island loader before it hydrates the page's islands
/// (each in the main module or, for `#[island(lazy)]`, in a wasm chunk of its own). Once every
/// island is interactive, `<body data-hydrated>` says so to tests (and scripts).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    hydration::expect_islands();
}
