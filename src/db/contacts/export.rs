//! Export: every field of the selected contacts, read in id order batch by batch.

use super::filter::push_selection;
use super::{COLUMNS, StoredContact};
use crate::db::{Db, on};
use crate::error::AppError;
use crate::model::contact::Selection;
use sqlx::QueryBuilder;

/// Up to `limit` selected contacts with every field, after id `after_id`, in id order:
/// export reads the selection batch by batch, so memory stays flat for any size.
pub async fn export_batch(
    db: &Db,
    workspace_id: i64,
    selection: &Selection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<StoredContact>, AppError> {
    Ok(on!(db, pool => {
        let mut q = QueryBuilder::new(format!(
            "SELECT {} FROM contacts c WHERE c.workspace_id = ",
            *COLUMNS
        ));
        q.push_bind(workspace_id);
        q.push(" AND c.id > ").push_bind(after_id);
        push_selection(&mut q, workspace_id, selection)?;
        q.push(" ORDER BY c.id LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(pool).await?
    }))
}
