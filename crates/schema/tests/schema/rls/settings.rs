//! system settings, reporting and public_setting

use super::*;

// ---------------------------------------------------------------------------------------------
// system settings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_without_the_permission_sees_no_sensitive_settings() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let keys = "SELECT string_agg(key, ',' ORDER BY key) FROM system_settings";
    let pool = db.pool();
    let visible = |user| async move {
        let mut tx = acting_as(pool, Some(user)).await;
        sqlx::query_scalar::<_, String>(keys)
            .fetch_one(&mut *tx)
            .await
            .expect(keys)
    };
    assert_eq!(visible(w.clerk).await, "rating.discount_cap");
    assert_eq!(
        visible(w.carol).await,
        "rating.discount_cap",
        "customers read non-sensitive settings"
    );
    assert_eq!(
        visible(w.boss).await,
        "integrations.partner_api_key,rating.discount_cap"
    );
}

#[tokio::test]
async fn only_settings_writers_change_settings_and_they_sign_their_change() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let signed = "UPDATE system_settings SET value = '0.30', updated_by = app_admin_user_id() WHERE key = 'rating.discount_cap' AND $1 IS NOT NULL";
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.clerk)).await, signed, w.clerk).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.carol)).await, signed, w.carol).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.boss)).await, signed, w.boss).await,
        1
    );
    let unsigned = "UPDATE system_settings SET value = '0.30', updated_by = NULL WHERE key = 'rating.discount_cap' AND $1 IS NOT NULL";
    refused_by_policy(&mut *acting_as(db.pool(), Some(w.boss)).await, unsigned, w.boss).await;
}

// ---------------------------------------------------------------------------------------------
// reporting and public_setting
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reporting_reads_quotes_activity_and_non_sensitive_settings_only() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    world(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE quotedb_readonly")
        .execute(&mut *tx)
        .await
        .expect("role");
    let sql = "SELECT ARRAY[(SELECT count(*) FROM quotes), (SELECT count(*) FROM system_settings),
                            (SELECT count(*) FROM user_sessions), (SELECT count(*) FROM admin_users),
                            (SELECT count(*) FROM oauth2_clients)]";
    let counts: Vec<i64> = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.expect(sql);
    assert_eq!(counts, vec![3, 1, 0, 0, 0]);
}

#[tokio::test]
async fn public_setting_reads_non_sensitive_settings_without_an_actor_and_never_sensitive_ones() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let pool = db.pool();
    sqlx::query(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive) VALUES
         ('rating.discount_cap', '0.35', 'number', 'Cap on stacked discounts', false),
         ('sso.signing_secret', '\"s3cr3t\"', 'string', 'A secret', true)",
    )
    .execute(pool)
    .await
    .expect("insert settings");
    let mut tx = pool.begin().await.expect("begin");
    // The application role, with no acting user and no system flag.
    sqlx::query("SET LOCAL ROLE quotedb_app")
        .execute(&mut *tx)
        .await
        .expect("set role");
    let cap: Option<serde_json::Value> = sqlx::query_scalar("SELECT public_setting('rating.discount_cap')")
        .fetch_one(&mut *tx)
        .await
        .expect("public setting");
    assert_eq!(cap, Some(serde_json::json!(0.35)));
    let secret: Option<serde_json::Value> = sqlx::query_scalar("SELECT public_setting('sso.signing_secret')")
        .fetch_one(&mut *tx)
        .await
        .expect("sensitive setting");
    assert_eq!(secret, None, "a sensitive setting is never returned");
    let direct: i64 = sqlx::query_scalar("SELECT count(*) FROM system_settings")
        .fetch_one(&mut *tx)
        .await
        .expect("direct read");
    assert_eq!(direct, 0, "without an actor, the table itself shows nothing");
    tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn public_setting_does_not_leave_the_system_flag_on() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE quotedb_app")
        .execute(&mut *tx)
        .await
        .expect("set role");
    sqlx::query("SELECT public_setting('rating.discount_cap')")
        .execute(&mut *tx)
        .await
        .expect("call");
    let system: bool = sqlx::query_scalar("SELECT app_is_system()")
        .fetch_one(&mut *tx)
        .await
        .expect("flag");
    assert!(!system, "the caller's transaction must not become the system actor");
    tx.rollback().await.expect("rollback");
}
