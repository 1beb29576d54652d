//! discount_rules

use super::*;

#[tokio::test]
async fn a_discount_must_be_for_a_known_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(
            db.pool(),
            DiscountCode::GoodDriver,
            Some("ZZ"),
            "10",
            "{}",
            "Good driver",
        )
        .await,
        rules::DISCOUNT_RULES_STATE_FK,
    );
}

#[tokio::test]
async fn a_discount_must_be_more_than_zero_and_at_most_fifty_percent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for percent in ["0", "-5", "50.01"] {
        assert_violates(
            try_discount(db.pool(), DiscountCode::GoodDriver, None, percent, "{}", "Good driver").await,
            rules::DISCOUNT_RULES_PERCENT_RANGE,
        );
    }
}

#[tokio::test]
async fn discounts_at_the_percent_bounds_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_discount(db.pool(), DiscountCode::GoodDriver, None, "0.01", "{}", "Good driver")
        .await
        .expect("0.01 %");
    try_discount(db.pool(), DiscountCode::MultiPolicy, None, "50", "{}", "Multi-policy")
        .await
        .expect("50 %");
}

#[tokio::test]
async fn discount_eligibility_must_be_a_json_object() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(db.pool(), DiscountCode::Loyalty, None, "5", "[\"years\"]", "Loyalty").await,
        rules::DISCOUNT_RULES_ELIGIBILITY_IS_OBJECT,
    );
}

#[tokio::test]
async fn a_discount_must_have_a_description() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_discount(db.pool(), DiscountCode::Loyalty, None, "5", "{}", " ").await,
        rules::DISCOUNT_RULES_DESCRIPTION_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_discount_code_has_at_most_one_countrywide_rule() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_discount(db.pool(), DiscountCode::Paperless, None, "3", "{}", "Paperless")
        .await
        .expect("first");
    assert_violates(
        try_discount(db.pool(), DiscountCode::Paperless, None, "4", "{}", "Paperless again").await,
        rules::DISCOUNT_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn a_discount_code_has_at_most_one_rule_per_state() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_discount(
        db.pool(),
        DiscountCode::Paperless,
        Some("CA"),
        "3",
        "{}",
        "Paperless CA",
    )
    .await
    .expect("first");
    assert_violates(
        try_discount(
            db.pool(),
            DiscountCode::Paperless,
            Some("CA"),
            "4",
            "{}",
            "Paperless CA again",
        )
        .await,
        rules::DISCOUNT_RULES_CODE_STATE_UNIQUE,
    );
}

#[tokio::test]
async fn a_state_rule_can_override_the_countrywide_discount() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    states(db.pool()).await;
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        None,
        "10",
        r#"{"max_age": 24, "min_gpa": 3.0}"#,
        "Good student",
    )
    .await
    .expect("countrywide");
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        Some("CA"),
        "8",
        r#"{"max_age": 24}"#,
        "Good student CA",
    )
    .await
    .expect("CA override");
    try_discount(
        db.pool(),
        DiscountCode::GoodStudent,
        Some("TX"),
        "12",
        "{}",
        "Good student TX",
    )
    .await
    .expect("TX override");
}

#[tokio::test]
async fn every_discount_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in DiscountCode::ALL {
        try_discount(db.pool(), code, None, "5", "{}", code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}
