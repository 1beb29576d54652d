//! Rating as pure functions: the rates that apply to a quote ([`RatingContext`], what the
//! repository's `Rating::resolve` reads in one round trip) and the premium they give ([`price`]).
//!
//! ```text
//! per coverage: premium = base × territory × (1 + Σ surcharge %) × (1 − discount)
//!               discount = max(min(Σ stackable %, cap), min(largest non-stackable %, cap))
//!               rounded half-even to cents; total = Σ lines
//! ```

mod pricing;

pub use pricing::{
    AppliedDiscount, AppliedSurcharge, DiscountBasis, Eligibility, LineBreakdown, PremiumBreakdown, PricingError,
    RatingInput, price,
};

use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use time::Date;

use crate::InvalidInput;
use crate::ids::{BaseRateId, DiscountRuleId, SurchargeRuleId, TerritoryFactorId};
use crate::types::{StateCode, Zip};

/// The active base rate of one coverage.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedBaseRate {
    /// The `base_rates` row.
    pub id: BaseRateId,
    /// Coverage it prices.
    pub coverage_type: CoverageType,
    /// Annual base premium in dollars.
    pub base_amount: Decimal,
}

/// The active territory factor of the garaging ZIP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedTerritory {
    /// The `territory_factors` row.
    pub id: TerritoryFactorId,
    /// City (or borough) of the ZIP.
    pub city: String,
    /// Multiplier on the base rate (0.5–3.0).
    pub factor: Decimal,
}

/// An active discount rule applying in the state (the state row, else the countrywide one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedDiscount {
    /// The `discount_rules` row.
    pub id: DiscountRuleId,
    /// Which discount.
    pub code: DiscountCode,
    /// The state of the rule; `None` = countrywide.
    pub state_code: Option<StateCode>,
    /// Percentage off, in (0, 50] (10 = 10 %).
    pub percent: Decimal,
    /// Adds to the other stackable discounts (else applies only on its own).
    pub stackable: bool,
    /// The rule's eligibility conditions, for the caller's eligibility decision (not evaluated here).
    pub eligibility: JsonValue,
}

/// An active surcharge rule applying in the state (the state row, else the countrywide one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedSurcharge {
    /// The `surcharge_rules` row.
    pub id: SurchargeRuleId,
    /// Which surcharge.
    pub code: SurchargeCode,
    /// The state of the rule; `None` = countrywide.
    pub state_code: Option<StateCode>,
    /// Percentage added, in (0, 200] (25 = 25 %).
    pub percent: Decimal,
    /// The rule's conditions, for the caller's eligibility decision (not evaluated here).
    pub conditions: JsonValue,
}

/// Everything rating read for one quote: what [`price`] needs, and what a quote version records
/// in `rating_inputs`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RatingContext {
    /// Garaging state.
    pub state_code: StateCode,
    /// Garaging ZIP.
    pub zip: Zip,
    /// The date the rates are effective on (the quote's effective date).
    pub effective_date: Date,
    /// One active base rate per requested coverage, in request order.
    pub base_rates: Vec<ResolvedBaseRate>,
    /// The active territory factor of the ZIP.
    pub territory: ResolvedTerritory,
    /// Active discount rules of the state, one per code, in code order.
    pub discounts: Vec<ResolvedDiscount>,
    /// Active surcharge rules of the state, one per code, in code order.
    pub surcharges: Vec<ResolvedSurcharge>,
    /// Maximum total discount, a fraction (0.35 = 35 %), from setting `rating.discount_cap`.
    pub discount_cap: Decimal,
}

impl RatingContext {
    /// The base rate of `coverage`, if resolved.
    pub fn base_rate(&self, coverage: CoverageType) -> Option<&ResolvedBaseRate> {
        self.base_rates.iter().find(|r| r.coverage_type == coverage)
    }
}

/// Validate a requested coverage list: at least one, each at most once.
pub fn check_coverages(coverages: &[CoverageType]) -> Result<(), InvalidInput> {
    if coverages.is_empty() {
        return Err(InvalidInput::new("coverages", "at least one coverage is required"));
    }
    for (i, c) in coverages.iter().enumerate() {
        if coverages[..i].contains(c) {
            return Err(InvalidInput::new("coverages", format!("{c} is listed more than once")));
        }
    }
    Ok(())
}
