//! The pages a viewer on `/activate` does not need, each in a wasm chunk of its own that the
//! browser fetches only for that page (the server names the chunks a page needs in
//! `<link rel="preload">`). `/activate` itself stays in the main module, so the phone that
//! scans the TV's QR code downloads the least.
//!
//! The chunks exist when cargo-leptos builds with `--split` (see `build.rs`, which sets
//! `lazy_pages` then, and always for the server). A wasm built without it keeps these pages in
//! the main module: bigger, and just as correct.

use leptos::prelude::*;
#[cfg(lazy_pages)]
use leptos_router::lazy_route;
use leptos_router::LazyRoute;

use super::{activate, home::Home, tv::TvPage};

/// A route whose view is `$page`, in a chunk of its own when the wasm is split.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:expr) => {
        $(#[$doc])*
        pub struct $route;

        #[cfg(lazy_pages)]
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page.into_any()
            }
        }

        #[cfg(not(lazy_pages))]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $page.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/`.
    HomeRoute => view! { <Home/> }
);

lazy_page!(
    /// `/tv`, the TV simulator: most of the app's own code.
    TvRoute => view! { <TvPage/> }
);

lazy_page!(
    /// `/activate/provider`.
    ProvidersRoute => view! { <activate::ProvidersPage/> }
);

lazy_page!(
    /// `/activate/complete`.
    CompleteRoute => view! { <activate::CompletePage/> }
);

lazy_page!(
    /// `/activate/cancelled`.
    CancelledRoute => view! { <activate::CancelledPage/> }
);

/// Loads the wasm chunk of the page at `path`, when it is one of the pages above (keep these
/// paths in step with the routes in `App`). The browser hydrates once it is in, so the page
/// hydrates in one go, as one in the main module does: without it the shell's `<Title>` would
/// hydrate first and leave the document without a title until the chunk arrived.
#[cfg(feature = "hydrate")]
pub async fn preload(path: &str) {
    match path.trim_end_matches('/') {
        "" => HomeRoute::preload().await,
        "/tv" => TvRoute::preload().await,
        "/activate/provider" => ProvidersRoute::preload().await,
        "/activate/complete" => CompleteRoute::preload().await,
        "/activate/cancelled" => CancelledRoute::preload().await,
        _ => {}
    }
}
