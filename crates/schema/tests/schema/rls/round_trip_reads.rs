//! the one-round-trip reads

use super::*;

/// Quote ids that a one-round-trip read function returns, called on the pool's own role.
async fn read_through(pool: &PgPool, sql: &'static str, actor: Option<Uuid>, arg: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar(sql)
        .bind(actor)
        .bind(arg)
        .fetch_all(pool)
        .await
        .expect(sql)
}

#[tokio::test]
async fn the_one_round_trip_quote_reads_apply_the_quote_policies_of_their_actor() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let page = "SELECT id FROM app_customer_quotes_page($1, $2, NULL, NULL, 10)";
    assert_eq!(read_through(db.pool(), page, Some(w.carol), w.carol).await.len(), 2);
    assert!(
        read_through(db.pool(), page, Some(w.dave), w.carol).await.is_empty(),
        "another customer sees none of carol's quotes"
    );
    assert_eq!(
        read_through(db.pool(), page, Some(w.frank), w.carol).await,
        vec![w.carols_quote],
        "the agent sees only the quote assigned to him"
    );
    assert_eq!(read_through(db.pool(), page, Some(w.boss), w.carol).await.len(), 2);
    assert!(read_through(db.pool(), page, Some(w.clerk), w.carol).await.is_empty());
    assert_eq!(
        read_through(db.pool(), page, None, w.carol).await.len(),
        2,
        "NULL is the system actor"
    );
    let number: String = sqlx::query_scalar("SELECT quote_number FROM quotes WHERE id = $1")
        .bind(w.daves_quote)
        .fetch_one(db.pool())
        .await
        .expect("number");
    let by_number = |actor: Uuid| {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM app_quote_by_number($1, $2)")
            .bind(actor)
            .bind(number.clone())
            .fetch_all(db.pool())
    };
    assert_eq!(by_number(w.dave).await.expect("dave"), vec![w.daves_quote]);
    assert!(by_number(w.carol).await.expect("carol").is_empty());
}

#[tokio::test]
async fn the_one_round_trip_reads_restore_the_callers_role_and_settings() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(w.dave.to_string())
        .execute(&mut *tx)
        .await
        .expect("caller's own setting");
    let (before_user,): (String,) = sqlx::query_as("SELECT current_user::text")
        .fetch_one(&mut *tx)
        .await
        .expect("user");
    let seen: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app_customer_quotes_page($1, $1, NULL, NULL, 10)")
        .bind(w.carol)
        .fetch_all(&mut *tx)
        .await
        .expect("page");
    assert_eq!(seen.len(), 2, "the function acted as carol");
    let (user, acting, system): (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT current_user::text, current_setting('app.user_id', true), current_setting('app.system', true)",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("after");
    assert_eq!(user, before_user, "the role switch ends with the function");
    assert_eq!(acting, Some(w.dave.to_string()), "the caller's acting user is back");
    assert_ne!(system.as_deref(), Some("on"));
    tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn the_one_round_trip_reads_are_refused_to_a_login_that_cannot_act_as_quotedb_app() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut conn = db.pool().acquire().await.expect("connection");
    // Roles are cluster-wide: created once, concurrent creators tolerated.
    sqlx::query(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quotedb_rls_outsider_test') THEN
                 BEGIN
                     CREATE ROLE quotedb_rls_outsider_test NOLOGIN NOSUPERUSER NOBYPASSRLS;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                 END;
             END IF;
         END $$",
    )
    .execute(&mut *conn)
    .await
    .expect("outsider role");
    let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
    // Even given EXECUTE, the function's SET role clause refuses a session user that is not a
    // member of quotedb_app (SET ROLE checks the session user, hence SESSION AUTHORIZATION here),
    // so the functions are no way around the policies.
    sqlx::query(
        "GRANT EXECUTE ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint)
         TO quotedb_rls_outsider_test",
    )
    .execute(&mut *tx)
    .await
    .expect("grant");
    sqlx::query("SET LOCAL SESSION AUTHORIZATION quotedb_rls_outsider_test")
        .execute(&mut *tx)
        .await
        .expect("session authorization");
    let err = sqlx::query("SELECT id FROM app_customer_quotes_page($1, $1, NULL, NULL, 10)")
        .bind(w.carol)
        .fetch_all(&mut *tx)
        .await
        .expect_err("a non-member cannot switch to quotedb_app");
    assert!(err.to_string().contains("permission denied"), "{err}");
}
