//! Sign-up, sign-in, sessions and roles, through the real router and server functions.

use crate::common::{add_user, app, call, get, set_up};
use contacts::db;
use contacts::db::{Db, Dialect};
use contacts::model::Role;
use contacts::server::password::hash_password;
use contacts::server::throttle::FREE_PER_ADDRESS;
use http::StatusCode;

contacts::db_tests!(
    a_fresh_install_leads_to_set_up_and_closes_sign_up_after,
    the_set_up_form_reports_bad_fields,
    sign_in_does_not_reveal_who_has_an_account,
    repeated_failures_are_slowed_down,
    signing_in_to_ones_own_account_forgives_only_that_attempt,
    signing_out_ends_the_session,
    users_of_one_workspace_never_see_another,
    only_admins_manage_users,
    server_errors_do_not_leak_their_cause
);

async fn a_fresh_install_leads_to_set_up_and_closes_sign_up_after(db: Db) {
    let app = app(db);
    let reply = get(&app, "/contacts", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers["location"], "/setup");

    let cookie = set_up(&app, "Boss@Acme.test").await;
    let me = call(&app, "current_user", &[], Some(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.body.contains("\"email\":\"boss@acme.test\""),
        "{}",
        me.body
    );
    assert!(me.body.contains("\"role\":\"admin\""), "{}", me.body);

    let again = call(
        &app,
        "create_workspace",
        &[
            ("workspace_name", "Other"),
            ("default_country", "GB"),
            ("email", "intruder@evil.test"),
            ("password", "correct horse battery"),
        ],
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        get(&app, "/setup", None).await.headers["location"],
        "/login"
    );
}

async fn the_set_up_form_reports_bad_fields(db: Db) {
    let app = app(db);
    let reply = call(
        &app,
        "create_workspace",
        &[
            ("workspace_name", ""),
            ("default_country", "ZZ"),
            ("email", "nope"),
            ("password", "short"),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["workspace_name", "default_country", "email", "password"] {
        assert!(
            reply.body.contains(&format!("\"field\":\"{field}\"")),
            "{}",
            reply.body
        );
    }
}

async fn sign_in_does_not_reveal_who_has_an_account(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    let wrong_password = call(
        &app,
        "sign_in",
        &[
            ("email", "boss@acme.test"),
            ("password", "not the password"),
        ],
        None,
    )
    .await;
    let unknown_email = call(
        &app,
        "sign_in",
        &[
            ("email", "nobody@acme.test"),
            ("password", "not the password"),
        ],
        None,
    )
    .await;
    assert_eq!(wrong_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert!(wrong_password.body.contains("Wrong email or password."));
    assert!(wrong_password.session_cookie().is_none());

    let ok = call(
        &app,
        "sign_in",
        &[
            ("email", " BOSS@acme.test"),
            ("password", "correct horse battery"),
        ],
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let cookie_header = ok.headers["set-cookie"].to_str().unwrap();
    assert!(cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"));
}

async fn repeated_failures_are_slowed_down(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    let mut last = None;
    for _ in 0..FREE_PER_ADDRESS + 2 {
        last = Some(
            call(
                &app,
                "sign_in",
                &[
                    ("email", "boss@acme.test"),
                    ("password", "guess guess guess"),
                ],
                None,
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.body.contains("Try again in"), "{}", last.body);
    let even_right = call(
        &app,
        "sign_in",
        &[
            ("email", "boss@acme.test"),
            ("password", "correct horse battery"),
        ],
        None,
    )
    .await;
    assert_eq!(even_right.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn signing_in_to_ones_own_account_forgives_only_that_attempt(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    let attempt = |email: &'static str, password: &'static str| {
        let app = app.clone();
        async move {
            let form = [("email", email), ("password", password)];
            call(&app, "sign_in", &form, None).await.status
        }
    };
    // Guesses at someone else's account from this address, one short of the limit…
    for _ in 0..FREE_PER_ADDRESS - 1 {
        let status = attempt("victim@acme.test", "guess guess guess").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // …then a sign-in to an account the guesser owns: it must not wipe the four out.
    assert_eq!(
        attempt("boss@acme.test", "correct horse battery").await,
        StatusCode::OK
    );
    assert_eq!(
        attempt("victim@acme.test", "guess guess guess").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the last free failure is still free"
    );
    assert_eq!(
        attempt("victim@acme.test", "guess guess guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a successful sign-in elsewhere forgave only its own attempt"
    );
}

async fn signing_out_ends_the_session(db: Db) {
    let app = app(db);
    let cookie = set_up(&app, "boss@acme.test").await;
    assert_eq!(
        get(&app, "/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
    let out = call(&app, "sign_out", &[], Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        get(&app, "/contacts", Some(&cookie)).await.headers["location"],
        "/login"
    );
    assert_eq!(
        call(&app, "current_user", &[], Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn users_of_one_workspace_never_see_another(db: Db) {
    let app = app(db.clone());
    let admin_a = set_up(&app, "boss@a.test").await;
    // A second workspace, made by an operator (sign-up is closed).
    let b = db::workspaces::create(&db, "B", "GB").await.unwrap();
    let hash = hash_password("correct horse battery".into()).await.unwrap();
    db::users::create(
        &db,
        b,
        "boss@b.test",
        &hash,
        Role::Admin,
        db::users::PasswordOwner::User,
    )
    .await
    .unwrap();
    let signed_in = call(
        &app,
        "sign_in",
        &[
            ("email", "boss@b.test"),
            ("password", "correct horse battery"),
        ],
        None,
    )
    .await;
    let admin_b = signed_in.session_cookie().unwrap();

    let added = call(
        &app,
        "add_user",
        &[
            ("email", "ed@a.test"),
            ("password", "temporary pass 1"),
            ("role", "editor"),
        ],
        Some(&admin_a),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    let list_a = call(&app, "list_users", &[], Some(&admin_a)).await.body;
    let list_b = call(&app, "list_users", &[], Some(&admin_b)).await.body;
    assert!(list_a.contains("ed@a.test") && list_a.contains("boss@a.test"));
    assert!(!list_a.contains("@b.test"), "{list_a}");
    assert!(list_b.contains("boss@b.test"));
    assert!(!list_b.contains("@a.test"), "{list_b}");

    // An id from the other workspace is refused, whatever the browser sends.
    let a_users = db::users::list(&db, 1).await.unwrap();
    let ed = a_users.iter().find(|u| u.email == "ed@a.test").unwrap().id;
    let hijack = call(
        &app,
        "change_role",
        &[("user_id", &ed.to_string()), ("role", "admin")],
        Some(&admin_b),
    )
    .await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND);
}

async fn only_admins_manage_users(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    for (email, role) in [("ed@acme.test", "editor"), ("vi@acme.test", "viewer")] {
        let cookie = add_user(&app, &admin, email, role).await;
        let listed = call(&app, "list_users", &[], Some(&cookie)).await;
        assert_eq!(listed.status, StatusCode::FORBIDDEN);
        assert!(listed.body.contains("Forbidden"), "{}", listed.body);
        let promote = call(
            &app,
            "add_user",
            &[
                ("email", "x@acme.test"),
                ("password", "temporary pass 1"),
                ("role", "admin"),
            ],
            Some(&cookie),
        )
        .await;
        assert_eq!(promote.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        call(&app, "list_users", &[], None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn server_errors_do_not_leak_their_cause(db: Db) {
    let app = app(db.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    // PostgreSQL refuses to drop a table others refer to without CASCADE; SQLite has none.
    let drop = match db.dialect() {
        Dialect::Sqlite => "DROP TABLE users",
        Dialect::Postgres => "DROP TABLE users CASCADE",
    };
    contacts::on!(&db, pool => {
        sqlx::query(drop).execute(pool).await.expect("drop users");
    });
    // The session lookup joins users, so the middleware reports the database as unavailable.
    let reply = call(&app, "list_users", &[], Some(&admin)).await;
    assert!(reply.status.is_server_error());
    assert!(!reply.body.contains("users"), "{}", reply.body);
    assert!(!reply.body.contains("no such table"), "{}", reply.body);
}
