//! The notification queue: enqueue, claim, back-off, recovery of stuck claims, exactly-once delivery.

use std::collections::HashSet;
use std::time::Duration;

use quotedb_repository::realtime::{Backoff, NewNotification, NotificationError, Recipient, RetryDecision};
use quotedb_repository::schema::realtime::{NotificationChannel, NotificationStatus};
use quotedb_repository::{NotificationId, UserId};
use serde_json::json;
use time::OffsetDateTime;

use crate::common::{TestResult, customer, delete_setting, set_setting, setup};

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
