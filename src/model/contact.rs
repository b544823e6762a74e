//! Contacts as they cross the wire: the form, the table rows, queries and pages.

use crate::error::{AppError, FieldError};
use crate::model::account::normalize_email;
use crate::model::country::normalize_country;
use serde::{Deserialize, Serialize};

/// Longest first or last name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest channel id, external id or attribute key.
pub const MAX_ID_LEN: usize = 200;
/// Longest custom attribute value.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 2_000;
/// Most custom attributes on one contact.
pub const MAX_ATTRIBUTES: usize = 100;
/// Page sizes the table offers.
pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];

/// What the Create/Edit Contact form sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// Mobile number as typed.
    pub mobile: String,
    /// ISO 3166 alpha-2 country; numbers without a country code are read as its.
    pub country: String,
    /// Email address.
    pub email: String,
    /// The contact's id in another system.
    pub external_id: String,
    /// WhatsApp number (empty: the mobile number).
    pub whatsapp: String,
    /// Viber number.
    pub viber: String,
    /// LINE user id.
    pub line_id: String,
    /// WeChat user id.
    pub wechat_id: String,
    /// Facebook Messenger user id.
    pub messenger_id: String,
    /// Custom attributes, in order.
    pub attributes: Vec<Attribute>,
}

/// "1 contact", "3 contacts".
pub fn contacts_label(n: i64) -> String {
    if n == 1 {
        "1 contact".to_string()
    } else {
        format!("{n} contacts")
    }
}

/// One custom key/value field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// The key, unique per contact.
    pub key: String,
    /// The value.
    pub value: String,
}

/// The tabs of the contact dialog, for marking the one that holds an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormTab {
    /// First/last name, mobile, country, email, external id.
    Basic,
    /// Channel identifiers.
    Channels,
    /// Custom attributes.
    Additional,
}

impl FormTab {
    /// The tab that shows a field.
    pub fn of_field(field: &str) -> FormTab {
        match field {
            "whatsapp" | "viber" | "line_id" | "wechat_id" | "messenger_id" => FormTab::Channels,
            f if f.starts_with("attributes") => FormTab::Additional,
            _ => FormTab::Basic,
        }
    }
}

/// The field name of an attribute's key or value input, e.g. `attributes.2.key`.
pub fn attribute_field(index: usize, part: &str) -> String {
    format!("attributes.{index}.{part}")
}

/// The checks that need no phone metadata, shared by browser and server: lengths,
/// emails, attribute keys, and that a contact can be reached somehow. Returns the input
/// trimmed, with the email lower-cased and the country upper-cased.
pub fn check_contact(input: &ContactInput) -> Result<ContactInput, AppError> {
    let mut errors = Vec::new();
    let mut add = |field: String, message: String| errors.push(FieldError { field, message });
    let trimmed = |s: &str| s.trim().to_string();
    let mut out = ContactInput {
        first_name: trimmed(&input.first_name),
        last_name: trimmed(&input.last_name),
        mobile: trimmed(&input.mobile),
        country: trimmed(&input.country).to_ascii_uppercase(),
        email: trimmed(&input.email),
        external_id: trimmed(&input.external_id),
        whatsapp: trimmed(&input.whatsapp),
        viber: trimmed(&input.viber),
        line_id: trimmed(&input.line_id),
        wechat_id: trimmed(&input.wechat_id),
        messenger_id: trimmed(&input.messenger_id),
        attributes: Vec::new(),
    };
    for (field, value, max) in [
        ("first_name", &out.first_name, MAX_NAME_LEN),
        ("last_name", &out.last_name, MAX_NAME_LEN),
        ("external_id", &out.external_id, MAX_ID_LEN),
        ("line_id", &out.line_id, MAX_ID_LEN),
        ("wechat_id", &out.wechat_id, MAX_ID_LEN),
        ("messenger_id", &out.messenger_id, MAX_ID_LEN),
        ("mobile", &out.mobile, 40),
        ("whatsapp", &out.whatsapp, 40),
        ("viber", &out.viber, 40),
    ] {
        if value.chars().count() > max {
            add(field.into(), format!("At most {max} characters."));
        }
    }
    match normalize_country(&out.country) {
        Some(code) => out.country = code.to_string(),
        None => add(
            "country".into(),
            "Choose a country (a two-letter ISO code such as SG).".into(),
        ),
    }
    if !out.email.is_empty() {
        match normalize_email(&out.email) {
            Ok(email) => out.email = email,
            Err(message) => add("email".into(), message),
        }
    }
    if input.attributes.len() > MAX_ATTRIBUTES {
        add(
            "attributes".into(),
            format!("A contact has at most {MAX_ATTRIBUTES} custom fields."),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (index, attribute) in input.attributes.iter().enumerate() {
        let key = attribute.key.trim().to_string();
        let value = attribute.value.trim().to_string();
        if key.is_empty() && value.is_empty() {
            continue; // an empty row the user added and left
        }
        if key.is_empty() {
            add(
                attribute_field(index, "key"),
                "Give this field a name.".into(),
            );
        } else if key.chars().count() > MAX_ID_LEN {
            add(
                attribute_field(index, "key"),
                format!("At most {MAX_ID_LEN} characters."),
            );
        } else if !seen.insert(key.to_lowercase()) {
            add(
                attribute_field(index, "key"),
                format!("\"{key}\" is used twice."),
            );
        }
        if value.chars().count() > MAX_ATTRIBUTE_VALUE_LEN {
            add(
                attribute_field(index, "value"),
                format!("At most {MAX_ATTRIBUTE_VALUE_LEN} characters."),
            );
        }
        out.attributes.push(Attribute { key, value });
    }
    let reachable = [
        &out.mobile,
        &out.email,
        &out.whatsapp,
        &out.viber,
        &out.line_id,
        &out.wechat_id,
        &out.messenger_id,
    ]
    .iter()
    .any(|v| !v.is_empty());
    if !reachable {
        add(
            "mobile".into(),
            "Enter a mobile number, an email or a channel id: a contact needs one way to reach them."
                .into(),
        );
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// A contact as the dialog shows it for editing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDetail {
    /// The contact's id.
    pub id: i64,
    /// The stored fields, with numbers in international format.
    pub input: ContactInput,
    /// The contact's groups, by name.
    pub groups: Vec<crate::model::group::GroupRef>,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// Last changed, seconds since the epoch.
    pub updated_at: i64,
}

/// A row of the contacts table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    /// The contact's id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Mobile number in international format (empty if none).
    pub mobile: String,
    /// Email (empty if none).
    pub email: String,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// The groups the contact belongs to.
    pub groups: Vec<crate::model::group::GroupRef>,
}

impl ContactRow {
    /// The blacklisted groups that stop messages to this contact (empty: not blacklisted).
    pub fn blacklisted_by(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.blacklisted)
            .map(|g| g.name.as_str())
            .collect()
    }

    /// "First Last", or a placeholder for a contact without a name.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            "(no name)".to_string()
        } else {
            name.to_string()
        }
    }
}

/// The orders the table offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContactSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// By name, A to Z.
    NameAsc,
    /// By name, Z to A.
    NameDesc,
}

impl ContactSort {
    /// Every order, as the sort picker lists them.
    pub const ALL: [ContactSort; 4] = [
        ContactSort::Newest,
        ContactSort::Oldest,
        ContactSort::NameAsc,
        ContactSort::NameDesc,
    ];

    /// The value in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactSort::Newest => "newest",
            ContactSort::Oldest => "oldest",
            ContactSort::NameAsc => "name",
            ContactSort::NameDesc => "-name",
        }
    }

    /// The label in the picker.
    pub fn label(self) -> &'static str {
        match self {
            ContactSort::Newest => "Newest first",
            ContactSort::Oldest => "Oldest first",
            ContactSort::NameAsc => "Name A–Z",
            ContactSort::NameDesc => "Name Z–A",
        }
    }

    /// Reads the URL value; anything unknown is the default.
    pub fn from_param(value: &str) -> ContactSort {
        ContactSort::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .unwrap_or_default()
    }
}

/// Where a page starts: the position of a row in the current order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the row (its name or search term; empty when sorting by date).
    pub key: String,
    /// The row's id, which breaks ties.
    pub id: i64,
}

/// Which page to fetch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageRequest {
    /// The first page.
    #[default]
    First,
    /// The page after this row.
    After(Cursor),
    /// The page before this row.
    Before(Cursor),
}

/// The table's filter and order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactFilter {
    /// Prefix of a name, email or phone number (empty: everyone).
    pub search: String,
    /// The order; while searching, results come in order of the matched text.
    pub sort: ContactSort,
    /// Only members of this group.
    #[serde(default)]
    pub group: Option<i64>,
    /// Only blacklisted (`true`) or only not blacklisted (`false`) contacts.
    #[serde(default)]
    pub blacklisted: Option<bool>,
}

/// One page of the table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPage {
    /// The rows.
    pub rows: Vec<ContactRow>,
    /// The cursor for "Previous", if there is an earlier page.
    pub previous: Option<Cursor>,
    /// The cursor for "Next", if there is a later page.
    pub next: Option<Cursor>,
}

/// Which contacts an action applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// These contacts (ids from the current page or pages).
    Ids(Vec<i64>),
    /// Every contact matching this filter ("Select all N matching").
    AllMatching(ContactFilter),
}

/// What a search box text searches for: digits of a phone number, or a text prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchTerm {
    /// No search.
    None,
    /// A prefix of a name or email, lower-cased.
    Text(String),
    /// A prefix of a phone number's digits.
    Digits(String),
}

impl SearchTerm {
    /// Reads the search box: anything of digits, spaces, `+ - ( ) .` with at least one
    /// digit is a phone number, anything else text.
    pub fn parse(search: &str) -> SearchTerm {
        let search = search.trim();
        if search.is_empty() {
            return SearchTerm::None;
        }
        let phone_like = search
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            && search.chars().any(|c| c.is_ascii_digit());
        if phone_like {
            let digits: String = search.chars().filter(char::is_ascii_digit).collect();
            // The data layer reads the digits as international and as national
            // (with and without a trunk zero).
            SearchTerm::Digits(digits)
        } else {
            SearchTerm::Text(fold_case(search))
        }
    }

    /// The search's text (lower-case text, or the digits), if there is a search.
    pub fn prefix(&self) -> Option<&str> {
        match self {
            SearchTerm::None => None,
            SearchTerm::Text(t) | SearchTerm::Digits(t) => Some(t),
        }
    }
}

/// Lower case for names and searches, one character for each character: the last-name
/// index reads the sort name from `length(first_name) + 2`, which holds only while
/// lower-casing keeps the length. `İ` (U+0130) is the one character whose lower case is
/// two ("i" and a combining dot); it folds to a plain "i", so "İlker" is found by "ilk".
pub fn fold_case(text: &str) -> String {
    text.replace('\u{130}', "I").to_lowercase()
}

/// The sort name of a contact: "first last", trimmed and lower-cased by [`fold_case`].
pub fn sort_name(first_name: &str, last_name: &str) -> String {
    fold_case(format!("{} {}", first_name.trim(), last_name.trim()).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ContactInput {
        ContactInput {
            first_name: " Ann ".into(),
            mobile: "8123 4567".into(),
            country: "sg".into(),
            email: " Ann@Example.com ".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_contact_is_trimmed_and_normalised() {
        let out = check_contact(&valid()).unwrap();
        assert_eq!(out.first_name, "Ann");
        assert_eq!(out.country, "SG");
        assert_eq!(out.email, "ann@example.com");
    }

    #[test]
    fn a_contact_needs_a_way_to_reach_them() {
        let input = ContactInput {
            first_name: "Ann".into(),
            country: "SG".into(),
            ..Default::default()
        };
        let error = check_contact(&input).unwrap_err();
        assert!(
            error
                .field_message("mobile")
                .unwrap()
                .contains("one way to reach")
        );
        let by_line = ContactInput {
            line_id: "ann.line".into(),
            ..input
        };
        assert!(check_contact(&by_line).is_ok());
    }

    #[test]
    fn over_long_fields_and_bad_attributes_are_named() {
        let mut input = valid();
        input.first_name = "x".repeat(MAX_NAME_LEN + 1);
        input.attributes = vec![
            Attribute {
                key: "Plan".into(),
                value: "Gold".into(),
            },
            Attribute {
                key: "plan".into(),
                value: "Silver".into(),
            },
            Attribute {
                key: "".into(),
                value: "orphan".into(),
            },
            Attribute {
                key: "Note".into(),
                value: "y".repeat(MAX_ATTRIBUTE_VALUE_LEN + 1),
            },
            Attribute {
                key: "".into(),
                value: "".into(),
            },
        ];
        let error = check_contact(&input).unwrap_err();
        assert!(error.field_message("first_name").is_some());
        assert!(
            error
                .field_message("attributes.1.key")
                .unwrap()
                .contains("used twice")
        );
        assert!(error.field_message("attributes.2.key").is_some());
        assert!(error.field_message("attributes.3.value").is_some());
        assert!(
            error.field_message("attributes.4.key").is_none(),
            "empty rows are dropped"
        );
    }

    #[test]
    fn too_many_attributes_are_refused() {
        let mut input = valid();
        input.attributes = (0..=MAX_ATTRIBUTES)
            .map(|i| Attribute {
                key: format!("k{i}"),
                value: "v".into(),
            })
            .collect();
        assert!(
            check_contact(&input)
                .unwrap_err()
                .field_message("attributes")
                .is_some()
        );
    }

    #[test]
    fn fields_belong_to_tabs() {
        assert_eq!(FormTab::of_field("email"), FormTab::Basic);
        assert_eq!(FormTab::of_field("viber"), FormTab::Channels);
        assert_eq!(FormTab::of_field("attributes.3.key"), FormTab::Additional);
    }

    #[test]
    fn the_search_box_tells_numbers_from_text() {
        assert_eq!(SearchTerm::parse("  "), SearchTerm::None);
        assert_eq!(SearchTerm::parse("8123"), SearchTerm::Digits("8123".into()));
        assert_eq!(
            SearchTerm::parse("+65 8123-4"),
            SearchTerm::Digits("6581234".into())
        );
        assert_eq!(SearchTerm::parse("Ann S"), SearchTerm::Text("ann s".into()));
        assert_eq!(
            SearchTerm::parse("ann@ex"),
            SearchTerm::Text("ann@ex".into())
        );
    }

    #[test]
    fn sort_names_are_lower_case_and_trimmed() {
        assert_eq!(sort_name(" Émile ", "Zola"), "émile zola");
        assert_eq!(sort_name("", "Zola"), "zola");
        assert_eq!(sort_name("", ""), "");
        // As long as the names, so the last name starts where the index expects it.
        let turkish = sort_name("İlker", "Smith");
        assert_eq!(turkish, "ilker smith");
        assert_eq!(turkish.chars().count(), "İlker Smith".chars().count());
        // Greek keeps its final sigma, as the searched text does.
        assert_eq!(sort_name("Οδυσσεύς", ""), fold_case("ΟΔΥΣΣΕΎΣ"));
    }

    #[test]
    fn sorts_round_trip_through_the_url() {
        for sort in ContactSort::ALL {
            assert_eq!(ContactSort::from_param(sort.as_str()), sort);
        }
        assert_eq!(ContactSort::from_param("bogus"), ContactSort::Newest);
    }
}
