//! Contacts as they cross the wire: the form, the table rows, queries and pages.

use crate::error::{AppError, FieldError};
use crate::model::account::normalize_email;
use crate::model::country::normalize_country;
use crate::model::field::{ContactField, FieldKind};
use serde::{Deserialize, Serialize};

pub use crate::model::field::{FormTab, MAX_ID_LEN, MAX_NAME_LEN};

/// Longest custom attribute value.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 2_000;
/// Most custom attributes on one contact.
pub const MAX_ATTRIBUTES: usize = 100;
/// Page sizes the table offers.
pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];

/// What the Create/Edit Contact form sends: each field as typed, and the custom
/// attributes. On the wire an object with a member per field key and `attributes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactInput {
    values: [String; ContactField::COUNT],
    /// Custom attributes, in order.
    pub attributes: Vec<Attribute>,
}

impl ContactInput {
    /// The text of a field (empty when not given).
    pub fn get(&self, field: ContactField) -> &str {
        &self.values[field.index()]
    }

    /// Sets a field's text.
    pub fn set(&mut self, field: ContactField, value: impl Into<String>) {
        self.values[field.index()] = value.into();
    }

    /// The input with a field set (for building one in a line).
    pub fn with(mut self, field: ContactField, value: impl Into<String>) -> Self {
        self.set(field, value);
        self
    }
}

impl Serialize for ContactInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(ContactField::COUNT + 1))?;
        for field in ContactField::ALL {
            map.serialize_entry(field.key(), self.get(field))?;
        }
        map.serialize_entry("attributes", &self.attributes)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ContactInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ContactInput;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a contact's fields")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ContactInput, A::Error> {
                let mut input = ContactInput::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match ContactField::from_key(&key) {
                        Some(field) => input.set(field, map.next_value::<String>()?),
                        None if key == "attributes" => input.attributes = map.next_value()?,
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(input)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// How far a count of matching contacts goes unless an exact count is asked for: a count
/// reads each row it counts, and beyond this it would cost every search, for every user
/// typing, more the larger the workspace.
pub const COUNT_BOUND: i64 = 10_000;

/// How long an exact count (asked for past [`COUNT_BOUND`]) may take before it is stopped.
pub const EXACT_COUNT_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many contacts match a filter: exactly, or more than [`COUNT_BOUND`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    /// The contacts counted: all of them unless `more`.
    pub count: i64,
    /// Whether more match than were counted.
    pub more: bool,
}

impl Total {
    /// A count of every match.
    pub fn exact(count: i64) -> Self {
        Total { count, more: false }
    }

    /// The count of `counted` matches, read no further than `bound` + 1.
    pub fn up_to(counted: i64, bound: i64) -> Self {
        Total {
            count: counted.min(bound),
            more: counted > bound,
        }
    }

    /// "3", "10,000+".
    pub fn number(self) -> String {
        let plus = if self.more { "+" } else { "" };
        format!("{}{plus}", thousands(self.count))
    }

    /// "1 contact", "3 contacts", "10,000+ contacts".
    pub fn label(self) -> String {
        if self.count == 1 && !self.more {
            "1 contact".to_string()
        } else {
            format!("{} contacts", self.number())
        }
    }
}

/// A count with commas between thousands: "10,000".
fn thousands(n: i64) -> String {
    let digits = n.max(0).to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "1 contact", "3 contacts".
pub fn contacts_label(n: i64) -> String {
    Total::exact(n).label()
}

/// One custom key/value field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// The key, unique per contact.
    pub key: String,
    /// The value.
    pub value: String,
}

impl FormTab {
    /// The tab that shows a field of the form (custom fields: `attributes…`).
    pub fn of_field(field: &str) -> FormTab {
        if field.starts_with("attributes") {
            return FormTab::Additional;
        }
        ContactField::from_key(field).map_or(FormTab::Basic, |f| f.spec().tab)
    }
}

/// The field name of an attribute's key or value input, e.g. `attributes.2.key`.
pub fn attribute_field(index: usize, part: &str) -> String {
    format!("attributes.{index}.{part}")
}

/// The checks that need no phone metadata, shared by browser and server: lengths,
/// emails, countries, attribute keys, and that a contact can be reached somehow. Returns
/// the input trimmed, with the email lower-cased and the country code normalised.
pub fn check_contact(input: &ContactInput) -> Result<ContactInput, AppError> {
    let mut errors = Vec::new();
    let mut add = |field: String, message: String| errors.push(FieldError { field, message });
    let mut out = ContactInput::default();
    for field in ContactField::ALL {
        let value = input.get(field).trim();
        match field.kind() {
            FieldKind::Country => match normalize_country(value) {
                Some(code) => out.set(field, code),
                None => {
                    out.set(field, value.to_ascii_uppercase());
                    add(
                        field.key().into(),
                        "Choose a country (a two-letter ISO code such as SG).".into(),
                    );
                }
            },
            FieldKind::Email if !value.is_empty() => match normalize_email(value) {
                Ok(email) => out.set(field, email),
                Err(message) => {
                    out.set(field, value);
                    add(field.key().into(), message);
                }
            },
            FieldKind::Email => {}
            FieldKind::Name | FieldKind::Phone | FieldKind::Id => {
                let max = field.max_len();
                if value.chars().count() > max {
                    add(field.key().into(), format!("At most {max} characters."));
                }
                out.set(field, value);
            }
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
    let reachable = ContactField::ALL
        .into_iter()
        .any(|f| f.is_address() && !out.get(f).is_empty());
    if !reachable {
        add(
            ContactField::Mobile.key().into(),
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
    /// Its opt-outs, by channel.
    pub opt_outs: Vec<crate::model::opt_out::OptOut>,
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
    /// The channels it is opted out of.
    pub opted_out: Vec<crate::model::channel::Channel>,
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
    /// Only contacts opted out of this channel.
    #[serde(default)]
    pub opted_out: Option<crate::model::channel::Channel>,
}

impl ContactFilter {
    /// Whether it narrows by status (blacklisted, opted out), beyond a search and a group.
    pub fn has_status(&self) -> bool {
        self.blacklisted.is_some() || self.opted_out.is_some()
    }
}

/// What the Contacts tab's URL says:
/// `?q=…&sort=…&group=…&blacklisted=yes|no&optedOut=sms|email|…&size=…`.
/// Anything missing or unknown is the default, so a hand-edited URL still opens a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableQuery {
    /// The filter and its order.
    pub filter: ContactFilter,
    /// Rows per page, one of [`PAGE_SIZES`].
    pub size: u32,
}

impl Default for TableQuery {
    fn default() -> Self {
        TableQuery {
            filter: ContactFilter::default(),
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Rows per page unless the URL says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

impl TableQuery {
    /// Reads the URL's parameters through `get`.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> TableQuery {
        TableQuery {
            filter: ContactFilter {
                search: get("q").unwrap_or_default(),
                sort: ContactSort::from_param(&get("sort").unwrap_or_default()),
                group: get("group").and_then(|g| g.parse().ok()),
                blacklisted: match get("blacklisted").as_deref() {
                    Some("yes") => Some(true),
                    Some("no") => Some(false),
                    _ => None,
                },
                opted_out: get("optedOut").and_then(|c| crate::model::channel::Channel::parse(&c)),
            },
            size: get("size")
                .and_then(|s| s.parse().ok())
                .filter(|s| PAGE_SIZES.contains(s))
                .unwrap_or(DEFAULT_PAGE_SIZE),
        }
    }

    /// The URL's value of a blacklisted filter (empty: everyone).
    pub fn blacklisted_param(blacklisted: Option<bool>) -> &'static str {
        match blacklisted {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }
    }
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

    #[test]
    fn a_count_past_its_bound_says_so() {
        assert_eq!(Total::up_to(3, 10_000), Total::exact(3));
        assert_eq!(Total::up_to(10_000, 10_000).label(), "10,000 contacts");
        let more = Total::up_to(10_001, 10_000);
        assert_eq!(
            more,
            Total {
                count: 10_000,
                more: true
            }
        );
        assert_eq!(more.label(), "10,000+ contacts");
        assert_eq!(Total::exact(1).label(), "1 contact");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    use ContactField::*;

    fn valid() -> ContactInput {
        ContactInput::default()
            .with(FirstName, " Ann ")
            .with(Mobile, "8123 4567")
            .with(Country, "sg")
            .with(Email, " Ann@Example.com ")
    }

    #[test]
    fn a_valid_contact_is_trimmed_and_normalised() {
        let out = check_contact(&valid()).unwrap();
        assert_eq!(out.get(FirstName), "Ann");
        assert_eq!(out.get(Country), "SG");
        assert_eq!(out.get(Email), "ann@example.com");
    }

    #[test]
    fn the_wire_shape_names_each_field_by_its_key() {
        let input = valid().with(Messenger, "m.1");
        let json = serde_json::to_value(&input).unwrap();
        assert_eq!(json["first_name"], " Ann ");
        assert_eq!(json["messenger_id"], "m.1");
        assert_eq!(json["attributes"], serde_json::json!([]));
        let back: ContactInput = serde_json::from_value(json).unwrap();
        assert_eq!(back, input);
        let partial: ContactInput = serde_json::from_str(r#"{"mobile":"81234567"}"#).unwrap();
        assert_eq!(partial.get(Mobile), "81234567");
        assert_eq!(partial.get(FirstName), "");
    }

    #[test]
    fn a_contact_needs_a_way_to_reach_them() {
        let input = ContactInput::default()
            .with(FirstName, "Ann")
            .with(Country, "SG");
        let error = check_contact(&input).unwrap_err();
        assert!(
            error
                .field_message("mobile")
                .unwrap()
                .contains("one way to reach")
        );
        let by_line = input.with(Line, "ann.line");
        assert!(check_contact(&by_line).is_ok());
    }

    #[test]
    fn over_long_fields_and_bad_attributes_are_named() {
        let mut input = valid();
        input.set(FirstName, "x".repeat(MAX_NAME_LEN + 1));
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
    fn the_tables_url_reads_into_a_query_and_defaults_what_it_lacks() {
        let params = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        let query = TableQuery::from_params(params(&[
            ("q", "tan"),
            ("sort", "-name"),
            ("group", "12"),
            ("blacklisted", "no"),
            ("optedOut", "email"),
            ("size", "100"),
        ]));
        assert_eq!(
            query,
            TableQuery {
                filter: ContactFilter {
                    search: "tan".into(),
                    sort: ContactSort::NameDesc,
                    group: Some(12),
                    blacklisted: Some(false),
                    opted_out: crate::model::channel::Channel::parse("email"),
                },
                size: 100,
            }
        );
        assert_eq!(TableQuery::from_params(params(&[])), TableQuery::default());
        let odd = TableQuery::from_params(params(&[
            ("group", "twelve"),
            ("blacklisted", "maybe"),
            ("optedOut", "fax"),
            ("size", "7"),
            ("sort", "bogus"),
        ]));
        assert_eq!(odd, TableQuery::default());
        for flag in [None, Some(true), Some(false)] {
            let value = TableQuery::blacklisted_param(flag);
            let read =
                TableQuery::from_params(move |k| (k == "blacklisted").then(|| value.to_string()));
            assert_eq!(read.filter.blacklisted, flag);
        }
    }

    #[test]
    fn sorts_round_trip_through_the_url() {
        for sort in ContactSort::ALL {
            assert_eq!(ContactSort::from_param(sort.as_str()), sort);
        }
        assert_eq!(ContactSort::from_param("bogus"), ContactSort::Newest);
    }
}
