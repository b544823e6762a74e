//! API key secrets: `ck_` and 40 random letters and digits (238 bits), shown once; the
//! database keeps their SHA-256 and their first characters.

use crate::db;
use crate::error::AppError;
use crate::model::Role;
use crate::model::api_key::{NewApiKey, check_new_key};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// What every key starts with, so it is recognisable in code and in secret scanners.
pub const KEY_PREFIX: &str = "ck_";

/// Random characters after the prefix.
const SECRET_LEN: usize = 40;

/// Characters of a key shown in the list: the prefix and the first eight.
const SHOWN_LEN: usize = KEY_PREFIX.len() + 8;

/// What the database keeps of a secret.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a bearer token has a key's shape (checked before any lookup).
pub fn looks_like_key(token: &str) -> bool {
    token.len() == KEY_PREFIX.len() + SECRET_LEN
        && token.starts_with(KEY_PREFIX)
        && token[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// Makes a key for a workspace (the one way, for Settings and the command line); its
/// secret is returned this once.
pub async fn create_key(
    db: &db::Db,
    workspace_id: i64,
    name: &str,
    role: Role,
    created_by: Option<i64>,
) -> Result<NewApiKey, AppError> {
    let name = check_new_key(name, role)?;
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect();
    let secret = format!("{KEY_PREFIX}{random}");
    let hash = secret_hash(&secret);
    let id = db::api_keys::create(
        db,
        &db::api_keys::NewKey {
            workspace_id,
            name: &name,
            role,
            prefix: &secret[..SHOWN_LEN],
            secret_hash: &hash,
            created_by,
        },
    )
    .await?;
    Ok(NewApiKey { id, secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_recognisable_shape() {
        assert!(looks_like_key(&format!("ck_{}", "a1".repeat(20))));
        assert!(!looks_like_key("ck_short"));
        assert!(!looks_like_key(&format!("sk_{}", "a".repeat(40))));
        assert!(!looks_like_key(&format!("ck_{}!", "a".repeat(39))));
        assert_ne!(secret_hash("ck_a"), secret_hash("ck_b"));
    }
}
