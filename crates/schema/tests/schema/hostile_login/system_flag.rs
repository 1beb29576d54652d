//! 2. "System" is not a setting

use super::*;

/// `sql`'s count with `app.system = on` (the switch of releases up to 0006), claiming `user`.
async fn count_with_the_old_switch(conn: &mut PgConnection, user: Uuid, sql: &'static str) -> i64 {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL app.system = 'on'; SELECT set_config('app.user_id', '{user}', true)"
    )))
    .execute(&mut *tx)
    .await
    .expect("the old switch");
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.expect(sql);
    tx.rollback().await.expect("rollback");
    n
}

#[tokio::test]
async fn the_application_login_cannot_make_itself_the_system() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;

    // What releases up to 0006 honoured: app.system = on showed every quote and session.
    assert_eq!(
        count_with_the_old_switch(&mut conn, w.attacker, "SELECT count(*) FROM quotes").await,
        0
    );
    assert_eq!(
        count_with_the_old_switch(
            &mut conn,
            w.attacker,
            "SELECT count(*) FROM system_settings WHERE is_sensitive"
        )
        .await,
        0,
        "no sensitive setting"
    );
    let everything: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(everything, 1, "the victim's quote exists");

    refused(&mut conn, None, "SET LOCAL ROLE quotedb_system").await;
    refused(&mut conn, None, "SET LOCAL ROLE quotedb_owner").await;
    // A NULL acting user in the one-round-trip functions was the system actor.
    for call in [
        format!("SELECT * FROM app_quote_by_number(NULL, '{}')", w.victim_number),
        format!(
            "SELECT * FROM app_customer_quotes_page(NULL, '{}', NULL, NULL, 10)",
            w.victim
        ),
        "SELECT * FROM app_high_risk_activity_page(NULL, 'infinity', 0, 10)".to_string(),
        format!("SELECT * FROM app_quote_for_rating(NULL, '{}')", w.victim_quote),
        format!("SELECT * FROM app_quote_by_id(NULL, '{}')", w.victim_quote),
        format!("SELECT * FROM app_quote_coverages(NULL, '{}')", w.victim_quote),
        format!("SELECT * FROM app_quote_versions(NULL, '{}')", w.victim_quote),
        format!(
            "SELECT * FROM app_agent_quotes_page(NULL, '{}', NULL, NULL, 10)",
            w.victim
        ),
        format!(
            "SELECT * FROM app_rerate_quote(NULL, '{}', 1, 1.00, '{{}}', '{{}}', '{{}}', '{{}}', NULL)",
            w.victim_quote
        ),
        format!(
            "SELECT * FROM app_create_quote(NULL, '{}', NULL, 'CA', '90001', 1000.00, current_date + 7, '{{}}', '{{}}', \
             '{{}}', ARRAY['bodily_injury']::coverage_type[], ARRAY[100000.00], ARRAY[0.00], ARRAY[1000.00], NULL)",
            w.victim
        ),
    ] {
        let err = refused(&mut conn, None, &call).await;
        assert!(err.contains("permission denied to set role"), "{call}: {err}");
    }
    // A worker login holding quotedb_system is the system.
    let mut worker = connect(&db, WORKER_LOGIN).await;
    let found = attempt(
        &mut worker,
        None,
        &format!("SELECT * FROM app_quote_by_number(NULL, '{}')", w.victim_number),
    )
    .await;
    assert!(matches!(found, Ok(1)), "the system actor sees the quote: {found:?}");
}
