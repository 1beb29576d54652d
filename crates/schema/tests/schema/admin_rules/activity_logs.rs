//! admin activity logs

use super::*;

const LOG: &str = "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
                   VALUES ($1, $2, $3, 'rating.discount_cap', $4::jsonb, '10.1.1.1', $5, $6::jsonb)";

#[tokio::test]
async fn activity_log_entries_are_validated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    for (who, action, resource, details, score, factors, rule) in [
        (
            Uuid::new_v4(),
            "settings.update",
            "system_setting",
            "{}",
            10_i16,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK,
        ),
        (
            a,
            " ",
            "system_setting",
            "{}",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_ACTION_PRESENT,
        ),
        (
            a,
            "settings.update",
            "",
            "{}",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RESOURCE_TYPE_PRESENT,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            101,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            -1,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "[]",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_DETAILS_IS_OBJECT,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            10,
            "{}",
            rules::ADMIN_ACTIVITY_LOGS_RISK_FACTORS_IS_ARRAY,
        ),
    ] {
        let err = sqlx::query(LOG)
            .bind(who)
            .bind(action)
            .bind(resource)
            .bind(details)
            .bind(score)
            .bind(factors)
            .execute(p)
            .await;
        assert_eq!(
            refused(err),
            rule,
            "{action:?} {resource:?} {details} {score} {factors}"
        );
    }
    sqlx::query(LOG)
        .bind(a)
        .bind("settings.update")
        .bind("system_setting")
        .bind(r#"{"from":0.2}"#)
        .bind(85_i16)
        .bind(r#"["new_ip"]"#)
        .execute(p)
        .await
        .expect("valid entry");
    let err = sqlx::query("DELETE FROM admin_users WHERE id = $1")
        .bind(a)
        .execute(p)
        .await;
    assert_eq!(
        refused(err),
        rules::ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK,
        "the trail keeps its admins"
    );
}

#[tokio::test]
async fn admin_activity_logs_refuse_update_delete_and_truncate() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    sqlx::query(LOG)
        .bind(a)
        .bind("x")
        .bind("y")
        .bind("{}")
        .bind(1_i16)
        .bind("[]")
        .execute(p)
        .await
        .expect("append");
    for sql in [
        "UPDATE admin_activity_logs SET risk_score = 0",
        "DELETE FROM admin_activity_logs",
        "TRUNCATE admin_activity_logs",
    ] {
        assert_eq!(
            refused(sqlx::query(sql).execute(p).await),
            rules::ADMIN_ACTIVITY_LOGS_APPEND_ONLY,
            "{sql}"
        );
    }
}

#[tokio::test]
async fn admin_activity_logs_refuse_delete_as_the_system() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::raw_sql("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("act as the system");
    let err = sqlx::query("DELETE FROM admin_activity_logs")
        .execute(&mut *tx)
        .await
        .expect_err("no DELETE privilege");
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{err}"
    );
}
