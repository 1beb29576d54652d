//! Quotes through the public API: creation (rated, in one transaction), reads, row level
//! security, re-rating with optimistic concurrency, status transitions, expiry and keyset pages.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::admins::admin_with;
use crate::common::rates::{self as fx, setup};
use crate::common::{self, Change};
use quotedb_repository::page::MAX_PAGE_SIZE;
use quotedb_repository::quotes::{CoverageRequest, NewQuote, Quote, QuoteError, QuoteKey};
use quotedb_repository::rating::{Eligibility, RatingError};
use quotedb_repository::schema::admin::permissions::QUOTES_READ;
use quotedb_repository::schema::quotes::{CoverageType, QuoteStatus};
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::{Actor, Cursor, PageRequest, QuoteId, QuoteNumber, UserId, Zip};
use rust_decimal_macros::dec;
use sqlx::PgPool;
use time::OffsetDateTime;

fn in_days(days: i64) -> time::Date {
    OffsetDateTime::now_utc().date() + time::Duration::days(days)
}

/// Collision (no limit, 500 deductible) and bodily injury (100k limit) in the test state's
/// 1.2 territory, effective next week.
fn new_quote(customer: UserId, agent: Option<UserId>) -> NewQuote {
    NewQuote {
        customer_id: customer,
        agent_id: agent,
        state_code: fx::state(),
        zip: fx::zip(),
        effective_date: in_days(7),
        coverages: vec![
            CoverageRequest {
                coverage_type: CoverageType::Collision,
                limit_amount: None,
                deductible: dec!(500),
            },
            CoverageRequest {
                coverage_type: CoverageType::BodilyInjury,
                limit_amount: Some(dec!(100000)),
                deductible: dec!(0),
            },
        ],
        eligibility: Eligibility::default(),
        metadata: serde_json::Map::new(),
    }
}

/// Rows in a table for a customer's quotes, seen by the (superuser) test connection.
async fn count(pool: &PgPool, sql: &'static str, customer: UserId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(customer.0)
        .fetch_one(pool)
        .await
        .expect("count")
}

const QUOTES_OF: &str = "SELECT count(*) FROM quotes WHERE customer_id = $1";
const VERSIONS_OF: &str =
    "SELECT count(*) FROM quote_versions v JOIN quotes q ON q.id = v.quote_id WHERE q.customer_id = $1";
const LINES_OF: &str =
    "SELECT count(*) FROM quote_coverages c JOIN quotes q ON q.id = c.quote_id WHERE q.customer_id = $1";

// ---------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_creates_a_rated_quote_with_version_one_and_priced_lines() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "create").await;
    let actor = Actor::Customer(customer);
    let mut new = new_quote(customer, None);
    new.metadata.insert("channel".into(), serde_json::json!("web"));
    let rated = repo.quotes().create(&actor, &new).await.expect("create");

    let q = &rated.quote;
    assert_eq!(q.status, QuoteStatus::Rated);
    assert_eq!(q.current_version, 1);
    assert_eq!(q.customer_id, customer);
    assert_eq!(q.agent_id, None);
    // collision 400 × 1.2 = 480.00; bodily injury 500 × 1.2 = 600.00
    assert_eq!(rated.breakdown.total, dec!(1080.00));
    assert_eq!(q.premium, Some(dec!(1080.00)));
    assert!(QuoteNumber::parse(q.quote_number.as_str()).is_ok());
    assert_eq!(q.expires_at - q.created_at, time::Duration::days(30));
    assert_eq!(q.bound_at, None);
    assert_eq!(q.metadata, serde_json::json!({"channel": "web"}));
    assert_eq!(q.effective_date, new.effective_date);

    let lines = repo.quotes().coverages(&actor, q.id).await.expect("coverages");
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.coverage_type, l.limit_amount, l.deductible, l.premium))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                CoverageType::BodilyInjury,
                Some(dec!(100000)),
                dec!(0),
                Some(dec!(600.00))
            ),
            (CoverageType::Collision, None, dec!(500), Some(dec!(480.00))),
        ]
    );
    let versions = repo.quotes().versions(&actor, q.id).await.expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].premium, dec!(1080.00));
    assert_eq!(versions[0].premium_breakdown().expect("breakdown"), rated.breakdown);
    assert_eq!(versions[0].rating_inputs["context"]["discount_cap"], "0.35");
    assert_eq!(versions[0].rating_inputs["coverages"][0]["coverage_type"], "collision");
}

#[tokio::test]
async fn creating_a_quote_prices_the_applicants_discounts_and_surcharges() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "eligible").await;
    let mut new = new_quote(customer, None);
    new.eligibility = Eligibility {
        discounts: vec![DiscountCode::MultiPolicy, DiscountCode::GoodDriver],
        surcharges: vec![SurchargeCode::SpeedingViolation],
    };
    let rated = repo
        .quotes()
        .create(&Actor::Customer(customer), &new)
        .await
        .expect("create");
    // × 1.15 × 0.75: collision 480 → 414.00, bodily injury 600 → 517.50
    assert_eq!(
        rated.breakdown.line(CoverageType::Collision).map(|l| l.premium),
        Some(dec!(414.00))
    );
    assert_eq!(
        rated.breakdown.line(CoverageType::BodilyInjury).map(|l| l.premium),
        Some(dec!(517.50))
    );
    assert_eq!(rated.quote.premium, Some(dec!(931.50)));
}

#[tokio::test]
async fn creating_a_quote_refuses_invalid_input_before_writing_anything() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "invalid").await;
    let actor = Actor::Customer(customer);
    let cases: Vec<(&str, Change<NewQuote>)> = vec![
        ("coverages", Box::new(|q| q.coverages.clear())),
        (
            "coverages",
            Box::new(|q| q.coverages[1].coverage_type = CoverageType::Collision),
        ),
        ("deductible", Box::new(|q| q.coverages[0].deductible = dec!(-1))),
        (
            "limit_amount",
            Box::new(|q| q.coverages[1].limit_amount = Some(dec!(-100))),
        ),
        (
            "limit_amount",
            Box::new(|q| q.coverages[1].limit_amount = Some(dec!(10.005))),
        ),
        (
            "deductible",
            Box::new(|q| q.coverages[0].deductible = dec!(10000000000)),
        ),
        ("effective_date", Box::new(|q| q.effective_date = in_days(-1))),
        ("effective_date", Box::new(|q| q.effective_date = in_days(400))),
    ];
    for (field, change) in cases {
        let mut new = new_quote(customer, None);
        change(&mut new);
        let err = repo.quotes().create(&actor, &new).await.expect_err(field);
        assert!(
            matches!(err, QuoteError::Invalid(ref e) if e.field == field),
            "{field}: {err:?}"
        );
    }
    assert_eq!(count(db.pool(), QUOTES_OF, customer).await, 0);
}

#[tokio::test]
async fn creating_a_quote_where_rates_are_missing_reports_the_rating_error() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "norate").await;
    let actor = Actor::Customer(customer);
    let mut new = new_quote(customer, None);
    new.zip = Zip::parse("99999").expect("zip");
    let err = repo.quotes().create(&actor, &new).await.expect_err("no territory");
    assert!(
        matches!(err, QuoteError::Rating(RatingError::NoTerritory { .. })),
        "{err:?}"
    );

    let mut new = new_quote(customer, None);
    new.state_code = quotedb_repository::StateCode::parse("ZZ").expect("state");
    let err = repo.quotes().create(&actor, &new).await.expect_err("no rates");
    assert!(
        matches!(err, QuoteError::Rating(RatingError::NoBaseRate { .. })),
        "{err:?}"
    );
    assert_eq!(count(db.pool(), QUOTES_OF, customer).await, 0);
}

#[tokio::test]
async fn creating_a_quote_without_a_validity_setting_writes_nothing() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "novalidity").await;
    common::delete_setting(&repo, "quotes.validity_days").await;
    let err = repo
        .quotes()
        .create(&Actor::Customer(customer), &new_quote(customer, None))
        .await
        .expect_err("no validity");
    assert!(
        matches!(
            err,
            QuoteError::Setting {
                key: "quotes.validity_days"
            }
        ),
        "{err:?}"
    );
    common::set_setting(&repo, "quotes.validity_days", serde_json::json!(0)).await;
    let err = repo
        .quotes()
        .create(&Actor::Customer(customer), &new_quote(customer, None))
        .await
        .expect_err("zero validity");
    assert!(matches!(err, QuoteError::Setting { .. }), "{err:?}");
    assert_eq!(count(db.pool(), QUOTES_OF, customer).await, 0);
    assert_eq!(count(db.pool(), VERSIONS_OF, customer).await, 0);
}

#[tokio::test]
async fn a_quote_is_created_only_for_the_acting_customer_and_with_the_right_parties() {
    let (db, repo) = setup().await;
    let alice = common::customer(&repo, "alice").await;
    let bob = common::customer(&repo, "bob").await;
    let agent = common::agent(&repo, "agent").await;

    // A customer cannot create a quote for someone else; an agent cannot create quotes.
    let err = repo
        .quotes()
        .create(&Actor::Customer(alice), &new_quote(bob, None))
        .await
        .expect_err("for bob");
    assert!(matches!(err, QuoteError::Forbidden), "{err:?}");
    let err = repo
        .quotes()
        .create(&Actor::Agent(agent), &new_quote(bob, Some(agent)))
        .await
        .expect_err("agent");
    assert!(matches!(err, QuoteError::Forbidden), "{err:?}");

    // The customer must be a customer, the agent an agent that exists.
    let err = repo
        .quotes()
        .create(&Actor::Customer(agent), &new_quote(agent, None))
        .await
        .expect_err("agent as customer");
    assert!(
        matches!(
            err,
            QuoteError::Party {
                rule: "quotes_customer_is_customer",
                ..
            }
        ),
        "{err:?}"
    );
    let err = repo
        .quotes()
        .create(&Actor::Customer(alice), &new_quote(alice, Some(bob)))
        .await
        .expect_err("customer as agent");
    assert!(
        matches!(
            err,
            QuoteError::Party {
                rule: "quotes_agent_is_agent",
                ..
            }
        ),
        "{err:?}"
    );
    let ghost = UserId(uuid::Uuid::new_v4());
    let err = repo
        .quotes()
        .create(&Actor::Customer(alice), &new_quote(alice, Some(ghost)))
        .await
        .expect_err("ghost agent");
    assert!(
        matches!(
            err,
            QuoteError::Party {
                rule: "quotes_agent_fk",
                ..
            }
        ),
        "{err:?}"
    );

    assert_eq!(count(db.pool(), QUOTES_OF, alice).await, 0);
    assert_eq!(count(db.pool(), QUOTES_OF, bob).await, 0);

    // The system actor creates quotes for anyone.
    let rated = repo
        .quotes()
        .create(&Actor::System, &new_quote(bob, Some(agent)))
        .await
        .expect("system");
    assert_eq!(rated.quote.agent_id, Some(agent));
}

#[tokio::test]
async fn a_quote_number_collision_is_retried_with_a_fresh_number() {
    let (db, repo) = setup().await;
    // The first two numbers handed out are the same; later ones are random again.
    sqlx::raw_sql(
        "CREATE SEQUENCE test_quote_number_calls;
         GRANT USAGE ON SEQUENCE test_quote_number_calls TO quotedb_app;
         CREATE OR REPLACE FUNCTION generate_quote_number() RETURNS text LANGUAGE sql VOLATILE AS $$
             SELECT CASE WHEN nextval('test_quote_number_calls') <= 2 THEN 'Q-20250101-AAAAAA'
                         ELSE 'Q-20250101-' || upper(substr(md5(random()::text), 1, 6)) END
         $$;",
    )
    .execute(db.pool())
    .await
    .expect("deterministic numbers");
    let customer = common::customer(&repo, "collide").await;
    let actor = Actor::Customer(customer);
    let first = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("first");
    let second = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("second, after a retry");
    assert_eq!(first.quote.quote_number.as_str(), "Q-20250101-AAAAAA");
    assert_ne!(second.quote.quote_number, first.quote.quote_number);
    let calls: i64 = sqlx::query_scalar("SELECT last_value FROM test_quote_number_calls")
        .fetch_one(db.pool())
        .await
        .expect("calls");
    assert_eq!(calls, 3, "one collision, one retry");
    assert_eq!(count(db.pool(), QUOTES_OF, customer).await, 2);
}

#[tokio::test]
async fn a_failure_half_way_through_create_leaves_no_quote_no_version_no_line() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "halfway").await;
    // A test-only rule that refuses a coverage line: it fails AFTER the quote and its version
    // were inserted by the same statement.
    sqlx::query(
        "ALTER TABLE quote_coverages ADD CONSTRAINT test_no_rental CHECK (coverage_type <> 'rental') NOT VALID",
    )
    .execute(db.pool())
    .await
    .expect("test rule");
    let mut new = new_quote(customer, None);
    new.coverages.push(CoverageRequest {
        coverage_type: CoverageType::Rental,
        limit_amount: Some(dec!(1500)),
        deductible: dec!(0),
    });
    let err = repo
        .quotes()
        .create(&Actor::Customer(customer), &new)
        .await
        .expect_err("refused line");
    assert!(matches!(err, QuoteError::Database(_)), "{err:?}");
    assert_eq!(count(db.pool(), QUOTES_OF, customer).await, 0);
    assert_eq!(count(db.pool(), VERSIONS_OF, customer).await, 0);
    assert_eq!(count(db.pool(), LINES_OF, customer).await, 0);
}

// ---------------------------------------------------------------------------------------------
// reads and row level security
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_reads_their_quote_by_id_and_by_number() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "reader").await;
    let actor = Actor::Customer(customer);
    let created = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    let by_id = repo.quotes().get(&actor, created.id).await.expect("by id");
    let by_number = repo
        .quotes()
        .get_by_number(&actor, &created.quote_number)
        .await
        .expect("by number");
    assert_eq!(by_id, created);
    assert_eq!(by_number, created);

    let missing = QuoteId(uuid::Uuid::new_v4());
    assert!(
        matches!(repo.quotes().get(&actor, missing).await, Err(QuoteError::NotFound(QuoteKey::Id(id))) if id == missing)
    );
    let number = QuoteNumber::parse("Q-20200101-ZZZZZZ").expect("number");
    assert!(matches!(
        repo.quotes().get_by_number(&actor, &number).await,
        Err(QuoteError::NotFound(QuoteKey::Number(_)))
    ));
}

#[tokio::test]
async fn a_customer_cannot_read_or_change_another_customers_quote() {
    let (_db, repo) = setup().await;
    let alice = common::customer(&repo, "alice").await;
    let bob = common::customer(&repo, "bob").await;
    let quote = repo
        .quotes()
        .create(&Actor::Customer(alice), &new_quote(alice, None))
        .await
        .expect("create")
        .quote;
    let intruder = Actor::Customer(bob);
    let not_found = |r: Result<_, QuoteError>| matches!(r, Err(QuoteError::NotFound(_)));
    assert!(not_found(repo.quotes().get(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(
        repo.quotes()
            .get_by_number(&intruder, &quote.quote_number)
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        repo.quotes().coverages(&intruder, quote.id).await.map(|_| ())
    ));
    assert!(not_found(repo.quotes().versions(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(
        repo.quotes()
            .rerate(&intruder, quote.id, 1, &Eligibility::default())
            .await
            .map(|_| ())
    ));
    assert!(not_found(repo.quotes().present(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(repo.quotes().cancel(&intruder, quote.id).await.map(|_| ())));
    let page = repo
        .quotes()
        .list_for_customer(&intruder, alice, &PageRequest::first(10))
        .await
        .expect("list");
    assert!(page.items.is_empty() && page.next.is_none());

    // Nothing changed.
    let after = repo
        .quotes()
        .get(&Actor::Customer(alice), quote.id)
        .await
        .expect("owner reads");
    assert_eq!(after, quote);
}

#[tokio::test]
async fn an_agent_sees_and_works_only_the_quotes_assigned_to_them() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "assigned").await;
    let agent = common::agent(&repo, "mine").await;
    let other_agent = common::agent(&repo, "other").await;
    let actor = Actor::Customer(customer);
    let assigned = repo
        .quotes()
        .create(&actor, &new_quote(customer, Some(agent)))
        .await
        .expect("assigned")
        .quote;
    let unassigned = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("unassigned")
        .quote;

    let me = Actor::Agent(agent);
    assert_eq!(
        repo.quotes().get(&me, assigned.id).await.expect("sees assigned").id,
        assigned.id
    );
    assert!(matches!(
        repo.quotes().get(&me, unassigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
    assert!(matches!(
        repo.quotes().get(&Actor::Agent(other_agent), assigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
    let page = repo
        .quotes()
        .list_for_customer(&me, customer, &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(page.items.iter().map(|q| q.id).collect::<Vec<_>>(), vec![assigned.id]);
    let pipeline = repo
        .quotes()
        .list_for_agent(&me, agent, &PageRequest::first(10))
        .await
        .expect("pipeline");
    assert_eq!(
        pipeline.items.iter().map(|q| q.id).collect::<Vec<_>>(),
        vec![assigned.id]
    );
    assert_eq!(pipeline.next, None);
    let peek = repo
        .quotes()
        .list_for_agent(&Actor::Agent(other_agent), agent, &PageRequest::first(10))
        .await
        .expect("another agent's pipeline");
    assert!(peek.items.is_empty(), "another agent sees none of it");

    // The agent re-rates and presents the assigned quote.
    let rerated = repo
        .quotes()
        .rerate(
            &me,
            assigned.id,
            1,
            &Eligibility {
                discounts: vec![DiscountCode::Paperless],
                surcharges: vec![],
            },
        )
        .await
        .expect("agent re-rates");
    assert_eq!(rerated.quote.current_version, 2);
    let presented = repo.quotes().present(&me, assigned.id).await.expect("agent presents");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert!(matches!(
        repo.quotes().present(&Actor::Agent(other_agent), unassigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_admin_with_quotes_read_sees_every_quote_but_cannot_change_it() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "watched").await;
    let quote = repo
        .quotes()
        .create(&Actor::Customer(customer), &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    let admin = admin_with(&repo, &[QUOTES_READ]).await.actor;
    assert_eq!(
        repo.quotes().get(&admin, quote.id).await.expect("admin reads").id,
        quote.id
    );
    assert!(matches!(
        repo.quotes().present(&admin, quote.id).await,
        Err(QuoteError::Forbidden)
    ));
    assert!(matches!(
        repo.quotes().rerate(&admin, quote.id, 1, &Eligibility::default()).await,
        Err(QuoteError::Forbidden)
    ));
    assert_eq!(repo.quotes().get(&admin, quote.id).await.expect("unchanged"), quote);
}

// ---------------------------------------------------------------------------------------------
// re-rate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rerating_adds_a_version_and_updates_the_premiums() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "rerate").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    let eligibility = Eligibility {
        discounts: vec![],
        surcharges: vec![SurchargeCode::AtFaultAccident],
    };
    let rerated = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &eligibility)
        .await
        .expect("rerate");
    // × 1.30: 480 → 624.00, 600 → 780.00
    assert_eq!(rerated.quote.current_version, 2);
    assert_eq!(rerated.quote.status, QuoteStatus::Rated);
    assert_eq!(rerated.quote.premium, Some(dec!(1404.00)));
    assert_eq!(rerated.breakdown.total, dec!(1404.00));
    let lines = repo.quotes().coverages(&actor, quote.id).await.expect("lines");
    assert_eq!(
        lines.iter().map(|l| (l.coverage_type, l.premium)).collect::<Vec<_>>(),
        vec![
            (CoverageType::BodilyInjury, Some(dec!(780.00))),
            (CoverageType::Collision, Some(dec!(624.00)))
        ]
    );
    let versions = repo.quotes().versions(&actor, quote.id).await.expect("versions");
    assert_eq!(
        versions.iter().map(|v| (v.version, v.premium)).collect::<Vec<_>>(),
        vec![(1, dec!(1080.00)), (2, dec!(1404.00))]
    );
    let v2 = versions[1].premium_breakdown().expect("breakdown");
    assert_eq!(v2.lines[0].surcharges[0].code, SurchargeCode::AtFaultAccident);
    assert_eq!(
        versions[1].rating_inputs["eligibility"]["surcharges"][0],
        "at_fault_accident"
    );
}

#[tokio::test]
async fn rerating_from_a_stale_version_is_a_conflict() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "stale").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    repo.quotes()
        .rerate(&actor, quote.id, 1, &Eligibility::default())
        .await
        .expect("first rerate");
    let err = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &Eligibility::default())
        .await
        .expect_err("stale");
    assert!(matches!(err, QuoteError::Conflict { expected: 1 }), "{err:?}");
    let versions = repo.quotes().versions(&actor, quote.id).await.expect("versions");
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 2]);
}

#[tokio::test]
async fn two_concurrent_rerates_of_one_quote_one_wins_and_the_other_conflicts() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "race").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;

    // Hold the quote row so both re-rates read version 1 and then queue on their UPDATE.
    let mut blocker = db.pool().begin().await.expect("blocker");
    sqlx::query("SELECT 1 FROM quotes WHERE id = $1 FOR NO KEY UPDATE")
        .bind(quote.id.0)
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let spawn = |surcharge| {
        let repo = repo.clone();
        tokio::spawn(async move {
            let eligibility = Eligibility {
                discounts: vec![],
                surcharges: vec![surcharge],
            };
            repo.quotes().rerate(&actor, quote.id, 1, &eligibility).await
        })
    };
    let a = spawn(SurchargeCode::AtFaultAccident);
    let b = spawn(SurchargeCode::SpeedingViolation);
    // Wait until both are blocked on the row lock.
    let mut waiting = 0_i64;
    for _ in 0..500 {
        waiting = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%current_version = $2%'",
        )
        .fetch_one(db.pool())
        .await
        .expect("pg_stat_activity");
        if waiting == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(waiting, 2, "both re-rates should be waiting on the quote row");
    blocker.commit().await.expect("release");

    let results = [a.await.expect("task a"), b.await.expect("task b")];
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(QuoteError::Conflict { expected: 1 })))
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{results:?}");
    let versions = repo.quotes().versions(&actor, quote.id).await.expect("versions");
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 2]);
    let winner = results.into_iter().find_map(Result::ok).expect("winner");
    let now = repo.quotes().get(&actor, quote.id).await.expect("get");
    assert_eq!(now.current_version, 2);
    assert_eq!(now.premium, winner.quote.premium);
    assert_eq!(versions[1].premium, winner.breakdown.total);
}

#[tokio::test]
async fn a_failure_half_way_through_a_rerate_leaves_the_quote_as_it_was() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "rerate-fail").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    // A test-only rule refusing line premiums of 700 or more: the re-rate below fails on its
    // line update, after the version bump and the version insert of the same statement.
    sqlx::query("ALTER TABLE quote_coverages ADD CONSTRAINT test_line_cap CHECK (premium < 700) NOT VALID")
        .execute(db.pool())
        .await
        .expect("test rule");
    let eligibility = Eligibility {
        discounts: vec![],
        surcharges: vec![SurchargeCode::Dui],
    };
    let err = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &eligibility)
        .await
        .expect_err("line refused");
    assert!(matches!(err, QuoteError::Database(_)), "{err:?}");
    let after = repo.quotes().get(&actor, quote.id).await.expect("get");
    assert_eq!(after, quote);
    assert_eq!(count(db.pool(), VERSIONS_OF, customer).await, 1);
    let lines = repo.quotes().coverages(&actor, quote.id).await.expect("lines");
    assert_eq!(
        lines.iter().map(|l| l.premium).collect::<Vec<_>>(),
        vec![Some(dec!(600.00)), Some(dec!(480.00))]
    );
}

#[tokio::test]
async fn rerating_a_presented_quote_is_refused_by_the_status_machine() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "presented").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    repo.quotes().present(&actor, quote.id).await.expect("present");
    let err = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &Eligibility::default())
        .await
        .expect_err("presented");
    assert!(
        matches!(
            err,
            QuoteError::TransitionRefused {
                to: QuoteStatus::Rated,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        repo.quotes().versions(&actor, quote.id).await.expect("versions").len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// status transitions and expiry
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_quote_is_presented_then_bound_and_bound_is_final() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "bind").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;

    // Binding straight from rated is not a move of the status machine.
    let err = repo.quotes().bind(&actor, quote.id).await.expect_err("bind rated");
    assert!(
        matches!(
            err,
            QuoteError::TransitionRefused {
                to: QuoteStatus::Bound,
                ..
            }
        ),
        "{err:?}"
    );

    let presented = repo.quotes().present(&actor, quote.id).await.expect("present");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert_eq!(presented.bound_at, None);
    let bound = repo.quotes().bind(&actor, quote.id).await.expect("bind");
    assert_eq!(bound.status, QuoteStatus::Bound);
    let bound_at = bound.bound_at.expect("bound_at set");
    assert!(bound_at >= bound.created_at && bound_at <= bound.expires_at);
    assert_eq!(bound.premium, quote.premium);

    for (to, result) in [
        (QuoteStatus::Cancelled, repo.quotes().cancel(&actor, quote.id).await),
        (QuoteStatus::Declined, repo.quotes().decline(&actor, quote.id).await),
        (QuoteStatus::Presented, repo.quotes().present(&actor, quote.id).await),
    ] {
        assert!(
            matches!(result, Err(QuoteError::TransitionRefused { to: t, .. }) if t == to),
            "{to}: {result:?}"
        );
    }
}

#[tokio::test]
async fn declined_and_cancelled_quotes_are_terminal() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "terminal").await;
    let actor = Actor::Customer(customer);
    let declined = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    let cancelled = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    assert_eq!(
        repo.quotes()
            .decline(&actor, declined.id)
            .await
            .expect("decline")
            .status,
        QuoteStatus::Declined
    );
    let presented = repo.quotes().present(&actor, cancelled.id).await.expect("present");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert_eq!(
        repo.quotes().cancel(&actor, cancelled.id).await.expect("cancel").status,
        QuoteStatus::Cancelled
    );

    assert!(matches!(
        repo.quotes().present(&actor, declined.id).await,
        Err(QuoteError::TransitionRefused { .. })
    ));
    assert!(matches!(
        repo.quotes().bind(&actor, cancelled.id).await,
        Err(QuoteError::TransitionRefused { .. })
    ));
    assert!(matches!(
        repo.quotes()
            .rerate(&actor, declined.id, 1, &Eligibility::default())
            .await,
        Err(QuoteError::TransitionRefused { .. })
    ));
}

/// Move a quote's validity into the past (test fixture: the API never back-dates).
async fn make_overdue(pool: &PgPool, id: QuoteId) {
    sqlx::query(
        "UPDATE quotes SET created_at = now() - interval '40 days', expires_at = now() - interval '10 days' WHERE id = $1",
    )
    .bind(id.0)
    .execute(pool)
    .await
    .expect("back-date");
}

#[tokio::test]
async fn a_quote_past_its_validity_cannot_be_bound() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "late").await;
    let actor = Actor::Customer(customer);
    let quote = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("create")
        .quote;
    repo.quotes().present(&actor, quote.id).await.expect("present");
    make_overdue(db.pool(), quote.id).await;
    let err = repo.quotes().bind(&actor, quote.id).await.expect_err("too late");
    assert!(
        matches!(err, QuoteError::ValidityExpired(QuoteKey::Id(id)) if id == quote.id),
        "{err:?}"
    );
    assert_eq!(
        repo.quotes().get(&actor, quote.id).await.expect("get").status,
        QuoteStatus::Presented
    );
}

#[tokio::test]
async fn the_expiry_sweep_expires_overdue_open_quotes_in_batches() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "sweep").await;
    let actor = Actor::Customer(customer);
    let mut quotes = Vec::new();
    for _ in 0..4 {
        quotes.push(
            repo.quotes()
                .create(&actor, &new_quote(customer, None))
                .await
                .expect("create")
                .quote,
        );
    }
    // quotes[0] rated and overdue, quotes[1] presented and overdue, quotes[2] cancelled and
    // overdue (terminal: untouched), quotes[3] rated and still valid.
    repo.quotes().present(&actor, quotes[1].id).await.expect("present");
    repo.quotes().cancel(&actor, quotes[2].id).await.expect("cancel");
    for q in &quotes[..3] {
        make_overdue(db.pool(), q.id).await;
    }
    assert!(matches!(
        repo.quotes().expire_overdue(&Actor::System, 0).await,
        Err(QuoteError::Invalid(_))
    ));
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 1).await.expect("batch 1"),
        1
    );
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 10).await.expect("batch 2"),
        1
    );
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 10).await.expect("batch 3"),
        0
    );
    let status = |i: usize| {
        let repo = repo.clone();
        let id = quotes[i].id;
        async move { repo.quotes().get(&actor, id).await.expect("get").status }
    };
    assert_eq!(status(0).await, QuoteStatus::Expired);
    assert_eq!(status(1).await, QuoteStatus::Expired);
    assert_eq!(status(2).await, QuoteStatus::Cancelled);
    assert_eq!(status(3).await, QuoteStatus::Rated);
}

#[tokio::test]
async fn a_customer_sweeping_expires_only_their_own_quotes() {
    let (db, repo) = setup().await;
    let alice = common::customer(&repo, "alice").await;
    let bob = common::customer(&repo, "bob").await;
    let a = repo
        .quotes()
        .create(&Actor::Customer(alice), &new_quote(alice, None))
        .await
        .expect("a")
        .quote;
    let b = repo
        .quotes()
        .create(&Actor::Customer(bob), &new_quote(bob, None))
        .await
        .expect("b")
        .quote;
    make_overdue(db.pool(), a.id).await;
    make_overdue(db.pool(), b.id).await;
    assert_eq!(
        repo.quotes()
            .expire_overdue(&Actor::Customer(alice), 10)
            .await
            .expect("alice sweeps"),
        1
    );
    assert_eq!(
        repo.quotes().get(&Actor::Customer(bob), b.id).await.expect("b").status,
        QuoteStatus::Rated
    );
    assert_eq!(
        repo.quotes()
            .expire_overdue(&Actor::System, 10)
            .await
            .expect("system sweeps"),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// keyset pages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pagination_walks_every_page_without_duplicates_or_gaps() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "pages").await;
    let other = common::customer(&repo, "other").await;
    let actor = Actor::Customer(customer);
    let mut created = Vec::new();
    for _ in 0..8 {
        created.push(
            repo.quotes()
                .create(&actor, &new_quote(customer, None))
                .await
                .expect("create")
                .quote,
        );
    }
    repo.quotes()
        .create(&Actor::Customer(other), &new_quote(other, None))
        .await
        .expect("other's quote");
    // Four quotes share one created_at, so the id tie-break is exercised across page borders.
    let same: Vec<uuid::Uuid> = created[2..6].iter().map(|q| q.id.0).collect();
    // Raw SQL: back-dating (the API never back-dates a quote).
    sqlx::query("UPDATE quotes SET created_at = now() - interval '1 hour' WHERE id = ANY($1)")
        .bind(&same)
        .execute(db.pool())
        .await
        .expect("same created_at");

    let mut seen: Vec<Quote> = Vec::new();
    let mut request = PageRequest::first(3);
    let mut pages = 0;
    loop {
        let page = repo
            .quotes()
            .list_for_customer(&actor, customer, &request)
            .await
            .expect("page");
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items);
        match page.next {
            Some(next) => {
                // The cursor survives a trip through its string form.
                let next = Cursor::decode(&next.encode()).expect("cursor");
                request = PageRequest {
                    size: 3,
                    after: Some(next),
                };
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    let ids: Vec<QuoteId> = seen.iter().map(|q| q.id).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 8, "no duplicates");
    let mut expected: Vec<(OffsetDateTime, QuoteId)> =
        sqlx::query_as::<_, (OffsetDateTime, uuid::Uuid)>("SELECT created_at, id FROM quotes WHERE customer_id = $1")
            .bind(customer.0)
            .fetch_all(db.pool())
            .await
            .expect("all")
            .into_iter()
            .map(|(t, id)| (t, QuoteId(id)))
            .collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        ids,
        expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
        "newest first, no gaps"
    );

    // An exact multiple of the page size ends with an empty `next`, not an empty page.
    let page = repo
        .quotes()
        .list_for_customer(&actor, customer, &PageRequest::first(8))
        .await
        .expect("one page");
    assert_eq!((page.items.len(), page.next), (8, None));
}

#[tokio::test]
async fn page_sizes_and_cursors_are_validated() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "sizes").await;
    let actor = Actor::Customer(customer);
    for size in [0, MAX_PAGE_SIZE + 1] {
        let err = repo
            .quotes()
            .list_for_customer(&actor, customer, &PageRequest::first(size))
            .await
            .expect_err("size");
        assert!(
            matches!(err, QuoteError::Invalid(ref e) if e.field == "size"),
            "{err:?}"
        );
    }
    assert!(
        repo.quotes()
            .list_for_customer(&actor, customer, &PageRequest::first(MAX_PAGE_SIZE))
            .await
            .is_ok()
    );
    assert_eq!(
        Cursor::<QuoteId>::decode("not a cursor").map_err(|e| e.field),
        Err("cursor")
    );
    assert!(serde_json::from_str::<Cursor<QuoteId>>("\"bm9wZQ\"").is_err());
}

/// `quotes_values_bounded`: metadata is at most 64 KiB of JSON without NUL characters - refused
/// as InvalidInput before the round trip, and nothing is written.
#[tokio::test]
async fn oversized_or_nul_metadata_is_invalid_input_and_writes_nothing() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "meta").await;
    for value in [
        serde_json::json!("x".repeat(quotedb_repository::schema::base::MAX_JSON_BYTES)),
        serde_json::json!("a\u{0}b"),
    ] {
        let mut new = new_quote(customer, None);
        new.metadata.insert("note".into(), value);
        let err = repo
            .quotes()
            .create(&common::as_customer(customer), &new)
            .await
            .expect_err("refused");
        assert!(
            matches!(err, QuoteError::Invalid(ref e) if e.field == "metadata"),
            "{err:?}"
        );
    }
    let quotes: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(quotes, 0);
}
