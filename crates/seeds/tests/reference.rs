//! The reference seeds, checked against a real database: exact counts, every seeded ZIP can be
//! rated, loading twice changes nothing, rates went through the four-eyes workflow, the role
//! hierarchy grants what it should.

use quotedb_schema::admin::{permissions, roles, settings};
use quotedb_seeds::reference::{self, accounts};
use quotedb_testkit::TestDb;
use sqlx::{Connection as _, Executor as _, PgConnection};

/// Every table the reference seeds write.
const SEEDED_TABLES: &[&str] = &[
    "states",
    "admin_roles",
    "admin_permissions",
    "admin_role_permissions",
    "users",
    "admin_users",
    "system_settings",
    "discount_rules",
    "surcharge_rules",
    "rate_change_requests",
    "base_rates",
    "territory_factors",
];

/// Coverage types in the database enum (the seeds must rate every one).
const COVERAGE_TYPES: usize = 8;

/// A checksum of every row of every seeded table (as the test server's superuser, so RLS hides
/// nothing).
async fn checksums(conn: &mut PgConnection) -> Vec<(String, i64, String)> {
    let mut tx = conn.begin().await.expect("begin");
    let mut out = Vec::new();
    for table in SEEDED_TABLES {
        // Table names cannot be bound; they come from the constant list above.
        let sql =
            format!("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t");
        let (rows, sum): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("checksum of {table}: {e}"));
        out.push(((*table).to_string(), rows, sum));
    }
    tx.commit().await.expect("commit");
    out
}

/// A fresh user holding an admin account on `role`; returns the users.id as text.
async fn admin_on_role(db: &TestDb, role: &str) -> String {
    sqlx::query_scalar(
        "WITH u AS (
             INSERT INTO users (email, full_name, role)
             VALUES ('fixture-' || gen_random_uuid() || '@example.com', 'Fixture Admin', 'agent')
             RETURNING id)
         INSERT INTO admin_users (user_id, role_id, mfa_required)
         SELECT u.id, r.id, true FROM u JOIN admin_roles r ON r.name = $1
         RETURNING user_id::text",
    )
    .bind(role)
    .fetch_one(db.pool())
    .await
    .unwrap_or_else(|e| panic!("admin fixture on role {role}: {e}"))
}

async fn has_permission(db: &TestDb, user_id: &str, code: &str) -> bool {
    sqlx::query_scalar("SELECT admin_has_permission($1::uuid, $2)")
        .bind(user_id)
        .bind(code)
        .fetch_one(db.pool())
        .await
        .expect("admin_has_permission")
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn the_seeded_states_are_exactly_california_new_york_and_texas() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let states: Vec<String> = sqlx::query_scalar("SELECT code::text FROM states ORDER BY code")
        .fetch_all(db.pool())
        .await
        .expect("states");
    assert_eq!(states, reference::STATES);
}

#[tokio::test]
async fn there_are_seven_countrywide_discounts_and_five_countrywide_surcharges_all_active() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let discounts = count(
        &db,
        "SELECT count(DISTINCT code) FROM discount_rules WHERE state_code IS NULL AND active",
    )
    .await;
    let surcharges = count(
        &db,
        "SELECT count(DISTINCT code) FROM surcharge_rules WHERE state_code IS NULL AND active",
    )
    .await;
    assert_eq!((discounts, surcharges), (7, 5));
    // Every rule row (countrywide and overrides): 7 + the CA good driver override; 5 surcharges.
    assert_eq!(count(&db, "SELECT count(*) FROM discount_rules").await, 8);
    assert_eq!(count(&db, "SELECT count(*) FROM surcharge_rules").await, 5);
    assert_eq!(
        count(&db, "SELECT count(*) FROM discount_rules WHERE NOT active").await
            + count(&db, "SELECT count(*) FROM surcharge_rules WHERE NOT active").await,
        0,
        "every seeded rule is active"
    );
    let override_percent: String =
        sqlx::query_scalar("SELECT percent::text FROM discount_rules WHERE code = 'good_driver' AND state_code = 'CA'")
            .fetch_one(db.pool())
            .await
            .expect("CA good driver override");
    assert_eq!(override_percent, "20.00");
}

#[tokio::test]
async fn stackable_discounts_exceed_the_discount_cap_so_the_cap_matters() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let (stackable_sum, cap): (String, String) = sqlx::query_as(
        "SELECT (SELECT sum(percent) / 100 FROM discount_rules WHERE stackable AND state_code IS NULL)::numeric(6,4)::text,
                (SELECT value::text FROM system_settings WHERE key = 'rating.discount_cap')",
    )
    .fetch_one(db.pool())
    .await
    .expect("stackable sum and cap");
    assert_eq!(cap, "0.35");
    assert_eq!(stackable_sum, "0.4200");
}

#[tokio::test]
async fn every_coverage_type_has_exactly_one_active_base_rate_in_each_state_today() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT s.code::text, c::text, count(br.id)
         FROM states s
         CROSS JOIN unnest(enum_range(NULL::coverage_type)) AS c
         LEFT JOIN base_rates br ON br.status = 'active' AND br.state_code = s.code AND br.coverage_type = c
                                AND br.effective @> current_date
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(db.pool())
    .await
    .expect("base rates per state and coverage");
    assert_eq!(rows.len(), reference::STATES.len() * COVERAGE_TYPES);
    let wrong: Vec<_> = rows.iter().filter(|(_, _, n)| *n != 1).collect();
    assert!(
        wrong.is_empty(),
        "state/coverage without exactly one active rate: {wrong:?}"
    );
    // And nothing else: no proposed or retired leftovers, every period starts on the filing date.
    assert_eq!(count(&db, "SELECT count(*) FROM base_rates").await, 24);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM base_rates WHERE lower(effective) = '2025-01-01' AND upper_inf(effective)"
        )
        .await,
        24
    );
}

#[tokio::test]
async fn the_territory_counts_per_state_are_exact() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT state_code::text, count(*), count(DISTINCT zip) FROM territory_factors
         WHERE status = 'active' AND effective @> current_date GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("territories per state");
    assert_eq!(
        rows,
        vec![
            ("CA".to_string(), 28, 28),
            ("NY".to_string(), 47, 47),
            ("TX".to_string(), 26, 26)
        ]
    );
    assert_eq!(count(&db, "SELECT count(*) FROM territory_factors").await, 101);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM territory_factors WHERE factor NOT BETWEEN 0.5 AND 3.0"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn every_seeded_citys_zips_can_be_rated_for_every_coverage_today() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    for (state, city, zips) in reference::CITIES {
        let rated: Vec<(String, i64)> = sqlx::query_as(
            "SELECT tf.zip, count(br.id)
             FROM territory_factors tf
             CROSS JOIN unnest(enum_range(NULL::coverage_type)) AS c
             LEFT JOIN base_rates br ON br.status = 'active' AND br.state_code = tf.state_code
                                    AND br.coverage_type = c AND br.effective @> current_date
             WHERE tf.status = 'active' AND tf.state_code = $1 AND tf.city = $2 AND tf.effective @> current_date
             GROUP BY tf.zip ORDER BY tf.zip",
        )
        .bind(state)
        .bind(city)
        .fetch_all(db.pool())
        .await
        .unwrap_or_else(|e| panic!("rating {city}, {state}: {e}"));
        assert_eq!(rated.len(), *zips, "{city}, {state}: rated ZIP codes");
        for (zip, coverages) in &rated {
            assert_eq!(
                *coverages, COVERAGE_TYPES as i64,
                "{city}, {state} {zip}: coverages with an active base rate"
            );
        }
    }
    // The city list is the whole territory table: no city seeded that the list does not know.
    let listed: i64 = reference::CITIES.iter().map(|(_, _, n)| *n as i64).sum();
    assert_eq!(count(&db, "SELECT count(*) FROM territory_factors").await, listed);
}

#[tokio::test]
async fn loading_the_seeds_twice_changes_nothing() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut conn = db.pool().acquire().await.expect("connection");
    quotedb_seeds::apply_reference(&mut conn).await.expect("first load");
    let first = checksums(&mut conn).await;
    quotedb_seeds::apply_reference(&mut conn).await.expect("second load");
    let second = checksums(&mut conn).await;
    assert_eq!(first, second);
    assert!(
        first.iter().all(|(_, rows, _)| *rows > 0),
        "every seeded table holds rows: {first:?}"
    );
}

#[tokio::test]
async fn the_seeded_template_holds_exactly_what_apply_reference_loads() {
    let seeded = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let fresh = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut fresh_conn = fresh.pool().acquire().await.expect("connection");
    quotedb_seeds::apply_reference(&mut fresh_conn).await.expect("load");
    let mut seeded_conn = seeded.pool().acquire().await.expect("connection");
    // Ids and timestamps differ between two loads: compare the row counts.
    let counts = |c: Vec<(String, i64, String)>| c.into_iter().map(|(t, n, _)| (t, n)).collect::<Vec<_>>();
    assert_eq!(
        counts(checksums(&mut seeded_conn).await),
        counts(checksums(&mut fresh_conn).await)
    );
}

#[tokio::test]
async fn every_active_rate_was_applied_through_a_four_eyes_rate_change_request() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let (active, trailed): (i64, i64) = sqlx::query_as(
        "WITH active AS (
             SELECT 'base_rate'::rate_change_kind AS kind, activated_by_request FROM base_rates WHERE status = 'active'
             UNION ALL
             SELECT 'territory_factor', activated_by_request FROM territory_factors WHERE status = 'active')
         SELECT count(*),
                count(*) FILTER (WHERE r.status = 'applied' AND r.kind = a.kind
                                   AND r.reviewed_by IS NOT NULL AND r.reviewed_by <> r.requested_by
                                   AND r.applied_by IS NOT NULL AND r.submitted_at IS NOT NULL)
         FROM active a LEFT JOIN rate_change_requests r ON r.id = a.activated_by_request",
    )
    .fetch_one(db.pool())
    .await
    .expect("approval trail");
    assert_eq!(active, 125);
    assert_eq!(trailed, active, "every active rate has an applied, four-eyes request");
    // One request per rate, proposed by the proposer account and reviewed by the approver.
    let (requests, by_seed_accounts): (i64, i64) = sqlx::query_as(
        "SELECT count(*),
                count(*) FILTER (WHERE pu.email = $1 AND ru.email = $2 AND au.id = r.applied_by)
         FROM rate_change_requests r
         JOIN admin_users pa ON pa.id = r.requested_by JOIN users pu ON pu.id = pa.user_id
         JOIN admin_users au ON au.id = r.reviewed_by JOIN users ru ON ru.id = au.user_id",
    )
    .bind(accounts::RATES_PROPOSER_EMAIL)
    .bind(accounts::RATES_APPROVER_EMAIL)
    .fetch_one(db.pool())
    .await
    .expect("requests");
    assert_eq!((requests, by_seed_accounts), (125, 125));
}

#[tokio::test]
async fn the_seed_accounts_hold_the_rate_permissions_they_exercise() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    for (email, code, expected) in [
        (accounts::RATES_PROPOSER_EMAIL, permissions::RATES_PROPOSE, true),
        (accounts::RATES_PROPOSER_EMAIL, permissions::RATES_APPROVE, false),
        (accounts::RATES_APPROVER_EMAIL, permissions::RATES_APPROVE, true),
        (accounts::RATES_APPROVER_EMAIL, permissions::RATES_APPLY, true),
    ] {
        let user_id: String = sqlx::query_scalar("SELECT id::text FROM users WHERE email = $1 AND role = 'agent'")
            .bind(email)
            .fetch_one(db.pool())
            .await
            .unwrap_or_else(|e| panic!("seed account {email}: {e}"));
        assert_eq!(has_permission(&db, &user_id, code).await, expected, "{email} {code}");
    }
}

#[tokio::test]
async fn the_role_hierarchy_is_super_admin_over_admin_over_the_three_junior_roles() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT r.name, p.name FROM admin_roles r LEFT JOIN admin_roles p ON p.id = r.parent_id ORDER BY r.name",
    )
    .fetch_all(db.pool())
    .await
    .expect("roles");
    let mut expected: Vec<(String, Option<String>)> = roles::HIERARCHY
        .iter()
        .map(|(r, p)| ((*r).to_string(), p.map(str::to_string)))
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn every_permission_an_rls_policy_or_the_console_checks_is_registered_with_a_grant() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let registered: Vec<String> = sqlx::query_scalar("SELECT code FROM admin_permissions ORDER BY code")
        .fetch_all(db.pool())
        .await
        .expect("permissions");
    let mut expected: Vec<String> = permissions::ALL.iter().map(|c| (*c).to_string()).collect();
    expected.sort();
    assert_eq!(registered, expected);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM admin_permissions p
             WHERE NOT EXISTS (SELECT 1 FROM admin_role_permissions g WHERE g.permission_id = p.id)"
        )
        .await,
        0,
        "every registered permission is granted to some role"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM admin_role_permissions").await, 32);
}

#[tokio::test]
async fn super_admin_holds_every_permission_through_admin_has_permission() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let super_admin = admin_on_role(&db, roles::SUPER_ADMIN).await;
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM admin_permissions")
        .fetch_all(db.pool())
        .await
        .expect("permissions");
    assert!(codes.len() >= permissions::CHECKED_BY_POLICIES.len());
    for code in &codes {
        assert!(
            has_permission(&db, &super_admin, code).await,
            "super_admin lacks {code}"
        );
    }
}

#[tokio::test]
async fn support_cannot_read_sensitive_settings_or_approve_rates_but_manages_sessions() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let support = admin_on_role(&db, roles::SUPPORT).await;
    for (code, expected) in [
        (permissions::SETTINGS_READ_SENSITIVE, false),
        (permissions::RATES_APPROVE, false),
        (permissions::SETTINGS_WRITE, false),
        (permissions::ADMIN_USERS_MANAGE, false),
        (permissions::SESSIONS_MANAGE, true),
        (permissions::QUOTES_READ, true),
    ] {
        assert_eq!(has_permission(&db, &support, code).await, expected, "support {code}");
    }
}

#[tokio::test]
async fn admin_holds_every_junior_roles_permissions_but_not_super_admins() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let admin = admin_on_role(&db, roles::ADMIN).await;
    let junior: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT p.code FROM admin_role_permissions g
         JOIN admin_roles r ON r.id = g.role_id JOIN admin_permissions p ON p.id = g.permission_id
         WHERE r.name IN ('underwriter', 'support', 'analyst')",
    )
    .fetch_all(db.pool())
    .await
    .expect("junior grants");
    assert!(!junior.is_empty());
    for code in &junior {
        assert!(has_permission(&db, &admin, code).await, "admin lacks {code}");
    }
    for code in [
        permissions::SETTINGS_READ_SENSITIVE,
        permissions::ADMIN_USERS_MANAGE,
        permissions::ROLES_MANAGE,
    ] {
        assert!(!has_permission(&db, &admin, code).await, "admin must not hold {code}");
    }
    let underwriter = admin_on_role(&db, roles::UNDERWRITER).await;
    assert!(has_permission(&db, &underwriter, permissions::RATES_PROPOSE).await);
    assert!(!has_permission(&db, &underwriter, permissions::RATES_APPROVE).await);
    let analyst = admin_on_role(&db, roles::ANALYST).await;
    assert!(has_permission(&db, &analyst, permissions::QUOTES_READ).await);
    assert!(!has_permission(&db, &analyst, permissions::SESSIONS_MANAGE).await);
}

#[tokio::test]
async fn the_seeded_settings_have_their_types_and_only_non_sensitive_ones_are_public() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let rows: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT key, value_type::text, is_sensitive, public_setting(key)::text FROM system_settings ORDER BY key",
    )
    .fetch_all(db.pool())
    .await
    .expect("settings");
    let mut expected: Vec<(String, bool)> = settings::ALL.iter().map(|(k, s)| ((*k).to_string(), *s)).collect();
    expected.sort();
    assert_eq!(
        rows.iter().map(|(k, _, s, _)| (k.clone(), *s)).collect::<Vec<_>>(),
        expected
    );
    for (key, value_type, sensitive, public) in &rows {
        if *sensitive {
            assert_eq!(public, &None, "{key} is sensitive: public_setting must not return it");
            assert_eq!(value_type, "array", "{key}");
        } else {
            assert_eq!(value_type, "number", "{key}");
            assert!(public.is_some(), "{key} is readable through public_setting");
        }
    }
    let values: Vec<(String, String)> =
        sqlx::query_as("SELECT key, public_setting(key)::text FROM unnest($1::text[]) AS key ORDER BY key")
            .bind(vec![
                settings::DISCOUNT_CAP,
                settings::QUOTE_VALIDITY_DAYS,
                settings::SESSION_LIFETIME_HOURS,
                settings::NOTIFICATION_MAX_ATTEMPTS,
                settings::AUDIT_RETENTION_MONTHS,
                settings::ADMIN_MAX_FAILED_LOGINS,
            ])
            .fetch_all(db.pool())
            .await
            .expect("values");
    assert_eq!(
        values,
        [
            ("admin.max_failed_logins", "5"),
            ("audit.retention_months", "24"),
            ("notifications.max_attempts", "5"),
            ("quotes.validity_days", "30"),
            ("rating.discount_cap", "0.35"),
            ("sessions.lifetime_hours", "720"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

/// A non-superuser that owns the schema is subject to the FORCEd RLS of admin_users and
/// system_settings: the seeds must still load (as the system actor) and load completely.
#[tokio::test]
async fn a_non_superuser_schema_owner_can_load_the_seeds() {
    let db = TestDb::empty().await;
    let mut conn = db.pool().acquire().await.expect("connection");
    conn.execute(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quotedb_seed_owner_test') THEN
                 BEGIN
                     CREATE ROLE quotedb_seed_owner_test NOLOGIN NOSUPERUSER NOBYPASSRLS;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                 END;
             END IF;
         END $$",
    )
    .await
    .expect("owner role");
    // What a DBA does once per cluster (docs/security.md): the roles exist, and the login that
    // runs the migrations is a member of quotedb_owner (0007 hands every object to that role).
    conn.execute(
        "DO $$ DECLARE r text; BEGIN
             FOREACH r IN ARRAY ARRAY['quotedb_app', 'quotedb_readonly', 'quotedb_owner', 'quotedb_system'] LOOP
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                     BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
                 END IF;
             END LOOP;
         END $$;
         GRANT quotedb_system TO quotedb_owner;
         GRANT quotedb_owner TO quotedb_seed_owner_test;",
    )
    .await
    .expect("roles of the cluster");
    // No GRANT SET ON PARAMETER: no function of the migrations has an app.* SET clause (they use
    // set_config), so a non-superuser owner needs nothing beyond ownership of the database.
    // Identifiers cannot be bound: the database name comes from the testkit.
    let grant = format!(
        "GRANT CREATE ON DATABASE {} TO quotedb_seed_owner_test",
        quotedb_testkit::quote_ident(db.name())
    );
    conn.execute(sqlx::AssertSqlSafe(grant)).await.expect("grant create");
    conn.execute("ALTER SCHEMA public OWNER TO quotedb_seed_owner_test")
        .await
        .expect("schema owner");
    conn.execute("SET ROLE quotedb_seed_owner_test")
        .await
        .expect("set role");
    quotedb_schema::MIGRATOR
        .run(&mut *conn)
        .await
        .expect("migrate as the owner");
    quotedb_seeds::apply_reference(&mut conn)
        .await
        .expect("seed as the owner");
    quotedb_seeds::apply_reference(&mut conn)
        .await
        .expect("seed again as the owner");

    // The owner role holds quotedb_system: it reads every row of the FORCEd tables.
    let mut tx = conn.begin().await.expect("begin");
    let (admins, settings_rows, active_rates): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM admin_users), (SELECT count(*) FROM system_settings),
                (SELECT count(*) FROM base_rates WHERE status = 'active')
              + (SELECT count(*) FROM territory_factors WHERE status = 'active')",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("counts");
    tx.rollback().await.expect("rollback");
    assert_eq!(
        (admins, settings_rows as usize, active_rates),
        (2, settings::ALL.len(), 125)
    );
    conn.execute("RESET ROLE").await.expect("reset role");
}

#[tokio::test]
async fn two_concurrent_loads_leave_one_copy_of_the_seeds() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut a = db.pool().acquire().await.expect("connection a");
    let mut b = db.pool().acquire().await.expect("connection b");
    let (ra, rb) = tokio::join!(
        quotedb_seeds::apply_reference(&mut a),
        quotedb_seeds::apply_reference(&mut b)
    );
    ra.expect("load a");
    rb.expect("load b");
    let (requests, active): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rate_change_requests),
                (SELECT count(*) FROM base_rates WHERE status = 'active')
              + (SELECT count(*) FROM territory_factors WHERE status = 'active')",
    )
    .fetch_one(db.pool())
    .await
    .expect("counts");
    assert_eq!((requests, active), (125, 125));
}

#[tokio::test]
async fn reloading_the_seeds_keeps_an_operators_setting_change() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    sqlx::query("UPDATE system_settings SET value = '0.30' WHERE key = 'rating.discount_cap'")
        .execute(db.pool())
        .await
        .expect("operator changes the cap");
    let mut conn = db.pool().acquire().await.expect("connection");
    quotedb_seeds::apply_reference(&mut conn).await.expect("reload");
    let cap: String = sqlx::query_scalar("SELECT value::text FROM system_settings WHERE key = 'rating.discount_cap'")
        .fetch_one(db.pool())
        .await
        .expect("cap");
    assert_eq!(cap, "0.30");
}
