//! 6. The audit trail cannot be thinned

use super::*;

#[tokio::test]
async fn the_audit_trail_cannot_be_thinned_or_back_dated() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;

    refused(&mut conn, Some(w.attacker), "SELECT detach_audit_log_partitions(1)").await;
    refused(&mut conn, Some(w.attacker), "SELECT create_audit_log_partitions(1)").await;
    for forged in ["1999-01-01", "9999-01-01"] {
        refused(
            &mut conn,
            Some(w.attacker),
            &format!(
                "INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at) VALUES ('quote.viewed', 'quotes', 'q', '{forged}')"
            ),
        )
        .await;
    }
    refused(
        &mut conn,
        Some(w.all_powerful_admin),
        "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, details, risk_score, risk_factors, occurred_at)
         SELECT id, 'x.y', 'quotes', '{}', 0, '[]', '1999-01-01' FROM admin_users LIMIT 1",
    )
    .await;
    // Appending stamps the database's time.
    let mut tx = conn.begin().await.expect("begin");
    let stamped: bool = sqlx::query_scalar(
        "SELECT occurred_at = now() FROM append_audit_log(NULL, 'quote.viewed', 'quotes', 'q1', NULL, NULL, NULL, NULL)",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("append");
    tx.commit().await.expect("commit");
    assert!(stamped);
    no_effect(&mut conn, Some(w.all_powerful_admin), "DELETE FROM audit_logs").await;
    no_effect(
        &mut conn,
        Some(w.all_powerful_admin),
        "UPDATE audit_logs SET action = 'x'",
    )
    .await;
    refused(&mut conn, None, "TRUNCATE audit_logs").await;

    // The owner itself (a superuser here) cannot truncate, delete or update audit rows.
    for attack in [
        "TRUNCATE audit_logs",
        "DELETE FROM audit_logs",
        "UPDATE audit_logs SET action = 'x.y'",
    ] {
        let err = sqlx::query(attack).execute(db.pool()).await.expect_err(attack);
        let rule = err.as_database_error().and_then(|e| e.constraint());
        assert!(
            matches!(rule, Some("audit_logs_append_only" | "audit_logs_no_truncate")),
            "{attack}: {err}"
        );
    }
    for partition in sqlx::query_scalar::<_, String>(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass",
    )
    .fetch_all(db.pool())
    .await
    .expect("partitions")
    {
        let err = sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {partition}")))
            .execute(db.pool())
            .await
            .expect_err("truncate a partition");
        assert_eq!(
            err.as_database_error().and_then(|e| e.constraint()),
            Some("audit_logs_no_truncate")
        );
    }

    // The maintenance role detaches, but never below the retention setting (24 months seeded).
    let mut worker = connect(&db, WORKER_LOGIN).await;
    let detached = attempt(&mut worker, None, "SELECT detach_audit_log_partitions(1)").await;
    assert!(matches!(detached, Ok(0)), "nothing detached: {detached:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(rows, 1, "the appended row is still there");
}

#[tokio::test]
async fn partition_maintenance_is_the_maintenance_roles_alone() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    // Moving the clock would detach or drop every month: the application login cannot call it,
    // nor read the partition status, nor touch a partition directly.
    refused(
        &mut conn,
        Some(w.attacker),
        "SELECT * FROM maintain_partitions('2999-01-01')",
    )
    .await;
    refused(&mut conn, None, "SELECT * FROM maintain_partitions()").await;
    refused(&mut conn, None, "SELECT * FROM partition_status()").await;
    refused(&mut conn, None, "SELECT * FROM partition_ranges('analytics_events')").await;
    refused(&mut conn, None, "SELECT * FROM analytics_events_legacy").await;
    refused(
        &mut conn,
        None,
        "INSERT INTO analytics_events_default (event_type, properties) VALUES ('a.b', '{}')",
    )
    .await;

    // The worker login (quotedb_system) runs it; with the clock as it is, nothing to do.
    let mut worker = connect(&db, WORKER_LOGIN).await;
    let ran = attempt(&mut worker, None, "SELECT * FROM maintain_partitions()").await;
    assert!(matches!(ran, Ok(0)), "nothing to do: {ran:?}");
}
