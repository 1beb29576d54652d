//! Where the PostgreSQL server comes from, and what the test kit does on it as administrator.

use std::str::FromStr as _;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection};
use tokio::sync::OnceCell;

use crate::{Error, Recipe, cluster};

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

    /// Create database `db` as a copy of `recipe`'s template (built on this server if missing).
    ///
    /// A direct clone, for long-lived databases (the dev database, the bench database). Tests
    /// get theirs from [`TestDb`](crate::TestDb), which takes a pre-cloned one when it can.
    pub async fn create_database_from(&self, db: &str, recipe: &Recipe) -> Result<(), Error> {
        let template = recipe.ensure_on(self).await?;
        let mut conn = self.admin_connection().await?;
        clone_database(&mut conn, db, &template).await?;
        conn.close().await?;
        Ok(())
    }

    /// Drop what the test kit left on this server that `keep` no longer needs: templates and
    /// pre-cloned databases of other recipes (older migrations or seeds), and kept test databases
    /// (`qt_*`) nobody is connected to. A database in use is left alone. Returns the dropped names.
    pub async fn sweep(&self, keep: &[&Recipe]) -> Result<Vec<String>, Error> {
        let templates: Vec<String> = keep.iter().map(|r| r.template_name()).collect();
        let ready: Vec<String> = keep
            .iter()
            .map(|r| format!("{}{}_", crate::ready::READY_PREFIX, r.hash()))
            .collect();
        let mut conn = self.admin_connection().await?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2) \
             OR starts_with(datname, $3) ORDER BY datname",
        )
        .bind(crate::recipe::TEMPLATE_PREFIX)
        .bind(crate::ready::READY_PREFIX)
        .bind(crate::testdb::TEST_PREFIX)
        .fetch_all(&mut conn)
        .await?;
        let mut dropped = Vec::new();
        for name in names {
            let stale = if name.starts_with(crate::recipe::TEMPLATE_PREFIX) {
                !templates.contains(&name)
            } else if name.starts_with(crate::ready::READY_PREFIX) {
                !ready.iter().any(|prefix| name.starts_with(prefix.as_str()))
            } else {
                true
            };
            if !stale {
                continue;
            }
            let quoted = quote_ident(&name);
            // Without FORCE: a database someone is connected to (a running test) fails to drop
            // and is skipped.
            let done = async {
                ddl(&mut conn, format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE false")).await?;
                ddl(&mut conn, format!("DROP DATABASE {quoted}")).await
            }
            .await;
            if done.is_ok() {
                dropped.push(name);
            }
        }
        conn.close().await?;
        Ok(dropped)
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
pub(crate) async fn ddl(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// `CREATE DATABASE db TEMPLATE template`, with `STRATEGY FILE_COPY` where the server knows it.
///
/// FILE_COPY copies the template's files and checkpoints: on PostgreSQL 15 it clones a seeded
/// template in about 15–28 ms against 37–73 ms for the default WAL_LOG, which writes every block
/// to the WAL. Servers before 15 know no STRATEGY: they copy files anyway.
pub(crate) async fn clone_database(conn: &mut PgConnection, db: &str, template: &str) -> Result<(), sqlx::Error> {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut *conn)
        .await?;
    let strategy = if version >= 150_000 { " STRATEGY FILE_COPY" } else { "" };
    ddl(
        conn,
        format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            quote_ident(db),
            quote_ident(template)
        ),
    )
    .await
}

/// Quote a PostgreSQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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
