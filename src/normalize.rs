//! Contacts as stored: the fields of the contact dialog, or of a row of an uploaded file,
//! checked and normalised (numbers parsed to E.164) by one rule, so a contact saved by
//! hand and one imported are held to the same standard.

use crate::error::{AppError, FieldError};
use crate::model::channel::Channel;
use crate::model::contact::{ContactInput, check_contact};
use crate::model::field::{ContactField, FieldKind};
use crate::phone::normalize_msisdn;

/// A contact's stored values, normalised (numbers in E.164); an empty field is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRecord {
    values: [Option<String>; ContactField::COUNT],
    /// The mobile number without its country code (for search by local digits).
    pub mobile_national: Option<String>,
    /// JSON array of `[key, value]` pairs.
    pub attributes: String,
}

impl Default for ContactRecord {
    fn default() -> Self {
        ContactRecord {
            values: Default::default(),
            mobile_national: None,
            attributes: "[]".into(),
        }
    }
}

impl ContactRecord {
    /// A field's value, if it has one.
    pub fn get(&self, field: ContactField) -> Option<&str> {
        self.values[field.index()].as_deref()
    }

    /// Sets a field's value (an empty text is no value).
    pub fn set(&mut self, field: ContactField, value: Option<String>) {
        self.values[field.index()] = value.filter(|v| !v.is_empty());
    }

    /// The record with a field set (for building one in a line).
    pub fn with(mut self, field: ContactField, value: impl Into<String>) -> Self {
        self.set(field, Some(value.into()));
        self
    }

    /// A field as its column holds it: names are never null, only empty.
    pub fn column(&self, field: ContactField) -> Option<&str> {
        match field.kind() {
            FieldKind::Name => Some(self.get(field).unwrap_or_default()),
            _ => self.get(field),
        }
    }

    /// The text names are sorted and searched by.
    pub fn sort_name(&self) -> String {
        crate::model::contact::sort_name(
            self.get(ContactField::FirstName).unwrap_or_default(),
            self.get(ContactField::LastName).unwrap_or_default(),
        )
    }
}

/// Read from a row with a column per field key, `mobile_national` and `attributes`.
impl<'r, R> sqlx::FromRow<'r, R> for ContactRecord
where
    R: sqlx::Row,
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let mut record = ContactRecord {
            mobile_national: row.try_get("mobile_national")?,
            attributes: row.try_get("attributes")?,
            ..ContactRecord::default()
        };
        for field in ContactField::ALL {
            record.set(field, row.try_get(field.key())?);
        }
        Ok(record)
    }
}

/// An address on a channel as the contact form would store it (a number in E.164, read
/// with `country`; an email in lower case; an id trimmed), or the field's error.
pub fn address(channel: Channel, text: &str, country: &str) -> Result<String, AppError> {
    let input = ContactInput::default()
        .with(channel.field(), text)
        .with(ContactField::Country, country);
    record(&input)?
        .get(channel.field())
        .map(str::to_string)
        .ok_or_else(|| AppError::invalid(channel.field().key(), "Enter an address."))
}

/// Validates the form and normalises it for storage, reporting every bad field.
pub fn record(input: &ContactInput) -> Result<ContactRecord, AppError> {
    let (checked, mut errors) = match check_contact(input) {
        Ok(checked) => (checked, Vec::new()),
        Err(AppError::Invalid(errors)) => (input.clone(), errors),
        Err(other) => return Err(other),
    };
    let country = checked.get(ContactField::Country).to_string();
    let mut record = ContactRecord::default();
    for field in ContactField::ALL {
        let value = checked.get(field);
        if field.kind() != FieldKind::Phone {
            record.set(field, Some(value.to_string()));
            continue;
        }
        if value.is_empty() || errors.iter().any(|e| e.field == field.key()) {
            continue;
        }
        match normalize_msisdn(value, &country) {
            Ok(number) => {
                if field == ContactField::Mobile {
                    record.mobile_national = Some(number.national);
                }
                record.set(field, Some(number.e164));
            }
            Err(e) => errors.push(FieldError {
                field: field.key().into(),
                message: e.0,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // WhatsApp defaults to the mobile number.
    if record.get(ContactField::WhatsApp).is_none() {
        let mobile = record.get(ContactField::Mobile).map(str::to_string);
        record.set(ContactField::WhatsApp, mobile);
    }
    let pairs: Vec<(&str, &str)> = checked
        .attributes
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    record.attributes =
        serde_json::to_string(&pairs).map_err(|e| AppError::internal("attributes", e))?;
    Ok(record)
}
