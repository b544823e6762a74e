//! Webhooks as Settings and the API show them: the events an endpoint can ask for, an
//! endpoint, a delivery, and the checks on a new endpoint's URL and events that need no
//! network (the server also refuses hosts inside the network).

use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// Longest endpoint URL.
pub const MAX_URL_LEN: usize = 2_048;

/// Most endpoints a workspace may have.
pub const MAX_ENDPOINTS: i64 = 20;

/// Deliveries a page of the log shows.
pub const DELIVERY_PAGE: u32 = 50;

/// What an endpoint can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "contact.created")]
    ContactCreated,
    #[serde(rename = "contact.updated")]
    ContactUpdated,
    #[serde(rename = "contact.deleted")]
    ContactDeleted,
    #[serde(rename = "contact.optedOut")]
    ContactOptedOut,
    #[serde(rename = "contact.optedIn")]
    ContactOptedIn,
    #[serde(rename = "import.completed")]
    ImportCompleted,
}

impl WebhookEvent {
    /// Every event, in the order Settings lists them.
    pub const ALL: [WebhookEvent; 6] = [
        WebhookEvent::ContactCreated,
        WebhookEvent::ContactUpdated,
        WebhookEvent::ContactDeleted,
        WebhookEvent::ContactOptedOut,
        WebhookEvent::ContactOptedIn,
        WebhookEvent::ImportCompleted,
    ];

    /// Its name in payloads, the API and the database (`contact.created`).
    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::ContactCreated => "contact.created",
            WebhookEvent::ContactUpdated => "contact.updated",
            WebhookEvent::ContactDeleted => "contact.deleted",
            WebhookEvent::ContactOptedOut => "contact.optedOut",
            WebhookEvent::ContactOptedIn => "contact.optedIn",
            WebhookEvent::ImportCompleted => "import.completed",
        }
    }

    /// The event called `name`.
    pub fn parse(name: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::ContactCreated => "A contact is created",
            WebhookEvent::ContactUpdated => "A contact is changed or joins or leaves a group",
            WebhookEvent::ContactDeleted => "A contact is deleted",
            WebhookEvent::ContactOptedOut => "A contact opts out of a channel",
            WebhookEvent::ContactOptedIn => "A contact opts back into a channel",
            WebhookEvent::ImportCompleted => "An upload finishes",
        }
    }
}

/// An endpoint as the list shows it; its secret is never shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// Seconds since the epoch.
    pub created_at: i64,
    /// Why deliveries stopped for good, if they did (it answered 410 Gone).
    pub disabled: Option<String>,
}

/// An endpoint just added: the only time its signing secret is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`, to verify the `webhook-signature` header with.
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: retried for three days, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    /// Its name in the database and the API.
    pub fn key(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status called `key`.
    pub fn parse(key: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// One message to one endpoint, with its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its `webhook-id` (the same at every attempt).
    pub webhook_id: String,
    pub event: WebhookEvent,
    /// The contact it is about, if any.
    pub contact_id: Option<i64>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// When the event happened (seconds since the epoch).
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
    /// The endpoint's HTTP status at the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed without a status (timeout, refused, …).
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<i64>,
}

/// The `webhook-id` of message `id`.
pub fn webhook_id(id: i64) -> String {
    format!("msg_{id}")
}

/// Trims a new endpoint's URL and checks its form (http or https, a host, not too
/// long) and its events (at least one, each once).
pub fn check_new_endpoint(
    url: &str,
    events: &[WebhookEvent],
) -> Result<(String, Vec<WebhookEvent>), AppError> {
    let url = url.trim();
    let invalid = |message: &str| AppError::invalid("url", message);
    if url.len() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "A webhook URL has at most {MAX_URL_LEN} characters."
        )));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("A webhook URL starts with https:// (or http://)."))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') || url.chars().any(char::is_whitespace) {
        return Err(invalid(
            "That is not a URL: write it as https://example.com/hooks.",
        ));
    }
    if authority.contains('@') {
        return Err(invalid(
            "Put no user name or password in the URL: deliveries are signed instead.",
        ));
    }
    let mut chosen: Vec<WebhookEvent> = Vec::new();
    for e in WebhookEvent::ALL {
        if events.contains(&e) {
            chosen.push(e);
        }
    }
    if chosen.is_empty() {
        return Err(AppError::invalid(
            "events",
            "Choose at least one event to send.",
        ));
    }
    Ok((url.to_string(), chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_needs_an_http_url_and_an_event() {
        let all = [WebhookEvent::ContactCreated, WebhookEvent::ContactCreated];
        let (url, events) = check_new_endpoint(" https://example.com/hooks ", &all).unwrap();
        assert_eq!(url, "https://example.com/hooks");
        assert_eq!(events, [WebhookEvent::ContactCreated]);
        for bad in [
            "ftp://example.com",
            "example.com/hooks",
            "https://",
            "https:///path",
            "https://:80/",
            "https://a b.com/",
            "https://user:pw@example.com/",
        ] {
            let error = check_new_endpoint(bad, &all).unwrap_err();
            assert!(error.field_message("url").is_some(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_new_endpoint(&long, &all).is_err());
        let none = check_new_endpoint("https://example.com", &[]).unwrap_err();
        assert!(none.field_message("events").is_some());
    }

    #[test]
    fn events_have_the_names_of_the_spec() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.name()), Some(e));
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", e.name())
            );
        }
    }
}
