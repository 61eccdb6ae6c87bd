//! Dynamic Client Registration (§4): software statement → client credentials → access token,
//! and the bearer check every REST API V2 call goes through.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRequestParts, RawQuery, State},
    http::{request::Parts, HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::emulator::{
    errors::{ApiError, ErrorCode},
    headers::{self, BodyType},
    responses::{adobe_json, AccessTokenResponse, ClientApplication, DcrError},
    state::{millis, EmulatorState},
};

/// A registered client.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Client {
    /// SHA-256 of its secret (hex): the secret itself is never kept, so a state file holds
    /// nothing a caller could present.
    pub secret_sha256: String,
}

/// An issued access token (kept under the SHA-256 of the token, see [`digest`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessToken {
    /// Whose.
    pub client_id: String,
    /// Epoch ms after which it is refused.
    pub expires_at: i64,
}

/// SHA-256 of a client secret or access token, in lower-case hex.
pub fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

fn dcr_error(code: &str) -> Response {
    adobe_json(
        StatusCode::BAD_REQUEST,
        &DcrError {
            error: code.to_owned(),
        },
    )
}

#[derive(Deserialize)]
struct RegisterRequest {
    software_statement: Option<String>,
    redirect_uri: Option<String>,
}

/// Both DCR calls require `Content-Type` and `X-Device-Info` (§4.1, §4.2); without them
/// the answer is `invalid_request`.
fn dcr_headers_valid(request_headers: &HeaderMap, kind: BodyType) -> bool {
    headers::has_body_type(request_headers, kind) && headers::device_info(request_headers).is_ok()
}

/// Whether DCR takes `uri` as a redirect URI: absolute, with a host among the service
/// provider's registered domains ("when a client application uses a specific redirect URL, it
/// is validated against the domains picked" for the registered application).
fn registered_redirect_uri(state: &EmulatorState, uri: &str) -> bool {
    url::Url::parse(uri)
        .ok()
        .and_then(|url| url.host_str().map(|host| state.is_registered_domain(host)))
        .unwrap_or(false)
}

/// Whether a device with this `X-Device-Info` may register with `statement`: the default
/// application's for every platform; a platform application's only for its platforms
/// (`unapproved_software_statement`); anything else is `invalid_software_statement`.
fn statement_error(
    state: &EmulatorState,
    statement: &str,
    info: &serde_json::Map<String, serde_json::Value>,
) -> Option<&'static str> {
    let applications: Vec<_> = state
        .platform_applications()
        .iter()
        .filter(|application| application.software_statement == statement)
        .collect();
    if applications.is_empty() {
        return (statement != state.software_statement()).then_some("invalid_software_statement");
    }
    let on_its_platform = applications
        .iter()
        .any(|application| application.platforms.iter().any(|p| p.includes(info)));
    (!on_its_platform).then_some("unapproved_software_statement")
}

/// `POST /o/client/register`: JSON `{software_statement, redirect_uri?}` → 201 credentials.
/// Errors (400): `invalid_request` (not JSON, no statement, no `Content-Type` or
/// `X-Device-Info`), `invalid_software_statement` (no application's statement),
/// `unapproved_software_statement` (an application's, for other platforms),
/// `invalid_redirect_uri` (not an absolute URI on a registered domain).
pub async fn register(
    State(state): State<EmulatorState>,
    request_headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !dcr_headers_valid(&request_headers, BodyType::Json) {
        return dcr_error("invalid_request");
    }
    let Ok(request) = serde_json::from_slice::<RegisterRequest>(&body) else {
        return dcr_error("invalid_request");
    };
    let Some(statement) = request.software_statement.filter(|s| !s.is_empty()) else {
        return dcr_error("invalid_request");
    };
    let info = headers::device_info(&request_headers).unwrap_or_default();
    if let Some(error) = statement_error(&state, &statement, &info) {
        return dcr_error(error);
    }
    let redirect_uris = match request.redirect_uri {
        Some(uri) if !registered_redirect_uri(&state, &uri) => {
            return dcr_error("invalid_redirect_uri")
        }
        Some(uri) => vec![uri],
        None => Vec::new(),
    };
    let client_id = uuid::Uuid::new_v4().simple().to_string();
    let client_secret = uuid::Uuid::new_v4().simple().to_string();
    state.store().clients.insert(
        client_id.clone(),
        Client {
            secret_sha256: digest(&client_secret),
        },
    );
    adobe_json(
        StatusCode::CREATED,
        &ClientApplication {
            client_id,
            client_secret,
            client_id_issued_at: state.now_ms() / 1000,
            redirect_uris,
            grant_types: vec!["client_credentials".to_owned()],
            scopes: vec!["api:client:v2".to_owned()],
        },
    )
}

/// `POST /o/client/token`: form (or, as OAS models it, query) `client_id`, `client_secret`,
/// `grant_type=client_credentials` → 201 token. Errors (400): `invalid_request` (a field
/// missing), `unsupported_grant_type`, `invalid_client` (unknown client), `unauthorized_client`
/// (wrong secret).
pub async fn token(
    State(state): State<EmulatorState>,
    RawQuery(query): RawQuery,
    request_headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !dcr_headers_valid(&request_headers, BodyType::Form) {
        return dcr_error("invalid_request");
    }
    let mut fields: HashMap<String, String> = query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    fields.extend(url::form_urlencoded::parse(&body).into_owned());
    let field = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();
    let (Some(client_id), Some(secret), Some(grant_type)) = (
        field("client_id"),
        field("client_secret"),
        field("grant_type"),
    ) else {
        return dcr_error("invalid_request");
    };
    if grant_type != "client_credentials" {
        return dcr_error("unsupported_grant_type");
    }
    let now = state.now_ms();
    let ttl = state.ttls().access_token;
    let mut store = state.store();
    match store.clients.get(&client_id) {
        None => return dcr_error("invalid_client"),
        // Digests compared: timing reveals nothing about the secret itself.
        Some(client) if client.secret_sha256 != digest(&secret) => {
            return dcr_error("unauthorized_client")
        }
        Some(_) => {}
    }
    store.tokens.retain(|_, t| t.expires_at > now);
    let access_token = uuid::Uuid::new_v4().simple().to_string();
    store.tokens.insert(
        digest(&access_token),
        AccessToken {
            client_id,
            expires_at: now.saturating_add(millis(ttl)),
        },
    );
    drop(store);
    adobe_json(
        StatusCode::CREATED,
        &AccessTokenResponse {
            id: uuid::Uuid::new_v4().to_string(),
            access_token,
            created_at: now,
            expires_in: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
            token_type: "bearer".to_owned(),
        },
    )
}

/// A caller with a live access token; holds its `client_id`. Rejects with 401
/// `invalid_access_token_client_application` when the token is missing, unknown or expired.
#[derive(Clone, Debug)]
pub struct Authorized(pub String);

impl Authorized {
    fn check(state: &EmulatorState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let token = headers::text(headers, "authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let now = state.now_ms();
        let store = state.store();
        token
            .and_then(|t| store.tokens.get(&digest(t)))
            .filter(|t| t.expires_at > now)
            .map(|t| Self(t.client_id.clone()))
            .ok_or_else(|| ErrorCode::InvalidAccessTokenClientApplication.into())
    }
}

impl FromRequestParts<EmulatorState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &EmulatorState,
    ) -> Result<Self, Self::Rejection> {
        Self::check(state, &parts.headers)
    }
}
