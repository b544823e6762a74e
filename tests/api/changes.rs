//! Opt-outs per channel, inbound keywords and contacts' histories, through the real
//! router on both databases (#22).

use crate::common::{api, api_key, app, body, call_json, count, create_group, set_up};
use crate::contacts::contact_json;
use contacts::db::Db;
use http::{Method, StatusCode};
use serde_json::{Value, json};

contacts::db_tests!(
    opt_outs_are_per_channel_and_leave_recipients,
    inbound_keywords_opt_senders_out_and_back_in,
    history_records_each_change_with_its_source
);

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// Ids of the recipients of `group` on `channel`.
async fn recipients(app: &axum::Router, key: &str, group: i64, channel: &str) -> Vec<i64> {
    let path = format!("/api/v1/recipients?groupId={group}&channel={channel}");
    let reply = api(app, Some(key), GET, &path, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply
        .body
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

async fn opt_outs_are_per_channel_and_leave_recipients(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let news = create_group(&app, k, "News").await;
    let made = body(&api(&app, k, POST, "/api/v1/contacts/batches/upsertContacts", Some(json!({"contacts": [
        {"firstName": "Ann", "addresses": {"msisdn": "+6581000001", "email": "ann@example.com"}, "groupIds": [news]},
        {"firstName": "Bob", "addresses": {"msisdn": "+6581000002", "email": "bob@example.com"}, "groupIds": [news]}
    ]}))).await);
    let ann = made["results"][0]["id"].as_i64().unwrap();
    let bob = made["results"][1]["id"].as_i64().unwrap();
    let path = |channel: &str| format!("/api/v1/contacts/{ann}/optOuts/{channel}");

    let opted = api(
        &app,
        k,
        PUT,
        &path("sms"),
        Some(json!({"reason": "unsubscribed"})),
    )
    .await;
    assert_eq!(opted.status, StatusCode::OK, "{}", opted.body);
    let sms = &body(&opted)["optOuts"]["sms"];
    assert_eq!(
        (sms["reason"].as_str(), sms["source"].as_str()),
        (Some("unsubscribed"), Some("api"))
    );
    assert!(sms["by"].as_str().unwrap().starts_with("API key"), "{sms}");
    assert_eq!(body(&opted)["optOuts"].as_object().unwrap().len(), 1);
    // Out of SMS, still reachable by email and WhatsApp; Bob everywhere.
    assert_eq!(recipients(&app, &key, news, "sms").await, [bob]);
    assert_eq!(recipients(&app, &key, news, "email").await, [ann, bob]);
    assert_eq!(recipients(&app, &key, news, "whatsapp").await, [ann, bob]);
    // The list filters by it, as the table does.
    let list = |filter: &'static str| {
        let app = app.clone();
        let key = key.clone();
        async move {
            let path = format!("/api/v1/contacts?optedOut={filter}");
            api(&app, Some(&key), GET, &path, None).await
        }
    };
    let opted_out = body(&list("sms").await)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(opted_out, [ann]);
    assert_eq!(body(&list("email").await)["items"], json!([]));
    assert_eq!(list("fax").await.status, StatusCode::BAD_REQUEST);

    // No address on the channel, an unknown channel, an unknown reason.
    let no_line = api(&app, k, PUT, &path("line"), Some(json!({}))).await;
    assert_eq!(
        (no_line.status, body(&no_line)["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
    );
    assert_eq!(
        api(&app, k, PUT, &path("fax"), Some(json!({})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad_reason = api(
        &app,
        k,
        PUT,
        &path("email"),
        Some(json!({"reason": "bored"})),
    )
    .await;
    assert_eq!(bad_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(recipients(&app, &key, news, "email").await, [ann, bob]);

    // A viewer reads but may not change; back in.
    let viewer = api_key(&app, &admin, "viewer").await;
    assert_eq!(
        api(&app, Some(&viewer), DELETE, &path("sms"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let back = api(&app, k, DELETE, &path("sms"), None).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(body(&back)["optOuts"], json!({}));
    assert_eq!(recipients(&app, &key, news, "sms").await, [ann, bob]);

    // The opt-out belongs to the number: a new number is reachable, the old one is not.
    api(&app, k, PUT, &path("sms"), Some(json!({}))).await;
    let moved = api(
        &app,
        k,
        PATCH,
        &format!("/api/v1/contacts/{ann}"),
        Some(json!({"addresses": {"msisdn": "+6581000009"}})),
    )
    .await;
    assert_eq!(
        body(&moved)["optOuts"]["sms"],
        Value::Null,
        "{}",
        moved.body
    );
    assert_eq!(recipients(&app, &key, news, "sms").await, [ann, bob]);
}

async fn inbound_keywords_opt_senders_out_and_back_in(db: Db) {
    let app = app(db.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let ann = body(
        &api(
            &app,
            k,
            POST,
            "/api/v1/contacts",
            Some(json!({"firstName": "Ann", "addresses": {"msisdn": "+6581000001"}})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    let inbound = |channel: &str, from: &str, text: &str| {
        let (app, key) = (app.clone(), key.clone());
        let message = json!({"channel": channel, "from": from, "text": text, "receivedAt": "2026-12-04T10:00:00Z"});
        async move { api(&app, Some(&key), POST, "/api/v1/inbound", Some(message)).await }
    };
    // National, with the workspace's country; the first word, any case.
    let stop = inbound("sms", "8100 0001", "  Stop please").await;
    assert_eq!(stop.status, StatusCode::OK, "{}", stop.body);
    assert_eq!(
        body(&stop),
        json!({"action": "optedOut", "address": "+6581000001", "contactIds": [ann]})
    );
    let contact = body(&api(&app, k, GET, &format!("/api/v1/contacts/{ann}"), None).await);
    assert_eq!(contact["optOuts"]["sms"]["reason"], "keyword");
    assert_eq!(contact["optOuts"]["sms"]["source"], "keyword");
    assert_eq!(
        body(&inbound("sms", "+6581000001", "STOP").await)["action"],
        "ignored"
    );
    assert_eq!(
        body(&inbound("sms", "+6581000001", "thanks").await)["action"],
        "ignored"
    );
    assert_eq!(
        body(&inbound("sms", "+6581000001", "unstop").await)["action"],
        "optedIn"
    );
    let contact = body(&api(&app, k, GET, &format!("/api/v1/contacts/{ann}"), None).await);
    assert_eq!(contact["optOuts"], json!({}));

    // An unknown sender is kept opted out for the contact that later gets the number.
    let stranger = inbound("sms", "+6581000077", "CANCEL").await;
    assert_eq!(
        body(&stranger),
        json!({"action": "optedOut", "address": "+6581000077", "contactIds": []})
    );
    let later = body(
        &api(
            &app,
            k,
            POST,
            "/api/v1/contacts",
            Some(json!({"addresses": {"msisdn": "8100 0077"}})),
        )
        .await,
    );
    assert_eq!(later["optOuts"]["sms"]["reason"], "keyword", "{later}");

    // A WhatsApp number is the mobile number unless another is given; either is found.
    let create = |first: &str, addresses: Value| {
        let (app, key) = (app.clone(), key.clone());
        let contact = json!({"firstName": first, "addresses": addresses});
        async move {
            let made = api(&app, Some(&key), POST, "/api/v1/contacts", Some(contact)).await;
            body(&made)["id"].as_i64().unwrap()
        }
    };
    let wes = create("Wes", json!({"msisdn": "+6581000050"})).await;
    let val = create(
        "Val",
        json!({"msisdn": "+6581000051", "whatsapp": "+6581000052"}),
    )
    .await;
    let whatsapp_stop = |from: &'static str| {
        let inbound = &inbound;
        async move { body(&inbound("whatsapp", from, "STOP").await)["contactIds"].clone() }
    };
    assert_eq!(whatsapp_stop("+6581000050").await, json!([wes]));
    assert_eq!(whatsapp_stop("+6581000052").await, json!([val]));
    assert_eq!(whatsapp_stop("+6581000051").await, json!([]));

    // Bad input changes nothing.
    let before = count(&db, "SELECT count(*) FROM opt_outs", &[]).await;
    let fax = inbound("fax", "+6581000001", "STOP").await;
    assert_eq!(
        (fax.status, body(&fax)["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
    );
    let nobody = inbound("sms", " ", "STOP").await;
    assert_eq!(
        (nobody.status, body(&nobody)["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("from"))
    );
    let not_a_number = inbound("sms", "call me", "STOP").await;
    assert_eq!(not_a_number.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = api(
        &app,
        k,
        POST,
        "/api/v1/inbound",
        Some(json!({"channel": "sms", "text": "STOP"})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(&db, "SELECT count(*) FROM opt_outs", &[]).await,
        before
    );
}

async fn history_records_each_change_with_its_source(db: Db) {
    let app = app(db.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    // Made in the app, changed through the API.
    let saved = call_json(
        &app,
        "save_contact",
        &contact_json("Ann", "8100 0001", ""),
        &admin,
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let ann: i64 = saved.body.parse().unwrap();
    let vips = create_group(&app, k, "VIPs").await;
    let contact = format!("/api/v1/contacts/{ann}");
    api(
        &app,
        k,
        PATCH,
        &contact,
        Some(json!({"lastName": "Tan", "customAttributes": {"Plan": "Gold"}})),
    )
    .await;
    api(
        &app,
        k,
        POST,
        &format!("/api/v1/groups/{vips}/contacts"),
        Some(json!({"contacts": [ann]})),
    )
    .await;
    api(
        &app,
        k,
        DELETE,
        &format!("/api/v1/groups/{vips}/contacts"),
        Some(json!({"contacts": [ann]})),
    )
    .await;
    api(
        &app,
        k,
        PUT,
        &format!("{contact}/optOuts/sms"),
        Some(json!({"reason": "complaint"})),
    )
    .await;

    let history = api(&app, k, GET, &format!("{contact}/history"), None).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let items = body(&history)["items"].as_array().unwrap().clone();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("opted_out", "api"),
            ("left", "api"),
            ("joined", "api"),
            ("updated", "api"),
            ("created", "ui")
        ],
        "newest first"
    );
    assert_eq!(items[4]["by"], "boss@acme.test");
    assert_eq!(
        items[3]["changes"],
        json!([
            {"field": "last_name", "before": "Lee", "after": "Tan"},
            {"field": "attributes.Plan", "before": null, "after": "Gold"}
        ])
    );
    assert_eq!(items[2]["group"], json!({"id": vips, "name": "VIPs"}));
    assert_eq!(
        (items[0]["channel"].as_str(), items[0]["reason"].as_str()),
        (Some("sms"), Some("complaint"))
    );

    // Paged by signed cursors; a tampered cursor is refused.
    let first = body(&api(&app, k, GET, &format!("{contact}/history?limit=2"), None).await);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = body(
        &api(
            &app,
            k,
            GET,
            &format!("{contact}/history?limit=2&cursor={cursor}"),
            None,
        )
        .await,
    );
    assert_eq!(second["items"][0]["kind"], "joined");
    let tampered = format!("{contact}/history?cursor=x{cursor}");
    assert_eq!(
        api(&app, k, GET, &tampered, None).await.status,
        StatusCode::BAD_REQUEST
    );

    // Deleting in the app is recorded, and the history outlives the contact.
    let deleted = call_json(
        &app,
        "delete_contacts",
        &format!(r#"{{"selection":{{"Ids":[{ann}]}}}}"#),
        &admin,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let after = body(&api(&app, k, GET, &format!("{contact}/history"), None).await);
    assert_eq!(
        (
            after["items"][0]["kind"].as_str(),
            after["items"][0]["source"].as_str()
        ),
        (Some("deleted"), Some("ui"))
    );
    // Another workspace's contact, or none, has no history to show.
    contacts::server::cli::create_workspace(&db, "Globex", "GB", "boss@globex.test")
        .await
        .unwrap();
    let theirs = contacts::server::cli::create_api_key(&db, "boss@globex.test", "editor", "Sync")
        .await
        .unwrap();
    assert_eq!(
        api(
            &app,
            Some(&theirs),
            GET,
            &format!("{contact}/history"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, k, GET, "/api/v1/contacts/424242/history", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
