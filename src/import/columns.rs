//! Which column holds what: the user's tags, and suggestions from header names.
//!
//! Any column can fill any contact field or a custom field; the mobile number is
//! required. Suggestions know the headers of the usual exports: Outlook ("Mobile Phone",
//! "E-mail Address"), Google Contacts ("Given Name", "Phone 1 - Value"), Excel sheets
//! people make themselves ("Mobile", "Surname"), and the peers' own exports.

use crate::import::records::MAX_FIELDS;
use crate::model::channel::Channel;
use crate::model::contact::{MAX_ATTRIBUTES, MAX_ID_LEN};
use crate::model::field::{ContactField, header_key};
use serde::{Deserialize, Serialize};

/// A contact field a column can fill: any of the contact's fields.
pub type Field = ContactField;

/// The fields in the column menu's order: the required mobile number first.
pub fn menu() -> impl Iterator<Item = Field> {
    std::iter::once(Field::Mobile).chain(
        ContactField::ALL
            .into_iter()
            .filter(|f| *f != Field::Mobile),
    )
}

/// What a column is tagged as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tag {
    /// A contact field.
    Field(Field),
    /// A custom field with this key.
    Custom(String),
    /// Whether the contact is opted out of this channel (yes / no).
    OptOut(Channel),
}

/// A column imported as a custom field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomColumn {
    /// The column (0-based).
    pub index: usize,
    /// The custom field's key (from the header, editable).
    pub key: String,
}

/// A column saying whether the contact is opted out of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutColumn {
    /// The column (0-based).
    pub index: usize,
    /// The channel.
    pub channel: Channel,
}

/// The columns (0-based) the user tagged. On the wire an object with a member per field
/// key (its column, or null), `custom` and `opt_outs`, so the settings of uploads stored
/// before a field could be mapped still read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    fields: [Option<usize>; ContactField::COUNT],
    /// Columns imported as custom fields, in column order.
    pub custom: Vec<CustomColumn>,
    /// Columns saying the contact is opted out of a channel, in column order.
    pub opt_outs: Vec<OptOutColumn>,
}

impl Serialize for Columns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(ContactField::COUNT + 2))?;
        for field in ContactField::ALL {
            map.serialize_entry(field.key(), &self.get(field))?;
        }
        map.serialize_entry("custom", &self.custom)?;
        map.serialize_entry("opt_outs", &self.opt_outs)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Columns {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Columns;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the column of each field")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Columns, A::Error> {
                let mut columns = Columns::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match ContactField::from_key(&key) {
                        Some(field) => columns.fields[field.index()] = map.next_value()?,
                        None if key == "custom" => columns.custom = map.next_value()?,
                        None if key == "opt_outs" => columns.opt_outs = map.next_value()?,
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(columns)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Columns {
    /// The columns with `field` in `column` (for building them in a line).
    pub fn with(mut self, field: Field, column: usize) -> Columns {
        self.set(column, Some(Tag::Field(field)));
        self
    }

    /// The column tagged with `field`.
    pub fn get(&self, field: Field) -> Option<usize> {
        self.fields[field.index()]
    }

    /// The fields that have a column.
    pub fn mapped(&self) -> impl Iterator<Item = Field> + '_ {
        ContactField::ALL
            .into_iter()
            .filter(|f| self.get(*f).is_some())
    }

    /// The tag on column `index`, if any.
    pub fn tag_of(&self, index: usize) -> Option<Tag> {
        ContactField::ALL
            .into_iter()
            .find(|&field| self.get(field) == Some(index))
            .map(Tag::Field)
            .or_else(|| {
                self.custom
                    .iter()
                    .find(|c| c.index == index)
                    .map(|c| Tag::Custom(c.key.clone()))
            })
            .or_else(|| {
                self.opt_outs
                    .iter()
                    .find(|c| c.index == index)
                    .map(|c| Tag::OptOut(c.channel))
            })
    }

    /// Tags column `index` (or untags it with `None`); a field is on one column only, and
    /// a column holds one tag.
    pub fn set(&mut self, index: usize, tag: Option<Tag>) {
        for slot in &mut self.fields {
            if *slot == Some(index) {
                *slot = None;
            }
        }
        self.custom.retain(|c| c.index != index);
        self.opt_outs.retain(|c| c.index != index);
        match tag {
            Some(Tag::Field(field)) => self.fields[field.index()] = Some(index),
            Some(Tag::Custom(key)) => {
                self.custom.push(CustomColumn { index, key });
                self.custom.sort_by_key(|c| c.index);
            }
            Some(Tag::OptOut(channel)) => {
                self.opt_outs.retain(|c| c.channel != channel);
                self.opt_outs.push(OptOutColumn { index, channel });
                self.opt_outs.sort_by_key(|c| c.index);
            }
            None => {}
        }
    }

    /// The highest column any tag points at.
    pub fn widest(&self) -> Option<usize> {
        self.fields
            .iter()
            .flatten()
            .copied()
            .chain(self.custom.iter().map(|c| c.index))
            .chain(self.opt_outs.iter().map(|c| c.index))
            .max()
    }

    /// What is wrong with the tags, in words, if anything: the mobile number's column is
    /// required; a column holds one tag and lies within the most fields a row may have;
    /// custom keys are needed, short, different from one another and at most
    /// [`MAX_ATTRIBUTES`]. The preview and the server both ask this before an import.
    pub fn problem(&self) -> Option<String> {
        if self.get(Field::Mobile).is_none() {
            return Some("Tag the column that holds the mobile number.".into());
        }
        if self.custom.len() > MAX_ATTRIBUTES {
            return Some(format!(
                "A contact has at most {MAX_ATTRIBUTES} custom fields."
            ));
        }
        let mut indexes: Vec<usize> = self
            .fields
            .iter()
            .flatten()
            .copied()
            .chain(self.custom.iter().map(|c| c.index))
            .chain(self.opt_outs.iter().map(|c| c.index))
            .collect();
        indexes.sort_unstable();
        if let Some(&past) = indexes.iter().find(|&&i| i >= MAX_FIELDS) {
            return Some(format!(
                "Column {} is past the last column a row may have ({MAX_FIELDS}).",
                past.saturating_add(1)
            ));
        }
        if let Some(pair) = indexes.windows(2).find(|pair| pair[0] == pair[1]) {
            return Some(format!("Column {} has two tags.", pair[0] + 1));
        }
        for (i, column) in self.opt_outs.iter().enumerate() {
            let channel = column.channel;
            if self.opt_outs[..i].iter().any(|c| c.channel == channel) {
                return Some(format!(
                    "Two columns say who is opted out of {}.",
                    channel.label()
                ));
            }
            if self.get(channel.field()).is_none() {
                return Some(format!(
                    "Column {} says who is opted out of {}: tag the column of their {} too.",
                    column.index + 1,
                    channel.label(),
                    channel.field().spec().label.to_lowercase()
                ));
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for column in &self.custom {
            let key = column.key.trim();
            if key.is_empty() {
                return Some(format!(
                    "Column {} is a custom field: give it a name.",
                    column.index + 1
                ));
            }
            if key.chars().count() > MAX_ID_LEN {
                return Some(format!(
                    "A custom field name has at most {MAX_ID_LEN} characters."
                ));
            }
            let folded = key.to_lowercase();
            if seen.contains(&folded) {
                return Some(format!("Two columns are the custom field \"{key}\"."));
            }
            seen.push(folded);
        }
        None
    }
}

/// Tags suggested for header cells: the first header matching each field wins; other
/// columns are left out until the user tags them.
pub fn suggest(headers: &[String]) -> Columns {
    let mut columns = Columns::default();
    for (index, header) in headers.iter().enumerate() {
        if let Some(tag) = suggest_tag(header)
            && columns.tag_of(index).is_none()
            && columns.get(tag).is_none()
        {
            columns.set(index, Some(Tag::Field(tag)));
        }
    }
    columns
}

/// The field a header name suggests: case, spaces and punctuation do not matter.
pub fn suggest_tag(header: &str) -> Option<Field> {
    let key = header_key(header);
    ContactField::ALL
        .into_iter()
        .find(|field| field.spec().headers.contains(&key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_names_of_common_exports_suggest_fields() {
        let cases = [
            (
                Field::Mobile,
                &[
                    "Mobile",
                    "Mobile Phone",
                    "Phone 1 - Value",
                    "msisdn",
                    "Cell",
                    "phone_number",
                ][..],
            ),
            (
                Field::FirstName,
                &["First Name", "Given Name", "first_name", "FIRSTNAME"],
            ),
            (
                Field::LastName,
                &["Last Name", "Family Name", "surname", "Family-Name"],
            ),
            (
                Field::Email,
                &[
                    "E-mail Address",
                    "E-mail 1 - Value",
                    "Email",
                    "email_address",
                ],
            ),
            (Field::Country, &["Country", "Country/Region"]),
            (Field::WhatsApp, &["WhatsApp"]),
            (Field::Line, &["LINE ID"]),
            (Field::ExternalId, &["External ID", "Customer ID"]),
        ];
        for (field, names) in cases {
            for name in names {
                assert_eq!(suggest_tag(name), Some(field), "{name}");
            }
        }
        for name in ["company", "", "notes", "Birthday"] {
            assert_eq!(suggest_tag(name), None, "{name}");
        }
    }

    #[test]
    fn suggestions_take_the_first_matching_column() {
        let columns = suggest(&headers(&[
            "E-mail Address",
            "Given name",
            "Surname",
            "Phone",
            "Cell",
            "Notes",
        ]));
        assert_eq!(columns.get(Field::Mobile), Some(3));
        assert_eq!(
            (columns.get(Field::FirstName), columns.get(Field::LastName)),
            (Some(1), Some(2))
        );
        assert_eq!(columns.get(Field::Email), Some(0));
        assert_eq!(
            columns.tag_of(4),
            None,
            "a second number column is left out"
        );
        assert_eq!(columns.tag_of(5), None);
        assert_eq!(columns.widest(), Some(3));
    }

    #[test]
    fn a_field_moves_and_a_column_holds_one_tag() {
        let mut columns = Columns::default();
        columns.set(0, Some(Tag::Field(Field::Mobile)));
        columns.set(2, Some(Tag::Field(Field::Mobile)));
        assert_eq!(columns.get(Field::Mobile), Some(2));
        columns.set(2, Some(Tag::Custom("Tier".into())));
        assert_eq!(columns.get(Field::Mobile), None);
        assert_eq!(columns.tag_of(2), Some(Tag::Custom("Tier".into())));
        columns.set(2, None);
        assert_eq!(columns, Columns::default());
    }

    #[test]
    fn tags_need_a_mobile_column_and_distinct_custom_names() {
        let mut columns = Columns::default();
        assert!(columns.problem().unwrap().contains("mobile number"));
        columns.set(0, Some(Tag::Field(Field::Mobile)));
        assert_eq!(columns.problem(), None);
        columns.set(1, Some(Tag::Custom(" ".into())));
        assert!(columns.problem().unwrap().contains("give it a name"));
        columns.set(1, Some(Tag::Custom("Tier".into())));
        columns.set(2, Some(Tag::Custom("tier".into())));
        assert!(columns.problem().unwrap().contains("Two columns"));
    }

    #[test]
    fn crafted_tags_are_refused() {
        let mobile = Columns::default().with(Field::Mobile, 0);
        let many = Columns {
            custom: (1..=10_000)
                .map(|index| CustomColumn {
                    index,
                    key: format!("k{index}"),
                })
                .collect(),
            ..mobile.clone()
        };
        assert!(
            many.problem()
                .unwrap()
                .contains("at most 100 custom fields")
        );
        let far = mobile.clone().with(Field::Email, MAX_FIELDS);
        assert!(far.problem().unwrap().contains("past the last column"));
        let twice = Columns {
            custom: vec![CustomColumn {
                index: 0,
                key: "Tier".into(),
            }],
            ..mobile.clone()
        };
        assert_eq!(twice.problem().unwrap(), "Column 1 has two tags.");
        let same_custom = Columns {
            custom: vec![
                CustomColumn {
                    index: 3,
                    key: "A".into(),
                },
                CustomColumn {
                    index: 3,
                    key: "B".into(),
                },
            ],
            ..mobile.clone()
        };
        assert!(same_custom.problem().unwrap().contains("two tags"));
        let empty_key = Columns {
            custom: vec![CustomColumn {
                index: 3,
                key: String::new(),
            }],
            ..mobile
        };
        assert!(empty_key.problem().unwrap().contains("give it a name"));
    }

    #[test]
    fn settings_of_older_uploads_still_read() {
        let old: Columns =
            serde_json::from_str(r#"{"mobile":2,"first_name":0,"last_name":null}"#).unwrap();
        assert_eq!(old.get(Field::Mobile), Some(2));
        assert_eq!(old.get(Field::FirstName), Some(0));
        assert_eq!(old.get(Field::Email), None);
        assert!(old.custom.is_empty());
    }
}
