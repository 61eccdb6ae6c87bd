//! The activation site's server functions. Reads run during server rendering (so every page
//! works without JavaScript); the three state changes are plain form posts that answer with a
//! redirect, after a CSRF check. Every one of them takes a code, and every one lets it through
//! the same check (see [`ssr`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::port::{CodeDetails, Completion, ProviderChoice, ProviderView};

/// What checking a code (from the entry form or a QR link) found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeCheck {
    /// Nothing entered yet.
    Empty,
    /// What was typed cannot be a code.
    NotACode,
    /// A TV waits for this code; `csrf` goes with the forms that act on it.
    Pending {
        /// The code and its TV.
        details: CodeDetails,
        /// The browser's form token (CSRF).
        csrf: String,
    },
    /// Unknown, expired or used.
    Gone,
    /// Too many lookups: wait this many seconds.
    TooMany(u64),
    /// Adobe Pass is busy or failing.
    Busy,
}

/// The provider page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderPage {
    /// Pick one of these; `last` is the provider this browser used before, when offered.
    Choose {
        /// The code being activated.
        code: String,
        /// The providers.
        choice: ProviderChoice,
        /// The one used last in this browser.
        last: Option<ProviderView>,
        /// The browser's form token (CSRF), for the sign-in forms.
        csrf: String,
    },
    /// The code cannot be used.
    Gone,
    /// Too many failed codes: wait this many seconds.
    TooMany(u64),
    /// Adobe Pass is busy or failing.
    Busy,
}

/// The completion page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompletePage {
    /// How the sign-in ended, for this code.
    Outcome(String, Completion),
    /// A sign-in finished in a browser that did not start it (a code relayed to this viewer):
    /// the code, the TV it signed in, and the form token for "this wasn't me".
    StartedElsewhere {
        /// The code.
        code: String,
        /// The TV it signed in, when known.
        device: Option<String>,
        /// The browser's form token (CSRF).
        csrf: String,
    },
    /// No usable code came back.
    Gone,
    /// Too many failed codes: wait this many seconds.
    TooMany(u64),
    /// Adobe Pass is busy or failing.
    Busy,
}

/// Looks up a typed or scanned code, within the rate limits.
#[server(endpoint = "activate/check")]
pub async fn check_code(input: String) -> Result<CodeCheck, ServerFnError> {
    ssr::check_code(&input).await
}

/// The providers for a code.
#[server(endpoint = "activate/providers")]
pub async fn load_providers(code: String) -> Result<ProviderPage, ServerFnError> {
    ssr::provider_page(&code).await
}

/// Asks Adobe whether the sign-in for a code made a profile (and wakes the TV).
#[server(endpoint = "activate/outcome")]
pub async fn load_outcome(code: String) -> Result<CompletePage, ServerFnError> {
    ssr::complete_page(&code).await
}

/// Form post from the confirmation: "this is my TV's code". Goes on to the provider picker,
/// or straight to the provider's sign-in when the TV already chose the provider.
#[server(endpoint = "activate/confirm")]
pub async fn confirm_code(code: String, csrf: String) -> Result<(), ServerFnError> {
    ssr::confirm_code(&code, &csrf).await
}

/// Form post from the confirmation: "this code is not mine". Ends the activation.
#[server(endpoint = "activate/cancel")]
pub async fn cancel_code(code: String, csrf: String) -> Result<(), ServerFnError> {
    ssr::cancel_code(&code, &csrf).await
}

/// Form post from the completion page of a sign-in started elsewhere: "this wasn't me, sign
/// that TV out".
#[server(endpoint = "activate/disown")]
pub async fn disown_sign_in(code: String, csrf: String) -> Result<(), ServerFnError> {
    ssr::disown_sign_in(&code, &csrf).await
}

/// Form post from the picker: sign in with `mvpd`; redirects to the provider's sign-in page.
#[server(endpoint = "activate/sign-in")]
pub async fn sign_in(code: String, mvpd: String, csrf: String) -> Result<(), ServerFnError> {
    ssr::sign_in(&code, &mvpd, &csrf).await
}

/// Server-side bodies of the server functions.
///
/// **One check for every code.** Each step that takes a code (entry, provider page, confirm,
/// sign-in, completion, cancel) passes it through [`ssr::checked`]: a code this browser already
/// proved (a signed cookie says so, see [`super::browser`]) goes through at no cost; any other code is first admitted
/// by the limits (the session's cool-down, then the viewer's address prefix; everyone slows down
/// when failures spike), then looked up, and a code that matches nothing counts as a failure
/// against the session (when the browser has one), the address prefix and the total. Successes
/// cost nothing, so a stadium behind one address still activates; dropping the cookie resets
/// only the session's count.
///
/// **Sessions only for sign-ins.** Page views write no server state: the form token and the
/// proven code live in the browser's cookies. A browser session is created only when a
/// sign-in starts (it keeps whose sign-in it is, for the code-relay defence), and only within
/// the address prefix's budget of new sessions ([`ssr::SessionLimiter`]); a session that
/// exists also counts the browser's failed codes.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::{future::Future, net::IpAddr, pin::Pin, sync::Arc};

    use http::{request::Parts, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    use super::{CodeCheck, CompletePage, ProviderPage};
    use crate::pages::activate::browser::Browser;
    use crate::port::{
        masked, normalize_code, CodeDetails, Completion, Lookup, PortError, SharedPort,
    };

    const FAILURES: &str = "code_failures";
    const COOL_DOWN_UNTIL: &str = "code_cool_down_until";
    const LAST_PROVIDER: &str = "last_provider";
    /// The code whose sign-in this browser started (it confirmed the code and was sent to the
    /// provider): only that browser is told "all set" (the code-relay defence).
    const SIGN_IN_STARTED: &str = "sign_in_started";
    /// Failed codes a browser session may enter before it must wait.
    const SESSION_FAILURES: u32 = 5;
    /// How long it waits then.
    const COOL_DOWN_SECS: u64 = 120;

    /// A boxed future, so the limiter can be a trait object.
    pub type LimitFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// Why a code check was not admitted.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum NotAdmitted {
        /// Too many failures: wait this many seconds.
        Wait(u64),
        /// The limits cannot be counted right now (their store is down).
        Unavailable,
    }

    /// The limits on failed codes, provided through context by the server.
    pub trait LookupLimiter: Send + Sync {
        /// Whether `viewer`'s address prefix may check a code now, reserving one failure of
        /// its budget (given back by [`refund`](Self::refund)); slows the call down first
        /// while failures spike everywhere.
        fn admit(&self, viewer: IpAddr) -> LimitFuture<'_, Result<(), NotAdmitted>>;
        /// The admitted code matched nothing: its reservation stands, and it counts.
        fn failed_guess(&self, viewer: IpAddr) -> LimitFuture<'_, ()>;
        /// The admitted code was right, or the lookup could not tell: the reservation goes
        /// back.
        fn refund(&self, viewer: IpAddr) -> LimitFuture<'_, ()>;
    }

    /// The limit on new browser sessions, provided through context by the server.
    pub trait SessionLimiter: Send + Sync {
        /// Whether `viewer`'s address prefix may have one more browser session made now.
        fn admit(&self, viewer: IpAddr) -> LimitFuture<'_, Result<(), NotAdmitted>>;
    }

    /// The site's public origin (`https://activate.example.com`), provided through context:
    /// form posts must come from it.
    #[derive(Clone, Debug)]
    pub struct PublicOrigin(pub String);

    /// Everything a server function needs from the request.
    struct Call {
        port: SharedPort,
        viewer: IpAddr,
        session: Option<Session>,
        browser: Browser,
    }

    async fn call() -> Result<Call, ServerFnError> {
        let port = use_context::<SharedPort>()
            .ok_or_else(|| ServerFnError::new("the activation port is not configured"))?;
        let viewer = use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<ViewerIp>().copied())
            .map(|v| v.0)
            .ok_or_else(|| ServerFnError::new("the viewer's address is unknown"))?;
        let session = leptos_axum::extract::<Session>().await.ok();
        let https = use_context::<PublicOrigin>().is_some_and(|o| o.0.starts_with("https:"));
        Ok(Call {
            port,
            viewer,
            session,
            browser: Browser::of_request(https),
        })
    }

    /// The viewer's IP, put in the request's extensions by the server.
    #[derive(Clone, Copy, Debug)]
    pub struct ViewerIp(pub IpAddr);

    fn now_secs() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }

    fn set_status(status: StatusCode, retry_after: Option<u64>) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
            if let Some(secs) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
            {
                response.insert_header(http::header::RETRY_AFTER, secs);
            }
        }
    }

    async fn session_wait(session: &Session) -> Option<u64> {
        let until: u64 = session.get(COOL_DOWN_UNTIL).await.ok().flatten()?;
        until.checked_sub(now_secs()).filter(|left| *left > 0)
    }

    /// Counts a failed code in the browser's session, when it has one: a failure never makes
    /// one.
    async fn record_session_failure(session: &Session) {
        if session.is_empty().await {
            return;
        }
        let failures: u32 = session.get(FAILURES).await.ok().flatten().unwrap_or(0) + 1;
        let result = if failures >= SESSION_FAILURES {
            let _ = session.insert(FAILURES, 0u32).await;
            session
                .insert(COOL_DOWN_UNTIL, now_secs() + COOL_DOWN_SECS)
                .await
        } else {
            session.insert(FAILURES, failures).await
        };
        if let Err(error) = result {
            tracing::warn!(%error, "cannot count a failed code in the session");
        }
    }

    fn port_failure(error: &PortError, code: &str) {
        tracing::warn!(code = %masked(code), %error, "activation step failed");
        let retry = match error {
            PortError::Busy(secs) => Some(*secs),
            PortError::Unavailable(_) => None,
        };
        set_status(StatusCode::SERVICE_UNAVAILABLE, retry);
    }

    /// Why a code did not pass [`checked`].
    enum Refusal {
        /// Nothing entered.
        Empty,
        /// Not the shape of a code.
        NotACode,
        /// Too many failures: wait this many seconds.
        TooMany(u64),
        /// No pending activation has it.
        Gone,
        /// The upstream failed.
        Failed,
    }

    /// Runs `step` for the code typed as `input` (its normalized form is passed to `step`),
    /// through the one code check: see the module's documentation. `found` tells whether the
    /// step's result shows the code exists. Sets the response status on a refusal.
    async fn checked<T, F, Fut>(
        call: &Call,
        input: &str,
        step: F,
        found: impl Fn(&T) -> bool,
    ) -> Result<(String, T), Refusal>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<T, PortError>>,
    {
        if input.trim().is_empty() {
            return Err(Refusal::Empty);
        }
        let Some(code) = normalize_code(input) else {
            set_status(StatusCode::BAD_REQUEST, None);
            return Err(Refusal::NotACode);
        };
        let proven = call.browser.proved(&code);
        if !proven {
            admit(call).await.map_err(|refused| match refused {
                NotAdmitted::Wait(wait) => {
                    set_status(StatusCode::TOO_MANY_REQUESTS, Some(wait));
                    Refusal::TooMany(wait)
                }
                NotAdmitted::Unavailable => {
                    set_status(StatusCode::SERVICE_UNAVAILABLE, Some(1));
                    Refusal::Failed
                }
            })?;
        }
        let result = match step(code.clone()).await {
            Ok(result) => result,
            Err(error) => {
                if !proven {
                    refund(call).await;
                }
                port_failure(&error, &code);
                return Err(Refusal::Failed);
            }
        };
        if !found(&result) {
            if !proven {
                failed_guess(call).await;
            }
            set_status(StatusCode::NOT_FOUND, None);
            return Err(Refusal::Gone);
        }
        if !proven {
            refund(call).await;
            call.browser.remember_proof(&code);
        }
        Ok((code, result))
    }

    /// The session's cool-down, then the address prefix's budget (and the spike slow-down).
    async fn admit(call: &Call) -> Result<(), NotAdmitted> {
        if let Some(wait) = match &call.session {
            Some(session) => session_wait(session).await,
            None => None,
        } {
            return Err(NotAdmitted::Wait(wait));
        }
        match use_context::<Arc<dyn LookupLimiter>>() {
            Some(limiter) => limiter.admit(call.viewer).await,
            None => Ok(()),
        }
    }

    async fn refund(call: &Call) {
        if let Some(limiter) = use_context::<Arc<dyn LookupLimiter>>() {
            limiter.refund(call.viewer).await;
        }
    }

    async fn failed_guess(call: &Call) {
        if let Some(limiter) = use_context::<Arc<dyn LookupLimiter>>() {
            limiter.failed_guess(call.viewer).await;
        }
        if let Some(session) = &call.session {
            record_session_failure(session).await;
        }
    }

    /// The browser's form token (CSRF).
    fn csrf_token(call: &Call) -> String {
        call.browser.form_token()
    }

    async fn look_up(call: &Call, code: String) -> Result<Lookup, PortError> {
        call.port.look_up(&code, call.viewer).await
    }

    fn is_pending(lookup: &Lookup) -> bool {
        matches!(lookup, Lookup::Pending(_))
    }

    pub(super) async fn check_code(input: &str) -> Result<CodeCheck, ServerFnError> {
        if input.trim().is_empty() {
            return Ok(CodeCheck::Empty);
        }
        let call = call().await?;
        Ok(
            match checked(&call, input, |code| look_up(&call, code), is_pending).await {
                Ok((_, Lookup::Pending(details))) => CodeCheck::Pending {
                    details,
                    csrf: csrf_token(&call),
                },
                Ok((_, Lookup::Gone)) | Err(Refusal::Gone) => CodeCheck::Gone,
                Err(Refusal::Empty) => CodeCheck::Empty,
                Err(Refusal::NotACode) => CodeCheck::NotACode,
                Err(Refusal::TooMany(wait)) => CodeCheck::TooMany(wait),
                Err(Refusal::Failed) => CodeCheck::Busy,
            },
        )
    }

    pub(super) async fn provider_page(input: &str) -> Result<ProviderPage, ServerFnError> {
        let call = call().await?;
        let code = match checked(&call, input, |code| look_up(&call, code), is_pending).await {
            Ok((code, _)) => code,
            Err(Refusal::TooMany(wait)) => return Ok(ProviderPage::TooMany(wait)),
            Err(Refusal::Failed) => return Ok(ProviderPage::Busy),
            Err(_) => return Ok(ProviderPage::Gone),
        };
        let choice = match call.port.providers(&code, call.viewer).await {
            Ok(choice) => choice,
            Err(error) => {
                port_failure(&error, &code);
                return Ok(ProviderPage::Busy);
            }
        };
        if choice.all.is_empty() {
            return Ok(ProviderPage::Gone);
        }
        let mut last = None;
        if let Some(session) = &call.session {
            let id: Option<String> = session.get(LAST_PROVIDER).await.ok().flatten();
            last = id.and_then(|id| choice.all.iter().find(|p| p.id == id).cloned());
        }
        let csrf = csrf_token(&call);
        Ok(ProviderPage::Choose {
            code,
            choice,
            last,
            csrf,
        })
    }

    pub(super) async fn complete_page(input: &str) -> Result<CompletePage, ServerFnError> {
        let call = call().await?;
        let step = |code: String| {
            let call = &call;
            async move { call.port.complete(&code, call.viewer).await }
        };
        Ok(
            match checked(&call, input, step, |c| *c != Completion::Gone).await {
                Ok((code, Completion::SignedIn(_))) if !started_here(&call, &code).await => {
                    let device = call.port.signed_in_device(&code).await.unwrap_or_default();
                    let csrf = csrf_token(&call);
                    CompletePage::StartedElsewhere { code, device, csrf }
                }
                Ok((code, outcome)) => CompletePage::Outcome(code, outcome),
                Err(Refusal::TooMany(wait)) => CompletePage::TooMany(wait),
                Err(Refusal::Failed) => CompletePage::Busy,
                Err(_) => CompletePage::Gone,
            },
        )
    }

    /// A new id for the session once it holds something worth taking (a sign-in started): an id
    /// planted or seen before is worth nothing after (security review, finding 16).
    async fn new_session_id(session: &Session) {
        if let Err(error) = session.cycle_id().await {
            tracing::warn!(%error, "cannot give the session a new id");
        }
    }

    /// Whether this browser started the sign-in for `code`.
    async fn started_here(call: &Call, code: &str) -> bool {
        match &call.session {
            Some(session) => {
                session
                    .get::<String>(SIGN_IN_STARTED)
                    .await
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some(code)
            }
            None => false,
        }
    }

    /// "This wasn't me": signs out the TV a sign-in this browser did not start signed in.
    pub(super) async fn disown_sign_in(input: &str, csrf: &str) -> Result<(), ServerFnError> {
        let call = call().await?;
        from_own_page(&call, csrf).await?;
        // Only a browser that opened this code's completion page (the code check passed, within
        // the limits) may sign its TV out: no guessing codes to sign strangers' TVs out.
        let opened = normalize_code(input).filter(|code| call.browser.proved(code));
        let Some(code) = opened else {
            redirect_refused(input);
            return Ok(());
        };
        match call.port.disown(&code, call.viewer).await {
            Ok(()) => leptos_axum::redirect("/activate/signed-out"),
            Err(error) => {
                port_failure(&error, &code);
                leptos_axum::redirect(&code_url("/activate/complete", &code));
            }
        }
        Ok(())
    }

    /// State changes come only from this site's own pages: the form carries the browser's form
    /// token, and a browser that names the origin must name this site's public one. Browsers
    /// that send `Origin: null` (older Safari with some referrer policies) pass on the token.
    async fn from_own_page(call: &Call, csrf: &str) -> Result<(), ServerFnError> {
        let parts = use_context::<Parts>()
            .ok_or_else(|| ServerFnError::new("the request is not available"))?;
        let origin = parts
            .headers
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let public = use_context::<PublicOrigin>();
        let origin_ok = match (origin, public) {
            (None | Some("null"), _) => true,
            (Some(origin), Some(public)) => origin.eq_ignore_ascii_case(&public.0),
            (Some(_), None) => false,
        };
        if origin_ok && call.browser.is_form_token(csrf) {
            Ok(())
        } else {
            set_status(StatusCode::FORBIDDEN, None);
            Err(refusal(
                "this form must be sent from this site's own page; reload it and try again",
                "forbidden_form",
            ))
        }
    }

    /// A refused form post: `message`, with the request's support code (logged for `what`).
    fn refusal(message: &str, what: &str) -> ServerFnError {
        match crate::support::issued(what) {
            Some(code) => ServerFnError::new(format!("{message} (support code: {code})")),
            None => ServerFnError::new(message),
        }
    }

    fn code_url(path: &str, code: &str) -> String {
        format!("{path}?code={code}")
    }

    /// Where a refused code sends the browser: back to the entry page, which says why.
    fn redirect_refused(input: &str) {
        match normalize_code(input) {
            Some(code) => leptos_axum::redirect(&code_url("/activate", &code)),
            None => leptos_axum::redirect("/activate"),
        }
    }

    pub(super) async fn confirm_code(input: &str, csrf: &str) -> Result<(), ServerFnError> {
        let call = call().await?;
        from_own_page(&call, csrf).await?;
        match checked(&call, input, |code| look_up(&call, code), is_pending).await {
            Ok((code, Lookup::Pending(CodeDetails { provider, .. }))) => match provider {
                Some(provider) => redirect_to_sign_in(&call, &code, &provider.id).await?,
                None => leptos_axum::redirect(&code_url("/activate/provider", &code)),
            },
            _ => redirect_refused(input),
        }
        Ok(())
    }

    pub(super) async fn cancel_code(input: &str, csrf: &str) -> Result<(), ServerFnError> {
        let call = call().await?;
        from_own_page(&call, csrf).await?;
        match checked(&call, input, |code| look_up(&call, code), is_pending).await {
            Ok((code, _)) => {
                if let Err(error) = call.port.cancel(&code).await {
                    tracing::info!(code = %masked(&code), %error, "cancelling an activation");
                }
                leptos_axum::redirect("/activate/cancelled");
            }
            // A code that is already gone needs no cancelling: the page says the same.
            Err(Refusal::Gone) => leptos_axum::redirect("/activate/cancelled"),
            Err(_) => redirect_refused(input),
        }
        Ok(())
    }

    pub(super) async fn sign_in(input: &str, mvpd: &str, csrf: &str) -> Result<(), ServerFnError> {
        let call = call().await?;
        from_own_page(&call, csrf).await?;
        match checked(&call, input, |code| look_up(&call, code), is_pending).await {
            Ok((code, _)) => redirect_to_sign_in(&call, &code, mvpd).await?,
            _ => redirect_refused(input),
        }
        Ok(())
    }

    /// A browser without a session gets one only within its address prefix's budget of new
    /// sessions: past it the post is refused (429, `Retry-After`), and no session is made.
    async fn admit_new_session(call: &Call) -> Result<(), ServerFnError> {
        let Some(session) = call.session.as_ref() else {
            return Ok(());
        };
        let Some(limiter) = use_context::<Arc<dyn SessionLimiter>>() else {
            return Ok(());
        };
        if !session.is_empty().await {
            return Ok(());
        }
        match limiter.admit(call.viewer).await {
            Ok(()) => Ok(()),
            Err(NotAdmitted::Wait(wait)) => {
                set_status(StatusCode::TOO_MANY_REQUESTS, Some(wait));
                Err(refusal(
                    &format!("too many sign-ins from your network: try again in {wait} s"),
                    "too_many_sign_ins",
                ))
            }
            Err(NotAdmitted::Unavailable) => {
                set_status(StatusCode::SERVICE_UNAVAILABLE, Some(1));
                Err(refusal(
                    "the service is briefly unavailable: try again in a moment",
                    "sessions_unavailable",
                ))
            }
        }
    }

    async fn redirect_to_sign_in(call: &Call, code: &str, mvpd: &str) -> Result<(), ServerFnError> {
        admit_new_session(call).await?;
        match call.port.start_sign_in(code, mvpd, call.viewer).await {
            Ok(Some(url)) => {
                if let Some(session) = &call.session {
                    if let Err(error) = session.insert(LAST_PROVIDER, mvpd).await {
                        tracing::warn!(%error, "cannot remember the provider");
                    }
                    if let Err(error) = session.insert(SIGN_IN_STARTED, code).await {
                        tracing::warn!(%error, "cannot remember whose sign-in this is");
                    }
                    new_session_id(session).await;
                }
                leptos_axum::redirect(&url);
            }
            Ok(None) => leptos_axum::redirect(&code_url("/activate", code)),
            Err(error) => {
                port_failure(&error, code);
                leptos_axum::redirect(&code_url("/activate/provider", code));
            }
        }
        Ok(())
    }
}
