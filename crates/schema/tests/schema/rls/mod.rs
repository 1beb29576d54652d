//! Row Level Security of migration 0006, seen the way the repository runs:
//! `BEGIN; SET LOCAL ROLE quotedb_app; SELECT set_config('app.user_id', …, true); …; ROLLBACK`.
//! Fixtures are written by the test's superuser connection, which bypasses RLS.
//!
//! The world and helpers are here; the tests, by table, in `quotes`, `settings`, `sessions`,
//! `admins` and `round_trip_reads`.

use crate::common::{acting_as, two_settings, user};
use quotedb_testkit::TestDb;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

mod admins;
mod quotes;
mod round_trip_reads;
mod sessions;
mod settings;

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

/// A transaction acting as `user`, and the ids `sql` returns in it (what row level security lets
/// `user` see).
async fn sees(pool: &PgPool, user: Uuid, sql: &'static str) -> (sqlx::Transaction<'static, sqlx::Postgres>, Vec<Uuid>) {
    let mut tx = acting_as(pool, Some(user)).await;
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .fetch_all(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (tx, ids)
}
