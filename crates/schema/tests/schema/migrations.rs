//! The migrations as a whole: reversible, and holding the rules every migration must follow.

use quotedb_testkit::{TestDb, snapshot::schema_snapshot};
use sqlx::Connection as _;

/// For every migration N: the schema after 1..N-1, after N, after N's down, and after N again.
/// Down must restore the previous schema exactly; up again must give the same schema as before.
/// Migrations that change data only (0012 backfills quotes.state_code_text, 0027 users.email_key).
const DATA_ONLY: [i64; 2] = [12, 27];

#[tokio::test]
async fn every_migration_up_down_up_leaves_the_same_schema() {
    let db = TestDb::empty().await;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.expect("connect");
    let migrator = &quotedb_schema::MIGRATOR;
    let versions: Vec<i64> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    let downs: Vec<i64> = migrator
        .iter()
        .filter(|m| m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    assert_eq!(versions, downs, "every migration is reversible");
    assert_eq!(
        versions,
        (1..=versions.len() as i64).collect::<Vec<i64>>(),
        "numbered 1, 2, 3... without gaps"
    );
    for (i, &version) in versions.iter().enumerate() {
        let previous = if i == 0 { 0 } else { versions[i - 1] };
        let before = schema_snapshot(&mut conn).await.expect("snapshot before");
        migrator.run_to(version, &mut conn).await.expect("up");
        let after_up = schema_snapshot(&mut conn).await.expect("snapshot after up");
        if !DATA_ONLY.contains(&version) {
            assert_ne!(before, after_up, "migration {version} changes the schema");
        }
        migrator.undo(&mut conn, previous).await.expect("down");
        let after_down = schema_snapshot(&mut conn).await.expect("snapshot after down");
        assert_eq!(
            first_difference(&before, &after_down),
            None,
            "migration {version}'s down must restore the previous schema exactly"
        );
        migrator.run_to(version, &mut conn).await.expect("up again");
        let after_up_again = schema_snapshot(&mut conn).await.expect("snapshot after up again");
        assert_eq!(
            first_difference(&after_up, &after_up_again),
            None,
            "migration {version} up → down → up must give the same schema"
        );
    }
    conn.close().await.expect("close");
}

fn first_difference(a: &str, b: &str) -> Option<String> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let only_a: Vec<&&str> = la.iter().filter(|l| !lb.contains(l)).collect();
    let only_b: Vec<&&str> = lb.iter().filter(|l| !la.contains(l)).collect();
    (!only_a.is_empty() || !only_b.is_empty()).then(|| format!("only before: {only_a:#?}\nonly after: {only_b:#?}"))
}

async fn strings(db: &TestDb, sql: &'static str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(db.pool()).await.expect(sql)
}

#[tokio::test]
async fn no_foreign_key_uses_the_implicit_no_action() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let offenders = strings(
        &db,
        "SELECT conrelid::regclass || '.' || conname FROM pg_constraint
         WHERE contype = 'f' AND confdeltype = 'a' AND connamespace = 'public'::regnamespace
           AND conparentid = 0",
    )
    .await;
    assert!(
        offenders.is_empty(),
        "foreign keys without an explicit ON DELETE: {offenders:?}"
    );
}

#[tokio::test]
async fn every_check_fk_unique_and_exclude_constraint_is_named_and_commented() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let uncommented = strings(
        &db,
        "SELECT conrelid::regclass || '.' || conname FROM pg_constraint
         WHERE contype IN ('c', 'f', 'u', 'x') AND connamespace = 'public'::regnamespace
           AND conparentid = 0 AND conrelid <> 0 AND conislocal
           AND coalesce(obj_description(oid, 'pg_constraint'), '') = ''",
    )
    .await;
    assert!(
        uncommented.is_empty(),
        "constraints without a business-rule comment: {uncommented:?}"
    );
    let unnamed = strings(
        &db,
        "SELECT conrelid::regclass || '.' || conname FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         WHERE c.contype IN ('c', 'f', 'u', 'x') AND c.connamespace = 'public'::regnamespace
           AND c.conparentid = 0 AND c.conislocal AND NOT starts_with(c.conname, t.relname || '_')",
    )
    .await;
    assert!(unnamed.is_empty(), "constraints not named <table>_<rule>: {unnamed:?}");
}

#[tokio::test]
async fn every_jsonb_column_has_a_gin_index() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let missing = strings(
        &db,
        "SELECT c.relname || '.' || a.attname
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND a.atttypid = 'jsonb'::regtype AND a.attnum > 0 AND NOT a.attisdropped
           AND NOT EXISTS (
               SELECT 1 FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_am am ON am.oid = ic.relam
               WHERE i.indrelid = c.oid AND am.amname = 'gin' AND a.attnum = ANY (i.indkey))",
    )
    .await;
    assert!(missing.is_empty(), "jsonb columns without a GIN index: {missing:?}");
}

#[tokio::test]
async fn row_level_security_is_enabled_and_forced_on_the_sensitive_tables() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT relname::text, relrowsecurity, relforcerowsecurity FROM pg_class
         WHERE relnamespace = 'public'::regnamespace
           AND relname IN ('quotes', 'user_sessions', 'oauth2_clients', 'admin_users', 'admin_activity_logs', 'system_settings')
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("pg_class");
    assert_eq!(rows.len(), 6, "all six RLS tables exist: {rows:?}");
    for (table, enabled, forced) in rows {
        assert!(enabled && forced, "RLS must be enabled and forced on {table}");
    }
}

#[tokio::test]
async fn audit_logs_is_partitioned_by_month_with_next_months_partition_and_a_default() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let partkey: String = sqlx::query_scalar("SELECT pg_get_partkeydef('audit_logs'::regclass)")
        .fetch_one(db.pool())
        .await
        .expect("partition key");
    assert!(
        partkey.starts_with("RANGE"),
        "audit_logs is range-partitioned: {partkey}"
    );
    // Partitions are UTC months named audit_logs_yYYYYmMM.
    let next_month_covered: bool = sqlx::query_scalar(
        "SELECT EXISTS (
             SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'audit_logs'::regclass
               AND c.relname = to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month',
                                       '\"audit_logs_y\"YYYY\"m\"MM'))",
    )
    .fetch_one(db.pool())
    .await
    .expect("partitions");
    assert!(next_month_covered, "next month's audit_logs partition exists");
    let has_default: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'audit_logs'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')",
    )
    .fetch_one(db.pool())
    .await
    .expect("default partition");
    assert!(has_default, "audit_logs has a DEFAULT partition");
}

/// One name per rule: every name the Rust side knows exists in the database as a constraint,
/// a trigger or a rule index, and every named constraint and rule trigger is known to Rust
/// (`*set_updated_at` and `*_maintain_*` triggers keep derived data and are not rules). A rule
/// checked once per statement over transition tables needs one trigger per event: those are
/// named `<rule>_on_insert`, `_on_update` and `_on_delete` and count as `<rule>`.
#[tokio::test]
async fn rule_names_in_rust_and_in_the_database_are_the_same_set() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let in_db = strings(
        &db,
        "SELECT conname::text FROM pg_constraint
         WHERE connamespace = 'public'::regnamespace AND contype IN ('c', 'f', 'u', 'x') AND conparentid = 0 AND conislocal
         UNION SELECT CASE WHEN t.tgtype & 1 = 0 THEN regexp_replace(tgname::text, '_on_(insert|update|delete)$', '')
                           ELSE tgname::text END
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal AND t.tgparentid = 0
           AND tgname NOT LIKE '%set_updated_at' AND tgname NOT LIKE '%\\_maintain\\_%'
         UNION SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           AND obj_description(i.indexrelid, 'pg_class') IS NOT NULL",
    )
    .await;
    let in_rust: Vec<&str> = quotedb_schema::all_rule_names().collect();
    let unknown_to_rust: Vec<&String> = in_db.iter().filter(|n| !in_rust.contains(&n.as_str())).collect();
    let missing_in_db: Vec<&&str> = in_rust.iter().filter(|n| !in_db.iter().any(|d| d == **n)).collect();
    assert!(
        unknown_to_rust.is_empty(),
        "rules in the database without a Rust constant: {unknown_to_rust:?}"
    );
    assert!(
        missing_in_db.is_empty(),
        "Rust rule constants with no constraint/trigger/index: {missing_in_db:?}"
    );
}

/// `MIGRATOR` is what `migrations/` holds now: build.rs has cargo rebuild the crate when a file
/// there is added, removed or edited (`sqlx::migrate!` alone would miss a new file on stable
/// Rust), so the template hash of the test kit - computed from `MIGRATOR` - changes with them.
#[test]
fn the_embedded_migrations_are_the_files_on_disk() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("migrations dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read"))
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<(String, String)> = quotedb_schema::MIGRATOR
        .iter()
        .map(|m| {
            let kind = if m.migration_type.is_down_migration() {
                "down"
            } else {
                "up"
            };
            let name = format!("{:04}_{}.{kind}.sql", m.version, m.description.replace(' ', "_"));
            (name, AsRef::<str>::as_ref(&m.sql).to_owned())
        })
        .collect();
    embedded.sort();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk), "the same migration files");
    for ((name, embedded_sql), (_, disk_sql)) in embedded.iter().zip(&on_disk) {
        assert_eq!(
            embedded_sql.trim(),
            disk_sql.trim(),
            "{name} is embedded as it is on disk"
        );
    }
}
