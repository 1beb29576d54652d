//! Realtime API: websocket connections, analytics events, metric buckets and the notification
//! queue — through the public API against a real database. Fixtures come from `common` (through
//! the API); back-dating of timestamps, which the API cannot do, uses plain SQL.

use std::collections::HashSet;
use std::time::Duration;

use quotedb_repository::realtime::{
    Backoff, ConnectionError, EventError, MetricError, MetricSample, NewConnection, NewEvent, NewNotification,
    NotificationError, Observation, Recipient, RetryDecision,
};
use quotedb_repository::schema::realtime::{MetricBucketWidth, NotificationChannel, NotificationStatus};
use quotedb_repository::{ConnectionId, NotificationId, UserId};
use rust_decimal_macros::dec;
use serde_json::json;
use time::OffsetDateTime;

use crate::common::{TestResult, customer, delete_setting, set_setting, setup};

fn floor_to(t: OffsetDateTime, secs: i64) -> OffsetDateTime {
    let ts = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(ts - ts.rem_euclid(secs)).expect("in range")
}

// ------------------------------------------------------------------------------------------
// Websocket connections
// ------------------------------------------------------------------------------------------

fn new_conn(user_id: UserId, topics: &[&str]) -> NewConnection {
    NewConnection {
        user_id,
        session_id: None,
        server_node: "rt-node-1".into(),
        ip: Some("192.0.2.10".parse().expect("literal ip")),
        subscriptions: topics.iter().map(|t| t.to_string()).collect(),
    }
}

#[tokio::test]
async fn a_connection_opens_beats_and_closes() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let conns = db.realtime().connections();
    let c = conns.open(new_conn(uid, &["rates:CA", "rates:CA", "quote:1"])).await?;
    assert_eq!(c.subscriptions, vec!["rates:CA", "quote:1"], "topics are de-duplicated");
    assert_eq!(c.disconnected_at, None);
    assert_eq!(conns.active_for_user(uid).await?.len(), 1);

    let beat = conns.heartbeat(c.id).await?;
    assert!(beat >= c.last_heartbeat_at);
    assert!(conns.close(c.id).await?, "the first close closes it");
    assert!(!conns.close(c.id).await?, "closing again changes nothing");
    assert!(matches!(conns.heartbeat(c.id).await, Err(ConnectionError::Closed(id)) if id == c.id));
    assert!(conns.active_for_user(uid).await?.is_empty());
    let closed = conns.get(c.id).await?;
    assert!(closed.disconnected_at.is_some_and(|d| d >= closed.last_heartbeat_at));

    let ghost = ConnectionId(uuid::Uuid::new_v4());
    assert!(matches!(
        conns.heartbeat(ghost).await,
        Err(ConnectionError::NotFound(_))
    ));
    assert!(matches!(conns.close(ghost).await, Err(ConnectionError::NotFound(_))));
    Ok(())
}

#[tokio::test]
async fn opening_a_connection_checks_its_input() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let conns = db.realtime().connections();
    let bad_node = NewConnection {
        server_node: "node with space".into(),
        ..new_conn(uid, &[])
    };
    assert!(matches!(conns.open(bad_node).await, Err(ConnectionError::Invalid(e)) if e.field == "server_node"));
    let bad_topic = new_conn(uid, &["two words"]);
    assert!(matches!(conns.open(bad_topic).await, Err(ConnectionError::Invalid(e)) if e.field == "subscriptions"));
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(conns.open(new_conn(ghost, &[])).await, Err(ConnectionError::UnknownUser(u)) if u == ghost));
    let ghost_session = quotedb_repository::SessionId(uuid::Uuid::new_v4());
    let with_session = NewConnection {
        session_id: Some(ghost_session),
        ..new_conn(uid, &[])
    };
    assert!(matches!(
        conns.open(with_session).await,
        Err(ConnectionError::UnknownSession(_))
    ));
    Ok(())
}

#[tokio::test]
async fn a_topics_subscribers_are_the_live_connections_listening_to_it() -> TestResult {
    let (_tdb, db) = setup().await;
    let (a, b) = (customer(&db, "user").await, customer(&db, "user").await);
    let conns = db.realtime().connections();
    let ca = conns.open(new_conn(a, &["rates:CA"])).await?;
    let tx = conns.open(new_conn(b, &["rates:TX"])).await?;
    let gone = conns.open(new_conn(b, &["rates:CA"])).await?;
    conns.close(gone.id).await?;

    let ids = |v: Vec<quotedb_repository::realtime::Connection>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(conns.subscribers("rates:CA").await?), vec![ca.id]);

    let moved = conns.set_subscriptions(tx.id, &["rates:CA".into()]).await?;
    assert_eq!(moved.subscriptions, vec!["rates:CA"]);
    assert_eq!(ids(conns.subscribers("rates:CA").await?), vec![ca.id, tx.id]);
    assert!(conns.subscribers("rates:TX").await?.is_empty());
    assert!(matches!(
        conns.set_subscriptions(gone.id, &["x".into()]).await,
        Err(ConnectionError::Closed(_))
    ));
    Ok(())
}

#[tokio::test]
async fn the_stale_sweep_disconnects_connections_without_a_recent_heartbeat() -> TestResult {
    let (tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let conns = db.realtime().connections();
    let stale = conns.open(new_conn(uid, &[])).await?;
    let fresh = conns.open(new_conn(uid, &[])).await?;
    // Raw SQL: back-dating (the API never back-dates a heartbeat).
    sqlx::query(
        "UPDATE websocket_connections SET connected_at = now() - interval '10 minutes',
                last_heartbeat_at = now() - interval '5 minutes' WHERE id = $1",
    )
    .bind(stale.id.0)
    .execute(tdb.pool())
    .await?;

    assert_eq!(conns.sweep_stale(Duration::from_secs(60)).await?, 1);
    let swept = conns.get(stale.id).await?;
    assert_eq!(
        swept.disconnected_at,
        Some(swept.last_heartbeat_at),
        "closed at its last heartbeat"
    );
    assert_eq!(conns.get(fresh.id).await?.disconnected_at, None);
    assert_eq!(conns.sweep_stale(Duration::from_secs(60)).await?, 0);
    assert!(conns.sweep_stale(Duration::ZERO).await.is_err());
    Ok(())
}

#[tokio::test]
async fn closing_a_sessions_connections_leaves_the_others_open() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let session = db
        .security()
        .sessions()
        .create(
            &quotedb_repository::Actor::System,
            quotedb_repository::security::NewSession {
                user_id: uid,
                ip: None,
                user_agent: None,
                lifetime: Some(Duration::from_secs(600)),
            },
        )
        .await?
        .session;
    let conns = db.realtime().connections();
    let with = conns
        .open(NewConnection {
            session_id: Some(session.id),
            ..new_conn(uid, &[])
        })
        .await?;
    let without = conns.open(new_conn(uid, &[])).await?;
    assert_eq!(with.session_id, Some(session.id));
    assert_eq!(conns.close_for_session(session.id).await?, 1);
    let live: Vec<_> = conns.active_for_user(uid).await?.into_iter().map(|c| c.id).collect();
    assert_eq!(live, vec![without.id]);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Analytics events
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Metrics
// ------------------------------------------------------------------------------------------

fn sample(metric: &str, at: OffsetDateTime, observation: Observation) -> MetricSample {
    MetricSample {
        metric: metric.into(),
        dimensions: json!({ "state": "CA" }),
        width: MetricBucketWidth::FiveMinutes,
        at: Some(at),
        observation,
    }
}

#[tokio::test]
async fn samples_fold_into_their_aligned_bucket() -> TestResult {
    let (_tdb, db) = setup().await;
    let metrics = db.realtime().metrics();
    let at = OffsetDateTime::now_utc();
    metrics
        .record(&sample("rating.latency_ms", at, Observation::Value(dec!(10))))
        .await?;
    metrics
        .record(&sample("rating.latency_ms", at, Observation::Value(dec!(4))))
        .await?;
    let b = metrics
        .record(&sample(
            "rating.latency_ms",
            at,
            Observation::Summary {
                count: 2,
                sum: dec!(15),
                min: dec!(6),
                max: dec!(9),
            },
        ))
        .await?;
    assert_eq!(b.bucket_start, floor_to(at, 300));
    assert_eq!(
        (b.count, b.sum, b.min, b.max),
        (4, Some(dec!(29)), Some(dec!(4)), Some(dec!(10)))
    );

    // Another dimension and the next bucket are separate series / buckets.
    metrics
        .record(&MetricSample {
            dimensions: json!({ "state": "TX" }),
            ..sample("rating.latency_ms", at, Observation::Value(dec!(1)))
        })
        .await?;
    let next = at + time::Duration::minutes(5);
    metrics
        .record(&sample("rating.latency_ms", next, Observation::Value(dec!(2))))
        .await?;
    let series = metrics
        .range(
            "rating.latency_ms",
            MetricBucketWidth::FiveMinutes,
            &json!({ "state": "CA" }),
            at - time::Duration::hours(1),
            at + time::Duration::hours(1),
        )
        .await?;
    let shape: Vec<_> = series.iter().map(|b| (b.bucket_start, b.count)).collect();
    assert_eq!(shape, vec![(floor_to(at, 300), 4), (floor_to(next, 300), 1)]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_counter_upserts_lose_no_updates() -> TestResult {
    let (_tdb, db) = setup().await;
    let at = OffsetDateTime::now_utc();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.spawn(async move {
            for _ in 0..25 {
                db.realtime()
                    .metrics()
                    .record(&MetricSample {
                        width: MetricBucketWidth::Hour,
                        ..sample("quotes.rated", at, Observation::Count(1))
                    })
                    .await?;
            }
            Ok::<_, MetricError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let buckets = db
        .realtime()
        .metrics()
        .range(
            "quotes.rated",
            MetricBucketWidth::Hour,
            &json!({ "state": "CA" }),
            at - time::Duration::hours(2),
            at + time::Duration::hours(2),
        )
        .await?;
    assert_eq!(buckets.len(), 1);
    assert_eq!((buckets[0].count, buckets[0].sum), (200, None));
    Ok(())
}

#[tokio::test]
async fn metric_input_is_checked_and_kinds_do_not_mix() -> TestResult {
    let (_tdb, db) = setup().await;
    let metrics = db.realtime().metrics();
    let at = OffsetDateTime::now_utc();
    metrics
        .record(&sample("quotes.rated", at, Observation::Count(3)))
        .await?;
    assert!(matches!(
        metrics
            .record(&sample("quotes.rated", at, Observation::Value(dec!(1))))
            .await,
        Err(MetricError::MixedKinds(_))
    ));
    let invalid = [
        sample("Quotes Rated", at, Observation::Count(1)),
        MetricSample {
            dimensions: json!(["CA"]),
            ..sample("quotes.rated", at, Observation::Count(1))
        },
        MetricSample {
            dimensions: json!({ "k": "x".repeat(2000) }),
            ..sample("quotes.rated", at, Observation::Count(1))
        },
        sample("quotes.rated", at, Observation::Count(0)),
        sample(
            "latency",
            at,
            Observation::Summary {
                count: 1,
                sum: dec!(1),
                min: dec!(5),
                max: dec!(1),
            },
        ),
    ];
    for s in invalid {
        assert!(
            matches!(metrics.record(&s).await, Err(MetricError::Invalid(_))),
            "{s:?}"
        );
    }
    assert!(matches!(
        metrics
            .range("quotes.rated", MetricBucketWidth::Hour, &json!({}), at, at)
            .await,
        Err(MetricError::Invalid(_))
    ));
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Notification queue
// ------------------------------------------------------------------------------------------

fn email_to(address: &str) -> NewNotification {
    NewNotification {
        channel: NotificationChannel::Email,
        recipient: Recipient::Address {
            address: address.into(),
        },
        template: "quote.ready".into(),
        payload: json!({ "quote_number": "Q-20260101-ABC123" }),
        priority: 5,
        not_before: None,
        max_attempts: None,
    }
}

#[tokio::test]
async fn enqueue_copies_max_attempts_from_the_setting_unless_given() -> TestResult {
    let (_tdb, db) = setup().await;
    set_setting(&db, "notifications.max_attempts", json!(3)).await;
    let queue = db.realtime().notifications();
    let n = queue.enqueue(&email_to("ann@example.com")).await?;
    assert_eq!(
        (n.status, n.attempts, n.max_attempts),
        (NotificationStatus::Pending, 0, 3)
    );
    let n = queue
        .enqueue(&NewNotification {
            max_attempts: Some(7),
            ..email_to("ann@example.com")
        })
        .await?;
    assert_eq!(n.max_attempts, 7);
    assert_eq!(queue.get(n.id).await?, n);

    delete_setting(&db, "notifications.max_attempts").await;
    assert!(matches!(
        queue.enqueue(&email_to("ann@example.com")).await,
        Err(NotificationError::Setting { .. })
    ));
    assert!(matches!(
        queue.enqueue_batch(&[email_to("ann@example.com")]).await,
        Err(NotificationError::Setting { .. })
    ));
    assert_eq!(
        queue
            .enqueue(&NewNotification {
                max_attempts: Some(2),
                ..email_to("a@b.co")
            })
            .await?
            .max_attempts,
        2
    );
    Ok(())
}

#[tokio::test]
async fn a_recipient_must_be_valid_for_its_channel() -> TestResult {
    let (tdb, db) = setup().await;
    set_setting(&db, "notifications.max_attempts", json!(5)).await;
    let uid = customer(&db, "user").await;
    let queue = db.realtime().notifications();
    let with = |channel, recipient| NewNotification {
        channel,
        recipient,
        ..email_to("x@example.com")
    };
    let addr = |a: &str| Recipient::Address { address: a.into() };
    for bad in [
        with(NotificationChannel::Email, addr("not-an-email")),
        with(NotificationChannel::Sms, addr("555-1234")),
        with(NotificationChannel::Push, addr("has space")),
        with(NotificationChannel::InApp, addr("ann@example.com")),
        with(
            NotificationChannel::Websocket,
            Recipient::UserAt {
                user_id: uid,
                address: "ann@example.com".into(),
            },
        ),
        with(
            NotificationChannel::Email,
            Recipient::UserAt {
                user_id: uid,
                address: "broken".into(),
            },
        ),
    ] {
        assert!(
            matches!(queue.enqueue(&bad).await, Err(NotificationError::Invalid(ref e)) if e.field == "recipient"),
            "{bad:?}"
        );
    }
    for good in [
        with(NotificationChannel::Sms, addr("+15551234567")),
        with(NotificationChannel::Push, addr("device-token-1")),
        with(NotificationChannel::InApp, Recipient::User { user_id: uid }),
        with(
            NotificationChannel::Email,
            Recipient::UserAt {
                user_id: uid,
                address: "ann@example.com".into(),
            },
        ),
    ] {
        queue.enqueue(&good).await?;
    }
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(
        queue
            .enqueue(&with(NotificationChannel::InApp, Recipient::User { user_id: ghost }))
            .await,
        Err(NotificationError::UnknownRecipient)
    ));
    for bad in [
        NewNotification {
            template: "Quote Ready".into(),
            ..email_to("a@b.co")
        },
        NewNotification {
            payload: json!("text"),
            ..email_to("a@b.co")
        },
        NewNotification {
            priority: 10,
            ..email_to("a@b.co")
        },
        NewNotification {
            max_attempts: Some(0),
            ..email_to("a@b.co")
        },
    ] {
        assert!(
            matches!(queue.enqueue(&bad).await, Err(NotificationError::Invalid(_))),
            "{bad:?}"
        );
    }
    // A batch is validated as a whole: nothing is queued.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_queue")
        .fetch_one(tdb.pool())
        .await?;
    let batch = [email_to("a@b.co"), with(NotificationChannel::Sms, addr("nope"))];
    assert!(matches!(
        queue.enqueue_batch(&batch).await,
        Err(NotificationError::Invalid(_))
    ));
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_queue")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(before, after);
    Ok(())
}

#[tokio::test]
async fn a_claimed_notification_is_marked_sent_once_by_its_worker() -> TestResult {
    let (_tdb, db) = setup().await;
    set_setting(&db, "notifications.max_attempts", json!(5)).await;
    let queue = db.realtime().notifications();
    let n = queue.enqueue(&email_to("ann@example.com")).await?;
    let claimed = queue.claim("worker-a", 10).await?;
    assert_eq!(claimed.len(), 1);
    let c = &claimed[0];
    assert_eq!((c.id, c.status, c.attempts), (n.id, NotificationStatus::Processing, 1));
    assert_eq!(c.locked_by.as_deref(), Some("worker-a"));
    assert!(
        queue.claim("worker-b", 10).await?.is_empty(),
        "a claimed row is not claimed twice"
    );

    assert!(matches!(
        queue.mark_sent(n.id, "worker-b").await,
        Err(NotificationError::NotClaimed {
            status: NotificationStatus::Processing,
            ..
        })
    ));
    let sent = queue.mark_sent(n.id, "worker-a").await?;
    assert_eq!(sent.status, NotificationStatus::Sent);
    assert!(sent.sent_at.is_some() && sent.locked_by.is_none());
    assert!(matches!(
        queue.mark_sent(n.id, "worker-a").await,
        Err(NotificationError::NotClaimed {
            status: NotificationStatus::Sent,
            ..
        })
    ));
    assert!(matches!(
        queue.mark_sent(NotificationId(uuid::Uuid::new_v4()), "worker-a").await,
        Err(NotificationError::NotFound(_))
    ));
    assert!(matches!(
        queue.claim("worker-a", 0).await,
        Err(NotificationError::Invalid(_))
    ));
    assert!(matches!(queue.claim("  ", 1).await, Err(NotificationError::Invalid(_))));
    Ok(())
}

#[tokio::test]
async fn claims_take_higher_priority_first_and_skip_what_is_not_due() -> TestResult {
    let (_tdb, db) = setup().await;
    set_setting(&db, "notifications.max_attempts", json!(5)).await;
    let queue = db.realtime().notifications();
    let low = queue
        .enqueue(&NewNotification {
            priority: 1,
            ..email_to("a@b.co")
        })
        .await?;
    let high = queue
        .enqueue(&NewNotification {
            priority: 9,
            ..email_to("a@b.co")
        })
        .await?;
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    queue
        .enqueue(&NewNotification {
            priority: 9,
            not_before: Some(later),
            ..email_to("a@b.co")
        })
        .await?;

    let first = queue.claim("w", 1).await?;
    assert_eq!(first.iter().map(|n| n.id).collect::<Vec<_>>(), vec![high.id]);
    let rest = queue.claim("w", 10).await?;
    assert_eq!(
        rest.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![low.id],
        "the scheduled one is not due"
    );
    Ok(())
}

#[tokio::test]
async fn failures_back_off_exponentially_then_the_notification_is_dead() -> TestResult {
    let (tdb, db) = setup().await;
    let queue = db.realtime().notifications().with_backoff(Backoff {
        base: Duration::from_secs(60),
        max: Duration::from_secs(600),
    });
    let n = queue
        .enqueue(&NewNotification {
            max_attempts: Some(3),
            ..email_to("a@b.co")
        })
        .await?;
    // Raw SQL: skipping the back-off wait (the API never moves next_attempt_at).
    let make_due = |id: NotificationId| {
        sqlx::query("UPDATE notification_queue SET next_attempt_at = now() WHERE id = $1")
            .bind(id.0)
            .execute(tdb.pool())
    };

    let mut delays = Vec::new();
    for attempt in 1..=2 {
        assert_eq!(queue.claim("w", 1).await?.len(), 1);
        let failed = queue
            .mark_failed(n.id, "w", "smtp 451 try later", RetryDecision::Retry)
            .await?;
        assert_eq!((failed.status, failed.attempts), (NotificationStatus::Failed, attempt));
        assert_eq!(failed.last_error.as_deref(), Some("smtp 451 try later"));
        delays.push(failed.next_attempt_at - failed.updated_at);
        assert!(queue.claim("w", 1).await?.is_empty(), "not due before the backoff");
        make_due(n.id).await?;
    }
    assert_eq!(delays, vec![time::Duration::seconds(60), time::Duration::seconds(120)]);

    assert_eq!(queue.claim("w", 1).await?.len(), 1);
    let dead = queue
        .mark_failed(n.id, "w", "smtp 451 again", RetryDecision::Retry)
        .await?;
    assert_eq!((dead.status, dead.attempts), (NotificationStatus::Dead, 3));
    make_due(n.id).await?;
    assert!(
        queue.claim("w", 1).await?.is_empty(),
        "a dead notification is never claimed"
    );

    // A permanent failure is dead at once; an empty error is refused.
    let p = queue
        .enqueue(&NewNotification {
            max_attempts: Some(5),
            ..email_to("a@b.co")
        })
        .await?;
    queue.claim("w", 1).await?;
    assert!(matches!(
        queue.mark_failed(p.id, "w", "  ", RetryDecision::GiveUp).await,
        Err(NotificationError::Invalid(_))
    ));
    let gone = queue
        .mark_failed(p.id, "w", "mailbox does not exist", RetryDecision::GiveUp)
        .await?;
    assert_eq!((gone.status, gone.attempts), (NotificationStatus::Dead, 1));
    Ok(())
}

#[tokio::test]
async fn stuck_claims_are_recovered_and_the_old_worker_loses_them() -> TestResult {
    let (tdb, db) = setup().await;
    let queue = db.realtime().notifications();
    let retry = queue
        .enqueue(&NewNotification {
            max_attempts: Some(2),
            ..email_to("a@b.co")
        })
        .await?;
    let last = queue
        .enqueue(&NewNotification {
            max_attempts: Some(1),
            ..email_to("a@b.co")
        })
        .await?;
    assert_eq!(queue.claim("crashed-worker", 10).await?.len(), 2);
    assert_eq!(
        queue.recover_stuck(Duration::from_secs(300)).await?,
        0,
        "recent claims are left alone"
    );
    // Raw SQL: back-dating the claims (the API never back-dates).
    sqlx::query("UPDATE notification_queue SET locked_at = now() - interval '1 hour'")
        .execute(tdb.pool())
        .await?;
    assert_eq!(queue.recover_stuck(Duration::from_secs(300)).await?, 2);

    let r = queue.get(retry.id).await?;
    assert_eq!((r.status, r.attempts), (NotificationStatus::Failed, 1));
    assert!(r.last_error.as_deref().is_some_and(|e| e.contains("crashed-worker")));
    assert_eq!(queue.get(last.id).await?.status, NotificationStatus::Dead);
    assert!(matches!(
        queue.mark_sent(retry.id, "crashed-worker").await,
        Err(NotificationError::NotClaimed {
            status: NotificationStatus::Failed,
            ..
        })
    ));
    let again = queue.claim("worker-2", 10).await?;
    assert_eq!(
        again.iter().map(|n| (n.id, n.attempts)).collect::<Vec<_>>(),
        vec![(retry.id, 2)]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_deliver_two_thousand_notifications_exactly_once() -> TestResult {
    let (tdb, db) = setup().await;
    set_setting(&db, "notifications.max_attempts", json!(5)).await;
    assert!(tdb.pool().options().get_max_connections() >= 9);
    let batch: Vec<_> = (0..2000)
        .map(|i| NewNotification {
            priority: (i % 10) as u8,
            ..email_to(&format!("user{i}@example.com"))
        })
        .collect();
    let queued = db.realtime().notifications().enqueue_batch(&batch).await?;
    assert_eq!(queued.len(), 2000);

    let mut workers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let db = db.clone();
        workers.spawn(async move {
            let name = format!("worker-{w}");
            let queue = db.realtime().notifications();
            let mut delivered = Vec::new();
            loop {
                let claimed = queue.claim(&name, 25).await?;
                if claimed.is_empty() {
                    break;
                }
                for n in claimed {
                    queue.mark_sent(n.id, &name).await?;
                    delivered.push(n.id);
                }
            }
            Ok::<_, NotificationError>(delivered)
        });
    }
    let mut all = Vec::new();
    let mut busy_workers = 0;
    while let Some(done) = workers.join_next().await {
        let delivered = done??;
        busy_workers += usize::from(!delivered.is_empty());
        all.extend(delivered);
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 2000, "every notification delivered once");
    assert_eq!(unique.len(), 2000, "no notification delivered twice");
    assert_eq!(unique, queued.into_iter().collect::<HashSet<_>>(), "none lost");
    assert!(busy_workers > 1, "the work was shared");
    let counts = db.realtime().notifications().status_counts().await?;
    assert_eq!(counts, vec![(NotificationStatus::Sent, 2000)]);
    Ok(())
}
