//! JSON request bodies: malformed JSON, unknown fields and wrong types get a 400 that names the
//! field; an empty body counts as `{}` so bodies whose fields are all optional may be left out.
//! A route any web page could reach without a token takes [`DeclaredJsonBody`] instead, which
//! insists on the JSON content type.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{header, HeaderMap, StatusCode},
};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let declared_json = declared_json(request.headers());
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "body: the request body is too large",
                        "fix-request",
                    ),
                    _ => ApiError::invalid("body", rejection.body_text()),
                })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse(b"{}").map(Self);
        }
        if declared_json == Some(false) {
            return Err(not_declared_json());
        }
        parse(&bytes).map(Self)
    }
}

/// A JSON body of type `T` sent with `Content-Type: application/json`; without that header
/// (none, or a form's) the request is refused with 415 before its body is read. A web page can
/// send those to any site without the browser asking the site first (a CORS preflight), so a
/// route that needs no token takes this: every cross-site caller must ask, and is refused.
#[derive(Debug)]
pub struct DeclaredJsonBody<T>(pub T);

impl<T, S> FromRequest<S> for DeclaredJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if declared_json(request.headers()) != Some(true) {
            return Err(not_declared_json());
        }
        let JsonBody(body) = JsonBody::from_request(request, state).await?;
        Ok(Self(body))
    }
}

fn not_declared_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "body: send the body as JSON, with the header Content-Type: application/json",
        "fix-request",
    )
}

/// Whether the request's `Content-Type` names JSON; `None` without one.
fn declared_json(headers: &HeaderMap) -> Option<bool> {
    headers
        .get(header::CONTENT_TYPE)
        .map(|value| is_json(value.to_str().unwrap_or_default()))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Parses `bytes` as a `T`; errors name the field at fault.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let detail = error.inner().to_string();
        let field = field_of(&error.path().to_string(), &detail);
        ApiError::invalid(&field, detail)
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::invalid("body", error))?;
    Ok(value)
}

/// The field an error is about: the path where it was met (an unknown field's path ends with
/// its name), else the field serde names (a missing one), else the whole body.
fn field_of(path: &str, detail: &str) -> String {
    // serde_path_to_error writes `?` for a position it cannot name (cut-off JSON).
    let known: Vec<&str> = path
        .split('.')
        .take_while(|segment| *segment != "?")
        .filter(|segment| !segment.is_empty())
        .collect();
    if !known.is_empty() {
        return known.join(".");
    }
    detail
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .unwrap_or("body")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        resource: String,
        #[allow(dead_code)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        model: String,
    }

    fn message(json: &str) -> String {
        let error = parse::<Outer>(json.as_bytes()).expect_err("invalid");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        format!("{error:?}")
    }

    #[test]
    fn errors_name_the_field() {
        assert!(
            message(r#"{"resource": "a", "extra": 1}"#).contains("message: \"extra: unknown field")
        );
        assert!(message(r#"{}"#).contains("message: \"resource: missing field"));
        assert!(message(r#"{"resource": 5}"#).contains("message: \"resource: invalid type"));
        assert!(
            message(r#"{"resource": "a", "inner": {"model": "x", "os": 1}}"#)
                .contains("message: \"inner.os: unknown field")
        );
        assert!(message(r#"{"resource": "a"} x"#).contains("message: \"body: trailing"));
        assert!(message(r#"{"resource": "#).contains("message: \"resource: EOF"));
        assert!(message(r#"{"resource": "a""#).contains("message: \"body: EOF"));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
    }
}
