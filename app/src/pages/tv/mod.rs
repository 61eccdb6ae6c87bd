//! `/tv`: a TV app simulator that uses only the Streaming App API (`/tv/v1`) from the browser,
//! as a TV would: register (token kept in `localStorage`), show the code, the QR code and a
//! countdown, wait for the sign-in through the event stream (long polls when it fails), then
//! show the provider's name and a small catalogue with Play and Sign out. The server renders
//! only the frame; the screen is an island, in a wasm chunk of its own when the build splits
//! (so a phone opening `/activate` never downloads the simulator).

#[cfg(feature = "hydrate")]
mod client;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{hydration::island_hydrated, i18n::use_texts};

/// The emulator's resources the catalogue offers.
pub const CATALOGUE: [&str; 4] = ["REF30", "news", "premium-sports", "mature-movies"];

/// What the TV shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// Registering or asking for a code.
    Starting,
    /// A code to enter on the phone.
    Code {
        /// The code.
        code: String,
        /// The short URL to show.
        url: String,
        /// The QR code image, as a `data:` URL.
        qr: Option<String>,
        /// The code's end, epoch ms.
        expires_at: f64,
    },
    /// The code ran out.
    Expired,
    /// Signed in with this provider (its display name).
    SignedIn(String),
    /// A failure, in plain words.
    Failed(String),
}

/// How a play attempt went, per resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Play {
    /// Asking.
    Asking,
    /// Permitted.
    Playing,
    /// Denied, with the reason.
    Denied(String),
}

/// The TV's state, shared with the browser-side code.
#[derive(Clone, Copy)]
pub struct TvState {
    /// The screen.
    pub screen: RwSignal<Screen>,
    /// The current time, epoch ms, ticking every second for the countdown.
    pub now: RwSignal<f64>,
    /// The last play attempt.
    pub play: RwSignal<Option<(String, Play)>>,
}

/// The TV simulator page.
#[component]
pub fn TvPage() -> impl IntoView {
    let texts = use_texts();
    view! {
        <Title text=texts.tv_title/>
        <main class="page tv">
            <h1>{texts.tv_title}</h1>
            <noscript><p class="error">{texts.tv_needs_js}</p></noscript>
            <TvScreen/>
        </main>
    }
}

/// What the TV shows, driven from the browser.
#[cfg_attr(split_wasm, island(lazy))]
#[cfg_attr(not(split_wasm), island)]
fn TvScreen() -> impl IntoView {
    let texts = use_texts();
    let state = TvState {
        screen: RwSignal::new(Screen::Starting),
        now: RwSignal::new(0.0),
        play: RwSignal::new(None),
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::start(state));
    island_hydrated();
    view! {
        <div class="tv-screen" aria-live="polite">
            {move || match state.screen.get() {
                Screen::Starting => view! { <p>{texts.tv_starting}</p> }.into_any(),
                Screen::Code { code, url, qr, expires_at } => {
                    view! { <CodeScreen code url qr expires_at state/> }.into_any()
                }
                Screen::Expired => view! {
                    <p role="alert">{texts.tv_expired}</p>
                    <NewCode state/>
                }.into_any(),
                Screen::SignedIn(provider) => view! { <Catalogue provider state/> }.into_any(),
                Screen::Failed(message) => view! {
                    <p class="error" role="alert">{format!("{}: {message}", texts.tv_error)}</p>
                    <NewCode state/>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn CodeScreen(
    code: String,
    url: String,
    qr: Option<String>,
    expires_at: f64,
    state: TvState,
) -> impl IntoView {
    let texts = use_texts();
    let left = move || {
        let secs = ((expires_at - state.now.get()) / 1000.0).max(0.0) as u64;
        format!("{}:{:02}", secs / 60, secs % 60)
    };
    view! {
        <p class="tv-instructions">
            {texts.tv_visit}" "<strong class="tv-url">{url}</strong>" "{texts.tv_enter_code}
        </p>
        <p class="code-shown tv-code" data-testid="tv-code">{code}</p>
        <p>{texts.tv_scan}</p>
        {qr.map(|src| view! { <img class="qr" src=src alt=texts.tv_qr_alt width="240" height="240"/> })}
        <p class="countdown">{texts.tv_expires_in}" "<span data-testid="countdown">{left}</span></p>
    }
}

#[component]
fn NewCode(state: TvState) -> impl IntoView {
    let texts = use_texts();
    let _ = state;
    view! {
        <button
            type="button"
            class="button primary"
            on:click=move |_| {
                #[cfg(feature = "hydrate")]
                client::new_code(state);
            }
        >
            {texts.tv_new_code}
        </button>
    }
}

#[component]
fn Catalogue(provider: String, state: TvState) -> impl IntoView {
    let texts = use_texts();
    view! {
        <p class="lead" data-testid="tv-provider">{format!("{} {provider}", texts.tv_signed_in)}</p>
        <h2>{texts.tv_catalogue}</h2>
        <ul class="catalogue" role="list">
            {CATALOGUE.into_iter().map(|resource| view! {
                <li>
                    <span class="title">{resource}</span>
                    <button
                        type="button"
                        class="button"
                        aria-label=format!("{} {resource}", texts.tv_play)
                        on:click=move |_| {
                            #[cfg(feature = "hydrate")]
                            client::play(state, resource);
                        }
                    >
                        {texts.tv_play}
                    </button>
                </li>
            }).collect_view()}
        </ul>
        <p class="play-status" role="status" aria-live="polite" data-testid="play-status">
            {move || state.play.get().map(|(resource, play)| match play {
                Play::Asking => format!("{resource}: …"),
                Play::Playing => format!("{resource}: {}", texts.tv_playing),
                Play::Denied(reason) => format!("{resource}: {} — {reason}", texts.tv_denied),
            })}
        </p>
        <button
            type="button"
            class="button"
            on:click=move |_| {
                #[cfg(feature = "hydrate")]
                client::logout(state);
            }
        >
            {texts.tv_logout}
        </button>
    }
}
