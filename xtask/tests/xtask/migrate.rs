//! `cargo xtask migrate status | new | lock`.

use std::path::Path;

use quotedb_testkit::TestDb;
use sqlx::migrate::Migrator;
use xtask::migrations::{State, lock_text, lock_violations, new_migration, render_status, status};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn the_released_migrations_match_the_lock_file() {
    let lock = std::fs::read_to_string(workspace().join("migrations.lock")).expect("migrations.lock");
    let violations = lock_violations(&lock, &quotedb_schema::MIGRATOR);
    assert!(
        violations.is_empty(),
        "released migrations were edited:\n{}",
        violations.join("\n")
    );
    assert!(
        lock.lines().filter(|l| l.contains(" up ")).count() >= 6,
        "0001-0006 at least are locked"
    );
}

/// A copy of the migrations in a temporary directory, loaded at run time.
async fn copied_migrator(dir: &Path) -> Migrator {
    std::fs::create_dir_all(dir).expect("dir");
    for entry in std::fs::read_dir(workspace().join("migrations")).expect("migrations") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("file name"))).expect("copy");
    }
    Migrator::new(dir).await.expect("load the copy")
}

#[tokio::test]
async fn the_lock_file_catches_an_edit_to_a_released_migration() {
    let dir = std::env::temp_dir().join(format!("quotedb-lock-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lock = lock_text(&copied_migrator(&dir).await);
    assert!(lock_violations(&lock, &copied_migrator(&dir).await).is_empty());
    let file = dir.join("0003_rating_engine.up.sql");
    let sql = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, sql + "\n-- a harmless-looking edit\n").expect("edit");
    let edited = Migrator::new(dir.as_path()).await.expect("load the edited copy");
    let violations = lock_violations(&lock, &edited);
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("0003 up"), "{violations:?}");
}

#[tokio::test]
async fn status_reports_applied_pending_edited_and_unknown_migrations() {
    let empty = TestDb::empty().await;
    let mut conn = empty.pool().acquire().await.expect("connection");
    let rows = status(&mut conn, &quotedb_schema::MIGRATOR).await.expect("status");
    assert!(!rows.is_empty() && rows.iter().all(|r| r.state == State::Pending));
    drop(conn);

    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 3")
        .execute(db.pool())
        .await
        .expect("pretend 0003 was edited after being applied");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from a newer release', true, '\\x00', 1)",
    )
    .execute(db.pool())
    .await
    .expect("a migration this tree does not know");
    let mut conn = db.pool().acquire().await.expect("connection");
    let rows = status(&mut conn, &quotedb_schema::MIGRATOR).await.expect("status");
    let state = |v: i64| rows.iter().find(|r| r.version == v).map(|r| r.state);
    assert_eq!(state(1), Some(State::Applied));
    assert_eq!(state(3), Some(State::Edited));
    assert_eq!(state(9999), Some(State::Unknown));
    assert!(rows.iter().any(|r| r.state.is_problem()));
    let table = render_status(&rows);
    assert!(
        table.contains("0003") && table.contains("EDITED") && table.contains("UNKNOWN"),
        "{table}"
    );
}

#[test]
fn new_creates_the_next_numbered_pair_with_the_conventions() {
    let dir = std::env::temp_dir().join(format!("quotedb-new-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["0001_a.up.sql", "0001_a.down.sql", "0012_b.up.sql", "0012_b.down.sql"] {
        std::fs::write(dir.join(f), "SELECT 1;").expect("file");
    }
    for bad in ["", "Has_Capitals", "1starts_with_digit", "spaces are bad", "dash-ed"] {
        assert!(new_migration(&dir, bad).is_err(), "{bad:?} is refused");
    }
    let (up, down) = new_migration(&dir, "replace_char_state_codes").expect("new");
    assert!(up.ends_with("0013_replace_char_state_codes.up.sql"), "{}", up.display());
    assert!(down.ends_with("0013_replace_char_state_codes.down.sql"));
    let text = std::fs::read_to_string(&up).expect("read up");
    for convention in [
        "SET LOCAL lock_timeout",
        "SET LOCAL statement_timeout",
        "-- no-transaction",
        "hand_objects_to_owner()",
    ] {
        assert!(text.contains(convention), "the up file names {convention}");
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_new_pair_passes_lint_and_a_blocking_index_does_not() {
    let dir = std::env::temp_dir().join(format!("quotedb-lint-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (up, down) = new_migration(&dir, "add_quote_channel").expect("new");
    assert_eq!(
        xtask::migrations::lint(&[up.clone(), down]).expect("squawk runs"),
        None,
        "the template itself has no finding"
    );
    let template = std::fs::read_to_string(&up).expect("read");
    let blocking = template.replace(
        "-- Statements here; name every rule (constraint) and COMMENT it.",
        "CREATE INDEX quotes_metadata_idx ON quotes (metadata);",
    );
    std::fs::write(&up, blocking).expect("write");
    let report = xtask::migrations::lint(std::slice::from_ref(&up))
        .expect("squawk runs")
        .expect("a plain CREATE INDEX on an existing table is a finding");
    assert!(report.contains("require-concurrent-index-creation"), "{report}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn lint_looks_only_at_migrations_after_the_released_ones() {
    let lock = std::fs::read_to_string(workspace().join("migrations.lock")).expect("migrations.lock");
    let files = xtask::migrations::unreleased_files(&workspace().join("migrations"), &lock).expect("list");
    let released: Vec<&str> = lock
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.get(..4))
        .collect();
    for f in &files {
        let name = f.file_name().expect("name").to_string_lossy();
        assert!(
            !released.contains(&&name[..4]),
            "{name} is released and must not be linted"
        );
    }
}

#[tokio::test]
async fn drift_reports_a_column_added_by_hand_and_nothing_on_a_clean_database() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let clean = xtask::migrations::drift(db.server(), db.url(), &quotedb_schema::MIGRATOR)
        .await
        .expect("drift");
    assert!(clean.is_empty(), "a migrated database has no drift: {clean:?}");
    sqlx::query("ALTER TABLE quotes ADD COLUMN hand_added text")
        .execute(db.pool())
        .await
        .expect("a change by hand");
    let lines = xtask::migrations::drift(db.server(), db.url(), &quotedb_schema::MIGRATOR)
        .await
        .expect("drift");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("+ ") && l.contains("quotes.hand_added")),
        "{lines:?}"
    );
}
