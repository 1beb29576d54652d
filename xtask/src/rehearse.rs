//! `cargo xtask migrate rehearse`: apply the unreleased migrations to a copy of a database full of
//! data, statement by statement, and report what each statement locked, rewrote and touched.
//!
//! The database is the released schema (the versions in `migrations.lock`) with the reference
//! seeds and the volume data set at `--scale` (1 = 10,000 quotes; the benches use 10), built once
//! and kept as a template (`quotedb_rehearse_<hash>_s<scale>`). Each rehearsal runs on a clone:
//! every pending migration, in its own transaction as sqlx would run it (or without one for
//! `-- no-transaction`), one statement at a time. After each statement the locks the migration's
//! backend holds are read from `pg_locks` (inside a transaction they are held until commit; a
//! sampler on a second connection catches those of statements outside one), the tables'
//! `relfilenode`s tell which were rewritten, and the command tag tells the rows touched.
//!
//! A statement fails the rehearsal when it takes a lock that blocks writes (SHARE and stronger;
//! ACCESS EXCLUSIVE also blocks reads) on a table larger than `big_table_bytes` and that lock is
//! held — until the migration commits — for longer than `max_block_ms`. Afterwards the pending
//! migrations are reverted and applied again, and the schema must come out the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sqlx::migrate::{Migration, Migrator};
use sqlx::{Connection as _, Executor as _, PgConnection, Row as _};

/// Limits of a rehearsal.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A table at least this big counts (default 8 MiB: the bench scale's quotes table is ~60 MiB).
    pub big_table_bytes: i64,
    /// Longest a write-blocking lock on a big table may be held (default 1,000 ms).
    pub max_block_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            big_table_bytes: 8 << 20,
            max_block_ms: 1_000,
        }
    }
}

/// What one statement did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementReport {
    /// Migration version.
    pub version: i64,
    /// 1-based statement number within the migration.
    pub statement: usize,
    /// The statement's first line.
    pub sql: String,
    /// How long it ran.
    pub ms: u64,
    /// The strongest lock it took, and on which table (`None`: no table lock beyond those of
    /// earlier statements).
    pub lock: Option<(String, String)>,
    /// How long that lock stayed held (until commit, inside a transaction).
    pub held_ms: u64,
    /// Size of that table.
    pub table_bytes: i64,
    /// Tables whose files it rewrote.
    pub rewrote: Vec<String>,
    /// Rows touched (the command tag's count).
    pub rows: u64,
    /// Why it fails the rehearsal, if it does.
    pub verdict: Option<String>,
}

/// A rehearsal's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rehearsal {
    /// Per statement, in order.
    pub statements: Vec<StatementReport>,
    /// Whether revert + re-apply gave the same schema.
    pub round_trip_same: bool,
}

impl Rehearsal {
    /// The statements that fail the limits.
    pub fn failures(&self) -> impl Iterator<Item = &StatementReport> {
        self.statements.iter().filter(|s| s.verdict.is_some())
    }

    /// The report as a Markdown table.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| migration | # | statement | ms | strongest lock (table) | held ms | table size | rewrote | rows | verdict |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        for s in &self.statements {
            let lock = s
                .lock
                .as_ref()
                .map(|(mode, table)| format!("{mode} ({table})"))
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "| {:04} | {} | `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
                s.version,
                s.statement,
                s.sql.replace('|', "\\|"),
                s.ms,
                lock,
                s.held_ms,
                human_bytes(s.table_bytes),
                if s.rewrote.is_empty() {
                    "-".into()
                } else {
                    s.rewrote.join(", ")
                },
                s.rows,
                s.verdict.as_deref().unwrap_or("ok")
            ));
        }
        out.push_str(&format!(
            "\nrevert and re-apply: {}\n",
            if self.round_trip_same {
                "same schema"
            } else {
                "SCHEMA DIFFERS"
            }
        ));
        out
    }
}

fn human_bytes(b: i64) -> String {
    match b {
        0 => "-".into(),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b => format!("{} KiB", b / 1024),
    }
}

/// Lock modes from weakest to strongest; index ≥ 4 (SHARE) blocks writes.
const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn strength(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// Split a migration into statements: `;` outside quotes, dollar quotes and comments.
pub fn split_statements(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'$' => {
                // $tag$ ... $tag$ (a tag of letters, digits and _; `$1` is a parameter)
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map(|p| i + 1 + p);
                if let Some(e) =
                    tag_end.filter(|e| b[*e] == b'$' && !b[i + 1..*e].first().is_some_and(u8::is_ascii_digit))
                {
                    let tag = &sql[i..=e];
                    match sql[e + 1..].find(tag) {
                        Some(close) => i = e + 1 + close + tag.len() - 1,
                        None => i = b.len(),
                    }
                }
            }
            b';' => {
                out.push(sql[start..=i].to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(sql[start.min(sql.len())..].to_string());
    out.into_iter()
        .filter(|s| {
            s.lines()
                .map(|l| l.split("--").next().unwrap_or("").trim())
                .any(|l| !l.is_empty() && l != ";")
        })
        .collect()
}

/// Tables of the public schema: name → relfilenode (a catalog read: takes no lock on them).
async fn filenodes(conn: &mut PgConnection) -> anyhow::Result<HashMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT c.relname::text, c.relfilenode::int8
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}

/// Table sizes before the rehearsal (measured on another connection: `pg_total_relation_size`
/// takes a lock, which the migration's own backend must not be charged with).
async fn sizes(url: &str) -> anyhow::Result<HashMap<String, i64>> {
    let mut conn = PgConnection::connect(url).await?;
    let rows = sqlx::query(
        "SELECT c.relname::text, pg_total_relation_size(c.oid)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}

/// Table locks a backend holds: table → strongest mode.
async fn locks_of(conn: &mut PgConnection, pid: i32) -> anyhow::Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, l.mode FROM pg_locks l
         JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE l.pid = $1 AND l.granted AND l.locktype = 'relation' AND n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')
           AND l.mode NOT IN ('AccessShareLock', 'RowShareLock')",
    )
    .bind(pid)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (table, mode) in rows {
        let stronger = out.get(&table).is_none_or(|m| strength(&mode) > strength(m));
        if stronger {
            out.insert(table, mode);
        }
    }
    Ok(out)
}

/// Rehearse `migrations` (up migrations, in order) on the database at `url`, then revert them
/// with `migrator` down to `base_version` and apply them again.
pub async fn rehearse(
    url: &str,
    migrations: &[&Migration],
    migrator: &Migrator,
    base_version: i64,
    limits: Limits,
) -> anyhow::Result<Rehearsal> {
    let size = sizes(url).await?;
    let mut conn = PgConnection::connect(url).await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await?;
    // The sampler: locks seen on the migration's backend, for statements outside a transaction.
    let seen: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (seen, stop, url) = (Arc::clone(&seen), Arc::clone(&stop), url.to_string());
        tokio::spawn(async move {
            let mut watch = PgConnection::connect(&url).await?;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let now = locks_of(&mut watch, pid).await?;
                {
                    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                    for (table, mode) in now {
                        if seen.get(&table).is_none_or(|m| strength(&mode) > strength(m)) {
                            seen.insert(table, mode);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            watch.close().await?;
            anyhow::Ok(())
        })
    };

    let mut statements = Vec::new();
    for m in migrations {
        let in_tx = !m.no_tx;
        if in_tx {
            conn.execute("BEGIN").await?;
        }
        let mut held_before: BTreeMap<String, String> = BTreeMap::new();
        let mut reports: Vec<(StatementReport, Instant)> = Vec::new();
        let started_migration = Instant::now();
        for (k, sql) in split_statements(m.sql.as_str()).into_iter().enumerate() {
            let before = filenodes(&mut conn).await?;
            seen.lock().unwrap_or_else(PoisonError::into_inner).clear();
            let started = Instant::now();
            let result = conn
                .execute(sqlx::AssertSqlSafe(sql.clone()))
                .await
                .with_context(|| format!("migration {:04}, statement {}: {}", m.version, k + 1, first_line(&sql)));
            let ms = started.elapsed().as_millis() as u64;
            let result = match result {
                Ok(r) => r,
                Err(e) => {
                    if in_tx {
                        let _ = conn.execute("ROLLBACK").await;
                    }
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(e);
                }
            };
            let mut now = if in_tx {
                locks_of(&mut conn, pid).await?
            } else {
                BTreeMap::new()
            };
            for (table, mode) in seen.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                if now.get(table).is_none_or(|m| strength(mode) > strength(m)) {
                    now.insert(table.clone(), mode.clone());
                }
            }
            // The strongest lock this statement added (stronger than what was already held); of
            // equally strong ones, the one on the biggest table.
            let after = filenodes(&mut conn).await?;
            let size_of = |t: &str| size.get(t).copied().unwrap_or(0);
            let lock = now
                .iter()
                .filter(|(t, mode)| held_before.get(*t).is_none_or(|m| strength(mode) > strength(m)))
                .max_by_key(|(t, mode)| (strength(mode), size_of(t)))
                .map(|(t, mode)| (mode.clone(), t.clone()));
            let rewrote: Vec<String> = after
                .iter()
                .filter(|(t, node)| before.get(*t).is_some_and(|old| old != *node))
                .map(|(t, _)| t.clone())
                .collect();
            let table_bytes = lock.as_ref().map_or(0, |(_, t)| size_of(t));
            if in_tx {
                held_before = now;
            }
            reports.push((
                StatementReport {
                    version: m.version,
                    statement: k + 1,
                    sql: first_line(&sql),
                    ms,
                    lock,
                    held_ms: ms,
                    table_bytes,
                    rewrote,
                    rows: result.rows_affected(),
                    verdict: None,
                },
                started,
            ));
        }
        // Record it as sqlx would (inside its transaction, if it has one), so that the revert
        // below finds it applied.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, true, $3, $4)",
        )
        .bind(m.version)
        .bind(m.description.as_ref())
        .bind(m.checksum.as_ref())
        .bind(started_migration.elapsed().as_nanos() as i64)
        .execute(&mut conn)
        .await?;
        if in_tx {
            conn.execute("COMMIT").await?;
        }
        let committed = Instant::now();
        for (mut r, started) in reports {
            if in_tx {
                r.held_ms = committed.duration_since(started).as_millis() as u64;
            }
            let blocks_writes = r
                .lock
                .as_ref()
                .is_some_and(|(mode, _)| strength(mode) >= strength("ShareLock"));
            if blocks_writes && r.table_bytes >= limits.big_table_bytes && r.held_ms > limits.max_block_ms {
                let (mode, table) = r.lock.clone().unwrap_or_default();
                r.verdict = Some(format!(
                    "FAIL: {mode} on {table} ({}) held {} ms > {} ms",
                    human_bytes(r.table_bytes),
                    r.held_ms,
                    limits.max_block_ms
                ));
            }
            statements.push(r);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.await.context("lock sampler")??;

    // Revert and apply again: the schema must come back the same.
    let applied = quotedb_testkit::snapshot::schema_snapshot(&mut conn).await?;
    migrator.undo(&mut conn, base_version).await?;
    migrator.run(&mut conn).await?;
    let again = quotedb_testkit::snapshot::schema_snapshot(&mut conn).await?;
    conn.close().await?;
    Ok(Rehearsal {
        statements,
        round_trip_same: applied == again,
    })
}

fn first_line(sql: &str) -> String {
    let line = sql
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("");
    line.chars().take(70).collect()
}

/// The released version: the highest version in `migrations.lock`.
pub fn released_version(lock: &str) -> anyhow::Result<i64> {
    crate::migrations::released_versions(lock)
        .into_iter()
        .max()
        .context("migrations.lock holds no migration")
}

/// `quotedb_rehearse_<release>_<hash>_`: the name of the base databases of this tree's release,
/// named by what they hold: the released migrations (the lock file) and the seeds (the scale
/// follows). `cargo xtask db-clean` drops those of other releases.
pub fn base_prefix() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(quotedb_testkit::workspace_root().join("migrations.lock"))?;
    let released = released_version(&lock)?;
    let hash = quotedb_testkit::Recipe::new("rehearse")
        .step("released", lock.as_bytes(), |_| Box::pin(async { Ok(()) }))
        .sql_scripts("seeds", quotedb_seeds::REFERENCE)
        .hash();
    Ok(format!("{REHEARSE_PREFIX}{released:04}_{}_", &hash[..8]))
}

/// The database a rehearsal clones: the released schema, the seeds and the volume data at
/// `scale`, built on `server` unless it exists (kept as a template). Returns its name.
pub async fn ensure_base(
    server: &quotedb_testkit::Server,
    migrator: &Migrator,
    released: i64,
    scale: f64,
) -> anyhow::Result<String> {
    let name = format!("{}s{}", base_prefix()?, format!("{scale}").replace('.', "_"));
    if server.database_exists(&name).await? {
        return Ok(name);
    }
    let building = format!("{name}_building");
    server.drop_database(&building).await?;
    server.create_empty_database(&building).await?;
    eprintln!("xtask: building {name}: migrations up to {released:04}, seeds, volume scale {scale} (once)");
    let mut conn = PgConnection::connect(&server.url_for(&building)).await?;
    migrator.run_to(released, &mut conn).await?;
    quotedb_seeds::apply_reference(&mut conn).await?;
    let cfg = quotedb_seeds::volume::VolumeConfig {
        scale,
        seed: 42,
        anchor: time::OffsetDateTime::now_utc(),
        progress: false,
    };
    quotedb_seeds::volume::load(&mut conn, &cfg).await?;
    conn.close().await?;
    let mut admin = server.admin_connection().await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {} RENAME TO {}",
            quotedb_testkit::quote_ident(&building),
            quotedb_testkit::quote_ident(&name)
        )))
        .await?;
    admin.close().await?;
    Ok(name)
}

/// Base databases of rehearsals are named `quotedb_rehearse_<release>_<hash>_s<scale>`.
pub const REHEARSE_PREFIX: &str = "quotedb_rehearse_";

/// `cargo xtask migrate rehearse`: the unreleased migrations on a clone of the base database.
pub async fn run(scale: f64, limits: Limits) -> anyhow::Result<Option<Rehearsal>> {
    let root = quotedb_testkit::workspace_root();
    let lock = std::fs::read_to_string(root.join("migrations.lock")).context("reading migrations.lock")?;
    let released = released_version(&lock)?;
    let migrator = &quotedb_schema::MIGRATOR;
    let pending: Vec<&Migration> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && m.version > released)
        .collect();
    if pending.is_empty() {
        return Ok(None);
    }
    let server = quotedb_testkit::server().await?;
    let base = ensure_base(server, migrator, released, scale).await?;
    let scratch = format!("quotedb_rehearsal_{}", std::process::id());
    server.drop_database(&scratch).await?;
    let mut admin = server.admin_connection().await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quotedb_testkit::quote_ident(&scratch),
            quotedb_testkit::quote_ident(&base)
        )))
        .await?;
    admin.close().await?;
    let result = rehearse(&server.url_for(&scratch), &pending, migrator, released, limits).await;
    server.drop_database(&scratch).await?;
    if let Ok(r) = &result
        && !r.round_trip_same
    {
        bail!("revert and re-apply did not give the same schema:\n{}", r.table());
    }
    result.map(Some)
}
