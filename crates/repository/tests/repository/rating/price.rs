//! The pricing rules on known numbers (`price()`, no database).

use quotedb_repository::rating::{
    DiscountBasis, Eligibility, PricingError, RatingContext, RatingInput, ResolvedBaseRate, ResolvedDiscount,
    ResolvedSurcharge, ResolvedTerritory, price,
};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::schema::rating::{DiscountCode, SurchargeCode};
use quotedb_repository::{BaseRateId, DiscountRuleId, StateCode, SurchargeRuleId, TerritoryFactorId, Zip};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::macros::date;
use uuid::Uuid;

fn discount(code: DiscountCode, percent: Decimal, stackable: bool) -> ResolvedDiscount {
    ResolvedDiscount {
        id: DiscountRuleId(Uuid::new_v4()),
        code,
        state_code: None,
        percent,
        stackable,
        eligibility: serde_json::json!({}),
    }
}

fn surcharge(code: SurchargeCode, percent: Decimal) -> ResolvedSurcharge {
    ResolvedSurcharge {
        id: SurchargeRuleId(Uuid::new_v4()),
        code,
        state_code: None,
        percent,
        conditions: serde_json::json!({}),
    }
}

/// A context with collision 400.00 and comprehensive 200.00, territory 1.2, the fixture rules, cap 0.35.
fn context() -> RatingContext {
    RatingContext {
        state_code: StateCode::parse("XT").expect("state"),
        zip: Zip::parse("11111").expect("zip"),
        effective_date: date!(2026 - 06 - 01),
        base_rates: vec![
            ResolvedBaseRate {
                id: BaseRateId(Uuid::new_v4()),
                coverage_type: CoverageType::Collision,
                base_amount: dec!(400.00),
            },
            ResolvedBaseRate {
                id: BaseRateId(Uuid::new_v4()),
                coverage_type: CoverageType::Comprehensive,
                base_amount: dec!(200.00),
            },
        ],
        territory: ResolvedTerritory {
            id: TerritoryFactorId(Uuid::new_v4()),
            city: "Testville".into(),
            factor: dec!(1.200),
        },
        discounts: vec![
            discount(DiscountCode::MultiPolicy, dec!(10), true),
            discount(DiscountCode::GoodDriver, dec!(15), true),
            discount(DiscountCode::GoodStudent, dec!(10), true),
            discount(DiscountCode::SafeVehicle, dec!(5), true),
            discount(DiscountCode::AntiTheft, dec!(5), true),
            discount(DiscountCode::Loyalty, dec!(20), false),
        ],
        surcharges: vec![
            surcharge(SurchargeCode::AtFaultAccident, dec!(30)),
            surcharge(SurchargeCode::SpeedingViolation, dec!(15)),
        ],
        discount_cap: dec!(0.35),
    }
}

fn input(coverages: &[CoverageType], discounts: &[DiscountCode], surcharges: &[SurchargeCode]) -> RatingInput {
    RatingInput {
        coverages: coverages.to_vec(),
        eligibility: Eligibility {
            discounts: discounts.to_vec(),
            surcharges: surcharges.to_vec(),
        },
    }
}

#[test]
fn a_line_is_base_times_territory_times_surcharges_times_discounts() {
    let b = price(
        &context(),
        &input(
            &[CoverageType::Collision, CoverageType::Comprehensive],
            &[DiscountCode::MultiPolicy, DiscountCode::GoodDriver],
            &[SurchargeCode::AtFaultAccident],
        ),
    )
    .expect("price");
    // 400 × 1.2 × 1.30 × 0.75 = 468.00; 200 × 1.2 × 1.30 × 0.75 = 234.00
    assert_eq!(b.lines[0].premium, dec!(468.00));
    assert_eq!(b.lines[1].premium, dec!(234.00));
    assert_eq!(b.total, dec!(702.00));
    let line = &b.lines[0];
    assert_eq!(line.coverage_type, CoverageType::Collision);
    assert_eq!(line.surcharge_factor, dec!(1.30));
    assert_eq!(line.discount_basis, DiscountBasis::Stacked);
    assert_eq!(line.discount_applied, dec!(0.25));
    assert!(!line.discount_capped);
    assert_eq!(line.discounts.len(), 2);
    assert_eq!(line.surcharges.len(), 1);
}

#[test]
fn stacked_discounts_are_capped() {
    let all_stackable = [
        DiscountCode::MultiPolicy,
        DiscountCode::GoodDriver,
        DiscountCode::GoodStudent,
        DiscountCode::SafeVehicle,
        DiscountCode::AntiTheft,
    ];
    let b = price(&context(), &input(&[CoverageType::Collision], &all_stackable, &[])).expect("price");
    let line = &b.lines[0];
    assert_eq!(line.discount_requested, dec!(0.45));
    assert_eq!(line.discount_applied, dec!(0.35));
    assert!(line.discount_capped);
    // 400 × 1.2 × 0.65 = 312.00
    assert_eq!(line.premium, dec!(312.00));
}

#[test]
fn a_non_stackable_discount_applies_alone_when_it_beats_the_stacked_sum() {
    // loyalty 20 % vs stacked 10 %: loyalty alone.
    let b = price(
        &context(),
        &input(
            &[CoverageType::Collision],
            &[DiscountCode::Loyalty, DiscountCode::MultiPolicy],
            &[],
        ),
    )
    .expect("price");
    let line = &b.lines[0];
    assert_eq!(line.discount_basis, DiscountBasis::NonStackable);
    assert_eq!(
        line.discounts.iter().map(|d| d.code).collect::<Vec<_>>(),
        vec![DiscountCode::Loyalty]
    );
    assert_eq!(line.premium, dec!(384.00)); // 480 × 0.80

    // loyalty 20 % vs stacked 25 %: the stacked sum, loyalty dropped.
    let b = price(
        &context(),
        &input(
            &[CoverageType::Collision],
            &[
                DiscountCode::Loyalty,
                DiscountCode::MultiPolicy,
                DiscountCode::GoodDriver,
            ],
            &[],
        ),
    )
    .expect("price");
    let line = &b.lines[0];
    assert_eq!(line.discount_basis, DiscountBasis::Stacked);
    assert!(line.discounts.iter().all(|d| d.stackable));
    assert_eq!(line.premium, dec!(360.00)); // 480 × 0.75
}

#[test]
fn lines_are_rounded_half_even_to_cents() {
    let mut ctx = context();
    ctx.territory.factor = dec!(0.500);
    ctx.base_rates[0].base_amount = dec!(100.25); // × 0.5 = 50.125 → 50.12 (half-even; half-up gives 50.13)
    ctx.base_rates[1].base_amount = dec!(100.35); // × 0.5 = 50.175 → 50.18
    let b = price(
        &ctx,
        &input(&[CoverageType::Collision, CoverageType::Comprehensive], &[], &[]),
    )
    .expect("price");
    assert_eq!(b.lines[0].unrounded_premium, dec!(50.125));
    assert_eq!(b.lines[0].premium, dec!(50.12));
    assert_eq!(b.lines[1].premium, dec!(50.18));
    assert_eq!(b.total, dec!(100.30));
}

#[test]
fn qualified_codes_the_state_does_not_offer_are_listed_and_not_applied() {
    let b = price(
        &context(),
        &input(
            &[CoverageType::Collision],
            &[DiscountCode::Paperless],
            &[SurchargeCode::Dui],
        ),
    )
    .expect("price");
    assert_eq!(b.unoffered_discounts, vec![DiscountCode::Paperless]);
    assert_eq!(b.unoffered_surcharges, vec![SurchargeCode::Dui]);
    assert_eq!(b.lines[0].discount_basis, DiscountBasis::None);
    assert_eq!(b.total, dec!(480.00));
}

#[test]
fn pricing_refuses_what_the_context_cannot_price() {
    let ctx = context();
    assert!(matches!(
        price(&ctx, &input(&[CoverageType::Rental], &[], &[])),
        Err(PricingError::NoBaseRate {
            coverage: CoverageType::Rental
        })
    ));
    assert!(matches!(
        price(&ctx, &input(&[], &[], &[])),
        Err(PricingError::Invalid(_))
    ));
    assert!(matches!(
        price(
            &ctx,
            &input(&[CoverageType::Collision, CoverageType::Collision], &[], &[])
        ),
        Err(PricingError::Invalid(_))
    ));
    let mut capless = ctx.clone();
    capless.discount_cap = dec!(1);
    assert!(matches!(
        price(&capless, &input(&[CoverageType::Collision], &[], &[])),
        Err(PricingError::InvalidDiscountCap(_))
    ));
    let mut tiny = ctx;
    tiny.territory.factor = dec!(0.5);
    tiny.base_rates[0].base_amount = dec!(0.01); // 0.005 → 0.00 (half-even)
    assert!(matches!(
        price(&tiny, &input(&[CoverageType::Collision], &[], &[])),
        Err(PricingError::NonPositivePremium(_))
    ));
}

#[test]
fn the_breakdown_round_trips_through_json() {
    let b = price(
        &context(),
        &input(
            &[CoverageType::Collision],
            &[DiscountCode::GoodDriver],
            &[SurchargeCode::SpeedingViolation],
        ),
    )
    .expect("price");
    let json = serde_json::to_value(&b).expect("serialise");
    assert_eq!(json["lines"][0]["coverage_type"], "collision");
    let back: quotedb_repository::rating::PremiumBreakdown = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, b);
}
