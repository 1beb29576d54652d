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

/// The batch form, `append_audit_logs()` (0016), opens nothing `append_audit_log()` does not.
#[tokio::test]
async fn the_batch_append_cannot_back_date_pad_or_change_the_audit_trail() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let batch = |actor: &str, n: usize, tail: &str| {
        let a = |v: &str| format!("ARRAY[{}]", vec![v; n].join(", "));
        format!(
            "SELECT append_audit_logs({actor}, {}, {}, {}, {}::jsonb[], {}::jsonb[], {}::inet[], {}{tail})",
            a("'quote.viewed'"),
            a("'quotes'"),
            a("'q1'"),
            a("NULL"),
            a("NULL"),
            a("NULL"),
            a("'req-1'"),
        )
    };

    // The shape that works: a batch appends, every row stamped with the database's time.
    let mut tx = conn.begin().await.expect("begin");
    let appended: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(batch("NULL", 3, "")))
        .fetch_one(&mut *tx)
        .await
        .expect("append a batch");
    let now: time::OffsetDateTime = sqlx::query_scalar("SELECT now()")
        .fetch_one(&mut *tx)
        .await
        .expect("now");
    tx.commit().await.expect("commit");
    assert_eq!(appended, 3);
    let stamped: bool = sqlx::query_scalar("SELECT bool_and(occurred_at = $1) AND count(*) = 3 FROM audit_logs")
        .bind(now)
        .fetch_one(db.pool())
        .await
        .expect("stamps");
    assert!(stamped, "appended, stamped with the database's time");

    // No time can be passed: there is no such parameter, and no other signature.
    refused_or_missing(&mut conn, w.attacker, &batch("NULL", 2, ", '1999-01-01'::timestamptz")).await;
    refused_or_missing(
        &mut conn,
        w.attacker,
        &format!(
            "{}, p_occurred_at => '1999-01-01')",
            batch("NULL", 2, "").trim_end_matches(')')
        ),
    )
    .await;
    // Unequal, multi-dimensional, null or oversized arrays are refused before a row is written
    // (unnest would pad the short arrays with NULLs).
    for pad in [
        "SELECT append_audit_logs(NULL, ARRAY['a.b', 'a.b'], ARRAY['quotes'], ARRAY['q1', 'q2'], ARRAY[NULL, NULL]::jsonb[], ARRAY[NULL, NULL]::jsonb[], ARRAY[NULL, NULL]::inet[], ARRAY[NULL, NULL]::text[])",
        "SELECT append_audit_logs(NULL, ARRAY[['a.b', 'a.b']], ARRAY['quotes', 'quotes'], ARRAY['q1', 'q2'], ARRAY[NULL, NULL]::jsonb[], ARRAY[NULL, NULL]::jsonb[], ARRAY[NULL, NULL]::inet[], ARRAY[NULL, NULL]::text[])",
        "SELECT append_audit_logs(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "SELECT append_audit_logs(NULL, array_fill('a.b'::text, ARRAY[10001]), array_fill('quotes'::text, ARRAY[10001]), array_fill('q'::text, ARRAY[10001]), array_fill(NULL::jsonb, ARRAY[10001]), array_fill(NULL::jsonb, ARRAY[10001]), array_fill(NULL::inet, ARRAY[10001]), array_fill(NULL::text, ARRAY[10001]))",
    ] {
        refused(&mut conn, Some(w.attacker), pad).await;
    }
    // Every row passes the table's rules: one bad row refuses the batch.
    refused(
        &mut conn,
        Some(w.attacker),
        "SELECT append_audit_logs(NULL, ARRAY['a.b', 'Bad Action'], ARRAY['quotes', 'quotes'], ARRAY['q1', 'q2'], ARRAY[NULL, NULL]::jsonb[], ARRAY[NULL, '[1]']::jsonb[], ARRAY[NULL, NULL]::inet[], ARRAY[NULL, NULL]::text[])",
    )
    .await;
    // The actor: a user that exists (as for append_audit_log()), never a made-up one.
    let ghost = attempt(
        &mut conn,
        Some(w.attacker),
        &batch(&format!("'{}'", Uuid::new_v4()), 2, ""),
    )
    .await
    .expect_err("a made-up actor");
    assert_eq!(
        ghost.as_database_error().and_then(|e| e.constraint()),
        Some("audit_logs_actor_user_fk")
    );
    assert!(
        attempt(&mut conn, Some(w.attacker), &batch(&format!("'{}'", w.victim), 2, ""))
            .await
            .is_ok()
    );

    // Appended rows stay: the batch path opens no UPDATE, DELETE or TRUNCATE.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query(sqlx::AssertSqlSafe(batch("NULL", 2, "")))
        .execute(&mut *tx)
        .await
        .expect("append a batch");
    tx.commit().await.expect("commit");
    no_effect(&mut conn, Some(w.all_powerful_admin), "DELETE FROM audit_logs").await;
    no_effect(
        &mut conn,
        Some(w.all_powerful_admin),
        "UPDATE audit_logs SET occurred_at = '1999-01-01'",
    )
    .await;
    refused(&mut conn, None, "TRUNCATE audit_logs").await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(rows, 5, "the committed batches, and only they");
}

/// A call with an argument list no function takes: refused (no privilege, a rule) or no such
/// function (42883) - never run.
async fn refused_or_missing(conn: &mut PgConnection, user: Uuid, sql: &str) {
    let err = attempt(conn, Some(user), sql).await.expect_err(sql);
    let code = err.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
    assert!(
        matches!(code.as_deref(), Some("42501" | "23514" | "22023" | "42883")),
        "{sql}: {err}"
    );
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
