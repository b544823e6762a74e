//! Contact groups as they cross the wire, and the checks on their form.

use crate::error::{AppError, FieldError};
use serde::{Deserialize, Serialize};

/// Longest group name.
pub const MAX_GROUP_NAME_LEN: usize = 100;
/// Longest group description.
pub const MAX_GROUP_DESCRIPTION_LEN: usize = 1_000;

/// A row of the Contact Groups table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// The group's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its description (may be empty).
    pub description: String,
    /// Whether its members must not be messaged.
    pub blacklisted: bool,
    /// How many contacts it holds.
    pub member_count: i64,
    /// Created, seconds since the epoch.
    pub created_at: i64,
}

/// A group as a chip on a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether it is blacklisted.
    pub blacklisted: bool,
}

/// The Create/Edit Group form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInput {
    /// Name, unique in the workspace ignoring case.
    pub name: String,
    /// Optional description.
    pub description: String,
    /// Whether members must not be messaged.
    pub blacklisted: bool,
}

/// What adding contacts to groups did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    /// The groups, by name, in the order chosen.
    pub groups: Vec<String>,
    /// Memberships created (or removed, for "Remove from group").
    pub changed: i64,
    /// Contacts that were already members (or were not members, for removal).
    pub unchanged: i64,
}

/// The key that makes names unique ignoring case.
pub fn group_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Trims the form and says what is wrong with it, if anything.
pub fn check_group(input: &GroupInput) -> Result<GroupInput, AppError> {
    let name = input.name.trim().to_string();
    let description = input.description.trim().to_string();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError {
            field: "name".into(),
            message: "Enter a name for the group.".into(),
        });
    } else if name.chars().count() > MAX_GROUP_NAME_LEN {
        errors.push(FieldError {
            field: "name".into(),
            message: format!("A group name has at most {MAX_GROUP_NAME_LEN} characters."),
        });
    }
    if description.chars().count() > MAX_GROUP_DESCRIPTION_LEN {
        errors.push(FieldError {
            field: "description".into(),
            message: format!("A description has at most {MAX_GROUP_DESCRIPTION_LEN} characters."),
        });
    }
    if errors.is_empty() {
        Ok(GroupInput {
            name,
            description,
            blacklisted: input.blacklisted,
        })
    } else {
        Err(AppError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_trimmed_and_bounded() {
        let ok = check_group(&GroupInput {
            name: "  VIP ".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.name, "VIP");
        for bad in ["", "   ", "\t"] {
            let e = check_group(&GroupInput {
                name: bad.into(),
                ..Default::default()
            })
            .unwrap_err();
            assert!(e.field_message("name").is_some(), "{bad:?}");
        }
        let long = check_group(&GroupInput {
            name: "x".repeat(101),
            ..Default::default()
        })
        .unwrap_err();
        assert!(long.field_message("name").is_some());
        let desc = check_group(&GroupInput {
            name: "VIP".into(),
            description: "d".repeat(1001),
            blacklisted: false,
        })
        .unwrap_err();
        assert!(desc.field_message("description").is_some());
    }

    #[test]
    fn name_keys_ignore_case() {
        assert_eq!(
            group_name_key(" Ünsubscribed "),
            group_name_key("ünsubscribed")
        );
    }
}
