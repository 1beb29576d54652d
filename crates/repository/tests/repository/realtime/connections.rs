//! Websocket connections: open, heartbeat, subscriptions, close and the stale sweep.

use std::time::Duration;

use quotedb_repository::realtime::{ConnectionError, NewConnection};
use quotedb_repository::{ConnectionId, UserId};

use crate::common::{TestResult, customer, setup};

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
