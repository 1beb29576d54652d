//! territory_factors: columns; no overlap, lifecycle, frozen terms

use super::*;

// ---------------------------------------------------------------------------------------------
// territory_factors: columns
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// territory_factors: no overlap, lifecycle, frozen terms
// ---------------------------------------------------------------------------------------------

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
