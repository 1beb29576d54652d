//! A streaming replica (hot standby) of the test server, for read routing tests.
//!
//! - Project-local cluster: [`replica`] creates the standby `replica` of the cluster on first use
//!   (`pg_basebackup -R -X stream` through the slot `quotedb_replica`, its own port; see
//!   [`LocalCluster::ensure_standby`]) and starts it; it is reused by later test binaries and
//!   runs, and stopped with the cluster (`cargo xtask db-stop`). [`dedicated_replica`] makes a
//!   throw-away standby for a test that pauses, stops or otherwise disturbs its replica.
//! - `DATABASE_URL`: the replica is `QUOTEDB_REPLICA_URL` (a standby of that server) if given;
//!   otherwise [`replica`] is [`Error::NoReplica`] and tests that need one skip.
//!
//! Databases created on the primary reach the standby by replaying the WAL (`CREATE DATABASE`
//! is WAL-logged): [`Replica::url_for`] waits until the standby has replayed what the primary had
//! written when it was called, so a test's database exists there at the same name.

use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use tokio::sync::OnceCell;

use crate::cluster::LocalCluster;
use crate::{Backend, Error, Server, server};

/// How long [`Replica::url_for`] waits for the standby to replay a database's creation. Long: a
/// standby replays all the cluster's WAL in one process, and while a test binary creates and
/// drops a database per test on two busy cores it can fall a minute or more behind.
const CATCH_UP: Duration = Duration::from_secs(300);

/// A hot standby of the test server.
#[derive(Debug, Clone)]
pub struct Replica {
    /// URL of the standby, path = the maintenance database.
    base: url::Url,
    /// The standby's cluster when it is a local one (stop, start).
    cluster: Option<LocalCluster>,
    /// Its name under the primary's `standbys/` directory (local standbys).
    name: Option<String>,
    primary: &'static Server,
}

impl Replica {
    /// The maintenance database URL of the standby.
    pub fn admin_url(&self) -> String {
        self.base.to_string()
    }

    /// The standby's local cluster (to stop or start it), when it is one.
    pub fn cluster(&self) -> Option<&LocalCluster> {
        self.cluster.as_ref()
    }

    /// The URL of database `db` on the standby, once the standby has replayed everything the
    /// primary had written when this was called (so a database just created there exists).
    pub async fn url_for(&self, db: &str) -> Result<String, Error> {
        let mut primary = self.primary.admin_connection().await?;
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
            .fetch_one(&mut primary)
            .await?;
        primary.close().await?;
        self.wait_for_replay(&lsn, CATCH_UP).await?;
        let mut url = self.base.clone();
        url.set_path(&format!("/{db}"));
        Ok(url.to_string())
    }

    /// Wait until the standby has replayed the WAL up to `lsn` (`pg_lsn` text, e.g. `0/3000148`),
    /// polling every millisecond, at most `timeout`. Returns how long it waited.
    pub async fn wait_for_replay(&self, lsn: &str, timeout: Duration) -> Result<Duration, Error> {
        let start = Instant::now();
        let mut conn = PgConnection::connect(self.base.as_str()).await?;
        loop {
            let replayed: bool =
                sqlx::query_scalar("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)")
                    .bind(lsn)
                    .fetch_one(&mut conn)
                    .await?;
            if replayed {
                conn.close().await?;
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(Error::Cluster(format!(
                    "the standby at {} has not replayed {lsn} after {timeout:?}",
                    self.base
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Stop the standby's server (local standbys; a no-op otherwise).
    pub async fn stop(&self) -> Result<(), Error> {
        match self.cluster.clone() {
            Some(c) => blocking(move || c.stop()).await,
            None => Ok(()),
        }
    }

    /// Start the standby's server again (local standbys; a no-op otherwise).
    pub async fn start(&self) -> Result<(), Error> {
        let (Backend::LocalCluster(primary), Some(name)) = (self.primary.backend(), self.name.clone()) else {
            return Ok(());
        };
        let primary = primary.clone();
        blocking(move || primary.ensure_standby(&name, false).map(drop)).await
    }

    /// Stop the standby and delete it (a [`dedicated_replica`] at the end of its test).
    pub async fn remove(self) -> Result<(), Error> {
        let (Backend::LocalCluster(primary), Some(name)) = (self.primary.backend(), self.name.clone()) else {
            return Ok(());
        };
        let primary = primary.clone();
        blocking(move || primary.remove_standby(&name)).await
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Cluster(format!("a standby task failed: {e}")))?
}

async fn local_standby(server: &'static Server, name: &str, slot: bool) -> Result<Replica, Error> {
    let primary = match server.backend() {
        Backend::LocalCluster(c) => c.clone(),
        _ => {
            return Err(Error::NoReplica(
                "the test server is not the project-local cluster and QUOTEDB_REPLICA_URL is not set".into(),
            ));
        }
    };
    let owned = name.to_string();
    let standby = blocking(move || primary.ensure_standby(&owned, slot)).await?;
    let base = url::Url::parse(&standby.admin_url()).map_err(|e| Error::Cluster(e.to_string()))?;
    Ok(Replica {
        base,
        cluster: Some(standby),
        name: Some(name.to_string()),
        primary: server,
    })
}

static REPLICA: OnceCell<Replica> = OnceCell::const_new();

/// The shared streaming replica of the test server, created and started on first use (see the
/// module documentation). [`Error::NoReplica`] when none can be had: a test that needs one skips.
pub async fn replica() -> Result<&'static Replica, Error> {
    REPLICA
        .get_or_try_init(|| async {
            let server = server().await?;
            if let Some(raw) = std::env::var("QUOTEDB_REPLICA_URL").ok().filter(|u| !u.is_empty()) {
                let mut base = url::Url::parse(&raw).map_err(|e| Error::BadDatabaseUrl {
                    url: raw.clone(),
                    reason: e.to_string(),
                })?;
                base.set_path("/postgres");
                return Ok(Replica {
                    base,
                    cluster: None,
                    name: None,
                    primary: server,
                });
            }
            local_standby(server, "replica", true).await
        })
        .await
}

/// A standby of the project-local cluster for one test alone (to pause, stop or restart without
/// disturbing the tests sharing [`replica`]): `name` must be unique to the test. Created afresh
/// (a leftover of that name is removed first); [`Replica::remove`] deletes it.
pub async fn dedicated_replica(name: &str) -> Result<Replica, Error> {
    let server = server().await?;
    if let Backend::LocalCluster(primary) = server.backend() {
        let (primary, owned) = (primary.clone(), format!("test_{name}"));
        blocking(move || primary.remove_standby(&owned)).await?;
    }
    local_standby(server, &format!("test_{name}"), false).await
}
