//! A contact in the API's JSON, in the shape of 8x8's Contacts API: each field of
//! [`ContactField::ALL`] under its API name (channel addresses under `addresses`),
//! `customAttributes` as an object in the contact's order, its groups, and whether it is
//! blacklisted. Written and read from the one list of fields, schemas included.

use crate::db::contacts::StoredContact;
use crate::model::channel::Channel;
use crate::model::contact::{Attribute, ContactInput};
use crate::model::date::format_timestamp;
use crate::model::field::{ApiName, ContactField};
use crate::model::group::GroupRef;
use crate::model::opt_out::{OptOut, OptOutReason, Source};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::sync::LazyLock;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// A group as a contact lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupRef {
    /// The group's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether it is blacklisted: its members are never messaged.
    pub is_blacklist: bool,
}

impl From<GroupRef> for ApiGroupRef {
    fn from(g: GroupRef) -> Self {
        ApiGroupRef {
            id: g.id,
            name: g.name,
            is_blacklist: g.blacklisted,
        }
    }
}

/// A contact as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiContact {
    /// The contact's id.
    pub id: i64,
    created_at: i64,
    updated_at: i64,
    fields: [Option<String>; ContactField::COUNT],
    custom: Vec<(String, String)>,
    groups: Vec<ApiGroupRef>,
    opt_outs: Vec<OptOut>,
    /// For a POST that creates or merges: which it did.
    pub result: Option<&'static str>,
}

impl ApiContact {
    /// A stored contact with its groups and opt-outs.
    pub fn new(stored: StoredContact, groups: Vec<GroupRef>, opt_outs: Vec<OptOut>) -> Self {
        let record = &stored.record;
        ApiContact {
            id: stored.id,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            fields: ContactField::ALL.map(|f| record.get(f).map(str::to_string)),
            custom: serde_json::from_str(&record.attributes).unwrap_or_default(),
            groups: groups.into_iter().map(Into::into).collect(),
            opt_outs,
            result: None,
        }
    }

    /// Its address on a channel, if it has one.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        self.fields[channel.field().index()].as_deref()
    }

    /// The names of the blacklisted groups that stop messages to this contact.
    pub fn blacklisted_by(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.is_blacklist)
            .map(|g| g.name.as_str())
            .collect()
    }

    /// The contact as the API writes it (what PATCH starts from).
    pub fn writable(&self) -> ContactWrite {
        ContactWrite {
            fields: self.fields.clone(),
            custom: self.custom.clone(),
            group_ids: Some(self.groups.iter().map(|g| g.id).collect()),
        }
    }
}

/// A field's value in JSON: its text, or null.
fn write_fields<M: SerializeMap>(
    map: &mut M,
    fields: &[Option<String>; ContactField::COUNT],
) -> Result<(), M::Error> {
    for field in ContactField::ALL {
        if let ApiName::Top(name) = field.spec().api {
            map.serialize_entry(name, &fields[field.index()])?;
        }
    }
    map.serialize_entry("addresses", &Addresses(fields.clone()))
}

impl Serialize for ApiContact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(result) = self.result {
            map.serialize_entry("result", result)?;
        }
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("createdAt", &format_timestamp(self.created_at))?;
        map.serialize_entry("updatedAt", &format_timestamp(self.updated_at))?;
        write_fields(&mut map, &self.fields)?;
        map.serialize_entry("customAttributes", &Custom(self.custom.clone()))?;
        map.serialize_entry("groups", &self.groups)?;
        let blacklisted_by = self.blacklisted_by();
        map.serialize_entry("blacklisted", &!blacklisted_by.is_empty())?;
        map.serialize_entry("blacklistedBy", &blacklisted_by)?;
        let opt_outs: serde_json::Map<String, serde_json::Value> = self
            .opt_outs
            .iter()
            .map(|o| {
                let value = serde_json::json!({
                    "reason": o.reason,
                    "source": o.source,
                    "by": o.by,
                    "at": format_timestamp(o.at),
                });
                (o.channel.name().to_string(), value)
            })
            .collect();
        map.serialize_entry("optOuts", &opt_outs)?;
        map.end()
    }
}

/// A contact as the API writes it: any member may be left out (for a new contact, an
/// empty field; when merging, the field as it was). Unknown members are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactWrite {
    fields: [Option<String>; ContactField::COUNT],
    custom: Vec<(String, String)>,
    /// The groups the contact is in (exactly these), if given.
    pub group_ids: Option<Vec<i64>>,
}

impl ContactWrite {
    /// The form input this makes: a contact's fields, checked and normalised by the one
    /// rule ([`crate::normalize::record`]); the country, if not given, is `country`.
    pub fn input(&self, country: &str) -> ContactInput {
        let mut input = ContactInput::default();
        for field in ContactField::ALL {
            input.set(
                field,
                self.fields[field.index()].clone().unwrap_or_default(),
            );
        }
        if input.get(ContactField::Country).trim().is_empty() {
            input.set(ContactField::Country, country);
        }
        input.attributes = self
            .custom
            .iter()
            .map(|(key, value)| Attribute {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        input
    }

    /// The mobile number as given, if any.
    pub fn msisdn(&self) -> Option<&str> {
        self.fields[ContactField::Mobile.index()]
            .as_deref()
            .filter(|m| !m.trim().is_empty())
    }

    /// The country as given, if any.
    pub fn country(&self) -> Option<&str> {
        self.fields[ContactField::Country.index()]
            .as_deref()
            .filter(|c| !c.trim().is_empty())
    }

    /// Refuses more groups than a contact's form may set (the same bound).
    pub fn check_groups(&self) -> Result<(), super::error::ApiError> {
        let max = crate::model::group::MAX_GROUPS_PER_CONTACT;
        match &self.group_ids {
            Some(ids) if ids.len() > max => Err(super::error::ApiError::new(
                422,
                "validation_failed",
                format!("A contact is put in at most {max} groups at a time."),
            )
            .with_field("groupIds")),
            _ => Ok(()),
        }
    }

    /// The write as JSON (what JSON Patch and Merge Patch apply to).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Serialize for ContactWrite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        write_fields(&mut map, &self.fields)?;
        map.serialize_entry("customAttributes", &Custom(self.custom.clone()))?;
        if let Some(ids) = &self.group_ids {
            map.serialize_entry("groupIds", ids)?;
        }
        map.end()
    }
}

/// The names a contact's JSON may have at its top level (for serde's message about an
/// unknown one).
static TOP_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    ContactField::ALL
        .iter()
        .filter_map(|f| match f.spec().api {
            ApiName::Top(name) => Some(name),
            ApiName::Address(_) => None,
        })
        .chain(["addresses", "customAttributes", "groupIds"])
        .collect()
});

/// The names `addresses` may have.
static ADDRESS_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    ContactField::ALL
        .iter()
        .filter_map(|f| match f.spec().api {
            ApiName::Address(name) => Some(name),
            ApiName::Top(_) => None,
        })
        .collect()
});

/// The field a top-level member names.
fn top_field(name: &str) -> Option<ContactField> {
    ContactField::ALL
        .into_iter()
        .find(|f| matches!(f.spec().api, ApiName::Top(top) if top == name))
}

/// The field a member of `addresses` names.
fn address_field(name: &str) -> Option<ContactField> {
    ContactField::ALL
        .into_iter()
        .find(|f| matches!(f.spec().api, ApiName::Address(address) if address == name))
}

impl<'de> Deserialize<'de> for ContactWrite {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WriteVisitor;
        impl<'de> Visitor<'de> for WriteVisitor {
            type Value = ContactWrite;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a contact object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ContactWrite, A::Error> {
                let mut write = ContactWrite::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "addresses" => {
                            let Addresses(addresses) = map.next_value()?;
                            for field in ContactField::ALL.into_iter().filter(|f| f.is_address()) {
                                write.fields[field.index()] = addresses[field.index()].clone();
                            }
                        }
                        "customAttributes" => {
                            write.custom =
                                map.next_value::<Option<Custom>>()?.unwrap_or_default().0;
                        }
                        "groupIds" => write.group_ids = map.next_value()?,
                        name => match top_field(name) {
                            Some(field) => write.fields[field.index()] = map.next_value()?,
                            None => return Err(de::Error::unknown_field(name, &TOP_NAMES)),
                        },
                    }
                }
                Ok(write)
            }
        }
        deserializer.deserialize_map(WriteVisitor)
    }
}

/// The `addresses` object: the address fields by their API names, the rest `None`.
struct Addresses([Option<String>; ContactField::COUNT]);

impl Serialize for Addresses {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for field in ContactField::ALL {
            if let ApiName::Address(name) = field.spec().api {
                map.serialize_entry(name, &self.0[field.index()])?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Addresses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AddressVisitor;
        impl<'de> Visitor<'de> for AddressVisitor {
            type Value = Addresses;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of addresses")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Addresses, A::Error> {
                let mut fields: [Option<String>; ContactField::COUNT] = Default::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match address_field(&key) {
                        Some(field) => fields[field.index()] = map.next_value()?,
                        None => return Err(de::Error::unknown_field(&key, &ADDRESS_NAMES)),
                    }
                }
                Ok(Addresses(fields))
            }
        }
        deserializer.deserialize_map(AddressVisitor)
    }
}

/// Custom attributes as a JSON object, in the contact's order (a value of null is left
/// out: in a patch it removes the key).
#[derive(Default)]
struct Custom(Vec<(String, String)>);

impl Serialize for Custom {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Custom {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CustomVisitor;
        impl<'de> Visitor<'de> for CustomVisitor {
            type Value = Custom;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of text values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Custom, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if let Some(value) = map.next_value::<Option<String>>()? {
                        pairs.push((key, value));
                    }
                }
                Ok(Custom(pairs))
            }
        }
        deserializer.deserialize_map(CustomVisitor)
    }
}

fn nullable_string(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(description))
        .into()
}

fn addresses_schema() -> Schema {
    let mut addresses = ObjectBuilder::new()
        .description(Some("The contact's address on each channel."))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for field in ContactField::ALL {
        if let ApiName::Address(name) = field.spec().api {
            addresses = addresses.property(name, nullable_string(field.spec().description));
        }
    }
    addresses.into()
}

fn custom_schema() -> Schema {
    ObjectBuilder::new()
        .description(Some(
            "Custom fields, in the contact's order: keys unique ignoring case, at most 100.",
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            nullable_string("A value (null removes the key in a merge)."),
        ))))
        .into()
}

/// A string of one of these values.
fn one_of(values: Vec<&'static str>, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

/// The reasons an opt-out may give, for the document.
pub fn reason_schema() -> Schema {
    one_of(
        OptOutReason::ALL.iter().map(|r| r.key()).collect(),
        "Why: unsubscribed, complaint, bounced, manual or keyword.",
    )
}

/// Where a change came from, for the document.
pub fn source_schema() -> Schema {
    one_of(
        Source::ALL.iter().map(|s| s.key()).collect(),
        "Where it came from: the app (ui), the API, an upload (import), an inbound \
         keyword or an upload's undo.",
    )
}

fn opt_outs_schema() -> Schema {
    let opt_out = ObjectBuilder::new()
        .property("reason", reason_schema())
        .property("source", source_schema())
        .property(
            "by",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "Who: a user's email, an API key's name, an upload's file.",
                )),
        )
        .property(
            "at",
            ObjectBuilder::new().schema_type(Type::String).format(Some(
                utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime),
            )),
        )
        .required("reason")
        .required("source")
        .required("by")
        .required("at")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let mut object = ObjectBuilder::new()
        .description(Some(
            "The channels it may not be messaged on, by channel (sms, email, whatsapp, \
             viber, line, wechat, messenger); an opt-out belongs to the address on the \
             channel.",
        ))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let opt_out: Schema = opt_out.into();
    for channel in Channel::all() {
        object = object.property(channel.name(), opt_out.clone());
    }
    object.into()
}

/// The members both shapes have: the fields, the addresses and the custom fields.
fn field_members(mut object: ObjectBuilder) -> ObjectBuilder {
    for field in ContactField::ALL {
        if let ApiName::Top(name) = field.spec().api {
            object = object.property(name, nullable_string(field.spec().description));
        }
    }
    object
        .property("addresses", addresses_schema())
        .property("customAttributes", custom_schema())
}

impl PartialSchema for ApiContact {
    fn schema() -> RefOr<Schema> {
        let timestamp = |what: &str| -> Schema {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                )))
                .description(Some(what))
                .into()
        };
        let mut object = ObjectBuilder::new()
            .description(Some("A contact."))
            .property(
                "result",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["created", "merged"]))
                    .description(Some("Only in the answer to a POST: whether it created the contact or merged into the one that had the number.")),
            )
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    ))),
            )
            .required("id")
            .property("createdAt", timestamp("Created."))
            .required("createdAt")
            .property("updatedAt", timestamp("Last changed."))
            .required("updatedAt");
        object = field_members(object)
            .property(
                "groups",
                ArrayBuilder::new().items(RefOr::Ref(Ref::from_schema_name("ApiGroupRef"))),
            )
            .property(
                "blacklisted",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some(
                        "Whether a blacklisted group stops every message to it.",
                    )),
            )
            .property(
                "blacklistedBy",
                ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("The blacklisted groups it is in.")),
            )
            .property("optOuts", opt_outs_schema())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for required in [
            "addresses",
            "customAttributes",
            "groups",
            "blacklisted",
            "blacklistedBy",
            "optOuts",
        ] {
            object = object.required(required);
        }
        RefOr::T(object.into())
    }
}

impl ToSchema for ApiContact {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Contact")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("ApiGroupRef".into(), ApiGroupRef::schema()));
    }
}

impl PartialSchema for ContactWrite {
    fn schema() -> RefOr<Schema> {
        let object = field_members(ObjectBuilder::new().description(Some(
            "A contact to create or merge into: every member may be left out; unknown members \
             are refused. Numbers may be national, read with the contact's country (or the \
             workspace's).",
        )))
        .property(
            "groupIds",
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some(
                    "Exactly the groups the contact is in (left out: unchanged).",
                )),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        RefOr::T(object.into())
    }
}

impl ToSchema for ContactWrite {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ContactWrite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::contacts::ContactRecord;

    fn stored() -> StoredContact {
        let mut record = ContactRecord::default()
            .with(ContactField::FirstName, "Ann")
            .with(ContactField::Mobile, "+6581234567")
            .with(ContactField::WhatsApp, "+6581234567")
            .with(ContactField::Country, "SG");
        record.attributes = r#"[["Tier","Gold"],["Since","2020"]]"#.into();
        StoredContact {
            id: 7,
            record,
            created_at: 0,
            updated_at: 60,
        }
    }

    #[test]
    fn a_contact_has_the_shape_of_8x8s() {
        let groups = vec![GroupRef {
            id: 3,
            name: "Unsubscribed".into(),
            blacklisted: true,
        }];
        let json = serde_json::to_value(ApiContact::new(stored(), groups, vec![])).unwrap();
        assert_eq!(json["id"], 7);
        assert_eq!(json["firstName"], "Ann");
        assert_eq!(json["lastName"], serde_json::Value::Null);
        assert_eq!(json["addresses"]["msisdn"], "+6581234567");
        assert_eq!(json["addresses"]["weChatUserId"], serde_json::Value::Null);
        assert_eq!(json["updatedAt"], "1970-01-01T00:01:00Z");
        assert_eq!(json["blacklisted"], true);
        assert_eq!(json["blacklistedBy"], serde_json::json!(["Unsubscribed"]));
        assert_eq!(json["groups"][0]["isBlacklist"], true);
        let text = serde_json::to_string(&json["customAttributes"]).unwrap();
        assert_eq!(
            text, r#"{"Tier":"Gold","Since":"2020"}"#,
            "in the contact's order"
        );
        let direct = serde_json::to_string(&ApiContact::new(stored(), vec![], vec![])).unwrap();
        assert!(
            direct.contains(r#""customAttributes":{"Tier":"Gold","Since":"2020"}"#),
            "{direct}"
        );
    }

    #[test]
    fn writes_read_every_field_and_refuse_unknown_ones() {
        let write: ContactWrite = serde_json::from_str(
            r#"{"firstName":"Bo","country":null,"addresses":{"msisdn":"8123 4567","lineId":"bo"},
                "customAttributes":{"Tier":"Gold","Old":null},"groupIds":[4]}"#,
        )
        .unwrap();
        let input = write.input("SG");
        assert_eq!(input.get(ContactField::FirstName), "Bo");
        assert_eq!(input.get(ContactField::Country), "SG", "the workspace's");
        assert_eq!(input.get(ContactField::Line), "bo");
        assert_eq!(input.attributes.len(), 1);
        assert_eq!(write.group_ids, Some(vec![4]));
        assert_eq!(write.msisdn(), Some("8123 4567"));
        for bad in [
            r#"{"nickname":"x"}"#,
            r#"{"addresses":{"fax":"1"}}"#,
            r#"{"id":3}"#,
            r#"{"firstName":3}"#,
            r#"{"customAttributes":{"n":1}}"#,
        ] {
            assert!(serde_json::from_str::<ContactWrite>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_contact_written_back_is_what_it_was() {
        let contact = ApiContact::new(stored(), vec![], vec![]);
        let doc = contact.writable().to_json();
        let back: ContactWrite = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(back, contact.writable());
        assert_eq!(doc["addresses"]["msisdn"], "+6581234567");
        assert_eq!(doc["groupIds"], serde_json::json!([]));
    }
}
