//! `Db::maintenance()`: the scheduler's partition maintenance, with the clock moved.

use quotedb_repository::maintenance::PartitionAction;
use quotedb_repository::realtime::NewEvent;
use time::{Duration, OffsetDateTime};

use crate::common::{TestResult, setup};

#[tokio::test]
async fn events_recorded_months_ahead_never_land_in_a_default_partition() -> TestResult {
    let (tdb, db) = setup().await;
    let maintenance = db.maintenance();
    let now = OffsetDateTime::now_utc();

    // Fresh from the migrations: three months of runway, nothing in the defaults.
    let status = maintenance.status(None).await?;
    assert_eq!(status.len(), 3);
    assert!(
        status.iter().all(|s| s.runway_months == Some(3) && s.default_rows == 0),
        "{status:?}"
    );
    assert_eq!(maintenance.run(None).await?, [], "nothing to do twice");

    // Eight months on: the scheduler's run creates the new months; events up to three months
    // after that land in month partitions.
    let later = now + Duration::days(8 * 31);
    let changes = maintenance.run(Some(later)).await?;
    assert!(
        changes
            .iter()
            .any(|c| c.table == "analytics_events" && c.action == PartitionAction::Created)
    );
    assert_eq!(maintenance.run(Some(later)).await?, [], "idempotent");
    let events: Vec<NewEvent> = (0..4)
        .map(|m| NewEvent {
            event_type: "quote.viewed".into(),
            user_id: None,
            session_id: None,
            quote_id: None,
            properties: serde_json::json!({}),
            occurred_at: Some(later + Duration::days(m * 30)),
        })
        .collect();
    db.realtime().events().record_batch(&events).await?;
    let homes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT tableoid::regclass::text FROM analytics_events WHERE occurred_at >= $1")
            .bind(later - Duration::days(1))
            .fetch_all(tdb.pool())
            .await?;
    assert!(
        !homes.is_empty() && homes.iter().all(|h| h.starts_with("analytics_events_y")),
        "{homes:?}"
    );
    let status = maintenance.status(Some(later)).await?;
    assert!(
        status.iter().all(|s| s.default_rows == 0 && s.runway_months == Some(3)),
        "{status:?}"
    );
    Ok(())
}
