//! Undoing an upload, as a property: random contacts, a random upload over them
//! (creating some, updating others, adding all to a group), random edits after it, then
//! the undo → every contact and membership is as before the upload, except what was
//! edited after it, which is kept and counted; the counts add up.

use crate::common::{api, api_key, api_raw, app_with_uploads, body, create_group, set_up};
use crate::imports::BOUNDARY;
use crate::v1::upload_body;
use contacts::db::Db;
use contacts::server::importer::run_queued;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

contacts::db_tests!(
    an_undone_upload_leaves_everything_as_before_but_later_edits,
    an_upload_after_the_newest_contact_was_deleted_knows_what_it_created,
    a_stopping_server_hands_its_undo_back_and_the_next_one_finishes_it,
);

/// A small deterministic generator: each seed is one case, the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A batch as the API shows it.
async fn batch_of(app: &axum::Router, key: Option<&str>, batch: i64) -> Value {
    body(
        &api(
            app,
            key,
            Method::GET,
            &format!("/api/v1/batches/{batch}"),
            None,
        )
        .await,
    )
}

/// A contact as the API shows it, without what an undo may rightly change (the time of
/// the last change).
async fn state_of(app: &axum::Router, key: &str, id: i64) -> Option<Value> {
    let reply = api(
        app,
        Some(key),
        Method::GET,
        &format!("/api/v1/contacts/{id}"),
        None,
    )
    .await;
    if reply.status == StatusCode::NOT_FOUND {
        return None;
    }
    let mut contact = body(&reply);
    contact.as_object_mut().unwrap().remove("updatedAt");
    Some(contact)
}

async fn an_undone_upload_leaves_everything_as_before_but_later_edits(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    for seed in [7_u64, 1_234, 99] {
        // A key per case: each makes about 150 requests, more than a key's burst.
        let key = api_key(&app, &admin, "editor").await;
        let k = Some(key.as_str());
        let mut rng = Rng(seed);
        let tag = format!("s{seed}");
        let club = create_group(&app, k, &format!("Club {tag}")).await;
        // Existing contacts: some with an email, a custom field, in a group.
        let number = |i: u64| format!("+658{}{i:06}", seed % 8 + 1);
        let existing: Vec<Value> = (0..20)
            .map(|i| {
                let mut c =
                    json!({"firstName": format!("Old{i}"), "addresses": {"msisdn": number(i)}});
                if rng.chance(50) {
                    c["addresses"]["email"] = json!(format!("old{i}@{tag}.example"));
                }
                if rng.chance(50) {
                    c["customAttributes"] = json!({"Plan": "Silver"});
                }
                if rng.chance(50) {
                    c["groupIds"] = json!([club]);
                }
                c
            })
            .collect();
        let made = body(
            &api(
                &app,
                k,
                Method::POST,
                "/api/v1/contacts/batches/upsertContacts",
                Some(json!({"contacts": existing})),
            )
            .await,
        );
        let existing_ids: Vec<i64> = made["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        // Some were opted out of SMS before: the upload's "yes" leaves theirs as it is.
        for id in &existing_ids {
            if rng.chance(20) {
                let path = format!("/api/v1/contacts/{id}/optOuts/sms");
                let opted = api(
                    &app,
                    k,
                    Method::PUT,
                    &path,
                    Some(json!({"reason": "complaint"})),
                )
                .await;
                assert_eq!(opted.status, StatusCode::OK, "{}", opted.body);
            }
        }
        let mut before = BTreeMap::new();
        for id in &existing_ids {
            before.insert(*id, state_of(&app, &key, *id).await.unwrap());
        }

        // The upload: new first names, emails and plans for some, new people too.
        let mut file = String::from("Phone,First,Email,Plan,Stop\n");
        // The rows that say their number is opted out of SMS.
        let mut stopped = BTreeSet::new();
        let mut says_stop = |rng: &mut Rng, n: String| {
            if rng.chance(30) {
                stopped.insert(n);
                "yes"
            } else {
                ""
            }
        };
        // The contacts whose email the upload changed.
        let mut emailed = BTreeSet::new();
        for i in 0..20 {
            if rng.chance(60) {
                let email = if rng.chance(50) {
                    emailed.insert(existing_ids[i as usize]);
                    format!("new{i}@{tag}.example")
                } else {
                    String::new()
                };
                let plan = if rng.chance(50) { "Gold" } else { "" };
                let stop = says_stop(&mut rng, number(i));
                file.push_str(&format!("{},New{i},{email},{plan},{stop}\n", number(i)));
            }
        }
        for i in 100..100 + 5 + rng.next() % 10 {
            let stop = says_stop(&mut rng, number(i));
            file.push_str(&format!("{},Fresh{i},,,{stop}\n", number(i)));
        }
        let options = json!({"mobileColumn": "Phone", "columns": {"First": "firstName", "Email": "email",
            "Plan": "customAttributes.Plan", "Stop": "optedOut.sms"}, "groupName": format!("Fair {tag}"), "updateExisting": true});
        let queued = api_raw(
            &app,
            k,
            Method::POST,
            "/api/v1/contacts/batches/createContacts",
            Some((
                &multipart,
                upload_body(Some(options), "fair.csv", file.as_bytes()),
            )),
            &[],
        )
        .await;
        assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
        let batch = body(&queued)["id"].as_i64().unwrap();
        run_queued(&state).await.unwrap();
        let done = batch_of(&app, k, batch).await;
        assert_eq!(done["status"], "completed", "{done}");
        // Each number a row said "yes" for is opted out of SMS now.
        let opted = body(
            &api(
                &app,
                k,
                Method::GET,
                "/api/v1/contacts?optedOut=sms&limit=500",
                None,
            )
            .await,
        );
        let opted: BTreeSet<String> = opted["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["addresses"]["msisdn"].as_str().unwrap().to_string())
            .collect();
        assert!(
            stopped.is_subset(&opted),
            "seed {seed}: {stopped:?} ⊄ {opted:?}"
        );
        assert!(!stopped.is_empty(), "seed {seed}: a case with opt-outs");
        let created: Vec<i64> = {
            let list = body(
                &api(
                    &app,
                    k,
                    Method::GET,
                    "/api/v1/contacts?query=Fresh&limit=500",
                    None,
                )
                .await,
            );
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| {
                    c["groups"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|g| g["name"] == format!("Fair {tag}"))
                })
                .map(|c| c["id"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(created.len() as i64, done["created"].as_i64().unwrap());
        // The upload's changes are in the history, with the upload as their source.
        let changed: BTreeSet<i64> = {
            let mut changed = BTreeSet::new();
            for id in &existing_ids {
                if state_of(&app, &key, *id).await.unwrap()["firstName"]
                    .as_str()
                    .unwrap()
                    .starts_with("New")
                {
                    let history = body(
                        &api(
                            &app,
                            k,
                            Method::GET,
                            &format!("/api/v1/contacts/{id}/history"),
                            None,
                        )
                        .await,
                    );
                    let entry = history["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|e| e["kind"] == "updated")
                        .unwrap()
                        .clone();
                    assert_eq!(
                        (entry["source"].as_str(), entry["batchId"].as_i64()),
                        (Some("import"), Some(batch)),
                        "{entry}"
                    );
                    changed.insert(*id);
                }
            }
            changed
        };

        // Edits after the upload: an email the upload changed, a last name or an opt-out
        // of a contact it created.
        let mut edited_existing = BTreeMap::new();
        for id in changed.intersection(&emailed) {
            if rng.chance(50) {
                let email = format!("later{id}@{tag}.example");
                api(
                    &app,
                    k,
                    Method::PATCH,
                    &format!("/api/v1/contacts/{id}"),
                    Some(json!({"addresses": {"email": email}})),
                )
                .await;
                edited_existing.insert(*id, email);
            }
        }
        let mut edited_created = BTreeSet::new();
        for id in &created {
            match rng.next() % 4 {
                0 => {
                    api(
                        &app,
                        k,
                        Method::PATCH,
                        &format!("/api/v1/contacts/{id}"),
                        Some(json!({"lastName": "Kept"})),
                    )
                    .await;
                    edited_created.insert(*id);
                }
                1 => {
                    api(
                        &app,
                        k,
                        Method::PUT,
                        &format!("/api/v1/contacts/{id}/optOuts/sms"),
                        Some(json!({})),
                    )
                    .await;
                    edited_created.insert(*id);
                }
                _ => {}
            }
        }

        let undo = api(
            &app,
            k,
            Method::POST,
            &format!("/api/v1/batches/{batch}/undo"),
            None,
        )
        .await;
        assert_eq!(undo.status, StatusCode::ACCEPTED, "{}", undo.body);
        assert_eq!(body(&undo)["undo"]["status"], "queued");
        run_queued(&state).await.unwrap();
        let undone = batch_of(&app, k, batch).await["undo"].clone();
        assert_eq!(undone["status"], "completed", "{undone}");

        // Every existing contact is as before, but the email edited after the upload.
        for (id, was) in &before {
            let now = state_of(&app, &key, *id).await.unwrap();
            let mut expected = was.clone();
            if let Some(email) = edited_existing.get(id) {
                expected["addresses"]["email"] = json!(email);
            }
            assert_eq!(now, expected, "seed {seed}: contact {id}");
        }
        // Created contacts are gone unless edited since; those left the upload's group.
        for id in &created {
            let now = state_of(&app, &key, *id).await;
            assert_eq!(
                now.is_some(),
                edited_created.contains(id),
                "seed {seed}: contact {id}"
            );
            if let Some(now) = now {
                assert_eq!(now["groups"], json!([]), "seed {seed}: contact {id}");
            }
        }
        assert_eq!(
            (
                undone["removed"].as_i64().unwrap(),
                undone["kept"].as_i64().unwrap()
            ),
            (
                (created.len() - edited_created.len()) as i64,
                (edited_created.len() + edited_existing.len()) as i64
            ),
            "seed {seed}: {undone}"
        );
        // Every existing contact in the file changed (its fields and its groups): the
        // counts add up to what the upload did.
        assert_eq!(
            undone["restored"].as_i64().unwrap() + edited_existing.len() as i64,
            done["matched"].as_i64().unwrap(),
            "seed {seed}: {undone} {done}"
        );

        // Once only.
        let again = api(
            &app,
            k,
            Method::POST,
            &format!("/api/v1/batches/{batch}/undo"),
            None,
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(
            body(&again)["message"]
                .as_str()
                .unwrap()
                .contains("undone already")
        );
    }

    // A viewer may not; an unknown batch is a 404.
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let viewer = api_key(&app, &admin, "viewer").await;
    assert_eq!(
        api(
            &app,
            Some(&viewer),
            Method::POST,
            "/api/v1/batches/1/undo",
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api(&app, k, Method::POST, "/api/v1/batches/999999/undo", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // An upload older than the undo window is refused with the reason, nothing changed.
    let old = api_raw(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts/batches/createContacts",
        Some((
            &multipart,
            upload_body(None, "old.csv", b"Phone\n81999001\n"),
        )),
        &[],
    )
    .await;
    let old = body(&old)["id"].as_i64().unwrap();
    run_queued(&state).await.unwrap();
    contacts::on!(&db, pool => {
        sqlx::query("UPDATE imports SET finished_at = finished_at - 8 * 86400 WHERE id = $1")
            .bind(old)
            .execute(pool)
            .await
            .unwrap();
    });
    let late = api(
        &app,
        k,
        Method::POST,
        &format!("/api/v1/batches/{old}/undo"),
        None,
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(
        body(&late)["message"]
            .as_str()
            .unwrap()
            .contains("last 7 days"),
        "{}",
        late.body
    );
    assert_eq!(
        crate::common::count(
            &db,
            "SELECT count(*) FROM imports WHERE undo_status IS NOT NULL AND id = $1",
            &[old]
        )
        .await,
        0
    );
}

/// Ids are never reused: after the newest contact is deleted, new contacts' ids follow
/// the last id given, not the largest left, and the upload must know them.
async fn an_upload_after_the_newest_contact_was_deleted_knows_what_it_created(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    for n in ["+6581230001", "+6581230002"] {
        api(
            &app,
            k,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"addresses": {"msisdn": n}})),
        )
        .await;
    }
    let newest = body(&api(&app, k, Method::GET, "/api/v1/contacts?limit=1", None).await)["items"]
        [0]["id"]
        .as_i64()
        .unwrap();
    api(
        &app,
        k,
        Method::DELETE,
        &format!("/api/v1/contacts/{newest}"),
        None,
    )
    .await;
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let file = b"Phone\n81230001\n81230003\n81230004\n";
    let queued = api_raw(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts/batches/createContacts",
        Some((&multipart, upload_body(None, "more.csv", file))),
        &[],
    )
    .await;
    let batch = body(&queued)["id"].as_i64().unwrap();
    run_queued(&state).await.unwrap();
    api(
        &app,
        k,
        Method::POST,
        &format!("/api/v1/batches/{batch}/undo"),
        None,
    )
    .await;
    run_queued(&state).await.unwrap();
    let undo = batch_of(&app, k, batch).await["undo"].clone();
    assert_eq!(
        (undo["removed"].as_i64(), undo["kept"].as_i64()),
        (Some(2), Some(0)),
        "{undo}"
    );
    let left = body(&api(&app, k, Method::GET, "/api/v1/contacts", None).await)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(left, 1);
}

async fn a_stopping_server_hands_its_undo_back_and_the_next_one_finishes_it(db: Db) {
    use contacts::db::import::undo::{self as import_undo, Ran};
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let file = b"Phone\n81230001\n81230002\n81230003\n";
    let queued = api_raw(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts/batches/createContacts",
        Some((&multipart, upload_body(None, "people.csv", file))),
        &[],
    )
    .await;
    let batch = body(&queued)["id"].as_i64().unwrap();
    run_queued(&state).await.unwrap();
    let asked = api(
        &app,
        k,
        Method::POST,
        &format!("/api/v1/batches/{batch}/undo"),
        None,
    )
    .await;
    assert!(asked.status.is_success(), "{}", asked.body);

    // The server is stopping: after its first transaction, the undo goes back.
    let mut undo = import_undo::claim_next(&state.db).await.unwrap().unwrap();
    let ran = import_undo::run(&state.db, &mut undo, || true)
        .await
        .unwrap();
    assert_eq!(ran, Ran::HandedBack);
    assert_eq!(batch_of(&app, k, batch).await["undo"]["status"], "queued");
    // The next server takes it at once (no lease to wait for) and finishes it.
    let mut undo = import_undo::claim_next(&state.db)
        .await
        .unwrap()
        .expect("taken at once");
    let ran = import_undo::run(&state.db, &mut undo, || false)
        .await
        .unwrap();
    assert_eq!(ran, Ran::Done);
    let undone = batch_of(&app, k, batch).await["undo"].clone();
    assert_eq!(undone["status"], "completed", "{undone}");
    assert_eq!(undone["removed"], 3, "{undone}");
    let left = body(&api(&app, k, Method::GET, "/api/v1/contacts", None).await)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(left, 0);
}
