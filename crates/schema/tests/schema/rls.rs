//! Row Level Security of migration 0006, seen the way the repository runs:
//! `BEGIN; SET LOCAL ROLE quotedb_app; SELECT set_config('app.user_id', …, true); …; ROLLBACK`.
//! Fixtures are written by the test's superuser connection, which bypasses RLS.

use crate::common::{acting_as, two_settings, user};
use quotedb_testkit::TestDb;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Users (users.id): two customers, an agent, an admin holding every permission the policies
/// check, and an admin holding none. Quotes: two of carol's (one assigned to frank), one of dave's.
struct World {
    carol: Uuid,
    dave: Uuid,
    frank: Uuid,
    boss: Uuid,
    clerk: Uuid,
    carols_quote: Uuid,
    daves_quote: Uuid,
}

async fn admin(pool: &PgPool, email: &str, role_id: Uuid) -> Uuid {
    let id = user(pool, email, "agent").await;
    sqlx::query("INSERT INTO admin_users (user_id, role_id, mfa_required) VALUES ($1, $2, true)")
        .bind(id)
        .bind(role_id)
        .execute(pool)
        .await
        .expect("admin");
    id
}

async fn quote(pool: &PgPool, customer: Uuid, agent: Option<Uuid>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO quotes (customer_id, agent_id, state_code, zip, effective_date, expires_at, metadata)
         VALUES ($1, $2, 'CA', '90001', current_date + 1, now() + interval '30 days', '{}') RETURNING id",
    )
    .bind(customer)
    .bind(agent)
    .fetch_one(pool)
    .await
    .expect("quote")
}

async fn world(pool: &PgPool) -> World {
    sqlx::query("INSERT INTO states (code, name) VALUES ('CA', 'California') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .expect("state");
    let all = quotedb_schema::admin::permissions::ALL;
    let boss_role: Uuid = sqlx::query_scalar(
        "WITH r AS (INSERT INTO admin_roles (name, description) VALUES ('boss', 'all of it') RETURNING id),
              p AS (INSERT INTO admin_permissions (code, description, risk_level)
                    SELECT code, code, 'high' FROM unnest($1::text[]) code RETURNING id),
              g AS (INSERT INTO admin_role_permissions (role_id, permission_id) SELECT r.id, p.id FROM r, p)
         SELECT id FROM r",
    )
    .bind(all)
    .fetch_one(pool)
    .await
    .expect("boss role");
    let clerk_role: Uuid =
        sqlx::query_scalar("INSERT INTO admin_roles (name, description) VALUES ('clerk', 'nothing') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("clerk role");
    let (carol, dave) = (
        user(pool, "carol@example.com", "customer").await,
        user(pool, "dave@example.com", "customer").await,
    );
    let frank = user(pool, "frank@example.com", "agent").await;
    let (boss, clerk) = (
        admin(pool, "boss@example.com", boss_role).await,
        admin(pool, "clerk@example.com", clerk_role).await,
    );
    let carols_quote = quote(pool, carol, Some(frank)).await;
    quote(pool, carol, None).await;
    let daves_quote = quote(pool, dave, None).await;
    two_settings(pool).await;
    sqlx::query(
        "INSERT INTO user_sessions (user_id, token_hash, expires_at)
         SELECT id, sha256(convert_to(email::text, 'UTF8')), now() + interval '1 day' FROM users WHERE id = ANY($1)",
    )
    .bind(&[carol, dave][..])
    .execute(pool)
    .await
    .expect("sessions");
    World {
        carol,
        dave,
        frank,
        boss,
        clerk,
        carols_quote,
        daves_quote,
    }
}

async fn count(conn: &mut PgConnection, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.expect(sql)
}

async fn touched(conn: &mut PgConnection, sql: &'static str, id: Uuid) -> u64 {
    sqlx::query(sql)
        .bind(id)
        .execute(conn)
        .await
        .expect(sql)
        .rows_affected()
}

/// The error of a write to a column the application has no privilege on (0007).
async fn refused_by_grant(conn: &mut PgConnection, sql: &'static str, id: Uuid) {
    let err = sqlx::query(sql).bind(id).execute(conn).await.expect_err(sql);
    assert!(err.to_string().contains("permission denied"), "{sql}: {err}");
}

/// The error of a write refused by a policy's WITH CHECK.
async fn refused_by_policy(conn: &mut PgConnection, sql: &'static str, id: Uuid) {
    let err = sqlx::query(sql).bind(id).execute(conn).await.expect_err(sql);
    assert!(err.to_string().contains("row-level security"), "{sql}: {err}");
}

#[tokio::test]
async fn a_customer_reads_only_their_own_quotes() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    let owners: Vec<Uuid> = sqlx::query_scalar("SELECT customer_id FROM quotes")
        .fetch_all(&mut *tx)
        .await
        .expect("quotes");
    assert_eq!(owners, vec![w.carol, w.carol]);
}

#[tokio::test]
async fn a_customer_cannot_change_or_take_another_customers_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    let cancel = "UPDATE quotes SET status = 'cancelled' WHERE id = $1";
    assert_eq!(
        touched(&mut tx, cancel, w.daves_quote).await,
        0,
        "dave's quote is invisible to carol"
    );
    assert_eq!(
        touched(&mut tx, cancel, w.carols_quote).await,
        1,
        "her own quote changes"
    );
    // Who a quote belongs to is not a column the application may write at all (0007).
    refused_by_grant(
        &mut tx,
        "UPDATE quotes SET customer_id = $1 WHERE customer_id = app_user_id()",
        w.dave,
    )
    .await;
}

#[tokio::test]
async fn a_customer_creates_quotes_only_for_themselves() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let insert = "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                  VALUES ($1, 'CA', '90001', current_date, now() + interval '1 day', '{}')";
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    refused_by_policy(&mut tx, insert, w.dave).await;
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    assert_eq!(touched(&mut tx, insert, w.carol).await, 1);
}

#[tokio::test]
async fn an_agent_sees_only_the_quotes_assigned_to_them() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = acting_as(db.pool(), Some(w.frank)).await;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM quotes")
        .fetch_all(&mut *tx)
        .await
        .expect("quotes");
    assert_eq!(ids, vec![w.carols_quote]);
    refused_by_grant(
        &mut tx,
        "UPDATE quotes SET agent_id = NULL WHERE id = $1",
        w.carols_quote,
    )
    .await;
}

#[tokio::test]
async fn only_admins_holding_quotes_read_see_every_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let sql = "SELECT count(*) FROM quotes";
    assert_eq!(count(&mut *acting_as(db.pool(), Some(w.boss)).await, sql).await, 3);
    assert_eq!(count(&mut *acting_as(db.pool(), Some(w.clerk)).await, sql).await, 0);
}

#[tokio::test]
async fn without_an_acting_user_nothing_is_visible_and_the_system_sees_everything() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    world(db.pool()).await;
    let sql = "SELECT (SELECT count(*) FROM quotes) + (SELECT count(*) FROM system_settings) + (SELECT count(*) FROM user_sessions)";
    let mut tx = acting_as(db.pool(), None).await;
    assert_eq!(count(&mut tx, sql).await, 0);
    // The setting that made a session the system up to 0006 changes nothing any more.
    sqlx::query("SELECT set_config('app.system', 'on', true)")
        .execute(&mut *tx)
        .await
        .expect("the old system switch");
    assert_eq!(count(&mut tx, sql).await, 0);
    // The system is a role (0007).
    sqlx::query("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("system role");
    assert_eq!(count(&mut tx, sql).await, 3 + 2 + 2);
}

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

#[tokio::test]
async fn a_user_sees_and_revokes_only_their_own_sessions() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let revoke = "UPDATE user_sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE user_id = $1";
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    assert_eq!(count(&mut tx, "SELECT count(*) FROM user_sessions").await, 1);
    assert_eq!(touched(&mut tx, revoke, w.dave).await, 0);
    assert_eq!(touched(&mut tx, revoke, w.carol).await, 1);
    let mut tx = acting_as(db.pool(), Some(w.boss)).await;
    assert_eq!(
        touched(&mut tx, revoke, w.dave).await,
        1,
        "sessions:manage revokes any session"
    );
}

#[tokio::test]
async fn an_oauth_client_is_managed_by_its_owner_and_by_admins_holding_the_permission() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    sqlx::query(
        "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id)
         VALUES ('carols-app', 'Carol''s app', '{https://app.example.com/cb}', '{quotes.read}', '{authorization_code}', $1)",
    )
    .bind(w.carol)
    .execute(db.pool())
    .await
    .expect("client");
    let revoke = "UPDATE oauth2_clients SET revoked_at = now() WHERE owner_user_id = $1";
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.dave)).await, revoke, w.carol).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.clerk)).await, revoke, w.carol).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.carol)).await, revoke, w.carol).await,
        1
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.boss)).await, revoke, w.carol).await,
        1
    );
    let give_away = "UPDATE oauth2_clients SET owner_user_id = $1 WHERE client_id = 'carols-app'";
    // Who owns a client is not a column the application may write (0007).
    refused_by_grant(&mut *acting_as(db.pool(), Some(w.carol)).await, give_away, w.dave).await;
}

#[tokio::test]
async fn an_admin_sees_their_own_account_and_cannot_promote_themselves() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = acting_as(db.pool(), Some(w.clerk)).await;
    let visible: Vec<Uuid> = sqlx::query_scalar("SELECT user_id FROM admin_users")
        .fetch_all(&mut *tx)
        .await
        .expect("admins");
    assert_eq!(visible, vec![w.clerk]);
    let promote =
        "UPDATE admin_users SET role_id = (SELECT id FROM admin_roles WHERE name = 'boss') WHERE user_id = $1";
    assert_eq!(touched(&mut tx, promote, w.clerk).await, 0);
    let mut tx = acting_as(db.pool(), Some(w.boss)).await;
    assert_eq!(
        count(&mut tx, "SELECT count(*) FROM admin_users").await,
        2,
        "admin_users:manage sees every admin"
    );
    assert_eq!(
        touched(&mut tx, promote, w.boss).await,
        0,
        "not even a manager changes their own account"
    );
    assert_eq!(
        touched(&mut tx, promote, w.clerk).await,
        1,
        "a manager changes another admin"
    );
    assert_eq!(
        count(
            &mut *acting_as(db.pool(), Some(w.carol)).await,
            "SELECT count(*) FROM admin_users"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_admin_logs_activity_only_under_their_own_id_and_reads_only_their_own() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let admin_id = |user: Uuid| {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM admin_users WHERE user_id = $1")
            .bind(user)
            .fetch_one(db.pool())
    };
    let (clerk, boss) = (
        admin_id(w.clerk).await.expect("clerk"),
        admin_id(w.boss).await.expect("boss"),
    );
    let log =
        "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, details, risk_score, risk_factors)
               VALUES ($1, 'settings.read', 'system_setting', '{}', 5, '[]')";
    let mut tx = acting_as(db.pool(), Some(w.clerk)).await;
    assert_eq!(touched(&mut tx, log, clerk).await, 1);
    tx.commit().await.expect("commit");
    sqlx::query(log)
        .bind(boss)
        .execute(db.pool())
        .await
        .expect("boss entry (superuser)");
    let mut tx = acting_as(db.pool(), Some(w.clerk)).await;
    assert_eq!(
        count(&mut tx, "SELECT count(*) FROM admin_activity_logs").await,
        1,
        "own activity only"
    );
    refused_by_policy(&mut tx, log, boss).await;
    refused_by_policy(&mut *acting_as(db.pool(), Some(w.carol)).await, log, clerk).await;
    assert_eq!(
        count(
            &mut *acting_as(db.pool(), Some(w.boss)).await,
            "SELECT count(*) FROM admin_activity_logs"
        )
        .await,
        2
    );
}

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

#[tokio::test]
async fn quote_versions_and_coverages_are_as_visible_as_their_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let pool = db.pool();
    let ann = user(pool, "ann@example.com", "customer").await;
    let bob = user(pool, "bob@example.com", "customer").await;
    sqlx::query("INSERT INTO states (code, name) VALUES ('XV', 'Versionland')")
        .execute(pool)
        .await
        .expect("state");
    let mut tx = pool.begin().await.expect("begin");
    let quote: Uuid = sqlx::query_scalar(
        "INSERT INTO quotes (customer_id, state_code, zip, status, premium, current_version, effective_date, expires_at, metadata)
         VALUES ($1, 'XV', '12345', 'rated', 100.00, 1, current_date, now() + interval '30 days', '{}') RETURNING id",
    )
    .bind(ann)
    .fetch_one(&mut *tx)
    .await
    .expect("quote");
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 1, 100.00, '{}', '{}')",
    )
    .bind(quote)
    .execute(&mut *tx)
    .await
    .expect("version");
    sqlx::query(
        "INSERT INTO quote_coverages (quote_id, coverage_type, deductible, premium) VALUES ($1, 'collision', 500, 100)",
    )
    .bind(quote)
    .execute(&mut *tx)
    .await
    .expect("coverage");
    tx.commit().await.expect("commit");

    for (who, expected) in [(ann, 1_i64), (bob, 0)] {
        let mut tx = acting_as(pool, Some(who)).await;
        let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM quote_versions")
            .fetch_one(&mut *tx)
            .await
            .expect("versions");
        let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM quote_coverages")
            .fetch_one(&mut *tx)
            .await
            .expect("coverages");
        assert_eq!(
            (versions, lines),
            (expected, expected),
            "visibility follows the quote's owner"
        );
        tx.rollback().await.expect("rollback");
    }
}

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
