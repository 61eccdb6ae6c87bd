//! `/`: what this service is, and where to go.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    brand::use_brand,
    i18n::{use_lang, use_texts},
};

/// The home page.
#[component]
pub fn Home() -> impl IntoView {
    let texts = use_texts();
    let tagline = use_brand().tagline(use_lang()).map(str::to_owned);
    view! {
        <Title text=texts.home_title/>
        <main class="page">
            <h1>{texts.home_title}</h1>
            {tagline.map(|tagline| view! { <p class="tagline">{tagline}</p> })}
            <p class="lead">{texts.home_lead}</p>
            <nav class="choices" aria-label=texts.home_nav>
                <a class="choice" href="/activate">
                    <strong>{texts.home_code}</strong>
                    <span>{texts.home_code_text}</span>
                </a>
                <a class="choice" href="/tv">
                    <strong>{texts.home_tv}</strong>
                    <span>{texts.home_tv_text}</span>
                </a>
            </nav>
        </main>
    }
}
