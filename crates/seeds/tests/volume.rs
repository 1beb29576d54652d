//! The volume generator: deterministic, and every row goes through the schema's rules.

use quotedb_seeds::volume::{self, LoadReport, VolumeConfig, VolumeError};
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use time::macros::datetime;

/// Small enough to keep the tests fast (200 quotes, ~3 500 rows), big enough to hit every table.
const SCALE: f64 = 0.02;

fn config(seed: u64) -> VolumeConfig {
    VolumeConfig {
        scale: SCALE,
        seed,
        anchor: datetime!(2025-06-15 00:00 UTC),
        progress: false,
    }
}

async fn load(pool: &PgPool, cfg: &VolumeConfig) -> Result<LoadReport, VolumeError> {
    let mut conn = pool.acquire().await.expect("connection");
    volume::load(&mut conn, cfg).await
}

/// md5 of every row of each loaded table, rows ordered by their text. updated_at of the rows the
/// load moves with UPDATE is stamped by the set_updated_at trigger (load time), so it is left out.
const FINGERPRINTS: &[(&str, &str)] = &[
    (
        "users",
        "SELECT id, email, full_name, role, phone, created_at, updated_at FROM users",
    ),
    ("drivers", "SELECT * FROM drivers"),
    ("vehicles", "SELECT * FROM vehicles"),
    ("admin_users", "SELECT * FROM admin_users"),
    (
        "quotes",
        "SELECT id, quote_number, customer_id, agent_id, state_code, zip, status, premium, current_version, \
         effective_date, expires_at, bound_at, metadata, created_at FROM quotes",
    ),
    ("quote_coverages", "SELECT * FROM quote_coverages"),
    // The columns of the release: 0015 adds reference_generation (NULL for existing rows).
    (
        "quote_versions",
        "SELECT id, quote_id, version, premium, rating_inputs, breakdown, created_at FROM quote_versions",
    ),
    ("user_sessions", "SELECT * FROM user_sessions"),
    ("websocket_connections", "SELECT * FROM websocket_connections"),
    ("analytics_events", "SELECT * FROM analytics_events"),
    ("notification_queue", "SELECT * FROM notification_queue"),
    ("audit_logs", "SELECT * FROM audit_logs"),
    ("admin_activity_logs", "SELECT * FROM admin_activity_logs"),
    (
        "rate_change_requests",
        "SELECT id, kind, proposed_change, justification, status, requested_by, submitted_at, created_at \
         FROM rate_change_requests",
    ),
];

async fn fingerprints(pool: &PgPool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (table, select) in FINGERPRINTS {
        let sql = format!("SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ({select}) x");
        let md5: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .expect("fingerprint");
        out.push((*table, md5));
    }
    out
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn the_same_seed_and_anchor_load_the_same_rows_into_two_databases() {
    let (a, b) = (
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
    );
    let ra = load(a.pool(), &config(42)).await.expect("load a");
    let rb = load(b.pool(), &config(42)).await.expect("load b");
    assert_eq!(
        ra.tables.iter().map(|t| (t.table, t.rows)).collect::<Vec<_>>(),
        rb.tables.iter().map(|t| (t.table, t.rows)).collect::<Vec<_>>()
    );
    let (fa, fb) = (fingerprints(a.pool()).await, fingerprints(b.pool()).await);
    for ((table, x), (_, y)) in fa.iter().zip(&fb) {
        assert_eq!(x, y, "{table} differs between two loads of the same seed");
    }
}

#[tokio::test]
async fn a_different_seed_loads_different_rows() {
    let (a, b) = (
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
    );
    load(a.pool(), &config(1)).await.expect("load seed 1");
    load(b.pool(), &config(2)).await.expect("load seed 2");
    let (fa, fb) = (fingerprints(a.pool()).await, fingerprints(b.pool()).await);
    for ((table, x), (_, y)) in fa.iter().zip(&fb) {
        assert_ne!(x, y, "{table} is the same for seeds 1 and 2");
    }
}

/// The tables the loader fills.
const TABLES: &[&str] = &[
    "users",
    "drivers",
    "vehicles",
    "admin_users",
    "quotes",
    "quote_coverages",
    "quote_versions",
    "user_sessions",
    "websocket_connections",
    "analytics_events",
    "notification_queue",
    "audit_logs",
    "admin_activity_logs",
    "rate_change_requests",
];

/// Rows per table before a load (the reference seeds have a few users, admins, requests...).
async fn counts(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push(count(pool, &format!("SELECT count(*) FROM {t}")).await);
    }
    out
}

/// Every table the loader reports, counted in the database: what was there plus what it loaded.
async fn assert_counts_match(pool: &PgPool, before: &[i64], report: &LoadReport) {
    let reported: Vec<&str> = report.tables.iter().map(|t| t.table).collect();
    assert_eq!(reported, TABLES, "{report}");
    for ((t, n0), table) in report.tables.iter().zip(before).zip(TABLES) {
        let n = count(pool, &format!("SELECT count(*) FROM {table}")).await;
        assert!(t.rows > 0, "{} is empty", t.table);
        assert_eq!(
            (n - n0) as u64,
            t.rows,
            "{}: the loader reported {} rows, the table gained {}",
            t.table,
            t.rows,
            n - n0
        );
    }
}

#[tokio::test]
async fn a_small_load_goes_through_every_rule_fills_every_table_and_reports_true_counts() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let pool = db.pool();
    // The load commits: every CHECK, FK and trigger accepted the rows, and the deferred
    // quotes_current_version_in_step ran at COMMIT.
    let before = counts(pool).await;
    let report = load(pool, &config(7)).await.expect("load");
    assert_counts_match(pool, &before, &report).await;
    assert_eq!(report.rows_of("quotes"), report.plan.quotes);
    assert_eq!(report.rows_of("users"), report.plan.users());

    // The deferred rule holds for every quote (checked again, now, on all rows).
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM quotes q WHERE q.current_version <> (SELECT coalesce(max(v.version), 0) \
             FROM quote_versions v WHERE v.quote_id = q.id) OR q.premium IS DISTINCT FROM (SELECT v.premium \
             FROM quote_versions v WHERE v.quote_id = q.id AND v.version = q.current_version)"
        )
        .await,
        0
    );
    // Status mix: most draft / rated, every status present at this size.
    let statuses = count(pool, "SELECT count(DISTINCT status) FROM quotes").await;
    assert_eq!(statuses, 7, "every quote status appears");
    let open = count(pool, "SELECT count(*) FROM quotes WHERE status IN ('draft', 'rated')").await;
    assert!(
        open * 2 > report.plan.quotes as i64,
        "most quotes are draft or rated ({open})"
    );
    assert!(
        count(pool, "SELECT count(*) FROM quote_versions WHERE version > 1").await > 0,
        "re-rated quotes"
    );
    // Nothing after the anchor; most quotes from its last 3 months.
    assert_eq!(
        count(pool, "SELECT count(*) FROM quotes WHERE created_at > '2025-06-15'").await,
        0
    );
    let recent = count(
        pool,
        "SELECT count(*) FROM quotes WHERE created_at > timestamptz '2025-06-15' - interval '90 days'",
    )
    .await;
    assert!(recent * 10 > report.plan.quotes as i64 * 7, "{recent} recent quotes");
    // Skew: the busiest customer has several times the average.
    let busiest = count(
        pool,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM quotes GROUP BY customer_id) c",
    )
    .await;
    assert!(
        busiest as f64 > 2.0 * report.plan.quotes as f64 / report.plan.customers as f64,
        "busiest customer: {busiest}"
    );
    // Audit rows all landed in monthly partitions.
    assert_eq!(
        count(pool, "SELECT count(*) FROM audit_log_default_partition_rows()").await,
        0
    );
    assert_eq!(count(pool, "SELECT count(*) FROM ONLY audit_logs_default").await, 0);
    // Some live websocket connections and notifications in flight, most not.
    assert!(
        count(
            pool,
            "SELECT count(*) FROM websocket_connections WHERE disconnected_at IS NULL"
        )
        .await
            > 0
    );
    assert!(count(pool, "SELECT count(*) FROM notification_queue WHERE status = 'sent'").await > 0);
    assert!(
        count(
            pool,
            "SELECT count(*) FROM notification_queue WHERE status IN ('pending', 'failed')"
        )
        .await
            > 0
    );
    // Pending rate change requests, submitted.
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM rate_change_requests WHERE status = 'pending' AND submitted_at IS NOT NULL"
        )
        .await as u64,
        report.plan.rate_requests
    );
    // Risk scores: mostly low, a few high.
    let high = count(pool, "SELECT count(*) FROM admin_activity_logs WHERE risk_score >= 70").await;
    let all = report.rows_of("admin_activity_logs") as i64;
    assert!(high > 0 && high * 5 < all, "{high} of {all} entries are high risk");
    // Session tokens are 32-byte hashes; VINs carry a valid check digit.
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM user_sessions WHERE octet_length(token_hash) <> 32"
        )
        .await,
        0
    );
    let vins: Vec<String> = sqlx::query_scalar("SELECT vin::text FROM vehicles")
        .fetch_all(pool)
        .await
        .expect("vins");
    for vin in &vins {
        assert!(vin_check_digit_ok(vin), "{vin} has a wrong check digit");
    }

    // A second load of the same data set is refused and changes nothing.
    let again = load(pool, &config(7)).await;
    assert!(matches!(again, Err(VolumeError::AlreadyLoaded)), "{again:?}");
    assert_counts_match(pool, &before, &report).await;
}

fn vin_check_digit_ok(vin: &str) -> bool {
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'N' => u32::from(c - b'J') + 1,
            b'P' => 7,
            b'R' => 9,
            _ => u32::from(c - b'S') + 2,
        }
    };
    let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = vin.bytes().zip(weights).map(|(c, w)| value(c) * w).sum();
    let check = vin.as_bytes()[8];
    (sum % 11 == 10 && check == b'X') || (sum % 11 < 10 && check == b'0' + (sum % 11) as u8)
}

/// The reference data has one source, the seed files: a load into a database without them
/// applies them first, so it holds exactly what a seeded database holds.
#[tokio::test]
async fn a_load_into_a_database_without_the_seeds_applies_them_first() {
    let bare = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let seeded = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    load(bare.pool(), &config(3))
        .await
        .expect("load into a migrated database without seeds");
    assert!(count(bare.pool(), "SELECT count(*) FROM quote_versions").await > 0);
    for table in [
        "states",
        "discount_rules",
        "surcharge_rules",
        "admin_roles",
        "system_settings",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            count(bare.pool(), &sql).await,
            count(seeded.pool(), &sql).await,
            "{table}: the load brought the seeds' rows, no others"
        );
    }
}

/// Nothing stands in for reference data that is gone: a load names what is missing and writes
/// nothing.
#[tokio::test]
async fn a_missing_reference_rule_is_a_clear_error_and_nothing_is_written() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    // The test login is a superuser: row level security does not stop it retiring the rule.
    sqlx::query("UPDATE discount_rules SET active = false WHERE code = 'loyalty'")
        .execute(db.pool())
        .await
        .expect("retire the loyalty discount");
    let users_before = count(db.pool(), "SELECT count(*) FROM users").await;
    let err = load(db.pool(), &config(5))
        .await
        .expect_err("a load without a loyalty rule is refused");
    assert!(
        matches!(&err, VolumeError::MissingReference(what) if what.contains("loyalty")),
        "the error names the missing rule: {err}"
    );
    assert_eq!(count(db.pool(), "SELECT count(*) FROM users").await, users_before);
}

/// A volume quote is priced by the same function as the application, on the rules the database
/// holds: resolving its rates now and pricing its recorded eligibility gives its stored premium.
#[tokio::test]
async fn volume_premiums_equal_price_on_the_rules_in_the_database() {
    use quotedb_repository::quotes::CoverageRequest;
    use quotedb_repository::rating::{Eligibility, RatingInput, price};
    use quotedb_repository::{Db, StateCode, Zip};
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    load(db.pool(), &config(17)).await.expect("load");
    let repo = Db::new(db.pool().clone());
    let versions: Vec<(String, String, time::Date, rust_decimal::Decimal, serde_json::Value)> = sqlx::query_as(
        "SELECT q.state_code::text, q.zip, q.effective_date, v.premium, v.rating_inputs
         FROM quote_versions v JOIN quotes q ON q.id = v.quote_id
         ORDER BY q.quote_number, v.version LIMIT 60",
    )
    .fetch_all(db.pool())
    .await
    .expect("volume versions");
    assert_eq!(versions.len(), 60, "the load wrote quote versions");
    for (state, zip, effective, premium, inputs) in versions {
        let coverages: Vec<CoverageRequest> =
            serde_json::from_value(inputs["coverages"].clone()).expect("recorded coverages");
        let eligibility: Eligibility = serde_json::from_value(inputs["eligibility"].clone()).expect("eligibility");
        let types: Vec<_> = coverages.iter().map(|c| c.coverage_type).collect();
        let state = StateCode::parse(&state).expect("state");
        let zip = Zip::parse(&zip).expect("zip");
        let ctx = repo
            .rating()
            .resolve(&state, &zip, &types, effective)
            .await
            .expect("the database's rates for the quote");
        let priced = price(
            &ctx,
            &RatingInput {
                coverages: types,
                eligibility,
            },
        )
        .expect("price");
        assert_eq!(priced.total, premium, "{state} {zip} {effective}");
    }
}

#[tokio::test]
async fn the_psql_script_holds_the_same_rows_as_the_load() {
    let (a, b) = (
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
        TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await,
    );
    let dir = std::env::temp_dir().join(format!("quotedb-volume-test-{}", std::process::id()));
    let mut conn = a.pool().acquire().await.expect("connection");
    let script = volume::write_psql_script(&mut conn, &config(5), &dir)
        .await
        .expect("script");
    let report = load(b.pool(), &config(5)).await.expect("load");
    let text = std::fs::read_to_string(&script.path).expect("script text");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        script.tables.iter().map(|t| (t.table, t.rows)).collect::<Vec<_>>(),
        report.tables.iter().map(|t| (t.table, t.rows)).collect::<Vec<_>>()
    );
    assert!(text.starts_with("\\set ON_ERROR_STOP on\nBEGIN;"), "{text}");
    assert!(text.contains("\\copy quotes ("), "{text}");
    assert!(text.contains("COMMIT;\nANALYZE "), "{text}");
}

/// Volume quotes are what the application itself would have written: the repository reads them,
/// their breakdowns are its PremiumBreakdown (total = version premium = sum of the lines), the
/// coverage premiums are the latest lines, and a volume quote can be re-rated and presented.
#[tokio::test]
async fn volume_quotes_are_usable_through_the_repository() {
    use quotedb_repository::{Actor, Db, QuoteId, UserId, schema::quotes::QuoteStatus};
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    load(db.pool(), &config(11)).await.expect("load");
    let repo = Db::new(db.pool().clone());

    let (id, customer): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT id, customer_id FROM quotes WHERE status = 'rated' AND current_version >= 2 ORDER BY quote_number LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a re-rated quote");
    let actor = Actor::Customer(UserId(customer));
    let quote = repo.quotes().get(&actor, QuoteId(id)).await.expect("get");
    let versions = repo.quotes().versions(&actor, QuoteId(id)).await.expect("versions");
    assert_eq!(versions.len() as i32, quote.current_version);
    for v in &versions {
        let breakdown = v.premium_breakdown().expect("a PremiumBreakdown");
        assert_eq!(breakdown.total, v.premium);
        assert_eq!(
            breakdown.lines.iter().map(|l| l.premium).sum::<rust_decimal::Decimal>(),
            v.premium
        );
        assert_eq!(breakdown.state_code, quote.state_code);
        assert_eq!(breakdown.zip, quote.zip);
        for key in ["coverages", "eligibility", "context"] {
            assert!(v.rating_inputs.get(key).is_some(), "rating_inputs.{key}");
        }
    }
    let latest = versions
        .last()
        .expect("versions")
        .premium_breakdown()
        .expect("breakdown");
    assert_eq!(quote.premium, Some(latest.total));
    let coverages = repo.quotes().coverages(&actor, QuoteId(id)).await.expect("coverages");
    assert_eq!(coverages.len(), latest.lines.len());
    for c in &coverages {
        assert_eq!(
            c.premium,
            latest.line(c.coverage_type).map(|l| l.premium),
            "{:?}",
            c.coverage_type
        );
    }
    let first = quotedb_repository::PageRequest::first(100);
    let page = repo
        .quotes()
        .list_for_customer(&actor, UserId(customer), &first)
        .await
        .expect("page");
    assert!(page.items.iter().any(|q| q.id == QuoteId(id)));

    // The application carries on from the volume state.
    let rerated = repo
        .quotes()
        .rerate(&actor, QuoteId(id), quote.current_version, &Default::default())
        .await
        .expect("re-rate a volume quote");
    assert_eq!(rerated.quote.current_version, quote.current_version + 1);
    let presented = repo
        .quotes()
        .present(&Actor::System, QuoteId(id))
        .await
        .expect("present");
    assert_eq!(presented.status, QuoteStatus::Presented);
}

#[tokio::test]
async fn an_invalid_scale_is_refused_before_anything_is_written() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let before = counts(db.pool()).await;
    for scale in [0.0, -1.0, f64::NAN] {
        let cfg = VolumeConfig { scale, ..config(1) };
        assert!(matches!(
            load(db.pool(), &cfg).await,
            Err(VolumeError::InvalidConfig(_))
        ));
    }
    assert_eq!(counts(db.pool()).await, before);
}

/// The migrations after the released 0006 go onto a database full of data, the way they reach a
/// deployed one: seeded and loaded at 0006, then migrated up, down to 0006 and up again; every
/// row survives each step unchanged (fingerprints), and the bounds 0009 adds validate on it.
#[tokio::test]
async fn the_migrations_after_the_release_apply_on_top_of_data_and_revert() {
    let db = TestDb::empty().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.expect("connection");
    let migrator = &quotedb_schema::MIGRATOR;
    let released = 6;
    let latest = migrator.iter().map(|m| m.version).max().expect("migrations");
    assert!(latest > released, "there are migrations after the release");
    migrator
        .run_to(released, &mut *conn)
        .await
        .expect("migrate to the release");
    quotedb_seeds::apply_reference(&mut conn)
        .await
        .expect("seeds at the release");
    volume::load(&mut conn, &config(21))
        .await
        .expect("volume data at the release");
    let at_release = fingerprints(pool).await;

    migrator.run(&mut *conn).await.expect("up to the latest on top of data");
    assert_eq!(fingerprints(pool).await, at_release, "no row changed going up");
    let unvalidated: i64 = count(
        pool,
        "SELECT count(*) FROM pg_constraint WHERE NOT convalidated AND contype = 'c'",
    )
    .await;
    assert_eq!(unvalidated, 0, "every bound validated on the loaded rows");

    migrator.undo(&mut *conn, released).await.expect("down to the release");
    assert_eq!(fingerprints(pool).await, at_release, "no row changed going down");
    migrator.run(&mut *conn).await.expect("up again");
    assert_eq!(fingerprints(pool).await, at_release, "no row changed going up again");
}

/// The state-code migration (0011–0014) on a database full of data, with the previous release
/// writing between its steps: an update that does not name the new column passes 0011's check,
/// the backfill (0012) leaves no row without its copy, and the swap keeps every quote's state.
#[tokio::test]
async fn the_state_code_migration_keeps_the_previous_release_writing_and_every_state() {
    let db = TestDb::empty().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.expect("connection");
    let migrator = &quotedb_schema::MIGRATOR;
    migrator.run_to(10, &mut *conn).await.expect("migrate to 0010");
    volume::load(&mut conn, &config(23)).await.expect("volume data at 0010");
    let states = "SELECT md5(string_agg(id::text || state_code::text, ',' ORDER BY id)) FROM quotes";
    let before: String = sqlx::query_scalar(states).fetch_one(pool).await.expect("states");

    migrator.run_to(11, &mut *conn).await.expect("0011");
    // The previous release updates quotes without naming state_code_text.
    let touched = sqlx::query("UPDATE quotes SET metadata = metadata || '{\"touched\": true}' WHERE status = 'draft'")
        .execute(pool)
        .await
        .expect("an update by the previous release passes between 0011 and 0012")
        .rows_affected();
    assert!(touched > 0, "the data set has draft quotes");

    migrator.run_to(12, &mut *conn).await.expect("0012 backfill");
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM quotes WHERE state_code_text IS DISTINCT FROM state_code::text"
        )
        .await,
        0,
        "every quote has its text copy after the backfill"
    );
    migrator.run(&mut *conn).await.expect("0013 and 0014");
    let after: String = sqlx::query_scalar(states).fetch_one(pool).await.expect("states");
    assert_eq!(before, after, "every quote keeps its state");
}

/// users.email_key (0026–0028) on a database full of data, with the previous release writing
/// between its steps: a sign-up between 0026 and 0027 gets its key from the trigger, the backfill
/// leaves no user without the key citext would compare, and no user's updated_at moves.
#[tokio::test]
async fn the_email_key_migration_keys_every_user_and_keeps_their_updated_at() {
    let db = TestDb::empty().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.expect("connection");
    let migrator = &quotedb_schema::MIGRATOR;
    migrator.run_to(25, &mut *conn).await.expect("migrate to 0025");
    volume::load(&mut conn, &config(29)).await.expect("volume data at 0025");
    let stamps = "SELECT md5(string_agg(id::text || updated_at::text, ',' ORDER BY id)) FROM users";
    let before: String = sqlx::query_scalar(stamps).fetch_one(pool).await.expect("stamps");

    migrator.run_to(26, &mut *conn).await.expect("0026");
    // The previous release signs a user up without naming email_key.
    sqlx::query("INSERT INTO users (email, full_name, role) VALUES ('Between.Steps@Example.com', 'B', 'customer')")
        .execute(pool)
        .await
        .expect("a sign-up by the previous release between 0026 and 0027");
    let between: String = sqlx::query_scalar("SELECT email_key FROM users WHERE email = 'between.steps@example.com'")
        .fetch_one(pool)
        .await
        .expect("the new user");
    assert_eq!(between, "between.steps@example.com");
    sqlx::query("DELETE FROM users WHERE email = 'between.steps@example.com'")
        .execute(pool)
        .await
        .expect("remove it again");

    migrator.run(&mut *conn).await.expect("0027 to the latest");
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM users WHERE email_key IS DISTINCT FROM lower(email::text)"
        )
        .await,
        0,
        "every user has the key of their address"
    );
    let after: String = sqlx::query_scalar(stamps).fetch_one(pool).await.expect("stamps");
    assert_eq!(before, after, "the backfill is not a change of any user");
}
