//! The mock MVPD login page the authenticate URL leads to: the provider's name and logo,
//! username and password, a clear error on a wrong password, and Cancel. Success stores the
//! profile and returns the browser to the session's `redirectUrl`; Cancel returns without one.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};

use crate::emulator::{
    logos::LOGO_PATH,
    profiles::{self, ProfileKind},
    sessions::{html_error, pending_session, Outcome, Session},
    state::EmulatorState,
};

/// Path prefix of the login page; the code follows.
pub const LOGIN_PATH: &str = "/mvpd-login";

/// Self-contained page: no scripts, no external resources, inline styles only.
/// No `form-action`: browsers apply it to the redirect to `redirectUrl` on another origin.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(
    status: StatusCode,
    mvpd_id: &str,
    mvpd_name: &str,
    code: &str,
    error: Option<&str>,
) -> Response {
    let name = escape(mvpd_name);
    let error = error
        .map(|e| {
            format!(
                "<p id=\"error\" role=\"alert\" class=\"error\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let described = if error.is_empty() {
        ""
    } else {
        " aria-describedby=\"error\""
    };
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; color: #1b1b1b; margin: 0; }}
main {{ max-width: 24rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: .5rem; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .6rem; margin-top: .25rem; font-size: 1rem; border: 1px solid #6b6b6b; border-radius: .25rem; }}
.actions {{ display: flex; gap: .75rem; margin-top: 1.5rem; }}
button {{ padding: .6rem 1.2rem; font-size: 1rem; border-radius: .25rem; border: 1px solid #1b1b1b; cursor: pointer; }}
button[value=login] {{ background: #1b1b1b; color: #fff; }}
.error {{ color: #a4000f; background: #fdecee; padding: .75rem; border-radius: .25rem; }}
.hint {{ color: #4a4a4a; font-size: .875rem; }}
</style>
</head>
<body>
<main>
<img src="{LOGO_PATH}/{logo}.svg" alt="{name} logo" width="120" height="48">
<h1>Sign in to {name}</h1>
<p class="hint">Emulated provider login. Test accounts: premium/premium, basic/basic, kids/kids.</p>
{error}
<form method="post" action="{LOGIN_PATH}/{code}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required{described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</div>
</form>
</main>
</body>
</html>
"#,
        logo = escape(mvpd_id),
        code = escape(code),
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn expired() -> Response {
    html_error(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "This sign-in link is unknown, used or expired. Start again on your device.",
    )
}

/// The session behind a login page, with its MVPD's display name.
fn session_for(state: &EmulatorState, code: &str) -> Option<(Session, String)> {
    let now = state.now_ms();
    let session = pending_session(&mut state.store(), code, now).ok()?.clone();
    let name = state
        .dataset()
        .mvpd(session.mvpd.as_deref()?)?
        .display_name
        .clone();
    Some((session, name))
}

/// `GET /mvpd-login/{code}`.
pub async fn show(State(state): State<EmulatorState>, Path(code): Path<String>) -> Response {
    match session_for(&state, &code) {
        Some((session, name)) => page(
            StatusCode::OK,
            session.mvpd.as_deref().unwrap_or_default(),
            &name,
            &code,
            None,
        ),
        None => expired(),
    }
}

fn finish(state: &EmulatorState, session: &Session, outcome: Outcome) -> Response {
    if let Some(stored) = state.store().sessions.get_mut(&session.code) {
        stored.outcome = outcome;
    }
    match &session.redirect_url {
        Some(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url.clone())]).into_response(),
        None => expired(),
    }
}

/// `POST /mvpd-login/{code}` (form: `username`, `password`, `action` = `login` | `cancel`).
pub async fn submit(
    State(state): State<EmulatorState>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let Some((session, name)) = session_for(&state, &code) else {
        return expired();
    };
    let mut username = String::new();
    let mut password = String::new();
    let mut cancel = false;
    for (key, value) in url::form_urlencoded::parse(&body) {
        match key.as_ref() {
            "username" => username = value.trim().to_owned(),
            "password" => password = value.into_owned(),
            "action" => cancel = value == "cancel",
            _ => {}
        }
    }
    if cancel {
        return finish(&state, &session, Outcome::Cancelled);
    }
    let mvpd = session.mvpd.clone().unwrap_or_default();
    let Some(account) = state.dataset().account(&username, &password).cloned() else {
        return page(
            StatusCode::UNAUTHORIZED,
            &mvpd,
            &name,
            &code,
            Some("The username or password is incorrect. Check them and try again."),
        );
    };
    profiles::create(
        &state,
        session.profile_key(&mvpd),
        &account.username,
        ProfileKind::Regular,
        &session.id,
    );
    finish(&state, &session, Outcome::Authenticated)
}
