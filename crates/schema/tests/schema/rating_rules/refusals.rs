//! Rows and statements that the 0003 rules refuse, as tables (a row each; a former test that
//! looped over values or made several refused statements is several rows): the former refusal
//! tests of `base_rates`, `territory_factors`, `discount_rules` and `surcharge_rules`.

use super::*;

/// A rating row a case inserts (the arguments of `try_base_rate`, `try_territory`,
/// `try_discount`, `try_surcharge`).
#[derive(Clone, Copy, Debug)]
enum Row {
    Base(&'static str, &'static str, &'static str, &'static str, RateStatus),
    Territory(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        RateStatus,
    ),
    Discount(
        DiscountCode,
        Option<&'static str>,
        &'static str,
        &'static str,
        &'static str,
    ),
    Surcharge(
        SurchargeCode,
        Option<&'static str>,
        &'static str,
        &'static str,
        &'static str,
    ),
}

async fn insert(pool: &PgPool, row: Row) -> Res {
    match row {
        Base(s, c, a, e, st) => try_base_rate(pool, s, c, a, e, st).await.map(drop),
        Territory(s, z, c, f, e, st) => try_territory(pool, s, z, c, f, e, st).await.map(drop),
        Discount(c, s, p, j, d) => try_discount(pool, c, s, p, j, d).await,
        Surcharge(c, s, p, j, d) => try_surcharge(pool, c, s, p, j, d).await,
    }
}

use DiscountCode::{GoodDriver, Loyalty, Paperless};
use Row::{Base, Discount, Surcharge, Territory};
use SurchargeCode::{Dui, SpeedingViolation, YoungDriver};

const LA: &str = "Los Angeles";

/// (test name, rows accepted first, the row refused, the rule); each on a fresh database with
/// the states CA and TX.
#[rustfmt::skip]
const REFUSED_ROWS: &[(&str, &[Row], Row, &str)] = &[
    ("a_base_rate_must_be_for_a_known_state", &[], Base("ZZ", "collision", "500", "[2025-01-01,)", Proposed), rules::BASE_RATES_STATE_FK),
    ("a_base_rate_amount_must_be_greater_than_zero (0)", &[], Base("CA", "collision", "0", "[2025-01-01,)", Proposed), rules::BASE_RATES_BASE_AMOUNT_POSITIVE),
    ("a_base_rate_amount_must_be_greater_than_zero (-1)", &[], Base("CA", "collision", "-1", "[2025-01-01,)", Proposed), rules::BASE_RATES_BASE_AMOUNT_POSITIVE),
    ("a_base_rate_period_cannot_be_empty", &[], Base("CA", "collision", "500", "[2025-01-01,2025-01-01)", Proposed), rules::BASE_RATES_EFFECTIVE_NOT_EMPTY),
    ("a_base_rate_period_must_have_a_first_day", &[], Base("CA", "collision", "500", "(,2025-01-01)", Proposed), rules::BASE_RATES_EFFECTIVE_HAS_START),
    ("two_active_base_rates_for_the_same_state_and_coverage_cannot_overlap", &[Base("CA", "collision", "500.00", "[2025-01-01,2026-01-01)", Active)], Base("CA", "collision", "550", "[2025-12-31,)", Active), rules::BASE_RATES_NO_OVERLAP),
    ("a_territory_factor_must_be_for_a_known_state", &[], Territory("ZZ", "90001", "Nowhere", "1.000", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_STATE_FK),
    ("a_territory_zip_must_have_five_digits (9001)", &[], Territory("CA", "9001", LA, "1.000", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_ZIP_FORMAT),
    ("a_territory_zip_must_have_five_digits (900011)", &[], Territory("CA", "900011", LA, "1.000", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_ZIP_FORMAT),
    ("a_territory_zip_must_have_five_digits (9000A)", &[], Territory("CA", "9000A", LA, "1.000", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_ZIP_FORMAT),
    ("a_territory_must_name_its_city", &[], Territory("CA", "90001", "  ", "1.000", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_CITY_NOT_BLANK),
    ("a_territory_factor_must_lie_between_half_and_three (0.499)", &[], Territory("CA", "90001", LA, "0.499", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_FACTOR_RANGE),
    ("a_territory_factor_must_lie_between_half_and_three (3.001)", &[], Territory("CA", "90001", LA, "3.001", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_FACTOR_RANGE),
    ("a_territory_factor_must_lie_between_half_and_three (0)", &[], Territory("CA", "90001", LA, "0", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_FACTOR_RANGE),
    ("a_territory_factor_must_lie_between_half_and_three (-1)", &[], Territory("CA", "90001", LA, "-1", "[2025-01-01,)", Proposed), rules::TERRITORY_FACTORS_FACTOR_RANGE),
    ("a_territory_period_cannot_be_empty", &[], Territory("CA", "90001", LA, "1.000", "empty", Proposed), rules::TERRITORY_FACTORS_EFFECTIVE_NOT_EMPTY),
    ("a_territory_period_must_have_a_first_day", &[], Territory("CA", "90001", LA, "1.000", "(,)", Proposed), rules::TERRITORY_FACTORS_EFFECTIVE_HAS_START),
    ("two_active_territory_factors_for_the_same_zip_cannot_overlap", &[Territory("CA", "90001", LA, "1.250", "[2025-01-01,)", Active)], Territory("CA", "90001", LA, "1.300", "[2025-03-01,2025-04-01)", Active), rules::TERRITORY_FACTORS_NO_OVERLAP),
    ("a_discount_must_be_for_a_known_state", &[], Discount(GoodDriver, Some("ZZ"), "10", "{}", "Good driver"), rules::DISCOUNT_RULES_STATE_FK),
    ("a_discount_must_be_more_than_zero_and_at_most_fifty_percent (0)", &[], Discount(GoodDriver, None, "0", "{}", "Good driver"), rules::DISCOUNT_RULES_PERCENT_RANGE),
    ("a_discount_must_be_more_than_zero_and_at_most_fifty_percent (-5)", &[], Discount(GoodDriver, None, "-5", "{}", "Good driver"), rules::DISCOUNT_RULES_PERCENT_RANGE),
    ("a_discount_must_be_more_than_zero_and_at_most_fifty_percent (50.01)", &[], Discount(GoodDriver, None, "50.01", "{}", "Good driver"), rules::DISCOUNT_RULES_PERCENT_RANGE),
    ("discount_eligibility_must_be_a_json_object", &[], Discount(Loyalty, None, "5", "[\"years\"]", "Loyalty"), rules::DISCOUNT_RULES_ELIGIBILITY_IS_OBJECT),
    ("a_discount_must_have_a_description", &[], Discount(Loyalty, None, "5", "{}", " "), rules::DISCOUNT_RULES_DESCRIPTION_NOT_BLANK),
    ("a_discount_code_has_at_most_one_countrywide_rule", &[Discount(Paperless, None, "3", "{}", "Paperless")], Discount(Paperless, None, "4", "{}", "Paperless again"), rules::DISCOUNT_RULES_CODE_STATE_UNIQUE),
    ("a_discount_code_has_at_most_one_rule_per_state", &[Discount(Paperless, Some("CA"), "3", "{}", "Paperless CA")], Discount(Paperless, Some("CA"), "4", "{}", "Paperless CA again"), rules::DISCOUNT_RULES_CODE_STATE_UNIQUE),
    ("a_surcharge_must_be_for_a_known_state", &[], Surcharge(Dui, Some("ZZ"), "100", "{}", "DUI"), rules::SURCHARGE_RULES_STATE_FK),
    ("a_surcharge_must_be_more_than_zero_and_at_most_two_hundred_percent (0)", &[], Surcharge(Dui, None, "0", "{}", "DUI"), rules::SURCHARGE_RULES_PERCENT_RANGE),
    ("a_surcharge_must_be_more_than_zero_and_at_most_two_hundred_percent (-1)", &[], Surcharge(Dui, None, "-1", "{}", "DUI"), rules::SURCHARGE_RULES_PERCENT_RANGE),
    ("a_surcharge_must_be_more_than_zero_and_at_most_two_hundred_percent (200.01)", &[], Surcharge(Dui, None, "200.01", "{}", "DUI"), rules::SURCHARGE_RULES_PERCENT_RANGE),
    ("surcharge_conditions_must_be_a_json_object", &[], Surcharge(YoungDriver, None, "25", "24", "Young driver"), rules::SURCHARGE_RULES_CONDITIONS_IS_OBJECT),
    ("a_surcharge_must_have_a_description", &[], Surcharge(YoungDriver, None, "25", "{}", ""), rules::SURCHARGE_RULES_DESCRIPTION_NOT_BLANK),
    ("a_surcharge_code_has_at_most_one_rule_per_state_and_one_countrywide (countrywide)", &[Surcharge(SpeedingViolation, None, "20", "{}", "Speeding"), Surcharge(SpeedingViolation, Some("TX"), "25", "{}", "Speeding TX")], Surcharge(SpeedingViolation, None, "30", "{}", "Speeding 2"), rules::SURCHARGE_RULES_CODE_STATE_UNIQUE),
    ("a_surcharge_code_has_at_most_one_rule_per_state_and_one_countrywide (TX)", &[Surcharge(SpeedingViolation, None, "20", "{}", "Speeding"), Surcharge(SpeedingViolation, Some("TX"), "25", "{}", "Speeding TX")], Surcharge(SpeedingViolation, Some("TX"), "30", "{}", "Speeding TX 2"), rules::SURCHARGE_RULES_CODE_STATE_UNIQUE),
];

#[tokio::test]
async fn a_rating_row_is_refused_by_its_rule() {
    for &(case, accepted, refused, rule) in REFUSED_ROWS {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        states(db.pool()).await;
        for &row in accepted {
            insert(db.pool(), row)
                .await
                .unwrap_or_else(|e| panic!("{case}: {row:?}: {e}"));
        }
        assert_case_violates(case, insert(db.pool(), refused).await, rule);
    }
}

/// (test name, rows that must all be accepted in turn); each on a fresh database with the
/// states CA and TX. `Base("CA", "collision", "500.00", ..)` and `Territory("CA", "90001", LA,
/// "1.250", ..)` are the `base_rate` and `territory` fixtures.
#[rustfmt::skip]
const ACCEPTED_ROWS: &[(&str, &[Row])] = &[
    ("a_positive_base_rate_for_a_known_state_is_accepted", &[Base("CA", "collision", "0.01", "[2025-01-01,2026-01-01)", Proposed)]),
    ("a_one_day_or_open_ended_base_rate_period_is_accepted", &[Base("CA", "collision", "500.00", "[2025-01-01,2025-01-01]", Proposed), Base("CA", "collision", "500.00", "[2025-01-01,)", Proposed)]),
    ("back_to_back_active_base_rates_are_accepted", &[Base("CA", "collision", "500.00", "[2025-01-01,2026-01-01)", Active), Base("CA", "collision", "550", "[2026-01-01,)", Active)]),
    ("overlapping_base_rates_are_accepted_for_other_keys_or_when_not_active", &[Base("CA", "collision", "500.00", "[2025-01-01,)", Active), Base("CA", "comprehensive", "300", "[2025-01-01,)", Active), Base("TX", "collision", "450", "[2025-01-01,)", Active), Base("CA", "collision", "600", "[2025-06-01,)", Proposed), Base("CA", "collision", "400", "[2024-06-01,2025-06-01)", Retired)]),
    ("territory_factors_at_the_bounds_are_accepted", &[Territory("CA", "90001", LA, "0.500", "[2025-01-01,)", Proposed), Territory("CA", "94102", "San Francisco", "3.000", "[2025-01-01,)", Proposed)]),
    ("active_territory_factors_for_other_zips_or_later_periods_are_accepted", &[Territory("CA", "90001", LA, "1.250", "[2025-01-01,2026-01-01)", Active), Territory("CA", "90002", LA, "1.300", "[2025-01-01,)", Active), Territory("CA", "90001", LA, "1.300", "[2026-01-01,)", Active), Territory("CA", "90001", LA, "1.400", "[2025-06-01,)", Proposed)]),
    ("discounts_at_the_percent_bounds_are_accepted", &[Discount(GoodDriver, None, "0.01", "{}", "Good driver"), Discount(DiscountCode::MultiPolicy, None, "50", "{}", "Multi-policy")]),
    ("a_state_rule_can_override_the_countrywide_discount", &[Discount(DiscountCode::GoodStudent, None, "10", r#"{"max_age": 24, "min_gpa": 3.0}"#, "Good student"), Discount(DiscountCode::GoodStudent, Some("CA"), "8", r#"{"max_age": 24}"#, "Good student CA"), Discount(DiscountCode::GoodStudent, Some("TX"), "12", "{}", "Good student TX")]),
    ("surcharges_at_the_percent_bounds_are_accepted", &[Surcharge(Dui, None, "200", "{}", "DUI"), Surcharge(SurchargeCode::CoverageLapse, None, "0.01", "{}", "Lapse")]),
];

#[tokio::test]
async fn rating_rows_are_accepted() {
    for &(case, rows) in ACCEPTED_ROWS {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        states(db.pool()).await;
        for &row in rows {
            insert(db.pool(), row)
                .await
                .unwrap_or_else(|e| panic!("{case}: {row:?}: {e}"));
        }
    }
}

/// The fixture row a frozen-terms or lifecycle case starts from.
#[derive(Clone, Copy, Debug)]
enum Fixture {
    BaseRate,
    TerritoryFactor,
}

/// (test name, the fixture row, its period and status, a statement with its id as `$1`, the
/// rule); each on a fresh database.
#[rustfmt::skip]
const REFUSED_STATEMENTS: &[(&str, Fixture, &str, RateStatus, &str, &str)] = &[
    ("an_active_base_rate_cannot_return_to_proposed", Fixture::BaseRate, "[2025-01-01,)", Active, "UPDATE base_rates SET status = 'proposed' WHERE id = $1", rules::BASE_RATES_STATUS_TRANSITION),
    ("a_retired_base_rate_cannot_return_to_proposed", Fixture::BaseRate, "[2025-01-01,)", Retired, "UPDATE base_rates SET status = 'proposed' WHERE id = $1", rules::BASE_RATES_STATUS_TRANSITION),
    ("an_active_territory_factor_cannot_return_to_proposed", Fixture::TerritoryFactor, "[2025-01-01,)", Active, "UPDATE territory_factors SET status = 'proposed' WHERE id = $1", rules::TERRITORY_FACTORS_STATUS_TRANSITION),
    ("a_retired_base_rate_cannot_change_its_amount", Fixture::BaseRate, "[2024-01-01,2025-01-01)", Retired, "UPDATE base_rates SET base_amount = 999 WHERE id = $1", rules::BASE_RATES_TERMS_FROZEN),
    ("retiring_a_base_rate_cannot_rewrite_its_terms (coverage)", Fixture::BaseRate, "[2025-01-01,)", Active, "UPDATE base_rates SET status = 'retired', coverage_type = 'rental' WHERE id = $1", rules::BASE_RATES_TERMS_FROZEN),
    ("retiring_a_base_rate_cannot_rewrite_its_terms (period)", Fixture::BaseRate, "[2025-01-01,)", Active, "UPDATE base_rates SET status = 'retired', effective = '[2024-01-01,)' WHERE id = $1", rules::BASE_RATES_TERMS_FROZEN),
    ("a_closed_base_rate_period_cannot_be_reopened", Fixture::BaseRate, "[2024-01-01,2025-01-01)", Retired, "UPDATE base_rates SET effective = '[2024-01-01,)' WHERE id = $1", rules::BASE_RATES_TERMS_FROZEN),
    ("a_retired_territory_factor_cannot_change_its_factor (factor)", Fixture::TerritoryFactor, "[2024-01-01,2025-01-01)", Retired, "UPDATE territory_factors SET factor = 2.000 WHERE id = $1", rules::TERRITORY_FACTORS_TERMS_FROZEN),
    ("a_retired_territory_factor_cannot_change_its_factor (zip)", Fixture::TerritoryFactor, "[2024-01-01,2025-01-01)", Retired, "UPDATE territory_factors SET zip = '90002' WHERE id = $1", rules::TERRITORY_FACTORS_TERMS_FROZEN),
];

#[tokio::test]
async fn a_statement_on_a_rating_row_is_refused_by_its_rule() {
    for &(case, fixture, effective, status, sql, rule) in REFUSED_STATEMENTS {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        let id = match fixture {
            Fixture::BaseRate => base_rate(db.pool(), effective, status).await,
            Fixture::TerritoryFactor => territory(db.pool(), effective, status).await,
        };
        assert_case_violates(case, exec(db.pool(), sql, id).await, rule);
    }
}
