//! From the database to the contact dialog: numbers formatted for people. (The way in,
//! from the form to storage, is `crate::normalize`.)

use crate::db::contacts::StoredContact;
use crate::model::contact::{Attribute, ContactDetail, ContactInput};
use crate::phone::format_international;

/// A stored contact as the dialog shows it.
pub fn detail(stored: StoredContact, groups: Vec<crate::model::group::GroupRef>) -> ContactDetail {
    let r = stored.record;
    let number = |n: Option<String>| n.as_deref().map(format_international).unwrap_or_default();
    let attributes: Vec<(String, String)> = serde_json::from_str(&r.attributes).unwrap_or_default();
    ContactDetail {
        id: stored.id,
        input: ContactInput {
            first_name: r.first_name,
            last_name: r.last_name,
            mobile: number(r.mobile),
            country: r.country,
            email: r.email.unwrap_or_default(),
            external_id: r.external_id.unwrap_or_default(),
            whatsapp: number(r.whatsapp),
            viber: number(r.viber),
            line_id: r.line_id.unwrap_or_default(),
            wechat_id: r.wechat_id.unwrap_or_default(),
            messenger_id: r.messenger_id.unwrap_or_default(),
            attributes: attributes
                .into_iter()
                .map(|(key, value)| Attribute { key, value })
                .collect(),
        },
        groups,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}
