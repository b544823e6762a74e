//! Drives the real router in-process, as a browser would over HTTP.

use axum::Router;
use axum::body::Body;
use contacts::db::Db;
use contacts::server::config::Config;
use contacts::server::state::AppState;
use contacts::server::{router, test_leptos_options};
use http::{Request, StatusCode, header};
use tower::ServiceExt;

/// The app around a test database.
pub fn app(db: Db) -> Router {
    read_sheets_with_the_app();
    let config = Config::from_lookup(|_| None).expect("default config");
    router(AppState::new(test_leptos_options(), db, config))
}

/// The single number a query with integer parameters `$1`… returns (a count), on
/// either database.
pub async fn count(db: &Db, sql: &str, params: &[i64]) -> i64 {
    contacts::on!(db, pool => {
        let mut query = sqlx::query_scalar(sql);
        for param in params {
            query = query.bind(*param);
        }
        query.fetch_one(pool).await
    })
    .expect(sql)
}

/// What a request got back.
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
    /// The body as sent (for files that are not text).
    pub bytes: axum::body::Bytes,
}

impl Reply {
    /// The session cookie this reply set, as a `Cookie` header value.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("contacts_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    }
}

/// Sends a request and reads the whole reply.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// Calls a server function with form-encoded arguments, as `ActionForm` does.
pub async fn call(
    app: &Router,
    endpoint: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Reply {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

/// Calls a server function with a JSON body, as the app's own calls do.
pub async fn call_json(app: &Router, endpoint: &str, json: &str, cookie: &str) -> Reply {
    let request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(json.to_string()))
        .unwrap();
    send(app, request).await
}

/// GETs a page.
pub async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates the first workspace through the API and returns the admin's cookie.
pub async fn set_up(app: &Router, email: &str) -> String {
    let reply = call(
        app,
        "create_workspace",
        &[
            ("workspace_name", "Acme"),
            ("default_country", "SG"),
            ("email", email),
            ("password", "correct horse battery"),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.session_cookie().expect("signed in after set-up")
}

/// The temporary password admins give new users in these tests.
pub const TEMPORARY_PASSWORD: &str = "temporary pass 1";
/// The password those users choose at their first sign-in.
pub const OWN_PASSWORD: &str = "my own password 1";

/// Adds a user as the admin, signs them in and changes the temporary password, as a new
/// user must; returns their session cookie.
pub async fn add_user(app: &Router, admin: &str, email: &str, role: &str) -> String {
    let reply = call(
        app,
        "add_user",
        &[
            ("email", email),
            ("password", TEMPORARY_PASSWORD),
            ("role", role),
        ],
        Some(admin),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = call(
        app,
        "sign_in",
        &[("email", email), ("password", TEMPORARY_PASSWORD)],
        None,
    )
    .await
    .session_cookie()
    .expect("signed in with the temporary password");
    let changed = call(
        app,
        "change_password",
        &[
            ("current_password", TEMPORARY_PASSWORD),
            ("new_password", OWN_PASSWORD),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    cookie
}

/// The app around a test database, with its own data folder (for uploads) and a small
/// upload limit; returns the state too, to run the importer.
/// Spreadsheets are read by the app's binary in a child process (this is a test binary).
pub fn read_sheets_with_the_app() {
    contacts::server::sheet_reader::use_program(env!("CARGO_BIN_EXE_contacts").into());
}

pub fn app_with_uploads(db: Db, max_upload_mb: u64) -> (Router, AppState) {
    read_sheets_with_the_app();
    let dir = std::env::temp_dir().join(format!(
        "contacts-test-{}-{:x}",
        std::process::id(),
        rand_suffix()
    ));
    let config = Config::from_lookup(|name| match name {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        "CONTACTS_MAX_UPLOAD_MB" => Some(max_upload_mb.to_string()),
        // The tests' files are small; a nearly full CI disk must not refuse them.
        "CONTACTS_MIN_FREE_DISK_MB" => Some("1".to_string()),
        _ => None,
    })
    .expect("config");
    let state = AppState::new(test_leptos_options(), db, config);
    (router(state.clone()), state)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    nanos ^ (NEXT.fetch_add(1, Ordering::Relaxed) << 32)
}

/// Every route of the app but pages and static files, as `(method, path)` with each
/// path parameter set to 1: the server functions Leptos registered and the plain routes
/// the router is built from. Tests that go through this list cover routes added later.
pub fn every_route(state: &AppState) -> Vec<(http::Method, String)> {
    let functions =
        leptos::server_fn::axum::server_fn_paths().map(|(path, method)| (method, path.to_string()));
    let plain = contacts::server::routes(state)
        .into_iter()
        .map(|route| (route.method, with_parameters(route.path)));
    let mut all: Vec<_> = functions.chain(plain).collect();
    all.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
    all
}

/// `/imports/{id}/rejected.csv` → `/imports/1/rejected.csv`.
fn with_parameters(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Adds a user as the admin and signs them in with the temporary password, without
/// replacing it; returns their session cookie.
pub async fn temporary_session(app: &Router, admin: &str, email: &str, role: &str) -> String {
    let reply = call(
        app,
        "add_user",
        &[
            ("email", email),
            ("password", TEMPORARY_PASSWORD),
            ("role", role),
        ],
        Some(admin),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    call(
        app,
        "sign_in",
        &[("email", email), ("password", TEMPORARY_PASSWORD)],
        None,
    )
    .await
    .session_cookie()
    .expect("signed in with the temporary password")
}

/// An API key of the admin's workspace, made as Settings → API keys makes one.
pub async fn api_key(app: &Router, admin: &str, role: &str) -> String {
    let reply = call(
        app,
        "create_api_key",
        &[("name", &format!("{role} key")), ("role", role)],
        Some(admin),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let key: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    key["secret"].as_str().unwrap().to_string()
}

/// An API request with a key (`None`: without one) and a JSON body, its reply checked
/// against the OpenAPI document.
pub async fn api(
    app: &Router,
    key: Option<&str>,
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    let body = body.map(|b| ("application/json", serde_json::to_vec(&b).unwrap()));
    api_raw(app, key, method, path, body, &[]).await
}

/// A reply's body as JSON (panics, showing the body, when it is not JSON).
pub fn body(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|_| panic!("JSON: {}", reply.body))
}

/// Creates a group through the API; returns its id.
pub async fn create_group(app: &Router, key: Option<&str>, name: &str) -> i64 {
    let reply = api(
        app,
        key,
        http::Method::POST,
        "/api/v1/groups",
        Some(serde_json::json!({"name": name})),
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("a group");
    body["id"].as_i64().expect("the group's id")
}

/// An API request with any body and headers, its reply checked against the document.
pub async fn api_raw(
    app: &Router,
    key: Option<&str>,
    method: http::Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder().method(method.clone()).uri(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let reply = send(app, request).await;
    check_against_document(&method, path, &reply);
    reply
}

/// The served OpenAPI document, as JSON.
pub fn document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(contacts::server::v1::document()).unwrap())
}

/// The document's path template for a request path (`/api/v1/contacts/7` →
/// `/contacts/{id}`), if it has one.
pub fn template_of(path: &str) -> Option<String> {
    let path = path.split('?').next()?.strip_prefix("/api/v1")?;
    let segments: Vec<&str> = path.split('/').collect();
    document()["paths"]
        .as_object()?
        .keys()
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        // A literal segment beats a parameter (`/contacts/batches` before `/contacts/{id}`).
        .max_by_key(|template| template.matches('{').count() == 0)
        .cloned()
}

/// Fails the test if the reply is not what the document says the operation answers: an
/// undocumented status, or a JSON body that does not match its schema.
pub fn check_against_document(method: &http::Method, path: &str, reply: &Reply) {
    if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
        return;
    }
    let Some(template) = template_of(path) else {
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path} is undocumented"
        );
        return;
    };
    let operation = &document()["paths"][&template][method.as_str().to_lowercase()];
    if operation.is_null() {
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {template} is undocumented"
        );
        return;
    }
    let response = &operation["responses"][reply.status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {template} answered {} (undocumented): {}",
        reply.status,
        reply.body
    );
    let content_type = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.is_empty() {
        assert!(
            !response["content"][media].is_null(),
            "{method} {template} {}: answered {media}, which the document does not list",
            reply.status
        );
    }
    if media != "application/json" {
        return;
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {template} {}: JSON answered, none documented",
        reply.status
    );
    let mut root = schema.clone();
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
    root["components"] = document()["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("a valid schema");
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {}: the body does not match the document: {errors:?}\n{}",
        reply.status,
        reply.body
    );
}
