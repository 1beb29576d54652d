//! The business rules of migration 0002 (users, drivers, vehicles, quotes, quote versions,
//! coverage lines): every rule is violated and seen refused by its name, and its valid case is
//! seen accepted.

use crate::common::{Res, assert_violates, exec};
use quotedb_schema::quotes::{QuoteStatus, rules};
use quotedb_testkit::{TestDb, violated_rule};
use sqlx::PgPool;
use uuid::Uuid;

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

// ---------------------------------------------------------------------------------------------
// users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_users_cannot_share_an_email_even_in_different_case() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(db.pool(), "alice@example.com", "Alice", "customer", None)
        .await
        .expect("first");
    assert_violates(
        try_user(db.pool(), "ALICE@Example.com", "Alice Two", "customer", None).await,
        rules::USERS_EMAIL_UNIQUE,
    );
}

#[tokio::test]
async fn users_with_different_emails_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(db.pool(), "alice@example.com", "Alice", "customer", None)
        .await
        .expect("first");
    try_user(db.pool(), "bob@example.com", "Bob", "agent", None)
        .await
        .expect("second");
}

#[tokio::test]
async fn a_user_email_must_look_like_an_address() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for email in ["alice", "alice@example", "al ice@example.com", "@example.com"] {
        assert_violates(
            try_user(db.pool(), email, "Alice", "customer", None).await,
            rules::USERS_EMAIL_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_user_name_cannot_be_blank() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_user(db.pool(), "alice@example.com", " ", "customer", None).await,
        rules::USERS_FULL_NAME_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_user_phone_must_be_in_e164_form() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for phone in ["555-123-4567", "+0123456789", "+1234"] {
        assert_violates(
            try_user(db.pool(), "alice@example.com", "Alice", "customer", Some(phone)).await,
            rules::USERS_PHONE_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_user_with_an_e164_phone_or_no_phone_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(
        db.pool(),
        "alice@example.com",
        "Alice",
        "customer",
        Some("+15551234567"),
    )
    .await
    .expect("E.164 phone");
    try_user(db.pool(), "bob@example.com", "Bob", "customer", None)
        .await
        .expect("no phone");
}

// ---------------------------------------------------------------------------------------------
// drivers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_driver_must_belong_to_an_existing_user() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_driver(db.pool(), Uuid::new_v4(), "Ann", "Lee", "1990-01-01", None).await,
        rules::DRIVERS_USER_FK,
    );
}

#[tokio::test]
async fn deleting_a_user_deletes_their_drivers() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_driver(db.pool(), u, "Ann", "Lee", "1990-01-01", Some("2008-06-01"))
        .await
        .expect("driver");
    exec(db.pool(), "DELETE FROM users WHERE id = $1", u)
        .await
        .expect("delete user");
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM drivers WHERE user_id = $1", u).await,
        0
    );
}

#[tokio::test]
async fn a_driver_must_have_a_first_and_last_name() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "", "Lee", "1990-01-01", None).await,
        rules::DRIVERS_NAME_NOT_BLANK,
    );
    assert_violates(
        try_driver(db.pool(), u, "Ann", " ", "1990-01-01", None).await,
        rules::DRIVERS_NAME_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_driver_cannot_be_born_before_1900() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "Ann", "Lee", "1899-12-31", None).await,
        rules::DRIVERS_DATE_OF_BIRTH_RANGE,
    );
}

#[tokio::test]
async fn a_driver_born_on_or_after_1900_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_driver(db.pool(), u, "Ann", "Lee", "1900-01-01", None)
        .await
        .expect("1900");
    try_driver(db.pool(), u, "Bo", "Lee", "2001-05-05", None)
        .await
        .expect("2001");
}

#[tokio::test]
async fn a_driver_cannot_be_licensed_before_being_born() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "Ann", "Lee", "1990-01-01", Some("1989-12-31")).await,
        rules::DRIVERS_LICENSED_AFTER_BIRTH,
    );
}

#[tokio::test]
async fn a_driver_licensed_after_birth_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_driver(db.pool(), u, "Ann", "Lee", "1990-01-01", Some("2006-03-01"))
        .await
        .expect("licensed");
}

// ---------------------------------------------------------------------------------------------
// vehicles
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_vehicle_must_belong_to_an_existing_user() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_vehicle(db.pool(), Uuid::new_v4(), VIN, "Honda", "Accord", 2020).await,
        rules::VEHICLES_USER_FK,
    );
}

#[tokio::test]
async fn deleting_a_user_deletes_their_vehicles() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("vehicle");
    exec(db.pool(), "DELETE FROM users WHERE id = $1", u)
        .await
        .expect("delete user");
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM vehicles WHERE user_id = $1", u).await,
        0
    );
}

#[tokio::test]
async fn a_vin_cannot_contain_i_o_or_q() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for vin in ["1HGCM82633A00435I", "1HGCM82633A00435O", "1HGCM82633A00435Q"] {
        assert_violates(
            try_vehicle(db.pool(), u, vin, "Honda", "Accord", 2020).await,
            rules::VEHICLES_VIN_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_vin_must_be_17_upper_case_characters() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for vin in ["1HGCM82633A00435", "1hgcm82633a004352", "1HGCM82633A0043-2"] {
        assert_violates(
            try_vehicle(db.pool(), u, vin, "Honda", "Accord", 2020).await,
            rules::VEHICLES_VIN_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_well_formed_vin_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("valid VIN");
}

#[tokio::test]
async fn a_model_year_outside_1981_to_2100_is_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for year in [1980, 2101] {
        assert_violates(
            try_vehicle(db.pool(), u, VIN, "Honda", "Accord", year).await,
            rules::VEHICLES_MODEL_YEAR_RANGE,
        );
    }
}

#[tokio::test]
async fn model_years_1981_and_2100_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 1981)
        .await
        .expect("1981");
    try_vehicle(db.pool(), u, "JH4KA8260MC000000", "Acura", "Legend", 2100)
        .await
        .expect("2100");
}

#[tokio::test]
async fn a_vehicle_must_have_a_make_and_model() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_vehicle(db.pool(), u, VIN, " ", "Accord", 2020).await,
        rules::VEHICLES_MAKE_MODEL_NOT_BLANK,
    );
    assert_violates(
        try_vehicle(db.pool(), u, VIN, "Honda", "", 2020).await,
        rules::VEHICLES_MAKE_MODEL_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_user_cannot_register_the_same_vin_twice() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("first");
    assert_violates(
        try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020).await,
        rules::VEHICLES_USER_VIN_UNIQUE,
    );
}

#[tokio::test]
async fn two_users_can_register_the_same_vin() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let a = customer(db.pool()).await;
    let b = customer(db.pool()).await;
    try_vehicle(db.pool(), a, VIN, "Honda", "Accord", 2020)
        .await
        .expect("first owner");
    try_vehicle(db.pool(), b, VIN, "Honda", "Accord", 2020)
        .await
        .expect("second owner");
}

// ---------------------------------------------------------------------------------------------
// quotes: columns
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_quotes_cannot_share_a_quote_number() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    try_quote(db.pool(), c, &[("quote_number", "'Q-20250101-ABC123'")])
        .await
        .expect("first");
    assert_violates(
        try_quote(db.pool(), c, &[("quote_number", "'Q-20250101-ABC123'")]).await,
        rules::QUOTES_NUMBER_UNIQUE,
    );
}

#[tokio::test]
async fn generated_quote_numbers_are_well_formed_and_distinct() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    for _ in 0..20 {
        try_quote(db.pool(), c, &[]).await.expect("quote with generated number");
    }
    let (n, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT quote_number) FROM quotes WHERE quote_number ~ '^Q-[0-9]{8}-[0-9A-HJ-NP-Z]{6}$'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count");
    assert_eq!((n, distinct), (20, 20));
}

#[tokio::test]
async fn a_quote_number_must_follow_the_q_date_code_format() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    for number in [
        "'QT-12345678'",
        "'Q-20251301-ABC123'",
        "'Q-20250132-ABC123'",
        "'Q-20250101-ABCI23'",
        "'q-20250101-abc123'",
    ] {
        assert_violates(
            try_quote(db.pool(), c, &[("quote_number", number)]).await,
            rules::QUOTES_NUMBER_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_quote_must_belong_to_an_existing_customer() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_quote(db.pool(), Uuid::new_v4(), &[]).await,
        rules::QUOTES_CUSTOMER_FK,
    );
}

#[tokio::test]
async fn a_customer_with_quotes_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    try_quote(db.pool(), c, &[]).await.expect("quote");
    assert_violates(
        exec(db.pool(), "DELETE FROM users WHERE id = $1", c).await,
        rules::QUOTES_CUSTOMER_FK,
    );
}

#[tokio::test]
async fn a_customer_without_quotes_can_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    exec(db.pool(), "DELETE FROM users WHERE id = $1", c)
        .await
        .expect("delete customer");
}

#[tokio::test]
async fn a_quote_agent_must_exist() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let missing = format!("'{}'::uuid", Uuid::new_v4());
    assert_violates(
        try_quote(db.pool(), c, &[("agent_id", missing.as_str())]).await,
        rules::QUOTES_AGENT_FK,
    );
}

#[tokio::test]
async fn deleting_an_agent_unassigns_their_quotes() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let a = agent(db.pool()).await;
    let a_sql = format!("'{a}'::uuid");
    let q = try_quote(db.pool(), c, &[("agent_id", a_sql.as_str())])
        .await
        .expect("assigned quote");
    exec(db.pool(), "DELETE FROM users WHERE id = $1", a)
        .await
        .expect("delete agent");
    let agent_id: Option<Uuid> = sqlx::query_scalar("SELECT agent_id FROM quotes WHERE id = $1")
        .bind(q)
        .fetch_one(db.pool())
        .await
        .expect("read agent");
    assert_eq!(agent_id, None);
}

#[tokio::test]
async fn deleting_an_agent_unassigns_even_their_bound_quotes() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = bound_quote(db.pool()).await;
    let a = agent(db.pool()).await;
    sqlx::query("UPDATE quotes SET agent_id = $2 WHERE id = $1")
        .bind(q)
        .bind(a)
        .execute(db.pool())
        .await
        .expect("assign agent");
    exec(db.pool(), "DELETE FROM users WHERE id = $1", a)
        .await
        .expect("delete agent");
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Bound);
}

#[tokio::test]
async fn a_quote_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    assert_violates(
        try_quote(db.pool(), c, &[("state_code", "'ZZ'")]).await,
        rules::QUOTES_STATE_FK,
    );
}

#[tokio::test]
async fn a_state_with_quotes_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    draft_quote(db.pool()).await;
    let result = sqlx::query("DELETE FROM states WHERE code = 'CA'")
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTES_STATE_FK);
}

#[tokio::test]
async fn a_quote_zip_must_have_five_digits() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    for zip in ["'9000'", "'900011'", "'9000A'", "'90001-1234'"] {
        assert_violates(try_quote(db.pool(), c, &[("zip", zip)]).await, rules::QUOTES_ZIP_FORMAT);
    }
}

#[tokio::test]
async fn a_quote_with_a_five_digit_zip_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    try_quote(db.pool(), c, &[("zip", "'02134'")])
        .await
        .expect("zip with leading zero");
}

#[tokio::test]
async fn a_quote_cannot_expire_before_it_is_created() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    assert_violates(
        try_quote(db.pool(), c, &[("expires_at", "now() - interval '1 second'")]).await,
        rules::QUOTES_EXPIRES_AFTER_CREATION,
    );
    assert_violates(
        try_quote(db.pool(), c, &[("expires_at", "now()")]).await,
        rules::QUOTES_EXPIRES_AFTER_CREATION,
    );
}

#[tokio::test]
async fn quote_metadata_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    assert_violates(
        try_quote(db.pool(), c, &[("metadata", "'[]'::jsonb")]).await,
        rules::QUOTES_METADATA_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_quote_with_object_metadata_is_accepted_and_found_by_containment() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let q = try_quote(db.pool(), c, &[("metadata", r#"'{"channel": "web"}'::jsonb"#)])
        .await
        .expect("quote with metadata");
    let found: Uuid = sqlx::query_scalar(r#"SELECT id FROM quotes WHERE metadata @> '{"channel": "web"}'"#)
        .fetch_one(db.pool())
        .await
        .expect("containment lookup");
    assert_eq!(found, q);
}

#[tokio::test]
async fn a_quote_current_version_cannot_be_negative() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    assert_violates(
        try_quote(db.pool(), c, &[("current_version", "-1")]).await,
        rules::QUOTES_CURRENT_VERSION_NONNEGATIVE,
    );
}

#[tokio::test]
async fn a_new_quote_starts_as_an_unrated_draft() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    let (status, version, premium): (QuoteStatus, i32, Option<rust_decimal::Decimal>) =
        sqlx::query_as("SELECT status, current_version, premium FROM quotes WHERE id = $1")
            .bind(q)
            .fetch_one(db.pool())
            .await
            .expect("read quote");
    assert_eq!((status, version, premium), (QuoteStatus::Draft, 0, None));
}

// ---------------------------------------------------------------------------------------------
// quotes: parties
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_quote_customer_must_have_the_customer_role() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let a = agent(db.pool()).await;
    assert_violates(try_quote(db.pool(), a, &[]).await, rules::QUOTES_CUSTOMER_IS_CUSTOMER);
}

#[tokio::test]
async fn a_quote_agent_must_have_the_agent_role() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let other = customer(db.pool()).await;
    let other_sql = format!("'{other}'::uuid");
    assert_violates(
        try_quote(db.pool(), c, &[("agent_id", other_sql.as_str())]).await,
        rules::QUOTES_AGENT_IS_AGENT,
    );
    let q = try_quote(db.pool(), c, &[]).await.expect("unassigned quote");
    let result = sqlx::query("UPDATE quotes SET agent_id = $2 WHERE id = $1")
        .bind(q)
        .bind(other)
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTES_AGENT_IS_AGENT);
}

#[tokio::test]
async fn a_quote_for_a_customer_assigned_to_an_agent_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let a = agent(db.pool()).await;
    let a_sql = format!("'{a}'::uuid");
    try_quote(db.pool(), c, &[("agent_id", a_sql.as_str())])
        .await
        .expect("assigned quote");
}

// ---------------------------------------------------------------------------------------------
// quotes: premium
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_quote_premium_must_be_greater_than_zero() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(rate(db.pool(), q, "0.00").await, rules::QUOTES_PREMIUM_POSITIVE);
    assert_violates(rate(db.pool(), q, "-5.00").await, rules::QUOTES_PREMIUM_POSITIVE);
}

#[tokio::test]
async fn a_quote_rated_with_a_positive_premium_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    rate(db.pool(), q, "0.01").await.expect("rate");
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Rated);
}

#[tokio::test]
async fn a_rated_quote_must_have_a_premium() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET status = 'rated', current_version = current_version + 1 WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_PREMIUM_REQUIRED_ONCE_RATED,
    );
}

#[tokio::test]
async fn a_draft_quote_cannot_have_a_premium() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "UPDATE quotes SET premium = 100 WHERE id = $1", q).await,
        rules::QUOTES_DRAFT_HAS_NO_PREMIUM,
    );
}

#[tokio::test]
async fn a_draft_cancelled_before_rating_keeps_no_premium() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    set_status(db.pool(), q, QuoteStatus::Cancelled)
        .await
        .expect("cancel a draft");
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Cancelled);
}

// ---------------------------------------------------------------------------------------------
// quotes: binding
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_bound_quote_must_have_a_bind_time() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = presented_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "UPDATE quotes SET status = 'bound' WHERE id = $1", q).await,
        rules::QUOTES_BOUND_AT_IFF_BOUND,
    );
}

#[tokio::test]
async fn a_quote_that_is_not_bound_cannot_have_a_bind_time() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = presented_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "UPDATE quotes SET bound_at = now() WHERE id = $1", q).await,
        rules::QUOTES_BOUND_AT_IFF_BOUND,
    );
}

#[tokio::test]
async fn an_expired_offer_cannot_be_bound() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = presented_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET status = 'bound', bound_at = expires_at + interval '1 minute' WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_BOUND_WITHIN_VALIDITY,
    );
}

#[tokio::test]
async fn a_presented_quote_can_be_bound_within_its_validity() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = bound_quote(db.pool()).await;
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Bound);
}

// ---------------------------------------------------------------------------------------------
// quotes: status machine
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_allowed_transitions_are_exactly_the_documented_ones() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT from_status::text, to_status::text FROM quote_status_transitions ORDER BY 1, 2")
            .fetch_all(db.pool())
            .await
            .expect("read transitions");
    let mut expected: Vec<(String, String)> = vec![
        ("draft", "rated"),
        ("rated", "rated"),
        ("rated", "presented"),
        ("presented", "bound"),
    ]
    .into_iter()
    .chain(["draft", "rated", "presented"].into_iter().flat_map(|from| {
        ["expired", "declined", "cancelled"]
            .into_iter()
            .map(move |to| (from, to))
    }))
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    expected.sort();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn a_quote_moves_from_draft_through_rated_and_presented_to_bound() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    rate(db.pool(), q, "900.00").await.expect("draft -> rated");
    set_status(db.pool(), q, QuoteStatus::Presented)
        .await
        .expect("rated -> presented");
    set_status(db.pool(), q, QuoteStatus::Bound)
        .await
        .expect("presented -> bound");
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Bound);
}

#[tokio::test]
async fn a_rated_quote_can_be_re_rated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    rate(db.pool(), q, "1100.00").await.expect("rated -> rated");
    let version: i32 = sqlx::query_scalar("SELECT current_version FROM quotes WHERE id = $1")
        .bind(q)
        .fetch_one(db.pool())
        .await
        .expect("read version");
    assert_eq!(version, 2);
}

#[tokio::test]
async fn an_open_quote_can_expire_be_declined_or_be_cancelled() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for to in [QuoteStatus::Expired, QuoteStatus::Declined, QuoteStatus::Cancelled] {
        for q in [
            draft_quote(db.pool()).await,
            rated_quote(db.pool()).await,
            presented_quote(db.pool()).await,
        ] {
            set_status(db.pool(), q, to)
                .await
                .unwrap_or_else(|e| panic!("-> {to}: {e}"));
        }
    }
}

#[tokio::test]
async fn a_bound_quote_cannot_return_to_draft() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = bound_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET status = 'draft', bound_at = NULL, premium = NULL WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn no_terminal_status_can_be_left() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for terminal in [QuoteStatus::Expired, QuoteStatus::Declined, QuoteStatus::Cancelled] {
        let q = rated_quote(db.pool()).await;
        set_status(db.pool(), q, terminal).await.expect("close quote");
        for to in [QuoteStatus::Rated, QuoteStatus::Presented, QuoteStatus::Bound] {
            assert_violates(set_status(db.pool(), q, to).await, rules::QUOTES_STATUS_TRANSITION);
        }
    }
    let q = bound_quote(db.pool()).await;
    for to in [QuoteStatus::Rated, QuoteStatus::Cancelled, QuoteStatus::Expired] {
        assert_violates(set_status(db.pool(), q, to).await, rules::QUOTES_STATUS_TRANSITION);
    }
}

#[tokio::test]
async fn a_draft_quote_cannot_be_presented_or_bound_before_it_is_rated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        set_status(db.pool(), q, QuoteStatus::Presented).await,
        rules::QUOTES_STATUS_TRANSITION,
    );
    assert_violates(
        set_status(db.pool(), q, QuoteStatus::Bound).await,
        rules::QUOTES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn a_rated_quote_cannot_be_bound_before_it_is_presented() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        set_status(db.pool(), q, QuoteStatus::Bound).await,
        rules::QUOTES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn a_presented_quote_cannot_be_re_rated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = presented_quote(db.pool()).await;
    assert_violates(rate(db.pool(), q, "1200.00").await, rules::QUOTES_STATUS_TRANSITION);
}

#[tokio::test]
async fn a_new_version_is_a_rating_and_leaves_the_quote_rated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = presented_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET current_version = current_version + 1 WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn a_rating_adds_exactly_one_version() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET current_version = current_version + 2 WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_STATUS_TRANSITION,
    );
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET current_version = current_version - 1 WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_STATUS_TRANSITION,
    );
}

#[tokio::test]
async fn writing_the_same_status_back_is_not_a_transition() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = bound_quote(db.pool()).await;
    exec(
        db.pool(),
        "UPDATE quotes SET status = status, metadata = '{\"note\": 1}' WHERE id = $1",
        q,
    )
    .await
    .expect("same-status write on a bound quote");
    let d = draft_quote(db.pool()).await;
    exec(db.pool(), "UPDATE quotes SET status = 'draft' WHERE id = $1", d)
        .await
        .expect("same-status write on a draft");
}

// ---------------------------------------------------------------------------------------------
// quotes: current_version and premium in step with the versions (checked at commit)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bumping_the_version_without_inserting_it_fails_at_commit() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("UPDATE quotes SET current_version = current_version + 1, premium = 1200 WHERE id = $1")
        .bind(q)
        .execute(&mut *tx)
        .await
        .expect("the bump itself is allowed");
    assert_violates(tx.commit().await, rules::QUOTES_CURRENT_VERSION_IN_STEP);
}

#[tokio::test]
async fn changing_the_premium_without_re_rating_fails_at_commit() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "UPDATE quotes SET premium = premium + 1 WHERE id = $1", q).await,
        rules::QUOTES_CURRENT_VERSION_IN_STEP,
    );
}

#[tokio::test]
async fn rating_a_draft_without_a_version_fails_at_commit() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quotes SET status = 'rated', premium = 100 WHERE id = $1",
            q,
        )
        .await,
        rules::QUOTES_CURRENT_VERSION_IN_STEP,
    );
}

#[tokio::test]
async fn a_quote_premium_must_equal_its_current_version_premium() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    // rate_with bumps the quote with premium 1000 but records 999 in the version.
    assert_violates(
        rate_with(db.pool(), q, "999.00", "{}", "{}").await,
        rules::QUOTES_CURRENT_VERSION_IN_STEP,
    );
}

#[tokio::test]
async fn a_quote_inserted_as_rated_needs_its_version_in_the_same_transaction() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    assert_violates(
        try_quote(
            db.pool(),
            c,
            &[("status", "'rated'"), ("premium", "100"), ("current_version", "1")],
        )
        .await,
        rules::QUOTES_CURRENT_VERSION_IN_STEP,
    );
    // With the version in the same transaction (imports, the volume generator) it commits.
    let mut tx = db.pool().begin().await.expect("begin");
    ensure_state(db.pool(), "CA").await;
    let q: Uuid = sqlx::query_scalar(
        "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata, status, premium, current_version)
         VALUES ($1, 'CA', '90001', current_date, now() + interval '30 days', '{}', 'rated', 100, 1) RETURNING id",
    )
    .bind(c)
    .fetch_one(&mut *tx)
    .await
    .expect("insert rated quote");
    sqlx::query("INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 1, 100, '{}', '{}')")
        .bind(q)
        .execute(&mut *tx)
        .await
        .expect("insert its version");
    tx.commit().await.expect("consistent import commits");
}

// ---------------------------------------------------------------------------------------------
// quote_status_transitions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_transition_out_of_a_terminal_status_cannot_be_added() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let result = sqlx::query("INSERT INTO quote_status_transitions VALUES ('bound', 'cancelled')")
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTE_STATUS_TRANSITIONS_TERMINAL_HAS_NO_EXIT);
}

#[tokio::test]
async fn a_transition_back_to_draft_cannot_be_added() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let result = sqlx::query("INSERT INTO quote_status_transitions VALUES ('rated', 'draft')")
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTE_STATUS_TRANSITIONS_NOTHING_RETURNS_TO_DRAFT);
}

#[tokio::test]
async fn a_transition_between_open_statuses_can_be_added_and_is_then_allowed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::query("INSERT INTO quote_status_transitions VALUES ('presented', 'rated')")
        .execute(db.pool())
        .await
        .expect("new transition");
    let q = presented_quote(db.pool()).await;
    rate(db.pool(), q, "1300.00")
        .await
        .expect("presented -> rated is now data-allowed");
}

// ---------------------------------------------------------------------------------------------
// quote_versions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_quote_with_versions_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "DELETE FROM quotes WHERE id = $1", q).await,
        rules::QUOTE_VERSIONS_QUOTE_FK,
    );
}

#[tokio::test]
async fn a_draft_quote_can_be_deleted_with_its_coverage_lines() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    exec(db.pool(), "DELETE FROM quotes WHERE id = $1", q)
        .await
        .expect("delete draft");
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM quote_coverages WHERE quote_id = $1", q).await,
        0
    );
}

#[tokio::test]
async fn a_quote_version_cannot_be_updated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quote_versions SET premium = 1 WHERE quote_id = $1",
            q,
        )
        .await,
        rules::QUOTE_VERSIONS_IMMUTABLE,
    );
}

#[tokio::test]
async fn a_quote_version_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        exec(db.pool(), "DELETE FROM quote_versions WHERE quote_id = $1", q).await,
        rules::QUOTE_VERSIONS_IMMUTABLE,
    );
}

#[tokio::test]
async fn a_re_rating_keeps_every_earlier_version_unchanged() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    rate(db.pool(), q, "1100.00").await.expect("re-rate");
    rate(db.pool(), q, "1200.00").await.expect("re-rate again");
    let premiums: Vec<String> =
        sqlx::query_scalar("SELECT premium::text FROM quote_versions WHERE quote_id = $1 ORDER BY version")
            .bind(q)
            .fetch_all(db.pool())
            .await
            .expect("read versions");
    assert_eq!(premiums, ["1000.00", "1100.00", "1200.00"]);
}

#[tokio::test]
async fn a_quote_version_cannot_skip_a_number() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("UPDATE quotes SET premium = 1100, current_version = 2 WHERE id = $1")
        .bind(q)
        .execute(&mut *tx)
        .await
        .expect("bump to 2");
    let result = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 3, 1100, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_VERSIONS_CONTIGUOUS);
}

#[tokio::test]
async fn a_version_cannot_be_added_before_the_quote_is_bumped() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        insert_version(db.pool(), q, 2, "1100.00", "{}", "{}").await,
        rules::QUOTE_VERSIONS_CONTIGUOUS,
    );
}

#[tokio::test]
async fn a_version_for_an_unknown_quote_is_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        insert_version(db.pool(), Uuid::new_v4(), 1, "100.00", "{}", "{}").await,
        rules::QUOTE_VERSIONS_CONTIGUOUS,
    );
}

#[tokio::test]
async fn consecutive_versions_after_bumps_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    for premium in ["100.00", "110.00", "120.00"] {
        rate(db.pool(), q, premium).await.expect("rating");
    }
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM quote_versions WHERE quote_id = $1 ORDER BY version")
            .bind(q)
            .fetch_all(db.pool())
            .await
            .expect("read versions");
    assert_eq!(versions, [1, 2, 3]);
}

/// The unique (quote_id, version) backs up quote_versions_contiguous; it can only be reached
/// with user triggers off (session_replication_role = replica; constraints still apply).
#[tokio::test]
async fn two_snapshots_cannot_share_a_version_number() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("replica");
    let result = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 1, 100, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_VERSIONS_QUOTE_VERSION_UNIQUE);
}

/// Version numbers start at 1 (quote_versions_contiguous already refuses 0 first; the CHECK
/// is reached with user triggers off).
#[tokio::test]
async fn a_version_number_must_be_at_least_one() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("replica");
    let result = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 0, 100, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_VERSIONS_VERSION_POSITIVE);
}

#[tokio::test]
async fn a_version_premium_must_be_greater_than_zero() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        rate_with(db.pool(), q, "0.00", "{}", "{}").await,
        rules::QUOTE_VERSIONS_PREMIUM_POSITIVE,
    );
}

#[tokio::test]
async fn version_rating_inputs_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        rate_with(db.pool(), q, "1000.00", "[1, 2]", "{}").await,
        rules::QUOTE_VERSIONS_RATING_INPUTS_IS_OBJECT,
    );
}

#[tokio::test]
async fn version_breakdown_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        rate_with(db.pool(), q, "1000.00", "{}", "\"total\"").await,
        rules::QUOTE_VERSIONS_BREAKDOWN_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_version_with_object_inputs_and_breakdown_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    rate_with(
        db.pool(),
        q,
        "1000.00",
        r#"{"drivers": [{"age": 40}]}"#,
        r#"{"base": "800.00", "territory": "1.250"}"#,
    )
    .await
    .expect("valid version");
}

// ---------------------------------------------------------------------------------------------
// quote_coverages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_coverage_line_must_belong_to_an_existing_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_coverage(db.pool(), Uuid::new_v4(), "collision", None, "500", None).await,
        rules::QUOTE_COVERAGES_QUOTE_FK,
    );
}

#[tokio::test]
async fn a_quote_cannot_list_the_same_coverage_twice() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("first");
    assert_violates(
        try_coverage(db.pool(), q, "collision", None, "1000", None).await,
        rules::QUOTE_COVERAGES_QUOTE_COVERAGE_UNIQUE,
    );
}

#[tokio::test]
async fn a_quote_can_list_every_coverage_type_once() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    for coverage in quotedb_schema::quotes::CoverageType::ALL {
        try_coverage(db.pool(), q, coverage.as_str(), Some("50000"), "0", None)
            .await
            .unwrap_or_else(|e| panic!("{coverage}: {e}"));
    }
}

#[tokio::test]
async fn a_coverage_limit_cannot_be_negative() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        try_coverage(db.pool(), q, "bodily_injury", Some("-1"), "0", None).await,
        rules::QUOTE_COVERAGES_LIMIT_NONNEGATIVE,
    );
}

#[tokio::test]
async fn a_coverage_deductible_cannot_be_negative() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        try_coverage(db.pool(), q, "collision", None, "-0.01", None).await,
        rules::QUOTE_COVERAGES_DEDUCTIBLE_NONNEGATIVE,
    );
}

#[tokio::test]
async fn a_coverage_premium_cannot_be_negative() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    assert_violates(
        try_coverage(db.pool(), q, "rental", Some("900"), "0", Some("-3")).await,
        rules::QUOTE_COVERAGES_PREMIUM_NONNEGATIVE,
    );
}

#[tokio::test]
async fn zero_amounts_and_an_unstated_limit_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "roadside", Some("0"), "0", Some("0"))
        .await
        .expect("zeros");
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("no stated limit");
}

#[tokio::test]
async fn coverage_lines_of_a_presented_quote_cannot_change() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    rate(db.pool(), q, "1000.00").await.expect("rate");
    set_status(db.pool(), q, QuoteStatus::Presented).await.expect("present");
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quote_coverages SET deductible = 1000 WHERE quote_id = $1",
            q,
        )
        .await,
        rules::QUOTE_COVERAGES_EDITABLE,
    );
    assert_violates(
        try_coverage(db.pool(), q, "rental", Some("900"), "0", None).await,
        rules::QUOTE_COVERAGES_EDITABLE,
    );
}

#[tokio::test]
async fn coverage_lines_of_a_bound_quote_cannot_be_removed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    rate(db.pool(), q, "1000.00").await.expect("rate");
    set_status(db.pool(), q, QuoteStatus::Presented).await.expect("present");
    set_status(db.pool(), q, QuoteStatus::Bound).await.expect("bind");
    assert_violates(
        exec(db.pool(), "DELETE FROM quote_coverages WHERE quote_id = $1", q).await,
        rules::QUOTE_COVERAGES_EDITABLE,
    );
}

#[tokio::test]
async fn a_rated_quotes_cover_is_frozen_and_only_its_premiums_change() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    rate(db.pool(), q, "1000.00").await.expect("rate");
    exec(
        db.pool(),
        "UPDATE quote_coverages SET premium = 400 WHERE quote_id = $1",
        q,
    )
    .await
    .expect("re-rating changes a rated quote's line premium");
    // The cover was priced (0007): a new deductible, or a removed line, would need a new price.
    for change in [
        "UPDATE quote_coverages SET deductible = 1000 WHERE quote_id = $1",
        "DELETE FROM quote_coverages WHERE quote_id = $1",
    ] {
        let err = exec(db.pool(), change, q).await.expect_err(change);
        assert_eq!(violated_rule(&err), Some("quote_coverages_editable"), "{change}: {err}");
    }
}
