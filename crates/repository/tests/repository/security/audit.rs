//! The audit log: appending and an entity's history in keyset pages.

use quotedb_repository::security::{AuditError, AuditQuery, NewAuditEntry};
use quotedb_repository::{Actor, PageRequest, UserId};
use serde_json::json;
use time::OffsetDateTime;

use crate::common::{TestResult, customer, setup};

fn entry(entity_id: &str, n: i32) -> NewAuditEntry {
    NewAuditEntry {
        action: "quote.rated".into(),
        entity_type: "quotes".into(),
        entity_id: entity_id.into(),
        old_values: Some(json!({ "premium": n })),
        new_values: Some(json!({ "premium": n + 1 })),
        ip: Some("198.51.100.4".parse().expect("literal ip")),
        request_id: Some(format!("req-{n}")),
    }
}

#[tokio::test]
async fn an_entitys_history_comes_newest_first_in_keyset_pages() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let audit = db.security().audit();
    let start = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let mut appended = Vec::new();
    for n in 0..5 {
        appended.push(audit.append(&Actor::Customer(uid), entry("q-1", n)).await?.id);
    }
    audit.append(&Actor::System, entry("q-2", 99)).await?;
    let end = OffsetDateTime::now_utc() + time::Duration::minutes(1);

    let mut q = AuditQuery {
        entity_type: "quotes".into(),
        entity_id: "q-1".into(),
        from: start,
        to: end,
        page: PageRequest::first(2),
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = audit.history(&Actor::System, &q).await?;
        pages += 1;
        for e in &page.items {
            assert_eq!(e.actor_user_id, Some(uid));
            assert_eq!(e.entity_id, "q-1");
        }
        seen.extend(page.items.iter().map(|e| (e.occurred_at, e.id)));
        match page.next {
            Some(c) => q.page.after = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "newest first");
    let mut ids: Vec<_> = seen.iter().map(|(_, id)| *id).collect();
    ids.sort();
    appended.sort();
    assert_eq!(ids, appended, "every entry exactly once");

    // A range before the entries holds none of them.
    let before = AuditQuery {
        from: start - time::Duration::hours(2),
        to: start,
        page: PageRequest::first(2),
        ..q
    };
    assert!(audit.history(&Actor::System, &before).await?.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_system_appends_without_an_actor_and_bad_entries_are_refused() -> TestResult {
    let (tdb, db) = setup().await;
    let audit = db.security().audit();
    let e = audit.append(&Actor::System, entry("q-1", 1)).await?;
    assert_eq!(e.actor_user_id, None);
    assert_eq!(e.request_id.as_deref(), Some("req-1"));
    assert_eq!(e.ip, Some("198.51.100.4".parse()?));

    let cases = [
        (
            "action",
            NewAuditEntry {
                action: "Quote Rated".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "entity_type",
            NewAuditEntry {
                entity_type: "quote.rows".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "entity_id",
            NewAuditEntry {
                entity_id: "has space".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "old_values",
            NewAuditEntry {
                old_values: Some(json!([1])),
                ..entry("q-1", 1)
            },
        ),
        (
            "request_id",
            NewAuditEntry {
                request_id: Some("bad id!".into()),
                ..entry("q-1", 1)
            },
        ),
    ];
    for (field, input) in cases {
        match audit.append(&Actor::System, input).await {
            Err(AuditError::Invalid(err)) => assert_eq!(err.field, field),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(
        audit.append(&Actor::Customer(ghost), entry("q-1", 1)).await,
        Err(AuditError::UnknownActor(u)) if u == ghost
    ));
    let now = OffsetDateTime::now_utc();
    let bad_size = AuditQuery {
        entity_type: "quotes".into(),
        entity_id: "q-1".into(),
        from: now - time::Duration::hours(1),
        to: now,
        page: PageRequest::first(0),
    };
    assert!(matches!(
        audit.history(&Actor::System, &bad_size).await,
        Err(AuditError::Invalid(ref e)) if e.field == "size"
    ));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(count, 1);
    Ok(())
}
