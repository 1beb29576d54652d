//! surcharge_rules

use super::*;

#[tokio::test]
async fn every_surcharge_code_can_be_defined() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in SurchargeCode::ALL {
        try_surcharge(db.pool(), code, None, "10", r#"{"lookback_years": 3}"#, code.as_str())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
    }
}
