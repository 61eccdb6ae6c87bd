//! `/activate` and `/activate?code=…`: one labelled input for the code; a code that arrives
//! (typed or from the QR link) is looked up and shown for confirmation.

use leptos::{html::Input, prelude::*};
use leptos_meta::Title;

use super::{
    api::{check_code, CodeCheck},
    confirm::Confirmation,
    query_code, BusyNotice,
};
use crate::{
    hydration::island_hydrated, i18n::use_texts, port::normalize_code, support::SupportCode,
};

/// The code entry page, which becomes the confirmation once a pending code is given.
#[component]
pub fn ActivatePage() -> impl IntoView {
    let code = query_code();
    let check = Resource::new(move || code.get(), check_code);
    let texts = use_texts();
    view! {
        <Title text=texts.activate_title/>
        <main class="page">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match check.await {
                        Ok(CodeCheck::Pending { details, csrf }) => view! { <Confirmation details csrf/> }.into_any(),
                        Ok(CodeCheck::TooMany(_)) => view! { <TooMany/> }.into_any(),
                        Ok(CodeCheck::NotACode) => {
                            view! { <CodeForm typed=code.get() error=Some(texts.not_a_code.to_owned())/> }.into_any()
                        }
                        Ok(CodeCheck::Gone) => {
                            view! {
                                <CodeForm typed=code.get() error=Some(texts.code_gone.to_owned())/>
                                <SupportCode what="code_gone"/>
                            }.into_any()
                        }
                        Ok(CodeCheck::Empty) => view! { <CodeForm typed=String::new() error=None/> }.into_any(),
                        Ok(CodeCheck::Busy) | Err(_) => {
                            view! { <BusyNotice/> <CodeForm typed=code.get() error=None/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

/// The friendly answer to too many lookups (the response is a 429 with `Retry-After`).
#[component]
pub(super) fn TooMany() -> impl IntoView {
    let texts = use_texts();
    view! {
        <h1>{texts.too_many_title}</h1>
        <p role="alert">{texts.too_many_text}</p>
        <SupportCode what="too_many"/>
        <p><a class="button" href="/activate">{texts.try_again}</a></p>
    }
}

/// The code form: a GET to `/activate`, so it works before (and without) the wasm. An island:
/// once hydrated it uppercases as you type and refuses what cannot be a code at once.
#[island]
fn CodeForm(typed: String, error: Option<String>) -> impl IntoView {
    let texts = use_texts();
    let message = RwSignal::new(error);
    let input = NodeRef::<Input>::new();
    island_hydrated();
    let on_input = move |_| {
        if let Some(field) = input.get() {
            // Codes are ASCII; std's full Unicode case tables would cost the wasm 2 KB.
            let upper = field.value().to_ascii_uppercase();
            if upper != field.value() {
                field.set_value(&upper);
            }
        }
        message.set(None);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let value = input.get().map(|field| field.value()).unwrap_or_default();
        if normalize_code(&value).is_none() {
            ev.prevent_default();
            message.set(Some(texts.not_a_code.to_owned()));
            if let Some(field) = input.get() {
                let _ = field.focus();
            }
        }
    };
    view! {
        <h1>{texts.activate_title}</h1>
        <p class="lead">{texts.activate_lead}</p>
        <form class="code-form" method="get" action="/activate" on:submit=on_submit novalidate>
            <label for="code">{texts.code_label}</label>
            <p id="code-hint" class="hint">{texts.code_hint}</p>
            <input
                id="code"
                name="code"
                class="code-input"
                type="text"
                value=typed
                node_ref=input
                autofocus
                inputmode="text"
                enterkeyhint="go"
                autocomplete="off"
                autocapitalize="characters"
                spellcheck="false"
                maxlength="24"
                aria-describedby="code-hint code-error"
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                on:input=on_input
            />
            <p id="code-error" class="error" role="alert" aria-live="assertive">
                {move || message.get()}
            </p>
            <button type="submit" class="button primary">{texts.continue_label}</button>
        </form>
    }
}
