//! Resolving rates in one call, and each way it can fail.

use quotedb_repository::admin::SettingKey;
use quotedb_repository::rating::RatingError;
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::{Actor, StateCode, Zip};
use rust_decimal_macros::dec;
use time::macros::date;
use uuid::Uuid;

use crate::common;
use crate::common::rates::{self as fx, setup};

#[tokio::test]
async fn resolve_returns_the_active_rates_territory_rules_and_cap_in_one_call() {
    let (_db, repo) = setup().await;
    let ctx = repo
        .rating()
        .resolve(
            &fx::state(),
            &fx::zip(),
            &[CoverageType::Collision, CoverageType::BodilyInjury],
            date!(2026 - 06 - 01),
        )
        .await
        .expect("resolve");
    // Request order is kept.
    let got: Vec<_> = ctx
        .base_rates
        .iter()
        .map(|r| (r.coverage_type, r.base_amount))
        .collect();
    assert_eq!(
        got,
        vec![
            (CoverageType::Collision, dec!(400.00)),
            (CoverageType::BodilyInjury, dec!(500.00))
        ]
    );
    assert_eq!(ctx.territory.factor, dec!(1.200));
    assert_eq!(ctx.territory.city, "Testville");
    assert_eq!(ctx.discount_cap, dec!(0.35));
    assert_eq!(ctx.discounts.len(), 7);
    assert!(
        ctx.discounts
            .iter()
            .all(|d| d.state_code.as_ref().map(StateCode::as_str) == Some(fx::STATE))
    );
    assert_eq!(ctx.surcharges.len(), 5);
    let loyalty = ctx
        .discounts
        .iter()
        .find(|d| d.code == DiscountCode::Loyalty)
        .expect("loyalty");
    assert!(!loyalty.stackable);
    assert_eq!(loyalty.percent, dec!(20));
    assert_eq!(ctx.effective_date, date!(2026 - 06 - 01));
}

#[tokio::test]
async fn resolve_reports_the_first_coverage_without_an_active_base_rate() {
    let (_db, repo) = setup().await;
    // A second state with a territory and a collision rate only.
    fx::collision_only_state(&repo).await;
    let err = repo
        .rating()
        .resolve(
            &StateCode::parse("XU").expect("state"),
            &Zip::parse("33333").expect("zip"),
            &[CoverageType::Collision, CoverageType::Rental, CoverageType::Roadside],
            date!(2026 - 06 - 01),
        )
        .await
        .expect_err("rental has no rate");
    assert!(
        matches!(
            err,
            RatingError::NoBaseRate {
                coverage: CoverageType::Rental
            }
        ),
        "{err:?}"
    );

    // Before the rates' first day nothing is active.
    let err = repo
        .rating()
        .resolve(
            &fx::state(),
            &fx::zip(),
            &[CoverageType::Roadside],
            date!(2019 - 12 - 31),
        )
        .await
        .expect_err("no rate yet");
    assert!(
        matches!(
            err,
            RatingError::NoBaseRate {
                coverage: CoverageType::Roadside
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn resolve_reports_a_zip_without_a_territory_factor() {
    let (_db, repo) = setup().await;
    let zip = Zip::parse("99999").expect("zip");
    let err = repo
        .rating()
        .resolve(&fx::state(), &zip, &[CoverageType::Collision], date!(2026 - 06 - 01))
        .await
        .expect_err("no territory");
    assert!(
        matches!(err, RatingError::NoTerritory { zip: ref z } if z == &zip),
        "{err:?}"
    );
}

#[tokio::test]
async fn resolve_reports_a_missing_or_unusable_discount_cap() {
    let (_db, repo) = setup().await;
    let resolve = || async {
        repo.rating()
            .resolve(
                &fx::state(),
                &fx::zip(),
                &[CoverageType::Collision],
                date!(2026 - 06 - 01),
            )
            .await
    };
    common::delete_setting(&repo, "rating.discount_cap").await;
    assert!(matches!(resolve().await, Err(RatingError::NoDiscountCap)));

    // A string is not a number.
    common::set_setting(&repo, "rating.discount_cap", serde_json::json!("0.35")).await;
    assert!(matches!(resolve().await, Err(RatingError::NoDiscountCap)));

    // A sensitive setting is never read by public_setting().
    common::delete_setting(&repo, "rating.discount_cap").await;
    repo.admin()
        .settings()
        .set(
            &Actor::System,
            &SettingKey::parse("rating.discount_cap").expect("key"),
            0.35,
            "sensitive",
            true,
        )
        .await
        .expect("sensitive setting");
    assert!(matches!(resolve().await, Err(RatingError::NoDiscountCap)));

    // A cap of 100 % or more is not a fraction.
    common::set_setting(&repo, "rating.discount_cap", serde_json::json!(1.5)).await;
    assert!(matches!(resolve().await, Err(RatingError::InvalidDiscountCap(c)) if c == dec!(1.5)));

    common::set_setting(&repo, "rating.discount_cap", serde_json::json!(0.2)).await;
    assert_eq!(resolve().await.expect("resolve").discount_cap, dec!(0.2));
}

#[tokio::test]
async fn resolve_refuses_an_empty_or_duplicated_coverage_list() {
    let (_db, repo) = setup().await;
    let err = repo
        .rating()
        .resolve(&fx::state(), &fx::zip(), &[], date!(2026 - 06 - 01))
        .await
        .expect_err("empty");
    assert!(
        matches!(err, RatingError::Invalid(ref e) if e.field == "coverages"),
        "{err:?}"
    );
    let err = repo
        .rating()
        .resolve(
            &fx::state(),
            &fx::zip(),
            &[CoverageType::Rental, CoverageType::Rental],
            date!(2026 - 06 - 01),
        )
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, RatingError::Invalid(ref e) if e.field == "coverages"),
        "{err:?}"
    );
}

#[tokio::test]
async fn resolve_uses_the_rate_in_force_on_the_effective_date() {
    let (_db, repo) = setup().await;
    let desk = fx::rate_desk(&repo).await;
    // A new collision rate from 2030: applying it closes the old period at 2030-01-01.
    fx::base_rate(
        &repo,
        &desk,
        fx::STATE,
        CoverageType::Collision,
        dec!(450.00),
        date!(2030 - 01 - 01),
        None,
    )
    .await;
    let at = |d| {
        let repo = repo.clone();
        async move {
            repo.rating()
                .resolve(&fx::state(), &fx::zip(), &[CoverageType::Collision], d)
                .await
                .expect("resolve")
                .base_rates[0]
                .base_amount
        }
    };
    assert_eq!(at(date!(2029 - 12 - 31)).await, dec!(400.00));
    assert_eq!(at(date!(2030 - 01 - 01)).await, dec!(450.00));
}

#[tokio::test]
async fn a_state_rule_overrides_the_countrywide_rule_and_inactive_rules_are_ignored() {
    let (db, repo) = setup().await;
    // Raw SQL for the rules below: the API has no call that writes a discount or surcharge rule.
    // A countrywide multi_policy rule (the seeds may already have one: keep theirs).
    sqlx::query(
        "INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description, active)
         VALUES ('multi_policy', NULL, 12, true, '{}', 'countrywide', true) ON CONFLICT DO NOTHING",
    )
    .execute(db.pool())
    .await
    .expect("countrywide rule");
    sqlx::query("UPDATE discount_rules SET active = true WHERE code = 'multi_policy' AND state_code IS NULL")
        .execute(db.pool())
        .await
        .expect("activate countrywide rule");
    let countrywide: Uuid =
        sqlx::query_scalar("SELECT id FROM discount_rules WHERE code = 'multi_policy' AND state_code IS NULL")
            .fetch_one(db.pool())
            .await
            .expect("countrywide id");
    // A second state without its own multi_policy rule, with an INACTIVE state surcharge.
    fx::collision_only_state(&repo).await;
    sqlx::query(
        "INSERT INTO surcharge_rules (code, state_code, percent, conditions, description, active)
         VALUES ('dui', 'XU', 150, '{}', 'inactive state surcharge', false)",
    )
    .execute(db.pool())
    .await
    .expect("inactive rule");

    let in_xt = repo
        .rating()
        .resolve(
            &fx::state(),
            &fx::zip(),
            &[CoverageType::Collision],
            date!(2026 - 06 - 01),
        )
        .await
        .expect("resolve XT");
    let mp = in_xt
        .discounts
        .iter()
        .find(|d| d.code == DiscountCode::MultiPolicy)
        .expect("multi_policy");
    assert_ne!(mp.id.0, countrywide, "the XT rule wins over the countrywide one");
    assert_eq!(mp.percent, dec!(10));
    assert_eq!(
        in_xt
            .discounts
            .iter()
            .filter(|d| d.code == DiscountCode::MultiPolicy)
            .count(),
        1
    );

    let in_xu = repo
        .rating()
        .resolve(
            &StateCode::parse("XU").expect("state"),
            &Zip::parse("33333").expect("zip"),
            &[CoverageType::Collision],
            date!(2026 - 06 - 01),
        )
        .await
        .expect("resolve XU");
    let mp = in_xu
        .discounts
        .iter()
        .find(|d| d.code == DiscountCode::MultiPolicy)
        .expect("countrywide applies");
    assert_eq!(mp.id.0, countrywide);
    assert_eq!(mp.state_code, None);
    let dui = in_xu.surcharges.iter().find(|s| s.code == SurchargeCode::Dui);
    assert!(
        dui.is_none_or(|s| s.state_code.is_none()),
        "the inactive XU dui rule is ignored: {dui:?}"
    );
}
