//! quotedb's reference data and the deterministic volume generator.
//!
//! The reference data lives in reviewable SQL files under `data/` (applied in order, in one
//! transaction, each idempotent: loading twice changes nothing). Rates are not inserted as
//! active rows: they are proposed through rate change requests that are approved and applied,
//! the same workflow the database enforces for everyone.

pub mod reference;

use sha2::{Digest as _, Sha256};
use sqlx::{Connection as _, Executor as _, PgConnection};

/// Seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A seed file failed to apply; nothing of the seeds was written.
    #[error("seed file {file} failed: {source}")]
    File {
        file: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A database error outside a seed file.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// The reference seed files (`data/`), in the order they are applied.
pub const REFERENCE: &[(&str, &str)] = &[
    ("01_states.sql", include_str!("../data/01_states.sql")),
    (
        "02_admin_roles_permissions.sql",
        include_str!("../data/02_admin_roles_permissions.sql"),
    ),
    (
        "03_system_settings_and_accounts.sql",
        include_str!("../data/03_system_settings_and_accounts.sql"),
    ),
    ("04_rating_rules.sql", include_str!("../data/04_rating_rules.sql")),
    ("05_base_rates.sql", include_str!("../data/05_base_rates.sql")),
    (
        "06_territory_factors.sql",
        include_str!("../data/06_territory_factors.sql"),
    ),
];

/// A fingerprint of the seed data: templates holding seeds carry it in their name.
pub fn fingerprint() -> String {
    let mut hasher = Sha256::new();
    for (name, sql) in REFERENCE {
        hasher.update(name.as_bytes());
        hasher.update(sql.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Apply the reference seeds in one transaction. Idempotent: loading them again changes nothing.
///
/// Runs as the connection's role: a superuser, or a login holding `quotedb_owner` (the owner
/// holds `quotedb_system`, whose `*_system_all` policies let it write the tables under FORCEd
/// row level security). Concurrent loads are serialised by a transaction-level advisory lock.
pub async fn apply_reference(conn: &mut PgConnection) -> Result<(), SeedError> {
    let mut tx = conn.begin().await?;
    // Fixed utility statements (simple protocol, like the seed files): no query macro needed.
    // The lock serialises concurrent loads (two `cargo xtask seed` runs): the seed files'
    // "skip what exists" checks are then exact, and the second load changes nothing.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('quotedb_seeds.reference'))")
        .await?;
    for (file, sql) in REFERENCE {
        tracing::info!(file, "applying seed file");
        // Seed files are multi-statement SQL scripts (simple protocol), not parameterised queries.
        tx.execute(*sql)
            .await
            .map_err(|source| SeedError::File { file, source })?;
    }
    tx.commit().await?;
    Ok(())
}
pub mod volume;
