//! From the database to the contact dialog: numbers formatted for people. (The way in,
//! from the form to storage, is `crate::normalize`.)

use crate::db::contacts::StoredContact;
use crate::model::contact::{Attribute, ContactDetail, ContactInput};
use crate::model::field::{ContactField, FieldKind};
use crate::phone::format_international;

/// A stored contact as the dialog shows it.
pub fn detail(
    stored: StoredContact,
    groups: Vec<crate::model::group::GroupRef>,
    opt_outs: Vec<crate::model::opt_out::OptOut>,
) -> ContactDetail {
    let r = stored.record;
    let mut input = ContactInput::default();
    for field in ContactField::ALL {
        let value = r.get(field).unwrap_or_default();
        match field.kind() {
            FieldKind::Phone if !value.is_empty() => input.set(field, format_international(value)),
            _ => input.set(field, value),
        }
    }
    let attributes: Vec<(String, String)> = serde_json::from_str(&r.attributes).unwrap_or_default();
    input.attributes = attributes
        .into_iter()
        .map(|(key, value)| Attribute { key, value })
        .collect();
    ContactDetail {
        id: stored.id,
        input,
        groups,
        opt_outs,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}
