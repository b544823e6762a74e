//! Users, roles and the signed-in user as the UI sees them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a user may do in their workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users and API keys.
    Admin,
    /// Contact management.
    Editor,
    /// Read-only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first (the order of the role pickers).
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    /// The value stored in the database and sent in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Editor => "Editor",
            Role::Viewer => "Viewer",
        }
    }

    /// Whether this role may create, change and delete contacts and groups.
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Admin | Role::Editor)
    }

    /// Whether this role may manage users and settings.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of `admin`, `editor`, `viewer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

/// The signed-in user and their workspace, as the shell needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// The user's email (their sign-in name).
    pub email: String,
    /// The user's role in the workspace.
    pub role: Role,
    /// The workspace's id.
    pub workspace_id: i64,
    /// The workspace's name.
    pub workspace_name: String,
    /// ISO 3166 alpha-2 country used for numbers written without a country code.
    pub default_country: String,
    /// Whether they signed in with a password an admin set, and must choose their own
    /// before anything else.
    pub must_change_password: bool,
}

/// A row of the Settings → Users table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The user's id.
    pub id: i64,
    /// The user's email.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// When the user was added, seconds since the Unix epoch.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_stored_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(
            "owner".parse::<Role>(),
            Err(UnknownRole("owner".to_string()))
        );
    }

    #[test]
    fn only_admins_and_editors_edit() {
        assert!(Role::Admin.can_edit());
        assert!(Role::Editor.can_edit());
        assert!(!Role::Viewer.can_edit());
        assert!(Role::Admin.is_admin());
        assert!(!Role::Editor.is_admin());
    }
}
