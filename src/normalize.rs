//! Contacts as stored: the fields of the contact dialog, or of a row of an uploaded file,
//! checked and normalised (numbers parsed to E.164) by one rule, so a contact saved by
//! hand and one imported are held to the same standard.

use crate::error::{AppError, FieldError};
use crate::model::contact::{ContactInput, check_contact};
use crate::phone::normalize_msisdn;

/// A contact's stored values, normalised (numbers in E.164).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRecord {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Mobile number, E.164.
    pub mobile: Option<String>,
    /// The mobile number without its country code (for search by local digits).
    pub mobile_national: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: String,
    /// Email, lower case.
    pub email: Option<String>,
    /// Id in another system.
    pub external_id: Option<String>,
    /// WhatsApp number, E.164.
    pub whatsapp: Option<String>,
    /// Viber number, E.164.
    pub viber: Option<String>,
    /// LINE user id.
    pub line_id: Option<String>,
    /// WeChat user id.
    pub wechat_id: Option<String>,
    /// Messenger user id.
    pub messenger_id: Option<String>,
    /// JSON array of `[key, value]` pairs.
    pub attributes: String,
}

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
