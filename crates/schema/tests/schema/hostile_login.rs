//! The database holds against its own application login.
//!
//! Every test here connects as a LOGIN that is a member of `quotedb_app` (the role production's
//! application login has; think SQL injection in a service, or a compromised service) - and, where
//! maintenance is the target, as a worker login holding `quotedb_system` - and tries, through raw
//! SQL, the attacks that succeeded against releases 0001-0006. Each attack is first shown to be
//! meaningful (the shape that worked, or the hostile object really in effect), then refused or
//! without effect. Acting users are *claimed* (`set_config('app.user_id', …)`): the trust model
//! (docs/security.md) allows a compromised login to claim any user, and these tests show what it
//! still cannot do.

use quotedb_testkit::TestDb;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection, Row as _};
use uuid::Uuid;

/// A login holding only `quotedb_app`: the application's own.
const APP_LOGIN: &str = "quotedb_hostile_app";
/// A login holding `quotedb_app` and `quotedb_system`: a worker's.
const WORKER_LOGIN: &str = "quotedb_hostile_worker";
/// Password of both logins (ignored by a trust-auth cluster, needed on a password-auth server).
const PASSWORD: &str = "hostile-login-test";

/// The two test logins exist (cluster-wide, created once, reused).
async fn ensure_logins(db: &TestDb) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_LOGIN}') THEN
                 BEGIN CREATE ROLE {APP_LOGIN} LOGIN PASSWORD '{PASSWORD}';
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
             END IF;
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WORKER_LOGIN}') THEN
                 BEGIN CREATE ROLE {WORKER_LOGIN} LOGIN PASSWORD '{PASSWORD}';
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
             END IF;
         END $$;
         GRANT quotedb_app TO {APP_LOGIN};
         GRANT quotedb_app, quotedb_system TO {WORKER_LOGIN};"
    )))
    .execute(db.pool())
    .await
    .expect("test logins");
}

async fn connect(db: &TestDb, login: &str) -> PgConnection {
    ensure_logins(db).await;
    let options: PgConnectOptions = db.url().parse().expect("test database url");
    PgConnection::connect_with(&options.username(login).password(PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("connect as {login}: {e}"))
}

/// Run `sql` in a transaction claiming `user` (None: no acting user), check the deferred rules
/// as COMMIT would, then roll back: the outcome is the rows affected, or the error.
async fn attempt(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) -> Result<u64, sqlx::Error> {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .expect("claim an acting user");
    let mut outcome = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .map(|r| r.rows_affected());
    if outcome.is_ok() {
        // What COMMIT would check: the deferred rules run now (the attempt is rolled back).
        if let Err(e) = sqlx::query("SET CONSTRAINTS ALL IMMEDIATE").execute(&mut *tx).await {
            outcome = Err(e);
        }
    }
    tx.rollback().await.expect("rollback");
    outcome
}

/// `attempt` must fail with a privilege error (42501: no grant, or row level security) or a
/// business rule; returns the error text.
async fn refused(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) -> String {
    match attempt(conn, user, sql).await {
        Ok(rows) => panic!("not refused ({rows} rows): {sql}"),
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
            assert!(
                matches!(code.as_deref(), Some("42501" | "23514" | "22023")),
                "{sql}: refused for the wrong reason: {e}"
            );
            e.to_string()
        }
    }
}

/// `attempt` must change nothing: refused, or zero rows.
async fn no_effect(conn: &mut PgConnection, user: Option<Uuid>, sql: &str) {
    match attempt(conn, user, sql).await {
        Ok(0) => {}
        Ok(rows) => panic!("{rows} rows changed: {sql}"),
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
            assert!(
                matches!(code.as_deref(), Some("42501" | "23514")),
                "{sql}: failed for the wrong reason: {e}"
            );
        }
    }
}

struct World {
    /// A customer with a rated quote: the victim.
    victim: Uuid,
    victim_quote: Uuid,
    victim_number: String,
    /// Another customer: who the attacker claims to be.
    attacker: Uuid,
    /// An active admin whose role holds every permission (claimed where a test needs a
    /// legitimate admin to trigger owner-run code).
    all_powerful_admin: Uuid,
}

async fn world(db: &TestDb) -> World {
    let pool = db.pool();
    let customer = |email: &'static str| async move {
        sqlx::query_scalar::<_, Uuid>(
            "INSERT INTO users (email, full_name, role) VALUES ($1, $1, 'customer') RETURNING id",
        )
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("customer")
    };
    let victim = customer("victim@example.com").await;
    let attacker = customer("attacker@example.com").await;
    let row = sqlx::query(
        "SELECT id, quote_number FROM app_create_quote($1, $1, NULL, 'CA', '90001', 1000.00, current_date + 7,
                 '{}', '{}', '{}', ARRAY['bodily_injury']::coverage_type[], ARRAY[100000.00], ARRAY[0.00], ARRAY[1000.00])",
    )
    .bind(victim)
    .fetch_one(pool)
    .await
    .expect("the victim's rated quote");
    let all_powerful_admin: Uuid = sqlx::query_scalar(
        "WITH r AS (INSERT INTO admin_roles (name, description) VALUES ('hostile_test_all', 'holds everything') RETURNING id),
              g AS (INSERT INTO admin_role_permissions (role_id, permission_id) SELECT r.id, p.id FROM r, admin_permissions p),
              u AS (INSERT INTO users (email, full_name, role) VALUES ('root@example.com', 'Root', 'agent') RETURNING id)
         INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT u.id, r.id, true FROM u, r RETURNING user_id",
    )
    .fetch_one(pool)
    .await
    .expect("an admin holding every permission");
    World {
        victim,
        victim_quote: row.get("id"),
        victim_number: row.get("quote_number"),
        attacker,
        all_powerful_admin,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Escalation to the function owner through the temporary schema
// ---------------------------------------------------------------------------------------------

/// In the attacker's session: a function that raises when it runs as anyone but the attacker,
/// temporary domains named like the common types whose CHECK calls it, and a temporary view
/// named like every table and view of the schema that calls it once per read.
async fn plant_temp_schema_hijacks(conn: &mut PgConnection, tables: &[String]) {
    let mut sql = String::from(
        "CREATE FUNCTION pg_temp.pwn() RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN
             IF current_user <> session_user THEN
                 RAISE EXCEPTION 'pwned: attacker code ran as %', current_user;
             END IF;
             RETURN true;
         END $$;",
    );
    for ty in [
        "text",
        "uuid",
        "bytea",
        "int4",
        "bool",
        "jsonb",
        "inet",
        "timestamptz",
        "date",
        "numeric",
        "name",
    ] {
        sql.push_str(&format!(
            "CREATE DOMAIN pg_temp.{ty} AS pg_catalog.{ty} CHECK (pg_temp.pwn());"
        ));
    }
    for table in tables {
        sql.push_str(&format!(
            "CREATE TEMP VIEW {table} AS SELECT (NULL::public.{table}).* WHERE pg_temp.pwn();"
        ));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .expect("plant the temp-schema hijacks");
}

async fn public_tables(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT relname::text FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') AND NOT relispartition
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("tables")
}

/// A sample argument of each type the definer functions take, so each call gets past its input
/// checks to the code that reads tables.
fn sample(ty: &str, admin: Uuid) -> String {
    match ty {
        "text" => "'audit.retention_months'".into(),
        "integer" => "12".into(),
        "uuid" => format!("'{admin}'"),
        "bytea" => "'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea".into(),
        "jsonb" => "'{}'".into(),
        "inet" => "'127.0.0.1'".into(),
        _ => "NULL".into(),
    }
}

/// Call every SECURITY DEFINER function of the catalog (trigger functions excepted: see the
/// trigger test) once with NULLs and once with sample arguments; return every error message.
async fn call_every_definer_function(db: &TestDb, conn: &mut PgConnection, admin: Uuid) -> (usize, Vec<String>) {
    let functions: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT p.proname::text, array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t)
         FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
           AND p.proname <> 'hijack_control'
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("definer functions");
    let mut errors = Vec::new();
    for (name, types) in &functions {
        let nulls = vec!["NULL".to_string(); types.len()].join(", ");
        let samples: Vec<String> = types.iter().map(|t| sample(t, admin)).collect();
        for args in [nulls, samples.join(", ")] {
            if let Err(e) = attempt(conn, Some(admin), &format!("SELECT * FROM public.{name}({args})")).await {
                errors.push(format!("{name}({args}): {e}"));
            }
        }
    }
    (functions.len(), errors)
}

#[tokio::test]
async fn definer_functions_cannot_be_hijacked_through_the_temp_schema() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let tables = public_tables(&db).await;

    // The shape that escalated before: a definer function with `SET search_path = pg_catalog,
    // public` (no pg_temp) reading a table and using the text type, like 0006's
    // setting_is_sensitive(). The hijack runs the attacker's code as the owner.
    sqlx::raw_sql(
        "BEGIN; SET LOCAL ROLE quotedb_owner;
         CREATE FUNCTION hijack_control(p_key text) RETURNS boolean
             LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
         AS $$ DECLARE v text := p_key; BEGIN RETURN (SELECT s.is_sensitive FROM system_settings s WHERE s.key = v); END $$;
         GRANT EXECUTE ON FUNCTION hijack_control(text) TO quotedb_app;
         COMMIT;",
    )
    .execute(db.pool())
    .await
    .expect("the 0006-shaped control function");

    for login in [APP_LOGIN, WORKER_LOGIN] {
        let mut conn = connect(&db, login).await;
        plant_temp_schema_hijacks(&mut conn, &tables).await;
        let control = attempt(&mut conn, None, "SELECT hijack_control('rating.discount_cap')").await;
        let control = control.expect_err("the control is hijacked").to_string();
        assert!(
            control.contains("pwned: attacker code ran as quotedb_owner"),
            "{login}: the hijack works on the old shape: {control}"
        );

        let (count, errors) = call_every_definer_function(&db, &mut conn, w.all_powerful_admin).await;
        assert!(count >= 8, "every definer function was tried: {count}");
        let pwned: Vec<&String> = errors.iter().filter(|e| e.contains("pwned")).collect();
        assert!(
            pwned.is_empty(),
            "{login}: definer functions ran attacker code: {pwned:#?}"
        );

        // Definer trigger functions run when the attacker writes: a quote (quotes_party_role_fn
        // reads users) and, claiming an admin allowed to, a role (the held-permissions rebuild
        // reads the role tree).
        let quote = format!(
            "INSERT INTO public.quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
             VALUES ('{}', 'CA', '90001', current_date, now() + interval '1 day', '{{}}')",
            w.attacker
        );
        let outcome = attempt(&mut conn, Some(w.attacker), &quote).await;
        assert!(
            matches!(outcome, Ok(1)),
            "{login}: a customer's own draft is accepted: {outcome:?}"
        );
        let role = "INSERT INTO public.admin_roles (name, description) VALUES ('hijack_probe', 'probe')";
        let outcome = attempt(&mut conn, Some(w.all_powerful_admin), role).await;
        assert!(
            matches!(outcome, Ok(1)),
            "{login}: roles:manage adds a role: {outcome:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. "System" is not a setting
// ---------------------------------------------------------------------------------------------

/// `sql`'s count with `app.system = on` (the switch of releases up to 0006), claiming `user`.
async fn count_with_the_old_switch(conn: &mut PgConnection, user: Uuid, sql: &'static str) -> i64 {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL app.system = 'on'; SELECT set_config('app.user_id', '{user}', true)"
    )))
    .execute(&mut *tx)
    .await
    .expect("the old switch");
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.expect(sql);
    tx.rollback().await.expect("rollback");
    n
}

#[tokio::test]
async fn the_application_login_cannot_make_itself_the_system() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;

    // What releases up to 0006 honoured: app.system = on showed every quote and session.
    assert_eq!(
        count_with_the_old_switch(&mut conn, w.attacker, "SELECT count(*) FROM quotes").await,
        0
    );
    assert_eq!(
        count_with_the_old_switch(
            &mut conn,
            w.attacker,
            "SELECT count(*) FROM system_settings WHERE is_sensitive"
        )
        .await,
        0,
        "no sensitive setting"
    );
    let everything: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(everything, 1, "the victim's quote exists");

    refused(&mut conn, None, "SET LOCAL ROLE quotedb_system").await;
    refused(&mut conn, None, "SET LOCAL ROLE quotedb_owner").await;
    // A NULL acting user in the one-round-trip functions was the system actor.
    for call in [
        format!("SELECT * FROM app_quote_by_number(NULL, '{}')", w.victim_number),
        format!(
            "SELECT * FROM app_customer_quotes_page(NULL, '{}', NULL, NULL, 10)",
            w.victim
        ),
        "SELECT * FROM app_high_risk_activity_page(NULL, 'infinity', 0, 10)".to_string(),
    ] {
        let err = refused(&mut conn, None, &call).await;
        assert!(err.contains("permission denied to set role"), "{call}: {err}");
    }
    // A worker login holding quotedb_system is the system.
    let mut worker = connect(&db, WORKER_LOGIN).await;
    let found = attempt(
        &mut worker,
        None,
        &format!("SELECT * FROM app_quote_by_number(NULL, '{}')", w.victim_number),
    )
    .await;
    assert!(matches!(found, Ok(1)), "the system actor sees the quote: {found:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Rule triggers cannot be shadowed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn temp_tables_cannot_stand_in_for_what_a_rule_trigger_reads() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    // Shadow the status machine and the versions with tables that would allow anything.
    sqlx::raw_sql(
        "CREATE TEMP TABLE quote_status_transitions (from_status quote_status, to_status quote_status);
         INSERT INTO quote_status_transitions SELECT a, b FROM unnest(enum_range(NULL::quote_status)) a,
                                                              unnest(enum_range(NULL::quote_status)) b;
         CREATE TEMP TABLE quote_versions (LIKE public.quote_versions);",
    )
    .execute(&mut conn)
    .await
    .expect("shadow tables");
    // Meaningful: unqualified names in this session now mean the shadows (25 moves, rated -> bound
    // among them), which is what the unpinned triggers of 0002 read.
    let shadow: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote_status_transitions WHERE from_status = 'rated' AND to_status = 'bound'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("shadow");
    assert_eq!(shadow, 1);

    // rated -> bound skips "presented": the real status machine still refuses it.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!(
            "UPDATE public.quotes SET status = 'bound', bound_at = now() WHERE id = '{}'",
            w.victim_quote
        ),
    )
    .await;
    assert!(err.contains("cannot move from rated to bound"), "{err}");

    // Every trigger function either pins its search_path with pg_temp last, or names no table of
    // the schema unqualified (the hot rule triggers of the quote path qualify instead of paying
    // for a SET clause on every row).
    let tables: Vec<String> = public_tables(&db).await;
    let sources: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT p.oid::regprocedure::text, p.prosrc,
                coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, public, pg_temp'], false)
         FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prorettype = 'trigger'::regtype",
    )
    .fetch_all(db.pool())
    .await
    .expect("trigger functions");
    let mut unqualified = Vec::new();
    for (function, source, pinned) in &sources {
        if *pinned {
            continue;
        }
        let words: Vec<&str> = source
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let keyword = pair[0].to_ascii_uppercase();
            if matches!(keyword.as_str(), "FROM" | "JOIN" | "UPDATE" | "INTO") && tables.iter().any(|t| t == pair[1]) {
                unqualified.push(format!("{function}: {} {}", pair[0], pair[1]));
            }
        }
    }
    assert!(
        unqualified.is_empty(),
        "unpinned trigger functions naming tables unqualified: {unqualified:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Writes without the permission
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_rating_and_identity_data_are_written_only_with_the_permission() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.attacker);
    let admin_role: Uuid = sqlx::query_scalar("SELECT id FROM admin_roles WHERE name = 'support'")
        .fetch_one(db.pool())
        .await
        .expect("support role");

    // Grant an admin role every permission.
    refused(
        &mut conn,
        me,
        &format!("INSERT INTO admin_role_permissions (role_id, permission_id) SELECT '{admin_role}', id FROM admin_permissions"),
    )
    .await;
    no_effect(&mut conn, me, "DELETE FROM admin_role_permissions").await;
    refused(
        &mut conn,
        me,
        "INSERT INTO admin_permissions (code, description, risk_level) VALUES ('x:y', 'x', 'low')",
    )
    .await;
    no_effect(&mut conn, me, "UPDATE admin_roles SET parent_id = NULL").await;
    // Forge a complete four-eyes trail and activate a 0.01 base rate.
    let (proposer, approver): (Uuid, Uuid) = sqlx::query_as(
        "SELECT (SELECT id FROM admin_users ORDER BY created_at LIMIT 1), (SELECT id FROM admin_users ORDER BY created_at DESC LIMIT 1)",
    )
    .fetch_one(db.pool())
    .await
    .expect("two admins");
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO rate_change_requests (kind, proposed_change, justification, status, requested_by, reviewed_by, reviewed_at, submitted_at)
             VALUES ('base_rate', '{{\"state_code\":\"CA\",\"coverage_type\":\"collision\",\"base_amount\":\"0.01\",\"effective_from\":\"2026-01-01\"}}',
                     'forged', 'approved', '{proposer}', '{approver}', now(), now())"
        ),
    )
    .await;
    refused(
        &mut conn,
        me,
        "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status)
         VALUES ('CA', 'collision', 0.01, daterange(current_date, NULL), 'active')",
    )
    .await;
    // Every discount to 50 %, every surcharge off, every active CA rate closed.
    no_effect(&mut conn, me, "UPDATE discount_rules SET percent = 50").await;
    no_effect(&mut conn, me, "UPDATE surcharge_rules SET active = false").await;
    no_effect(
        &mut conn,
        me,
        "UPDATE base_rates SET effective = daterange(lower(effective), current_date) WHERE state_code = 'CA' AND status = 'active'",
    )
    .await;
    no_effect(&mut conn, me, "UPDATE territory_factors SET factor = 0.5").await;
    // Link an SSO identity to another user's account; change another customer's e-mail.
    let provider: Uuid = sqlx::query_scalar(
        "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata, enabled)
         VALUES ('corp-saml', 'saml', 'https://idp.example.com', 'quotedb', '{}', true) RETURNING id",
    )
    .fetch_one(db.pool())
    .await
    .expect("a provider");
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO user_identities (provider_id, subject, user_id) VALUES ('{provider}', 'evil', '{}')",
            w.victim
        ),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!("UPDATE users SET email = 'mine@example.com' WHERE id = '{}'", w.victim),
    )
    .await;
    no_effect(&mut conn, me, "UPDATE sso_providers SET enabled = false").await;
    refused(
        &mut conn,
        me,
        "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata, enabled)
         VALUES ('evil-idp', 'saml', 'https://evil.example.com', 'x', '{}', true)",
    )
    .await;
    // Read another customer's account, drivers and quotes without claiming to be them.
    for (read, own_rows) in [
        ("SELECT * FROM users", 1),
        ("SELECT * FROM drivers", 0),
        ("SELECT * FROM quotes", 0),
        ("SELECT * FROM user_identities", 0),
        ("SELECT * FROM audit_logs", 0),
    ] {
        let mut tx = conn.begin().await.expect("begin");
        sqlx::query("SELECT set_config('app.user_id', $1, true)")
            .bind(w.attacker.to_string())
            .execute(&mut *tx)
            .await
            .expect("claim");
        let rows = sqlx::query(read).fetch_all(&mut *tx).await.expect(read);
        assert_eq!(rows.len(), own_rows, "{read}: only the attacker's own rows");
        tx.rollback().await.expect("rollback");
    }

    // Holding the permission is what opens the door: the all-powerful admin may.
    let allowed = attempt(
        &mut conn,
        Some(w.all_powerful_admin),
        "UPDATE discount_rules SET percent = percent",
    )
    .await;
    assert!(
        matches!(allowed, Ok(n) if n > 0),
        "rating_rules:manage updates rules: {allowed:?}"
    );
}

/// Every table the application may change: an UPDATE and a DELETE of every row, claimed as a
/// customer who owns none of them, changes nothing - except the service tables, which the
/// platform's services write as themselves (docs/security.md).
#[tokio::test]
async fn a_customer_changes_no_row_that_is_not_theirs_in_any_table() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let service = ["websocket_connections", "analytics_events", "realtime_metrics"];
    let writable: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text,
                (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                    AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
                    AND has_column_privilege('quotedb_app', c.oid, a.attnum, 'UPDATE') ORDER BY a.attnum LIMIT 1)
         FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND (has_any_column_privilege('quotedb_app', c.oid, 'UPDATE') OR has_table_privilege('quotedb_app', c.oid, 'DELETE'))
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("writable tables");
    assert!(writable.len() >= 10, "{writable:?}");
    for (table, column) in writable {
        if service.contains(&table.as_str()) {
            continue;
        }
        if let Some(column) = column {
            no_effect(
                &mut conn,
                Some(w.attacker),
                &format!("UPDATE {table} SET {column} = {column}"),
            )
            .await;
        }
        no_effect(&mut conn, Some(w.attacker), &format!("DELETE FROM {table}")).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Frozen columns, one-way revocations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn priced_terms_are_frozen_and_revocations_are_final() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.victim);
    let quote = w.victim_quote;

    // The customer's own rated quote: no ZIP, effective date or expiry change, no premium change
    // without a version.
    for change in [
        "zip = '10001'",
        "effective_date = current_date + 300",
        "expires_at = 'infinity'",
        "premium = 0.01",
    ] {
        refused(
            &mut conn,
            me,
            &format!("UPDATE quotes SET {change} WHERE id = '{quote}'"),
        )
        .await;
    }
    // Not even the owner (or a superuser) changes them.
    let err = sqlx::query("UPDATE quotes SET zip = '10001', expires_at = 'infinity' WHERE id = $1")
        .bind(quote)
        .execute(db.pool())
        .await
        .expect_err("frozen for everyone");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("quotes_priced_terms_frozen")
    );
    // A quote never starts bound, presented or closed.
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO quotes (customer_id, state_code, zip, status, premium, current_version, effective_date, expires_at, bound_at, metadata)
             VALUES ('{}', 'CA', '90001', 'bound', 0.01, 0, current_date, now() + interval '1 day', now(), '{{}}')",
            w.victim
        ),
    )
    .await;

    // A session revoked for suspicious activity stays revoked.
    let session: Uuid = sqlx::query_scalar(
        "INSERT INTO user_sessions (user_id, token_hash, expires_at, revoked_at, revoke_reason)
         VALUES ($1, sha256('t'::bytea), now() + interval '1 day', now(), 'suspicious_activity') RETURNING id",
    )
    .bind(w.victim)
    .fetch_one(db.pool())
    .await
    .expect("a revoked session");
    let err = refused(
        &mut conn,
        me,
        &format!("UPDATE user_sessions SET revoked_at = NULL, revoke_reason = NULL WHERE id = '{session}'"),
    )
    .await;
    assert!(
        err.contains("revocation is final") || err.contains("user_sessions_revocation"),
        "{err}"
    );
    refused(
        &mut conn,
        me,
        &format!("UPDATE user_sessions SET token_hash = sha256('u'::bytea) WHERE id = '{session}'"),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!("DELETE FROM user_sessions WHERE id = '{session}'"),
    )
    .await;

    // An OAuth client's owner cannot un-revoke it.
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id, revoked_at)
         VALUES ('victim-app', 'Victim app', ARRAY['https://app.example.com/cb'], ARRAY['quotes:read'],
                 ARRAY['authorization_code']::oauth2_grant_type[], $1, now()) RETURNING id",
    )
    .bind(w.victim)
    .fetch_one(db.pool())
    .await
    .expect("a revoked client");
    refused(
        &mut conn,
        me,
        &format!("UPDATE oauth2_clients SET revoked_at = NULL WHERE id = '{client}'"),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!(
            "UPDATE oauth2_clients SET redirect_uris = ARRAY['https://evil.example.com/cb'] WHERE id = '{client}'"
        ),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. The audit trail cannot be thinned
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_audit_trail_cannot_be_thinned_or_back_dated() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;

    refused(&mut conn, Some(w.attacker), "SELECT detach_audit_log_partitions(1)").await;
    refused(&mut conn, Some(w.attacker), "SELECT create_audit_log_partitions(1)").await;
    for forged in ["1999-01-01", "9999-01-01"] {
        refused(
            &mut conn,
            Some(w.attacker),
            &format!(
                "INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at) VALUES ('quote.viewed', 'quotes', 'q', '{forged}')"
            ),
        )
        .await;
    }
    refused(
        &mut conn,
        Some(w.all_powerful_admin),
        "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, details, risk_score, risk_factors, occurred_at)
         SELECT id, 'x.y', 'quotes', '{}', 0, '[]', '1999-01-01' FROM admin_users LIMIT 1",
    )
    .await;
    // Appending stamps the database's time.
    let mut tx = conn.begin().await.expect("begin");
    let stamped: bool = sqlx::query_scalar(
        "SELECT occurred_at = now() FROM append_audit_log(NULL, 'quote.viewed', 'quotes', 'q1', NULL, NULL, NULL, NULL)",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("append");
    tx.commit().await.expect("commit");
    assert!(stamped);
    no_effect(&mut conn, Some(w.all_powerful_admin), "DELETE FROM audit_logs").await;
    no_effect(
        &mut conn,
        Some(w.all_powerful_admin),
        "UPDATE audit_logs SET action = 'x'",
    )
    .await;
    refused(&mut conn, None, "TRUNCATE audit_logs").await;

    // The owner itself (a superuser here) cannot truncate, delete or update audit rows.
    for attack in [
        "TRUNCATE audit_logs",
        "DELETE FROM audit_logs",
        "UPDATE audit_logs SET action = 'x.y'",
    ] {
        let err = sqlx::query(attack).execute(db.pool()).await.expect_err(attack);
        let rule = err.as_database_error().and_then(|e| e.constraint());
        assert!(
            matches!(rule, Some("audit_logs_append_only" | "audit_logs_no_truncate")),
            "{attack}: {err}"
        );
    }
    for partition in sqlx::query_scalar::<_, String>(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass",
    )
    .fetch_all(db.pool())
    .await
    .expect("partitions")
    {
        let err = sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {partition}")))
            .execute(db.pool())
            .await
            .expect_err("truncate a partition");
        assert_eq!(
            err.as_database_error().and_then(|e| e.constraint()),
            Some("audit_logs_no_truncate")
        );
    }

    // The maintenance role detaches, but never below the retention setting (24 months seeded).
    let mut worker = connect(&db, WORKER_LOGIN).await;
    let detached = attempt(&mut worker, None, "SELECT detach_audit_log_partitions(1)").await;
    assert!(matches!(detached, Ok(0)), "nothing detached: {detached:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(rows, 1, "the appended row is still there");
}

// ---------------------------------------------------------------------------------------------
// 7. The catalog: least privilege as a property of the schema
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_table_the_application_may_write_is_under_forced_row_level_security_per_command() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let gaps: Vec<String> = sqlx::query_scalar(
        "WITH cmds (cmd, polcmd) AS (VALUES ('INSERT', 'a'), ('UPDATE', 'w'), ('DELETE', 'd'))
         SELECT c.relname || ' ' || cmds.cmd || CASE WHEN NOT c.relrowsecurity THEN ': RLS off'
                                                     WHEN NOT c.relforcerowsecurity THEN ': RLS not forced'
                                                     ELSE ': no policy' END
         FROM pg_class c CROSS JOIN cmds
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND CASE cmds.cmd WHEN 'DELETE' THEN has_table_privilege('quotedb_app', c.oid, 'DELETE')
                             ELSE has_any_column_privilege('quotedb_app', c.oid, cmds.cmd) END
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND EXISTS (
               SELECT 1 FROM pg_policy p
               WHERE p.polrelid = c.oid AND p.polcmd IN (cmds.polcmd, '*')
                 AND (p.polroles = '{0}' OR 'quotedb_app'::regrole = ANY (p.polroles))))
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("catalog");
    assert!(
        gaps.is_empty(),
        "writable by quotedb_app without forced RLS and a policy: {gaps:#?}"
    );
}

#[tokio::test]
async fn every_object_belongs_to_the_owner_role_and_definer_functions_are_not_public() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let foreign: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text || ' (' || c.relowner::regrole || ')' FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
           AND c.relname <> '_sqlx_migrations' AND c.relowner <> 'quotedb_owner'::regrole
         UNION ALL
         SELECT p.oid::regprocedure::text || ' (' || p.proowner::regrole || ')' FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'quotedb_owner'::regrole
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         UNION ALL
         SELECT t.typname::text || ' (' || t.typowner::regrole || ')' FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd') AND t.typowner <> 'quotedb_owner'::regrole
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')",
    )
    .fetch_all(db.pool())
    .await
    .expect("owners");
    assert!(foreign.is_empty(), "objects not owned by quotedb_owner: {foreign:#?}");

    let owner: (bool, bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'quotedb_owner'")
            .fetch_one(db.pool())
            .await
            .expect("owner role");
    assert_eq!(
        owner,
        (false, false, false),
        "the owner is neither superuser, BYPASSRLS nor a login"
    );

    // Trigger functions aside: PostgreSQL refuses to call them other than as triggers.
    let public_definers: Vec<String> = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
           AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))",
    )
    .fetch_all(db.pool())
    .await
    .expect("definer acls");
    assert!(
        public_definers.is_empty(),
        "definer functions PUBLIC may execute: {public_definers:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Values the Rust side could not read back
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn values_nobody_can_read_back_are_refused() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let big_name = "x".repeat(5 * 1024 * 1024);
    let big_json = format!("{{\"k\": \"{}\"}}", "x".repeat(20 * 1024 * 1024));
    for (sql, rule) in [
        // NaN passed `>= 0` and broke every later read of the row.
        (
            format!(
                "WITH q AS (INSERT INTO public.quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                            VALUES ('{}', 'CA', '90001', current_date, now() + interval '1 day', '{{}}') RETURNING id)
                 INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
                 SELECT id, 'collision', NULL, 0, 'NaN' FROM q",
                w.victim
            ),
            "quote_coverages_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', 'infinity', 'infinity', '{{}}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', current_date, '294276-01-01', '{{}}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', current_date, now() + interval '1 day', '{big_json}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth) VALUES ('{}', '{big_name}', 'X', '1990-01-01')",
                w.victim
            ),
            "drivers_values_bounded",
        ),
    ] {
        let err = attempt(&mut conn, Some(w.victim), &sql).await.expect_err(rule);
        assert_eq!(
            err.as_database_error().and_then(|e| e.constraint()),
            Some(rule),
            "{}: {err}",
            &sql[..sql.len().min(120)]
        );
    }
    // The owner and a superuser are held to the same bounds.
    let err = sqlx::query("UPDATE users SET full_name = repeat('x', 201) WHERE id = $1")
        .bind(w.victim)
        .execute(db.pool())
        .await
        .expect_err("201 characters");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("users_values_bounded")
    );
    // Argon2 below OWASP's floor (m=1, t=1) is refused.
    let err = sqlx::query(
        "INSERT INTO oauth2_clients (client_id, name, secret_hash, redirect_uris, scopes, grant_types)
         VALUES ('weak-app', 'Weak', '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
                 ARRAY['https://app.example.com/cb'], ARRAY['quotes:read'], ARRAY['client_credentials']::oauth2_grant_type[])",
    )
    .execute(db.pool())
    .await
    .expect_err("weak argon2");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("oauth2_clients_secret_hash_owasp_minimum")
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Hiding a row from the rules (found by review)
// ---------------------------------------------------------------------------------------------

/// Rule triggers that looked the quote up under the caller's row level security passed when the
/// caller made the quote invisible (clearing app.user_id before COMMIT, or inside the statement).
#[tokio::test]
async fn hiding_a_quote_from_its_rules_changes_nothing() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let quote = w.victim_quote;

    // A premium changed without a version, the claim cleared before COMMIT.
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(w.victim.to_string())
        .execute(&mut *tx)
        .await
        .expect("claim");
    let changed = sqlx::query("UPDATE quotes SET premium = 0.01 WHERE id = $1")
        .bind(quote)
        .execute(&mut *tx)
        .await
        .expect("the column is the application's")
        .rows_affected();
    assert_eq!(changed, 1);
    sqlx::query("SELECT set_config('app.user_id', '', true)")
        .execute(&mut *tx)
        .await
        .expect("clear the claim");
    let err = tx.commit().await.expect_err("the deferred rule still sees the quote");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("quotes_current_version_in_step")
    );

    // A line of a rated quote deleted with the claim cleared mid-statement.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!(
            "DELETE FROM quote_coverages c WHERE c.quote_id = '{quote}'
               AND (set_config('app.user_id', '', true) || c.id::text) IS NOT NULL"
        ),
    )
    .await;
    assert!(err.contains("keeps its lines"), "{err}");
    // The priced cover of a rated quote: the limit is not the customer's to raise.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!("UPDATE quote_coverages SET limit_amount = 5000000, deductible = 0 WHERE quote_id = '{quote}'"),
    )
    .await;
    assert!(err.contains("only the premium changes"), "{err}");
    let premium: rust_decimal::Decimal = sqlx::query_scalar("SELECT premium FROM quotes WHERE id = $1")
        .bind(quote)
        .fetch_one(db.pool())
        .await
        .expect("premium");
    assert_eq!(premium, rust_decimal::Decimal::new(100_000, 2));
}

/// The notification queue holds reset links and addresses: the application queues, it does not
/// read or redirect other people's notifications.
#[tokio::test]
async fn the_notification_queue_is_not_readable_or_writable_by_the_application() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    sqlx::query(
        "INSERT INTO notification_queue (channel, recipient_user_id, template, payload, priority, max_attempts)
         VALUES ('email', $1, 'auth.password_reset', '{\"link\": \"https://example.com/reset?token=secret\"}', 5, 3)",
    )
    .bind(w.victim)
    .execute(db.pool())
    .await
    .expect("the victim's reset mail");
    let mut conn = connect(&db, APP_LOGIN).await;
    for who in [None, Some(w.attacker)] {
        let mut tx = conn.begin().await.expect("begin");
        sqlx::query("SELECT set_config('app.user_id', $1, true)")
            .bind(who.map(|u| u.to_string()).unwrap_or_default())
            .execute(&mut *tx)
            .await
            .expect("claim");
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_queue")
            .fetch_one(&mut *tx)
            .await
            .expect("read");
        assert_eq!(seen, 0, "{who:?} sees no one else's notification");
        tx.rollback().await.expect("rollback");
    }
    refused(
        &mut conn,
        None,
        "UPDATE notification_queue SET recipient_address = 'attacker@evil.example' WHERE template = 'auth.password_reset'",
    )
    .await;
    refused(
        &mut conn,
        None,
        "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
         VALUES ('email', 'x@example.com', 'x.y', '{}', 1, 1)",
    )
    .await;
    // Queueing goes through enqueue_notifications().
    let queued = attempt(
        &mut conn,
        None,
        &format!(
            "SELECT * FROM enqueue_notifications(ARRAY['email']::notification_channel[], ARRAY['{}']::uuid[], ARRAY[NULL]::text[],
                                                 ARRAY['quote.ready'], ARRAY['{{}}']::jsonb[], ARRAY[1]::int2[], ARRAY[NULL]::int2[],
                                                 ARRAY[NULL]::timestamptz[])",
            w.victim
        ),
    )
    .await;
    assert!(matches!(queued, Ok(1)), "{queued:?}");
}
