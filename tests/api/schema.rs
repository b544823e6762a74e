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
