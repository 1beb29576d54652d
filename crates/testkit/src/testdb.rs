//! [`TestDb`]: a fresh database for one test.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::{Error, Recipe, Server, ready, server};

/// A fresh database for one test, with a pool on it.
///
/// Dropped when the value is dropped after a passing test; kept (and its URL printed) when the
/// test panicked or `QUOTEDB_KEEP_DB=1`.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    pool: PgPool,
    server: &'static Server,
}

impl TestDb {
    /// A fresh database with every migration of `migrator` applied (no data).
    ///
    /// # Panics
    /// With a message naming the ways to get a server when none can be had, or when the template
    /// cannot be built (it is meant for tests; [`TestDb::try_from_recipe`] returns the error).
    pub async fn migrated(migrator: &'static Migrator) -> Self {
        Self::from_recipe(&Recipe::migrated(migrator)).await
    }

    /// A fresh database with every migration of `migrator` applied, then `scripts` (seed files:
    /// `(name, SQL text)`, in order, in one transaction).
    ///
    /// # Panics
    /// As [`TestDb::migrated`].
    pub async fn seeded(migrator: &'static Migrator, scripts: &'static [(&'static str, &'static str)]) -> Self {
        Self::from_recipe(&Recipe::seeded(migrator, scripts)).await
    }

    /// A fresh database built by `recipe`.
    ///
    /// # Panics
    /// As [`TestDb::migrated`].
    pub async fn from_recipe(recipe: &Recipe) -> Self {
        Self::try_from_recipe(recipe)
            .await
            .unwrap_or_else(|e| panic!("quotedb-testkit: {e}"))
    }

    /// A fresh, empty (unmigrated) database, for migration tests.
    ///
    /// # Panics
    /// As [`TestDb::migrated`].
    pub async fn empty() -> Self {
        Self::try_create(None)
            .await
            .unwrap_or_else(|e| panic!("quotedb-testkit: {e}"))
    }

    /// Like [`TestDb::from_recipe`], returning errors.
    pub async fn try_from_recipe(recipe: &Recipe) -> Result<Self, Error> {
        Self::try_create(Some(recipe)).await
    }

    async fn try_create(recipe: Option<&Recipe>) -> Result<Self, Error> {
        let server = server().await?;
        let name = Self::fresh_name();
        match recipe {
            Some(recipe) => {
                let template = recipe.ensure_on(server).await?;
                match ready::claim(server, template, recipe.hash(), &name).await {
                    // The template went away since this process built or found it (`cargo
                    // xtask db-clean`, a re-created server): build it again, once.
                    Err(Error::Sqlx(e)) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("3D000") => {
                        recipe.forget_on(server);
                        let template = recipe.ensure_on(server).await?;
                        ready::claim(server, template, recipe.hash(), &name).await?;
                    }
                    other => other?,
                }
            }
            None => server.create_empty_database(&name).await?,
        }
        let url = server.url_for(&name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&url)
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            Err(e) => {
                let _ = ready::drop_blocking(server, &name);
                return Err(e.into());
            }
        };
        Ok(Self {
            name,
            url,
            pool,
            server,
        })
    }

    /// `qt_<test name>_<random>`: the test name (the thread name under libtest) helps find a
    /// kept database; the suffix keeps it unique.
    fn fresh_name() -> String {
        let thread = std::thread::current();
        let test: String = thread
            .name()
            .unwrap_or("test")
            .rsplit("::")
            .next()
            .unwrap_or("test")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..10];
        format!("{TEST_PREFIX}{test}_{suffix}")
    }

    /// The pool on this database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The URL of this database (sqlx and psql accept it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database through the test kit's PgBouncer (transaction pooling, see
    /// [`pgbouncer`](crate::pgbouncer())); `None` when PgBouncer is not installed.
    ///
    /// # Panics
    /// As [`pgbouncer_or_skip`](crate::pgbouncer_or_skip): PgBouncer fails to start, or is
    /// missing while `CI=true`.
    pub async fn pgbouncer_url(&self) -> Option<String> {
        let what = format!("test database {}", self.name);
        crate::pgbouncer_or_skip(&what).await.map(|b| b.url_for(&self.name))
    }

    /// The URL of this database on the shared streaming replica ([`crate::replica`]), once the
    /// replica has replayed its creation. [`Error::NoReplica`] when there is no replica.
    pub async fn replica_url(&self) -> Result<String, Error> {
        crate::replica().await?.url_for(&self.name).await
    }

    /// The server this database lives on.
    pub fn server(&self) -> &'static Server {
        self.server
    }
}

/// Test databases are named `qt_<test>_<random>`.
pub(crate) const TEST_PREFIX: &str = "qt_";

impl Drop for TestDb {
    fn drop(&mut self) {
        let keep = std::env::var("QUOTEDB_KEEP_DB").is_ok_and(|v| v == "1");
        if std::thread::panicking() || keep {
            eprintln!(
                "quotedb-testkit: kept test database {} — psql \"{}\"{}",
                self.name,
                self.url,
                if keep {
                    " (QUOTEDB_KEEP_DB=1)"
                } else {
                    " (the test failed)"
                }
            );
            return;
        }
        // WITH (FORCE) ends this pool's connections.
        if let Err(e) = ready::drop_blocking(self.server, &self.name) {
            eprintln!("quotedb-testkit: could not drop test database {}: {e}", self.name);
        }
    }
}
