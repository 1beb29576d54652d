//! Checks of a [`NewQuote`] made before anything is read or written: the coverage lines, amounts
//! that fit `numeric(12,2)`, and the effective date window.

use quotedb_schema::quotes::CoverageType;
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

use super::model::NewQuote;
use crate::error::InvalidInput;
use crate::rating::check_coverages;

/// How far ahead a quote's effective date may be.
pub const MAX_EFFECTIVE_DAYS_AHEAD: i64 = 365;
/// Largest amount a `numeric(12,2)` column holds.
/// (999_999_999_999 × 10⁻², i.e. lo + mid × 2³²: 3_567_587_327 + 232 × 4_294_967_296.)
const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2);

fn check_amount(field: &'static str, value: Decimal) -> Result<(), InvalidInput> {
    if value < Decimal::ZERO {
        return Err(InvalidInput::new(field, format!("{value} is negative")));
    }
    if value > MAX_AMOUNT || value.normalize().scale() > 2 {
        return Err(InvalidInput::new(
            field,
            format!("{value} does not fit an amount in dollars and cents (at most {MAX_AMOUNT})"),
        ));
    }
    Ok(())
}

pub(super) fn validate_new_quote(new: &NewQuote) -> Result<Vec<CoverageType>, InvalidInput> {
    let types: Vec<CoverageType> = new.coverages.iter().map(|c| c.coverage_type).collect();
    check_coverages(&types)?;
    for c in &new.coverages {
        if let Some(limit) = c.limit_amount {
            check_amount("limit_amount", limit)?;
        }
        check_amount("deductible", c.deductible)?;
    }
    let today = OffsetDateTime::now_utc().date();
    let latest = today.saturating_add(Duration::days(MAX_EFFECTIVE_DAYS_AHEAD));
    if new.effective_date < today || new.effective_date > latest {
        return Err(InvalidInput::new(
            "effective_date",
            format!("{} is not between today ({today}) and {latest}", new.effective_date),
        ));
    }
    Ok(types)
}
