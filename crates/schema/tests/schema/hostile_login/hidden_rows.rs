//! 9. Hiding a row from the rules (found by review)

use super::*;

/// Rule triggers that looked the quote up under the caller's row level security passed when the
/// caller made the quote invisible (clearing app.user_id before COMMIT, or inside the statement).
#[tokio::test]
async fn hiding_a_quote_from_its_rules_changes_nothing() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let quote = w.victim_quote;

    // A premium changed without a version, the claim cleared before COMMIT.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(w.victim.to_string())
        .execute(&mut *tx)
        .await
        .expect("claim");
    let changed = sqlx::query("UPDATE quotes SET premium = 0.01 WHERE id = $1")
        .bind(quote)
        .execute(&mut *tx)
        .await
        .expect("the column is the application's")
        .rows_affected();
    assert_eq!(changed, 1);
    sqlx::query("SELECT set_config('app.user_id', '', true)")
        .execute(&mut *tx)
        .await
        .expect("clear the claim");
    let err = tx.commit().await.expect_err("the deferred rule still sees the quote");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("quotes_current_version_in_step")
    );

    // A line of a rated quote deleted with the claim cleared mid-statement.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!(
            "DELETE FROM quote_coverages c WHERE c.quote_id = '{quote}'
               AND (set_config('app.user_id', '', true) || c.id::text) IS NOT NULL"
        ),
    )
    .await;
    assert!(err.contains("keeps its lines"), "{err}");
    // The priced cover of a rated quote: the limit is not the customer's to raise.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!("UPDATE quote_coverages SET limit_amount = 5000000, deductible = 0 WHERE quote_id = '{quote}'"),
    )
    .await;
    assert!(err.contains("only the premium changes"), "{err}");
    let premium: rust_decimal::Decimal = sqlx::query_scalar("SELECT premium FROM quotes WHERE id = $1")
        .bind(quote)
        .fetch_one(db.pool())
        .await
        .expect("premium");
    assert_eq!(premium, rust_decimal::Decimal::new(100_000, 2));
}

/// The notification queue holds reset links and addresses: the application queues, it does not
/// read or redirect other people's notifications.
#[tokio::test]
async fn the_notification_queue_is_not_readable_or_writable_by_the_application() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    sqlx::query(
        "INSERT INTO notification_queue (channel, recipient_user_id, template, payload, priority, max_attempts)
         VALUES ('email', $1, 'auth.password_reset', '{\"link\": \"https://example.com/reset?token=secret\"}', 5, 3)",
    )
    .bind(w.victim)
    .execute(db.pool())
    .await
    .expect("the victim's reset mail");
    let mut conn = connect(&db, APP_LOGIN).await;
    for who in [None, Some(w.attacker)] {
        let mut tx = conn.begin().await.expect("begin");
        sqlx::query("SELECT set_config('app.user_id', $1, true)")
            .bind(who.map(|u| u.to_string()).unwrap_or_default())
            .execute(&mut *tx)
            .await
            .expect("claim");
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_queue")
            .fetch_one(&mut *tx)
            .await
            .expect("read");
        assert_eq!(seen, 0, "{who:?} sees no one else's notification");
        tx.rollback().await.expect("rollback");
    }
    refused(
        &mut conn,
        None,
        "UPDATE notification_queue SET recipient_address = 'attacker@evil.example' WHERE template = 'auth.password_reset'",
    )
    .await;
    refused(
        &mut conn,
        None,
        "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
         VALUES ('email', 'x@example.com', 'x.y', '{}', 1, 1)",
    )
    .await;
    // Queueing goes through enqueue_notifications().
    let queued = attempt(
        &mut conn,
        None,
        &format!(
            "SELECT * FROM enqueue_notifications(ARRAY['email']::notification_channel[], ARRAY['{}']::uuid[], ARRAY[NULL]::text[],
                                                 ARRAY['quote.ready'], ARRAY['{{}}']::jsonb[], ARRAY[1]::int2[], ARRAY[NULL]::int2[],
                                                 ARRAY[NULL]::timestamptz[])",
            w.victim
        ),
    )
    .await;
    assert!(matches!(queued, Ok(1)), "{queued:?}");
}

#[tokio::test]
async fn the_one_round_trip_rerate_and_pages_keep_a_claimed_user_to_their_own_quotes() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.attacker);
    // The victim's terms, re-rating the victim's quote to 1.00, and its place in a page.
    assert!(matches!(
        attempt(
            &mut conn,
            me,
            &format!(
                "SELECT * FROM app_quote_for_rating('{}', '{}')",
                w.attacker, w.victim_quote
            )
        )
        .await,
        Ok(0)
    ));
    let rerate = format!(
        "SELECT * FROM app_rerate_quote('{}', '{}', 1, 1.00, '{{}}', '{{\"x\": 1}}', ARRAY['bodily_injury']::coverage_type[], ARRAY[1.00], NULL)",
        w.attacker, w.victim_quote
    );
    assert!(
        matches!(attempt(&mut conn, me, &rerate).await, Ok(0)),
        "no row: not visible"
    );
    let premium: Option<rust_decimal::Decimal> = sqlx::query_scalar("SELECT premium FROM quotes WHERE id = $1")
        .bind(w.victim_quote)
        .fetch_one(db.pool())
        .await
        .expect("premium");
    assert_eq!(
        premium,
        Some(rust_decimal::Decimal::new(100_000, 2)),
        "the victim's premium is unchanged"
    );
    assert!(matches!(
        attempt(
            &mut conn,
            me,
            &format!(
                "SELECT * FROM app_agent_quotes_page('{}', NULL, NULL, NULL, 10)",
                w.attacker
            )
        )
        .await,
        Ok(0)
    ));
    // The one-round-trip reads by id (0024): the victim's quote, lines and versions stay hidden.
    for read in ["app_quote_by_id", "app_quote_coverages", "app_quote_versions"] {
        let sql = format!("SELECT * FROM {read}('{}', '{}')", w.attacker, w.victim_quote);
        assert!(matches!(attempt(&mut conn, me, &sql).await, Ok(0)), "{sql}");
        // The victim's own id, claimed by the attacker's login, is what the platform vouches for:
        // the function is only as strong as the actor it is given (see docs/security.md), so
        // this checks the scoping, not the claim.
        let sql = format!("SELECT * FROM {read}('{}', '{}')", w.victim, w.victim_quote);
        assert!(matches!(attempt(&mut conn, me, &sql).await, Ok(n) if n >= 1), "{sql}");
    }
}

/// The one-round-trip reads of 0029 switch role and actor themselves: claiming another customer
/// shows none of the victim's rows, and the victim's own claim (or the admin's) shows them.
#[tokio::test]
async fn the_one_round_trip_actor_reads_show_only_what_the_actor_may_see() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let (victim, admin) = (w.victim, w.all_powerful_admin);
    let session: Uuid = sqlx::query_scalar(
        "WITH d AS (INSERT INTO drivers (user_id, first_name, last_name, date_of_birth)
                    VALUES ($1, 'Vic', 'Tim', '1980-01-01')),
              v AS (INSERT INTO vehicles (user_id, vin, make, model, model_year)
                    VALUES ($1, '1HGCM82633A004352', 'Honda', 'Accord', 2003)),
              c AS (INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id)
                    VALUES ('victim-client', 'Victim', ARRAY['https://victim.example.com/cb'], ARRAY['quotes:read'],
                            ARRAY['authorization_code']::oauth2_grant_type[], $1)),
              a AS (INSERT INTO audit_logs (action, entity_type, entity_id, actor_user_id)
                    VALUES ('user.updated', 'user', $1::text, $1)),
              b AS (INSERT INTO admin_dashboards (admin_user_id, name, layout)
                    SELECT id, 'mine', '{}' FROM admin_users WHERE user_id = $2)
         INSERT INTO user_sessions (user_id, token_hash, expires_at)
         VALUES ($1, sha256('victim-token'), now() + interval '1 hour') RETURNING id",
    )
    .bind(victim)
    .bind(admin)
    .fetch_one(db.pool())
    .await
    .expect("the victim's rows");
    let admin_account: Uuid = sqlx::query_scalar("SELECT id FROM admin_users WHERE user_id = $1")
        .bind(admin)
        .fetch_one(db.pool())
        .await
        .expect("the admin's account");
    let mut conn = connect(&db, APP_LOGIN).await;
    // (call with {actor}, whose own rows they are)
    let reads = [
        (format!("app_user_by_id({{actor}}, '{victim}')"), victim),
        ("app_user_by_email({actor}, 'VICTIM@example.com')".to_string(), victim),
        (format!("app_user_drivers({{actor}}, '{victim}')"), victim),
        (format!("app_user_vehicles({{actor}}, '{victim}')"), victim),
        (format!("app_session_by_id({{actor}}, '{session}')"), victim),
        (format!("app_active_sessions({{actor}}, '{victim}')"), victim),
        ("app_oauth_client({actor}, 'victim-client')".to_string(), victim),
        ("app_oauth_clients({actor})".to_string(), victim),
        (format!("app_admin_user_by_id({{actor}}, '{admin_account}')"), admin),
        (format!("app_admin_user_by_user({{actor}}, '{admin}')"), admin),
        (format!("app_admin_permissions_of({{actor}}, '{admin}')"), admin),
        ("app_admin_dashboards({actor})".to_string(), admin),
        (
            "app_system_setting({actor}, 'security.admin_ip_allowlist')".to_string(),
            admin,
        ),
        (
            format!("app_audit_history({{actor}}, 'user', '{victim}', '-infinity', 'infinity', 0, 10)"),
            admin,
        ),
    ];
    for (call, owner) in &reads {
        let as_attacker = format!(
            "SELECT * FROM {}",
            call.replace("{actor}", &format!("'{}'", w.attacker))
        );
        assert!(
            matches!(attempt(&mut conn, None, &as_attacker).await, Ok(0)),
            "{as_attacker}"
        );
        let as_owner = format!("SELECT * FROM {}", call.replace("{actor}", &format!("'{owner}'")));
        assert!(
            matches!(attempt(&mut conn, None, &as_owner).await, Ok(n) if n >= 1),
            "{as_owner}"
        );
        // A NULL actor is the system role, which the application login cannot switch to.
        let as_system = format!("SELECT * FROM {}", call.replace("{actor}", "NULL"));
        let err = refused(&mut conn, None, &as_system).await;
        assert!(err.contains("permission denied to set role"), "{as_system}: {err}");
    }
    // The attacker reading settings sees the public ones only.
    let sql = format!("SELECT * FROM app_system_settings('{}') WHERE is_sensitive", w.attacker);
    assert!(matches!(attempt(&mut conn, None, &sql).await, Ok(0)), "{sql}");
    // The functions put back the role and actor they found: a transaction claiming the attacker
    // still claims the attacker (and is still quotedb_app's) after reading as the victim.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(w.attacker.to_string())
        .execute(&mut *tx)
        .await
        .expect("claim");
    let found: i64 = sqlx::query_scalar("SELECT count(*) FROM app_user_by_id($1, $1)")
        .bind(victim)
        .fetch_one(&mut *tx)
        .await
        .expect("read as the victim");
    assert_eq!(found, 1);
    let (user, role): (String, String) = sqlx::query_as("SELECT current_setting('app.user_id'), current_user::text")
        .fetch_one(&mut *tx)
        .await
        .expect("after the read");
    assert_eq!((user, role), (w.attacker.to_string(), APP_LOGIN.to_string()));
    tx.rollback().await.expect("rollback");
}

/// users.email_key (0026) is the lookup key of `app_user_by_email`: a login that writes its own
/// key cannot make an account unfindable by its address, nor findable by another's.
#[tokio::test]
async fn a_forged_email_key_is_replaced_by_the_address_itself() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Uuid::new_v4();
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(me.to_string())
        .execute(&mut *tx)
        .await
        .expect("claim");
    sqlx::query(
        "INSERT INTO users (id, email, full_name, role, email_key)
         VALUES ($1, 'Signed.Up@Example.com', 'Signed Up', 'customer', 'victim@example.com')",
    )
    .bind(me)
    .execute(&mut *tx)
    .await
    .expect("self sign-up");
    tx.commit().await.expect("commit");
    let key: String = sqlx::query_scalar("SELECT email_key FROM users WHERE id = $1")
        .bind(me)
        .fetch_one(db.pool())
        .await
        .expect("the new account");
    assert_eq!(key, "signed.up@example.com");
    // By address, any case: the new account; the victim's address still finds the victim.
    let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app_user_by_email($1, 'SIGNED.UP@example.com')")
        .bind(me)
        .fetch_all(&mut conn)
        .await
        .expect("lookup by address");
    assert_eq!(found, vec![me]);
    let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app_user_by_email($1, 'victim@example.com')")
        .bind(w.victim)
        .fetch_all(&mut conn)
        .await
        .expect("lookup by address");
    assert_eq!(found, vec![w.victim]);
}
