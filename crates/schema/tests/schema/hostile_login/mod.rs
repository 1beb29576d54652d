//! The database holds against its own application login.
//!
//! Every test here connects as a LOGIN that is a member of `quotedb_app` (the role production's
//! application login has; think SQL injection in a service, or a compromised service) - and, where
//! maintenance is the target, as a worker login holding `quotedb_system` - and tries, through raw
//! SQL, the attacks that succeeded against releases 0001-0006. Each attack is first shown to be
//! meaningful (the shape that worked, or the hostile object really in effect), then refused or
//! without effect. Acting users are *claimed* (`set_config('app.user_id', …)`): the trust model
//! (docs/security.md) allows a compromised login to claim any user, and these tests show what it
//! still cannot do.
//!
//! One attack class per file: 1. `temp_schema_escalation`, 2. `system_flag`,
//! 3. `shadowed_rule_triggers`, 4. `writes_without_permission`, 5. `frozen_columns`,
//! 6. `audit_trail`, 7. `catalog`, 8. `unreadable_values`, 9. `hidden_rows`, 10. `transitional`; the logins, the
//! attempt helpers and the world they attack are here.

use quotedb_testkit::TestDb;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection, Row as _};
use uuid::Uuid;

mod audit_trail;
mod catalog;
mod frozen_columns;
mod hidden_rows;
mod shadowed_rule_triggers;
mod system_flag;
mod temp_schema_escalation;
mod transitional;
mod unreadable_values;
mod writes_without_permission;

/// A login holding only `quotedb_app`: the application's own.
const APP_LOGIN: &str = "quotedb_hostile_app";
/// A login holding `quotedb_app` and `quotedb_system`: a worker's.
const WORKER_LOGIN: &str = "quotedb_hostile_worker";
/// Password of both logins (ignored by a trust-auth cluster, needed on a password-auth server).
const PASSWORD: &str = "hostile-login-test";

/// The two test logins exist (cluster-wide, created once, reused).
async fn ensure_logins(db: &TestDb) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_LOGIN}') THEN
                 BEGIN CREATE ROLE {APP_LOGIN} LOGIN PASSWORD '{PASSWORD}';
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
             END IF;
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WORKER_LOGIN}') THEN
                 BEGIN CREATE ROLE {WORKER_LOGIN} LOGIN PASSWORD '{PASSWORD}';
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
             END IF;
         END $$;
         GRANT quotedb_app TO {APP_LOGIN};
         GRANT quotedb_app, quotedb_system TO {WORKER_LOGIN};"
    )))
    .execute(db.pool())
    .await
    .expect("test logins");
}

async fn connect(db: &TestDb, login: &str) -> PgConnection {
    ensure_logins(db).await;
    let options: PgConnectOptions = db.url().parse().expect("test database url");
    PgConnection::connect_with(&options.username(login).password(PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("connect as {login}: {e}"))
}

/// Run `sql` in a transaction claiming `user` (None: no acting user), check the deferred rules
/// as COMMIT would, then roll back: the outcome is the rows affected, or the error.
async fn attempt(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) -> Result<u64, sqlx::Error> {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .expect("claim an acting user");
    let mut outcome = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .map(|r| r.rows_affected());
    if outcome.is_ok() {
        // What COMMIT would check: the deferred rules run now (the attempt is rolled back).
        if let Err(e) = sqlx::query("SET CONSTRAINTS ALL IMMEDIATE").execute(&mut *tx).await {
            outcome = Err(e);
        }
    }
    tx.rollback().await.expect("rollback");
    outcome
}

/// `attempt` must fail with a privilege error (42501: no grant, or row level security) or a
/// business rule; returns the error text.
async fn refused(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) -> String {
    match attempt(conn, user, sql).await {
        Ok(rows) => panic!("not refused ({rows} rows): {sql}"),
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
            assert!(
                matches!(code.as_deref(), Some("42501" | "23514" | "22023")),
                "{sql}: refused for the wrong reason: {e}"
            );
            e.to_string()
        }
    }
}

/// `attempt` must change nothing: refused, or zero rows.
async fn no_effect(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) {
    match attempt(conn, user, sql).await {
        Ok(0) => {}
        Ok(rows) => panic!("{rows} rows changed: {sql}"),
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
            assert!(
                matches!(code.as_deref(), Some("42501" | "23514")),
                "{sql}: failed for the wrong reason: {e}"
            );
        }
    }
}

struct World {
    /// A customer with a rated quote: the victim.
    victim: Uuid,
    victim_quote: Uuid,
    victim_number: String,
    /// Another customer: who the attacker claims to be.
    attacker: Uuid,
    /// An active admin whose role holds every permission (claimed where a test needs a
    /// legitimate admin to trigger owner-run code).
    all_powerful_admin: Uuid,
}

async fn world(db: &TestDb) -> World {
    let pool = db.pool();
    let customer = |email: &'static str| async move {
        sqlx::query_scalar::<_, Uuid>(
            "INSERT INTO users (email, full_name, role) VALUES ($1, $1, 'customer') RETURNING id",
        )
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("customer")
    };
    let victim = customer("victim@example.com").await;
    let attacker = customer("attacker@example.com").await;
    let row = sqlx::query(
        "SELECT id, quote_number FROM app_create_quote($1, $1, NULL, 'CA', '90001', 1000.00, current_date + 7,
                 '{}', '{}', '{}', ARRAY['bodily_injury']::coverage_type[], ARRAY[100000.00], ARRAY[0.00], ARRAY[1000.00])",
    )
    .bind(victim)
    .fetch_one(pool)
    .await
    .expect("the victim's rated quote");
    let all_powerful_admin: Uuid = sqlx::query_scalar(
        "WITH r AS (INSERT INTO admin_roles (name, description) VALUES ('hostile_test_all', 'holds everything') RETURNING id),
              g AS (INSERT INTO admin_role_permissions (role_id, permission_id) SELECT r.id, p.id FROM r, admin_permissions p),
              u AS (INSERT INTO users (email, full_name, role) VALUES ('root@example.com', 'Root', 'agent') RETURNING id)
         INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT u.id, r.id, true FROM u, r RETURNING user_id",
    )
    .fetch_one(pool)
    .await
    .expect("an admin holding every permission");
    World {
        victim,
        victim_quote: row.get("id"),
        victim_number: row.get("quote_number"),
        attacker,
        all_powerful_admin,
    }
}

/// The tables and views of the schema (partitions excluded).
async fn public_tables(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT relname::text FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') AND NOT relispartition
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("tables")
}
