//! The row rule: what one record of an uploaded file comes to — a contact, or the reason
//! it is refused. The importer applies it to every row, and the preview's verdicts come
//! from it too (the browser sends its sample rows to the server, since numbers are
//! parsed with libphonenumber's metadata, which only the server has).
//!
//! A row must have the header's number of fields (empty ones at the end do not count)
//! and a mobile number; then its mapped cells are checked exactly as the Create Contact
//! form checks what is typed ([`crate::normalize::record`]).

use crate::error::FieldError;
use crate::import::RowVerdict;
use crate::import::columns::Columns;
use crate::import::sniff::SampleRow;
use crate::model::channel::Channel;
use crate::model::contact::{Attribute, ContactInput};
use crate::model::field::ContactField;
use crate::normalize::{ContactRecord, record};
use crate::phone::{format_international, normalize_msisdn};
use std::collections::HashMap;

/// Longest text in a mobile-number cell worth parsing.
const MAX_MOBILE_LEN: usize = 64;

/// The shape every row of a file must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The number of fields of the header (or, without one, of the first row).
    pub width: usize,
    /// Whether the file has a header row.
    pub has_header: bool,
}

/// The contact a row makes, or why it is refused, in words for the person who made the
/// file. `country` is the import's default country.
pub fn contact_of<S: AsRef<str>>(
    cells: &[S],
    shape: Shape,
    columns: &Columns,
    country: &str,
) -> Result<ContactRecord, String> {
    let extra_filled = cells
        .iter()
        .skip(shape.width)
        .any(|c| !c.as_ref().is_empty());
    if cells.len() < shape.width || extra_filled {
        let first = if shape.has_header {
            "the header"
        } else {
            "the first row"
        };
        return Err(format!(
            "The row has {} fields; {first} has {}.",
            cells.len(),
            shape.width
        ));
    }
    let cell = |index: Option<usize>| -> Result<String, String> {
        let text = index
            .and_then(|i| cells.get(i))
            .map_or("", |c| c.as_ref().trim());
        if text.contains(char::REPLACEMENT_CHARACTER) {
            return Err(
                "The row has bytes that are not text in the chosen encoding: choose the \
                 file's encoding in the preview (for example Windows-1252), or save the file as \
                 UTF-8."
                    .into(),
            );
        }
        Ok(text.to_string())
    };
    let field = |f: ContactField| cell(columns.get(f));
    let mobile = field(ContactField::Mobile)?;
    if mobile.is_empty() {
        return Err("No mobile number.".into());
    }
    let length = mobile.chars().count();
    if length > MAX_MOBILE_LEN {
        return Err(format!(
            "The mobile number cell is {length} characters long: that is not a phone number."
        ));
    }
    let mut input = ContactInput::default();
    for f in ContactField::ALL {
        input.set(f, field(f)?);
    }
    if input.get(ContactField::Country).is_empty() {
        input.set(ContactField::Country, country);
    }
    input.attributes = columns
        .custom
        .iter()
        .map(|c| {
            Ok(Attribute {
                key: c.key.trim().to_string(),
                value: cell(Some(c.index))?,
            })
        })
        .filter(|a: &Result<Attribute, String>| a.as_ref().is_ok_and(|a| !a.value.is_empty()))
        .collect::<Result<_, _>>()?;
    record(&input).map_err(|error| match error {
        crate::error::AppError::Invalid(errors) => reason(&errors, &input),
        other => other.to_string(),
    })
}

/// What an upload's cell says about an opt-out: `yes`-like words opt out, `no`-like
/// words and an empty cell leave the contact as it is (an upload never opts anyone back
/// in), anything else is not understood.
fn says_opted_out(text: &str) -> Option<bool> {
    const YES: [&str; 9] = [
        "yes",
        "y",
        "true",
        "1",
        "x",
        "opted out",
        "opted-out",
        "unsubscribed",
        "stop",
    ];
    const NO: [&str; 6] = ["", "no", "n", "false", "0", "-"];
    let text = text.trim().to_lowercase();
    if YES.contains(&text.as_str()) {
        Some(true)
    } else if NO.contains(&text.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// The channels a row says its contact is opted out of (its opt-out columns), or why
/// the row is refused: a cell that is neither yes nor no, or an opt-out of a channel
/// the row has no address on.
pub fn opted_out_of<S: AsRef<str>>(
    cells: &[S],
    columns: &Columns,
    record: &ContactRecord,
) -> Result<Vec<Channel>, String> {
    let mut channels = Vec::new();
    for column in &columns.opt_outs {
        let text = cells.get(column.index).map_or("", |c| c.as_ref());
        let label = column.channel.label();
        match says_opted_out(text) {
            Some(false) => {}
            Some(true) if record.get(column.channel.field()).is_none() => {
                return Err(format!(
                    "Opted out of {label}: the row has no {} to opt out.",
                    column.channel.field().spec().label.to_lowercase()
                ));
            }
            Some(true) => channels.push(column.channel),
            None => {
                let shown: String = text.trim().chars().take(40).collect();
                return Err(format!(
                    "Opted out of {label}: \"{shown}\" is neither yes nor no."
                ));
            }
        }
    }
    Ok(channels)
}

/// The contact a row makes and the channels it is opted out of, or why it is refused:
/// [`contact_of`], then [`opted_out_of`]. The importer and the preview both ask this.
pub fn row_of<S: AsRef<str>>(
    cells: &[S],
    shape: Shape,
    columns: &Columns,
    country: &str,
) -> Result<(ContactRecord, Vec<Channel>), String> {
    let record = contact_of(cells, shape, columns, country)?;
    let channels = opted_out_of(cells, columns, &record)?;
    Ok((record, channels))
}

/// The first line of each number met, to find rows that repeat one: a number counts
/// once, on its first row.
#[derive(Clone, Debug, Default)]
pub struct FirstLines(HashMap<u64, u64>);

impl FirstLines {
    /// Notes `e164` on `line`; returns the line it was first met on if it was met before.
    pub fn seen(&mut self, e164: &str, line: u64) -> Option<u64> {
        match self.0.entry(number_key(e164)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }

    /// The verdict on the row on `line` whose cells gave `outcome` (see [`contact_of`]).
    pub fn verdict(&mut self, outcome: Result<ContactRecord, String>, line: u64) -> RowVerdict {
        match outcome {
            Err(reason) => RowVerdict::Invalid(reason),
            Ok(contact) => {
                let e164 = contact
                    .get(ContactField::Mobile)
                    .unwrap_or_default()
                    .to_string();
                match self.seen(&e164, line) {
                    Some(first) => RowVerdict::Duplicate(first),
                    None => RowVerdict::Contact(e164),
                }
            }
        }
    }

    /// The reason a repeat is not imported.
    pub fn reason(first: u64) -> String {
        format!("Same number as line {first}.")
    }
}

/// A key that orders E.164 numbers (`+` and at most 15 digits) as their text does, and
/// tells them apart: the digits left-aligned to 15 places, then the length (a prefix
/// sorts first).
pub fn number_key(e164: &str) -> u64 {
    let digits = e164.trim_start_matches('+');
    match digits.parse::<u64>() {
        Ok(value) if digits.len() <= 15 => {
            (value * 10u64.pow(15 - digits.len() as u32)) << 4 | digits.len() as u64
        }
        _ => u64::MAX,
    }
}

/// Why a spreadsheet row is refused when its mobile cell holds an error.
pub const MOBILE_ERROR_CELL: &str =
    "The mobile number cell holds an error (such as #N/A) instead of a number.";

/// A spreadsheet row made ready for the row rule, or why it is refused: a sheet's row
/// ends at its last value, so it is padded to the header's width (the cells after its
/// last value are empty, not missing), and without a header every row is as wide as it
/// is; a mobile cell holding an error (its text is empty) refuses the row.
pub fn sheet_shape(
    cells: &mut Vec<String>,
    errors: &[usize],
    header_width: Option<usize>,
    columns: &Columns,
) -> Result<Shape, String> {
    if columns
        .get(ContactField::Mobile)
        .is_some_and(|m| errors.contains(&m))
    {
        return Err(MOBILE_ERROR_CELL.into());
    }
    let shape = match header_width {
        Some(width) => Shape {
            width,
            has_header: true,
        },
        None => Shape {
            width: cells.len(),
            has_header: false,
        },
    };
    if cells.len() < shape.width {
        cells.resize(shape.width, String::new());
    }
    Ok(shape)
}

/// What the import will do with each of the first rows of a file (the preview's
/// sample): the rule, and repeats among the rows. `header_width` is the header's field
/// count; without a header, the first row sets the width, as in the importer (a
/// spreadsheet's rows by [`sheet_shape`]).
pub fn verdicts(
    rows: Vec<SampleRow>,
    header_width: Option<usize>,
    columns: &Columns,
    country: &str,
) -> Vec<RowVerdict> {
    let mut shape = header_width.map(|width| Shape {
        width,
        has_header: true,
    });
    let mut first_lines = FirstLines::default();
    rows.into_iter()
        .map(|row| {
            let mut fields = match row.fields {
                Ok(fields) => fields,
                Err(reason) => return RowVerdict::Invalid(reason),
            };
            let shape = match &row.sheet_errors {
                Some(errors) => match sheet_shape(&mut fields, errors, header_width, columns) {
                    Ok(shape) => shape,
                    Err(reason) => return RowVerdict::Invalid(reason),
                },
                None => *shape.get_or_insert(Shape {
                    width: fields.len(),
                    has_header: false,
                }),
            };
            let outcome = row_of(&fields, shape, columns, country).map(|(record, _)| record);
            first_lines.verdict(outcome, row.line)
        })
        .collect()
}

/// The refusal of the form's checks as one sentence per field, each named as the
/// preview's column menu names it.
fn reason(errors: &[FieldError], input: &ContactInput) -> String {
    errors
        .iter()
        .map(|error| {
            let message = if error.field == "mobile" {
                with_lost_plus_hint(input.get(ContactField::Mobile), &error.message)
            } else {
                error.message.clone()
            };
            match label_of(&error.field, input) {
                Some(label) => format!("{label}: {message}"),
                None => message,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The name of a form field as the column menu shows it (the key of a custom field).
fn label_of(field: &str, input: &ContactInput) -> Option<String> {
    if let Some(index) = field
        .strip_prefix("attributes.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|i| i.parse::<usize>().ok())
    {
        return input.attributes.get(index).map(|a| a.key.clone());
    }
    ContactField::from_key(field).map(|f| f.label().to_string())
}

/// Spreadsheets drop the `+` of international numbers stored as numbers; when the digits
/// are a valid number with a `+`, the message says so.
fn with_lost_plus_hint(input: &str, reason: &str) -> String {
    let digits_only = input.len() >= 8 && input.bytes().all(|b| b.is_ascii_digit());
    match digits_only.then(|| normalize_msisdn(&format!("+{input}"), "ZZ")) {
        Some(Ok(msisdn)) => format!(
            "{reason} If it is {}, its leading + was lost (spreadsheets drop it): add it back.",
            format_international(&msisdn.e164)
        ),
        _ => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::columns::Tag;
    use ContactField::*;

    const SHAPE: Shape = Shape {
        width: 3,
        has_header: true,
    };

    fn columns() -> Columns {
        Columns::default()
            .with(Mobile, 2)
            .with(FirstName, 0)
            .with(LastName, 1)
    }

    fn judge(cells: &[&str]) -> Result<ContactRecord, String> {
        contact_of(cells, SHAPE, &columns(), "SG")
    }

    #[test]
    fn an_opt_out_column_says_yes_or_no_about_an_address_the_row_has() {
        let mut columns = columns().with(Email, 3);
        columns.set(4, Some(Tag::OptOut(Channel::SMS)));
        columns.set(5, Some(Tag::OptOut(Channel::EMAIL)));
        assert_eq!(columns.problem(), None);
        let shape = Shape {
            width: 6,
            has_header: true,
        };
        let row = |sms: &str, email_address: &str, email: &str| {
            let cells = ["Ann", "Lee", "81234567", email_address, sms, email];
            row_of(&cells, shape, &columns, "SG").map(|(_, channels)| channels)
        };
        assert_eq!(
            row("Yes", "a@b.co", " TRUE "),
            Ok(vec![Channel::SMS, Channel::EMAIL])
        );
        assert_eq!(row("x", "", "no"), Ok(vec![Channel::SMS]));
        assert_eq!(row("", "a@b.co", "0"), Ok(vec![]));
        assert_eq!(
            row("maybe", "", ""),
            Err("Opted out of SMS: \"maybe\" is neither yes nor no.".into())
        );
        assert_eq!(
            row("", "", "yes"),
            Err("Opted out of Email: the row has no email to opt out.".into())
        );
        // The column of the channel's address is needed, and one column per channel.
        let mut without_email = columns.clone();
        without_email.set(3, None);
        assert!(
            without_email
                .problem()
                .unwrap()
                .contains("tag the column of their email")
        );
        let mut twice = columns.clone();
        twice.opt_outs.push(crate::import::columns::OptOutColumn {
            index: 6,
            channel: Channel::SMS,
        });
        assert!(twice.problem().unwrap().contains("Two columns"));
        // Stored settings without opt-out columns still read.
        let json = serde_json::to_value(&columns).unwrap();
        assert_eq!(serde_json::from_value::<Columns>(json).unwrap(), columns);
        let mut old = serde_json::to_value(&columns).unwrap();
        old.as_object_mut().unwrap().remove("opt_outs");
        assert!(
            serde_json::from_value::<Columns>(old)
                .unwrap()
                .opt_outs
                .is_empty()
        );
    }

    #[test]
    fn numbers_are_normalised_as_the_form_does() {
        let contact = judge(&["Ann", "Lee", "+65 8123 4567"]).unwrap();
        assert_eq!(contact.get(Mobile), Some("+6581234567"));
        assert_eq!(contact.mobile_national.as_deref(), Some("81234567"));
        assert_eq!(contact.get(WhatsApp), Some("+6581234567"), "as the form");
        assert_eq!(contact.get(Country), Some("SG"));
        assert_eq!(judge(&["", "", "8123 4567"]).unwrap().get(FirstName), None);
    }

    #[test]
    fn numbers_sort_by_key_as_their_text_does() {
        let mut numbers = vec![
            "+6581234567",
            "+447700900123",
            "+658123456",
            "+12025550123",
            "+6591234567",
            "+4477009001",
            "+861380013800",
        ];
        let mut by_key = numbers.clone();
        by_key.sort_by_key(|n| number_key(n));
        numbers.sort();
        assert_eq!(by_key, numbers);
        let mut lines = FirstLines::default();
        assert_eq!(lines.seen("+6581234567", 2), None);
        assert_eq!(
            lines.seen("+658123456", 3),
            None,
            "a prefix is another number"
        );
        assert_eq!(lines.seen("+6581234567", 9), Some(2));
    }

    #[test]
    fn bad_rows_say_why() {
        let reason = |cells: &[&str]| judge(cells).unwrap_err();
        assert_eq!(
            reason(&["Ann", "Lee"]),
            "The row has 2 fields; the header has 3."
        );
        assert_eq!(
            reason(&["Bo", "Tan", "81234567", "extra"]),
            "The row has 4 fields; the header has 3."
        );
        assert!(
            judge(&["Bo", "Tan", "81234567", "", ""]).is_ok(),
            "empty trailing fields"
        );
        assert_eq!(reason(&["Cy", "Ong", ""]), "No mobile number.");
        assert!(reason(&["Di", "Ho", "123"]).starts_with("Mobile number: "));
        assert!(reason(&["Ed", "Lim", "6.58123E+09"]).contains("scientific notation"));
        let lost = reason(&["Fy", "Goh", "447911123456"]);
        assert!(
            lost.contains("+44 7911 123456") && lost.contains("leading +"),
            "{lost}"
        );
        let long = "x".repeat(300);
        assert_eq!(
            reason(&[long.as_str(), "Lee", "81234567"]),
            "First name: At most 200 characters."
        );
        assert!(reason(&["Jos\u{FFFD}", "Lee", "81234567"]).contains("encoding"));
    }

    #[test]
    fn every_mapped_field_is_checked_like_the_form() {
        let mut columns = Columns::default();
        for (index, field) in [Mobile, Email, Country, Viber].into_iter().enumerate() {
            columns.set(index, Some(Tag::Field(field)));
        }
        columns.set(4, Some(Tag::Custom("Tier".into())));
        let shape = Shape {
            width: 5,
            has_header: true,
        };
        let contact = contact_of(
            &["07911 123456", "Ann@Example.COM", "gb", "", "Gold"],
            shape,
            &columns,
            "SG",
        )
        .unwrap();
        assert_eq!(
            contact.get(Mobile),
            Some("+447911123456"),
            "read as the row's country"
        );
        assert_eq!(contact.get(Country), Some("GB"));
        assert_eq!(contact.get(Email), Some("ann@example.com"));
        assert_eq!(contact.attributes, r#"[["Tier","Gold"]]"#);
        let bad = contact_of(
            &["81234567", "not-an-email", "", "12", ""],
            shape,
            &columns,
            "SG",
        )
        .unwrap_err();
        assert!(bad.starts_with("Email: Enter an email address"), "{bad}");
        assert!(bad.contains("Viber: "), "every bad field is named: {bad}");
        // An empty custom cell adds no field.
        let plain = contact_of(&["81234567", "", "", "", ""], shape, &columns, "SG").unwrap();
        assert_eq!(plain.attributes, "[]");
    }
}
