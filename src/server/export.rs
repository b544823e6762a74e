//! `POST /contacts/export.csv` and `POST /contacts/export.xlsx`: the selected contacts as
//! a CSV or Excel download, the same columns in both.
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
use crate::server::xlsx_file::{XlsxWriter, xlsx_download};
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::Response;
use futures::{Stream, StreamExt};

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

/// The contacts the form selects, a batch at a time, each as the row the files hold.
fn rows(
    state: &AppState,
    caller: Caller,
    form: Result<Form<ExportForm>, FormRejection>,
) -> Result<impl Stream<Item = Result<Vec<Vec<String>>, AppError>> + Send + 'static, AppError> {
    let caller = caller.require(Access::Read)?;
    let malformed = || AppError::BadRequest("The export request was malformed.".into());
    let Form(form) = form.map_err(|_| malformed())?;
    let selection: Selection = serde_json::from_str(&form.selection).map_err(|_| malformed())?;
    let workspace_id = caller.workspace_id;
    let pool = state.db.clone();
    Ok(futures::stream::unfold(Some(0_i64), move |after_id| {
        let pool = pool.clone();
        let selection = selection.clone();
        async move {
            let after_id = after_id?;
            let read = async {
                let batch =
                    db::contacts::export_batch(&pool, workspace_id, &selection, after_id, BATCH)
                        .await?;
                let next = (batch.len() as i64 == BATCH).then(|| batch.last().map(|c| c.id));
                let batch = with_opt_outs(&pool, workspace_id, batch).await?;
                let rows: Vec<Vec<String>> = batch.iter().map(|(c, o)| row(c, o)).collect();
                Ok::<_, AppError>((rows, next))
            };
            match read.await {
                Ok((rows, next)) if rows_or_end(&rows, after_id) => {
                    Some((Ok(rows), next.flatten()))
                }
                Ok(_) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    }))
}

/// Whether a batch is worth sending: the first one always is (a file of no contacts
/// still has its header), a later one if it has rows.
fn rows_or_end(rows: &[Vec<String>], after_id: i64) -> bool {
    after_id == 0 || !rows.is_empty()
}

/// A contact as a row of the files, in the order of [`header`].
fn row(c: &StoredContact, opted_out: &str) -> Vec<String> {
    let r = &c.record;
    std::iter::once(c.id.to_string())
        .chain(
            ContactField::ALL
                .iter()
                .map(|f| r.get(*f).unwrap_or_default().to_string()),
        )
        .chain([
            r.attributes.clone(),
            opted_out.to_string(),
            format_date(c.created_at),
            format_date(c.updated_at),
        ])
        .collect()
}

/// Streams the selection as CSV (UTF-8 with BOM, formula-safe cells).
pub async fn export_contacts(
    State(state): State<AppState>,
    caller: Caller,
    form: Result<Form<ExportForm>, FormRejection>,
) -> Result<Response, AppError> {
    let mut first = true;
    let chunks = rows(&state, caller, form)?.map(move |batch| {
        let batch = batch.map_err(|e| std::io::Error::other(e.to_string()))?;
        csv_chunk(&batch, std::mem::take(&mut first))
    });
    let filename = format!("contacts-{}.csv", format_date(db::now()));
    Ok(csv_download(&filename, Body::from_stream(chunks)))
}

/// Streams the selection as an Excel workbook (text cells, see [`xlsx_download`]).
pub async fn export_contacts_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    form: Result<Form<ExportForm>, FormRejection>,
) -> Result<Response, AppError> {
    let batches = rows(&state, caller, form)?;
    let writer = XlsxWriter::take(state.config.data_dir.clone())?;
    let filename = format!("contacts-{}.xlsx", format_date(db::now()));
    Ok(xlsx_download(
        writer,
        &filename,
        "Contacts",
        header(),
        batches,
    ))
}

fn csv_chunk(batch: &[Vec<String>], with_header: bool) -> Result<Bytes, std::io::Error> {
    let mut chunk = CsvChunk::new(with_header, batch.len());
    if with_header {
        chunk.row(header())?;
    }
    for row in batch {
        chunk.row(row)?;
    }
    chunk.finish()
}
