//! quotedb's reference data and the deterministic volume generator.
//!
//! The reference data lives in reviewable SQL files under `data/` (applied in order, in one
//! transaction, each idempotent: loading twice changes nothing). Rates are not inserted as
//! active rows: they are proposed through rate change requests that are approved and applied,
//! the same workflow the database enforces for everyone.

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

/// The reference seed files, in the order they are applied.
pub const REFERENCE: &[(&str, &str)] = &[];

/// A fingerprint of the seed data: templates holding seeds carry it in their name.
pub fn fingerprint() -> String {
    let mut hasher = Sha256::new();
    for (name, sql) in REFERENCE {
        hasher.update(name.as_bytes());
        hasher.update(sql.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Apply the reference seeds in one transaction. Idempotent.
pub async fn apply_reference(conn: &mut PgConnection) -> Result<(), SeedError> {
    let mut tx = conn.begin().await?;
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
