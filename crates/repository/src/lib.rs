//! quotedb-repository: the typed API the quote service, rating engine, websocket, security and
//! admin code use to read and write quotedb, instead of writing SQL.
//!
//! - One handle, [`Db`], around a `PgPool`, with one accessor per aggregate:
//!   [`Db::users`], [`Db::quotes`], [`Db::rating`], [`Db::security`], [`Db::realtime`], [`Db::admin`],
//!   [`Db::maintenance`].
//! - Every query is checked at compile time by sqlx against the migrated schema (`.sqlx/` holds
//!   the offline metadata).
//! - Calls on row-level-secured tables take an [`Actor`] and run as the non-owner role
//!   `quotedb_app` with the actor in transaction-local settings: the database decides what the
//!   caller may see.
//! - Each module has its own error enum; database errors are mapped by rule name (the constants
//!   of `quotedb_schema`) into variants a caller can match, and unknown ones are wrapped.
//! - Bad input is refused with a typed error before anything is written; a failed call leaves
//!   nothing behind (one transaction per operation).
//! - Every list pages the same way ([`page`]): a [`PageRequest`] in, a [`Page`] out, continued
//!   with its opaque [`Cursor`]; one size limit for all ([`page::MAX_PAGE_SIZE`]).
//! - Optionally, streaming replicas ([`Db::with_replicas`]): the staleness-tolerant reads listed
//!   in [`replica`] go to a replica, with read-your-writes through a [`ReadToken`]
//!   ([`Db::read_token`], [`Db::after`]); everything else goes to the primary.

pub mod actor;
pub mod admin;
pub mod error;
pub mod maintenance;
pub mod page;
mod pooling;
pub mod quotes;
pub mod rating;
pub mod realtime;
pub mod reference;
pub mod replica;
pub mod security;
pub mod users;

use std::time::Duration;

pub use actor::Actor;
pub use error::InvalidInput;
pub use page::{Cursor, Page, PageRequest};
pub use quotedb_domain::ids::{self, *};
pub use quotedb_domain::types::{self, Email, QuoteNumber, StateCode, Vin, Zip};
pub use quotedb_schema as schema;
pub use replica::{Consistency, ReadToken, ReplicaOptions};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};

/// The handle other crates hold: a pool plus one accessor per aggregate. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    /// Reference data in the process (rates, rules, public settings), shared by the clones.
    reference: std::sync::Arc<reference::ReferenceCache>,
    /// Behind a transaction-pooling PgBouncer: every statement in a transaction, `DEALLOCATE
    /// ALL` at each `BEGIN` (see [`Db::connect_via_pgbouncer`]).
    transaction_pooling: bool,
    /// Streaming replicas for the routed reads ([`replica`]), shared by the clones; None: every
    /// read goes to the primary.
    replicas: Option<std::sync::Arc<replica::Replicas>>,
    /// What this handle's routed reads must see ([`Db::after`], [`Db::on_primary`]).
    consistency: Consistency,
    /// The frozen terms of rated quotes, so a re-rate of a quote re-rated before is one round
    /// trip (`quotes::terms`); shared by the clones.
    frozen_terms: std::sync::Arc<quotes::FrozenTerms>,
}

impl Db {
    /// Wrap an existing pool (the caller chose its options).
    pub fn new(pool: PgPool) -> Self {
        Self::with_reference_options(pool, reference::ReferenceOptions::default())
    }

    /// Wrap an existing pool with a reference data cache of the caller's choosing (see
    /// [`mod@reference`]; e.g. [`reference::ReferenceOptions::unlistened`] behind a
    /// transaction-pooling PgBouncer, where `LISTEN` cannot work).
    pub fn with_reference_options(pool: PgPool, options: reference::ReferenceOptions) -> Self {
        Self {
            pool,
            reference: std::sync::Arc::new(reference::ReferenceCache::new(options)),
            transaction_pooling: false,
            replicas: None,
            consistency: Consistency::Eventual,
            frozen_terms: std::sync::Arc::default(),
        }
    }

    /// The primary's pool plus streaming replicas' pools: the reads listed in [`replica`] go to
    /// a replica that is up, lags at most [`ReplicaOptions::max_lag`] and (for a handle from
    /// [`Db::after`]) has replayed the caller's writes; everything else goes to `primary`. With
    /// no replicas this is [`Db::new`]. Give the replica pools a short acquire timeout: a read
    /// waits that long for a replica that went away before it reads the primary
    /// ([`Db::connect_with_replicas`] uses [`ReplicaOptions::probe_timeout`]).
    pub fn with_replicas(primary: PgPool, replicas: Vec<PgPool>, options: ReplicaOptions) -> Self {
        let mut db = Self::new(primary);
        if !replicas.is_empty() {
            db.replicas = Some(std::sync::Arc::new(replica::Replicas::new(replicas, options)));
        }
        db
    }

    /// [`Db::connect`] to the primary, plus lazily connected pools on the replicas (a replica
    /// that is down does not fail this: it is skipped until it is back).
    pub async fn connect_with_replicas(
        primary: &str,
        replicas: &[&str],
        options: ReplicaOptions,
    ) -> Result<Self, ConnectError> {
        let db = Self::connect(primary).await?;
        let mut pools = Vec::with_capacity(replicas.len());
        for url in replicas {
            let connect: PgConnectOptions = url.parse().map_err(|source| ConnectError {
                target: redacted(url),
                source,
            })?;
            pools.push(
                Self::pool_options()
                    .min_connections(0)
                    .acquire_timeout(options.probe_timeout)
                    .connect_lazy_with(connect),
            );
        }
        Ok(Self::with_replicas(db.pool, pools, options))
    }

    /// The replica options, when this handle has replicas.
    pub fn replica_options(&self) -> Option<ReplicaOptions> {
        self.replicas.as_ref().map(|r| r.options())
    }

    /// A token for what has been written so far (the primary's WAL insert position): take it
    /// after a write and read through [`Db::after`] to see that write (read-your-writes). One
    /// round trip to the primary.
    pub async fn read_token(&self) -> Result<ReadToken, sqlx::Error> {
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
            .fetch_one(&self.pool)
            .await?;
        lsn.parse()
            .map_err(|e: replica::BadReadToken| sqlx::Error::Decode(e.into()))
    }

    /// This handle, whose routed reads see everything written before `token` was taken: on a
    /// replica that has replayed up to it (waiting at most [`ReplicaOptions::max_wait`]), else on
    /// the primary. Cheap (a clone).
    pub fn after(&self, token: ReadToken) -> Self {
        let mut db = self.clone();
        db.consistency = match self.consistency {
            Consistency::AtLeast(older) => Consistency::AtLeast(older.max(token)),
            Consistency::Primary => Consistency::Primary,
            Consistency::Eventual => Consistency::AtLeast(token),
        };
        db
    }

    /// This handle, with every read on the primary. Cheap (a clone).
    pub fn on_primary(&self) -> Self {
        let mut db = self.clone();
        db.consistency = Consistency::Primary;
        db
    }

    /// What this handle's routed reads must see.
    pub fn consistency(&self) -> Consistency {
        self.consistency
    }

    pub(crate) fn replicas(&self) -> Option<&replica::Replicas> {
        self.replicas.as_deref()
    }

    /// Where a routed read goes now (see [`replica`]).
    pub(crate) async fn read_target(&self) -> replica::ReadTarget<'_> {
        let route = match &self.replicas {
            Some(replicas) => replicas.route(self.consistency).await,
            None => replica::Route::Primary,
        };
        replica::ReadTarget { db: self, route }
    }

    /// What this handle knows of each replica (in the order given to [`Db::with_replicas`]):
    /// marked down or not and why, lag and replay position at the last probe. Empty without
    /// replicas. For monitoring; makes no round trip.
    pub fn replica_status(&self) -> Vec<replica::ReplicaStatus> {
        self.replicas.as_ref().map(|r| r.status()).unwrap_or_default()
    }

    /// Where a read with this handle's consistency would go now: `Some(n)` for replica `n`
    /// (in the order given to [`Db::with_replicas`]), `None` for the primary. For monitoring
    /// and tests; the routed calls decide for themselves.
    pub async fn read_route(&self) -> Option<usize> {
        match self.read_target().await.route {
            replica::Route::Replica(n) => Some(n),
            replica::Route::Primary => None,
        }
    }

    /// Connect through PgBouncer in transaction pooling mode (`pool_mode = transaction`; also
    /// any pooler that may switch server connections between transactions), with
    /// [`Db::pool_options`]. See [`Db::connect_via_pgbouncer_with`].
    pub async fn connect_via_pgbouncer(url: &str) -> Result<Self, ConnectError> {
        Self::connect_via_pgbouncer_with(url, Self::pool_options()).await
    }

    /// Connect through PgBouncer in transaction pooling mode with the caller's pool options.
    ///
    /// sqlx's statement cache is disabled ([`Db::pgbouncer_connect_options`]), every statement
    /// runs inside a transaction (calls that ran on the pool get one of their own), each
    /// transaction begins with `DEALLOCATE ALL` (in the `BEGIN` message), and reference data is
    /// cached without `LISTEN` for at most 30 s ([`reference::ReferenceOptions::unlistened`]).
    /// PgBouncer needs `ignore_startup_parameters = extra_float_digits` (sqlx sends it at
    /// startup). The cost: each call that was one statement on the pool takes `BEGIN` and
    /// `COMMIT` round trips more, and every statement is parsed again (no cached plan).
    pub async fn connect_via_pgbouncer_with(url: &str, options: PgPoolOptions) -> Result<Self, ConnectError> {
        let target = redacted(url);
        let connect = Self::pgbouncer_connect_options(url).map_err(|source| ConnectError {
            target: target.clone(),
            source,
        })?;
        let pool = options
            .connect_with(connect)
            .await
            .map_err(|source| ConnectError { target, source })?;
        Ok(Self::for_transaction_pooling(pool))
    }

    /// The connect options for a transaction-pooling PgBouncer: `url` with sqlx's statement cache
    /// disabled (`statement_cache_capacity(0)`: a named statement would not exist on the next
    /// server connection).
    pub fn pgbouncer_connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
        Ok(url.parse::<PgConnectOptions>()?.statement_cache_capacity(0))
    }

    /// Wrap a pool whose connections go through a transaction-pooling PgBouncer (made with
    /// [`Db::pgbouncer_connect_options`]): see [`Db::connect_via_pgbouncer_with`].
    pub fn for_transaction_pooling(pool: PgPool) -> Self {
        let mut cache =
            reference::ReferenceCache::new(reference::ReferenceOptions::unlistened(Duration::from_secs(30)));
        cache.transaction_pooling = true;
        Self {
            pool,
            reference: std::sync::Arc::new(cache),
            transaction_pooling: true,
            replicas: None,
            consistency: Consistency::Eventual,
            frozen_terms: std::sync::Arc::default(),
        }
    }

    /// Whether this handle works in transaction pooling mode ([`Db::connect_via_pgbouncer`]).
    pub fn transaction_pooling(&self) -> bool {
        self.transaction_pooling
    }

    /// Where a call without an actor runs a statement: the pool, or in transaction pooling mode a
    /// transaction of its own.
    pub(crate) fn exec(&self) -> pooling::Exec<'_> {
        pooling::Exec {
            pool: &self.pool,
            transaction_pooling: self.transaction_pooling,
        }
    }

    /// The `BEGIN` statement of a transaction without an actor.
    pub(crate) fn begin_statement(&self) -> &'static str {
        if self.transaction_pooling {
            pooling::POOLED_BEGIN
        } else {
            "BEGIN"
        }
    }

    /// How this handle caches reference data.
    pub fn reference_options(&self) -> reference::ReferenceOptions {
        self.reference.options()
    }

    /// The reference data cache's counters (loads, hits, misses, notifications, stale writes).
    pub fn reference_stats(&self) -> reference::ReferenceStats {
        self.reference.stats()
    }

    /// Start listening for reference data changes and load the reference data now instead of on
    /// first use (waiting up to 5 s for the `LISTEN` connection); `false` when nothing was loaded
    /// (cache disabled, listener not connected, or an error: calls then read the database).
    pub async fn warm_reference_cache(&self) -> bool {
        self.reference.warm(&self.pool, Duration::from_secs(5)).await
    }

    pub(crate) fn frozen_terms(&self) -> &quotes::FrozenTerms {
        &self.frozen_terms
    }

    pub(crate) fn reference(&self) -> &std::sync::Arc<reference::ReferenceCache> {
        &self.reference
    }

    /// Connect with the options quotedb recommends: no ping before every acquire (a round trip
    /// per call; a dead connection is replaced, and a read that met one is retried once on a
    /// fresh connection), 16 connections, a 10 s acquire timeout. The first connection is opened
    /// now: a server that is down gives one [`ConnectError`] naming the URL (without its password).
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, Self::pool_options()).await
    }

    /// [`Db::connect`] with the caller's pool options.
    pub async fn connect_with(url: &str, options: PgPoolOptions) -> Result<Self, ConnectError> {
        let target = redacted(url);
        let connect: PgConnectOptions = url.parse().map_err(|source| ConnectError {
            target: target.clone(),
            source,
        })?;
        let pool = options
            .connect_with(connect)
            .await
            .map_err(|source| ConnectError { target, source })?;
        Ok(Self::new(pool))
    }

    /// A connection outside the pool, with the pool's connect options: what a read retries on
    /// after its pooled connection turned out dead (the pool may hold more dead ones).
    pub(crate) async fn fresh_connection(&self) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.pool.connect_options()).await
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

    /// Maintenance for the platform's scheduler (system role): partitions ahead, strays, retention.
    pub fn maintenance(&self) -> maintenance::Maintenance<'_> {
        maintenance::Maintenance::new(self)
    }
}

/// The database could not be reached, or the URL is not a PostgreSQL URL.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {target}: {source}")]
pub struct ConnectError {
    /// The URL, without its password.
    pub target: String,
    /// Why.
    #[source]
    pub source: sqlx::Error,
}

/// `url` without its password (in the authority or as a `password` parameter), for messages.
fn redacted(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "the database URL (unparsable)".to_owned();
    };
    let _ = parsed.set_password(None);
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "password")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_in_a_message_has_no_password() {
        assert_eq!(
            super::redacted("postgres://app:s3cret@db.example.com:5432/quotes?sslmode=require&password=s3cret"),
            "postgres://app@db.example.com:5432/quotes?sslmode=require"
        );
    }
}

error::retryable_errors!(
    admin::users::AdminUserError,
    admin::dashboards::DashboardError,
    admin::activity::ActivityError,
    admin::rate_changes::RateChangeError,
    admin::settings::SettingError,
    admin::roles::RoleError,
    quotes::QuoteError,
    rating::RatingError,
    users::UserError,
    realtime::notifications::NotificationError,
    realtime::events::EventError,
    realtime::connections::ConnectionError,
    realtime::metrics::MetricError,
    security::sessions::SessionError,
    security::audit::AuditError,
    security::oauth::OAuthError,
    security::sso::SsoError,
);
