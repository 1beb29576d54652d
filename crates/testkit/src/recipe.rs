//! What a template database holds: a [`Recipe`] — a label, the steps that build it, and a hash of
//! everything that goes into them (the shape of pgtestdb's `Migrator`). The test kit knows nothing
//! of quotedb: the schema crate hands it `MIGRATOR`, the seeds crate its SQL files.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sha2::{Digest as _, Sha256};
use sqlx::migrate::Migrator;
use sqlx::{Connection as _, Executor as _, PgConnection};
use tokio::sync::OnceCell;

use crate::server::{ddl, quote_ident};
use crate::{Error, Server};

/// An error of a custom build step.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a custom build step returns.
pub type BuildFuture<'c> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'c>>;

type BuildFn = dyn for<'c> Fn(&'c mut PgConnection) -> BuildFuture<'c> + Send + Sync;

/// How to build a template database: steps run in order on a fresh database, named by a hash of
/// their content, so a changed migration or seed file makes a new template (the old one is left
/// for `cargo xtask db-clean`, [`Server::sweep`]).
///
/// ```no_run
/// # static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;
/// # static SEEDS: &[(&str, &str)] = &[];
/// use quotedb_testkit::Recipe;
/// // What `TestDb::seeded(&MIGRATOR, SEEDS)` uses:
/// let recipe = Recipe::new("seeded").migrations(&MIGRATOR).sql_scripts("seeds", SEEDS);
/// assert!(recipe.template_name().starts_with("quotedb_tpl_seeded_"));
/// ```
#[derive(Clone)]
pub struct Recipe {
    label: String,
    steps: Vec<Step>,
}

#[derive(Clone)]
struct Step {
    label: String,
    build: Build,
    /// The caller's hash of a custom step's content (the other kinds are hashed from their data).
    hash: Vec<u8>,
}

#[derive(Clone)]
enum Build {
    Migrations(&'static Migrator),
    Sql(&'static [(&'static str, &'static str)]),
    Custom(Arc<BuildFn>),
}

impl fmt::Debug for Recipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipe")
            .field("label", &self.label)
            .field("steps", &self.steps.iter().map(|s| &s.label).collect::<Vec<_>>())
            .field("hash", &self.hash())
            .finish()
    }
}

impl Recipe {
    /// An empty recipe. `label` names its templates: 1–16 characters of `a-z`, `0-9`, `_`.
    ///
    /// # Panics
    /// On any other label (a programming error in the calling test code).
    pub fn new(label: &str) -> Self {
        assert!(
            (1..=16).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "quotedb-testkit: a recipe label is 1-16 characters of a-z, 0-9 and _, not {label:?}"
        );
        Self {
            label: label.to_string(),
            steps: Vec::new(),
        }
    }

    /// Every migration of `migrator` applied (what [`TestDb::migrated`](crate::TestDb::migrated)
    /// uses).
    pub fn migrated(migrator: &'static Migrator) -> Self {
        Self::new("migrated").migrations(migrator)
    }

    /// Every migration of `migrator`, then `scripts` in one transaction (what
    /// [`TestDb::seeded`](crate::TestDb::seeded) uses).
    pub fn seeded(migrator: &'static Migrator, scripts: &'static [(&'static str, &'static str)]) -> Self {
        Self::new("seeded").migrations(migrator).sql_scripts("seeds", scripts)
    }

    /// Then: run `migrator`'s migrations.
    pub fn migrations(mut self, migrator: &'static Migrator) -> Self {
        self.steps.push(Step {
            label: "migrations".into(),
            build: Build::Migrations(migrator),
            hash: Vec::new(),
        });
        self
    }

    /// Then: run SQL scripts (`(file name, text)`, in order, simple protocol) in one transaction.
    pub fn sql_scripts(mut self, label: &str, scripts: &'static [(&'static str, &'static str)]) -> Self {
        self.steps.push(Step {
            label: label.into(),
            build: Build::Sql(scripts),
            hash: Vec::new(),
        });
        self
    }

    /// Then: run `build` on the template's connection. `hash` must change whenever what `build`
    /// writes changes (a fingerprint of its input data, a version).
    pub fn step<F>(mut self, label: &str, hash: impl AsRef<[u8]>, build: F) -> Self
    where
        F: for<'c> Fn(&'c mut PgConnection) -> BuildFuture<'c> + Send + Sync + 'static,
    {
        self.steps.push(Step {
            label: label.into(),
            build: Build::Custom(Arc::new(build)),
            hash: hash.as_ref().to_vec(),
        });
        self
    }

    /// The label given to [`Recipe::new`].
    pub fn label(&self) -> &str {
        &self.label
    }

    /// 12 hex digits of SHA-256 over the label and every step: migrations (version, description,
    /// kind, SQL), script names and texts, custom steps' own hashes. Nothing time-dependent: a
    /// template lives until what goes into it changes.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.label.as_bytes());
        for step in &self.steps {
            h.update([0]);
            h.update(step.label.as_bytes());
            match &step.build {
                Build::Migrations(migrator) => {
                    for m in migrator.iter() {
                        h.update(m.version.to_le_bytes());
                        h.update(m.description.as_bytes());
                        h.update([u8::from(m.migration_type.is_down_migration())]);
                        h.update(m.sql.as_ref().as_bytes());
                    }
                }
                Build::Sql(scripts) => {
                    for (name, sql) in *scripts {
                        h.update(name.as_bytes());
                        h.update([0]);
                        h.update(sql.as_bytes());
                    }
                }
                Build::Custom(_) => h.update(&step.hash),
            }
        }
        hex::encode(&h.finalize()[..6])
    }

    /// `quotedb_tpl_<label>_<hash>`: the name of this recipe's template database.
    pub fn template_name(&self) -> String {
        format!("{TEMPLATE_PREFIX}{}_{}", self.label, self.hash())
    }

    /// Build this recipe's template on `server` unless it is there (once per process and server;
    /// across processes, serialised by an advisory lock). Returns the template's name.
    pub async fn ensure_on(&self, server: &Server) -> Result<String, Error> {
        let name = self.template_name();
        let cell = {
            let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
            built
                .entry((server.admin_url(), name.clone()))
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        cell.get_or_try_init(|| self.build_locked(server, &name)).await?;
        Ok(name)
    }

    /// Forget that this recipe's template is built on `server` (it was dropped meanwhile): the
    /// next [`Recipe::ensure_on`] looks again, and builds it if missing.
    pub(crate) fn forget_on(&self, server: &Server) {
        BUILT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(server.admin_url(), self.template_name()));
    }

    async fn build_locked(&self, server: &Server, name: &str) -> Result<(), Error> {
        let mut admin = server.admin_connection().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await?;
        let result = self.build_unless_built(server, &mut admin, name).await;
        let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await;
        result?;
        unlock?;
        admin.close().await?;
        Ok(())
    }

    async fn build_unless_built(&self, server: &Server, admin: &mut PgConnection, name: &str) -> Result<(), Error> {
        let state: Option<bool> = sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut *admin)
            .await?;
        match state {
            Some(true) => return Ok(()),
            // A build that died half-way: start over.
            Some(false) => ddl(&mut *admin, format!("DROP DATABASE {} WITH (FORCE)", quote_ident(name))).await?,
            None => {}
        }
        eprintln!("quotedb-testkit: building template database {name}");
        ddl(&mut *admin, format!("CREATE DATABASE {}", quote_ident(name))).await?;
        let mut conn = PgConnection::connect(&server.url_for(name)).await?;
        for step in &self.steps {
            self.run_step(step, &mut conn, name).await?;
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

    async fn run_step(&self, step: &Step, conn: &mut PgConnection, template: &str) -> Result<(), Error> {
        let failed = |source: BoxError| Error::Build {
            template: template.to_string(),
            step: step.label.clone(),
            source,
        };
        match &step.build {
            // `run_direct` is what `Migrator::run` calls after acquiring; sqlx exposes it for callers
            // whose future must be `Send` ("`Acquire` is not general enough" otherwise).
            Build::Migrations(migrator) => migrator
                .run_direct(None, &mut *conn, false)
                .await
                .map_err(|e| failed(e.into())),
            Build::Sql(scripts) => {
                let mut tx = conn.begin().await?;
                for (file, sql) in *scripts {
                    // Scripts are multi-statement SQL files (simple protocol), not parameterised.
                    tx.execute(*sql)
                        .await
                        .map_err(|e| failed(format!("{file}: {e}").into()))?;
                }
                tx.commit().await?;
                Ok(())
            }
            Build::Custom(build) => build(conn).await.map_err(failed),
        }
    }
}

/// Templates are named `quotedb_tpl_<label>_<hash>`.
pub(crate) const TEMPLATE_PREFIX: &str = "quotedb_tpl_";

/// Templates known to be built, per (server, template name), in this process.
static BUILT: LazyLock<Mutex<BuiltTemplates>> = LazyLock::new(Mutex::default);
type BuiltTemplates = HashMap<(String, String), Arc<OnceCell<()>>>;

/// Advisory lock key serialising template builds across processes.
const TEMPLATE_LOCK: i64 = 0x71_75_6f_74_65_64_62; // "quotedb"
