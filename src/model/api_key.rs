//! API keys as Settings → API keys shows them, and the checks on a new one.

use crate::error::AppError;
use crate::model::Role;
use serde::{Deserialize, Serialize};

/// Longest key name.
pub const MAX_KEY_NAME_LEN: usize = 100;

/// A key as the list shows it; its secret is never shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeySummary {
    /// The key's id.
    pub id: i64,
    /// What it is for, as the admin named it.
    pub name: String,
    /// What it may do: editor or viewer.
    pub role: Role,
    /// The first characters of its secret, to tell keys apart (`ck_AbCd1234`).
    pub prefix: String,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// The admin who created it (empty if removed since, or made on the command line).
    pub created_by: String,
    /// Last used, seconds since the epoch (to the minute).
    pub last_used_at: Option<i64>,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<i64>,
}

/// A key just made: the only time its secret is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// The key's id.
    pub id: i64,
    /// The whole secret (`ck_…`), to copy now.
    pub secret: String,
}

/// The roles a key may have: keys never manage users or keys.
pub const KEY_ROLES: [Role; 2] = [Role::Editor, Role::Viewer];

/// Trims a new key's name and checks it and its role.
pub fn check_new_key(name: &str, role: Role) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(
            "name",
            "Name the key after what will use it, e.g. \"Shop sign-ups\".",
        ));
    }
    if name.chars().count() > MAX_KEY_NAME_LEN {
        return Err(AppError::invalid(
            "name",
            format!("A key name has at most {MAX_KEY_NAME_LEN} characters."),
        ));
    }
    if !KEY_ROLES.contains(&role) {
        return Err(AppError::invalid(
            "role",
            "A key is an editor or a viewer: keys cannot manage users or keys.",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_and_never_admins() {
        assert_eq!(
            check_new_key("  Shop  ", Role::Editor).unwrap(),
            "Shop".to_string()
        );
        assert!(check_new_key(" ", Role::Viewer).is_err());
        assert!(check_new_key(&"x".repeat(101), Role::Viewer).is_err());
        let admin = check_new_key("Ops", Role::Admin).unwrap_err();
        assert!(admin.field_message("role").is_some());
    }
}
