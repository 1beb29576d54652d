//! Creating a quote: rated in one transaction, with its version and priced lines, or nothing at all.

use quotedb_repository::quotes::{CoverageRequest, NewQuote, QuoteError};
use quotedb_repository::rating::{Eligibility, RatingError};
use quotedb_repository::schema::quotes::{CoverageType, QuoteStatus};
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::{Actor, QuoteNumber, UserId, Zip};
use rust_decimal_macros::dec;

use super::{LINES_OF, QUOTES_OF, VERSIONS_OF, count, in_days, new_quote};
use crate::common::rates::setup;
use crate::common::{self, Change};

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
    let ghost = UserId(uuid::Uuid::new_v4());
    for (case, quoted, quoted_agent, refused_by) in [
        ("agent as customer", agent, None, "quotes_customer_is_customer"),
        ("customer as agent", alice, Some(bob), "quotes_agent_is_agent"),
        ("ghost agent", alice, Some(ghost), "quotes_agent_fk"),
    ] {
        let err = repo
            .quotes()
            .create(&Actor::Customer(quoted), &new_quote(quoted, quoted_agent))
            .await
            .expect_err(case);
        assert!(
            matches!(err, QuoteError::Party { rule, .. } if rule == refused_by),
            "{case}: {err:?}"
        );
    }

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
