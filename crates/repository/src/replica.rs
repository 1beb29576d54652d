//! Read routing to streaming replicas, with read-your-writes.
//!
//! A [`Db`] built with [`Db::with_replicas`] (or [`Db::connect_with_replicas`]) sends the reads
//! that only read and tolerate staleness to a hot standby, and everything else to the primary:
//!
//! | Routed to a replica | |
//! |---|---|
//! | [`Quotes::list_for_customer`](crate::quotes::Quotes::list_for_customer) | a customer's quote pages |
//! | [`Quotes::list_for_agent`](crate::quotes::Quotes::list_for_agent) | an agent's pipeline pages |
//! | [`Dashboards::list`](crate::admin::dashboards::Dashboards::list) | an admin's dashboards |
//! | [`Activity::high_risk_page`](crate::admin::activity::Activity::high_risk_page) | the high-risk activity page |
//! | [`RateChanges::list_pending`](crate::admin::rate_changes::RateChanges::list_pending) | the pending rate changes queue |
//!
//! Every write, and every other read (a quote by id or number, its versions and coverages, the
//! reads a workflow makes before writing, sessions, reference data), goes to the primary: a
//! replica is only ever used where the table above says so. Without replicas ([`Db::new`])
//! everything goes to the primary, as before.
//!
//! **Read-your-writes.** A write returns when the primary has it; a replica has it a moment
//! later. After a write, take a [`ReadToken`] ([`Db::read_token`]: the primary's WAL insert
//! position, one round trip) and read through [`Db::after`]`(token)`: a routed read then goes to
//! a replica only once it has replayed the WAL up to the token, waiting for that at most
//! [`ReplicaOptions::max_wait`] (polling every [`ReplicaOptions::poll_interval`]), else it reads
//! the primary. The token is a plain value (`Display`/`FromStr`, e.g. `0/3A01F28`): a web tier
//! can carry it across requests in a cookie or header, so the user who just saved a quote sees
//! it on the next page even if that request lands on another process. [`Db::on_primary`] sends
//! every read of a handle to the primary.
//!
//! **Health.** A replica is skipped while its replay lag exceeds [`ReplicaOptions::max_lag`]
//! (seconds since the last replayed transaction while WAL is waiting to be replayed; 0 when it
//! has replayed all it received), and marked down for [`ReplicaOptions::down_for`] when it
//! cannot be reached (a probe that fails or takes longer than [`ReplicaOptions::probe_timeout`],
//! or a read that loses its connection): the read goes to the primary meanwhile. A replica's
//! state is probed with one round trip at most every [`ReplicaOptions::recheck`], or when a read
//! needs a newer position than the last one seen. A read that a replica cancels (a recovery
//! conflict, `40001`) or that finds no database there yet (`3D000`) is read again on the primary.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection, PgPool};

use crate::Db;

/// How reads are routed to replicas, and when a replica is not good enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaOptions {
    /// A replica whose replay lag exceeds this is skipped (default 5 s).
    pub max_lag: Duration,
    /// How long a read with a [`ReadToken`] waits for a replica to replay up to it before it
    /// reads the primary instead (default 100 ms; zero: never wait, read the primary).
    pub max_wait: Duration,
    /// How often a waiting read polls the replica's replay position (default 2 ms).
    pub poll_interval: Duration,
    /// How long a probe of a replica may take before the replica is marked down (default 1 s).
    pub probe_timeout: Duration,
    /// How long a replica that failed stays out of rotation (default 5 s).
    pub down_for: Duration,
    /// How long a probe's result (lag, replay position) is trusted (default 100 ms).
    pub recheck: Duration,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        Self {
            max_lag: Duration::from_secs(5),
            max_wait: Duration::from_millis(100),
            poll_interval: Duration::from_millis(2),
            probe_timeout: Duration::from_secs(1),
            down_for: Duration::from_secs(5),
            recheck: Duration::from_millis(100),
        }
    }
}

/// A position in the primary's WAL (a `pg_lsn`): what a replica must have replayed for a read to
/// see the writes made before the token was taken. From [`Db::read_token`]; text form `X/Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadToken(u64);

impl ReadToken {
    /// The LSN as a number (bytes since the start of the WAL).
    pub fn lsn(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ReadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// A string that is not a `pg_lsn` (`X/Y`, hexadecimal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a read token (pg_lsn X/Y): {0:?}")]
pub struct BadReadToken(String);

impl FromStr for ReadToken {
    type Err = BadReadToken;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadReadToken(s.to_owned());
        let (hi, lo) = s.split_once('/').ok_or_else(bad)?;
        let hi = u32::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Self((u64::from(hi) << 32) | u64::from(lo)))
    }
}

/// What a handle's routed reads must see (set by [`Db::after`] and [`Db::on_primary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// Any replica within [`ReplicaOptions::max_lag`] will do.
    #[default]
    Eventual,
    /// A replica that has replayed up to the token, waited for at most
    /// [`ReplicaOptions::max_wait`]; else the primary.
    AtLeast(ReadToken),
    /// The primary only.
    Primary,
}

/// What a handle knows of one replica (from its last probe), for monitoring: [`Db::replica_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Out of rotation until this long from now (unreachable, timed out, or not a standby).
    pub down_for: Option<Duration>,
    /// Why it was last marked down.
    pub last_error: Option<String>,
    /// Its replay lag at the last probe.
    pub lag: Option<Duration>,
    /// Its replay position at the last probe.
    pub replayed: Option<ReadToken>,
    /// How long ago the last probe was.
    pub probed_ago: Option<Duration>,
}

/// What the last probe of a replica found.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Instant,
    replayed: u64,
    lag: Duration,
}

#[derive(Debug)]
struct Node {
    pool: PgPool,
    seen: Mutex<Option<Seen>>,
    down_until: Mutex<Option<Instant>>,
    last_error: Mutex<Option<String>>,
}

/// The replicas of a [`Db`], shared by its clones.
#[derive(Debug)]
pub(crate) struct Replicas {
    nodes: Vec<Node>,
    options: ReplicaOptions,
    next: AtomicUsize,
}

/// Where a routed read goes: the primary or replica `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Primary,
    Replica(usize),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Replicas {
    pub(crate) fn new(pools: Vec<PgPool>, options: ReplicaOptions) -> Self {
        Self {
            nodes: pools
                .into_iter()
                .map(|pool| Node {
                    pool,
                    seen: Mutex::new(None),
                    down_until: Mutex::new(None),
                    last_error: Mutex::new(None),
                })
                .collect(),
            options,
            next: AtomicUsize::new(0),
        }
    }

    pub(crate) fn options(&self) -> ReplicaOptions {
        self.options
    }

    pub(crate) fn pool(&self, n: usize) -> &PgPool {
        &self.nodes[n].pool
    }

    pub(crate) fn mark_down(&self, n: usize, why: String) {
        *lock(&self.nodes[n].down_until) = Some(Instant::now() + self.options.down_for);
        *lock(&self.nodes[n].seen) = None;
        *lock(&self.nodes[n].last_error) = Some(why);
    }

    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        let now = Instant::now();
        self.nodes
            .iter()
            .map(|node| {
                let seen = *lock(&node.seen);
                ReplicaStatus {
                    down_for: lock(&node.down_until).and_then(|until| until.checked_duration_since(now)),
                    last_error: lock(&node.last_error).clone(),
                    lag: seen.map(|s| s.lag),
                    replayed: seen.map(|s| ReadToken(s.replayed)),
                    probed_ago: seen.map(|s| s.at.elapsed()),
                }
            })
            .collect()
    }

    fn is_down(&self, n: usize) -> bool {
        lock(&self.nodes[n].down_until).is_some_and(|until| Instant::now() < until)
    }

    /// The replica's state: the cached probe if fresh enough (and, with `need`, already past it),
    /// else a new probe. `None`: unreachable (marked down) or not a standby.
    async fn state(&self, n: usize, need: Option<u64>) -> Option<Seen> {
        let cached = *lock(&self.nodes[n].seen);
        if let Some(seen) = cached
            && seen.at.elapsed() < self.options.recheck
            && need.is_none_or(|lsn| seen.replayed >= lsn)
        {
            return Some(seen);
        }
        match tokio::time::timeout(self.options.probe_timeout, probe(&self.nodes[n].pool)).await {
            Ok(Ok(Some(seen))) => {
                *lock(&self.nodes[n].seen) = Some(seen);
                Some(seen)
            }
            Ok(Ok(None)) => {
                tracing::warn!(replica = n, "not a standby (promoted?): skipped");
                self.mark_down(n, "not a standby (promoted?)".into());
                None
            }
            Ok(Err(e)) => {
                tracing::warn!(replica = n, error = %e, "replica unreachable: marked down");
                self.mark_down(n, format!("probe failed: {e}"));
                None
            }
            Err(_) => {
                tracing::warn!(replica = n, "replica probe timed out: marked down");
                self.mark_down(n, format!("probe timed out ({:?})", self.options.probe_timeout));
                None
            }
        }
    }

    /// Choose where a read with `consistency` goes.
    pub(crate) async fn route(&self, consistency: Consistency) -> Route {
        let need = match consistency {
            Consistency::Primary => return Route::Primary,
            Consistency::Eventual => None,
            Consistency::AtLeast(token) => Some(token.0),
        };
        let count = self.nodes.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.options.max_wait;
        loop {
            let mut candidates = 0;
            for i in 0..count {
                let n = (first + i) % count;
                if self.is_down(n) {
                    continue;
                }
                let Some(seen) = self.state(n, need).await else {
                    continue;
                };
                if seen.lag > self.options.max_lag {
                    tracing::debug!(replica = n, lag = ?seen.lag, "replica lags beyond the bound: skipped");
                    continue;
                }
                if need.is_none_or(|lsn| seen.replayed >= lsn) {
                    return Route::Replica(n);
                }
                candidates += 1;
            }
            // Behind the token everywhere: wait for replay, within the bound.
            if candidates == 0 || Instant::now() + self.options.poll_interval > deadline {
                return Route::Primary;
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }
}

/// One round trip: whether the server is a standby, its replay position and replay lag.
async fn probe(pool: &PgPool) -> Result<Option<Seen>, sqlx::Error> {
    let (standby, replayed, lag): (bool, Option<String>, f64) = sqlx::query_as(
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, \
                CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
                     ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8",
    )
    .fetch_one(pool)
    .await?;
    if !standby {
        return Ok(None);
    }
    let replayed = replayed.and_then(|r| r.parse::<ReadToken>().ok()).map_or(0, |t| t.0);
    Ok(Some(Seen {
        at: Instant::now(),
        replayed,
        lag: Duration::from_secs_f64(lag.max(0.0)),
    }))
}

/// Whether a read that failed on a replica should be read again on the primary, and whether the
/// replica should be marked down for it.
pub(crate) fn fallback(err: &sqlx::Error) -> Option<bool> {
    if crate::error::is_connection_lost(err) || matches!(err, sqlx::Error::PoolTimedOut) {
        return Some(true);
    }
    // 40001: canceled by a recovery conflict; 3D000: the database is not on the replica yet;
    // 25006: read-only transaction (a routed read must never write, but never fail for it).
    match err.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("40001" | "3D000" | "25006") => Some(false),
        _ => None,
    }
}

/// The pool a routed read runs on, for the `read_retrying!` family of macros.
#[derive(Debug)]
pub(crate) struct ReadTarget<'a> {
    pub(crate) db: &'a Db,
    pub(crate) route: Route,
}

impl ReadTarget<'_> {
    pub(crate) fn pool(&self) -> &PgPool {
        match (self.route, self.db.replicas()) {
            (Route::Replica(n), Some(r)) => r.pool(n),
            _ => self.db.pool(),
        }
    }

    pub(crate) async fn fresh_connection(&self) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.pool().connect_options()).await
    }

    /// As the handle: statements in transactions of their own behind a transaction-pooling
    /// PgBouncer.
    pub(crate) fn transaction_pooling(&self) -> bool {
        self.db.transaction_pooling()
    }

    /// As the handle's.
    pub(crate) fn begin_statement(&self) -> &'static str {
        self.db.begin_statement()
    }

    /// After a failed read on a replica: whether to read again on the primary (marking the
    /// replica down if it looks unreachable).
    pub(crate) fn retry_on_primary(&self, err: &sqlx::Error) -> bool {
        let (Route::Replica(n), Some(replicas)) = (self.route, self.db.replicas()) else {
            return false;
        };
        match fallback(err) {
            Some(down) => {
                tracing::debug!(replica = n, error = %err, "replica read failed: reading the primary");
                if down {
                    replicas.mark_down(n, format!("read failed: {err}"));
                }
                true
            }
            None => false,
        }
    }
}

/// A read routed by [`Db::read_target`]: run on the chosen replica (retried once on a fresh
/// connection like any read), and on the primary if the replica failed it.
macro_rules! routed_read {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let target = $db.read_target().await;
        match crate::error::read_retrying!(target, |$conn| $body) {
            Err(e) if target.retry_on_primary(&e) => crate::error::read_retrying!($db, |$conn| $body),
            other => other,
        }
    }};
}
pub(crate) use routed_read;

#[cfg(test)]
mod tests {
    use super::ReadToken;

    #[test]
    fn a_token_reads_and_prints_as_a_pg_lsn() {
        let token: ReadToken = "16/B374D848".parse().expect("a pg_lsn");
        assert_eq!(token.lsn(), 0x16_B374_D848);
        assert_eq!(token.to_string(), "16/B374D848");
        assert!("0/0".parse::<ReadToken>().expect("zero") < token);
        assert!("16B374D848".parse::<ReadToken>().is_err());
        assert!("x/1".parse::<ReadToken>().is_err());
    }
}
