//! Analytics events: batches, reads by type and time, the 24 hour dashboard.

use quotedb_repository::UserId;
use quotedb_repository::realtime::{EventError, NewEvent};
use serde_json::json;
use time::OffsetDateTime;

use super::floor_to;
use crate::common::{TestResult, customer, setup};

fn event(event_type: &str, user_id: Option<UserId>, at: Option<OffsetDateTime>) -> NewEvent {
    NewEvent {
        event_type: event_type.into(),
        user_id,
        session_id: None,
        quote_id: None,
        properties: json!({ "state": "CA" }),
        occurred_at: at,
    }
}

#[tokio::test]
async fn a_batch_is_recorded_at_once_and_read_back_by_type_and_time() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let events = db.realtime().events();
    let now = OffsetDateTime::now_utc();
    let t = |mins: i64| Some(now - time::Duration::minutes(mins));
    let batch = vec![
        event("quote.viewed", Some(uid), t(30)),
        event("quote.viewed", None, t(10)),
        event("quote.viewed", Some(uid), t(200)),
        event("quote.bound", Some(uid), t(5)),
        event("quote.viewed", None, None),
    ];
    assert_eq!(events.record_batch(&batch).await?, 5);
    assert_eq!(events.record_batch(&[]).await?, 0);

    let window = events
        .of_type(
            "quote.viewed",
            now - time::Duration::hours(1),
            now + time::Duration::minutes(5),
            100,
        )
        .await?;
    assert_eq!(window.len(), 3, "the 200-minute-old one is outside the window");
    assert!(
        window.windows(2).all(|w| w[0].occurred_at >= w[1].occurred_at),
        "newest first"
    );
    assert!(window.iter().all(|e| e.event_type == "quote.viewed"));
    assert_eq!(window.iter().filter(|e| e.user_id == Some(uid)).count(), 1);
    assert_eq!(window[0].properties, json!({ "state": "CA" }));

    let limited = events
        .of_type(
            "quote.viewed",
            now - time::Duration::hours(5),
            now + time::Duration::minutes(5),
            2,
        )
        .await?;
    assert_eq!(limited.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_batch_with_one_bad_event_records_nothing() -> TestResult {
    let (tdb, db) = setup().await;
    let events = db.realtime().events();
    let bad_type = vec![event("quote.viewed", None, None), event("Quote Viewed", None, None)];
    assert!(matches!(events.record_batch(&bad_type).await, Err(EventError::Invalid(e)) if e.field == "event_type"));
    let bad_props = vec![NewEvent {
        properties: json!([1, 2]),
        ..event("quote.viewed", None, None)
    }];
    assert!(matches!(events.record_batch(&bad_props).await, Err(EventError::Invalid(e)) if e.field == "properties"));
    let ghost = UserId(uuid::Uuid::new_v4());
    let unknown_user = vec![
        event("quote.viewed", None, None),
        event("quote.viewed", Some(ghost), None),
    ];
    assert!(matches!(
        events.record_batch(&unknown_user).await,
        Err(EventError::UnknownReference(_))
    ));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM analytics_events")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(count, 0, "all or nothing");

    let now = OffsetDateTime::now_utc();
    assert!(matches!(
        events.of_type("quote.viewed", now, now, 10).await,
        Err(EventError::Invalid(_))
    ));
    assert!(matches!(
        events
            .of_type("Bad Type", now - time::Duration::hours(1), now, 10)
            .await,
        Err(EventError::Invalid(_))
    ));
    Ok(())
}

#[tokio::test]
async fn the_dashboard_counts_events_per_type_per_hour_over_the_last_day() -> TestResult {
    let (_tdb, db) = setup().await;
    let events = db.realtime().events();
    let now = OffsetDateTime::now_utc();
    let one_h = now - time::Duration::minutes(70);
    let three_h = now - time::Duration::minutes(190);
    let old = now - time::Duration::hours(30);
    events
        .record_batch(&[
            event("quote.viewed", None, Some(one_h)),
            event("quote.viewed", None, Some(one_h)),
            event("quote.bound", None, Some(one_h)),
            event("quote.viewed", None, Some(three_h)),
            event("quote.viewed", None, Some(old)),
        ])
        .await?;
    let got: Vec<_> = events
        .dashboard_24h()
        .await?
        .into_iter()
        .map(|h| (h.hour, h.event_type, h.count))
        .collect();
    let (h1, h3) = (floor_to(one_h, 3600), floor_to(three_h, 3600));
    assert_eq!(
        got,
        vec![
            (h3, "quote.viewed".to_string(), 1),
            (h1, "quote.bound".to_string(), 1),
            (h1, "quote.viewed".to_string(), 2),
        ]
    );
    Ok(())
}
