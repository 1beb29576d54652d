//! Connection faults are the library's problem, not the caller's: after every pooled connection
//! is killed, or the server restarts, reads see no failure once the server is back (retried once
//! on a fresh connection), writes are either committed exactly once or fail with an error whose
//! `is_retryable()` is true, and no call hangs beyond the pool's acquire timeout. A pool far
//! smaller than its callers still serves them all.
//!
//! One test function: the restart cuts every connection of the server, so nothing else may run
//! in this binary meanwhile.

#[path = "repository/common/mod.rs"]
#[allow(dead_code, unused_imports, reason = "this binary uses a part of the shared helpers")]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::rates as fx;
use common::{as_customer, customer};
use quotedb_repository::quotes::{CoverageRequest, NewQuote};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::{Db, QuoteNumber, UserId};
use quotedb_testkit::{Backend, TestDb};
use rust_decimal_macros::dec;
use time::OffsetDateTime;

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// No call may take longer than this (the acquire timeout, a reconnect, and slack for a busy CI).
const CALL_BOUND: Duration = Duration::from_secs(20);

fn new_quote(customer: UserId, marker: Option<usize>) -> NewQuote {
    let mut metadata = serde_json::Map::new();
    if let Some(marker) = marker {
        metadata.insert("fault_test_write".into(), serde_json::json!(marker));
    }
    NewQuote {
        customer_id: customer,
        agent_id: None,
        state_code: fx::state(),
        zip: fx::zip(),
        effective_date: (OffsetDateTime::now_utc() + time::Duration::days(7)).date(),
        coverages: vec![CoverageRequest {
            coverage_type: CoverageType::Collision,
            limit_amount: None,
            deductible: dec!(500),
        }],
        eligibility: Eligibility::default(),
        metadata,
    }
}

#[derive(Debug, Default)]
struct Counts {
    reads: AtomicUsize,
    failed_reads: AtomicUsize,
    writes_ok: AtomicUsize,
    writes_retryable: AtomicUsize,
    writes_other: AtomicUsize,
    over_bound: AtomicUsize,
}

/// What the callers share with the test: when to count read failures (the server is up), when to
/// stop, and the next write's marker.
#[derive(Debug, Clone)]
struct Flags {
    count_reads: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    next_marker: Arc<AtomicUsize>,
}

/// `callers` tasks reading a quote and creating quotes until `stop`; read failures are counted
/// only while `count_reads` is set (the server is up).
async fn callers(
    db: &Db,
    customer: UserId,
    number: &QuoteNumber,
    callers: usize,
    counts: &Arc<Counts>,
    flags: &Flags,
) -> Vec<tokio::task::JoinHandle<()>> {
    let Flags {
        count_reads,
        stop,
        next_marker,
    } = flags;
    (0..callers)
        .map(|_| {
            let (db, number, counts) = (db.clone(), number.clone(), counts.clone());
            let (count_reads, stop, next_marker) = (count_reads.clone(), stop.clone(), next_marker.clone());
            tokio::spawn(async move {
                let actor = as_customer(customer);
                while !stop.load(Ordering::SeqCst) {
                    let counted = count_reads.load(Ordering::SeqCst);
                    match tokio::time::timeout(CALL_BOUND, db.quotes().get_by_number(&actor, &number)).await {
                        Err(_) => {
                            counts.over_bound.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Ok(_)) => {
                            counts.reads.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Err(e)) => {
                            if counted && count_reads.load(Ordering::SeqCst) {
                                eprintln!("read failed while the server was up: {e}");
                                counts.failed_reads.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    let marker = next_marker.fetch_add(1, Ordering::SeqCst);
                    match tokio::time::timeout(
                        CALL_BOUND,
                        db.quotes().create(&actor, &new_quote(customer, Some(marker))),
                    )
                    .await
                    {
                        Err(_) => {
                            counts.over_bound.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Ok(_)) => {
                            counts.writes_ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Err(e)) if e.is_retryable() => {
                            counts.writes_retryable.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Err(e)) => {
                            eprintln!("write failed without being retryable: {e}");
                            counts.writes_other.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect()
}

async fn kill_every_backend(tdb: &TestDb) {
    sqlx::query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .execute(tdb.pool())
        .await
        .expect("terminate the pool's backends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connection_faults_reach_no_caller_and_a_small_pool_serves_many() {
    let (tdb, _) = fx::setup().await;
    let options = Db::pool_options()
        .max_connections(4)
        .min_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT);
    let db = Db::connect_with(tdb.url(), options).await.expect("connect");
    let (customer, number) = customer_with_a_quote(&db, "faults-a").await;

    // (a) Every pooled connection killed, while 8 callers read and write.
    let counts = Arc::new(Counts::default());
    let flags = Flags {
        count_reads: Arc::new(AtomicBool::new(true)),
        stop: Arc::new(AtomicBool::new(false)),
        next_marker: Arc::new(AtomicUsize::new(0)),
    };
    let Flags {
        count_reads,
        stop,
        next_marker,
    } = flags.clone();
    let tasks = callers(&db, customer, &number, 8, &counts, &flags).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        kill_every_backend(&tdb).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.expect("caller");
    }
    eprintln!("after killing every backend: {counts:?}");
    assert_eq!(counts.failed_reads.load(Ordering::SeqCst), 0, "no read failed");
    assert_eq!(
        counts.writes_other.load(Ordering::SeqCst),
        0,
        "every failed write is retryable"
    );
    assert_eq!(counts.over_bound.load(Ordering::SeqCst), 0, "no call hung");
    assert!(counts.reads.load(Ordering::SeqCst) > 0 && counts.writes_ok.load(Ordering::SeqCst) > 0);
    assert_writes_exactly_once(&tdb, customer, &counts).await;

    // (b) The server restarts (pg_ctl restart -m fast), when this is the local cluster.
    if let Backend::LocalCluster(cluster) = tdb.server().backend() {
        let (customer, number) = customer_with_a_quote(&db, "faults-b").await;
        let counts = Arc::new(Counts::default());
        stop.store(false, Ordering::SeqCst);
        let written_before = next_marker.load(Ordering::SeqCst);
        let tasks = callers(&db, customer, &number, 8, &counts, &flags).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        count_reads.store(false, Ordering::SeqCst);
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.restart())
            .await
            .expect("restart task")
            .expect("pg_ctl restart");
        count_reads.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            t.await.expect("caller");
        }
        eprintln!("around a server restart: {counts:?}");
        assert_eq!(
            counts.failed_reads.load(Ordering::SeqCst),
            0,
            "no read failed once the server was back"
        );
        assert_eq!(
            counts.writes_other.load(Ordering::SeqCst),
            0,
            "every failed write is retryable"
        );
        assert_eq!(counts.over_bound.load(Ordering::SeqCst), 0, "no call hung");
        assert!(
            counts.reads.load(Ordering::SeqCst) > 0,
            "reads went on after the restart"
        );
        assert!(next_marker.load(Ordering::SeqCst) > written_before);
        assert_writes_exactly_once(&tdb, customer, &counts).await;
    } else {
        eprintln!("skipping the restart half: the server is not the project-local cluster");
    }

    // (c) 64 callers on a 2-connection pool all complete.
    let small = Db::connect_with(
        tdb.url(),
        Db::pool_options()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30)),
    )
    .await
    .expect("small pool");
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let (db, number) = (small.clone(), number.clone());
            tokio::spawn(async move { db.quotes().get_by_number(&as_customer(customer), &number).await })
        })
        .collect();
    let mut done = 0;
    for c in calls {
        c.await.expect("caller").expect("read on the small pool");
        done += 1;
    }
    assert_eq!(done, 64);
}

/// A new customer and the number of a quote of theirs.
async fn customer_with_a_quote(db: &Db, tag: &str) -> (UserId, QuoteNumber) {
    let customer = customer(db, tag).await;
    let number = db
        .quotes()
        .create(&as_customer(customer), &new_quote(customer, None))
        .await
        .expect("a quote to read")
        .quote
        .quote_number;
    (customer, number)
}

/// Every write of `customer`'s callers reported committed is there once; none is there twice;
/// those of unknown outcome are there at most once.
async fn assert_writes_exactly_once(tdb: &TestDb, customer: UserId, counts: &Counts) {
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT metadata -> 'fault_test_write') FROM quotes
         WHERE customer_id = $1 AND metadata ? 'fault_test_write'",
    )
    .bind(customer.0)
    .fetch_one(tdb.pool())
    .await
    .expect("read the writes back");
    assert_eq!(rows, distinct, "no write was committed twice");
    let ok = counts.writes_ok.load(Ordering::SeqCst) as i64;
    let retryable = counts.writes_retryable.load(Ordering::SeqCst) as i64;
    assert!(
        rows >= ok && rows <= ok + retryable,
        "committed rows {rows}: between the {ok} reported committed and those plus the {retryable} of unknown outcome"
    );
}
