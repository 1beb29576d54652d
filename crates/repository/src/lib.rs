//! quotedb-repository: the typed API the quote service, rating engine, websocket, security and
//! admin code use to read and write quotedb, instead of writing SQL.
//!
//! - One handle, [`Db`], around a `PgPool`, with one accessor per aggregate:
//!   [`Db::users`], [`Db::quotes`], [`Db::rating`], [`Db::security`], [`Db::realtime`], [`Db::admin`].
//! - Every query is checked at compile time by sqlx against the migrated schema (`.sqlx/` holds
//!   the offline metadata).
//! - Calls on row-level-secured tables take an [`Actor`] and run as the non-owner role
//!   `quotedb_app` with the actor in transaction-local settings: the database decides what the
//!   caller may see.
//! - Each module has its own error enum; database errors are mapped by rule name (the constants
//!   of `quotedb_schema`) into variants a caller can match, and unknown ones are wrapped.
//! - Bad input is refused with a typed error before anything is written; a failed call leaves
//!   nothing behind (one transaction per operation).

pub mod actor;
pub mod admin;
pub mod error;
pub mod ids;
pub mod quotes;
pub mod rating;
pub mod realtime;
pub mod security;
pub mod types;
pub mod users;

use std::time::Duration;

pub use actor::Actor;
pub use error::InvalidInput;
pub use ids::*;
pub use quotedb_schema as schema;
pub use types::{Email, QuoteNumber, StateCode, Vin, Zip};

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The handle other crates hold: a pool plus one accessor per aggregate. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Wrap an existing pool (the caller chose its options).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Connect with the options quotedb recommends: no ping before every acquire (a round trip
    /// per call; broken connections surface as errors and are replaced), 16 connections.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let pool = Self::pool_options().connect(url).await?;
        Ok(Self { pool })
    }

    /// The pool options [`Db::connect`] uses, to adjust before connecting.
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(Duration::from_secs(600))
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Users: customers and agents, their drivers and vehicles.
    pub fn users(&self) -> users::Users<'_> {
        users::Users::new(self)
    }

    /// Quotes: create (rated), read, page, re-rate, transitions, expiry.
    pub fn quotes(&self) -> quotes::Quotes<'_> {
        quotes::Quotes::new(self)
    }

    /// Rating: resolve rates in one round trip, price.
    pub fn rating(&self) -> rating::Rating<'_> {
        rating::Rating::new(self)
    }

    /// Security: sessions, OAuth2 clients, SSO providers, audit log.
    pub fn security(&self) -> security::Security<'_> {
        security::Security::new(self)
    }

    /// Realtime: websocket connections, analytics events, metrics, notifications.
    pub fn realtime(&self) -> realtime::Realtime<'_> {
        realtime::Realtime::new(self)
    }

    /// Admin: roles and permissions, admin users, activity, settings, dashboards, rate changes.
    pub fn admin(&self) -> admin::Admin<'_> {
        admin::Admin::new(self)
    }
}
