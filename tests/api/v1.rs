//! The integration API through the real router, on both databases; every response is
//! checked against the served OpenAPI document (see `common::check_against_document`).

use crate::common::{
    api, api_key, api_raw, app, app_with_uploads, body, call, count, document, send, set_up,
};
use crate::imports::BOUNDARY;
use axum::body::Body;
use contacts::db::Db;
use contacts::server::importer::run_queued;
use http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

contacts::db_tests!(
    keys_authenticate_and_a_revoked_or_missing_key_is_refused,
    contacts_are_created_merged_read_patched_and_deleted,
    lists_page_by_signed_cursors,
    batches_upsert_and_delete_with_reasons,
    uploads_are_queued_imported_and_reported,
    groups_and_their_members,
    the_blacklist_and_recipients,
    bad_requests_get_their_status_and_change_nothing,
    retried_posts_are_answered_once,
    a_retried_upload_is_imported_once,
    a_key_over_its_rate_is_told_to_wait,
    a_keys_rate_is_shared_out_among_the_servers_alive,
    another_workspaces_ids_are_never_found
);

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// A workspace with an admin, and an editor key of it.
async fn workspace(app: &axum::Router) -> (String, String) {
    let admin = set_up(app, "boss@acme.test").await;
    let key = api_key(app, &admin, "editor").await;
    (admin, key)
}

async fn keys_authenticate_and_a_revoked_or_missing_key_is_refused(db: Db) {
    let app = app(db);
    let (admin, editor) = workspace(&app).await;
    let viewer = api_key(&app, &admin, "viewer").await;
    assert_eq!(
        api(&app, Some(&editor), GET, "/api/v1/contacts", None)
            .await
            .status,
        StatusCode::OK
    );
    let none = api(&app, None, GET, "/api/v1/contacts", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(body(&none)["code"], "unauthorized");
    let forged = format!("ck_{}", "x".repeat(40));
    assert_eq!(
        api(&app, Some(&forged), GET, "/api/v1/contacts", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The browser's cookie is no key: it is never read under /api/v1.
    let with_cookie = send(
        &app,
        Request::get("/api/v1/contacts")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(with_cookie.status, StatusCode::UNAUTHORIZED);
    // A viewer reads but never writes.
    let write = api(
        &app,
        Some(&viewer),
        POST,
        "/api/v1/contacts",
        Some(json!({"addresses": {"msisdn": "+6581234567"}})),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.body);
    assert_eq!(
        api(&app, Some(&viewer), GET, "/api/v1/groups", None)
            .await
            .status,
        StatusCode::OK
    );
    // Bearer requests from anywhere: no Origin check (no cookie is involved).
    let cross = api_raw(
        &app,
        Some(&editor),
        POST,
        "/api/v1/groups",
        Some(("application/json", br#"{"name":"From afar"}"#.to_vec())),
        &[
            ("origin", "https://elsewhere.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    )
    .await;
    assert_eq!(cross.status, StatusCode::CREATED, "{}", cross.body);
    // Listed for the admin without their secret; revoked at once.
    let keys: Vec<Value> =
        serde_json::from_str(&call(&app, "list_api_keys", &[], Some(&admin)).await.body).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| !k.to_string().contains(&editor[10..])),
        "no secret is shown again"
    );
    let editor_id = keys.iter().find(|k| k["role"] == "editor").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(
        keys.iter().any(|k| k["last_used_at"].is_number()),
        "use is recorded"
    );
    let revoked = call(
        &app,
        "revoke_api_key",
        &[("id", &editor_id.to_string())],
        Some(&admin),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(
        api(&app, Some(&editor), GET, "/api/v1/contacts", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Only admins manage keys; keys are never admins.
    let as_admin = call(
        &app,
        "create_api_key",
        &[("name", "Root"), ("role", "admin")],
        Some(&admin),
    )
    .await;
    assert_eq!(as_admin.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn contacts_are_created_merged_read_patched_and_deleted(db: Db) {
    let app = app(db);
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let created = api(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(json!({
            "firstName": "Ann", "lastName": "Lee",
            "addresses": {"msisdn": "8123 4567", "email": "Ann@Example.com"},
            "customAttributes": {"Tier": "Gold", "Since": "2020"}
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ann = body(&created);
    let id = ann["id"].as_i64().unwrap();
    assert_eq!(ann["result"], "created");
    assert_eq!(
        created.headers[header::LOCATION],
        format!("/api/v1/contacts/{id}")
    );
    assert_eq!(
        ann["addresses"]["msisdn"], "+6581234567",
        "read with the workspace's country"
    );
    assert_eq!(ann["addresses"]["whatsapp"], "+6581234567");
    assert_eq!(ann["addresses"]["email"], "ann@example.com");
    assert_eq!(ann["country"], "SG");

    // The same number again merges: given members replace, custom fields merge by key.
    let merged = api(&app, key, POST, "/api/v1/contacts", Some(json!({
        "lastName": "Tan", "addresses": {"msisdn": "+65 8123 4567"}, "customAttributes": {"Tier": "Silver", "Club": "A"}
    }))).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    let merged = body(&merged);
    assert_eq!(
        (merged["result"].as_str(), merged["id"].as_i64()),
        (Some("merged"), Some(id))
    );
    assert_eq!(
        (merged["firstName"].as_str(), merged["lastName"].as_str()),
        (Some("Ann"), Some("Tan"))
    );
    assert_eq!(
        merged["customAttributes"],
        json!({"Tier": "Silver", "Since": "2020", "Club": "A"})
    );
    assert_eq!(
        serde_json::to_string(&merged["customAttributes"]).unwrap(),
        r#"{"Tier":"Silver","Since":"2020","Club":"A"}"#,
        "in the contact's order"
    );

    // Read with an ETag; change with a merge patch and a JSON Patch; a stale If-Match fails.
    let read = api(&app, key, GET, &format!("/api/v1/contacts/{id}"), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let etag = read.headers[header::ETAG].to_str().unwrap().to_string();
    let patch = |media: &'static str, doc: Value, if_match: Option<String>| {
        let app = app.clone();
        let key = key.map(str::to_string);
        async move {
            let headers: Vec<(&str, String)> =
                if_match.into_iter().map(|m| ("if-match", m)).collect();
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api_raw(
                &app,
                key.as_deref(),
                PATCH,
                &format!("/api/v1/contacts/{id}"),
                Some((media, serde_json::to_vec(&doc).unwrap())),
                &headers,
            )
            .await
        }
    };
    let merge = patch(
        "application/merge-patch+json",
        json!({"firstName": "Annie", "customAttributes": {"Club": null}}),
        Some(etag.clone()),
    )
    .await;
    assert_eq!(merge.status, StatusCode::OK, "{}", merge.body);
    assert_eq!(body(&merge)["firstName"], "Annie");
    assert_eq!(
        body(&merge)["customAttributes"],
        json!({"Tier": "Silver", "Since": "2020"})
    );
    let stale = patch(
        "application/merge-patch+json",
        json!({"firstName": "Old"}),
        Some(etag),
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let ops = patch(
        "application/json-patch+json",
        json!([
            {"op": "replace", "path": "/addresses/lineId", "value": "annie.line"},
            {"op": "add", "path": "/customAttributes/Plan", "value": "Pro"}
        ]),
        None,
    )
    .await;
    assert_eq!(ops.status, StatusCode::OK, "{}", ops.body);
    assert_eq!(body(&ops)["addresses"]["lineId"], "annie.line");
    let failed_test = patch(
        "application/json-patch+json",
        json!([{"op": "test", "path": "/firstName", "value": "Bob"}]),
        None,
    )
    .await;
    assert_eq!(failed_test.status, StatusCode::CONFLICT);
    let unknown = patch(
        "application/merge-patch+json",
        json!({"nickname": "A"}),
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(&unknown)["field"], "nickname");
    // A number that belongs to another contact: 409 naming it.
    let bob = api(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(json!({"firstName": "Bob", "addresses": {"msisdn": "+6591234567"}})),
    )
    .await;
    let bob_id = body(&bob)["id"].as_i64().unwrap();
    let taken = patch(
        "application/merge-patch+json",
        json!({"addresses": {"msisdn": "+6591234567"}}),
        None,
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(body(&taken)["contactId"], bob_id);
    assert_eq!(body(&taken)["field"], "addresses.msisdn");
    let plain = api_raw(
        &app,
        key,
        PATCH,
        &format!("/api/v1/contacts/{id}"),
        Some(("text/plain", b"x".to_vec())),
        &[],
    )
    .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        api(&app, key, DELETE, &format!("/api/v1/contacts/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api(&app, key, GET, &format!("/api/v1/contacts/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, key, DELETE, &format!("/api/v1/contacts/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn lists_page_by_signed_cursors(db: Db) {
    let app = app(db);
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let contacts: Vec<Value> = (0..7)
        .map(|i| json!({"firstName": format!("P{i}"), "addresses": {"msisdn": format!("+658100000{i}")}}))
        .collect();
    let upserted = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/upsertContacts",
        Some(json!({"contacts": contacts})),
    )
    .await;
    assert_eq!(upserted.status, StatusCode::OK, "{}", upserted.body);
    let mut seen = Vec::new();
    let mut path = "/api/v1/contacts?limit=3&count=true".to_string();
    loop {
        let page = api(&app, key, GET, &path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let page = body(&page);
        assert_eq!(page["totalCount"], 7);
        assert_eq!(page["totalCountExact"], true);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/contacts?limit=3&count=true&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each once");
    assert_eq!(seen.len(), 7);
    let exact = body(&api(&app, key, GET, "/api/v1/contacts?limit=3&count=exact", None).await);
    assert_eq!(
        (&exact["totalCount"], &exact["totalCountExact"]),
        (&json!(7), &json!(true))
    );
    let first = body(&api(&app, key, GET, "/api/v1/contacts?limit=2", None).await);
    let cursor = first["nextCursor"].as_str().unwrap();
    let tampered = format!("{}A{}", &cursor[..5], &cursor[6..]);
    for bad in [
        format!("/api/v1/contacts?limit=2&cursor={tampered}"),
        format!("/api/v1/contacts?limit=2&query=p&cursor={cursor}"),
        "/api/v1/contacts?limit=0".to_string(),
        "/api/v1/contacts?limit=501".to_string(),
        "/api/v1/contacts?limit=many".to_string(),
        "/api/v1/contacts?colour=red".to_string(),
    ] {
        assert_eq!(
            api(&app, key, GET, &bad, None).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let searched = body(&api(&app, key, GET, "/api/v1/contacts?query=p3", None).await);
    assert_eq!(searched["items"].as_array().unwrap().len(), 1);
}

async fn batches_upsert_and_delete_with_reasons(db: Db) {
    let app = app(db.clone());
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"addresses": {"msisdn": format!("+65810{i:05}")}}))
        .collect();
    let refused = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/upsertContacts",
        Some(json!({"contacts": too_many})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&db, "SELECT count(*) FROM contacts", &[]).await, 0);
    let results = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/upsertContacts",
        Some(json!({"contacts": [
            {"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}},
            {"firstName": "Bad", "addresses": {"msisdn": "123"}},
            {"lastName": "Lee", "addresses": {"msisdn": "8100 0001"}},
            {"firstName": "Cat", "addresses": {"email": "cat@example.com"}},
            {"firstName": "Dee", "addresses": {"msisdn": "+6581000002"}, "nickname": "D"},
            {"firstName": "Eve", "addresses": {"msisdn": "+6581000003"}, "groupIds": [999999]}
        ]})),
    )
    .await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.body);
    let results = body(&results)["results"].as_array().unwrap().clone();
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "rejected", "merged", "created", "rejected", "rejected"
        ]
    );
    assert_eq!(
        results[0]["id"], results[2]["id"],
        "a repeat merges into the first"
    );
    assert_eq!(results[1]["field"], "addresses.msisdn");
    // A contact of another country: a national number in an item is read with the
    // workspace's country (Singapore), whatever the contact's.
    let malaysian = api(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(json!({
            "country": "MY", "addresses": {"msisdn": "+6581000009"}
        })),
    )
    .await;
    assert_eq!(malaysian.status, StatusCode::CREATED, "{}", malaysian.body);
    let again = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/contacts/batches/upsertContacts",
            Some(json!({
                "contacts": [{"lastName": "Tan", "addresses": {"msisdn": "8100 0009"}}]
            })),
        )
        .await,
    );
    assert_eq!(again["results"][0]["result"], "merged", "{again}");
    let merged = body(
        &api(
            &app,
            key,
            GET,
            &format!("/api/v1/contacts/{}", body(&malaysian)["id"]),
            None,
        )
        .await,
    );
    assert_eq!(
        (
            merged["addresses"]["msisdn"].as_str(),
            merged["lastName"].as_str()
        ),
        (Some("+6581000009"), Some("Tan"))
    );
    assert!(
        results[1]["message"]
            .as_str()
            .unwrap()
            .contains("Number too short"),
        "{}",
        results[1]
    );
    assert_eq!(results[4]["field"], "nickname");
    assert_eq!(results[5]["field"], "groupIds");
    let ann = body(
        &api(
            &app,
            key,
            GET,
            &format!("/api/v1/contacts/{}", results[0]["id"]),
            None,
        )
        .await,
    );
    assert_eq!(
        (ann["firstName"].as_str(), ann["lastName"].as_str()),
        (Some("Ann"), Some("Lee"))
    );

    let by_number = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/deleteContacts",
        Some(json!({"msisdns": ["8100 0001", "+6589999999"]})),
    )
    .await;
    assert_eq!(by_number.status, StatusCode::OK, "{}", by_number.body);
    assert_eq!(body(&by_number), json!({"deleted": 1, "notFound": 1}));
    let cat = results[3]["id"].as_i64().unwrap();
    let by_id = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/deleteContacts",
        Some(json!({"ids": [cat, 424242]})),
    )
    .await;
    assert_eq!(body(&by_id), json!({"deleted": 1, "notFound": 1}));
    let both = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/deleteContacts",
        Some(json!({"ids": [1], "msisdns": ["+6581000001"]})),
    )
    .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A multipart upload: the settings (if any), then the file.
pub(crate) fn upload_body(options: Option<Value>, name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(options) = options {
        body.extend(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{options}\r\n"
        ).into_bytes());
    }
    body.extend(format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
    ).into_bytes());
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    body
}

async fn uploads_are_queued_imported_and_reported(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let file = b"Given Name;Phone;Plan\nAnn;81000001;Gold\nBo;123;Silver\nCy;81000001;Bronze\n";
    // Every setting guessed from the file: delimiter, header, columns.
    let queued = api_raw(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/createContacts",
        Some((&multipart, upload_body(None, "list.csv", file))),
        &[],
    )
    .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let id = body(&queued)["id"].as_i64().unwrap();
    assert_eq!(body(&queued)["status"], "queued");
    run_queued(&state).await.unwrap();
    let batch = body(&api(&app, key, GET, &format!("/api/v1/batches/{id}"), None).await);
    assert_eq!(batch["status"], "completed");
    assert_eq!(
        (
            batch["rowsRead"].as_i64(),
            batch["created"].as_i64(),
            batch["duplicates"].as_i64(),
            batch["invalid"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    let rejects = api(
        &app,
        key,
        GET,
        &format!("/api/v1/batches/{id}/rejects"),
        None,
    )
    .await;
    assert_eq!(rejects.status, StatusCode::OK);
    assert!(
        rejects.body.contains("Same number as line 2"),
        "{}",
        rejects.body
    );

    // Columns named by header or position, a custom field, a new group, updates.
    let options = json!({"mobileColumn": 1, "columns": {"Given Name": "firstName", "2": "customAttributes.Plan"},
        "groupName": "From the API", "updateExisting": true, "delimiter": ";", "hasHeader": true});
    let again = api_raw(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/createContacts",
        Some((
            &multipart,
            upload_body(
                Some(options),
                "list.csv",
                b"Given Name;Phone;Plan\nAnnie;81000001;Platinum\n",
            ),
        )),
        &[],
    )
    .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    run_queued(&state).await.unwrap();
    let list = body(&api(&app, key, GET, "/api/v1/batches?limit=1", None).await);
    assert_eq!(list["items"][0]["matched"], 1);
    assert!(list["nextCursor"].is_string());
    let contacts = body(&api(&app, key, GET, "/api/v1/contacts?query=annie", None).await);
    assert_eq!(contacts["items"][0]["customAttributes"]["Plan"], "Platinum");
    assert_eq!(contacts["items"][0]["groups"][0]["name"], "From the API");

    for (options, what) in [
        (json!({"mobileColumn": "Fax"}), "no such column"),
        (
            json!({"columns": {"Phone": "mobilePhone"}}),
            "no such field",
        ),
        (json!({"encoding": "ebcdic"}), "unknown encoding"),
        (json!({"colour": "red"}), "unknown setting"),
        (json!({"groupId": 424242}), "no such group"),
    ] {
        let reply = api_raw(
            &app,
            key,
            POST,
            "/api/v1/contacts/batches/createContacts",
            Some((&multipart, upload_body(Some(options), "list.csv", file))),
            &[],
        )
        .await;
        assert!(
            matches!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND
            ),
            "{what}: {} {}",
            reply.status,
            reply.body
        );
    }
    let not_a_form = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/batches/createContacts",
        Some(json!({})),
    )
    .await;
    assert_eq!(not_a_form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn groups_and_their_members(db: Db) {
    let app = app(db);
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let upserted = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/contacts/batches/upsertContacts",
            Some(json!({"contacts": [
                {"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}},
                {"firstName": "Bob", "addresses": {"msisdn": "+6581000002"}},
                {"firstName": "Cat", "addresses": {"msisdn": "+6581000003"}}
            ]})),
        )
        .await,
    );
    let ids: Vec<i64> = upserted["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let vip = api(
        &app,
        key,
        POST,
        "/api/v1/groups",
        Some(json!({"name": "VIP", "description": "Best"})),
    )
    .await;
    assert_eq!(vip.status, StatusCode::CREATED, "{}", vip.body);
    let vip_id = body(&vip)["id"].as_i64().unwrap();
    let taken = api(
        &app,
        key,
        POST,
        "/api/v1/groups",
        Some(json!({"name": "vip"})),
    )
    .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unnamed = api(
        &app,
        key,
        POST,
        "/api/v1/groups",
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(body(&unnamed)["field"], "name");
    let added = api(
        &app,
        key,
        POST,
        &format!("/api/v1/groups/{vip_id}/contacts"),
        Some(json!({"contacts": [ids[0], ids[1]]})),
    )
    .await;
    assert_eq!(body(&added), json!({"changed": 2, "unchanged": 0}));
    let by_filter = api(
        &app,
        key,
        POST,
        &format!("/api/v1/groups/{vip_id}/contacts"),
        Some(json!({"filter": {"query": "cat"}})),
    )
    .await;
    assert_eq!(body(&by_filter), json!({"changed": 1, "unchanged": 0}));
    let group = api(&app, key, GET, &format!("/api/v1/groups/{vip_id}"), None).await;
    assert_eq!(body(&group)["memberCount"], 3);
    let etag = group.headers[header::ETAG].to_str().unwrap().to_string();
    let renamed = api_raw(
        &app,
        key,
        PATCH,
        &format!("/api/v1/groups/{vip_id}"),
        Some((
            "application/merge-patch+json",
            br#"{"name":"VIPs","isBlacklist":true}"#.to_vec(),
        )),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(body(&renamed)["isBlacklist"], true);
    let stale = api_raw(
        &app,
        key,
        DELETE,
        &format!("/api/v1/groups/{vip_id}"),
        None,
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let ann = body(
        &api(
            &app,
            key,
            GET,
            &format!("/api/v1/contacts/{}", ids[0]),
            None,
        )
        .await,
    );
    assert_eq!(ann["blacklistedBy"], json!(["VIPs"]));

    let other = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/groups",
            Some(json!({"name": "Other"})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let copied = api(
        &app,
        key,
        POST,
        &format!("/api/v1/groups/batches/copyContacts?from={vip_id}&to={other}"),
        None,
    )
    .await;
    assert_eq!(body(&copied), json!({"changed": 3, "unchanged": 0}));
    let removed = api(
        &app,
        key,
        DELETE,
        &format!("/api/v1/groups/{other}/contacts"),
        Some(json!({"contacts": [ids[2]]})),
    )
    .await;
    assert_eq!(body(&removed), json!({"changed": 1, "unchanged": 0}));
    let third = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/groups",
            Some(json!({"name": "Third"})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let moved = api(
        &app,
        key,
        POST,
        &format!("/api/v1/groups/batches/moveContacts?from={other}&to={third}"),
        None,
    )
    .await;
    assert_eq!(body(&moved)["changed"], 2);
    let groups = body(&api(&app, key, GET, "/api/v1/groups", None).await);
    let counts: Vec<(String, i64)> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["memberCount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Other".to_string(), 0),
            ("Third".to_string(), 2),
            ("VIPs".to_string(), 3)
        ]
    );
    assert_eq!(
        api(
            &app,
            key,
            POST,
            "/api/v1/groups/batches/copyContacts?from=424242&to=1",
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, key, DELETE, &format!("/api/v1/groups/{vip_id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api(
            &app,
            key,
            GET,
            &format!("/api/v1/contacts/{}", ids[0]),
            None
        )
        .await
        .status,
        StatusCode::OK,
        "its contacts stay"
    );
}

async fn the_blacklist_and_recipients(db: Db) {
    let app = app(db);
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let news = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/groups",
            Some(json!({"name": "News"})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let shop = body(
        &api(
            &app,
            key,
            POST,
            "/api/v1/groups",
            Some(json!({"name": "Shop"})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let results = body(&api(&app, key, POST, "/api/v1/contacts/batches/upsertContacts", Some(json!({"contacts": [
        {"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}, "groupIds": [news, shop]},
        {"firstName": "Bob", "addresses": {"msisdn": "+6581000002"}, "groupIds": [news]},
        {"firstName": "Cat", "addresses": {"email": "cat@example.com"}, "groupIds": [shop]}
    ]}))).await);
    let ann = results["results"][0]["id"].as_i64().unwrap();
    let recipients = |channel: &'static str, accept: &'static str| {
        let app = app.clone();
        let key = key.map(str::to_string);
        async move {
            api_raw(
                &app,
                key.as_deref(),
                GET,
                &format!("/api/v1/recipients?groupId={news}&groupId={shop}&channel={channel}"),
                None,
                &[("accept", accept)],
            )
            .await
        }
    };
    let sms = recipients("sms", "application/x-ndjson").await;
    assert_eq!(sms.status, StatusCode::OK);
    let lines: Vec<Value> = sms
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "each contact once, Cat has no number: {}",
        sms.body
    );
    assert_eq!(lines[0], json!({"id": ann, "address": "+6581000001"}));

    // Blacklisting Bob's number leaves him out; a new number becomes a blacklisted contact.
    let listed = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/blacklist/+6581000002",
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(body(&listed)["blacklistedBy"], json!(["Blacklist"]));
    let stranger = api(
        &app,
        key,
        POST,
        "/api/v1/contacts/blacklist/8100%200009",
        None,
    )
    .await;
    assert_eq!(stranger.status, StatusCode::CREATED, "{}", stranger.body);
    assert_eq!(body(&stranger)["addresses"]["msisdn"], "+6581000009");
    let csv = recipients("sms", "text/csv").await;
    assert_eq!(
        csv.body.trim_start_matches('\u{feff}').lines().count(),
        2,
        "{}",
        csv.body
    );
    let email = recipients("email", "application/x-ndjson").await;
    assert_eq!(email.body.lines().count(), 1);
    assert_eq!(
        api(
            &app,
            key,
            DELETE,
            "/api/v1/contacts/blacklist/+6581000002",
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        recipients("sms", "application/x-ndjson")
            .await
            .body
            .lines()
            .count(),
        2
    );
    assert_eq!(
        api(
            &app,
            key,
            DELETE,
            "/api/v1/contacts/blacklist/+6581777777",
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(
            &app,
            key,
            POST,
            "/api/v1/contacts/blacklist/not-a-number",
            None
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for bad in [
        "/api/v1/recipients?channel=sms",
        "/api/v1/recipients?groupId=1&channel=fax",
        "/api/v1/recipients?groupId=x&channel=sms",
    ] {
        assert_eq!(
            api(&app, key, GET, bad, None).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

async fn bad_requests_get_their_status_and_change_nothing(db: Db) {
    let app = app(db.clone());
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let raw = |bytes: &'static [u8], media: &'static str| {
        let app = app.clone();
        let key = key.map(str::to_string);
        async move {
            api_raw(
                &app,
                key.as_deref(),
                POST,
                "/api/v1/contacts",
                Some((media, bytes.to_vec())),
                &[],
            )
            .await
        }
    };
    let malformed = raw(b"{\"firstName\": ", "application/json").await;
    assert_eq!(
        (malformed.status, body(&malformed)["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let wrong_type = raw(br#"{"firstName": 7}"#, "application/json").await;
    assert_eq!(
        (wrong_type.status, body(&wrong_type)["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("firstName"))
    );
    let unknown = raw(br#"{"addresses": {"fax": "1"}}"#, "application/json").await;
    assert_eq!(body(&unknown)["field"], "addresses.fax");
    let not_a_number = raw(
        br#"{"addresses": {"msisdn": "call me"}}"#,
        "application/json",
    )
    .await;
    assert_eq!(body(&not_a_number)["field"], "addresses.msisdn");
    assert_eq!(
        raw(b"firstName=Ann", "application/x-www-form-urlencoded")
            .await
            .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = vec![b' '; 2 << 20];
    let too_large = api_raw(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(("application/json", huge)),
        &[],
    )
    .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        api(&app, key, GET, "/api/v1/contacts/abc", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, key, GET, "/api/v1/nothing-here", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(count(&db, "SELECT count(*) FROM contacts", &[]).await, 0);
    for reply in [&malformed, &wrong_type, &unknown] {
        assert_eq!(body(reply)["errorId"].as_str().map(str::len), Some(16));
    }

    // A contact names at most 1,000 groups.
    let groups: Vec<i64> = (1..=1001).collect();
    let too_many_groups = api(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(json!({
            "addresses": {"msisdn": "+6581000001"}, "groupIds": groups
        })),
    )
    .await;
    assert_eq!(
        (
            too_many_groups.status,
            body(&too_many_groups)["field"].as_str()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("groupIds"))
    );
    // A JSON Patch is bounded in operations and in what it may grow the contact to.
    let ann = api(
        &app,
        key,
        POST,
        "/api/v1/contacts",
        Some(json!({
            "addresses": {"msisdn": "+6581000001"}, "customAttributes": {"Note": "x".repeat(2000)}
        })),
    )
    .await;
    assert_eq!(ann.status, StatusCode::CREATED, "{}", ann.body);
    let path = format!("/api/v1/contacts/{}", body(&ann)["id"]);
    let json_patch = |operations: Vec<Value>| {
        let app = app.clone();
        let path = path.clone();
        let key = key.map(str::to_string);
        async move {
            api_raw(
                &app,
                key.as_deref(),
                PATCH,
                &path,
                Some((
                    "application/json-patch+json",
                    serde_json::to_vec(&operations).unwrap(),
                )),
                &[],
            )
            .await
        }
    };
    let long = json_patch(
        (0..101)
            .map(|_| json!({"op": "test", "path": "/firstName", "value": ""}))
            .collect(),
    )
    .await;
    assert_eq!(
        long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        long.body
    );
    assert!(
        body(&long)["message"]
            .as_str()
            .unwrap()
            .contains("at most 100")
    );
    // Each copy doubles the document: refused once it is past what a contact can be,
    // long before it fills the server's memory.
    let doubling = json_patch(
        (0..40)
            .map(|i| json!({"op": "copy", "from": "/customAttributes", "path": format!("/customAttributes/c{i}")}))
            .collect(),
    )
    .await;
    assert_eq!(
        doubling.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        doubling.body
    );
    let unchanged = body(&api(&app, key, GET, &path, None).await);
    assert_eq!(unchanged["customAttributes"].as_object().unwrap().len(), 1);
}

async fn retried_posts_are_answered_once(db: Db) {
    let app = app(db.clone());
    let (_, key) = workspace(&app).await;
    let key = Some(key.as_str());
    let post = |idempotency: &'static str, doc: Value| {
        let app = app.clone();
        let key = key.map(str::to_string);
        async move {
            api_raw(
                &app,
                key.as_deref(),
                POST,
                "/api/v1/contacts",
                Some(("application/json", serde_json::to_vec(&doc).unwrap())),
                &[("idempotency-key", idempotency)],
            )
            .await
        }
    };
    let ann = json!({"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}});
    let first = post("order-1", ann.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let retry = post("order-1", ann.clone()).await;
    assert_eq!(
        retry.status,
        StatusCode::CREATED,
        "the first answer again, not a merge"
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(
        retry.headers[header::LOCATION],
        first.headers[header::LOCATION]
    );
    let other = post(
        "order-1",
        json!({"firstName": "Bob", "addresses": {"msisdn": "+6581000002"}}),
    )
    .await;
    assert_eq!(
        (other.status, body(&other)["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );
    assert_eq!(count(&db, "SELECT count(*) FROM contacts", &[]).await, 1);
    let long: &'static str = Box::leak("k".repeat(256).into_boxed_str());
    assert_eq!(
        post(long, ann.clone()).await.status,
        StatusCode::BAD_REQUEST
    );
    // Concurrent retries: while the first runs, the second is told so.
    let key_row: (i64, i64) = contacts::on!(&db, pool => {
        sqlx::query_as("SELECT workspace_id, id FROM api_keys").fetch_one(pool).await
    })
    .unwrap();
    let running = contacts::db::idempotency::begin(
        &db,
        key_row.0,
        key_row.1,
        "in-flight",
        contacts::db::now(),
    )
    .await
    .unwrap();
    assert_eq!(running, contacts::db::idempotency::Earlier::None);
    let concurrent = post("in-flight", ann).await;
    assert_eq!(
        (concurrent.status, body(&concurrent)["code"].as_str()),
        (StatusCode::CONFLICT, Some("request_in_progress"))
    );

    // A POST without a body is kept too: its retry gets the first answer.
    let blacklist = |idempotency: &'static str| {
        let app = app.clone();
        let key = key.map(str::to_string);
        async move {
            api_raw(
                &app,
                key.as_deref(),
                POST,
                "/api/v1/contacts/blacklist/+6581000077",
                None,
                &[("idempotency-key", idempotency)],
            )
            .await
        }
    };
    assert_eq!(blacklist("bl-1").await.status, StatusCode::CREATED);
    let replayed = blacklist("bl-1").await;
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(
        blacklist("bl-2").await.status,
        StatusCode::OK,
        "a new key runs again: the number is already a contact"
    );
}

async fn a_retried_upload_is_imported_once(db: Db) {
    let (app, _) = app_with_uploads(db.clone(), 1);
    let (_, key) = workspace(&app).await;
    let file = upload_body(None, "list.csv", b"Phone\n81000001\n81000002\n");
    // Sent as a stream of small pieces with its length, as a client's upload arrives.
    let upload = |idempotency: &'static str| {
        let request = Request::builder()
            .method(POST)
            .uri("/api/v1/contacts/batches/createContacts")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::CONTENT_LENGTH, file.len())
            .header("idempotency-key", idempotency)
            .body(Body::from_stream(futures::stream::iter(
                file.chunks(7)
                    .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
                    .collect::<Vec<_>>(),
            )))
            .unwrap();
        let app = app.clone();
        async move {
            let reply = send(&app, request).await;
            crate::common::check_against_document(
                &POST,
                "/api/v1/contacts/batches/createContacts",
                &reply,
            );
            reply
        }
    };
    let first = upload("upload-1").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let retry = upload("upload-1").await;
    assert_eq!(retry.status, StatusCode::ACCEPTED);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(body(&retry)["id"], body(&first)["id"]);
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 1);
}

async fn a_key_over_its_rate_is_told_to_wait(db: Db) {
    let config = contacts::server::config::Config::from_lookup(|name| {
        (name == "CONTACTS_API_RATE_LIMIT").then(|| "2".to_string())
    })
    .unwrap();
    let state =
        contacts::server::state::AppState::new(contacts::server::test_leptos_options(), db, config);
    let app = contacts::server::router(state);
    let (_, key) = workspace(&app).await;
    let statuses: Vec<StatusCode> = futures::future::join_all(
        (0..4).map(|_| api(&app, Some(&key), GET, "/api/v1/groups", None)),
    )
    .await
    .into_iter()
    .map(|r| r.status)
    .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        2,
        "{statuses:?}"
    );
    let limited = api(&app, Some(&key), GET, "/api/v1/groups", None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

/// Two app servers on one database, a limit of 4 a second: each allows 2 (a key gets no
/// more from both together than the limit); once one leaves, the other allows all 4.
async fn a_keys_rate_is_shared_out_among_the_servers_alive(db: Db) {
    let server = || {
        let config = contacts::server::config::Config::from_lookup(|name| {
            (name == "CONTACTS_API_RATE_LIMIT").then(|| "4".to_string())
        })
        .unwrap();
        let options = contacts::server::test_leptos_options();
        let state = contacts::server::state::AppState::new(options, db.clone(), config);
        (contacts::server::router(state.clone()), state)
    };
    let (a, a_state) = server();
    let (b, b_state) = server();
    let (_, key) = workspace(&a).await;
    for (state, id) in [(&a_state, "a"), (&b_state, "b"), (&a_state, "a")] {
        contacts::server::servers::beat(state, id).await.unwrap();
    }
    let allowed = |app: axum::Router, n: usize| {
        let key = key.clone();
        async move {
            let mut ok = 0;
            for _ in 0..n {
                let reply = api(&app, Some(&key), GET, "/api/v1/groups", None).await;
                ok += usize::from(reply.status == StatusCode::OK);
            }
            ok
        }
    };
    assert_eq!(allowed(a.clone(), 4).await, 2, "server a's share");
    assert_eq!(allowed(b.clone(), 4).await, 2, "server b's share");

    contacts::db::app_servers::leave(&db, "b").await.unwrap();
    contacts::server::servers::beat(&a_state, "a")
        .await
        .unwrap();
    assert_eq!(allowed(a, 5).await, 4, "the whole limit on the one left");
}

/// Every operation of the document, called by workspace B's key with workspace A's ids:
/// nothing of A is ever read or changed.
async fn another_workspaces_ids_are_never_found(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let mine = api_key(&app, &admin, "editor").await;
    let (_, password) =
        contacts::server::cli::create_workspace(&db, "Globex", "GB", "boss@globex.test")
            .await
            .unwrap();
    let cookie = call(
        &app,
        "sign_in",
        &[("email", "boss@globex.test"), ("password", &password)],
        None,
    )
    .await
    .session_cookie()
    .unwrap();
    let changed = call(
        &app,
        "change_password",
        &[
            ("current_password", &password),
            ("new_password", "globex password 1"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let theirs = api_key(&app, &cookie, "editor").await;
    let contact = body(
        &api(
            &app,
            Some(&mine),
            POST,
            "/api/v1/contacts",
            Some(json!({"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let group = body(
        &api(
            &app,
            Some(&mine),
            POST,
            "/api/v1/groups",
            Some(json!({"name": "Mine"})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    api(
        &app,
        Some(&mine),
        POST,
        &format!("/api/v1/groups/{group}/contacts"),
        Some(json!({"contacts": [contact]})),
    )
    .await;
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let batch = body(
        &api_raw(
            &app,
            Some(&mine),
            POST,
            "/api/v1/contacts/batches/createContacts",
            Some((&multipart, upload_body(None, "a.csv", b"Phone\n81000002\n"))),
            &[],
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    run_queued(&state).await.unwrap();
    let before = count(&db, "SELECT count(*) FROM memberships", &[]).await;

    let mut checked = 0;
    for (template, operations) in document()["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let id = if template.starts_with("/contacts/{") {
                contact
            } else if template.starts_with("/batches/{") {
                batch
            } else {
                group
            };
            let path = format!(
                "/api/v1{}",
                template
                    .replace("{id}", &id.to_string())
                    .replace("{msisdn}", "+6581000001")
                    .replace("{channel}", "sms")
            );
            let path = match template.as_str() {
                "/groups/batches/copyContacts" | "/groups/batches/moveContacts" => {
                    format!("{path}?from={group}&to={group}")
                }
                "/recipients" => format!("{path}?groupId={group}&channel=sms"),
                _ => path,
            };
            let method: Method = method.to_uppercase().parse().unwrap();
            let body = match (template.as_str(), &method) {
                ("/groups/{id}/contacts", _) => Some(json!({"contacts": [contact]})),
                ("/contacts/batches/deleteContacts", _) => Some(json!({"ids": [contact]})),
                ("/contacts/erase", _) => Some(json!({"id": contact})),
                ("/contacts/batches/upsertContacts", _) => {
                    Some(json!({"contacts": [{"addresses": {"msisdn": "+6581000001"}}]}))
                }
                (_, &Method::PATCH) => Some(json!({"firstName": "Taken"})),
                (_, &Method::POST)
                    if !template.contains("blacklist") && !template.contains("createContacts") =>
                {
                    Some(json!({}))
                }
                _ => None,
            };
            let reply = api(&app, Some(&theirs), method.clone(), &path, body).await;
            let text = reply.body.clone();
            assert!(
                !text.contains("Ann") && !text.contains("Mine") && !text.contains("a.csv"),
                "{method} {path} leaked: {text}"
            );
            if template.contains("{id}")
                || template == "/contacts/erase"
                || template.contains("batches/copy")
                || template.contains("batches/move")
            {
                assert!(
                    matches!(
                        reply.status,
                        StatusCode::NOT_FOUND
                            | StatusCode::UNPROCESSABLE_ENTITY
                            | StatusCode::UNSUPPORTED_MEDIA_TYPE
                    ),
                    "{method} {path}: {} {text}",
                    reply.status
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} operations");
    // A's contact, group, membership and batch are as they were.
    let ann = body(
        &api(
            &app,
            Some(&mine),
            GET,
            &format!("/api/v1/contacts/{contact}"),
            None,
        )
        .await,
    );
    assert_eq!(ann["firstName"], "Ann");
    assert_eq!(ann["groups"][0]["name"], "Mine");
    assert_eq!(
        count(&db, "SELECT count(*) FROM memberships", &[]).await,
        before
    );
    let served = send(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&served.body).unwrap(),
        *document(),
        "the document is the served one"
    );
    assert!(document()["openapi"].as_str().unwrap().starts_with("3.1"));
}
