//! The testkit's promises, checked against a real server.

use std::time::{Duration, Instant};

use quotedb_testkit::{Backend, Template, TestDb, cluster, resolve, server, template_name};
use sqlx::Connection as _;

#[tokio::test]
async fn two_test_databases_are_different_databases() {
    let a = TestDb::new().await;
    let b = TestDb::new().await;
    assert_ne!(a.name(), b.name());
    sqlx::query("INSERT INTO states (code, name) VALUES ('ZZ', 'Testland')")
        .execute(a.pool())
        .await
        .expect("insert into a");
    let in_a: i64 = sqlx::query_scalar("SELECT count(*) FROM states WHERE code = 'ZZ'")
        .fetch_one(a.pool())
        .await
        .expect("count in a");
    let in_b: i64 = sqlx::query_scalar("SELECT count(*) FROM states WHERE code = 'ZZ'")
        .fetch_one(b.pool())
        .await
        .expect("count in b");
    assert_eq!(
        (in_a, in_b),
        (1, 0),
        "a write in one test database must be invisible in the other"
    );
}

async fn template_oid(name: &str) -> Option<(i64, bool)> {
    let server = server().await.expect("server");
    let mut conn = server.admin_connection().await.expect("admin connection");
    let row: Option<(i64, bool)> =
        sqlx::query_as("SELECT oid::int8, datistemplate FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut conn)
            .await
            .expect("pg_database");
    conn.close().await.expect("close");
    row
}

#[tokio::test]
async fn the_template_is_built_once_and_reused_and_a_clone_is_fast() {
    let first = TestDb::new().await;
    let name = template_name(Template::Migrated);
    let before = template_oid(&name)
        .await
        .expect("the template exists after the first TestDb");
    assert!(before.1, "the template is marked as a template once built");
    drop(first);

    let server = server().await.expect("server");
    let mut timings = Vec::with_capacity(20);
    for i in 0..20 {
        let db = format!("qt_clone_timing_{}_{i}", std::process::id());
        let started = Instant::now();
        server
            .create_database_from(&db, Template::Migrated)
            .await
            .expect("clone");
        timings.push(started.elapsed());
        server.drop_database(&db).await.expect("drop clone");
    }
    timings.sort();
    let median: Duration = timings[timings.len() / 2];
    eprintln!(
        "template clone: median of 20 = {median:?} (min {:?}, max {:?})",
        timings[0], timings[19]
    );

    let after = template_oid(&name).await.expect("the template still exists");
    assert_eq!(before, after, "cloning must reuse the template, not rebuild it");
}

/// Run by `a_failing_test_keeps_its_database_and_prints_its_url` in a child process; does nothing
/// unless that test asks it to fail.
#[tokio::test]
#[ignore = "helper: run as a child process by a_failing_test_keeps_its_database_and_prints_its_url"]
async fn keep_probe_child() {
    let Ok(out) = std::env::var("QUOTEDB_KEEP_PROBE") else {
        return;
    };
    let db = TestDb::new().await;
    std::fs::write(&out, db.name()).expect("write probe file");
    panic!("this test fails on purpose so that its database is kept");
}

#[tokio::test]
async fn a_failing_test_keeps_its_database_and_prints_its_url() {
    let probe = std::env::temp_dir().join(format!("quotedb-keep-probe-{}", std::process::id()));
    let exe = std::env::current_exe().expect("current test binary");
    let child = tokio::process::Command::new(exe)
        .args(["--ignored", "--exact", "keep_probe_child", "--nocapture"])
        .env("QUOTEDB_KEEP_PROBE", &probe)
        .output()
        .await
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(!child.status.success(), "the probe test must fail");
    let name = std::fs::read_to_string(&probe).expect("the probe wrote its database name");
    let _ = std::fs::remove_file(&probe);
    assert!(
        stderr.contains(&format!("kept test database {name}")) && stderr.contains("psql \"postgres://"),
        "the failing test must print its kept database and URL; stderr was:\n{stderr}"
    );
    let server = server().await.expect("server");
    assert!(
        server.database_exists(&name).await.expect("exists"),
        "the failed test's database is kept"
    );
    server.drop_database(&name).await.expect("clean up");
}

#[tokio::test]
async fn database_url_wins_when_set() {
    let local = server().await.expect("server");
    let url = local.url_for("postgres");
    let resolved = resolve(Some(&url)).await.expect("a valid DATABASE_URL resolves");
    assert!(
        matches!(resolved.backend(), Backend::DatabaseUrl),
        "DATABASE_URL must win over the other ways"
    );
    assert_eq!(resolved.url_for("quotedb_x"), local.url_for("quotedb_x"));
    let conn = resolved.admin_connection().await.expect("connect through DATABASE_URL");
    conn.close().await.expect("close");
}

#[tokio::test]
async fn a_malformed_database_url_names_the_variable() {
    for bad in ["not a url", "mysql://root@localhost/db", "postgres://host:notaport/db"] {
        let err = resolve(Some(bad))
            .await
            .expect_err("a malformed DATABASE_URL is an error");
        let message = err.to_string();
        assert!(
            message.contains("DATABASE_URL"),
            "error for {bad:?} must name DATABASE_URL: {message}"
        );
    }
}

#[tokio::test]
async fn the_local_cluster_starts_from_nothing_in_an_empty_directory() {
    let Some(bindir) = cluster::find_bindir() else {
        eprintln!("skipped: no PostgreSQL server binaries installed");
        return;
    };
    let dir = std::env::temp_dir().join(format!("quotedb-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (d, b) = (dir.clone(), bindir.clone());
    let started = tokio::task::spawn_blocking(move || cluster::LocalCluster::ensure_started(&d, &b))
        .await
        .expect("join")
        .expect("a cluster starts in an empty directory (as root, it runs as an unprivileged user)");
    let mut conn = sqlx::PgConnection::connect(&started.admin_url())
        .await
        .expect("connect");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(one, 1);
    conn.close().await.expect("close");
    started.stop().expect("stop");

    // A crash leaves a postmaster.pid behind: the next start must recover from it.
    std::fs::write(dir.join("data/postmaster.pid"), "999999\n").expect("fake a stale pid file");
    let (d, b) = (dir.clone(), bindir.clone());
    let restarted = tokio::task::spawn_blocking(move || cluster::LocalCluster::ensure_started(&d, &b))
        .await
        .expect("join")
        .expect("a stale postmaster.pid does not stop the cluster from starting");
    let conn = sqlx::PgConnection::connect(&restarted.admin_url())
        .await
        .expect("connect after recovery");
    conn.close().await.expect("close");
    restarted.stop().expect("stop");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
