//! The Enhanced Error object (§11): the whole body of a top-level error, or `error` inside one
//! item of a decisions response.

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// The remedy Adobe recommends for an error.
    ErrorAction {
        /// No predefined remedy, or the request was wrong.
        None = "none",
        /// Fix the setup, usually in the TVE Dashboard.
        Configuration = "configuration",
        /// Register the application again (DCR).
        ApplicationRegistration = "application-registration",
        /// Authenticate or re-authenticate the user.
        Authentication = "authentication",
        /// Obtain authorization for the resource.
        Authorization = "authorization",
        /// Retry, a bounded number of times.
        Retry = "retry",
        /// Legacy: apply some degradation.
        Degradation = "degradation",
        /// Legacy: wait as long as `Retry-After` says.
        RetryAfter = "retry-after",
    }
}

open_enum! {
    /// Adobe's error code.
    ErrorCode {
        /// The service provider is missing or invalid.
        InvalidParameterServiceProvider = "invalid_parameter_service_provider",
        /// The MVPD is missing or invalid.
        InvalidParameterMvpd = "invalid_parameter_mvpd",
        /// The code is missing or invalid.
        InvalidParameterCode = "invalid_parameter_code",
        /// The resources are missing or invalid.
        InvalidParameterResources = "invalid_parameter_resources",
        /// The redirect URL is missing or invalid.
        InvalidParameterRedirectUrl = "invalid_parameter_redirect_url",
        /// The partner is missing or invalid.
        InvalidParameterPartner = "invalid_parameter_partner",
        /// The SAML response is missing or invalid.
        InvalidParameterSamlResponse = "invalid_parameter_saml_response",
        /// `X-Device-Info` is missing or invalid.
        InvalidHeaderDeviceInfo = "invalid_header_device_info",
        /// `AP-Device-Identifier` is missing or invalid.
        InvalidHeaderDeviceIdentifier = "invalid_header_device_identifier",
        /// `AP-TempPass-Identity` is missing or invalid.
        InvalidHeaderIdentityForTemporaryAccess = "invalid_header_identity_for_temporary_access",
        /// Partner framework status: permission access not present.
        InvalidHeaderPfsPermissionAccessNotPresent = "invalid_header_pfs_permission_access_not_present",
        /// Partner framework status: permission access not determined.
        InvalidHeaderPfsPermissionAccessNotDetermined = "invalid_header_pfs_permission_access_not_determined",
        /// Partner framework status: permission access not granted.
        InvalidHeaderPfsPermissionAccessNotGranted = "invalid_header_pfs_permission_access_not_granted",
        /// Partner framework status: provider id not determined.
        InvalidHeaderPfsProviderIdNotDetermined = "invalid_header_pfs_provider_id_not_determined",
        /// Partner framework status: provider id mismatch.
        InvalidHeaderPfsProviderIdMismatch = "invalid_header_pfs_provider_id_mismatch",
        /// Partner framework status: provider info expired.
        InvalidHeaderPfsProviderInfoExpired = "invalid_header_pfs_provider_info_expired",
        /// The integration between service provider and MVPD is missing or disabled.
        InvalidIntegration = "invalid_integration",
        /// The session or code is missing or invalid.
        InvalidAuthenticationSession = "invalid_authentication_session",
        /// The MVPD denied preauthorization.
        PreauthorizationDeniedByMvpd = "preauthorization_denied_by_mvpd",
        /// The MVPD denied authorization.
        AuthorizationDeniedByMvpd = "authorization_denied_by_mvpd",
        /// Parental controls denied authorization.
        AuthorizationDeniedByParentalControls = "authorization_denied_by_parental_controls",
        /// A degradation rule (AuthZNone) denied authorization.
        AuthorizationDeniedByDegradationRule = "authorization_denied_by_degradation_rule",
        /// Adobe failed internally.
        InternalServerError = "internal_server_error",
        /// More resources than the MVPD allows in one call.
        TooManyResources = "too_many_resources",
        /// The user metadata certificate is misconfigured.
        InvalidConfigurationUserMetadataCertificate = "invalid_configuration_user_metadata_certificate",
        /// TempPass is misconfigured.
        InvalidConfigurationTemporaryAccess = "invalid_configuration_temporary_access",
        /// The platform is misconfigured.
        InvalidConfigurationPlatform = "invalid_configuration_platform",
        /// The platform id is misconfigured.
        InvalidConfigurationPlatformId = "invalid_configuration_platform_id",
        /// A platform trait is misconfigured.
        InvalidConfigurationPlatformTrait = "invalid_configuration_platform_trait",
        /// A platform category trait is misconfigured.
        InvalidConfigurationPlatformCategoryTrait = "invalid_configuration_platform_category_trait",
        /// Platform services are misconfigured.
        InvalidConfigurationPlatformServices = "invalid_configuration_platform_services",
        /// The MVPD's platform is misconfigured.
        InvalidConfigurationMvpdPlatform = "invalid_configuration_mvpd_platform",
        /// The MVPD's platform boarding status is misconfigured.
        InvalidConfigurationMvpdPlatformBoardingStatus = "invalid_configuration_mvpd_platform_boarding_status",
        /// The MVPD's platform profile exchange is misconfigured.
        InvalidConfigurationMvpdPlatformProfileExchange = "invalid_configuration_mvpd_platform_profile_exchange",
        /// The access token does not belong to this service provider.
        InvalidAccessTokenServiceProvider = "invalid_access_token_service_provider",
        /// The access token's client application is not valid.
        InvalidAccessTokenClientApplication = "invalid_access_token_client_application",
        /// No authenticated profile.
        AuthenticatedProfileMissing = "authenticated_profile_missing",
        /// The authenticated profile expired.
        AuthenticatedProfileExpired = "authenticated_profile_expired",
        /// The authenticated profile was invalidated.
        AuthenticatedProfileInvalidated = "authenticated_profile_invalidated",
        /// The TempPass duration is used up.
        TemporaryAccessDurationLimitExceeded = "temporary_access_duration_limit_exceeded",
        /// The TempPass resources are used up.
        TemporaryAccessResourcesLimitExceeded = "temporary_access_resources_limit_exceeded",
        /// The home-based authentication is no longer valid off-home.
        AuthorizationDeniedByHbaPolicies = "authorization_denied_by_hba_policies",
        /// The identity provider invalidated the session.
        AuthorizationDeniedBySessionInvalidated = "authorization_denied_by_session_invalidated",
        /// The MVPD does not recognise the identity.
        IdentityNotRecognizedByMvpd = "identity_not_recognized_by_mvpd",
        /// The MVPD answered with an error.
        NetworkReceivedError = "network_received_error",
        /// The MVPD did not answer in time.
        NetworkConnectionTimeout = "network_connection_timeout",
        /// Adobe ran out of time.
        MaximumExecutionTimeExceeded = "maximum_execution_time_exceeded",
    }
}

/// An Enhanced Error: the same shape at top level and at item level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnhancedError {
    /// The recommended remedy.
    pub action: ErrorAction,
    /// An HTTP-style status; it can differ from the response's own status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Adobe's code.
    pub code: ErrorCode,
    /// Human-readable; may be shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Custom text from the MVPD or a degradation rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Where Adobe explains the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    /// The response id to give Adobe support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}
