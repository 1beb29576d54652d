//! Helpers shared by the schema tests.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A transaction acting as `user` (None: no acting user) under quotedb_app, the way the repository
/// runs; rolled back when dropped.
pub async fn acting_as(pool: &PgPool, user: Option<Uuid>) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE quotedb_app")
        .execute(&mut *tx)
        .await
        .expect("role");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .expect("acting user");
    tx
}

/// A user with `role` (customer, agent) and `email`, which is also their name.
pub async fn user(pool: &PgPool, email: &str, role: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO users (email, full_name, role) VALUES ($1, $1, $2::user_role) RETURNING id")
        .bind(email)
        .bind(role)
        .fetch_one(pool)
        .await
        .expect("user")
}

/// Two settings: rating.discount_cap (0.25, not sensitive) and integrations.partner_api_key
/// ("s3cret", sensitive).
pub async fn two_settings(pool: &PgPool) {
    sqlx::query(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive) VALUES
         ('rating.discount_cap', '0.25', 'number', 'cap on stackable discounts', false),
         ('integrations.partner_api_key', '\"s3cret\"', 'string', 'partner API key', true)",
    )
    .execute(pool)
    .await
    .expect("settings");
}
