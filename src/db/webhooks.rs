//! Webhooks: the endpoints of a workspace, and the outbox their deliveries are sent
//! from. A change writes its messages in its own transaction (through
//! [`super::history`], which every change to a contact goes through, and
//! [`super::imports::finish`]), one per endpoint that asked for the event, so a change
//! and its event are never one without the other. The worker
//! (`server::webhooks`) takes due messages, sends them and records each attempt here.

use super::history::Author;
use super::{Builder, Conn, Db, Dialect, on};
use crate::error::AppError;
use crate::model::history::{Detail, HistoryKind};
use crate::model::opt_out::Source;
use crate::model::webhook::{
    Delivery, DeliveryStatus, MAX_ENDPOINTS, WebhookEndpoint, WebhookEvent,
};

/// The event a history entry of this kind sends.
pub fn event_of(kind: HistoryKind) -> WebhookEvent {
    match kind {
        HistoryKind::Created => WebhookEvent::ContactCreated,
        HistoryKind::Updated | HistoryKind::Joined | HistoryKind::Left => {
            WebhookEvent::ContactUpdated
        }
        HistoryKind::Deleted => WebhookEvent::ContactDeleted,
        HistoryKind::OptedOut => WebhookEvent::ContactOptedOut,
        HistoryKind::OptedIn => WebhookEvent::ContactOptedIn,
    }
}

/// Whether changes by `author` send contact events: an upload sends one
/// `import.completed` instead of one event per row, and so does its undo (none).
fn sends_contact_events(author: &Author) -> bool {
    !matches!(author.source, Source::Import | Source::Undo)
}

/// A contact event's `data` without its `contactId`, as a JSON object's text:
/// `{"kind":…,"source":…,` and the detail the API's history shows `}`.
fn data_rest(kind: HistoryKind, author: &Author, detail: &Detail) -> Result<String, AppError> {
    let mut map = serde_json::Map::new();
    map.insert("kind".into(), kind.key().into());
    map.insert("source".into(), author.source.key().into());
    map.extend(detail.api_fields());
    serde_json::to_string(&map).map_err(|e| AppError::internal("webhook data", e))
}

/// A contact event's `data`: `{"contactId":…,"kind":…,…}`.
fn contact_data(contact_id: i64, rest: &str) -> String {
    format!("{{\"contactId\":{contact_id},{}", &rest[1..])
}

/// The workspace's live endpoints that asked for `event`.
async fn subscribed(
    conn: Conn<'_>,
    workspace_id: i64,
    event: WebhookEvent,
) -> Result<Vec<i64>, AppError> {
    let sql = "SELECT id, events FROM webhook_endpoints
               WHERE workspace_id = $1 AND disabled_at IS NULL ORDER BY id";
    let rows: Vec<(i64, String)> = on!(conn, conn => {
        sqlx::query_as(sql).bind(workspace_id).fetch_all(conn).await?
    });
    Ok(rows
        .into_iter()
        .filter(|(_, events)| events.split(' ').any(|e| e == event.name()))
        .map(|(id, _)| id)
        .collect())
}

/// The endpoints a set of contacts' change of `kind` by `author` goes to (none for an
/// upload's).
pub async fn endpoints_for(
    conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    kind: HistoryKind,
) -> Result<Vec<i64>, AppError> {
    if !sends_contact_events(author) {
        return Ok(Vec::new());
    }
    let endpoints = subscribed(conn, workspace_id, event_of(kind)).await?;
    if !endpoints.is_empty() {
        // The caller writes their messages in this transaction.
        wake_worker();
    }
    Ok(endpoints)
}

/// Wakes this process's delivery worker when a change writes messages, so they go out
/// at once rather than at the worker's next look for due messages. One for the process:
/// with several databases open, as in tests, a worker is woken by the others' writes
/// too, which costs it one look.
static WRITTEN: std::sync::LazyLock<tokio::sync::watch::Sender<()>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(()).0);

/// Wakes the worker, from the transaction that writes messages (before it commits: see
/// [`Want::woken`]). Only this server's: a `NOTIFY` to the others would make the
/// commits of every transaction that sends one wait for each other, across the
/// database server; they find the messages at their next look.
fn wake_worker() {
    WRITTEN.send_replace(());
}

/// Changes whenever messages may have been written (`changed().await` returns).
pub fn written() -> tokio::sync::watch::Receiver<()> {
    WRITTEN.subscribe()
}

/// One message to write.
struct Message {
    endpoint_id: i64,
    event: WebhookEvent,
    contact_id: Option<i64>,
    data: String,
}

/// Rows per statement of [`insert`] (7 values each).
const ROWS_PER_STATEMENT: usize = 1_000;

async fn insert(
    mut conn: Conn<'_>,
    workspace_id: i64,
    messages: &[Message],
) -> Result<(), AppError> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = super::now();
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        on!(conn.reborrow(), conn => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_messages (workspace_id, endpoint_id, event_type, contact_id, \
                 data, created_at, next_attempt_at) ",
            );
            q.push_values(chunk, |mut row, m| {
                row.push_bind(workspace_id)
                    .push_bind(m.endpoint_id)
                    .push_bind(m.event.name())
                    .push_bind(m.contact_id)
                    .push_bind(m.data.clone())
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *conn).await?;
        });
    }
    wake_worker();
    Ok(())
}

/// Writes, in the caller's transaction, the messages of these history entries.
pub(super) async fn enqueue_entries(
    mut conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    entries: &[super::history::Entry],
) -> Result<(), AppError> {
    if !sends_contact_events(author) || entries.is_empty() {
        return Ok(());
    }
    let mut messages = Vec::new();
    for event in WebhookEvent::ALL {
        let of_event: Vec<_> = entries
            .iter()
            .filter(|e| event_of(e.kind) == event)
            .collect();
        if of_event.is_empty() {
            continue;
        }
        for endpoint_id in subscribed(conn.reborrow(), workspace_id, event).await? {
            for entry in &of_event {
                let rest = data_rest(entry.kind, author, &entry.detail)?;
                messages.push(Message {
                    endpoint_id,
                    event,
                    contact_id: Some(entry.contact_id),
                    data: contact_data(entry.contact_id, &rest),
                });
            }
        }
    }
    insert(conn, workspace_id, &messages).await
}

/// Starts `INSERT INTO webhook_messages … SELECT …` of one message to `endpoint_id` for
/// each row of a query the caller appends as `FROM (…) AS x …` yielding `x.contact_id`
/// (the counterpart of [`super::history::push_record_each`]).
pub(super) fn push_enqueue_each(
    q: &mut impl Builder,
    workspace_id: i64,
    endpoint_id: i64,
    author: &Author,
    kind: HistoryKind,
    detail: &Detail,
) -> Result<(), AppError> {
    let rest = data_rest(kind, author, detail)?;
    let now = super::now();
    q.push(
        "INSERT INTO webhook_messages (workspace_id, endpoint_id, event_type, contact_id, data, \
         created_at, next_attempt_at) SELECT ",
    )
    .push_bind(workspace_id)
    .push(", ")
    .push_bind(endpoint_id)
    .push(", ")
    .push_bind(event_of(kind).name())
    .push(", x.contact_id, CAST(")
    .push_bind("{\"contactId\":")
    .push(" AS TEXT) || CAST(x.contact_id AS TEXT) || CAST(")
    .push_bind(format!(",{}", &rest[1..]).as_str())
    .push(" AS TEXT), ")
    .push_bind(now)
    .push(", ")
    .push_bind(now);
    Ok(())
}

/// Writes, in the caller's transaction, the `import.completed` message of an upload.
pub(super) async fn enqueue_import(
    mut conn: Conn<'_>,
    workspace_id: i64,
    data: &serde_json::Value,
) -> Result<(), AppError> {
    let event = WebhookEvent::ImportCompleted;
    let endpoints = subscribed(conn.reborrow(), workspace_id, event).await?;
    let messages: Vec<Message> = endpoints
        .into_iter()
        .map(|endpoint_id| Message {
            endpoint_id,
            event,
            contact_id: None,
            data: data.to_string(),
        })
        .collect();
    insert(conn, workspace_id, &messages).await
}

/// Adds an endpoint (at most [`MAX_ENDPOINTS`] a workspace); `url` and `events` are
/// checked, and `secret` made, by the caller.
pub async fn create(
    db: &Db,
    workspace_id: i64,
    url: &str,
    events: &[WebhookEvent],
    secret: &str,
) -> Result<WebhookEndpoint, AppError> {
    let mut tx = db.begin_write().await?;
    let count = "SELECT COUNT(*) FROM webhook_endpoints WHERE workspace_id = $1";
    let insert = "INSERT INTO webhook_endpoints (workspace_id, url, events, secret, created_at)
                  VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let names: Vec<&str> = events.iter().map(|e| e.name()).collect();
    let now = super::now();
    if let super::Backend::Postgres(conn) = tx.conn() {
        // Two adds at once count one after the other (SQLite's writers take turns).
        sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
            .bind(workspace_id)
            .execute(conn)
            .await?;
    }
    let id: i64 = on!(tx.conn(), conn => {
        let n: i64 = sqlx::query_scalar(count).bind(workspace_id).fetch_one(&mut *conn).await?;
        if n >= MAX_ENDPOINTS {
            return Err(AppError::invalid(
                "url",
                format!("A workspace has at most {MAX_ENDPOINTS} webhook endpoints: delete one first."),
            ));
        }
        sqlx::query_scalar(insert)
            .bind(workspace_id)
            .bind(url)
            .bind(names.join(" "))
            .bind(secret)
            .bind(now)
            .fetch_one(conn)
            .await?
    });
    tx.commit().await?;
    Ok(WebhookEndpoint {
        id,
        url: url.to_string(),
        events: events.to_vec(),
        created_at: now,
        disabled: None,
    })
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    url: String,
    events: String,
    created_at: i64,
    disabled_reason: Option<String>,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        WebhookEndpoint {
            id: row.id,
            url: row.url,
            events: row
                .events
                .split(' ')
                .filter_map(WebhookEvent::parse)
                .collect(),
            created_at: row.created_at,
            disabled: row.disabled_reason,
        }
    }
}

const ENDPOINT: &str = "SELECT id, url, events, created_at, disabled_reason FROM webhook_endpoints";

/// The workspace's endpoints, oldest first.
pub async fn list(db: &Db, workspace_id: i64) -> Result<Vec<WebhookEndpoint>, AppError> {
    let sql = format!("{ENDPOINT} WHERE workspace_id = $1 ORDER BY id");
    let rows: Vec<EndpointRow> = on!(db, pool => {
        sqlx::query_as(&sql).bind(workspace_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One endpoint of the workspace.
pub async fn get(db: &Db, workspace_id: i64, id: i64) -> Result<WebhookEndpoint, AppError> {
    let sql = format!("{ENDPOINT} WHERE workspace_id = $1 AND id = $2");
    let row: Option<EndpointRow> = on!(db, pool => {
        sqlx::query_as(&sql).bind(workspace_id).bind(id).fetch_optional(pool).await?
    });
    row.map(Into::into)
        .ok_or_else(|| AppError::NotFound("No such webhook endpoint.".into()))
}

/// Deletes an endpoint of the workspace and its messages, sent or not.
pub async fn delete(db: &Db, workspace_id: i64, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let messages = "DELETE FROM webhook_messages WHERE workspace_id = $1 AND endpoint_id = $2";
    let endpoint = "DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2";
    let deleted = on!(tx.conn(), conn => {
        sqlx::query(messages).bind(workspace_id).bind(id).execute(&mut *conn).await?;
        sqlx::query(endpoint).bind(workspace_id).bind(id).execute(conn).await?.rows_affected()
    });
    if deleted == 0 {
        return Err(AppError::NotFound("No such webhook endpoint.".into()));
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    event_type: String,
    contact_id: Option<i64>,
    status: String,
    attempts: i64,
    created_at: i64,
    last_attempt_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
    next_attempt_at: Option<i64>,
}

/// The delivery log of an endpoint of the workspace: newest first, `limit` older than
/// message `before`; and the id to pass for the next page, if there is one.
pub async fn deliveries(
    db: &Db,
    workspace_id: i64,
    endpoint_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<(Vec<Delivery>, Option<i64>), AppError> {
    get(db, workspace_id, endpoint_id).await?;
    let sql = "SELECT id, event_type, contact_id, status, attempts, created_at, last_attempt_at,
                      last_status, last_error, next_attempt_at
               FROM webhook_messages
               WHERE workspace_id = $1 AND endpoint_id = $2 AND id < $3
               ORDER BY id DESC LIMIT $4";
    let rows: Vec<DeliveryRow> = on!(db, pool => {
        sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(endpoint_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await?
    });
    let more = rows.len() > limit as usize;
    let bad = |what: &str| AppError::internal("webhook_messages", format!("bad {what}"));
    let mut out = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.into_iter().take(limit as usize) {
        last = Some(row.id);
        out.push(Delivery {
            webhook_id: crate::model::webhook::webhook_id(row.id),
            event: WebhookEvent::parse(&row.event_type).ok_or_else(|| bad("event"))?,
            contact_id: row.contact_id,
            status: DeliveryStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
            attempts: row.attempts,
            created_at: row.created_at,
            last_attempt_at: row.last_attempt_at,
            last_status: row.last_status,
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at,
        });
    }
    Ok((out, last.filter(|_| more)))
}

/// A transaction of the delivery worker. On PostgreSQL its commit does not wait for the
/// disk: a claim or an attempt lost in a crash only makes the message due again (it is
/// delivered at least once either way), and users' saves do not queue behind the
/// worker's many small commits for the log's flush. Its statements run on the plan
/// PostgreSQL keeps for them: by default each connection plans a statement afresh for
/// its first five calls, and the worker's turns, spread over the pool's connections,
/// were planned nearly every time, beside users' saves (docs/performance.md).
async fn worker_transaction(db: &Db) -> Result<super::Tx, AppError> {
    Ok(match db {
        super::Backend::Sqlite(_) => db.begin_write().await?,
        // One round trip: the worker's load is many small transactions.
        super::Backend::Postgres(pool) => super::Backend::Postgres(
            pool.begin_with(
                "BEGIN; SET LOCAL synchronous_commit = off; \
                 SET LOCAL plan_cache_mode = force_generic_plan",
            )
            .await?,
        ),
    })
}

/// A message taken to be sent, with its endpoint.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: i64,
    pub workspace_id: i64,
    pub endpoint_id: i64,
    pub event_type: String,
    pub data: String,
    pub created_at: i64,
    /// Attempts before this one.
    pub attempts: i64,
    pub url: String,
    pub secret: String,
}

#[derive(sqlx::FromRow)]
struct Taken {
    id: i64,
    workspace_id: i64,
    endpoint_id: i64,
    event_type: String,
    data: String,
    created_at: i64,
    attempts: i64,
    /// The endpoint's, or none if it was deleted meanwhile.
    url: Option<String>,
    secret: Option<String>,
}

/// What the delivery worker can take in a turn.
#[derive(Clone, Debug, Default)]
pub struct Want {
    /// Messages due at this time (seconds) may be taken ...
    pub now: i64,
    /// ... and are pushed to this one: a server that dies while sending them leaves
    /// them due again then (the receiver may get one twice, with the same `webhook-id`).
    pub lease_until: i64,
    /// At most this many in all ...
    pub limit: i64,
    /// ... and no more to an endpoint than this less what it holds:
    pub per_endpoint: i64,
    /// endpoints with the messages each counts as holding (taken and not yet sent or
    /// ended, or all but a share for one that is slow).
    pub held: Vec<(i64, i64)>,
    /// Woken by [`written`]: messages were written, so the turn takes them without
    /// first looking whether any is due. On SQLite the look would not see them before
    /// their transaction ends, and the turn, a write transaction, waits for that end; on
    /// PostgreSQL a turn that comes before the commit finds nothing, and the worker
    /// looks again shortly.
    pub woken: bool,
}

/// One turn of the delivery worker, in one transaction (the worker's load on the
/// database stays small beside users' saves): records the attempts made, then takes
/// the due messages of live endpoints, oldest due first, as `want` allows. Several
/// servers taking at once get different messages.
pub async fn turn(db: &Db, done: &[Attempt], want: &Want) -> Result<Vec<Due>, AppError> {
    let held = serde_json::to_string(&want.held).map_err(|e| AppError::internal("held", e))?;
    if done.is_empty() && (want.limit == 0 || !(want.woken || any_due(db, want, &held).await?)) {
        return Ok(Vec::new());
    }
    let mut tx = worker_transaction(db).await?;
    record(tx.conn(), done).await?;
    let due = if want.limit > 0 {
        claim(tx.conn(), want, &held).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(due)
}

/// Gives back messages taken but not sent (the server is draining, or they waited too
/// long to be sent within their lease), each with the end of the lease it was taken
/// with: due again at once, for any server to take, rather than when their lease ends.
/// One whose lease ended and that another server took since is left alone.
pub async fn release(db: &Db, taken: &[(Due, i64)]) -> Result<(), AppError> {
    if taken.is_empty() {
        return Ok(());
    }
    let keys: Vec<serde_json::Value> = taken
        .iter()
        .map(|(d, lease)| serde_json::json!({"w": d.workspace_id, "i": d.id, "l": lease}))
        .collect();
    let keys = serde_json::Value::from(keys).to_string();
    let release = match db {
        super::Backend::Sqlite(_) => {
            "UPDATE webhook_messages SET leased_until = NULL
             FROM json_each($1) AS j
             WHERE webhook_messages.workspace_id = j.value ->> 'w'
               AND webhook_messages.id = j.value ->> 'i' AND webhook_messages.status = 'pending'
               AND webhook_messages.leased_until = j.value ->> 'l'"
        }
        super::Backend::Postgres(_) => {
            "UPDATE webhook_messages AS m SET leased_until = NULL
             FROM jsonb_array_elements($1::jsonb) AS j
             WHERE m.workspace_id = (j ->> 'w')::BIGINT AND m.id = (j ->> 'i')::BIGINT
               AND m.status = 'pending' AND m.leased_until = (j ->> 'l')::BIGINT"
        }
    };
    on!(db, pool => {
        sqlx::query(release).bind(&keys).execute(pool).await?;
    });
    Ok(())
}

/// The messages (aliased `m`) due at `$now` of live endpoints that can take more
/// (`Want::held`, the JSON array `$held` of pairs, against `Want::per_endpoint` in `$per`),
/// as a WHERE clause.
fn due_where(dialect: Dialect, now: u8, held: u8, per: u8) -> String {
    format!(
        "m.status = 'pending' AND m.next_attempt_at <= ${now}
         AND (m.leased_until IS NULL OR m.leased_until <= ${now})
         AND m.endpoint_id NOT IN (SELECT h.endpoint_id FROM ({}) h WHERE h.n >= ${per})
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.workspace_id = m.workspace_id
                     AND e.id = m.endpoint_id AND e.disabled_at IS NULL)",
        held_by(dialect, held)
    )
}

/// What each endpoint holds (`Want::held`, the JSON array `$n` of pairs) as rows
/// `(endpoint_id, n)`.
fn held_by(dialect: Dialect, n: u8) -> String {
    match dialect {
        Dialect::Postgres => format!(
            "SELECT (h ->> 0)::BIGINT AS endpoint_id, (h ->> 1)::BIGINT AS n
             FROM jsonb_array_elements(${n}::jsonb) AS h"
        ),
        Dialect::Sqlite => {
            format!("SELECT value ->> 0 AS endpoint_id, value ->> 1 AS n FROM json_each(${n})")
        }
    }
}

/// Whether any message of a live endpoint that can take more is due: a read, so an
/// idle outbox, or one whose due messages are all a full endpoint's (one that hangs
/// with a backlog), costs no write transaction (SQLite has one writer).
async fn any_due(db: &Db, want: &Want, held: &str) -> Result<bool, AppError> {
    let any = format!(
        "SELECT 1 FROM webhook_messages m WHERE {} LIMIT 1",
        due_where(db.dialect(), 1, 2, 3)
    );
    let found: Option<i32> = on!(db, pool => {
        sqlx::query_scalar(&any)
            .bind(want.now)
            .bind(held)
            .bind(want.per_endpoint)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.is_some())
}

/// Takes what `want` allows. No more to an endpoint than it can take: taking more and
/// giving the rest back would cost two more writes each.
async fn claim(conn: Conn<'_>, want: &Want, held: &str) -> Result<Vec<Due>, AppError> {
    let lock = match conn {
        super::Backend::Postgres(_) => "FOR UPDATE OF m SKIP LOCKED",
        super::Backend::Sqlite(_) => "",
    };
    let dialect = conn.dialect();
    let (due, held_by) = (due_where(dialect, 2, 4, 5), held_by(dialect, 4));
    // The endpoint's URL and secret come back with each message (keyed by workspace
    // too: a message goes only to its own workspace's endpoint).
    let endpoint = |column: &str| {
        format!(
            "(SELECT e.{column} FROM webhook_endpoints e
              WHERE e.workspace_id = webhook_messages.workspace_id
                AND e.id = webhook_messages.endpoint_id) AS {column}"
        )
    };
    let (endpoint_url, endpoint_secret) = (endpoint("url"), endpoint("secret"));
    // Full endpoints are left out before the limit (so they do not fill it); the
    // window then keeps each endpoint's oldest up to what it can take. (PostgreSQL
    // locks no rows under a window function, so it ranks the locked rows outside.)
    let take = format!(
        "WITH picked AS (
             SELECT m.workspace_id, m.id, m.endpoint_id, m.next_attempt_at FROM webhook_messages m
             WHERE {due}
             ORDER BY m.next_attempt_at LIMIT $3 {lock}),
         ranked AS (
             SELECT p.workspace_id, p.id, p.endpoint_id,
                    ROW_NUMBER() OVER (PARTITION BY p.endpoint_id ORDER BY p.next_attempt_at, p.id) AS n
             FROM picked p)
         UPDATE webhook_messages SET leased_until = $1
         WHERE (workspace_id, id) IN (
             SELECT r.workspace_id, r.id FROM ranked r
             WHERE r.n + COALESCE((SELECT SUM(h.n) FROM ({held_by}) h
                                   WHERE h.endpoint_id = r.endpoint_id), 0) <= $5)
         RETURNING id, workspace_id, endpoint_id, event_type, data, created_at, attempts,
                   {endpoint_url}, {endpoint_secret}"
    );
    let taken: Vec<Taken> = on!(conn, conn => {
        sqlx::query_as(&take)
            .bind(want.lease_until)
            .bind(want.now)
            .bind(want.limit)
            .bind(held)
            .bind(want.per_endpoint)
            .fetch_all(conn)
            .await?
    });
    let mut due: Vec<Due> = taken
        .into_iter()
        .filter_map(|t| {
            Some(Due {
                id: t.id,
                workspace_id: t.workspace_id,
                endpoint_id: t.endpoint_id,
                event_type: t.event_type,
                data: t.data,
                created_at: t.created_at,
                attempts: t.attempts,
                url: t.url?,
                secret: t.secret?,
            })
        })
        .collect();
    due.sort_by_key(|d| d.id);
    Ok(due)
}

/// What became of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered { status: u16 },
    /// Try again at `at` (seconds).
    Retry {
        at: i64,
        status: Option<u16>,
        error: Option<String>,
    },
    /// Given up on this message.
    Failed {
        status: Option<u16>,
        error: Option<String>,
    },
    /// 410 Gone: the endpoint is disabled and its messages given up.
    Gone,
}

/// An attempt made.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub workspace_id: i64,
    pub id: i64,
    pub endpoint_id: i64,
    pub at: i64,
    pub outcome: Outcome,
}

/// Records attempts: one statement (and one more per endpoint that answered 410).
async fn record(mut conn: Conn<'_>, attempts: &[Attempt]) -> Result<(), AppError> {
    if attempts.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = attempts
        .iter()
        .map(|a| {
            let (status, next, code, error) = match &a.outcome {
                Outcome::Delivered { status } => {
                    (DeliveryStatus::Delivered, None, Some(*status), None)
                }
                Outcome::Retry { at, status, error } => {
                    (DeliveryStatus::Pending, Some(*at), *status, error.clone())
                }
                Outcome::Failed { status, error } => {
                    (DeliveryStatus::Failed, None, *status, error.clone())
                }
                Outcome::Gone => (DeliveryStatus::Failed, None, Some(410), None),
            };
            serde_json::json!({"w": a.workspace_id, "i": a.id, "s": status.key(), "n": next,
                               "a": a.at, "c": code, "e": error})
        })
        .collect();
    let rows = serde_json::Value::from(rows).to_string();
    let update = match conn {
        super::Backend::Sqlite(_) => {
            "UPDATE webhook_messages SET status = j.value ->> 's', attempts = attempts + 1,
                 next_attempt_at = j.value ->> 'n', leased_until = NULL,
                 last_attempt_at = j.value ->> 'a',
                 last_status = j.value ->> 'c', last_error = j.value ->> 'e'
             FROM json_each($1) AS j
             WHERE webhook_messages.workspace_id = j.value ->> 'w'
               AND webhook_messages.id = j.value ->> 'i'"
        }
        super::Backend::Postgres(_) => {
            "UPDATE webhook_messages AS m SET status = j ->> 's', attempts = m.attempts + 1,
                 next_attempt_at = (j ->> 'n')::BIGINT, leased_until = NULL,
                 last_attempt_at = (j ->> 'a')::BIGINT,
                 last_status = (j ->> 'c')::BIGINT, last_error = j ->> 'e'
             FROM jsonb_array_elements($1::jsonb) AS j
             WHERE m.workspace_id = (j ->> 'w')::BIGINT AND m.id = (j ->> 'i')::BIGINT"
        }
    };
    let disable = "UPDATE webhook_endpoints SET disabled_at = $1,
                       disabled_reason = 'The endpoint answered 410 Gone: deliveries stopped.'
                   WHERE workspace_id = $2 AND id = $3 AND disabled_at IS NULL";
    // Pending messages of an endpoint stopped by a 410 (in this batch or an earlier
    // one whose attempts were still out) are given up.
    let give_up = "UPDATE webhook_messages SET status = 'failed', next_attempt_at = NULL,
                       leased_until = NULL
                   WHERE workspace_id = $1 AND endpoint_id = $2 AND status = 'pending'
                     AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.workspace_id = $1
                                 AND e.id = $2 AND e.disabled_at IS NOT NULL)";
    // (Only where an attempt failed: a delivered message leaves none pending.)
    let mut endpoints: Vec<(i64, i64)> = attempts
        .iter()
        .filter(|a| !matches!(a.outcome, Outcome::Delivered { .. }))
        .map(|a| (a.workspace_id, a.endpoint_id))
        .collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    on!(conn.reborrow(), conn => {
        sqlx::query(update).bind(&rows).execute(&mut *conn).await?;
        for a in attempts.iter().filter(|a| a.outcome == Outcome::Gone) {
            sqlx::query(disable).bind(a.at).bind(a.workspace_id).bind(a.endpoint_id).execute(&mut *conn).await?;
        }
        for (workspace_id, endpoint_id) in endpoints {
            sqlx::query(give_up).bind(workspace_id).bind(endpoint_id).execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Deletes, in the caller's transaction, the messages about these contacts (but their
/// `contact.deleted`, which holds nothing but the id) and those whose data holds one of
/// `patterns` (LIKE patterns with `ESCAPE '\'`); returns how many.
pub(super) async fn erase(
    mut conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
    patterns: &[String],
) -> Result<u64, AppError> {
    let json = serde_json::to_string(ids).map_err(|e| AppError::internal("contact ids", e))?;
    let own = format!(
        "DELETE FROM webhook_messages WHERE workspace_id = $1 AND contact_id IN ({})
           AND event_type <> 'contact.deleted'",
        conn.dialect().json_ids(2)
    );
    let naming =
        "DELETE FROM webhook_messages WHERE workspace_id = $1 AND data LIKE $2 ESCAPE '\\'";
    let mut deleted = on!(conn.reborrow(), conn => {
        sqlx::query(&own).bind(workspace_id).bind(&json).execute(conn).await?.rows_affected()
    });
    for pattern in patterns {
        deleted += on!(conn.reborrow(), conn => {
            sqlx::query(naming).bind(workspace_id).bind(pattern).execute(conn).await?.rows_affected()
        });
    }
    Ok(deleted)
}

/// Deletes delivered and failed messages older than `cutoff` (seconds); returns how many.
pub async fn purge(db: &Db, cutoff: i64) -> Result<u64, AppError> {
    let sql = "DELETE FROM webhook_messages WHERE status <> 'pending' AND created_at < $1";
    Ok(on!(db, pool => sqlx::query(sql).bind(cutoff).execute(pool).await?.rows_affected()))
}
