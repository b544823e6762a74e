//! Which column holds what: the user's tags, and suggestions from header names.
//!
//! Any column can fill any contact field or a custom field; the mobile number is
//! required. Suggestions know the headers of the usual exports: Outlook ("Mobile Phone",
//! "E-mail Address"), Google Contacts ("Given Name", "Phone 1 - Value"), Excel sheets
//! people make themselves ("Mobile", "Surname"), and the peers' own exports.

use crate::import::records::MAX_FIELDS;
use crate::model::contact::{MAX_ATTRIBUTES, MAX_ID_LEN};
use serde::{Deserialize, Serialize};

/// A contact field a column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    /// The mobile number (required).
    Mobile,
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
    /// The email address.
    Email,
    /// The contact's id in another system.
    ExternalId,
    /// The contact's country (ISO code), also for reading its numbers.
    Country,
    /// The WhatsApp number (without one, the mobile number).
    WhatsApp,
    /// The Viber number.
    Viber,
    /// The LINE user id.
    Line,
    /// The WeChat user id.
    WeChat,
    /// The Facebook Messenger user id.
    Messenger,
}

impl Field {
    /// Every field, in menu order.
    pub const ALL: [Field; 11] = [
        Field::Mobile,
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::ExternalId,
        Field::Country,
        Field::WhatsApp,
        Field::Viber,
        Field::Line,
        Field::WeChat,
        Field::Messenger,
    ];

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Field::Mobile => "Mobile number",
            Field::FirstName => "First name",
            Field::LastName => "Last name",
            Field::Email => "Email",
            Field::ExternalId => "External ID",
            Field::Country => "Country",
            Field::WhatsApp => "WhatsApp",
            Field::Viber => "Viber",
            Field::Line => "LINE user ID",
            Field::WeChat => "WeChat user ID",
            Field::Messenger => "Messenger user ID",
        }
    }

    /// The value that names it in the column menu.
    pub fn key(self) -> &'static str {
        match self {
            Field::Mobile => "mobile",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::ExternalId => "external_id",
            Field::Country => "country",
            Field::WhatsApp => "whatsapp",
            Field::Viber => "viber",
            Field::Line => "line_id",
            Field::WeChat => "wechat_id",
            Field::Messenger => "messenger_id",
        }
    }

    /// The field a menu value names.
    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// What a column is tagged as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tag {
    /// A contact field.
    Field(Field),
    /// A custom field with this key.
    Custom(String),
}

/// A column imported as a custom field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomColumn {
    /// The column (0-based).
    pub index: usize,
    /// The custom field's key (from the header, editable).
    pub key: String,
}

/// The columns (0-based) the user tagged. (Named fields rather than a list, so the
/// settings of uploads made before more fields could be mapped still read.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    /// The mobile number's column; required before processing.
    pub mobile: Option<usize>,
    /// The first name's column.
    pub first_name: Option<usize>,
    /// The last name's column.
    pub last_name: Option<usize>,
    /// The email's column.
    #[serde(default)]
    pub email: Option<usize>,
    /// The external id's column.
    #[serde(default)]
    pub external_id: Option<usize>,
    /// The country's column.
    #[serde(default)]
    pub country: Option<usize>,
    /// The WhatsApp number's column.
    #[serde(default)]
    pub whatsapp: Option<usize>,
    /// The Viber number's column.
    #[serde(default)]
    pub viber: Option<usize>,
    /// The LINE user id's column.
    #[serde(default)]
    pub line_id: Option<usize>,
    /// The WeChat user id's column.
    #[serde(default)]
    pub wechat_id: Option<usize>,
    /// The Messenger user id's column.
    #[serde(default)]
    pub messenger_id: Option<usize>,
    /// Columns imported as custom fields, in column order.
    #[serde(default)]
    pub custom: Vec<CustomColumn>,
}

impl Columns {
    fn slot(&mut self, field: Field) -> &mut Option<usize> {
        match field {
            Field::Mobile => &mut self.mobile,
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::Email => &mut self.email,
            Field::ExternalId => &mut self.external_id,
            Field::Country => &mut self.country,
            Field::WhatsApp => &mut self.whatsapp,
            Field::Viber => &mut self.viber,
            Field::Line => &mut self.line_id,
            Field::WeChat => &mut self.wechat_id,
            Field::Messenger => &mut self.messenger_id,
        }
    }

    /// The column tagged with `field`.
    pub fn get(&self, field: Field) -> Option<usize> {
        match field {
            Field::Mobile => self.mobile,
            Field::FirstName => self.first_name,
            Field::LastName => self.last_name,
            Field::Email => self.email,
            Field::ExternalId => self.external_id,
            Field::Country => self.country,
            Field::WhatsApp => self.whatsapp,
            Field::Viber => self.viber,
            Field::Line => self.line_id,
            Field::WeChat => self.wechat_id,
            Field::Messenger => self.messenger_id,
        }
    }

    /// The fields that have a column.
    pub fn mapped(&self) -> impl Iterator<Item = Field> + '_ {
        Field::ALL.into_iter().filter(|f| self.get(*f).is_some())
    }

    /// The tag on column `index`, if any.
    pub fn tag_of(&self, index: usize) -> Option<Tag> {
        Field::ALL
            .into_iter()
            .find(|&field| self.get(field) == Some(index))
            .map(Tag::Field)
            .or_else(|| {
                self.custom
                    .iter()
                    .find(|c| c.index == index)
                    .map(|c| Tag::Custom(c.key.clone()))
            })
    }

    /// Tags column `index` (or untags it with `None`); a field is on one column only, and
    /// a column holds one tag.
    pub fn set(&mut self, index: usize, tag: Option<Tag>) {
        for field in Field::ALL {
            let slot = self.slot(field);
            if *slot == Some(index) {
                *slot = None;
            }
        }
        self.custom.retain(|c| c.index != index);
        match tag {
            Some(Tag::Field(field)) => *self.slot(field) = Some(index),
            Some(Tag::Custom(key)) => {
                self.custom.push(CustomColumn { index, key });
                self.custom.sort_by_key(|c| c.index);
            }
            None => {}
        }
    }

    /// The highest column any tag points at.
    pub fn widest(&self) -> Option<usize> {
        Field::ALL
            .into_iter()
            .filter_map(|f| self.get(f))
            .chain(self.custom.iter().map(|c| c.index))
            .max()
    }

    /// What is wrong with the tags, in words, if anything: the mobile number's column is
    /// required; a column holds one tag and lies within the most fields a row may have;
    /// custom keys are needed, short, different from one another and at most
    /// [`MAX_ATTRIBUTES`]. The preview and the server both ask this before an import.
    pub fn problem(&self) -> Option<String> {
        if self.mobile.is_none() {
            return Some("Tag the column that holds the mobile number.".into());
        }
        if self.custom.len() > MAX_ATTRIBUTES {
            return Some(format!(
                "A contact has at most {MAX_ATTRIBUTES} custom fields."
            ));
        }
        let mut indexes: Vec<usize> = Field::ALL
            .into_iter()
            .filter_map(|f| self.get(f))
            .chain(self.custom.iter().map(|c| c.index))
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
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    const NAMES: [(Field, &[&str]); 11] = [
        (
            Field::Mobile,
            &[
                "mobile",
                "mobilenumber",
                "mobileno",
                "mobilephone",
                "phone",
                "phonenumber",
                "phoneno",
                "phone1value",
                "primaryphone",
                "msisdn",
                "cell",
                "cellphone",
                "cellnumber",
                "handphone",
                "number",
                "telephone",
                "tel",
            ],
        ),
        (
            Field::FirstName,
            &["firstname", "givenname", "first", "forename", "fname"],
        ),
        (
            Field::LastName,
            &[
                "lastname",
                "surname",
                "familyname",
                "last",
                "lname",
                "name2",
            ],
        ),
        (
            Field::Email,
            &[
                "email",
                "emailaddress",
                "email1value",
                "mail",
                "emailaddr",
                "e",
            ],
        ),
        (
            Field::ExternalId,
            &["externalid", "customerid", "clientid", "crmid", "memberid"],
        ),
        (
            Field::Country,
            &["country", "countryregion", "countrycode", "nation"],
        ),
        (Field::WhatsApp, &["whatsapp", "whatsappnumber", "wa"]),
        (Field::Viber, &["viber", "vibernumber"]),
        (Field::Line, &["line", "lineid", "lineuserid"]),
        (
            Field::WeChat,
            &["wechat", "wechatid", "wechatuserid", "weixin"],
        ),
        (
            Field::Messenger,
            &[
                "messenger",
                "messengerid",
                "facebookmessenger",
                "messengeruserid",
            ],
        ),
    ];
    NAMES
        .iter()
        .find(|(_, names)| names.contains(&key.as_str()))
        .map(|(field, _)| *field)
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
        assert_eq!(columns.mobile, Some(3));
        assert_eq!((columns.first_name, columns.last_name), (Some(1), Some(2)));
        assert_eq!(columns.email, Some(0));
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
        assert_eq!(columns.mobile, Some(2));
        columns.set(2, Some(Tag::Custom("Tier".into())));
        assert_eq!(columns.mobile, None);
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
        let mobile = Columns {
            mobile: Some(0),
            ..Columns::default()
        };
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
        let far = Columns {
            email: Some(MAX_FIELDS),
            ..mobile.clone()
        };
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
        assert_eq!(old.mobile, Some(2));
        assert_eq!(old.email, None);
        assert!(old.custom.is_empty());
    }
}
