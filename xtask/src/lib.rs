//! The library behind `cargo xtask`, so its commands can be tested.

pub mod bench_report;
pub mod compat;
pub mod docs;
pub mod migrations;
pub mod rehearse;

use std::process::Command;

use anyhow::{Context as _, bail};
use quotedb_testkit::{Backend, Recipe, Server};
use sqlx::{Connection as _, PgConnection};

/// The template of databases with every migration applied.
pub fn migrated_recipe() -> Recipe {
    Recipe::migrated(&quotedb_schema::MIGRATOR)
}

/// The template of the dev database: every migration and the reference seeds.
pub fn seeded_recipe() -> Recipe {
    Recipe::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE)
}

/// The dev database: the database named in `DATABASE_URL` (unless it is `postgres`), else `quotedb_dev`.
pub fn dev_database_name() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .and_then(|u| {
            let path = u.split('?').next()?.rsplit('/').next()?.to_string();
            (!path.is_empty() && path != "postgres" && !path.contains('@')).then_some(path)
        })
        .unwrap_or_else(|| "quotedb_dev".to_string())
}

/// Drop and recreate `name` as a clone of the migrated + seeded template (built if missing),
/// terminating open sessions (a psql left open does not block it). Returns its URL.
pub async fn db_reset(server: &Server, name: &str) -> anyhow::Result<String> {
    eprintln!("xtask: dropping database {name} (terminating its connections)");
    server.drop_database(name).await?;
    eprintln!("xtask: creating {name} from the migrated and seeded template (built on first use)");
    server.create_database_from(name, &seeded_recipe()).await?;
    let url = server.url_for(name);
    eprintln!("xtask: {name} is ready");
    Ok(url)
}

/// Start the local cluster (or say that DATABASE_URL is in charge), and its shared streaming
/// replica: created with `replica` (see [`quotedb_testkit::replica`]), else started if it was
/// created before.
pub async fn db_start(replica: bool) -> anyhow::Result<()> {
    let server = quotedb_testkit::server().await?;
    match server.backend() {
        Backend::LocalCluster(c) => {
            eprintln!(
                "xtask: local cluster running in {} on 127.0.0.1:{}",
                c.dir().display(),
                c.port()
            );
            if replica || c.open_standby(REPLICA).is_some() {
                let standby = quotedb_testkit::replica().await?;
                eprintln!("xtask: streaming replica running: {}", standby.admin_url());
            }
        }
        Backend::DatabaseUrl => eprintln!("xtask: DATABASE_URL is set; nothing to start"),
        Backend::Container => eprintln!("xtask: using a testcontainers PostgreSQL (lives as long as this process)"),
    }
    Ok(())
}

/// The name of the shared standby of the local cluster (`target/quotedb-pg/standbys/replica`).
pub const REPLICA: &str = "replica";

/// Stop the local cluster's standbys, then the cluster, if it exists.
pub fn db_stop() -> anyhow::Result<()> {
    let Some(bindir) = quotedb_testkit::cluster::find_bindir() else {
        bail!("no PostgreSQL server binaries found: there is no local cluster to stop");
    };
    let dir = quotedb_testkit::cluster::default_dir();
    match quotedb_testkit::cluster::LocalCluster::open(&dir, &bindir) {
        Some(c) => {
            for (name, standby) in c.standbys() {
                standby.stop()?;
                eprintln!("xtask: standby {name} in {} stopped", standby.dir().display());
            }
            c.stop()?;
            eprintln!("xtask: local cluster in {} stopped", dir.display());
        }
        None => eprintln!("xtask: no local cluster in {}", dir.display()),
    }
    Ok(())
}

/// One standby of the local cluster, as `db-status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StandbyStatus {
    /// Its name (`replica` for the shared one).
    pub name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether its server runs.
    pub running: bool,
    /// Its walsender's state on the primary (`streaming`, `catchup`, …); None: not connected.
    pub state: Option<String>,
    /// Replay lag in bytes: the primary's WAL insert position minus the standby's replay position.
    pub lag_bytes: Option<i64>,
    /// Replay lag in seconds as the primary measures it (`pg_stat_replication.replay_lag`; None
    /// when idle: nothing left to replay).
    pub lag_seconds: Option<f64>,
}

/// The standbys of the local cluster with their replication state, read from
/// `pg_stat_replication` on the (running) primary. Empty without a local cluster.
pub async fn standby_status() -> anyhow::Result<Vec<StandbyStatus>> {
    let server = quotedb_testkit::server().await?;
    let Backend::LocalCluster(cluster) = server.backend() else {
        return Ok(Vec::new());
    };
    let mut conn = server.admin_connection().await?;
    let mut found = Vec::new();
    for (name, standby) in cluster.standbys() {
        let row: Option<(String, Option<i64>, Option<f64>)> = sqlx::query_as(
            "SELECT state, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), replay_lsn)::int8, \
                    extract(epoch FROM replay_lag)::float8 \
             FROM pg_stat_replication WHERE application_name = $1",
        )
        .bind(format!("quotedb_{name}"))
        .fetch_optional(&mut conn)
        .await?;
        let (state, lag_bytes, lag_seconds) = match row {
            Some((state, bytes, seconds)) => (Some(state), bytes, seconds),
            None => (None, None, None),
        };
        found.push(StandbyStatus {
            port: standby.port(),
            running: standby.running()?,
            name,
            state,
            lag_bytes,
            lag_seconds,
        });
    }
    conn.close().await?;
    Ok(found)
}

/// Drop the templates, pre-cloned, bench and idle test databases that the current migrations and
/// seeds no longer use (see [`Server::sweep`]).
pub async fn db_clean() -> anyhow::Result<()> {
    let server = quotedb_testkit::server().await?;
    let (migrated, seeded) = (migrated_recipe(), seeded_recipe());
    let mut dropped = server.sweep(&[&migrated, &seeded]).await?;
    let mut conn = server.admin_connection().await?;
    let benches: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE starts_with(datname, 'quotedb_bench_') \
         AND NOT starts_with(datname, $1)",
    )
    .bind(format!("quotedb_bench_{}_", seeded.hash()))
    .fetch_all(&mut conn)
    .await?;
    let rehearsals: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1) AND NOT starts_with(datname, $2)",
    )
    .bind(rehearse::REHEARSE_PREFIX)
    .bind(rehearse::base_prefix()?)
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    for name in benches.into_iter().chain(rehearsals) {
        server.drop_database(&name).await?;
        dropped.push(name);
    }
    if dropped.is_empty() {
        eprintln!("xtask: nothing to clean");
    }
    for name in &dropped {
        eprintln!("xtask: dropped {name}");
    }
    Ok(())
}

/// Print where the server comes from and the quotedb databases on it.
pub async fn db_status() -> anyhow::Result<()> {
    if std::env::var_os("DATABASE_URL").is_none() {
        let bindir = quotedb_testkit::cluster::find_bindir();
        let dir = quotedb_testkit::cluster::default_dir();
        match bindir
            .as_deref()
            .and_then(|b| quotedb_testkit::cluster::LocalCluster::open(&dir, b))
        {
            Some(c) if c.running()? => println!("local cluster: running, {} , port {}", dir.display(), c.port()),
            Some(_) => {
                println!(
                    "local cluster: stopped ({}); `cargo xtask db-start` starts it",
                    dir.display()
                );
                return Ok(());
            }
            None => {
                println!(
                    "local cluster: not created yet ({}); `cargo xtask db-reset` creates it",
                    dir.display()
                );
                return Ok(());
            }
        }
    } else {
        println!("server: DATABASE_URL");
    }
    let server = quotedb_testkit::server().await?;
    let mut conn = server.admin_connection().await?;
    let dbs: Vec<(String, bool)> = sqlx::query_as(
        "SELECT datname, datistemplate FROM pg_database WHERE datname LIKE 'quotedb%' OR datname LIKE 'qt\\_%' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await?;
    println!("dev database: {}", server.url_for(&dev_database_name()));
    for standby in standby_status().await? {
        let lag = match (standby.lag_bytes, standby.lag_seconds) {
            (Some(bytes), seconds) => format!(
                ", replay lag {bytes} bytes, {}",
                seconds.map_or("0 s (idle)".to_string(), |s| format!("{s:.3} s"))
            ),
            _ => String::new(),
        };
        println!(
            "standby {}: {}, port {}, {}{lag}; postgres://postgres@127.0.0.1:{}/{}",
            standby.name,
            if standby.running { "running" } else { "stopped" },
            standby.port,
            standby.state.as_deref().unwrap_or("not streaming"),
            standby.port,
            dev_database_name()
        );
    }
    for (name, template) in dbs {
        println!("  {name}{}", if template { " (template)" } else { "" });
    }
    if server.database_exists(&dev_database_name()).await? {
        let mut dev = dev_connection().await?;
        print_partition_status(&mut dev).await?;
    }
    Ok(())
}

/// A row of `partition_status()`: table, partitions, runway to (date), runway months, default rows.
type StatusRow = (String, i32, Option<String>, Option<i32>, i64);
/// A row of `maintain_partitions()`: table, action, partition, from, to (dates), rows.
type ActionRow = (String, String, String, Option<String>, Option<String>, Option<i64>);

/// `partition_status()` of a database (0021 on): per partitioned table, its runway (the upper
/// bound of its newest partition, in whole months after the current one) and the rows its DEFAULT
/// partition caught (0 when healthy).
pub async fn print_partition_status(conn: &mut PgConnection) -> anyhow::Result<()> {
    let has_it: bool = sqlx::query_scalar("SELECT to_regprocedure('public.partition_status(timestamptz)') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !has_it {
        println!("partitions: partition_status() missing (migrations before 0021)");
        return Ok(());
    }
    let rows: Vec<StatusRow> = sqlx::query_as(
        "SELECT table_name, partitions, to_char(runway_to AT TIME ZONE 'UTC', 'YYYY-MM-DD'), runway_months, default_rows
         FROM partition_status()",
    )
    .fetch_all(&mut *conn)
    .await?;
    println!("partitions (dev database):");
    println!(
        "  {:<22} {:>10} {:>12} {:>14} {:>12}",
        "table", "partitions", "runway to", "runway months", "default rows"
    );
    for (table, partitions, to, months, default_rows) in rows {
        let warn = if default_rows > 0 || months.unwrap_or(0) < 1 {
            "  <- run `cargo xtask maintain`"
        } else {
            ""
        };
        println!(
            "  {table:<22} {partitions:>10} {:>12} {:>14} {default_rows:>12}{warn}",
            to.unwrap_or_else(|| "-".into()),
            months.map_or_else(|| "-".into(), |m| m.to_string()),
        );
    }
    Ok(())
}

/// Run `maintain_partitions()` on the dev database as the system role (what the platform's
/// scheduler does through `Db::maintenance().run`), print its actions and the status after.
pub async fn maintain(now: Option<time::OffsetDateTime>) -> anyhow::Result<()> {
    let mut conn = dev_connection().await?;
    let mut tx = conn.begin_with("BEGIN; SET LOCAL ROLE quotedb_system").await?;
    let actions: Vec<ActionRow> = sqlx::query_as(
        "SELECT table_name, action, partition_name,
                CASE WHEN isfinite(range_from) THEN to_char(range_from AT TIME ZONE 'UTC', 'YYYY-MM-DD') END,
                CASE WHEN isfinite(range_to) THEN to_char(range_to AT TIME ZONE 'UTC', 'YYYY-MM-DD') END,
                row_count
         FROM maintain_partitions(coalesce($1, now()))",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if actions.is_empty() {
        println!("maintain: nothing to do");
    }
    for (table, action, partition, from, to, rows) in actions {
        println!(
            "maintain: {table}: {action} {partition} [{} .. {}){}",
            from.unwrap_or_else(|| "MINVALUE".into()),
            to.unwrap_or_else(|| "MAXVALUE".into()),
            rows.map_or_else(String::new, |r| format!(", {r} rows"))
        );
    }
    print_partition_status(&mut conn).await
}

/// A connection to the dev database (which must exist: `cargo xtask db-reset` creates it).
pub async fn dev_connection() -> anyhow::Result<PgConnection> {
    let server = quotedb_testkit::server().await?;
    let name = dev_database_name();
    if !server.database_exists(&name).await? {
        bail!("the dev database {name} does not exist yet: run `cargo xtask db-reset`");
    }
    Ok(PgConnection::connect(&server.url_for(&name)).await?)
}

/// Apply pending migrations to the dev database.
pub async fn migrate() -> anyhow::Result<()> {
    let mut conn = dev_connection().await?;
    eprintln!("xtask: applying pending migrations");
    quotedb_schema::MIGRATOR.run(&mut conn).await?;
    eprintln!("xtask: migrations up to date");
    Ok(())
}

/// Load the reference seeds into the dev database.
pub async fn seed() -> anyhow::Result<()> {
    let mut conn = dev_connection().await?;
    eprintln!("xtask: loading the reference seeds");
    quotedb_seeds::apply_reference(&mut conn).await?;
    eprintln!("xtask: reference seeds loaded");
    Ok(())
}

/// The crates that other crates depend on carry their own offline query data (`<crate>/.sqlx`,
/// found through their `sqlx.toml`), so they build anywhere: with an unrelated `DATABASE_URL`,
/// vendored or packaged. The workspace-wide `.sqlx/` serves the rest (seeds' tests, benches, xtask).
const SELF_CONTAINED_CRATES: &[&str] = &["crates/repository", "crates/seeds"];

/// How to install what `prepare` runs.
const SQLX_CLI_INSTALL: &str =
    "cargo install sqlx-cli@0.9.0 --no-default-features --features postgres,sqlx-toml --locked";

/// Regenerate (or check) `.sqlx/` and each self-contained crate's `.sqlx/` against a scratch
/// database cloned from the migrated template.
pub async fn prepare(check: bool) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cli = Command::new(&cargo).args(["sqlx", "--version"]).output();
    if !cli.is_ok_and(|o| o.status.success()) {
        bail!("sqlx-cli is not installed (`cargo sqlx` is missing); install it with:\n  {SQLX_CLI_INSTALL}");
    }
    let server = quotedb_testkit::server().await?;
    let scratch = format!("quotedb_prepare_{}", std::process::id());
    eprintln!("xtask: creating scratch database {scratch} (migrated)");
    server.create_database_from(&scratch, &migrated_recipe()).await?;
    let url = server.url_for(&scratch);
    let root = quotedb_testkit::workspace_root();
    let mut runs = vec![(root.clone(), vec!["--workspace", "--", "--all-targets"])];
    runs.extend(
        SELF_CONTAINED_CRATES
            .iter()
            .map(|c| (root.join(c), vec!["--", "--lib"])),
    );
    let mut stale = Vec::new();
    for (dir, args) in runs {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&dir)
            .args(["sqlx", "prepare"])
            .args(check.then_some("--check"))
            .args(args)
            // DATABASE_URL for the workspace's other crates, QUOTEDB_SQLX_DATABASE_URL for the
            // self-contained ones (their sqlx.toml).
            .env("DATABASE_URL", &url)
            .env("QUOTEDB_SQLX_DATABASE_URL", &url)
            .env("SQLX_OFFLINE", "false");
        eprintln!(
            "xtask: cargo sqlx prepare{} in {} (compiles)",
            if check { " --check" } else { "" },
            dir.display()
        );
        match cmd.status() {
            Ok(status) if status.success() => {}
            Ok(_) => stale.push(dir.join(".sqlx").display().to_string()),
            Err(e) => {
                server.drop_database(&scratch).await?;
                bail!("cannot run `cargo sqlx` ({e}); install it with:\n  {SQLX_CLI_INSTALL}");
            }
        }
    }
    server.drop_database(&scratch).await?;
    if !stale.is_empty() {
        if check {
            bail!(
                "stale query data in {}: run `cargo xtask prepare` and commit them",
                stale.join(", ")
            );
        }
        bail!("cargo sqlx prepare failed for {}", stale.join(", "));
    }
    Ok(())
}

/// The URL `seed-volume` loads into: `--database-url`, else the dev database (which must exist).
pub async fn volume_target_url(database_url: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = database_url {
        return Ok(url.to_string());
    }
    let server = quotedb_testkit::server().await?;
    let name = dev_database_name();
    if !server.database_exists(&name).await? {
        bail!("the dev database {name} does not exist yet: run `cargo xtask db-reset`");
    }
    Ok(server.url_for(&name))
}

/// `cargo xtask seed-volume`: generate and load the volume data set; returns the report.
pub async fn seed_volume(
    database_url: &str,
    cfg: &quotedb_seeds::volume::VolumeConfig,
) -> anyhow::Result<quotedb_seeds::volume::LoadReport> {
    let plan = quotedb_seeds::volume::Plan::for_scale(cfg.scale)?;
    eprintln!(
        "xtask: loading volume scale {} seed {} anchor {} ({} customers, {} agents, {} quotes) into {}",
        cfg.scale,
        cfg.seed,
        cfg.anchor,
        plan.customers,
        plan.agents,
        plan.quotes,
        redact(database_url)
    );
    let mut conn = PgConnection::connect(database_url).await?;
    let report = quotedb_seeds::volume::load(&mut conn, cfg).await?;
    conn.close().await?;
    Ok(report)
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Peak resident set size of this process (VmHWM from /proc/self/status), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Where psql is: next to the server binaries the testkit uses, else on PATH.
fn psql_path() -> std::path::PathBuf {
    quotedb_testkit::cluster::find_bindir()
        .map(|b| b.join("psql"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "psql".into())
}

/// One timed run of `volume-report`.
#[derive(Debug, Clone)]
pub struct VolumeRun {
    /// "psql" or "loader".
    pub who: &'static str,
    /// Load + commit + analyze (psql: wall time of `psql -f`).
    pub time: std::time::Duration,
}

/// What `volume-report` measured.
#[derive(Debug)]
pub struct VolumeComparison {
    /// Rows loaded (the same in both databases).
    pub rows: u64,
    /// Every timed run, in order.
    pub runs: Vec<VolumeRun>,
    /// The loader's report (last run).
    pub report: quotedb_seeds::volume::LoadReport,
    /// Size of the data files psql read.
    pub bytes: u64,
    /// Time it took to write the data files.
    pub generate_files: std::time::Duration,
}

impl VolumeComparison {
    /// The best (shortest) run of `who`.
    pub fn best(&self, who: &str) -> std::time::Duration {
        self.runs
            .iter()
            .filter(|r| r.who == who)
            .map(|r| r.time)
            .min()
            .unwrap_or_default()
    }
}

/// `cargo xtask volume-report`: load the same rows into fresh clones of the seeded template -
/// with psql `\copy` from files the generator wrote beforehand, and with the loader generating
/// as it streams - `repeat` times each, alternating which goes first. Each timed run starts
/// after a CHECKPOINT, and its database is VACUUM ANALYZEd afterwards (untimed), so no run pays
/// for the previous one's checkpoint or autovacuum. Preparation (states, roles, partitions) is
/// not timed on either side.
pub async fn volume_report(
    cfg: &quotedb_seeds::volume::VolumeConfig,
    dir: &std::path::Path,
    keep: bool,
    repeat: u32,
) -> anyhow::Result<VolumeComparison> {
    let server = quotedb_testkit::server().await?;
    let result = compare(server, cfg, dir, keep, repeat.max(1)).await;
    if !keep {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn fresh_clone(server: &Server, name: &str) -> anyhow::Result<String> {
    server.drop_database(name).await?;
    server.create_database_from(name, &seeded_recipe()).await?;
    Ok(server.url_for(name))
}

async fn maintenance(server: &Server, url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut conn).await?;
    conn.close().await?;
    let mut admin = server.admin_connection().await?;
    sqlx::raw_sql("CHECKPOINT").execute(&mut admin).await?;
    Ok(())
}

async fn compare(
    server: &Server,
    cfg: &quotedb_seeds::volume::VolumeConfig,
    dir: &std::path::Path,
    keep: bool,
    repeat: u32,
) -> anyhow::Result<VolumeComparison> {
    let pid = std::process::id();
    let (db_psql, db_loader) = (
        format!("quotedb_volume_psql_{pid}"),
        format!("quotedb_volume_loader_{pid}"),
    );
    let url_psql = fresh_clone(server, &db_psql).await?;
    let mut conn = PgConnection::connect(&url_psql).await?;
    eprintln!("xtask: writing the data files and the psql script to {}", dir.display());
    let script = quotedb_seeds::volume::write_psql_script(&mut conn, cfg, dir).await?;
    conn.close().await?;
    eprintln!(
        "xtask: {} rows, {:.1} MiB of binary COPY data written in {:.2}s",
        script.rows(),
        script.bytes as f64 / 1_048_576.0,
        script.generate.as_secs_f64()
    );
    let mut admin = server.admin_connection().await?;
    sqlx::raw_sql("CHECKPOINT").execute(&mut admin).await?;
    admin.close().await?;

    let mut runs = Vec::new();
    let mut report = None;
    let mut psql_ready = true; // the first psql database was prepared by write_psql_script
    for round in 0..repeat {
        let order = if round % 2 == 0 {
            ["psql", "loader"]
        } else {
            ["loader", "psql"]
        };
        for who in order {
            if who == "psql" {
                if !psql_ready {
                    let url = fresh_clone(server, &db_psql).await?;
                    let mut conn = PgConnection::connect(&url).await?;
                    quotedb_seeds::volume::prepare(&mut conn, cfg).await?;
                    conn.close().await?;
                    let mut admin = server.admin_connection().await?;
                    sqlx::raw_sql("CHECKPOINT").execute(&mut admin).await?;
                    admin.close().await?;
                }
                psql_ready = false;
                let started = std::time::Instant::now();
                let status = Command::new(psql_path())
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url_psql, "-f"])
                    .arg(&script.path)
                    .status()
                    .context("cannot run psql")?;
                let time = started.elapsed();
                if !status.success() {
                    bail!("psql failed on {} ({status})", script.path.display());
                }
                eprintln!("xtask: round {}: psql {:.2}s", round + 1, time.as_secs_f64());
                runs.push(VolumeRun { who, time });
                maintenance(server, &url_psql).await?;
            } else {
                let url = fresh_clone(server, &db_loader).await?;
                let mut admin = server.admin_connection().await?;
                sqlx::raw_sql("CHECKPOINT").execute(&mut admin).await?;
                admin.close().await?;
                let mut conn = PgConnection::connect(&url).await?;
                let r = quotedb_seeds::volume::load(&mut conn, cfg).await?;
                conn.close().await?;
                eprintln!(
                    "xtask: round {}: loader {:.2}s",
                    round + 1,
                    r.load_total().as_secs_f64()
                );
                runs.push(VolumeRun {
                    who,
                    time: r.load_total(),
                });
                report = Some(r);
                maintenance(server, &url).await?;
            }
        }
    }
    let report = report.context("no loader run")?;

    // Same rows on both sides: compare the counts of every table.
    let mut a = PgConnection::connect(&url_psql).await?;
    let mut b = PgConnection::connect(&server.url_for(&db_loader)).await?;
    for t in &report.tables {
        // Table names come from the loader's own list, not from input.
        let sql = format!("SELECT count(*) FROM {}", t.table);
        let na: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_one(&mut a)
            .await?;
        let nb: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut b).await?;
        // Both databases are clones of the same template: equal counts = the same rows loaded.
        if na != nb || (nb as u64) < t.rows {
            bail!(
                "{}: {na} rows after psql, {nb} after the loader (which reported {})",
                t.table,
                t.rows
            );
        }
    }
    a.close().await?;
    b.close().await?;
    if keep {
        eprintln!(
            "xtask: kept {} and {} and the files in {}",
            url_psql,
            server.url_for(&db_loader),
            dir.display()
        );
    } else {
        server.drop_database(&db_psql).await?;
        server.drop_database(&db_loader).await?;
    }
    Ok(VolumeComparison {
        rows: report.rows(),
        runs,
        report,
        bytes: script.bytes,
        generate_files: script.generate,
    })
}
