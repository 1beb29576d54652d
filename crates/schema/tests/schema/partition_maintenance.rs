//! Partition maintenance of every monthly partitioned table (migration 0021's
//! `maintain_partitions()`): as the clock moves, rows never land in a DEFAULT partition, strays
//! move into their month, old months leave by the retention settings, a second run does nothing.

use quotedb_testkit::TestDb;

const TABLES: [&str; 3] = ["audit_logs", "analytics_events", "admin_activity_logs"];

/// An admin (admin_users.id) for admin_activity_logs rows.
async fn admin(db: &TestDb) -> uuid::Uuid {
    sqlx::query_scalar(
        "WITH r AS (INSERT INTO admin_roles (name, description) VALUES ('partition_test', 'logs') RETURNING id),
              u AS (INSERT INTO users (email, full_name, role) VALUES ('ops@example.com', 'Ops', 'agent') RETURNING id)
         INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT u.id, r.id, true FROM u, r RETURNING id",
    )
    .fetch_one(db.pool())
    .await
    .expect("an admin")
}

/// `maintain_partitions(now() + months)` as the system role; its (table, action, partition) rows.
async fn maintain(db: &TestDb, months: i32) -> Vec<(String, String, String)> {
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::raw_sql("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("role");
    let rows = sqlx::query_as(
        "SELECT table_name, action, partition_name FROM maintain_partitions(now() + make_interval(months => $1))",
    )
    .bind(months)
    .fetch_all(&mut *tx)
    .await
    .expect("maintain_partitions");
    tx.commit().await.expect("commit");
    rows
}

/// One row in each table at `now() + months` (+ 20 days), and the partitions they landed in.
async fn rows_at(db: &TestDb, admin: uuid::Uuid, months: i32) -> Vec<String> {
    let at = "date_trunc('month', now()) + make_interval(months => $1, days => 20)";
    let mut homes = Vec::new();
    for sql in [
        format!(
            "INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at)
             VALUES ('quote.viewed', 'quotes', 'q1', {at}) RETURNING tableoid::regclass::text"
        ),
        format!(
            "INSERT INTO analytics_events (event_type, properties, occurred_at)
             VALUES ('quote.viewed', '{{}}', {at}) RETURNING tableoid::regclass::text"
        ),
        format!(
            "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, details, risk_score, risk_factors, occurred_at)
             VALUES ($2, 'x.y', 'quotes', '{{}}', 0, '[]', {at}) RETURNING tableoid::regclass::text"
        ),
    ] {
        let home: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(months)
            .bind(admin)
            .fetch_one(db.pool())
            .await
            .expect("insert");
        homes.push(home);
    }
    homes
}

async fn default_rows(db: &TestDb) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT table_name, default_rows FROM partition_status()")
        .fetch_all(db.pool())
        .await
        .expect("partition_status")
}

#[tokio::test]
async fn as_the_clock_moves_maintenance_keeps_every_row_out_of_the_default_partitions() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let admin = admin(&db).await;
    // Two years of monthly runs; after each, rows of the current month and of the last month of
    // the runway (3 months ahead by default) land in a month partition.
    for month in 0..24 {
        maintain(&db, month).await;
        for ahead in [month, month + 3] {
            let homes = rows_at(&db, admin, ahead).await;
            assert!(
                homes.iter().all(|h| !h.ends_with("_default")),
                "month {month}, rows at +{ahead}: {homes:?}"
            );
        }
    }
    assert!(default_rows(&db).await.iter().all(|(_, n)| *n == 0));
    // The clock moved 24 months: analytics (13 months kept) lost its old months, the trails
    // (24 months) kept theirs attached.
    let attached: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM analytics_events WHERE occurred_at < date_trunc('month', now()) + interval '10 months'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count");
    assert_eq!(attached, 0, "analytics months past retention are dropped");
}

#[tokio::test]
async fn strays_move_into_their_month_and_the_defaults_end_empty() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let admin = admin(&db).await;
    let homes = rows_at(&db, admin, 9).await;
    assert!(homes.iter().all(|h| h.ends_with("_default")), "{homes:?}");
    assert!(default_rows(&db).await.iter().all(|(_, n)| *n == 1));

    let actions = maintain(&db, 0).await;
    let moved: Vec<&(String, String, String)> = actions.iter().filter(|(_, a, _)| a == "moved_strays").collect();
    assert_eq!(moved.len(), 3, "{actions:?}");
    assert!(default_rows(&db).await.iter().all(|(_, n)| *n == 0));
    for table in TABLES {
        let (home, n): (String, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT min(tableoid::regclass::text), count(*) FROM {table}"
        )))
        .fetch_one(db.pool())
        .await
        .expect("moved row");
        assert_eq!(n, 1, "{table}: the row is kept");
        assert!(home.starts_with(&format!("{table}_y")), "{table}: {home}");
    }
}

#[tokio::test]
async fn running_maintenance_twice_changes_nothing_the_second_time() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert!(!maintain(&db, 5).await.is_empty());
    assert_eq!(maintain(&db, 5).await, []);
    assert_eq!(maintain(&db, 0).await, [], "the runway of the earlier month is there");
}

#[tokio::test]
async fn retention_drops_analytics_months_and_detaches_the_trails_append_only() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let admin = admin(&db).await;
    rows_at(&db, admin, 0).await;
    let actions = maintain(&db, 30).await;
    let legacy: Vec<&(String, String, String)> = actions.iter().filter(|(_, _, p)| p.ends_with("_legacy")).collect();
    assert_eq!(
        legacy,
        [
            &(
                "analytics_events".to_string(),
                "dropped".to_string(),
                "analytics_events_legacy".to_string()
            ),
            &(
                "admin_activity_logs".to_string(),
                "detached".to_string(),
                "admin_activity_logs_legacy".to_string()
            ),
        ]
    );
    let (analytics, trail, kept): (Option<String>, i64, i64) = sqlx::query_as(
        "SELECT to_regclass('analytics_events_legacy')::text, (SELECT count(*) FROM admin_activity_logs),
                (SELECT count(*) FROM admin_activity_logs_legacy)",
    )
    .fetch_one(db.pool())
    .await
    .expect("after retention");
    assert_eq!((analytics, trail, kept), (None, 0, 1), "dropped; detached with its row");
    let err = sqlx::query("DELETE FROM admin_activity_logs_legacy")
        .execute(db.pool())
        .await
        .expect_err("a detached month stays append-only");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("admin_activity_logs_append_only")
    );
    // The retention setting decides: 36 months of analytics kept.
    sqlx::raw_sql(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
         VALUES ('analytics.retention_months', '36', 'number', 'months of analytics kept', false)",
    )
    .execute(db.pool())
    .await
    .expect("setting");
    let later = maintain(&db, 31).await;
    assert!(
        later
            .iter()
            .all(|(t, a, _)| !(t == "analytics_events" && a == "dropped")),
        "{later:?}"
    );
}
