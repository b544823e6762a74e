//! `/api/v1/recipients`: who in some groups may be messaged on a channel, with their
//! address there, streamed (NDJSON, or CSV) a page at a time, so memory stays flat
//! whatever the groups' size. The rule is the data layer's one
//! ([`crate::db::groups::sendable_recipients`]).

use super::error::ApiError;
use super::extract::ApiCaller;
use crate::db;
use crate::model::channel::Channel;
use crate::server::auth::Access;
use crate::server::csv_file::CsvChunk;
use crate::server::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri, header};
use serde::Serialize;
use utoipa::ToSchema;

/// Members read per page.
const PAGE: i64 = 10_000;

/// Most groups one request names.
const MAX_GROUPS: usize = 100;

/// One line of the stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recipient {
    /// The contact's id.
    id: i64,
    /// Its address on the channel (E.164 for sms, whatsapp and viber).
    address: String,
}

/// What the query asks for.
struct Wanted {
    groups: Vec<i64>,
    channel: Channel,
    csv: bool,
}

fn read(uri: &Uri, headers: &HeaderMap) -> Result<Wanted, ApiError> {
    let bad =
        |field: &str, message: String| ApiError::new(400, "bad_request", message).with_field(field);
    let mut groups = Vec::new();
    let mut channel = None;
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "groupId" => groups.push(
                value
                    .parse::<i64>()
                    .map_err(|_| bad("groupId", format!("groupId {value:?} is not an id.")))?,
            ),
            "channel" => {
                channel = Some(Channel::parse(&value).ok_or_else(|| {
                    bad(
                        "channel",
                        format!("channel is one of {}.", Channel::names_list()),
                    )
                })?)
            }
            other => return Err(bad(other, format!("Unknown parameter {other:?}."))),
        }
    }
    groups.sort_unstable();
    groups.dedup();
    if groups.is_empty() || groups.len() > MAX_GROUPS {
        return Err(bad(
            "groupId",
            format!("Name 1 to {MAX_GROUPS} groups: groupId=…&groupId=…"),
        ));
    }
    let channel = channel.ok_or_else(|| {
        bad(
            "channel",
            "Name the channel: channel=sms (or email, whatsapp, …).".into(),
        )
    })?;
    let csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    Ok(Wanted {
        groups,
        channel,
        csv,
    })
}

/// Stream the sendable recipients of groups on a channel.
///
/// Members of any of the groups, each once, in id order, that have an address on the
/// channel and are in no blacklisted group. One JSON object per line
/// (`application/x-ndjson`), or CSV with `Accept: text/csv`. Groups of another
/// workspace have no members here.
#[utoipa::path(
    operation_id = "listRecipients",
    get,
    path = "/recipients",
    tag = "Recipients",
    params(
        ("groupId" = Vec<i64>, Query, description = "A group; repeat for several (at most 100)"),
        ("channel" = String, Query, description = "sms, email, whatsapp, viber, line, wechat or messenger"),
    ),
    responses(
        (status = 200, description = "One recipient per line (NDJSON), or CSV with `Accept: text/csv`",
            content((Recipient = "application/x-ndjson"), (String = "text/csv"))),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: ApiCaller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Read)?;
    let wanted = read(&uri, &headers)?;
    let workspace_id = caller.workspace_id;
    let csv = wanted.csv;
    let channel = wanted.channel;
    let groups = wanted.groups;
    let fetch = move |after: i64| {
        let (db, groups) = (state.db.clone(), groups.clone());
        tokio::spawn(async move {
            db::groups::sendable_recipients(&db, workspace_id, &groups, channel, after, PAGE).await
        })
    };
    let pages = futures::stream::unfold(Some((fetch(0), true)), move |position| {
        let fetch = fetch.clone();
        async move {
            let (reading, first) = position?;
            let (rows, next) = match reading.await {
                Ok(Ok(page)) => page,
                Ok(Err(e)) => return Some((Err(std::io::Error::other(e.to_string())), None)),
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            // The next page is read while this one is written and sent.
            let following = next.map(|after| (fetch(after), false));
            let chunk = if csv {
                csv_chunk(&rows, first)
            } else {
                ndjson_chunk(&rows)
            };
            Some((chunk, following))
        }
    });
    let content_type = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/x-ndjson"
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(pages))
        .map_err(|e| crate::error::AppError::internal("recipients", e).into())
}

fn ndjson_chunk(rows: &[(i64, String)]) -> Result<Bytes, std::io::Error> {
    let mut out = Vec::with_capacity(rows.len() * 40);
    for (id, address) in rows {
        serde_json::to_writer(
            &mut out,
            &Recipient {
                id: *id,
                address: address.clone(),
            },
        )?;
        out.push(b'\n');
    }
    Ok(Bytes::from(out))
}

fn csv_chunk(rows: &[(i64, String)], first: bool) -> Result<Bytes, std::io::Error> {
    let mut chunk = CsvChunk::new(first, rows.len());
    if first {
        chunk.row(["id", "address"])?;
    }
    for (id, address) in rows {
        chunk.row([id.to_string().as_str(), address])?;
    }
    chunk.finish()
}
