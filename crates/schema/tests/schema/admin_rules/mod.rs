//! Rules of migration 0006 on admin roles, permissions, admin users, system settings, the
//! activity log and dashboards: each rule refused with its name, and its valid case accepted.
//! (Rate change requests: `rate_changes`; Row Level Security: `rls`.)
//!
//! The fixtures are here; the tests, by table, in `roles`, `admin_users`, `settings`,
//! `activity_logs` and `dashboards`.

use crate::common::refused;
use quotedb_schema::admin::rules;
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

mod activity_logs;
mod admin_users;
mod dashboards;
mod roles;
mod settings;

async fn user(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO users (email, full_name, role) VALUES ($1, $1, 'agent') RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("insert user")
}

async fn role(pool: &PgPool, name: &str, parent: Option<Uuid>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO admin_roles (name, description, parent_id) VALUES ($1, 'a test role', $2) RETURNING id",
    )
    .bind(name)
    .bind(parent)
    .fetch_one(pool)
    .await
    .expect("insert role")
}

/// An admin account (admin_users.id) for a new user with this e-mail.
async fn admin(pool: &PgPool, email: &str, role_id: Uuid) -> Uuid {
    let user_id = user(pool, email).await;
    sqlx::query_scalar("INSERT INTO admin_users (user_id, role_id, mfa_required) VALUES ($1, $2, true) RETURNING id")
        .bind(user_id)
        .bind(role_id)
        .fetch_one(pool)
        .await
        .expect("insert admin")
}

async fn grant(pool: &PgPool, role_id: Uuid, code: &str) {
    sqlx::query(
        "WITH p AS (INSERT INTO admin_permissions (code, description, risk_level) VALUES ($2, 'test', 'low')
                    ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id)
         INSERT INTO admin_role_permissions (role_id, permission_id) SELECT $1, id FROM p",
    )
    .bind(role_id)
    .bind(code)
    .execute(pool)
    .await
    .expect("grant");
}

async fn has_permission(pool: &PgPool, admin_id: Uuid, code: &str) -> bool {
    sqlx::query_scalar("SELECT admin_has_permission((SELECT user_id FROM admin_users WHERE id = $1), $2)")
        .bind(admin_id)
        .bind(code)
        .fetch_one(pool)
        .await
        .expect("admin_has_permission")
}

/// super_admin (root) > admin > support.
async fn hierarchy(pool: &PgPool) -> (Uuid, Uuid, Uuid) {
    let root = role(pool, "super_admin", None).await;
    let middle = role(pool, "admin", Some(root)).await;
    let leaf = role(pool, "support", Some(middle)).await;
    (root, middle, leaf)
}
