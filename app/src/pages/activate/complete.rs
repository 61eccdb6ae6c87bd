//! `/activate/complete?code=…` (where the provider's sign-in returns) and
//! `/activate/cancelled`.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api::{load_outcome, CompletePage as Outcome},
    entry::TooMany,
    query_code, BusyNotice, ProviderLogo,
};
use crate::{i18n::use_texts, port::Completion};

/// Checks the sign-in with Adobe and says how it ended.
#[component]
pub fn CompletePage() -> impl IntoView {
    let code = query_code();
    let outcome = Resource::new(move || code.get(), load_outcome);
    let texts = use_texts();
    view! {
        <main class="page">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match outcome.await {
                        Ok(Outcome::Outcome(_, Completion::SignedIn(provider))) => view! {
                            <Title text=texts.done_title/>
                            <section class="done">
                                <ProviderLogo provider=provider.clone()/>
                                <h1>{texts.done_title}</h1>
                                <p class="lead">{format!("{} {}.", texts.done_provider, provider.name)}</p>
                                <p>{texts.done_text}</p>
                            </section>
                        }.into_any(),
                        Ok(Outcome::Outcome(code, Completion::NotFinished)) => view! {
                            <Title text=texts.not_finished_title/>
                            <h1>{texts.not_finished_title}</h1>
                            <p role="alert">{texts.not_finished_text}</p>
                            <p><a class="button primary" href=format!("/activate/provider?code={code}")>{texts.try_again}</a></p>
                        }.into_any(),
                        Ok(Outcome::Outcome(_, Completion::Gone) | Outcome::Gone) => view! {
                            <Title text=texts.gone_title/>
                            <h1>{texts.gone_title}</h1>
                            <p role="alert">{texts.code_gone}</p>
                            <p><a class="button primary" href="/activate">{texts.enter_another}</a></p>
                        }.into_any(),
                        Ok(Outcome::TooMany(_)) => view! { <TooMany/> }.into_any(),
                        Ok(Outcome::Busy) | Err(_) => view! {
                            <Title text=texts.gone_title/>
                            <BusyNotice/>
                            <p><a class="button" href=format!("/activate/complete?code={}", code.get())>{texts.try_again}</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// After "this code is not mine".
#[component]
pub fn CancelledPage() -> impl IntoView {
    let texts = use_texts();
    view! {
        <Title text=texts.cancelled_title/>
        <main class="page">
            <h1>{texts.cancelled_title}</h1>
            <p>{texts.cancelled_text}</p>
            <p><a class="button" href="/activate">{texts.enter_another}</a></p>
        </main>
    }
}
