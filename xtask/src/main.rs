//! `cargo xtask <command>`: quotedb's developer commands. See `cargo xtask --help`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "quotedb developer commands", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drop and recreate the dev database (terminating its connections), migrated and seeded; prints its URL.
    DbReset,
    /// Start the project-local PostgreSQL cluster (no-op with DATABASE_URL).
    DbStart,
    /// Stop the project-local PostgreSQL cluster.
    DbStop,
    /// Where the server comes from, whether it runs, and which databases quotedb has on it.
    DbStatus,
    /// Print the dev database URL (psql accepts it): psql "$(cargo xtask db-url)".
    DbUrl,
    /// Apply pending migrations to the dev database.
    Migrate,
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
    /// Generate docs/database_schema.md from the catalog of a freshly migrated database.
    Docs {
        /// Fail if docs/database_schema.md is stale instead of writing it.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
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
            Command::DbStart => xtask::db_start().await?,
            Command::DbStop => xtask::db_stop()?,
            Command::DbStatus => xtask::db_status().await?,
            Command::DbUrl => {
                let server = quotedb_testkit::server().await?;
                println!("{}", server.url_for(&xtask::dev_database_name()));
            }
            Command::Migrate => xtask::migrate().await?,
            Command::Seed => xtask::seed().await?,
            Command::Prepare { check } => xtask::prepare(check).await?,
            Command::BenchReport { print_only } => xtask::bench_report::bench_report(print_only)?,
            Command::Docs { check } => xtask::docs::docs(quotedb_testkit::server().await?, check).await?,
        }
        Ok(())
    })
}
