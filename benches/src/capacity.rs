//! Capacity: how many calls per second a path sustains when many callers share the server.
//!
//! Closed-loop load: `callers` tokio tasks each call the path in a loop, the next call as soon as
//! the last one returned, on a multi-thread runtime, through one pool. After a warm-up (connections
//! opened, statements prepared, caches filled) a measured window counts the calls that complete
//! inside it and keeps their latencies (→ calls/s, exact p50 and p99). The CPU the
//! client process, the PostgreSQL server's processes and the whole machine used during the window
//! is read from `/proc`: on a small machine the client competes with the server for the same
//! cores, and these numbers say where the ceiling comes from.
//!
//! The bench (`benches/paths.rs`, group `capacity`) builds one [`Caller`] per task for each path
//! and writes the points with [`write_results`] for `cargo xtask bench-report`.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::BoxError;

/// The concurrency levels of a full run.
pub const CALLERS: [usize; 4] = [1, 4, 16, 64];

/// The pool never holds more connections than this; callers beyond it wait in the pool, as the
/// requests of an application server beyond its pool do. 16 is the repository's recommended pool
/// (`Db::pool_options`), four times the connections a 2-core server runs well (PostgreSQL's rule
/// of thumb is a few per core; pgbench on this machine already loses a quarter of its `SELECT 1`
/// throughput between 4 and 16 clients). 64 connections on 2 cores is not how one deploys.
pub const POOL_CAP: u32 = 16;

/// What a run measures and for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The concurrency levels.
    pub callers: Vec<usize>,
    /// Untimed calls before each window.
    pub warm_up: Duration,
    /// The measured window of each point.
    pub window: Duration,
    /// The largest pool (see [`POOL_CAP`]).
    pub pool_cap: u32,
}

impl Plan {
    /// The full run: 1, 4, 16 and 64 callers, 0.5 s warm-up and a 4 s window per point (six
    /// paths and the floor twice: 32 points, under 3 minutes with the untimed setup).
    /// `QUOTEDB_CAPACITY_WINDOW` (seconds) changes the window.
    pub fn full() -> Self {
        let window = std::env::var("QUOTEDB_CAPACITY_WINDOW")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(Duration::from_secs(4), Duration::from_secs_f64);
        Self {
            callers: CALLERS.to_vec(),
            warm_up: Duration::from_millis(500),
            window,
            pool_cap: POOL_CAP,
        }
    }

    /// `cargo bench -- --test`: 1 and 4 callers, a fraction of a second each (checks that every
    /// path runs under concurrency, measures nothing worth reporting).
    pub fn test() -> Self {
        Self {
            callers: vec![1, 4],
            warm_up: Duration::from_millis(50),
            window: Duration::from_millis(200),
            pool_cap: POOL_CAP,
        }
    }

    /// The pool size for `callers`.
    pub fn connections(&self, callers: usize) -> u32 {
        u32::try_from(callers).unwrap_or(u32::MAX).min(self.pool_cap)
    }
}

/// One task's view of a path: what it calls in its loop.
pub trait Caller: Send + 'static {
    /// One call. `Ok(false)` means the path ran out of work (a drained queue): the window ends
    /// there for every caller.
    fn call(&mut self) -> impl Future<Output = Result<bool, BoxError>> + Send;
}

/// One measured point: a path at a concurrency.
#[derive(Debug, Clone)]
pub struct Point {
    /// The path's id (`select_1`, `quote_by_number`, …).
    pub path: &'static str,
    /// Concurrent callers.
    pub callers: usize,
    /// Pool size.
    pub connections: u32,
    /// Calls completed inside the window.
    pub calls: u64,
    /// The window's length (shorter than planned when the path ran out of work).
    pub seconds: f64,
    /// Median latency of those calls, in nanoseconds (pool wait included).
    pub p50_ns: u64,
    /// 99th percentile latency, in nanoseconds.
    pub p99_ns: u64,
    /// CPU used by the bench process during the window, in cores.
    pub client_cpu: f64,
    /// CPU used by the PostgreSQL server's processes, in cores (`None` when the server is not a
    /// local process this one can see in `/proc`).
    pub server_cpu: Option<f64>,
    /// CPU used by the whole machine, in cores (other builds and tests on it included).
    pub machine_cpu: Option<f64>,
    /// Whether the path ran out of work before the planned window ended.
    pub drained: bool,
}

impl Point {
    /// Calls per second.
    pub fn calls_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.calls as f64 / self.seconds
        } else {
            0.0
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.path,
            "callers": self.callers,
            "connections": self.connections,
            "calls": self.calls,
            "seconds": self.seconds,
            "calls_per_sec": self.calls_per_sec(),
            "p50_ns": self.p50_ns,
            "p99_ns": self.p99_ns,
            "client_cpu": self.client_cpu,
            "server_cpu": self.server_cpu,
            "machine_cpu": self.machine_cpu,
            "drained": self.drained,
        })
    }
}

/// A pool for `connections` connections, all open before it is returned: the repository's
/// recommended options ([`quotedb_repository::Db::pool_options`]) at that size.
pub async fn pool(url: &str, connections: u32) -> Result<PgPool, BoxError> {
    let pool = quotedb_repository::Db::pool_options()
        .max_connections(connections)
        .min_connections(connections)
        .connect(url)
        .await?;
    let held = futures_util::future::try_join_all((0..connections).map(|_| pool.acquire())).await?;
    drop(held);
    Ok(pool)
}

/// Run `callers` (one task each) for the plan's warm-up and window, and measure the window.
pub async fn measure<C: Caller>(
    path: &'static str,
    connections: u32,
    callers: Vec<C>,
    plan: &Plan,
    cpu: &CpuProbe,
) -> Result<Point, BoxError> {
    let n = callers.len();
    let started = Instant::now();
    let warm_end = started + plan.warm_up;
    let end = warm_end + plan.window;
    let stop = Arc::new(AtomicBool::new(false));
    let drained_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let drained = Arc::new(tokio::sync::Notify::new());
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|mut caller| {
            let stop = stop.clone();
            let drained_at = drained_at.clone();
            let drained = drained.clone();
            tokio::spawn(async move {
                let mut done = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    if t0 >= end {
                        break;
                    }
                    let more = caller.call().await?;
                    let t1 = Instant::now();
                    if !more {
                        let mut at = drained_at.lock().map_err(|_| "poisoned")?;
                        at.get_or_insert(t1);
                        stop.store(true, Ordering::Relaxed);
                        drained.notify_one();
                        break;
                    }
                    // Calls complete inside the window to count: throughput is completions over
                    // the window, each with its whole latency (pool wait included).
                    if t1 >= warm_end && t1 <= end {
                        done.push((t1, t1 - t0));
                    }
                }
                Ok::<_, BoxError>(done)
            })
        })
        .collect();

    tokio::time::sleep_until(warm_end.into()).await;
    let before = cpu.snapshot();
    tokio::select! {
        () = tokio::time::sleep_until(end.into()) => {}
        () = drained.notified() => {}
    }
    let after = cpu.snapshot();
    let mut per_task = Vec::with_capacity(n);
    for task in tasks {
        per_task.push(task.await??);
    }
    let window_end = drained_at.lock().map_err(|_| "poisoned")?.unwrap_or(end).min(end);
    let seconds = window_end.saturating_duration_since(warm_end).as_secs_f64();
    // Which completions fall inside a window that ended early is only known now.
    let mut latencies: Vec<Duration> = per_task
        .into_iter()
        .flatten()
        .filter(|&(t1, _)| t1 <= window_end)
        .map(|(_, latency)| latency)
        .collect();
    latencies.sort_unstable();
    let (client_cpu, server_cpu, machine_cpu) = cpu.used(&before, &after);
    Ok(Point {
        path,
        callers: n,
        connections,
        calls: latencies.len() as u64,
        seconds,
        p50_ns: quantile_ns(&latencies, 0.50),
        p99_ns: quantile_ns(&latencies, 0.99),
        client_cpu,
        server_cpu,
        machine_cpu,
        drained: window_end < end,
    })
}

/// The nearest-rank quantile `q` of sorted latencies, in nanoseconds (0 when there are none).
fn quantile_ns(sorted: &[Duration], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    u64::try_from(sorted[rank - 1].as_nanos()).unwrap_or(u64::MAX)
}

/// Where `cargo xtask bench-report` finds the results.
pub fn results_path() -> PathBuf {
    crate::criterion_dir().join("quotedb-capacity.json")
}

/// Write the points (and how they were measured) to [`results_path`].
pub fn write_results(points: &[Point], plan: &Plan, scale: f64, elapsed: Duration) -> Result<PathBuf, BoxError> {
    let doc = serde_json::json!({
        "scale": format!("{scale}"),
        "callers": plan.callers,
        "pool_cap": plan.pool_cap,
        "warm_up_secs": plan.warm_up.as_secs_f64(),
        "window_secs": plan.window.as_secs_f64(),
        "client_threads": client_threads(),
        "cores": client_threads(),
        "elapsed_secs": elapsed.as_secs_f64(),
        "measured_at_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "points": points.iter().map(Point::to_json).collect::<Vec<_>>(),
    });
    let path = results_path();
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    std::fs::write(&path, serde_json::to_string_pretty(&doc)?)?;
    Ok(path)
}

/// Worker threads of the load's runtime: one per core the process may use.
pub fn client_threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// CPU time of this process, of the PostgreSQL server's processes and of the machine, from
/// `/proc` (Linux; elsewhere everything reads zero or unknown).
#[derive(Debug, Clone)]
pub struct CpuProbe {
    postmaster: Option<u32>,
}

/// CPU times at one moment, in clock ticks.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    at: Option<Instant>,
    client: u64,
    server: HashMap<u32, u64>,
    machine_busy: Option<u64>,
}

/// `/proc` counts CPU time in USER_HZ ticks, 100 per second on every Linux architecture.
const TICKS_PER_SEC: f64 = 100.0;

impl CpuProbe {
    /// Find the server's postmaster: the parent of the backend serving a connection of `pool`
    /// (visible only when the server runs on this machine).
    pub async fn new(pool: &PgPool) -> Result<Self, BoxError> {
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pool).await?;
        let postmaster = u32::try_from(backend)
            .ok()
            .and_then(|pid| proc_stat(pid).map(|s| s.ppid))
            .filter(|&ppid| {
                std::fs::read_to_string(format!("/proc/{ppid}/comm")).is_ok_and(|c| c.trim() == "postgres")
            });
        Ok(Self { postmaster })
    }

    /// The CPU times now.
    pub fn snapshot(&self) -> CpuSnapshot {
        let client = proc_stat(std::process::id()).map_or(0, |s| s.ticks);
        let mut server = HashMap::new();
        if let Some(postmaster) = self.postmaster {
            if let Some(s) = proc_stat(postmaster) {
                server.insert(postmaster, s.ticks);
            }
            if let Ok(dir) = std::fs::read_dir("/proc") {
                for entry in dir.flatten() {
                    let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                        continue;
                    };
                    if let Some(s) = proc_stat(pid).filter(|s| s.ppid == postmaster) {
                        server.insert(pid, s.ticks);
                    }
                }
            }
        }
        let machine_busy = std::fs::read_to_string("/proc/stat").ok().and_then(|t| {
            let line = t.lines().next()?;
            let fields: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            // user nice system idle iowait irq softirq steal (guest time is inside user).
            let total: u64 = fields.iter().take(8).sum();
            Some(total - fields.get(3)? - fields.get(4)?)
        });
        CpuSnapshot {
            at: Some(Instant::now()),
            client,
            server,
            machine_busy,
        }
    }

    /// Cores used between two snapshots: (client, server, machine). A server process born in
    /// between counts whole; one that ended in between is missed.
    pub fn used(&self, before: &CpuSnapshot, after: &CpuSnapshot) -> (f64, Option<f64>, Option<f64>) {
        let secs = match (before.at, after.at) {
            (Some(b), Some(a)) if a > b => (a - b).as_secs_f64(),
            _ => return (0.0, None, None),
        };
        let cores = |ticks: u64| ticks as f64 / TICKS_PER_SEC / secs;
        let client = cores(after.client.saturating_sub(before.client));
        let server = self.postmaster.map(|_| {
            cores(
                after
                    .server
                    .iter()
                    .map(|(pid, t)| t.saturating_sub(before.server.get(pid).copied().unwrap_or(0)))
                    .sum(),
            )
        });
        let machine = match (before.machine_busy, after.machine_busy) {
            (Some(b), Some(a)) => Some(cores(a.saturating_sub(b))),
            _ => None,
        };
        (client, server, machine)
    }
}

struct ProcStat {
    ppid: u32,
    /// utime + stime.
    ticks: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(ProcStat {
        ppid,
        ticks: utime + stime,
    })
}
