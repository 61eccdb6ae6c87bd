//! Requests and responses of DCR and REST API V2, one module per area, as the documents define
//! them: unknown fields are ignored, restricted values are open enums, and timestamps keep the
//! documented units (strings of epoch ms in sessions, integers in profiles and decisions, seconds
//! and ms in DCR).

mod open_enum;

pub mod configuration;
pub mod dcr;
pub mod decisions;
pub mod degradation;
pub mod enhanced_error;
pub mod logout;
pub mod partner_sso;
pub mod profiles;
pub mod sessions;
mod string_millis;

pub use configuration::{Configuration, Domain, Mvpd, Requestor};
pub use dcr::{ClientRegistration, DcrError, DcrErrorCode, RegisterRequest, TokenResponse};
pub use decisions::{Decision, DecisionSource, Decisions, DecisionsRequest, MediaToken};
pub use degradation::{AppliedDegradation, ApplyDegradation, DegradationRule, DegradationRules};
pub use enhanced_error::{EnhancedError, ErrorAction, ErrorCode};
pub use logout::{Logout, LogoutActionName, LogoutActionType, Logouts};
pub use partner_sso::{PartnerProfileRequest, PartnerSessionRequest};
pub use profiles::{Attribute, AttributeState, Profile, ProfileType, Profiles};
pub use sessions::{
    ActionName, ActionType, AuthenticationRequest, ReasonType, Session, SessionRequest,
    SessionStatus,
};
