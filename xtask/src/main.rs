//! `cargo xtask <command>`: quotedb's developer commands. See `cargo xtask --help`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "quotedb developer commands", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Applied / pending / edited after being applied / unknown / failed, per migration, for the
    /// dev database or --database-url; exits non-zero on edited, unknown or failed.
    Status {
        /// The database to inspect (default: the dev database).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Create the next numbered .up.sql / .down.sql pair in migrations/, headed by the conventions.
    New {
        /// snake_case name, e.g. replace_char_state_codes.
        name: String,
    },
    /// squawk (PyPI squawk-cli, installed into target/tools on first use) with the rules of
    /// .squawk.toml over the migrations after the released ones (migrations.lock); fails on findings.
    Lint,
    /// Apply the unreleased migrations statement by statement to a clone of a database full of
    /// data (the released schema, the seeds, the volume data at --scale), report per statement
    /// its duration, strongest lock, rewrites and rows, fail on a write-blocking lock held too long
    /// on a big table; then revert and re-apply, checking the schema comes back the same.
    Rehearse {
        /// Volume scale of the data (1 = 10,000 quotes; the benches use 10).
        #[arg(long, default_value_t = 10.0)]
        scale: f64,
        /// A table at least this many MiB counts as big.
        #[arg(long, default_value_t = 8)]
        big_table_mib: i64,
        /// Longest a write-blocking lock on a big table may be held, in ms.
        #[arg(long, default_value_t = 1000)]
        max_block_ms: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write migrations.lock: the checksums of every migration, frozen as released (run when a
    /// release is cut; CI fails when a locked migration changes).
    Lock,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drop and recreate the dev database (terminating its connections), migrated and seeded; prints its URL.
    DbReset,
    /// Start the project-local PostgreSQL cluster (no-op with DATABASE_URL), and its streaming
    /// replica if it has one.
    DbStart {
        /// Also create (pg_basebackup, first time) and start a streaming replica (hot standby) of
        /// the cluster on its own port.
        #[arg(long)]
        replica: bool,
    },
    /// Stop the project-local PostgreSQL cluster and its replicas.
    DbStop,
    /// Where the server comes from, whether it runs, which databases quotedb has on it, and the
    /// dev database's partitions: each partitioned table's runway and DEFAULT partition rows.
    DbStatus,
    /// Partition maintenance on the dev database as the system role (maintain_partitions():
    /// partitions ahead, strays out of the DEFAULT partitions, retention); prints what it did.
    Maintain {
        /// Run with the clock at this time (YYYY-MM-DD or RFC 3339) instead of now().
        #[arg(long)]
        now: Option<String>,
    },
    /// Compare a live database's schema with the migrations at the version it applied: what was
    /// changed by hand (+ only live, - only in the migrations); exits non-zero on any difference.
    Drift {
        /// The live database (default: the dev database).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The expand/contract check of a rolling deploy: describe every query of the release at
    /// <rev> (its committed .sqlx/ data) against this tree's migrations; fails when one no longer
    /// prepares, or a result column changed type or may now be NULL.
    Compat {
        /// The release still running (a git revision: tag, branch, commit).
        #[arg(long)]
        against: String,
    },
    /// Print the dev database URL (psql accepts it): psql "$(cargo xtask db-url)".
    DbUrl,
    /// Drop what older migrations and seeds left on the server: their templates, pre-cloned and
    /// bench databases, and kept test databases (qt_*) nobody is connected to.
    DbClean,
    /// Migrations: apply the pending ones to the dev database (no subcommand), or status / new / lock.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Load the reference seeds into the dev database (idempotent).
    Seed,
    /// Regenerate `.sqlx/` against a freshly migrated scratch database (never the dev one).
    Prepare {
        /// Fail if `.sqlx/` is stale instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Read criterion's results: a graded table (ratio to the SELECT 1 floor) to the terminal and docs/performance.md.
    BenchReport {
        /// Print only; do not write docs/performance.md.
        #[arg(long)]
        print_only: bool,
    },
    /// Generate and load the deterministic volume data set (scale 1 = 10 000 quotes, ~190 000 rows)
    /// into the dev database (or --database-url); prints rows per table and the peak RSS.
    SeedVolume {
        #[command(flatten)]
        volume: VolumeArgs,
        /// Target database (default: the dev database, see db-url).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Time the volume loader against psql \copy of the same rows (two scratch clones of the
    /// seeded template; the files are written first, then psql, then the loader).
    VolumeReport {
        #[command(flatten)]
        volume: VolumeArgs,
        /// Directory for the data files (default: a temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Keep the scratch databases and the files.
        #[arg(long)]
        keep: bool,
        /// Timed runs of each side (alternating which goes first); the best of each is compared.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
    },
    /// Generate docs/database_schema.md and docs/security.md from the catalog of a freshly migrated database.
    Docs {
        /// Fail if docs/database_schema.md or docs/security.md is stale instead of writing them.
        #[arg(long)]
        check: bool,
    },
}

/// Options shared by the volume commands.
#[derive(Debug, clap::Args)]
struct VolumeArgs {
    /// Size: 1 = 10 000 quotes (2 500 customers, ~190 000 rows); fractions allowed.
    #[arg(long)]
    scale: f64,
    /// Random seed: the same seed and anchor give the same rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The data set's "now" (YYYY-MM-DD or RFC 3339); default: the current UTC midnight.
    #[arg(long)]
    now: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

impl VolumeArgs {
    fn config(&self) -> anyhow::Result<quotedb_seeds::volume::VolumeConfig> {
        let mut cfg = quotedb_seeds::volume::VolumeConfig::new(self.scale, self.seed);
        if let Some(now) = &self.now {
            cfg.anchor = parse_anchor(now)?;
        }
        cfg.progress = !self.quiet;
        Ok(cfg)
    }
}

fn parse_anchor(s: &str) -> anyhow::Result<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let date = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| anyhow::anyhow!("--now {s:?}: expected YYYY-MM-DD or RFC 3339 ({e})"))?;
    Ok(date.midnight().assume_utc())
}

fn print_rss() {
    if let Some(kib) = xtask::peak_rss_kib() {
        println!("peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}

/// Errors are the user's to act on: one line each (with its causes), no backtrace.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        match cli.command {
            Command::DbReset => {
                let server = quotedb_testkit::server().await?;
                let url = xtask::db_reset(server, &xtask::dev_database_name()).await?;
                println!("{url}");
            }
            Command::DbStart { replica } => xtask::db_start(replica).await?,
            Command::DbStop => xtask::db_stop()?,
            Command::DbStatus => xtask::db_status().await?,
            Command::Maintain { now } => xtask::maintain(now.as_deref().map(parse_anchor).transpose()?).await?,
            Command::DbClean => xtask::db_clean().await?,
            Command::Compat { against } => {
                let server = quotedb_testkit::server().await?;
                let (queries, findings) = xtask::compat::compat(server, &against).await?;
                for f in &findings {
                    println!("{}\n  {}\n  {}", f.file, f.query, f.problem);
                }
                if !findings.is_empty() {
                    anyhow::bail!(
                        "{} of the {queries} queries of {against} break on this schema",
                        findings.len()
                    );
                }
                println!("compat: the {queries} queries of {against} prepare unchanged on this tree's migrations");
            }
            Command::Drift { database_url } => {
                let server = quotedb_testkit::server().await?;
                let url = database_url.unwrap_or_else(|| server.url_for(&xtask::dev_database_name()));
                let lines = xtask::migrations::drift(server, &url, &quotedb_schema::MIGRATOR).await?;
                if !lines.is_empty() {
                    println!("{}", lines.join("\n"));
                    anyhow::bail!("the live database differs from its migrations ({} lines)", lines.len());
                }
                println!("no drift: the database matches its migrations");
            }
            Command::DbUrl => {
                let server = quotedb_testkit::server().await?;
                println!("{}", server.url_for(&xtask::dev_database_name()));
            }
            Command::Migrate { action: None } => xtask::migrate().await?,
            Command::Migrate {
                action: Some(MigrateAction::Status { database_url }),
            } => {
                let mut conn = match database_url {
                    Some(url) => <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?,
                    None => xtask::dev_connection().await?,
                };
                let rows = xtask::migrations::status(&mut conn, &quotedb_schema::MIGRATOR).await?;
                println!("{}", xtask::migrations::render_status(&rows));
                if rows.iter().any(|r| r.state.is_problem()) {
                    anyhow::bail!("the database has edited, unknown or failed migrations (see above)");
                }
            }
            Command::Migrate {
                action: Some(MigrateAction::New { name }),
            } => {
                let dir = quotedb_testkit::workspace_root().join("migrations");
                let (up, down) = xtask::migrations::new_migration(&dir, &name)?;
                println!("{}\n{}", up.display(), down.display());
            }
            Command::Migrate {
                action: Some(MigrateAction::Lint),
            } => {
                let root = quotedb_testkit::workspace_root();
                let lock = std::fs::read_to_string(root.join("migrations.lock"))?;
                let files = xtask::migrations::unreleased_files(&root.join("migrations"), &lock)?;
                match xtask::migrations::lint(&files)? {
                    None if files.is_empty() => println!("migrate lint: every migration is released; nothing to lint"),
                    None => println!("migrate lint: {} file(s), no finding", files.len()),
                    Some(report) => {
                        println!("{report}");
                        anyhow::bail!("squawk found problems in unreleased migrations (see above)");
                    }
                }
            }
            Command::Migrate {
                action:
                    Some(MigrateAction::Rehearse {
                        scale,
                        big_table_mib,
                        max_block_ms,
                        json,
                    }),
            } => {
                let limits = xtask::rehearse::Limits {
                    big_table_bytes: big_table_mib << 20,
                    max_block_ms,
                };
                match xtask::rehearse::run(scale, limits).await? {
                    None => println!("migrate rehearse: every migration is released; nothing to rehearse"),
                    Some(r) => {
                        if json {
                            println!("{}", serde_json::to_string_pretty(&r)?);
                        } else {
                            println!("{}", r.table());
                        }
                        if r.failures().next().is_some() {
                            anyhow::bail!(
                                "a statement holds a write-blocking lock on a big table too long (see above)"
                            );
                        }
                    }
                }
            }
            Command::Migrate {
                action: Some(MigrateAction::Lock),
            } => {
                let path = quotedb_testkit::workspace_root().join("migrations.lock");
                std::fs::write(&path, xtask::migrations::lock_text(&quotedb_schema::MIGRATOR))?;
                println!("{}", path.display());
            }
            Command::Seed => xtask::seed().await?,
            Command::Prepare { check } => xtask::prepare(check).await?,
            Command::BenchReport { print_only } => xtask::bench_report::bench_report(print_only)?,
            Command::SeedVolume { volume, database_url } => {
                let cfg = volume.config()?;
                let url = xtask::volume_target_url(database_url.as_deref()).await?;
                let report = xtask::seed_volume(&url, &cfg).await?;
                println!("{report}");
                print_rss();
            }
            Command::VolumeReport {
                volume,
                dir,
                keep,
                repeat,
            } => {
                let cfg = volume.config()?;
                let dir =
                    dir.unwrap_or_else(|| std::env::temp_dir().join(format!("quotedb-volume-{}", std::process::id())));
                let c = xtask::volume_report(&cfg, &dir, keep, repeat).await?;
                println!("{}", c.report);
                println!();
                println!(
                    "same {} rows ({:.1} MiB binary COPY, files written in {:.2}s):",
                    c.rows,
                    c.bytes as f64 / 1_048_576.0,
                    c.generate_files.as_secs_f64()
                );
                let rate = |d: std::time::Duration| c.rows as f64 / d.as_secs_f64().max(1e-9);
                for r in &c.runs {
                    println!(
                        "  {:<6} run            : {:>8.2}s {:>10.0} rows/s",
                        r.who,
                        r.time.as_secs_f64(),
                        rate(r.time)
                    );
                }
                let (psql, loader) = (c.best("psql"), c.best("loader"));
                println!(
                    "  psql \\copy from files : {:>8.2}s {:>10.0} rows/s (best)",
                    psql.as_secs_f64(),
                    rate(psql)
                );
                println!(
                    "  volume loader         : {:>8.2}s {:>10.0} rows/s (best)",
                    loader.as_secs_f64(),
                    rate(loader)
                );
                println!(
                    "  loader / psql time    : {:>8.2}x (goal <= 1.5x)",
                    loader.as_secs_f64() / psql.as_secs_f64().max(1e-9)
                );
                print_rss();
            }
            Command::Docs { check } => xtask::docs::docs(quotedb_testkit::server().await?, check).await?,
        }
        Ok(())
    })
}
