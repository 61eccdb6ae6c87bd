//! The table of upstream endpoints: method, which device headers each takes (§5 header matrix),
//! and whether a call is safe to repeat. Everything that differs per endpoint is decided here.

use reqwest::Method;

/// One upstream endpoint; also the `endpoint` label of the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `POST /o/client/register`.
    DcrRegister,
    /// `POST /o/client/token`.
    DcrToken,
    /// C1 `GET /api/v2/{serviceProvider}/configuration`.
    Configuration,
    /// S1 `POST /api/v2/{serviceProvider}/sessions`.
    CreateSession,
    /// S2 `POST /api/v2/{serviceProvider}/sessions/{code}`.
    ResumeSession,
    /// S3 `GET /api/v2/{serviceProvider}/sessions/{code}`.
    RetrieveSession,
    /// P1 `GET /api/v2/{serviceProvider}/profiles`.
    Profiles,
    /// P2 `GET /api/v2/{serviceProvider}/profiles/{mvpd}`.
    MvpdProfile,
    /// P3 `GET /api/v2/{serviceProvider}/profiles/code/{code}`.
    CodeProfile,
    /// D1 `POST /api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}`.
    Preauthorize,
    /// D2 `POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}`.
    Authorize,
    /// L1 `GET /api/v2/{serviceProvider}/logout/{mvpd}`.
    Logout,
    /// X1 `POST /api/v2/{serviceProvider}/sessions/sso/{partner}`.
    PartnerSession,
    /// X2 `POST /api/v2/{serviceProvider}/profiles/sso/{partner}`.
    PartnerProfile,
    /// Degradation API (premium): `GET /degradation/v3/{serviceProvider}/rules`.
    DegradationRules,
    /// Degradation API (premium): `PUT /degradation/v3/{serviceProvider}/rules/{mvpd}`.
    DegradationApply,
    /// Degradation API (premium): `DELETE /degradation/v3/{serviceProvider}/rules/{mvpd}`.
    DegradationRemove,
    /// Reset TempPass API (premium), on the management host: `DELETE /reset-tempass/v3/reset`.
    TempPassReset,
    /// Reset TempPass API (premium), on the management host:
    /// `DELETE /reset-tempass/v3/reset/generic`.
    TempPassResetGeneric,
}

/// Which optional header groups a call carries (`X-Device-Info` and `X-Forwarded-For` go on
/// every call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderSet {
    /// `AP-Device-Identifier`.
    pub device_identifier: bool,
    /// `Adobe-Subject-Token`, `X-Roku-Reserved-Roku-Connect-Token`, `AD-Service-Token`.
    pub platform_sso: bool,
    /// `AP-Partner-Framework-Status`.
    pub partner_status: bool,
    /// `AP-TempPass-Identity`.
    pub temp_pass: bool,
    /// `AP-Visitor-Identifier`.
    pub visitor: bool,
}

impl Endpoint {
    /// Every endpoint, for tests and metric listings.
    pub const ALL: [Endpoint; 19] = [
        Endpoint::DcrRegister,
        Endpoint::DcrToken,
        Endpoint::Configuration,
        Endpoint::CreateSession,
        Endpoint::ResumeSession,
        Endpoint::RetrieveSession,
        Endpoint::Profiles,
        Endpoint::MvpdProfile,
        Endpoint::CodeProfile,
        Endpoint::Preauthorize,
        Endpoint::Authorize,
        Endpoint::Logout,
        Endpoint::PartnerSession,
        Endpoint::PartnerProfile,
        Endpoint::DegradationRules,
        Endpoint::DegradationApply,
        Endpoint::DegradationRemove,
        Endpoint::TempPassReset,
        Endpoint::TempPassResetGeneric,
    ];

    /// A stable snake_case name, used as the metrics label.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::DcrRegister => "dcr_register",
            Endpoint::DcrToken => "dcr_token",
            Endpoint::Configuration => "configuration",
            Endpoint::CreateSession => "create_session",
            Endpoint::ResumeSession => "resume_session",
            Endpoint::RetrieveSession => "retrieve_session",
            Endpoint::Profiles => "profiles",
            Endpoint::MvpdProfile => "mvpd_profile",
            Endpoint::CodeProfile => "code_profile",
            Endpoint::Preauthorize => "preauthorize",
            Endpoint::Authorize => "authorize",
            Endpoint::Logout => "logout",
            Endpoint::PartnerSession => "partner_session",
            Endpoint::PartnerProfile => "partner_profile",
            Endpoint::DegradationRules => "degradation_rules",
            Endpoint::DegradationApply => "degradation_apply",
            Endpoint::DegradationRemove => "degradation_remove",
            Endpoint::TempPassReset => "temppass_reset",
            Endpoint::TempPassResetGeneric => "temppass_reset_generic",
        }
    }

    pub(crate) fn method(self) -> Method {
        match self {
            Endpoint::Configuration
            | Endpoint::RetrieveSession
            | Endpoint::Profiles
            | Endpoint::MvpdProfile
            | Endpoint::CodeProfile
            | Endpoint::Logout
            | Endpoint::DegradationRules => Method::GET,
            Endpoint::DegradationApply => Method::PUT,
            Endpoint::DegradationRemove
            | Endpoint::TempPassReset
            | Endpoint::TempPassResetGeneric => Method::DELETE,
            Endpoint::DcrRegister
            | Endpoint::DcrToken
            | Endpoint::CreateSession
            | Endpoint::ResumeSession
            | Endpoint::Preauthorize
            | Endpoint::Authorize
            | Endpoint::PartnerSession
            | Endpoint::PartnerProfile => Method::POST,
        }
    }

    /// Whether repeating a call that may have reached Adobe is harmless. Registering twice would
    /// create a second client (orphaning profiles), creating a session twice issues a second
    /// code, logging out twice loses the first answer's logout URL, and partner SSO calls
    /// consume one-time SAML; removing a degradation rule twice answers 404 the second time;
    /// everything else only reads or re-issues (applying a rule again only sets it again).
    pub(crate) fn repeatable(self) -> bool {
        !matches!(
            self,
            Endpoint::DcrRegister
                | Endpoint::CreateSession
                | Endpoint::ResumeSession
                | Endpoint::Logout
                | Endpoint::PartnerSession
                | Endpoint::PartnerProfile
                | Endpoint::DegradationRemove
        )
    }

    /// The optional headers this endpoint takes (REST-API-V2.md §5 header matrix, widened by
    /// Adobe's checklist §7: the device headers go on every REST API V2 call, S2, S3 and P3
    /// included, which the secondary-application flow lists as required).
    pub(crate) fn headers(self) -> HeaderSet {
        let v2 = HeaderSet {
            device_identifier: true,
            platform_sso: false,
            partner_status: false,
            temp_pass: false,
            visitor: false,
        };
        match self {
            // The DCR pages list `X-Device-Info` (required) but no `AP-Device-Identifier`; the
            // Degradation API acts on integrations, not devices, and the Reset TempPass API
            // names its device in the query.
            Endpoint::DcrRegister
            | Endpoint::DcrToken
            | Endpoint::DegradationRules
            | Endpoint::DegradationApply
            | Endpoint::DegradationRemove
            | Endpoint::TempPassReset
            | Endpoint::TempPassResetGeneric => HeaderSet {
                device_identifier: false,
                ..v2
            },
            // C1's answer depends on the platform type, derived from the device information.
            Endpoint::Configuration => v2,
            Endpoint::CreateSession => HeaderSet {
                platform_sso: true,
                visitor: true,
                ..v2
            },
            Endpoint::ResumeSession | Endpoint::RetrieveSession => HeaderSet {
                visitor: true,
                ..v2
            },
            Endpoint::Profiles => HeaderSet {
                platform_sso: true,
                partner_status: true,
                visitor: true,
                ..v2
            },
            Endpoint::MvpdProfile | Endpoint::Preauthorize | Endpoint::Authorize => HeaderSet {
                device_identifier: true,
                platform_sso: true,
                partner_status: true,
                temp_pass: true,
                visitor: true,
            },
            Endpoint::CodeProfile => HeaderSet {
                temp_pass: true,
                visitor: true,
                ..v2
            },
            Endpoint::Logout => HeaderSet {
                platform_sso: true,
                visitor: true,
                ..v2
            },
            Endpoint::PartnerSession | Endpoint::PartnerProfile => HeaderSet {
                partner_status: true,
                visitor: true,
                ..v2
            },
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
