//! Transaction pooling (PgBouncer `pool_mode = transaction`): what makes every statement safe
//! when consecutive transactions of one client connection run on different server connections.
//!
//! sqlx 0.9 runs every statement with bind parameters in two round trips: `Parse`/`Describe`/
//! `Sync`, then `Bind`/`Execute`/`Sync`. Outside a transaction the server is idle at the first
//! `ReadyForQuery`, and PgBouncer hands it back to its pool there: the `Bind` may reach another
//! server connection, where the statement does not exist, or where *another client's* unnamed
//! statement does. And sqlx names its prepared statements `sqlx_s_<n>` per client connection and
//! caches them, so a cached name is missing on the next server connection, or already taken by
//! another client there. In transaction pooling mode ([`Db::connect_via_pgbouncer`]) quotedb
//! therefore:
//!
//! - runs **every** statement inside an explicit transaction (the server connection is then held
//!   from `BEGIN` to `COMMIT`): the actor transactions already did, and calls that ran on the pool
//!   go through [`Exec`], which wraps each one in its own transaction, committed before the call
//!   returns;
//! - disables sqlx's statement cache (`statement_cache_capacity(0)`), so no statement name is
//!   reused across transactions; sqlx then still prepares *named* statements and never closes
//!   them, so each transaction starts with `DEALLOCATE ALL` (in the `BEGIN` message: no extra
//!   round trip), which removes what earlier transactions of any client left on that server
//!   connection;
//! - caches reference data without `LISTEN` ([`ReferenceOptions::unlistened`]).

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Either, Error, Execute, Executor, Postgres, SqlStr};

#[cfg(doc)]
use crate::{Db, reference::ReferenceOptions};

/// The `BEGIN` of a transaction in transaction pooling mode: drops the named statements left on
/// the server connection by earlier transactions (any client's).
pub(crate) const POOLED_BEGIN: &str = "BEGIN; DEALLOCATE ALL";

/// Where a call that needs no actor runs its statement: the pool directly, or, in transaction
/// pooling mode, a transaction of its own on a pooled connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exec<'a> {
    pub(crate) pool: &'a sqlx::PgPool,
    pub(crate) transaction_pooling: bool,
}

impl<'a> Executor<'a> for Exec<'a> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'a: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.transaction_pooling {
            return self.pool.fetch_many(query);
        }
        let pool = self.pool.clone();
        Box::pin(
            stream::once(async move {
                let mut tx = pool.begin_with(POOLED_BEGIN).await?;
                // Collected inside the transaction: the server connection is held until COMMIT.
                let items: Vec<Result<Either<PgQueryResult, PgRow>, Error>> = tx.fetch_many(query).collect().await;
                if items.iter().all(Result::is_ok) {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok::<_, Error>(stream::iter(items))
            })
            .try_flatten(),
        )
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'a: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.transaction_pooling {
            return self.pool.fetch_optional(query);
        }
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin_with(POOLED_BEGIN).await?;
            let row = tx.fetch_optional(query).await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn prepare_with<'e>(self, sql: SqlStr, parameters: &'e [PgTypeInfo]) -> BoxFuture<'e, Result<PgStatement, Error>>
    where
        'a: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Postgres>, Error>>
    where
        'a: 'e,
    {
        self.pool.describe(sql)
    }
}
