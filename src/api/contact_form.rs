//! Between the contact dialog and the database: phone numbers parsed to E.164 on the
//! way in, formatted for people on the way out.

use crate::db::contacts::{ContactRecord, StoredContact};
use crate::error::{AppError, FieldError};
use crate::model::contact::{Attribute, ContactDetail, ContactInput, check_contact};
use crate::phone::{format_international, normalize_msisdn};

/// Validates the form and normalises it for storage, reporting every bad field.
pub fn record(input: &ContactInput) -> Result<ContactRecord, AppError> {
    let (checked, mut errors) = match check_contact(input) {
        Ok(checked) => (checked, Vec::new()),
        Err(AppError::Invalid(errors)) => (input.clone(), errors),
        Err(other) => return Err(other),
    };
    let has_error = |errors: &[FieldError], field: &str| errors.iter().any(|e| e.field == field);
    let country = checked.country.clone();
    let mut number = |field: &str, value: &str| -> Option<crate::phone::Msisdn> {
        if value.is_empty() || has_error(&errors, field) {
            return None;
        }
        match normalize_msisdn(value, &country) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(FieldError {
                    field: field.into(),
                    message: e.0,
                });
                None
            }
        }
    };
    let mobile = number("mobile", &checked.mobile);
    let whatsapp = number("whatsapp", &checked.whatsapp);
    let viber = number("viber", &checked.viber);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let pairs: Vec<(&str, &str)> = checked
        .attributes
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    Ok(ContactRecord {
        first_name: checked.first_name.clone(),
        last_name: checked.last_name.clone(),
        // WhatsApp defaults to the mobile number.
        whatsapp: whatsapp
            .map(|n| n.e164)
            .or_else(|| mobile.as_ref().map(|n| n.e164.clone())),
        mobile_national: mobile.as_ref().map(|n| n.national.clone()),
        mobile: mobile.map(|n| n.e164),
        country: checked.country.clone(),
        email: optional(&checked.email),
        external_id: optional(&checked.external_id),
        viber: viber.map(|n| n.e164),
        line_id: optional(&checked.line_id),
        wechat_id: optional(&checked.wechat_id),
        messenger_id: optional(&checked.messenger_id),
        attributes: serde_json::to_string(&pairs)
            .map_err(|e| AppError::internal("attributes", e))?,
    })
}

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
