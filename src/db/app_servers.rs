//! The app servers running on this database: each says every few seconds that it is
//! alive, so each knows how many share the install's per-key limits.

use super::{Db, on};
use crate::error::AppError;

/// A server not heard from for this long (seconds) is taken for gone.
pub const GONE_AFTER: i64 = 15;

/// Records that server `id` is alive now (by the database's clock, which every server
/// shares), forgets servers long gone, and returns how many are alive (this one
/// included).
pub async fn heartbeat(db: &Db, id: &str) -> Result<u32, AppError> {
    let clock = db.dialect().clock();
    let seen = format!(
        "INSERT INTO app_servers (id, seen_at) VALUES ($1, {clock})
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at"
    );
    let forget = format!("DELETE FROM app_servers WHERE seen_at < {clock} - $1");
    let alive = format!("SELECT COUNT(*) FROM app_servers WHERE seen_at >= {clock} - $1");
    let count: i64 = on!(db, pool => {
        sqlx::query(&seen).bind(id).execute(pool).await?;
        sqlx::query(&forget).bind(4 * GONE_AFTER).execute(pool).await?;
        sqlx::query_scalar(&alive).bind(GONE_AFTER).fetch_one(pool).await?
    });
    Ok(count.clamp(1, i64::from(u32::MAX)) as u32)
}

/// Removes server `id` (it is stopping): the others take its share at their next beat.
pub async fn leave(db: &Db, id: &str) -> Result<(), AppError> {
    let sql = "DELETE FROM app_servers WHERE id = $1";
    on!(db, pool => {
        sqlx::query(sql).bind(id).execute(pool).await?;
    });
    Ok(())
}
