//! 1. Escalation to the function owner through the temporary schema

use super::*;

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
