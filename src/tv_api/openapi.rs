//! The OpenAPI document of the Streaming App API, served at `GET /tv/v1/openapi.json`.

use axum::Json;
use utoipa::{
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
    Modify, OpenApi,
};

use super::{activations, decisions, devices, error, keys, logout, profile, providers, temppass};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tve-activate Streaming App API",
        version = "1",
        description = "What a TV app calls to sign its viewer in with a TV provider (by code and QR \
            code on a second screen) and to decide plays, through Adobe Pass. Every call but \
            `POST /tv/v1/devices` needs `Authorization: Bearer <device token>`. Timestamps \
            (`expiresAt`) are epoch milliseconds (numbers). Errors are always \
            `{\"error\": {\"code\", \"message\", \"action\", \"retryAfter\"?}}`; 429 and 503 \
            answers carry `retryAfter` and `Retry-After` (the same whole seconds, jittered): wait \
            at least that long before trying again, and add no schedule of your own that would \
            bring TVs back together."
    ),
    paths(
        devices::register,
        providers::list,
        profile::show,
        activations::start,
        activations::status,
        activations::events,
        activations::qr,
        decisions::preauthorize,
        decisions::authorize,
        keys::public_keys,
        logout::logout,
        temppass::start,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&DeviceToken),
    tags(
        (name = "devices", description = "Register once per install"),
        (name = "providers", description = "TV providers to pick from"),
        (name = "profile", description = "Whether the viewer is signed in"),
        (name = "activations", description = "Sign in on a second screen with a code"),
        (name = "decisions", description = "Preauthorize and authorize plays"),
        (name = "logout", description = "Sign out"),
        (name = "temppass", description = "Trial viewing without sign-in"),
    )
)]
pub struct ApiDoc;

/// Declares the `deviceToken` bearer scheme the paths refer to.
struct DeviceToken;

impl Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "deviceToken",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Serves the document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
