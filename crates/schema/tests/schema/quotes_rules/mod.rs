//! The business rules of migration 0002 (users, drivers, vehicles, quotes, quote versions,
//! coverage lines): every rule is violated and seen refused by its name, and its valid case is
//! seen accepted.
//!
//! The fixtures are here; the tests, by table, in `users`, `drivers`, `vehicles`, `quotes`,
//! `quote_status`, `quote_versions` and `quote_coverages`; the one-statement refusals on a quote
//! of three of them, as one table, in `statements`.

use crate::common::{Res, assert_case_violates, assert_violates, exec};
use quotedb_schema::quotes::{QuoteStatus, rules};
use quotedb_testkit::{TestDb, violated_rule};
use sqlx::PgPool;
use uuid::Uuid;

mod drivers;
mod quote_coverages;
mod quote_status;
mod quote_versions;
mod quotes;
mod statements;
mod users;
mod vehicles;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

async fn ensure_state(pool: &PgPool, code: &str) {
    sqlx::query("INSERT INTO states (code, name) VALUES ($1, 'State ' || $1) ON CONFLICT DO NOTHING")
        .bind(code)
        .execute(pool)
        .await
        .expect("insert state");
}

async fn try_user(
    pool: &PgPool,
    email: &str,
    full_name: &str,
    role: &str,
    phone: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (email, full_name, role, phone) VALUES ($1, $2, $3::user_role, $4) RETURNING id",
    )
    .bind(email)
    .bind(full_name)
    .bind(role)
    .bind(phone)
    .fetch_one(pool)
    .await
}

async fn user(pool: &PgPool, role: &str) -> Uuid {
    let email = format!("{}@example.com", Uuid::new_v4());
    try_user(pool, &email, "Pat Example", role, None)
        .await
        .expect("insert user")
}

async fn customer(pool: &PgPool) -> Uuid {
    user(pool, "customer").await
}

async fn agent(pool: &PgPool) -> Uuid {
    user(pool, "agent").await
}

/// Inserts a quote; `columns`/`values` add or override columns (SQL text, trusted test input).
async fn try_quote(pool: &PgPool, customer_id: Uuid, extra: &[(&str, &str)]) -> Result<Uuid, sqlx::Error> {
    let mut cols = vec![
        ("state_code", "'CA'"),
        ("zip", "'90001'"),
        ("effective_date", "current_date + 7"),
        ("expires_at", "now() + interval '30 days'"),
        ("metadata", "'{}'::jsonb"),
    ];
    for (c, v) in extra {
        cols.retain(|(k, _)| k != c);
        cols.push((*c, *v));
    }
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let values: Vec<&str> = cols.iter().map(|(_, v)| *v).collect();
    let sql = format!(
        "INSERT INTO quotes (customer_id, {}) VALUES ($1, {}) RETURNING id",
        names.join(", "),
        values.join(", ")
    );
    ensure_state(pool, "CA").await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(customer_id)
        .fetch_one(pool)
        .await
}

async fn draft_quote(pool: &PgPool) -> Uuid {
    let c = customer(pool).await;
    try_quote(pool, c, &[]).await.expect("insert draft quote")
}

/// The repository's rating protocol: bump current_version (optimistic check), then insert the
/// version, in one transaction.
async fn rate(pool: &PgPool, quote: Uuid, premium: &str) -> Res {
    let mut tx = pool.begin().await?;
    let version: i32 = sqlx::query_scalar(
        "UPDATE quotes SET status = 'rated', premium = $2::numeric, current_version = current_version + 1
         WHERE id = $1 RETURNING current_version",
    )
    .bind(quote)
    .bind(premium)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
         VALUES ($1, $2, $3::numeric, '{\"drivers\": []}', '{\"total\": 1}')",
    )
    .bind(quote)
    .bind(version)
    .bind(premium)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

async fn rated_quote(pool: &PgPool) -> Uuid {
    let q = draft_quote(pool).await;
    rate(pool, q, "1000.00").await.expect("rate quote");
    q
}

/// Moves a quote to `status` (setting bound_at when binding).
async fn set_status(pool: &PgPool, quote: Uuid, status: QuoteStatus) -> Res {
    sqlx::query(
        "UPDATE quotes SET status = $2,
                bound_at = CASE WHEN $2 = 'bound'::quote_status THEN now() END
         WHERE id = $1",
    )
    .bind(quote)
    .bind(status)
    .execute(pool)
    .await
    .map(drop)
}

async fn presented_quote(pool: &PgPool) -> Uuid {
    let q = rated_quote(pool).await;
    set_status(pool, q, QuoteStatus::Presented).await.expect("present");
    q
}

async fn bound_quote(pool: &PgPool) -> Uuid {
    let q = presented_quote(pool).await;
    set_status(pool, q, QuoteStatus::Bound).await.expect("bind");
    q
}

async fn status_of(pool: &PgPool, quote: Uuid) -> QuoteStatus {
    sqlx::query_scalar("SELECT status FROM quotes WHERE id = $1")
        .bind(quote)
        .fetch_one(pool)
        .await
        .expect("read status")
}

async fn insert_version(pool: &PgPool, quote: Uuid, version: i32, premium: &str, inputs: &str, breakdown: &str) -> Res {
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
         VALUES ($1, $2, $3::numeric, $4::jsonb, $5::jsonb)",
    )
    .bind(quote)
    .bind(version)
    .bind(premium)
    .bind(inputs)
    .bind(breakdown)
    .execute(pool)
    .await
    .map(drop)
}

/// Bumps the quote to the next version with `premium`, then inserts that version with the
/// given payload — the rating protocol with a chosen version row.
async fn rate_with(pool: &PgPool, quote: Uuid, premium: &str, inputs: &str, breakdown: &str) -> Res {
    let mut tx = pool.begin().await?;
    let version: i32 = sqlx::query_scalar(
        "UPDATE quotes SET status = 'rated', premium = 1000, current_version = current_version + 1
         WHERE id = $1 RETURNING current_version",
    )
    .bind(quote)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
         VALUES ($1, $2, $3::numeric, $4::jsonb, $5::jsonb)",
    )
    .bind(quote)
    .bind(version)
    .bind(premium)
    .bind(inputs)
    .bind(breakdown)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The state of the fresh quote a statement case starts from.
#[derive(Clone, Copy, Debug)]
enum Start {
    Draft,
    Rated,
    Presented,
    Bound,
}

/// A statement case: (test name, the state of a fresh quote, a statement with the quote's id as
/// `$1`, the rule that refuses it).
type StatementCase = (&'static str, Start, &'static str, &'static str);

/// Runs every case on a fresh database holding one quote in its start state: its statement must
/// be refused by its rule (a failure names the case).
async fn statements_refused(cases: &[StatementCase]) {
    for &(case, start, sql, rule) in cases {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        let q = match start {
            Start::Draft => draft_quote(db.pool()).await,
            Start::Rated => rated_quote(db.pool()).await,
            Start::Presented => presented_quote(db.pool()).await,
            Start::Bound => bound_quote(db.pool()).await,
        };
        assert_case_violates(case, exec(db.pool(), sql, q).await, rule);
    }
}

/// Inserts version `version` of `quote` with user triggers off (session_replication_role =
/// replica; constraints still apply), in a transaction rolled back on return.
async fn insert_version_as_replica(pool: &PgPool, quote: Uuid, version: i32) -> Res {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, $2, 100, '{}', '{}')",
    )
    .bind(quote)
    .bind(version)
    .execute(&mut *tx)
    .await
    .map(drop)
}

/// Deleting with `delete` (`$1`: `parent`) leaves `count_sql` (`$1`: `parent`) at zero.
async fn assert_cascades(pool: &PgPool, delete: &'static str, parent: Uuid, count_sql: &'static str) {
    exec(pool, delete, parent).await.expect(delete);
    assert_eq!(count(pool, count_sql, parent).await, 0, "{count_sql}");
}

async fn try_driver(pool: &PgPool, user_id: Uuid, first: &str, last: &str, dob: &str, licensed: Option<&str>) -> Res {
    sqlx::query(
        "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, licensed_since)
         VALUES ($1, $2, $3, $4::date, $5::date)",
    )
    .bind(user_id)
    .bind(first)
    .bind(last)
    .bind(dob)
    .bind(licensed)
    .execute(pool)
    .await
    .map(drop)
}

async fn try_vehicle(pool: &PgPool, user_id: Uuid, vin: &str, make: &str, model: &str, year: i16) -> Res {
    sqlx::query("INSERT INTO vehicles (user_id, vin, make, model, model_year) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id)
        .bind(vin)
        .bind(make)
        .bind(model)
        .bind(year)
        .execute(pool)
        .await
        .map(drop)
}

async fn try_coverage(
    pool: &PgPool,
    quote: Uuid,
    coverage: &str,
    limit: Option<&str>,
    deductible: &str,
    premium: Option<&str>,
) -> Res {
    sqlx::query(
        "INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
         VALUES ($1, $2::coverage_type, $3::numeric, $4::numeric, $5::numeric)",
    )
    .bind(quote)
    .bind(coverage)
    .bind(limit)
    .bind(deductible)
    .bind(premium)
    .execute(pool)
    .await
    .map(drop)
}

async fn count(pool: &PgPool, sql: &'static str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql).bind(id).fetch_one(pool).await.expect("count")
}

const VIN: &str = "1HGCM82633A004352";
