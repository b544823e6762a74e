//! Contact groups as they cross the wire, and the checks on their form.

use crate::error::{AppError, FieldError};
use serde::{Deserialize, Serialize};

/// Longest group name.
pub const MAX_GROUP_NAME_LEN: usize = 100;
/// Longest group description.
pub const MAX_GROUP_DESCRIPTION_LEN: usize = 1_000;

/// Most groups one request may name: Add to Groups' chosen and new groups together.
pub const MAX_GROUPS_PER_REQUEST: usize = 100;
/// Most groups a contact may be in.
pub const MAX_GROUPS_PER_CONTACT: usize = 1_000;
/// Most groups a workspace may have.
pub const MAX_GROUPS_PER_WORKSPACE: i64 = 10_000;
/// Most memberships one Add to Groups may write (contacts × groups): its transaction
/// holds SQLite's one write lock, which every workspace's saves wait for.
pub const MAX_MEMBERSHIPS_PER_REQUEST: i64 = 1_000_000;

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

/// Groups a request picks: existing ones by id and new ones by name, each once, in the
/// order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupPicks {
    /// Existing groups (still to be checked against the workspace).
    pub ids: Vec<i64>,
    /// Names of groups to create unless a group has the name already (trimmed).
    pub new_names: Vec<String>,
}

impl GroupPicks {
    /// Checks a request's lists before anything is read or written: at most `max`
    /// entries in all and [`MAX_GROUPS_PER_REQUEST`] new names (counted before repeats
    /// are dropped, so an oversized list is refused without being looked at), each id
    /// and each name (ignoring case) once, and every new name one a group may have.
    pub fn checked(ids: &[i64], new_names: &[String], max: usize) -> Result<GroupPicks, AppError> {
        if ids.len().saturating_add(new_names.len()) > max
            || new_names.len() > MAX_GROUPS_PER_REQUEST
        {
            let message = if max > MAX_GROUPS_PER_REQUEST {
                format!("Choose at most {max} groups, {MAX_GROUPS_PER_REQUEST} of them new.")
            } else {
                format!("Choose at most {max} groups at a time.")
            };
            return Err(AppError::invalid("groups", message));
        }
        let mut seen_ids = std::collections::HashSet::new();
        let ids = ids
            .iter()
            .copied()
            .filter(|id| seen_ids.insert(*id))
            .collect();
        let mut seen_names = std::collections::HashSet::new();
        let mut names = Vec::new();
        for name in new_names {
            let checked = check_group(&GroupInput {
                name: name.clone(),
                ..Default::default()
            })
            .map_err(|e| {
                AppError::invalid(
                    "groups",
                    e.field_message("name").unwrap_or_else(|| e.to_string()),
                )
            })?;
            if seen_names.insert(group_name_key(&checked.name)) {
                names.push(checked.name);
            }
        }
        Ok(GroupPicks {
            ids,
            new_names: names,
        })
    }

    /// How many groups are picked.
    pub fn len(&self) -> usize {
        self.ids.len() + self.new_names.len()
    }

    /// Whether nothing is picked.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.new_names.is_empty()
    }
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
    fn picks_are_bounded_before_anything_else_and_each_counts_once() {
        let huge = vec![7_i64; 300_000];
        let refused = GroupPicks::checked(&huge, &[], MAX_GROUPS_PER_REQUEST).unwrap_err();
        assert!(
            refused
                .field_message("groups")
                .unwrap()
                .contains("at most 100")
        );
        let picks = GroupPicks::checked(
            &[7, 7, 3],
            &["VIP".into(), " vip ".into(), "New".into()],
            MAX_GROUPS_PER_REQUEST,
        )
        .unwrap();
        assert_eq!(picks.ids, [7, 3]);
        assert_eq!(picks.new_names, ["VIP", "New"]);
        let blank = GroupPicks::checked(&[], &["  ".into()], 10).unwrap_err();
        assert!(blank.field_message("groups").is_some());
        assert!(GroupPicks::checked(&[], &[], 10).unwrap().is_empty());
    }

    #[test]
    fn name_keys_ignore_case() {
        assert_eq!(
            group_name_key(" Ünsubscribed "),
            group_name_key("ünsubscribed")
        );
    }
}
