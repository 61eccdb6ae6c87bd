//! Enhanced Error Codes (REST API V2 §11): the error object, the codes the emulator gives, and
//! the top-level error response.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

/// Adobe's help page, sent as `helpUrl` on every error.
pub const HELP_URL: &str =
    "https://experienceleague.adobe.com/docs/pass/authentication/auth-features/error-reportn/enhanced-error-codes.html";

/// The Enhanced Error object, the same at top level and inside a decision item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnhancedError {
    /// Recommended remedy (`none`, `configuration`, `authentication`, …).
    pub action: String,
    /// HTTP-style status; may differ from the response's status.
    pub status: u16,
    /// Adobe error code.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Custom text from the MVPD or a degradation rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Help page.
    pub help_url: String,
    /// Response id for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The codes the emulator can give, each with the status, action and message §11 documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The service provider in the path is unknown.
    InvalidParameterServiceProvider,
    /// The MVPD is unknown.
    InvalidParameterMvpd,
    /// The code is not 7 characters A–Z0–9.
    InvalidParameterCode,
    /// The resources are missing or malformed.
    InvalidParameterResources,
    /// The redirect URL is not an absolute http(s) URL.
    InvalidParameterRedirectUrl,
    /// The partner is not `Apple`.
    InvalidParameterPartner,
    /// The SAML response is missing or not base64.
    InvalidParameterSamlResponse,
    /// `X-Device-Info` is missing or not base64 JSON.
    InvalidHeaderDeviceInfo,
    /// `AP-Device-Identifier` is missing or not `fingerprint <base64>`.
    InvalidHeaderDeviceIdentifier,
    /// `AP-TempPass-Identity` is missing or not base64 JSON.
    InvalidHeaderIdentityForTemporaryAccess,
    /// `AP-Partner-Framework-Status` is missing or has no permission information.
    InvalidHeaderPfsPermissionAccessNotPresent,
    /// The partner framework access status is `notDetermined`.
    InvalidHeaderPfsPermissionAccessNotDetermined,
    /// The partner framework access status is `denied` or `restricted`.
    InvalidHeaderPfsPermissionAccessNotGranted,
    /// The partner framework status names no provider.
    InvalidHeaderPfsProviderIdNotDetermined,
    /// The partner framework provider matches no MVPD.
    InvalidHeaderPfsProviderIdMismatch,
    /// The partner framework provider information has expired.
    InvalidHeaderPfsProviderInfoExpired,
    /// The code is unknown, expired, completed or replaced.
    InvalidAuthenticationSession,
    /// The MVPD denied preauthorization.
    PreauthorizationDeniedByMvpd,
    /// The MVPD denied authorization.
    AuthorizationDeniedByMvpd,
    /// Parental controls denied authorization.
    AuthorizationDeniedByParentalControls,
    /// An injected server fault.
    InternalServerError,
    /// More resources than the endpoint allows.
    TooManyResources,
    /// The access token is unknown or expired.
    InvalidAccessTokenClientApplication,
    /// No profile for this device and MVPD.
    AuthenticatedProfileMissing,
    /// The profile has expired.
    AuthenticatedProfileExpired,
    /// The TempPass time is used up.
    TemporaryAccessDurationLimitExceeded,
    /// The promotional TempPass resources are used up.
    TemporaryAccessResourcesLimitExceeded,
    /// The TempPass configuration is invalid.
    InvalidConfigurationTemporaryAccess,
    /// The HTTP method is not allowed on this path (emulator-specific code: §11 lists status
    /// 405 but no code for it).
    MethodNotAllowed,
    /// The body's `Content-Type` is not the one the endpoint takes (emulator-specific code:
    /// §11 lists none for it).
    UnsupportedMediaType,
    /// The profile was invalidated (for example by the MVPD).
    AuthenticatedProfileInvalidated,
    /// The integration between the service provider and the MVPD is missing or disabled.
    InvalidIntegration,
    /// The access token is not valid for the service provider.
    InvalidAccessTokenServiceProvider,
    /// The MVPD answered with an error.
    NetworkReceivedError,
    /// The MVPD did not answer in time.
    NetworkConnectionTimeout,
    /// The request took longer than allowed.
    MaximumExecutionTimeExceeded,
    /// An AuthZNone degradation rule denies the resource.
    AuthorizationDeniedByDegradationRule,
    /// `Accept` is not `application/json;charset=utf-8` (emulator-specific code: the pages
    /// say what `Accept` must be, not what a wrong one gets).
    NotAcceptable,
    /// `domainName` is not a registered domain of the service provider (emulator-specific
    /// code: §11 lists none for it).
    InvalidParameterDomainName,
    // --- Re-authentication and configuration codes of §11, for fault rules (begin) ---
    /// The profile came from home-based authentication and the device is no longer at home.
    AuthorizationDeniedByHbaPolicies,
    /// The identity provider invalidated the authentication session.
    AuthorizationDeniedBySessionInvalidated,
    /// The MVPD does not recognise the user's identity.
    IdentityNotRecognizedByMvpd,
    /// The user metadata certificate configuration is missing or invalid.
    InvalidConfigurationUserMetadataCertificate,
    /// The platform configuration is missing or invalid for the integration.
    InvalidConfigurationPlatform,
    /// The platform id configuration is missing or invalid.
    InvalidConfigurationPlatformId,
    /// The platform trait configuration is missing or invalid.
    InvalidConfigurationPlatformTrait,
    /// The platform category trait configuration is missing or invalid.
    InvalidConfigurationPlatformCategoryTrait,
    /// The platform services configuration is missing or invalid for the integration.
    InvalidConfigurationPlatformServices,
    /// The MVPD platform configuration is missing or invalid.
    InvalidConfigurationMvpdPlatform,
    /// The MVPD platform boarding status configuration is missing or invalid.
    InvalidConfigurationMvpdPlatformBoardingStatus,
    /// The MVPD platform profile exchange configuration is missing or invalid.
    InvalidConfigurationMvpdPlatformProfileExchange,
    // --- Re-authentication and configuration codes of §11, for fault rules (end) ---
}

impl ErrorCode {
    /// The code as Adobe spells it.
    pub fn code(self) -> &'static str {
        self.spec().0
    }

    /// The status §11 gives for the code.
    pub fn status(self) -> u16 {
        self.spec().1
    }

    /// (code, status, action, message)
    fn spec(self) -> (&'static str, u16, &'static str, &'static str) {
        use ErrorCode::*;
        match self {
            InvalidParameterServiceProvider => ("invalid_parameter_service_provider", 400, "none", "The service provider parameter value is missing or invalid."),
            InvalidParameterMvpd => ("invalid_parameter_mvpd", 400, "none", "The MVPD parameter value is missing or invalid."),
            InvalidParameterCode => ("invalid_parameter_code", 400, "none", "The code parameter value is missing or invalid."),
            InvalidParameterResources => ("invalid_parameter_resources", 400, "none", "The resources parameter value is missing or invalid."),
            InvalidParameterRedirectUrl => ("invalid_parameter_redirect_url", 400, "none", "The redirect URL parameter value is missing or invalid."),
            InvalidParameterPartner => ("invalid_parameter_partner", 400, "none", "The partner parameter value is missing or invalid."),
            InvalidParameterSamlResponse => ("invalid_parameter_saml_response", 400, "none", "The SAML response parameter value is missing or invalid."),
            InvalidHeaderDeviceInfo => ("invalid_header_device_info", 400, "none", "The device information header value is missing or invalid."),
            InvalidHeaderDeviceIdentifier => ("invalid_header_device_identifier", 400, "none", "The device identifier header value is missing or invalid."),
            InvalidHeaderIdentityForTemporaryAccess => ("invalid_header_identity_for_temporary_access", 400, "none", "The identity for temporary access header value is missing or invalid."),
            InvalidHeaderPfsPermissionAccessNotPresent => ("invalid_header_pfs_permission_access_not_present", 400, "none", "The partner framework status header does not contain the user permission access information."),
            InvalidHeaderPfsPermissionAccessNotDetermined => ("invalid_header_pfs_permission_access_not_determined", 400, "none", "The partner framework status header user permission access is not determined."),
            InvalidHeaderPfsPermissionAccessNotGranted => ("invalid_header_pfs_permission_access_not_granted", 400, "none", "The partner framework status header user permission access is not granted."),
            InvalidHeaderPfsProviderIdNotDetermined => ("invalid_header_pfs_provider_id_not_determined", 400, "none", "The partner framework status header provider identifier is not determined."),
            InvalidHeaderPfsProviderIdMismatch => ("invalid_header_pfs_provider_id_mismatch", 400, "none", "The partner framework status header provider identifier does not match a configured MVPD."),
            InvalidHeaderPfsProviderInfoExpired => ("invalid_header_pfs_provider_info_expired", 400, "none", "The partner framework status header provider information has expired."),
            InvalidAuthenticationSession => ("invalid_authentication_session", 400, "none", "The authentication session is missing or invalid."),
            PreauthorizationDeniedByMvpd => ("preauthorization_denied_by_mvpd", 403, "none", "The MVPD has returned a \"Deny\" decision when requesting pre-authorization for the specified resource."),
            AuthorizationDeniedByMvpd => ("authorization_denied_by_mvpd", 403, "none", "The MVPD has returned a \"Deny\" decision when requesting authorization for the specified resource."),
            AuthorizationDeniedByParentalControls => ("authorization_denied_by_parental_controls", 403, "none", "The MVPD has returned a \"Deny\" decision due to the parental controls settings for the specified resource."),
            InternalServerError => ("internal_server_error", 500, "none", "The server has encountered an internal error."),
            TooManyResources => ("too_many_resources", 403, "configuration", "The request contains more resources than the integration allows."),
            InvalidAccessTokenClientApplication => ("invalid_access_token_client_application", 401, "application-registration", "The access token is missing, expired or invalid for the client application."),
            AuthenticatedProfileMissing => ("authenticated_profile_missing", 403, "authentication", "The authenticated profile is missing."),
            AuthenticatedProfileExpired => ("authenticated_profile_expired", 403, "authentication", "The authenticated profile has expired."),
            TemporaryAccessDurationLimitExceeded => ("temporary_access_duration_limit_exceeded", 403, "authentication", "The temporary access duration limit has been exceeded."),
            TemporaryAccessResourcesLimitExceeded => ("temporary_access_resources_limit_exceeded", 403, "authentication", "The temporary access resources limit has been exceeded."),
            InvalidConfigurationTemporaryAccess => ("invalid_configuration_temporary_access", 500, "configuration", "The temporary access configuration is invalid."),
            MethodNotAllowed => ("method_not_allowed", 405, "none", "The HTTP method is not allowed for the requested resource."),
            UnsupportedMediaType => ("unsupported_media_type", 400, "none", "The request body's content type is not the one this endpoint takes."),
            AuthenticatedProfileInvalidated => ("authenticated_profile_invalidated", 403, "authentication", "The authenticated profile has been invalidated."),
            InvalidIntegration => ("invalid_integration", 400, "none", "The integration between the service provider and the MVPD is missing or disabled."),
            InvalidAccessTokenServiceProvider => ("invalid_access_token_service_provider", 401, "application-registration", "The access token is missing, expired or invalid for the service provider."),
            NetworkReceivedError => ("network_received_error", 403, "retry", "The MVPD has returned an error."),
            NetworkConnectionTimeout => ("network_connection_timeout", 403, "retry", "The connection to the MVPD has timed out."),
            MaximumExecutionTimeExceeded => ("maximum_execution_time_exceeded", 403, "retry", "The request did not complete in the maximum allowed time."),
            AuthorizationDeniedByDegradationRule => ("authorization_denied_by_degradation_rule", 403, "none", "The integration has an AuthZNone rule applied for the requested resources."),
            NotAcceptable => ("not_acceptable", 406, "none", "The Accept header, if specified, must be application/json;charset=utf-8."),
            InvalidParameterDomainName => ("invalid_parameter_domain_name", 400, "none", "The domain name is not a registered domain of the service provider."),
            // --- Re-authentication and configuration codes of §11, for fault rules (begin) ---
            AuthorizationDeniedByHbaPolicies => ("authorization_denied_by_hba_policies", 403, "authentication", "The MVPD has returned a \"Deny\" decision due home-based authentication policies. The current authentication was obtain through a Home-based authentication flow and but the device is no longer in-home when requesting authorization for the specified resource. The user must re-authenticate with a supported MVPD in order to continue."),
            AuthorizationDeniedBySessionInvalidated => ("authorization_denied_by_session_invalidated", 403, "authentication", "The authentication session was invalidated by the identity provider. The user must re-authenticate with a supported MVPD in order to continue."),
            IdentityNotRecognizedByMvpd => ("identity_not_recognized_by_mvpd", 403, "authentication", "The authorization request failed due to the fact that user identity was not recognized by the MVPD."),
            InvalidConfigurationUserMetadataCertificate => ("invalid_configuration_user_metadata_certificate", 500, "configuration", "The user metadata certificate configuration is missing or invalid."),
            InvalidConfigurationPlatform => ("invalid_configuration_platform", 500, "configuration", "The platform configuration is missing or invalid for integration."),
            InvalidConfigurationPlatformId => ("invalid_configuration_platform_id", 500, "configuration", "The platform id configuration is missing or invalid."),
            InvalidConfigurationPlatformTrait => ("invalid_configuration_platform_trait", 500, "configuration", "The platform trait configuration is missing or invalid."),
            InvalidConfigurationPlatformCategoryTrait => ("invalid_configuration_platform_category_trait", 500, "configuration", "The platform category trait configuration is missing or invalid."),
            InvalidConfigurationPlatformServices => ("invalid_configuration_platform_services", 500, "configuration", "The platform services configuration is missing or invalid for integration."),
            InvalidConfigurationMvpdPlatform => ("invalid_configuration_mvpd_platform", 500, "configuration", "The mvpd platform configuration is missing or invalid for mvpd and platform."),
            InvalidConfigurationMvpdPlatformBoardingStatus => ("invalid_configuration_mvpd_platform_boarding_status", 500, "configuration", "The mvpd platform boarding status configuration is missing or invalid for mvpd and platform."),
            InvalidConfigurationMvpdPlatformProfileExchange => ("invalid_configuration_mvpd_platform_profile_exchange", 500, "configuration", "The mvpd platform profile exchange configuration is missing or invalid for mvpd and platform."),
            // --- Re-authentication and configuration codes of §11, for fault rules (end) ---
        }
    }

    /// The error object for this code, with a fresh trace id.
    pub fn to_error(self) -> EnhancedError {
        let (code, status, action, message) = self.spec();
        EnhancedError {
            action: action.to_owned(),
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            details: None,
            help_url: HELP_URL.to_owned(),
            trace: Some(uuid::Uuid::new_v4().to_string()),
        }
    }

    /// The error object with MVPD or emulator details.
    pub fn with_details(self, details: impl Into<String>) -> EnhancedError {
        EnhancedError {
            details: Some(details.into()),
            ..self.to_error()
        }
    }
}

/// A top-level error response: the Enhanced Error object as the whole body.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The HTTP status sent; usually the error's own status.
    pub http_status: StatusCode,
    /// The body (boxed to keep `Result`s small).
    pub error: Box<EnhancedError>,
}

impl ApiError {
    /// Sent with the HTTP status §11 gives the code.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            http_status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            error: Box::new(code.to_error()),
        }
    }
}

impl ApiError {
    /// The same error with emulator details.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.error.details = Some(details.into());
        self
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::emulator::responses::adobe_json(self.http_status, &self.error)
    }
}
