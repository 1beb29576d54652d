//! The reference data generation (0015): bumped by a statement that changes what a price is
//! computed from (active rates and rules, non-sensitive settings), in its transaction, and by
//! nothing else; TRUNCATE bumps too.

use quotedb_testkit::TestDb;
use sqlx::{Connection as _, PgConnection};

async fn generation(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT generation FROM reference_data_generation")
        .fetch_one(conn)
        .await
        .expect("generation")
}

/// Run `sql` in a transaction that is rolled back; whether the generation moved inside it.
async fn bumps(db: &TestDb, sql: &str) -> bool {
    let mut conn = PgConnection::connect(db.url()).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    let before = generation(&mut tx).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let after = generation(&mut tx).await;
    tx.rollback().await.expect("rollback");
    assert!(
        after >= before,
        "{sql}: the generation never goes down ({before} -> {after})"
    );
    after > before
}

#[tokio::test]
async fn a_change_to_what_prices_read_bumps_the_generation_and_nothing_else_does() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    for (sql, expected) in [
        ("UPDATE discount_rules SET percent = percent WHERE active", true),
        ("UPDATE discount_rules SET percent = percent WHERE false", false),
        (
            "UPDATE surcharge_rules SET active = NOT active WHERE code = 'dui'",
            true,
        ),
        ("TRUNCATE discount_rules", true),
        (
            "UPDATE system_settings SET value = value WHERE key = 'rating.discount_cap'",
            true,
        ),
        (
            "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
             VALUES ('test.secret', '\"x\"', 'string', 'a sensitive test setting', true)",
            false,
        ),
        (
            "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status)
             VALUES ('CA', 'collision', 123.00, daterange(current_date + 400, NULL), 'proposed')",
            false,
        ),
        (
            "UPDATE territory_factors SET updated_at = updated_at WHERE status = 'active'",
            true,
        ),
    ] {
        assert_eq!(bumps(&db, sql).await, expected, "{sql}");
    }
}

#[tokio::test]
async fn a_bump_jumps_to_at_least_the_time_so_a_lost_timeline_never_reissues_a_number() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let mut conn = PgConnection::connect(db.url()).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("UPDATE discount_rules SET percent = percent WHERE active")
        .execute(&mut *tx)
        .await
        .expect("update");
    let (generation, micros): (i64, i64) = sqlx::query_as(
        "SELECT generation, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM reference_data_generation",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("generation");
    tx.rollback().await.expect("rollback");
    assert!(
        generation > micros - 60_000_000 && generation <= micros,
        "{generation} vs {micros}"
    );
}
