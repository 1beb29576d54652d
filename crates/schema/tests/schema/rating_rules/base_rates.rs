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

// ---------------------------------------------------------------------------------------------
// base_rates: no overlap among active rows
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// base_rates: lifecycle
// ---------------------------------------------------------------------------------------------

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
    accepted_on(
        db.pool(),
        id,
        &[
            "UPDATE base_rates SET effective = '[2025-01-01,2026-01-01)' WHERE id = $1",
            "UPDATE base_rates SET effective = '[2025-01-01,2025-07-01)' WHERE id = $1",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_proposed_base_rate_can_be_edited() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = base_rate(db.pool(), "[2025-01-01,)", Proposed).await;
    accepted_on(db.pool(), id, &[
        "UPDATE base_rates SET base_amount = 525, coverage_type = 'comprehensive', effective = '[2025-02-01,)' WHERE id = $1",
    ])
    .await;
}
