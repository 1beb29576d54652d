//! discount_rules

use super::*;

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
