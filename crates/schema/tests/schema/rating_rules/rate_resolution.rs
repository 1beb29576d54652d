//! rate resolution uses the partial indexes

use super::*;

#[tokio::test]
async fn the_active_rate_for_a_date_is_found() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let old = base_rate(db.pool(), "[2024-01-01,2025-01-01)", Active).await;
    let current = try_base_rate(db.pool(), "CA", "collision", "550", "[2025-01-01,)", Active)
        .await
        .expect("current rate");
    for (day, expected) in [("2024-06-30", old), ("2025-06-30", current)] {
        let found: Uuid = sqlx::query_scalar(
            "SELECT id FROM base_rates
             WHERE status = 'active' AND state_code = $1 AND coverage_type = $2::coverage_type
               AND effective @> $3::date",
        )
        .bind("CA")
        .bind("collision")
        .bind(day)
        .fetch_one(db.pool())
        .await
        .expect("resolve rate");
        assert_eq!(found, expected, "rate on {day}");
    }
}
