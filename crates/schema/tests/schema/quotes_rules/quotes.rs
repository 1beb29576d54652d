//! quotes: columns, parties, premium, binding

use super::*;

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
async fn a_state_with_quotes_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    draft_quote(db.pool()).await;
    let result = sqlx::query("DELETE FROM states WHERE code = 'CA'")
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTES_STATE_FK);
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

/// The parties are checked once per INSERT statement (migration 0025): one bad row among good
/// ones refuses the whole statement, and nothing is inserted.
#[tokio::test]
async fn one_bad_party_refuses_a_multi_row_insert_whole() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    let a = agent(db.pool()).await;
    try_quote(db.pool(), c, &[]).await.expect("the state exists");
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    let result = sqlx::query(
        "INSERT INTO quotes (customer_id, agent_id, state_code, zip, effective_date, expires_at, metadata)
         VALUES ($1, $2, 'CA', '90001', current_date + 7, now() + interval '30 days', '{}'),
                ($1, $1, 'CA', '90001', current_date + 7, now() + interval '30 days', '{}')",
    )
    .bind(c)
    .bind(a)
    .execute(db.pool())
    .await;
    assert_violates(result, rules::QUOTES_AGENT_IS_AGENT);
    let result = sqlx::query(
        "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
         VALUES ($1, 'CA', '90001', current_date + 7, now() + interval '30 days', '{}'),
                ($2, 'CA', '90001', current_date + 7, now() + interval '30 days', '{}')",
    )
    .bind(c)
    .bind(a)
    .execute(db.pool())
    .await;
    assert_violates(result, rules::QUOTES_CUSTOMER_IS_CUSTOMER);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(after, before, "nothing was inserted");
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
async fn a_presented_quote_can_be_bound_within_its_validity() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = bound_quote(db.pool()).await;
    assert_eq!(status_of(db.pool(), q).await, QuoteStatus::Bound);
}
