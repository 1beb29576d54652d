//! Partition maintenance of `audit_logs` (migration 0004): monthly partitions are created ahead,
//! strays caught by the DEFAULT partition move into their month, and old months are detached
//! (kept as standalone tables), never deleted.

use quotedb_testkit::TestDb;

/// `audit_logs_yYYYYmMM` of the UTC month `months_from_now` months away, and a time inside it.
const MONTH: &str = "SELECT to_char(m, '\"audit_logs_y\"YYYY\"m\"MM'), (m + interval '12 days') AT TIME ZONE 'UTC'
     FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => $1) AS m) AS month";

async fn month(db: &TestDb, months_from_now: i32) -> (String, time::OffsetDateTime) {
    sqlx::query_as(MONTH)
        .bind(months_from_now)
        .fetch_one(db.pool())
        .await
        .expect("month")
}

async fn create_partitions(db: &TestDb, months_ahead: i32) -> i32 {
    sqlx::query_scalar("SELECT create_audit_log_partitions($1)")
        .bind(months_ahead)
        .fetch_one(db.pool())
        .await
        .expect("create_audit_log_partitions")
}

/// Inserts an audit row at `at` and returns the partition it landed in.
async fn log_at(db: &TestDb, at: time::OffsetDateTime) -> String {
    sqlx::query_scalar(
        "INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at)
         VALUES ('quote.viewed', 'quotes', 'q1', $1) RETURNING tableoid::regclass::text",
    )
    .bind(at)
    .fetch_one(db.pool())
    .await
    .expect("insert audit row")
}

async fn strays(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(row_count), 0)::bigint FROM audit_log_default_partition_rows()")
        .fetch_one(db.pool())
        .await
        .expect("audit_log_default_partition_rows")
}

#[tokio::test]
async fn audit_logs_has_next_months_partition() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    // The scheduled job's call; the migration made the same call when the database was built.
    create_partitions(&db, 3).await;
    let (next_month, inside_it) = month(&db, 1).await;
    assert_eq!(log_at(&db, inside_it).await, next_month);
    assert_eq!(strays(&db).await, 0);
}

#[tokio::test]
async fn creating_audit_log_partitions_twice_creates_nothing_the_second_time() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    create_partitions(&db, 4).await;
    assert_eq!(create_partitions(&db, 4).await, 0);
}

#[tokio::test]
async fn strays_in_the_default_partition_move_into_their_new_month() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let (far_month, inside_it) = month(&db, 9).await;
    assert_eq!(log_at(&db, inside_it).await, "audit_logs_default");
    assert_eq!(strays(&db).await, 1, "the stray is watched");

    assert!(create_partitions(&db, 9).await >= 1);
    let home: String = sqlx::query_scalar("SELECT tableoid::regclass::text FROM audit_logs WHERE occurred_at = $1")
        .bind(inside_it)
        .fetch_one(db.pool())
        .await
        .expect("moved row");
    assert_eq!(home, far_month);
    assert_eq!(strays(&db).await, 0);
}

#[tokio::test]
async fn old_audit_months_are_detached_not_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    // As the owner role, like create_audit_log_partitions() (partitions belong to quotedb_owner).
    sqlx::raw_sql(
        "BEGIN;
         SET LOCAL ROLE quotedb_owner;
         CREATE TABLE audit_logs_y2020m01 PARTITION OF audit_logs
             FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-02-01 00:00:00+00');
         INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at)
             VALUES ('quote.viewed', 'quotes', 'q1', '2020-01-15 00:00:00+00');
         COMMIT;",
    )
    .execute(db.pool())
    .await
    .expect("an old month");

    let detached: Vec<String> = sqlx::query_scalar("SELECT detach_audit_log_partitions(12)")
        .fetch_all(db.pool())
        .await
        .expect("detach");
    assert_eq!(detached, ["audit_logs_y2020m01"]);

    let (in_parent, archived): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM audit_logs), (SELECT count(*) FROM audit_logs_y2020m01)")
            .fetch_one(db.pool())
            .await
            .expect("counts");
    assert_eq!(
        (in_parent, archived),
        (0, 1),
        "the month left audit_logs but kept its row"
    );

    // A detached month stays append-only, for the owner and a superuser alike.
    for attack in [
        "UPDATE audit_logs_y2020m01 SET action = 'quote.forged'",
        "DELETE FROM audit_logs_y2020m01",
        "TRUNCATE audit_logs_y2020m01",
    ] {
        let err = sqlx::query(attack).execute(db.pool()).await.expect_err(attack);
        let rule = err.as_database_error().and_then(|e| e.constraint());
        assert!(
            matches!(rule, Some("audit_logs_append_only" | "audit_logs_no_truncate")),
            "{attack}: {err}"
        );
    }
}

#[tokio::test]
async fn detaching_never_goes_below_the_retention_setting() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::raw_sql(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
             VALUES ('audit.retention_months', '24', 'number', 'months of audit kept attached', false);
         BEGIN;
         SET LOCAL ROLE quotedb_owner;
         CREATE TABLE audit_logs_old PARTITION OF audit_logs
             FOR VALUES FROM (date_trunc('month', now()) - interval '13 months')
                          TO (date_trunc('month', now()) - interval '12 months');
         COMMIT;",
    )
    .execute(db.pool())
    .await
    .expect("a month 13 months back");
    let month: String = sqlx::query_scalar(
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '13 months', '\"audit_logs_y\"YYYY\"m\"MM')",
    )
    .fetch_one(db.pool())
    .await
    .expect("name");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE audit_logs_old RENAME TO {month}"
    )))
    .execute(db.pool())
    .await
    .expect("rename");
    // A caller asking for one month of retention still keeps the 24 the setting says.
    let detached: Vec<String> = sqlx::query_scalar("SELECT detach_audit_log_partitions(1)")
        .fetch_all(db.pool())
        .await
        .expect("detach");
    assert!(
        detached.is_empty(),
        "nothing younger than 24 months is detached: {detached:?}"
    );
}

#[tokio::test]
async fn the_current_month_is_never_detached() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let err = sqlx::query("SELECT detach_audit_log_partitions(0)")
        .execute(db.pool())
        .await
        .expect_err("a retention under one month is refused");
    let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("22023"), "invalid_parameter_value: {err}");
}
