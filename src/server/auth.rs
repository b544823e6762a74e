//! Who may do what: every request is authenticated here, once, by one middleware, and
//! every handler and server function gets its [`Caller`] from here, through one function
//! ([`caller`]).
//!
//! An integration proves who it is with `Authorization: Bearer <API key>`, and only under
//! [`API_PREFIX`], where cookies are never read: a browser's cookie cannot be used
//! against the API from another site. A browser proves who it is with its session
//! cookie everywhere else. A session whose password an admin
//! set, and which has not chosen its own yet, is no [`Caller`]: the middleware lets it
//! load the account page and change its password and refuses everything else before any
//! handler runs (see [`allowed_before_password_change`]), and no handler could get a
//! `Caller` for it anyway.

use crate::db;
use crate::error::AppError;
use crate::model::{CurrentUser, Role};
use crate::server::client::Client;
use crate::server::session::{
    Session, Visitor, allowed_before_password_change, page_redirect, token_from_headers, token_hash,
};
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// What a route needs of its caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading the workspace's data: every role.
    Read,
    /// Changing contacts, groups and uploads: admins and editors.
    Edit,
    /// Managing users and keys: admins.
    Admin,
    /// Removing what cannot be brought back — erasing a person, undoing an upload — and
    /// sending the workspace's changes elsewhere (webhooks): admins in the app, and API
    /// keys that may edit (an admin made the key, and such requests usually arrive
    /// through another system).
    Remove,
}

/// Who is making a request that may touch workspace data, and with which role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The workspace every query of the request is scoped by.
    pub workspace_id: i64,
    /// What the caller may do.
    pub role: Role,
    /// The workspace's default country (for numbers written without a country code).
    pub default_country: String,
    /// Who it is.
    pub actor: Actor,
}

/// Who is behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user signed in through the browser.
    User(CurrentUser),
    /// An integration, by its API key.
    Key {
        /// The key's id.
        id: i64,
        /// Its name.
        name: String,
    },
}

/// Where the integration API lives: requests under it authenticate by API key only.
pub const API_PREFIX: &str = "/api/v1/";

/// Whether a request is one of the integration API's.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with(API_PREFIX)
}

/// The API key a request was made with (see [`authenticate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCaller(pub db::api_keys::KeyOwner);

/// Record a key's use at most this often (seconds): one write a minute, not one per
/// request.
const KEY_USE_RESOLUTION: i64 = 60;

impl Caller {
    /// The caller, if its role allows `access`.
    pub fn require(self, access: Access) -> Result<Caller, AppError> {
        let allowed = match access {
            Access::Read => true,
            Access::Edit => self.role.can_edit(),
            Access::Admin => self.role.is_admin(),
            Access::Remove => match self.actor {
                Actor::User(_) => self.role.is_admin(),
                Actor::Key { .. } => self.role.can_edit(),
            },
        };
        if allowed {
            Ok(self)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The user behind the request, if a user (not a key) is.
    pub fn user(&self) -> Option<&CurrentUser> {
        match &self.actor {
            Actor::User(user) => Some(user),
            Actor::Key { .. } => None,
        }
    }

    /// The API key behind the request, if a key (not a user) is.
    pub fn key_id(&self) -> Option<i64> {
        match &self.actor {
            Actor::Key { id, .. } => Some(*id),
            Actor::User(_) => None,
        }
    }

    /// The id of the user behind the request, if a user is (uploads record who made them).
    pub fn user_id(&self) -> Option<i64> {
        self.user().map(|user| user.id)
    }

    /// Who the request's changes are recorded as made by.
    pub fn author(&self) -> db::history::Author {
        match &self.actor {
            Actor::User(user) => db::history::Author::user(user.id),
            Actor::Key { id, .. } => db::history::Author::key(*id),
        }
    }
}

/// The caller of a request that passed [`authenticate`]: its API key, or its session;
/// `Unauthorized` without either, `PasswordChangeRequired` while an admin-set password
/// waits to be replaced.
pub fn caller(extensions: &http::Extensions) -> Result<Caller, AppError> {
    if let Some(KeyCaller(key)) = extensions.get::<KeyCaller>() {
        return Ok(Caller {
            workspace_id: key.workspace_id,
            role: key.role,
            default_country: key.default_country.clone(),
            actor: Actor::Key {
                id: key.id,
                name: key.name.clone(),
            },
        });
    }
    let session = extensions.get::<Session>().ok_or(AppError::Unauthorized)?;
    if session.user.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(Caller {
        workspace_id: session.user.workspace_id,
        role: session.user.role,
        default_country: session.user.default_country.clone(),
        actor: Actor::User(session.user.clone()),
    })
}

/// Plain axum handlers take their caller as an extractor, refused as [`caller`] says.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        caller(&parts.extensions)
    }
}

fn unavailable() -> Response {
    (
        http::StatusCode::SERVICE_UNAVAILABLE,
        "The database is unavailable.",
    )
        .into_response()
}

/// The API key named by `Authorization: Bearer …`, if it has a key's shape.
fn bearer_key(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && crate::server::keys::looks_like_key(token))
        .then_some(token)
}

/// Resolves an API request's key into a [`KeyCaller`] (recording its use once a minute).
async fn authenticate_key(state: &AppState, request: &mut Request) -> Result<(), AppError> {
    let Some(secret) = bearer_key(request.headers()) else {
        return Ok(());
    };
    let hash = crate::server::keys::secret_hash(secret);
    let Some(key) = db::api_keys::by_secret(&state.db, &hash).await? else {
        return Ok(());
    };
    let now = db::now();
    if key
        .last_used_at
        .is_none_or(|at| now - at >= KEY_USE_RESOLUTION)
    {
        db::api_keys::touch(&state.db, key.workspace_id, key.id, now).await?;
    }
    request.extensions_mut().insert(KeyCaller(key));
    Ok(())
}

/// Resolves the API key of an API request, or the session cookie of any other into the
/// request's [`Session`], and sends page loads where they belong (see
/// [`page_redirect`]).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_api_path(request.uri().path()) {
        if let Err(error) = authenticate_key(&state, &mut request).await {
            return crate::server::v1::error::refusal(request.uri().path(), error);
        }
        return next.run(request).await;
    }
    let client = Client::from_extensions(request.extensions());
    let secure = client.secure_cookie(&state.config);
    let session = match token_from_headers(request.headers(), secure) {
        Some(token) => {
            let hash = token_hash(&token);
            match db::sessions::user_for_token(&state.db, &hash, db::now()).await {
                Ok(user) => user.map(|user| Session {
                    user,
                    token_hash: hash,
                }),
                Err(_) => return unavailable(),
            }
        }
        None => None,
    };
    let Ok(has_workspace) = state.has_workspace().await else {
        return unavailable();
    };
    let visitor = match &session {
        None => Visitor::Anonymous,
        Some(s) if s.user.must_change_password => Visitor::MustChangePassword,
        Some(_) => Visitor::SignedIn,
    };
    let (method, path) = (request.method(), request.uri().path());
    if let Some(to) = page_redirect(method, path, visitor, has_workspace) {
        return Redirect::to(to).into_response();
    }
    if visitor == Visitor::MustChangePassword && !allowed_before_password_change(method, path) {
        return AppError::PasswordChangeRequired.into_response();
    }
    if let Some(session) = session {
        request.extensions_mut().insert(session);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, must_change_password: bool) -> CurrentUser {
        CurrentUser {
            id: 7,
            email: "ann@a.test".into(),
            role,
            workspace_id: 3,
            workspace_name: "Acme".into(),
            default_country: "SG".into(),
            must_change_password,
        }
    }

    fn extensions(user: CurrentUser) -> http::Extensions {
        let mut extensions = http::Extensions::new();
        extensions.insert(Session {
            user,
            token_hash: [0; 32],
        });
        extensions
    }

    #[test]
    fn an_admin_set_password_makes_no_caller() {
        assert_eq!(
            caller(&http::Extensions::new()),
            Err(AppError::Unauthorized)
        );
        assert_eq!(
            caller(&extensions(user(Role::Admin, true))),
            Err(AppError::PasswordChangeRequired)
        );
        let ready = caller(&extensions(user(Role::Editor, false))).unwrap();
        assert_eq!((ready.workspace_id, ready.role), (3, Role::Editor));
    }

    #[test]
    fn roles_decide_access() {
        let of = |role| caller(&extensions(user(role, false))).unwrap();
        assert!(of(Role::Viewer).require(Access::Read).is_ok());
        assert_eq!(
            of(Role::Viewer).require(Access::Edit),
            Err(AppError::Forbidden)
        );
        assert!(of(Role::Editor).require(Access::Edit).is_ok());
        assert_eq!(
            of(Role::Editor).require(Access::Admin),
            Err(AppError::Forbidden)
        );
        assert!(of(Role::Admin).require(Access::Admin).is_ok());
        // Removing: admins in the app; an editor's key (an admin made it), never a viewer's.
        assert!(of(Role::Admin).require(Access::Remove).is_ok());
        assert_eq!(
            of(Role::Editor).require(Access::Remove),
            Err(AppError::Forbidden)
        );
        let key = |role| Caller {
            actor: Actor::Key {
                id: 1,
                name: "CRM".into(),
            },
            ..of(role)
        };
        assert!(key(Role::Editor).require(Access::Remove).is_ok());
        assert_eq!(
            key(Role::Viewer).require(Access::Remove),
            Err(AppError::Forbidden)
        );
    }
}
