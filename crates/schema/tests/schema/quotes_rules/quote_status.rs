//! quotes: the status machine, current_version and premium in step with the versions, and
//! quote_status_transitions

use super::*;

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
