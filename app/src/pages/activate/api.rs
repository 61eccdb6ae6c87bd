//! The activation site's server functions. Reads run during server rendering (so every page
//! works without JavaScript); the three state changes are plain form posts that answer with a
//! redirect, after an origin check.

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
    /// A TV waits for this code.
    Pending(CodeDetails),
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
    },
    /// The code cannot be used.
    Gone,
    /// Adobe Pass is busy or failing.
    Busy,
}

/// The completion page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompletePage {
    /// How the sign-in ended, for this code.
    Outcome(String, Completion),
    /// No usable code came back.
    Gone,
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
pub async fn confirm_code(code: String) -> Result<(), ServerFnError> {
    ssr::confirm_code(&code).await
}

/// Form post from the confirmation: "this code is not mine". Ends the activation.
#[server(endpoint = "activate/cancel")]
pub async fn cancel_code(code: String) -> Result<(), ServerFnError> {
    ssr::cancel_code(&code).await
}

/// Form post from the picker: sign in with `mvpd`; redirects to the provider's sign-in page.
#[server(endpoint = "activate/sign-in")]
pub async fn sign_in(code: String, mvpd: String) -> Result<(), ServerFnError> {
    ssr::sign_in(&code, &mvpd).await
}

/// Server-side bodies of the server functions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::net::IpAddr;

    use http::{request::Parts, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    use super::{CodeCheck, CompletePage, ProviderPage};
    use crate::port::{masked, normalize_code, Lookup, PortError, SharedPort};

    const FAILURES: &str = "code_failures";
    const COOL_DOWN_UNTIL: &str = "code_cool_down_until";
    const LAST_PROVIDER: &str = "last_provider";
    /// Failed codes a browser session may enter before it must wait.
    const SESSION_FAILURES: u32 = 5;
    /// How long it waits then.
    const COOL_DOWN_SECS: u64 = 120;

    /// How the server checks code lookups per viewer IP; provided through context.
    pub trait LookupLimiter: Send + Sync {
        /// `Err(seconds)` when `viewer` must wait before its next lookup.
        fn admit(&self, viewer: IpAddr) -> Result<(), u64>;
        /// Counts a code that matched nothing (exported as a metric).
        fn failed_guess(&self);
    }

    /// Everything a server function needs from the request.
    struct Call {
        port: SharedPort,
        viewer: IpAddr,
        session: Option<Session>,
    }

    async fn call() -> Result<Call, ServerFnError> {
        let port = use_context::<SharedPort>()
            .ok_or_else(|| ServerFnError::new("the activation port is not configured"))?;
        let viewer = use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<ViewerIp>().copied())
            .map(|v| v.0)
            .ok_or_else(|| ServerFnError::new("the viewer's address is unknown"))?;
        let session = leptos_axum::extract::<Session>().await.ok();
        Ok(Call {
            port,
            viewer,
            session,
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

    async fn record_session_failure(session: &Session) {
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

    pub(super) async fn check_code(input: &str) -> Result<CodeCheck, ServerFnError> {
        if input.trim().is_empty() {
            return Ok(CodeCheck::Empty);
        }
        let Some(code) = normalize_code(input) else {
            set_status(StatusCode::BAD_REQUEST, None);
            return Ok(CodeCheck::NotACode);
        };
        let call = call().await?;
        if let Some(session) = &call.session {
            if let Some(wait) = session_wait(session).await {
                set_status(StatusCode::TOO_MANY_REQUESTS, Some(wait));
                return Ok(CodeCheck::TooMany(wait));
            }
        }
        if let Some(limiter) = use_context::<std::sync::Arc<dyn LookupLimiter>>() {
            if let Err(wait) = limiter.admit(call.viewer) {
                set_status(StatusCode::TOO_MANY_REQUESTS, Some(wait));
                return Ok(CodeCheck::TooMany(wait));
            }
        }
        match call.port.look_up(&code, call.viewer).await {
            Ok(Lookup::Pending(details)) => Ok(CodeCheck::Pending(details)),
            Ok(Lookup::Gone) => {
                if let Some(limiter) = use_context::<std::sync::Arc<dyn LookupLimiter>>() {
                    limiter.failed_guess();
                }
                if let Some(session) = &call.session {
                    record_session_failure(session).await;
                }
                set_status(StatusCode::NOT_FOUND, None);
                Ok(CodeCheck::Gone)
            }
            Err(error) => {
                port_failure(&error, &code);
                Ok(CodeCheck::Busy)
            }
        }
    }

    pub(super) async fn provider_page(input: &str) -> Result<ProviderPage, ServerFnError> {
        let Some(code) = normalize_code(input) else {
            return Ok(ProviderPage::Gone);
        };
        let call = call().await?;
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
        Ok(ProviderPage::Choose { code, choice, last })
    }

    pub(super) async fn complete_page(input: &str) -> Result<CompletePage, ServerFnError> {
        let Some(code) = normalize_code(input) else {
            return Ok(CompletePage::Gone);
        };
        let call = call().await?;
        match call.port.complete(&code, call.viewer).await {
            Ok(outcome) => Ok(CompletePage::Outcome(code, outcome)),
            Err(error) => {
                port_failure(&error, &code);
                Ok(CompletePage::Busy)
            }
        }
    }

    /// State changes come only from this site's own pages: the `Origin` must be ours, or, when
    /// the browser sends `Origin: null` (as it does under `Referrer-Policy: no-referrer`),
    /// `Sec-Fetch-Site` must say `same-origin`.
    fn same_origin() -> Result<(), ServerFnError> {
        let parts = use_context::<Parts>()
            .ok_or_else(|| ServerFnError::new("the request is not available"))?;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let host = header("host").unwrap_or_default();
        let origin_ok = header("origin").is_some_and(|origin| {
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
        });
        let fetch_site_ok = header("sec-fetch-site") == Some("same-origin")
            && matches!(header("origin"), None | Some("null"));
        if origin_ok || fetch_site_ok {
            Ok(())
        } else {
            set_status(StatusCode::FORBIDDEN, None);
            Err(ServerFnError::new(
                "this form must be sent from this site's own page",
            ))
        }
    }

    fn code_url(path: &str, code: &str) -> String {
        format!("{path}?code={code}")
    }

    pub(super) async fn confirm_code(input: &str) -> Result<(), ServerFnError> {
        same_origin()?;
        let Some(code) = normalize_code(input) else {
            leptos_axum::redirect("/activate");
            return Ok(());
        };
        let call = call().await?;
        match call.port.look_up(&code, call.viewer).await {
            Ok(Lookup::Pending(details)) => match details.provider {
                Some(provider) => redirect_to_sign_in(&call, &code, &provider.id).await,
                None => leptos_axum::redirect(&code_url("/activate/provider", &code)),
            },
            Ok(Lookup::Gone) => leptos_axum::redirect(&code_url("/activate", &code)),
            Err(error) => {
                port_failure(&error, &code);
                leptos_axum::redirect(&code_url("/activate", &code));
            }
        }
        Ok(())
    }

    pub(super) async fn cancel_code(input: &str) -> Result<(), ServerFnError> {
        same_origin()?;
        if let Some(code) = normalize_code(input) {
            let call = call().await?;
            // A code that is already gone needs no cancelling: the page says the same.
            if let Err(error) = call.port.cancel(&code).await {
                tracing::info!(code = %masked(&code), %error, "cancelling an activation");
            }
        }
        leptos_axum::redirect("/activate/cancelled");
        Ok(())
    }

    pub(super) async fn sign_in(input: &str, mvpd: &str) -> Result<(), ServerFnError> {
        same_origin()?;
        let Some(code) = normalize_code(input) else {
            leptos_axum::redirect("/activate");
            return Ok(());
        };
        let call = call().await?;
        redirect_to_sign_in(&call, &code, mvpd).await;
        Ok(())
    }

    async fn redirect_to_sign_in(call: &Call, code: &str, mvpd: &str) {
        match call.port.start_sign_in(code, mvpd, call.viewer).await {
            Ok(Some(url)) => {
                if let Some(session) = &call.session {
                    if let Err(error) = session.insert(LAST_PROVIDER, mvpd).await {
                        tracing::warn!(%error, "cannot remember the provider");
                    }
                }
                leptos_axum::redirect(&url);
            }
            Ok(None) => leptos_axum::redirect(&code_url("/activate", code)),
            Err(error) => {
                port_failure(&error, code);
                leptos_axum::redirect(&code_url("/activate/provider", code));
            }
        }
    }
}
