//! `POST /contacts/export.csv`: the selected contacts as a CSV download.
//!
//! A plain form post (not a server function) so the browser saves the response as a
//! file. Rows are read and written in batches, so memory stays flat at any size.

use crate::db;
use crate::db::contacts::StoredContact;
use crate::error::AppError;
use crate::model::contact::Selection;
use crate::model::date::format_date;
use crate::model::field::ContactField;
use crate::server::auth::{Access, Caller};
use crate::server::csv_file::{CsvChunk, csv_download};
use crate::server::state::AppState;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::Response;

/// Rows read per query.
const BATCH: i64 = 2_000;

/// The header row: the id, every field by its key, the custom fields (as JSON pairs), the
/// channels the contact is opted out of (`sms;email`) and the timestamps.
pub fn header() -> Vec<&'static str> {
    std::iter::once("id")
        .chain(ContactField::ALL.iter().map(|f| f.key()))
        .chain(["attributes", "opted_out", "created", "updated"])
        .collect()
}

/// A batch's contacts with the channels each is opted out of.
async fn with_opt_outs(
    db: &db::Db,
    workspace_id: i64,
    batch: Vec<StoredContact>,
) -> Result<Vec<(StoredContact, String)>, AppError> {
    let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
    let mut conn = db.acquire().await?;
    let mut opt_outs = db::opt_outs::of_contacts(conn.conn(), workspace_id, &ids).await?;
    Ok(batch
        .into_iter()
        .map(|c| {
            let channels: Vec<&str> = opt_outs
                .remove(&c.id)
                .unwrap_or_default()
                .iter()
                .map(|o| o.channel.name())
                .collect();
            (c, channels.join(";"))
        })
        .collect())
}

/// The export form: which contacts, as JSON.
#[derive(serde::Deserialize)]
pub struct ExportForm {
    selection: String,
}

/// Streams the selection as CSV (UTF-8 with BOM, formula-safe cells).
pub async fn export_contacts(
    State(state): State<AppState>,
    caller: Caller,
    form: Result<Form<ExportForm>, FormRejection>,
) -> Result<Response, AppError> {
    let caller = caller.require(Access::Read)?;
    let malformed = || AppError::BadRequest("The export request was malformed.".into());
    let Form(form) = form.map_err(|_| malformed())?;
    let selection: Selection = serde_json::from_str(&form.selection).map_err(|_| malformed())?;
    let workspace_id = caller.workspace_id;
    let pool = state.db.clone();
    let start = Some((0_i64, true));
    let stream = futures::stream::unfold(start, move |cursor| {
        let pool = pool.clone();
        let selection = selection.clone();
        async move {
            let (after_id, first) = cursor?;
            let batch =
                match db::contacts::export_batch(&pool, workspace_id, &selection, after_id, BATCH)
                    .await
                {
                    Ok(batch) => batch,
                    Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
                };
            let next = (batch.len() as i64 == BATCH)
                .then(|| (batch.last().map_or(after_id, |c| c.id), false));
            let batch = match with_opt_outs(&pool, workspace_id, batch).await {
                Ok(batch) => batch,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            if batch.is_empty() && !first {
                return None;
            }
            Some((csv_chunk(&batch, first), next))
        }
    });
    let filename = format!("contacts-{}.csv", format_date(db::now()));
    Ok(csv_download(&filename, Body::from_stream(stream)))
}

fn csv_chunk(
    batch: &[(StoredContact, String)],
    with_header: bool,
) -> Result<Bytes, std::io::Error> {
    let mut chunk = CsvChunk::new(with_header, batch.len());
    if with_header {
        chunk.row(header())?;
    }
    for (c, opted_out) in batch {
        let r = &c.record;
        let fields = ContactField::ALL
            .iter()
            .map(|f| r.get(*f).unwrap_or_default());
        let id = c.id.to_string();
        let (created, updated) = (format_date(c.created_at), format_date(c.updated_at));
        let row = std::iter::once(id.as_str()).chain(fields).chain([
            r.attributes.as_str(),
            opted_out,
            &created,
            &updated,
        ]);
        chunk.row(row)?;
    }
    chunk.finish()
}
