//! A real PostgreSQL for quotedb's tests, benches and xtask, and a fresh database for every test.
//!
//! Where the server comes from, in this order (see [`resolve`]):
//! 1. `DATABASE_URL` set → that server (databases are created and dropped on it);
//! 2. PostgreSQL server binaries installed → a project-local cluster under `target/quotedb-pg`
//!    (own port, `fsync=off`), started on first use and reused ([`cluster`]);
//! 3. with the `containers` feature, a reachable Docker engine → testcontainers' PostgreSQL;
//! 4. otherwise [`Error::NoServer`], which names the three ways and how to install PostgreSQL.
//!
//! A test gets its database by cloning a template (`CREATE DATABASE … TEMPLATE …`, milliseconds)
//! whose name carries a hash of the embedded migrations (and of the seed data for
//! [`TestDb::seeded`]); the template is built once per server under an advisory lock, so
//! parallel test binaries never build it twice. A passing test's database is dropped; a failing
//! test's database is kept and its URL printed (also kept when `QUOTEDB_KEEP_DB=1`).
//!
//! ```no_run
//! # async fn t() {
//! let db = quotedb_testkit::TestDb::new().await;
//! sqlx::query("SELECT 1").execute(db.pool()).await.unwrap();
//! # }
//! ```

pub mod cluster;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, Executor as _, PgConnection, PgPool};
use tokio::sync::OnceCell;

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
    /// A statement against the server failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Migrating a database failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Loading the reference seeds failed.
    #[error("seeding failed: {0}")]
    Seed(#[from] quotedb_seeds::SeedError),
}

/// Which backend a [`Server`] came from.
#[derive(Debug, Clone)]
pub enum Backend {
    /// `DATABASE_URL`.
    DatabaseUrl,
    /// The project-local cluster.
    LocalCluster(cluster::LocalCluster),
    /// A testcontainers PostgreSQL container.
    Container,
}

/// A PostgreSQL server on which databases can be created and dropped.
#[derive(Debug, Clone)]
pub struct Server {
    backend: Backend,
    /// URL of the server, path = the maintenance database.
    base: url::Url,
}

impl Server {
    /// The backend this server came from.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A URL for database `db` on this server (accepted by sqlx and psql).
    pub fn url_for(&self, db: &str) -> String {
        let mut url = self.base.clone();
        url.set_path(&format!("/{db}"));
        url.to_string()
    }

    /// The maintenance database URL (`postgres`, or the database of `DATABASE_URL`).
    pub fn admin_url(&self) -> String {
        self.base.to_string()
    }

    /// A connection to the maintenance database, for CREATE/DROP DATABASE.
    pub async fn admin_connection(&self) -> Result<PgConnection, Error> {
        Ok(PgConnection::connect(self.base.as_str()).await?)
    }

    /// Whether database `db` exists.
    pub async fn database_exists(&self, db: &str) -> Result<bool, Error> {
        let mut conn = self.admin_connection().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(db)
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(exists)
    }

    /// Drop database `db` if it exists, terminating its connections first.
    pub async fn drop_database(&self, db: &str) -> Result<(), Error> {
        let mut conn = self.admin_connection().await?;
        // Identifiers cannot be bound as parameters: the name is quoted with `quote_ident`.
        ddl(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(db)),
        )
        .await?;
        conn.close().await?;
        Ok(())
    }

    /// Create database `db` as a copy of the template `template` (built if missing).
    pub async fn create_database_from(&self, db: &str, template: Template) -> Result<(), Error> {
        let template_name = ensure_template(self, template).await?;
        let mut conn = self.admin_connection().await?;
        // FILE_COPY copies the template's files and checkpoints: on PostgreSQL 15 it clones a
        // seeded template in about 15 ms against 37 ms for the default WAL_LOG, which writes every
        // block to the WAL. Servers before 15 know no STRATEGY: they copy files anyway.
        let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
            .fetch_one(&mut conn)
            .await?;
        let strategy = if version >= 150_000 { " STRATEGY FILE_COPY" } else { "" };
        ddl(
            &mut conn,
            format!(
                "CREATE DATABASE {} TEMPLATE {}{strategy}",
                quote_ident(db),
                quote_ident(&template_name)
            ),
        )
        .await?;
        conn.close().await?;
        Ok(())
    }

    /// Create an empty (unmigrated) database `db`.
    pub async fn create_empty_database(&self, db: &str) -> Result<(), Error> {
        let mut conn = self.admin_connection().await?;
        ddl(&mut conn, format!("CREATE DATABASE {}", quote_ident(db))).await?;
        conn.close().await?;
        Ok(())
    }
}

/// Run one DDL statement built from quoted identifiers (`CREATE/DROP DATABASE` cannot take
/// bind parameters, so the names go through [`quote_ident`]).
async fn ddl(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// Quote a PostgreSQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The workspace root (where `migrations/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

pub(crate) fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// Resolve the server from an explicit `DATABASE_URL` value (None = unset), falling back to a
/// local cluster, then a container. Prefer [`server`], which resolves once per process.
pub async fn resolve(database_url: Option<&str>) -> Result<Server, Error> {
    if let Some(raw) = database_url {
        let bad = |reason: String| Error::BadDatabaseUrl {
            url: raw.to_string(),
            reason,
        };
        let url = url::Url::parse(raw).map_err(|e| bad(e.to_string()))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(bad(format!(
                "scheme must be postgres:// or postgresql://, not {}://",
                url.scheme()
            )));
        }
        PgConnectOptions::from_str(raw).map_err(|e| bad(e.to_string()))?;
        // Administrative work (CREATE/DROP DATABASE) connects to the maintenance database, never
        // to the one the URL names: that one may be the dev database being reset.
        let mut base = url;
        base.set_path("/postgres");
        return Ok(Server {
            backend: Backend::DatabaseUrl,
            base,
        });
    }
    if let Some(bindir) = cluster::find_bindir() {
        let dir = cluster::default_dir();
        let local = tokio::task::spawn_blocking(move || cluster::LocalCluster::ensure_started(&dir, &bindir))
            .await
            .map_err(|e| Error::Cluster(format!("the cluster start task failed: {e}")))??;
        let base = url::Url::parse(&local.admin_url()).map_err(|e| Error::Cluster(e.to_string()))?;
        return Ok(Server {
            backend: Backend::LocalCluster(local),
            base,
        });
    }
    containers::resolve().await
}

#[cfg(feature = "containers")]
mod containers {
    use super::{Backend, Error, Server};

    fn docker_reachable() -> bool {
        if std::env::var_os("DOCKER_HOST").is_some() {
            return true;
        }
        ["/var/run/docker.sock", "/run/docker.sock"]
            .iter()
            .any(|p| std::os::unix::net::UnixStream::connect(p).is_ok())
    }

    pub(super) async fn resolve() -> Result<Server, Error> {
        use testcontainers::runners::AsyncRunner as _;
        if !docker_reachable() {
            let note = "\n     (feature `containers` is on, but no Docker engine is reachable: skipped)".to_string();
            eprintln!(
                "quotedb-testkit: testcontainers skipped: no Docker engine reachable (DOCKER_HOST unset, no /var/run/docker.sock)"
            );
            return Err(Error::NoServer { container_note: note });
        }
        eprintln!("quotedb-testkit: starting a PostgreSQL container (testcontainers)");
        let container = testcontainers_modules::postgres::Postgres::default()
            .start()
            .await
            .map_err(|e| Error::Container(e.to_string()))?;
        let host = container
            .get_host()
            .await
            .map_err(|e| Error::Container(e.to_string()))?;
        let port = container
            .get_host_port_ipv4(5432)
            .await
            .map_err(|e| Error::Container(e.to_string()))?;
        let base = url::Url::parse(&format!("postgres://postgres:postgres@{host}:{port}/postgres"))
            .map_err(|e| Error::Container(e.to_string()))?;
        // The container lives as long as the process (testcontainers' reaper removes it after).
        Box::leak(Box::new(container));
        Ok(Server {
            backend: Backend::Container,
            base,
        })
    }
}

#[cfg(not(feature = "containers"))]
mod containers {
    use super::{Error, Server};

    pub(super) async fn resolve() -> Result<Server, Error> {
        Err(Error::NoServer {
            container_note: " — not compiled in (feature off)".into(),
        })
    }
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

/// The server of this process, resolved once from the environment (`DATABASE_URL`, …).
pub async fn server() -> Result<&'static Server, Error> {
    SERVER
        .get_or_try_init(|| async {
            let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
            resolve(url.as_deref()).await
        })
        .await
}

/// What a template database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// All migrations applied, no data.
    Migrated,
    /// All migrations and the reference seeds.
    Seeded,
}

/// Hash of the embedded migrations (versions, descriptions and SQL, up and down), and of the
/// current 28-day period: migrations create time-dependent objects (the coming months'
/// audit_logs partitions), so a template is rebuilt before those run out.
pub fn migrations_hash() -> String {
    let mut hasher = Sha256::new();
    let period = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / (86_400 * 28))
        .unwrap_or(0);
    hasher.update(period.to_le_bytes());
    for m in quotedb_schema::MIGRATOR.iter() {
        hasher.update(m.version.to_le_bytes());
        hasher.update(m.description.as_bytes());
        hasher.update(m.sql.as_ref().as_bytes());
        hasher.update([u8::from(m.migration_type.is_down_migration())]);
    }
    hex::encode(&hasher.finalize()[..6])
}

/// The name of a template database: a hash of the migrations (and seeds) it holds.
pub fn template_name(template: Template) -> String {
    match template {
        Template::Migrated => format!("quotedb_tpl_m_{}", migrations_hash()),
        Template::Seeded => format!(
            "quotedb_tpl_s_{}_{}",
            migrations_hash(),
            &quotedb_seeds::fingerprint()[..12]
        ),
    }
}

static MIGRATED: OnceCell<String> = OnceCell::const_new();
static SEEDED: OnceCell<String> = OnceCell::const_new();

/// Build the template if this server does not have it yet; returns its name.
pub async fn ensure_template(server: &Server, template: Template) -> Result<String, Error> {
    let cell = match template {
        Template::Migrated => &MIGRATED,
        Template::Seeded => &SEEDED,
    };
    cell.get_or_try_init(|| build_template(server, template)).await.cloned()
}

/// Advisory lock key serialising template builds across processes.
const TEMPLATE_LOCK: i64 = 0x71_75_6f_74_65_64_62; // "quotedb"

async fn build_template(server: &Server, template: Template) -> Result<String, Error> {
    let name = template_name(template);
    let mut admin = server.admin_connection().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await?;
    let result = build_template_locked(server, &mut admin, &name, template).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await;
    result?;
    unlock?;
    admin.close().await?;
    Ok(name)
}

async fn build_template_locked(
    server: &Server,
    admin: &mut PgConnection,
    name: &str,
    template: Template,
) -> Result<(), Error> {
    let state: Option<bool> = sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut *admin)
        .await?;
    match state {
        Some(true) => return Ok(()),
        // A build that died half-way: start over.
        Some(false) => {
            ddl(&mut *admin, format!("DROP DATABASE {} WITH (FORCE)", quote_ident(name))).await?;
        }
        None => {}
    }
    eprintln!("quotedb-testkit: building template database {name}");
    ddl(&mut *admin, format!("CREATE DATABASE {}", quote_ident(name))).await?;
    let mut conn = PgConnection::connect(&server.url_for(name)).await?;
    quotedb_schema::MIGRATOR.run(&mut conn).await?;
    if template == Template::Seeded {
        quotedb_seeds::apply_reference(&mut conn).await?;
    }
    conn.execute("ANALYZE").await?;
    conn.close().await?;
    // Marking it a template is the "done" flag; no connections may be made to it afterwards.
    ddl(
        &mut *admin,
        format!(
            "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
            quote_ident(name)
        ),
    )
    .await?;
    Ok(())
}

/// The constraint (business-rule) name of a database error, if any.
///
/// Trigger-enforced rules raise with `CONSTRAINT = '<rule>'`, so they are found here too.
pub fn violated_rule(err: &sqlx::Error) -> Option<&str> {
    err.as_database_error()?.constraint()
}

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
    /// A fresh database with every migration applied (no data). Panics with a clear message
    /// when no server can be had (it is meant for tests).
    pub async fn new() -> Self {
        Self::create(Some(Template::Migrated))
            .await
            .unwrap_or_else(|e| panic!("quotedb-testkit: {e}"))
    }

    /// A fresh migrated database holding the reference seeds.
    pub async fn seeded() -> Self {
        Self::create(Some(Template::Seeded))
            .await
            .unwrap_or_else(|e| panic!("quotedb-testkit: {e}"))
    }

    /// A fresh, empty (unmigrated) database, for migration tests.
    pub async fn empty() -> Self {
        Self::create(None)
            .await
            .unwrap_or_else(|e| panic!("quotedb-testkit: {e}"))
    }

    /// Like [`TestDb::new`] / [`TestDb::seeded`] / [`TestDb::empty`], returning errors.
    pub async fn create(template: Option<Template>) -> Result<Self, Error> {
        let server = server().await?;
        let name = Self::fresh_name();
        match template {
            Some(t) => server.create_database_from(&name, t).await?,
            None => server.create_empty_database(&name).await?,
        }
        let url = server.url_for(&name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&url)
            .await?;
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
        format!("qt_{test}_{suffix}")
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

    /// The server this database lives on.
    pub fn server(&self) -> &'static Server {
        self.server
    }
}

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
        // Drop runs inside the test's runtime, which cannot be blocked on: drop the database from a
        // short-lived thread with its own runtime. WITH (FORCE) ends this pool's connections.
        let (server, name) = (self.server, self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(server.drop_database(&name)).map_err(std::io::Error::other)
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| std::io::Error::other("panicked")) {
            eprintln!("quotedb-testkit: could not drop test database {}: {e}", self.name);
        }
    }
}
