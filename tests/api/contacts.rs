//! Contacts through the real router: the dialog's save, roles, and the CSV export.

use crate::common::{add_user, app, call_json, send, set_up};
use axum::body::Body;
use contacts::db::Db;
use http::{Request, StatusCode, header};

contacts::db_tests!(
    saving_normalises_the_number_and_reports_bad_fields,
    viewers_read_but_cannot_write,
    export_is_a_formula_safe_utf8_csv,
    groups_are_changed_by_editors_only_and_report_counts
);

pub(crate) fn contact_json(first: &str, mobile: &str, extra: &str) -> String {
    format!(
        r#"{{"id":null,"input":{{"first_name":"{first}","last_name":"Lee","mobile":"{mobile}","country":"SG",
        "email":"","external_id":"","whatsapp":"","viber":"","line_id":"","wechat_id":"","messenger_id":"",
        "attributes":[{extra}]}},"group_ids":[],"new_groups":[]}}"#
    )
}

async fn saving_normalises_the_number_and_reports_bad_fields(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let created = call_json(
        &app,
        "save_contact",
        &contact_json("Ann", "8123 4567", r#"{"key":"Plan","value":"Gold"}"#),
        &admin,
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id: i64 = created.body.parse().unwrap();

    let detail = call_json(&app, "get_contact", &format!(r#"{{"id":{id}}}"#), &admin).await;
    assert!(
        detail.body.contains(r#""mobile":"+65 8123 4567""#),
        "{}",
        detail.body
    );
    assert!(
        detail.body.contains(r#""whatsapp":"+65 8123 4567""#),
        "WhatsApp defaults to the mobile: {}",
        detail.body
    );
    assert!(
        detail.body.contains(r#""key":"Plan","value":"Gold""#),
        "{}",
        detail.body
    );

    let duplicate = call_json(
        &app,
        "save_contact",
        &contact_json("Bob", "+65 8123-4567", ""),
        &admin,
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(
        duplicate.body.contains("already belongs to Ann Lee"),
        "{}",
        duplicate.body
    );

    let damaged = call_json(
        &app,
        "save_contact",
        &contact_json("Cat", "6.58123E+09", ""),
        &admin,
    )
    .await;
    assert!(
        damaged.body.contains("scientific notation"),
        "{}",
        damaged.body
    );

    let html = call_json(
        &app,
        "save_contact",
        &contact_json("<script>alert(1)</script>", "9123 4567", ""),
        &admin,
    )
    .await;
    assert_eq!(
        html.status,
        StatusCode::OK,
        "markup is just text: {}",
        html.body
    );
}

async fn viewers_read_but_cannot_write(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    call_json(
        &app,
        "save_contact",
        &contact_json("Ann", "8123 4567", ""),
        &admin,
    )
    .await;
    let viewer = add_user(&app, &admin, "vi@acme.test", "viewer").await;
    let list = call_json(
        &app,
        "list_contacts",
        r#"{"filter":{"search":"","sort":"Newest"},"page":"First","size":50}"#,
        &viewer,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Ann"));
    let write = call_json(
        &app,
        "save_contact",
        &contact_json("Eve", "9123 4567", ""),
        &viewer,
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    let delete = call_json(
        &app,
        "delete_contacts",
        r#"{"selection":{"AllMatching":{"search":"","sort":"Newest"}}}"#,
        &viewer,
    )
    .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let count = call_json(
        &app,
        "count_contacts",
        r#"{"filter":{"search":"","sort":"Newest"},"exact":false}"#,
        &viewer,
    )
    .await;
    assert_eq!(count.body, r#"{"count":1,"more":false}"#);
}

async fn export_is_a_formula_safe_utf8_csv(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    call_json(
        &app,
        "save_contact",
        &contact_json(
            "=HYPERLINK(1)",
            "8123 4567",
            r#"{"key":"Städte","value":"Zürich"}"#,
        ),
        &admin,
    )
    .await;
    let bob = call_json(
        &app,
        "save_contact",
        &contact_json("Bob", "9123 4567", ""),
        &admin,
    )
    .await;
    let bob: i64 = serde_json::from_str(&bob.body).expect("the new contact's id");
    let opted = call_json(
        &app,
        "set_opt_out",
        &format!(r#"{{"id":{bob},"channel":"sms","reason":"manual"}}"#),
        &admin,
    )
    .await;
    assert_eq!(opted.status, StatusCode::OK, "{}", opted.body);
    let form = "selection=%7B%22AllMatching%22%3A%7B%22search%22%3A%22%22%2C%22sort%22%3A%22Newest%22%7D%7D";
    let request = Request::post("/contacts/export.csv")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &admin)
        .body(Body::from(form))
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(reply.body.starts_with('\u{feff}'), "UTF-8 BOM");
    let lines: Vec<&str> = reply.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("id,first_name,last_name,mobile,country,email"));
    assert!(lines[1].contains("'=HYPERLINK(1)"), "{}", lines[1]);
    assert!(lines[1].contains("'+6581234567"), "{}", lines[1]);
    assert!(lines[1].contains("Zürich"), "{}", lines[1]);
    // The channels each contact is opted out of.
    assert!(lines[0].contains(",attributes,opted_out,created,updated"));
    assert!(lines[2].contains(",[],sms,"), "{}", lines[2]);

    let anonymous = Request::post("/contacts/export.csv")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    assert_eq!(send(&app, anonymous).await.status, StatusCode::UNAUTHORIZED);
}

async fn groups_are_changed_by_editors_only_and_report_counts(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    call_json(
        &app,
        "save_contact",
        &contact_json("Ann", "8123 4567", ""),
        &admin,
    )
    .await;
    call_json(
        &app,
        "save_contact",
        &contact_json("Bob", "9123 4567", ""),
        &admin,
    )
    .await;
    let all = r#"{"AllMatching":{"search":"","sort":"Newest"}}"#;
    let added = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[],"new_groups":["Unsubscribed"],"selection":{all}}}"#),
        &admin,
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(
        added.body.contains(r#""changed":2"#) && added.body.contains(r#""unchanged":0"#),
        "{}",
        added.body
    );
    let again = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[],"new_groups":["unsubscribed"],"selection":{all}}}"#),
        &admin,
    )
    .await;
    assert!(
        again.body.contains(r#""changed":0"#) && again.body.contains(r#""unchanged":2"#),
        "{}",
        again.body
    );

    let viewer = add_user(&app, &admin, "vi@acme.test", "viewer").await;
    let groups = call_json(&app, "list_groups", r#"{"search":""}"#, &viewer).await;
    assert!(
        groups.body.contains(r#""member_count":2"#),
        "{}",
        groups.body
    );
    let create = call_json(
        &app,
        "save_group",
        r#"{"id":null,"input":{"name":"X","description":"","blacklisted":false}}"#,
        &viewer,
    )
    .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let blank = call_json(
        &app,
        "save_group",
        r#"{"id":null,"input":{"name":"   ","description":"","blacklisted":false}}"#,
        &admin,
    )
    .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.body.contains("Enter a name for the group."),
        "{}",
        blank.body
    );
}
