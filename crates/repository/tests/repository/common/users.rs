//! Customers and agents, created through `Db::users` with unique e-mail addresses.

use quotedb_repository::users::NewUser;
use quotedb_repository::{Actor, Db, UserId};

use super::email;

/// A new customer (customers sign themselves up).
pub async fn customer(db: &Db, tag: &str) -> UserId {
    db.users()
        .create_customer(&NewUser {
            email: email(tag),
            full_name: format!("Customer {tag}"),
            phone: None,
        })
        .await
        .expect("customer")
        .id
}

/// A new agent (created by the System, as agent accounts are).
pub async fn agent(db: &Db, tag: &str) -> UserId {
    db.users()
        .create_agent(
            &Actor::System,
            &NewUser {
                email: email(tag),
                full_name: format!("Agent {tag}"),
                phone: None,
            },
        )
        .await
        .expect("agent")
        .id
}

/// The actor of a customer.
pub fn as_customer(id: UserId) -> Actor {
    Actor::Customer(id)
}
