//! The device a request comes from: `Authorization: Bearer <device token>`, checked with the
//! service, with the device's public address for its upstream calls.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap},
};

use super::{client_addr::ClientAddr, error::ApiError};
use crate::{
    service::{Caller, DeviceSession},
    state::AppState,
    support::SupportCase,
};

/// A device that proved its token.
#[derive(Clone, Debug)]
pub struct AuthenticatedDevice(pub DeviceSession);

impl FromRequestParts<AppState> for AuthenticatedDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(addr) = ClientAddr::from_request_parts(parts, state).await?;
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("Send the device token as Authorization: Bearer <token>.")
        })?;
        let session = state.service.authenticate_device(token, addr).await?;
        // Support codes of this request's errors map to the device (its pseudonymous id).
        if let Some(case) = parts.extensions.get::<Arc<SupportCase>>() {
            case.set_device(&session.device.device_id);
        }
        Ok(Self(session))
    }
}

/// A device that proved its token, on a route that makes the service call Adobe for it: the
/// step is admitted by the meters per device and per address prefix first (429 past them).
#[derive(Clone, Debug)]
pub struct MeteredDevice(pub DeviceSession);

impl FromRequestParts<AppState> for MeteredDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthenticatedDevice(session) =
            AuthenticatedDevice::from_request_parts(parts, state).await?;
        state.service.admit_adobe_step(Caller::tv(&session)).await?;
        Ok(Self(session))
    }
}

/// The token of an `Authorization: Bearer` header (the scheme is case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().expect("header"));
        headers
    }

    #[test]
    fn bearer_tokens_are_read() {
        assert_eq!(bearer(&headers("Bearer tvd_abc")), Some("tvd_abc"));
        assert_eq!(bearer(&headers("bearer  tvd_abc ")), Some("tvd_abc"));
        assert_eq!(bearer(&headers("Basic dXNlcg==")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
