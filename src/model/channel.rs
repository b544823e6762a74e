//! The channels a contact is messaged on. Each is named by the field that is the
//! contact's address there ([`FieldSpec::channel`](crate::model::field::FieldSpec)), so
//! the list of channels is the field list's.

use crate::model::field::{ChannelName, ContactField};
use serde::{Deserialize, Serialize};

/// A channel: SMS, email, WhatsApp, Viber, LINE, WeChat or Messenger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Channel(ContactField);

impl Channel {
    /// SMS, to the mobile number.
    pub const SMS: Channel = Channel(ContactField::Mobile);
    /// Email, to the email address.
    pub const EMAIL: Channel = Channel(ContactField::Email);

    /// Every channel, in the order of the fields.
    pub fn all() -> impl Iterator<Item = Channel> {
        ContactField::ALL
            .into_iter()
            .filter(|f| f.spec().channel.is_some())
            .map(Channel)
    }

    /// The channel of this name (`sms`, `email`, …).
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::all().find(|c| c.name() == name)
    }

    /// The channel a field is the address on, if it is one.
    pub fn of_field(field: ContactField) -> Option<Channel> {
        field.spec().channel.map(|_| Channel(field))
    }

    fn names(self) -> ChannelName {
        // Only fields with a channel make a `Channel`.
        self.0.spec().channel.unwrap_or(ChannelName {
            name: "",
            label: "",
        })
    }

    /// Its name in the API, URLs and the database.
    pub fn name(self) -> &'static str {
        self.names().name
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        self.names().label
    }

    /// The field that is the contact's address on it.
    pub fn field(self) -> ContactField {
        self.0
    }

    /// Whether its addresses are phone numbers (read with a country, kept in E.164).
    pub fn is_phone(self) -> bool {
        self.0.kind() == crate::model::field::FieldKind::Phone
    }

    /// "sms, email, whatsapp, …" for messages that list the choices.
    pub fn names_list() -> String {
        Channel::all()
            .map(Channel::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<Channel> for String {
    fn from(channel: Channel) -> String {
        channel.name().to_string()
    }
}

impl TryFrom<String> for Channel {
    type Error = String;

    fn try_from(name: String) -> Result<Channel, String> {
        Channel::parse(&name).ok_or_else(|| {
            format!(
                "Unknown channel {name:?}: one of {}.",
                Channel::names_list()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_channels_named_for_the_api_and_for_people() {
        let names: Vec<&str> = Channel::all().map(Channel::name).collect();
        assert_eq!(
            names,
            [
                "sms",
                "email",
                "whatsapp",
                "viber",
                "line",
                "wechat",
                "messenger"
            ]
        );
        for channel in Channel::all() {
            assert_eq!(Channel::parse(channel.name()), Some(channel));
            assert!(!channel.label().is_empty());
        }
        assert_eq!(
            Channel::parse("sms").map(Channel::field),
            Some(ContactField::Mobile)
        );
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(Channel::of_field(ContactField::FirstName), None);
        let json: Channel = serde_json::from_str("\"whatsapp\"").unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"whatsapp\"");
        assert!(serde_json::from_str::<Channel>("\"fax\"").is_err());
    }
}
