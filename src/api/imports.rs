//! Server functions of the Upload contacts tab; the upload itself is `POST /imports`.

use crate::error::AppError;
use crate::import::{ImportSummary, NumberCheck};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Most sample numbers checked per call (the preview shows 20 rows).
pub const MAX_SAMPLES: usize = 50;

/// The workspace's latest uploads, newest first.
#[server(endpoint = "list_imports")]
pub async fn list_imports() -> Result<Vec<ImportSummary>, AppError> {
    use crate::api::ssr::{require_user, respond, state};
    respond(async {
        let user = require_user()?;
        crate::db::imports::list(&state()?.pool, user.workspace_id, 50).await
    })
    .await
}

/// What each sample number of the preview will become, read with `country` as the
/// default country.
#[server(endpoint = "check_numbers", input = Json)]
pub async fn check_numbers(
    values: Vec<String>,
    country: String,
) -> Result<Vec<NumberCheck>, AppError> {
    use crate::api::ssr::{require_user, respond};
    respond(async move {
        require_user()?;
        if values.len() > MAX_SAMPLES {
            return Err(AppError::invalid("values", "Too many sample numbers."));
        }
        Ok(values
            .iter()
            .map(
                |value| match crate::phone::normalize_msisdn(value, &country) {
                    Ok(msisdn) => NumberCheck::Valid(msisdn.e164),
                    Err(e) => NumberCheck::Invalid(e.0),
                },
            )
            .collect())
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
