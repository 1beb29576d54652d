//! Properties of the pure pricing function over generated rating contexts: a premium is
//! positive, rounded to cents and the sum of its lines; a surcharge never makes a quote
//! cheaper and a discount never makes it dearer; the applied discount never exceeds the cap.

use proptest::prelude::*;
use quotedb_repository::rating::{
    Eligibility, PremiumBreakdown, RatingContext, RatingInput, ResolvedBaseRate, ResolvedDiscount, ResolvedSurcharge,
    ResolvedTerritory, price,
};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::{BaseRateId, DiscountRuleId, StateCode, SurchargeRuleId, TerritoryFactorId, Zip};
use rust_decimal::Decimal;
use time::macros::date;
use uuid::Uuid;

/// Dollars and cents in [min, max] (as the database stores numeric(12,2)).
fn cents(min: i64, max: i64) -> impl Strategy<Value = Decimal> {
    (min..=max).prop_map(|c| Decimal::new(c, 2))
}

/// A context like the database would resolve: every coverage rated 1.00–20,000.00, territory
/// 0.500–3.000, an optional rule per discount code (0.01–50 %, random stackability) and per
/// surcharge code (0.01–200 %), cap 0–0.60.
fn context() -> impl Strategy<Value = RatingContext> {
    (
        prop::collection::vec(cents(100, 2_000_000), 8),
        (500_i64..=3000).prop_map(|f| Decimal::new(f, 3)),
        prop::collection::vec(prop::option::of((cents(1, 5000), any::<bool>())), 7),
        prop::collection::vec(prop::option::of(cents(1, 20_000)), 5),
        (0_i64..=60).prop_map(|c| Decimal::new(c, 2)),
    )
        .prop_map(|(amounts, factor, discounts, surcharges, cap)| RatingContext {
            state_code: StateCode::parse("XT").expect("state"),
            zip: Zip::parse("11111").expect("zip"),
            effective_date: date!(2026 - 06 - 01),
            base_rates: CoverageType::ALL
                .iter()
                .zip(amounts)
                .map(|(c, a)| ResolvedBaseRate {
                    id: BaseRateId(Uuid::nil()),
                    coverage_type: *c,
                    base_amount: a,
                })
                .collect(),
            territory: ResolvedTerritory {
                id: TerritoryFactorId(Uuid::nil()),
                city: "Proptown".into(),
                factor,
            },
            discounts: DiscountCode::ALL
                .iter()
                .zip(discounts)
                .filter_map(|(code, rule)| {
                    rule.map(|(percent, stackable)| ResolvedDiscount {
                        id: DiscountRuleId(Uuid::nil()),
                        code: *code,
                        state_code: None,
                        percent,
                        stackable,
                        eligibility: serde_json::json!({}),
                    })
                })
                .collect(),
            surcharges: SurchargeCode::ALL
                .iter()
                .zip(surcharges)
                .filter_map(|(code, rule)| {
                    rule.map(|percent| ResolvedSurcharge {
                        id: SurchargeRuleId(Uuid::nil()),
                        code: *code,
                        state_code: None,
                        percent,
                        conditions: serde_json::json!({}),
                    })
                })
                .collect(),
            discount_cap: cap,
        })
}

/// A non-empty set of coverages and random qualifications.
fn input() -> impl Strategy<Value = RatingInput> {
    (
        prop::sample::subsequence(CoverageType::ALL.to_vec(), 1..=8),
        prop::sample::subsequence(DiscountCode::ALL.to_vec(), 0..=7),
        prop::sample::subsequence(SurchargeCode::ALL.to_vec(), 0..=5),
    )
        .prop_map(|(coverages, discounts, surcharges)| RatingInput {
            coverages,
            eligibility: Eligibility { discounts, surcharges },
        })
}

fn priced(ctx: &RatingContext, input: &RatingInput) -> PremiumBreakdown {
    price(ctx, input).expect("a generated context prices every generated input")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_premium_is_positive_rounded_to_cents_and_the_sum_of_its_lines(ctx in context(), input in input()) {
        let b = priced(&ctx, &input);
        prop_assert!(b.total > Decimal::ZERO);
        prop_assert_eq!(b.lines.len(), input.coverages.len());
        let mut sum = Decimal::ZERO;
        for line in &b.lines {
            prop_assert!(line.premium > Decimal::ZERO);
            prop_assert!(line.premium.scale() <= 2);
            prop_assert!((line.premium - line.unrounded_premium).abs() <= Decimal::new(5, 3));
            sum += line.premium;
        }
        prop_assert_eq!(b.total, sum);
    }

    #[test]
    fn the_applied_discount_never_exceeds_the_cap(ctx in context(), input in input()) {
        let b = priced(&ctx, &input);
        for line in &b.lines {
            prop_assert!(line.discount_applied >= Decimal::ZERO);
            prop_assert!(line.discount_applied <= ctx.discount_cap);
            prop_assert_eq!(line.discount_applied, line.discount_requested.min(ctx.discount_cap));
            prop_assert_eq!(line.discount_factor, Decimal::ONE - line.discount_applied);
            // A non-stackable discount never combines with another one.
            if line.discounts.iter().any(|d| !d.stackable) {
                prop_assert_eq!(line.discounts.len(), 1);
            }
        }
    }

    #[test]
    fn adding_a_surcharge_never_makes_a_quote_cheaper(ctx in context(), input in input(), extra in prop::sample::select(SurchargeCode::ALL.to_vec())) {
        let before = priced(&ctx, &input);
        let mut more = input.clone();
        if !more.eligibility.surcharges.contains(&extra) {
            more.eligibility.surcharges.push(extra);
        }
        let after = priced(&ctx, &more);
        prop_assert!(after.total >= before.total);
        for (a, b) in after.lines.iter().zip(&before.lines) {
            prop_assert!(a.premium >= b.premium);
        }
    }

    #[test]
    fn adding_a_discount_never_makes_a_quote_dearer(ctx in context(), input in input(), extra in prop::sample::select(DiscountCode::ALL.to_vec())) {
        let before = priced(&ctx, &input);
        let mut more = input.clone();
        if !more.eligibility.discounts.contains(&extra) {
            more.eligibility.discounts.push(extra);
        }
        let after = priced(&ctx, &more);
        prop_assert!(after.total <= before.total);
    }

    #[test]
    fn pricing_is_deterministic_and_ignores_the_order_of_qualifications(ctx in context(), input in input()) {
        let mut reversed = input.clone();
        reversed.eligibility.discounts.reverse();
        reversed.eligibility.surcharges.reverse();
        prop_assert_eq!(priced(&ctx, &input), priced(&ctx, &reversed));
    }
}
