//! quote_versions

use super::*;

#[tokio::test]
async fn a_re_rating_keeps_every_earlier_version_unchanged() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    rate(db.pool(), q, "1100.00").await.expect("re-rate");
    rate(db.pool(), q, "1200.00").await.expect("re-rate again");
    let premiums: Vec<String> =
        sqlx::query_scalar("SELECT premium::text FROM quote_versions WHERE quote_id = $1 ORDER BY version")
            .bind(q)
            .fetch_all(db.pool())
            .await
            .expect("read versions");
    assert_eq!(premiums, ["1000.00", "1100.00", "1200.00"]);
}

#[tokio::test]
async fn a_quote_version_cannot_skip_a_number() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = bumped_to_2(db.pool(), q).await;
    let result = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 3, 1100, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_VERSIONS_CONTIGUOUS);
}

#[tokio::test]
async fn a_version_cannot_be_added_before_the_quote_is_bumped() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        insert_version(db.pool(), q, 2, "1100.00", "{}", "{}").await,
        rules::QUOTE_VERSIONS_CONTIGUOUS,
    );
}

/// The foreign key runs before quote_versions_contiguous (a statement trigger, migration 0023).
#[tokio::test]
async fn a_version_for_an_unknown_quote_is_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        insert_version(db.pool(), Uuid::new_v4(), 1, "100.00", "{}", "{}").await,
        rules::QUOTE_VERSIONS_QUOTE_FK,
    );
}

/// One statement inserting two versions of a quote: only one of them can be its current version.
#[tokio::test]
async fn two_versions_in_one_statement_are_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = bumped_to_2(db.pool(), q).await;
    let result = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
         VALUES ($1, 2, 1100, '{}', '{}'), ($1, 3, 1100, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_VERSIONS_CONTIGUOUS);
}

#[tokio::test]
async fn consecutive_versions_after_bumps_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    for premium in ["100.00", "110.00", "120.00"] {
        rate(db.pool(), q, premium).await.expect("rating");
    }
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM quote_versions WHERE quote_id = $1 ORDER BY version")
            .bind(q)
            .fetch_all(db.pool())
            .await
            .expect("read versions");
    assert_eq!(versions, [1, 2, 3]);
}

/// The unique (quote_id, version) backs up quote_versions_contiguous; it can only be reached
/// with user triggers off (session_replication_role = replica; constraints still apply).
#[tokio::test]
async fn two_snapshots_cannot_share_a_version_number() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        insert_version_as_replica(db.pool(), q, 1).await,
        rules::QUOTE_VERSIONS_QUOTE_VERSION_UNIQUE,
    );
}

/// Version numbers start at 1 (quote_versions_contiguous already refuses 0 first; the CHECK
/// is reached with user triggers off).
#[tokio::test]
async fn a_version_number_must_be_at_least_one() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        insert_version_as_replica(db.pool(), q, 0).await,
        rules::QUOTE_VERSIONS_VERSION_POSITIVE,
    );
}

#[tokio::test]
async fn a_version_with_object_inputs_and_breakdown_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    rate_with(
        db.pool(),
        q,
        "1000.00",
        r#"{"drivers": [{"age": 40}]}"#,
        r#"{"base": "800.00", "territory": "1.250"}"#,
    )
    .await
    .expect("valid version");
}

/// A transaction in which rated quote `q` has been bumped to current_version 2 (premium 1100),
/// its version 2 not yet inserted.
async fn bumped_to_2(pool: &PgPool, q: Uuid) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("UPDATE quotes SET premium = 1100, current_version = 2 WHERE id = $1")
        .bind(q)
        .execute(&mut *tx)
        .await
        .expect("bump to 2");
    tx
}
