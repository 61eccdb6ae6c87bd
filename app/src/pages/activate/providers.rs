//! `/activate/provider?code=…`: featured providers as logo tiles, the full list with search
//! (a GET form without JavaScript, as you type after hydration), "Continue with <last>" and
//! help for a provider that is not listed. Every choice posts to the sign-in server function.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::{load_providers, ProviderPage, SignIn},
    entry::TooMany,
    query_code, BusyNotice, ProviderLogo,
};
use crate::{i18n::use_texts, port::ProviderView};

/// Whether a provider's name or id contains the search text (case-insensitive).
fn matches(provider: &ProviderView, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    search.is_empty()
        || provider.name.to_lowercase().contains(&search)
        || provider.id.to_lowercase().contains(&search)
}

/// The provider picker.
#[component]
pub fn ProvidersPage() -> impl IntoView {
    let code = query_code();
    let page = Resource::new(move || code.get(), load_providers);
    let texts = use_texts();
    view! {
        <Title text=texts.providers_title/>
        <main class="page">
            <h1>{texts.providers_title}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(ProviderPage::Choose { code, choice, last, csrf }) => {
                            view! { <Picker code featured=choice.featured all=choice.all last csrf/> }
                                .into_any()
                        }
                        Ok(ProviderPage::TooMany(_)) => view! { <TooMany/> }.into_any(),
                        Ok(ProviderPage::Gone) => {
                            view! {
                                <p class="error" role="alert">{texts.code_gone}</p>
                                <p><a class="button" href="/activate">{texts.enter_another}</a></p>
                            }
                                .into_any()
                        }
                        Ok(ProviderPage::Busy) | Err(_) => view! { <BusyNotice/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Picker(
    code: String,
    featured: Vec<ProviderView>,
    all: Vec<ProviderView>,
    last: Option<ProviderView>,
    csrf: String,
) -> impl IntoView {
    let texts = use_texts();
    let query = use_query_map();
    let search = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let shown = {
        let all = all.clone();
        move || all.iter().filter(|p| matches(p, &search.get())).count()
    };
    view! {
        <p class="lead">{texts.providers_lead}</p>
        <form method="post" action=SignIn::url() class="picker">
            <input type="hidden" name="code" value=code.clone()/>
            <input type="hidden" name="csrf" value=csrf.clone()/>
            {last.map(|provider| {
                view! {
                    <button type="submit" name="mvpd" value=provider.id.clone() class="button primary wide">
                        {format!("{} {}", texts.continue_with, provider.name)}
                    </button>
                }
            })}
            {(!featured.is_empty()).then(|| view! {
                <h2>{texts.featured}</h2>
                <ul class="tiles" role="list">
                    {featured.into_iter().map(|provider| view! {
                        <li>
                            <button type="submit" name="mvpd" value=provider.id.clone() class="tile">
                                <ProviderLogo provider=provider.clone()/>
                                <span>{provider.name.clone()}</span>
                            </button>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <h2 id="all-providers">{texts.all_providers}</h2>
        </form>
        <form method="get" action="/activate/provider" class="search" role="search">
            <input type="hidden" name="code" value=code.clone()/>
            <label for="provider-search">{texts.search_label}</label>
            <div class="row">
                <input
                    id="provider-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    aria-controls="provider-list"
                    prop:value=move || search.get()
                    value=search.get_untracked()
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
                <button type="submit" class="button">{texts.search_button}</button>
            </div>
        </form>
        <form method="post" action=SignIn::url()>
            <input type="hidden" name="code" value=code/>
            <input type="hidden" name="csrf" value=csrf/>
            <ul id="provider-list" class="provider-list" role="list" aria-labelledby="all-providers">
                {all.into_iter().map(|provider| {
                    let hidden = {
                        let provider = provider.clone();
                        move || !matches(&provider, &search.get())
                    };
                    view! {
                        <li hidden=hidden>
                            <button type="submit" name="mvpd" value=provider.id.clone() class="provider">
                                <ProviderLogo provider=provider.clone() small=true/>
                                <span>{provider.name.clone()}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </form>
        <p class="hint" role="status" aria-live="polite">
            {move || (shown() == 0).then_some(texts.no_match)}
        </p>
        <details class="help">
            <summary>{texts.help_title}</summary>
            <p>{texts.help_text}</p>
        </details>
    }
}
