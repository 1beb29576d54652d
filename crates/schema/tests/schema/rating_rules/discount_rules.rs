//! discount_rules

use super::*;

#[tokio::test]
async fn every_discount_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in DiscountCode::ALL {
        try_discount(db.pool(), code, None, "5", "{}", code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}
