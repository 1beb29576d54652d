//! What a rate change request proposes ([`ProposedChange`]: a [`BaseRateChange`] or a
//! [`TerritoryFactorChange`]), its JSON shape in `proposed_change`, and the checks made before
//! the database sees it.

use quotedb_schema::admin::RateChangeKind;
use quotedb_schema::quotes::CoverageType;
use rust_decimal::Decimal;
use serde_json::Value;
use time::Date;

use crate::InvalidInput;
use crate::types::{StateCode, Zip};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// A proposed base rate: `{state_code, coverage_type, base_amount, effective_from, effective_to?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaseRateChange {
    /// The state.
    pub state_code: StateCode,
    /// The coverage.
    pub coverage_type: CoverageType,
    /// Annual base premium in dollars: > 0, at most 2 decimals and 10 integer digits (NUMERIC(12,2)).
    pub base_amount: Decimal,
    /// First day the rate applies.
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    /// First day it no longer applies (exclusive); `None` = open-ended.
    #[serde(with = "iso_date::option", default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

/// A proposed territory factor: `{state_code, zip, city, factor, effective_from, effective_to?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TerritoryFactorChange {
    /// The state.
    pub state_code: StateCode,
    /// The ZIP code.
    pub zip: Zip,
    /// The city name.
    pub city: String,
    /// The multiplier: 0.500 to 3.000, at most 3 decimals (NUMERIC(4,3)).
    pub factor: Decimal,
    /// First day the factor applies.
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    /// First day it no longer applies (exclusive); `None` = open-ended.
    #[serde(with = "iso_date::option", default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

/// What a request proposes. Stored in `proposed_change` as the inner struct's JSON (the shape
/// `rate_change_requests_proposed_change_shape` requires for its kind).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "change", rename_all = "snake_case")]
pub enum ProposedChange {
    /// A new base rate.
    BaseRate(BaseRateChange),
    /// A new territory factor.
    TerritoryFactor(TerritoryFactorChange),
}

/// Decimal places and integer digits of `d` (trailing zeros ignored).
fn digits(d: Decimal) -> (u32, u32) {
    let n = d.normalize();
    let scale = n.scale();
    let int_digits = n.trunc().abs().to_string().trim_start_matches('0').len();
    (scale, u32::try_from(int_digits).unwrap_or(u32::MAX))
}

fn check_period(from: Date, to: Option<Date>) -> Result<(), InvalidInput> {
    match to {
        Some(to) if to <= from => Err(InvalidInput::new(
            "effective_to",
            format!("{to} is not after effective_from {from}"),
        )),
        _ => Ok(()),
    }
}

impl ProposedChange {
    /// The request kind.
    pub fn kind(&self) -> RateChangeKind {
        match self {
            Self::BaseRate(_) => RateChangeKind::BaseRate,
            Self::TerritoryFactor(_) => RateChangeKind::TerritoryFactor,
        }
    }

    /// Check what the database would refuse only when applying (so a request that can be
    /// approved can also be applied): amounts, precision, bounds, period.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Self::BaseRate(c) => {
                let (scale, int_digits) = digits(c.base_amount);
                if c.base_amount <= Decimal::ZERO {
                    return Err(InvalidInput::new(
                        "base_amount",
                        format!("{} is not positive", c.base_amount),
                    ));
                }
                if scale > 2 || int_digits > 10 {
                    return Err(InvalidInput::new(
                        "base_amount",
                        format!(
                            "{} does not fit NUMERIC(12,2) (2 decimals, 10 integer digits)",
                            c.base_amount
                        ),
                    ));
                }
                check_period(c.effective_from, c.effective_to)
            }
            Self::TerritoryFactor(c) => {
                if c.city.trim().is_empty() {
                    return Err(InvalidInput::new("city", "must not be blank"));
                }
                let (scale, _) = digits(c.factor);
                if c.factor < Decimal::new(500, 3) || c.factor > Decimal::new(3000, 3) || scale > 3 {
                    return Err(InvalidInput::new(
                        "factor",
                        format!("{} is not between 0.500 and 3.000 with at most 3 decimals", c.factor),
                    ));
                }
                check_period(c.effective_from, c.effective_to)
            }
        }
    }

    /// The JSONB stored in `proposed_change`.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        match self {
            Self::BaseRate(c) => serde_json::to_value(c),
            Self::TerritoryFactor(c) => serde_json::to_value(c),
        }
    }

    /// Read a stored `proposed_change` of `kind`.
    pub fn from_json(kind: RateChangeKind, value: Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            RateChangeKind::BaseRate => Self::BaseRate(serde_json::from_value(value)?),
            RateChangeKind::TerritoryFactor => Self::TerritoryFactor(serde_json::from_value(value)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use time::macros::date;

    fn base(amount: Decimal) -> ProposedChange {
        ProposedChange::BaseRate(BaseRateChange {
            state_code: StateCode::parse("CA").unwrap_or_else(|_| unreachable!()),
            coverage_type: CoverageType::Collision,
            base_amount: amount,
            effective_from: date!(2026 - 01 - 01),
            effective_to: None,
        })
    }

    fn territory(factor: Decimal, city: &str) -> ProposedChange {
        ProposedChange::TerritoryFactor(TerritoryFactorChange {
            state_code: StateCode::parse("CA").unwrap_or_else(|_| unreachable!()),
            zip: Zip::parse("90001").unwrap_or_else(|_| unreachable!()),
            city: city.into(),
            factor,
            effective_from: date!(2026 - 01 - 01),
            effective_to: Some(date!(2027 - 01 - 01)),
        })
    }

    /// The keys `rate_change_requests_proposed_change_shape` requires, per kind.
    const BASE_KEYS: [&str; 4] = ["state_code", "coverage_type", "base_amount", "effective_from"];
    const TERRITORY_KEYS: [&str; 5] = ["state_code", "zip", "city", "factor", "effective_from"];

    #[test]
    fn proposals_serialize_to_the_shape_the_constraint_requires() {
        let json = base(dec!(512.40)).to_json().unwrap_or_default();
        for key in BASE_KEYS {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        assert_eq!(json["effective_from"], "2026-01-01");
        assert_eq!(json["coverage_type"], "collision");
        assert!(json.get("effective_to").is_none());
        let json = territory(dec!(1.25), "Los Angeles").to_json().unwrap_or_default();
        for key in TERRITORY_KEYS {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        assert_eq!(json["effective_to"], "2027-01-01");
        let back = ProposedChange::from_json(RateChangeKind::TerritoryFactor, json);
        assert_eq!(back.ok(), Some(territory(dec!(1.25), "Los Angeles")));
        // Numbers written by other tools read back too.
        let seeded = serde_json::json!({"state_code":"CA","coverage_type":"collision","base_amount":512.4,
                                        "effective_from":"2026-01-01"});
        assert!(ProposedChange::from_json(RateChangeKind::BaseRate, seeded).is_ok());
    }

    #[test]
    fn proposals_are_validated_before_the_database_sees_them() {
        assert!(base(dec!(512.40)).validate().is_ok());
        assert!(base(dec!(512.400)).validate().is_ok()); // trailing zeros are fine
        assert_eq!(base(dec!(0)).validate().map_err(|e| e.field), Err("base_amount"));
        assert_eq!(base(dec!(1.005)).validate().map_err(|e| e.field), Err("base_amount"));
        assert_eq!(
            base(dec!(12345678901)).validate().map_err(|e| e.field),
            Err("base_amount")
        );
        assert!(base(dec!(1234567890.99)).validate().is_ok());
        assert!(territory(dec!(0.5), "LA").validate().is_ok());
        assert!(territory(dec!(3.000), "LA").validate().is_ok());
        assert_eq!(
            territory(dec!(3.001), "LA").validate().map_err(|e| e.field),
            Err("factor")
        );
        assert_eq!(
            territory(dec!(1.2345), "LA").validate().map_err(|e| e.field),
            Err("factor")
        );
        assert_eq!(territory(dec!(1.2), "  ").validate().map_err(|e| e.field), Err("city"));
        let ProposedChange::BaseRate(mut c) = base(dec!(1)) else {
            unreachable!()
        };
        c.effective_to = Some(c.effective_from);
        assert_eq!(
            ProposedChange::BaseRate(c).validate().map_err(|e| e.field),
            Err("effective_to")
        );
    }
}
