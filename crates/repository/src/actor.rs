//! Who is acting. Calls on row-level-secured tables take an [`Actor`] and run in a transaction
//! that has switched to the non-owner role `quotedb_app` and carries the actor as
//! transaction-local settings, so the database's policies — not the Rust code — decide what the
//! caller may see and change.

use sqlx::{PgPool, Postgres, Transaction};

use crate::ids::UserId;

/// The caller on whose behalf a repository call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "user_id", rename_all = "snake_case")]
pub enum Actor {
    /// A customer: sees and changes their own quotes and sessions.
    Customer(UserId),
    /// An agent: sees the quotes assigned to them.
    Agent(UserId),
    /// A user with an admin account: sees what their role's permissions allow.
    Admin(UserId),
    /// Workers and maintenance (expiry sweeps, notification delivery, seeds).
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

    /// The statement that opens an actor's transaction: BEGIN, the role switch and the settings,
    /// sent as ONE simple-protocol message (one round trip instead of three).
    ///
    /// Built with `format!` because `SET LOCAL ROLE` takes no bind parameters and the simple
    /// protocol (several statements in one message) has none either. It is injection-safe: the
    /// only interpolated value is a `Uuid`, whose `Display` is hex digits and hyphens.
    fn begin_statement(&self) -> String {
        let (user, system) = match self.user_id() {
            Some(id) => (id.0.to_string(), "off"),
            None => (String::new(), "on"),
        };
        format!(
            "BEGIN; SET LOCAL ROLE quotedb_app; \
             SELECT set_config('app.user_id', '{user}', true), set_config('app.system', '{system}', true)"
        )
    }
}

/// Begin a transaction as `actor` (role `quotedb_app`, `app.user_id` / `app.system` set).
pub(crate) async fn begin_as(pool: &PgPool, actor: &Actor) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin_with(sqlx::AssertSqlSafe(actor.begin_statement())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_begin_statement_carries_only_a_uuid() {
        let id = UserId(uuid::Uuid::nil());
        let sql = Actor::Customer(id).begin_statement();
        assert!(sql.contains("'00000000-0000-0000-0000-000000000000'"));
        assert!(sql.contains("'off'"));
        let sql = Actor::System.begin_statement();
        assert!(sql.contains("set_config('app.user_id', '', true)") && sql.contains("'on'"));
    }
}
