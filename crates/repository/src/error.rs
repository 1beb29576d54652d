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

pub use quotedb_domain::InvalidInput;
pub(crate) use quotedb_domain::input::{bounded_json, bounded_text};

/// A database refusal of a value a caller gave, as [`InvalidInput`]: a `*_values_bounded` rule,
/// a NUL byte (SQLSTATE 22021) or a `\u0000` in JSON (22P05). The safety net behind
/// [`bounded_text`] / [`bounded_json`] for inputs a module does not check itself.
pub(crate) fn refused_value(err: &sqlx::Error) -> Option<InvalidInput> {
    if let Some(rule) = rule_of(err).filter(|r| r.ends_with("_values_bounded")) {
        return Some(InvalidInput::new("value", format!("out of the bounds of {rule}")));
    }
    match sqlstate_of(err).as_deref() {
        Some("22021" | "22P05") => Some(InvalidInput::new("value", "must not contain a NUL character")),
        _ => None,
    }
}

/// Whether the connection died under the call - the server restarted or shut down, the backend
/// was terminated, the network failed - so a statement sent on it may or may not have run.
pub(crate) fn is_connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        // 08: connection exception; 57P01/57P02/57P03: admin shutdown, crash shutdown, cannot
        // connect now (the server is starting or stopping).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// Whether trying the same call again may succeed: the connection was lost, the pool had no
/// connection free within its acquire timeout, or the transaction lost a serialization race.
pub(crate) fn is_transient(err: &sqlx::Error) -> bool {
    is_connection_lost(err) || matches!(err, sqlx::Error::PoolTimedOut) || is_retryable(err)
}

/// [`is_transient`] of the first `sqlx::Error` in `err`'s source chain (false when none).
pub(crate) fn transient_in(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(db) = e.downcast_ref::<sqlx::Error>() {
            return is_transient(db);
        }
        current = e.source();
    }
    false
}

/// `is_retryable()` for the error enums of the modules.
macro_rules! retryable_errors {
    ($($ty:ty),* $(,)?) => {$(
        impl $ty {
            /// Whether calling again may succeed: the connection was lost under the call (a
            /// server restart or failover; a read is retried once on a fresh connection before
            /// this reaches you, a write whose outcome is unknown is not), no pooled connection
            /// came free within the acquire timeout, or a serialization race was lost. A write
            /// retried after such an error must be idempotent or checked first (read it back).
            pub fn is_retryable(&self) -> bool {
                crate::error::transient_in(self)
            }
        }
    )*};
}
pub(crate) use retryable_errors;

/// Run an idempotent read on a pooled connection, bound to `$conn` in `$body` (an expression
/// yielding a future of `Result<_, sqlx::Error>`); if that connection turns out to be dead (the
/// server restarted, the backend was terminated), run it once more on a freshly opened
/// connection, so the caller sees no failure once the server is back.
macro_rules! read_retrying {
    ($db:expr, |$conn:ident| $body:expr) => {{
        // A `Db`, or a replica::ReadTarget (the same methods).
        let db = &$db;
        let first = match db.pool().acquire().await {
            Ok(mut pooled) => crate::error::read_on!(db, &mut *pooled, |$conn| $body),
            Err(e) => Err(e),
        };
        match first {
            Err(e) if crate::error::is_connection_lost(&e) => {
                tracing::debug!(error = %e, "connection lost: retrying the read on a fresh connection");
                match db.fresh_connection().await {
                    Ok(mut fresh) => crate::error::read_on!(db, &mut fresh, |$conn| $body),
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }};
}
pub(crate) use read_retrying;

/// Run `$body` with `$conn` bound to `$on` (a `&mut PgConnection`); in transaction pooling mode
/// inside a transaction of its own (see `pooling.rs`).
macro_rules! read_on {
    ($db:expr, $on:expr, |$conn:ident| $body:expr) => {{
        let on: &mut sqlx::PgConnection = $on;
        if $db.transaction_pooling() {
            async {
                let mut tx = sqlx::Connection::begin_with(on, $db.begin_statement()).await?;
                let out = {
                    let $conn: &mut sqlx::PgConnection = &mut tx;
                    $body.await
                }?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(out)
            }
            .await
        } else {
            let $conn: &mut sqlx::PgConnection = on;
            $body.await
        }
    }};
}
pub(crate) use read_on;
