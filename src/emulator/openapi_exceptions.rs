//! The one list of places where the emulator follows Adobe's documented bodies (and
//! REST-API-V2.md) instead of Adobe's OpenAPI files, each with its reason.
//!
//! Each exception is a replacement: the JSON value at `pointer` (an RFC 6901 pointer into
//! `restApiV2.json`) is set to `replacement`. The conformance tests apply them before
//! validating responses, and the fuzz script fetches them from
//! `GET /__emulator/openapi-exceptions` and applies them before running schemathesis.

use axum::Json;
use serde::Serialize;

/// One deviation from Adobe's OpenAPI.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OpenApiException {
    /// RFC 6901 pointer into `restApiV2.json`; the last segment is created if absent.
    pub pointer: &'static str,
    /// The JSON that replaces it.
    pub replacement: &'static str,
    /// Why.
    pub reason: &'static str,
}

const ERROR_BODY: &str = r##"{"description": "Enhanced Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorInformation"}}}}"##;

/// Every exception.
pub const OPENAPI_EXCEPTIONS: &[OpenApiException] = &[
    OpenApiException {
        pointer: "/components/schemas/ErrorInformation/properties/message",
        replacement: r#"{"type": "string"}"#,
        reason: "OAS types message as an object (Message); every documented error body (§8.3, §9, §11) has a string.",
    },
    OpenApiException {
        pointer: "/components/schemas/UserMetadataResponse/properties/value",
        replacement: "{}",
        reason: "OAS types value as an object; documented profiles (§8.1) carry strings, numbers and arrays (userID, expiration_date, used_assets, zip).",
    },
    OpenApiException {
        pointer: "/components/schemas/Connection/properties/ipAddress",
        replacement: r#"{"type": "string"}"#,
        reason: "OAS models ipAddress as a Java InetAddress object; the documented session sample (§7.4) has a string.",
    },
    OpenApiException {
        pointer: "/paths/~1{serviceProvider}~1profiles~1{mvpd}/get/responses/403",
        replacement: ERROR_BODY,
        reason: "OAS lists no 403; the DOC (§2, §8.3) and fixtures give 403 when a TempPass is used up.",
    },
    OpenApiException {
        pointer: "/paths/~1{serviceProvider}~1profiles~1code~1{code}/get/responses/403",
        replacement: ERROR_BODY,
        reason: "OAS lists no 403; the DOC (§2, §8.4) and fixtures give 403 when a TempPass is used up.",
    },
    OpenApiException {
        pointer: "/paths/~1{serviceProvider}~1profiles~1sso~1{partner}/post/responses/201",
        replacement: r##"{"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProfilesResponse"}}}}"##,
        reason: "OAS lists 200 only; the DOC (§5, §13.2) and fixture partner-sso-profiles-apple-sso-201 give 201 Created.",
    },
    OpenApiException {
        pointer: "/paths/~1authenticate~1{serviceProvider}~1{code}/get/responses/302",
        replacement: r#"{"description": "Found: redirect to the MVPD login"}"#,
        reason: "OAS gives the 302 an ErrorInformation JSON body; a redirect has a Location header and no body (§7.5).",
    },
    OpenApiException {
        pointer: "/paths/~1authenticate~1{serviceProvider}~1{code}/get/responses/400",
        replacement: r#"{"description": "Bad request", "content": {"text/html": {}}}"#,
        reason: "The browser endpoint answers errors as text/html, not JSON (§7.5).",
    },
    OpenApiException {
        pointer: "/components/responses/Throttled",
        replacement: r#"{"description": "Too Many Requests", "content": {"text/html": {}}}"#,
        reason: "OAS lists no 429; throttling (§12) answers 429 with an HTML page on every endpoint. Validators use this response for any 429.",
    },
    OpenApiException {
        pointer: "/components/responses/InjectedUnavailable",
        replacement: ERROR_BODY,
        reason: "OAS lists no 503; the emulator answers 503 (with an internal_server_error body) only when a fault rule injects it. Validators use this response for any 503.",
    },
];

/// `GET /__emulator/openapi-exceptions`.
pub async fn list() -> Json<&'static [OpenApiException]> {
    Json(OPENAPI_EXCEPTIONS)
}
