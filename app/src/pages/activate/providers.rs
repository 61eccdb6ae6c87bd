//! `/activate/provider?code=…`: featured providers as logo tiles, the full list with search
//! (a GET form without JavaScript; as you type once the search island hydrates), "Continue with
//! <last>" and help for a provider that is not listed. Every choice posts to the sign-in server
//! function.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::{load_providers, ProviderPage, SignIn},
    entry::TooMany,
    query_code, BusyNotice, ProviderLogo,
};
use crate::{
    hydration::island_hydrated,
    i18n::{use_lang, use_texts},
    port::ProviderView,
    support::SupportCode,
};

/// Whether a provider's name or id contains the search text (case-insensitive).
fn matches(name: &str, id: &str, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    search.is_empty()
        || name.to_lowercase().contains(&search)
        || id.to_lowercase().contains(&search)
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
                                <SupportCode what="code_gone"/>
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
    let search = use_query_map()
        .read_untracked()
        .get("q")
        .unwrap_or_default();
    let shown = all
        .iter()
        .filter(|p| matches(&p.name, &p.id, &search))
        .count();
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
                                <TroubleNotice provider=provider.clone()/>
                            </button>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <h2 id="all-providers">{texts.all_providers}</h2>
        </form>
        <ProviderSearch code=code.clone() search=search.clone() shown>
            <form method="post" action=SignIn::url()>
                <input type="hidden" name="code" value=code/>
                <input type="hidden" name="csrf" value=csrf/>
                <ul id="provider-list" class="provider-list" role="list" aria-labelledby="all-providers">
                    {all.into_iter().map(|provider| view! {
                        <li
                            hidden=!matches(&provider.name, &provider.id, &search)
                            data-name=provider.name.clone()
                            data-id=provider.id.clone()
                        >
                            <button type="submit" name="mvpd" value=provider.id.clone() class="provider">
                                <ProviderLogo provider=provider.clone() small=true/>
                                <span>{provider.name.clone()}</span>
                                <TroubleNotice provider=provider.clone()/>
                            </button>
                        </li>
                    }).collect_view()}
                </ul>
            </form>
        </ProviderSearch>
        <details class="help">
            <summary>{texts.help_title}</summary>
            <p>{texts.help_text}</p>
        </details>
    }
}

/// What operators say while the provider's sign-in is having trouble, if anything.
#[component]
fn TroubleNotice(provider: ProviderView) -> impl IntoView {
    provider
        .notice_in(use_lang())
        .map(|notice| view! { <small class="trouble">{notice}</small> })
}

/// The search over the full list (`children`, rendered by the server with the items that match
/// `search` shown): a GET form without JavaScript; an island that filters the list as you type.
#[island]
fn ProviderSearch(code: String, search: String, shown: usize, children: Children) -> impl IntoView {
    let texts = use_texts();
    let shown = RwSignal::new(shown);
    island_hydrated();
    let on_input = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        shown.set(filter_list(&event_target_value(&ev)));
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <form method="get" action="/activate/provider" class="search" role="search">
            <input type="hidden" name="code" value=code/>
            <label for="provider-search">{texts.search_label}</label>
            <div class="row">
                <input
                    id="provider-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    aria-controls="provider-list"
                    value=search
                    on:input=on_input
                />
                <button type="submit" class="button">{texts.search_button}</button>
            </div>
        </form>
        {children()}
        <p class="hint" role="status" aria-live="polite">
            {move || (shown.get() == 0).then_some(texts.no_match)}
        </p>
    }
}

/// Shows the items of `#provider-list` that match `search` and hides the others (each item
/// carries its provider's `data-name` and `data-id`); returns how many are shown.
#[cfg(feature = "hydrate")]
fn filter_list(search: &str) -> usize {
    use leptos::wasm_bindgen::JsCast;

    let Ok(items) = document().query_selector_all("#provider-list > li") else {
        return 0;
    };
    let mut shown = 0;
    for item in (0..items.length())
        .filter_map(|index| items.item(index)?.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let data = item.dataset();
        let name = data.get("name").unwrap_or_default();
        let id = data.get("id").unwrap_or_default();
        let show = matches(&name, &id, search);
        item.set_hidden(!show);
        shown += usize::from(show);
    }
    shown
}
