//! base_rates: columns, no overlap among active rows, lifecycle, frozen terms

use super::*;

// ---------------------------------------------------------------------------------------------
// base_rates: columns
// ---------------------------------------------------------------------------------------------

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
