//! Re-rating a quote: a new version, optimistic concurrency, all or nothing.

use std::time::Duration;

use quotedb_repository::Actor;
use quotedb_repository::quotes::QuoteError;
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::quotes::{CoverageType, QuoteStatus};
use quotedb_repository::schema::rating::SurchargeCode;
use rust_decimal_macros::dec;

use super::{VERSIONS_OF, count, own_quote};
use crate::common::rates::setup;
use crate::common::{self};

#[tokio::test]
async fn rerating_adds_a_version_and_updates_the_premiums() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "rerate").await;
    let actor = Actor::Customer(customer);
    let quote = own_quote(&repo, customer).await;
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
    let quote = own_quote(&repo, customer).await;
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
    let quote = own_quote(&repo, customer).await;

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
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%app_rerate_quote%'",
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
    let quote = own_quote(&repo, customer).await;
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
    let quote = own_quote(&repo, customer).await;
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

/// After one re-rate the quote's terms are kept in the process (they are frozen once rated), and
/// the next re-rate is the write alone. The database still decides: another customer's re-rate
/// of the quote finds nothing, a stale version conflicts, a presented quote refuses, and the
/// price from the kept terms is the price from the database's terms.
#[tokio::test]
async fn a_rerate_from_kept_terms_is_still_decided_by_the_database() {
    let (_db, repo) = setup().await;
    let owner = common::customer(&repo, "kept-owner").await;
    let stranger = common::customer(&repo, "kept-stranger").await;
    let actor = Actor::Customer(owner);
    let quote = own_quote(&repo, owner).await;
    let eligibility = Eligibility {
        discounts: vec![],
        surcharges: vec![SurchargeCode::AtFaultAccident],
    };
    let loaded = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &eligibility)
        .await
        .expect("re-rate that reads the terms");
    let err = repo
        .quotes()
        .rerate(&Actor::Customer(stranger), quote.id, 2, &eligibility)
        .await
        .expect_err("not the stranger's quote");
    assert!(matches!(err, QuoteError::NotFound(_)), "{err:?}");
    let err = repo
        .quotes()
        .rerate(&actor, quote.id, 1, &eligibility)
        .await
        .expect_err("stale");
    assert!(matches!(err, QuoteError::Conflict { expected: 1 }), "{err:?}");
    let kept = repo
        .quotes()
        .rerate(&actor, quote.id, 2, &eligibility)
        .await
        .expect("re-rate from the kept terms");
    assert_eq!(kept.quote.current_version, 3);
    assert_eq!(kept.breakdown, loaded.breakdown, "the same terms, the same price");
    assert_eq!(kept.coverages, loaded.coverages);
    repo.quotes().present(&actor, quote.id).await.expect("present");
    let err = repo
        .quotes()
        .rerate(&actor, quote.id, 3, &eligibility)
        .await
        .expect_err("presented");
    assert!(matches!(err, QuoteError::TransitionRefused { .. }), "{err:?}");
    let versions = repo.quotes().versions(&actor, quote.id).await.expect("versions");
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 2, 3]);
}

/// Kept terms never speak for a quote the caller cannot see: when pricing them fails (here the
/// quote's territory was retired), a stranger gets `NotFound`, as without kept terms, not a
/// rating error naming the hidden quote's ZIP.
#[tokio::test]
async fn a_pricing_error_from_kept_terms_does_not_describe_a_hidden_quote() {
    let (_db, repo) = setup().await;
    let owner = common::customer(&repo, "kept-hidden-owner").await;
    let stranger = common::customer(&repo, "kept-hidden-stranger").await;
    let quote = own_quote(&repo, owner).await;
    repo.quotes()
        .rerate(&Actor::Customer(owner), quote.id, 1, &Eligibility::default())
        .await
        .expect("re-rate that keeps the terms");
    sqlx::query("UPDATE territory_factors SET status = 'retired' WHERE zip = $1")
        .bind(quote.zip.as_str())
        .execute(repo.pool())
        .await
        .expect("retire the quote's territory");
    let err = repo
        .quotes()
        .rerate(&Actor::Customer(stranger), quote.id, 2, &Eligibility::default())
        .await
        .expect_err("not the stranger's quote");
    assert!(matches!(err, QuoteError::NotFound(_)), "{err:?}");
    let err = repo
        .quotes()
        .rerate(&Actor::Customer(owner), quote.id, 2, &Eligibility::default())
        .await
        .expect_err("no territory");
    assert!(matches!(err, QuoteError::Rating(_)), "{err:?}");
}
