//! The business rules of migration 0003 (base rates, territory factors, discount and surcharge
//! rules): every rule is violated and seen refused by its name, and its valid case is seen
//! accepted.
//!
//! A row becomes `active` only through an approved rate change request (0006 adds that
//! trigger, `*_activation_requires_approved_request`, and it fires before the 0003 triggers for
//! any row whose new status is active). To put rows into the state a 0003 rule is about, the
//! fixtures insert active rows with user triggers off (`SET LOCAL session_replication_role =
//! replica`): CHECK, UNIQUE and EXCLUDE constraints are still enforced in that mode, only
//! triggers are skipped. The 0003 triggers are then exercised on ordinary statements, on paths
//! where the activation trigger does not fire (target status not active).

use crate::common::{Res, assert_violates, exec};
use quotedb_schema::rating::{DiscountCode, RateStatus, SurchargeCode, rules};
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

async fn states(pool: &PgPool) {
    sqlx::query("INSERT INTO states (code, name) VALUES ('CA', 'California'), ('TX', 'Texas') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .expect("insert states");
}

/// Inserts a base rate. With `status = Active` (or Retired) user triggers are off for the
/// insert (see the module docs).
async fn try_base_rate(
    pool: &PgPool,
    state: &str,
    coverage: &str,
    amount: &str,
    effective: &str,
    status: RateStatus,
) -> Result<Uuid, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if status != Proposed {
        sqlx::query("SET LOCAL session_replication_role = replica")
            .execute(&mut *tx)
            .await?;
    }
    let id = sqlx::query_scalar(
        "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status)
         VALUES ($1, $2::coverage_type, $3::numeric, $4::daterange, $5) RETURNING id",
    )
    .bind(state)
    .bind(coverage)
    .bind(amount)
    .bind(effective)
    .bind(status)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn base_rate(pool: &PgPool, effective: &str, status: RateStatus) -> Uuid {
    states(pool).await;
    try_base_rate(pool, "CA", "collision", "500.00", effective, status)
        .await
        .expect("insert base rate")
}

#[allow(clippy::too_many_arguments)]
async fn try_territory(
    pool: &PgPool,
    state: &str,
    zip: &str,
    city: &str,
    factor: &str,
    effective: &str,
    status: RateStatus,
) -> Result<Uuid, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if status != Proposed {
        sqlx::query("SET LOCAL session_replication_role = replica")
            .execute(&mut *tx)
            .await?;
    }
    let id = sqlx::query_scalar(
        "INSERT INTO territory_factors (state_code, zip, city, factor, effective, status)
         VALUES ($1, $2, $3, $4::numeric, $5::daterange, $6) RETURNING id",
    )
    .bind(state)
    .bind(zip)
    .bind(city)
    .bind(factor)
    .bind(effective)
    .bind(status)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn territory(pool: &PgPool, effective: &str, status: RateStatus) -> Uuid {
    states(pool).await;
    try_territory(pool, "CA", "90001", "Los Angeles", "1.250", effective, status)
        .await
        .expect("insert territory factor")
}

async fn set_rate_status(pool: &PgPool, table: &str, id: Uuid, status: RateStatus) -> Res {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET status = $2 WHERE id = $1"
    )))
    .bind(id)
    .bind(status)
    .execute(pool)
    .await
    .map(drop)
}

async fn try_discount(
    pool: &PgPool,
    code: DiscountCode,
    state: Option<&str>,
    percent: &str,
    eligibility: &str,
    description: &str,
) -> Res {
    sqlx::query(
        "INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description)
         VALUES ($1, $2, $3::numeric, true, $4::jsonb, $5)",
    )
    .bind(code)
    .bind(state)
    .bind(percent)
    .bind(eligibility)
    .bind(description)
    .execute(pool)
    .await
    .map(drop)
}

async fn try_surcharge(
    pool: &PgPool,
    code: SurchargeCode,
    state: Option<&str>,
    percent: &str,
    conditions: &str,
    description: &str,
) -> Res {
    sqlx::query(
        "INSERT INTO surcharge_rules (code, state_code, percent, conditions, description)
         VALUES ($1, $2, $3::numeric, $4::jsonb, $5)",
    )
    .bind(code)
    .bind(state)
    .bind(percent)
    .bind(conditions)
    .bind(description)
    .execute(pool)
    .await
    .map(drop)
}

use RateStatus::{Active, Proposed, Retired};

// ---------------------------------------------------------------------------------------------
// base_rates: columns
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_base_rate_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_base_rate(db.pool(), "ZZ", "collision", "500", "[2025-01-01,)", Proposed).await,
        rules::BASE_RATES_STATE_FK,
    );
}

#[tokio::test]
async fn a_state_with_base_rates_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    base_rate(db.pool(), "[2025-01-01,)", Proposed).await;
    let result = sqlx::query("DELETE FROM states WHERE code = 'CA'")
        .execute(db.pool())
        .await;
    assert_violates(result, rules::BASE_RATES_STATE_FK);
}

#[tokio::test]
async fn a_base_rate_amount_must_be_greater_than_zero() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    for amount in ["0", "-1"] {
        assert_violates(
            try_base_rate(db.pool(), "CA", "collision", amount, "[2025-01-01,)", Proposed).await,
            rules::BASE_RATES_BASE_AMOUNT_POSITIVE,
        );
    }
}

#[tokio::test]
async fn a_positive_base_rate_for_a_known_state_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_base_rate(
        db.pool(),
        "CA",
        "collision",
        "0.01",
        "[2025-01-01,2026-01-01)",
        Proposed,
    )
    .await
    .expect("valid base rate");
}

#[tokio::test]
async fn a_base_rate_period_cannot_be_empty() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    assert_violates(
        try_base_rate(db.pool(), "CA", "collision", "500", "[2025-01-01,2025-01-01)", Proposed).await,
        rules::BASE_RATES_EFFECTIVE_NOT_EMPTY,
    );
}

#[tokio::test]
async fn a_base_rate_period_must_have_a_first_day() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    assert_violates(
        try_base_rate(db.pool(), "CA", "collision", "500", "(,2025-01-01)", Proposed).await,
        rules::BASE_RATES_EFFECTIVE_HAS_START,
    );
}

#[tokio::test]
async fn a_one_day_or_open_ended_base_rate_period_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    base_rate(db.pool(), "[2025-01-01,2025-01-01]", Proposed).await;
    base_rate(db.pool(), "[2025-01-01,)", Proposed).await;
}

// ---------------------------------------------------------------------------------------------
// base_rates: no overlap among active rows
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_active_base_rates_for_the_same_state_and_coverage_cannot_overlap() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    base_rate(db.pool(), "[2025-01-01,2026-01-01)", Active).await;
    assert_violates(
        try_base_rate(db.pool(), "CA", "collision", "550", "[2025-12-31,)", Active).await,
        rules::BASE_RATES_NO_OVERLAP,
    );
}

#[tokio::test]
async fn back_to_back_active_base_rates_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    base_rate(db.pool(), "[2025-01-01,2026-01-01)", Active).await;
    try_base_rate(db.pool(), "CA", "collision", "550", "[2026-01-01,)", Active)
        .await
        .expect("adjacent period");
}

#[tokio::test]
async fn overlapping_base_rates_are_accepted_for_other_keys_or_when_not_active() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    base_rate(db.pool(), "[2025-01-01,)", Active).await;
    try_base_rate(db.pool(), "CA", "comprehensive", "300", "[2025-01-01,)", Active)
        .await
        .expect("other coverage");
    try_base_rate(db.pool(), "TX", "collision", "450", "[2025-01-01,)", Active)
        .await
        .expect("other state");
    try_base_rate(db.pool(), "CA", "collision", "600", "[2025-06-01,)", Proposed)
        .await
        .expect("proposed successor");
    try_base_rate(db.pool(), "CA", "collision", "400", "[2024-06-01,2025-06-01)", Retired)
        .await
        .expect("retired history");
}

// ---------------------------------------------------------------------------------------------
// base_rates: lifecycle
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_active_base_rate_cannot_return_to_proposed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Active).await;
    assert_violates(
        set_rate_status(db.pool(), "base_rates", id, Proposed).await,
        rules::BASE_RATES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn a_retired_base_rate_cannot_return_to_proposed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Retired).await;
    assert_violates(
        set_rate_status(db.pool(), "base_rates", id, Proposed).await,
        rules::BASE_RATES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn an_active_base_rate_can_be_retired_and_a_proposed_one_withdrawn() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let active = base_rate(db.pool(), "[2025-01-01,)", Active).await;
    set_rate_status(db.pool(), "base_rates", active, Retired)
        .await
        .expect("active -> retired");
    let proposed = base_rate(db.pool(), "[2026-01-01,)", Proposed).await;
    set_rate_status(db.pool(), "base_rates", proposed, Retired)
        .await
        .expect("proposed -> retired");
}

// ---------------------------------------------------------------------------------------------
// base_rates: frozen terms
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_retired_base_rate_cannot_change_its_amount() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2024-01-01,2025-01-01)", Retired).await;
    assert_violates(
        exec(db.pool(), "UPDATE base_rates SET base_amount = 999 WHERE id = $1", id).await,
        rules::BASE_RATES_TERMS_FROZEN,
    );
}

#[tokio::test]
async fn retiring_a_base_rate_cannot_rewrite_its_terms() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Active).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE base_rates SET status = 'retired', coverage_type = 'rental' WHERE id = $1",
            id,
        )
        .await,
        rules::BASE_RATES_TERMS_FROZEN,
    );
    assert_violates(
        exec(
            db.pool(),
            "UPDATE base_rates SET status = 'retired', effective = '[2024-01-01,)' WHERE id = $1",
            id,
        )
        .await,
        rules::BASE_RATES_TERMS_FROZEN,
    );
}

#[tokio::test]
async fn a_closed_base_rate_period_cannot_be_reopened() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2024-01-01,2025-01-01)", Retired).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE base_rates SET effective = '[2024-01-01,)' WHERE id = $1",
            id,
        )
        .await,
        rules::BASE_RATES_TERMS_FROZEN,
    );
}

#[tokio::test]
async fn an_active_base_rate_period_can_be_closed_earlier() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Active).await;
    exec(
        db.pool(),
        "UPDATE base_rates SET effective = '[2025-01-01,2026-01-01)' WHERE id = $1",
        id,
    )
    .await
    .expect("close the open period");
    exec(
        db.pool(),
        "UPDATE base_rates SET effective = '[2025-01-01,2025-07-01)' WHERE id = $1",
        id,
    )
    .await
    .expect("close it earlier still");
}

#[tokio::test]
async fn a_proposed_base_rate_can_be_edited() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Proposed).await;
    exec(
        db.pool(),
        "UPDATE base_rates SET base_amount = 525, coverage_type = 'comprehensive', effective = '[2025-02-01,)' WHERE id = $1",
        id,
    )
    .await
    .expect("edit proposal");
}

// ---------------------------------------------------------------------------------------------
// territory_factors: columns
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_territory_factor_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_territory(db.pool(), "ZZ", "90001", "Nowhere", "1.000", "[2025-01-01,)", Proposed).await,
        rules::TERRITORY_FACTORS_STATE_FK,
    );
}

#[tokio::test]
async fn a_territory_zip_must_have_five_digits() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    for zip in ["9001", "900011", "9000A"] {
        assert_violates(
            try_territory(db.pool(), "CA", zip, "Los Angeles", "1.000", "[2025-01-01,)", Proposed).await,
            rules::TERRITORY_FACTORS_ZIP_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_territory_must_name_its_city() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    assert_violates(
        try_territory(db.pool(), "CA", "90001", "  ", "1.000", "[2025-01-01,)", Proposed).await,
        rules::TERRITORY_FACTORS_CITY_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_territory_factor_must_lie_between_half_and_three() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    for factor in ["0.499", "3.001", "0", "-1"] {
        assert_violates(
            try_territory(
                db.pool(),
                "CA",
                "90001",
                "Los Angeles",
                factor,
                "[2025-01-01,)",
                Proposed,
            )
            .await,
            rules::TERRITORY_FACTORS_FACTOR_RANGE,
        );
    }
}

#[tokio::test]
async fn territory_factors_at_the_bounds_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_territory(
        db.pool(),
        "CA",
        "90001",
        "Los Angeles",
        "0.500",
        "[2025-01-01,)",
        Proposed,
    )
    .await
    .expect("0.500");
    try_territory(
        db.pool(),
        "CA",
        "94102",
        "San Francisco",
        "3.000",
        "[2025-01-01,)",
        Proposed,
    )
    .await
    .expect("3.000");
}

#[tokio::test]
async fn a_territory_period_cannot_be_empty() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    assert_violates(
        try_territory(db.pool(), "CA", "90001", "Los Angeles", "1.000", "empty", Proposed).await,
        rules::TERRITORY_FACTORS_EFFECTIVE_NOT_EMPTY,
    );
}

#[tokio::test]
async fn a_territory_period_must_have_a_first_day() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    assert_violates(
        try_territory(db.pool(), "CA", "90001", "Los Angeles", "1.000", "(,)", Proposed).await,
        rules::TERRITORY_FACTORS_EFFECTIVE_HAS_START,
    );
}

// ---------------------------------------------------------------------------------------------
// territory_factors: no overlap, lifecycle, frozen terms
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_active_territory_factors_for_the_same_zip_cannot_overlap() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    territory(db.pool(), "[2025-01-01,)", Active).await;
    assert_violates(
        try_territory(
            db.pool(),
            "CA",
            "90001",
            "Los Angeles",
            "1.300",
            "[2025-03-01,2025-04-01)",
            Active,
        )
        .await,
        rules::TERRITORY_FACTORS_NO_OVERLAP,
    );
}

#[tokio::test]
async fn active_territory_factors_for_other_zips_or_later_periods_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    territory(db.pool(), "[2025-01-01,2026-01-01)", Active).await;
    try_territory(
        db.pool(),
        "CA",
        "90002",
        "Los Angeles",
        "1.300",
        "[2025-01-01,)",
        Active,
    )
    .await
    .expect("other ZIP");
    try_territory(
        db.pool(),
        "CA",
        "90001",
        "Los Angeles",
        "1.300",
        "[2026-01-01,)",
        Active,
    )
    .await
    .expect("later period");
    try_territory(
        db.pool(),
        "CA",
        "90001",
        "Los Angeles",
        "1.400",
        "[2025-06-01,)",
        Proposed,
    )
    .await
    .expect("proposed overlap");
}

#[tokio::test]
async fn an_active_territory_factor_cannot_return_to_proposed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = territory(db.pool(), "[2025-01-01,)", Active).await;
    assert_violates(
        set_rate_status(db.pool(), "territory_factors", id, Proposed).await,
        rules::TERRITORY_FACTORS_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn an_active_territory_factor_can_be_retired() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = territory(db.pool(), "[2025-01-01,)", Active).await;
    set_rate_status(db.pool(), "territory_factors", id, Retired)
        .await
        .expect("active -> retired");
}

#[tokio::test]
async fn a_retired_territory_factor_cannot_change_its_factor() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = territory(db.pool(), "[2024-01-01,2025-01-01)", Retired).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE territory_factors SET factor = 2.000 WHERE id = $1",
            id,
        )
        .await,
        rules::TERRITORY_FACTORS_TERMS_FROZEN,
    );
    assert_violates(
        exec(
            db.pool(),
            "UPDATE territory_factors SET zip = '90002' WHERE id = $1",
            id,
        )
        .await,
        rules::TERRITORY_FACTORS_TERMS_FROZEN,
    );
}

#[tokio::test]
async fn a_retired_territory_factor_can_be_relabelled_and_a_proposed_one_edited() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let retired = territory(db.pool(), "[2024-01-01,2025-01-01)", Retired).await;
    exec(
        db.pool(),
        "UPDATE territory_factors SET city = 'Los Angeles (South)' WHERE id = $1",
        retired,
    )
    .await
    .expect("city is descriptive");
    let proposed = territory(db.pool(), "[2026-01-01,)", Proposed).await;
    exec(
        db.pool(),
        "UPDATE territory_factors SET factor = 1.500 WHERE id = $1",
        proposed,
    )
    .await
    .expect("edit proposal");
}

// ---------------------------------------------------------------------------------------------
// discount_rules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_discount_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(
            db.pool(),
            DiscountCode::GoodDriver,
            Some("ZZ"),
            "10",
            "{}",
            "Good driver",
        )
        .await,
        rules::DISCOUNT_RULES_STATE_FK,
    );
}

#[tokio::test]
async fn a_discount_must_be_more_than_zero_and_at_most_fifty_percent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for percent in ["0", "-5", "50.01"] {
        assert_violates(
            try_discount(db.pool(), DiscountCode::GoodDriver, None, percent, "{}", "Good driver").await,
            rules::DISCOUNT_RULES_PERCENT_RANGE,
        );
    }
}

#[tokio::test]
async fn discounts_at_the_percent_bounds_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_discount(db.pool(), DiscountCode::GoodDriver, None, "0.01", "{}", "Good driver")
        .await
        .expect("0.01 %");
    try_discount(db.pool(), DiscountCode::MultiPolicy, None, "50", "{}", "Multi-policy")
        .await
        .expect("50 %");
}

#[tokio::test]
async fn discount_eligibility_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(db.pool(), DiscountCode::Loyalty, None, "5", "[\"years\"]", "Loyalty").await,
        rules::DISCOUNT_RULES_ELIGIBILITY_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_discount_must_have_a_description() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(db.pool(), DiscountCode::Loyalty, None, "5", "{}", " ").await,
        rules::DISCOUNT_RULES_DESCRIPTION_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_discount_code_has_at_most_one_countrywide_rule() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_discount(db.pool(), DiscountCode::Paperless, None, "3", "{}", "Paperless")
        .await
        .expect("first");
    assert_violates(
        try_discount(db.pool(), DiscountCode::Paperless, None, "4", "{}", "Paperless again").await,
        rules::DISCOUNT_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn a_discount_code_has_at_most_one_rule_per_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_discount(
        db.pool(),
        DiscountCode::Paperless,
        Some("CA"),
        "3",
        "{}",
        "Paperless CA",
    )
    .await
    .expect("first");
    assert_violates(
        try_discount(
            db.pool(),
            DiscountCode::Paperless,
            Some("CA"),
            "4",
            "{}",
            "Paperless CA again",
        )
        .await,
        rules::DISCOUNT_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn a_state_rule_can_override_the_countrywide_discount() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        None,
        "10",
        r#"{"max_age": 24, "min_gpa": 3.0}"#,
        "Good student",
    )
    .await
    .expect("countrywide");
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        Some("CA"),
        "8",
        r#"{"max_age": 24}"#,
        "Good student CA",
    )
    .await
    .expect("CA override");
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        Some("TX"),
        "12",
        "{}",
        "Good student TX",
    )
    .await
    .expect("TX override");
}

#[tokio::test]
async fn every_discount_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in DiscountCode::ALL {
        try_discount(db.pool(), code, None, "5", "{}", code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// surcharge_rules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_surcharge_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::Dui, Some("ZZ"), "100", "{}", "DUI").await,
        rules::SURCHARGE_RULES_STATE_FK,
    );
}

#[tokio::test]
async fn a_surcharge_must_be_more_than_zero_and_at_most_two_hundred_percent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for percent in ["0", "-1", "200.01"] {
        assert_violates(
            try_surcharge(db.pool(), SurchargeCode::Dui, None, percent, "{}", "DUI").await,
            rules::SURCHARGE_RULES_PERCENT_RANGE,
        );
    }
}

#[tokio::test]
async fn surcharges_at_the_percent_bounds_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_surcharge(db.pool(), SurchargeCode::Dui, None, "200", "{}", "DUI")
        .await
        .expect("200 %");
    try_surcharge(db.pool(), SurchargeCode::CoverageLapse, None, "0.01", "{}", "Lapse")
        .await
        .expect("0.01 %");
}

#[tokio::test]
async fn surcharge_conditions_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::YoungDriver, None, "25", "24", "Young driver").await,
        rules::SURCHARGE_RULES_CONDITIONS_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_surcharge_must_have_a_description() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::YoungDriver, None, "25", "{}", "").await,
        rules::SURCHARGE_RULES_DESCRIPTION_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_surcharge_code_has_at_most_one_rule_per_state_and_one_countrywide() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_surcharge(
        db.pool(),
        SurchargeCode::SpeedingViolation,
        None,
        "20",
        "{}",
        "Speeding",
    )
    .await
    .expect("countrywide");
    try_surcharge(
        db.pool(),
        SurchargeCode::SpeedingViolation,
        Some("TX"),
        "25",
        "{}",
        "Speeding TX",
    )
    .await
    .expect("TX override");
    assert_violates(
        try_surcharge(
            db.pool(),
            SurchargeCode::SpeedingViolation,
            None,
            "30",
            "{}",
            "Speeding 2",
        )
        .await,
        rules::SURCHARGE_RULES_CODE_STATE_UNIQUE,
    );
    assert_violates(
        try_surcharge(
            db.pool(),
            SurchargeCode::SpeedingViolation,
            Some("TX"),
            "30",
            "{}",
            "Speeding TX 2",
        )
        .await,
        rules::SURCHARGE_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn every_surcharge_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in SurchargeCode::ALL {
        try_surcharge(db.pool(), code, None, "10", r#"{"lookback_years": 3}"#, code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// rate resolution uses the partial indexes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_active_rate_for_a_date_is_found() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let old = base_rate(db.pool(), "[2024-01-01,2025-01-01)", Active).await;
    let current = try_base_rate(db.pool(), "CA", "collision", "550", "[2025-01-01,)", Active)
        .await
        .expect("current rate");
    for (day, expected) in [("2024-06-30", old), ("2025-06-30", current)] {
        let found: Uuid = sqlx::query_scalar(
            "SELECT id FROM base_rates
             WHERE status = 'active' AND state_code = $1 AND coverage_type = $2::coverage_type
               AND effective @> $3::date",
        )
        .bind("CA")
        .bind("collision")
        .bind(day)
        .fetch_one(db.pool())
        .await
        .expect("resolve rate");
        assert_eq!(found, expected, "rate on {day}");
    }
}
