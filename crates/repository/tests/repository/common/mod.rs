//! Helpers shared by the repository's integration tests.

pub mod admins;
pub mod rates;

use quotedb_repository::{Db, UserId};
use quotedb_testkit::TestDb;
use sqlx::PgPool;

/// A fresh seeded database and a repository handle on it.
pub async fn setup() -> (TestDb, Db) {
    let tdb = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let db = Db::new(tdb.pool().clone());
    (tdb, db)
}

/// A new customer with a unique e-mail.
pub async fn user(pool: &PgPool) -> Result<UserId, sqlx::Error> {
    let email = format!("u{}@example.com", uuid::Uuid::new_v4().simple());
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, full_name, role) VALUES ($1, 'Test User', 'customer') RETURNING id",
    )
    .bind(email)
    .fetch_one(pool)
    .await?;
    Ok(UserId(id))
}

/// Upsert a non-sensitive setting (robust to seeds being present).
pub async fn set_setting(pool: &PgPool, key: &str, value: serde_json::Value) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
         VALUES ($1, $2, jsonb_typeof($2)::system_setting_value_type, 'test setting', false)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, value_type = EXCLUDED.value_type",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}
