//! Who is acting. Calls on row-level-secured tables take an [`Actor`] and run in a transaction
//! that has switched to a non-owner role and carries the acting user as a transaction-local
//! setting, so the database's policies — not the Rust code — decide what the caller may see and
//! change: customers, agents and admins act as `quotedb_app` with `app.user_id` set; the system
//! actor is the role `quotedb_system`, which only a login GRANTed that role can switch to (the
//! application login cannot: see `docs/security.md`).

use quotedb_schema::base::{ACTING_USER_SETTING, APP_ROLE, SYSTEM_ROLE};
use sqlx::{Postgres, Transaction};

use crate::ids::UserId;

/// The caller on whose behalf a repository call runs.
///
/// Deserializing never yields [`Actor::System`]: an actor read from a request, a token or a queue
/// message is a user; the system actor is chosen in code (and then still needs a login holding
/// `quotedb_system`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "user_id", rename_all = "snake_case")]
pub enum Actor {
    /// A customer: sees and changes their own quotes and sessions.
    Customer(UserId),
    /// An agent: sees the quotes assigned to them.
    Agent(UserId),
    /// A user with an admin account: sees what their role's permissions allow.
    Admin(UserId),
    /// Workers and maintenance (expiry sweeps, notification delivery, seeds): the role
    /// `quotedb_system`, which the connection's login must hold.
    #[serde(skip_deserializing)]
    System,
}

impl Actor {
    /// The acting user, if any.
    pub fn user_id(&self) -> Option<UserId> {
        match *self {
            Self::Customer(id) | Self::Agent(id) | Self::Admin(id) => Some(id),
            Self::System => None,
        }
    }

    /// The statement that opens an actor's transaction: BEGIN, the role switch and the acting
    /// user, sent as ONE simple-protocol message (one round trip instead of three).
    ///
    /// Built with `format!` because `SET LOCAL ROLE` takes no bind parameters and the simple
    /// protocol (several statements in one message) has none either. It is injection-safe: the
    /// only interpolated value is a `Uuid`, whose `Display` is hex digits and hyphens.
    fn begin_statement(&self, transaction_pooling: bool) -> String {
        let begin = if transaction_pooling {
            crate::pooling::POOLED_BEGIN
        } else {
            "BEGIN"
        };
        match self.user_id() {
            Some(id) => format!(
                "{begin}; SET LOCAL ROLE {APP_ROLE}; SELECT set_config('{ACTING_USER_SETTING}', '{}', true)",
                id.0
            ),
            None => {
                format!("{begin}; SET LOCAL ROLE {SYSTEM_ROLE}; SELECT set_config('{ACTING_USER_SETTING}', '', true)")
            }
        }
    }
}

/// Begin a transaction as `actor` (role `quotedb_app` with `app.user_id` set, or `quotedb_system`):
/// for writes. A read as an actor is one statement calling an `app_*` function instead (see
/// docs/conventions.md).
pub(crate) async fn begin_as(db: &crate::Db, actor: &Actor) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    db.pool()
        .begin_with(sqlx::AssertSqlSafe(actor.begin_statement(db.transaction_pooling())))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_begin_statement_carries_only_a_uuid() {
        let id = UserId(uuid::Uuid::nil());
        let sql = Actor::Customer(id).begin_statement(false);
        assert!(sql.contains("'00000000-0000-0000-0000-000000000000'"));
        assert!(sql.contains("SET LOCAL ROLE quotedb_app;"));
        let sql = Actor::System.begin_statement(true);
        assert!(
            sql.starts_with("BEGIN; DEALLOCATE ALL; SET LOCAL ROLE quotedb_system;")
                && sql.contains("set_config('app.user_id', '', true)")
        );
    }

    #[test]
    fn the_system_actor_cannot_be_deserialized() {
        let system = serde_json::from_str::<Actor>(r#"{"kind":"system"}"#);
        assert!(system.is_err(), "{system:?}");
        let customer: Actor =
            serde_json::from_str(r#"{"kind":"customer","user_id":"00000000-0000-0000-0000-000000000000"}"#)
                .expect("a customer deserializes");
        assert_eq!(customer, Actor::Customer(UserId(uuid::Uuid::nil())));
    }
}
