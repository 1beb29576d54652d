//! `cargo xtask migrate rehearse`: a blocking migration is flagged, its online form passes.

use quotedb_testkit::TestDb;
use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use xtask::rehearse::{Limits, Rehearsal, rehearse, split_statements};

#[test]
fn statements_split_on_semicolons_outside_quotes_comments_and_dollar_quotes() {
    let sql = "SET LOCAL lock_timeout = '5s';\n-- a comment; with a semicolon\n\
               CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n\
               /* block; comment */ INSERT INTO t VALUES ('a;b', $1);\nSELECT 2";
    let parts = split_statements(sql);
    assert_eq!(parts.len(), 4, "{parts:#?}");
    assert!(parts[1].contains("$$ SELECT 1; $$"));
    assert!(parts[2].contains("'a;b'"));
}

/// A migrator of every released migration plus one up/down pair under test.
fn with_pair(version: i64, up: &str, down: &str, no_tx: bool) -> (Migrator, Migration) {
    let make = |kind, sql: &str| {
        Migration::new(
            version,
            "under test".into(),
            kind,
            sqlx::AssertSqlSafe(sql.to_string()).into_sql_str(),
            no_tx,
        )
    };
    let up = make(MigrationType::ReversibleUp, up);
    let mut all: Vec<Migration> = quotedb_schema::MIGRATOR.iter().cloned().collect();
    all.push(up.clone());
    all.push(make(MigrationType::ReversibleDown, down));
    (Migrator::with_migrations(all), up)
}

async fn volume_db() -> TestDb {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let cfg = quotedb_seeds::volume::VolumeConfig {
        scale: 0.02,
        seed: 7,
        anchor: time::macros::datetime!(2026-06-15 00:00 UTC),
        progress: false,
    };
    let mut conn = db.pool().acquire().await.expect("connection");
    quotedb_seeds::volume::load(&mut conn, &cfg).await.expect("volume");
    db
}

/// Any write-blocking lock on any table fails: the small test data set stands in for a big one.
const STRICT: Limits = Limits {
    big_table_bytes: 0,
    max_block_ms: 0,
};

/// Rehearse one up/down pair (as `version`, on top of every released migration) against a fresh
/// volume database under [`STRICT`] limits. The database is returned to outlive the rehearsal.
async fn rehearse_pair(version: i64, up: &str, down: &str, no_tx: bool) -> (TestDb, Rehearsal) {
    let db = volume_db().await;
    let base = quotedb_schema::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("versions");
    let (migrator, up) = with_pair(version, up, down, no_tx);
    let r = rehearse(db.url(), &[&up], &migrator, base, STRICT)
        .await
        .expect("rehearse");
    (db, r)
}

#[tokio::test]
async fn a_plain_create_index_blocks_writes_and_is_flagged() {
    let (_db, r) = rehearse_pair(
        9001,
        "CREATE INDEX quotes_zip_status_idx ON quotes (zip, status);",
        "DROP INDEX quotes_zip_status_idx;",
        false,
    )
    .await;
    let s = &r.statements[0];
    assert_eq!(
        s.lock.as_ref().map(|(m, t)| (m.as_str(), t.as_str())),
        Some(("ShareLock", "quotes"))
    );
    assert!(
        s.verdict.as_deref().is_some_and(|v| v.starts_with("FAIL")),
        "{}",
        r.table()
    );
    assert!(r.round_trip_same, "revert and re-apply give the same schema");
}

#[tokio::test]
async fn a_column_type_change_rewrites_the_table_under_access_exclusive() {
    let (_db, r) = rehearse_pair(
        9002,
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE quote_versions ALTER COLUMN premium TYPE numeric(13,3);",
        "ALTER TABLE quote_versions ALTER COLUMN premium TYPE numeric(12,2);",
        false,
    )
    .await;
    let alter = r
        .statements
        .iter()
        .find(|s| s.sql.starts_with("ALTER"))
        .expect("the ALTER");
    assert_eq!(
        alter.lock.as_ref().map(|(m, _)| m.as_str()),
        Some("AccessExclusiveLock")
    );
    assert_eq!(alter.rewrote, ["quote_versions"], "{}", r.table());
    assert!(alter.rows == 0 && alter.verdict.is_some(), "{}", r.table());
}

#[tokio::test]
async fn the_online_form_builds_the_index_concurrently_and_passes() {
    let (_db, r) = rehearse_pair(
        9003,
        "-- no-transaction\nCREATE INDEX CONCURRENTLY quotes_zip_status_idx ON quotes (zip, status);",
        "-- no-transaction\nDROP INDEX CONCURRENTLY quotes_zip_status_idx;",
        true,
    )
    .await;
    assert_eq!(r.failures().count(), 0, "{}", r.table());
    let s = &r.statements[0];
    assert!(
        s.lock.as_ref().is_none_or(|(m, _)| m == "ShareUpdateExclusiveLock"),
        "CONCURRENTLY takes no lock that blocks writes: {}",
        r.table()
    );
    assert!(r.round_trip_same);
}
