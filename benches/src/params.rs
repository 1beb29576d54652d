//! Realistic parameters for the benched paths, read from the bench database: the heaviest
//! customer (the worst case of the keyset page), one of their quotes, an admin who reads the
//! high-risk queue, a seeded city.

use quotedb_repository::{Actor, QuoteId, QuoteNumber, UserId};
use sqlx::PgPool;

use crate::BoxError;

/// What the benches pass to the repository.
#[derive(Debug, Clone)]
pub struct Params {
    /// The customer with the most quotes.
    pub customer: UserId,
    /// One of their quotes (by number).
    pub quote_number: QuoteNumber,
    /// One of their quotes (by id), with its current version, for re-rating.
    pub quote_id: QuoteId,
    /// An admin (role `admin`): holds activity:read and, through the roles below, reports:read.
    pub admin: UserId,
    /// A seeded garaging ZIP in CA (San Francisco).
    pub zip: &'static str,
}

impl Params {
    /// The customer as an actor.
    pub fn customer_actor(&self) -> Actor {
        Actor::Customer(self.customer)
    }

    /// The admin as an actor.
    pub fn admin_actor(&self) -> Actor {
        Actor::Admin(self.admin)
    }
}

/// Read the parameters from a loaded bench database.
pub async fn params(pool: &PgPool) -> Result<Params, BoxError> {
    let (customer,): (uuid::Uuid,) = sqlx::query_as(
        "SELECT customer_id FROM quotes GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let (quote_id, number): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT id, quote_number FROM quotes WHERE customer_id = $1 AND status IN ('rated') ORDER BY created_at DESC LIMIT 1",
    )
    .bind(customer)
    .fetch_one(pool)
    .await?;
    let (admin,): (uuid::Uuid,) = sqlx::query_as(
        "SELECT au.user_id FROM admin_users au JOIN admin_roles r ON r.id = au.role_id
         WHERE r.name = 'admin' AND au.deactivated_at IS NULL ORDER BY au.created_at LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    Ok(Params {
        customer: UserId(customer),
        quote_number: QuoteNumber::parse(&number)?,
        quote_id: QuoteId(quote_id),
        admin: UserId(admin),
        zip: "94105",
    })
}
