//! The error of volume generation.

/// Volume generation failed.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The configuration cannot be generated (e.g. a scale that is not a positive number).
    #[error("invalid volume configuration: {0}")]
    InvalidConfig(String),
    /// The database lacks reference data the volume data points at (the seeds define it; it was
    /// removed or deactivated since): nothing stands in for it.
    #[error(
        "the target database has no {0}: the volume data is priced and linked with the reference data of the seeds (`cargo xtask seed`), and nothing stands in for it"
    )]
    MissingReference(String),
    /// Applying the reference seeds before the load failed.
    #[error(transparent)]
    Seeds(#[from] crate::SeedError),
    /// The database already holds this data set (its first user exists): load into a fresh
    /// database (`cargo xtask db-reset`).
    #[error("this volume data set is already loaded in the target database (reset it first: cargo xtask db-reset)")]
    AlreadyLoaded,
    /// A COPY failed (a rule refused a row, or the connection broke); nothing was committed.
    #[error("COPY into {table} failed: {source}")]
    Copy {
        table: String,
        #[source]
        source: sqlx::Error,
    },
    /// A statement of the load failed; nothing was committed.
    #[error("{step} failed: {source}")]
    Statement {
        step: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The generator of a table panicked (a bug); the COPY was aborted.
    #[error("the generator of {table} panicked")]
    Generator { table: String },
    /// The server loaded a different number of rows than were generated.
    #[error("{table}: generated {generated} rows but COPY loaded {loaded}")]
    RowCount { table: String, generated: u64, loaded: u64 },
    /// Writing script files failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Another database error.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}
