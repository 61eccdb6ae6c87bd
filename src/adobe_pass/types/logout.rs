//! L1 logout (§10): `{"logouts": {<mvpd>: Logout}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// What the application should do to finish the logout.
    LogoutActionName {
        /// Open `url` in a user agent.
        Logout = "logout",
        /// Tell the user to sign out in the platform's settings (Apple SSO).
        PartnerLogout = "partner_logout",
        /// Nothing more to do.
        Complete = "complete",
        /// There was no valid profile.
        Invalid = "invalid",
    }
}

open_enum! {
    /// How to follow the logout action.
    LogoutActionType {
        /// Open `url` in a user agent.
        Interactive = "interactive",
        /// The user acts in the platform's settings.
        PartnerInteractive = "partner_interactive",
        /// Nothing to follow.
        None = "none",
    }
}

/// The answer of L1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logouts {
    /// One entry per MVPD logged out of.
    #[serde(default)]
    pub logouts: BTreeMap<String, Logout>,
}

/// One MVPD's logout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logout {
    /// What to do.
    pub action_name: LogoutActionName,
    /// How.
    pub action_type: LogoutActionType,
    /// The MVPD.
    #[serde(default)]
    pub mvpd: Option<String>,
    /// The MVPD logout URL, absolute or relative to the Adobe host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
