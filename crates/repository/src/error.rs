//! Shared error plumbing: database errors are mapped to typed variants by the rule (constraint)
//! name, using the constants of `quotedb_schema`; anything unknown is wrapped, never lost.

/// The rule (constraint or rule-trigger) name a database error reports, if any.
pub(crate) fn rule_of(err: &sqlx::Error) -> Option<&str> {
    err.as_database_error()?.constraint()
}

/// The SQLSTATE of a database error, if any.
pub(crate) fn sqlstate_of(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()?.code().map(|c| c.into_owned())
}

/// SQLSTATE 42501: insufficient privilege — raised when row level security refuses a write
/// (`new row violates row-level security policy`).
pub(crate) fn is_rls_refusal(err: &sqlx::Error) -> bool {
    sqlstate_of(err).as_deref() == Some("42501")
}

/// SQLSTATE 40001 / 40P01: serialization failure or deadlock — safe to retry.
pub(crate) fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(sqlstate_of(err).as_deref(), Some("40001" | "40P01"))
}

/// A value given by the caller failed validation before reaching the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// Which input.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl InvalidInput {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
