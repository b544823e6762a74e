//! Secrets of the install, made at first use and shared by every server through the
//! database (e.g. the key that signs list cursors).

use super::{Db, on};
use crate::error::AppError;

/// The secret called `name`; made of 32 random bytes the first time it is asked for
/// (two servers asking at once end up with the same one).
pub async fn get_or_create(db: &Db, name: &str) -> Result<Vec<u8>, AppError> {
    let fresh: [u8; 32] = rand::random();
    let insert = "INSERT INTO install_secrets (name, value) VALUES ($1, $2)
                  ON CONFLICT (name) DO NOTHING";
    let select = "SELECT value FROM install_secrets WHERE name = $1";
    Ok(on!(db, pool => {
        sqlx::query(insert)
            .bind(name)
            .bind(&fresh[..])
            .execute(pool)
            .await?;
        sqlx::query_scalar(select).bind(name).fetch_one(pool).await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::db_tests!(a_secret_is_made_once);

    async fn a_secret_is_made_once(db: Db) {
        let first = get_or_create(&db, "cursor").await.unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(get_or_create(&db, "cursor").await.unwrap(), first);
        assert_ne!(get_or_create(&db, "other").await.unwrap(), first);
    }
}
