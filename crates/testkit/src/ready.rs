//! Test databases in milliseconds: pre-cloned databases, and one administrator per process.
//!
//! Cloning a template costs 15–30 ms on PostgreSQL 15 (a checkpoint and a file copy), more than a
//! short test. So the test kit keeps a few clones of each template ready on the server, named
//! `quotedb_rdy_<recipe hash>_<random>`, and a test claims one by renaming it
//! (`ALTER DATABASE … RENAME`, a catalog update): renaming is atomic, so two processes never get
//! the same database, and a clone is only ever visible once complete (`CREATE DATABASE` commits
//! at its end). After a claim, a background task clones a replacement; ready databases outlive
//! the process, so the next test binary starts with them. With none ready (the first test of a
//! new template), the test clones directly.
//!
//! The work runs on one thread per process with its own runtime and connections to the
//! maintenance database: every `#[tokio::test]` has its own runtime, whose connections die with
//! it, so a connection kept across tests must live elsewhere. Dropping a test database goes
//! through the same thread.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sqlx::{Connection as _, PgConnection};
use tokio::sync::{mpsc, oneshot};

use crate::server::{clone_database, ddl, quote_ident};
use crate::{Error, Server};

/// Pre-cloned databases are named `quotedb_rdy_<recipe hash>_<random>`.
pub(crate) const READY_PREFIX: &str = "quotedb_rdy_";

/// `LIKE` pattern of the ready clones of the recipe with this hash (`_` escaped).
fn ready_pattern(hash: &str) -> String {
    format!("{}{hash}\\_%", READY_PREFIX.replace('_', "\\_"))
}

/// How many clones of each template to keep ready: `QUOTEDB_TESTKIT_READY`, default 3 (0 turns
/// pre-cloning off).
fn ready_target() -> usize {
    std::env::var("QUOTEDB_TESTKIT_READY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

enum Request {
    Claim {
        server: &'static Server,
        template: String,
        hash: String,
        name: String,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Drop {
        server: &'static Server,
        name: String,
        reply: std_mpsc::Sender<Result<(), Error>>,
    },
}

/// Create database `name` for a test from `template`: a ready clone renamed when there is one,
/// else a direct clone; then top the ready clones up in the background.
pub(crate) async fn claim(server: &'static Server, template: String, hash: String, name: &str) -> Result<(), Error> {
    let (reply, answer) = oneshot::channel();
    let request = Request::Claim {
        server,
        template: template.clone(),
        hash,
        name: name.to_string(),
        reply,
    };
    if worker().send(request).is_ok()
        && let Ok(result) = answer.await
    {
        return result;
    }
    // No administrator thread (it could not be started): clone here.
    let mut conn = server.admin_connection().await?;
    clone_database(&mut conn, name, &template).await?;
    conn.close().await?;
    Ok(())
}

/// Drop test database `name` (terminating its connections). Blocks the calling thread: it runs
/// from `Drop`, inside a test's runtime, which cannot be awaited on.
pub(crate) fn drop_blocking(server: &'static Server, name: &str) -> Result<(), Error> {
    let (reply, answer) = std_mpsc::channel();
    let request = Request::Drop {
        server,
        name: name.to_string(),
        reply,
    };
    if worker().send(request).is_ok()
        && let Ok(result) = answer.recv_timeout(Duration::from_secs(120))
    {
        return result;
    }
    // No administrator thread: a short-lived one with its own runtime.
    let name = name.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster(format!("cannot start a runtime to drop {name}: {e}")))?;
        rt.block_on(server.drop_database(&name))
    })
    .join()
    .unwrap_or_else(|_| Err(Error::Cluster("the drop thread panicked".into())))
}

fn worker() -> &'static mpsc::UnboundedSender<Request> {
    static WORKER: OnceLock<mpsc::UnboundedSender<Request>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        // If the thread cannot start, `rx` is dropped and every send fails: callers do the work.
        // Its tasks are local (`spawn_local`): one thread, and the connections never move.
        let _ = std::thread::Builder::new()
            .name("quotedb-testkit-admin".into())
            .spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(tokio::task::LocalSet::new().run_until(serve(rx)));
                }
            });
        tx
    })
}

/// Idle admin connections per server URL, shared by the tasks of the administrator thread.
#[derive(Default)]
struct Connections(Mutex<HashMap<String, Vec<PgConnection>>>);

impl Connections {
    async fn take(&self, server: &Server) -> Result<PgConnection, Error> {
        let idle = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&server.admin_url())
            .and_then(Vec::pop);
        match idle {
            Some(conn) => Ok(conn),
            None => server.admin_connection().await,
        }
    }

    fn give_back(&self, server: &Server, conn: PgConnection) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(server.admin_url())
            .or_default()
            .push(conn);
    }

    /// Run `work` on an admin connection; a connection that failed is not reused, and work that
    /// failed on a kept connection (the server restarted meanwhile) is tried once on a new one.
    async fn with<T>(
        &self,
        server: &Server,
        work: impl AsyncFn(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, Error> {
        let mut conn = self.take(server).await?;
        match work(&mut conn).await {
            Ok(v) => {
                self.give_back(server, conn);
                Ok(v)
            }
            Err(e) if is_connection_error(&e) => {
                let mut fresh = server.admin_connection().await?;
                let v = work(&mut fresh).await?;
                self.give_back(server, fresh);
                Ok(v)
            }
            Err(e) => {
                self.give_back(server, conn);
                Err(e.into())
            }
        }
    }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now (class 57P: operator intervention)
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

async fn serve(mut requests: mpsc::UnboundedReceiver<Request>) {
    let conns = Arc::new(Connections::default());
    let refilling = Arc::new(Mutex::new(HashSet::<String>::new()));
    while let Some(request) = requests.recv().await {
        let conns = Arc::clone(&conns);
        match request {
            Request::Claim {
                server,
                template,
                hash,
                name,
                reply,
            } => {
                let refilling = Arc::clone(&refilling);
                tokio::task::spawn_local(async move {
                    let claimed = take_ready_or_clone(&conns, server, &template, &hash, &name).await;
                    let ok = claimed.is_ok();
                    let _ = reply.send(claimed);
                    if ok {
                        refill(&conns, &refilling, server, &template, &hash).await;
                    }
                });
            }
            Request::Drop { server, name, reply } => {
                tokio::task::spawn_local(async move {
                    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name));
                    let dropped = conns.with(server, async |c| ddl(c, sql.clone()).await).await;
                    let _ = reply.send(dropped);
                });
            }
        }
    }
}

async fn take_ready_or_clone(
    conns: &Connections,
    server: &Server,
    template: &str,
    hash: &str,
    name: &str,
) -> Result<(), Error> {
    let pattern = ready_pattern(hash);
    let ready: Vec<String> = conns
        .with(server, async |c| {
            sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1 ORDER BY oid")
                .bind(&pattern)
                .fetch_all(c)
                .await
        })
        .await?;
    for candidate in ready {
        // Another process may have renamed it first, or autovacuum may be connected: try the next.
        let sql = format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&candidate),
            quote_ident(name)
        );
        if conns.with(server, async |c| ddl(c, sql.clone()).await).await.is_ok() {
            return Ok(());
        }
    }
    conns
        .with(server, async |c| clone_database(c, name, template).await)
        .await
}

/// Clone `template` until `ready_target()` clones are ready; one refill per template at a time.
async fn refill(conns: &Connections, refilling: &Mutex<HashSet<String>>, server: &Server, template: &str, hash: &str) {
    let target = ready_target();
    if target == 0
        || !refilling
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(template.to_string())
    {
        return;
    }
    let pattern = ready_pattern(hash);
    loop {
        let count = conns
            .with(server, async |c| {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname LIKE $1")
                    .bind(&pattern)
                    .fetch_one(c)
                    .await
            })
            .await;
        let Ok(count) = count else { break };
        if usize::try_from(count).unwrap_or(usize::MAX) >= target {
            break;
        }
        let ready = format!(
            "{READY_PREFIX}{hash}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        // A refill is an optimisation: on failure (server restarting, disk full) tests clone
        // directly, so the error is reported and refilling stops.
        if let Err(e) = conns
            .with(server, async |c| clone_database(c, &ready, template).await)
            .await
        {
            eprintln!("quotedb-testkit: could not pre-clone {template}: {e}");
            break;
        }
    }
    refilling
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(template);
}
