//! Shared setup of the quotedb benches and of the index-path test: a bench database filled by the
//! volume generator at a fixed scale, reused between runs (its name carries the schema hash, the
//! seed fingerprint and the scale), realistic parameters read from it, and an EXPLAIN helper that
//! reports which indexes a query's custom and generic plans use; the generic plan of every query
//! of the workspace's offline query data ([`generic`]); and the closed-loop load driver of the
//! capacity group ([`capacity`]).

pub mod capacity;
pub mod explain;
pub mod generic;
pub mod params;
pub mod paths;

use std::time::Duration;

use quotedb_repository::Db;
use quotedb_testkit::{Recipe, Server, quote_ident};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection as _, PgConnection, PgPool};

/// Errors of the bench setup (the benches stop with a message).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The scale of the main bench database (`QUOTEDB_BENCH_SCALE`, default 10 = 100,000 quotes; see
/// `quotedb_seeds::volume`), or the small scale used by `cargo bench -- --test` and by the
/// index-path test.
pub fn bench_scale(test_mode: bool) -> f64 {
    if test_mode {
        return TEST_SCALE;
    }
    std::env::var("QUOTEDB_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0)
}

/// The scale of `cargo bench -- --test` and of the index-path test (10,000 quotes: enough rows for
/// the planner to prefer indexes the way it does at full size).
pub const TEST_SCALE: f64 = 1.0;

/// Whether criterion runs in `--test` mode (each bench once).
pub fn criterion_test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// The volume generator's seed number used by every bench database.
pub const BENCH_SEED: u64 = 42;

/// Name of the bench database for `scale`: the hash of its template (migrations and seeds) and the
/// scale. `cargo xtask db-clean` drops those of other hashes.
pub fn bench_database_name(scale: f64) -> String {
    let scale = format!("{scale}").replace('.', "_");
    format!("quotedb_bench_{}_s{scale}", seeded_recipe().hash())
}

/// The migrated and seeded template every bench database is cloned from.
pub fn seeded_recipe() -> Recipe {
    Recipe::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE)
}

/// A volume-seeded database and a tuned pool on it.
#[derive(Debug, Clone)]
pub struct BenchDb {
    /// The database URL.
    pub url: String,
    /// The pool the benches use (no ping before acquire, statement cache on).
    pub pool: PgPool,
    /// The repository handle on that pool.
    pub db: Db,
    /// The scale it was loaded at.
    pub scale: f64,
}

const COMPLETE: &str = "quotedb bench database: complete";

/// The bench database at `scale`, created (seeded template + volume load + ANALYZE) on first use
/// and reused afterwards. Concurrent callers serialise on an advisory lock.
pub async fn bench_db(scale: f64) -> Result<BenchDb, BoxError> {
    let server = quotedb_testkit::server().await?;
    let name = bench_database_name(scale);
    ensure_loaded(server, &name, scale).await?;
    let url = server.url_for(&name);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await?;
    let db = Db::new(pool.clone());
    // The reference data cache loaded and listening, as in a running service.
    db.warm_reference_cache().await;
    Ok(BenchDb { url, db, pool, scale })
}

async fn ensure_loaded(server: &Server, name: &str, scale: f64) -> Result<(), BoxError> {
    let mut admin = server.admin_connection().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtext('quotedb-bench-db'))")
        .execute(&mut admin)
        .await?;
    let result = async {
        let comment: Option<Option<String>> =
            sqlx::query_scalar("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_optional(&mut admin)
                .await?;
        if comment.flatten().as_deref() == Some(COMPLETE) {
            return Ok::<_, BoxError>(());
        }
        eprintln!("quotedb-benches: building bench database {name} (scale {scale}); reused by later runs");
        // Bench databases of other migrations or seeds are stale: at scale 10 each holds about a
        // gigabyte, and a session that changes the schema would pile them up on the disk.
        let current = name.rsplit_once("_s").map_or(name, |(prefix, _)| prefix);
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'quotedb\\_bench\\_%' AND NOT starts_with(datname, $1 || '_s')",
        )
        .bind(current)
        .fetch_all(&mut admin)
        .await?;
        for old in stale {
            eprintln!("quotedb-benches: dropping stale bench database {old}");
            server.drop_database(&old).await?;
        }
        server.drop_database(name).await?;
        server.create_database_from(name, &seeded_recipe()).await?;
        let url = server.url_for(name);
        let mut conn = PgConnection::connect(&url).await?;
        let mut cfg = quotedb_seeds::volume::VolumeConfig::new(scale, BENCH_SEED);
        cfg.progress = false;
        let report = quotedb_seeds::volume::load(&mut conn, &cfg).await?;
        // A freshly loaded table is all inserts: autovacuum would vacuum every one of them during
        // the first run's measurements (seen: 16 s of it while the floor was measured), and until
        // then no page is all-visible for index-only scans. A steady-state database is vacuumed.
        sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut conn).await?;
        conn.close().await?;
        eprintln!(
            "quotedb-benches: loaded {} rows in {:?}",
            report.rows(),
            report.load_total()
        );
        // The marker that the load finished (a half-built database is rebuilt).
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "COMMENT ON DATABASE {} IS '{COMPLETE}'",
            quote_ident(name)
        )))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext('quotedb-bench-db'))")
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    result
}

/// A connection to the bench database (for EXPLAIN and parameter lookups).
pub async fn connect(url: &str) -> Result<PgConnection, BoxError> {
    Ok(PgConnection::connect(url).await?)
}

/// Explain every benchmarked path (custom and generic plans) and record the indexes they use in
/// `target/criterion/quotedb-index-paths.json`, which `cargo xtask bench-report` reads.
pub async fn record_index_paths(env: &BenchDb, p: &params::Params) -> Result<(), BoxError> {
    let mut conn = connect(&env.url).await?;
    let mut recorded = serde_json::Map::new();
    for path in paths::index_paths(p) {
        let custom = paths::check(&env.url, &path, explain::PlanMode::Custom).await?;
        let generic = paths::check(&env.url, &path, explain::PlanMode::Generic).await?;
        let used = |plan: &explain::PlanSummary| {
            path.indexes
                .iter()
                .find(|i| plan.uses(i))
                .map_or_else(|| "NOT USED".to_string(), |i| (*i).to_string())
        };
        let small = paths::table_rows(&mut conn, path.table).await? < paths::LARGE_TABLE_ROWS;
        let (c, g) = if small {
            let note = format!("seq scan ({} is small)", path.table);
            (note.clone(), note)
        } else {
            (used(&custom), used(&generic))
        };
        let text = if c == g {
            c
        } else {
            format!("{c} (custom) / {g} (generic)")
        };
        recorded.insert(path.bench.to_string(), serde_json::Value::String(text));
    }
    conn.close().await?;
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir)?;
    let doc = serde_json::json!({ "scale": format!("{}", env.scale), "paths": recorded });
    std::fs::write(
        dir.join("quotedb-index-paths.json"),
        serde_json::to_string_pretty(&doc)?,
    )?;
    Ok(())
}

/// Record the two scales of the `scale_curve` group in `target/criterion/quotedb-scale-curve.json`
/// (`cargo xtask bench-report` labels the curve with them: 1 → 10 in a default run, 10 → 100 with
/// `QUOTEDB_BENCH_SCALE=100 cargo bench -p quotedb-benches --bench paths -- scale_curve`).
pub fn record_scale_curve(small: f64, large: f64) -> Result<(), BoxError> {
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir)?;
    let doc = serde_json::json!({ "small": format!("{small}"), "large": format!("{large}") });
    std::fs::write(
        dir.join("quotedb-scale-curve.json"),
        serde_json::to_string_pretty(&doc)?,
    )?;
    Ok(())
}

/// `target/criterion` (under `CARGO_TARGET_DIR` when set), where criterion and the benches' own
/// result files live.
pub fn criterion_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| quotedb_testkit::workspace_root().join("target"))
        .join("criterion")
}
