//! The library behind `cargo xtask`, so its commands can be tested.

pub mod bench_report;
pub mod docs;

use std::process::Command;

use anyhow::{Context as _, bail};
use quotedb_testkit::{Backend, Server, Template};
use sqlx::{Connection as _, PgConnection};

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
    server.create_database_from(name, Template::Seeded).await?;
    let url = server.url_for(name);
    eprintln!("xtask: {name} is ready");
    Ok(url)
}

/// Start the local cluster (or say that DATABASE_URL is in charge).
pub async fn db_start() -> anyhow::Result<()> {
    let server = quotedb_testkit::server().await?;
    match server.backend() {
        Backend::LocalCluster(c) => eprintln!(
            "xtask: local cluster running in {} on 127.0.0.1:{}",
            c.dir().display(),
            c.port()
        ),
        Backend::DatabaseUrl => eprintln!("xtask: DATABASE_URL is set; nothing to start"),
        Backend::Container => eprintln!("xtask: using a testcontainers PostgreSQL (lives as long as this process)"),
    }
    Ok(())
}

/// Stop the local cluster if it exists.
pub fn db_stop() -> anyhow::Result<()> {
    let Some(bindir) = quotedb_testkit::cluster::find_bindir() else {
        bail!("no PostgreSQL server binaries found: there is no local cluster to stop");
    };
    let dir = quotedb_testkit::cluster::default_dir();
    match quotedb_testkit::cluster::LocalCluster::open(&dir, &bindir) {
        Some(c) => {
            c.stop()?;
            eprintln!("xtask: local cluster in {} stopped", dir.display());
        }
        None => eprintln!("xtask: no local cluster in {}", dir.display()),
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
    for (name, template) in dbs {
        println!("  {name}{}", if template { " (template)" } else { "" });
    }
    Ok(())
}

async fn dev_connection() -> anyhow::Result<PgConnection> {
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

/// Regenerate (or check) `.sqlx/` against a scratch database cloned from the migrated template.
pub async fn prepare(check: bool) -> anyhow::Result<()> {
    let server = quotedb_testkit::server().await?;
    let scratch = format!("quotedb_prepare_{}", std::process::id());
    eprintln!("xtask: creating scratch database {scratch} (migrated)");
    server.create_database_from(&scratch, Template::Migrated).await?;
    let url = server.url_for(&scratch);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(quotedb_testkit::workspace_root())
        .args(["sqlx", "prepare", "--workspace"])
        .args(check.then_some("--check"))
        .args(["--", "--all-targets"])
        .env("DATABASE_URL", &url)
        .env("SQLX_OFFLINE", "false");
    eprintln!(
        "xtask: running cargo sqlx prepare{} (compiles the workspace)",
        if check { " --check" } else { "" }
    );
    let status = cmd.status().context("cannot run `cargo sqlx` (install it: cargo install sqlx-cli@0.9.0 --no-default-features --features postgres --locked)");
    server.drop_database(&scratch).await?;
    let status = status?;
    if !status.success() {
        if check {
            bail!(".sqlx/ is stale: run `cargo xtask prepare` and commit .sqlx/");
        }
        bail!("cargo sqlx prepare failed");
    }
    Ok(())
}
