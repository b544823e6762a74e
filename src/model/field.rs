//! A contact's fields, described once. The contact form, the server functions, the
//! database's column lists, the import's column tags, the CSV export and the integration
//! API's JSON are all derived from [`ContactField::ALL`] and [`FieldSpec`]: a new field
//! is one variant and one row here (and a migration for its column).

use serde::{Deserialize, Serialize};

/// A field of a contact, other than its custom attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactField {
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
    /// The mobile number (the SMS address).
    Mobile,
    /// The contact's country (ISO 3166 code), also for reading its numbers.
    Country,
    /// The email address.
    Email,
    /// The contact's id in another system.
    ExternalId,
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

/// What kind of value a field holds: how it is checked, normalised and typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A person's name: any text, at most [`MAX_NAME_LEN`] characters.
    Name,
    /// A phone number, stored in E.164.
    Phone,
    /// An email address, stored in lower case.
    Email,
    /// An ISO 3166 alpha-2 code; never empty.
    Country,
    /// An identifier in another system: any text, at most [`MAX_ID_LEN`] characters.
    Id,
}

/// Which tab of the contact dialog shows a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormTab {
    /// First/last name, mobile, country, email, external id.
    Basic,
    /// Channel identifiers.
    Channels,
    /// Custom attributes.
    Additional,
}

/// Where a field sits in the integration API's contact JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiName {
    /// A member of the contact object.
    Top(&'static str),
    /// A member of its `addresses` object (a way to reach the contact).
    Address(&'static str),
}

/// Everything the app knows about a field.
#[derive(Debug)]
pub struct FieldSpec {
    /// The field's name in forms, field errors, column tags, database columns and the
    /// CSV export's header.
    pub key: &'static str,
    /// Its name for people (the form's label, the column menu).
    pub label: &'static str,
    /// Its name in the integration API.
    pub api: ApiName,
    /// What it holds.
    pub kind: FieldKind,
    /// The dialog tab that shows it.
    pub tab: FormTab,
    /// A hint under its input in the dialog.
    pub hint: Option<&'static str>,
    /// The browser's autocomplete token for it.
    pub autocomplete: Option<&'static str>,
    /// Header names of uploaded files that suggest this field, written as
    /// [`header_key`] leaves them (lower case, letters and digits only).
    pub headers: &'static [&'static str],
    /// What the field means, for the API reference.
    pub description: &'static str,
    /// The channel this field is the contact's address on, if any.
    pub channel: Option<ChannelName>,
}

/// A channel's names: in the API, URLs and the database (`sms`), and for people (`SMS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelName {
    /// Its name in the API, URLs and the database.
    pub name: &'static str,
    /// Its name for people.
    pub label: &'static str,
}

/// Longest first or last name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest identifier (external id, channel user ids) or custom attribute key.
pub const MAX_ID_LEN: usize = 200;
/// Longest phone number as typed.
pub const MAX_PHONE_LEN: usize = 40;

impl ContactField {
    /// Every field, in the order of the form, the export and the API.
    pub const ALL: [ContactField; 11] = [
        ContactField::FirstName,
        ContactField::LastName,
        ContactField::Mobile,
        ContactField::Country,
        ContactField::Email,
        ContactField::ExternalId,
        ContactField::WhatsApp,
        ContactField::Viber,
        ContactField::Line,
        ContactField::WeChat,
        ContactField::Messenger,
    ];

    /// How many fields there are.
    pub const COUNT: usize = Self::ALL.len();

    /// The field's description.
    pub fn spec(self) -> &'static FieldSpec {
        &SPECS[self as usize]
    }

    /// The field's name in forms, errors, tags, columns and the export.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// What it holds.
    pub fn kind(self) -> FieldKind {
        self.spec().kind
    }

    /// Its position in [`ContactField::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The field a name (see [`ContactField::key`]) names.
    pub fn from_key(key: &str) -> Option<ContactField> {
        ContactField::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The field an API name names (`firstName`, or `msisdn` of the addresses).
    pub fn from_api(name: ApiName) -> Option<ContactField> {
        ContactField::ALL.into_iter().find(|f| f.spec().api == name)
    }

    /// Whether the field is a way to reach the contact (a channel address).
    pub fn is_address(self) -> bool {
        matches!(self.spec().api, ApiName::Address(_))
    }

    /// The longest value, in characters, as typed.
    pub fn max_len(self) -> usize {
        match self.kind() {
            FieldKind::Name => MAX_NAME_LEN,
            FieldKind::Phone => MAX_PHONE_LEN,
            FieldKind::Email => crate::model::account::MAX_EMAIL_LEN,
            FieldKind::Country => 2,
            FieldKind::Id => MAX_ID_LEN,
        }
    }

    /// The fields shown by a tab of the dialog, in order.
    pub fn of_tab(tab: FormTab) -> impl Iterator<Item = ContactField> {
        ContactField::ALL
            .into_iter()
            .filter(move |f| f.spec().tab == tab)
    }
}

/// The fields are named by their key on the wire (e.g. `"line_id"`), as the column tags
/// of stored uploads have always been.
impl Serialize for ContactField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for ContactField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ContactField::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown contact field {key:?}")))
    }
}

/// A header name as [`FieldSpec::headers`] lists it: case, spaces and punctuation do not
/// matter ("E-mail Address" → "emailaddress").
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

const SPECS: [FieldSpec; ContactField::COUNT] = [
    FieldSpec {
        key: "first_name",
        label: "First name",
        api: ApiName::Top("firstName"),
        kind: FieldKind::Name,
        tab: FormTab::Basic,
        hint: None,
        autocomplete: Some("given-name"),
        headers: &["firstname", "givenname", "first", "forename", "fname"],
        description: "First name.",
        channel: None,
    },
    FieldSpec {
        key: "last_name",
        label: "Last name",
        api: ApiName::Top("lastName"),
        kind: FieldKind::Name,
        tab: FormTab::Basic,
        hint: None,
        autocomplete: Some("family-name"),
        headers: &[
            "lastname",
            "surname",
            "familyname",
            "last",
            "lname",
            "name2",
        ],
        description: "Last name.",
        channel: None,
    },
    FieldSpec {
        key: "mobile",
        label: "Mobile number",
        api: ApiName::Address("msisdn"),
        kind: FieldKind::Phone,
        tab: FormTab::Basic,
        hint: Some("With + and country code, or as dialled in the contact's country."),
        autocomplete: None,
        headers: &[
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
        description: "Mobile number in E.164 (+6581234567), unique in the workspace; the SMS \
                      address. Input may be national, read with the contact's country.",
        channel: Some(ChannelName {
            name: "sms",
            label: "SMS",
        }),
    },
    FieldSpec {
        key: "country",
        label: "Country",
        api: ApiName::Top("country"),
        kind: FieldKind::Country,
        tab: FormTab::Basic,
        hint: None,
        autocomplete: None,
        headers: &["country", "countryregion", "countrycode", "nation"],
        description: "ISO 3166-1 alpha-2 code; numbers written without a country code are \
                      read as this country's. Defaults to the workspace's.",
        channel: None,
    },
    FieldSpec {
        key: "email",
        label: "Email",
        api: ApiName::Address("email"),
        kind: FieldKind::Email,
        tab: FormTab::Basic,
        hint: None,
        autocomplete: None,
        headers: &[
            "email",
            "emailaddress",
            "email1value",
            "mail",
            "emailaddr",
            "e",
        ],
        description: "Email address (stored in lower case).",
        channel: Some(ChannelName {
            name: "email",
            label: "Email",
        }),
    },
    FieldSpec {
        key: "external_id",
        label: "External ID",
        api: ApiName::Top("externalId"),
        kind: FieldKind::Id,
        tab: FormTab::Basic,
        hint: Some("The contact's id in another system, if any."),
        autocomplete: None,
        headers: &["externalid", "customerid", "clientid", "crmid", "memberid"],
        description: "The contact's id in another system.",
        channel: None,
    },
    FieldSpec {
        key: "whatsapp",
        label: "WhatsApp",
        api: ApiName::Address("whatsapp"),
        kind: FieldKind::Phone,
        tab: FormTab::Channels,
        hint: Some("Leave empty to use the mobile number."),
        autocomplete: None,
        headers: &["whatsapp", "whatsappnumber", "wa"],
        description: "WhatsApp number in E.164; without one, the mobile number.",
        channel: Some(ChannelName {
            name: "whatsapp",
            label: "WhatsApp",
        }),
    },
    FieldSpec {
        key: "viber",
        label: "Viber",
        api: ApiName::Address("viber"),
        kind: FieldKind::Phone,
        tab: FormTab::Channels,
        hint: None,
        autocomplete: None,
        headers: &["viber", "vibernumber"],
        description: "Viber number in E.164.",
        channel: Some(ChannelName {
            name: "viber",
            label: "Viber",
        }),
    },
    FieldSpec {
        key: "line_id",
        label: "LINE user ID",
        api: ApiName::Address("lineId"),
        kind: FieldKind::Id,
        tab: FormTab::Channels,
        hint: None,
        autocomplete: None,
        headers: &["line", "lineid", "lineuserid"],
        description: "LINE user id.",
        channel: Some(ChannelName {
            name: "line",
            label: "LINE",
        }),
    },
    FieldSpec {
        key: "wechat_id",
        label: "WeChat user ID",
        api: ApiName::Address("weChatUserId"),
        kind: FieldKind::Id,
        tab: FormTab::Channels,
        hint: None,
        autocomplete: None,
        headers: &["wechat", "wechatid", "wechatuserid", "weixin"],
        description: "WeChat user id.",
        channel: Some(ChannelName {
            name: "wechat",
            label: "WeChat",
        }),
    },
    FieldSpec {
        key: "messenger_id",
        label: "Facebook Messenger user ID",
        api: ApiName::Address("facebookUserId"),
        kind: FieldKind::Id,
        tab: FormTab::Channels,
        hint: None,
        autocomplete: None,
        headers: &[
            "messenger",
            "messengerid",
            "facebookmessenger",
            "messengeruserid",
        ],
        description: "Facebook Messenger user id.",
        channel: Some(ChannelName {
            name: "messenger",
            label: "Messenger",
        }),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_its_own_row_and_unique_names() {
        for (i, field) in ContactField::ALL.into_iter().enumerate() {
            assert_eq!(field.index(), i);
            assert_eq!(ContactField::from_key(field.key()), Some(field));
            assert_eq!(ContactField::from_api(field.spec().api), Some(field));
        }
        let mut keys: Vec<_> = ContactField::ALL.iter().map(|f| f.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ContactField::COUNT);
        let mut headers: Vec<_> = ContactField::ALL
            .iter()
            .flat_map(|f| f.spec().headers.iter())
            .collect();
        let all = headers.len();
        headers.sort_unstable();
        headers.dedup();
        assert_eq!(headers.len(), all, "a header suggests one field");
        for field in ContactField::ALL {
            assert_eq!(
                field.spec().channel.is_some(),
                field.is_address(),
                "every address is a channel's: {field:?}"
            );
        }
    }

    #[test]
    fn fields_round_trip_by_key() {
        let json = serde_json::to_string(&ContactField::Messenger).unwrap();
        assert_eq!(json, "\"messenger_id\"");
        assert_eq!(
            serde_json::from_str::<ContactField>(&json).unwrap(),
            ContactField::Messenger
        );
        assert!(serde_json::from_str::<ContactField>("\"telegram\"").is_err());
    }
}
