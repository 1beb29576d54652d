//! quote_coverages

use super::*;

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

/// quote_coverages_editable is checked once per statement (migration 0023): one statement that
/// touches a draft's lines and a rated quote's cover is refused as a whole, the draft's change
/// included.
#[tokio::test]
async fn one_statement_over_a_draft_and_a_rated_quote_is_refused_whole() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let draft = draft_quote(db.pool()).await;
    let rated = draft_quote(db.pool()).await;
    for q in [draft, rated] {
        try_coverage(db.pool(), q, "collision", None, "500", None)
            .await
            .expect("coverage");
    }
    rate(db.pool(), rated, "1000.00").await.expect("rate");
    let result = sqlx::query("UPDATE quote_coverages SET deductible = 750 WHERE quote_id = ANY($1)")
        .bind(vec![draft, rated])
        .execute(db.pool())
        .await;
    assert_violates(result, rules::QUOTE_COVERAGES_EDITABLE);
    let deductibles: Vec<String> =
        sqlx::query_scalar("SELECT deductible::text FROM quote_coverages WHERE quote_id = ANY($1)")
            .bind(vec![draft, rated])
            .fetch_all(db.pool())
            .await
            .expect("read lines");
    assert_eq!(deductibles, ["500.00", "500.00"], "nothing changed");
}

/// Old and new lines are paired by id: giving a rated quote's line a new id changes its cover.
#[tokio::test]
async fn a_rated_quotes_line_keeps_its_id() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    exec(
        db.pool(),
        "UPDATE quote_coverages SET id = gen_random_uuid() WHERE quote_id = $1",
        q,
    )
    .await
    .expect("a draft's line may be re-keyed");
    rate(db.pool(), q, "1000.00").await.expect("rate");
    assert_violates(
        exec(
            db.pool(),
            "UPDATE quote_coverages SET id = gen_random_uuid() WHERE quote_id = $1",
            q,
        )
        .await,
        rules::QUOTE_COVERAGES_EDITABLE,
    );
}

/// A line is added to a rated quote only by the transaction that created (or rated) it.
#[tokio::test]
async fn a_line_cannot_be_added_to_a_rated_quote_later() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    assert_violates(
        try_coverage(db.pool(), q, "rental", Some("900"), "0", None).await,
        rules::QUOTE_COVERAGES_EDITABLE,
    );
}

/// Writing the quote row in a transaction does not make it "the creating transaction": a line
/// is added to a rated quote only by the transaction that first priced it (migration 0023).
#[tokio::test]
async fn touching_a_rated_quote_does_not_let_a_line_in() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = rated_quote(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("UPDATE quotes SET status = status WHERE id = $1")
        .bind(q)
        .execute(&mut *tx)
        .await
        .expect("no-op update");
    let result = sqlx::query(
        "INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible) VALUES ($1, 'rental', 900, 0)",
    )
    .bind(q)
    .execute(&mut *tx)
    .await;
    assert_violates(result, rules::QUOTE_COVERAGES_EDITABLE);
}

/// A line added to a draft while another transaction rates it waits for that rating and is
/// then refused: the rule locks the quote (FOR SHARE) before it reads its status.
#[tokio::test]
async fn a_line_racing_the_rating_of_its_draft_is_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let q = draft_quote(db.pool()).await;
    try_coverage(db.pool(), q, "collision", None, "500", None)
        .await
        .expect("coverage");
    let mut rater = db.pool().begin().await.expect("begin rating");
    sqlx::query("UPDATE quotes SET status = 'rated', premium = 1000, current_version = 1 WHERE id = $1")
        .bind(q)
        .execute(&mut *rater)
        .await
        .expect("bump");
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 1, 1000, '{}', '{}')",
    )
    .bind(q)
    .execute(&mut *rater)
    .await
    .expect("version 1");
    let pool = db.pool().clone();
    let racer = tokio::spawn(async move { try_coverage(&pool, q, "rental", Some("900"), "0", None).await });
    // The racing insert waits for the rater's lock on the quote (seen in pg_stat_activity).
    let mut waiting = false;
    for _ in 0..200 {
        waiting = sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND wait_event_type = 'Lock')",
        )
        .fetch_one(db.pool())
        .await
        .expect("pg_stat_activity");
        if waiting || racer.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(waiting, "the line waits for the rating");
    rater.commit().await.expect("rating commits");
    let result = racer.await.expect("racer");
    assert_violates(result, rules::QUOTE_COVERAGES_EDITABLE);
}
