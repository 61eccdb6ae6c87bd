//! Where Adobe's documents allow two readings the emulator takes the strict one; these switches
//! turn on the lenient one, so the service can be tested against both (see
//! docs/adobe-pass-conformance.md, "Strict by default").

use axum::{
    extract::{Request, State},
    http::{header::ACCEPT, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    errors::{ApiError, ErrorCode},
    state::EmulatorState,
};

/// The lenient readings in force; the default is strict everywhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readings {
    /// Take any `Accept` header, as the samples' `application/json`. Strict: every API page
    /// says `Accept`, "if specified, must be `application/json;charset=utf-8`", else 406.
    pub any_accept: bool,
    /// S2 and P3 without `AP-Device-Identifier`, and P3 answered for any device, as the API
    /// pages' header tables list no device headers there. Strict: the secondary-application
    /// flow lists `AP-Device-Identifier` as required on S2 and P3, and P3 gives "the profile
    /// associated with the received parameters and headers", so only the session's device
    /// sees the sign-in.
    pub unbound_code_calls: bool,
}

/// Whether an `Accept` value is the one Adobe's pages allow (media type and charset compared
/// without case, spaces around `;` ignored).
fn is_json_utf8(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    let params: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();
    media.eq_ignore_ascii_case("application/json")
        && matches!(params.as_slice(), [charset] if charset
            .split_once('=')
            .is_some_and(|(name, value)| name.trim().eq_ignore_ascii_case("charset")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")))
}

/// Middleware for the JSON APIs (DCR and REST API V2, not the browser's S4): refuses an
/// `Accept` other than `application/json;charset=utf-8` with 406, unless
/// [`Readings::any_accept`].
pub async fn check_accept(
    State(state): State<EmulatorState>,
    request: Request,
    next: Next,
) -> Response {
    let browser = request.uri().path().starts_with("/api/v2/authenticate/");
    let refused = request
        .headers()
        .get(ACCEPT)
        .is_some_and(|value| !is_json_utf8(value));
    if refused && !browser && !state.readings().any_accept {
        return ApiError::new(ErrorCode::NotAcceptable).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_in_utf8_is_acceptable() {
        for (value, ok) in [
            ("application/json;charset=utf-8", true),
            ("application/json; charset=UTF-8", true),
            ("Application/JSON;charset=\"utf-8\"", true),
            ("application/json", false),
            ("*/*", false),
            ("application/json;charset=iso-8859-1", false),
            ("application/json;charset=utf-8;q=1", false),
            ("text/html", false),
        ] {
            assert_eq!(
                is_json_utf8(&HeaderValue::from_static(value)),
                ok,
                "{value}"
            );
        }
    }
}
