//! `cargo bench`: quotedb's hot paths through the public repository API (the way consumers call
//! them), each compared with the `SELECT 1` floor measured through the same pool in the same run.
//! `cargo xtask bench-report` turns the results into a graded table.
//!
//! The bench database is filled by the volume generator at `QUOTEDB_BENCH_SCALE` (default 10 =
//! 100,000 quotes) and reused between runs; `cargo bench -- --test` runs every bench once on the
//! small scale.
//!
//! The `capacity` group is not a criterion bench: it drives each path with 1, 4, 16 and 64
//! concurrent callers (closed loop, see `quotedb_benches::capacity`) and writes calls/s and
//! latencies to `target/criterion/quotedb-capacity.json`. It runs last, when the filter is absent
//! or part of `capacity` (`cargo bench -p quotedb-benches --bench paths -- capacity`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt as _;
use quotedb_benches::capacity::{self, Caller, CpuProbe, Plan, Point};
use quotedb_benches::params::{Params, params};
use quotedb_benches::{BenchDb, BoxError, TEST_SCALE, bench_db, bench_scale, criterion_test_mode};
use quotedb_repository::admin::SettingKey;
use quotedb_repository::quotes::{CoverageRequest, NewQuote};
use quotedb_repository::rating::{Eligibility, RatingInput, price};
use quotedb_repository::realtime::{MetricSample, NewEvent, NewNotification, Observation, Recipient};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::schema::realtime::{MetricBucketWidth, NotificationChannel};
use quotedb_repository::security::{NewAuditEntry, NewSession};
use quotedb_repository::{Db, PageRequest, QuoteId};
use quotedb_repository::{StateCode, Zip};
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};
use tokio::runtime::Runtime;
use uuid::Uuid;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn setup(rt: &Runtime, scale: f64) -> (BenchDb, Params) {
    rt.block_on(async {
        let env = bench_db(scale).await?;
        let p = params(&env.pool).await?;
        Ok::<_, BoxError>((env, p))
    })
    .unwrap_or_else(|e| panic!("bench database at scale {scale}: {e}"))
}

const COVERAGES: [CoverageType; 4] = [
    CoverageType::BodilyInjury,
    CoverageType::PropertyDamage,
    CoverageType::Collision,
    CoverageType::Comprehensive,
];

fn eligibility() -> Eligibility {
    Eligibility {
        discounts: vec![
            DiscountCode::GoodDriver,
            DiscountCode::Paperless,
            DiscountCode::MultiPolicy,
        ],
        surcharges: vec![SurchargeCode::SpeedingViolation],
    }
}

fn new_quote(p: &Params) -> NewQuote {
    NewQuote {
        customer_id: p.customer,
        agent_id: None,
        state_code: StateCode::parse("CA").expect("state"),
        zip: Zip::parse(p.zip).expect("zip"),
        effective_date: OffsetDateTime::now_utc().date(),
        coverages: COVERAGES
            .iter()
            .map(|&coverage_type| CoverageRequest {
                coverage_type,
                limit_amount: Some(Decimal::from(50_000)),
                deductible: Decimal::from(500),
            })
            .collect(),
        eligibility: eligibility(),
        metadata: serde_json::Map::new(),
    }
}

fn floor(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let mut group = c.benchmark_group("floor");
    group.bench_function("sqlx_select_1", |b| {
        b.to_async(rt).iter(|| async {
            let one: Option<i32> = sqlx::query_scalar!("SELECT 1")
                .fetch_one(&env.pool)
                .await
                .expect("SELECT 1");
            one
        })
    });
    // The same query on one connection held for the whole bench: no acquire and, above all, no
    // release. sqlx 0.9 pings every connection it takes back (PoolConnection::drop spawns
    // return_to_pool, which sends a Sync and waits for ReadyForQuery), so a pooled call costs the
    // server two round trips; the difference between these two rows is that price.
    let held = Arc::new(tokio::sync::Mutex::new(
        rt.block_on(env.pool.acquire()).expect("a held connection"),
    ));
    group.bench_function("sqlx_select_1_held_connection", |b| {
        b.to_async(rt).iter(|| async {
            let mut conn = held.lock().await;
            let one: Option<i32> = sqlx::query_scalar!("SELECT 1")
                .fetch_one(&mut **conn)
                .await
                .expect("SELECT 1");
            one
        })
    });
    // Back to the pool inside the runtime (PoolConnection::drop spawns a task).
    rt.block_on(async move { drop(held) });
    let client = rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&env.url, tokio_postgres::NoTls)
            .await
            .expect("tokio-postgres connect");
        tokio::spawn(connection);
        client
    });
    let statement = rt.block_on(client.prepare("SELECT 1")).expect("prepare");
    group.bench_function("tokio_postgres_select_1", |b| {
        b.to_async(rt).iter(|| async {
            let row = client.query_one(&statement, &[]).await.expect("SELECT 1");
            row.get::<_, i32>(0)
        })
    });
    // The row floor: the rows of a keyset page (the customer's 21 newest quotes) read by a plain
    // query on the pool's own role (no function, no actor), decoded into the Rust types the
    // repository uses. The keyset page minus this row is what the one-round-trip function and the
    // policies cost; this row minus SELECT 1 is what 21 rows cost to produce, ship and decode.
    let customer = p.customer.0;
    group.bench_function("sqlx_21_quote_rows", |b| {
        b.to_async(rt).iter(|| async {
            let rows: Vec<QuoteTuple> = sqlx::query_as(ROWS_21)
                .bind(customer)
                .bind(21_i64)
                .fetch_all(&env.pool)
                .await
                .expect("21 quote rows");
            rows
        })
    });
    let rows_21 = rt.block_on(client.prepare(ROWS_21)).expect("prepare");
    group.bench_function("tokio_postgres_21_quote_rows", |b| {
        b.to_async(rt).iter(|| async {
            let rows = client
                .query(&rows_21, &[&customer, &21_i64])
                .await
                .expect("21 quote rows");
            rows.iter().map(quote_tuple).collect::<Vec<QuoteTuple>>()
        })
    });
    group.finish();
}

/// The 21 newest quotes of a customer, every column of the repository's quote row. The page size
/// is a parameter, as in the repository: with a literal LIMIT the generic plan of a heavy customer
/// turns into a bitmap scan and a sort of all their quotes (see `IndexPath::ordered`).
const ROWS_21: &str = "SELECT id, quote_number, customer_id, agent_id, state_code::text, zip, status::text, premium, \
     current_version, effective_date, expires_at, bound_at, metadata, created_at, updated_at \
     FROM quotes WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";

type QuoteTuple = (
    Uuid,
    String,
    Uuid,
    Option<Uuid>,
    String,
    String,
    String,
    Option<Decimal>,
    i32,
    Date,
    OffsetDateTime,
    Option<OffsetDateTime>,
    serde_json::Value,
    OffsetDateTime,
    OffsetDateTime,
);

fn quote_tuple(r: &tokio_postgres::Row) -> QuoteTuple {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
        r.get(9),
        r.get(10),
        r.get(11),
        r.get(12),
        r.get(13),
        r.get(14),
    )
}

fn quote_paths(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let quotes = env.db.quotes();
    let actor = p.customer_actor();
    let mut group = c.benchmark_group("quote_paths");
    group.bench_function("quote_by_number", |b| {
        b.to_async(rt).iter(|| async {
            quotes
                .get_by_number(&actor, &p.quote_number)
                .await
                .expect("quote by number")
        })
    });
    group.bench_function("keyset_page_20", |b| {
        b.to_async(rt).iter(|| async {
            quotes
                .list_for_customer(&actor, p.customer, &PageRequest::first(20))
                .await
                .expect("keyset page")
        })
    });
    let new = new_quote(p);
    group.bench_function("create_with_rating", |b| {
        b.to_async(rt)
            .iter(|| async { quotes.create(&actor, &new).await.expect("create with rating") })
    });
    // Re-rate a fresh quote of the customer, tracking its version (optimistic concurrency).
    let fresh = rt.block_on(quotes.create(&actor, &new)).expect("quote to re-rate");
    let version = AtomicI32::new(fresh.quote.current_version);
    let elig = eligibility();
    group.bench_function("rerate", |b| {
        b.to_async(rt).iter(|| async {
            let rated = quotes
                .rerate(&actor, fresh.quote.id, version.load(Ordering::Relaxed), &elig)
                .await
                .expect("re-rate");
            version.store(rated.quote.current_version, Ordering::Relaxed);
        })
    });
    group.finish();
}

fn rate_paths(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let rating = env.db.rating();
    let state = StateCode::parse("CA").expect("state");
    let zip = Zip::parse(p.zip).expect("zip");
    let today = OffsetDateTime::now_utc().date();
    let mut group = c.benchmark_group("rate_paths");
    group.bench_function("resolve", |b| {
        b.to_async(rt)
            .iter(|| async { rating.resolve(&state, &zip, &COVERAGES, today).await.expect("resolve") })
    });
    // The same resolution from the database (resolve.sql, one round trip): what every call paid
    // before the reference data cache, and what a call pays while the cache cannot serve.
    let uncached = Db::with_reference_options(
        env.pool.clone(),
        quotedb_repository::reference::ReferenceOptions::disabled(),
    );
    group.bench_function("resolve_database", |b| {
        b.to_async(rt).iter(|| async {
            uncached
                .rating()
                .resolve(&state, &zip, &COVERAGES, today)
                .await
                .expect("resolve")
        })
    });
    let ctx = rt
        .block_on(rating.resolve(&state, &zip, &COVERAGES, today))
        .expect("resolve");
    let input = RatingInput {
        coverages: COVERAGES.to_vec(),
        eligibility: eligibility(),
    };
    group.bench_function("price_pure", |b| b.iter(|| price(&ctx, &input).expect("price")));
    group.finish();
}

fn admin_paths(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let admin = env.db.admin();
    let actor = p.admin_actor();
    let key = SettingKey::parse("rating.discount_cap").expect("key");
    let mut group = c.benchmark_group("admin_paths");
    group.bench_function("permission_check", |b| {
        b.to_async(rt).iter(|| async {
            // reports:read is granted to analyst, below admin: the check walks the hierarchy.
            assert!(
                admin
                    .has_permission(p.admin, "reports:read")
                    .await
                    .expect("permission check")
            );
        })
    });
    group.bench_function("high_risk_page", |b| {
        b.to_async(rt).iter(|| async {
            admin
                .activity()
                .high_risk_page(&actor, &PageRequest::first(20))
                .await
                .expect("high-risk page")
        })
    });
    group.bench_function("pending_rate_changes", |b| {
        b.to_async(rt).iter(|| async {
            admin
                .rate_changes()
                .list_pending(&PageRequest::first(20))
                .await
                .expect("pending")
        })
    });
    // The session check of every signed-in request: three round trips until 0029, one since.
    let sessions = env.db.security().sessions();
    let customer = p.customer_actor();
    let session = rt
        .block_on(sessions.create(
            &customer,
            NewSession {
                user_id: p.customer,
                ip: None,
                user_agent: None,
                lifetime: None,
            },
        ))
        .expect("a session to look up")
        .session
        .id;
    group.bench_function("session_get", |b| {
        b.to_async(rt)
            .iter(|| async { sessions.get(&customer, session).await.expect("session") })
    });
    group.bench_function("settings_read", |b| {
        b.to_async(rt).iter(|| async {
            admin
                .settings()
                .get::<serde_json::Value>(&actor, &key)
                .await
                .expect("settings read")
        })
    });
    group.finish();
}

fn analytics_paths(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let realtime = env.db.realtime();
    let mut group = c.benchmark_group("analytics_paths");
    let sample = MetricSample {
        metric: "quotes.created".into(),
        dimensions: serde_json::json!({ "state": "CA" }),
        width: MetricBucketWidth::Minute,
        at: None,
        observation: Observation::Value(Decimal::new(241_088, 2)),
    };
    group.bench_function("metrics_upsert", |b| {
        b.to_async(rt)
            .iter(|| async { realtime.metrics().record(&sample).await.expect("metrics upsert") })
    });
    group.bench_function("dashboard_24h", |b| {
        b.to_async(rt)
            .iter(|| async { realtime.events().dashboard_24h().await.expect("dashboard") })
    });
    // Each measured claim takes 10 notifications enqueued (untimed) just before it.
    let batch: Vec<NewNotification> = (0..10)
        .map(|i| NewNotification {
            channel: NotificationChannel::InApp,
            recipient: Recipient::User { user_id: p.customer },
            template: "quote.ready".into(),
            payload: serde_json::json!({ "n": i }),
            priority: 9,
            not_before: None,
            max_attempts: None,
        })
        .collect();
    group.bench_function("notification_claim_batch", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let batch = &batch;
            async move {
                let notifications = realtime.notifications();
                let mut measured = Duration::ZERO;
                for _ in 0..iters {
                    notifications.enqueue_batch(batch).await.expect("enqueue");
                    let started = Instant::now();
                    let claimed = notifications.claim("bench-worker", 10).await.expect("claim");
                    measured += started.elapsed();
                    assert!(!claimed.is_empty());
                }
                measured
            }
        })
    });
    group.finish();
}

/// Rows in one measured batch of [`bulk_writes`].
const BULK_ROWS: usize = 1_000;

/// The highest-volume writes in batches of [`BULK_ROWS`]: analytics events
/// (`Events::record_batch`) and audit rows (`AuditLog::append_batch`), each one statement.
/// Criterion reports elements (rows) per second; `cargo xtask bench-report` grades them against
/// 150k rows/s. The rows stay in the bench database (audit rows cannot be deleted), a few hundred
/// thousand per run.
fn bulk_writes(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let mut group = c.benchmark_group("bulk");
    group.throughput(Throughput::Elements(BULK_ROWS as u64));
    group.sample_size(20);
    let events: Vec<NewEvent> = (0..BULK_ROWS)
        .map(|i| NewEvent {
            event_type: "quote.viewed".into(),
            user_id: Some(p.customer),
            session_id: None,
            quote_id: Some(p.quote_id),
            properties: serde_json::json!({ "n": i, "source": "bench", "page": "quote_detail" }),
            occurred_at: None,
        })
        .collect();
    group.bench_function("analytics_events_batch_1000", |b| {
        b.to_async(rt).iter(|| async {
            let n = env
                .db
                .realtime()
                .events()
                .record_batch(&events)
                .await
                .expect("record batch");
            assert_eq!(n, BULK_ROWS as u64);
        })
    });
    let entries: Vec<NewAuditEntry> = (0..BULK_ROWS)
        .map(|i| NewAuditEntry {
            action: "quote.rated".into(),
            entity_type: "quotes".into(),
            entity_id: format!("{}-{i}", p.quote_id.0),
            old_values: Some(serde_json::json!({ "premium": "1204.50", "status": "draft" })),
            new_values: Some(serde_json::json!({ "premium": "1180.25", "status": "rated" })),
            ip: Some(std::net::IpAddr::from([198, 51, 100, 4])),
            request_id: Some(format!("bench-{i}")),
        })
        .collect();
    let actor = p.customer_actor();
    group.bench_function("audit_logs_batch_1000", |b| {
        b.to_async(rt).iter(|| async {
            let n = env
                .db
                .security()
                .audit()
                .append_batch(&actor, &entries)
                .await
                .expect("append batch");
            assert_eq!(n, BULK_ROWS as u64);
        })
    });
    group.finish();
}

/// Whether the only filter given is `scale_curve` (`cargo bench … -- scale_curve`).
fn scale_curve_only() -> bool {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    filters.len() == 1 && filters[0] == "scale_curve"
}

/// The same three paths at two scales 10× apart: the ratio shows whether they stay logarithmic.
fn scale_curve(c: &mut Criterion, rt: &Runtime, small: &(BenchDb, Params), large: &(BenchDb, Params)) {
    let mut group = c.benchmark_group("scale_curve");
    for (label, (env, p)) in [("small", small), ("large", large)] {
        let actor = p.customer_actor();
        let quotes = env.db.quotes();
        let admin = env.db.admin();
        group.bench_function(format!("quote_by_number/{label}"), |b| {
            b.to_async(rt).iter(|| async {
                quotes
                    .get_by_number(&actor, &p.quote_number)
                    .await
                    .expect("quote by number")
            })
        });
        group.bench_function(format!("keyset_page_20/{label}"), |b| {
            b.to_async(rt).iter(|| async {
                quotes
                    .list_for_customer(&actor, p.customer, &PageRequest::first(20))
                    .await
                    .expect("keyset page")
            })
        });
        group.bench_function(format!("permission_check/{label}"), |b| {
            b.to_async(rt)
                .iter(|| async { admin.has_permission(p.admin, "reports:read").await.expect("permission") })
        });
    }
    group.finish();
}

fn all(c: &mut Criterion) {
    let rt = runtime();
    let test_mode = criterion_test_mode();
    let main_scale = bench_scale(test_mode);
    let main = setup(&rt, main_scale);
    let (env, p) = &main;
    // A scale-curve-only run (`-- scale_curve`, e.g. with QUOTEDB_BENCH_SCALE=100) leaves the
    // main run's record of index paths (and its scale) alone.
    if !scale_curve_only() {
        rt.block_on(quotedb_benches::record_index_paths(env, p))
            .unwrap_or_else(|e| panic!("index paths: {e}"));
    }
    floor(c, &rt, env, p);
    quote_paths(c, &rt, env, p);
    rate_paths(c, &rt, env, p);
    admin_paths(c, &rt, env, p);
    analytics_paths(c, &rt, env, p);
    bulk_writes(c, &rt, env, p);
    pgbouncer_paths(c, &rt, env, p);
    testkit_paths(c, &rt);
    if test_mode {
        scale_curve(c, &rt, &main, &main);
    } else {
        let small_scale = (main_scale / 10.0).max(TEST_SCALE / 10.0);
        let small = setup(&rt, small_scale);
        quotedb_benches::record_scale_curve(small_scale, main_scale)
            .unwrap_or_else(|e| panic!("scale curve record: {e}"));
        scale_curve(c, &rt, &small, &main);
    }
    let (env, p) = &main;
    capacity_group(env, p, test_mode);
}

/// The same calls through PgBouncer in transaction pooling mode (the test kit's instance, in
/// front of the bench database) with the repository's options for it
/// (`Db::connect_via_pgbouncer`: every statement in a transaction, no statement cache), beside the
/// direct rows of the same run (`floor/sqlx_select_1`, `quote_paths/quote_by_number`).
fn pgbouncer_paths(c: &mut Criterion, rt: &Runtime, env: &BenchDb, p: &Params) {
    let Some(db) = rt.block_on(async {
        let bouncer = quotedb_testkit::pgbouncer_or_skip("the pgbouncer bench group").await?;
        let name = env.url.rsplit('/').next().unwrap_or_default().to_owned();
        Some(
            Db::connect_via_pgbouncer(&bouncer.url_for(&name))
                .await
                .expect("connect through PgBouncer"),
        )
    }) else {
        return;
    };
    let mut group = c.benchmark_group("pgbouncer");
    let pool = db.pool().clone();
    group.bench_function("select_1", |b| {
        b.to_async(rt).iter(|| async {
            // Simple protocol: what works through transaction pooling without a transaction.
            sqlx::raw_sql("SELECT 1").execute(&pool).await.expect("SELECT 1")
        })
    });
    let quotes = db.quotes();
    let actor = p.customer_actor();
    group.bench_function("quote_by_number", |b| {
        b.to_async(rt).iter(|| async {
            quotes
                .get_by_number(&actor, &p.quote_number)
                .await
                .expect("quote by number through PgBouncer")
        })
    });
    group.finish();
}

/// How long a test waits for its own database: `TestDb` with quotedb's seeded recipe (a claim of
/// a pre-cloned database by rename, then the pool's first connection). Each sample is followed by
/// a pause a short test would take (30 ms, untimed), during which the test kit clones a
/// replacement in the background, as it does while tests run; the database is dropped untimed.
fn testkit_paths(c: &mut Criterion, rt: &Runtime) {
    let recipe = quotedb_benches::seeded_recipe();
    let mut group = c.benchmark_group("testkit");
    group.sample_size(10);
    group.bench_function("seeded_test_db", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let recipe = recipe.clone();
            async move {
                let mut waited = Duration::ZERO;
                for _ in 0..iters {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    let started = Instant::now();
                    let db = quotedb_testkit::TestDb::try_from_recipe(&recipe)
                        .await
                        .expect("a test database");
                    waited += started.elapsed();
                    drop(db);
                }
                waited
            }
        })
    });
    group.finish();
}

/// The criterion filter (the first positional argument after the flags), if any.
fn bench_filter() -> Option<String> {
    // Criterion's options that take a value.
    const VALUED: &[&str] = &[
        "-c",
        "--color",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--plotting-backend",
        "--output-format",
        "--format",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if VALUED.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}

/// The capacity group, unless a filter leaves it out or criterion only lists its benches.
fn capacity_group(env: &BenchDb, p: &Params, test_mode: bool) {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(filter) = bench_filter()
        && !"capacity".contains(filter.as_str())
        && !filter.starts_with("capacity")
    {
        return;
    }
    let plan = if test_mode { Plan::test() } else { Plan::full() };
    // Its own runtime, one worker thread per core: the load generator uses the machine the way
    // a multi-threaded application server would (and competes with the server for it).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(capacity::client_threads())
        .enable_all()
        .build()
        .expect("capacity runtime");
    let started = Instant::now();
    let points = rt
        .block_on(capacity_points(&env.url, p, &plan))
        .unwrap_or_else(|e| panic!("capacity: {e}"));
    let elapsed = started.elapsed();
    println!("capacity: {} points in {:.0?}", points.len(), elapsed);
    // A --test run measures nothing worth keeping: the last full run's results stay.
    if !test_mode {
        let path = capacity::write_results(&points, &plan, env.scale, elapsed)
            .unwrap_or_else(|e| panic!("capacity results: {e}"));
        println!("capacity: wrote {}", path.display());
    }
}

/// The capacity paths in the order they run at each concurrency. `select_1` is the floor, measured
/// first and again last (`select_1_after`): the report takes their mean, and their difference
/// shows how much the machine's other load moved during the level.
const CAPACITY_PATHS: [&str; 8] = [
    "select_1",
    "quote_by_number",
    "keyset_page_20",
    "create_with_rating",
    "rerate",
    "permission_check",
    "notification_claim",
    "select_1_after",
];

/// What one capacity task calls.
enum Work {
    Select1,
    QuoteByNumber,
    KeysetPage,
    Create(Arc<NewQuote>),
    /// Its own quote (re-rating tracks the version, optimistic concurrency), at this version.
    Rerate {
        id: QuoteId,
        version: i32,
    },
    Permission,
    /// Claims 10 due notifications as this worker; the queue was filled beforehand.
    Claim {
        worker: String,
    },
}

struct PathCaller {
    db: Db,
    p: Arc<Params>,
    work: Work,
}

impl Caller for PathCaller {
    async fn call(&mut self) -> Result<bool, BoxError> {
        let actor = self.p.customer_actor();
        let quotes = self.db.quotes();
        match &mut self.work {
            Work::Select1 => {
                let _: i32 = sqlx::query_scalar("SELECT 1").fetch_one(self.db.pool()).await?;
            }
            Work::QuoteByNumber => {
                quotes.get_by_number(&actor, &self.p.quote_number).await?;
            }
            Work::KeysetPage => {
                quotes
                    .list_for_customer(&actor, self.p.customer, &PageRequest::first(20))
                    .await?;
            }
            Work::Create(new) => {
                quotes.create(&actor, new).await?;
            }
            Work::Rerate { id, version } => {
                let rated = quotes.rerate(&actor, *id, *version, &eligibility()).await?;
                *version = rated.quote.current_version;
            }
            Work::Permission => {
                // reports:read is granted to analyst, below admin: the check walks the hierarchy.
                let allowed = self.db.admin().has_permission(self.p.admin, "reports:read").await?;
                if !allowed {
                    return Err("permission check: reports:read denied to the admin".into());
                }
            }
            Work::Claim { worker } => {
                let claimed = self.db.realtime().notifications().claim(worker, CLAIM_BATCH).await?;
                // A short batch: the queue is (nearly) empty, the window ends.
                return Ok(claimed.len() == CLAIM_BATCH as usize);
            }
        }
        Ok(true)
    }
}

/// Notifications per claim, as in `analytics_paths/notification_claim_batch`.
const CLAIM_BATCH: u32 = 10;

/// Every capacity point: for each concurrency, one pool, then the floor and each path through it.
async fn capacity_points(url: &str, p: &Params, plan: &Plan) -> Result<Vec<Point>, BoxError> {
    let p = Arc::new(p.clone());
    let new = Arc::new(new_quote(&p));
    let mut points: Vec<Point> = Vec::new();
    for &callers in &plan.callers {
        let connections = plan.connections(callers);
        let pool = capacity::pool(url, connections).await?;
        let db = Db::new(pool.clone());
        let cpu = CpuProbe::new(&pool).await?;
        let caller = |work: Work| PathCaller {
            db: db.clone(),
            p: p.clone(),
            work,
        };
        for path in CAPACITY_PATHS {
            let tasks: Vec<PathCaller> = match path {
                "select_1" | "select_1_after" => (0..callers).map(|_| caller(Work::Select1)).collect(),
                "quote_by_number" => (0..callers).map(|_| caller(Work::QuoteByNumber)).collect(),
                "keyset_page_20" => (0..callers).map(|_| caller(Work::KeysetPage)).collect(),
                "create_with_rating" => (0..callers).map(|_| caller(Work::Create(new.clone()))).collect(),
                "rerate" => {
                    // One fresh quote per caller (untimed): concurrent re-rates of one quote would
                    // fail each other's version check.
                    let actor = p.customer_actor();
                    let quotes = db.quotes();
                    let fresh =
                        futures_util::future::try_join_all((0..callers).map(|_| quotes.create(&actor, &new))).await?;
                    fresh
                        .into_iter()
                        .map(|r| {
                            caller(Work::Rerate {
                                id: r.quote.id,
                                version: r.quote.current_version,
                            })
                        })
                        .collect()
                }
                "permission_check" => (0..callers).map(|_| caller(Work::Permission)).collect(),
                "notification_claim" => {
                    let best = points
                        .iter()
                        .filter(|pt| pt.path == path)
                        .map(Point::calls_per_sec)
                        .fold(0.0, f64::max);
                    fill_queue(&db, &p, claim_backlog(plan, best)).await?;
                    (0..callers)
                        .map(|i| {
                            caller(Work::Claim {
                                worker: format!("capacity-{i}"),
                            })
                        })
                        .collect()
                }
                other => return Err(format!("unknown capacity path {other}").into()),
            };
            let point = capacity::measure(path, connections, tasks, plan, &cpu).await?;
            let floor = points
                .iter()
                .chain(std::iter::once(&point))
                .find(|pt| pt.path == "select_1" && pt.callers == callers)
                .map_or(0.0, Point::calls_per_sec);
            println!(
                "capacity/{path}/{callers}: {:.0} calls/s ({:.0}% of SELECT 1), p50 {:.0} µs, p99 {:.0} µs, \
                 CPU client {:.2} server {} machine {}{}",
                point.calls_per_sec(),
                100.0 * point.calls_per_sec() / floor.max(f64::MIN_POSITIVE),
                point.p50_ns as f64 / 1e3,
                point.p99_ns as f64 / 1e3,
                point.client_cpu,
                point.server_cpu.map_or("?".into(), |c| format!("{c:.2}")),
                point.machine_cpu.map_or("?".into(), |c| format!("{c:.2}")),
                if point.drained {
                    " (queue drained: shorter window)"
                } else {
                    ""
                },
            );
            points.push(point);
        }
        pool.close().await;
    }
    Ok(points)
}

/// Due notifications to have queued before a claim point: enough for the warm-up and the window
/// at 1.5× the best claim rate seen so far (2,000 calls/s before any), at most 300,000. A point
/// that drains the queue anyway ends its window there and says so.
fn claim_backlog(plan: &Plan, best_calls_per_sec: f64) -> i64 {
    let rate = if best_calls_per_sec > 0.0 {
        best_calls_per_sec
    } else {
        2_000.0
    };
    let secs = (plan.warm_up + plan.window).as_secs_f64();
    ((rate * 1.5 * secs * f64::from(CLAIM_BATCH)) as i64).min(300_000)
}

/// Enqueue (untimed, batches of 1,000 through the repository) until `target` notifications are due.
async fn fill_queue(db: &Db, p: &Params, target: i64) -> Result<(), BoxError> {
    let due: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_queue WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()",
    )
    .fetch_one(db.pool())
    .await?;
    let missing = usize::try_from(target - due).unwrap_or(0);
    let batch: Vec<NewNotification> = (0..1_000)
        .map(|i| NewNotification {
            channel: NotificationChannel::InApp,
            recipient: Recipient::User { user_id: p.customer },
            template: "quote.ready".into(),
            payload: serde_json::json!({ "n": i }),
            priority: 9,
            not_before: None,
            max_attempts: None,
        })
        .collect();
    let notifications = db.realtime().notifications();
    let batches = missing.div_ceil(batch.len());
    let mut enqueued = futures_util::stream::iter(0..batches)
        .map(|_| notifications.enqueue_batch(&batch))
        .buffer_unordered(4);
    while let Some(done) = enqueued.next().await {
        done?;
    }
    Ok(())
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50);
    targets = all
}
criterion_main!(benches);
