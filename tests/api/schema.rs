//! The two schemas: `migrations/sqlite` (the embedded default) and
//! `migrations/postgres` (the same tables for PostgreSQL, keyed for distribution by
//! workspace). The PostgreSQL tests need a server: `make test` starts a throwaway one
//! (tools/postgres/with-cluster) and runs them; plain `cargo test` skips them.

use sqlx::{PgPool, SqlitePool};
use std::collections::{BTreeMap, BTreeSet};

/// A column as both schemas describe it: its name, its kind and whether it may be null.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    name: String,
    kind: &'static str,
    nullable: bool,
}

/// Tables whose rows are found before the workspace is known (by email, by cookie, by
/// API key): their keys need not start with the workspace (reference tables under
/// Citus).
const LOOKED_UP_WITHOUT_WORKSPACE: [&str; 7] = [
    "app_servers",
    "workspaces",
    "users",
    "sessions",
    "api_keys",
    "install_secrets",
    "sign_in_failures",
];

/// Tables of the install rather than of a workspace.
const INSTALL_WIDE: [&str; 4] = [
    "app_servers",
    "workspaces",
    "install_secrets",
    "sign_in_failures",
];

/// Every user table of the SQLite schema with its columns.
async fn sqlite_tables(pool: &SqlitePool) -> BTreeMap<String, BTreeSet<Column>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let rows: Vec<(String, String, bool, String)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", coalesce((SELECT sql FROM sqlite_schema
                 WHERE name = ?1), '') FROM pragma_table_info(?1)",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let columns = rows
            .into_iter()
            .map(|(name, declared, not_null, sql)| {
                // Flags are 0/1 integers with a CHECK on SQLite, booleans on PostgreSQL.
                let flag = sql.contains(&format!("{name} IN (0, 1)"));
                let kind = match declared.as_str() {
                    "INTEGER" if flag => "boolean",
                    "INTEGER" => "integer",
                    "TEXT" => "text",
                    "BLOB" => "bytes",
                    other => panic!("{table}.{name}: unexpected type {other}"),
                };
                // SQLite lets an INTEGER PRIMARY KEY be declared without NOT NULL.
                let primary_id = name == "id" && kind == "integer";
                let nullable = !(not_null || primary_id);
                Column {
                    name,
                    kind,
                    nullable,
                }
            })
            .collect();
        out.insert(table, columns);
    }
    out
}

/// Every table of the PostgreSQL schema with its columns.
async fn postgres_tables(pool: &PgPool) -> BTreeMap<String, BTreeSet<Column>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::TEXT, column_name::TEXT, data_type::TEXT, is_nullable::TEXT
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out: BTreeMap<String, BTreeSet<Column>> = BTreeMap::new();
    for (table, name, data_type, nullable) in rows {
        let kind = match data_type.as_str() {
            "bigint" => "integer",
            "boolean" => "boolean",
            "text" => "text",
            "bytea" => "bytes",
            other => panic!("{table}.{name}: unexpected type {other}"),
        };
        out.entry(table).or_default().insert(Column {
            name,
            kind,
            nullable: nullable == "YES",
        });
    }
    out
}

/// A fresh PostgreSQL database on the test server, dropped by the caller's cluster.
async fn postgres_database(name: &str) -> PgPool {
    let url = std::env::var("CONTACTS_TEST_POSTGRES_URL")
        .expect("CONTACTS_TEST_POSTGRES_URL: run through tools/postgres/with-cluster (make test)");
    let admin = PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", url.rsplit_once('/').unwrap().0);
    PgPool::connect(&url).await.unwrap()
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test starts one"]
async fn postgres_has_every_table_and_column_of_sqlite() {
    let sqlite = SqlitePool::connect("sqlite::memory:").await.unwrap();
    contacts::db::MIGRATOR.run(&sqlite).await.unwrap();
    let postgres = postgres_database("contacts_schema_parity").await;
    contacts::db::POSTGRES_MIGRATOR
        .run(&postgres)
        .await
        .unwrap();

    let lite = sqlite_tables(&sqlite).await;
    let pg = postgres_tables(&postgres).await;
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &lite {
        let mut theirs = pg[table].clone();
        // PostgreSQL carries the workspace in every table, to distribute by it.
        if !INSTALL_WIDE.contains(&table.as_str())
            && !columns.iter().any(|c| c.name == "workspace_id")
        {
            let added = theirs.iter().find(|c| c.name == "workspace_id").cloned();
            assert!(
                added.is_some_and(|c| !c.nullable),
                "{table} has workspace_id"
            );
            theirs.retain(|c| c.name != "workspace_id");
        }
        assert_eq!(columns, &theirs, "the columns of {table}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test starts one"]
async fn postgres_keys_start_with_the_workspace() {
    let postgres = postgres_database("contacts_schema_keys").await;
    contacts::db::POSTGRES_MIGRATOR
        .run(&postgres)
        .await
        .unwrap();
    // Each key (primary, unique, foreign) with its columns in order.
    let keys: Vec<(String, String, String, Vec<String>)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::TEXT, c.conname::TEXT, c.contype::TEXT,
                array_agg(a.attname::TEXT ORDER BY k.ord)
         FROM pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.contype IN ('p', 'u', 'f') AND c.connamespace = current_schema()::regnamespace
           AND c.conrelid::regclass::TEXT NOT LIKE '_sqlx%'
         GROUP BY 1, 2, 3",
    )
    .fetch_all(&postgres)
    .await
    .unwrap();
    let mut checked = 0;
    for (table, name, kind, columns) in keys {
        if LOOKED_UP_WITHOUT_WORKSPACE.contains(&table.as_str()) && kind != "f" {
            continue;
        }
        assert_eq!(
            columns.first().map(String::as_str),
            Some("workspace_id"),
            "{table}: key {name} ({kind}) starts with the workspace: {columns:?}"
        );
        checked += 1;
    }
    assert!(checked > 10, "found the keys ({checked})");
}

/// `migrator` with only its migrations up to `version`: a database as an older release
/// left it.
fn up_to(migrator: &sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
    let mut older = sqlx::migrate::Migrator {
        migrations: migrator.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    older.migrations = older
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect();
    older
}

/// What an import met, read back: its created runs and its matched contacts.
type Notes = (Vec<(i64, i64, i64, Vec<u8>)>, Vec<(i64, i64, i64, i64)>);

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test starts one"]
async fn postgres_upgrade_turns_created_notes_into_runs() {
    let postgres = postgres_database("contacts_schema_created_runs").await;
    up_to(&contacts::db::POSTGRES_MIGRATOR, 12)
        .run(&postgres)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO workspaces (id, name, default_country) VALUES (1, 'W', 'SG')",
        "INSERT INTO imports (workspace_id, id, file_name, file_size, options, status)
         VALUES (1, 5, 'a.csv', 1, '{}', 'completed')",
        // Created 100 (line 2), 101 (line 300), 103 (line 70000); matched 7 (line 4).
        "INSERT INTO import_matched (workspace_id, import_id, contact_id, line, created) VALUES
         (1, 5, 100, 2, TRUE), (1, 5, 101, 300, TRUE), (1, 5, 103, 70000, TRUE),
         (1, 5, 7, 4, FALSE)",
    ] {
        sqlx::query(sql).execute(&postgres).await.unwrap();
    }
    contacts::db::POSTGRES_MIGRATOR
        .run(&postgres)
        .await
        .unwrap();
    let notes: Notes = (
        sqlx::query_as(
            "SELECT workspace_id, import_id, first_id, lines FROM import_created ORDER BY first_id",
        )
        .fetch_all(&postgres)
        .await
        .unwrap(),
        sqlx::query_as("SELECT workspace_id, import_id, contact_id, line FROM import_matched")
            .fetch_all(&postgres)
            .await
            .unwrap(),
    );
    assert_eq!(
        notes,
        (
            vec![
                (1, 5, 100, vec![2, 0, 0, 0, 44, 1, 0, 0]),
                (1, 5, 103, vec![0x70, 0x11, 1, 0]),
            ],
            vec![(1, 5, 7, 4)]
        )
    );
}

#[tokio::test]
async fn sqlite_upgrade_gives_import_notes_their_workspace() {
    let sqlite = SqlitePool::connect("sqlite::memory:").await.unwrap();
    up_to(&contacts::db::MIGRATOR, 21)
        .run(&sqlite)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO workspaces (id, name, default_country) VALUES (3, 'W', 'SG')",
        "INSERT INTO imports (workspace_id, id, file_name, file_size, options, status)
         VALUES (3, 5, 'a.csv', 1, '{}', 'completed')",
        "INSERT INTO import_created (import_id, first_id, lines) VALUES (5, 100, x'02000000')",
        "INSERT INTO import_matched (import_id, contact_id, line) VALUES (5, 7, 4)",
    ] {
        sqlx::query(sql).execute(&sqlite).await.unwrap();
    }
    contacts::db::MIGRATOR.run(&sqlite).await.unwrap();
    let notes: Notes = (
        sqlx::query_as("SELECT workspace_id, import_id, first_id, lines FROM import_created")
            .fetch_all(&sqlite)
            .await
            .unwrap(),
        sqlx::query_as("SELECT workspace_id, import_id, contact_id, line FROM import_matched")
            .fetch_all(&sqlite)
            .await
            .unwrap(),
    );
    assert_eq!(
        notes,
        (vec![(3, 5, 100, vec![2, 0, 0, 0])], vec![(3, 5, 7, 4)])
    );
}
