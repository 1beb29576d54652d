//! Every Rust mirror of a database enum (`db_enum!`) lists exactly the catalog's labels, in the
//! catalog's order.

use quotedb_schema::{admin, quotes, rating, realtime, security};
use quotedb_testkit::TestDb;

macro_rules! labels {
    ($($t:ty => $name:literal),+ $(,)?) => {
        vec![$(($name, <$t>::ALL.iter().map(|v| v.as_str().to_string()).collect::<Vec<_>>())),+]
    };
}

#[tokio::test]
async fn each_rust_enum_matches_its_database_type_label_for_label() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let enums = labels![
        quotes::UserRole => "user_role",
        quotes::QuoteStatus => "quote_status",
        quotes::CoverageType => "coverage_type",
        rating::RateStatus => "rate_status",
        rating::DiscountCode => "discount_code",
        rating::SurchargeCode => "surcharge_code",
        security::SsoProtocol => "sso_protocol",
        security::OAuth2GrantType => "oauth2_grant_type",
        security::SessionRevokeReason => "session_revoke_reason",
        realtime::NotificationChannel => "notification_channel",
        realtime::NotificationStatus => "notification_status",
        realtime::MetricBucketWidth => "metric_bucket_width",
        admin::AdminPermissionRiskLevel => "admin_permission_risk_level",
        admin::SystemSettingValueType => "system_setting_value_type",
        admin::RateChangeKind => "rate_change_kind",
        admin::RateChangeStatus => "rate_change_status",
    ];
    let in_database: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'public' AND t.typtype = 'e'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count enum types");
    assert_eq!(
        in_database as usize,
        enums.len(),
        "every database enum has a Rust mirror"
    );
    for (name, rust) in enums {
        let catalog: Vec<String> = sqlx::query_scalar(
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
             WHERE t.typname = $1 ORDER BY e.enumsortorder",
        )
        .bind(name)
        .fetch_all(db.pool())
        .await
        .expect("labels");
        assert_eq!(rust, catalog, "{name}");
    }
}
