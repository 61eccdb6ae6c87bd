//! `GET /tv/v1/providers`: the TV providers a viewer may pick, featured ones first, each with
//! the notice an operator set while its sign-in is having trouble.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::MeteredDevice,
    error::{ApiError, ErrorBody},
};
use crate::service::{self, Service};
use app::i18n::Lang;

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
    /// While the provider's sign-in is having trouble: a notice to show beside it, in the
    /// language of `Accept-Language` the service speaks (English, Spanish), else English.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Spectrum sign-in is having trouble right now.")]
    pub notice: Option<String>,
}

impl Provider {
    fn of(provider: service::Provider, language: Lang) -> Self {
        let notice = provider
            .notice
            .as_ref()
            .map(|messages| language.trouble_notice(messages, &provider.display_name));
        Self {
            id: provider.id,
            display_name: provider.display_name,
            logo_url: provider.logo_url,
            notice,
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
    headers: HeaderMap,
    MeteredDevice(session): MeteredDevice,
) -> Result<Json<Providers>, ApiError> {
    let language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::En);
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
        .map(|provider| Provider::of(provider, language))
        .collect();
    Ok(Json(Providers { providers }))
}

#[cfg(test)]
mod tests {
    use crate::service::NOTICE_LANGUAGES;

    use super::*;

    /// Operators write notices in the languages the site and the TV API speak.
    #[test]
    fn notices_are_written_in_the_languages_spoken() {
        let spoken: Vec<&str> = Lang::ALL.into_iter().map(Lang::tag).collect();
        assert_eq!(spoken, NOTICE_LANGUAGES);
    }
}
