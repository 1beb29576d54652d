//! territory_factors: columns; no overlap, lifecycle, frozen terms

use super::*;

// ---------------------------------------------------------------------------------------------
// territory_factors: columns
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// territory_factors: no overlap, lifecycle, frozen terms
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_active_territory_factor_can_be_retired() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let id = territory(db.pool(), "[2025-01-01,)", Active).await;
    set_rate_status(db.pool(), "territory_factors", id, Retired)
        .await
        .expect("active -> retired");
}

#[tokio::test]
async fn a_retired_territory_factor_can_be_relabelled_and_a_proposed_one_edited() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let retired = territory(db.pool(), "[2024-01-01,2025-01-01)", Retired).await;
    accepted_on(
        db.pool(),
        retired,
        &["UPDATE territory_factors SET city = 'Los Angeles (South)' WHERE id = $1"],
    )
    .await;
    let proposed = territory(db.pool(), "[2026-01-01,)", Proposed).await;
    accepted_on(
        db.pool(),
        proposed,
        &["UPDATE territory_factors SET factor = 1.500 WHERE id = $1"],
    )
    .await;
}
