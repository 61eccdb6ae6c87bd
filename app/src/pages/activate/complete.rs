//! `/activate/complete?code=…` (where the provider's sign-in returns), `/activate/cancelled`
//! and `/activate/signed-out`.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::{
    api::{load_outcome, CompletePage as Outcome, DisownSignIn},
    entry::TooMany,
    query_code, BusyNotice, ProviderLogo,
};
use crate::{i18n::use_texts, port::Completion, support::SupportCode};

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
                        Ok(Outcome::StartedElsewhere { code, device, csrf }) => view! {
                            <StartedElsewhere code device csrf/>
                        }.into_any(),
                        Ok(Outcome::Outcome(code, Completion::NotFinished)) => view! {
                            <Title text=texts.not_finished_title/>
                            <h1>{texts.not_finished_title}</h1>
                            <p role="alert">{texts.not_finished_text}</p>
                            <SupportCode what="not_finished"/>
                            <p><a class="button primary" href=format!("/activate/provider?code={code}")>{texts.try_again}</a></p>
                        }.into_any(),
                        Ok(Outcome::Outcome(_, Completion::Gone) | Outcome::Gone) => view! {
                            <Title text=texts.gone_title/>
                            <h1>{texts.gone_title}</h1>
                            <p role="alert">{texts.code_gone}</p>
                            <SupportCode what="code_gone"/>
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

/// A sign-in finished in a browser that did not start it: the viewer may have been sent a
/// stranger's sign-in link (code relay), so nothing says "all set" without naming the TV and
/// offering to sign it out.
#[component]
fn StartedElsewhere(code: String, device: Option<String>, csrf: String) -> impl IntoView {
    let texts = use_texts();
    let device = device.unwrap_or_else(|| texts.confirm_unknown_device.to_owned());
    view! {
        <Title text=texts.elsewhere_title/>
        <h1>{texts.elsewhere_title}</h1>
        <p role="alert">{texts.elsewhere_text}</p>
        <p class="lead">{device}</p>
        <p>{texts.elsewhere_yours}</p>
        <form method="post" action=DisownSignIn::url()>
            <input type="hidden" name="code" value=code/>
            <input type="hidden" name="csrf" value=csrf/>
            <button type="submit" class="button primary">{texts.disown_label}</button>
        </form>
    }
}

/// After "this wasn't me".
#[component]
pub fn SignedOutPage() -> impl IntoView {
    let texts = use_texts();
    view! {
        <Title text=texts.signed_out_title/>
        <main class="page">
            <h1>{texts.signed_out_title}</h1>
            <p>{texts.signed_out_text}</p>
            <p><a class="button" href="/activate">{texts.enter_another}</a></p>
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
