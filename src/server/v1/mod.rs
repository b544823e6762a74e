//! The integration API under `/api/v1/`: JSON in the shape of 8x8's Contacts API,
//! authenticated by API keys (see [`crate::server::auth`]), with one error shape, keyset
//! cursors, `ETag`/`If-Match`, `Idempotency-Key` on POST and a rate per key. Its OpenAPI
//! 3.1 document is generated from the handlers and types below and served at
//! `/api/v1/openapi.json`; `/api/docs` shows it as a page.

pub mod batches;
pub mod blacklist;
pub mod contact_json;
pub mod contacts;
pub mod cursor;
pub mod docs;
pub mod erasure;
pub mod error;
pub mod extract;
pub mod groups;
pub mod history;
pub mod idempotency;
pub mod opt_outs;
pub mod rate;
pub mod recipients;
pub mod upsert;
pub mod webhooks;

use crate::server::state::AppState;
use axum::Json;
use axum::Router;
use axum::response::IntoResponse;
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Contacts API",
        version = "1",
        description = "Contacts, groups, uploads, the blacklist and recipients of one \
                       workspace, for the programs that keep contacts elsewhere and send \
                       messages. Authenticate with an API key (Settings → API keys): \
                       `Authorization: Bearer ck_…`. Errors are `{code, message, field?, \
                       errorId}`. Every POST takes an `Idempotency-Key`."
    ),
    servers((url = "/api/v1", description = "This server")),
    modifiers(&BearerKeys),
    tags(
        (name = "Contacts", description = "People to message, with their addresses on each channel."),
        (name = "Groups", description = "Groups of contacts; a blacklisted group's members are never messaged."),
        (name = "Batches", description = "Uploads of CSV files, processed in the background."),
        (name = "Blacklist", description = "The workspace's built-in blacklisted group, by number."),
        (name = "Recipients", description = "Who may be messaged on a channel."),
        (name = "Opt-outs", description = "Who may not be messaged on a channel, and inbound STOP / START keywords."),
        (name = "Webhooks", description = "Endpoints the workspace's changes are sent to, signed per the Standard Webhooks specification."),
    ),
)]
struct ApiDoc;

/// Every operation needs a key.
struct BearerKeys;

impl utoipa::Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "apiKey",
            Vec::<String>::new(),
        )]);
    }
}

/// What any operation may answer, whatever it does: 401 without a valid key, 413 for a
/// body over its limit, 429 over the key's rate; and any POST, for its `Idempotency-Key`:
/// 400 (a key that is not one), 409 (the first request with the key still runs) and 422
/// (the key was used for another request). Documented once here, as the middlewares
/// that answer them are one; applied once the routes have added their operations.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.put, false),
                (&mut item.patch, false),
                (&mut item.delete, false),
                (&mut item.post, true),
            ];
            for (operation, is_post) in operations {
                let Some(operation) = operation else {
                    continue;
                };
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description).into());
                };
                add("401", "No valid API key.");
                add("413", "The body is over its limit.");
                add("429", "Over the key's rate: wait as Retry-After says.");
                if is_post {
                    add(
                        "400",
                        "Malformed request, or an Idempotency-Key that is not 1–255 visible characters.",
                    );
                    add(
                        "409",
                        "The first request with this Idempotency-Key is still running, or a number was saved by another request at the same moment.",
                    );
                    add(
                        "422",
                        "Invalid, or the Idempotency-Key was used for another request.",
                    );
                }
            }
        }
    }
}

/// The API's routes and their document, made once from the same list.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(contacts::create, contacts::list))
        .routes(routes!(contacts::get, contacts::patch, contacts::delete))
        .routes(routes!(contacts::upsert_batch))
        .routes(routes!(contacts::delete_batch))
        .routes(routes!(batches::create))
        .routes(routes!(batches::list))
        .routes(routes!(batches::get))
        .routes(routes!(batches::rejects))
        .routes(routes!(groups::create, groups::list))
        .routes(routes!(groups::get, groups::patch, groups::delete))
        .routes(routes!(groups::add_contacts, groups::remove_contacts))
        .routes(routes!(groups::copy_contacts))
        .routes(routes!(groups::move_contacts))
        .routes(routes!(blacklist::add, blacklist::remove))
        .routes(routes!(recipients::stream))
        .routes(routes!(opt_outs::put, opt_outs::delete))
        .routes(routes!(opt_outs::inbound))
        .routes(routes!(history::list))
        .routes(routes!(erasure::erase))
        .routes(routes!(batches::undo))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .split_for_parts();
    utoipa::Modify::modify(&CommonResponses, &mut document);
    (router, document)
}

/// The OpenAPI document (3.1) of the API.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| parts().1);
    &DOCUMENT
}

/// The API's router, to nest under `/api/v1`: its routes, the document, the rate per key
/// and idempotent POSTs; an unknown path is a 404 in the API's shape.
pub fn router(state: &AppState) -> Router<AppState> {
    let (routes, _) = parts();
    routes
        .route(
            "/openapi.json",
            axum::routing::get(|| async { Json(document()) }),
        )
        .fallback(|| async { extract::not_found().into_response() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::replay_or_record,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::limit,
        ))
}
