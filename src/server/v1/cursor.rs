//! Keyset cursors for the API's lists: where the next page starts (the sort key and id of
//! the last row), bound to the query it came from, and signed with an install secret so a
//! cursor that was changed, or used with another query, is refused rather than read.

use super::error::ApiError;
use crate::model::contact::Cursor;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the signature kept (128 bits).
const SIGNATURE_LEN: usize = 16;

fn signature(secret: &[u8], scope: &str, payload: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(scope.as_bytes());
    mac.update(b"\n");
    mac.update(payload);
    mac.finalize().into_bytes()[..SIGNATURE_LEN].to_vec()
}

/// The cursor of `position` in the list `scope` (the query, written out).
pub fn encode(secret: &[u8], scope: &str, position: &Cursor) -> String {
    let payload = serde_json::to_vec(&(&position.key, position.id)).unwrap_or_default();
    let signature = signature(secret, scope, &payload);
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The position a cursor of the list `scope` names; 400 if it was not made for it.
pub fn decode(secret: &[u8], scope: &str, text: &str) -> Result<Cursor, ApiError> {
    let refused = || {
        ApiError::new(
            400,
            "bad_request",
            "This cursor was not given for this list: use the nextCursor of the previous \
             page, with the same parameters.",
        )
        .with_field("cursor")
    };
    let (payload, sent) = text.split_once('.').ok_or_else(refused)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refused())?;
    let sent = URL_SAFE_NO_PAD.decode(sent).map_err(|_| refused())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(scope.as_bytes());
    mac.update(b"\n");
    mac.update(&payload);
    mac.verify_truncated_left(&sent).map_err(|_| refused())?;
    if sent.len() != SIGNATURE_LEN {
        return Err(refused());
    }
    let (key, id): (String, i64) = serde_json::from_slice(&payload).map_err(|_| refused())?;
    Ok(Cursor { key, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_changes() {
        let position = Cursor {
            key: "ann lee".into(),
            id: 42,
        };
        let cursor = encode(b"secret", "contacts?q=a", &position);
        assert_eq!(
            decode(b"secret", "contacts?q=a", &cursor).unwrap(),
            position
        );
        assert!(
            decode(b"secret", "contacts?q=b", &cursor).is_err(),
            "another query"
        );
        assert!(
            decode(b"other", "contacts?q=a", &cursor).is_err(),
            "another install"
        );
        let (payload, sig) = cursor.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"["ann lee",1]"#);
        assert!(decode(b"secret", "contacts?q=a", &format!("{forged}.{sig}")).is_err());
        assert!(decode(b"secret", "contacts?q=a", payload).is_err());
        assert!(decode(b"secret", "contacts?q=a", &format!("{payload}.")).is_err());
        assert!(decode(b"secret", "contacts?q=a", "!!!.???").is_err());
    }
}
