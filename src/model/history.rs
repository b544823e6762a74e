//! A contact's history as the app shows it: what changed, when, by whom and from where.

use crate::model::channel::Channel;
use crate::model::field::ContactField;
use crate::model::opt_out::{OptOutReason, Source};
use serde::{Deserialize, Serialize};

/// What happened to a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// It was created.
    Created,
    /// Fields changed.
    Updated,
    /// It was deleted.
    Deleted,
    /// It joined a group.
    Joined,
    /// It left a group.
    Left,
    /// It was opted out of a channel.
    OptedOut,
    /// It was opted back into a channel.
    OptedIn,
}

impl HistoryKind {
    /// Every kind.
    pub const ALL: [HistoryKind; 7] = [
        HistoryKind::Created,
        HistoryKind::Updated,
        HistoryKind::Deleted,
        HistoryKind::Joined,
        HistoryKind::Left,
        HistoryKind::OptedOut,
        HistoryKind::OptedIn,
    ];

    /// Its name in the database and the API.
    pub fn key(self) -> &'static str {
        match self {
            HistoryKind::Created => "created",
            HistoryKind::Updated => "updated",
            HistoryKind::Deleted => "deleted",
            HistoryKind::Joined => "joined",
            HistoryKind::Left => "left",
            HistoryKind::OptedOut => "opted_out",
            HistoryKind::OptedIn => "opted_in",
        }
    }

    /// The kind of this name.
    pub fn parse(key: &str) -> Option<HistoryKind> {
        HistoryKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// One field's value before and after a change (`None`: empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field: a field's key (`first_name`), or `attributes.` and a custom field's key.
    pub field: String,
    /// Its value before.
    pub before: Option<String>,
    /// Its value after.
    pub after: Option<String>,
}

/// The prefix of a custom field's name in [`FieldChange::field`].
pub const CUSTOM_PREFIX: &str = "attributes.";

impl FieldChange {
    /// The field's name for people: its label, or a custom field's key.
    pub fn label(&self) -> String {
        match self.field.strip_prefix(CUSTOM_PREFIX) {
            Some(custom) => custom.to_string(),
            None => ContactField::from_key(&self.field)
                .map_or_else(|| self.field.clone(), |f| f.spec().label.to_string()),
        }
    }
}

/// What a history entry says beyond its kind; each member is there for the kinds it
/// concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// Created or updated: the fields, before and after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Joined or left: the group's id and its name then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<(i64, String)>,
    /// Opted out or in: the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Opted out: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<OptOutReason>,
}

impl Detail {
    /// The fields the API shows of it (`changes`, `group`, `channel`, `reason`), as its
    /// history entries and webhook events carry them.
    pub fn api_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        if !self.changes.is_empty() {
            let changes: Vec<serde_json::Value> = self
                .changes
                .iter()
                .map(
                    |c| serde_json::json!({"field": c.field, "before": c.before, "after": c.after}),
                )
                .collect();
            map.insert("changes".into(), changes.into());
        }
        if let Some((id, name)) = &self.group {
            map.insert("group".into(), serde_json::json!({"id": id, "name": name}));
        }
        if let Some(channel) = self.channel {
            map.insert("channel".into(), channel.name().into());
        }
        if let Some(reason) = self.reason {
            map.insert("reason".into(), serde_json::json!(reason));
        }
        map
    }
}

/// One entry of a contact's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its id (entries of a contact are in id order).
    pub id: i64,
    /// When (seconds since the epoch).
    pub at: i64,
    /// What happened.
    pub kind: HistoryKind,
    /// Where the change came from.
    pub source: Source,
    /// Who made it, for people: a user's email, an API key's name, an upload's file.
    pub by: String,
    /// The upload it came from, if any.
    pub import_id: Option<i64>,
    /// What changed.
    pub detail: Detail,
}

/// A page of a contact's history, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The entries.
    pub entries: Vec<HistoryEntry>,
    /// The id to pass for the next (older) page, if there is one.
    pub next: Option<i64>,
}

impl HistoryEntry {
    /// What happened, for people ("Changed First name from “Ann” to “Anne”").
    pub fn describe(&self) -> String {
        let detail = &self.detail;
        let group = || detail.group.as_ref().map_or("", |(_, name)| name.as_str());
        let channel = || detail.channel.map_or("", |c| c.label());
        match self.kind {
            HistoryKind::Created => "Created".into(),
            HistoryKind::Deleted => "Deleted".into(),
            HistoryKind::Joined => format!("Joined group {}", group()),
            HistoryKind::Left => format!("Left group {}", group()),
            HistoryKind::OptedOut => match detail.reason {
                Some(reason) => format!("Opted out of {} ({})", channel(), reason.label()),
                None => format!("Opted out of {}", channel()),
            },
            HistoryKind::OptedIn => format!("Opted back into {}", channel()),
            HistoryKind::Updated => {
                let value = |v: &Option<String>| {
                    v.as_ref()
                        .map_or_else(|| "empty".to_string(), |v| format!("“{v}”"))
                };
                let changes: Vec<String> = detail
                    .changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{} from {} to {}",
                            c.label(),
                            value(&c.before),
                            value(&c.after)
                        )
                    })
                    .collect();
                format!("Changed {}", changes.join("; "))
            }
        }
    }
}

/// Entries per page of the History tab and the API (default and most).
pub const HISTORY_PAGE: u32 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_and_changes_name_their_field_for_people() {
        for kind in HistoryKind::ALL {
            assert_eq!(HistoryKind::parse(kind.key()), Some(kind));
        }
        let change = |field: &str| FieldChange {
            field: field.into(),
            before: None,
            after: Some("x".into()),
        };
        assert_eq!(change("first_name").label(), "First name");
        assert_eq!(change("attributes.Plan").label(), "Plan");
        let detail = Detail {
            group: Some((7, "VIPs".into())),
            ..Detail::default()
        };
        assert_eq!(
            serde_json::to_string(&detail).unwrap(),
            r#"{"group":[7,"VIPs"]}"#,
            "only what the kind concerns is stored"
        );
    }

    #[test]
    fn entries_read_as_sentences() {
        let entry = |kind, detail| HistoryEntry {
            id: 1,
            at: 0,
            kind,
            source: Source::Ui,
            by: "ann@example.com".into(),
            import_id: None,
            detail,
        };
        let changes = Detail {
            changes: vec![
                FieldChange {
                    field: "first_name".into(),
                    before: Some("Ann".into()),
                    after: Some("Anne".into()),
                },
                FieldChange {
                    field: "attributes.Plan".into(),
                    before: Some("Gold".into()),
                    after: None,
                },
            ],
            ..Detail::default()
        };
        assert_eq!(
            entry(HistoryKind::Updated, changes).describe(),
            "Changed First name from “Ann” to “Anne”; Plan from “Gold” to empty"
        );
        let opted = Detail {
            channel: crate::model::channel::Channel::parse("sms"),
            reason: Some(OptOutReason::Unsubscribed),
            ..Detail::default()
        };
        assert_eq!(
            entry(HistoryKind::OptedOut, opted.clone()).describe(),
            "Opted out of SMS (Unsubscribed)"
        );
        assert_eq!(
            entry(HistoryKind::OptedIn, opted).describe(),
            "Opted back into SMS"
        );
        let group = Detail {
            group: Some((7, "VIPs".into())),
            ..Detail::default()
        };
        assert_eq!(
            entry(HistoryKind::Left, group).describe(),
            "Left group VIPs"
        );
    }
}
