//! `GET /tv/v1/providers`: the TV providers a viewer may pick, featured ones first.

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::MeteredDevice,
    error::{ApiError, ErrorBody},
};
use crate::service::{self, Service};

/// The providers to offer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Providers {
    /// Featured providers first (in the configured order), then the others by name.
    pub providers: Vec<Provider>,
}

/// A TV provider (MVPD).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// The MVPD id, as `mvpd` in `POST /tv/v1/activations`.
    #[schema(example = "Spectrum")]
    pub id: String,
    /// The brand name to show.
    #[schema(example = "Spectrum")]
    pub display_name: String,
    /// The logo, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

impl From<service::Provider> for Provider {
    fn from(provider: service::Provider) -> Self {
        Self {
            id: provider.id,
            display_name: provider.display_name,
            logo_url: provider.logo_url,
        }
    }
}

/// The providers the device's viewer may pick.
#[utoipa::path(
    get,
    path = "/tv/v1/providers",
    tag = "providers",
    security(("deviceToken" = [])),
    responses(
        (status = 200, description = "The providers", body = Providers),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 429, description = "Too many steps reaching Adobe from this TV or its network; retry after `retryAfter` seconds", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn list(
    State(service): State<Service>,
    MeteredDevice(session): MeteredDevice,
) -> Result<Json<Providers>, ApiError> {
    let list = service.providers(&session).await?;
    let featured: Vec<&str> = list.featured.iter().map(|p| p.id.as_str()).collect();
    let others: Vec<service::Provider> = list
        .all
        .iter()
        .filter(|p| !featured.contains(&p.id.as_str()))
        .cloned()
        .collect();
    let providers = list
        .featured
        .into_iter()
        .chain(others)
        .map(Provider::from)
        .collect();
    Ok(Json(Providers { providers }))
}
