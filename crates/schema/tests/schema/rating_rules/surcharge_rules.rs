//! surcharge_rules

use super::*;

#[tokio::test]
async fn a_surcharge_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::Dui, Some("ZZ"), "100", "{}", "DUI").await,
        rules::SURCHARGE_RULES_STATE_FK,
    );
}

#[tokio::test]
async fn a_surcharge_must_be_more_than_zero_and_at_most_two_hundred_percent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for percent in ["0", "-1", "200.01"] {
        assert_violates(
            try_surcharge(db.pool(), SurchargeCode::Dui, None, percent, "{}", "DUI").await,
            rules::SURCHARGE_RULES_PERCENT_RANGE,
        );
    }
}

#[tokio::test]
async fn surcharges_at_the_percent_bounds_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_surcharge(db.pool(), SurchargeCode::Dui, None, "200", "{}", "DUI")
        .await
        .expect("200 %");
    try_surcharge(db.pool(), SurchargeCode::CoverageLapse, None, "0.01", "{}", "Lapse")
        .await
        .expect("0.01 %");
}

#[tokio::test]
async fn surcharge_conditions_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::YoungDriver, None, "25", "24", "Young driver").await,
        rules::SURCHARGE_RULES_CONDITIONS_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_surcharge_must_have_a_description() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_surcharge(db.pool(), SurchargeCode::YoungDriver, None, "25", "{}", "").await,
        rules::SURCHARGE_RULES_DESCRIPTION_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_surcharge_code_has_at_most_one_rule_per_state_and_one_countrywide() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_surcharge(
        db.pool(),
        SurchargeCode::SpeedingViolation,
        None,
        "20",
        "{}",
        "Speeding",
    )
    .await
    .expect("countrywide");
    try_surcharge(
        db.pool(),
        SurchargeCode::SpeedingViolation,
        Some("TX"),
        "25",
        "{}",
        "Speeding TX",
    )
    .await
    .expect("TX override");
    assert_violates(
        try_surcharge(
            db.pool(),
            SurchargeCode::SpeedingViolation,
            None,
            "30",
            "{}",
            "Speeding 2",
        )
        .await,
        rules::SURCHARGE_RULES_CODE_STATE_UNIQUE,
    );
    assert_violates(
        try_surcharge(
            db.pool(),
            SurchargeCode::SpeedingViolation,
            Some("TX"),
            "30",
            "{}",
            "Speeding TX 2",
        )
        .await,
        rules::SURCHARGE_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn every_surcharge_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in SurchargeCode::ALL {
        try_surcharge(db.pool(), code, None, "10", r#"{"lookback_years": 3}"#, code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}
