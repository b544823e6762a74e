//! The signed-in user, loaded once per page load and shared through context.

use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// The signed-in user, provided by the signed-in layout.
pub type UserResource = Resource<Result<CurrentUser, AppError>>;

/// The signed-in user's resource (inside the signed-in layout).
pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

/// Whether the signed-in user may change contacts and groups (false while loading fails).
pub async fn can_edit(user: UserResource) -> bool {
    user.await.map(|u| u.role.can_edit()).unwrap_or(false)
}
