//! `/`: what this service is, and where to go.

use leptos::prelude::*;
use leptos_meta::Title;

/// The home page.
#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text="Welcome"/>
        <main class="page">
            <h1>"Watch on your TV"</h1>
            <p class="lead">
                "Sign in with your TV provider to unlock this network's live channels and shows \
                 on your TV, console or streaming stick."
            </p>
            <nav class="choices" aria-label="Where to go">
                <a class="choice" href="/activate">
                    <strong>"I have a code on my TV"</strong>
                    <span>"Enter or scan the code shown on your TV to connect it to your TV provider."</span>
                </a>
                <a class="choice" href="/tv">
                    <strong>"TV simulator"</strong>
                    <span>"See what a TV app shows: a code, a QR code, then what you can watch."</span>
                </a>
            </nav>
        </main>
    }
}
