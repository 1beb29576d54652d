//! Read routing on a real streaming replica (a hot standby of the test cluster, made by the test
//! kit with `pg_basebackup`): read-your-writes through a [`ReadToken`], the fallback to the
//! primary when the replica lags (replay paused) or is down.
//!
//! Tests that only read share the kit's replica ([`quotedb_testkit::replica`]); a test that
//! pauses or stops its replica gets one of its own ([`quotedb_testkit::dedicated_replica`]), so
//! the tests running beside it in this binary are not disturbed. Without a replica (a
//! `DATABASE_URL` server and no `QUOTEDB_REPLICA_URL`) they skip, saying so.

use std::time::{Duration, Instant};

use quotedb_repository::quotes::Quote;
use quotedb_repository::{Actor, Db, PageRequest, QuoteId, ReadToken, ReplicaOptions, UserId};
use quotedb_testkit::{Error, Replica, TestDb};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection as _, PgConnection, PgPool};

use crate::common;
use crate::common::rates::setup;

/// The shared replica, or `None` (the test skips) when there is none.
async fn shared_replica() -> Option<&'static Replica> {
    match quotedb_testkit::replica().await {
        Ok(replica) => Some(replica),
        Err(Error::NoReplica(why)) => {
            eprintln!("skipped: {why}");
            None
        }
        Err(e) => panic!("quotedb-testkit: {e}"),
    }
}

/// A replica of this test's own, or `None` (the test skips) when there is none.
async fn own_replica(name: &str) -> Option<Replica> {
    match quotedb_testkit::dedicated_replica(name).await {
        Ok(replica) => Some(replica),
        Err(Error::NoReplica(why)) => {
            eprintln!("skipped: {why}");
            None
        }
        Err(e) => panic!("quotedb-testkit: {e}"),
    }
}

/// A seeded database with the rating fixtures, a handle routing reads to `replica`, and the
/// handle's pool on the replica.
async fn routed(replica: &Replica, options: ReplicaOptions) -> (TestDb, Db, PgPool) {
    let (tdb, _) = setup().await;
    let url = replica.url_for(tdb.name()).await.expect("the database on the replica");
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(options.probe_timeout)
        .connect(&url)
        .await
        .expect("connect to the replica");
    let db = Db::with_replicas(tdb.pool().clone(), vec![pool.clone()], options);
    (tdb, db, pool)
}

/// A superuser connection to the replica's maintenance database.
async fn replica_admin(replica: &Replica) -> PgConnection {
    PgConnection::connect(&replica.admin_url())
        .await
        .expect("connect to the replica")
}

async fn create(db: &Db, customer: UserId) -> Quote {
    db.quotes()
        .create(&Actor::Customer(customer), &crate::quotes::new_quote(customer, None))
        .await
        .expect("create")
        .quote
}

async fn first_page(db: &Db, customer: UserId) -> Vec<QuoteId> {
    db.quotes()
        .list_for_customer(&Actor::Customer(customer), customer, &PageRequest::first(100))
        .await
        .expect("page")
        .items
        .iter()
        .map(|q| q.id)
        .collect()
}

#[tokio::test]
async fn a_quote_created_and_read_back_with_its_token_is_always_seen() {
    let Some(replica) = shared_replica().await else { return };
    // The replica is shared with every test of the binary running at once (their databases
    // come and go through its WAL): on a loaded machine it may lag seconds behind. Lag is not
    // this test's subject (a lagging replica is skipped, and the read is correct either way):
    // a generous bound, and a patient max_wait so that it serves what it can.
    let options = ReplicaOptions {
        max_wait: Duration::from_secs(1),
        max_lag: Duration::from_secs(3600),
        ..ReplicaOptions::default()
    };
    let (_tdb, db, _) = routed(replica, options).await;
    let customer = common::customer(&db, "ryw").await;
    let mut on_replica = 0;
    for i in 0..50 {
        let quote = create(&db, customer).await;
        let token = db.read_token().await.expect("token");
        let reader = db.after(token);
        if reader.read_route().await == Some(0) {
            on_replica += 1;
        }
        let page = first_page(&reader, customer).await;
        assert!(
            page.contains(&quote.id),
            "cycle {i}: the quote just created is on the page"
        );
        assert_eq!(page.len(), i + 1, "cycle {i}");
        // Across requests: the token as text.
        let carried: ReadToken = token.to_string().parse().expect("token text");
        assert!(first_page(&db.after(carried), customer).await.contains(&quote.id));
    }
    eprintln!(
        "read-your-writes: {on_replica}/50 token reads were served by the replica ({:?})",
        db.replica_status()
    );
    // Once the replica has replayed a token, a read with it is served there, and sees the write.
    let quote = create(&db, customer).await;
    let token = db.read_token().await.expect("token");
    replica
        .wait_for_replay(&token.to_string(), Duration::from_secs(60))
        .await
        .expect("replayed");
    assert_eq!(db.after(token).read_route().await, Some(0), "{:?}", db.replica_status());
    assert!(first_page(&db.after(token), customer).await.contains(&quote.id));
}

/// A replica of its own (pausing or stopping the shared one would disturb the tests beside it),
/// one for both scenarios: each standby replays all the cluster's WAL, so a test binary running
/// its tests at once should not start more of them than it needs.
#[tokio::test]
async fn a_paused_then_stopped_replica_leaves_reads_correct_on_the_primary() {
    let Some(replica) = own_replica("disturbed").await else {
        return;
    };
    with_replay_paused_reads_fall_back_to_the_primary_within_the_bound(&replica).await;
    with_the_replica_stopped_reads_keep_working_on_the_primary(&replica).await;
    replica.remove().await.expect("remove the replica");
}

async fn with_replay_paused_reads_fall_back_to_the_primary_within_the_bound(replica: &Replica) {
    // A generous lag bound here: the token read must wait out max_wait, not skip the replica.
    let options = ReplicaOptions {
        max_wait: Duration::from_millis(200),
        max_lag: Duration::from_secs(3600),
        ..ReplicaOptions::default()
    };
    let (_tdb, db, replica_pool) = routed(replica, options).await;
    // The same replica behind a tight lag bound.
    let strict = ReplicaOptions {
        max_lag: Duration::from_millis(500),
        ..options
    };
    let strict = Db::with_replicas(db.pool().clone(), vec![replica_pool], strict);
    let customer = common::customer(&db, "paused").await;
    let before = create(&db, customer).await;
    let token = db.read_token().await.expect("token");
    assert!(first_page(&db.after(token), customer).await.contains(&before.id));

    let mut admin = replica_admin(replica).await;
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&mut admin)
        .await
        .expect("pause");
    loop {
        let state: String = sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()")
            .fetch_one(&mut admin)
            .await
            .expect("pause state");
        if state == "paused" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let quote = create(&db, customer).await;
    let token = db.read_token().await.expect("token");
    let start = Instant::now();
    let page = first_page(&db.after(token), customer).await;
    let elapsed = start.elapsed();
    assert!(
        page.contains(&quote.id),
        "the paused replica is not read: the primary has the quote"
    );
    assert!(
        elapsed >= options.max_wait && elapsed <= options.max_wait + Duration::from_millis(300),
        "fell back after {elapsed:?} (max_wait {:?})",
        options.max_wait
    );
    eprintln!(
        "replay paused: the token read fell back to the primary after {elapsed:?} (max_wait {:?})",
        options.max_wait
    );
    assert_eq!(db.after(token).read_route().await, None);

    // Paused with WAL waiting, its replay lag grows past max_lag: even eventual reads skip it.
    assert_eq!(
        db.read_route().await,
        Some(0),
        "within the generous bound: eventual reads stay"
    );
    let start = Instant::now();
    while strict.read_route().await.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the lagging replica is never skipped"
        );
        create(&db, customer).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "replay paused: eventual reads left the replica after {:?}",
        start.elapsed()
    );

    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&mut admin)
        .await
        .expect("resume");
    admin.close().await.expect("close");
    let token = db.read_token().await.expect("token");
    replica
        .wait_for_replay(&token.to_string(), Duration::from_secs(30))
        .await
        .expect("catch up");
    tokio::time::sleep(options.recheck).await;
    assert_eq!(
        db.after(token).read_route().await,
        Some(0),
        "resumed and caught up: the replica serves again"
    );
}

async fn with_the_replica_stopped_reads_keep_working_on_the_primary(replica: &Replica) {
    // Lag is not this test's subject (see above); a stopped replica refuses connections at once.
    let options = ReplicaOptions {
        max_lag: Duration::from_secs(3600),
        probe_timeout: Duration::from_secs(3),
        ..ReplicaOptions::default()
    };
    let (_tdb, db, _) = routed(replica, options).await;
    let customer = common::customer(&db, "stopped").await;
    create(&db, customer).await;
    assert_eq!(db.read_route().await, Some(0), "{:?}", db.replica_status());
    assert!(first_page(&db, customer).await.len() <= 1);

    replica.stop().await.expect("stop the replica");
    let start = Instant::now();
    for i in 0..10 {
        let quote = create(&db, customer).await;
        let token = db.read_token().await.expect("token");
        assert!(
            first_page(&db.after(token), customer).await.contains(&quote.id),
            "read {i}"
        );
        assert_eq!(first_page(&db, customer).await.len(), i + 2, "read {i}");
    }
    let elapsed = start.elapsed();
    eprintln!("replica stopped: 10 create + 2 reads in {elapsed:?}");
    assert!(
        elapsed < options.probe_timeout + Duration::from_secs(5),
        "reads waited on the stopped replica: {elapsed:?}"
    );
    assert_eq!(db.read_route().await, None, "a replica that is down is skipped");
}

/// Replica lag right after a burst of writes, and how long read-your-writes waits for replay.
/// `cargo test -p quotedb-repository --test repository replica::measure -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a measurement, not a check: run it explicitly"]
async fn measure_replica_lag_and_read_your_writes_waits() {
    let Some(replica) = shared_replica().await else { return };
    let options = ReplicaOptions::default();
    let (tdb, db, _) = routed(replica, options).await;
    let customer = common::customer(&db, "measure").await;
    let mut on_replica = PgConnection::connect(&replica.url_for(tdb.name()).await.expect("url"))
        .await
        .expect("connect");

    ryw_waits(
        &db,
        customer,
        &mut on_replica,
        "synchronous_commit = off (the test cluster's)",
    )
    .await;
    // The same with commits flushed before they return, as a durable primary does.
    let sync_primary = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(
            tdb.pool()
                .connect_options()
                .as_ref()
                .clone()
                .options([("synchronous_commit", "on")]),
        )
        .await
        .expect("primary, synchronous commits");
    let replica_pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&replica.url_for(tdb.name()).await.expect("url"))
        .await
        .expect("replica");
    let sync_db = Db::with_replicas(sync_primary, vec![replica_pool], options);
    ryw_waits(&sync_db, customer, &mut on_replica, "synchronous_commit = on").await;

    // A burst of writes, then the lag the primary reports.
    let burst = 200;
    let start = Instant::now();
    for _ in 0..burst {
        create(&db, customer).await;
    }
    let burst_time = start.elapsed();
    let mut primary = PgConnection::connect(tdb.server().admin_url().as_str())
        .await
        .expect("primary");
    let (bytes, seconds): (Option<i64>, Option<f64>) = sqlx::query_as(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), replay_lsn)::int8, \
                extract(epoch FROM replay_lag)::float8 \
         FROM pg_stat_replication WHERE application_name = 'quotedb_replica'",
    )
    .fetch_one(&mut primary)
    .await
    .expect("pg_stat_replication");
    let token = db.read_token().await.expect("token");
    let caught_up = replica
        .wait_for_replay(&token.to_string(), Duration::from_secs(30))
        .await
        .expect("catch up");
    eprintln!(
        "after a burst of {burst} quote creations ({burst_time:?}): replay lag {} bytes, replay_lag {} s; caught up {caught_up:?} later",
        bytes.map_or("?".into(), |b| b.to_string()),
        seconds.map_or("null (idle)".into(), |s| format!("{s:.6}"))
    );
}

/// Read-your-writes waits over 200 create cycles: until replay reaches the token (busy poll on
/// `on_replica`), and through the router.
async fn ryw_waits(db: &Db, customer: UserId, on_replica: &mut PgConnection, label: &str) {
    // Wait until replay reaches each write's token, polling as fast as the round trip allows.
    let cycles = 200;
    let mut waits = Vec::with_capacity(cycles);
    let mut routed_waits = Vec::with_capacity(cycles);
    let mut served = 0;
    for _ in 0..cycles {
        create(db, customer).await;
        let token = db.read_token().await.expect("token");
        let start = Instant::now();
        loop {
            let replayed: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn")
                .bind(token.to_string())
                .fetch_one(&mut *on_replica)
                .await
                .expect("replay lsn");
            if replayed {
                break;
            }
        }
        waits.push(start.elapsed());
        // The same through the router (its probe and poll interval included), for the next write.
        create(db, customer).await;
        let token = db.read_token().await.expect("token");
        let start = Instant::now();
        if db.after(token).read_route().await.is_some() {
            served += 1;
        }
        routed_waits.push(start.elapsed());
    }
    let pct = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    eprintln!(
        "[{label}] read-your-writes, wait until replay >= token (busy poll), {cycles} create cycles: p50 {:?} p99 {:?} max {:?}",
        pct(&mut waits, 0.5),
        pct(&mut waits, 0.99),
        pct(&mut waits, 1.0)
    );
    eprintln!(
        "[{label}] read-your-writes through the router (ReplicaOptions::default()): p50 {:?} p99 {:?} max {:?}; {served}/{cycles} on the replica",
        pct(&mut routed_waits, 0.5),
        pct(&mut routed_waits, 0.99),
        pct(&mut routed_waits, 1.0)
    );
}
