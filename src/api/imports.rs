//! Server functions of the Upload contacts tab; the upload itself is `POST /imports`.

use crate::error::AppError;
use crate::import::columns::Columns;
use crate::import::sniff::SampleRow;
use crate::import::{ImportSummary, KeptContact, RowVerdict};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Most sample rows judged per call (the preview shows 20).
pub const MAX_SAMPLES: usize = 50;

/// The workspace's latest uploads, newest first.
#[server(endpoint = "list_imports")]
pub async fn list_imports() -> Result<Vec<ImportSummary>, AppError> {
    use crate::api::ssr::{require_user, respond, state};
    respond(async {
        let user = require_user()?;
        crate::db::imports::list(&state()?.db, user.workspace_id, None, 50).await
    })
    .await
}

/// Undoes an upload (admins): queued for the importer's worker, which removes the
/// contacts it created, restores the fields it overwrote and removes the memberships it
/// added, except what changed since.
#[server(endpoint = "undo_import", input = Json)]
pub async fn undo_import(id: i64) -> Result<(), AppError> {
    use crate::api::ssr::{require, respond, state};
    use crate::server::auth::Access;
    respond(async move {
        let user = require(Access::Remove)?;
        crate::server::importer::request_undo(&state()?, &user, id).await
    })
    .await
}

/// The contacts an upload's undo left, with the reason (the first 100).
#[server(endpoint = "list_undo_kept", input = Json)]
pub async fn list_undo_kept(id: i64) -> Result<Vec<KeptContact>, AppError> {
    use crate::api::ssr::{require_user, respond, state};
    respond(async move {
        let user = require_user()?;
        let db = state()?.db;
        let mut conn = db.acquire().await?;
        crate::db::import::undo::kept(conn.conn(), user.workspace_id, id, 100).await
    })
    .await
}

/// What the import will do with each sample row of the preview, by the importer's own
/// rule: the row's shape against `header_width` (the header's field count; without a
/// header, the first row's), every mapped field checked as the Create Contact form
/// checks it, and numbers repeated among the rows. `country` is the default country.
#[server(endpoint = "check_rows", input = Json)]
pub async fn check_rows(
    rows: Vec<SampleRow>,
    header_width: Option<usize>,
    columns: Columns,
    country: String,
) -> Result<Vec<RowVerdict>, AppError> {
    use crate::api::ssr::{require_user, respond};
    respond(async move {
        require_user()?;
        if rows.len() > MAX_SAMPLES {
            return Err(AppError::invalid("rows", "Too many sample rows."));
        }
        Ok(crate::import::rule::verdicts(
            rows,
            header_width,
            &columns,
            &country,
        ))
    })
    .await
}

/// The largest file the server accepts, in bytes.
#[server(endpoint = "upload_limit")]
pub async fn upload_limit() -> Result<u64, AppError> {
    use crate::api::ssr::{require_user, respond, state};
    respond(async {
        require_user()?;
        Ok(state()?.config.max_upload_bytes)
    })
    .await
}
