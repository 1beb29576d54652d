//! The reference data cache (`quotedb_repository::reference`): what it answers is what the
//! database answers, a change made anywhere is used by the next price, a price from superseded
//! data is never stored, and a lost LISTEN connection recovers.

use std::time::{Duration, Instant};

use quotedb_repository::quotes::{CoverageRequest, NewQuote};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::reference::{LISTENER_APPLICATION_NAME, ReferenceOptions};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::{Actor, Db, StateCode, Zip};
use quotedb_testkit::TestDb;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::postgres::PgPoolOptions;
use time::macros::date;

use crate::common::rates::{self as fx, RateDesk};
use crate::common::{customer, set_setting};

/// A second handle on the same database with its own pool: another process of the platform.
async fn another_process(tdb: &TestDb, options: ReferenceOptions) -> Db {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(tdb.url())
        .await
        .expect("second pool");
    Db::with_reference_options(pool, options)
}

/// A day `n` days from today (quotes take effect within a year of today).
fn in_days(n: i64) -> time::Date {
    time::OffsetDateTime::now_utc().date() + time::Duration::days(n)
}

fn collision_quote(customer: quotedb_repository::UserId) -> NewQuote {
    NewQuote {
        customer_id: customer,
        agent_id: None,
        state_code: fx::state(),
        zip: fx::zip(),
        effective_date: in_days(60),
        coverages: vec![CoverageRequest {
            coverage_type: CoverageType::Collision,
            limit_amount: Some(dec!(50000)),
            deductible: dec!(500),
        }],
        eligibility: Eligibility::default(),
        metadata: serde_json::Map::new(),
    }
}

/// A new collision base rate in the test state from `from` (before the quotes' effective date,
/// 60 days from today), through the whole workflow on `db`, which closes the open period before it.
async fn new_collision_rate(db: &Db, desk: &RateDesk, amount: Decimal, from: time::Date) {
    fx::base_rate(db, desk, fx::STATE, CoverageType::Collision, amount, from, None).await;
}

/// The base amount the stored version 1 of a create was priced with.
fn collision_base(quote: &quotedb_repository::quotes::RatedQuote) -> Decimal {
    quote.breakdown.lines[0].base_amount
}

#[tokio::test]
async fn the_cache_answers_what_the_database_answers() {
    let (tdb, db) = fx::setup().await;
    fx::collision_only_state(&db).await;
    let cached = another_process(&tdb, ReferenceOptions::default()).await;
    let uncached = another_process(&tdb, ReferenceOptions::disabled()).await;
    assert!(cached.warm_reference_cache().await, "the cache loads");

    let mut places: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT state_code, zip FROM territory_factors ORDER BY 1, 2 LIMIT 40")
            .fetch_all(tdb.pool())
            .await
            .expect("places");
    places.push((fx::STATE.into(), "99999".into()));
    places.push(("XU".into(), fx::ZIP.into()));
    let coverage_sets: Vec<Vec<CoverageType>> = vec![
        fx::BASE_RATES.iter().map(|(c, _)| *c).collect(),
        vec![CoverageType::Collision],
        vec![CoverageType::Comprehensive, CoverageType::BodilyInjury],
        vec![],
        vec![CoverageType::Collision, CoverageType::Collision],
    ];
    let mut compared = 0;
    for (state, zip) in &places {
        let state = StateCode::parse(state).expect("state");
        let zip = Zip::parse(zip).expect("zip");
        for coverages in &coverage_sets {
            for day in [date!(2019 - 12 - 31), date!(2026 - 06 - 01), date!(2031 - 01 - 01)] {
                let from_cache = cached.rating().resolve(&state, &zip, coverages, day).await;
                let from_db = uncached.rating().resolve(&state, &zip, coverages, day).await;
                assert_eq!(
                    format!("{from_cache:?}"),
                    format!("{from_db:?}"),
                    "{state} {zip} {coverages:?} {day}"
                );
                compared += 1;
            }
        }
    }
    let stats = cached.reference_stats();
    assert_eq!(stats.misses, 0, "every cached answer came from memory: {stats:?}");
    assert!(stats.hits >= compared, "{stats:?}");
    assert_eq!(uncached.reference_stats().hits, 0);
}

#[tokio::test]
async fn a_rate_approved_in_another_process_is_used_by_the_next_create() {
    let (tdb, db) = fx::setup().await;
    let desk = fx::rate_desk(&db).await;
    let quoting = another_process(&tdb, ReferenceOptions::default()).await;
    assert!(quoting.warm_reference_cache().await);
    let who = customer(&quoting, "cache").await;
    let actor = Actor::Customer(who);

    let before = quoting
        .quotes()
        .create(&actor, &collision_quote(who))
        .await
        .expect("create");
    assert_eq!(collision_base(&before), dec!(400.00));

    new_collision_rate(&db, &desk, dec!(480.00), in_days(10)).await;
    let after = quoting
        .quotes()
        .create(&actor, &collision_quote(who))
        .await
        .expect("create");
    assert_eq!(
        collision_base(&after),
        dec!(480.00),
        "the next create uses the approved rate"
    );
    let stats = quoting.reference_stats();
    assert!(
        stats.notifications >= 1 || stats.stale_writes == 1,
        "learnt of the change by NOTIFY or by the write check: {stats:?}"
    );
}

#[tokio::test]
async fn a_create_priced_from_superseded_rates_is_priced_again_never_stored() {
    let (tdb, db) = fx::setup().await;
    let desk = fx::rate_desk(&db).await;
    // Without LISTEN and with an hour of max age, the cache does not learn of the change: only
    // the database's check can catch the stale price.
    let quoting = another_process(&tdb, ReferenceOptions::unlistened(Duration::from_secs(3600))).await;
    assert!(quoting.warm_reference_cache().await);
    let who = customer(&quoting, "cache").await;
    let actor = Actor::Customer(who);
    let stale = quoting
        .rating()
        .resolve(&fx::state(), &fx::zip(), &[CoverageType::Collision], in_days(60))
        .await
        .expect("resolve");
    assert_eq!(stale.base_rates[0].base_amount, dec!(400.00));

    new_collision_rate(&db, &desk, dec!(520.00), in_days(10)).await;
    let served = quoting
        .rating()
        .resolve(&fx::state(), &fx::zip(), &[CoverageType::Collision], in_days(60))
        .await
        .expect("resolve");
    assert_eq!(
        served.base_rates[0].base_amount,
        dec!(400.00),
        "the unlistened cache still holds the old rate"
    );

    let created = quoting
        .quotes()
        .create(&actor, &collision_quote(who))
        .await
        .expect("create");
    assert_eq!(
        collision_base(&created),
        dec!(520.00),
        "priced again from the current rates"
    );
    assert_eq!(quoting.reference_stats().stale_writes, 1);
    let stored: (Decimal, Option<i64>, i64) = sqlx::query_as(
        "SELECT v.premium, v.reference_generation, g.generation FROM quote_versions v, reference_data_generation g
         WHERE v.quote_id = $1",
    )
    .bind(created.quote.id.0)
    .fetch_one(tdb.pool())
    .await
    .expect("stored version");
    assert_eq!(stored.0, created.quote.premium.expect("premium"));
    assert_eq!(
        stored.1,
        Some(stored.2),
        "the version names the generation it was priced from"
    );
    let quotes: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes WHERE customer_id = $1")
        .bind(who.0)
        .fetch_one(tdb.pool())
        .await
        .expect("count");
    assert_eq!(quotes, 1, "the refused attempt left nothing behind");

    // Re-rate takes the same path.
    new_collision_rate(&db, &desk, dec!(530.00), in_days(20)).await;
    let rerated = quoting
        .quotes()
        .rerate(
            &actor,
            created.quote.id,
            created.quote.current_version,
            &Eligibility::default(),
        )
        .await
        .expect("re-rate");
    assert_eq!(rerated.breakdown.lines[0].base_amount, dec!(530.00));
    assert_eq!(quoting.reference_stats().stale_writes, 2);
}

#[tokio::test]
async fn a_version_naming_a_superseded_generation_is_refused_by_the_database() {
    let (tdb, db) = fx::setup().await;
    let who = customer(&db, "cache").await;
    let created = db
        .quotes()
        .create(&Actor::Customer(who), &collision_quote(who))
        .await
        .expect("create");
    let current: i64 = sqlx::query_scalar("SELECT generation FROM reference_data_generation")
        .fetch_one(tdb.pool())
        .await
        .expect("generation");
    let err = sqlx::query(
        "WITH q AS (UPDATE quotes SET current_version = 2 WHERE id = $1 RETURNING id)
         INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown, reference_generation)
         SELECT id, 2, 100, '{}', '{}', $2 FROM q",
    )
    .bind(created.quote.id.0)
    .bind(current - 1)
    .execute(tdb.pool())
    .await
    .expect_err("a superseded generation is refused");
    let db_err = err.as_database_error().expect("database error");
    assert_eq!(
        db_err.constraint(),
        Some(quotedb_repository::schema::quotes::rules::QUOTE_VERSIONS_REFERENCE_DATA_CURRENT)
    );
    assert_eq!(db_err.code().as_deref(), Some("40001"));
}

#[tokio::test]
async fn a_terminated_listener_reconnects_and_the_cache_reloads() {
    let (tdb, db) = fx::setup().await;
    let desk = fx::rate_desk(&db).await;
    let quoting = another_process(&tdb, ReferenceOptions::default()).await;
    assert!(quoting.warm_reference_cache().await);
    let who = customer(&quoting, "cache").await;
    let actor = Actor::Customer(who);
    let loads_before = quoting.reference_stats().loads;

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(LISTENER_APPLICATION_NAME)
    .fetch_all(tdb.pool())
    .await
    .expect("terminate the listener");
    assert_eq!(killed, vec![true], "one listener connection");

    // A change while (or after) the listener is down: its notification may be lost.
    new_collision_rate(&db, &desk, dec!(610.00), in_days(10)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while quoting.reference_stats().listens < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        quoting.reference_stats().listens >= 2,
        "listening again: {:?}",
        quoting.reference_stats()
    );

    let created = quoting
        .quotes()
        .create(&actor, &collision_quote(who))
        .await
        .expect("create");
    assert_eq!(collision_base(&created), dec!(610.00));
    let stats = quoting.reference_stats();
    assert!(stats.loads > loads_before, "reloaded after reconnecting: {stats:?}");
    let hits = stats.hits;
    quoting
        .rating()
        .resolve(&fx::state(), &fx::zip(), &[CoverageType::Collision], in_days(60))
        .await
        .expect("resolve");
    assert_eq!(quoting.reference_stats().hits, hits + 1, "served from memory again");
}

#[tokio::test]
async fn a_setting_written_through_the_handle_is_read_back_at_once() {
    let (tdb, db) = fx::setup().await;
    assert!(db.warm_reference_cache().await);
    let other = another_process(&tdb, ReferenceOptions::default()).await;
    assert!(other.warm_reference_cache().await);
    let key = quotedb_repository::admin::SettingKey::parse("rating.discount_cap").expect("key");
    let reader = Actor::System;
    let cap: f64 = db.admin().settings().get(&reader, &key).await.expect("cap");
    assert!((cap - 0.35).abs() < 1e-9);

    set_setting(&db, "rating.discount_cap", serde_json::json!(0.3)).await;
    let cap: f64 = db.admin().settings().get(&reader, &key).await.expect("cap");
    assert!((cap - 0.3).abs() < 1e-9, "read your own write: {cap}");
    // The other process learns of it by NOTIFY (not by its own write).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen: f64 = other.admin().settings().get(&reader, &key).await.expect("cap");
        if (seen - 0.3).abs() < 1e-9 {
            break;
        }
        assert!(Instant::now() < deadline, "the other process still reads {seen}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(other.reference_stats().notifications >= 1);
}
