//! 4. Writes without the permission

use super::*;

#[tokio::test]
async fn admin_rating_and_identity_data_are_written_only_with_the_permission() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.attacker);
    let admin_role: Uuid = sqlx::query_scalar("SELECT id FROM admin_roles WHERE name = 'support'")
        .fetch_one(db.pool())
        .await
        .expect("support role");

    // Grant an admin role every permission.
    refused(
        &mut conn,
        me,
        &format!("INSERT INTO admin_role_permissions (role_id, permission_id) SELECT '{admin_role}', id FROM admin_permissions"),
    )
    .await;
    no_effect(&mut conn, me, "DELETE FROM admin_role_permissions").await;
    refused(
        &mut conn,
        me,
        "INSERT INTO admin_permissions (code, description, risk_level) VALUES ('x:y', 'x', 'low')",
    )
    .await;
    no_effect(&mut conn, me, "UPDATE admin_roles SET parent_id = NULL").await;
    // Forge a complete four-eyes trail and activate a 0.01 base rate.
    let (proposer, approver): (Uuid, Uuid) = sqlx::query_as(
        "SELECT (SELECT id FROM admin_users ORDER BY created_at LIMIT 1), (SELECT id FROM admin_users ORDER BY created_at DESC LIMIT 1)",
    )
    .fetch_one(db.pool())
    .await
    .expect("two admins");
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO rate_change_requests (kind, proposed_change, justification, status, requested_by, reviewed_by, reviewed_at, submitted_at)
             VALUES ('base_rate', '{{\"state_code\":\"CA\",\"coverage_type\":\"collision\",\"base_amount\":\"0.01\",\"effective_from\":\"2026-01-01\"}}',
                     'forged', 'approved', '{proposer}', '{approver}', now(), now())"
        ),
    )
    .await;
    refused(
        &mut conn,
        me,
        "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status)
         VALUES ('CA', 'collision', 0.01, daterange(current_date, NULL), 'active')",
    )
    .await;
    // Every discount to 50 %, every surcharge off, every active CA rate closed.
    no_effect(&mut conn, me, "UPDATE discount_rules SET percent = 50").await;
    no_effect(&mut conn, me, "UPDATE surcharge_rules SET active = false").await;
    no_effect(
        &mut conn,
        me,
        "UPDATE base_rates SET effective = daterange(lower(effective), current_date) WHERE state_code = 'CA' AND status = 'active'",
    )
    .await;
    no_effect(&mut conn, me, "UPDATE territory_factors SET factor = 0.5").await;
    // Link an SSO identity to another user's account; change another customer's e-mail.
    let provider: Uuid = sqlx::query_scalar(
        "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata, enabled)
         VALUES ('corp-saml', 'saml', 'https://idp.example.com', 'quotedb', '{}', true) RETURNING id",
    )
    .fetch_one(db.pool())
    .await
    .expect("a provider");
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO user_identities (provider_id, subject, user_id) VALUES ('{provider}', 'evil', '{}')",
            w.victim
        ),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!("UPDATE users SET email = 'mine@example.com' WHERE id = '{}'", w.victim),
    )
    .await;
    no_effect(&mut conn, me, "UPDATE sso_providers SET enabled = false").await;
    refused(
        &mut conn,
        me,
        "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata, enabled)
         VALUES ('evil-idp', 'saml', 'https://evil.example.com', 'x', '{}', true)",
    )
    .await;
    // Read another customer's account, drivers and quotes without claiming to be them.
    for (read, own_rows) in [
        ("SELECT * FROM users", 1),
        ("SELECT * FROM drivers", 0),
        ("SELECT * FROM quotes", 0),
        ("SELECT * FROM user_identities", 0),
        ("SELECT * FROM audit_logs", 0),
    ] {
        let mut tx = conn.begin().await.expect("begin");
        sqlx::query("SELECT set_config('app.user_id', $1, true)")
            .bind(w.attacker.to_string())
            .execute(&mut *tx)
            .await
            .expect("claim");
        let rows = sqlx::query(read).fetch_all(&mut *tx).await.expect(read);
        assert_eq!(rows.len(), own_rows, "{read}: only the attacker's own rows");
        tx.rollback().await.expect("rollback");
    }

    // Holding the permission is what opens the door: the all-powerful admin may.
    let allowed = attempt(
        &mut conn,
        Some(w.all_powerful_admin),
        "UPDATE discount_rules SET percent = percent",
    )
    .await;
    assert!(
        matches!(allowed, Ok(n) if n > 0),
        "rating_rules:manage updates rules: {allowed:?}"
    );
}

/// Every table the application may change: an UPDATE and a DELETE of every row, claimed as a
/// customer who owns none of them, changes nothing - except the service tables, which the
/// platform's services write as themselves (docs/security.md).
#[tokio::test]
async fn a_customer_changes_no_row_that_is_not_theirs_in_any_table() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let service = ["websocket_connections", "analytics_events", "realtime_metrics"];
    let writable: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text,
                (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                    AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
                    AND has_column_privilege('quotedb_app', c.oid, a.attnum, 'UPDATE') ORDER BY a.attnum LIMIT 1)
         FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND (has_any_column_privilege('quotedb_app', c.oid, 'UPDATE') OR has_table_privilege('quotedb_app', c.oid, 'DELETE'))
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("writable tables");
    assert!(writable.len() >= 10, "{writable:?}");
    for (table, column) in writable {
        if service.contains(&table.as_str()) {
            continue;
        }
        if let Some(column) = column {
            no_effect(
                &mut conn,
                Some(w.attacker),
                &format!("UPDATE {table} SET {column} = {column}"),
            )
            .await;
        }
        no_effect(&mut conn, Some(w.attacker), &format!("DELETE FROM {table}")).await;
    }
}

#[tokio::test]
async fn the_reference_data_generation_moves_only_with_a_real_change() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.attacker);
    let generation = || async {
        sqlx::query_scalar::<_, i64>("SELECT generation FROM reference_data_generation")
            .fetch_one(db.pool())
            .await
            .expect("generation")
    };
    let before = generation().await;
    // Rewinding it (so caches accept stale prices) or bumping it (so every cache reloads).
    refused(&mut conn, me, "UPDATE reference_data_generation SET generation = 1").await;
    refused(&mut conn, me, "DELETE FROM reference_data_generation").await;
    refused(
        &mut conn,
        me,
        "INSERT INTO reference_data_generation VALUES (false, 1, now())",
    )
    .await;
    // A statement row level security leaves without rows changes nothing, so bumps nothing.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(w.attacker.to_string())
        .execute(&mut *tx)
        .await
        .expect("claim");
    let changed = sqlx::query("UPDATE discount_rules SET percent = 50")
        .execute(&mut *tx)
        .await
        .expect("an update RLS empties")
        .rows_affected();
    assert_eq!(changed, 0);
    let seen: i64 = sqlx::query_scalar("SELECT generation FROM reference_data_generation")
        .fetch_one(&mut *tx)
        .await
        .expect("generation in the transaction");
    assert_eq!(seen, before, "no rows changed, no bump");
    tx.commit().await.expect("commit");
    // Only the non-sensitive settings come out of public_settings().
    let sensitive: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM public_settings() p JOIN (SELECT key FROM system_settings WHERE is_sensitive) s USING (key)",
    )
    .fetch_one(db.pool())
    .await
    .expect("public settings");
    assert_eq!(sensitive, 0);
    let via_login: Vec<String> = sqlx::query_scalar("SELECT key FROM public_settings()")
        .fetch_all(&mut conn)
        .await
        .expect("the login reads the public settings");
    assert!(!via_login.is_empty());
    assert_eq!(generation().await, before);
}
