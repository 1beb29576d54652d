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
//!
//! The fixtures are here; the tests, by table, in `base_rates`, `territory_factors`,
//! `discount_rules`, `surcharge_rules` and `rate_resolution`.

use crate::common::{Res, assert_case_violates, assert_violates, exec};
use quotedb_schema::rating::{DiscountCode, RateStatus, SurchargeCode, rules};
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

mod base_rates;
mod discount_rules;
mod rate_resolution;
mod reference_generation;
mod refusals;
mod surcharge_rules;
mod territory_factors;

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

/// Each statement (taking the row id as `$1`) is accepted, in order.
async fn accepted_on(pool: &PgPool, id: Uuid, statements: &[&'static str]) {
    for sql in statements {
        exec(pool, sql, id)
            .await
            .unwrap_or_else(|e| panic!("accepted: {sql}: {e}"));
    }
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
    let sql = "INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description)
               VALUES ($1::discount_code, $2, $3::numeric, true, $4::jsonb, $5)";
    try_rule(pool, sql, code.as_str(), state, percent, eligibility, description).await
}

async fn try_surcharge(
    pool: &PgPool,
    code: SurchargeCode,
    state: Option<&str>,
    percent: &str,
    conditions: &str,
    description: &str,
) -> Res {
    let sql = "INSERT INTO surcharge_rules (code, state_code, percent, conditions, description)
               VALUES ($1::surcharge_code, $2, $3::numeric, $4::jsonb, $5)";
    try_rule(pool, sql, code.as_str(), state, percent, conditions, description).await
}

/// One insert into a rule table: a code, its state (None = countrywide), the percentage, the
/// JSON column (eligibility or conditions) and the description.
async fn try_rule(
    pool: &PgPool,
    sql: &'static str,
    code: &str,
    state: Option<&str>,
    percent: &str,
    json: &str,
    description: &str,
) -> Res {
    sqlx::query(sql)
        .bind(code)
        .bind(state)
        .bind(percent)
        .bind(json)
        .bind(description)
        .execute(pool)
        .await
        .map(drop)
}

use RateStatus::{Active, Proposed, Retired};
