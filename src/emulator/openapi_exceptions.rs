//! The one list of places where the emulator follows Adobe's documented bodies (and
//! REST-API-V2.md) instead of Adobe's OpenAPI files, each with its reason.
//!
//! Each exception is a replacement: the JSON value at each of its `pointers` (RFC 6901
//! pointers into `restApiV2.json`) is set to `replacement`. The conformance tests apply them before
//! validating responses, and the fuzz script fetches them from
//! `GET /__emulator/openapi-exceptions` and applies them before running schemathesis.

use axum::Json;
use serde::Serialize;

/// One deviation from Adobe's OpenAPI.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OpenApiException {
    /// RFC 6901 pointers into `restApiV2.json`; the last segment is created if absent.
    pub pointers: &'static [&'static str],
    /// The JSON that replaces it.
    pub replacement: &'static str,
    /// Why.
    pub reason: &'static str,
}

const ERROR_BODY: &str = r##"{"description": "Enhanced Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorInformation"}}}}"##;

/// Every exception.
pub const OPENAPI_EXCEPTIONS: &[OpenApiException] = &[
    OpenApiException {
        pointers: &["/components/schemas/ErrorInformation/properties/message"],
        replacement: r#"{"type": "string"}"#,
        reason: "OAS types message as an object (Message); every documented error body (§8.3, §9, §11) has a string.",
    },
    OpenApiException {
        pointers: &["/components/schemas/UserMetadataResponse/properties/value"],
        replacement: "{}",
        reason: "OAS types value as an object; documented profiles (§8.1) carry strings, numbers and arrays (userID, expiration_date, used_assets, zip).",
    },
    OpenApiException {
        pointers: &["/components/schemas/Connection/properties/ipAddress"],
        replacement: r#"{"type": "string"}"#,
        reason: "OAS models ipAddress as a Java InetAddress object; the documented session sample (§7.4) has a string.",
    },
    OpenApiException {
        pointers: &[
            "/paths/~1{serviceProvider}~1profiles~1{mvpd}/get/responses/403",
            "/paths/~1{serviceProvider}~1profiles~1code~1{code}/get/responses/403",
            "/paths/~1{serviceProvider}~1decisions~1preauthorize~1{mvpd}/post/responses/403",
            "/paths/~1{serviceProvider}~1decisions~1authorize~1{mvpd}/post/responses/403",
        ],
        replacement: ERROR_BODY,
        reason: "OAS lists no 403; the DOC gives 403 on P2 and P3 when a TempPass is used up (§2, §8.3, §8.4) and on D1 and D2 for too_many_resources (§9, §11).",
    },
    OpenApiException {
        pointers: &["/paths/~1{serviceProvider}~1profiles~1sso~1{partner}/post/responses/201"],
        replacement: r##"{"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProfilesResponse"}}}}"##,
        reason: "OAS lists 200 only; the DOC (§5, §13.2) and fixture partner-sso-profiles-apple-sso-201 give 201 Created.",
    },
    OpenApiException {
        pointers: &["/paths/~1authenticate~1{serviceProvider}~1{code}/get/responses/302"],
        replacement: r#"{"description": "Found: redirect to the MVPD login"}"#,
        reason: "OAS gives the 302 an ErrorInformation JSON body; a redirect has a Location header and no body (§7.5).",
    },
    OpenApiException {
        pointers: &["/paths/~1authenticate~1{serviceProvider}~1{code}/get/responses/400"],
        replacement: r#"{"description": "Bad request", "content": {"text/html": {}}}"#,
        reason: "The browser endpoint answers errors as text/html, not JSON (§7.5).",
    },
    OpenApiException {
        pointers: &["/components/responses/Throttled"],
        replacement: r#"{"description": "Too Many Requests", "content": {"text/html": {}}}"#,
        reason: "OAS lists no 429; throttling (§12) answers 429 with an HTML page on every endpoint. Validators use this response for any 429.",
    },
    OpenApiException {
        pointers: &["/components/responses/InjectedUnavailable"],
        replacement: ERROR_BODY,
        reason: "OAS lists no 503; the emulator answers 503 (with an internal_server_error body) only when a fault rule injects it. Validators use this response for any 503.",
    },
    OpenApiException {
        pointers: &["/components/responses/NotAcceptable"],
        replacement: ERROR_BODY,
        reason: "OAS lists no 406; every API page says Accept, if specified, must be application/json;charset=utf-8, and the emulator answers any other value with 406 (not_acceptable). Validators use this response for any 406.",
    },
];

/// `GET /__emulator/openapi-exceptions`.
pub async fn list() -> Json<&'static [OpenApiException]> {
    Json(OPENAPI_EXCEPTIONS)
}
