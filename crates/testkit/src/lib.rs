//! A real PostgreSQL for tests, benches and tools, and a fresh database for every test.
//!
//! The test kit depends on no quotedb crate: what a database holds comes in as a [`Recipe`]
//! (migrations, SQL seed files, custom steps), so a crate that depends on quotedb tests against
//! it the same way quotedb's own tests do:
//!
//! ```no_run
//! # mod quotedb_schema { pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT; }
//! # mod quotedb_seeds { pub const REFERENCE: &[(&str, &str)] = &[]; }
//! # async fn t() {
//! use quotedb_testkit::TestDb;
//! let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
//! sqlx::query("SELECT 1").execute(db.pool()).await.unwrap();
//! # }
//! ```
//!
//! Where the server comes from, in this order (see [`resolve`]):
//! 1. `DATABASE_URL` set → that server (databases are created and dropped on it);
//! 2. PostgreSQL server binaries installed → a project-local cluster under the running binary's
//!    cargo target directory, `target/quotedb-pg` (own port, `fsync=off`), started on first use
//!    and reused ([`cluster`]);
//! 3. with the `containers` feature, a reachable Docker engine → testcontainers' PostgreSQL;
//! 4. otherwise [`Error::NoServer`], which names the three ways and how to install PostgreSQL.
//!
//! A test's database is a copy of a template named by the recipe's hash
//! ([`Recipe::template_name`]), built once per server under an advisory lock, so parallel test
//! binaries never build it twice. Copies are made ahead of time and claimed by renaming them
//! (see `ready.rs`): a test gets its database in a few milliseconds. A passing test's database is
//! dropped; a failing test's database is kept and its URL printed (also kept when
//! `QUOTEDB_KEEP_DB=1`). [`Server::sweep`] removes what older recipes and kept tests left.
//!
//! [`replica`] is a streaming replica (hot standby) of the server for read routing tests: on the
//! project-local cluster it is created with `pg_basebackup` on first use; with `DATABASE_URL` it
//! is `QUOTEDB_REPLICA_URL`, or absent ([`Error::NoReplica`]). [`TestDb::replica_url`] is the
//! test's database on it.

pub mod cluster;
pub mod pgbouncer;
mod ready;
mod recipe;
mod replica;
mod server;
pub mod snapshot;
mod testdb;

pub use pgbouncer::{PgBouncer, pgbouncer, pgbouncer_or_skip};
pub use recipe::{BoxError, BuildFuture, Recipe};
pub use replica::{Replica, dedicated_replica, replica};
pub use server::{Backend, Server, quote_ident, resolve, server};
pub use testdb::TestDb;

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Why no database could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `DATABASE_URL` is set but is not a PostgreSQL URL.
    #[error("DATABASE_URL is set but is not a valid PostgreSQL URL ({url:?}): {reason}")]
    BadDatabaseUrl { url: String, reason: String },
    /// The project-local cluster could not be created or started.
    #[error("local PostgreSQL cluster: {0}")]
    Cluster(String),
    /// The testcontainers backend failed.
    #[error("testcontainers PostgreSQL: {0}")]
    Container(String),
    /// No way to get a server.
    #[error(
        "no PostgreSQL server available. quotedb finds one in this order:\n  \
         1. DATABASE_URL=postgres://user@host:port/db — an existing server (databases are created and dropped on it);\n  \
         2. PostgreSQL server binaries (initdb, pg_ctl, postgres) — found via QUOTEDB_PG_BINDIR, `pg_config --bindir` or \
         /usr/lib/postgresql/*/bin; a project-local cluster is started under target/quotedb-pg. Install them with \
         `apt-get install postgresql` (Debian/Ubuntu), `dnf install postgresql-server` (Fedora) or `brew install postgresql` (macOS);\n  \
         3. a Docker engine, with the testkit feature `containers` (testcontainers' PostgreSQL){container_note}"
    )]
    NoServer { container_note: String },
    /// No streaming replica of the test server can be had (a test that needs one skips).
    #[error("no streaming replica: {0}")]
    NoReplica(String),
    /// A statement against the server failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Migrating a database failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A step of a recipe failed while its template was built.
    #[error("building template {template}, step {step}: {source}")]
    Build {
        template: String,
        step: String,
        #[source]
        source: BoxError,
    },
}

/// The root of the workspace this crate was built in (used for the cluster directory when no
/// target directory can be found).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

pub(crate) fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// The constraint (business-rule) name of a database error, if any.
///
/// Trigger-enforced rules raise with `CONSTRAINT = '<rule>'`, so they are found here too.
pub fn violated_rule(err: &sqlx::Error) -> Option<&str> {
    err.as_database_error()?.constraint()
}
