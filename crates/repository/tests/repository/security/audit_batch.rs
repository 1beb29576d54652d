//! The audit log's batch path: `append_batch` appends all entries or none, in one statement.

use quotedb_repository::security::audit::MAX_BATCH;
use quotedb_repository::security::{AuditError, AuditQuery, NewAuditEntry};
use quotedb_repository::{Actor, PageRequest, UserId};
use serde_json::json;
use time::OffsetDateTime;

use crate::common::{TestResult, customer, setup};

fn entry(entity_id: &str, n: usize) -> NewAuditEntry {
    NewAuditEntry {
        action: "quote.rated".into(),
        entity_type: "quotes".into(),
        entity_id: entity_id.into(),
        old_values: n.is_multiple_of(2).then(|| json!({ "premium": n })),
        new_values: Some(json!({ "premium": n + 1 })),
        ip: n.is_multiple_of(3).then(|| "198.51.100.4".parse().expect("literal ip")),
        request_id: Some(format!("req-{n}")),
    }
}

async fn count(tdb: &quotedb_testkit::TestDb) -> TestResult<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(tdb.pool())
        .await?)
}

#[tokio::test]
async fn a_batch_is_appended_stamped_by_the_database_and_read_back_in_the_history() -> TestResult {
    let (tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let audit = db.security().audit();
    let start = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let batch: Vec<_> = (0..7).map(|n| entry("q-1", n)).collect();
    assert_eq!(audit.append_batch(&Actor::Customer(uid), &batch).await?, 7);
    assert_eq!(audit.append_batch(&Actor::System, &[entry("q-2", 0)]).await?, 1);
    let end = OffsetDateTime::now_utc() + time::Duration::minutes(1);

    let q = AuditQuery {
        entity_type: "quotes".into(),
        entity_id: "q-1".into(),
        from: start,
        to: end,
        page: PageRequest::first(50),
    };
    let page = audit.history(&Actor::System, &q).await?;
    assert_eq!(page.items.len(), 7);
    assert!(page.next.is_none());
    let mut read: Vec<_> = page
        .items
        .iter()
        .map(|e| {
            assert_eq!(e.actor_user_id, Some(uid));
            assert!(e.occurred_at >= start && e.occurred_at < end, "stamped now");
            NewAuditEntry {
                action: e.action.clone(),
                entity_type: e.entity_type.clone(),
                entity_id: e.entity_id.clone(),
                old_values: e.old_values.clone(),
                new_values: e.new_values.clone(),
                ip: e.ip,
                request_id: e.request_id.clone(),
            }
        })
        .collect();
    read.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    assert_eq!(read, batch, "every entry exactly once, as given");
    // One statement: the whole batch carries one database time.
    let times: i64 = sqlx::query_scalar("SELECT count(DISTINCT occurred_at) FROM audit_logs WHERE entity_id = 'q-1'")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(times, 1);

    let system = AuditQuery {
        entity_id: "q-2".into(),
        ..q
    };
    let page = audit.history(&Actor::System, &system).await?;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].actor_user_id, None);
    Ok(())
}

#[tokio::test]
async fn a_bad_entry_refuses_the_whole_batch_naming_its_index() -> TestResult {
    let (tdb, db) = setup().await;
    let audit = db.security().audit();
    let cases = [
        (
            "action",
            NewAuditEntry {
                action: "Quote Rated".into(),
                ..entry("q-1", 3)
            },
        ),
        (
            "entity_type",
            NewAuditEntry {
                entity_type: "quote.rows".into(),
                ..entry("q-1", 3)
            },
        ),
        (
            "entity_id",
            NewAuditEntry {
                entity_id: "has space".into(),
                ..entry("q-1", 3)
            },
        ),
        (
            "new_values",
            NewAuditEntry {
                new_values: Some(json!("not an object")),
                ..entry("q-1", 3)
            },
        ),
        (
            "request_id",
            NewAuditEntry {
                request_id: Some("bad id!".into()),
                ..entry("q-1", 3)
            },
        ),
    ];
    for (field, bad) in cases {
        let mut batch: Vec<_> = (0..6).map(|n| entry("q-1", n)).collect();
        batch[3] = bad;
        match audit.append_batch(&Actor::System, &batch).await {
            Err(AuditError::Invalid(err)) => {
                assert_eq!(err.field, field);
                assert!(err.reason.starts_with("entry 3: "), "{}", err.reason);
            }
            other => panic!("expected Invalid({field}) of entry 3, got {other:?}"),
        }
    }
    // An actor that does not exist: the database refuses the statement, so no row of it.
    let ghost = UserId(uuid::Uuid::new_v4());
    let batch: Vec<_> = (0..4).map(|n| entry("q-1", n)).collect();
    assert!(matches!(
        audit.append_batch(&Actor::Customer(ghost), &batch).await,
        Err(AuditError::UnknownActor(u)) if u == ghost
    ));
    assert_eq!(count(&tdb).await?, 0, "nothing written");
    Ok(())
}

#[tokio::test]
async fn an_empty_batch_appends_nothing_and_an_oversized_one_is_refused() -> TestResult {
    let (tdb, db) = setup().await;
    let audit = db.security().audit();
    assert_eq!(audit.append_batch(&Actor::System, &[]).await?, 0);

    let over: Vec<_> = (0..=MAX_BATCH).map(|n| entry("q-1", n)).collect();
    assert!(matches!(
        audit.append_batch(&Actor::System, &over).await,
        Err(AuditError::Invalid(ref e)) if e.field == "entries"
    ));
    assert_eq!(count(&tdb).await?, 0, "nothing written");

    // The maximum itself is one statement.
    assert_eq!(
        audit.append_batch(&Actor::System, &over[..MAX_BATCH]).await?,
        u64::try_from(MAX_BATCH)?
    );
    assert_eq!(count(&tdb).await?, i64::try_from(MAX_BATCH)?);
    Ok(())
}
