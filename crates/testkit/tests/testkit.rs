//! The testkit's promises, checked against a real server.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quotedb_testkit::{Backend, Error, Recipe, TestDb, cluster, resolve, server};
use sqlx::Connection as _;
use sqlx::migrate::Migrator;

/// The test kit's own schema (it depends on no quotedb crate).
static MIGRATOR: Migrator = sqlx::migrate!("tests/migrations");

const SEEDS: &[(&str, &str)] = &[
    (
        "01_things.sql",
        "INSERT INTO things VALUES ('a', 'first'), ('b', 'second');",
    ),
    ("02_more.sql", "INSERT INTO things VALUES ('c', 'third');"),
];

#[tokio::test]
async fn two_test_databases_are_different_databases() {
    let a = TestDb::migrated(&MIGRATOR).await;
    let b = TestDb::migrated(&MIGRATOR).await;
    assert_ne!(a.name(), b.name());
    sqlx::query("INSERT INTO things (code, name) VALUES ('ZZ', 'Testland')")
        .execute(a.pool())
        .await
        .expect("insert into a");
    let in_a: i64 = sqlx::query_scalar("SELECT count(*) FROM things WHERE code = 'ZZ'")
        .fetch_one(a.pool())
        .await
        .expect("count in a");
    let in_b: i64 = sqlx::query_scalar("SELECT count(*) FROM things WHERE code = 'ZZ'")
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
async fn the_template_is_built_once_and_reused() {
    let recipe = Recipe::migrated(&MIGRATOR);
    let first = TestDb::from_recipe(&recipe).await;
    let name = recipe.template_name();
    let before = template_oid(&name)
        .await
        .expect("the template exists after the first TestDb");
    assert!(before.1, "the template is marked as a template once built");
    drop(first);
    for _ in 0..3 {
        let db = TestDb::from_recipe(&recipe).await;
        let things: i64 = sqlx::query_scalar("SELECT count(*) FROM things")
            .fetch_one(db.pool())
            .await
            .expect("the clone holds the migrated schema");
        assert_eq!(things, 0);
    }
    let after = template_oid(&name).await.expect("the template still exists");
    assert_eq!(before, after, "cloning must reuse the template, not rebuild it");
}

#[tokio::test]
async fn a_seeded_recipe_runs_its_scripts_and_a_failing_script_is_named() {
    let db = TestDb::seeded(&MIGRATOR, SEEDS).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM things ORDER BY code")
        .fetch_all(db.pool())
        .await
        .expect("read the seeded rows");
    assert_eq!(names, ["first", "second", "third"]);

    const BROKEN: &[(&str, &str)] = &[
        ("01_ok.sql", "INSERT INTO things VALUES ('x', 'ok');"),
        ("02_broken.sql", "INSERT INTO no_such_table VALUES (1);"),
    ];
    let recipe = Recipe::new("broken").migrations(&MIGRATOR).sql_scripts("seeds", BROKEN);
    let err = TestDb::try_from_recipe(&recipe)
        .await
        .expect_err("a failing seed script fails the template build");
    let message = err.to_string();
    assert!(
        matches!(err, Error::Build { ref step, .. } if step == "seeds") && message.contains("02_broken.sql"),
        "the error names the step and the file: {message}"
    );
    let state = template_oid(&recipe.template_name()).await;
    assert!(
        state.is_none_or(|(_, is_template)| !is_template),
        "a half-built template is never marked usable"
    );
    let server = server().await.expect("server");
    server
        .drop_database(&recipe.template_name())
        .await
        .expect("clean up the half-built template");
}

/// A migration set written to a temporary directory and loaded at run time (as `migrate!` would
/// embed it at build time), so the test can change a file.
async fn migrator_from(dir: &std::path::Path, up_sql: &str) -> &'static Migrator {
    std::fs::create_dir_all(dir).expect("migrations dir");
    std::fs::write(dir.join("0001_things.up.sql"), up_sql).expect("write migration");
    std::fs::write(dir.join("0001_things.down.sql"), "DROP TABLE things;").expect("write migration");
    Box::leak(Box::new(Migrator::new(dir).await.expect("load migrations")))
}

#[tokio::test]
async fn the_template_name_changes_when_a_migration_file_changes() {
    let dir = std::env::temp_dir().join(format!("quotedb-testkit-hash-{}", std::process::id()));
    let before = migrator_from(&dir, "CREATE TABLE things (code text PRIMARY KEY);").await;
    let same = migrator_from(&dir, "CREATE TABLE things (code text PRIMARY KEY);").await;
    let changed = migrator_from(&dir, "CREATE TABLE things (code text PRIMARY KEY, name text);").await;
    std::fs::remove_dir_all(&dir).expect("clean up");
    let name = |m: &'static Migrator| Recipe::migrated(m).template_name();
    assert_eq!(name(before), name(same), "the same files make the same template");
    assert_ne!(name(before), name(changed), "a changed migration makes a new template");
    assert_ne!(
        Recipe::migrated(before).template_name(),
        Recipe::seeded(before, SEEDS).template_name(),
        "seeds make a different template"
    );
}

async fn ready_count(recipe: &Recipe) -> i64 {
    let server = server().await.expect("server");
    let mut conn = server.admin_connection().await.expect("admin connection");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)")
        .bind(format!("quotedb_rdy_{}_", recipe.hash()))
        .fetch_one(&mut conn)
        .await
        .expect("count ready clones");
    conn.close().await.expect("close");
    n
}

#[tokio::test]
async fn clones_are_made_ahead_and_concurrent_tests_never_share_one() {
    let recipe = Arc::new(Recipe::new("ahead").migrations(&MIGRATOR).sql_scripts("seeds", SEEDS));
    drop(TestDb::from_recipe(&recipe).await);
    // The claim queued a refill in the background: wait for it (bounded) rather than assume.
    let mut ready = 0;
    for _ in 0..100 {
        ready = ready_count(&recipe).await;
        if ready >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ready >= 3,
        "three clones are kept ready (QUOTEDB_TESTKIT_READY), found {ready}"
    );

    // Sixteen tests at once: distinct databases, each holding the seeds, none sharing writes.
    let dbs = futures_join_all((0..16).map(|_| {
        let recipe = Arc::clone(&recipe);
        async move { TestDb::try_from_recipe(&recipe).await }
    }))
    .await;
    let mut names = std::collections::HashSet::new();
    for db in &dbs {
        let db = db.as_ref().expect("a concurrent claim succeeds");
        assert!(names.insert(db.name().to_string()), "a database was handed out twice");
        sqlx::query("INSERT INTO things VALUES ('mine', $1)")
            .bind(db.name())
            .execute(db.pool())
            .await
            .expect("write to own database");
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM things")
            .fetch_one(db.pool())
            .await
            .expect("count");
        assert_eq!(rows, 4, "three seeded rows and this test's own: nothing of the others");
    }
}

/// Await every future (the test kit's tests do not need a futures crate for this).
async fn futures_join_all<F: Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// How long a test waits for its database (claim of a pre-cloned one and the pool's first
/// connection), against a direct clone: printed, not asserted (speed lives in benchmarks).
#[tokio::test]
async fn clone_timings_are_reported() {
    let recipe = Recipe::new("timing").migrations(&MIGRATOR).sql_scripts("seeds", SEEDS);
    drop(TestDb::from_recipe(&recipe).await);
    let server = server().await.expect("server");
    let mut claimed = Vec::with_capacity(20);
    let mut direct = Vec::with_capacity(20);
    for i in 0..20 {
        // Let the background refill catch up, as it does while a test runs.
        tokio::time::sleep(Duration::from_millis(80)).await;
        let started = Instant::now();
        let db = TestDb::from_recipe(&recipe).await;
        claimed.push(started.elapsed());
        drop(db);
        let name = format!("qt_direct_clone_{}_{i}", std::process::id());
        let started = Instant::now();
        server.create_database_from(&name, &recipe).await.expect("direct clone");
        direct.push(started.elapsed());
        server.drop_database(&name).await.expect("drop");
    }
    claimed.sort();
    direct.sort();
    eprintln!(
        "TestDb ready (claim + first connection): median {:?} (min {:?}, max {:?}); direct FILE_COPY clone: median {:?}",
        claimed[10], claimed[0], claimed[19], direct[10]
    );
}

/// On a cluster of its own: a sweep on the shared server would drop the templates of the tests
/// running beside it.
#[tokio::test]
async fn sweep_drops_what_other_recipes_left_and_keeps_the_current() {
    let Some(bindir) = cluster::find_bindir() else {
        eprintln!("skipped: no PostgreSQL server binaries installed");
        return;
    };
    let dir = std::env::temp_dir().join(format!("quotedb-sweep-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.clone();
    let own = tokio::task::spawn_blocking(move || cluster::LocalCluster::ensure_started(&d, &bindir))
        .await
        .expect("join")
        .expect("a cluster of its own");
    let server = resolve(Some(&own.admin_url())).await.expect("its server");

    let current = Recipe::new("sweepkeep").migrations(&MIGRATOR);
    let old = Recipe::new("sweepold")
        .migrations(&MIGRATOR)
        .sql_scripts("seeds", SEEDS);
    for (db, recipe) in [
        ("qt_kept_failure", &current),
        ("qt_in_use", &old),
        ("quotedb_dev", &old),
    ] {
        server.create_database_from(db, recipe).await.expect("clone");
    }
    let in_use = sqlx::PgConnection::connect(&server.url_for("qt_in_use"))
        .await
        .expect("a running test's connection");

    let mut swept = server.sweep(&[&current]).await.expect("sweep");
    swept.sort();
    let mut expected = [old.template_name(), "qt_kept_failure".to_string()];
    expected.sort();
    assert_eq!(
        swept, expected,
        "the other recipe's template and the idle test database go; the template in use by \
         `current`, a test database someone is connected to and a database the kit did not make stay"
    );
    for stays in [current.template_name(), "qt_in_use".into(), "quotedb_dev".into()] {
        assert!(server.database_exists(&stays).await.expect("exists"), "{stays} stays");
    }
    in_use.close().await.expect("close");
    own.stop().expect("stop");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// Run by `a_failing_test_keeps_its_database_and_prints_its_url` in a child process; does nothing
/// unless that test asks it to fail.
#[tokio::test]
#[ignore = "helper: run as a child process by a_failing_test_keeps_its_database_and_prints_its_url"]
async fn keep_probe_child() {
    let Ok(out) = std::env::var("QUOTEDB_KEEP_PROBE") else {
        return;
    };
    let db = TestDb::migrated(&MIGRATOR).await;
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

#[tokio::test]
async fn a_template_dropped_meanwhile_is_built_again() {
    let recipe = Recipe::new("rebuilt").migrations(&MIGRATOR).sql_scripts("seeds", SEEDS);
    drop(TestDb::from_recipe(&recipe).await);
    // Let the background refill finish, so that no clone appears after the drop below.
    for _ in 0..100 {
        if ready_count(&recipe).await >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What `cargo xtask db-clean` (or a re-created server) does behind this process's back: the
    // template and its ready clones are gone.
    let server = server().await.expect("server");
    let mut admin = server.admin_connection().await.expect("admin");
    let gone: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname = $1 OR starts_with(datname, $2)")
            .bind(recipe.template_name())
            .bind(format!("quotedb_rdy_{}_", recipe.hash()))
            .fetch_all(&mut admin)
            .await
            .expect("names");
    admin.close().await.expect("close");
    for name in gone {
        let mut admin = server.admin_connection().await.expect("admin");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false"
        )))
        .execute(&mut admin)
        .await
        .expect("unmark");
        admin.close().await.expect("close");
        server.drop_database(&name).await.expect("drop");
    }
    let db = TestDb::try_from_recipe(&recipe)
        .await
        .expect("the template is built again");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM things")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(rows, 3, "the rebuilt template holds the seeds");
}

/// The test kit's PgBouncer runs in transaction pooling mode in front of the test server, and a
/// test database is reachable through it (skipped without the binary, except with CI=true).
#[tokio::test]
async fn a_test_database_is_reachable_through_pgbouncer() {
    let db = TestDb::seeded(&MIGRATOR, SEEDS).await;
    let Some(url) = db.pgbouncer_url().await else { return };
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect through PgBouncer");
    // Simple protocol: no prepared statement crosses a transaction boundary.
    let rows = sqlx::raw_sql("SELECT count(*) FROM things")
        .fetch_all(&mut conn)
        .await
        .expect("count");
    assert_eq!(rows.len(), 1);
    conn.close().await.expect("close");
    let bouncer = quotedb_testkit::pgbouncer().await.expect("pgbouncer").expect("running");
    let mut admin = sqlx::PgConnection::connect(&bouncer.admin_url())
        .await
        .expect("admin console");
    let config = sqlx::raw_sql("SHOW CONFIG")
        .fetch_all(&mut admin)
        .await
        .expect("SHOW CONFIG");
    let pool_mode = config.iter().find_map(|row| {
        use sqlx::Row as _;
        (row.try_get::<String, _>(0).ok()? == "pool_mode").then(|| row.try_get::<String, _>(1).ok())?
    });
    assert_eq!(pool_mode.as_deref(), Some("transaction"));
}

#[tokio::test]
async fn a_test_database_is_readable_on_the_replica_and_writes_reach_it() {
    let replica = match quotedb_testkit::replica().await {
        Ok(replica) => replica,
        Err(Error::NoReplica(why)) => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let db = TestDb::seeded(&MIGRATOR, SEEDS).await;
    let url = db.replica_url().await.expect("the database on the replica");
    assert!(url.ends_with(&format!("/{}", db.name())), "{url}");
    let mut standby = sqlx::PgConnection::connect(&url).await.expect("connect to the replica");
    let (in_recovery, things): (bool, i64) =
        sqlx::query_as("SELECT pg_is_in_recovery(), (SELECT count(*) FROM things)")
            .fetch_one(&mut standby)
            .await
            .expect("read on the replica");
    assert!(in_recovery, "the replica is a standby");
    assert_eq!(things, 3, "the seeds replicated");
    // A write on the primary reaches it once replayed; the replica refuses writes.
    sqlx::query("INSERT INTO things VALUES ('d', 'fourth')")
        .execute(db.pool())
        .await
        .expect("insert on the primary");
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(db.pool())
        .await
        .expect("lsn");
    let waited = replica
        .wait_for_replay(&lsn, Duration::from_secs(60))
        .await
        .expect("replayed");
    let things: i64 = sqlx::query_scalar("SELECT count(*) FROM things")
        .fetch_one(&mut standby)
        .await
        .expect("read again");
    assert_eq!(things, 4, "replayed after {waited:?}");
    let refused = sqlx::query("INSERT INTO things VALUES ('e', 'fifth')")
        .execute(&mut standby)
        .await
        .expect_err("a standby is read-only");
    assert_eq!(
        refused.as_database_error().and_then(|d| d.code()).as_deref(),
        Some("25006"),
        "{refused}"
    );
    standby.close().await.expect("close");
}
