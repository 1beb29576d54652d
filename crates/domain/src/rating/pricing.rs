//! The pure pricing function: no I/O, `rust_decimal` arithmetic, deterministic output.

use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rust_decimal::{Decimal, RoundingStrategy};
use time::Date;

use super::{RatingContext, check_coverages};
use crate::InvalidInput;
use crate::ids::{BaseRateId, DiscountRuleId, SurchargeRuleId, TerritoryFactorId};
use crate::types::{StateCode, Zip};

/// What the applicant qualifies for: the caller's eligibility decision (e.g. the underwriting
/// service evaluated the rules' `eligibility` / `conditions` JSON against driver and vehicle
/// facts). Codes are a set: order and duplicates do not matter. A code with no active rule in
/// the state is ignored (and listed in [`PremiumBreakdown::unoffered_discounts`] /
/// [`PremiumBreakdown::unoffered_surcharges`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Eligibility {
    /// Discounts the applicant qualifies for.
    #[serde(default)]
    pub discounts: Vec<DiscountCode>,
    /// Surcharges that apply to the applicant.
    #[serde(default)]
    pub surcharges: Vec<SurchargeCode>,
}

/// The input of [`price`]: which coverages to price and what the applicant qualifies for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RatingInput {
    /// Coverages to price, each at most once; the breakdown keeps this order.
    pub coverages: Vec<CoverageType>,
    /// Discounts and surcharges the applicant qualifies for.
    #[serde(default)]
    pub eligibility: Eligibility,
}

/// Which discount a line got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountBasis {
    /// No discount applies.
    None,
    /// The sum of the stackable discounts (capped).
    Stacked,
    /// The single largest non-stackable discount (capped), because it beat the stacked sum.
    NonStackable,
}

/// A discount rule as applied to a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedDiscount {
    /// The `discount_rules` row.
    pub rule_id: DiscountRuleId,
    /// Which discount.
    pub code: DiscountCode,
    /// Its percentage (10 = 10 %).
    pub percent: Decimal,
    /// Whether it is stackable.
    pub stackable: bool,
}

/// A surcharge rule as applied to a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedSurcharge {
    /// The `surcharge_rules` row.
    pub rule_id: SurchargeRuleId,
    /// Which surcharge.
    pub code: SurchargeCode,
    /// Its percentage (25 = 25 %).
    pub percent: Decimal,
}

/// How one coverage line was priced: every factor that went into it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineBreakdown {
    /// The coverage.
    pub coverage_type: CoverageType,
    /// The base rate row used.
    pub base_rate_id: BaseRateId,
    /// Annual base premium.
    pub base_amount: Decimal,
    /// Territory multiplier.
    pub territory_factor: Decimal,
    /// Surcharges applied (all that the applicant qualifies for and the state offers).
    pub surcharges: Vec<AppliedSurcharge>,
    /// Σ surcharge percentages.
    pub surcharge_percent: Decimal,
    /// 1 + Σ surcharge % / 100.
    pub surcharge_factor: Decimal,
    /// Discounts applied (see [`DiscountBasis`]).
    pub discounts: Vec<AppliedDiscount>,
    /// Which discount rule won.
    pub discount_basis: DiscountBasis,
    /// The discount before the cap, a fraction.
    pub discount_requested: Decimal,
    /// The discount applied, a fraction: min(requested, cap).
    pub discount_applied: Decimal,
    /// Whether the cap cut the discount.
    pub discount_capped: bool,
    /// 1 − applied discount.
    pub discount_factor: Decimal,
    /// base × territory × surcharge factor × discount factor, before rounding.
    pub unrounded_premium: Decimal,
    /// The line premium, rounded half-even to cents.
    pub premium: Decimal,
}

/// How a premium was computed; stored as `quote_versions.breakdown`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PremiumBreakdown {
    /// Garaging state.
    pub state_code: StateCode,
    /// Garaging ZIP.
    pub zip: Zip,
    /// Date the rates were effective on.
    pub effective_date: Date,
    /// Territory factor row used.
    pub territory_factor_id: TerritoryFactorId,
    /// Its city.
    pub territory_city: String,
    /// Its factor.
    pub territory_factor: Decimal,
    /// Maximum total discount (fraction) that was in force.
    pub discount_cap: Decimal,
    /// One entry per coverage, in request order.
    pub lines: Vec<LineBreakdown>,
    /// Qualified discounts the state does not offer (no active rule): not applied.
    pub unoffered_discounts: Vec<DiscountCode>,
    /// Qualified surcharges the state does not define (no active rule): not applied.
    pub unoffered_surcharges: Vec<SurchargeCode>,
    /// Σ line premiums.
    pub total: Decimal,
}

impl PremiumBreakdown {
    /// The premium of `coverage`, if priced.
    pub fn line(&self, coverage: CoverageType) -> Option<&LineBreakdown> {
        self.lines.iter().find(|l| l.coverage_type == coverage)
    }
}

/// Why a premium could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The coverage list is empty or lists a coverage twice.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The context has no base rate for this coverage.
    #[error("no base rate for {coverage} in the rating context")]
    NoBaseRate {
        /// The coverage.
        coverage: CoverageType,
    },
    /// The discount cap is not a fraction in [0, 1).
    #[error("discount cap {0} is not a fraction in [0, 1)")]
    InvalidDiscountCap(Decimal),
    /// A factor of the context is out of range (base ≤ 0, territory ≤ 0, percent ≤ 0 or a
    /// discount over 100 %).
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// Which factor.
        what: &'static str,
        /// Its value.
        value: Decimal,
    },
    /// The arithmetic overflowed `Decimal` (absurd inputs).
    #[error("premium computation overflowed")]
    Overflow,
    /// The priced total is not greater than zero (e.g. base rates of a cent rounding to 0.00).
    #[error("the total premium {0} is not greater than zero")]
    NonPositivePremium(Decimal),
}

/// Price `input` with the rates of `ctx`. Pure: same inputs, same breakdown.
///
/// Per coverage line:
/// `premium = round_half_even_cents(base × territory × (1 + Σs/100) × (1 − d))`, where
/// - `Σs` sums the percentages of every surcharge the applicant qualifies for that has a rule in
///   `ctx` (surcharges always stack; there is no surcharge cap);
/// - `d` is the discount fraction, chosen as follows (the same for every line):
///   `stacked = min(Σ stackable % / 100, cap)` over the qualified stackable discounts, and
///   `single = min(largest qualified non-stackable % / 100, cap)`. If `single > stacked`, the
///   non-stackable discount applies ALONE (the stackable ones are dropped); otherwise the
///   stacked sum applies and the non-stackable ones are dropped (on a tie the stacked sum wins).
///   So a non-stackable discount never combines with anything, the applicant always gets the
///   better of the two, and the applied discount never exceeds the cap.
///
/// The total is the sum of the rounded lines. Every discount and surcharge applies to every
/// line (the rules carry no per-coverage scope).
pub fn price(ctx: &RatingContext, input: &RatingInput) -> Result<PremiumBreakdown, PricingError> {
    check_coverages(&input.coverages)?;
    let cap = ctx.discount_cap;
    if cap < Decimal::ZERO || cap >= Decimal::ONE {
        return Err(PricingError::InvalidDiscountCap(cap));
    }
    let territory = ctx.territory.factor;
    if territory <= Decimal::ZERO {
        return Err(PricingError::OutOfRange {
            what: "territory factor",
            value: territory,
        });
    }
    let hundred = Decimal::ONE_HUNDRED;

    // Surcharges: every qualified one the state defines.
    let mut surcharges = Vec::new();
    for rule in ctx
        .surcharges
        .iter()
        .filter(|r| input.eligibility.surcharges.contains(&r.code))
    {
        if rule.percent <= Decimal::ZERO {
            return Err(PricingError::OutOfRange {
                what: "surcharge percent",
                value: rule.percent,
            });
        }
        surcharges.push(AppliedSurcharge {
            rule_id: rule.id,
            code: rule.code,
            percent: rule.percent,
        });
    }
    let surcharge_percent = surcharges
        .iter()
        .try_fold(Decimal::ZERO, |acc, s| acc.checked_add(s.percent))
        .ok_or(PricingError::Overflow)?;
    let surcharge_factor = Decimal::ONE
        .checked_add(surcharge_percent / hundred)
        .ok_or(PricingError::Overflow)?;

    // Discounts: stacked sum vs. the best non-stackable one, both capped.
    let mut stackable = Vec::new();
    let mut best_single: Option<AppliedDiscount> = None;
    for rule in ctx
        .discounts
        .iter()
        .filter(|r| input.eligibility.discounts.contains(&r.code))
    {
        if rule.percent <= Decimal::ZERO || rule.percent > hundred {
            return Err(PricingError::OutOfRange {
                what: "discount percent",
                value: rule.percent,
            });
        }
        let applied = AppliedDiscount {
            rule_id: rule.id,
            code: rule.code,
            percent: rule.percent,
            stackable: rule.stackable,
        };
        if rule.stackable {
            stackable.push(applied);
        } else if best_single.as_ref().is_none_or(|b| applied.percent > b.percent) {
            best_single = Some(applied);
        }
    }
    let stacked_requested = stackable
        .iter()
        .try_fold(Decimal::ZERO, |acc, d| acc.checked_add(d.percent))
        .ok_or(PricingError::Overflow)?
        / hundred;
    let stacked = stacked_requested.min(cap);
    let (basis, discounts, discount_requested, discount_applied) = match best_single {
        Some(single) if stackable.is_empty() || (single.percent / hundred).min(cap) > stacked => {
            let requested = single.percent / hundred;
            (DiscountBasis::NonStackable, vec![single], requested, requested.min(cap))
        }
        _ if stackable.is_empty() => (DiscountBasis::None, Vec::new(), Decimal::ZERO, Decimal::ZERO),
        _ => (DiscountBasis::Stacked, stackable, stacked_requested, stacked),
    };
    let discount_factor = Decimal::ONE - discount_applied;

    let mut lines = Vec::with_capacity(input.coverages.len());
    let mut total = Decimal::ZERO;
    for &coverage in &input.coverages {
        let rate = ctx.base_rate(coverage).ok_or(PricingError::NoBaseRate { coverage })?;
        if rate.base_amount <= Decimal::ZERO {
            return Err(PricingError::OutOfRange {
                what: "base amount",
                value: rate.base_amount,
            });
        }
        let unrounded = rate
            .base_amount
            .checked_mul(territory)
            .and_then(|v| v.checked_mul(surcharge_factor))
            .and_then(|v| v.checked_mul(discount_factor))
            .ok_or(PricingError::Overflow)?;
        let premium = unrounded.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
        total = total.checked_add(premium).ok_or(PricingError::Overflow)?;
        lines.push(LineBreakdown {
            coverage_type: coverage,
            base_rate_id: rate.id,
            base_amount: rate.base_amount,
            territory_factor: territory,
            surcharges: surcharges.clone(),
            surcharge_percent,
            surcharge_factor,
            discounts: discounts.clone(),
            discount_basis: basis,
            discount_requested,
            discount_applied,
            discount_capped: discount_requested > discount_applied,
            discount_factor,
            unrounded_premium: unrounded,
            premium,
        });
    }
    if total <= Decimal::ZERO {
        return Err(PricingError::NonPositivePremium(total));
    }

    // In code order, whatever the order (or repetition) of the caller's codes.
    let unoffered_discounts: Vec<DiscountCode> = DiscountCode::ALL
        .into_iter()
        .filter(|c| input.eligibility.discounts.contains(c) && !ctx.discounts.iter().any(|r| r.code == *c))
        .collect();
    let unoffered_surcharges: Vec<SurchargeCode> = SurchargeCode::ALL
        .into_iter()
        .filter(|c| input.eligibility.surcharges.contains(c) && !ctx.surcharges.iter().any(|r| r.code == *c))
        .collect();

    Ok(PremiumBreakdown {
        state_code: ctx.state_code.clone(),
        zip: ctx.zip.clone(),
        effective_date: ctx.effective_date,
        territory_factor_id: ctx.territory.id,
        territory_city: ctx.territory.city.clone(),
        territory_factor: territory,
        discount_cap: cap,
        lines,
        unoffered_discounts,
        unoffered_surcharges,
        total,
    })
}
