//! `<body data-hydrated>`: set once every island of the page is interactive (at once on a page
//! without islands), so tests and scripts know when clicks and typing reach the wasm.

/// Called by every island as it renders: on the browser, counts the island as hydrated once
/// its first effects run. Nothing on the server.
pub fn island_hydrated() {
    #[cfg(feature = "hydrate")]
    leptos::prelude::Effect::new(|_| browser::island_done());
}

#[cfg(feature = "hydrate")]
pub use browser::expect_islands;

#[cfg(feature = "hydrate")]
mod browser {
    use std::sync::atomic::{AtomicU32, Ordering};

    use leptos::prelude::document;

    /// Islands of the page still hydrating.
    static PENDING: AtomicU32 = AtomicU32::new(0);

    /// Counts the page's islands before they hydrate; marks a page without any at once.
    pub fn expect_islands() {
        let islands = document()
            .query_selector_all("leptos-island")
            .map_or(0, |found| found.length());
        PENDING.store(islands, Ordering::SeqCst);
        if islands == 0 {
            mark();
        }
    }

    /// One island is interactive; the last one marks the page.
    pub fn island_done() {
        let left = PENDING.fetch_sub(1, Ordering::SeqCst);
        if left == 1 {
            mark();
        }
    }

    fn mark() {
        if let Some(body) = document().body() {
            // A failure here only affects the marker, never the page.
            let _ = body.set_attribute("data-hydrated", "");
        }
    }
}
