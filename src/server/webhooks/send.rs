//! One delivery attempt, as the Standard Webhooks specification has it: the body
//! `{type, timestamp, data}`, the headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, and what the answer means for the next attempt.

use super::guard;
use crate::db::webhooks::{Due, Outcome};
use crate::model::date::format_timestamp;
use crate::model::webhook::webhook_id;
use std::time::Duration;

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The waits after each failed attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h), then a day
/// at a time while the event is under [`GIVE_UP_AFTER`] old.
const BACKOFF: [i64; 6] = [5, 300, 1_800, 7_200, 18_000, 36_000];

/// An event is retried for three days.
pub const GIVE_UP_AFTER: i64 = 3 * 86_400;

/// A `Retry-After` longer than a day is read as a day.
const MAX_RETRY_AFTER: i64 = 86_400;

/// When to try again after `attempts` failed attempts (this one included) of an event
/// made at `created_at`, at the latest of the schedule and the endpoint's `Retry-After`;
/// `None` once past three days.
pub fn next_attempt(
    attempts: i64,
    created_at: i64,
    now: i64,
    retry_after: Option<i64>,
) -> Option<i64> {
    let wait = usize::try_from(attempts - 1)
        .ok()
        .and_then(|i| BACKOFF.get(i).copied())
        .unwrap_or(86_400);
    let wait = wait.max(retry_after.unwrap_or(0).clamp(0, MAX_RETRY_AFTER));
    let at = now + wait;
    (at - created_at <= GIVE_UP_AFTER).then_some(at)
}

/// A `Retry-After` header in seconds from `now`: a number of seconds or an HTTP date.
pub fn retry_after(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some((at - now).max(0))
}

/// The body of a message: the same at every attempt.
pub fn body(due: &Due) -> String {
    let text = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\"type\":{},\"timestamp\":{},\"data\":{}}}",
        text(&due.event_type),
        text(&format_timestamp(due.created_at)),
        due.data
    )
}

/// The client deliveries go through: a 15 s timeout, no redirects followed (a redirect
/// is a failed attempt), no proxy from the environment, and the public-only resolver
/// unless private addresses are allowed.
pub fn client(allow_private: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Contacts-Webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(resolver) = guard::resolver(allow_private) {
        builder = builder.dns_resolver(resolver);
    }
    builder
        .build()
        .expect("the webhook client's settings are valid")
}

/// Sends `due` once at `now` and says what became of it.
pub async fn attempt(
    client: &reqwest::Client,
    allow_private: bool,
    due: &Due,
    now: i64,
) -> Outcome {
    let retry = |status: Option<u16>, error: Option<String>, after: Option<i64>| match next_attempt(
        due.attempts + 1,
        due.created_at,
        now,
        after,
    ) {
        Some(at) => Outcome::Retry { at, status, error },
        None => Outcome::Failed { status, error },
    };
    let url = match reqwest::Url::parse(&due.url) {
        Ok(url) => url,
        Err(_) => {
            return Outcome::Failed {
                status: None,
                error: Some("not a URL".into()),
            };
        }
    };
    if !allow_private && guard::literal_internal(&url) {
        return retry(None, Some("the address is inside the network".into()), None);
    }
    let body = body(due);
    let id = webhook_id(due.id);
    let signature = match standardwebhooks::Webhook::new(&due.secret)
        .and_then(|w| w.sign(&id, now, body.as_bytes()))
    {
        Ok(signature) => signature,
        Err(e) => {
            tracing::error!(error = %e, endpoint = due.endpoint_id, "webhook secret unusable");
            return Outcome::Failed {
                status: None,
                error: Some("the signing secret is unusable".into()),
            };
        }
    };
    let sent = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(standardwebhooks::HEADER_WEBHOOK_ID, &id)
        .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, now.to_string())
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            let after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now));
            if status.is_success() {
                Outcome::Delivered {
                    status: status.as_u16(),
                }
            } else if status == http::StatusCode::GONE {
                Outcome::Gone
            } else {
                let error = status
                    .is_redirection()
                    .then(|| "redirects are not followed".to_string());
                retry(Some(status.as_u16()), error, after)
            }
        }
        Err(e) => retry(None, Some(describe(&e)), None),
    }
}

/// Why a request got no answer, in a few words (no internal detail).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        // The resolver's own error, somewhere in the chain of causes.
        let inside = std::iter::successors(std::error::Error::source(error), |e| e.source())
            .any(|e| e.is::<guard::OnlyInside>());
        if inside {
            "the host resolves only to addresses inside the network".into()
        } else {
            "could not connect".into()
        }
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_daily_for_three_days() {
        let t0 = 1_000_000;
        assert_eq!(next_attempt(1, t0, t0, None), Some(t0 + 5));
        assert_eq!(next_attempt(2, t0, t0 + 5, None), Some(t0 + 305));
        assert_eq!(next_attempt(6, t0, t0, None), Some(t0 + 36_000));
        assert_eq!(next_attempt(7, t0, t0 + 50_000, None), Some(t0 + 136_400));
        assert_eq!(next_attempt(9, t0, t0 + 200_000, None), None);
        // Retry-After pushes the next attempt later, never earlier, and at most a day.
        assert_eq!(next_attempt(1, t0, t0, Some(120)), Some(t0 + 120));
        assert_eq!(next_attempt(3, t0, t0, Some(1)), Some(t0 + 1_800));
        assert_eq!(
            next_attempt(1, t0, t0, Some(10 * 86_400)),
            Some(t0 + 86_400)
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(retry_after("120", 0), Some(120));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40), Some(60));
        assert_eq!(retry_after("soon", 0), None);
    }

    #[test]
    fn the_body_is_type_timestamp_and_data() {
        let due = Due {
            id: 7,
            workspace_id: 1,
            endpoint_id: 2,
            event_type: "contact.created".into(),
            data: r#"{"contactId":3}"#.into(),
            created_at: 0,
            attempts: 0,
            url: "https://example.com".into(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        };
        assert_eq!(
            body(&due),
            r#"{"type":"contact.created","timestamp":"1970-01-01T00:00:00Z","data":{"contactId":3}}"#
        );
    }

    #[test]
    fn signatures_match_the_specifications_example() {
        let hook =
            standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = hook
            .sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#,
            )
            .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
